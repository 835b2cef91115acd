#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "ds_config.h"
#include "registry/client.h"
#include "util/util.h"

#define CA_BUNDLE_MAX ((size_t)16 << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static unsigned env_uint(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return dflt;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n > 86400000UL)
		return dflt;
	return (unsigned)n;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n > m && !strcmp(s + n - m, suf);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a certs.d-style directory: *.crt CAs appended to cas, the first
 * *.cert with a matching *.key as client certificate. */
static int load_cert_dir(ds_reg *r, const char *dir, ds_buf *cas, int must_exist, ds_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[256];
	size_t n = 0;

	if (!d) {
		if (!must_exist && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return ds_error_set_errno(err, errno, "cannot read certificate directory '%s'", dir);
	}
	while ((de = readdir(d)) && n < DS_ARRAY_SIZE(names))
		if (de->d_name[0] != '.')
			names[n++] = ds_xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = ds_xasprintf("%s/%s", dir, names[i]);
		if (has_suffix(names[i], ".crt")) {
			if (ds_read_file(p, CA_BUNDLE_MAX, cas, err) < 0 || ds_buf_addch(cas, '\n') < 0)
				goto fail;
		} else if (has_suffix(names[i], ".cert") && !r->client_cert) {
			_cleanup_free_ char *key = ds_xasprintf("%.*s.key",
								(int)(strlen(p) - 5), p);
			if (!ds_path_exists(key)) {
				ds_error_set(err, DS_EINVAL, "client certificate '%s' has no key '%s'",
					     p, key);
				goto fail;
			}
			r->client_cert = TAKE_PTR(p);
			r->client_key = TAKE_PTR(key);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return -1;
}

static int load_tls(ds_reg *r, ds_error *err)
{
	ds_buf cas;
	int rc = 0;

	ds_buf_init(&cas, CA_BUNDLE_MAX * 2);
	if (r->o.cert_dir) {
		rc = load_cert_dir(r, r->o.cert_dir, &cas, 1, err);
	} else {
		const char *home = getenv("HOME");
		const char *xch = getenv("XDG_CONFIG_HOME");
		char *dirs[4];
		size_t n = 0;
		if (xch && *xch)
			dirs[n++] = ds_xasprintf("%s/containers/certs.d/%s", xch, r->domain);
		else if (home && *home)
			dirs[n++] = ds_xasprintf("%s/.config/containers/certs.d/%s", home, r->domain);
		dirs[n++] = ds_xasprintf("/etc/containers/certs.d/%s", r->domain);
		dirs[n++] = ds_xasprintf("/etc/docker/certs.d/%s", r->domain);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = load_cert_dir(r, dirs[i], &cas, 0, err);
		for (size_t i = 0; i < n; i++)
			free(dirs[i]);
	}
	if (rc < 0) {
		ds_buf_release(&cas);
		return ds_error_hint(err, "--cert-dir DIR holds *.crt CA files and an optional "
					  "client.cert + client.key");
	}
	if (cas.len) {
		/* libcurl takes one CA source: the system bundle plus ours. */
		CURL *h = curl_easy_init();
		char *sys = NULL;
		ds_buf all;
		ds_buf_init(&all, CA_BUNDLE_MAX * 3);
		if (h)
			curl_easy_getinfo(h, CURLINFO_CAINFO, &sys);
		if (sys && ds_read_file(sys, CA_BUNDLE_MAX, &all, NULL) < 0)
			ds_buf_reset(&all);
		if (h)
			curl_easy_cleanup(h);
		ds_buf_addch(&all, '\n');
		ds_buf_add(&all, cas.data, cas.len);
		r->ca_blob = ds_buf_detach(&all, &r->ca_blob_len);
	}
	ds_buf_release(&cas);
	return 0;
}

int reg_new(ds_reg **out, const char *domain, const char *host, const ds_registry_opts *opts,
	    ds_error *err)
{
	ds_registry_opts dflt = DS_REGISTRY_OPTS_INIT;
	ds_reg *r;

	pthread_once(&curl_once, curl_init_once);
	r = ds_xcalloc(1, sizeof(*r));
	r->o = opts ? *opts : dflt;
	r->domain = ds_xstrdup(domain);
	r->host = ds_xstrdup(host);
	{
		/* recursive: error reporting takes it while a token fetch holds it */
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&r->lock, &a);
		pthread_mutexattr_destroy(&a);
	}
	pthread_mutex_init(&r->progress_lock, NULL);
	if (r->o.parallel <= 0)
		r->o.parallel = 3;
	if (r->o.parallel > REG_PARALLEL_MAX)
		r->o.parallel = REG_PARALLEL_MAX;
	if (r->o.retries == 0)
		r->o.retries = 5;
	else if (r->o.retries < 0)
		r->o.retries = 0;
	if (!r->o.retry_base_ms)
		r->o.retry_base_ms = env_uint("DSBUILD_RETRY_BASE_MS", 500);
	if (!r->o.retry_max_ms)
		r->o.retry_max_ms = 30000;
	if (!r->o.stall_timeout_s)
		r->o.stall_timeout_s = env_uint("DSBUILD_STALL_TIMEOUT", 60);
	if (!r->o.monolithic_max)
		r->o.monolithic_max = (uint64_t)1 << 20;
	r->user_agent = ds_xstrdup(r->o.user_agent ? r->o.user_agent : "dsbuild/" DS_VERSION);
	r->o.user_agent = NULL;
	if (load_tls(r, err) < 0) {
		reg_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

ds_reg *reg_free(ds_reg *r)
{
	if (!r)
		return NULL;
	free(r->domain);
	free(r->repo);
	free(r->host);
	free(r->base);
	free(r->ca_blob);
	free(r->client_cert);
	free(r->client_key);
	free(r->user_agent);
	ds_creds_release(&r->creds);
	free(r->creds_tried);
	free(r->realm);
	free(r->service);
	for (size_t i = 0; i < r->n_tokens; i++) {
		free(r->tokens[i].scope);
		free(r->tokens[i].token);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->progress_lock);
	free(r);
	return NULL;
}

int reg_conn_new(ds_reg_conn **out, ds_reg *r, ds_error *err)
{
	ds_reg_conn *c = ds_xcalloc(1, sizeof(*c));

	c->reg = r;
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return ds_error_set(err, DS_ENOMEM, "cannot start libcurl");
	}
	*out = c;
	return 0;
}

ds_reg_conn *reg_conn_free(ds_reg_conn *c)
{
	if (c) {
		curl_easy_cleanup(c->curl);
		free(c);
	}
	return NULL;
}

void reg_resp_init(reg_resp *r)
{
	memset(r, 0, sizeof(*r));
	ds_buf_init(&r->body, REG_ERROR_BODY_MAX);
	r->retry_after_ms = -1;
	r->content_length = -1;
}

void reg_resp_release(reg_resp *r)
{
	ds_buf_release(&r->body);
	free(r->location);
	free(r->content_type);
	free(r->docker_digest);
	free(r->www_auth);
	free(r->range);
	free(r->final_url);
	memset(r, 0, sizeof(*r));
}

void reg_resp_reset(reg_resp *r)
{
	size_t max = r->body.max;
	reg_resp_release(r);
	reg_resp_init(r);
	r->body.max = max;
}

static void clear_headers(reg_resp *r)
{
	free(r->location);
	free(r->content_type);
	free(r->docker_digest);
	free(r->www_auth);
	free(r->range);
	r->location = r->content_type = r->docker_digest = r->www_auth = r->range = NULL;
	r->retry_after_ms = -1;
	r->content_length = -1;
}

void reg_emit(ds_reg *r, const ds_blob_event *ev)
{
	if (!r->o.progress)
		return;
	pthread_mutex_lock(&r->progress_lock);
	r->o.progress(r->o.progress_data, ev);
	pthread_mutex_unlock(&r->progress_lock);
}

char *reg_resolve_url(const char *base_url, const char *location)
{
	CURLU *u = curl_url();
	char *s = NULL, *res = NULL;

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, base_url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
		res = ds_xstrdup(s);
		curl_free(s);
	}
	curl_url_cleanup(u);
	return res;
}

/* "host[:port]" of an absolute URL, lowercased, malloc'd. */
static char *url_authority(const char *url)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL, *res = NULL;

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &p, 0);
		res = p ? ds_xasprintf("%s:%s", h, p) : ds_xstrdup(h);
		for (char *q = res; *q; q++)
			*q = (char)tolower((unsigned char)*q);
	}
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return res;
}

