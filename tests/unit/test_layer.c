/* lib/oci/layer.c: layers written with the layer writer are read back two
 * independent ways: with libarchive (read side, gzip filter) and with a
 * small tar parser here that sees the raw headers (pax records, uname/gname
 * fields, checksums).  diff_id and digest are recomputed with zlib and
 * OpenSSL.  Also: determinism, short/long data, long and non-UTF-8 names,
 * locale independence and a 9 GiB sparse file. */
#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <time.h>
#include <zlib.h>

#include <dsbuild/layer.h>
#include <dsbuild/store.h>

#include "testutil.h"

static char *root;
static ds_store *store;

/* ---- helpers ---------------------------------------------------------- */

typedef struct tentry {
	ds_layer_entry e;
	const char *data; /* DS_ENTRY_FILE: e.size bytes */
} tentry;

static int write_layer(const tentry *t, size_t n, const ds_layer_opts *o, ds_layer_info *info,
		       ds_error *err)
{
	ds_layer_writer *w = NULL;

	if (ds_layer_writer_new(&w, store, o, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (ds_layer_writer_add(w, &t[i].e, err) < 0)
			goto fail;
		if (t[i].e.type == DS_ENTRY_FILE && t[i].e.size &&
		    ds_layer_writer_data(w, t[i].data, t[i].e.size, err) < 0)
			goto fail;
	}
	return ds_layer_writer_finish(w, info, err);
fail:
	ds_layer_writer_free(w);
	return -1;
}

static unsigned char *read_blob(const char *digest, size_t *len)
{
	char *p = tu_fmt("%s/blobs/sha256/%s", root, digest + 7);
	unsigned char *b = (unsigned char *)tu_read(p, len);
	free(p);
	return b;
}

/* gunzip (all members) into a malloc'd buffer; NULL on a zlib error. */
static unsigned char *gunzip(const unsigned char *in, size_t in_len, size_t *out_len)
{
	z_stream zs;
	size_t cap = in_len * 4 + 65536, n = 0;
	unsigned char *out = malloc(cap);
	int r = Z_OK;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		abort();
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)in_len;
	while (zs.avail_in) {
		if (r == Z_STREAM_END)
			inflateReset(&zs);
		if (cap - n < 65536) {
			cap *= 2;
			out = realloc(out, cap);
		}
		zs.next_out = out + n;
		zs.avail_out = (uInt)(cap - n);
		r = inflate(&zs, Z_NO_FLUSH);
		n = cap - zs.avail_out;
		if (r != Z_OK && r != Z_STREAM_END) {
			inflateEnd(&zs);
			free(out);
			return NULL;
		}
	}
	inflateEnd(&zs);
	if (r != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*out_len = n;
	return out;
}

/* ---- a raw tar reader ------------------------------------------------- */

typedef struct rentry {
	char type;
	char *path, *link;
	uint32_t mode;
	uint64_t uid, gid, size;
	int64_t mtime;
	char uname[33], gname[33];
	char pax[1024]; /* "key=value\n" records of this entry's 'x' header */
	const unsigned char *data;
	int cksum_ok;
} rentry;

static uint64_t tar_num(const unsigned char *f, size_t n)
{
	uint64_t v = 0;

	if (f[0] & 0x80) { /* base-256 */
		for (size_t i = 1; i < n; i++)
			v = (v << 8) | f[i];
		return v;
	}
	for (size_t i = 0; i < n && f[i]; i++)
		if (f[i] >= '0' && f[i] <= '7')
			v = v * 8 + (uint64_t)(f[i] - '0');
	return v;
}

static const char *pax_get(const char *pax, const char *key, size_t *vlen)
{
	size_t kl = strlen(key);
	const char *p = pax;

	while (*p) {
		const char *sp = strchr(p, ' '), *nl;
		if (!sp)
			break;
		nl = strchr(sp, '\n');
		if (!nl)
			break;
		if (!strncmp(sp + 1, key, kl) && sp[1 + kl] == '=') {
			*vlen = (size_t)(nl - (sp + 2 + kl));
			return sp + 2 + kl;
		}
		p = nl + 1;
	}
	return NULL;
}

static void rentries_free(rentry *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].path);
		free(r[i].link);
	}
	free(r);
}

/* Parses a tar; returns the entries (pax headers folded into the entry
 * that follows) or NULL when it is malformed. */
