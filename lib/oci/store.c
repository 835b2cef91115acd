#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <dsbuild/store.h>

#include "util/util.h"

struct ds_store {
	char *root;
};

struct ds_blob_writer {
	ds_store *store;
	char *tmp;
	int fd;
	ds_sha256 h;
	uint64_t size;
};

int ds_store_open(ds_store **out, const char *root, int create, ds_error *err)
{
	_cleanup_free_ char *blobs = ds_xasprintf("%s/blobs/sha256", root);
	ds_store *s;

	if (create) {
		_cleanup_free_ char *tmp = ds_xasprintf("%s/tmp", root);
		if (ds_mkdir_p(blobs, 0755, err) < 0 || ds_mkdir_p(tmp, 0755, err) < 0)
			return -1;
	} else {
		struct stat st;
		if (stat(blobs, &st) < 0 || !S_ISDIR(st.st_mode))
			return ds_error_set(err, DS_ENOENT, "'%s' has no blobs/sha256 directory", root);
	}
	s = ds_xcalloc(1, sizeof(*s));
	s->root = ds_xstrdup(root);
	*out = s;
	return 0;
}

ds_store *ds_store_free(ds_store *s)
{
	if (s) {
		free(s->root);
		free(s);
	}
	return NULL;
}

const char *ds_store_root(const ds_store *s)
{
	return s->root;
}

int ds_store_default_path(ds_buf *out, ds_error *err)
{
	const char *v = getenv("DSBUILD_CACHE");

	if (v && *v)
		return ds_buf_adds(out, v) < 0 ? ds_error_set(err, DS_ENOMEM, "path too long") : 0;
	v = getenv("XDG_CACHE_HOME");
	if (v && *v)
		return ds_buf_addf(out, "%s/dsbuild", v) < 0 ?
			       ds_error_set(err, DS_ENOMEM, "path too long") :
			       0;
	v = getenv("HOME");
	if (!v || !*v) {
		ds_error_set(err, DS_EINVAL, "cannot find a cache directory: HOME is not set");
		return ds_error_hint(err, "set DSBUILD_CACHE or pass --cache-dir");
	}
	return ds_buf_addf(out, "%s/.cache/dsbuild", v) < 0 ?
		       ds_error_set(err, DS_ENOMEM, "path too long") :
		       0;
}

static char *blob_path(const ds_store *s, const char *digest)
{
	return ds_xasprintf("%s/blobs/sha256/%s", s->root, ds_digest_hex(digest));
}

int ds_store_has(const ds_store *s, const char *digest)
{
	_cleanup_free_ char *p = NULL;
	struct stat st;

	if (!ds_digest_valid(digest))
		return 0;
	p = blob_path(s, digest);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int ds_store_blob_path(const ds_store *s, const char *digest, ds_buf *out, ds_error *err)
{
	_cleanup_free_ char *p = NULL;

	if (!ds_digest_valid(digest))
		return ds_error_set(err, DS_EFORMAT, "'%s' is not a sha256 digest", digest);
	p = blob_path(s, digest);
	if (ds_buf_adds(out, p) < 0)
		return ds_error_set(err, DS_ENOMEM, "path too long");
	return 0;
}

int ds_store_open_blob(const ds_store *s, const char *digest, int *fd_out, uint64_t *size_out,
		       ds_error *err)
{
	_cleanup_free_ char *p = NULL;
	struct stat st;
	int fd;

	if (!ds_digest_valid(digest))
		return ds_error_set(err, DS_EFORMAT, "'%s' is not a sha256 digest", digest);
	p = blob_path(s, digest);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return ds_error_set(err, DS_ENOENT, "blob %s is missing from '%s'", digest,
					    s->root);
		return ds_error_set_errno(err, errno, "cannot open blob '%s'", p);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ds_error_set(err, DS_EFORMAT, "blob '%s' is not a regular file", p);
	}
	*fd_out = fd;
	if (size_out)
		*size_out = (uint64_t)st.st_size;
	return 0;
}

int ds_store_read_blob(const ds_store *s, const char *digest, size_t max, ds_buf *out,
		       ds_error *err)
{
	_cleanup_close_ int fd = -1;
	char got[DS_DIGEST_BUFSZ];
	uint64_t size;
	ds_buf b;

	if (ds_store_open_blob(s, digest, &fd, &size, err) < 0)
		return -1;
	if (size > max)
		return ds_error_set(err, DS_EFORMAT, "blob %s is %llu bytes, over the limit of %zu",
				    digest, (unsigned long long)size, max);
	ds_buf_init(&b, max + 1);
	if (ds_read_fd(fd, digest, max, &b, err) < 0 ||
	    ds_sha256_buf(b.data, b.len, got, err) < 0) {
		ds_buf_release(&b);
		return -1;
	}
	if (strcmp(got, digest) != 0) {
		ds_buf_release(&b);
		return ds_error_set(err, DS_EFORMAT, "blob %s in '%s' is corrupt: its content hashes to %s",
				    digest, s->root, got);
	}
	ds_buf_release(out);
	*out = b;
	return 0;
}

