/* Deterministic parallel gzip, pigz's scheme: the input is cut into fixed
 * DS_GZIP_BLOCK-sized blocks; each block is deflated on its own, primed with
 * the last 32 KiB of the block before it as the preset dictionary, and ends
 * with Z_SYNC_FLUSH (the last one with Z_FINISH).  The raw deflate pieces are
 * concatenated in order between a fixed header and a CRC32/ISIZE trailer, so
 * the bytes depend on the input, the level and DS_GZIP_BLOCK only: never on
 * the number of threads.  docs/internals/gzip.md explains the choices.
 *
 * Threads: the calling thread fills blocks, hands them to workers and emits
 * finished blocks in order (so the sink only ever runs on the caller).  At
 * most nslots = 2 * threads + 2 blocks exist at a time, whatever the input
 * size.  With threads <= 1, or for a stream of one block, everything runs on
 * the calling thread and no thread is started. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <zlib.h>

#include "oci/gzip.h"
#include "util/util.h"

/* Part of the output format: changing either changes every layer digest. */
#define DS_GZIP_BLOCK (128 * 1024)
#define DS_GZIP_DICT (32 * 1024)

/* More workers than this only costs memory (each slot holds ~290 KiB). */
#define DS_GZIP_MAX_THREADS 64

enum gz_state { GZ_OPEN, GZ_FAILED, GZ_FINISHED };

struct gz_slot {
	unsigned char *in; /* DS_GZIP_BLOCK bytes, allocated on first use */
	size_t in_len;
	unsigned char *dict; /* DS_GZIP_DICT bytes */
	size_t dict_len;
	int last;
	/* Written by whoever compresses the block, read by the caller once done. */
	unsigned char *out;
	size_t out_len, out_cap;
	uLong crc;
	int zret;  /* Z_OK or the zlib error that stopped the block */
	int done;  /* under mu */
};

struct gz_worker {
	ds_gzip *z;
	pthread_t tid;
	z_stream strm;
	int strm_ok;
	int started;
};

struct ds_gzip {
	int level;
	int threads; /* workers wanted; <= 1 means none */
	ds_gzip_sink sink;
	void *sink_data;
	enum gz_state state;

	z_stream strm; /* the caller's own, for blocks compressed inline */
	size_t out_cap0;

	struct gz_slot *slots;
	size_t nslots;
	struct gz_slot *filling; /* the block being filled, seq next_submit */

	/* Sequence numbers: emitted < next_emit <= taken < next_take <= next_submit. */
	uint64_t next_submit, next_take, next_emit;

	struct gz_worker *workers;
	int nworkers; /* started */
	pthread_mutex_t mu;
	pthread_cond_t work_cond; /* workers: a block to take, or stop */
	pthread_cond_t done_cond; /* caller: a block is done */
	int stop;

	int header_sent;
	uLong crc;
	uint64_t total_in;
};

