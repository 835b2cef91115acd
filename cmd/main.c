/* dsbuild: one table of subcommands, as git and crun do. */
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "registry_cmd.h"

const cmd_def ds_commands[] = {
	{ "build", cmd_build, "build an image from a source tree (the default)", cmd_build_usage },
	{ "detect", cmd_detect, "show what a build would find and the plan it would follow",
	  cmd_detect_usage },
	{ "buildpacks", cmd_buildpacks, "list the buildpacks a build would consider, and which pass",
	  cmd_buildpacks_usage },
	{ "buildpack", cmd_buildpack, "make a buildpack folder to start from (buildpack new)",
	  cmd_buildpack_usage },
	{ "inspect", cmd_inspect, "show an image's layers, config and annotations",
	  cmd_inspect_usage },
	{ "push", cmd_push, "push an image to a registry", cmd_push_usage },
	{ "copy", cmd_copy, "copy an image between registries, layouts and archives",
	  cmd_copy_usage },
	{ "login", cmd_login, "store credentials for a registry", cmd_login_usage },
	{ "logout", cmd_logout, "remove stored credentials for a registry", cmd_logout_usage },
	{ "version", cmd_version, "print dsbuild's version", cmd_version_usage },
	{ "help", cmd_help, "show help for a command", cmd_help_usage },
	{ NULL, NULL, NULL, NULL },
};

const cmd_def *cmd_find(const char *name)
{
	for (const cmd_def *c = ds_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int main(int argc, char **argv)
{
	const cmd_def *c;
	struct stat st;

	/* No setlocale(): the C locale keeps every byte we write independent
	 * of LANG/LC_ALL. */
	cmd_install_signals();
	if (argc < 2)
		return cmd_build(argc, argv);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv);
	c = cmd_find(argv[1]);
	if (c)
		return c->fn(argc - 1, argv + 1);
	/* `dsbuild DIR` and `dsbuild --flag ... DIR` mean build. */
	if (argv[1][0] == '-' || stat(argv[1], &st) == 0 || strchr(argv[1], '/') ||
	    !strcmp(argv[1], "."))
		return cmd_build(argc, argv);
	return cmd_usage_error(NULL, "'%s' is not a dsbuild command or a folder", argv[1]);
}
