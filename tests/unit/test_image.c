/* lib/oci/{image,layout,archive}.c: assemble -> write -> open round trips
 * through oci:, oci-archive: and docker-archive:, tags in a shared layout,
 * a hand-written nested index with platforms, and every kind of corrupt or
 * hostile input inspect may be given, each with a clear error. */
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include <dsbuild/image.h>
#include <dsbuild/layer.h>
#include <dsbuild/store.h>

#include "testutil.h"

static char *root;
static ds_store *store;
static ds_layer_desc layers[3];
static ds_image *img1, *img2;


static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ---- fixtures --------------------------------------------------------- */

static void make_layer(ds_layer_desc *d, const char *name, const char *content,
		       const char *created_by)
{
	ds_error err = DS_ERROR_INIT;
	ds_layer_writer *w;
	ds_layer_info info;
	ds_layer_entry e = { name, DS_ENTRY_FILE, 0644, 0, 0, strlen(content), NULL, 0 };

	if (ds_layer_writer_new(&w, store, NULL, &err) < 0 || ds_layer_writer_add(w, &e, &err) < 0 ||
	    ds_layer_writer_data(w, content, strlen(content), &err) < 0 ||
	    ds_layer_writer_finish(w, &info, &err) < 0) {
		printf("Bail out! layer: %s\n", err.msg);
		exit(1);
	}
	memset(d, 0, sizeof(*d));
	d->media_type = (char *)DS_MEDIA_LAYER_GZIP;
	memcpy(d->digest, info.digest, DS_DIGEST_BUFSZ);
	memcpy(d->diff_id, info.diff_id, DS_DIGEST_BUFSZ);
	d->size = info.size;
	d->created_by = (char *)created_by;
}

static json_t *make_config(const char *arch, const char *env, const ds_layer_desc *l, size_t n)
{
	json_t *c = json_object(), *rootfs = json_object(), *ids = json_array(), *h = json_array();
	json_t *cc = json_object(), *envs = json_array();

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(ids, json_string(l[i].diff_id));
		json_array_append_new(h, json_pack("{s:s}", "created_by", l[i].created_by));
		if (i == 0) /* an empty_layer entry must not shift created_by */
			json_array_append_new(h, json_pack("{s:s,s:b}", "created_by", "ENV X=1",
							   "empty_layer", 1));
	}
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_object_set_new(rootfs, "diff_ids", ids);
	json_array_append_new(envs, json_string(env));
	json_object_set_new(cc, "Env", envs);
	json_object_set_new(c, "architecture", json_string(arch));
	json_object_set_new(c, "os", json_string("linux"));
	json_object_set_new(c, "config", cc);
	json_object_set_new(c, "rootfs", rootfs);
	json_object_set_new(c, "history", h);
	return c;
}

static ds_image *make_image(const char *arch, const char *env, const ds_layer_desc *l, size_t n)
{
	ds_error err = DS_ERROR_INIT;
	json_t *cfg = make_config(arch, env, l, n);
	json_t *ann = json_pack("{s:s}", "org.opencontainers.image.title", env);
	ds_image *img = NULL;

	if (ds_image_assemble(&img, store, cfg, l, n, ann, &err) < 0) {
		printf("Bail out! assemble: %s\n", err.msg);
		exit(1);
	}
	json_decref(cfg);
	json_decref(ann);
	return img;
}

static ds_ref ref_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static ds_ref ref_of(const char *fmt, ...)
{
	ds_error err = DS_ERROR_INIT;
	va_list ap;
	char *s;
	ds_ref r;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (ds_ref_parse(&r, s, &err) < 0) {
		printf("Bail out! ref '%s': %s\n", s, err.msg);
		exit(1);
	}
	free(s);
	return r;
}

static int write_to(const ds_image *img, const char *ref, ds_error *err)
{
	ds_ref r = ref_of("%s", ref);
	int rc = ds_image_write(img, &r, NULL, err);
	ds_ref_release(&r);
	return rc;
}

/* Opens ref; returns the image or NULL with err set. */
static ds_image *open_ref(const char *ref, const char *platform, ds_error *err)
{
	ds_ref r = ref_of("%s", ref);
	ds_image *img = NULL;

	ds_error_clear(err);
	if (ds_image_open(&img, &r, platform, err) < 0)
		img = NULL;
	ds_ref_release(&r);
	return img;
}

static json_t *load_json(const char *path)
{
	json_error_t je;
	return json_load_file(path, 0, &je);
}

static void put_blob(const char *dir, const char *data, size_t len, char digest[DS_DIGEST_BUFSZ])
{
	ds_error err = DS_ERROR_INIT;
	char *p;

	ds_sha256_buf(data, len, digest, &err);
	p = F("%s/blobs/sha256/%s", dir, digest + 7);
	tu_write(p, data, len);
}

static void put_json_blob(const char *dir, json_t *j, char digest[DS_DIGEST_BUFSZ], size_t *len)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	put_blob(dir, s, strlen(s), digest);
	if (len)
		*len = strlen(s);
	free(s);
}

static void write_index(const char *dir, json_t *index)
{
	char *p = F("%s/index.json", dir);
	char *s = json_dumps(index, JSON_COMPACT);
	tu_writes(p, s);
	free(s);
}

/* A copy of the good layout (one image, tag v1) to break. */
static char *copy_layout(const char *name)
{
	char *d = F("%s/%s", root, name);
	if (tu_sh("cp -a '%s/good' '%s'", root, d) != 0)
		exit(99);
	return d;
}

static char *blob_file(const char *dir, const char *digest)
{
	return F("%s/blobs/sha256/%s", dir, digest + 7);
}