static int gz_deflate_init(z_stream *s, int level)
{
	memset(s, 0, sizeof(*s));
	/* Raw deflate (-15): the gzip wrapper is ours. */
	return deflateInit2(s, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

static int gz_grow_out(struct gz_slot *s, size_t want)
{
	size_t cap = s->out_cap ? s->out_cap : 4096;
	unsigned char *p;

	while (cap < want)
		cap *= 2;
	if (cap == s->out_cap)
		return 0;
	p = realloc(s->out, cap);
	if (!p)
		return -1;
	s->out = p;
	s->out_cap = cap;
	return 0;
}

/* Compresses one block with strm; runs on a worker or on the caller.
 * Sets s->zret instead of failing so the caller reports it in order. */
static void gz_compress(struct gz_slot *s, z_stream *strm, size_t out_cap0)
{
	int flush = s->last ? Z_FINISH : Z_SYNC_FLUSH;
	int ret;

	s->out_len = 0;
	s->crc = crc32(0L, s->in, (uInt)s->in_len);
	s->zret = Z_OK;
	if (gz_grow_out(s, out_cap0) < 0) {
		s->zret = Z_MEM_ERROR;
		return;
	}
	ret = deflateReset(strm);
	if (ret == Z_OK && s->dict_len)
		ret = deflateSetDictionary(strm, s->dict, (uInt)s->dict_len);
	if (ret != Z_OK) {
		s->zret = ret;
		return;
	}
	strm->next_in = s->in;
	strm->avail_in = (uInt)s->in_len;
	for (;;) {
		if (s->out_cap - s->out_len < 64 && gz_grow_out(s, s->out_cap * 2) < 0) {
			s->zret = Z_MEM_ERROR;
			return;
		}
		strm->next_out = s->out + s->out_len;
		strm->avail_out = (uInt)(s->out_cap - s->out_len);
		ret = deflate(strm, flush);
		s->out_len = s->out_cap - strm->avail_out;
		if (ret == Z_STREAM_END)
			break;
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			s->zret = ret;
			return;
		}
		/* A sync flush is complete when deflate left room in the output. */
		if (flush == Z_SYNC_FLUSH && strm->avail_in == 0 && strm->avail_out != 0)
			break;
	}
}

static void *gz_worker_main(void *arg)
{
	struct gz_worker *w = arg;
	ds_gzip *z = w->z;

	pthread_mutex_lock(&z->mu);
	for (;;) {
		while (!z->stop && z->next_take == z->next_submit)
			pthread_cond_wait(&z->work_cond, &z->mu);
		if (z->stop)
			break;
		struct gz_slot *s = &z->slots[z->next_take % z->nslots];
		z->next_take++;
		pthread_mutex_unlock(&z->mu);

		gz_compress(s, &w->strm, z->out_cap0);

		pthread_mutex_lock(&z->mu);
		s->done = 1;
		pthread_cond_signal(&z->done_cond);
	}
	pthread_mutex_unlock(&z->mu);
	return NULL;
}

static void gz_stop_workers(ds_gzip *z)
{
	if (!z->nworkers)
		return;
	pthread_mutex_lock(&z->mu);
	z->stop = 1;
	pthread_cond_broadcast(&z->work_cond);
	pthread_mutex_unlock(&z->mu);
	for (int i = 0; i < z->nworkers; i++)
		pthread_join(z->workers[i].tid, NULL);
	z->nworkers = 0;
}

/* Starts the workers the first time a block goes out that is not the last:
 * a stream of one block never starts a thread. */
static int gz_start_workers(ds_gzip *z, ds_error *err)
{
	sigset_t all, old;
	int rc = 0;

	z->workers = ds_xcalloc((size_t)z->threads, sizeof(*z->workers));
	for (int i = 0; i < z->threads; i++) {
		struct gz_worker *w = &z->workers[i];
		w->z = z;
		rc = gz_deflate_init(&w->strm, z->level);
		if (rc != Z_OK)
			return ds_error_set(err, DS_ENOMEM, "cannot start gzip: %s",
					    rc == Z_MEM_ERROR ? "out of memory" : "zlib error");
		w->strm_ok = 1;
	}
	/* Workers block every signal so the caller gets them (and its EINTR). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < z->threads; i++) {
		rc = pthread_create(&z->workers[i].tid, NULL, gz_worker_main, &z->workers[i]);
		if (rc != 0)
			break;
		z->workers[i].started = 1;
		z->nworkers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return ds_error_set_errno(err, rc, "cannot start gzip worker thread");
	return 0;
}

static int gz_fail(ds_gzip *z)
{
	z->state = GZ_FAILED;
	gz_stop_workers(z);
	return -1;
}

static int gz_emit_header(ds_gzip *z, ds_error *err)
{
	/* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=255 (unknown) */
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };

	h[8] = z->level == 9 ? 2 : z->level == 1 ? 4 : 0;
	z->header_sent = 1;
	return z->sink(z->sink_data, h, sizeof(h), err);
}