static rentry *parse_tar(const unsigned char *t, size_t len, size_t *count)
{
	rentry *r = NULL;
	size_t n = 0, off = 0;
	char pax[1024] = "";

	while (off + 512 <= len) {
		const unsigned char *h = t + off;
		unsigned sum = 0, want;
		int zero = 1;
		uint64_t size;

		for (int i = 0; i < 512; i++)
			zero &= h[i] == 0;
		if (zero)
			break;
		for (int i = 0; i < 512; i++)
			sum += (i >= 148 && i < 156) ? ' ' : h[i];
		want = (unsigned)tar_num(h + 148, 8);
		size = tar_num(h + 124, 12);
		if (h[156] == 'x') {
			size_t k = size < sizeof(pax) - 1 ? (size_t)size : sizeof(pax) - 1;
			memcpy(pax, h + 512, k);
			pax[k] = '\0';
			off += 512 + (size + 511) / 512 * 512;
			continue;
		}
		r = realloc(r, (n + 1) * sizeof(*r));
		rentry *e = &r[n++];
		memset(e, 0, sizeof(*e));
		e->cksum_ok = sum == want && !memcmp(h + 257, "ustar\0" "00", 8);
		e->type = (char)h[156];
		e->mode = (uint32_t)tar_num(h + 100, 8);
		e->uid = tar_num(h + 108, 8);
		e->gid = tar_num(h + 116, 8);
		e->size = size;
		e->mtime = (int64_t)tar_num(h + 136, 12);
		memcpy(e->uname, h + 265, 32);
		memcpy(e->gname, h + 297, 32);
		snprintf(e->pax, sizeof(e->pax), "%s", pax);
		{
			size_t vl;
			const char *v;
			if ((v = pax_get(pax, "path", &vl))) {
				e->path = strndup(v, vl);
			} else if (h[345]) {
				e->path = tu_fmt("%.155s/%.100s", (const char *)h + 345,
						 (const char *)h + 0);
			} else {
				e->path = strndup((const char *)h, 100);
			}
			if ((v = pax_get(pax, "linkpath", &vl)))
				e->link = strndup(v, vl);
			else
				e->link = strndup((const char *)h + 157, 100);
			if ((v = pax_get(pax, "size", &vl)))
				e->size = strtoull(v, NULL, 10);
			if ((v = pax_get(pax, "uid", &vl)))
				e->uid = strtoull(v, NULL, 10);
			if ((v = pax_get(pax, "gid", &vl)))
				e->gid = strtoull(v, NULL, 10);
			if ((v = pax_get(pax, "mtime", &vl)))
				e->mtime = strtoll(v, NULL, 10);
		}
		pax[0] = '\0';
		e->data = h + 512;
		off += 512 + (e->size + 511) / 512 * 512;
		if (off > len) {
			rentries_free(r, n);
			return NULL;
		}
	}
	*count = n;
	return r ? r : calloc(1, sizeof(*r));
}

/* ---- libarchive read side --------------------------------------------- */

typedef struct aentry {
	char *path, *link, *hardlink;
	mode_t type, perm;
	int64_t uid, gid, size, mtime;
	int has_uname, has_gname, has_atime, has_ctime, has_birthtime;
	char *data;
} aentry;

static void aentries_free(aentry *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].path);
		free(a[i].link);
		free(a[i].hardlink);
		free(a[i].data);
	}
	free(a);
}

static aentry *read_with_libarchive(const unsigned char *blob, size_t len, size_t *count)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	aentry *r = NULL;
	size_t n = 0;
	int rc;

	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, blob, len) != ARCHIVE_OK) {
		printf("# libarchive: %s\n", archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *s;
		r = realloc(r, (n + 1) * sizeof(*r));
		aentry *e = &r[n++];
		memset(e, 0, sizeof(*e));
		/* names are raw bytes (hdrcharset=BINARY): no conversion */
		s = archive_entry_pathname(ae);
		e->path = strdup(s ? s : "(null)");
		s = archive_entry_symlink(ae);
		e->link = s ? strdup(s) : NULL;
		s = archive_entry_hardlink(ae);
		e->hardlink = s ? strdup(s) : NULL;
		e->type = archive_entry_filetype(ae);
		e->perm = archive_entry_perm(ae);
		e->uid = archive_entry_uid(ae);
		e->gid = archive_entry_gid(ae);
		e->size = archive_entry_size(ae);
		e->mtime = archive_entry_mtime(ae);
		e->has_uname = archive_entry_uname(ae) && *archive_entry_uname(ae);
		e->has_gname = archive_entry_gname(ae) && *archive_entry_gname(ae);
		e->has_atime = archive_entry_atime_is_set(ae);
		e->has_ctime = archive_entry_ctime_is_set(ae);
		e->has_birthtime = archive_entry_birthtime_is_set(ae);
		if (e->size > 0 && e->size < (1 << 24)) {
			e->data = calloc(1, (size_t)e->size + 1);
			if (archive_read_data(a, e->data, (size_t)e->size) != e->size) {
				printf("# libarchive data: %s\n", archive_error_string(a));
				free(e->data);
				e->data = NULL;
			}
		}
	}
	if (rc != ARCHIVE_EOF) {
		printf("# libarchive: %s\n", archive_error_string(a));
		aentries_free(r, n);
		r = NULL;
	} else if (!r) {
		r = calloc(1, sizeof(*r));
	}
	archive_read_free(a);
	*count = n;
	return r;
}

