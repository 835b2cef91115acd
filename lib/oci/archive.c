/* oci-archive: a tar of an OCI layout.  docker-archive: the dual format
 * `docker save` writes since Docker 25 (an OCI layout with uncompressed
 * layers plus manifest.json), which both `docker load` and `podman load`
 * read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <dsbuild/image.h>
#include <dsbuild/layer.h>

#include "oci/oci.h"
#include "util/util.h"

#define ARCHIVE_MAX_ENTRIES 100000

/* ---- writing ---------------------------------------------------------- */

typedef struct tarw {
	struct archive *ar;
	char *tmp;
	const char *dst;
	int fd;
} tarw;

static int tarw_fail(tarw *t, ds_error *err)
{
	int e = archive_errno(t->ar);
	if (e > 0)
		return ds_error_set_errno(err, e, "cannot write '%s'", t->dst);
	return ds_error_set(err, DS_EIO, "cannot write '%s': %s", t->dst,
			    archive_error_string(t->ar));
}

static int tarw_open(tarw *t, const char *dst, ds_error *err)
{
	t->dst = dst;
	t->tmp = ds_xasprintf("%s.tmp-XXXXXX", dst);
	t->fd = mkostemp(t->tmp, O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;
		free(t->tmp);
		t->tmp = NULL;
		return ds_error_set_errno(err, e, "cannot create '%s'", dst);
	}
	t->ar = archive_write_new();
	if (archive_write_set_format_pax_restricted(t->ar) != ARCHIVE_OK ||
	    archive_write_add_filter_none(t->ar) != ARCHIVE_OK ||
	    archive_write_open_fd(t->ar, t->fd) != ARCHIVE_OK)
		return tarw_fail(t, err);
	return 0;
}

static void tarw_abort(tarw *t)
{
	if (t->ar)
		archive_write_free(t->ar);
	t->ar = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->tmp) {
		unlink(t->tmp);
		free(t->tmp);
		t->tmp = NULL;
	}
}

/* Closes the archive; the temp file stays for the transaction to rename. */
static int tarw_finish(tarw *t, ds_write_txn *txn, ds_error *err)
{
	if (archive_write_close(t->ar) != ARCHIVE_OK)
		return tarw_fail(t, err);
	archive_write_free(t->ar);
	t->ar = NULL;
	if (fchmod(t->fd, 0644) < 0 || close(t->fd) < 0) {
		t->fd = -1;
		return ds_error_set_errno(err, errno, "cannot write '%s'", t->dst);
	}
	t->fd = -1;
	txn->tmp = TAKE_PTR(t->tmp);
	txn->final = ds_xstrdup(t->dst);
	return 0;
}