/* Entries of dir whose name contains "tmp". */
static int count_tmp(const char *dir)
{
	char *cmd = F("ls -A '%s' | grep -c '[.]tmp-'", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;

	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

/* ---- raw tar writing for hostile archives ------------------------------ */

typedef struct tarbuf {
	unsigned char *p;
	size_t len, cap;
} tarbuf;

static void tb_add(tarbuf *t, const void *d, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 4096;
		t->p = realloc(t->p, t->cap);
	}
	memcpy(t->p + t->len, d, n);
	t->len += n;
}

static void tb_pad(tarbuf *t)
{
	static const unsigned char z[512];
	if (t->len % 512)
		tb_add(t, z, 512 - t->len % 512);
}

/* One ustar header + data.  type '0' file, '1' hard link, '2' symlink,
 * '5' dir, 'x' pax header. */
static void tb_entry(tarbuf *t, const char *name, char type, const char *link, const void *data,
		     size_t size)
{
	unsigned char h[512];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011zo", size);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = (unsigned char)type;
	if (link)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	tb_add(t, h, 512);
	if (size) {
		tb_add(t, data, size);
		tb_pad(t);
	}
}

/* A pax extended header with one record, for the entry that follows. */
static void tb_pax(tarbuf *t, const char *key, const char *value)
{
	char rec[512];
	size_t n = strlen(key) + strlen(value) + 3, len = n + 1;

	while (len != n + (size_t)snprintf(NULL, 0, "%zu", len))
		len = n + (size_t)snprintf(NULL, 0, "%zu", len);
	snprintf(rec, sizeof(rec), "%zu %s=%s\n", len, key, value);
	tb_entry(t, "PaxHeader", 'x', NULL, rec, strlen(rec));
}

static void tb_finish(tarbuf *t, const char *path)
{
	static const unsigned char z[1024];
	tb_add(t, z, 1024);
	tu_write(path, t->p, t->len);
	free(t->p);
	memset(t, 0, sizeof(*t));
}

/* ---- tests ------------------------------------------------------------ */

static void check_same(const ds_image *got, const ds_image *want, const char *what)
{
	ok(got != NULL, "%s: opened", what);
	if (!got)
		return;
	is_str(got->manifest_digest, want->manifest_digest, "%s: manifest digest", what);
	is_str(got->config_digest, want->config_digest, "%s: config digest", what);
	is_int(got->n_layers, want->n_layers, "%s: layer count", what);
	for (size_t i = 0; i < got->n_layers && i < want->n_layers; i++) {
		is_str(got->layers[i].digest, want->layers[i].digest, "%s: layer %zu digest", what, i);
		is_int(got->layers[i].size, want->layers[i].size, "%s: layer %zu size", what, i);
		is_str(got->layers[i].diff_id, want->layers[i].diff_id, "%s: layer %zu diff_id", what,
		       i);
		is_str(got->layers[i].created_by, want->layers[i].created_by,
		       "%s: layer %zu created_by (empty_layer entries skipped)", what, i);
	}
}

static void test_assemble(void)
{
	ds_error err = DS_ERROR_INIT;
	char d[DS_DIGEST_BUFSZ];
	json_t *m;

	ok(img1 && img1->n_layers == 2, "assemble an image of two layers");
	ds_sha256_buf(img1->manifest, img1->manifest_len, d, &err);
	is_str(d, img1->manifest_digest, "manifest digest = sha256 of its bytes");
	ok(ds_store_has(store, img1->manifest_digest), "the manifest is in the store");
	ok(ds_store_has(store, img1->config_digest), "the config is in the store");
	m = json_loadb(img1->manifest, img1->manifest_len, 0, NULL);
	ok(m != NULL, "the manifest is JSON");
	is_int(json_integer_value(json_object_get(m, "schemaVersion")), 2, "schemaVersion 2");
	is_str(json_string_value(json_object_get(m, "mediaType")), DS_MEDIA_OCI_MANIFEST,
	       "OCI manifest media type");
	is_str(json_string_value(json_object_get(json_object_get(m, "config"), "digest")),
	       img1->config_digest, "config descriptor digest");
	is_int(json_integer_value(json_object_get(json_object_get(m, "config"), "size")),
	       img1->config_size, "config descriptor size");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(m, "layers"), 1),
						 "digest")),
	       layers[1].digest, "second layer descriptor");
	is_str(json_string_value(json_object_get(json_object_get(m, "annotations"),
						 "org.opencontainers.image.title")),
	       "IMG=1", "annotations");
	{
		char *s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
		ok(strlen(s) == img1->manifest_len && !memcmp(s, img1->manifest, img1->manifest_len),
		   "serialised compact with sorted keys");
		free(s);
	}
	json_decref(m);
	{
		ds_image *again = make_image("amd64", "IMG=1", layers, 2);
		is_str(again->manifest_digest, img1->manifest_digest,
		       "assembling the same image again gives the same digest");
		ds_image_free(again);
	}
	ok_err(ds_image_verify(img1, &err) == 0, &err, "verify the assembled image");
}

