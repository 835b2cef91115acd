/* Internal interfaces between the index client, the resolver, the wheel
 * installer and the dependency stage (lib/python/{index,resolve,wheel,venv,deps}.c). */
#ifndef DS_PYTHON_PYDEPS_INT_H
#define DS_PYTHON_PYDEPS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <dsbuild/buf.h>
#include <dsbuild/layer.h>
#include <dsbuild/pydeps.h>
#include <dsbuild/python.h>
#include <dsbuild/store.h>

#define PY_METADATA_MAX ((size_t)4 << 20) /* one METADATA file */
#define PY_WHEEL_ENTRIES_MAX 200000	  /* files in one wheel */
#define PY_WHEEL_SIZE_MAX ((uint64_t)8 << 30)

/* ---- index.c -------------------------------------------------------------- */

typedef struct pyindex pyindex;

typedef struct pyindex_opts {
	const char *index_url;	  /* NULL: no main index */
	const char *const *extra; /* extra index URLs */
	size_t n_extra;
	const char *const *find_links; /* folders (relative to root), file: or http pages */
	size_t n_find_links;
	const char *root; /* base of relative find-links */
	int parallel;
} pyindex_opts;

int pyindex_new(pyindex **out, const pyindex_opts *o, ds_error *err);
pyindex *pyindex_free(pyindex *ix);
/* Every file offered for project key (PEP 503 name) by every index and
 * find-links location, cached per key.  An empty list when nobody has it. */
int pyindex_project(const ds_pyfile_list **out, pyindex *ix, const char *key, ds_error *err);
/* GET url (with the credentials of its index) into out. */
int pyindex_get(pyindex *ix, const char *url, size_t max, ds_buf *out, ds_error *err);
/* Makes every file present in store; digests[i] = "sha256:<hex>" after.
 * Known sha256 are checked before a file is kept; files already in the
 * store are not downloaded. */
typedef void (*pyindex_progress_fn)(void *data, uint64_t done, uint64_t total);
int pyindex_download(pyindex *ix, const ds_pyfile *const *files, size_t n, ds_store *store,
		     char (*digests)[DS_DIGEST_BUFSZ], pyindex_progress_fn progress, void *pdata,
		     ds_error *err);

/* ---- metadata (resolve.c) ------------------------------------------------- */

typedef struct pymeta {
	char *name;
	char *version;
	char *requires_python;
	size_t n_requires;
	char **requires; /* Requires-Dist values */
} pymeta;

int pymeta_parse(pymeta *out, const char *data, size_t len, const char *what, ds_error *err);
void pymeta_release(pymeta *m);

/* ---- resolve.c ------------------------------------------------------------ */

typedef struct pyroot {
	ds_pyreq *req;	    /* borrowed */
	const char *origin; /* "requirements.txt line 3" */
	size_t n_hashes;    /* allowed "sha256:<hex>" (hash-checking mode) */
	char *const *hashes;
	const ds_pyfile *direct; /* a direct wheel (URL or path), or NULL */
} pyroot;

typedef struct pypick {
	char *key;
	char *name;
	char version[DS_PYVER_STRING_MAX];
	const ds_pyfile *file; /* borrowed from the index */
	size_t n_extras;
	char **extras;
	int requested; /* a top-level requirement */
} pypick;

typedef struct pyresolve_opts {
	const ds_pyenv *env;
	const ds_pytags *tags;
	int pre;
	int hash_checking;
	size_t n_constraints;
	const pyroot *constraints;
	ds_store *store; /* wheels downloaded for their metadata */
} pyresolve_opts;

/* Picks one version of every project the roots need.  *out sorted by key. */
int pyresolve(pypick **out, size_t *n_out, pyindex *ix, const pyroot *roots, size_t n_roots,
	      const pyresolve_opts *o, ds_error *err);
void pypicks_free(pypick *p, size_t n);

/* ---- wheel.c / venv.c ----------------------------------------------------- */

typedef struct pyinstall {
	const char *python_version; /* "3.11" */
	const char *python;	    /* "/usr/bin/python3.11" */
	const char *stage;	    /* scratch folder for the unpacked tree */
	int64_t mtime;
} pyinstall;

/* Unpacks the wheel file at path into stage/opt/venv (RECORD verified,
 * .data mapped, scripts generated, INSTALLER, REQUESTED, RECORD rewritten). */
int pywheel_install(const pyinstall *in, const char *path, const char *filename, int requested,
		    ds_error *err);
/* Writes the venv skeleton (pyvenv.cfg, bin/python links) into stage. */
int pyvenv_create(const pyinstall *in, ds_error *err);
/* Writes the tree under stage into w, sorted, parents first, uid/gid 0. */
int pyvenv_write_layer(const pyinstall *in, ds_layer_writer *w, ds_error *err);

#endif