/* ---- tests ------------------------------------------------------------ */

#define MT 1700000000

static void test_basic(void)
{
	static const char hello[] = "hello, layer\n";
	static const char script[] = "#!/bin/sh\necho hi\n";
	tentry t[] = {
		{ { "app", DS_ENTRY_DIR, 0755, 1000, 1000, 0, NULL, MT }, NULL },
		{ { "app/a.txt", DS_ENTRY_FILE, 0644, 1000, 1000, sizeof(hello) - 1, NULL, MT },
		  hello },
		{ { "app/empty", DS_ENTRY_FILE, 0600, 0, 0, 0, NULL, MT }, "" },
		{ { "app/hard", DS_ENTRY_HARDLINK, 0644, 1000, 1000, 0, "app/a.txt", MT }, NULL },
		{ { "app/link", DS_ENTRY_SYMLINK, 0777, 1000, 1000, 0, "a.txt", MT }, NULL },
		{ { "app/run.sh", DS_ENTRY_FILE, 0755, 1000, 1000, sizeof(script) - 1, NULL, MT },
		  script },
		{ { "app/suid", DS_ENTRY_FILE, 04755, 3000000, 2097152, 1, NULL, 253402300799LL },
		  "x" },
		{ { "etc", DS_ENTRY_DIR, 0700, 0, 0, 0, NULL, 0 }, NULL },
	};
	size_t n = sizeof(t) / sizeof(t[0]);
	ds_error err = DS_ERROR_INIT;
	ds_layer_info info, info2;
	unsigned char *blob, *tar;
	size_t blen = 0, tlen = 0, na = 0, nr = 0;
	char d[DS_DIGEST_BUFSZ];
	aentry *a;
	rentry *r;

	ok_err(write_layer(t, n, NULL, &info, &err) == 0, &err, "write a layer of 8 entries");
	ok(ds_digest_valid(info.digest) && ds_digest_valid(info.diff_id), "digest and diff_id");
	blob = read_blob(info.digest, &blen);
	ok(blob != NULL, "the blob is in the store under its digest");
	if (!blob)
		return;
	is_int(blen, info.size, "size is the blob's size");
	ds_sha256_buf(blob, blen, d, &err);
	is_str(d, info.digest, "digest = sha256 of the blob");
	ok(blen > 10 && blob[0] == 0x1f && blob[1] == 0x8b && blob[2] == 8, "the blob is gzip");
	ok(blob[4] == 0 && blob[5] == 0 && blob[6] == 0 && blob[7] == 0, "with mtime 0");
	ok(!(blob[3] & 0x08), "and no file name");
	tar = gunzip(blob, blen, &tlen);
	ok(tar != NULL, "zlib decompresses it");
	if (!tar)
		return;
	ds_sha256_buf(tar, tlen, d, &err);
	is_str(d, info.diff_id, "diff_id = sha256 of the decompressed stream");
	is_int(tlen, info.tar_size, "tar_size = decompressed size");
	ok(tlen % 512 == 0, "the tar is a whole number of blocks");

	a = read_with_libarchive(blob, blen, &na);
	ok(a != NULL, "libarchive reads the layer");
	is_int(na, n, "libarchive sees %zu entries", n);
	for (size_t i = 0; a && i < n && i < na; i++) {
		const ds_layer_entry *e = &t[i].e;
		mode_t want_type = e->type == DS_ENTRY_DIR	   ? AE_IFDIR :
				   e->type == DS_ENTRY_SYMLINK ? AE_IFLNK :
								 AE_IFREG;
		char want_path[300];
		/* libarchive appends '/' to directory names it reads back */
		snprintf(want_path, sizeof(want_path), "%s%s", e->path,
			 e->type == DS_ENTRY_DIR ? "/" : "");
		ok(!strcmp(a[i].path, e->path) || !strcmp(a[i].path, want_path),
		   "entry %zu path '%s' (got '%s')", i, e->path, a[i].path);
		/* libarchive reports a hard link's file type as 0 */
		if (e->type == DS_ENTRY_HARDLINK && a[i].type == 0)
			a[i].type = AE_IFREG;
		is_int(a[i].type, want_type, "  type of %s", e->path);
		is_int(a[i].perm, e->mode, "  mode of %s is %o", e->path, e->mode);
		is_int(a[i].uid, e->uid, "  uid of %s", e->path);
		is_int(a[i].gid, e->gid, "  gid of %s", e->path);
		is_int(a[i].mtime, e->mtime, "  mtime of %s", e->path);
		ok(!a[i].has_uname && !a[i].has_gname, "  %s has no uname/gname", e->path);
		ok(!a[i].has_atime && !a[i].has_ctime && !a[i].has_birthtime,
		   "  %s has no atime/ctime/birthtime", e->path);
		if (e->type == DS_ENTRY_FILE) {
			is_int(a[i].size, e->size, "  size of %s", e->path);
			if (e->size)
				ok(a[i].data && !memcmp(a[i].data, t[i].data, e->size),
				   "  content of %s", e->path);
		}
		if (e->type == DS_ENTRY_SYMLINK)
			is_str(a[i].link, e->link, "  symlink target of %s", e->path);
		if (e->type == DS_ENTRY_HARDLINK) {
			is_str(a[i].hardlink, e->link, "  hardlink target of %s", e->path);
			is_int(a[i].size, 0, "  a hard link carries no data");
		}
	}
	aentries_free(a, na);

	r = parse_tar(tar, tlen, &nr);
	ok(r != NULL, "the raw tar parses");
	is_int(nr, n, "raw: %zu entries", n);
	for (size_t i = 0; r && i < n && i < nr; i++) {
		const ds_layer_entry *e = &t[i].e;
		char want_type = e->type == DS_ENTRY_DIR     ? '5' :
				 e->type == DS_ENTRY_SYMLINK ? '2' :
				 e->type == DS_ENTRY_HARDLINK ? '1' :
								'0';
		ok(r[i].cksum_ok, "raw %s: ustar magic and checksum", e->path);
		is_int(r[i].type, want_type, "raw %s: typeflag %c", e->path, want_type);
		is_int(r[i].mode, e->mode, "raw %s: mode", e->path);
		is_int(r[i].uid, e->uid, "raw %s: uid", e->path);
		is_int(r[i].gid, e->gid, "raw %s: gid", e->path);
		is_int(r[i].mtime, e->mtime, "raw %s: mtime", e->path);
		is_str(r[i].uname, "", "raw %s: empty uname field", e->path);
		is_str(r[i].gname, "", "raw %s: empty gname field", e->path);
		ok(!strstr(r[i].pax, " atime=") && !strstr(r[i].pax, " ctime=") &&
			   !strstr(r[i].pax, " uname=") && !strstr(r[i].pax, " gname=") &&
			   !strstr(r[i].pax, "LIBARCHIVE.") && !strstr(r[i].pax, "SCHILY."),
		   "raw %s: pax header has no atime/ctime/uname/gname/xattrs", e->path);
	}
	rentries_free(r, nr);

	ok_err(write_layer(t, n, NULL, &info2, &err) == 0, &err, "write the same entries again");
	is_str(info2.digest, info.digest, "identical digest");
	is_str(info2.diff_id, info.diff_id, "identical diff_id");
	{
		ds_layer_opts o1 = DS_LAYER_OPTS_INIT, o8 = DS_LAYER_OPTS_INIT;
		ds_layer_info i1, i8;
		o1.threads = 1;
		o8.threads = 8;
		write_layer(t, n, &o1, &i1, &err);
		write_layer(t, n, &o8, &i8, &err);
		ok(!strcmp(i1.digest, info.digest) && !strcmp(i8.digest, info.digest),
		   "the same digest with 1, 2 and 8 threads");
	}
	{
		ds_layer_opts o = DS_LAYER_OPTS_INIT;
		ds_layer_info i9;
		o.gzip_level = 9;
		write_layer(t, n, &o, &i9, &err);
		is_str(i9.diff_id, info.diff_id, "gzip level 9: same diff_id");
		ok(strcmp(i9.digest, info.digest) != 0 || i9.size == info.size,
		   "gzip level changes only the compressed side");
	}
	{
		tentry t2[2];
		ds_layer_info i2;
		memcpy(t2, t, sizeof(t2));
		t2[1].e.mtime = MT + 1;
		write_layer(t2, 2, NULL, &i2, &err);
		write_layer(t, 2, NULL, &info2, &err);
		ok(strcmp(i2.diff_id, info2.diff_id) != 0, "a different mtime gives a different layer");
	}
	free(tar);
	free(blob);
}