static void test_layout(void)
{
	ds_error err = DS_ERROR_INIT;
	char *dir = F("%s/good", root);
	char *p;
	json_t *idx, *ms;
	ds_image *got;
	struct stat st;

	ok_err(write_to(img1, F("oci:%s:v1", dir), &err) == 0, &err, "write oci:DIR:v1 (new)");
	p = F("%s/oci-layout", dir);
	{
		char *s = tu_read(p, NULL);
		has_str(s, "\"imageLayoutVersion\":\"1.0.0\"", "oci-layout written");
		free(s);
	}
	p = F("%s/index.json", dir);
	idx = load_json(p);
	ms = json_object_get(idx, "manifests");
	is_int(json_array_size(ms), 1, "index.json lists one manifest");
	is_str(json_string_value(json_object_get(json_object_get(json_array_get(ms, 0),
								  "annotations"),
						 "org.opencontainers.image.ref.name")),
	       "v1", "tagged v1");
	is_str(json_string_value(json_object_get(json_array_get(ms, 0), "digest")),
	       img1->manifest_digest, "pointing at the manifest");
	json_decref(idx);
	p = F("%s/tmp", dir);
	ok(stat(p, &st) < 0, "no tmp/ left in the layout");
	is_int(count_tmp(root), 0, "no temp dir left beside it");
	ok(ds_store_has(store, img1->manifest_digest), "source store untouched");

	got = open_ref(F("oci:%s", dir), NULL, &err);
	check_same(got, img1, "oci: no tag, one image");
	if (got) {
		is_str(got->manifest_media_type, DS_MEDIA_OCI_MANIFEST, "manifest media type");
		ok(got->manifest_len == img1->manifest_len &&
			   !memcmp(got->manifest, img1->manifest, img1->manifest_len),
		   "manifest bytes as written");
		ok(json_equal(got->config, img1->config), "config as written");
		ok_err(ds_image_verify(got, &err) == 0, &err, "verify passes");
	}
	ds_image_free(got);
	got = open_ref(F("oci:%s:v1", dir), NULL, &err);
	check_same(got, img1, "oci: tag v1");
	ds_image_free(got);

	got = open_ref(F("oci:%s:v9", dir), NULL, &err);
	ok(!got, "a missing tag fails");
	is_int(err.code, DS_ENOENT, "with DS_ENOENT");
	has_str(err.msg, "no image tagged 'v9'", "saying which tag: %s", err.msg);
	has_str(err.hint, "v1", "the hint lists the tags: %s", err.hint);

	/* a second image under another tag */
	ok_err(write_to(img2, F("oci:%s:v2", dir), &err) == 0, &err,
	       "add img2 as v2 to the same layout");
	idx = load_json(p = F("%s/index.json", dir));
	is_int(json_array_size(json_object_get(idx, "manifests")), 2, "index.json keeps v1");
	json_decref(idx);
	ok(stat(F("%s/tmp", dir), &st) < 0, "no tmp/ left after adding a tag");
	is_int(count_tmp(dir), 0, "no temp file left in the layout");
	is_int(count_tmp(root), 0, "nor beside it");
	got = open_ref(F("oci:%s:v1", dir), NULL, &err);
	check_same(got, img1, "v1 after adding v2");
	ds_image_free(got);
	got = open_ref(F("oci:%s:v2", dir), NULL, &err);
	check_same(got, img2, "v2");
	ds_image_free(got);
	got = open_ref(F("oci:%s", dir), NULL, &err);
	ok(!got, "no tag with two images fails");
	is_int(err.code, DS_EINVAL, "with DS_EINVAL");
	has_str(err.msg, "holds 2 images", "saying how many: %s", err.msg);
	has_str(err.msg, "TAG", "and how to name one");
	has_str(err.hint, "v1, v2", "the hint lists the tags: %s", err.hint);

	/* re-tag: v1 moves to img2, v2 stays */
	ok_err(write_to(img2, F("oci:%s:v1", dir), &err) == 0, &err, "re-tag v1 to img2");
	idx = load_json(p);
	is_int(json_array_size(json_object_get(idx, "manifests")), 2,
	       "still two entries (v1 replaced, not duplicated)");
	json_decref(idx);
	got = open_ref(F("oci:%s:v1", dir), NULL, &err);
	check_same(got, img2, "v1 after re-tagging");
	ds_image_free(got);
	got = open_ref(F("oci:%s:v2", dir), NULL, &err);
	check_same(got, img2, "v2 after re-tagging v1");
	ds_image_free(got);

	/* ds_write_opts tags; the ref's own tag wins */
	{
		const char *tags[] = { "team/app:1.0", "app:latest", "1.0" };
		ds_write_opts o = DS_WRITE_OPTS_INIT;
		ds_ref r = ref_of("oci:%s", dir);
		o.tags = tags;
		o.n_tags = 3;
		ok_err(ds_image_write(img1, &r, &o, &err) == 0, &err, "write with three -t tags");
		ds_ref_release(&r);
		idx = load_json(p);
		is_int(json_array_size(json_object_get(idx, "manifests")), 4,
		       "NAME:TAG gives TAG; duplicates are written once (v1, v2, 1.0, latest)");
		json_decref(idx);
		got = open_ref(F("oci:%s:latest", dir), NULL, &err);
		check_same(got, img1, "tag 'latest' from 'app:latest'");
		ds_image_free(got);
		r = ref_of("oci:%s:own", dir);
		ds_image_write(img2, &r, &o, &err);
		ds_ref_release(&r);
		got = open_ref(F("oci:%s:own", dir), NULL, &err);
		check_same(got, img2, "the ref's own tag");
		ds_image_free(got);
		got = open_ref(F("oci:%s:1.0", dir), NULL, &err);
		check_same(got, img1, "and the opts tags were not applied then");
		ds_image_free(got);
	}

	/* the "good" fixture for the corruption tests: one image, tag v1 */
	tu_rm_rf(dir);
	write_to(img1, F("oci:%s:v1", dir), &err);

	/* an empty existing folder is filled; a non-empty foreign one refused */
	dir = F("%s/emptydir", root);
	mkdir(dir, 0755);
	ok_err(write_to(img1, F("oci:%s", dir), &err) == 0, &err, "an empty folder is filled");
	got = open_ref(F("oci:%s:latest", dir), NULL, &err);
	check_same(got, img1, "with the default tag 'latest'");
	ds_image_free(got);
	dir = F("%s/userdir", root);
	mkdir(dir, 0755);
	tu_writes(p = F("%s/notes.txt", dir), "mine");
	ok(write_to(img1, F("oci:%s", dir), &err) == -1, "a folder with other files is refused");
	is_int(err.code, DS_EINVAL, "with DS_EINVAL");
	has_str(err.msg, "is not an OCI image layout", "saying why: %s", err.msg);
	is_int(tu_count_entries(dir), 1, "and left alone");
	dir = F("%s/no/such/parent", root);
	ok(write_to(img1, F("oci:%s", dir), &err) == -1, "a missing parent folder fails");
	has_str(err.msg, dir, "naming the destination: %s", err.msg);
}

/* Replaces good's image with a hand-written manifest; returns the dir. */
static char *layout_with_manifest(const char *name, json_t *manifest)
{
	char *dir = copy_layout(name);
	char d[DS_DIGEST_BUFSZ];
	size_t len;
	json_t *idx;

	put_json_blob(dir, manifest, d, &len);
	idx = json_pack("{s:i,s:s,s:[{s:s,s:s,s:I}]}", "schemaVersion", 2, "mediaType",
			DS_MEDIA_OCI_INDEX, "manifests", "mediaType", DS_MEDIA_OCI_MANIFEST, "digest",
			d, "size", (json_int_t)len);
	write_index(dir, idx);
	json_decref(idx);
	json_decref(manifest);
	return dir;
}

static json_t *manifest_of(const ds_image *img)
{
	return json_loadb(img->manifest, img->manifest_len, 0, NULL);
}

