/* Detection and the plan: what a source tree is (Python version,
 * requirements, notebooks, model files, apps, Procfile, project config) and
 * what the buildpacks that recognise it will contribute (packages, runtime
 * files, layers, processes, ports, env).  docs/buildpacks.md describes the
 * plan; `dsbuild detect --json` prints it. */
#ifndef DSBUILD_DETECT_H
#define DSBUILD_DETECT_H

#include <stdint.h>
#include <jansson.h>
#include <dsbuild/error.h>
#include <dsbuild/source.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Files at least this large go in the model layer whatever their name. */
#define DS_MODEL_THRESHOLD_DEFAULT ((uint64_t)16 << 20)
/* Notebooks and app files larger than this are not read. */
#define DS_DETECT_FILE_MAX ((size_t)64 << 20)

/* Where the image keeps what the buildpacks generate for a project. */
#define DS_GENERATED_DIR ".dsbuild"
#define DS_LAUNCHER_PATH "/opt/dsbuild/launch"
#define DS_PROCESSES_FILE DS_GENERATED_DIR "/processes.json"
#define DS_DATA_DIR "/data"
#define DS_DEFAULT_PORT 8080

typedef struct ds_detect_opts {
	/* The base asked for and who asked ("--base", "pyproject.toml"), or
	 * NULL: chosen from the Python version, default DS_DEFAULT_BASE. */
	const char *base;
	const char *base_origin;
	const char *process;        /* --process: the default process, or NULL */
	const char *job;            /* --job: the notebook or script of `job`, or NULL */
	uint64_t model_threshold;   /* 0 = DS_MODEL_THRESHOLD_DEFAULT */
	/* Buildpack folders added after the built-in ones (--buildpack). */
	const char *const *buildpacks;
	size_t n_buildpacks;
	/* A builder file (--builder, $DSBUILD_BUILDER); NULL: the project's
	 * `builder` setting, else the built-in order. */
	const char *builder;
	/* Refuse buildpacks that run programs (CNB bin/detect, bin/build). */
	int no_exec;
	const char *no_exec_origin; /* who asked: "--no-exec-buildpacks", a builder */
} ds_detect_opts;

#define DS_DETECT_OPTS_INIT { 0 }

/* Facts about the tree, for buildpacks to decide on (see docs/buildpacks.md
 * for every key).  Reads the files it needs; a broken notebook, Procfile,
 * requirements file or project config is an error naming the file and line. */
int ds_detect_facts(json_t **out, const ds_source *src, const ds_detect_opts *opts,
		    ds_error *err);

/* Runs every buildpack's detection over src and returns the plan: the
 * group that passed, with what each contributes.  Keys: "base", "python",
 * "buildpacks" (each with "detected" and "why"), "group", "processes",
 * "default_process", "ports", "env", "packages", "files", "models",
 * "generated" (files the app layer gets, with "content"), "facts",
 * "ignored", "notes". */
int ds_plan_make(json_t **out, const ds_source *src, const ds_detect_opts *opts, ds_error *err);

/* The project config's `exclude` patterns (dsbuild.toml, else
 * pyproject.toml [tool.dsbuild]) as ignore-file lines, read before the
 * tree is scanned; *out NULL when there are none. */
int ds_project_excludes(char **out, const char *dir, ds_error *err);

/* The Python version a Debian base suite ships ("3.11.2"), or NULL. */
const char *ds_debian_suite_python(const char *base);

#ifdef __cplusplus
}
#endif
#endif