/* Sends the oldest block to the sink; it must be done. */
static int gz_emit_one(ds_gzip *z, struct gz_slot *s, ds_error *err)
{
	if (s->zret != Z_OK)
		return ds_error_set(err, s->zret == Z_MEM_ERROR ? DS_ENOMEM : DS_EIO,
				    "cannot gzip block %llu: %s", (unsigned long long)z->next_emit,
				    s->zret == Z_MEM_ERROR ? "out of memory" : zError(s->zret));
	if (!z->header_sent && gz_emit_header(z, err) < 0)
		return -1;
	if (s->out_len && z->sink(z->sink_data, s->out, s->out_len, err) < 0)
		return -1;
	z->crc = crc32_combine(z->crc, s->crc, (z_off_t)s->in_len);
	z->total_in += s->in_len;
	z->next_emit++;
	return 0;
}

/* Emits finished blocks in order; with wait, waits for at least the oldest. */
static int gz_emit(ds_gzip *z, int wait, ds_error *err)
{
	while (z->next_emit < z->next_submit) {
		struct gz_slot *s = &z->slots[z->next_emit % z->nslots];
		int done;

		if (z->nworkers) {
			pthread_mutex_lock(&z->mu);
			while (wait && !s->done)
				pthread_cond_wait(&z->done_cond, &z->mu);
			done = s->done;
			pthread_mutex_unlock(&z->mu);
		} else {
			done = s->done;
		}
		if (!done)
			return 0;
		if (gz_emit_one(z, s, err) < 0)
			return -1;
		wait = 0;
	}
	return 0;
}

/* Makes z->filling a free slot for block next_submit, primed with the tail of
 * the block before it.  Waits for the oldest block when all slots are busy. */
static int gz_acquire(ds_gzip *z, ds_error *err)
{
	struct gz_slot *s, *prev;

	while (z->next_submit - z->next_emit >= z->nslots)
		if (gz_emit(z, 1, err) < 0)
			return -1;
	s = &z->slots[z->next_submit % z->nslots];
	if (!s->in) {
		s->in = malloc(DS_GZIP_BLOCK);
		s->dict = malloc(DS_GZIP_DICT);
		if (!s->in || !s->dict)
			return ds_error_set(err, DS_ENOMEM, "cannot gzip: out of memory");
	}
	/* The previous slot's input is intact: it is reused only after this one
	 * is submitted.  With one slot, prev == s and its tail is copied first. */
	s->dict_len = 0;
	if (z->next_submit > 0) {
		prev = &z->slots[(z->next_submit - 1) % z->nslots];
		s->dict_len = prev->in_len < DS_GZIP_DICT ? prev->in_len : DS_GZIP_DICT;
		memcpy(s->dict, prev->in + prev->in_len - s->dict_len, s->dict_len);
	}
	s->in_len = 0;
	s->last = 0;
	s->done = 0;
	z->filling = s;
	return 0;
}

static int gz_submit(ds_gzip *z, int last, ds_error *err)
{
	struct gz_slot *s = z->filling;

	s->last = last;
	z->filling = NULL;
	if (!last && z->threads > 1 && !z->workers && gz_start_workers(z, err) < 0)
		return -1;
	if (!z->nworkers) {
		gz_compress(s, &z->strm, z->out_cap0);
		s->done = 1;
		z->next_submit++;
		return gz_emit(z, 0, err);
	}
	pthread_mutex_lock(&z->mu);
	z->next_submit++;
	pthread_cond_signal(&z->work_cond);
	pthread_mutex_unlock(&z->mu);
	return gz_emit(z, 0, err);
}

