/* dsbuild buildpacks: the buildpacks a build of a tree would consider, in
 * order, and which of them passed.  dsbuild buildpack new: a buildpack
 * folder to start from, declarative or a Cloud Native Buildpack. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <dsbuild/detect.h>
#include <dsbuild/source.h>

#include "cmd.h"

const char cmd_buildpacks_usage[] =
	"usage: dsbuild buildpacks [OPTIONS] [DIR]\n"
	"\n"
	"Lists the buildpacks a build of DIR (default: the current folder) would\n"
	"consider, in order: each order group tried, the one that applies, and in\n"
	"each group every buildpack with its version, whether it is required or\n"
	"optional, where it comes from (built-in, or its folder) and whether it\n"
	"passed. 'dsbuild detect' shows the whole plan. Nothing is downloaded.\n"
	"\n"
	"  --builder FILE        a builder file (default $DSBUILD_BUILDER, else the\n"
	"                        project's 'builder' setting, else the built-in order)\n"
	"  --buildpack DIR       add a buildpack to every group; repeatable\n"
	"  --base REF            the base a build would use (apt.txt and Debian\n"
	"                        packages apply to Debian bases only)\n"
	"  --no-exec-buildpacks  refuse Cloud Native Buildpacks (bin/detect, bin/build)\n"
	"  --json                print one JSON object on stdout\n"
	"  -h, --help            show this help\n"
	"\n"
	"In the list, + marks a buildpack that passed (it is in the plan when its\n"
	"group applies), - one that did not, with the reason.\n"
	"\n"
	"Exit status: 0 when a group applies, 3 when none does or an input is bad\n"
	"(a buildpack.toml, a builder file, the project's config).\n";

const char cmd_buildpack_usage[] =
	"usage: dsbuild buildpack new NAME [--dir DIR] [--cnb]\n"
	"\n"
	"Makes a buildpack folder to start from. NAME is the buildpack's id, such as\n"
	"acme/company-ca (letters, digits and / . _ -). The folder is DIR, by default\n"
	"the last part of NAME in the current folder (company-ca); it must not exist\n"
	"or must be empty: nothing is ever overwritten.\n"
	"\n"
	"  --dir DIR   the folder to make\n"
	"  --cnb       a Cloud Native Buildpack (Buildpack API 0.10): buildpack.toml,\n"
	"              bin/detect and bin/build as POSIX sh scripts. Without it: a\n"
	"              declarative buildpack, a buildpack.toml with every field\n"
	"              described, and a README.md\n"
	"  -h, --help  show this help\n"
	"\n"
	"Then: dsbuild detect --buildpack DIR PROJECT, dsbuild build --buildpack DIR\n"
	"PROJECT, or list it in a builder file (docs/buildpacks.md).\n";

/* ---- dsbuild buildpacks ------------------------------------------------------ */

static json_t *group_entry(size_t index, int applied, const json_t *bps)
{
	json_t *g = json_object(), *list = json_array(), *b;
	size_t i;

	json_array_foreach ((json_t *)bps, i, b) {
		json_t *e = json_object();
		const char *path = json_string_value(json_object_get(b, "path"));
		json_object_set(e, "id", json_object_get(b, "id"));
		json_object_set(e, "version", json_object_get(b, "version"));
		json_object_set(e, "name", json_object_get(b, "name"));
		json_object_set_new(e, "optional",
				    json_boolean(json_is_true(json_object_get(b, "optional"))));
		json_object_set_new(e, "builtin", json_boolean(!path));
		if (path)
			json_object_set_new(e, "path", json_string(path));
		json_object_set_new(e, "detected",
				    json_boolean(json_is_true(json_object_get(b, "detected"))));
		json_object_set(e, "why", json_object_get(b, "why") ?: json_array());
		json_array_append_new(list, e);
	}
	json_object_set_new(g, "index", json_integer((json_int_t)index));
	json_object_set_new(g, "applied", json_boolean(applied));
	json_object_set_new(g, "buildpacks", list);
	return g;
}

