/* dsbuild login / logout: credentials in the files Docker and podman read. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <dsbuild/registry.h>

#include "cmd.h"
#include "registry_cmd.h"

const char cmd_login_usage[] =
	"usage: dsbuild login [OPTIONS] REGISTRY\n"
	"\n"
	"Checks a user name and password (or token) against REGISTRY (HOST[:PORT],\n"
	"or docker.io) and saves them: in the credential helper the auth file names\n"
	"for REGISTRY (credHelpers, credsStore), else in the file's \"auths\". The file\n"
	"is --authfile, else $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json,\n"
	"else ~/.docker/config.json (written with mode 0600).\n"
	"\n"
	"  -u, --username USER   the user name (asked for on a terminal if missing)\n"
	"  -p, --password PASS   the password (visible to other users: prefer\n"
	"                        --password-stdin)\n"
	"  --password-stdin      read the password from standard input\n"
	"  --authfile FILE       the file to write\n"
	"  --cert-dir DIR        CA certificates (*.crt) and client cert (*.cert, *.key)\n"
	"  --tls-verify=false    do not verify the registry's certificate\n"
	"  --plain-http          talk plain HTTP\n"
	"  -h, --help            show this help\n"
	"\n"
	"Example:\n"
	"  echo \"$TOKEN\" | dsbuild login -u ci --password-stdin ghcr.io\n";

const char cmd_logout_usage[] =
	"usage: dsbuild logout [--authfile FILE] REGISTRY\n"
	"\n"
	"Removes the credentials saved for REGISTRY by login (from the same file, or\n"
	"its credential helper).\n";

enum { OPT_PASSWORD_STDIN = 0x500 };

static char *read_line(FILE *f, int echo_off)
{
	struct termios old, quiet;
	char buf[4096];
	int restore = 0;
	size_t n;

	if (echo_off && isatty(fileno(f)) && tcgetattr(fileno(f), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fileno(f), TCSAFLUSH, &quiet) == 0;
	}
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	if (restore) {
		tcsetattr(fileno(f), TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return strdup(buf);
}

int cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "help", no_argument, NULL, 'h' },
		CMD_REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	ds_registry_opts ro = DS_REGISTRY_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	const char *user = NULL, *pass = NULL;
	char *user_read = NULL, *pass_read = NULL, *where = NULL;
	int from_stdin = 0, c, rc = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:p:h", opts, NULL)) != -1) {
		int r;
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case 'p':
			pass = optarg;
			break;
		case OPT_PASSWORD_STDIN:
			from_stdin = 1;
			break;
		case 'h':
			fputs(cmd_login_usage, stdout);
			return EXIT_OK;
		case ':':
			return cmd_usage_error("login", "option '%s' needs a value", argv[optind - 1]);
		case '?':
			return cmd_usage_error("login", "unknown option '%s'", argv[optind - 1]);
		default:
			r = cmd_registry_opt(c, optarg, &ro, "login");
			if (r != 0)
				return r == 1 ? cmd_usage_error("login", "unknown option '%s'",
								       argv[optind - 1]) : r;
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("login", "login takes one registry, e.g. ghcr.io or "
						"127.0.0.1:5000");
	if (ro.creds)
		return cmd_usage_error("login", "use -u and --password-stdin, not --creds");
	if (pass && from_stdin)
		return cmd_usage_error("login", "--password and --password-stdin exclude each other");
	if (from_stdin && !user)
		return cmd_usage_error("login", "--password-stdin needs --username");
	if (pass)
		cmd_warn("a password on the command line is visible to other users; use "
			 "--password-stdin");
	if (!user) {
		if (!isatty(0))
			return cmd_usage_error("login", "no --username, and no terminal to ask on");
		fprintf(stderr, "Username: ");
		user = user_read = read_line(stdin, 0);
	}
	if (from_stdin) {
		pass = pass_read = read_line(stdin, 0);
	} else if (!pass) {
		if (!isatty(0)) {
			free(user_read);
			return cmd_usage_error("login", "no password: pass --password-stdin");
		}
		fprintf(stderr, "Password: ");
		pass = pass_read = read_line(stdin, 1);
	}
	if (!user || !*user || !pass || !*pass) {
		rc = cmd_usage_error("login", "an empty user name or password");
		goto out;
	}
	if (ds_registry_login(argv[optind], user, pass, &ro, &where, &err) < 0) {
		rc = cmd_report(&err);
		goto out;
	}
	fprintf(stderr, "login succeeded: credentials for '%s' saved in %s\n", argv[optind],
		where ? where : "?");
out:
	if (pass_read) {
		memset(pass_read, 0, strlen(pass_read));
		free(pass_read);
	}
	free(user_read);
	free(where);
	return rc;
}

int cmd_logout(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "authfile", required_argument, NULL, REG_OPT_AUTHFILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	ds_registry_opts ro = DS_REGISTRY_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	char *where = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case REG_OPT_AUTHFILE:
			ro.auth_file = optarg;
			break;
		case 'h':
			fputs(cmd_logout_usage, stdout);
			return EXIT_OK;
		case ':':
			return cmd_usage_error("logout", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cmd_usage_error("logout", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("logout", "logout takes one registry");
	if (ds_registry_logout(argv[optind], &ro, &where, &err) < 0)
		return cmd_report(&err);
	fprintf(stderr, "removed the credentials for '%s' from %s\n", argv[optind],
		where ? where : "?");
	free(where);
	return EXIT_OK;
}