/* 1 when url is on the registry itself (same scheme, host and port). */
static int same_origin(ds_reg *r, const char *url)
{
	_cleanup_free_ char *a = url_authority(url);
	const char *want_scheme = r->plain ? "http://" : "https://";
	_cleanup_free_ char *host = ds_xstrdup(r->host);

	for (char *q = host; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	if (!a || strncasecmp(url, want_scheme, strlen(want_scheme)) != 0)
		return 0;
	if (!strcmp(a, host))
		return 1;
	/* "host" and "host:443"/"host:80" are the same origin */
	if (!strchr(host, ':')) {
		_cleanup_free_ char *withport =
			ds_xasprintf("%s:%s", host, r->plain ? "80" : "443");
		return !strcmp(a, withport);
	}
	return 0;
}

typedef struct xfer_ctx {
	const reg_req *req;
	reg_resp *resp;
	uint64_t read_pos; /* offset into the body */
	int sink_failed;
	int too_large;
	ds_reg *reg;
} xfer_ctx;

static char *dup_trim(const char *v, size_t n)
{
	while (n && (v[0] == ' ' || v[0] == '\t'))
		v++, n--;
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return ds_xstrndup(v, n);
}

static long parse_retry_after(const char *v)
{
	char *end;
	long n;

	while (*v == ' ')
		v++;
	if (isdigit((unsigned char)*v)) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || n < 0)
			return -1;
		return n > 86400 ? 86400000L : n * 1000L;
	}
	time_t t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	time_t now = time(NULL);
	return t > now ? (long)(t - now) * 1000L : 0;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *data)
{
	xfer_ctx *x = data;
	size_t n = size * nitems;
	const char *colon;
	size_t nl;

	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* a new answer (after 100 Continue): forget earlier headers */
		const char *sp = memchr(buf, ' ', n);
		clear_headers(x->resp);
		x->resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return n;
	}
	if (n > REG_HEADER_MAX)
		return n; /* ignore absurd headers rather than fail */
	colon = memchr(buf, ':', n);
	if (!colon)
		return n;
	nl = (size_t)(colon - buf);
	const char *v = colon + 1;
	size_t vn = n - nl - 1;