static void test_empty_layer(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_layer_info info;
	unsigned char *blob, *tar;
	size_t blen, tlen, na = 99;
	aentry *a;

	ok_err(write_layer(NULL, 0, NULL, &info, &err) == 0, &err, "an empty layer");
	blob = read_blob(info.digest, &blen);
	tar = blob ? gunzip(blob, blen, &tlen) : NULL;
	ok(tar && tlen >= 1024 && tlen % 512 == 0, "is a tar of zero blocks");
	a = blob ? read_with_libarchive(blob, blen, &na) : NULL;
	ok(a && na == 0, "libarchive reads no entries");
	aentries_free(a, na);
	free(tar);
	free(blob);
}

static void test_data_mismatch(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_layer_writer *w;
	ds_layer_info info;
	ds_layer_entry f = { "f", DS_ENTRY_FILE, 0644, 0, 0, 10, NULL, 0 };
	ds_layer_entry g = { "g", DS_ENTRY_FILE, 0644, 0, 0, 0, NULL, 0 };
	char *tmp = tu_fmt("%s/tmp", root);
	char *blobs = tu_fmt("%s/blobs/sha256", root);
	int before = tu_count_entries(blobs);

	ds_layer_writer_new(&w, store, NULL, &err);
	ds_layer_writer_add(w, &f, &err);
	ds_layer_writer_data(w, "12345", 5, &err);
	ok(ds_layer_writer_finish(w, &info, &err) == -1, "finishing with data short fails");
	is_int(err.code, DS_EINVAL, "with DS_EINVAL");
	is_str(err.msg, "'f' is 5 bytes short", "naming the file and the shortfall");

	ds_layer_writer_new(&w, store, NULL, &err);
	ds_layer_writer_add(w, &f, &err);
	ds_layer_writer_data(w, "123", 3, &err);
	ok(ds_layer_writer_add(w, &g, &err) == -1, "adding the next entry with data short fails");
	is_str(err.msg, "'f' is 7 bytes short", "naming the file");
	ds_layer_writer_free(w);

	ds_layer_writer_new(&w, store, NULL, &err);
	ds_layer_writer_add(w, &f, &err);
	ok(ds_layer_writer_data(w, "12345678901", 11, &err) == -1, "more data than announced fails");
	is_str(err.msg, "'f' has more data than announced", "saying so");
	ds_layer_writer_data(w, "1234567890", 10, &err);
	ok(ds_layer_writer_data(w, "x", 1, &err) == -1, "one byte past the end fails too");
	ds_layer_writer_free(w);

	ds_layer_writer_new(&w, store, NULL, &err);
	ok(ds_layer_writer_data(w, "x", 1, &err) == -1, "data before any header fails");
	ds_layer_writer_free(w);

	is_int(tu_count_entries(blobs), before, "failed layers publish no blob");
	is_int(tu_count_entries(tmp), 0, "and leave no temp file");
	ok(ds_layer_writer_free(NULL) == NULL, "ds_layer_writer_free(NULL)");
	free(tmp);
	free(blobs);
}