/* Opens oci:dir and expects failure with code and a message part. */
static void bad_layout(const char *dir, const char *platform, int code, const char *part,
		       const char *what)
{
	ds_error err = DS_ERROR_INIT;
	ds_image *got = open_ref(F("oci:%s", dir), platform, &err);

	ok(!got, "%s: refused", what);
	is_int(err.code, code, "%s: error code", what);
	has_str(err.msg, part, "%s: message: %s", what, err.msg);
	ds_image_free(got);
}

static void test_corrupt_layout(void)
{
	ds_error err = DS_ERROR_INIT;
	char *dir, *p;
	json_t *m, *idx;
	ds_image *got;

	/* index.json / oci-layout */
	dir = copy_layout("c-index");
	tu_writes(p = F("%s/index.json", dir), "{\"manifests\": [");
	bad_layout(dir, NULL, DS_EFORMAT, "is not valid JSON", "broken index.json");
	tu_writes(p, "{\"schemaVersion\":2}");
	bad_layout(dir, NULL, DS_EFORMAT, "has no manifests list", "index.json without manifests");
	tu_writes(p, "[]");
	bad_layout(dir, NULL, DS_EFORMAT, "has no manifests list", "index.json that is an array");
	unlink(p);
	bad_layout(dir, NULL, DS_ENOENT, "index.json", "missing index.json");

	dir = copy_layout("c-marker");
	unlink(p = F("%s/oci-layout", dir));
	bad_layout(dir, NULL, DS_EFORMAT, "is not an OCI image layout: it has no oci-layout file",
		   "missing oci-layout");
	got = open_ref(F("oci:%s", dir), NULL, &err);
	has_str(err.hint, "dsbuild build -o oci:", "with a hint: %s", err.hint);
	tu_writes(p, "not json");
	bad_layout(dir, NULL, DS_EFORMAT, "oci-layout' is not valid JSON", "oci-layout not JSON");
	tu_writes(p, "{}");
	bad_layout(dir, NULL, DS_EFORMAT, "has no imageLayoutVersion", "oci-layout without version");
	bad_layout(F("%s/does-not-exist", root), NULL, DS_ENOENT, "cannot open image layout",
		   "a missing layout folder");
	p = F("%s/plainfile", root);
	tu_writes(p, "x");
	bad_layout(p, NULL, DS_EINVAL, "is not a directory", "a file instead of a layout");

	/* manifest: size and digest */
	dir = copy_layout("c-msize");
	idx = load_json(p = F("%s/index.json", dir));
	json_object_set_new(json_array_get(json_object_get(idx, "manifests"), 0), "size",
			    json_integer((json_int_t)img1->manifest_len + 1));
	write_index(dir, idx);
	json_decref(idx);
	{
		char want[200];
		snprintf(want, sizeof(want), "manifest %s is %zu bytes, the index says %zu",
			 img1->manifest_digest, img1->manifest_len, img1->manifest_len + 1);
		bad_layout(dir, NULL, DS_EFORMAT, want, "manifest size mismatch (both sizes right)");
	}

	dir = copy_layout("c-mdigest");
	{
		char *f = blob_file(dir, img1->manifest_digest);
		char *s = tu_read(f, NULL);
		s[5] = s[5] == ' ' ? '\t' : ' '; /* same size, other bytes */
		tu_writes(f, s);
		free(s);
	}
	bad_layout(dir, NULL, DS_EFORMAT, "is corrupt", "manifest digest mismatch");

	dir = copy_layout("c-mmissing");
	unlink(p = blob_file(dir, img1->manifest_digest));
	bad_layout(dir, NULL, DS_ENOENT, "is missing", "missing manifest blob");

	/* config: size, digest, missing */
	m = manifest_of(img1);
	json_object_set_new(json_object_get(m, "config"), "size",
			    json_integer((json_int_t)img1->config_size - 1));
	dir = layout_with_manifest("c-csize", m);
	bad_layout(dir, NULL, DS_EFORMAT, "config is", "config size mismatch");

	dir = copy_layout("c-cdigest");
	{
		char *f = blob_file(dir, img1->config_digest);
		char *s = tu_read(f, NULL);
		s[1] = s[1] == 'a' ? 'b' : 'a';
		tu_writes(f, s);
		free(s);
	}
	bad_layout(dir, NULL, DS_EFORMAT, "is corrupt", "config digest mismatch");

	dir = copy_layout("c-cmissing");
	unlink(p = blob_file(dir, img1->config_digest));
	bad_layout(dir, NULL, DS_ENOENT, "config", "missing config blob");

	/* layers: size, missing, content */
	m = manifest_of(img1);
	json_object_set_new(json_array_get(json_object_get(m, "layers"), 1), "size",
			    json_integer((json_int_t)layers[1].size + 7));
	dir = layout_with_manifest("c-lsize", m);
	bad_layout(dir, NULL, DS_EFORMAT, "but the manifest says", "layer size mismatch");

	dir = copy_layout("c-lmissing");
	unlink(p = blob_file(dir, layers[0].digest));
	bad_layout(dir, NULL, DS_ENOENT, "layer 1", "missing layer blob");

	dir = copy_layout("c-ldigest");
	{
		char *f = blob_file(dir, layers[1].digest);
		size_t n;
		char *s = tu_read(f, &n);
		s[n / 2] ^= 0x55;
		tu_write(f, s, n);
		free(s);
	}
	got = open_ref(F("oci:%s", dir), NULL, &err);
	ok_err(got != NULL, &err, "a layer with flipped bytes but the right size opens");
	if (got) {
		ok(ds_image_verify(got, &err) == -1, "but ds_image_verify catches it");
		is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
		has_str(err.msg, "layer 2", "naming the layer: %s", err.msg);
		has_str(err.msg, "is corrupt", "saying it is corrupt");
	}
	ds_image_free(got);

	/* manifest and config content */
	m = manifest_of(img1);
	json_object_set_new(m, "schemaVersion", json_integer(1));
	dir = layout_with_manifest("c-schema", m);
	bad_layout(dir, NULL, DS_EFORMAT, "unsupported schemaVersion", "schemaVersion 1");

	m = manifest_of(img1);
	json_object_set_new(m, "mediaType", json_string("application/vnd.docker.distribution.manifest.v1+json"));
	dir = copy_layout("c-mtype");
	{
		char d[DS_DIGEST_BUFSZ];
		size_t len;
		put_json_blob(dir, m, d, &len);
		idx = json_pack("{s:i,s:[{s:s,s:s,s:I}]}", "schemaVersion", 2, "manifests", "mediaType",
				"application/vnd.docker.distribution.manifest.v1+json", "digest", d,
				"size", (json_int_t)len);
		write_index(dir, idx);
		json_decref(idx);
	}
	json_decref(m);
	bad_layout(dir, NULL, DS_EUNSUPPORTED, "unsupported manifest type", "schema 1 manifest");

	m = manifest_of(img1);
	json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "mediaType",
			    json_string("application/vnd.example.weird"));
	dir = layout_with_manifest("c-lmt", m);
	bad_layout(dir, NULL, DS_EUNSUPPORTED, "has media type 'application/vnd.example.weird'",
		   "unknown layer media type");

	m = manifest_of(img1);
	json_array_remove(json_object_get(m, "layers"), 1);
	dir = layout_with_manifest("c-diffids", m);
	bad_layout(dir, NULL, DS_EFORMAT, "lists 2 diff_ids for 1 layers", "diff_ids count mismatch");

	m = manifest_of(img1);
	json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "digest",
			    json_string("sha512:abcd"));
	dir = layout_with_manifest("c-sha512", m);
	bad_layout(dir, NULL, DS_EUNSUPPORTED, "sha512", "a sha512 layer digest");

	m = manifest_of(img1);
	json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "digest",
			    json_string("sha256:../../../../etc/passwd"));
	dir = layout_with_manifest("c-traversal", m);
	bad_layout(dir, NULL, DS_EFORMAT, "invalid digest", "a digest that is a path");

	m = manifest_of(img1);
	json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "size",
			    json_integer(-1));
	dir = layout_with_manifest("c-negsize", m);
	bad_layout(dir, NULL, DS_EFORMAT, "no valid size", "a negative size");

	m = json_array();
	dir = layout_with_manifest("c-marray", m);
	bad_layout(dir, NULL, DS_EFORMAT, "not a JSON object", "a manifest that is an array");

	m = manifest_of(img1);
	{
		json_t *ls = json_array();
		for (int i = 0; i < DS_LAYERS_MAX + 1; i++)
			json_array_append(ls, json_array_get(json_object_get(m, "layers"), 0));
		json_object_set_new(m, "layers", ls);
	}
	dir = layout_with_manifest("c-many", m);
	bad_layout(dir, NULL, DS_EFORMAT, "over the limit", "1001 layers");

	/* a config that is not an object */
	dir = copy_layout("c-cfgarray");
	{
		char d[DS_DIGEST_BUFSZ];
		size_t len;
		json_t *c = json_array();
		put_json_blob(dir, c, d, &len);
		json_decref(c);
		m = manifest_of(img1);
		json_object_set_new(json_object_get(m, "config"), "digest", json_string(d));
		json_object_set_new(json_object_get(m, "config"), "size", json_integer((json_int_t)len));
		put_json_blob(dir, m, d, &len);
		idx = json_pack("{s:i,s:[{s:s,s:s,s:I}]}", "schemaVersion", 2, "manifests", "mediaType",
				DS_MEDIA_OCI_MANIFEST, "digest", d, "size", (json_int_t)len);
		write_index(dir, idx);
		json_decref(idx);
		json_decref(m);
	}
	bad_layout(dir, NULL, DS_EFORMAT, "config is not a JSON object", "a config that is an array");
}

