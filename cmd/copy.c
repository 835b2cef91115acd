/* dsbuild copy SRC DST: between any two of docker://, oci:, oci-archive:,
 * docker-archive:.  Registry sources are pulled through the blob cache. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <dsbuild/image.h>
#include <dsbuild/registry.h>
#include <dsbuild/store.h>

#include "cmd.h"
#include "registry_cmd.h"

const char cmd_copy_usage[] =
	"usage: dsbuild copy [OPTIONS] SRC DST\n"
	"\n"
	"Copies an image between any two of docker://HOST[:PORT]/REPO[:TAG|@DIGEST],\n"
	"oci:DIR[:TAG], oci-archive:FILE[:TAG] and docker-archive:FILE[:NAME:TAG].\n"
	"Every blob is digest-checked. Registry images come through the blob cache,\n"
	"so a second copy fetches nothing; a copy within one registry mounts blobs\n"
	"instead of uploading them.\n"
	"\n"
	"  -t, --tag TAG         with a docker:// DST: also tag it TAG; with a local DST:\n"
	"                        the name:tag to record; repeatable\n"
	"  --platform OS/ARCH    pick from a multi-platform SRC (default: this machine's)\n"
	"  --src-creds USER:PASS credentials for SRC only\n"
	"  --dest-creds USER:PASS credentials for DST only\n"
	"  --cache-dir DIR       blob cache for registry sources (default $DSBUILD_CACHE,\n"
	"                        else $XDG_CACHE_HOME/dsbuild, else ~/.cache/dsbuild)\n"
	"  --digest-file FILE    write the manifest digest to FILE\n"
	"  --json                print the result as JSON on stdout\n"
	"  -q, --quiet           print only errors\n"
	"  -h, --help            show this help\n"
	"\n" CMD_REGISTRY_HELP
	"\n"
	"Examples:\n"
	"  dsbuild copy docker://127.0.0.1:5000/base:1 oci:base:1\n"
	"  dsbuild copy oci-archive:app.tar docker://ghcr.io/team/app:1.0\n";

enum {
	OPT_DIGEST_FILE = 0x400,
	OPT_PLATFORM,
	OPT_JSON,
	OPT_SRC_CREDS,
	OPT_DEST_CREDS,
	OPT_CACHE_DIR,
};

int cmd_copy(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "digest-file", required_argument, NULL, OPT_DIGEST_FILE },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "src-creds", required_argument, NULL, OPT_SRC_CREDS },
		{ "dest-creds", required_argument, NULL, OPT_DEST_CREDS },
		{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		CMD_REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	ds_registry_opts ro = DS_REGISTRY_OPTS_INIT, src_o, dst_o;
	ds_error err = DS_ERROR_INIT;
	const char *digest_file = NULL, *platform = NULL, *src_creds = NULL, *dst_creds = NULL;
	const char *cache_dir = NULL;
	strv tags = { 0 };
	ds_ref src = { 0 }, dst = { 0 };
	ds_image *img = NULL;
	ds_store *cache = NULL;
	ds_push_result res;
	cmd_progress prog;
	int json = 0, quiet = 0, c, rc = EXIT_OK, prog_on = 0;
	char digest[DS_DIGEST_BUFSZ] = "";

	memset(&res, 0, sizeof(res));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:qh", opts, NULL)) != -1) {
		int r;
		switch (c) {
		case 't':
			strv_push(&tags, optarg);
			break;
		case OPT_DIGEST_FILE:
			digest_file = optarg;
			break;
		case OPT_PLATFORM:
			platform = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_SRC_CREDS:
			src_creds = optarg;
			break;
		case OPT_DEST_CREDS:
			dst_creds = optarg;
			break;
		case OPT_CACHE_DIR:
			cache_dir = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(cmd_copy_usage, stdout);
			strv_release(&tags);
			return EXIT_OK;
		case ':':
			strv_release(&tags);
			return cmd_usage_error("copy", "option '%s' needs a value", argv[optind - 1]);
		case '?':
			strv_release(&tags);
			return cmd_usage_error("copy", "unknown option '%s'", argv[optind - 1]);
		default:
			r = cmd_registry_opt(c, optarg, &ro, "copy");
			if (r != 0) {
				strv_release(&tags);
				return r == 1 ? cmd_usage_error("copy", "unknown option '%s'",
								       argv[optind - 1]) : r;
			}
		}
	}
	if (argc - optind != 2) {
		strv_release(&tags);
		return cmd_usage_error("copy", "copy takes a source and a destination image");
	}
	if (ds_ref_parse(&src, argv[optind], &err) < 0 ||
	    ds_ref_parse(&dst, argv[optind + 1], &err) < 0) {
		rc = cmd_report(&err);
		goto out;
	}
	cmd_progress_init(&prog, "pull", quiet, json);
	prog_on = 1;
	ro.progress = cmd_progress_event;
	ro.progress_data = &prog;
	ro.cache_dir = cache_dir;
	src_o = ro;
	dst_o = ro;
	if (src_creds)
		src_o.creds = src_creds;
	if (dst_creds)
		dst_o.creds = dst_creds;

	if (src.transport == DS_TRANSPORT_DOCKER) {
		ds_buf path;
		ds_buf_init(&path, 8192);
		if (cache_dir)
			ds_buf_adds(&path, cache_dir);
		if ((!cache_dir && ds_store_default_path(&path, &err) < 0) ||
		    ds_store_open(&cache, path.data, 1, &err) < 0) {
			ds_buf_release(&path);
			rc = cmd_report(&err);
			goto out;
		}
		ds_buf_release(&path);
		if (ds_registry_pull(&img, &src, platform, cache, &src_o, &err) < 0) {
			rc = cmd_report(&err);
			goto out;
		}
		dst_o.mount_from = argv[optind];
	} else if (ds_image_open(&img, &src, platform, &err) < 0) {
		rc = cmd_report(&err);
		goto out;
	}
	if (dst.transport == DS_TRANSPORT_DOCKER) {
		prog.verb = "push";
		dst_o.extra_tags = tags.v;
		dst_o.n_extra_tags = tags.n;
		if (ds_registry_push(img, &dst, &dst_o, &res, &err) < 0) {
			rc = cmd_report(&err);
			goto out;
		}
		memcpy(digest, res.digest, sizeof(digest));
	} else {
		ds_write_opts wo = DS_WRITE_OPTS_INIT;
		wo.tags = tags.v;
		wo.n_tags = tags.n;
		if (ds_image_write(img, &dst, &wo, &err) < 0) {
			rc = cmd_report(&err);
			goto out;
		}
		memcpy(digest, img->manifest_digest, sizeof(digest));
	}
	if (digest_file && (rc = cmd_write_digest_file(digest_file, digest)) != 0)
		goto out;
	if (json) {
		json_t *j = json_object();
		char *s;
		json_object_set_new(j, "digest", json_string(digest));
		json_object_set_new(j, "source", json_string(argv[optind]));
		json_object_set_new(j, "destination", json_string(argv[optind + 1]));
		if (dst.transport == DS_TRANSPORT_DOCKER) {
			json_object_set_new(j, "bytes_uploaded",
					    json_integer((json_int_t)res.bytes_uploaded));
			json_object_set_new(
				j, "blobs",
				json_pack("{s:I,s:I,s:I,s:I}", "total", (json_int_t)res.blobs_total,
					  "uploaded", (json_int_t)res.blobs_uploaded, "existed",
					  (json_int_t)res.blobs_existed, "mounted",
					  (json_int_t)res.blobs_mounted));
		}
		json_object_set(j, "transfers", prog.events);
		s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(j);
	} else if (!quiet) {
		fprintf(stderr, "copied %s to %s: %s\n", argv[optind], argv[optind + 1], digest);
	}
out:
	if (prog_on)
		cmd_progress_release(&prog);
	ds_image_free(img);
	ds_store_free(cache);
	ds_ref_release(&src);
	ds_ref_release(&dst);
	strv_release(&tags);
	return rc;
}
