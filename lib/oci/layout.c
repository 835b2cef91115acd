#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include <dsbuild/image.h>

#include "oci/oci.h"
#include "util/util.h"

static const char *ref_name(const json_t *desc)
{
	return json_string_value(
		json_object_get(json_object_get(desc, "annotations"), "org.opencontainers.image.ref.name"));
}

static void list_tags(const json_t *ms, ds_buf *b)
{
	size_t i;
	json_t *m;

	json_array_foreach (ms, i, m) {
		const char *t = ref_name(m);
		if (t && b->len < 1024)
			ds_buf_addf(b, "%s%s", b->len ? ", " : "", t);
	}
}

/* How a layout is named in messages: the user's oci:DIR, or the archive
 * an oci-archive:/docker-archive: was extracted from (never the temp dir). */
typedef struct shown {
	const char *path;      /* DIR or FILE */
	const char *transport; /* "oci", "oci-archive", "docker-archive" */
	int archive;
} shown;

static int read_layout_marker(const char *dir, const shown *sh, ds_error *err)
{
	_cleanup_free_ char *p = ds_xasprintf("%s/oci-layout", dir);
	_cleanup_free_ char *pname = ds_xasprintf("%s/oci-layout", sh->path);
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	struct stat st;

	if (stat(dir, &st) < 0)
		return ds_error_set_errno(err, errno, "cannot open image layout '%s'", sh->path);
	if (!S_ISDIR(st.st_mode))
		return ds_error_set(err, DS_EINVAL, "'%s' is not a directory", sh->path);
	ds_buf_init(&b, 4096);
	if (ds_read_file(p, 4096, &b, err) < 0) {
		if (err && err->code == DS_ENOENT) {
			ds_error_set(err, DS_EFORMAT, "'%s' is not an OCI image %s: it has no "
						      "oci-layout file",
				     sh->path, sh->archive ? "archive" : "layout");
			return ds_error_hint(err, "write one with 'dsbuild build -o %s:%s' or "
						  "'skopeo copy ... %s:%s'",
					     sh->transport, sh->path, sh->transport, sh->path);
		}
		if (sh->archive)
			return ds_error_set(err, err ? err->code : DS_EIO, "cannot read '%s'", pname);
		return -1;
	}
	j = ds_json_parse(b.data, b.len, pname, err);
	if (!j)
		return -1;
	if (!json_is_string(json_object_get(j, "imageLayoutVersion")))
		return ds_error_set(err, DS_EFORMAT, "'%s' has no imageLayoutVersion", pname);
	return 0;
}

