/* A content-addressed blob store: ROOT/blobs/sha256/<hex>, the same shape
 * as an OCI image layout, so a layout directory is also a store.  Blobs are
 * written to ROOT/tmp/ and renamed into place once their digest is known:
 * a reader never sees a partial blob. */
#ifndef DSBUILD_STORE_H
#define DSBUILD_STORE_H

#include <stdint.h>
#include <dsbuild/buf.h>
#include <dsbuild/digest.h>
#include <dsbuild/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ds_store ds_store;
typedef struct ds_blob_writer ds_blob_writer;

/* Opens (creating when create is set) a store rooted at root. */
int ds_store_open(ds_store **out, const char *root, int create, ds_error *err);
ds_store *ds_store_free(ds_store *s);
/* Borrowed; valid until ds_store_free(). */
const char *ds_store_root(const ds_store *s);

/* The default cache store: $DSBUILD_CACHE, else $XDG_CACHE_HOME/dsbuild,
 * else ~/.cache/dsbuild.  Writes the path into out. */
int ds_store_default_path(ds_buf *out, ds_error *err);

/* 1 if the blob is present, 0 if not. Does not verify its content. */
int ds_store_has(const ds_store *s, const char *digest);
/* Writes ROOT/blobs/sha256/<hex> into out. */
int ds_store_blob_path(const ds_store *s, const char *digest, ds_buf *out, ds_error *err);
/* Opens a blob for reading; *size_out gets its size. */
int ds_store_open_blob(const ds_store *s, const char *digest, int *fd_out, uint64_t *size_out,
		       ds_error *err);
/* Reads a whole blob of at most max bytes into out, verifying its digest. */
int ds_store_read_blob(const ds_store *s, const char *digest, size_t max, ds_buf *out,
		       ds_error *err);
/* Re-hashes a blob and fails with DS_EFORMAT if it does not match its name
 * or expected_size (pass UINT64_MAX to skip the size check). */
int ds_store_verify_blob(const ds_store *s, const char *digest, uint64_t expected_size,
			 ds_error *err);
/* Stores a buffer; digest_out gets its digest. */
int ds_store_put(ds_store *s, const void *data, size_t len, char digest_out[DS_DIGEST_BUFSZ],
		 ds_error *err);
/* Copies a blob from src into dst (a no-op when dst has it), verifying the
 * digest of what is copied. */
int ds_store_copy_blob(ds_store *dst, const ds_store *src, const char *digest, ds_error *err);

/* Streaming writer: bytes go to a temp file and are hashed as they come. */
int ds_blob_writer_new(ds_blob_writer **out, ds_store *s, ds_error *err);
int ds_blob_writer_write(ds_blob_writer *w, const void *data, size_t len, ds_error *err);
/* Publishes the blob under its digest and frees w.  If expect is not NULL
 * and differs from the computed digest, nothing is published and the call
 * fails with DS_EFORMAT.  digest_out and size_out may be NULL. */
int ds_blob_writer_commit(ds_blob_writer *w, const char *expect, char digest_out[DS_DIGEST_BUFSZ],
			  uint64_t *size_out, ds_error *err);
/* Discards the temp file and frees w.  NULL-safe. */
void ds_blob_writer_abort(ds_blob_writer *w);

#ifdef __cplusplus
}
#endif
#endif
