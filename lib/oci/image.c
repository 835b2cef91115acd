#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <dsbuild/image.h>
#include <dsbuild/layer.h>

#include "oci/oci.h"
#include "util/util.h"

const char *ds_platform_host(void)
{
	static char buf[64];
	struct utsname u;
	const char *arch = "amd64";

	if (buf[0])
		return buf;
	if (uname(&u) == 0) {
		if (!strcmp(u.machine, "x86_64"))
			arch = "amd64";
		else if (!strcmp(u.machine, "aarch64"))
			arch = "arm64";
		else if (!strncmp(u.machine, "armv7", 5))
			arch = "arm/v7";
		else if (!strcmp(u.machine, "ppc64le"))
			arch = "ppc64le";
		else if (!strcmp(u.machine, "s390x"))
			arch = "s390x";
		else if (!strcmp(u.machine, "riscv64"))
			arch = "riscv64";
		else if (u.machine[0] == 'i' && strstr(u.machine, "86"))
			arch = "386";
	}
	snprintf(buf, sizeof(buf), "linux/%s", arch);
	return buf;
}

int ds_platform_parse(const char *s, char os[32], char arch[32], char variant[32], ds_error *err)
{
	const char *a = strchr(s, '/');
	const char *v;

	if (!a || a == s || !a[1] || (size_t)(a - s) >= 32) {
		ds_error_set(err, DS_EINVAL, "invalid platform '%s'", s);
		return ds_error_hint(err, "write OS/ARCH[/VARIANT], for example linux/amd64 or "
					  "linux/arm64");
	}
	snprintf(os, 32, "%.*s", (int)(a - s), s);
	v = strchr(a + 1, '/');
	if (v) {
		if ((size_t)(v - a - 1) >= 32 || strlen(v + 1) >= 32 || !v[1])
			return ds_error_set(err, DS_EINVAL, "invalid platform '%s'", s);
		snprintf(arch, 32, "%.*s", (int)(v - a - 1), a + 1);
		snprintf(variant, 32, "%s", v + 1);
	} else {
		if (strlen(a + 1) >= 32)
			return ds_error_set(err, DS_EINVAL, "invalid platform '%s'", s);
		snprintf(arch, 32, "%s", a + 1);
		variant[0] = '\0';
		if (!strcmp(arch, "arm64"))
			snprintf(variant, 32, "v8");
	}
	return 0;
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Checks a descriptor object and fills digest/size/media type. */
int ds_descriptor_parse(const json_t *d, const char *what, char digest[DS_DIGEST_BUFSZ],
			uint64_t *size, const char **media_type, ds_error *err)
{
	const char *dg;
	const json_t *sz;

	if (!json_is_object(d))
		return ds_error_set(err, DS_EFORMAT, "%s is not a descriptor object", what);
	dg = jstr(d, "digest");
	sz = json_object_get(d, "size");
	if (!dg)
		return ds_error_set(err, DS_EFORMAT, "%s has no digest", what);
	if (!ds_digest_valid(dg)) {
		if (!strncmp(dg, "sha512:", 7))
			return ds_error_set(err, DS_EUNSUPPORTED, "%s uses sha512 digests, which dsbuild "
								  "does not support yet", what);
		return ds_error_set(err, DS_EFORMAT, "%s has an invalid digest '%.80s'", what, dg);
	}
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return ds_error_set(err, DS_EFORMAT, "%s has no valid size", what);
	memcpy(digest, dg, DS_DIGEST_BUFSZ);
	*size = (uint64_t)json_integer_value(sz);
	if (media_type)
		*media_type = jstr(d, "mediaType");
	return 0;
}

static int platform_matches(const json_t *p, const char *os, const char *arch, const char *variant)
{
	const char *pos = jstr(p, "os"), *parch = jstr(p, "architecture"), *pv = jstr(p, "variant");

	if (!pos || !parch || strcmp(pos, os) || strcmp(parch, arch))
		return 0;
	if (!variant[0] || !pv)
		return 1;
	return strcmp(pv, variant) == 0;
}

/* Picks the manifest for a platform from an index's "manifests". */
int ds_index_select(const json_t *index, const char *platform, const char *name, json_t **out,
		    ds_error *err)
{
	char os[32], arch[32], variant[32];
	const json_t *ms = json_object_get(index, "manifests");
	size_t i;
	json_t *m;
	ds_buf avail;

	if (!platform)
		platform = ds_platform_host();
	if (ds_platform_parse(platform, os, arch, variant, err) < 0)
		return -1;
	if (!json_is_array(ms))
		return ds_error_set(err, DS_EFORMAT, "%s has no manifests list", name);
	json_array_foreach (ms, i, m) {
		const json_t *p = json_object_get(m, "platform");
		if (json_is_object(p) && platform_matches(p, os, arch, variant)) {
			*out = m;
			return 0;
		}
	}
	ds_buf_init(&avail, 4096);
	json_array_foreach (ms, i, m) {
		const json_t *p = json_object_get(m, "platform");
		if (json_is_object(p) && jstr(p, "os") && jstr(p, "architecture"))
			ds_buf_addf(&avail, "%s%s/%s%s%s", avail.len ? ", " : "", jstr(p, "os"),
				    jstr(p, "architecture"), jstr(p, "variant") ? "/" : "",
				    jstr(p, "variant") ? jstr(p, "variant") : "");
	}
	ds_error_set(err, DS_ENOENT, "%s has no image for platform %s", name, platform);
	ds_error_hint(err, "it has: %s; choose one with --platform", avail.len ? avail.data : "none");
	ds_buf_release(&avail);
	return -1;
}

static void layer_desc_release(ds_layer_desc *l)
{
	free(l->media_type);
	free(l->created_by);
	json_decref(l->annotations);
}

ds_image *ds_image_free(ds_image *img)
{
	if (!img)
		return NULL;
	for (size_t i = 0; i < img->n_layers; i++)
		layer_desc_release(&img->layers[i]);
	free(img->layers);
	free(img->manifest);
	free(img->manifest_media_type);
	free(img->config_media_type);
	json_decref(img->manifest_json);
	json_decref(img->config);
	if (img->owns_store)
		ds_store_free(img->store);
	if (img->tmpdir) {
		ds_rm_rf(img->tmpdir);
		free(img->tmpdir);
	}
	free(img);
	return NULL;
}

static int is_layer_media(const char *mt)
{
	return !strncmp(mt, "application/vnd.oci.image.layer.", 32) ||
	       !strncmp(mt, "application/vnd.docker.image.rootfs.", 36);
}

/* Fills img from its manifest bytes (already digest-checked): parses the
 * manifest, reads and checks the config, matches layers with diff_ids and
 * history. */
int ds_image_load_manifest(ds_image *img, const char *name, ds_error *err)
{
	json_t *m, *cfg_desc, *layers, *l, *diff_ids, *history, *h;
	const char *mt, *cmt;
	uint64_t csize;
	size_t i, hi;
	_cleanup_buf_ ds_buf cfg = DS_BUF_INIT;

	ds_buf_init(&cfg, DS_CONFIG_MAX + 1);
	m = ds_json_parse(img->manifest, img->manifest_len, name, err);
	if (!m)
		return -1;
	img->manifest_json = m;
	if (!json_is_object(m))
		return ds_error_set(err, DS_EFORMAT, "%s is not a JSON object", name);
	if (json_integer_value(json_object_get(m, "schemaVersion")) != 2)
		return ds_error_set(err, DS_EFORMAT, "%s: unsupported schemaVersion", name);
	mt = jstr(m, "mediaType");
	if (!img->manifest_media_type)
		img->manifest_media_type = ds_xstrdup(mt ? mt : DS_MEDIA_OCI_MANIFEST);
	if (strcmp(img->manifest_media_type, DS_MEDIA_OCI_MANIFEST) &&
	    strcmp(img->manifest_media_type, DS_MEDIA_DOCKER_MANIFEST))
		return ds_error_set(err, DS_EUNSUPPORTED, "%s: unsupported manifest type '%s'", name,
				    img->manifest_media_type);
	cfg_desc = json_object_get(m, "config");
	if (ds_descriptor_parse(cfg_desc, "the manifest's config", img->config_digest, &csize, &cmt,
				err) < 0)
		return ds_error_wrap(err, "%s", name);
	img->config_size = csize;
	img->config_media_type = ds_xstrdup(cmt ? cmt : DS_MEDIA_OCI_CONFIG);
	if (csize > DS_CONFIG_MAX)
		return ds_error_set(err, DS_EFORMAT, "%s: config of %llu bytes is over the limit", name,
				    (unsigned long long)csize);
	if (ds_store_read_blob(img->store, img->config_digest, DS_CONFIG_MAX, &cfg, err) < 0)
		return ds_error_wrap(err, "%s: config", name);
	if (cfg.len != csize)
		return ds_error_set(err, DS_EFORMAT, "%s: config is %zu bytes, the manifest says %llu",
				    name, cfg.len, (unsigned long long)csize);
	img->config = ds_json_parse(cfg.data, cfg.len, "image config", err);
	if (!img->config)
		return ds_error_wrap(err, "%s", name);
	if (!json_is_object(img->config))
		return ds_error_set(err, DS_EFORMAT, "%s: config is not a JSON object", name);

	layers = json_object_get(m, "layers");
	if (!json_is_array(layers))
		return ds_error_set(err, DS_EFORMAT, "%s has no layers list", name);
	if (json_array_size(layers) > DS_LAYERS_MAX)
		return ds_error_set(err, DS_EFORMAT, "%s has %zu layers, over the limit of %d", name,
				    json_array_size(layers), DS_LAYERS_MAX);
	diff_ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	if (!json_is_array(diff_ids) || json_array_size(diff_ids) != json_array_size(layers))
		return ds_error_set(err, DS_EFORMAT,
				    "%s: the config lists %zu diff_ids for %zu layers", name,
				    json_is_array(diff_ids) ? json_array_size(diff_ids) : 0,
				    json_array_size(layers));
	img->layers = ds_xcalloc(json_array_size(layers) + 1, sizeof(*img->layers));
	json_array_foreach (layers, i, l) {
		ds_layer_desc *d = &img->layers[i];
		const char *lmt, *did;
		char what[64];

		snprintf(what, sizeof(what), "layer %zu", i + 1);
		if (ds_descriptor_parse(l, what, d->digest, &d->size, &lmt, err) < 0)
			return ds_error_wrap(err, "%s", name);
		img->n_layers = i + 1;
		if (!lmt || !is_layer_media(lmt))
			return ds_error_set(err, DS_EUNSUPPORTED, "%s: layer %zu has media type '%s'",
					    name, i + 1, lmt ? lmt : "(none)");
		d->media_type = ds_xstrdup(lmt);
		did = json_string_value(json_array_get(diff_ids, i));
		if (!did || !ds_digest_valid(did))
			return ds_error_set(err, DS_EFORMAT, "%s: config diff_id %zu is invalid", name,
					    i + 1);
		memcpy(d->diff_id, did, DS_DIGEST_BUFSZ);
		if (json_is_object(json_object_get(l, "annotations")))
			d->annotations = json_deep_copy(json_object_get(l, "annotations"));
	}
	/* Non-empty history entries map to layers in order. */
	history = json_object_get(img->config, "history");
	i = 0;
	json_array_foreach (history, hi, h) {
		if (json_is_true(json_object_get(h, "empty_layer")))
			continue;
		if (i >= img->n_layers)
			break;
		if (jstr(h, "created_by"))
			img->layers[i].created_by = ds_xstrdup(jstr(h, "created_by"));
		i++;
	}
	return 0;
}

int ds_image_check_blobs(const ds_image *img, ds_error *err)
{
	for (size_t i = 0; i < img->n_layers; i++) {
		_cleanup_close_ int fd = -1;
		uint64_t size;
		if (ds_store_open_blob(img->store, img->layers[i].digest, &fd, &size, err) < 0)
			return ds_error_wrap(err, "layer %zu", i + 1);
		if (size != img->layers[i].size)
			return ds_error_set(err, DS_EFORMAT,
					    "layer %zu (%s) is %llu bytes, but the manifest says %llu",
					    i + 1, img->layers[i].digest, (unsigned long long)size,
					    (unsigned long long)img->layers[i].size);
	}
	return 0;
}

int ds_image_verify(const ds_image *img, ds_error *err)
{
	for (size_t i = 0; i < img->n_layers; i++)
		if (ds_store_verify_blob(img->store, img->layers[i].digest, img->layers[i].size,
					 err) < 0)
			return ds_error_wrap(err, "layer %zu", i + 1);
	return 0;
}

int ds_image_open(ds_image **out, const ds_ref *ref, const char *platform, ds_error *err)
{
	switch (ref->transport) {
	case DS_TRANSPORT_OCI:
		return ds_layout_open(out, ref->path, ref->tag, platform, NULL, err);
	case DS_TRANSPORT_OCI_ARCHIVE:
	case DS_TRANSPORT_DOCKER_ARCHIVE:
		return ds_archive_open(out, ref, platform, err);
	default:
		ds_error_set(err, DS_EUNSUPPORTED, "cannot open '%s' here: registry images are "
						   "pulled by the registry client",
			     ref->path);
		return -1;
	}
}

int ds_image_assemble(ds_image **out, ds_store *store, json_t *config, const ds_layer_desc *layers,
		      size_t n_layers, json_t *annotations, ds_error *err)
{
	_cleanup_buf_ ds_buf cfg = DS_BUF_INIT;
	_cleanup_buf_ ds_buf man = DS_BUF_INIT;
	json_t *m, *ls, *c;
	ds_image *img;

	ds_buf_init(&cfg, DS_CONFIG_MAX);
	ds_buf_init(&man, DS_MANIFEST_MAX);
	img = ds_xcalloc(1, sizeof(*img));
	img->store = store;
	if (ds_json_dump(config, &cfg, err) < 0 ||
	    ds_store_put(store, cfg.data, cfg.len, img->config_digest, err) < 0)
		goto fail;
	img->config_size = cfg.len;
	img->config_media_type = ds_xstrdup(DS_MEDIA_OCI_CONFIG);
	img->config = json_incref(config);

	m = json_object();
	json_object_set_new(m, "schemaVersion", json_integer(2));
	json_object_set_new(m, "mediaType", json_string(DS_MEDIA_OCI_MANIFEST));
	c = json_object();
	json_object_set_new(c, "mediaType", json_string(DS_MEDIA_OCI_CONFIG));
	json_object_set_new(c, "digest", json_string(img->config_digest));
	json_object_set_new(c, "size", json_integer((json_int_t)cfg.len));
	json_object_set_new(m, "config", c);
	ls = json_array();
	img->layers = ds_xcalloc(n_layers + 1, sizeof(*img->layers));
	for (size_t i = 0; i < n_layers; i++) {
		json_t *l = json_object();
		ds_layer_desc *d = &img->layers[i];
		json_object_set_new(l, "mediaType", json_string(layers[i].media_type));
		json_object_set_new(l, "digest", json_string(layers[i].digest));
		json_object_set_new(l, "size", json_integer((json_int_t)layers[i].size));
		if (layers[i].annotations && json_object_size(layers[i].annotations))
			json_object_set(l, "annotations", layers[i].annotations);
		json_array_append_new(ls, l);
		d->media_type = ds_xstrdup(layers[i].media_type);
		memcpy(d->digest, layers[i].digest, DS_DIGEST_BUFSZ);
		memcpy(d->diff_id, layers[i].diff_id, DS_DIGEST_BUFSZ);
		d->size = layers[i].size;
		d->created_by = layers[i].created_by ? ds_xstrdup(layers[i].created_by) : NULL;
		d->annotations = layers[i].annotations ? json_incref(layers[i].annotations) : NULL;
		img->n_layers = i + 1;
	}
	json_object_set_new(m, "layers", ls);
	if (annotations && json_object_size(annotations))
		json_object_set(m, "annotations", annotations);
	img->manifest_json = m;
	if (ds_json_dump(m, &man, err) < 0 ||
	    ds_store_put(store, man.data, man.len, img->manifest_digest, err) < 0)
		goto fail;
	img->manifest = ds_buf_detach(&man, &img->manifest_len);
	img->manifest_media_type = ds_xstrdup(DS_MEDIA_OCI_MANIFEST);
	*out = img;
	return 0;
fail:
	ds_image_free(img);
	return -1;
}