static void test_bad_entries(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_layer_writer *w;
	ds_layer_entry e = { "", DS_ENTRY_DIR, 0755, 0, 0, 0, NULL, 0 };

	ds_layer_writer_new(&w, store, NULL, &err);
	ok(ds_layer_writer_add(w, &e, &err) == -1 && err.code == DS_EINVAL, "an empty path fails");
	e.path = NULL;
	ok(ds_layer_writer_add(w, &e, &err) == -1 && err.code == DS_EINVAL, "a NULL path fails");
	e.path = "/etc";
	ok(ds_layer_writer_add(w, &e, &err) == -1 && err.code == DS_EINVAL,
	   "an absolute path fails");
	is_str(err.msg, "invalid layer path '/etc'", "naming it");
	e.path = "x";
	e.type = (ds_entry_type)42;
	ok(ds_layer_writer_add(w, &e, &err) == -1 && err.code == DS_EINVAL, "an unknown type fails");
	is_str(err.msg, "'x': unsupported entry type", "naming it");
	e.type = DS_ENTRY_SYMLINK;
	e.link = NULL;
	ok(ds_layer_writer_add(w, &e, &err) == -1 && err.code == DS_EINVAL,
	   "a symlink without a target fails");
	is_str(err.msg, "link 'x' has no target", "naming it");
	e.type = DS_ENTRY_HARDLINK;
	e.link = "";
	ok(ds_layer_writer_add(w, &e, &err) == -1 && err.code == DS_EINVAL,
	   "a hard link with an empty target fails");
	ds_layer_writer_free(w);
}

static void test_add_fd(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_layer_writer *w;
	ds_layer_info info;
	char *p = tu_fmt("%s/input", root);
	char *data = malloc(200000);
	ds_layer_entry e = { "big.bin", DS_ENTRY_FILE, 0644, 0, 0, 200000, NULL, 0 };
	unsigned char *blob, *tar;
	size_t blen, tlen, nr = 0;
	rentry *r;
	int fd;

	for (int i = 0; i < 200000; i++)
		data[i] = (char)(i % 251);
	tu_write(p, data, 200000);
	fd = open(p, O_RDONLY);
	ds_layer_writer_new(&w, store, NULL, &err);
	ok_err(ds_layer_writer_add_fd(w, &e, fd, &err) == 0, &err, "add_fd of a 200000-byte file");
	close(fd);
	ok_err(ds_layer_writer_finish(w, &info, &err) == 0, &err, "finish");
	blob = read_blob(info.digest, &blen);
	tar = gunzip(blob, blen, &tlen);
	r = tar ? parse_tar(tar, tlen, &nr) : NULL;
	ok(r && nr == 1 && r[0].size == 200000 && !memcmp(r[0].data, data, 200000),
	   "its bytes are in the layer");
	rentries_free(r, nr);
	free(tar);
	free(blob);

	fd = open(p, O_RDONLY);
	e.size = 200001;
	ds_layer_writer_new(&w, store, NULL, &err);
	ok(ds_layer_writer_add_fd(w, &e, fd, &err) == -1, "a file shorter than announced fails");
	has_str(err.msg, "'big.bin' shrank", "saying it shrank: %s", err.msg);
	ds_layer_writer_free(w);
	close(fd);

	fd = open(p, O_RDONLY);
	e.size = 199999;
	ds_layer_writer_new(&w, store, NULL, &err);
	ok(ds_layer_writer_add_fd(w, &e, fd, &err) == -1, "a file longer than announced fails");
	has_str(err.msg, "'big.bin' grew", "saying it grew: %s", err.msg);
	ds_layer_writer_free(w);
	close(fd);
	free(data);
	free(p);
}