static void print_groups(const json_t *doc)
{
	const json_t *builder = json_object_get(doc, "builder"), *g, *b;
	size_t i, k;
	int idw = 10, vw = 5;

	if (json_is_object(builder))
		printf("order:   builder %s (%s)\n",
		       json_string_value(json_object_get(builder, "name")),
		       json_string_value(json_object_get(builder, "file")));
	else
		printf("order:   built-in (no builder file)\n");
	printf("base:    %s\n", json_string_value(json_object_get(doc, "base")));
	json_array_foreach (json_object_get(doc, "groups"), i, g)
		json_array_foreach (json_object_get(g, "buildpacks"), k, b) {
			int l = (int)strlen(json_string_value(json_object_get(b, "id")));
			int v = (int)strlen(json_string_value(json_object_get(b, "version")));
			idw = l > idw && l < 60 ? l : idw;
			vw = v > vw && v < 30 ? v : vw;
		}
	json_array_foreach (json_object_get(doc, "groups"), i, g) {
		int applied = json_is_true(json_object_get(g, "applied"));
		printf("group %lld: %s\n", (long long)json_integer_value(json_object_get(g, "index")) + 1,
		       applied ? "applies" : "does not apply (a required buildpack did not pass)");
		json_array_foreach (json_object_get(g, "buildpacks"), k, b) {
			const json_t *why = json_object_get(b, "why");
			int det = json_is_true(json_object_get(b, "detected"));
			const char *path = json_string_value(json_object_get(b, "path"));
			printf("  %s %-*s %-*s %-8s %s\n", det ? "+" : "-", idw,
			       json_string_value(json_object_get(b, "id")), vw,
			       json_string_value(json_object_get(b, "version")),
			       json_is_true(json_object_get(b, "optional")) ? "optional" : "required",
			       path ? path : "built-in");
			if (!det && json_array_size(why))
				printf("      %s\n",
				       json_string_value(json_array_get(why, json_array_size(why) - 1)));
		}
	}
	printf("(+ passed, - did not; 'dsbuild detect' shows the whole plan)\n");
}

int cmd_buildpacks(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "buildpack", required_argument, NULL, 'B' },
		{ "builder", required_argument, NULL, 'U' },
		{ "no-exec-buildpacks", no_argument, NULL, 'X' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	ds_detect_opts dopts = DS_DETECT_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	ds_source *src = NULL;
	json_t *plan = NULL, *doc = NULL, *groups, *tried;
	strv bps = { 0 };
	const char *dir = ".";
	int json = 0, c, rc = EXIT_FAIL;
	size_t gi;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			dopts.base = optarg;
			break;
		case 'B':
			strv_push(&bps, optarg);
			break;
		case 'U':
			dopts.builder = optarg;
			break;
		case 'X':
			dopts.no_exec = 1;
			dopts.no_exec_origin = "--no-exec-buildpacks";
			break;
		case 'J':
			json = 1;
			break;
		case 'h':
			cmd_print_help(cmd_find("buildpacks"), stdout);
			strv_release(&bps);
			return EXIT_OK;
		case ':':
			strv_release(&bps);
			return cmd_usage_error("buildpacks", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			strv_release(&bps);
			return cmd_usage_error("buildpacks", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		dir = argv[optind++];
	if (optind < argc) {
		strv_release(&bps);
		return cmd_usage_error("buildpacks", "one folder only ('%s' is extra)",
				       argv[optind]);
	}
	dopts.buildpacks = (const char *const *)bps.v;
	dopts.n_buildpacks = bps.n;
	if (cmd_plan(dir, &dopts, &src, &plan, &err) < 0) {
		rc = cmd_report(&err);
		goto out;
	}

	/* The groups tried before the one that applies, then that one. */
	doc = json_object();
	groups = json_array();
	tried = json_object_get(plan, "groups_tried");
	for (gi = 0; gi < json_array_size(tried); gi++)
		json_array_append_new(groups, group_entry(gi, 0, json_array_get(tried, gi)));
	json_array_append_new(groups,
			      group_entry((size_t)json_integer_value(json_object_get(plan,
										     "group_index")),
					  1, json_object_get(plan, "buildpacks")));
	json_object_set_new(doc, "source", json_string(src->root));
	json_object_set(doc, "builder", json_object_get(plan, "builder") ?: json_null());
	json_object_set(doc, "base", json_object_get(json_object_get(plan, "base"), "ref"));
	json_object_set(doc, "group_index", json_object_get(plan, "group_index"));
	json_object_set_new(doc, "groups", groups);
	if (json) {
		char *s = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2));
		puts(s);
		free(s);
	} else {
		print_groups(doc);
	}
	rc = EXIT_OK;
out:
	json_decref(doc);
	json_decref(plan);
	ds_source_free(src);
	strv_release(&bps);
	return rc;
}

