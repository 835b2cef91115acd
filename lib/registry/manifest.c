#include <stdio.h>

#include <dsbuild/image.h>

#include "registry/manifest.h"
#include "util/util.h"

static void desc_release(reg_desc *d)
{
	free(d->media_type);
	free(d->os);
	free(d->arch);
	free(d->variant);
	memset(d, 0, sizeof(*d));
}

void reg_manifest_release(reg_manifest *m)
{
	if (!m)
		return;
	desc_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		desc_release(&m->layers[i]);
	for (size_t i = 0; i < m->n_entries; i++)
		desc_release(&m->entries[i]);
	free(m->layers);
	free(m->entries);
	free(m->media_type);
	json_decref(m->json);
	memset(m, 0, sizeof(*m));
}

static int small_string(json_t *v, size_t max)
{
	return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max &&
	       !memchr(json_string_value(v), '\0', json_string_length(v));
}

static int parse_desc(reg_desc *d, json_t *j, const char *name, const char *where, int platform,
		      ds_error *err)
{
	json_t *mt = json_object_get(j, "mediaType");
	json_t *dg = json_object_get(j, "digest");
	json_t *sz = json_object_get(j, "size");
	json_t *an = json_object_get(j, "annotations");

	if (!json_is_object(j))
		return ds_error_set(err, DS_EFORMAT, "%s: %s is not an object", name, where);
	if (!small_string(mt, 255))
		return ds_error_set(err, DS_EFORMAT, "%s: %s has no mediaType", name, where);
	if (!json_is_string(dg))
		return ds_error_set(err, DS_EFORMAT, "%s: %s has no digest", name, where);
	if (!ds_digest_valid(json_string_value(dg))) {
		const char *s = json_string_value(dg);
		if (strncmp(s, "sha256:", 7) && strchr(s, ':'))
			return ds_error_set(err, DS_EUNSUPPORTED,
					    "%s: %s uses an unsupported digest algorithm", name,
					    where);
		return ds_error_set(err, DS_EFORMAT, "%s: %s has a malformed digest", name, where);
	}
	if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
	    (uint64_t)json_integer_value(sz) > REG_BLOB_SIZE_MAX)
		return ds_error_set(err, DS_EFORMAT, "%s: %s has a bad size", name, where);
	if (an && !json_is_object(an))
		return ds_error_set(err, DS_EFORMAT, "%s: %s has non-object annotations", name,
				    where);
	d->media_type = ds_xstrdup(json_string_value(mt));
	memcpy(d->digest, json_string_value(dg), DS_DIGEST_BUFSZ);
	d->size = (uint64_t)json_integer_value(sz);
	d->annotations = an;
	if (platform) {
		json_t *p = json_object_get(j, "platform");
		if (p && !json_is_object(p))
			return ds_error_set(err, DS_EFORMAT, "%s: %s has a bad platform", name, where);
		json_t *os = json_object_get(p, "os"), *ar = json_object_get(p, "architecture");
		json_t *va = json_object_get(p, "variant");
		if (small_string(os, 64))
			d->os = ds_xstrdup(json_string_value(os));
		if (small_string(ar, 64))
			d->arch = ds_xstrdup(json_string_value(ar));
		if (small_string(va, 64))
			d->variant = ds_xstrdup(json_string_value(va));
	}
	return 0;
}

static int is_index_type(const char *mt)
{
	return !strcmp(mt, DS_MEDIA_OCI_INDEX) || !strcmp(mt, DS_MEDIA_DOCKER_LIST);
}

static int is_manifest_type(const char *mt)
{
	return !strcmp(mt, DS_MEDIA_OCI_MANIFEST) || !strcmp(mt, DS_MEDIA_DOCKER_MANIFEST);
}

