/* lib/oci/gzip.c: round trips through zlib and gzip(1), identical bytes for
 * any thread count or write pattern, the exact pigz-style block scheme,
 * errors, cancellation. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <dirent.h>

#include <dsbuild/error.h>

#include "oci/gzip.h"
#include "tap.h"

#define BLOCK (128 * 1024) /* DS_GZIP_BLOCK: part of the output format */
#define DICT (32 * 1024)

struct out {
	unsigned char *p;
	size_t len, cap;
	size_t calls;
	pthread_t owner;
	int wrong_thread;
	/* Fail on call number fail_at (1-based), 0 = never. */
	size_t fail_at;
};

static int sink(void *data, const void *buf, size_t len, ds_error *err)
{
	struct out *o = data;

	o->calls++;
	if (!pthread_equal(o->owner, pthread_self()))
		o->wrong_thread = 1;
	if (o->fail_at && o->calls >= o->fail_at)
		return ds_error_set(err, DS_EIO, "cannot write 'layer.tar.gz': disk full");
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		o->p = realloc(o->p, o->cap);
		if (!o->p)
			abort();
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	return 0;
}

static void out_init(struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->owner = pthread_self();
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned char *make_random(size_t n, uint64_t seed)
{
	unsigned char *p = malloc(n ? n : 1);
	rng_state = seed;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rng() >> 32);
	return p;
}

static unsigned char *make_text(size_t n, uint64_t seed)
{
	static const char *words[] = { "layer ", "image ", "python ", "wheel ", "site-packages/",
				       "\n", "import ", "numpy ", "def ", "return ", "0x1f8b ",
				       "usr/lib/", ".so.1 ", "README ", "{ }; " };
	unsigned char *p = malloc(n ? n : 1);
	size_t i = 0;

	rng_state = seed;
	while (i < n) {
		const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
		for (size_t j = 0; w[j] && i < n; j++)
			p[i++] = (unsigned char)w[j];
	}
	return p;
}

/* Compresses data; chunk 0 = random chunk sizes, 1 = byte by byte for the
 * first 200000 bytes then random, otherwise fixed chunks. */
static int compress_with(struct out *o, const unsigned char *data, size_t n, int level,
			 int threads, size_t chunk, ds_error *err)
{
	ds_gzip *z = NULL;
	size_t off = 0;
	int rc = -1;

	out_init(o);
	if (ds_gzip_new(&z, level, threads, sink, o, err) < 0)
		return -1;
	rng_state = 0x9e3779b97f4a7c15ULL ^ n;
	while (off < n) {
		size_t c;
		if (chunk == 0 || (chunk == 1 && off >= 200000))
			c = 1 + rng() % 70000;
		else
			c = chunk;
		if (c > n - off)
			c = n - off;
		if (ds_gzip_write(z, data + off, c, err) < 0)
			goto out;
		off += c;
	}
	rc = ds_gzip_finish(z, err);
out:
	ds_gzip_free(z);
	return rc;
}

/* Inflates one gzip member; 0 only if it is exactly want, consumed whole. */
static int check_inflate(const struct out *o, const unsigned char *want, size_t n)
{
	z_stream s;
	unsigned char *got = malloc(n + 1);
	int ret, bad = 0;

	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, 16 + 15) != Z_OK)
		return -1;
	s.next_in = o->p;
	s.avail_in = (uInt)o->len;
	s.next_out = got;
	s.avail_out = (uInt)n + 1;
	ret = inflate(&s, Z_FINISH);
	if (ret != Z_STREAM_END) {
		printf("#   inflate: %d (%s)\n", ret, s.msg ? s.msg : "");
		bad = 1;
	} else if (s.avail_in != 0) {
		printf("#   %u bytes after the gzip member\n", s.avail_in);
		bad = 1;
	} else if (s.total_out != n || (n && memcmp(got, want, n) != 0)) {
		printf("#   content differs (%lu bytes, want %zu)\n", s.total_out, n);
		bad = 1;
	}
	inflateEnd(&s);
	free(got);
	return bad ? -1 : 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The scheme written out serially with plain zlib: header, one raw deflate
 * piece per BLOCK primed with the previous block's last 32 KiB, sync flush,
 * Z_FINISH on the last (an exact multiple has no empty extra block). */
