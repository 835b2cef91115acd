/* The registry client's HTTP layer: one ds_reg per registry host (shared by
 * the transfer threads: settings, scheme, auth state), one ds_reg_conn per
 * thread (a libcurl easy handle kept for keep-alive).
 *
 * reg_send() does one exchange with auth (credentials or a bearer token for
 * the session's scope, fetched again once on a 401) and redirects (followed
 * by hand so Authorization never goes to another host).  reg_call() adds
 * retries with backoff for requests whose body and answer live in memory;
 * streaming transfers loop themselves with reg_should_retry()/reg_backoff(). */
#ifndef DS_REGISTRY_CLIENT_H
#define DS_REGISTRY_CLIENT_H

#include <pthread.h>
#include <stdint.h>
#include <curl/curl.h>

#include <dsbuild/buf.h>
#include <dsbuild/error.h>
#include <dsbuild/registry.h>

#include "registry/creds.h"

#define REG_ERROR_BODY_MAX ((size_t)64 << 10)
#define REG_TOKEN_MAX ((size_t)1 << 20)
#define REG_HEADER_MAX 8192
#define REG_REDIRECTS_MAX 5
#define REG_TOKENS_MAX 32
#define REG_PARALLEL_MAX 16

typedef enum { REG_AUTH_UNKNOWN = 0, REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER } reg_auth_scheme;

typedef struct reg_token {
	char *scope;
	char *token;
	time_t expires;
} reg_token;

typedef struct ds_reg {
	char *domain;       /* "docker.io", "127.0.0.1:5000" (for creds and messages) */
	char *repo;         /* the repository credentials are looked up for, or NULL */
	char *host;         /* "registry-1.docker.io" */
	char *base;         /* "https://host" once known */
	int plain;          /* talking plain HTTP */
	int send_creds;     /* credentials may go to this registry */
	ds_registry_opts o; /* defaults filled in */
	char *ca_blob;      /* system CAs + extra CAs, or NULL */
	size_t ca_blob_len;
	char *client_cert, *client_key;
	char *user_agent;

	pthread_mutex_t lock; /* guards what follows */
	int creds_loaded;
	ds_creds creds;
	char *creds_tried;  /* the places looked at, for hints */
	reg_auth_scheme scheme;
	char *realm, *service;
	reg_token tokens[REG_TOKENS_MAX];
	size_t n_tokens;

	pthread_mutex_t progress_lock;
} ds_reg;

typedef struct ds_reg_conn {
	ds_reg *reg;
	CURL *curl;
} ds_reg_conn;

typedef struct reg_resp {
	long status;
	ds_buf body;          /* the answer's body (bounded), unless a sink took it */
	char *location;
	char *content_type;
	char *docker_digest;
	char *www_auth;       /* every WWW-Authenticate joined with ", " */
	char *range;
	long retry_after_ms;  /* -1 when absent */
	int64_t content_length;
	CURLcode curl_code;   /* CURLE_OK unless the transfer failed */
	char curl_msg[CURL_ERROR_SIZE];
	char *final_url;      /* after redirects */
} reg_resp;

/* A response-body sink for successful (2xx) answers; -1 aborts. */
typedef int (*reg_sink_fn)(void *data, const void *buf, size_t len);
typedef void (*reg_xfer_fn)(void *data, uint64_t sent, uint64_t received);

typedef struct reg_req {
	const char *method;
	const char *url;        /* absolute, or "/v2/..." */
	const char *scope;      /* auth scope, e.g. "repository:a/b:pull,push" */
	const char *accept;
	const char *content_type;
	const char *content_range;
	const char *range;      /* request header value, "bytes=N-" */
	const void *body;       /* in memory ... */
	size_t body_len;
	int body_fd;            /* ... or from a file (-1: none) */
	uint64_t body_off;
	uint64_t body_size;
	int has_body;
	size_t resp_max;        /* body bound when no sink; default REG_ERROR_BODY_MAX */
	reg_sink_fn sink;
	void *sink_data;
	reg_xfer_fn xfer;
	void *xfer_data;
	int follow;             /* follow redirects */
	uint64_t *body_sent;    /* += bytes handed to libcurl */
	const char *ev_digest;  /* reg_call() retry events name this blob ... */
	const char *ev_what;    /* ... of this kind ("layer", "manifest") */
} reg_req;