#define IS(name) (nl == strlen(name) && !strncasecmp(buf, name, nl))
	if (IS("location")) {
		free(x->resp->location);
		x->resp->location = dup_trim(v, vn);
	} else if (IS("content-type")) {
		free(x->resp->content_type);
		x->resp->content_type = dup_trim(v, vn);
	} else if (IS("docker-content-digest")) {
		free(x->resp->docker_digest);
		x->resp->docker_digest = dup_trim(v, vn);
	} else if (IS("range")) {
		free(x->resp->range);
		x->resp->range = dup_trim(v, vn);
	} else if (IS("retry-after")) {
		_cleanup_free_ char *s = dup_trim(v, vn);
		x->resp->retry_after_ms = parse_retry_after(s);
	} else if (IS("content-length")) {
		_cleanup_free_ char *s = dup_trim(v, vn);
		char *end;
		long long cl = strtoll(s, &end, 10);
		x->resp->content_length = (*end || cl < 0) ? -1 : cl;
	} else if (IS("www-authenticate")) {
		_cleanup_free_ char *s = dup_trim(v, vn);
		char *old = x->resp->www_auth;
		if (!old) {
			x->resp->www_auth = TAKE_PTR(s);
		} else if (strlen(old) + strlen(s) < REG_HEADER_MAX) {
			x->resp->www_auth = ds_xasprintf("%s, %s", old, s);
			free(old);
		}
	}
#undef IS
	return n;
}