static void reference(struct out *o, const unsigned char *d, size_t n, int level)
{
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };
	size_t cap = n + n / 100 + 1024, off = 0;
	z_stream s;

	h[8] = level == 9 ? 2 : level == 1 ? 4 : 0;
	out_init(o);
	o->p = malloc(cap + 18);
	o->cap = cap + 18;
	memcpy(o->p, h, 10);
	o->len = 10;
	do {
		size_t len = n - off < BLOCK ? n - off : BLOCK;
		int last = off + len == n;
		memset(&s, 0, sizeof(s));
		deflateInit2(&s, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
		if (off)
			deflateSetDictionary(&s, d + off - DICT, DICT);
		s.next_in = (unsigned char *)d + off;
		s.avail_in = (uInt)len;
		s.next_out = o->p + o->len;
		s.avail_out = (uInt)(o->cap - o->len - 8);
		deflate(&s, last ? Z_FINISH : Z_SYNC_FLUSH);
		o->len = o->cap - 8 - s.avail_out;
		deflateEnd(&s);
		off += len;
	} while (off < n);
	uLong crc = crc32(0L, d, (uInt)n);
	for (int i = 0; i < 4; i++) {
		o->p[o->len + i] = (unsigned char)(crc >> (8 * i));
		o->p[o->len + 4 + i] = (unsigned char)(n >> (8 * i));
	}
	o->len += 8;
}

static int same(const struct out *a, const struct out *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static void test_roundtrips(void)
{
	static const size_t sizes[] = { 0, 1, 100, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK,
					7 * BLOCK + 12345 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		for (int kind = 0; kind < 2; kind++) {
			unsigned char *d = kind ? make_text(n, 7 + n) : make_random(n, 11 + n);
			struct out o, ref;
			ds_error err = DS_ERROR_INIT;
			int rc = compress_with(&o, d, n, 6, 2, 65536, &err);

			ok(rc == 0 && check_inflate(&o, d, n) == 0, "%zu %s bytes round-trip (%s)",
			   n, kind ? "text" : "random", err.msg);
			ok(o.len >= 18 && le32(o.p + o.len - 4) == (uint32_t)n &&
				   le32(o.p + o.len - 8) == crc32(0L, d, (uInt)n),
			   "%zu bytes: trailer has CRC32 and ISIZE", n);
			reference(&ref, d, n, 6);
			ok(same(&o, &ref), "%zu %s bytes: exactly the 128 KiB block scheme (%zu vs %zu)",
			   n, kind ? "text" : "random", o.len, ref.len);
			ok(!o.wrong_thread, "%zu bytes: sink called on the caller's thread only", n);
			free(ref.p);
			free(o.p);
			free(d);
		}
	}
	/* Empty input: header, an empty final block, trailer. */
	struct out o;
	ds_error err = DS_ERROR_INIT;
	compress_with(&o, (const unsigned char *)"", 0, 6, 1, 1, &err);
	ok(o.len == 20 && o.p[10] == 0x03 && o.p[11] == 0x00, "empty input is 20 bytes (%zu)",
	   o.len);
	free(o.p);
}

static void test_threads_and_chunks(void)
{
	size_t n = 23 * BLOCK + 777;
	unsigned char *d = make_text(n, 42);
	unsigned char *r = make_random(n / 3, 43);
	struct out base;
	ds_error err = DS_ERROR_INIT;

	memcpy(d + n / 3, r, n / 3); /* mixed: a random third in the middle */
	free(r);
	ok(compress_with(&base, d, n, 6, 1, 65536, &err) == 0 && check_inflate(&base, d, n) == 0,
	   "mixed %zu bytes, threads 1 (%s)", n, err.msg);
	static const int threads[] = { 1, 2, 3, 8, 0, -5, 1000 };
	static const size_t chunks[] = { 65536, 1, 0, BLOCK, 4096 };
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			struct out o;
			if (c > 0 && threads[t] != 3 && threads[t] != 1)
				continue;
			int rc = compress_with(&o, d, n, 6, threads[t], chunks[c], &err);
			ok(rc == 0 && same(&o, &base),
			   "threads %d, writes of %s: same bytes as threads 1", threads[t],
			   chunks[c] == 0	 ? "random sizes"
			   : chunks[c] == 1 ? "1 byte then random sizes"
					    : (chunks[c] == BLOCK ? "128 KiB" : "4/64 KiB"));
			ok(!o.wrong_thread, "threads %d: sink only on the calling thread", threads[t]);
			free(o.p);
		}
	}
	free(base.p);
	free(d);
}