static void test_names(void)
{
	char p150[200], p300[400], seg[101], link200[256];
	const char *utf8 = "donn\xc3\xa9" "es/\xe6\x97\xa5\xe6\x9c\xac/caf\xc3\xa9.txt";
	const char *latin1 = "bad\xff\xfe-latin1-\xe9t\xe9.bin";
	const char *overlong = "ov\xc0\xafx"; /* overlong '/' */
	ds_error err = DS_ERROR_INIT;
	ds_layer_info info;
	unsigned char *blob, *tar;
	size_t blen, tlen, nr = 0, na = 0;
	rentry *r;
	aentry *a;

	memset(p150, 'a', 150);
	p150[150] = '\0';
	memset(seg, 'b', 100);
	seg[100] = '\0';
	snprintf(p300, sizeof(p300), "%s/%s/%.98s", seg, seg, seg); /* 300 bytes, > 255 */
	memset(link200, 'l', 200);
	link200[200] = '\0';
	{
		tentry t[] = {
			{ { p150, DS_ENTRY_FILE, 0644, 0, 0, 3, NULL, MT }, "abc" },
			{ { p300, DS_ENTRY_FILE, 0644, 0, 0, 3, NULL, MT }, "def" },
			{ { "sym", DS_ENTRY_SYMLINK, 0777, 0, 0, 0, link200, MT }, NULL },
			{ { "hl", DS_ENTRY_HARDLINK, 0644, 0, 0, 0, p300, MT }, NULL },
			{ { utf8, DS_ENTRY_FILE, 0644, 0, 0, 1, NULL, MT }, "u" },
			{ { latin1, DS_ENTRY_FILE, 0644, 0, 0, 1, NULL, MT }, "l" },
			{ { overlong, DS_ENTRY_FILE, 0644, 0, 0, 1, NULL, MT }, "o" },
			{ { "lnk-latin1", DS_ENTRY_SYMLINK, 0777, 0, 0, 0, latin1, MT }, NULL },
		};
		size_t n = sizeof(t) / sizeof(t[0]);

		is_int(strlen(p300), 300, "a 300-byte path");
		ok_err(write_layer(t, n, NULL, &info, &err) == 0, &err,
		       "long, UTF-8 and non-UTF-8 names");
		blob = read_blob(info.digest, &blen);
		tar = gunzip(blob, blen, &tlen);
		r = tar ? parse_tar(tar, tlen, &nr) : NULL;
		is_int(nr, n, "raw: %zu entries", n);
		for (size_t i = 0; r && i < n && i < nr; i++) {
			ok(!strcmp(r[i].path, t[i].e.path), "raw: entry %zu keeps its exact name bytes",
			   i);
			if (strcmp(r[i].path, t[i].e.path))
				printf("#   got '%s'\n#   pax: %s\n", r[i].path, r[i].pax);
			if (t[i].e.link)
				ok(!strcmp(r[i].link, t[i].e.link),
				   "raw: entry %zu keeps its exact link bytes", i);
			if (t[i].e.type == DS_ENTRY_FILE)
				ok(r[i].data[0] == (unsigned char)t[i].data[0],
				   "raw: entry %zu data", i);
		}
		rentries_free(r, nr);
		a = blob ? read_with_libarchive(blob, blen, &na) : NULL;
		is_int(na, n, "libarchive reads all %zu entries", n);
		if (a && na == n) {
			is_str(a[0].path, p150, "libarchive: the 150-byte name");
			is_str(a[1].path, p300, "libarchive: the 300-byte name");
			is_str(a[2].link, link200, "libarchive: the 200-byte symlink target");
			is_str(a[3].hardlink, p300, "libarchive: the 300-byte hardlink target");
			is_str(a[4].path, utf8, "libarchive: the UTF-8 name");
		}
		aentries_free(a, na);
		free(tar);
		free(blob);
	}
}