static size_t write_cb(char *buf, size_t size, size_t nmemb, void *data)
{
	xfer_ctx *x = data;
	size_t n = size * nmemb;
	long st = x->resp->status;

	if (x->req->sink && st >= 200 && st < 300) {
		if (x->req->sink(x->req->sink_data, buf, n) < 0) {
			x->sink_failed = 1;
			return 0;
		}
		return n;
	}
	if (ds_buf_add(&x->resp->body, buf, n) < 0) {
		if (st >= 200 && st < 300) {
			x->too_large = 1;
			return 0;
		}
		return n; /* error bodies: keep the start, drop the rest */
	}
	return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *data)
{
	xfer_ctx *x = data;
	const reg_req *q = x->req;
	size_t want = size * nitems;
	uint64_t total = q->body_fd >= 0 ? q->body_size : q->body_len;
	uint64_t left = total - x->read_pos;
	size_t n;

	if (ds_canceled())
		return CURL_READFUNC_ABORT;
	if ((uint64_t)want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (q->body_fd >= 0) {
		ssize_t r;
		do
			r = pread(q->body_fd, buf, want, (off_t)(q->body_off + x->read_pos));
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return CURL_READFUNC_ABORT;
		n = (size_t)r;
	} else {
		memcpy(buf, (const char *)q->body + x->read_pos, want);
		n = want;
	}
	x->read_pos += n;
	if (q->body_sent)
		*q->body_sent += n;
	return n;
}

static int seek_cb(void *data, curl_off_t off, int origin)
{
	xfer_ctx *x = data;
	uint64_t total = x->req->body_fd >= 0 ? x->req->body_size : x->req->body_len;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > total)
		return CURL_SEEKFUNC_CANTSEEK;
	x->read_pos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static int xferinfo_cb(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	xfer_ctx *x = data;

	(void)dltotal;
	(void)ultotal;
	if (ds_canceled())
		return 1;
	if (x->req->xfer)
		x->req->xfer(x->req->xfer_data, (uint64_t)ulnow, (uint64_t)dlnow);
	return 0;
}

/* One HTTP exchange, no auth logic, no redirects. */
static void perform(ds_reg_conn *c, const reg_req *req, const char *url, const char *authz,
		    reg_resp *resp)
{
	ds_reg *r = c->reg;
	CURL *h = c->curl;
	struct curl_slist *hl = NULL;
	xfer_ctx x = { req, resp, 0, 0, 0, r };
	char line[REG_HEADER_MAX];
	uint64_t body_size = req->body_fd >= 0 ? req->body_size : req->body_len;
	CURLcode cc;

	curl_easy_reset(h); /* keeps live connections, DNS and TLS session caches */
	resp->status = 0;
	resp->curl_msg[0] = '\0';
	clear_headers(resp);
	ds_buf_reset(&resp->body);

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, r->user_agent);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->curl_msg);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)r->o.stall_timeout_s);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->o.tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->o.tls_verify ? 2L : 0L);
	if (r->ca_blob) {
		struct curl_blob b = { r->ca_blob, r->ca_blob_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	}
	if (r->client_cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, r->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, r->client_key);
	}
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);

	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (req->has_body || !strcmp(req->method, "PUT") || !strcmp(req->method, "PATCH")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, &x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_size);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (!strcmp(req->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	}
	/* No "Expect: 100-continue": auth is settled before bodies are sent. */
	hl = curl_slist_append(hl, "Expect:");
	if (req->accept) {
		snprintf(line, sizeof(line), "Accept: %s", req->accept);
		hl = curl_slist_append(hl, line);
	}
	if (req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		hl = curl_slist_append(hl, line);
	}
	if (req->content_range) {
		snprintf(line, sizeof(line), "Content-Range: %s", req->content_range);
		hl = curl_slist_append(hl, line);
	}
	if (req->range) {
		snprintf(line, sizeof(line), "Range: %s", req->range);
		hl = curl_slist_append(hl, line);
	}
	if (authz) {
		snprintf(line, sizeof(line), "Authorization: %s", authz);
		hl = curl_slist_append(hl, line);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);

	cc = curl_easy_perform(h);
	resp->curl_code = cc;
	if (cc == CURLE_OK || resp->status == 0) {
		long st = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
		if (st)
			resp->status = st;
	}
	if (x.too_large)
		snprintf(resp->curl_msg, sizeof(resp->curl_msg), "answer larger than %zu bytes",
			 resp->body.max);
	else if (x.sink_failed)
		snprintf(resp->curl_msg, sizeof(resp->curl_msg), "writing the download failed");
	else if (cc != CURLE_OK && !resp->curl_msg[0])
		snprintf(resp->curl_msg, sizeof(resp->curl_msg), "%s", curl_easy_strerror(cc));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hl);
}

