/* dsbuild detect: what the buildpacks find in a tree and the plan they
 * would build, without building. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <dsbuild/build.h>
#include <dsbuild/detect.h>
#include <dsbuild/source.h>

#include "cmd.h"

const char cmd_detect_usage[] =
	"usage: dsbuild detect [OPTIONS] [DIR]\n"
	"\n"
	"Shows what dsbuild finds in DIR (default: the current folder) and the plan a\n"
	"build would follow: the base and its Python (and why), the requirement\n"
	"file, notebooks, model files, web apps, each buildpack and why it applies\n"
	"or not, the processes and the default one, ports, and what is left out and\n"
	"why. Nothing is downloaded or written.\n"
	"\n"
	"  --base REF        the base a build would use (default: from the Python\n"
	"                    version, else debian:bookworm, or $DSBUILD_BASE)\n"
	"  --process NAME    the default process\n"
	"  --job PATH        the notebook or script of the job process\n"
	"  --buildpack DIR   add a buildpack after the built-in ones; repeatable\n"
	"  --builder FILE    a builder file (default $DSBUILD_BUILDER, else the\n"
	"                    project's 'builder' setting)\n"
	"  --no-exec-buildpacks  refuse buildpacks that run programs (Cloud Native\n"
	"                    Buildpacks: bin/detect, bin/build)\n"
	"  --json            print the plan as one JSON object on stdout\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit status: 0 when a plan was made, 3 for bad input (a broken notebook,\n"
	"Procfile or config), as 'dsbuild build' would fail.\n";

static void print_cmd(const json_t *cmd)
{
	if (json_is_string(cmd)) {
		fputs(json_string_value(cmd), stdout);
		return;
	}
	size_t i;
	json_t *w;
	json_array_foreach ((json_t *)cmd, i, w) {
		const char *s = json_string_value(w);
		int quote = !*s || strpbrk(s, " \t'\"\\");
		printf("%s%s%s%s", i ? " " : "", quote ? "'" : "", s, quote ? "'" : "");
	}
}

static void print_human(const json_t *plan, const ds_source *src)
{
	json_t *facts = json_object_get(plan, "facts"), *v;
	json_t *base = json_object_get(plan, "base"), *py = json_object_get(plan, "python");
	json_t *req = json_object_get(facts, "requirements");
	size_t i;
	char sz[32];

	cmd_human_size(src->total_bytes, sz, sizeof(sz));
	printf("project:      %s (%zu entries, %s)\n", src->root, src->n_files, sz);
	if (json_object_get(plan, "builder"))
		printf("builder:      %s (%s)\n",
		       json_string_value(json_object_get(json_object_get(plan, "builder"), "name")),
		       json_string_value(json_object_get(json_object_get(plan, "builder"), "file")));
	printf("base:         %s (%s)\n", json_string_value(json_object_get(base, "ref")),
	       json_string_value(json_object_get(base, "from")));
	if (json_string_value(json_object_get(py, "version")))
		printf("python:       %s", json_string_value(json_object_get(py, "version")));
	else
		printf("python:       the base's");
	if (json_is_string(json_object_get(py, "request")))
		printf(" (%s asks for %s)\n", json_string_value(json_object_get(py, "from")),
		       json_string_value(json_object_get(py, "request")));
	else
		printf(" (no version asked for)\n");
	if (req) {
		printf("requirements: %s:", json_string_value(json_object_get(req, "file")));
		json_array_foreach (json_object_get(req, "names"), i, v)
			printf("%s%s", i ? ", " : " ", json_string_value(v));
		printf("\n");
	} else {
		printf("requirements: none (no requirements.txt, pyproject.toml dependencies or "
		       "pylock.toml)\n");
	}
	if (json_array_size(json_object_get(facts, "notebooks"))) {
		printf("notebooks:\n");
		json_array_foreach (json_object_get(facts, "notebooks"), i, v) {
			json_t *p, *n;
			size_t k;
			printf("  %s  %lld cells (%lld code)", json_string_value(json_object_get(v, "path")),
			       (long long)json_integer_value(json_object_get(v, "cells")),
			       (long long)json_integer_value(json_object_get(v, "code_cells")));
			if (json_array_size(json_object_get(v, "params"))) {
				printf(", parameters:");
				json_array_foreach (json_object_get(v, "params"), k, p)
					printf("%s%s", k ? ", " : " ", json_string_value(p));
			}
			if (json_object_get(v, "exported"))
				printf(", exported cells");
			printf("\n");
			json_array_foreach (json_object_get(v, "notes"), k, n)
				printf("      %s\n", json_string_value(n));
		}
	}
	if (json_array_size(json_object_get(facts, "models"))) {
		printf("models:\n");
		json_array_foreach (json_object_get(facts, "models"), i, v) {
			cmd_human_size((unsigned long long)json_integer_value(json_object_get(v, "size")),
				       sz, sizeof(sz));
			printf("  %s  %s  %s\n", json_string_value(json_object_get(v, "path")), sz,
			       json_string_value(json_object_get(v, "format")));
		}
	}
	if (json_array_size(json_object_get(facts, "apps"))) {
		printf("apps:\n");
		json_array_foreach (json_object_get(facts, "apps"), i, v)
			printf("  %s  %s%s%s%s\n", json_string_value(json_object_get(v, "path")),
			       json_string_value(json_object_get(v, "framework")),
			       json_object_get(v, "object") ? " (" : "",
			       json_object_get(v, "object") ?
				       json_string_value(json_object_get(v, "object")) :
				       "",
			       json_object_get(v, "object") ? ")" : "");
	}
	printf("buildpacks:\n");
	json_array_foreach (json_object_get(plan, "buildpacks"), i, v) {
		json_t *w;
		size_t k;
		int det = json_is_true(json_object_get(v, "detected"));
		printf("  %s %-18s %-7s", det ? "+" : "-",
		       json_string_value(json_object_get(v, "id")),
		       json_string_value(json_object_get(v, "version")));
		json_array_foreach (json_object_get(v, "why"), k, w)
			printf("%s%s", k ? "; " : " ", json_string_value(w));
		printf("\n");
	}
	if (json_array_size(json_object_get(plan, "packages"))) {
		printf("debian packages:");
		json_array_foreach (json_object_get(plan, "packages"), i, v)
			printf(" %s", json_string_value(v));
		printf("\n");
	}
	if (json_array_size(json_object_get(plan, "processes"))) {
		printf("processes:\n");
		json_array_foreach (json_object_get(plan, "processes"), i, v) {
			printf("  %s %-9s ", json_is_true(json_object_get(v, "default")) ? "*" : " ",
			       json_string_value(json_object_get(v, "type")));
			print_cmd(json_object_get(v, "command"));
			printf("\n              from %s\n", json_string_value(json_object_get(v, "from")));
		}
		printf("  (* the default; 'podman run IMAGE NAME' runs another by name)\n");
	} else {
		printf("processes:    none detected (give one with a Procfile, [tool.dsbuild] "
		       "processes, or --cmd)\n");
	}
	if (json_array_size(json_object_get(plan, "ports"))) {
		printf("ports:       ");
		json_array_foreach (json_object_get(plan, "ports"), i, v)
			printf(" %lld", (long long)json_integer_value(v));
		printf("\n");
	}
	if (json_array_size(json_object_get(plan, "ignored"))) {
		printf("left out:\n");
		json_array_foreach (json_object_get(plan, "ignored"), i, v) {
			printf("  %s: %s\n", json_string_value(json_object_get(v, "path")),
			       json_string_value(json_object_get(v, "why")));
			if (json_string_value(json_object_get(v, "hint")))
				printf("    hint: %s\n", json_string_value(json_object_get(v, "hint")));
		}
	}
	if (json_array_size(json_object_get(plan, "notes"))) {
		printf("notes:\n");
		json_array_foreach (json_object_get(plan, "notes"), i, v)
			printf("  %s\n", json_string_value(v));
	}
}

/* The plan for machines: generated contents replaced by their sizes. */
static void strip_contents(json_t *plan)
{
	json_t *v;
	size_t i;

	json_array_foreach (json_object_get(plan, "generated"), i, v) {
		json_t *c = json_object_get(v, "content");
		json_object_set_new(v, "size", json_integer((json_int_t)json_string_length(c)));
		json_object_del(v, "content");
	}
	json_array_foreach (json_object_get(json_object_get(plan, "facts"), "notebooks"), i, v) {
		json_object_del(v, "script");
		json_object_set_new(v, "exported", json_boolean(json_object_get(v, "exported")));
	}
}