static void test_levels(void)
{
	size_t n = 5 * BLOCK + 3;
	unsigned char *d = make_text(n, 5);
	size_t size[10] = { 0 };

	for (int level = 0; level <= 9; level++) {
		struct out o, o8, ref;
		ds_error err = DS_ERROR_INIT;
		int rc = compress_with(&o, d, n, level, 1, 65536, &err);
		int rc8 = compress_with(&o8, d, n, level, 8, 65536, &err);
		reference(&ref, d, n, level);
		ok(rc == 0 && rc8 == 0 && check_inflate(&o, d, n) == 0 && same(&o, &o8) &&
			   same(&o, &ref),
		   "level %d round-trips, threads 1 == 8 == reference", level);
		ok(o.p[8] == (level == 9 ? 2 : level == 1 ? 4 : 0), "level %d: XFL %d", level,
		   o.p[8]);
		size[level] = o.len;
		free(o.p);
		free(o8.p);
		free(ref.p);
	}
	ok(size[0] > n, "level 0 stores (%zu > %zu)", size[0], n);
	ok(size[9] < size[1] && size[1] < n / 2, "level 9 (%zu) < level 1 (%zu) < half", size[9],
	   size[1]);

	ds_gzip *z = NULL;
	ds_error err = DS_ERROR_INIT;
	struct out o;
	out_init(&o);
	ok(ds_gzip_new(&z, 10, 1, sink, &o, &err) == -1 && err.code == DS_EINVAL && z == NULL,
	   "level 10 refused: %s", err.msg);
	ds_error_clear(&err);
	ok(ds_gzip_new(&z, -1, 1, sink, &o, &err) == -1 && err.code == DS_EINVAL && z == NULL,
	   "level -1 refused: %s", err.msg);
	free(d);
}

static void test_header(void)
{
	struct out o;
	ds_error err = DS_ERROR_INIT;
	unsigned char *d = make_text(1000, 1);
	static const unsigned char want[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };

	compress_with(&o, d, 1000, 6, 2, 1000, &err);
	ok(o.len > 10 && memcmp(o.p, want, 10) == 0,
	   "header: 1f 8b, deflate, no flags, mtime 0, XFL 0, OS 255");
	free(o.p);
	free(d);
}

static int write_file(const char *path, const struct out *o)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(o->p, 1, o->len, f);
	return (fclose(f) == 0 && w == o->len) ? 0 : -1;
}

