#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/layer.h>

#include "oci/gzip.h"
#include "util/util.h"

struct ds_layer_writer {
	struct archive *ar;
	ds_gzip *gz;
	ds_blob_writer *blob;
	ds_sha256 tar_hash;   /* diff_id */
	uint64_t tar_size;
	ds_error cb_err;      /* set by callbacks, reported by the caller */
	int cb_failed;
	uint64_t remaining;   /* data bytes still owed for the current file */
	const char *cur_path;
	ds_layer_opts opts;
	uint64_t progress_done;
};

static int gz_sink(void *data, const void *buf, size_t len, ds_error *err)
{
	ds_layer_writer *w = data;

	return ds_blob_writer_write(w->blob, buf, len, err);
}

static la_ssize_t ar_write(struct archive *a, void *data, const void *buf, size_t len)
{
	ds_layer_writer *w = data;

	ds_sha256_update(&w->tar_hash, buf, len);
	w->tar_size += len;
	if (ds_gzip_write(w->gz, buf, len, &w->cb_err) < 0) {
		w->cb_failed = 1;
		archive_set_error(a, EIO, "%s", w->cb_err.msg);
		return -1;
	}
	return (la_ssize_t)len;
}

static int ar_fail(ds_layer_writer *w, ds_error *err, const char *what)
{
	if (w->cb_failed) {
		if (err)
			*err = w->cb_err;
		return -1;
	}
	return ds_error_set(err, DS_EIO, "%s: %s", what, archive_error_string(w->ar));
}

int ds_layer_writer_new(ds_layer_writer **out, ds_store *store, const ds_layer_opts *opts,
			ds_error *err)
{
	ds_layer_opts def = DS_LAYER_OPTS_INIT;
	ds_layer_writer *w = ds_xcalloc(1, sizeof(*w));

	w->opts = opts ? *opts : def;
	if (w->opts.gzip_level < 0 || w->opts.gzip_level > 9)
		w->opts.gzip_level = DS_GZIP_LEVEL_DEFAULT;
	if (ds_sha256_init(&w->tar_hash, err) < 0)
		goto fail;
	if (ds_blob_writer_new(&w->blob, store, err) < 0)
		goto fail;
	if (ds_gzip_new(&w->gz, w->opts.gzip_level, w->opts.threads, gz_sink, w, err) < 0)
		goto fail;
	w->ar = archive_write_new();
	if (!w->ar) {
		ds_error_set(err, DS_ENOMEM, "cannot start a tar writer");
		goto fail;
	}
	if (archive_write_set_format_pax_restricted(w->ar) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w->ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->ar, 10240) != ARCHIVE_OK ||
	    archive_write_open2(w->ar, w, NULL, ar_write, NULL, NULL) != ARCHIVE_OK) {
		ar_fail(w, err, "cannot start a tar writer");
		goto fail;
	}
	*out = w;
	return 0;
fail:
	ds_layer_writer_free(w);
	return -1;
}

/* Names are bytes on Linux and go into the tar as given.  libarchive's pax
 * writer converts names from the current locale's charset to UTF-8; the
 * header is written under the "C" locale (uselocale(), this thread only),
 * where an ASCII name needs no pax record and any other name cannot be
 * converted, so libarchive stores its raw bytes with hdrcharset=BINARY and
 * answers ARCHIVE_WARN.  The bytes never depend on the caller's locale.
 * (Setting hdrcharset=BINARY for the whole archive would add a pax header
 * to every entry; handing libarchive 3.6 a UTF-8 name in the C locale
 * crashes it.) */
static locale_t c_loc;
static pthread_once_t c_loc_once = PTHREAD_ONCE_INIT;

