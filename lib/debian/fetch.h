/* Downloads from a Debian mirror (libcurl): small files into memory, and
 * .debs / indexes into a content-addressed cache, in parallel, each
 * verified against the sha256 and size the archive lists for it before it
 * is kept.  http(s):// and file:// URLs. */
#ifndef DS_DEBIAN_FETCH_H
#define DS_DEBIAN_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <dsbuild/buf.h>
#include <dsbuild/digest.h>
#include <dsbuild/error.h>
#include <dsbuild/store.h>

typedef struct deb_fetcher deb_fetcher;

/* Downloads go to (and are looked up in) store, which the caller keeps
 * open.  parallel: concurrent transfers (0 = 8). */
int deb_fetcher_new(deb_fetcher **out, ds_store *store, int parallel, ds_error *err);
deb_fetcher *deb_fetcher_free(deb_fetcher *f);

/* GET url into out (at most max bytes).  A missing file is DS_ENOENT, a
 * server or network failure DS_ENET. */
int deb_fetch_buf(deb_fetcher *f, const char *url, size_t max, ds_buf *out, ds_error *err);

typedef struct deb_download {
	char *url;
	char digest[DS_DIGEST_BUFSZ];  /* expected "sha256:<hex>" */
	uint64_t size;                 /* expected size */
	char *what;                    /* for errors: "'python3' 3.11.2-1+b1" */
	char *fallback_url;            /* tried on 404 (by-hash -> plain path), or NULL */
} deb_download;

typedef void (*deb_fetch_progress_fn)(void *data, uint64_t done, uint64_t total);

/* Makes every download present in the store: those already there are
 * skipped, the others fetched concurrently and published only when their
 * digest and size match.  Fails on the first error, after stopping the
 * other transfers; what was verified before stays cached. */
int deb_fetch_all(deb_fetcher *f, const deb_download *d, size_t n, deb_fetch_progress_fn progress,
		  void *progress_data, ds_error *err);

#endif
