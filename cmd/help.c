#include <string.h>

#include "cmd.h"

const char cmd_help_usage[] =
	"usage: dsbuild help [COMMAND]\n"
	"\n"
	"Shows the list of commands, or the full help of one.\n";

static void overview(FILE *f)
{
	fprintf(f, "usage: dsbuild [COMMAND] [OPTIONS] [ARGS]\n"
		   "       dsbuild [build] [OPTIONS] [DIR]\n"
		   "\n"
		   "Builds OCI container images from data-science projects: no Dockerfile, no\n"
		   "daemon, no root. 'dsbuild .' builds the current folder.\n"
		   "\n"
		   "Commands:\n");
	for (const cmd_def *c = ds_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'dsbuild help COMMAND' or 'dsbuild COMMAND --help' for details.\n"
		   "Exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 bad image, 5 auth,\n"
		   "6 network, 7 I/O or disk full, 130 interrupted (docs/cli.md).\n");
}

int cmd_help(int argc, char **argv)
{
	const cmd_def *c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc >= 2 && argc < 3 && strcmp(argv[0], "help") == 0 &&
		    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(cmd_help_usage, stdout);
			return EXIT_OK;
		}
		overview(stdout);
		return EXIT_OK;
	}
	c = cmd_find(argv[1]);
	if (!c)
		return cmd_usage_error("help", "no such command '%s'", argv[1]);
	cmd_print_help(c, stdout);
	return EXIT_OK;
}