/* The same entries written under several locales must give one digest. */
static void test_locales(void)
{
	const char *utf8 = "donn\xc3\xa9" "es/caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt";
	const char *latin1 = "bad\xff\xfe-\xe9t\xe9.bin";
	char longname[300];
	tentry t[] = {
		{ { utf8, DS_ENTRY_FILE, 0644, 1000, 1000, 1, NULL, MT }, "u" },
		{ { latin1, DS_ENTRY_FILE, 0644, 1000, 1000, 1, NULL, MT }, "l" },
		{ { longname, DS_ENTRY_FILE, 0644, 1000, 1000, 1, NULL, MT }, "n" },
		{ { "s1", DS_ENTRY_SYMLINK, 0777, 1000, 1000, 0, utf8, MT }, NULL },
		{ { "s2", DS_ENTRY_SYMLINK, 0777, 1000, 1000, 0, latin1, MT }, NULL },
		{ { "h1", DS_ENTRY_HARDLINK, 0644, 1000, 1000, 0, utf8, MT }, NULL },
	};
	size_t n = sizeof(t) / sizeof(t[0]);
	ds_error err = DS_ERROR_INIT;
	ds_layer_info ref, info;
	char locdir[4200];
	const char *locs[] = { "C.UTF-8", "en_US.ISO-8859-1", "POSIX" };

	snprintf(locdir, sizeof(locdir), "%s/locales", root);
	/* a 200-byte name with a non-ASCII character: it needs a pax header */
	memset(longname, 'x', 200);
	memcpy(longname + 100, "\xc3\xa9", 2);
	longname[200] = '\0';

	setlocale(LC_ALL, "C");
	ok_err(write_layer(t, n, NULL, &ref, &err) == 0, &err, "layer under LC_ALL=C");
	/* a Latin-1 locale, compiled here: `locales` ships the sources */
	mkdir(locdir, 0755);
	{
		char *cmd = tu_fmt("localedef -i en_US -f ISO-8859-1 '%s/en_US.ISO-8859-1' "
				   ">/dev/null 2>&1",
				   locdir);
		if (tu_sh("%s", cmd) != 0)
			ok(0, "localedef en_US.ISO-8859-1 (install the Debian package 'locales')");
		free(cmd);
	}
	setenv("LOCPATH", locdir, 1);
	for (size_t i = 0; i < sizeof(locs) / sizeof(locs[0]); i++) {
		const char *got = setlocale(LC_ALL, locs[i]);
		ok(got != NULL, "setlocale(LC_ALL, %s)", locs[i]);
		if (!got)
			continue;
		ok_err(write_layer(t, n, NULL, &info, &err) == 0, &err, "layer under %s", locs[i]);
		is_str(info.diff_id, ref.diff_id, "same diff_id under %s as under C", locs[i]);
		is_str(info.digest, ref.digest, "same digest under %s as under C", locs[i]);
	}
	setlocale(LC_ALL, "C");
	unsetenv("LOCPATH");
	/* and the bytes are the names given, under C */
	{
		unsigned char *blob, *tar;
		size_t blen, tlen, nr = 0;
		rentry *r;
		blob = read_blob(ref.digest, &blen);
		tar = gunzip(blob, blen, &tlen);
		r = tar ? parse_tar(tar, tlen, &nr) : NULL;
		ok(r && nr == n, "the C-locale layer parses");
		for (size_t i = 0; r && i < n && i < nr; i++) {
			ok(!strcmp(r[i].path, t[i].e.path), "C locale: entry %zu has its exact name", i);
			if (t[i].e.link)
				ok(!strcmp(r[i].link, t[i].e.link),
				   "C locale: entry %zu has its exact link", i);
		}
		rentries_free(r, nr);
		free(tar);
		free(blob);
	}
}

static void progress_cb(void *data, uint64_t done)
{
	uint64_t *last = data;
	if (done < last[0])
		last[1] = 1; /* went backwards */
	last[0] = done;
	last[2]++;
}

static void test_progress(void)
{
	uint64_t st[3] = { 0, 0, 0 };
	ds_layer_opts o = DS_LAYER_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	ds_layer_info info;
	static char data[70000];
	tentry t[] = {
		{ { "a", DS_ENTRY_FILE, 0644, 0, 0, 70000, NULL, 0 }, data },
		{ { "b", DS_ENTRY_FILE, 0644, 0, 0, 5, NULL, 0 }, "12345" },
	};

	o.progress = progress_cb;
	o.progress_data = st;
	ok_err(write_layer(t, 2, &o, &info, &err) == 0, &err, "a layer with a progress callback");
	ok(st[2] >= 2, "progress was called");
	is_int(st[0], 70005, "and ends at the number of data bytes");
	ok(!st[1], "never going backwards");
}

/* Cancellation cannot be undone in-process: try it in a child. */
static void test_cancel(void)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		ds_error err = DS_ERROR_INIT;
		ds_layer_writer *w;
		ds_layer_entry e = { "f", DS_ENTRY_FILE, 0644, 0, 0, 10, NULL, 0 };
		ds_layer_writer_new(&w, store, NULL, &err);
		ds_layer_writer_add(w, &e, &err);
		ds_cancel_request();
		if (ds_layer_writer_data(w, "12345", 5, &err) == 0 || err.code != DS_ECANCELED)
			_exit(1);
		ds_layer_writer_free(w);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "after ds_cancel_request() data fails with DS_ECANCELED");
}

