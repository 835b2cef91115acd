/* The orchestrator: source tree + base + settings -> an image in the
 * blob store.  Writing it out is ds_image_write()'s job. */
#ifndef DSBUILD_BUILD_H
#define DSBUILD_BUILD_H

#include <stdint.h>
#include <dsbuild/error.h>
#include <dsbuild/image.h>
#include <dsbuild/registry.h>
#include <dsbuild/source.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DS_APP_DIR "/workspace"
#define DS_APP_UID 1000
#define DS_APP_GID 1000
/* The config label holding dsbuild's build metadata, one JSON document. */
#define DS_METADATA_LABEL "io.dsbuild.metadata"
/* The base when none is named: a Python runtime from Debian's archive. */
#define DS_DEFAULT_BASE "debian:bookworm"

typedef enum {
	DS_EVENT_SOURCE = 1,   /* tree scanned: source filled */
	DS_EVENT_SKIPPED,      /* a path left out: skip filled */
	DS_EVENT_BASE,         /* base opened: text = base name */
	DS_EVENT_LAYER_START,  /* text = what the layer holds, total = bytes */
	DS_EVENT_LAYER_PROGRESS, /* done/total bytes */
	DS_EVENT_LAYER_DONE,   /* layer filled */
	DS_EVENT_WARNING,      /* text: something the user should know */
	DS_EVENT_INFO,         /* text: a step worth a log line (index read, packages resolved) */
} ds_event_type;

typedef struct ds_event {
	ds_event_type type;
	const char *text;
	uint64_t done, total;
	const ds_source *source;
	const ds_source_skip *skip;
	const ds_layer_desc *layer;
	int cached;  /* LAYER_DONE: reused from the layer cache */
} ds_event;

typedef void (*ds_event_fn)(void *data, const ds_event *ev);

typedef struct ds_strv {
	const char **v;
	size_t n;
} ds_strv;

typedef struct ds_build_opts {
	const char *source_dir;
	const char *base;           /* "scratch", "debian:SUITE", "oci:DIR[:TAG]", archives;
				       NULL = DS_DEFAULT_BASE */
	const char *platform;       /* NULL = host */
	const char *cache_dir;      /* NULL = ds_store_default_path() */
	ds_strv exclude_dirs;       /* absolute paths kept out of the walk */
	ds_strv env;                /* "K=V" */
	ds_strv entrypoint;         /* set when entrypoint_set */
	int entrypoint_set;
	ds_strv cmd;                /* set when cmd_set */
	int cmd_set;
	const char *workdir;        /* NULL = /workspace */
	const char *user;           /* NULL = base's */
	ds_strv ports;              /* "8080", "53/udp" */
	ds_strv labels;             /* "K=V" */
	ds_strv annotations;        /* "K=V" */
	int gzip_level;
	int threads;
	int no_cache;               /* rebuild every layer even if the cache has it */
	ds_strv apt;                /* --apt packages (Debian bases), added to apt.txt's */
	const char *debian_mirror;  /* NULL = $DSBUILD_DEBIAN_MIRROR or deb.debian.org */
	int allow_unverified;       /* Debian: skip the InRelease signature check */
	const ds_registry_opts *registry; /* for --base docker://; NULL = defaults */
	/* Python dependencies (docs/python.md): requirements.txt / pyproject.toml /
	 * pylock.toml in the tree become a venv layer at /opt/venv. */
	const char *py_index_url;   /* NULL = the files', PIP_INDEX_URL, pip.conf, PyPI */
	ds_strv py_extra_index_urls;
	ds_strv py_find_links;
	int py_no_index;
	int py_pre;
	ds_strv py_groups;          /* pyproject optional-dependency groups */
	const char *py_lock;        /* write a pylock.toml here; NULL = don't */
	/* Buildpacks (docs/buildpacks.md). */
	const char *process;        /* the default process; NULL = detected */
	const char *job;            /* the notebook or script of the job process */
	ds_strv buildpacks;         /* extra buildpack folders, after the built-in ones */
	int no_exec_buildpacks;     /* refuse buildpacks that run programs (CNB) */
	const char *builder;        /* a builder file; NULL: $DSBUILD_BUILDER is the caller's */
	const char *py_default_index_url; /* set from the builder; under the files' and flags' */
	ds_strv py_default_extra_index_urls;
	ds_event_fn on_event;
	void *event_data;
} ds_build_opts;

#define DS_BUILD_OPTS_INIT { .gzip_level = DS_GZIP_LEVEL_DEFAULT, .threads = 2 }

typedef struct ds_build_result {
	ds_image *image;            /* owned */
	ds_source *source;          /* owned */
	int64_t epoch;
	ds_epoch_origin epoch_origin;
	/* The resolved Python packages ([{"name","version","filename","sha256",
	 * "requested"}]) or NULL when the tree has no Python requirements. */
	json_t *python;
	int python_cached;          /* the dependency layer came from the cache */
	json_t *plan;               /* what detection decided (ds_plan_make()) */
} ds_build_result;

int ds_build(ds_build_result *out, const ds_build_opts *opts, ds_error *err);
void ds_build_result_release(ds_build_result *r);

const char *ds_version(void);

#ifdef __cplusplus
}
#endif
#endif
