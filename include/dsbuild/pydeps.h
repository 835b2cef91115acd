/* Python dependencies without pip: requirements -> resolved wheels -> a
 * virtual-environment layer (docs/python.md).
 *
 *   index     PEP 503 HTML / PEP 691 JSON simple pages, find-links folders
 *             and pages, PEP 658 metadata, PEP 592 yanked files
 *   resolve   backtracking over (name, version, best wheel for the target)
 *   wheel     PEP 427 / 491 installation into a layer at DS_PYVENV_PREFIX
 *   deps      the stage: find the requirement files of a tree, resolve,
 *             download (parallel, sha256-checked, cached), write the layer
 *             through the layer cache, optionally write pylock.toml
 *
 * Nothing here prints; progress and results are events.  Credentials
 * (from URLs, .netrc, pip.conf, PIP_* variables) are used for requests
 * only: they never reach a layer, a label, a cache key or an event text. */
#ifndef DSBUILD_PYDEPS_H
#define DSBUILD_PYDEPS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <dsbuild/error.h>
#include <dsbuild/layer.h>
#include <dsbuild/python.h>
#include <dsbuild/store.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DS_PYVENV_PREFIX "/opt/venv"

/* ---- simple index pages ---------------------------------------------------- */

#define DS_PYINDEX_PAGE_MAX ((size_t)64 << 20) /* one project page */
#define DS_PYINDEX_FILES_MAX 200000	       /* files listed on one page */
#define DS_PYINDEX_URL_MAX 8192		       /* one link */

typedef struct ds_pyfile {
	char *filename;		  /* "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl" */
	char *url;		  /* absolute, fragment removed; credentials as given */
	char sha256[65];	  /* hex from the #sha256= fragment or "hashes"; "" unknown */
	char *requires_python;	  /* data-requires-python / "requires-python", or NULL */
	int yanked;		  /* PEP 592 */
	char *yanked_reason;	  /* or NULL */
	int has_metadata;	  /* PEP 658 / 714: URL + ".metadata" serves METADATA */
	char metadata_sha256[65]; /* "" unknown */
} ds_pyfile;

typedef struct ds_pyfile_list {
	size_t n;
	ds_pyfile *v;
} ds_pyfile_list;

/* Parses a simple-API project page: PEP 691 JSON when json is 1, else PEP
 * 503 HTML (anchors, <base href>, data-requires-python, data-yanked,
 * data-dist-info-metadata / data-core-metadata).  Relative links are
 * resolved against base_url.  Files are appended to out (initialise it
 * with zeros).  Bounded by DS_PYINDEX_PAGE_MAX / _FILES_MAX / _URL_MAX;
 * malformed tags are skipped as browsers do, malformed JSON is DS_EFORMAT. */
int ds_pyindex_parse(ds_pyfile_list *out, const char *data, size_t len, int json,
		     const char *base_url, ds_error *err);
void ds_pyfile_list_release(ds_pyfile_list *l);

/* Resolves a link against a base URL as a browser does ("../x.whl",
 * "/simple/x/", "//host/p", "https://..."); *out is malloc'd. */
int ds_pyurl_join(char **out, const char *base, const char *href, ds_error *err);

/* ---- the stage -------------------------------------------------------------- */

typedef enum {
	DS_PYDEPS_EV_INFO = 1, /* text: a step ("reading index http://127.0.0.1:8000/simple") */
	DS_PYDEPS_EV_RESOLVED, /* text: "name==version (filename)"; one per package */
	DS_PYDEPS_EV_DOWNLOAD, /* done/total bytes */
	DS_PYDEPS_EV_WARNING,  /* text */
} ds_pydeps_event_type;

typedef struct ds_pydeps_event {
	ds_pydeps_event_type type;
	const char *text;
	uint64_t done, total;
} ds_pydeps_event;

typedef void (*ds_pydeps_event_fn)(void *data, const ds_pydeps_event *ev);

typedef struct ds_pydeps_opts {
	const char *source_dir; /* the tree holding requirements.txt / pyproject.toml */
	/* The target interpreter: from the base image. */
	const char *python_version;	 /* "3.11" (required) */
	const char *python_full_version; /* "3.11.2" or NULL */
	const char *python;		 /* "/usr/bin/python3.11" (required) */
	const char *platform;		 /* OCI platform; NULL = linux/amd64 */
	const char *glibc;		 /* "2.36"; NULL = "2.17" */
	/* Index configuration; each overrides pip.conf / PIP_* / the files'. */
	const char *index_url; /* NULL = from the files, PIP_INDEX_URL, pip.conf */
	const char *const *extra_index_urls;
	size_t n_extra_index_urls;
	const char *const *find_links;
	size_t n_find_links;
	int no_index;
	int pre;
	/* A builder's index: used unless the files or the flags name one
	 * (over pip.conf and PIP_INDEX_URL). */
	/* Requirements added to the project's (a buildpack's), one PEP 508
	 * string each, with where they come from ("buildpack acme/telemetry"). */
	const char *const *extra_requirements;
	const char *const *extra_origins;
	size_t n_extra_requirements;
	const char *default_index_url;
	const char *const *default_extra_index_urls;
	size_t n_default_extra_index_urls;
	const char *const *groups; /* pyproject optional-dependency groups */
	size_t n_groups;
	const char *lock_out; /* write a pylock.toml here (NULL: don't) */
	int64_t mtime;	      /* every entry's mtime */
	int no_cache;	      /* rebuild the layer even if cached */
	int parallel;	      /* concurrent downloads; 0 = 8 */
	ds_layer_opts layer;
	ds_pydeps_event_fn on_event;
	void *event_data;
} ds_pydeps_opts;

#define DS_PYDEPS_OPTS_INIT                                                                        \
	{                                                                                          \
		.mtime = 0, .layer = DS_LAYER_OPTS_INIT                                            \
	}

typedef struct ds_pydeps_result {
	char *source; /* "requirements.txt", "pyproject.toml" or "pylock.toml" */
	ds_layer_info layer;
	char *created_by; /* history text */
	int cached;	  /* the layer came from the layer cache */
	/* [{"name","version","filename","sha256","requested"}...] sorted by
	 * name, for the metadata label and --json.  No URLs (no credentials). */
	json_t *packages;
	size_t n_env;
	char **env; /* "VIRTUAL_ENV=/opt/venv"; PATH is the caller's */
} ds_pydeps_result;

/* The requirement file of a tree, by priority: pylock.toml, then
 * requirements.txt, then pyproject.toml with [project].dependencies.
 * *out = its name relative to dir (static string) or NULL when none. */
int ds_pydeps_detect(const char **out, const char *dir, ds_error *err);

/* Resolves, downloads and installs into a venv layer in store.  Errors:
 * DS_EINVAL (bad requirement, no version satisfies, conflicts; the message
 * names the file and line), DS_ENOENT (unknown project), DS_EUNSUPPORTED
 * (a requirement with no usable wheel), DS_ENET, DS_EAUTH, DS_EFORMAT (hash
 * mismatch, bad wheel). */
int ds_pydeps_build(ds_pydeps_result **out, const ds_pydeps_opts *opts, ds_store *store,
		    ds_error *err);
ds_pydeps_result *ds_pydeps_result_free(ds_pydeps_result *r);

#ifdef __cplusplus
}
#endif
#endif