int ds_store_verify_blob(const ds_store *s, const char *digest, uint64_t expected_size,
			 ds_error *err)
{
	_cleanup_close_ int fd = -1;
	char got[DS_DIGEST_BUFSZ];
	char buf[131072];
	uint64_t size, seen = 0;
	ds_sha256 h;

	if (ds_store_open_blob(s, digest, &fd, &size, err) < 0)
		return -1;
	if (expected_size != UINT64_MAX && size != expected_size)
		return ds_error_set(err, DS_EFORMAT, "blob %s is %llu bytes, but the manifest says %llu",
				    digest, (unsigned long long)size,
				    (unsigned long long)expected_size);
	if (ds_sha256_init(&h, err) < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ds_sha256_release(&h);
			return ds_error_set_errno(err, errno, "cannot read blob %s", digest);
		}
		if (n == 0)
			break;
		ds_sha256_update(&h, buf, (size_t)n);
		seen += (uint64_t)n;
		if (ds_canceled()) {
			ds_sha256_release(&h);
			return ds_error_set(err, DS_ECANCELED, "interrupted");
		}
	}
	ds_sha256_final(&h, got);
	if (strcmp(got, digest) != 0)
		return ds_error_set(err, DS_EFORMAT, "blob %s in '%s' is corrupt: its content hashes to %s",
				    digest, s->root, got);
	(void)seen;
	return 0;
}

int ds_blob_writer_new(ds_blob_writer **out, ds_store *s, ds_error *err)
{
	ds_blob_writer *w = ds_xcalloc(1, sizeof(*w));

	w->store = s;
	w->tmp = ds_xasprintf("%s/tmp/blob-XXXXXX", s->root);
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		int e = errno;
		/* tmp/ may be missing in a layout written by another tool */
		_cleanup_free_ char *dir = ds_xasprintf("%s/tmp", s->root);
		if (e == ENOENT && mkdir(dir, 0755) == 0) {
			/* a failed mkostemp() has already replaced the XXXXXX */
			free(w->tmp);
			w->tmp = ds_xasprintf("%s/tmp/blob-XXXXXX", s->root);
			w->fd = mkostemp(w->tmp, O_CLOEXEC);
			if (w->fd < 0)
				e = errno;
		}
		if (w->fd < 0) {
			ds_error_set_errno(err, e, "cannot create a temporary file in '%s'", dir);
			free(w->tmp);
			free(w);
			return -1;
		}
	}
	if (ds_sha256_init(&w->h, err) < 0) {
		ds_blob_writer_abort(w);
		return -1;
	}
	*out = w;
	return 0;
}

int ds_blob_writer_write(ds_blob_writer *w, const void *data, size_t len, ds_error *err)
{
	ds_sha256_update(&w->h, data, len);
	w->size += len;
	return ds_write_all(w->fd, data, len, w->tmp, err);
}

int ds_blob_writer_commit(ds_blob_writer *w, const char *expect, char digest_out[DS_DIGEST_BUFSZ],
			  uint64_t *size_out, ds_error *err)
{
	char digest[DS_DIGEST_BUFSZ];
	_cleanup_free_ char *dst = NULL;
	int fd = w->fd;

	ds_sha256_final(&w->h, digest);
	w->fd = -1;
	if (fchmod(fd, 0644) < 0) {
		ds_error_set_errno(err, errno, "cannot write '%s'", w->tmp);
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		ds_error_set_errno(err, errno, "cannot write '%s'", w->tmp);
		goto fail;
	}
	if (expect && strcmp(expect, digest) != 0) {
		ds_error_set(err, DS_EFORMAT, "digest mismatch: expected %s, got %s", expect, digest);
		goto fail;
	}
	dst = blob_path(w->store, digest);
	if (rename(w->tmp, dst) < 0) {
		ds_error_set_errno(err, errno, "cannot store blob '%s'", dst);
		goto fail;
	}
	if (digest_out)
		memcpy(digest_out, digest, DS_DIGEST_BUFSZ);
	if (size_out)
		*size_out = w->size;
	free(w->tmp);
	free(w);
	return 0;
fail:
	unlink(w->tmp);
	free(w->tmp);
	free(w);
	return -1;
}

void ds_blob_writer_abort(ds_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp);
	ds_sha256_release(&w->h);
	free(w->tmp);
	free(w);
}

int ds_store_put(ds_store *s, const void *data, size_t len, char digest_out[DS_DIGEST_BUFSZ],
		 ds_error *err)
{
	ds_blob_writer *w;
	char d[DS_DIGEST_BUFSZ];

	if (ds_sha256_buf(data, len, d, err) < 0)
		return -1;
	if (ds_store_has(s, d)) {
		memcpy(digest_out, d, DS_DIGEST_BUFSZ);
		return 0;
	}
	if (ds_blob_writer_new(&w, s, err) < 0)
		return -1;
	if (ds_blob_writer_write(w, data, len, err) < 0) {
		ds_blob_writer_abort(w);
		return -1;
	}
	return ds_blob_writer_commit(w, d, digest_out, NULL, err);
}

int ds_store_copy_blob(ds_store *dst, const ds_store *src, const char *digest, ds_error *err)
{
	_cleanup_close_ int in = -1;
	ds_blob_writer *w;
	char buf[131072];
	uint64_t size;

	if (ds_store_has(dst, digest))
		return 0;
	if (ds_store_open_blob(src, digest, &in, &size, err) < 0)
		return -1;
	if (ds_blob_writer_new(&w, dst, err) < 0)
		return -1;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ds_error_set_errno(err, errno, "cannot read blob %s", digest);
			ds_blob_writer_abort(w);
			return -1;
		}
		if (n == 0)
			break;
		if (ds_blob_writer_write(w, buf, (size_t)n, err) < 0) {
			ds_blob_writer_abort(w);
			return -1;
		}
		if (ds_canceled()) {
			ds_blob_writer_abort(w);
			return ds_error_set(err, DS_ECANCELED, "interrupted");
		}
	}
	if (ds_blob_writer_commit(w, digest, NULL, NULL, err) < 0)
		return ds_error_wrap(err, "blob from '%s' is corrupt", ds_store_root(src));
	return 0;
}