int ds_layout_open(ds_image **out, const char *dir, const char *tag, const char *platform,
		   const ds_ref *ref, ds_error *err)
{
	_cleanup_free_ char *ipath = ds_xasprintf("%s/index.json", dir);
	_cleanup_free_ char *iname = NULL;
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	_cleanup_json_ json_t *index = NULL;
	_cleanup_json_ json_t *nested = NULL;
	json_t *ms, *m, *chosen = NULL;
	const char *mt;
	char digest[DS_DIGEST_BUFSZ];
	uint64_t size;
	size_t i;
	ds_image *img;
	ds_store *store;
	ds_buf man;
	shown sh = { dir, "oci", 0 };

	if (ref && ref->transport == DS_TRANSPORT_OCI_ARCHIVE)
		sh = (shown){ ref->path, "oci-archive", 1 };
	else if (ref && ref->transport == DS_TRANSPORT_DOCKER_ARCHIVE)
		sh = (shown){ ref->path, "docker-archive", 1 };
	iname = ds_xasprintf("%s/index.json", sh.path);
	if (read_layout_marker(dir, &sh, err) < 0)
		return -1;
	ds_buf_init(&b, DS_INDEX_MAX + 1);
	if (ds_read_file(ipath, DS_INDEX_MAX, &b, err) < 0) {
		if (sh.archive && err && err->code == DS_ENOENT)
			return ds_error_set(err, DS_EFORMAT, "'%s' has no index.json", sh.path);
		if (sh.archive)
			return ds_error_set(err, err ? err->code : DS_EIO, "cannot read '%s'", iname);
		return -1;
	}
	index = ds_json_parse(b.data, b.len, iname, err);
	if (!index)
		return -1;
	ms = json_object_get(index, "manifests");
	if (!json_is_array(ms))
		return ds_error_set(err, DS_EFORMAT, "'%s' has no manifests list", iname);
	if (tag) {
		json_array_foreach (ms, i, m) {
			const char *t = ref_name(m);
			if (t && !strcmp(t, tag)) {
				chosen = m;
				break;
			}
		}
		if (!chosen) {
			ds_buf tags;
			ds_buf_init(&tags, 2048);
			list_tags(ms, &tags);
			ds_error_set(err, DS_ENOENT, "no image tagged '%s' in '%s'", tag, sh.path);
			ds_error_hint(err, "the %s has: %s", sh.archive ? "archive" : "layout",
				      tags.len ? tags.data : "no tags");
			ds_buf_release(&tags);
			return -1;
		}
	} else if (json_array_size(ms) == 1) {
		chosen = json_array_get(ms, 0);
	} else {
		ds_buf tags;
		ds_buf_init(&tags, 2048);
		list_tags(ms, &tags);
		ds_error_set(err, DS_EINVAL, "'%s' holds %zu images: name one with %s:%s:TAG",
			     sh.path, json_array_size(ms), sh.transport, sh.path);
		ds_error_hint(err, "the %s has: %s", sh.archive ? "archive" : "layout",
			      tags.len ? tags.data : "no tags");
		ds_buf_release(&tags);
		return -1;
	}
	if (ds_store_open(&store, dir, 0, err) < 0)
		return -1;
	img = ds_xcalloc(1, sizeof(*img));
	img->store = store;
	img->owns_store = 1;
	if (ds_descriptor_parse(chosen, "index.json entry", digest, &size, &mt, err) < 0)
		goto fail;
	if (mt && (!strcmp(mt, DS_MEDIA_OCI_INDEX) || !strcmp(mt, DS_MEDIA_DOCKER_LIST))) {
		ds_buf nb;
		ds_buf_init(&nb, DS_INDEX_MAX + 1);
		if (size > DS_INDEX_MAX || ds_store_read_blob(store, digest, DS_INDEX_MAX, &nb, err) < 0) {
			ds_buf_release(&nb);
			if (size > DS_INDEX_MAX)
				ds_error_set(err, DS_EFORMAT, "nested index %s is too large", digest);
			goto fail;
		}
		nested = ds_json_parse(nb.data, nb.len, "nested index", err);
		ds_buf_release(&nb);
		if (!nested || ds_index_select(nested, platform, sh.path, &chosen, err) < 0 ||
		    ds_descriptor_parse(chosen, "index entry", digest, &size, &mt, err) < 0)
			goto fail;
	}
	if (size > DS_MANIFEST_MAX) {
		ds_error_set(err, DS_EFORMAT, "manifest %s is %llu bytes, over the limit", digest,
			     (unsigned long long)size);
		goto fail;
	}
	ds_buf_init(&man, DS_MANIFEST_MAX + 1);
	if (ds_store_read_blob(store, digest, DS_MANIFEST_MAX, &man, err) < 0) {
		ds_buf_release(&man);
		goto fail;
	}
	if (man.len != size) {
		ds_error_set(err, DS_EFORMAT, "manifest %s is %zu bytes, the index says %llu", digest,
			     man.len, (unsigned long long)size);
		ds_buf_release(&man);
		goto fail;
	}
	memcpy(img->manifest_digest, digest, DS_DIGEST_BUFSZ);
	if (mt)
		img->manifest_media_type = ds_xstrdup(mt);
	img->manifest = ds_buf_detach(&man, &img->manifest_len);
	if (ds_image_load_manifest(img, "manifest", err) < 0 || ds_image_check_blobs(img, err) < 0)
		goto fail;
	*out = img;
	return 0;
fail:
	ds_error_wrap(err, "image %s '%s'", sh.archive ? "archive" : "layout", sh.path);
	ds_image_free(img);
	return -1;
}

static json_t *index_entry(const ds_image *img, const char *tag)
{
	json_t *d = json_object();
	json_object_set_new(d, "mediaType", json_string(img->manifest_media_type));
	json_object_set_new(d, "digest", json_string(img->manifest_digest));
	json_object_set_new(d, "size", json_integer((json_int_t)img->manifest_len));
	if (tag) {
		json_t *a = json_object();
		json_object_set_new(a, "org.opencontainers.image.ref.name", json_string(tag));
		json_object_set_new(d, "annotations", a);
	}
	return d;
}

static int copy_one(ds_store *dst, const ds_store *src, const char *digest, ds_write_txn *t,
		    ds_error *err)
{
	if (ds_store_has(dst, digest))
		return 0;
	if (ds_store_copy_blob(dst, src, digest, err) < 0)
		return -1;
	if (t) {
		_cleanup_free_ char *p = ds_xasprintf("%s/blobs/sha256/%s", ds_store_root(dst),
						      ds_digest_hex(digest));
		ds_write_txn_added(t, p);
	}
	return 0;
}

/* t, when not NULL, records the blobs added (an existing layout's). */
static int copy_blobs(ds_store *dst, const ds_image *img, ds_write_txn *t, ds_error *err)
{
	if (copy_one(dst, img->store, img->config_digest, t, err) < 0)
		return -1;
	for (size_t i = 0; i < img->n_layers; i++)
		if (copy_one(dst, img->store, img->layers[i].digest, t, err) < 0)
			return -1;
	if (!ds_store_has(dst, img->manifest_digest)) {
		char d[DS_DIGEST_BUFSZ];
		if (ds_store_put(dst, img->manifest, img->manifest_len, d, err) < 0)
			return -1;
		if (t) {
			_cleanup_free_ char *p = ds_xasprintf("%s/blobs/sha256/%s", ds_store_root(dst),
							      ds_digest_hex(d));
			ds_write_txn_added(t, p);
		}
	}
	return 0;
}

