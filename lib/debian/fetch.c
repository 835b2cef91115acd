#include <errno.h>
#include <stdio.h>

#include <curl/curl.h>

#include "ds_config.h"
#include "debian/fetch.h"
#include "util/util.h"

#define FETCH_RETRIES 3
#define CONNECT_TIMEOUT 30L
#define LOW_SPEED_TIME 60L

struct deb_fetcher {
	ds_store *store;
	int parallel;
};

static int curl_ready;

int deb_fetcher_new(deb_fetcher **out, ds_store *store, int parallel, ds_error *err)
{
	deb_fetcher *f;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return ds_error_set(err, DS_ENET, "cannot initialise libcurl");
		curl_ready = 1;
	}
	f = ds_xcalloc(1, sizeof(*f));
	f->store = store;
	f->parallel = parallel > 0 ? parallel : 8;
	if (f->parallel > 64)
		f->parallel = 64;
	*out = f;
	return 0;
}

deb_fetcher *deb_fetcher_free(deb_fetcher *f)
{
	free(f);
	return NULL;
}

static void setup(CURL *c, const char *url)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "dsbuild/" DS_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
}

/* 0 ok, else an error: DS_ENOENT for a missing file, DS_ENET otherwise.
 * *transient is set when a retry may help. */
static int result_error(CURLcode rc, long status, const char *url, const char *curl_msg,
			int *transient, ds_error *err)
{
	*transient = 0;
	if (rc == CURLE_OK && (status == 200 || status == 0))
		return 0;
	if (rc == CURLE_OK && (status == 404 || status == 410))
		return ds_error_set(err, DS_ENOENT, "'%s' not found (HTTP %ld)", url, status);
	if (rc == CURLE_OK) {
		*transient = status == 408 || status == 429 || status >= 500;
		return ds_error_set(err, DS_ENET, "'%s': HTTP %ld", url, status);
	}
	if (rc == CURLE_FILE_COULDNT_READ_FILE)
		return ds_error_set(err, DS_ENOENT, "'%s' not found", url);
	*transient = rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
		     rc == CURLE_PARTIAL_FILE || rc == CURLE_OPERATION_TIMEDOUT ||
		     rc == CURLE_GOT_NOTHING || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
	ds_error_set(err, DS_ENET, "cannot fetch '%s': %s", url,
		     curl_msg && *curl_msg ? curl_msg : curl_easy_strerror(rc));
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_OPERATION_TIMEDOUT)
		ds_error_hint(err, "check the network and the mirror URL (--debian-mirror, $%s)",
			      "DSBUILD_DEBIAN_MIRROR");
	return -1;
}

typedef struct {
	ds_buf *out;
	int overflow;
} buf_sink;

static size_t buf_write(char *p, size_t size, size_t n, void *data)
{
	buf_sink *s = data;

	if (ds_buf_add(s->out, p, size * n) < 0) {
		s->overflow = 1;
		return 0;
	}
	return size * n;
}

int deb_fetch_buf(deb_fetcher *f, const char *url, size_t max, ds_buf *out, ds_error *err)
{
	for (int attempt = 1;; attempt++) {
		CURL *c = curl_easy_init();
		char msg[CURL_ERROR_SIZE] = "";
		ds_buf b;
		buf_sink s = { &b, 0 };
		CURLcode rc;
		long status = 0;
		int transient;

		if (!c)
			return ds_error_set(err, DS_ENOMEM, "cannot create a curl handle");
		ds_buf_init(&b, max);
		setup(c, url);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, msg);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
		if (s.overflow) {
			ds_buf_release(&b);
			return ds_error_set(err, DS_EFORMAT, "'%s' is larger than %zu bytes", url, max);
		}
		if (result_error(rc, status, url, msg, &transient, err) == 0) {
			ds_buf_release(out);
			*out = b;
			return 0;
		}
		ds_buf_release(&b);
		if (!transient || attempt >= FETCH_RETRIES || ds_canceled())
			return -1;
		sleep((unsigned)attempt);
	}
}

typedef struct {
	const deb_download *d;
	CURL *c;
	ds_blob_writer *w;
	uint64_t got;
	int too_big;
	int attempts;
	int use_fallback;
	ds_error werr;
	int wfailed;
	char msg[CURL_ERROR_SIZE];
	uint64_t *done;
	deb_fetch_progress_fn progress;
	void *progress_data;
	uint64_t total;
} transfer;

static size_t file_write(char *p, size_t size, size_t n, void *data)
{
	transfer *t = data;
	size_t len = size * n;

	if (t->got + len > t->d->size) {
		t->too_big = 1;
		return 0;
	}
	if (ds_blob_writer_write(t->w, p, len, &t->werr) < 0) {
		t->wfailed = 1;
		return 0;
	}
	t->got += len;
	*t->done += len;
	if (t->progress)
		t->progress(t->progress_data, *t->done, t->total);
	return len;
}