/* ---- dsbuild buildpack new --------------------------------------------------- */

/* The ids buildpack.toml accepts (lib/buildpack/buildpack.c). */
static int valid_id(const char *id)
{
	size_t n = strlen(id);

	if (!n || n > 255 || id[0] == '/' || id[n - 1] == '/' || strstr(id, "//"))
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("/._-", *p)))
			return 0;
	return strcmp(id, "config") && strcmp(id, "app");
}

static const char declarative_toml[] =
	"# @ID@: a declarative dsbuild buildpack (docs/buildpacks.md has every field).\n"
	"#\n"
	"# Try it:  dsbuild detect --buildpack @DIR@ PROJECT\n"
	"#          dsbuild build --buildpack @DIR@ PROJECT\n"
	"# Only [buildpack] id and version are needed; uncomment what you use.\n"
	"api = \"dsbuild/0.1\"\n"
	"\n"
	"[buildpack]\n"
	"id = \"@ID@\"\n"
	"version = \"0.1.0\"\n"
	"name = \"@ID@\"\n"
	"\n"
	"# When it applies. With no rules, it applies to every project.\n"
	"[detect]\n"
	"# Passes when any pattern matches a file or folder of the project. A pattern\n"
	"# without '/' is matched against names anywhere in the tree, one with '/'\n"
	"# against the whole path from the project's root (* ? [...], as fnmatch).\n"
	"# files = [\"requirements.txt\", \"*.ipynb\"]\n"
	"\n"
	"# Each [[detect.contains]] must pass as well: some file matching `file` has\n"
	"# a line matching `pattern`, a POSIX extended regular expression.\n"
	"# [[detect.contains]]\n"
	"# file = \"*.py\"\n"
	"# pattern = \"^[[:space:]]*import[[:space:]]+torch\"\n"
	"\n"
	"# What it adds to the image when it applies.\n"
	"[contributes]\n"
	"# packages = [\"libgomp1\"]           # Debian packages (Debian bases only)\n"
	"# env = { MY_SETTING = \"value\" }    # the image's environment\n"
	"# labels = { \"org.example.team\" = \"data\" }\n"
	"# ports = [9090]                    # exposed ports\n"
	"\n"
	"# Files of this folder copied into the image (the runtime layer, owned by\n"
	"# root, mode as given, default \"0644\").\n"
	"# [[files]]\n"
	"# source = \"company-ca.crt\"\n"
	"# target = \"/usr/local/share/ca-certificates/company-ca.crt\"\n"
	"# mode = \"0644\"\n"
	"\n"
	"# A process, runnable by name (podman run IMAGE worker); a command given as\n"
	"# a string runs through the launcher's word splitting, or sh when it needs one.\n"
	"# [[processes]]\n"
	"# type = \"worker\"\n"
	"# command = [\"python3\", \"worker.py\"]\n"
	"# port = 9090\n";

