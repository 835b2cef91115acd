#include <getopt.h>
#include <string.h>

#include <archive.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/opensslv.h>
#include <zlib.h>

#include "cmd.h"

const char cmd_version_usage[] =
	"usage: dsbuild version [--json]\n"
	"\n"
	"Prints dsbuild's version and the versions of the libraries it uses.\n"
	"\n"
	"  --json      print a JSON object\n";

int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int json = 0, c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(cmd_version_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error("version", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (json) {
		printf("{\"version\":\"%s\",\"libarchive\":\"%s\",\"zlib\":\"%s\",\"jansson\":\"%s\","
		       "\"openssl\":\"%s\",\"libcurl\":\"%s\"}\n",
		       ds_version(), archive_version_string(), zlibVersion(), JANSSON_VERSION,
		       OPENSSL_VERSION_TEXT, curl_version_info(CURLVERSION_NOW)->version);
		return EXIT_OK;
	}
	printf("dsbuild %s\n", ds_version());
	printf("  %s, zlib %s, jansson %s, %s, libcurl %s\n", archive_version_string(),
	       zlibVersion(), JANSSON_VERSION, OPENSSL_VERSION_TEXT,
	       curl_version_info(CURLVERSION_NOW)->version);
	return EXIT_OK;
}