static void test_nested_index(void)
{
	ds_error err = DS_ERROR_INIT;
	char *dir = copy_layout("nested");
	char d[DS_DIGEST_BUFSZ];
	size_t len;
	json_t *nested, *idx;
	ds_image *got;
	int host_amd64 = !strcmp(ds_platform_host(), "linux/amd64");

	/* the blobs of img2 are not in good/: copy them */
	ds_store *s;
	ds_store_open(&s, dir, 0, &err);
	ds_store_copy_blob(s, store, img2->config_digest, &err);
	ds_store_put(s, img2->manifest, img2->manifest_len, d, &err);
	for (size_t i = 0; i < img2->n_layers; i++)
		ds_store_copy_blob(s, store, img2->layers[i].digest, &err);
	ds_store_free(s);

	nested = json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:{s:s,s:s}},{s:s,s:s,s:I,s:{s:s,s:s,s:s}}]}",
			   "schemaVersion", 2, "mediaType", DS_MEDIA_OCI_INDEX, "manifests",
			   "mediaType", DS_MEDIA_OCI_MANIFEST, "digest", img1->manifest_digest,
			   "size", (json_int_t)img1->manifest_len, "platform", "os", "linux",
			   "architecture", "amd64", "mediaType", DS_MEDIA_OCI_MANIFEST, "digest",
			   img2->manifest_digest, "size", (json_int_t)img2->manifest_len,
			   "platform", "os", "linux", "architecture", "arm64", "variant", "v8");
	put_json_blob(dir, nested, d, &len);
	json_decref(nested);
	idx = json_pack("{s:i,s:[{s:s,s:s,s:I,s:{s:s}}]}", "schemaVersion", 2, "manifests",
			"mediaType", DS_MEDIA_OCI_INDEX, "digest", d, "size", (json_int_t)len,
			"annotations", "org.opencontainers.image.ref.name", "multi");
	write_index(dir, idx);
	json_decref(idx);

	got = open_ref(F("oci:%s:multi", dir), "linux/amd64", &err);
	ok_err(got != NULL, &err, "nested index: linux/amd64");
	check_same(got, img1, "linux/amd64 picks img1");
	ds_image_free(got);
	got = open_ref(F("oci:%s:multi", dir), "linux/arm64", &err);
	check_same(got, img2, "linux/arm64 picks the arm64/v8 entry");
	ds_image_free(got);
	got = open_ref(F("oci:%s:multi", dir), "linux/arm64/v8", &err);
	check_same(got, img2, "linux/arm64/v8 too");
	ds_image_free(got);
	got = open_ref(F("oci:%s", dir), NULL, &err);
	if (host_amd64)
		check_same(got, img1, "no platform: the host's (amd64)");
	else
		ok(got != NULL || err.code == DS_ENOENT, "no platform: the host's");
	ds_image_free(got);

	got = open_ref(F("oci:%s:multi", dir), "linux/s390x", &err);
	ok(!got, "a platform the index lacks fails");
	is_int(err.code, DS_ENOENT, "with DS_ENOENT");
	has_str(err.msg, "has no image for platform linux/s390x", "naming it: %s", err.msg);
	has_str(err.hint, "linux/amd64, linux/arm64/v8", "listing the available ones: %s", err.hint);
	got = open_ref(F("oci:%s:multi", dir), "linux/arm/v7", &err);
	ok(!got && err.code == DS_ENOENT, "arm/v7 does not match arm64/v8");
	got = open_ref(F("oci:%s:multi", dir), "linux", &err);
	ok(!got, "an invalid platform fails");
	is_int(err.code, DS_EINVAL, "with DS_EINVAL");
	has_str(err.msg, "invalid platform 'linux'", "naming it: %s", err.msg);
	has_str(err.hint, "OS/ARCH", "with a hint: %s", err.hint);

	/* a nested index whose blob is corrupt */
	{
		char *f = blob_file(dir, d);
		char *sdata = tu_read(f, NULL);
		sdata[3] ^= 1;
		tu_writes(f, sdata);
		free(sdata);
	}
	got = open_ref(F("oci:%s", dir), "linux/amd64", &err);
	ok(!got && err.code == DS_EFORMAT, "a corrupt nested index fails with DS_EFORMAT");
	has_str(err.msg, "is corrupt", "saying so: %s", err.msg);
}

