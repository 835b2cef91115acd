/* Buildpack descriptors: buildpack.toml, built-in (compiled in from
 * buildpacks/) or from a folder. */
#include <string.h>

#include <dsbuild/toml.h>

#include "buildpack/bp.h"
#include "buildpack/embed.h"
#include "util/util.h"

const unsigned char *bp_embedded(const char *path, size_t *len, unsigned *mode)
{
	for (size_t i = 0; i < ds_embedded_buildpacks_n; i++) {
		if (!strcmp(ds_embedded_buildpacks[i].path, path)) {
			if (len)
				*len = ds_embedded_buildpacks[i].len;
			if (mode)
				*mode = ds_embedded_buildpacks[i].mode;
			return ds_embedded_buildpacks[i].data;
		}
	}
	return NULL;
}

void bp_free(bp *b)
{
	if (!b)
		return;
	free(b->id);
	free(b->version);
	free(b->name);
	free(b->file);
	free(b->dir);
	free(b->embed);
	free(b->handler);
	json_decref(b->desc);
	free(b);
}

static int valid_id(const char *id)
{
	if (!*id || strlen(id) > 255)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("/._-", *p)))
			return 0;
	return strcmp(id, "config") && strcmp(id, "app");
}

/* Reads [buildpack] of a parsed descriptor. */
static int bp_from_desc(bp **out, json_t *desc, const char *file, ds_error *err)
{
	json_t *b = json_object_get(desc, "buildpack");
	const char *id, *version, *name, *handler;
	bp *r;

	if (!json_is_object(b)) {
		ds_error_set(err, DS_EINVAL, "'%s': no [buildpack] table", file);
		return ds_error_hint(err, "start it with [buildpack] and id = \"team/name\", "
					  "version = \"1.0.0\" (docs/buildpacks.md)");
	}
	id = json_string_value(json_object_get(b, "id"));
	version = json_string_value(json_object_get(b, "version"));
	name = json_string_value(json_object_get(b, "name"));
	handler = json_string_value(json_object_get(b, "handler"));
	if (!id || !valid_id(id)) {
		if (id)
			ds_error_set(err, DS_EINVAL, "'%s': [buildpack] id '%s' is invalid", file, id);
		else
			ds_error_set(err, DS_EINVAL, "'%s': [buildpack] id is missing", file);
		return ds_error_hint(err, "an id is letters, digits and / . _ - such as "
					  "\"acme/company-ca\"");
	}
	if (!version || !*version)
		return ds_error_set(err, DS_EINVAL, "'%s': [buildpack] version is missing", file);
	{
		/* A typo ([contribute]) must not be silently ignored. */
		static const char *const keys[] = { "api", "buildpack", "detect", "contributes",
						    "processes", "files", "provides", "requires",
						    "targets", "stacks", "metadata", "order" };
		const char *k;
		json_t *v;
		json_object_foreach (desc, k, v) {
			size_t i;
			for (i = 0; i < DS_ARRAY_SIZE(keys); i++)
				if (!strcmp(k, keys[i]))
					break;
			if (i == DS_ARRAY_SIZE(keys)) {
				ds_error_set(err, DS_EINVAL, "'%s': unknown table or key '%s'", file,
					     k);
				return ds_error_hint(err, "a buildpack.toml has api, [buildpack], "
							  "[detect], [contributes], [[processes]], "
							  "[[files]], [[provides]], [[requires]], "
							  "[metadata] (docs/buildpacks.md)");
			}
		}
	}
	if (handler && !bp_handler(handler)) {
		ds_error_set(err, DS_EINVAL, "'%s': [buildpack] handler '%s' is not built into "
					     "dsbuild", file, handler);
		return ds_error_hint(err, "remove 'handler': a buildpack of your own is declarative "
					  "([detect] and [contributes]) or has bin/detect and "
					  "bin/build");
	}
	r = ds_xcalloc(1, sizeof(*r));
	r->id = ds_xstrdup(id);
	r->version = ds_xstrdup(version);
	r->name = ds_xstrdup(name ? name : id);
	r->file = ds_xstrdup(file);
	r->handler = handler ? ds_xstrdup(handler) : NULL;
	r->desc = json_incref(desc);
	*out = r;
	return 0;
}

int bp_load_builtin(bp **out, const char *name, ds_error *err)
{
	_cleanup_free_ char *path = ds_xasprintf("%s/buildpack.toml", name);
	_cleanup_free_ char *file = ds_xasprintf("buildpacks/%s", path);
	_cleanup_json_ json_t *desc = NULL;
	size_t len;
	const unsigned char *data = bp_embedded(path, &len, NULL);

	if (!data)
		return ds_error_set(err, DS_ENOENT, "no built-in buildpack '%s'", name);
	if (ds_toml_parse(&desc, file, (const char *)data, len, err) < 0)
		return -1;
	if (bp_from_desc(out, desc, file, err) < 0)
		return -1;
	(*out)->embed = ds_xstrdup(name);
	(*out)->builtin = 1;
	return 0;
}

int bp_load_dir(bp **out, const char *dir, ds_error *err)
{
	_cleanup_free_ char *abs = ds_path_absolute(dir);
	_cleanup_free_ char *file = ds_xasprintf("%s/buildpack.toml", abs);
	_cleanup_json_ json_t *desc = NULL;

	if (!ds_path_exists(file)) {
		ds_error_set(err, DS_ENOENT, "'%s' is not a buildpack: it has no buildpack.toml",
			     dir);
		return ds_error_hint(err, "point --buildpack at the folder holding buildpack.toml; "
					  "'dsbuild buildpack new NAME' makes one");
	}
	if (ds_toml_parse_file(&desc, file, err) < 0) {
		if (err && err->code == DS_EFORMAT)
			err->code = DS_EINVAL; /* a file the user wrote: bad input */
		return -1;
	}
	if (bp_from_desc(out, desc, file, err) < 0)
		return -1;
	{
		_cleanup_free_ char *det = ds_xasprintf("%s/bin/detect", abs);
		_cleanup_free_ char *bld = ds_xasprintf("%s/bin/build", abs);
		int has_det = ds_path_exists(det), has_bld = ds_path_exists(bld);
		if (has_det || has_bld) {
			if (!has_det || !has_bld || (*out)->handler) {
				ds_error_set(err, DS_EINVAL, "'%s': a Cloud Native Buildpack needs both "
							     "bin/detect and bin/build%s", file,
					     (*out)->handler ? ", and no handler" : "");
				bp_free(*out);
				*out = NULL;
				return -1;
			}
			(*out)->cnb = 1;
		}
	}
	(*out)->dir = TAKE_PTR(abs);
	return 0;
}