/* Writes the new index.json to path (atomically). */
static int write_index(const char *path, const ds_image *img, json_t *old, const char **tags,
		       size_t n_tags, ds_error *err)
{
	_cleanup_json_ json_t *idx = json_object();
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	const char *p = path;
	json_t *ms = json_array();
	json_t *m;
	size_t i;

	/* Keep the other images; a tag moves to the new image. */
	json_array_foreach (json_object_get(old, "manifests"), i, m) {
		const char *t = ref_name(m);
		int replaced = 0;
		for (size_t k = 0; t && k < n_tags; k++)
			if (!strcmp(t, tags[k]))
				replaced = 1;
		if (!replaced)
			json_array_append(ms, m);
	}
	for (i = 0; i < n_tags; i++)
		json_array_append_new(ms, index_entry(img, tags[i]));
	json_object_set_new(idx, "schemaVersion", json_integer(2));
	json_object_set_new(idx, "mediaType", json_string(DS_MEDIA_OCI_INDEX));
	json_object_set_new(idx, "manifests", ms);
	ds_buf_init(&b, DS_INDEX_MAX);
	if (ds_json_dump(idx, &b, err) < 0)
		return -1;
	return ds_write_file_atomic(p, b.data, b.len, err);
}

static void remove_store_tmp(const char *dir)
{
	_cleanup_free_ char *t = ds_xasprintf("%s/tmp", dir);
	rmdir(t);
}

int ds_layout_prepare(ds_write_txn *t, const ds_image *img, const char *dir, const char **tags,
		      size_t n_tags, ds_error *err)
{
	static const char marker[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	_cleanup_free_ char *mpath = NULL;
	_cleanup_free_ char *ipath = NULL;
	ds_store *dst = NULL;
	struct stat st;

	if (stat(dir, &st) == 0) {
		_cleanup_buf_ ds_buf b = DS_BUF_INIT;
		_cleanup_json_ json_t *old = NULL;
		int r;

		if (!S_ISDIR(st.st_mode))
			return ds_error_set(err, DS_EINVAL, "'%s' exists and is not a directory", dir);
		mpath = ds_xasprintf("%s/oci-layout", dir);
		if (!ds_path_exists(mpath)) {
			/* An empty directory is fine to fill; anything else is the user's. */
			DIR *d = opendir(dir);
			struct dirent *de;
			int empty = 1;
			while (d && (de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					empty = 0;
			if (d)
				closedir(d);
			if (!empty) {
				ds_error_set(err, DS_EINVAL, "'%s' exists and is not an OCI image layout",
					     dir);
				return ds_error_hint(err, "choose another output with -o oci:DIR, or "
							  "remove '%s'",
						     dir);
			}
			goto fresh;
		}
		{
			shown sh = { dir, "oci", 0 };
			if (read_layout_marker(dir, &sh, err) < 0)
				return ds_error_wrap(err, "cannot add to '%s'", dir);
		}
		ipath = ds_xasprintf("%s/index.json", dir);
		ds_buf_init(&b, DS_INDEX_MAX + 1);
		if (ds_read_file(ipath, DS_INDEX_MAX, &b, err) < 0)
			return ds_error_wrap(err, "cannot add to '%s'", dir);
		old = ds_json_parse(b.data, b.len, ipath, err);
		if (!old)
			return ds_error_wrap(err, "cannot add to '%s'", dir);
		if (ds_store_open(&dst, dir, 1, err) < 0)
			return -1;
		r = copy_blobs(dst, img, t, err);
		ds_store_free(dst);
		remove_store_tmp(dir);
		if (r < 0)
			return ds_error_wrap(err, "cannot write '%s'", dir);
		/* the new index waits beside the old one until commit */
		t->final = ds_xstrdup(ipath);
		t->tmp = ds_xasprintf("%s/.index.json.dsbuild-new", dir);
		if (write_index(t->tmp, img, old, tags, n_tags, err) < 0) {
			unlink(t->tmp);
			return ds_error_wrap(err, "cannot write '%s'", dir);
		}
		return 0;
	}
fresh:
	t->tmp = ds_mkdtemp_beside(dir, err);
	if (!t->tmp)
		return -1;
	t->final = ds_xstrdup(dir);
	free(mpath);
	mpath = ds_xasprintf("%s/oci-layout", t->tmp);
	ipath = ds_xasprintf("%s/index.json", t->tmp);
	if (ds_store_open(&dst, t->tmp, 1, err) < 0)
		goto fail;
	if (copy_blobs(dst, img, NULL, err) < 0 ||
	    ds_write_file_atomic(mpath, marker, sizeof(marker) - 1, err) < 0 ||
	    write_index(ipath, img, NULL, tags, n_tags, err) < 0)
		goto fail;
	dst = ds_store_free(dst);
	remove_store_tmp(t->tmp);
	if (chmod(t->tmp, 0755) < 0) {
		ds_error_set_errno(err, errno, "cannot write '%s'", dir);
		goto fail;
	}
	return 0;
fail:
	ds_store_free(dst);
	return ds_error_wrap(err, "cannot write '%s'", dir);
}