static void tar_names(const char *file, ds_buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;

	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, file, 65536) == ARCHIVE_OK)
		while (archive_read_next_header(a, &ae) == ARCHIVE_OK)
			ds_buf_addf(out, "%s\n", archive_entry_pathname(ae));
	archive_read_free(a);
}

/* Extracts one member of a tar into a malloc'd buffer. */
static char *tar_member(const char *file, const char *name, size_t *len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char *r = NULL;

	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, file, 65536) == ARCHIVE_OK)
		while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
			if (strcmp(archive_entry_pathname(ae), name))
				continue;
			size_t n = (size_t)archive_entry_size(ae);
			r = malloc(n + 1);
			if (archive_read_data(a, r, n) != (la_ssize_t)n) {
				free(r);
				r = NULL;
				break;
			}
			r[n] = '\0';
			if (len)
				*len = n;
			break;
		}
	archive_read_free(a);
	return r;
}

static void test_oci_archive(void)
{
	ds_error err = DS_ERROR_INIT;
	char *file = F("%s/img.oci.tar", root);
	char *tmpd = F("%s/tmpd", root);
	ds_buf names = DS_BUF_INIT;
	ds_image *got;

	ok_err(write_to(img1, F("oci-archive:%s:v3", file), &err) == 0, &err,
	       "write oci-archive:FILE:v3");
	is_int(count_tmp(root), 0, "no temp file left beside the archive");
	tar_names(file, &names);
	has_str(names.data, "oci-layout\n", "the archive holds oci-layout");
	has_str(names.data, "index.json\n", "index.json");
	has_str(names.data, img1->manifest_digest + 7, "the manifest blob");
	has_str(names.data, layers[1].digest + 7, "the layer blobs");
	ds_buf_release(&names);
	{
		char *s = tar_member(file, "index.json", NULL);
		has_str(s, "\"org.opencontainers.image.ref.name\":\"v3\"", "tagged v3");
		free(s);
	}
	got = open_ref(F("oci-archive:%s", file), NULL, &err);
	ok_err(got != NULL, &err, "open it back");
	check_same(got, img1, "oci-archive round trip");
	if (got) {
		ok_err(ds_image_verify(got, &err) == 0, &err, "and verify it");
		ok(got->tmpdir && exists(got->tmpdir), "extracted to a temp dir");
		char *t = strdup(got->tmpdir);
		ds_image_free(got);
		ok(!exists(t), "which ds_image_free removes");
		free(t);
	}
	got = open_ref(F("oci-archive:%s:v3", file), NULL, &err);
	check_same(got, img1, "oci-archive with its tag");
	ds_image_free(got);
	got = open_ref(F("oci-archive:%s:nope", file), NULL, &err);
	ok(!got, "a missing tag in an archive fails");
	is_int(err.code, DS_ENOENT, "with DS_ENOENT");
	has_str(err.msg, "no image tagged 'nope'", "naming the tag: %s", err.msg);
	has_str(err.msg, file, "and the archive");
	ok(!strstr(err.msg, "dsbuild-archive-"), "not the temp dir it was extracted to");
	has_str(err.hint, "v3", "listing the tags: %s", err.hint);
	is_int(tu_count_entries(tmpd), 0, "no extraction dir left after failures");

	got = open_ref(F("oci-archive:%s/missing.tar", root), NULL, &err);
	ok(!got && err.code == DS_ENOENT, "a missing archive is DS_ENOENT");
	has_str(err.msg, "missing.tar' does not exist", "saying so: %s", err.msg);
	{
		char *junk = F("%s/junk.tar", root);
		tu_writes(junk, "this is not a tar archive at all, just text\n");
		got = open_ref(F("oci-archive:%s", junk), NULL, &err);
		ok(!got && err.code == DS_EFORMAT, "a file that is not a tar is DS_EFORMAT");
		has_str(err.msg, junk, "naming it: %s", err.msg);
	}
	{
		/* a valid tar that is not an image */
		char *t = F("%s/notimage.tar", root);
		tarbuf tb = { 0 };
		tb_entry(&tb, "README", '0', NULL, "hi\n", 3);
		tb_finish(&tb, t);
		got = open_ref(F("oci-archive:%s", t), NULL, &err);
		ok(!got && err.code == DS_EFORMAT, "a tar without oci-layout is DS_EFORMAT");
		has_str(err.msg, "oci-layout", "saying what is missing: %s", err.msg);
		has_str(err.msg, t, "naming the archive");
		ok(!strstr(err.msg, "dsbuild-archive-") && !strstr(err.hint, "dsbuild-archive-"),
		   "and not the temp dir: %s / %s", err.msg, err.hint);
	}
	is_int(tu_count_entries(tmpd), 0, "no extraction dir left");
}