static void c_loc_init(void)
{
	c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

int ds_layer_writer_add(ds_layer_writer *w, const ds_layer_entry *e, ds_error *err)
{
	struct archive_entry *ae;
	int r;

	if (w->remaining)
		return ds_error_set(err, DS_EINVAL, "'%s' is %llu bytes short", w->cur_path,
				    (unsigned long long)w->remaining);
	if (!e->path || !*e->path || e->path[0] == '/')
		return ds_error_set(err, DS_EINVAL, "invalid layer path '%s'",
				    e->path ? e->path : "");
	if ((e->type == DS_ENTRY_SYMLINK || e->type == DS_ENTRY_HARDLINK) && (!e->link || !*e->link))
		return ds_error_set(err, DS_EINVAL, "link '%s' has no target", e->path);
	ae = archive_entry_new();
	if (!ae)
		return ds_error_set(err, DS_ENOMEM, "out of memory");
	archive_entry_copy_pathname(ae, e->path);
	archive_entry_set_mtime(ae, e->mtime, 0);
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	switch (e->type) {
	case DS_ENTRY_FILE:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_size(ae, (la_int64_t)e->size);
		break;
	case DS_ENTRY_DIR:
		archive_entry_set_filetype(ae, AE_IFDIR);
		archive_entry_set_size(ae, 0);
		break;
	case DS_ENTRY_SYMLINK:
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_copy_symlink(ae, e->link);
		archive_entry_set_size(ae, 0);
		break;
	case DS_ENTRY_HARDLINK:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_copy_hardlink(ae, e->link);
		archive_entry_set_size(ae, 0);
		break;
	default:
		archive_entry_free(ae);
		return ds_error_set(err, DS_EINVAL, "'%s': unsupported entry type", e->path);
	}
	archive_entry_set_perm(ae, e->mode & 07777);
	pthread_once(&c_loc_once, c_loc_init);
	{
		locale_t prev = c_loc ? uselocale(c_loc) : (locale_t)0;
		r = archive_write_header(w->ar, ae);
		if (c_loc)
			uselocale(prev);
	}
	archive_entry_free(ae);
	/* ARCHIVE_WARN: a name stored as raw bytes (see above) */
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return ar_fail(w, err, e->path);
	w->remaining = e->type == DS_ENTRY_FILE ? e->size : 0;
	w->cur_path = e->path;
	return 0;
}

int ds_layer_writer_data(ds_layer_writer *w, const void *data, size_t len, ds_error *err)
{
	const char *p = data;

	if (len > w->remaining)
		return ds_error_set(err, DS_EINVAL, "'%s' has more data than announced", w->cur_path);
	while (len) {
		la_ssize_t n = archive_write_data(w->ar, p, len);
		if (n < 0)
			return ar_fail(w, err, w->cur_path);
		p += n;
		len -= (size_t)n;
		w->remaining -= (uint64_t)n;
		w->progress_done += (uint64_t)n;
	}
	if (w->opts.progress)
		w->opts.progress(w->opts.progress_data, w->progress_done);
	if (ds_canceled())
		return ds_error_set(err, DS_ECANCELED, "interrupted");
	return 0;
}

int ds_layer_writer_add_fd(ds_layer_writer *w, const ds_layer_entry *e, int fd, ds_error *err)
{
	static __thread char buf[65536];
	uint64_t left = e->size;

	if (ds_layer_writer_add(w, e, err) < 0)
		return -1;
	while (left) {
		size_t want = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t n = read(fd, buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ds_error_set_errno(err, errno, "cannot read '%s'", e->path);
		}
		if (n == 0)
			return ds_error_set(err, DS_EIO, "'%s' shrank while it was being read", e->path);
		if (ds_layer_writer_data(w, buf, (size_t)n, err) < 0)
			return -1;
		left -= (uint64_t)n;
	}
	/* One more byte means the file grew while we read it. */
	if (read(fd, buf, 1) > 0)
		return ds_error_set(err, DS_EIO, "'%s' grew while it was being read", e->path);
	return 0;
}

int ds_layer_writer_finish(ds_layer_writer *w, ds_layer_info *info, ds_error *err)
{
	ds_layer_info res;
	int r = -1;

	memset(&res, 0, sizeof(res));
	if (w->remaining) {
		ds_error_set(err, DS_EINVAL, "'%s' is %llu bytes short", w->cur_path,
			     (unsigned long long)w->remaining);
		goto out;
	}
	if (archive_write_close(w->ar) != ARCHIVE_OK) {
		ar_fail(w, err, "cannot finish the layer");
		goto out;
	}
	if (ds_gzip_finish(w->gz, err) < 0)
		goto out;
	ds_sha256_final(&w->tar_hash, res.diff_id);
	res.tar_size = w->tar_size;
	r = ds_blob_writer_commit(w->blob, NULL, res.digest, &res.size, err);
	w->blob = NULL;
	if (r == 0)
		*info = res;
out:
	ds_layer_writer_free(w);
	return r;
}

ds_layer_writer *ds_layer_writer_free(ds_layer_writer *w)
{
	if (!w)
		return NULL;
	if (w->ar)
		archive_write_free(w->ar);
	ds_gzip_free(w->gz);
	ds_blob_writer_abort(w->blob);
	ds_sha256_release(&w->tar_hash);
	free(w);
	return NULL;
}