static const char declarative_readme[] =
	"# @ID@\n"
	"\n"
	"A declarative dsbuild buildpack: `buildpack.toml` says when it applies (`[detect]`)\n"
	"and what it adds to the image (`[contributes]`, `[[files]]`, `[[processes]]`).\n"
	"Nothing in it runs at build time.\n"
	"\n"
	"```sh\n"
	"dsbuild buildpacks --buildpack @DIR@ PROJECT   # is it considered, did it pass?\n"
	"dsbuild detect --buildpack @DIR@ PROJECT       # the whole plan\n"
	"dsbuild build --buildpack @DIR@ PROJECT\n"
	"```\n"
	"\n"
	"To give it to every project of a team, list it in a builder file:\n"
	"\n"
	"```toml\n"
	"[[buildpacks]]\n"
	"id = \"@ID@\"\n"
	"path = \"path/to/@DIR@\"\n"
	"\n"
	"[[order]]\n"
	"group = [{ id = \"@ID@\" }, { id = \"dsbuild/python\", optional = true }]\n"
	"```\n"
	"\n"
	"See dsbuild's docs/buildpacks.md for every field.\n";

static const char cnb_toml[] =
	"# @ID@: a Cloud Native Buildpack (Buildpack API 0.10). bin/detect and\n"
	"# bin/build are programs that dsbuild runs on the build machine (see\n"
	"# docs/buildpacks.md and docs/internals/cnb.md); a builder with\n"
	"# [policy] executable-buildpacks = false, or --no-exec-buildpacks, refuses it.\n"
	"api = \"0.10\"\n"
	"\n"
	"[buildpack]\n"
	"id = \"@ID@\"\n"
	"version = \"0.1.0\"\n"
	"name = \"@ID@\"\n";

static const char cnb_detect[] =
	"#!/bin/sh\n"
	"# bin/detect of @ID@ (Buildpack API 0.10), run in the project's folder.\n"
	"# Exit 0: the buildpack applies; 100: it does not; anything else fails the\n"
	"# build. Environment: CNB_PLATFORM_DIR, CNB_BUILD_PLAN_PATH (a TOML file to\n"
	"# write [[provides]] and [[requires]] to).\n"
	"set -eu\n"
	"\n"
	"# For example, apply only to projects with a requirements.txt:\n"
	"# [ -f requirements.txt ] || exit 100\n"
	"exit 0\n";

static const char cnb_build[] =
	"#!/bin/sh\n"
	"# bin/build of @ID@ (Buildpack API 0.10), run in the project's folder.\n"
	"# Environment: CNB_LAYERS_DIR (write layers here), CNB_PLATFORM_DIR,\n"
	"# CNB_BP_PLAN_PATH, CNB_BUILDPACK_DIR (this buildpack's folder).\n"
	"set -eu\n"
	"\n"
	"layers=${CNB_LAYERS_DIR:?CNB_LAYERS_DIR is not set}\n"
	"\n"
	"# A launch layer, \"greeting\": its files go into the image, and its\n"
	"# env.launch/ variables are set when the image runs.\n"
	"mkdir -p \"$layers/greeting/env.launch\"\n"
	"printf '%s' 'hello from @ID@' >\"$layers/greeting/env.launch/GREETING.default\"\n"
	"cat >\"$layers/greeting.toml\" <<'EOF'\n"
	"[types]\n"
	"launch = true\n"
	"EOF\n"
	"\n"
	"# A process, runnable by name: podman run IMAGE greet\n"
	"cat >\"$layers/launch.toml\" <<'EOF'\n"
	"[[processes]]\n"
	"type = \"greet\"\n"
	"command = [\"python3\", \"-c\", \"import os; print(os.environ['GREETING'])\"]\n"
	"default = false\n"
	"EOF\n";