static void test_gzip_tool(void)
{
	char dir[] = "/tmp/test_gzip.XXXXXX", gz[256], raw[256], cmd[1024];
	size_t n = 9 * BLOCK + 4321;
	unsigned char *d = make_text(n, 99);
	struct out o;
	ds_error err = DS_ERROR_INIT;

	if (access("/bin/gzip", X_OK) != 0) {
		ok(0, "/bin/gzip is missing: install the Debian package 'gzip'");
		free(d);
		return;
	}
	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(gz, sizeof(gz), "%s/out.gz", dir);
	snprintf(raw, sizeof(raw), "%s/raw", dir);
	for (int level = 0; level <= 9; level += 3) {
		compress_with(&o, d, n, level, 3, 65536, &err);
		ok(write_file(gz, &o) == 0, "wrote %s", gz);
		snprintf(cmd, sizeof(cmd), "/bin/gzip -t '%s'", gz);
		ok(system(cmd) == 0, "level %d: gzip -t accepts the output", level);
		free(o.p);
	}
	/* gzip -d is a second, independent decoder. */
	struct out plain = { .p = d, .len = n };
	write_file(raw, &plain);
	compress_with(&o, d, n, 6, 2, 0, &err);
	write_file(gz, &o);
	snprintf(cmd, sizeof(cmd), "/bin/gzip -dc '%s' | cmp -s - '%s'", gz, raw);
	ok(system(cmd) == 0, "gzip -dc gives back the input");
	free(o.p);
	/* An empty stream too. */
	compress_with(&o, d, 0, 6, 2, 1, &err);
	write_file(gz, &o);
	snprintf(cmd, sizeof(cmd), "/bin/gzip -t '%s'", gz);
	ok(system(cmd) == 0, "gzip -t accepts an empty stream");
	free(o.p);
	unlink(gz);
	unlink(raw);
	rmdir(dir);
	free(d);
}

static void test_sink_errors(void)
{
	size_t n = 12 * BLOCK;
	unsigned char *d = make_random(n, 3);
	static const int threads[] = { 1, 2, 8 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		/* Call 1 is the header, then one call per block, then the trailer. */
		static const size_t fail_at[] = { 1, 2, 5, 14 };
		for (size_t f = 0; f < sizeof(fail_at) / sizeof(fail_at[0]); f++) {
			struct out o;
			ds_gzip *z = NULL;
			ds_error err = DS_ERROR_INIT;
			int rc = 0;
			size_t off = 0;

			out_init(&o);
			o.fail_at = fail_at[f];
			ok(ds_gzip_new(&z, 1, threads[t], sink, &o, &err) == 0, "new");
			while (off < n && rc == 0) {
				rc = ds_gzip_write(z, d + off, 65536, &err);
				off += 65536;
			}
			if (rc == 0)
				rc = ds_gzip_finish(z, &err);
			ok(rc == -1 && err.code == DS_EIO && strstr(err.msg, "disk full"),
			   "threads %d, sink fails on call %zu: %s", threads[t], fail_at[f], err.msg);
			ok(o.calls == fail_at[f], "threads %d: no sink call after the failure (%zu)",
			   threads[t], o.calls);
			ds_error_clear(&err);
			ok(ds_gzip_write(z, d, 10, &err) == -1 && err.code == DS_EINVAL,
			   "write after a failure is refused: %s", err.msg);
			ds_error_clear(&err);
			ok(ds_gzip_finish(z, &err) == -1 && err.code == DS_EINVAL,
			   "finish after a failure is refused: %s", err.msg);
			ds_gzip_free(z);
			free(o.p);
		}
	}
	free(d);
}