static int tarw_header(tarw *t, const char *path, int is_dir, uint64_t size, ds_error *err)
{
	struct archive_entry *ae = archive_entry_new();
	int r;

	archive_entry_set_pathname(ae, path);
	archive_entry_set_filetype(ae, is_dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(ae, is_dir ? 0755 : 0644);
	archive_entry_set_size(ae, is_dir ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(ae, 0, 0);
	r = archive_write_header(t->ar, ae);
	archive_entry_free(ae);
	return r == ARCHIVE_OK ? 0 : tarw_fail(t, err);
}

static int tarw_data(tarw *t, const void *data, size_t len, ds_error *err)
{
	const char *p = data;
	while (len) {
		la_ssize_t n = archive_write_data(t->ar, p, len);
		if (n < 0)
			return tarw_fail(t, err);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int tarw_buf(tarw *t, const char *path, const void *data, size_t len, ds_error *err)
{
	if (tarw_header(t, path, 0, len, err) < 0)
		return -1;
	return tarw_data(t, data, len, err);
}

static int tarw_blob(tarw *t, const ds_store *s, const char *digest, ds_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *path = NULL;
	char buf[131072];
	uint64_t size, left;

	if (ds_store_open_blob(s, digest, &fd, &size, err) < 0)
		return -1;
	path = ds_xasprintf("blobs/sha256/%s", ds_digest_hex(digest));
	if (tarw_header(t, path, 0, size, err) < 0)
		return -1;
	for (left = size; left;) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ds_error_set(err, DS_EIO, "cannot read blob %s", digest);
		if (tarw_data(t, buf, (size_t)n, err) < 0)
			return -1;
		left -= (uint64_t)n;
		if (ds_canceled())
			return ds_error_set(err, DS_ECANCELED, "interrupted");
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *index_json(const char *media_type, const char *digest, size_t size,
			  const char **tags, const char **names, size_t n)
{
	json_t *idx = json_object(), *ms = json_array();

	for (size_t i = 0; i < (n ? n : 1); i++) {
		json_t *d = json_object();
		json_object_set_new(d, "mediaType", json_string(media_type));
		json_object_set_new(d, "digest", json_string(digest));
		json_object_set_new(d, "size", json_integer((json_int_t)size));
		if (n) {
			json_t *a = json_object();
			if (names && names[i])
				json_object_set_new(a, "io.containerd.image.name",
						    json_string(names[i]));
			json_object_set_new(a, "org.opencontainers.image.ref.name",
					    json_string(tags[i]));
			json_object_set_new(d, "annotations", a);
		}
		json_array_append_new(ms, d);
	}
	json_object_set_new(idx, "schemaVersion", json_integer(2));
	json_object_set_new(idx, "mediaType", json_string(DS_MEDIA_OCI_INDEX));
	json_object_set_new(idx, "manifests", ms);
	return idx;
}

static int put_json(tarw *t, const char *path, const json_t *j, ds_error *err)
{
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;

	ds_buf_init(&b, DS_INDEX_MAX);
	if (ds_json_dump(j, &b, err) < 0)
		return -1;
	return tarw_buf(t, path, b.data, b.len, err);
}

static const char layout_marker[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

int ds_archive_prepare_oci(ds_write_txn *txn, const ds_image *img, const char *file,
			   const char **tags, size_t n_tags, ds_error *err)
{
	tarw t = { .fd = -1 };
	const char *digests[DS_LAYERS_MAX + 2];
	size_t n = 0;
	_cleanup_json_ json_t *idx = NULL;
	_cleanup_free_ char *mpath = ds_xasprintf("blobs/sha256/%s", ds_digest_hex(img->manifest_digest));

	digests[n++] = img->config_digest;
	for (size_t i = 0; i < img->n_layers && n < DS_LAYERS_MAX + 1; i++) {
		int dup = 0;
		for (size_t k = 0; k < n; k++)
			dup |= !strcmp(digests[k], img->layers[i].digest);
		if (!dup)
			digests[n++] = img->layers[i].digest;
	}
	digests[n++] = img->manifest_digest;
	qsort(digests, n, sizeof(*digests), cmp_str);
	idx = index_json(img->manifest_media_type, img->manifest_digest, img->manifest_len, tags,
			 NULL, n_tags);
	if (tarw_open(&t, file, err) < 0 || tarw_header(&t, "blobs", 1, 0, err) < 0 ||
	    tarw_header(&t, "blobs/sha256", 1, 0, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(digests[i], img->manifest_digest)) {
			if (tarw_buf(&t, mpath, img->manifest, img->manifest_len, err) < 0)
				goto fail;
		} else if (tarw_blob(&t, img->store, digests[i], err) < 0) {
			goto fail;
		}
	}
	if (put_json(&t, "index.json", idx, err) < 0 ||
	    tarw_buf(&t, "oci-layout", layout_marker, sizeof(layout_marker) - 1, err) < 0 ||
	    tarw_finish(&t, txn, err) < 0)
		goto fail;
	return 0;
fail:
	tarw_abort(&t);
	return ds_error_wrap(err, "cannot write '%s'", file);
}

/* Streams the uncompressed bytes of a gzip layer to fn; counts and hashes
 * them.  fn may be NULL (a counting pass). */
typedef int (*inflate_fn)(void *data, const void *buf, size_t len, ds_error *err);

static int layer_inflate(const ds_store *s, const ds_layer_desc *l, inflate_fn fn, void *data,
			 uint64_t *size_out, char diff_id[DS_DIGEST_BUFSZ], ds_error *err)
{
	_cleanup_close_ int fd = -1;
	unsigned char in[65536], out[131072];
	uint64_t total = 0, size;
	z_stream zs;
	ds_sha256 h;
	int r = Z_OK, gzip;

	gzip = strstr(l->media_type, "gzip") != NULL;
	if (!gzip && strcmp(l->media_type, DS_MEDIA_LAYER_TAR) &&
	    strcmp(l->media_type, "application/vnd.docker.image.rootfs.diff.tar"))
		return ds_error_set(err, DS_EUNSUPPORTED, "layer %s has media type '%s', which "
							  "docker-archive output does not support",
				    l->digest, l->media_type);
	if (ds_store_open_blob(s, l->digest, &fd, &size, err) < 0)
		return -1;
	if (ds_sha256_init(&h, err) < 0)
		return -1;
	memset(&zs, 0, sizeof(zs));
	if (gzip && inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		ds_sha256_release(&h);
		return ds_error_set(err, DS_ENOMEM, "cannot start gzip");
	}
	for (;;) {
		ssize_t n = read(fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ds_error_set_errno(err, errno, "cannot read layer %s", l->digest);
			goto fail;
		}
		if (n == 0)
			break;
		if (!gzip) {
			ds_sha256_update(&h, in, (size_t)n);
			total += (uint64_t)n;
			if (fn && fn(data, in, (size_t)n, err) < 0)
				goto fail;
			continue;
		}
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		while (zs.avail_in) {
			if (r == Z_STREAM_END) {
				/* another gzip member follows */
				inflateReset(&zs);
			}
			zs.next_out = out;
			zs.avail_out = sizeof(out);
			r = inflate(&zs, Z_NO_FLUSH);
			if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
				ds_error_set(err, DS_EFORMAT, "layer %s is not valid gzip: %s",
					     l->digest, zs.msg ? zs.msg : "corrupt data");
				goto fail;
			}
			size_t got = sizeof(out) - zs.avail_out;
			ds_sha256_update(&h, out, got);
			total += got;
			if (got && fn && fn(data, out, got, err) < 0)
				goto fail;
		}
		if (ds_canceled()) {
			ds_error_set(err, DS_ECANCELED, "interrupted");
			goto fail;
		}
	}
	if (gzip && r != Z_STREAM_END) {
		ds_error_set(err, DS_EFORMAT, "layer %s is truncated gzip", l->digest);
		goto fail;
	}
	if (gzip)
		inflateEnd(&zs);
	ds_sha256_final(&h, diff_id);
	*size_out = total;
	return 0;
fail:
	if (gzip)
		inflateEnd(&zs);
	ds_sha256_release(&h);
	return -1;
}

int ds_layer_uncompressed_digest(const ds_store *store, const ds_layer_desc *l,
				 char diff_id[DS_DIGEST_BUFSZ], uint64_t *size, ds_error *err)
{
	return layer_inflate(store, l, NULL, NULL, size, diff_id, err);
}

static int to_tar(void *data, const void *buf, size_t len, ds_error *err)
{
	return tarw_data(data, buf, len, err);
}

int ds_archive_prepare_docker(ds_write_txn *txn, const ds_image *img, const char *file,
			      const char **repo_tags, size_t n_tags, ds_error *err)
{
	tarw t = { .fd = -1 };
	uint64_t *sizes = ds_xcalloc(img->n_layers + 1, sizeof(*sizes));
	_cleanup_json_ json_t *man = json_object();
	_cleanup_json_ json_t *mj = json_array();
	_cleanup_json_ json_t *idx = NULL;
	_cleanup_buf_ ds_buf mbuf = DS_BUF_INIT;
	_cleanup_free_ char *mpath = NULL;
	_cleanup_free_ char *cpath = NULL;
	char mdigest[DS_DIGEST_BUFSZ];
	const char **tags = ds_xcalloc(n_tags + 1, sizeof(char *));
	const char **names = ds_xcalloc(n_tags + 1, sizeof(char *));
	json_t *layers = json_array(), *entry = json_object(), *rt = json_array(), *ll = json_array();
	json_t *cfg;

	/* Pass 1: uncompressed sizes, and a check that each layer matches its
	 * diff_id. */
	for (size_t i = 0; i < img->n_layers; i++) {
		char did[DS_DIGEST_BUFSZ];
		if (layer_inflate(img->store, &img->layers[i], NULL, NULL, &sizes[i], did, err) < 0)
			goto fail;
		if (strcmp(did, img->layers[i].diff_id)) {
			ds_error_set(err, DS_EFORMAT, "layer %zu (%s) uncompresses to %s, but the "
						      "config says %s",
				     i + 1, img->layers[i].digest, did, img->layers[i].diff_id);
			goto fail;
		}
	}
	cfg = json_object();
	json_object_set_new(cfg, "mediaType", json_string(DS_MEDIA_OCI_CONFIG));
	json_object_set_new(cfg, "digest", json_string(img->config_digest));
	json_object_set_new(cfg, "size", json_integer((json_int_t)img->config_size));
	for (size_t i = 0; i < img->n_layers; i++) {
		json_t *l = json_object();
		json_object_set_new(l, "mediaType", json_string(DS_MEDIA_LAYER_TAR));
		json_object_set_new(l, "digest", json_string(img->layers[i].diff_id));
		json_object_set_new(l, "size", json_integer((json_int_t)sizes[i]));
		json_array_append_new(layers, l);
		char lp[DS_DIGEST_BUFSZ + 16];
		snprintf(lp, sizeof(lp), "blobs/sha256/%s", ds_digest_hex(img->layers[i].diff_id));
		json_array_append_new(ll, json_string(lp));
	}
	json_object_set_new(man, "schemaVersion", json_integer(2));
	json_object_set_new(man, "mediaType", json_string(DS_MEDIA_OCI_MANIFEST));
	json_object_set_new(man, "config", cfg);
	json_object_set_new(man, "layers", layers);
	if (json_object_get(img->manifest_json, "annotations"))
		json_object_set(man, "annotations", json_object_get(img->manifest_json, "annotations"));
	ds_buf_init(&mbuf, DS_MANIFEST_MAX);
	if (ds_json_dump(man, &mbuf, err) < 0 || ds_sha256_buf(mbuf.data, mbuf.len, mdigest, err) < 0)
		goto fail;

	for (size_t i = 0; i < n_tags; i++) {
		const char *colon = strrchr(repo_tags[i], ':');
		const char *slash = strrchr(repo_tags[i], '/');
		names[i] = repo_tags[i];
		tags[i] = (colon && (!slash || colon > slash)) ? colon + 1 : "latest";
		json_array_append_new(rt, json_string(repo_tags[i]));
	}
	idx = index_json(DS_MEDIA_OCI_MANIFEST, mdigest, mbuf.len, tags, names, n_tags);
	cpath = ds_xasprintf("blobs/sha256/%s", ds_digest_hex(img->config_digest));
	json_object_set_new(entry, "Config", json_string(cpath));
	json_object_set_new(entry, "RepoTags", rt);
	rt = NULL;
	json_object_set_new(entry, "Layers", ll);
	ll = NULL;
	json_array_append_new(mj, entry);
	entry = NULL;

	mpath = ds_xasprintf("blobs/sha256/%s", ds_digest_hex(mdigest));
	if (tarw_open(&t, file, err) < 0 || tarw_header(&t, "blobs", 1, 0, err) < 0 ||
	    tarw_header(&t, "blobs/sha256", 1, 0, err) < 0)
		goto fail;
	if (tarw_blob(&t, img->store, img->config_digest, err) < 0)
		goto fail;
	for (size_t i = 0; i < img->n_layers; i++) {
		_cleanup_free_ char *lp = ds_xasprintf("blobs/sha256/%s",
						       ds_digest_hex(img->layers[i].diff_id));
		char did[DS_DIGEST_BUFSZ];
		uint64_t sz;
		int dup = 0;
		for (size_t k = 0; k < i; k++)
			dup |= !strcmp(img->layers[k].diff_id, img->layers[i].diff_id);
		if (dup)
			continue;
		if (tarw_header(&t, lp, 0, sizes[i], err) < 0 ||
		    layer_inflate(img->store, &img->layers[i], to_tar, &t, &sz, did, err) < 0)
			goto fail;
		if (sz != sizes[i] || strcmp(did, img->layers[i].diff_id)) {
			ds_error_set(err, DS_EFORMAT, "layer %s changed while it was being written",
				     img->layers[i].digest);
			goto fail;
		}
	}
	if (tarw_buf(&t, mpath, mbuf.data, mbuf.len, err) < 0 ||
	    put_json(&t, "index.json", idx, err) < 0 || put_json(&t, "manifest.json", mj, err) < 0 ||
	    tarw_buf(&t, "oci-layout", layout_marker, sizeof(layout_marker) - 1, err) < 0 ||
	    tarw_finish(&t, txn, err) < 0)
		goto fail;
	free(sizes);
	free(tags);
	free(names);
	return 0;
fail:
	json_decref(rt);
	json_decref(ll);
	json_decref(entry);
	free(sizes);
	free(tags);
	free(names);
	tarw_abort(&t);
	return ds_error_wrap(err, "cannot write '%s'", file);
}

/* ---- reading ---------------------------------------------------------- */

static int extract(const char *file, const char *dir, ds_error *err)
{
	struct archive *a = archive_read_new();
	struct archive *disk = archive_write_disk_new();
	struct archive_entry *ae;
	size_t n = 0;
	int r, rc = -1;

	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	/* Paths are checked below and then made absolute under dir, so only
	 * the '..' and symlink guards apply. */
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						     ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
		int e = archive_errno(a);
		if (e == ENOENT)
			ds_error_set(err, DS_ENOENT, "'%s' does not exist", file);
		else
			ds_error_set(err, DS_EFORMAT, "cannot read '%s': %s", file,
				     archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		_cleanup_free_ char *p = archive_entry_pathname(ae) ?
						 ds_xstrdup(archive_entry_pathname(ae)) :
						 NULL;
		mode_t type = archive_entry_filetype(ae);
		_cleanup_free_ char *full = NULL;

		if (++n > ARCHIVE_MAX_ENTRIES) {
			ds_error_set(err, DS_EFORMAT, "'%s' has more than %d entries", file,
				     ARCHIVE_MAX_ENTRIES);
			goto out;
		}
		/* A hard link entry would link (and, carrying pax data, overwrite)
		 * a file outside dir: its target is not rewritten under dir, and
		 * a relative one is resolved against the current directory. */
		if (archive_entry_hardlink(ae)) {
			ds_error_set(err, DS_EFORMAT, "'%s' has a hard link '%s', which image "
						      "archives do not use",
				     file, p ? p : "");
			goto out;
		}
		if (type != AE_IFREG && type != AE_IFDIR) {
			/* Image archives hold only files and folders. */
			archive_read_data_skip(a);
			continue;
		}
		if (!p || !*p || p[0] == '/' || strstr(p, "..")) {
			ds_error_set(err, DS_EFORMAT, "'%s' has an unsafe path '%s'", file, p ? p : "");
			goto out;
		}
		full = ds_xasprintf("%s/%s", dir, p);
		archive_entry_set_pathname(ae, full);
		archive_entry_set_perm(ae, type == AE_IFDIR ? 0755 : 0644);
		if (archive_write_header(disk, ae) != ARCHIVE_OK) {
			ds_error_set(err, DS_EIO, "cannot extract '%s' from '%s': %s", p, file,
				     archive_error_string(disk));
			goto out;
		}
		if (type == AE_IFREG) {
			const void *buf;
			size_t len;
			la_int64_t off;
			while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(disk, buf, len, off) != ARCHIVE_OK) {
					ds_error_set(err, DS_EIO, "cannot extract '%s': %s", p,
						     archive_error_string(disk));
					goto out;
				}
			if (r != ARCHIVE_EOF) {
				ds_error_set(err, DS_EFORMAT, "'%s' is corrupt at '%s': %s", file, p,
					     archive_error_string(a));
				goto out;
			}
		}
		archive_write_finish_entry(disk);
		if (ds_canceled()) {
			ds_error_set(err, DS_ECANCELED, "interrupted");
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		ds_error_set(err, DS_EFORMAT, "'%s' is not a valid tar archive: %s", file,
			     archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	archive_write_free(disk);
	return rc;
}

static int is_gzip_file(const char *path)
{
	unsigned char m[2] = { 0, 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, m, 2) != 2)
		m[0] = 0;
	close(fd);
	return m[0] == 0x1f && m[1] == 0x8b;
}

/* A docker-archive without an OCI layout (Docker < 25): manifest.json names
 * the config and layer files by path. */
static int open_legacy_docker(ds_image **out, const char *dir, const char *tag, ds_error *err)
{
	_cleanup_free_ char *mpath = ds_xasprintf("%s/manifest.json", dir);
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	_cleanup_json_ json_t *mj = NULL;
	_cleanup_json_ json_t *man = NULL;
	_cleanup_buf_ ds_buf mbuf = DS_BUF_INIT;
	_cleanup_buf_ ds_buf cbuf = DS_BUF_INIT;
	json_t *entry = NULL, *e, *layers, *l, *ls;
	ds_store *store = NULL;
	ds_image *img = NULL;
	char cdigest[DS_DIGEST_BUFSZ];
	size_t i;

	ds_buf_init(&b, DS_MANIFEST_MAX + 1);
	if (ds_read_file(mpath, DS_MANIFEST_MAX, &b, err) < 0)
		return -1;
	mj = ds_json_parse(b.data, b.len, "manifest.json", err);
	if (!mj)
		return -1;
	if (!json_is_array(mj) || json_array_size(mj) == 0)
		return ds_error_set(err, DS_EFORMAT, "manifest.json lists no images");
	json_array_foreach (mj, i, e) {
		size_t k;
		json_t *t;
		if (!tag) {
			entry = e;
			break;
		}
		json_array_foreach (json_object_get(e, "RepoTags"), k, t)
			if (json_is_string(t) && !strcmp(json_string_value(t), tag))
				entry = e;
	}
	if (!entry)
		return ds_error_set(err, DS_ENOENT, "no image tagged '%s' in the archive", tag);
	if (!tag && json_array_size(mj) > 1)
		return ds_error_set(err, DS_EINVAL, "the archive holds %zu images: name one with "
						    "docker-archive:FILE:NAME:TAG",
				    json_array_size(mj));
	{
		_cleanup_free_ char *sroot = ds_xasprintf("%s/.dsbuild-store", dir);
		if (ds_store_open(&store, sroot, 1, err) < 0)
			return -1;
	}
	img = ds_xcalloc(1, sizeof(*img));
	img->store = store;
	img->owns_store = 1;
	const char *cfg = json_string_value(json_object_get(entry, "Config"));
	layers = json_object_get(entry, "Layers");
	if (!cfg || strstr(cfg, "..") || !json_is_array(layers)) {
		ds_error_set(err, DS_EFORMAT, "manifest.json entry has no Config or Layers");
		goto fail;
	}
	{
		_cleanup_free_ char *cp = ds_xasprintf("%s/%s", dir, cfg);
		ds_buf_init(&cbuf, DS_CONFIG_MAX + 1);
		if (ds_read_file(cp, DS_CONFIG_MAX, &cbuf, err) < 0 ||
		    ds_store_put(store, cbuf.data, cbuf.len, cdigest, err) < 0)
			goto fail;
	}
	man = json_object();
	json_object_set_new(man, "schemaVersion", json_integer(2));
	json_object_set_new(man, "mediaType", json_string(DS_MEDIA_DOCKER_MANIFEST));
	l = json_object();
	json_object_set_new(l, "mediaType", json_string(DS_MEDIA_DOCKER_CONFIG));
	json_object_set_new(l, "digest", json_string(cdigest));
	json_object_set_new(l, "size", json_integer((json_int_t)cbuf.len));
	json_object_set_new(man, "config", l);
	ls = json_array();
	json_object_set_new(man, "layers", ls);
	json_array_foreach (layers, i, e) {
		const char *lp = json_string_value(e);
		_cleanup_free_ char *full = NULL;
		_cleanup_close_ int fd = -1;
		ds_blob_writer *w;
		char d[DS_DIGEST_BUFSZ];
		uint64_t size;

		if (!lp || strstr(lp, "..") || i >= DS_LAYERS_MAX) {
			ds_error_set(err, DS_EFORMAT, "manifest.json has an invalid layer path");
			goto fail;
		}
		full = ds_xasprintf("%s/%s", dir, lp);
		fd = open(full, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ds_error_set_errno(err, errno, "layer '%s' named in manifest.json", lp);
			goto fail;
		}
		if (ds_blob_writer_new(&w, store, err) < 0)
			goto fail;
		{
			char buf[131072];
			ssize_t n;
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				if (ds_blob_writer_write(w, buf, (size_t)n, err) < 0) {
					ds_blob_writer_abort(w);
					goto fail;
				}
		}
		if (ds_blob_writer_commit(w, NULL, d, &size, err) < 0)
			goto fail;
		l = json_object();
		json_object_set_new(l, "mediaType",
				    json_string(is_gzip_file(full) ? DS_MEDIA_DOCKER_LAYER_GZIP :
								     "application/vnd.docker.image.rootfs.diff.tar"));
		json_object_set_new(l, "digest", json_string(d));
		json_object_set_new(l, "size", json_integer((json_int_t)size));
		json_array_append_new(ls, l);
	}
	ds_buf_init(&mbuf, DS_MANIFEST_MAX);
	if (ds_json_dump(man, &mbuf, err) < 0 ||
	    ds_store_put(store, mbuf.data, mbuf.len, img->manifest_digest, err) < 0)
		goto fail;
	img->manifest_media_type = ds_xstrdup(DS_MEDIA_DOCKER_MANIFEST);
	img->manifest = ds_buf_detach(&mbuf, &img->manifest_len);
	if (ds_image_load_manifest(img, "manifest.json", err) < 0)
		goto fail;
	*out = img;
	return 0;
fail:
	ds_image_free(img);
	return -1;
}

int ds_archive_open(ds_image **out, const ds_ref *ref, const char *platform, ds_error *err)
{
	char *tmp = NULL;
	const char *tdir = getenv("TMPDIR");
	_cleanup_free_ char *tmpl = ds_xasprintf("%s/dsbuild-archive-XXXXXX",
						 tdir && *tdir ? tdir : "/tmp");
	_cleanup_free_ char *marker = NULL;
	ds_image *img = NULL;
	int r;

	tmp = mkdtemp(tmpl);
	if (!tmp)
		return ds_error_set_errno(err, errno, "cannot create a temporary directory");
	tmp = ds_xstrdup(tmp);
	if (extract(ref->path, tmp, err) < 0) {
		ds_rm_rf(tmp);
		free(tmp);
		return -1;
	}
	marker = ds_xasprintf("%s/oci-layout", tmp);
	if (ref->transport == DS_TRANSPORT_DOCKER_ARCHIVE && !ds_path_exists(marker)) {
		r = open_legacy_docker(&img, tmp, ref->tag, err);
	} else {
		const char *tag = ref->tag;
		if (ref->transport == DS_TRANSPORT_DOCKER_ARCHIVE && tag) {
			/* NAME:TAG; the layout knows the TAG part */
			const char *c = strrchr(tag, ':');
			const char *s = strrchr(tag, '/');
			tag = (c && (!s || c > s)) ? c + 1 : "latest";
		}
		r = ds_layout_open(&img, tmp, tag, platform, ref, err);
		if (r < 0) {
			/* its errors already name the archive */
			ds_rm_rf(tmp);
			free(tmp);
			return -1;
		}
	}
	if (r < 0) {
		ds_rm_rf(tmp);
		free(tmp);
		return ds_error_wrap(err, "'%s'", ref->path);
	}
	img->tmpdir = tmp;
	*out = img;
	return 0;
}

/* ---- dispatch --------------------------------------------------------- */

static const char *plain_tag(const char *t)
{
	const char *c = strrchr(t, ':');
	const char *s = strrchr(t, '/');
	return (c && (!s || c > s)) ? c + 1 : t;
}

void ds_write_txn_added(ds_write_txn *t, const char *path)
{
	t->added = ds_xrealloc(t->added, (t->n_added + 1) * sizeof(*t->added));
	t->added[t->n_added++] = ds_xstrdup(path);
}

static void txn_free(ds_write_txn *t)
{
	for (size_t i = 0; i < t->n_added; i++)
		free(t->added[i]);
	free(t->added);
	free(t->tmp);
	free(t->final);
	free(t);
}

ds_write_txn *ds_write_txn_abort(ds_write_txn *t)
{
	if (!t)
		return NULL;
	if (t->tmp)
		ds_rm_rf(t->tmp);
	for (size_t i = 0; i < t->n_added; i++)
		unlink(t->added[i]);
	txn_free(t);
	return NULL;
}

int ds_write_txn_commit(ds_write_txn *t, ds_error *err)
{
	int r = 0;

	if (t->tmp && rename(t->tmp, t->final) < 0) {
		r = ds_error_set_errno(err, errno, "cannot move the new image into '%s'", t->final);
		ds_write_txn_abort(t);
		return r;
	}
	txn_free(t);
	return 0;
}

int ds_image_write(const ds_image *img, const ds_ref *dst, const ds_write_opts *opts,
		   ds_error *err)
{
	ds_write_txn *t;

	if (ds_image_write_prepare(&t, img, dst, opts, err) < 0)
		return -1;
	return ds_write_txn_commit(t, err);
}

/* An OCI layout holds OCI manifests: umoci and skopeo's oci: reader refuse
 * Docker's.  The same blobs under OCI media types, as skopeo converts them;
 * the manifest (and so the digest) changes, the config and layers do not. */
static int to_oci_manifest(ds_image *view, const ds_image *img, json_t **keep, ds_error *err)
{
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	json_t *m = json_deep_copy(img->manifest_json), *l;
	size_t i;

	*view = *img;
	json_object_set_new(m, "mediaType", json_string(DS_MEDIA_OCI_MANIFEST));
	json_object_set_new(json_object_get(m, "config"), "mediaType",
			    json_string(DS_MEDIA_OCI_CONFIG));
	json_array_foreach (json_object_get(m, "layers"), i, l) {
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		if (mt && !strcmp(mt, DS_MEDIA_DOCKER_LAYER_GZIP))
			json_object_set_new(l, "mediaType", json_string(DS_MEDIA_LAYER_GZIP));
		else if (mt && !strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar"))
			json_object_set_new(l, "mediaType", json_string(DS_MEDIA_LAYER_TAR));
		else if (mt && strncmp(mt, "application/vnd.oci.image.layer.", 32)) {
			json_decref(m);
			return ds_error_set(err, DS_EUNSUPPORTED, "layer %zu has media type '%s', which "
								  "an OCI layout cannot hold",
					    i + 1, mt);
		}
	}
	ds_buf_init(&b, DS_MANIFEST_MAX);
	if (ds_json_dump(m, &b, err) < 0 ||
	    ds_sha256_buf(b.data, b.len, view->manifest_digest, err) < 0) {
		json_decref(m);
		return -1;
	}
	view->manifest_json = m;
	*keep = m;
	view->manifest = ds_buf_detach(&b, &view->manifest_len);
	view->manifest_media_type = (char *)DS_MEDIA_OCI_MANIFEST;
	view->config_media_type = (char *)DS_MEDIA_OCI_CONFIG;
	return 0;
}

int ds_image_write_prepare(ds_write_txn **out, const ds_image *img, const ds_ref *dst,
			   const ds_write_opts *opts, ds_error *err)
{
	ds_write_txn *txn = ds_xcalloc(1, sizeof(*txn));
	ds_image view;
	json_t *keep = NULL;
	int converted = 0;

	if ((dst->transport == DS_TRANSPORT_OCI || dst->transport == DS_TRANSPORT_OCI_ARCHIVE) &&
	    img->manifest_media_type && !strcmp(img->manifest_media_type, DS_MEDIA_DOCKER_MANIFEST)) {
		if (to_oci_manifest(&view, img, &keep, err) < 0) {
			free(txn);
			return -1;
		}
		img = &view;
		converted = 1;
	}
	const char *one[1];
	const char **tags = NULL;
	size_t n = 0;
	int r;

	if (dst->tag) {
		one[0] = dst->tag;
		tags = one;
		n = 1;
	} else if (opts && opts->n_tags) {
		tags = opts->tags;
		n = opts->n_tags;
	}
	switch (dst->transport) {
	case DS_TRANSPORT_OCI:
	case DS_TRANSPORT_OCI_ARCHIVE: {
		const char **plain = ds_xcalloc(n + 1, sizeof(char *));
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const char *p = dst->tag ? tags[i] : plain_tag(tags[i]);
			int dup = 0;
			for (size_t j = 0; j < k; j++)
				dup |= !strcmp(plain[j], p);
			if (!dup)
				plain[k++] = p;
		}
		if (k == 0)
			plain[k++] = "latest";
		if (dst->transport == DS_TRANSPORT_OCI)
			r = ds_layout_prepare(txn, img, dst->path, plain, k, err);
		else
			r = ds_archive_prepare_oci(txn, img, dst->path, plain, k, err);
		free(plain);
		break;
	}
	case DS_TRANSPORT_DOCKER_ARCHIVE:
		r = ds_archive_prepare_docker(txn, img, dst->path, tags, n, err);
		break;
	default:
		r = ds_error_set(err, DS_EUNSUPPORTED, "cannot write to '%s' here: pushing is the "
						       "registry client's job",
				 dst->path);
		break;
	}
	if (converted) {
		free(view.manifest);
		json_decref(keep);
	}
	if (r < 0) {
		ds_write_txn_abort(txn);
		return -1;
	}
	*out = txn;
	return 0;
}