static const char cnb_readme[] =
	"# @ID@\n"
	"\n"
	"A Cloud Native Buildpack (Buildpack API 0.10): `bin/detect` decides whether it\n"
	"applies (exit 0) or not (exit 100); `bin/build` writes layers to `$CNB_LAYERS_DIR`\n"
	"(`<name>.toml` with `[types] launch/build/cache`, `env.launch/`, `env.build/`) and\n"
	"processes to `launch.toml`. Both are POSIX sh here; any executable works.\n"
	"\n"
	"```sh\n"
	"dsbuild buildpacks --buildpack @DIR@ PROJECT\n"
	"dsbuild build --buildpack @DIR@ PROJECT\n"
	"podman run --rm IMAGE greet\n"
	"```\n"
	"\n"
	"They run on the build machine with your rights: a builder file with\n"
	"`[policy] executable-buildpacks = false` refuses them. See dsbuild's\n"
	"docs/buildpacks.md and docs/internals/cnb.md.\n";

/* Writes tmpl to f with @ID@ replaced by id and @DIR@ by folder. */
static int put_template(FILE *f, const char *tmpl, const char *id, const char *folder)
{
	for (const char *p = tmpl; *p;) {
		if (!strncmp(p, "@ID@", 4)) {
			fputs(id, f);
			p += 4;
		} else if (!strncmp(p, "@DIR@", 5)) {
			fputs(folder, f);
			p += 5;
		} else {
			fputc(*p++, f);
		}
	}
	return ferror(f) ? -1 : 0;
}