int reg_manifest_parse(reg_manifest *out, const char *data, size_t len, const char *content_type,
		       const char *name, ds_error *err)
{
	json_error_t je;
	json_t *j, *sv, *mt, *layers, *manifests;
	const char *type = NULL;
	_cleanup_free_ char *ct = NULL;

	memset(out, 0, sizeof(*out));
	if (len > DS_MANIFEST_MAX)
		return ds_error_set(err, DS_EFORMAT, "%s is larger than %zu bytes", name,
				    DS_MANIFEST_MAX);
	j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ds_error_set(err, DS_EFORMAT, "%s is not valid JSON: line %d: %s", name,
				    je.line, je.text);
	out->json = j;
	if (!json_is_object(j))
		return ds_error_set(err, DS_EFORMAT, "%s is not a JSON object", name);
	sv = json_object_get(j, "schemaVersion");
	if (json_is_integer(sv) && json_integer_value(sv) == 1) {
		ds_error_set(err, DS_EUNSUPPORTED,
			     "%s is a Docker schema 1 manifest, which is not supported", name);
		return ds_error_hint(err, "push the image again with a current client (schema 2 "
					  "or OCI)");
	}
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return ds_error_set(err, DS_EFORMAT, "%s has no schemaVersion 2", name);
	mt = json_object_get(j, "mediaType");
	if (mt && !small_string(mt, 255))
		return ds_error_set(err, DS_EFORMAT, "%s has a bad mediaType", name);
	if (mt) {
		type = json_string_value(mt);
	} else if (content_type && *content_type) {
		ct = ds_xstrndup(content_type, strcspn(content_type, "; "));
		if (is_index_type(ct) || is_manifest_type(ct))
			type = ct;
	}
	layers = json_object_get(j, "layers");
	manifests = json_object_get(j, "manifests");
	if (!type) {
		/* OCI allows leaving mediaType out: tell by the fields */
		if (manifests && !layers)
			type = DS_MEDIA_OCI_INDEX;
		else if (layers && json_object_get(j, "config"))
			type = DS_MEDIA_OCI_MANIFEST;
		else
			return ds_error_set(err, DS_EFORMAT, "%s is neither a manifest nor an index",
					    name);
	}
	if (is_index_type(type)) {
		size_t n;
		out->is_index = 1;
		out->media_type = ds_xstrdup(type);
		if (!json_is_array(manifests))
			return ds_error_set(err, DS_EFORMAT, "%s: index has no manifests array", name);
		n = json_array_size(manifests);
		if (n > REG_INDEX_ENTRIES_MAX)
			return ds_error_set(err, DS_EFORMAT, "%s: index has more than %d entries",
					    name, REG_INDEX_ENTRIES_MAX);
		out->entries = ds_xcalloc(n ? n : 1, sizeof(reg_desc));
		for (size_t i = 0; i < n; i++) {
			char where[64];
			snprintf(where, sizeof(where), "manifests[%zu]", i);
			out->n_entries = i + 1;
			if (parse_desc(&out->entries[i], json_array_get(manifests, i), name, where, 1,
				       err) < 0)
				return -1;
		}
		return 0;
	}
	if (!is_manifest_type(type))
		return ds_error_set(err, DS_EUNSUPPORTED, "%s has unsupported media type '%s'", name,
				    type);
	out->media_type = ds_xstrdup(type);
	if (parse_desc(&out->config, json_object_get(j, "config"), name, "config", 0, err) < 0)
		return -1;
	if (out->config.size > DS_CONFIG_MAX)
		return ds_error_set(err, DS_EFORMAT, "%s: config is larger than %zu bytes", name,
				    DS_CONFIG_MAX);
	if (!json_is_array(layers))
		return ds_error_set(err, DS_EFORMAT, "%s has no layers array", name);
	if (json_array_size(layers) > DS_LAYERS_MAX)
		return ds_error_set(err, DS_EFORMAT, "%s has more than %d layers", name,
				    DS_LAYERS_MAX);
	out->layers = ds_xcalloc(json_array_size(layers) + 1, sizeof(reg_desc));
	for (size_t i = 0; i < json_array_size(layers); i++) {
		char where[64];
		json_t *l = json_array_get(layers, i);
		snprintf(where, sizeof(where), "layers[%zu]", i);
		out->n_layers = i + 1;
		if (parse_desc(&out->layers[i], l, name, where, 0, err) < 0)
			return -1;
		if (json_object_get(l, "urls"))
			return ds_error_set(err, DS_EUNSUPPORTED,
					    "%s: %s is a foreign layer (urls), which is not "
					    "supported",
					    name, where);
	}
	return 0;
}

static const char *arch_alias(const char *a)
{
	static const char *const map[][2] = {
		{ "x86_64", "amd64" }, { "x86-64", "amd64" }, { "aarch64", "arm64" },
		{ "armhf", "arm" },    { "armel", "arm" },    { "i686", "386" },
		{ "i386", "386" },     { "ppc64el", "ppc64le" },
	};
	for (size_t i = 0; i < DS_ARRAY_SIZE(map); i++)
		if (!strcmp(a, map[i][0]))
			return map[i][1];
	return a;
}

static int variant_equal(const char *arch, const char *a, const char *b)
{
	if (!strcmp(arch, "arm64")) {
		/* arm64 without a variant is v8 */
		if (!a || !*a)
			a = "v8";
		if (!b || !*b)
			b = "v8";
	}
	if (!a || !*a || !b || !*b)
		return (!a || !*a) && (!b || !*b);
	return !strcmp(a, b);
}

int reg_manifest_select(const reg_manifest *idx, const char *platform, size_t *which,
			ds_error *err)
{
	char os[65] = "", arch[65] = "", variant[65] = "";
	const char *a;
	ssize_t best = -1;
	int best_score = -1;
	ds_buf avail;

	if (!platform || sscanf(platform, "%64[^/]/%64[^/]/%64s", os, arch, variant) < 2)
		return ds_error_set(err, DS_EINVAL, "invalid platform '%s'",
				    platform ? platform : "");
	a = arch_alias(arch);
	for (size_t i = 0; i < idx->n_entries; i++) {
		const reg_desc *d = &idx->entries[i];
		int score;
		if (!d->os || !d->arch || strcmp(d->os, os) || strcmp(arch_alias(d->arch), a))
			continue;
		if (!is_manifest_type(d->media_type))
			continue;
		if (variant[0]) {
			if (!variant_equal(a, d->variant, variant))
				continue;
			score = 2;
		} else if (!strcmp(a, "arm")) {
			/* no variant asked for 32-bit arm: prefer v7, then the highest */
			score = d->variant && !strcmp(d->variant, "v7") ? 3 : 1;
		} else {
			score = variant_equal(a, d->variant, NULL) ? 2 : 1;
		}
		if (score > best_score) {
			best_score = score;
			best = (ssize_t)i;
		}
	}
	if (best >= 0) {
		*which = (size_t)best;
		return 0;
	}
	ds_buf_init(&avail, 4096);
	for (size_t i = 0; i < idx->n_entries; i++) {
		const reg_desc *d = &idx->entries[i];
		if (!d->os || !d->arch || !strcmp(d->os, "unknown"))
			continue;
		ds_buf_addf(&avail, "%s%s/%s%s%s", avail.len ? ", " : "", d->os, d->arch,
			    d->variant ? "/" : "", d->variant ? d->variant : "");
	}
	ds_error_set(err, DS_ENOENT, "no image for platform '%s' in the index (it has: %s)",
		     platform, avail.len ? avail.data : "none");
	ds_buf_release(&avail);
	return ds_error_hint(err, "pick one of those with --platform");
}
