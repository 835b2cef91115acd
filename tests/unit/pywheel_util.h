/* Test helper: writes small wheels (zip files with a RECORD) with libarchive. */
#ifndef DS_TESTS_PYWHEEL_UTIL_H
#define DS_TESTS_PYWHEEL_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/digest.h>

typedef struct tw_file {
	const char *path;
	const char *data;
	int mode;     /* 0 = 0644 */
	int bad_hash; /* RECORD gets a wrong hash for it */
	int unlisted; /* not in RECORD */
} tw_file;

static void tw_record_hash(char *out, size_t outsz, const char *data, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char d[DS_DIGEST_BUFSZ];
	unsigned char raw[33] = {0};
	char *p = out;

	ds_sha256_buf(data, len, d, NULL);
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(d + 7 + 2 * i, "%2x", &v);
		raw[i] = (unsigned char)v;
	}
	p += snprintf(p, outsz, "sha256=");
	for (int i = 0; i < 33; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
		*p++ = b64[v >> 18 & 63];
		*p++ = b64[v >> 12 & 63];
		*p++ = b64[v >> 6 & 63];
		if (i + 3 < 33)
			*p++ = b64[v & 63];
	}
	*p = '\0';
}

static void tw_add(struct archive *a, const char *path, const char *data, size_t len, int mode)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, mode ? mode : 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, 1577836800, 0);
	archive_write_header(a, e);
	archive_write_data(a, data, len);
	archive_entry_free(e);
}

/* Writes DIR/<name>-<ver>-<tag>.whl with METADATA (Requires-Dist from
 * requires, NULL-terminated), WHEEL, the given files and a RECORD. */
static int tw_wheel(const char *dir, const char *name, const char *ver, const char *tag,
		    const char *const *requires, const tw_file *files, size_t n_files,
		    char *path_out, size_t path_sz)
{
	char path[4096], di[512], meta[8192], rec[65536], wheel[512], h[128], p[1024];
	struct archive *a = archive_write_new();
	size_t ml, rl = 0;

	snprintf(path, sizeof(path), "%s/%s-%s-%s.whl", dir, name, ver, tag);
	snprintf(di, sizeof(di), "%s-%s.dist-info", name, ver);
	ml = (size_t)snprintf(meta, sizeof(meta), "Metadata-Version: 2.1\nName: %s\nVersion: %s\n",
			      name, ver);
	for (size_t i = 0; requires && requires[i]; i++)
		ml += (size_t)snprintf(meta + ml, sizeof(meta) - ml, "Requires-Dist: %s\n",
				       requires[i]);
	snprintf(wheel, sizeof(wheel), "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: %s\n", tag);
	archive_write_set_format_zip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		archive_write_free(a);
		return -1;
	}
	for (size_t i = 0; i < n_files; i++) {
		size_t len = strlen(files[i].data);
		tw_add(a, files[i].path, files[i].data, len, files[i].mode);
		if (files[i].unlisted)
			continue;
		tw_record_hash(h, sizeof(h), files[i].bad_hash ? "other" : files[i].data,
			       files[i].bad_hash ? 5 : len);
		rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl, "%s,%s,%zu\n", files[i].path, h,
				       len);
	}
	snprintf(p, sizeof(p), "%s/METADATA", di);
	tw_add(a, p, meta, ml, 0);
	tw_record_hash(h, sizeof(h), meta, ml);
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl, "%s,%s,%zu\n", p, h, ml);
	snprintf(p, sizeof(p), "%s/WHEEL", di);
	tw_add(a, p, wheel, strlen(wheel), 0);
	tw_record_hash(h, sizeof(h), wheel, strlen(wheel));
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl, "%s,%s,%zu\n", p, h, strlen(wheel));
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl, "%s/RECORD,,\n", di);
	snprintf(p, sizeof(p), "%s/RECORD", di);
	tw_add(a, p, rec, rl, 0);
	archive_write_close(a);
	archive_write_free(a);
	if (path_out)
		snprintf(path_out, path_sz, "%s", path);
	return 0;
}

#endif