/* Creates DIR/REL (it must not exist) from a template. */
static int write_template(const char *dir, const char *rel, const char *tmpl, mode_t mode,
			  const char *id, const char *folder)
{
	char path[PATH_MAX];
	FILE *f;
	int fd, ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path)) {
		fprintf(stderr, "error: the path of '%s' is too long\n", rel);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "error: cannot create '%s': %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = put_template(f, tmpl, id, folder) == 0;
	ok &= fchmod(fd, mode) == 0; /* the umask does not decide the exec bit */
	ok &= fclose(f) == 0;
	if (!ok) {
		fprintf(stderr, "error: cannot write '%s': %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int buildpack_new(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "cnb", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *dir = NULL, *slash;
	char tmp[PATH_MAX], parent[PATH_MAX], clean[PATH_MAX];
	struct stat st;
	int cnb = 0, c, rc = EXIT_IO;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'c':
			cnb = 1;
			break;
		case 'h':
			cmd_print_help(cmd_find("buildpack"), stdout);
			return EXIT_OK;
		case ':':
			return cmd_usage_error("buildpack", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cmd_usage_error("buildpack", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cmd_usage_error("buildpack", "'buildpack new' needs the buildpack's id, "
						    "such as acme/company-ca");
	name = argv[optind++];
	if (optind < argc)
		return cmd_usage_error("buildpack", "one id only ('%s' is extra)", argv[optind]);
	if (!valid_id(name)) {
		fprintf(stderr, "error: '%s' is not a buildpack id\n"
				"hint: an id is letters, digits and / . _ -, such as "
				"\"acme/company-ca\"\n", name);
		return EXIT_INPUT;
	}
	if (!strncmp(name, "dsbuild/", 8)) {
		fprintf(stderr, "error: '%s': ids starting with 'dsbuild/' are the built-in "
				"buildpacks'\n"
				"hint: use your team's name, such as acme/%s\n", name, name + 8);
		return EXIT_INPUT;
	}
	if (!dir) {
		slash = strrchr(name, '/');
		dir = slash ? slash + 1 : name;
	}
	{
		/* "x/" is the folder x: the temporary folder goes beside it. */
		size_t l = strlen(dir);
		while (l > 1 && dir[l - 1] == '/')
			l--;
		if (!*dir || l >= sizeof(clean))
			return cmd_usage_error("buildpack", "--dir needs a folder path");
		memcpy(clean, dir, l);
		clean[l] = '\0';
		dir = clean;
	}
	if (!strcmp(dir, "/") || !strcmp(dir, ".") || !strcmp(dir, "..")) {
		fprintf(stderr, "error: '%s' already exists\n"
				"hint: name a new folder with --dir\n", dir);
		return EXIT_INPUT;
	}
	if (lstat(dir, &st) == 0) {
		int empty = 0;
		if (S_ISDIR(st.st_mode)) {
			/* An empty folder has nothing to overwrite. */
			empty = rmdir(dir) == 0;
			if (empty && mkdir(dir, 0755) < 0) {
				fprintf(stderr, "error: cannot create '%s': %s\n", dir,
					strerror(errno));
				return EXIT_IO;
			}
		}
		if (!empty) {
			fprintf(stderr, "error: '%s' already exists\n"
					"hint: choose another folder with --dir; nothing was "
					"overwritten\n", dir);
			return EXIT_INPUT;
		}
	}
	/* Everything is written into a temporary folder beside DIR, then
	 * renamed into place: an error leaves nothing half-made. */
	slash = strrchr(dir, '/');
	if (slash)
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dir + 1), dir);
	else
		parent[0] = '\0';
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.buildpack-new-XXXXXX", parent) >= sizeof(tmp) ||
	    !mkdtemp(tmp)) {
		fprintf(stderr, "error: cannot create a folder in '%s': %s\n",
			parent[0] ? parent : ".", strerror(errno));
		return EXIT_IO;
	}
	if (chmod(tmp, 0755) < 0)
		goto fail;
	if (cnb) {
		char bin[PATH_MAX + 8];
		snprintf(bin, sizeof(bin), "%s/bin", tmp);
		if (mkdir(bin, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "error: cannot create '%s': %s\n", bin, strerror(errno));
			goto fail;
		}
		if (write_template(tmp, "buildpack.toml", cnb_toml, 0644, name, dir) < 0 ||
		    write_template(tmp, "bin/detect", cnb_detect, 0755, name, dir) < 0 ||
		    write_template(tmp, "bin/build", cnb_build, 0755, name, dir) < 0 ||
		    write_template(tmp, "README.md", cnb_readme, 0644, name, dir) < 0)
			goto fail;
	} else {
		if (write_template(tmp, "buildpack.toml", declarative_toml, 0644, name, dir) < 0 ||
		    write_template(tmp, "README.md", declarative_readme, 0644, name, dir) < 0)
			goto fail;
	}
	if (rename(tmp, dir) < 0) {
		fprintf(stderr, "error: cannot create '%s': %s\n", dir, strerror(errno));
		if (errno == EEXIST || errno == ENOTEMPTY) {
			fprintf(stderr, "hint: it appeared meanwhile; nothing was overwritten\n");
			rc = EXIT_INPUT;
		}
		goto fail;
	}
	if (!cmd_quiet)
		fprintf(stderr, "created %s buildpack '%s' in %s/\n"
				"try it: dsbuild buildpacks --buildpack %s PROJECT\n",
			cnb ? "a Cloud Native" : "a declarative", name, dir, dir);
	return EXIT_OK;
fail:
	{
		static const char *const made[] = { "bin/detect", "bin/build", "buildpack.toml",
						    "README.md" };
		char p[PATH_MAX + 32];
		for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", tmp, made[i]);
			unlink(p);
		}
		snprintf(p, sizeof(p), "%s/bin", tmp);
		rmdir(p);
		rmdir(tmp);
	}
	return rc;
}

int cmd_buildpack(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage_error("buildpack", "'dsbuild buildpack' needs a subcommand: new");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cmd_print_help(cmd_find("buildpack"), stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "new"))
		return buildpack_new(argc - 1, argv + 1);
	return cmd_usage_error("buildpack", "unknown subcommand '%s' (the subcommand is 'new'; "
					    "'dsbuild buildpacks' lists buildpacks)", argv[1]);
}