static void test_docker_archive(void)
{
	ds_error err = DS_ERROR_INIT;
	char *file = F("%s/img.docker.tar", root);
	json_t *mj, *e;
	ds_image *got;
	char *s;

	ok_err(write_to(img1, F("docker-archive:%s:team/app:1.0", file), &err) == 0, &err,
	       "write docker-archive:FILE:team/app:1.0");
	s = tar_member(file, "manifest.json", NULL);
	ok(s != NULL, "the archive has manifest.json");
	mj = s ? json_loads(s, 0, NULL) : NULL;
	free(s);
	e = json_array_get(mj, 0);
	ok(json_is_array(mj) && json_array_size(mj) == 1, "manifest.json lists one image");
	is_str(json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0)), "team/app:1.0",
	       "RepoTags");
	{
		char *want = F("blobs/sha256/%s", img1->config_digest + 7);
		is_str(json_string_value(json_object_get(e, "Config")), want, "Config path");
	}
	is_int(json_array_size(json_object_get(e, "Layers")), 2, "two layers");
	for (size_t i = 0; i < 2; i++) {
		const char *lp = json_string_value(json_array_get(json_object_get(e, "Layers"), i));
		size_t n = 0;
		char *data = lp ? tar_member(file, lp, &n) : NULL;
		char d[DS_DIGEST_BUFSZ] = "";
		if (data)
			ds_sha256_buf(data, n, d, &err);
		is_str(d, layers[i].diff_id, "layer %zu is stored uncompressed: sha256 = diff_id", i);
		ok(data && n >= 1024 && data[257] == 'u', "layer %zu is a plain tar", i);
		free(data);
	}
	json_decref(mj);
	s = tar_member(file, "index.json", NULL);
	has_str(s, "\"io.containerd.image.name\":\"team/app:1.0\"", "index.json names the image");
	has_str(s, "\"org.opencontainers.image.ref.name\":\"1.0\"", "and tags it 1.0");
	free(s);

	got = open_ref(F("docker-archive:%s", file), NULL, &err);
	ok_err(got != NULL, &err, "open the docker-archive back");
	if (got) {
		is_str(got->config_digest, img1->config_digest, "same config");
		is_int(got->n_layers, 2, "two layers");
		for (size_t i = 0; i < got->n_layers && i < 2; i++) {
			is_str(got->layers[i].digest, layers[i].diff_id,
			       "layer %zu digest is the diff_id (uncompressed)", i);
			is_str(got->layers[i].diff_id, layers[i].diff_id, "layer %zu diff_id", i);
			is_str(got->layers[i].media_type, DS_MEDIA_LAYER_TAR, "layer %zu media type", i);
		}
		is_str(json_string_value(json_object_get(
			       json_object_get(got->manifest_json, "annotations"),
			       "org.opencontainers.image.title")),
		       "IMG=1", "annotations carried over");
		ok_err(ds_image_verify(got, &err) == 0, &err, "it verifies");
	}
	ds_image_free(got);
	got = open_ref(F("docker-archive:%s:team/app:1.0", file), NULL, &err);
	ok_err(got != NULL, &err, "open it by NAME:TAG");
	ds_image_free(got);
	/* write it again from what we read: same bytes (deterministic) */
	{
		char *f2 = F("%s/img2.docker.tar", root);
		char *a, *b;
		size_t na, nb;
		write_to(img1, F("docker-archive:%s:team/app:1.0", f2), &err);
		a = tu_read(file, &na);
		b = tu_read(f2, &nb);
		ok(a && b && na == nb && !memcmp(a, b, na), "writing it twice gives the same bytes");
		free(a);
		free(b);
	}
}

/* A pre-25 docker save: no oci-layout, manifest.json names files. */
static void test_legacy_docker(void)
{
	ds_error err = DS_ERROR_INIT;
	char *file = F("%s/legacy.tar", root);
	tarbuf layer = { 0 }, tb = { 0 };
	char did[DS_DIGEST_BUFSZ];
	char *cfg, *man;
	ds_image *got;

	tb_entry(&layer, "hello.txt", '0', NULL, "hello\n", 6);
	tb_add(&layer, (const unsigned char[1024]){ 0 }, 1024);
	ds_sha256_buf(layer.p, layer.len, did, &err);
	cfg = F("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		     "\"diff_ids\":[\"%s\"]},\"history\":[{\"created_by\":\"legacy\"}]}",
		     did);
	man = F("[{\"Config\":\"abc.json\",\"RepoTags\":[\"old:1\"],\"Layers\":[\"l1/layer.tar\"]}]");
	tb_entry(&tb, "abc.json", '0', NULL, cfg, strlen(cfg));
	tb_entry(&tb, "l1", '5', NULL, NULL, 0);
	tb_entry(&tb, "l1/layer.tar", '0', NULL, layer.p, layer.len);
	tb_entry(&tb, "manifest.json", '0', NULL, man, strlen(man));
	tb_finish(&tb, file);
	got = open_ref(F("docker-archive:%s", file), NULL, &err);
	ok_err(got != NULL, &err, "a legacy docker-archive opens");
	if (got) {
		is_int(got->n_layers, 1, "one layer");
		is_str(got->layers[0].digest, did, "its digest is the sha256 of layer.tar");
		is_str(got->layers[0].created_by, "legacy", "created_by from the history");
		is_str(got->manifest_media_type, DS_MEDIA_DOCKER_MANIFEST, "a docker manifest");
		ok_err(ds_image_verify(got, &err) == 0, &err, "it verifies");
	}
	ds_image_free(got);
	got = open_ref(F("docker-archive:%s:old:1", file), NULL, &err);
	ok_err(got != NULL, &err, "by its RepoTag");
	ds_image_free(got);
	got = open_ref(F("docker-archive:%s:old:2", file), NULL, &err);
	ok(!got && err.code == DS_ENOENT, "a missing RepoTag is DS_ENOENT");
	has_str(err.msg, "no image tagged 'old:2'", "naming it: %s", err.msg);

	/* manifest.json pointing outside the archive */
	man = F("[{\"Config\":\"../../../etc/passwd\",\"Layers\":[]}]");
	tb_entry(&tb, "manifest.json", '0', NULL, man, strlen(man));
	tb_finish(&tb, file);
	got = open_ref(F("docker-archive:%s", file), NULL, &err);
	ok(!got && err.code == DS_EFORMAT, "a Config path with '..' is refused");
	man = F("[{\"Config\":\"abc.json\",\"Layers\":[\"../../x/layer.tar\"]}]");
	tb_entry(&tb, "abc.json", '0', NULL, cfg, strlen(cfg));
	tb_entry(&tb, "manifest.json", '0', NULL, man, strlen(man));
	tb_finish(&tb, file);
	got = open_ref(F("docker-archive:%s", file), NULL, &err);
	ok(!got && err.code == DS_EFORMAT, "a layer path with '..' is refused");
	free(layer.p);
}