#define REG_REQ_INIT { .body_fd = -1 }

/* Fills defaults ($DSBUILD_RETRY_BASE_MS, $DSBUILD_STALL_TIMEOUT ...) and
 * loads TLS material for domain/host.  Does not touch the network. */
int reg_new(ds_reg **out, const char *domain, const char *host, const ds_registry_opts *opts,
	    ds_error *err);
ds_reg *reg_free(ds_reg *r);
int reg_conn_new(ds_reg_conn **out, ds_reg *r, ds_error *err);
ds_reg_conn *reg_conn_free(ds_reg_conn *c);

/* GET /v2/: picks the scheme (HTTPS, or HTTP per the plain-HTTP policy)
 * and learns the auth challenge. */
int reg_ping(ds_reg_conn *c, ds_error *err);

/* reg_new() + a connection + reg_ping(); reg_close() frees both. */
int reg_open(ds_reg_conn **out, const char *domain, const char *host, const char *repo,
	     const ds_registry_opts *opts, ds_error *err);
void reg_close(ds_reg_conn *c);

void reg_resp_init(reg_resp *r);
void reg_resp_release(reg_resp *r);
void reg_resp_reset(reg_resp *r);

/* One exchange with auth and redirects.  Fails only when no HTTP answer came
 * (resp->curl_code says why) or on an auth failure; any status is returned. */
int reg_send(ds_reg_conn *c, const reg_req *req, reg_resp *resp, ds_error *err);
/* reg_send() with retries on connection failures, 408, 429 and 5xx, for
 * requests without sink or file body.  Returns the last answer. */
int reg_call(ds_reg_conn *c, const reg_req *req, reg_resp *resp, ds_error *err);

/* 1 when the failure (curl error or status) is worth another attempt. */
int reg_should_retry(const reg_resp *resp);
/* Sleeps before attempt (1-based): Retry-After if given, else exponential
 * backoff with full jitter, capped.  Fails with DS_ECANCELED if interrupted. */
int reg_backoff(ds_reg *r, unsigned attempt, const reg_resp *resp, ds_error *err);
/* A one-line reason for a retry event: "HTTP 503", "connection reset ...". */
void reg_resp_reason(const reg_resp *resp, char *buf, size_t len);

/* Sets err from an unexpected answer: "registry 'HOST' answered 404 to GET
 * /v2/...: MANIFEST_UNKNOWN: manifest unknown" with the code mapped (401/403
 * DS_EAUTH, 404 DS_ENOENT, else DS_ENET) and a hint where one helps. */
int reg_error_from_resp(ds_reg *r, const reg_req *req, const reg_resp *resp, ds_error *err);

/* Absolute URL for a Location relative to base_url (query kept). */
char *reg_resolve_url(const char *base_url, const char *location);

/* Progress events, serialised. */
void reg_emit(ds_reg *r, const ds_blob_event *ev);

/* auth.c */
/* The Authorization header value for scope, fetching a token if needed;
 * *out NULL for anonymous.  force drops a cached token first. */
int reg_auth_header(ds_reg_conn *c, const char *scope, int force, char **out, ds_error *err);
/* Records a challenge from a 401 answer; returns 1 if it changed what we
 * knew (a new scheme or realm), else 0. */
int reg_auth_learn(ds_reg *r, const char *www_auth, ds_error *err);
/* The hint for an auth failure: where credentials were looked for. */
void reg_auth_hint(ds_reg *r, ds_error *err);
/* Loads credentials once (opts->creds, else the auth files); r->lock held. */
int reg_auth_load_creds(ds_reg *r, ds_error *err);
/* client.c: the token endpoint (no registry auth, authz sent to the realm's
 * host only), with retries. */
int reg_send_token_request(ds_reg_conn *c, const reg_req *req, const char *authz, reg_resp *resp,
			   ds_error *err);

#endif
