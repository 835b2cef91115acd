/* The parts of the Cloud Native Buildpacks runner (lib/buildpack/cnb.c) that
 * read and write buildpack files, apart from running them, so they can be
 * tested alone.  docs/internals/cnb.md describes the whole runner. */
#ifndef DS_BUILDPACK_CNB_H
#define DS_BUILDPACK_CNB_H

#include <stddef.h>

#include <jansson.h>

#include <dsbuild/buf.h>
#include <dsbuild/error.h>

/* Bounds on what a buildpack controls. */
#define CNB_TOML_MAX ((size_t)1 << 20)	     /* build plan, <layer>.toml, launch.toml ... */
#define CNB_ENV_FILE_MAX ((size_t)256 << 10) /* one file of env/, env.build/, env.launch/ */
#define CNB_ENV_FILES_MAX 1024		     /* files in one env folder */
#define CNB_ENV_TOTAL_MAX ((size_t)1 << 20)  /* the environment a buildpack is given */
#define CNB_LAYERS_MAX 128		     /* <layer>.toml files of one buildpack */
#define CNB_LAUNCH_LAYERS_MAX 100	     /* image layers of all CNB buildpacks */
#define CNB_ENTRIES_MAX 256	    /* provides, requires, plan entries, processes, labels, args */
#define CNB_OR_MAX 32		    /* [[or]] alternatives of one build plan */
#define CNB_TRIALS_MAX 4096	    /* combinations of alternatives tried */
#define CNB_GROUP_MAX 64	    /* CNB buildpacks in one build */
#define CNB_LAYER_FILES_MAX 1000000 /* entries in one layer folder */
#define CNB_DEPTH_MAX 256	    /* folder nesting in one layer */
#define CNB_PATH_MAX 4096	    /* a path or link target in a layer */

/* The Buildpack API versions run: 0.CNB_API_MIN to 0.CNB_API_MAX. */
#define CNB_API_MIN 7
#define CNB_API_MAX 12

/* Stands for the image's own value of PATH / LD_LIBRARY_PATH while the launch
 * environment is composed: what ends up before it is what to prepend. */
#define CNB_BASE_MARK "\001base\001"

/* Path rewriting for what goes into the image: the layers folder the build
 * used becomes /layers, the app folder /workspace.  Members may be NULL. */
typedef struct bp_cnb_rewrite {
	const char *layers_root;
	const char *app_root;
} bp_cnb_rewrite;

/* A new string: s with each occurrence of rw's folders (as whole path
 * prefixes: followed by '/', ':' or the end) replaced. */
char *bp_cnb_rewrite_path(const bp_cnb_rewrite *rw, const char *s);

/* The Buildpack API minor version of "0.N" ("0.10" -> 10), or -1. */
int bp_cnb_api_minor(const char *api);

/* Parses a build plan written by bin/detect (name is used in messages) into
 * its alternatives, in the order the spec tries them: the top-level pair,
 * then each [[or]].  *out = [{"provides": [{"name"}], "requires": [{"name",
 * "metadata"}]}, ...]; an empty plan gives one empty alternative. */
int bp_cnb_plan_parse(json_t **out, const char *text, size_t len, const char *name, ds_error *err);

/* Resolves the build plans of a group, as the spec's detection does.  cands
 * is an array in group order of {"options": (from bp_cnb_plan_parse),
 * "optional": bool, ...}.  A trial picks one alternative per buildpack (left
 * to right, depth first); in it a require must be provided by the same or an
 * earlier buildpack and, when final, a provide required by the same or a
 * later one.  An optional buildpack that fails is left out; a required one
 * makes the trial invalid.  The first valid trial leaving out the fewest
 * wins (*valid = 0 when none is valid: the first trial is reported).  Each
 * candidate gets "option" (the alternative used, or -1 when left out),
 * "reason" (why it was left out), "problem" (why a required one fails) and
 * "entries" ([{"name", "metadata"}]: the requires of what it provides, its
 * Buildpack Plan).  Not final: the group may go on, and a provide may still
 * find its require. */
int bp_cnb_resolve(json_t *cands, int final, int *valid, ds_error *err);

/* Writes doc (an object from ds_toml_parse or of the same kinds) as a TOML
 * document: plain keys first, then [tables] and [[arrays of tables]]. */
int bp_cnb_toml_write(ds_buf *out, const json_t *doc, ds_error *err);

/* Reads a <layer>.toml: types[0..2] = launch, build, cache (0 when unset),
 * *metadata = its [metadata] table (new reference) or NULL. */
int bp_cnb_layer_parse(int types[3], json_t **metadata, const char *text, size_t len,
		       const char *name, ds_error *err);

/* Reads launch.toml of a buildpack of Buildpack API 0.minor.  *procs =
 * [{"type", "command" (argv array, or a string for a shell process of API <
 * 0.9), "default", "workdir" (when given)}]; *labels = {"key": "value"}. */
int bp_cnb_launch_parse(json_t **procs, json_t **labels, const char *text, size_t len, int minor,
			const char *name, ds_error *err);

/* Applies the files of an env folder (<layer>/env, env.build, env.launch or
 * env.launch/<process>) to env, an object NAME -> value, by the Buildpack
 * API's rules: NAME and NAME.override set, NAME.default sets when unset or
 * empty, NAME.prepend / NAME.append join with the contents of NAME.delim
 * (none when absent).  Contents are used verbatim (rw, when given, rewrites
 * paths); subfolders, links and unknown suffixes are ignored; a missing
 * folder changes nothing.  what names the folder in messages. */
int bp_cnb_env_apply(json_t *env, const char *dir, const char *what, const bp_cnb_rewrite *rw,
		     ds_error *err);

#endif
