#include <stdio.h>
#include <sys/stat.h>

#include <dsbuild/layer.h>

#include "util/util.h"

#define ENTRY_MAX 4096

static char *entry_path(ds_store *store, const char *key)
{
	char d[DS_DIGEST_BUFSZ];

	if (ds_sha256_buf(key, strlen(key), d, NULL) < 0)
		return NULL;
	return ds_xasprintf("%s/layers/%s.json", ds_store_root(store), ds_digest_hex(d));
}

int ds_layer_cache_get(ds_store *store, const char *key, ds_layer_info *out)
{
	_cleanup_free_ char *p = entry_path(store, key);
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	ds_layer_info info;
	const char *dg, *did;
	json_t *sz, *tsz;
	_cleanup_close_ int fd = -1;
	uint64_t size;

	if (!p)
		return 0;
	ds_buf_init(&b, ENTRY_MAX + 1);
	if (ds_read_file(p, ENTRY_MAX, &b, NULL) < 0)
		return 0;
	j = json_loadb(b.data, b.len, 0, NULL);
	dg = json_string_value(json_object_get(j, "digest"));
	did = json_string_value(json_object_get(j, "diff_id"));
	sz = json_object_get(j, "size");
	tsz = json_object_get(j, "tar_size");
	if (!ds_digest_valid(dg) || !ds_digest_valid(did) || !json_is_integer(sz) ||
	    !json_is_integer(tsz))
		return 0;
	/* The blob must still be there, whole. */
	if (ds_store_open_blob(store, dg, &fd, &size, NULL) < 0 ||
	    size != (uint64_t)json_integer_value(sz))
		return 0;
	memset(&info, 0, sizeof(info));
	memcpy(info.digest, dg, DS_DIGEST_BUFSZ);
	memcpy(info.diff_id, did, DS_DIGEST_BUFSZ);
	info.size = size;
	info.tar_size = (uint64_t)json_integer_value(tsz);
	*out = info;
	return 1;
}

int ds_layer_cache_put(ds_store *store, const char *key, const ds_layer_info *info,
		       ds_error *err)
{
	_cleanup_free_ char *p = entry_path(store, key);
	_cleanup_free_ char *dir = ds_xasprintf("%s/layers", ds_store_root(store));
	_cleanup_json_ json_t *j = json_object();
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;

	if (!p)
		return ds_error_set(err, DS_ENOMEM, "cannot hash a layer cache key");
	if (ds_mkdir_p(dir, 0755, err) < 0)
		return -1;
	json_object_set_new(j, "digest", json_string(info->digest));
	json_object_set_new(j, "diff_id", json_string(info->diff_id));
	json_object_set_new(j, "size", json_integer((json_int_t)info->size));
	json_object_set_new(j, "tar_size", json_integer((json_int_t)info->tar_size));
	ds_buf_init(&b, ENTRY_MAX);
	if (ds_json_dump(j, &b, err) < 0)
		return -1;
	return ds_write_file_atomic(p, b.data, b.len, err);
}