static const char *path_of(const char *url);

static int is_redirect(long st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

static char *absolute_url(ds_reg *r, const char *url)
{
	if (url[0] == '/')
		return ds_xasprintf("%s%s", r->base, url);
	return ds_xstrdup(url);
}

typedef struct reg_req_priv {
	int no_auth;          /* the token endpoint and the ping */
	const char *authz;    /* an explicit Authorization (token requests) */
} reg_req_priv;

static int send_impl(ds_reg_conn *c, const reg_req *req, const reg_req_priv *pv, reg_resp *resp,
		     ds_error *err)
{
	ds_reg *r = c->reg;
	_cleanup_free_ char *url = absolute_url(r, req->url);
	_cleanup_free_ char *first = url_authority(url);
	int redirects = 0, reauthed = 0;

	for (;;) {
		_cleanup_free_ char *authz = NULL;
		_cleanup_free_ char *here = url_authority(url);
		int origin = same_origin(r, url);

		if (pv && pv->authz) {
			/* token requests: credentials stay with the realm's host */
			if (first && here && !strcmp(first, here))
				authz = ds_xstrdup(pv->authz);
		} else if (origin && !(pv && pv->no_auth) && req->scope) {
			if (reg_auth_header(c, req->scope, 0, &authz, err) < 0)
				return -1;
		}
		perform(c, req, url, authz, resp);
		if (ds_canceled())
			return ds_error_set(err, DS_ECANCELED, "interrupted");
		if (resp->curl_code != CURLE_OK)
			break;
		if (is_redirect(resp->status) && req->follow && resp->location) {
			char *next = reg_resolve_url(url, resp->location);
			if (!next || ++redirects > REG_REDIRECTS_MAX ||
			    (strncasecmp(next, "https://", 8) && strncasecmp(next, "http://", 7))) {
				free(next);
				return ds_error_set(err, DS_ENET,
						    "registry '%s': too many or bad redirects from "
						    "'%s'",
						    r->domain, url);
			}
			free(url);
			url = next;
			continue;
		}
		if (resp->status == 401 && origin && !(pv && (pv->no_auth || pv->authz)) &&
		    !reauthed && req->scope) {
			_cleanup_free_ char *again = NULL;
			reauthed = 1;
			if (resp->www_auth && reg_auth_learn(r, resp->www_auth, err) < 0)
				return -1;
			if (reg_auth_header(c, req->scope, 1, &again, err) < 0)
				return -1;
			if (again)
				continue;
		}
		break;
	}
	free(resp->final_url);
	resp->final_url = TAKE_PTR(url);
	return 0;
}

int reg_send(ds_reg_conn *c, const reg_req *req, reg_resp *resp, ds_error *err)
{
	return send_impl(c, req, NULL, resp, err);
}

int reg_should_retry(const reg_resp *resp)
{
	switch (resp->curl_code) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_READ_ERROR:
	case CURLE_UPLOAD_FAILED:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
	switch (resp->status) {
	case 408:
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return 1;
	default:
		return 0;
	}
}

void reg_resp_reason(const reg_resp *resp, char *buf, size_t len)
{
	if (resp->curl_code != CURLE_OK)
		snprintf(buf, len, "%s", resp->curl_msg);
	else if (resp->retry_after_ms >= 0)
		snprintf(buf, len, "HTTP %ld (Retry-After %ld ms)", resp->status,
			 resp->retry_after_ms);
	else
		snprintf(buf, len, "HTTP %ld", resp->status);
}

int reg_backoff(ds_reg *r, unsigned attempt, const reg_resp *resp, ds_error *err)
{
	uint64_t ms;

	if (resp && resp->retry_after_ms >= 0) {
		ms = (uint64_t)resp->retry_after_ms;
	} else {
		uint64_t cap = r->o.retry_base_ms;
		for (unsigned i = 1; i < attempt && cap < r->o.retry_max_ms; i++)
			cap *= 2;
		/* full jitter: uniform in [cap/2, cap] keeps some spacing */
		unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&ms ^ attempt;
		ms = cap / 2 + (cap ? (uint64_t)rand_r(&seed) % (cap / 2 + 1) : 0);
	}
	if (ms > r->o.retry_max_ms)
		ms = r->o.retry_max_ms;
	while (ms) {
		uint64_t step = ms > 100 ? 100 : ms;
		struct timespec ts = { 0, (long)step * 1000000L };
		if (ds_canceled())
			return ds_error_set(err, DS_ECANCELED, "interrupted");
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return 0;
}

int reg_call(ds_reg_conn *c, const reg_req *req, reg_resp *resp, ds_error *err)
{
	for (unsigned attempt = 1;; attempt++) {
		if (reg_send(c, req, resp, err) < 0)
			return -1;
		if (!reg_should_retry(resp) || attempt > (unsigned)c->reg->o.retries)
			return 0;
		{
			char why[300], text[500];
			const char *path = path_of(resp->final_url ? resp->final_url : req->url);
			reg_resp_reason(resp, why, sizeof(why));
			snprintf(text, sizeof(text), "%s %.*s: %s", req->method,
				 (int)strcspn(path, "?"), path, why);
			ds_blob_event ev = { .type = DS_BLOB_RETRY, .digest = req->ev_digest,
					     .what = req->ev_what ? req->ev_what : "request",
					     .text = text, .attempt = attempt };
			reg_emit(c->reg, &ev);
		}
		if (reg_backoff(c->reg, attempt, resp, err) < 0)
			return -1;
	}
}

/* "CODE: message" from a distribution error body, or a short excerpt. */
static void error_body_summary(const reg_resp *resp, char *out, size_t len)
{
	json_t *j = NULL, *errs;
	size_t pos = 0;

	out[0] = '\0';
	if (resp->body.len)
		j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	errs = json_object_get(j, "errors");
	if (json_is_array(errs)) {
		for (size_t i = 0; i < json_array_size(errs) && i < 3 && pos < len; i++) {
			json_t *e = json_array_get(errs, i);
			const char *code = json_string_value(json_object_get(e, "code"));
			const char *msg = json_string_value(json_object_get(e, "message"));
			int n = snprintf(out + pos, len - pos, "%s%s%s%s", i ? "; " : "",
					 code ? code : "", code && msg ? ": " : "", msg ? msg : "");
			if (n < 0)
				break;
			pos += (size_t)n;
		}
	} else if (json_is_string(json_object_get(j, "details"))) {
		snprintf(out, len, "%s", json_string_value(json_object_get(j, "details")));
	} else if (resp->body.len && !j) {
		size_t n = 0;
		/* a short printable excerpt of a non-JSON body */
		for (size_t i = 0; i < resp->body.len && n + 1 < len && n < 200; i++) {
			char ch = resp->body.data[i];
			out[n++] = (ch >= 32 && ch < 127) ? ch : ' ';
		}
		out[n] = '\0';
	}
	json_decref(j);
}

static const char *path_of(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : url;
	return p ? p : "/";
}

int reg_error_from_resp(ds_reg *r, const reg_req *req, const reg_resp *resp, ds_error *err)
{
	char summary[1024];
	char what[600];
	const char *path = path_of(resp->final_url ? resp->final_url : req->url);
	int code;

	snprintf(what, sizeof(what), "%s %.*s", req->method, (int)strcspn(path, "?"), path);
	if (resp->curl_code != CURLE_OK) {
		ds_error_set(err, DS_ENET, "registry '%s': %s failed: %s", r->domain, what,
			     resp->curl_msg);
		if (resp->curl_code == CURLE_OPERATION_TIMEDOUT)
			ds_error_hint(err, "the transfer stalled; retry, or raise "
					   "DSBUILD_STALL_TIMEOUT (now %u s)",
				      r->o.stall_timeout_s);
		return -1;
	}
	error_body_summary(resp, summary, sizeof(summary));
	if (!summary[0]) {
		/* no body (HEAD): say what the status means, and what the
		 * challenge says when there is one */
		const char *what_st = resp->status == 401 ? "authentication required" :
				      resp->status == 403 ? "access denied" :
				      resp->status == 404 ? "not found" :
				      resp->status == 429 ? "too many requests" :
				      resp->status >= 500 ? "server error" : "";
		const char *e = resp->www_auth ? strstr(resp->www_auth, "error=\"") : NULL;
		snprintf(summary, sizeof(summary), "%s%s%.*s", what_st, e ? ", " : "",
			 e ? (int)strcspn(e + 7, "\"") + 8 : 0, e ? e : "");
	}
	switch (resp->status) {
	case 401:
	case 403:
		code = DS_EAUTH;
		break;
	case 404:
		code = DS_ENOENT;
		break;
	default:
		code = DS_ENET;
	}
	ds_error_set(err, code, "registry '%s' answered %ld to %s%s%s", r->domain, resp->status,
		     what, summary[0] ? ": " : "", summary);
	if (code == DS_EAUTH)
		reg_auth_hint(r, err);
	return -1;
}

static int is_tls_failure(CURLcode cc)
{
	return cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION ||
	       cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CIPHER ||
	       cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_ISSUER_ERROR ||
	       cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

static int ping_scheme(ds_reg_conn *c, const char *scheme, reg_resp *resp, ds_error *err)
{
	ds_reg *r = c->reg;
	reg_req req = REG_REQ_INIT;
	reg_req_priv pv = { 1, NULL };

	free(r->base);
	r->base = ds_xasprintf("%s://%s", scheme, r->host);
	r->plain = !strcmp(scheme, "http");
	req.method = "GET";
	req.url = "/v2/";
	return send_impl(c, &req, &pv, resp, err);
}

int reg_ping(ds_reg_conn *c, ds_error *err)
{
	ds_reg *r = c->reg;
	reg_resp https, http;
	int loopback = ds_registry_host_is_loopback(r->host);
	int may_fallback = r->o.plain_http == DS_PLAIN_HTTP_AUTO && (loopback || !r->o.tls_verify);
	reg_resp *use = &https;
	int rc = -1;

	reg_resp_init(&https);
	reg_resp_init(&http);
	for (unsigned attempt = 1;; attempt++) {
		const reg_resp *last;
		if (r->o.plain_http == DS_PLAIN_HTTP_ALWAYS) {
			use = &http;
			if (ping_scheme(c, "http", &http, err) < 0)
				goto out;
		} else {
			use = &https;
			if (ping_scheme(c, "https", &https, err) < 0)
				goto out;
			if (https.curl_code != CURLE_OK && may_fallback) {
				/* a plain HTTP registry on loopback (or --tls-verify=false);
				 * an HTTPS one with a bad certificate answers plain HTTP
				 * with 400, and then the certificate is the news */
				if (ping_scheme(c, "http", &http, err) < 0)
					goto out;
				if (http.curl_code == CURLE_OK &&
				    (!is_tls_failure(https.curl_code) ||
				     (http.status >= 200 && http.status < 300) || http.status == 401))
					use = &http;
			}
		}
		if (use->curl_code == CURLE_OK && !reg_should_retry(use))
			break;
		last = use->curl_code == CURLE_OK ? use : (http.curl_code && may_fallback ? &http : use);
		/* a certificate problem will not go away by retrying */
		if (is_tls_failure(https.curl_code) && use == &https && !may_fallback)
			break;
		if (!reg_should_retry(last) || attempt > (unsigned)r->o.retries)
			break;
		{
			char why[256];
			reg_resp_reason(last, why, sizeof(why));
			ds_blob_event ev = { .type = DS_BLOB_RETRY, .what = "ping", .text = why,
					     .attempt = attempt };
			reg_emit(r, &ev);
		}
		if (reg_backoff(r, attempt, last, err) < 0)
			goto out;
	}
	if (use->curl_code != CURLE_OK) {
		ds_error_set(err, DS_ENET, "cannot reach registry '%s' at %s://%s/v2/: %s", r->domain,
			     use == &https ? "https" : "http", r->host, use->curl_msg);
		if (use == &https && http.curl_code != CURLE_OK && http.curl_msg[0])
			ds_error_set(err, DS_ENET,
				     "cannot reach registry '%s' over HTTPS (%s) nor plain HTTP (%s)",
				     r->domain, https.curl_msg, http.curl_msg);
		if (https.curl_code == CURLE_PEER_FAILED_VERIFICATION ||
		    https.curl_code == CURLE_SSL_CACERT_BADFILE)
			ds_error_hint(err, "give the registry's CA with --cert-dir DIR (DIR/ca.crt) or "
					   "~/.config/containers/certs.d/%s/ca.crt, or pass "
					   "--tls-verify=false",
				      r->domain);
		else if (use == &https && !may_fallback && r->o.plain_http != DS_PLAIN_HTTP_NEVER)
			ds_error_hint(err, "if '%s' speaks plain HTTP, pass --plain-http", r->domain);
		goto out;
	}
	if (use == &http) {
		free(r->base);
		r->base = ds_xasprintf("http://%s", r->host);
		r->plain = 1;
	} else {
		free(r->base);
		r->base = ds_xasprintf("https://%s", r->host);
		r->plain = 0;
	}
	r->send_creds = !r->plain || loopback || r->o.plain_http == DS_PLAIN_HTTP_ALWAYS;
	if (use->status == 401) {
		if (!use->www_auth) {
			ds_error_set(err, DS_EAUTH,
				     "registry '%s' answered 401 without a WWW-Authenticate challenge",
				     r->domain);
			goto out;
		}
		if (reg_auth_learn(r, use->www_auth, err) < 0)
			goto out;
	} else if (use->status >= 200 && use->status < 300) {
		pthread_mutex_lock(&r->lock);
		if (r->scheme == REG_AUTH_UNKNOWN)
			r->scheme = REG_AUTH_NONE;
		pthread_mutex_unlock(&r->lock);
	} else {
		reg_req req = REG_REQ_INIT;
		req.method = "GET";
		req.url = "/v2/";
		reg_error_from_resp(r, &req, use, err);
		if (r->plain && use->status == 400 && strstr(use->body.data, "HTTPS"))
			ds_error_hint(err, "'%s' speaks HTTPS: drop --plain-http", r->domain);
		else
			ds_error_hint(err, "is '%s' a registry speaking the OCI distribution API "
					   "(/v2/)?",
				      r->domain);
		goto out;
	}
	rc = 0;
out:
	reg_resp_release(&https);
	reg_resp_release(&http);
	return rc;
}

int reg_send_token_request(ds_reg_conn *c, const reg_req *req, const char *authz, reg_resp *resp,
			   ds_error *err)
{
	reg_req_priv pv = { 1, authz };

	for (unsigned attempt = 1;; attempt++) {
		if (send_impl(c, req, &pv, resp, err) < 0)
			return -1;
		if (!reg_should_retry(resp) || attempt > (unsigned)c->reg->o.retries)
			return 0;
		if (reg_backoff(c->reg, attempt, resp, err) < 0)
			return -1;
	}
}

int reg_open(ds_reg_conn **out, const char *domain, const char *host, const char *repo,
	     const ds_registry_opts *opts, ds_error *err)
{
	ds_reg *r = NULL;
	ds_reg_conn *c = NULL;

	if (reg_new(&r, domain, host, opts, err) < 0)
		return -1;
	r->repo = repo ? ds_xstrdup(repo) : NULL;
	if (reg_conn_new(&c, r, err) < 0 || reg_ping(c, err) < 0) {
		reg_conn_free(c);
		reg_free(r);
		return -1;
	}
	*out = c;
	return 0;
}

void reg_close(ds_reg_conn *c)
{
	ds_reg *r;

	if (!c)
		return;
	r = c->reg;
	reg_conn_free(c);
	reg_free(r);
}