static int start(deb_fetcher *f, CURLM *m, transfer *t, ds_error *err)
{
	const char *url = t->use_fallback ? t->d->fallback_url : t->d->url;

	if (ds_blob_writer_new(&t->w, f->store, err) < 0)
		return -1;
	t->c = curl_easy_init();
	if (!t->c) {
		ds_blob_writer_abort(t->w);
		t->w = NULL;
		return ds_error_set(err, DS_ENOMEM, "cannot create a curl handle");
	}
	t->got = 0;
	t->too_big = 0;
	t->msg[0] = '\0';
	t->attempts++;
	setup(t->c, url);
	curl_easy_setopt(t->c, CURLOPT_ERRORBUFFER, t->msg);
	curl_easy_setopt(t->c, CURLOPT_WRITEFUNCTION, file_write);
	curl_easy_setopt(t->c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->c, CURLOPT_PRIVATE, t);
	if (curl_multi_add_handle(m, t->c) != CURLM_OK) {
		curl_easy_cleanup(t->c);
		t->c = NULL;
		ds_blob_writer_abort(t->w);
		t->w = NULL;
		return ds_error_set(err, DS_ENET, "cannot start the download of '%s'", url);
	}
	return 0;
}

static void stop(CURLM *m, transfer *t)
{
	if (t->c) {
		curl_multi_remove_handle(m, t->c);
		curl_easy_cleanup(t->c);
		t->c = NULL;
	}
	if (t->w) {
		ds_blob_writer_abort(t->w);
		t->w = NULL;
	}
}

/* A finished transfer: publish it, or decide to retry (1), or fail. */
static int finish(deb_fetcher *f, CURLM *m, transfer *t, CURLcode rc, ds_error *err)
{
	long status = 0;
	int transient;
	const char *url = t->use_fallback ? t->d->fallback_url : t->d->url;
	ds_blob_writer *w;

	curl_easy_getinfo(t->c, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(m, t->c);
	curl_easy_cleanup(t->c);
	t->c = NULL;
	w = TAKE_PTR(t->w);
	if (t->wfailed) {
		ds_blob_writer_abort(w);
		*err = t->werr;
		return -1;
	}
	if (t->too_big) {
		ds_blob_writer_abort(w);
		ds_error_set(err, DS_EFORMAT, "%s from '%s' is larger than the %llu bytes the index "
					      "lists",
			     t->d->what, url, (unsigned long long)t->d->size);
		return ds_error_hint(err, "the mirror may be out of sync or serving corrupt files; "
					  "retry later or use another mirror");
	}
	if (result_error(rc, status, url, t->msg, &transient, err) < 0) {
		ds_blob_writer_abort(w);
		*t->done -= t->got;
		if (err && err->code == DS_ENOENT && t->d->fallback_url && !t->use_fallback) {
			t->use_fallback = 1;
			t->attempts = 0;
			return 1;
		}
		if (transient && t->attempts < FETCH_RETRIES)
			return 1;
		return ds_error_wrap(err, "%s", t->d->what);
	}
	if (t->got != t->d->size) {
		ds_blob_writer_abort(w);
		ds_error_set(err, DS_EFORMAT, "%s from '%s' has %llu bytes, the index lists %llu",
			     t->d->what, url, (unsigned long long)t->got,
			     (unsigned long long)t->d->size);
		return ds_error_hint(err, "the mirror may be out of sync or serving corrupt files; "
					  "retry later or use another mirror");
	}
	if (ds_blob_writer_commit(w, t->d->digest, NULL, NULL, err) < 0) {
		if (err && err->code == DS_EFORMAT) {
			ds_error_set(err, DS_EFORMAT,
				     "%s from '%s' does not match the sha256 the index lists (%s)",
				     t->d->what, url, t->d->digest);
			ds_error_hint(err, "the file was not kept; the mirror may be serving "
					   "corrupt files: retry later or use another mirror");
		}
		return -1;
	}
	return 0;
}

int deb_fetch_all(deb_fetcher *f, const deb_download *d, size_t n, deb_fetch_progress_fn progress,
		  void *progress_data, ds_error *err)
{
	CURLM *m;
	transfer *t;
	size_t next = 0, active = 0;
	uint64_t done = 0, total = 0;
	int rc = -1;

	t = ds_xcalloc(n ? n : 1, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		t[i].d = &d[i];
		t[i].done = &done;
		t[i].progress = progress;
		t[i].progress_data = progress_data;
		if (!ds_store_has(f->store, d[i].digest))
			total += d[i].size;
	}
	for (size_t i = 0; i < n; i++)
		t[i].total = total;
	m = curl_multi_init();
	if (!m) {
		free(t);
		return ds_error_set(err, DS_ENOMEM, "cannot create a curl multi handle");
	}
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)f->parallel);

	for (;;) {
		int running, left;
		CURLMsg *msg;

		while (active < (size_t)f->parallel && next < n) {
			transfer *x = &t[next++];
			if (ds_store_has(f->store, x->d->digest))
				continue;
			if (start(f, m, x, err) < 0)
				goto out;
			active++;
		}
		if (active == 0)
			break;
		if (ds_canceled()) {
			ds_error_set(err, DS_ECANCELED, "interrupted");
			goto out;
		}
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			ds_error_set(err, DS_ENET, "download failed");
			goto out;
		}
		while ((msg = curl_multi_info_read(m, &left))) {
			transfer *x;
			int r;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			r = finish(f, m, x, msg->data.result, err);
			active--;
			if (r < 0)
				goto out;
			if (r == 1) {
				if (x->attempts > 1)
					sleep(1);
				if (start(f, m, x, err) < 0)
					goto out;
				active++;
			}
		}
		if (active && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) {
			ds_error_set(err, DS_ENET, "download failed");
			goto out;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		stop(m, &t[i]);
	curl_multi_cleanup(m);
	free(t);
	return rc;
}
