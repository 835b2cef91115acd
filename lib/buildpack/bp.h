/* Buildpacks inside libdsbuild: descriptors, detection handlers, the plan. */
#ifndef DS_BUILDPACK_BP_H
#define DS_BUILDPACK_BP_H

#include <jansson.h>
#include <dsbuild/detect.h>
#include <dsbuild/error.h>
#include <dsbuild/layer.h>
#include <dsbuild/source.h>

typedef struct bp {
	char *id, *version, *name;
	char *file;    /* the descriptor as named in messages */
	char *dir;     /* its folder on disk; NULL for a built-in */
	char *embed;   /* a built-in's folder in the embedded tree: "python" */
	char *handler; /* built-in detection/build code, or NULL (declarative) */
	json_t *desc;  /* the parsed buildpack.toml */
	int builtin;
	int cnb;       /* a Cloud Native Buildpack: bin/detect and bin/build */
} bp;

typedef struct bp_ctx {
	const ds_source *src;
	json_t *facts;
	json_t *plan;
	const ds_detect_opts *opts;
	const bp *bp;
	json_t *why; /* strings: why it passed or not */
} bp_ctx;

typedef int (*bp_detect_fn)(bp_ctx *c, int *pass, ds_error *err);

/* The built-in code a descriptor's `handler` names, or NULL. */
bp_detect_fn bp_handler(const char *name);

int bp_load_builtin(bp **out, const char *name, ds_error *err);
int bp_load_dir(bp **out, const char *dir, ds_error *err);
void bp_free(bp *b);
/* A built-in buildpack file's bytes, e.g. of predict/server.py, or NULL. */
const unsigned char *bp_embedded(const char *path, size_t *len, unsigned *mode);

/* Plan helpers used by handlers. */
void plan_why(bp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void plan_note(json_t *plan, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds or replaces process `type`; command is a JSON array or string (stolen). */
void plan_process(bp_ctx *c, const char *type, json_t *command, int port, const char *from);
void plan_generated(json_t *plan, const char *path, const char *content);
void plan_env(json_t *plan, const char *name, const char *value);
int plan_has_requirement(const json_t *facts, const char *name);
int plan_files(bp_ctx *c, ds_error *err);

/* ---- Cloud Native Buildpacks (lib/buildpack/cnb.c) ------------------------------
 * bp_cnb_detect is the detection handler of a buildpack with bin/detect: it
 * runs bin/detect (CNB Buildpack API 0.10) and, when it passes, appends to
 * plan["cnb"] {"id", "version", "dir", "api", "provides", "requires",
 * "entries"} for bp_cnb_build. */
int bp_cnb_detect(bp_ctx *c, int *pass, ds_error *err);

typedef struct bp_cnb_result {
	size_t n_layers;
	ds_layer_info *layers; /* launch layers, written to the store, image order */
	char **created_by;     /* history text per layer: "cnb acme/hello: layer greeting" */
	json_t *env;	       /* launch env {"NAME": "final value"} (PATH composed) */
	json_t *processes;     /* [{"type", "command": [argv...], "default": bool, "buildpack"}] */
	json_t *labels;	       /* {"key": "value"} from launch.toml */
} bp_cnb_result;

/* Runs bin/build of every CNB buildpack in plan["cnb"], in order, with
 * the app at src->root; launch layers become image layers (at
 * /layers/<id>/<name>), cache layers are kept under cache_dir for the next
 * build, build layers feed later buildpacks. */
int bp_cnb_build(bp_cnb_result **out, const json_t *plan, const ds_source *src, ds_store *store,
		 const ds_layer_opts *lo, const char *cache_dir, ds_error *err);
void bp_cnb_result_free(bp_cnb_result *r);

/* Recomputes the default process, ports and env after processes changed. */
int plan_finish(json_t *plan, const ds_detect_opts *o, ds_error *err);

/* Fills framework and object (to free) when text builds a web app. */
int ds_app_scan(const char *text, const char **framework, char **object);

#endif