static void test_sparse_9g(void)
{
	const uint64_t size = (uint64_t)9 << 30;
	ds_layer_opts o = DS_LAYER_OPTS_INIT;
	ds_layer_entry e = { "big/zeros.bin", DS_ENTRY_FILE, 0644, 1000, 1000, size, NULL, MT };
	ds_error err = DS_ERROR_INIT;
	ds_layer_writer *w;
	ds_layer_info info;
	char *p = tu_fmt("%s/sparse", root);
	struct timespec t0, t1;
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	char *bp;
	int bfd;
	unsigned char head[16384], tail[8];
	unsigned char tarhead[4096];
	z_stream zs;

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		ok(0, "a 9 GiB sparse file: %s", strerror(errno));
		return;
	}
	/* Level 1, 2 threads: about 40 s here, most of it SHA-256 and deflate
	 * of 9 GiB of zeros.  The data is not re-hashed below (another ~15 s);
	 * the integration tests check big layers end to end. */
	o.gzip_level = 1;
	o.threads = 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ds_layer_writer_new(&w, store, &o, &err);
	ok_err(ds_layer_writer_add_fd(w, &e, fd, &err) == 0, &err, "add_fd of a 9 GiB sparse file");
	ok_err(ds_layer_writer_finish(w, &info, &err) == 0, &err, "finish the 9 GiB layer");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# 9 GiB sparse layer at level 1: %.1f s, %llu compressed bytes\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)info.size);
	close(fd);
	unlink(p);
	free(p);
	/* header (1 block) + pax header (2 blocks) + data, padded to 10240 */
	ok(info.tar_size >= 512 + size + 1024 && info.tar_size % 10240 == 0 &&
		   info.tar_size <= size + 3 * 10240,
	   "tar_size %llu fits 9 GiB of data and its headers", (unsigned long long)info.tar_size);
	bp = tu_fmt("%s/blobs/sha256/%s", root, info.digest + 7);
	bfd = open(bp, O_RDONLY);
	ok(bfd >= 0 && read(bfd, head, sizeof(head)) == (ssize_t)sizeof(head) &&
		   pread(bfd, tail, 8, (off_t)info.size - 8) == 8,
	   "read the blob's head and trailer");
	{
		uint32_t isize = (uint32_t)tail[4] | (uint32_t)tail[5] << 8 |
				 (uint32_t)tail[6] << 16 | (uint32_t)tail[7] << 24;
		is_int(isize, (uint32_t)info.tar_size, "gzip ISIZE = tar_size mod 2^32");
	}
	memset(&zs, 0, sizeof(zs));
	inflateInit2(&zs, 16 + MAX_WBITS);
	zs.next_in = head;
	zs.avail_in = sizeof(head);
	zs.next_out = tarhead;
	zs.avail_out = sizeof(tarhead);
	inflate(&zs, Z_SYNC_FLUSH);
	inflateEnd(&zs);
	ok(zs.avail_out == 0, "the first 4 KiB of the tar decompress");
	/* [0] the 'x' header, [512] its records, [1024] the file's header */
	tarhead[sizeof(tarhead) - 1] = '\0';
	is_int(tarhead[156], 'x', "a pax header comes first");
	ok(strstr((char *)tarhead + 512, " size=9663676416\n") != NULL,
	   "the pax header records size=9663676416");
	ok(strstr((char *)tarhead + 512, "atime") == NULL &&
		   strstr((char *)tarhead + 512, "ctime") == NULL,
	   "and no atime/ctime");
	is_int(tarhead[1024 + 156], '0', "the entry is a regular file");
	is_str((char *)tarhead + 1024, "big/zeros.bin", "named big/zeros.bin");
	if (bfd >= 0)
		close(bfd);
	unlink(bp);
	free(bp);
}

int main(void)
{
	ds_error err = DS_ERROR_INIT;
	const char *big = getenv("DSBUILD_TEST_BIG");

	root = tu_tmpdir("layer");
	if (ds_store_open(&store, root, 1, &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	test_basic();
	test_empty_layer();
	test_data_mismatch();
	test_bad_entries();
	test_add_fd();
	test_names();
	test_locales();
	test_progress();
	test_cancel();
	if (big && *big && strcmp(big, "0"))
		test_sparse_9g();
	else
		/* 39 s on an idle 2-core machine, 108 s while the team's builds
		 * and tests run: over the one-minute budget of a unit test.
		 * tests/integration covers layers past 8 GiB end to end. */
		printf("ok %d # SKIP 9 GiB sparse file through add_fd: 40-110 s of SHA-256 and "
		       "deflate; set DSBUILD_TEST_BIG=1 to run it\n",
		       ++tap_n);
	ds_store_free(store);
	tu_rm_rf(root);
	free(root);
	return done_testing();
}