int ds_gzip_new(ds_gzip **out, int level, int threads, ds_gzip_sink sink, void *sink_data,
		ds_error *err)
{
	ds_gzip *z;
	int rc;

	if (level < 0 || level > 9) {
		ds_error_set(err, DS_EINVAL, "gzip level %d out of range", level);
		return ds_error_hint(err, "use a level from 0 (store) to 9 (smallest)");
	}
	if (!sink)
		return ds_error_set(err, DS_EINVAL, "gzip stream needs a sink");
	if (threads > DS_GZIP_MAX_THREADS)
		threads = DS_GZIP_MAX_THREADS;

	z = ds_xcalloc(1, sizeof(*z));
	z->level = level;
	z->threads = threads > 1 ? threads : 0;
	z->sink = sink;
	z->sink_data = sink_data;
	z->nslots = z->threads ? 2 * (size_t)z->threads + 2 : 1;
	z->slots = ds_xcalloc(z->nslots, sizeof(*z->slots));
	z->crc = crc32(0L, Z_NULL, 0);
	rc = gz_deflate_init(&z->strm, level);
	if (rc != Z_OK) {
		free(z->slots);
		free(z);
		return ds_error_set(err, DS_ENOMEM, "cannot start gzip: %s",
				    rc == Z_MEM_ERROR ? "out of memory" : "zlib error");
	}
	/* Enough for any block at any level, so buffers never grow in practice. */
	z->out_cap0 = deflateBound(&z->strm, DS_GZIP_BLOCK) + 64;
	pthread_mutex_init(&z->mu, NULL);
	pthread_cond_init(&z->work_cond, NULL);
	pthread_cond_init(&z->done_cond, NULL);
	*out = z;
	return 0;
}

static int gz_check_open(ds_gzip *z, ds_error *err)
{
	if (z->state == GZ_FAILED)
		return ds_error_set(err, DS_EINVAL, "gzip stream already failed");
	if (z->state == GZ_FINISHED)
		return ds_error_set(err, DS_EINVAL, "gzip stream already finished");
	if (ds_canceled()) {
		ds_error_set(err, DS_ECANCELED, "gzip canceled");
		return gz_fail(z);
	}
	return 0;
}

int ds_gzip_write(ds_gzip *z, const void *data, size_t len, ds_error *err)
{
	const unsigned char *p = data;

	if (gz_check_open(z, err) < 0)
		return -1;
	while (len > 0) {
		if (!z->filling && gz_acquire(z, err) < 0)
			return gz_fail(z);
		struct gz_slot *s = z->filling;
		if (s->in_len == DS_GZIP_BLOCK) {
			/* Full and more is coming: it is not the last block. */
			if (gz_submit(z, 0, err) < 0)
				return gz_fail(z);
			if (ds_canceled()) {
				ds_error_set(err, DS_ECANCELED, "gzip canceled");
				return gz_fail(z);
			}
			continue;
		}
		size_t n = DS_GZIP_BLOCK - s->in_len;
		if (n > len)
			n = len;
		memcpy(s->in + s->in_len, p, n);
		s->in_len += n;
		p += n;
		len -= n;
	}
	return 0;
}

int ds_gzip_finish(ds_gzip *z, ds_error *err)
{
	unsigned char t[8];

	if (gz_check_open(z, err) < 0)
		return -1;
	if (!z->filling && gz_acquire(z, err) < 0)
		return gz_fail(z);
	if (gz_submit(z, 1, err) < 0)
		return gz_fail(z);
	while (z->next_emit < z->next_submit)
		if (gz_emit(z, 1, err) < 0)
			return gz_fail(z);
	for (int i = 0; i < 4; i++) {
		t[i] = (unsigned char)(z->crc >> (8 * i));
		t[4 + i] = (unsigned char)(z->total_in >> (8 * i)); /* ISIZE: mod 2^32 */
	}
	if (z->sink(z->sink_data, t, sizeof(t), err) < 0)
		return gz_fail(z);
	z->state = GZ_FINISHED;
	gz_stop_workers(z);
	return 0;
}

ds_gzip *ds_gzip_free(ds_gzip *z)
{
	if (!z)
		return NULL;
	gz_stop_workers(z);
	if (z->workers) {
		for (int i = 0; i < z->threads; i++)
			if (z->workers[i].strm_ok)
				deflateEnd(&z->workers[i].strm);
		free(z->workers);
	}
	deflateEnd(&z->strm);
	for (size_t i = 0; i < z->nslots; i++) {
		free(z->slots[i].in);
		free(z->slots[i].dict);
		free(z->slots[i].out);
	}
	free(z->slots);
	pthread_cond_destroy(&z->done_cond);
	pthread_cond_destroy(&z->work_cond);
	pthread_mutex_destroy(&z->mu);
	free(z);
	return NULL;
}