static void test_hostile_archives(void)
{
	ds_error err = DS_ERROR_INIT;
	char *file = F("%s/evil.tar", root);
	char *tmpd = F("%s/tmpd", root);
	char *victim = F("%s/victim.txt", root);
	tarbuf tb = { 0 };
	ds_image *got;
	struct stat st;

	/* ../evil */
	tb_entry(&tb, "oci-layout", '0', NULL, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	tb_entry(&tb, "../evil", '0', NULL, "gotcha\n", 7);
	tb_finish(&tb, file);
	got = open_ref(F("oci-archive:%s", file), NULL, &err);
	ok(!got, "an archive with a ../evil entry is refused");
	is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
	has_str(err.msg, "unsafe path '../evil'", "naming the entry: %s", err.msg);
	ok(!exists(F("%s/evil", tmpd)) && !exists(F("%s/evil", root)),
	   "nothing was written outside the extraction dir");

	tb_entry(&tb, "blobs/../../evil2", '0', NULL, "x", 1);
	tb_finish(&tb, file);
	got = open_ref(F("docker-archive:%s", file), NULL, &err);
	ok(!got && err.code == DS_EFORMAT, "a/../../evil2 is refused");
	ok(!exists(F("%s/evil2", tmpd)), "and not written");

	tb_entry(&tb, F("%s/abs-evil", root), '0', NULL, "x", 1);
	tb_finish(&tb, file);
	got = open_ref(F("oci-archive:%s", file), NULL, &err);
	ok(!got && err.code == DS_EFORMAT, "an absolute path is refused");
	ok(!exists(F("%s/abs-evil", root)), "and not written");

	/* symlinks are not extracted, so a later file cannot go through one */
	tb_entry(&tb, "blobs", '2', NULL, NULL, 0);
	memcpy(tb.p + tb.len - 512 + 157, root, strlen(root)); /* blobs -> ROOT */
	{
		unsigned char *h = tb.p + tb.len - 512;
		unsigned sum = 0;
		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
	}
	tb_entry(&tb, "blobs/through-link", '0', NULL, "x", 1);
	tb_finish(&tb, file);
	got = open_ref(F("oci-archive:%s", file), NULL, &err);
	ok(!got, "an archive with a symlink and no image fails");
	ok(!exists(F("%s/through-link", root)), "nothing was written through the link");

	/* hard links: to an absolute path, and relative to the current dir,
	 * with data that would overwrite the target */
	tu_writes(victim, "precious\n");
	tb_entry(&tb, "oci-layout", '0', NULL, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	tb_entry(&tb, "blobs", '5', NULL, NULL, 0);
	tb_pax(&tb, "comment", "pax: this hard link carries data");
	tb_entry(&tb, "blobs/abs-link", '1', victim, "EVIL!\n", 6);
	tb_finish(&tb, file);
	got = open_ref(F("oci-archive:%s", file), NULL, &err);
	ok(!got, "an archive with a hard link to an absolute path fails");
	is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
	has_str(err.msg, "has a hard link 'blobs/abs-link'", "naming the entry: %s", err.msg);
	{
		char *s = tu_read(victim, NULL);
		is_str(s, "precious\n", "the hard link's target is not overwritten");
		free(s);
	}
	ok(stat(victim, &st) == 0 && st.st_nlink == 1, "and not linked into the extraction dir");
	{
		char cwd[4096];
		if (!getcwd(cwd, sizeof(cwd)))
			cwd[0] = '\0';
		if (chdir(root) == 0) {
			tb_entry(&tb, "oci-layout", '0', NULL, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
			tb_pax(&tb, "comment", "pax: this hard link carries data");
			tb_entry(&tb, "rel-link", '1', "victim.txt", "EVIL!\n", 6);
			tb_finish(&tb, file);
			got = open_ref(F("oci-archive:%s", file), NULL, &err);
			ok(!got, "an archive with a hard link relative to the cwd fails");
			has_str(err.msg, "has a hard link 'rel-link'", "naming the entry: %s",
				err.msg);
			{
				char *s = tu_read(victim, NULL);
				is_str(s, "precious\n", "the file in the cwd is not overwritten");
				free(s);
			}
			ok(stat(victim, &st) == 0 && st.st_nlink == 1, "nor linked");
			if (chdir(cwd) != 0)
				ok(0, "chdir back");
		}
	}
	is_int(tu_count_entries(tmpd), 0, "no extraction dir left after any of these");
}

int main(void)
{
	ds_error err = DS_ERROR_INIT;
	char *p;

	root = tu_tmpdir("image");
	/* extraction temp dirs go here, where the test can count them */
	p = F("%s/tmpd", root);
	mkdir(p, 0755);
	setenv("TMPDIR", p, 1);
	p = F("%s/store", root);
	if (ds_store_open(&store, p, 1, &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	make_layer(&layers[0], "a.txt", "first layer\n", "layer one");
	make_layer(&layers[1], "b.txt", "second layer\n", "layer two");
	make_layer(&layers[2], "c.txt", "third layer\n", "layer three");
	img1 = make_image("amd64", "IMG=1", layers, 2);
	img2 = make_image("arm64", "IMG=2", layers + 1, 2);

	test_assemble();
	test_layout();
	test_corrupt_layout();
	test_nested_index();
	test_oci_archive();
	test_docker_archive();
	test_legacy_docker();
	test_hostile_archives();

	ds_image_free(img1);
	ds_image_free(img2);
	ds_store_free(store);
	tu_rm_rf(root);
	free(root);
	free_strs();
	return done_testing();
}
