/* The layer writer: entries -> pax tar (libarchive) -> SHA-256 (diff_id)
 * -> gzip (zlib, no timestamp, pinned level) -> SHA-256 (digest) -> blob
 * store, in one streaming pass with bounded memory.
 *
 * The caller decides the order and normalisation of entries (sorted,
 * parents first, no duplicates); the writer records exactly what it is
 * given, with no user/group names, no xattrs and no atime/ctime. */
#ifndef DSBUILD_LAYER_H
#define DSBUILD_LAYER_H

#include <stdint.h>
#include <dsbuild/digest.h>
#include <dsbuild/error.h>
#include <dsbuild/store.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DS_MEDIA_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define DS_MEDIA_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"

/* The gzip level every layer is written with (see docs/internals.md). */
#define DS_GZIP_LEVEL_DEFAULT 6

typedef enum {
	DS_ENTRY_FILE = 1,
	DS_ENTRY_DIR,
	DS_ENTRY_SYMLINK,
	DS_ENTRY_HARDLINK,
} ds_entry_type;

typedef struct ds_layer_entry {
	const char *path;  /* in-layer path without leading '/': "workspace/a.py" */
	ds_entry_type type;
	uint32_t mode;     /* permission bits only, e.g. 0644 */
	uint32_t uid, gid;
	uint64_t size;     /* DS_ENTRY_FILE: exactly this many data bytes follow */
	const char *link;  /* SYMLINK: target as stored; HARDLINK: in-layer path */
	int64_t mtime;     /* seconds; entries of one layer normally share one */
} ds_layer_entry;

/* Called with bytes of input consumed so far; may be NULL. */
typedef void (*ds_progress_fn)(void *data, uint64_t done);

typedef struct ds_layer_opts {
	int gzip_level;    /* 0-9 */
	int threads;       /* compression threads; the output does not depend on it */
	ds_progress_fn progress;
	void *progress_data;
} ds_layer_opts;

#define DS_LAYER_OPTS_INIT { DS_GZIP_LEVEL_DEFAULT, 2, NULL, NULL }

typedef struct ds_layer_info {
	char digest[DS_DIGEST_BUFSZ];  /* of the compressed blob */
	char diff_id[DS_DIGEST_BUFSZ]; /* of the uncompressed tar */
	uint64_t size;                 /* compressed size */
	uint64_t tar_size;             /* uncompressed size */
} ds_layer_info;

typedef struct ds_layer_writer ds_layer_writer;

int ds_layer_writer_new(ds_layer_writer **out, ds_store *store, const ds_layer_opts *opts,
			ds_error *err);
/* Writes an entry's header.  A DS_ENTRY_FILE must be followed by exactly
 * e->size bytes through ds_layer_writer_data(). */
int ds_layer_writer_add(ds_layer_writer *w, const ds_layer_entry *e, ds_error *err);
int ds_layer_writer_data(ds_layer_writer *w, const void *data, size_t len, ds_error *err);
/* Header plus e->size bytes read from fd; fails if the file is shorter or
 * longer than announced (it changed under us). */
int ds_layer_writer_add_fd(ds_layer_writer *w, const ds_layer_entry *e, int fd, ds_error *err);
/* Ends the tar, publishes the blob and fills info.  Frees w either way. */
int ds_layer_writer_finish(ds_layer_writer *w, ds_layer_info *info, ds_error *err);
/* Discards an unfinished layer.  NULL-safe; returns NULL. */
ds_layer_writer *ds_layer_writer_free(ds_layer_writer *w);

/* The layer cache maps a key — a string naming everything that determines a
 * layer's bytes (inputs' hashes, format version, gzip level, ...) — to a
 * finished layer in the store, so a rebuild with the same inputs reuses the
 * compressed blob: no tar, no compression.  Entries live in
 * STORE/layers/<sha256 of key>.json; an entry whose blob is gone is a miss.
 * Keys must not contain credentials. */

/* 1 and *out filled on a hit, 0 on a miss (or an unreadable entry). */
int ds_layer_cache_get(ds_store *store, const char *key, ds_layer_info *out);
int ds_layer_cache_put(ds_store *store, const char *key, const ds_layer_info *info,
		       ds_error *err);

#ifdef __cplusplus
}
#endif
#endif
