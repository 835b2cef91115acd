/* The source stage: walk a tree, apply ignore rules, keep likely secrets
 * out, and list what goes into the app layer in a stable order. */
#ifndef DSBUILD_SOURCE_H
#define DSBUILD_SOURCE_H

#include <stdint.h>
#include <dsbuild/error.h>
#include <dsbuild/layer.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DS_SOURCE_MAX_FILES 1000000
#define DS_SOURCE_MAX_PATH 4096

typedef struct ds_source_file {
	char *path;          /* relative, '/'-separated, no leading "./" */
	ds_entry_type type;  /* FILE, DIR, SYMLINK or HARDLINK */
	uint32_t mode;       /* normalised: 0755 or 0644 (dirs 0755, links 0777) */
	uint64_t size;
	char *link;          /* symlink target, or hardlink's first path */
} ds_source_file;

typedef enum {
	DS_SKIP_IGNORED = 1,  /* matched an ignore rule */
	DS_SKIP_ALWAYS,       /* .git, __pycache__, virtualenvs, the output dir */
	DS_SKIP_SECRET,       /* looks like a secret; warn */
} ds_skip_reason;

typedef struct ds_source_skip {
	char *path;
	ds_skip_reason reason;
	const char *why;      /* static text: "a virtual environment", "a private key" */
} ds_source_skip;

typedef struct ds_source {
	char *root;              /* absolute path of the tree */
	char *ignore_file;       /* ".dsbuildignore", ".dockerignore" or NULL */
	ds_source_file *files;   /* sorted bytewise by path */
	size_t n_files;
	ds_source_skip *skipped; /* top-most skipped paths, sorted */
	size_t n_skipped;
	uint64_t total_bytes;
} ds_source;

typedef struct ds_source_opts {
	const char **exclude_dirs; /* absolute paths (folders or files) never walked: outputs */
	size_t n_exclude_dirs;
	/* More ignore rules, one per line, after the ignore file's (the
	 * project config's `exclude`); named in messages as extra_name. */
	const char *extra_ignore;
	const char *extra_name;
} ds_source_opts;

#define DS_SOURCE_OPTS_INIT { NULL, 0, NULL, NULL }

int ds_source_scan(ds_source **out, const char *dir, const ds_source_opts *opts, ds_error *err);
ds_source *ds_source_free(ds_source *src);

/* Writes the tree under prefix ("workspace") into a layer, parents first,
 * owned by uid/gid, every mtime = mtime. */
int ds_source_write_layer(const ds_source *src, ds_layer_writer *w, const char *prefix,
			  uint32_t uid, uint32_t gid, int64_t mtime, ds_error *err);

/* An entry that is not in the tree (a generated file), written by
 * ds_source_write_layer_with() in its sorted place. */
typedef struct ds_source_extra {
	const char *path;     /* relative, like ds_source_file's; not in src */
	ds_entry_type type;   /* FILE or DIR */
	uint32_t mode;
	const void *data;     /* FILE: len bytes */
	size_t len;
} ds_source_extra;

/* ds_source_write_layer() plus extra entries, which must be sorted
 * bytewise by path with parents before children. */
int ds_source_write_layer_with(const ds_source *src, const ds_source_extra *extra,
			       size_t n_extra, ds_layer_writer *w, const char *prefix,
			       uint32_t uid, uint32_t gid, int64_t mtime, ds_error *err);

/* A digest of everything the app layer is made of: each entry's path, type,
 * mode, link target and content (SHA-256 of its bytes).  Reads every file. */
int ds_source_hash(const ds_source *src, char out[DS_DIGEST_BUFSZ], ds_error *err);

typedef enum {
	DS_EPOCH_ENV = 1,     /* SOURCE_DATE_EPOCH */
	DS_EPOCH_GIT,         /* last commit time of the tree */
	DS_EPOCH_FIXED,       /* 0: 1970-01-01T00:00:00Z */
} ds_epoch_origin;

/* The build's timestamp: SOURCE_DATE_EPOCH, else the last git commit that
 * touched dir, else 0.  A malformed SOURCE_DATE_EPOCH is an error. */
int ds_source_epoch(const char *dir, int64_t *epoch, ds_epoch_origin *origin, ds_error *err);

/* The tree's git commit (HEAD) and origin URL without credentials; NULLs
 * when dir is not in a git work tree.  Free both. */
void ds_source_git_info(const char *dir, char **revision, char **remote);

#ifdef __cplusplus
}
#endif
#endif