static void test_free_unfinished(void)
{
	size_t n = 20 * BLOCK;
	unsigned char *d = make_random(n, 17);
	static const int threads[] = { 1, 2, 8 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct out o;
		ds_gzip *z = NULL;
		ds_error err = DS_ERROR_INIT;
		int rc = 0;

		out_init(&o);
		ds_gzip_new(&z, 9, threads[t], sink, &o, &err);
		for (size_t off = 0; off < n; off += 65536)
			rc |= ds_gzip_write(z, d + off, 65536, &err);
		ok(rc == 0, "threads %d: wrote 20 blocks", threads[t]);
		/* Blocks are still in flight here; free must stop and join. */
		ok(ds_gzip_free(z) == NULL, "threads %d: free an unfinished stream", threads[t]);
		free(o.p);
	}
	ok(ds_gzip_free(NULL) == NULL, "free(NULL)");

	/* Finished, then used again. */
	struct out o;
	ds_gzip *z = NULL;
	ds_error err = DS_ERROR_INIT;
	out_init(&o);
	ds_gzip_new(&z, 6, 2, sink, &o, &err);
	ds_gzip_write(z, d, 3 * BLOCK, &err);
	ok(ds_gzip_finish(z, &err) == 0 && check_inflate(&o, d, 3 * BLOCK) == 0, "finish");
	ok(ds_gzip_write(z, d, 1, &err) == -1 && err.code == DS_EINVAL,
	   "write after finish is refused: %s", err.msg);
	ds_gzip_free(z);
	free(o.p);
	free(d);
}

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void test_thread_lifecycle(void)
{
	size_t n = 6 * BLOCK;
	unsigned char *d = make_random(n, 29);
	int base = count_threads();
	struct out o;
	ds_gzip *z = NULL;
	ds_error err = DS_ERROR_INIT;

	/* Counted relative to base: sanitizers may run a thread of their own. */
	ok(base >= 1, "counting threads in /proc/self/task (%d)", base);
	out_init(&o);
	ds_gzip_new(&z, 1, 1, sink, &o, &err);
	ds_gzip_write(z, d, n, &err);
	ok(count_threads() == base, "threads 1: no worker thread after 6 blocks");
	ds_gzip_finish(z, &err);
	z = ds_gzip_free(z);
	free(o.p);

	out_init(&o);
	ds_gzip_new(&z, 1, 8, sink, &o, &err);
	ds_gzip_write(z, d, BLOCK, &err);
	ds_gzip_finish(z, &err);
	ok(count_threads() == base && check_inflate(&o, d, BLOCK) == 0,
	   "threads 8, one block: compressed without starting a thread");
	z = ds_gzip_free(z);
	free(o.p);

	out_init(&o);
	ds_gzip_new(&z, 1, 3, sink, &o, &err);
	ds_gzip_write(z, d, n, &err);
	ok(count_threads() == base + 3, "threads 3: 3 workers while streaming (%d)",
	   count_threads() - base);
	ok(ds_gzip_finish(z, &err) == 0 && count_threads() == base, "finish joins the workers");
	z = ds_gzip_free(z);
	free(o.p);

	out_init(&o);
	o.fail_at = 3;
	ds_gzip_new(&z, 1, 3, sink, &o, &err);
	int rc = ds_gzip_write(z, d, n, &err);
	if (rc == 0) /* the failure surfaces in write or, if no block was done yet, in finish */
		rc = ds_gzip_finish(z, &err);
	ok(rc == -1 && err.code == DS_EIO && count_threads() == base,
	   "a sink error joins the workers at once");
	z = ds_gzip_free(z);
	free(o.p);
	free(d);
}

/* Last: the cancel flag is process-wide and cannot be reset. */
static void test_cancel(void)
{
	size_t n = 4 * BLOCK;
	unsigned char *d = make_random(n, 23);
	struct out o;
	ds_gzip *z = NULL;
	ds_error err = DS_ERROR_INIT;

	out_init(&o);
	ds_gzip_new(&z, 6, 2, sink, &o, &err);
	ok(ds_gzip_write(z, d, 2 * BLOCK + 5, &err) == 0, "write before cancel");
	ds_cancel_request();
	ok(ds_gzip_write(z, d, BLOCK, &err) == -1 && err.code == DS_ECANCELED,
	   "write after cancel fails with DS_ECANCELED: %s", err.msg);
	ds_error_clear(&err);
	ok(ds_gzip_finish(z, &err) == -1, "finish after cancel fails: %s", err.msg);
	ds_gzip_free(z);
	free(o.p);
	free(d);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_header();
	test_roundtrips();
	test_threads_and_chunks();
	test_levels();
	test_gzip_tool();
	test_sink_errors();
	test_free_unfinished();
	test_thread_lifecycle();
	test_cancel();
	return done_testing();
}