int cmd_detect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "process", required_argument, NULL, 'p' },
		{ "job", required_argument, NULL, 'j' },
		{ "buildpack", required_argument, NULL, 'B' },
		{ "builder", required_argument, NULL, 'U' },
		{ "no-exec-buildpacks", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	ds_detect_opts dopts = DS_DETECT_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	ds_source *src = NULL;
	json_t *plan = NULL;
	strv bps = { 0 };
	const char *dir = ".";
	int json = 0, c, rc = EXIT_FAIL;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			dopts.base = optarg;
			break;
		case 'p':
			dopts.process = optarg;
			break;
		case 'j':
			dopts.job = optarg;
			break;
		case 'B':
			strv_push(&bps, optarg);
			break;
		case 'U':
			dopts.builder = optarg;
			break;
		case 'N':
			dopts.no_exec = 1;
			dopts.no_exec_origin = "--no-exec-buildpacks";
			break;
		case 'J':
			json = 1;
			break;
		case 'h':
			cmd_print_help(cmd_find("detect"), stdout);
			strv_release(&bps);
			return 0;
		case ':':
			strv_release(&bps);
			return cmd_usage_error("detect", "option '%s' needs a value", argv[optind - 1]);
		default:
			strv_release(&bps);
			return cmd_usage_error("detect", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		dir = argv[optind++];
	if (optind < argc) {
		strv_release(&bps);
		return cmd_usage_error("detect", "one folder only ('%s' is extra)", argv[optind]);
	}
	dopts.buildpacks = (const char *const *)bps.v;
	dopts.n_buildpacks = bps.n;
	if (cmd_plan(dir, &dopts, &src, &plan, &err) < 0) {
		rc = cmd_report(&err);
		goto out;
	}
	if (json) {
		char *s;
		strip_contents(plan);
		json_object_set_new(plan, "source", json_string(src->root));
		s = json_dumps(plan, JSON_SORT_KEYS | JSON_INDENT(2));
		puts(s);
		free(s);
	} else {
		print_human(plan, src);
	}
	rc = 0;
out:
	json_decref(plan);
	ds_source_free(src);
	strv_release(&bps);
	return rc;
}
