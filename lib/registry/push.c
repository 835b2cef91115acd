/* Push: layers (in parallel), then the config, then the manifest.  Each
 * blob: HEAD (already there?), cross-repository mount when a source is known,
 * else an upload session: one PUT for small blobs, streamed or chunked PATCH
 * for the rest, resumed from the offset the registry reports after a
 * failure, finished by PUT ?digest= (the registry checks the digest). */
#include <stdio.h>

#include <dsbuild/registry.h>

#include "registry/client.h"
#include "registry/sources.h"
#include "registry/pool.h"
#include "util/util.h"

#define PROGRESS_STEP ((uint64_t)1 << 20)
#define MOUNT_TRIES 3
#define SOURCES_IN_SCOPE 8

typedef struct push_blob {
	char digest[DS_DIGEST_BUFSZ];
	uint64_t size;
	const char *what;
	char *mounts[MOUNT_TRIES]; /* candidate source repositories */
	size_t n_mounts;
} push_blob;

typedef struct push_ctx {
	const ds_image *img;
	ds_registry_ref *dst;
	const char *scope;
	push_blob *blobs;
	size_t n_blobs;
	pthread_mutex_t lock;
	ds_push_result res;
} push_ctx;

typedef struct up_progress {
	ds_reg *reg;
	const push_blob *b;
	uint64_t base, last_emit;
} up_progress;

static void up_xfer(void *data, uint64_t sent, uint64_t received)
{
	up_progress *p = data;
	uint64_t done = p->base + sent;

	(void)received;
	if (done >= p->last_emit + PROGRESS_STEP) {
		ds_blob_event ev = { .type = DS_BLOB_PROGRESS, .digest = p->b->digest,
				     .what = p->b->what, .size = p->b->size, .done = done };
		p->last_emit = done;
		reg_emit(p->reg, &ev);
	}
}

static void emit_done(ds_reg *r, const push_blob *b, ds_blob_outcome o, const char *text)
{
	ds_blob_event ev = { .type = DS_BLOB_DONE, .digest = b->digest, .what = b->what,
			     .size = b->size, .done = b->size, .outcome = o, .text = text };
	reg_emit(r, &ev);
}

static void emit_retry(ds_reg *r, const push_blob *b, unsigned attempt, uint64_t done,
		       const reg_resp *resp, const char *during)
{
	char why[400];
	char reason[300];

	reg_resp_reason(resp, reason, sizeof(reason));
	snprintf(why, sizeof(why), "%s: %s", during, reason);
	ds_blob_event ev = { .type = DS_BLOB_RETRY, .digest = b->digest, .what = b->what,
			     .size = b->size, .done = done, .text = why, .attempt = attempt };
	reg_emit(r, &ev);
}

/* Location of an answer, resolved against the request's URL. */
static char *answer_location(const reg_resp *resp)
{
	if (!resp->location || !*resp->location)
		return NULL;
	return reg_resolve_url(resp->final_url, resp->location);
}

/* "0-N" -> N + 1; "0-0" is ambiguous (distribution says it for 0 and 1
 * byte) and read as 0. */
static int parse_range_end(const char *range, uint64_t *next)
{
	const char *p = range, *dash;
	unsigned long long a, b;
	char *end;

	if (!p)
		return -1;
	if (!strncmp(p, "bytes=", 6))
		p += 6;
	dash = strchr(p, '-');
	if (!dash)
		return -1;
	a = strtoull(p, &end, 10);
	if (end != dash || a != 0)
		return -1;
	b = strtoull(dash + 1, &end, 10);
	if (*end)
		return -1;
	*next = b == 0 ? 0 : b + 1;
	return 0;
}

static char *with_digest(CURL *h, const char *loc, const char *digest)
{
	char *e = curl_easy_escape(h, digest, 0);
	char *u = ds_xasprintf("%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?", e ? e : digest);
	curl_free(e);
	return u;
}

/* Asks an upload session how far it got.  0 with *off set, or 1 when the
 * session is gone (start over), or -1 on error. */
static int upload_status(ds_reg_conn *c, push_ctx *x, char **loc, uint64_t *off, ds_error *err)
{
	reg_req req = REG_REQ_INIT;
	reg_resp resp;
	int rc = 1;

	reg_resp_init(&resp);
	req.method = "GET";
	req.url = *loc;
	req.scope = x->scope;
	req.ev_what = "upload status";
	if (reg_call(c, &req, &resp, err) < 0) {
		rc = -1;
	} else if (resp.curl_code == CURLE_OK && resp.status == 204 &&
		   parse_range_end(resp.range, off) == 0) {
		char *next = answer_location(&resp);
		if (next) {
			free(*loc);
			*loc = next;
		}
		rc = 0;
	}
	reg_resp_release(&resp);
	return rc;
}

static int blob_exists(ds_reg_conn *c, push_ctx *x, const push_blob *b, int *exists,
		       ds_error *err)
{
	_cleanup_free_ char *url = ds_xasprintf("/v2/%s/blobs/%s", x->dst->repo, b->digest);
	reg_req req = REG_REQ_INIT;
	reg_resp resp;
	int rc = 0;

	reg_resp_init(&resp);
	req.method = "HEAD";
	req.url = url;
	req.scope = x->scope;
	req.follow = 1;
	req.ev_digest = b->digest;
	req.ev_what = b->what;
	if (reg_call(c, &req, &resp, err) < 0) {
		rc = -1;
	} else if (resp.curl_code == CURLE_OK && resp.status == 200) {
		*exists = resp.content_length < 0 || (uint64_t)resp.content_length == b->size;
	} else if (resp.curl_code == CURLE_OK && resp.status == 404) {
		*exists = 0;
	} else {
		rc = reg_error_from_resp(c->reg, &req, &resp, err);
	}
	reg_resp_release(&resp);
	return rc;
}

/* POST .../uploads/ (with ?mount=&from= when from is set).  *mounted when
 * the registry mounted; else *loc is the new session. */
static int start_upload(ds_reg_conn *c, push_ctx *x, const push_blob *b, const char *from,
			int *mounted, char **loc, ds_error *err)
{
	_cleanup_free_ char *url = NULL;
	reg_req req = REG_REQ_INIT;
	reg_resp resp;
	int rc = -1;

	*mounted = 0;
	*loc = NULL;
	if (from) {
		char *ed = curl_easy_escape(c->curl, b->digest, 0);
		char *ef = curl_easy_escape(c->curl, from, 0);
		url = ds_xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", x->dst->repo, ed, ef);
		curl_free(ed);
		curl_free(ef);
	} else {
		url = ds_xasprintf("/v2/%s/blobs/uploads/", x->dst->repo);
	}
	reg_resp_init(&resp);
	req.method = "POST";
	req.url = url;
	req.scope = x->scope;
	req.ev_digest = b->digest;
	req.ev_what = b->what;
	if (reg_call(c, &req, &resp, err) < 0)
		goto out;
	if (resp.curl_code == CURLE_OK && resp.status == 201 && from) {
		*mounted = 1;
		rc = 0;
	} else if (resp.curl_code == CURLE_OK && resp.status == 202 && resp.location) {
		*loc = answer_location(&resp);
		rc = *loc ? 0 : ds_error_set(err, DS_ENET, "registry '%s' sent a bad upload location",
					     c->reg->domain);
	} else if (from && resp.curl_code == CURLE_OK) {
		/* mount refused (not allowed, unknown source ...): upload instead */
		rc = 1;
	} else {
		reg_error_from_resp(c->reg, &req, &resp, err);
	}
out:
	reg_resp_release(&resp);
	return rc;
}

static int upload_blob(ds_reg_conn *c, push_ctx *x, const push_blob *b, int fd, char *session,
		       uint64_t *sent, ds_error *err)
{
	ds_reg *r = c->reg;
	_cleanup_free_ char *loc = session;
	uint64_t off = 0;
	unsigned failures = 0;
	int bad_range = 0, lost;
	reg_resp resp;
	int rc = -1;
	up_progress prog = { r, b, 0, 0 };

	reg_resp_init(&resp);
	for (;;) {
		reg_req req = REG_REQ_INIT;
		char crange[64];
		const char *during;

		if (ds_canceled()) {
			ds_error_set(err, DS_ECANCELED, "interrupted");
			goto out;
		}
		if (!loc) {
			int mounted;
			if (start_upload(c, x, b, NULL, &mounted, &loc, err) < 0)
				goto out;
			off = 0;
		}
		req.scope = x->scope;
		req.body_fd = fd;
		req.has_body = 1;
		req.body_sent = sent;
		req.content_type = "application/octet-stream";
		req.xfer = up_xfer;
		req.xfer_data = &prog;
		prog.base = off;
		if (off == 0 && b->size <= r->o.monolithic_max) {
			/* small: the whole blob in the closing PUT */
			_cleanup_free_ char *u = with_digest(c->curl, loc, b->digest);
			req.method = "PUT";
			req.url = u;
			req.body_off = 0;
			req.body_size = b->size;
			during = "upload";
			if (reg_send(c, &req, &resp, err) < 0)
				goto out;
			if (resp.curl_code == CURLE_OK && resp.status == 201)
				break;
			/* a failed monolithic PUT leaves no usable session */
			free(loc);
			loc = NULL;
		} else if (off < b->size) {
			uint64_t len = b->size - off;
			if (r->o.chunk_size && len > r->o.chunk_size)
				len = r->o.chunk_size;
			req.method = "PATCH";
			req.url = loc;
			req.body_off = off;
			req.body_size = len;
			if (r->o.chunk_size || off) {
				snprintf(crange, sizeof(crange), "%llu-%llu", (unsigned long long)off,
					 (unsigned long long)(off + len - 1));
				req.content_range = crange;
			}
			during = "upload";
			if (reg_send(c, &req, &resp, err) < 0)
				goto out;
			if (resp.curl_code == CURLE_OK && resp.status == 202) {
				uint64_t next = off + len;
				char *nl = answer_location(&resp);
				if (nl) {
					free(loc);
					loc = nl;
				}
				/* trust the registry's count when it gives one */
				if (resp.range && parse_range_end(resp.range, &next) == 0 &&
				    next != off + len && next != 0) {
					ds_error_set(err, DS_ENET,
						     "registry '%s' stored %llu bytes of blob %s, "
						     "expected %llu",
						     r->domain, (unsigned long long)next, b->digest,
						     (unsigned long long)(off + len));
					goto out;
				}
				off += len;
				bad_range = 0;
				continue;
			}
			if (resp.curl_code == CURLE_OK && resp.status == 416) {
				/* the registry has a different offset: ask it, or start over */
				if (++bad_range > 1) {
					free(loc);
					loc = NULL;
					off = 0;
				}
			}
		} else {
			/* every byte sent: close the session */
			_cleanup_free_ char *u = with_digest(c->curl, loc, b->digest);
			req.method = "PUT";
			req.url = u;
			req.body_fd = -1;
			req.has_body = 1;
			req.body = "";
			req.body_len = 0;
			req.content_type = NULL;
			during = "finishing the upload";
			if (reg_send(c, &req, &resp, err) < 0)
				goto out;
			if (resp.curl_code == CURLE_OK && resp.status == 201)
				break;
		}
		/* A closing PUT that failed may still have been committed (the
		 * answer was lost, or a retried PUT raced the first): ask. */
		if (!strcmp(req.method, "PUT")) {
			int exists = 0;
			ds_error e2 = DS_ERROR_INIT;
			if (blob_exists(c, x, b, &exists, &e2) == 0 && exists)
				break;
		}
		/* A failure: retry if it is worth it.  A session the registry no
		 * longer accepts (404 BLOB_UPLOAD_UNKNOWN, or distribution's
		 * BLOB_UPLOAD_INVALID after a cut: it cannot resume a session whose
		 * file grew past the offset in its Location) is started again. */
		lost = resp.curl_code == CURLE_OK &&
		       (resp.status == 404 ||
			(resp.status == 400 && strstr(resp.body.data, "BLOB_UPLOAD_INVALID")));
		if (!(reg_should_retry(&resp) || lost ||
		      (resp.curl_code == CURLE_OK && resp.status == 416)) ||
		    ++failures > (unsigned)r->o.retries) {
			reg_req shown = req;
			reg_error_from_resp(r, &shown, &resp, err);
			if (failures > (unsigned)r->o.retries)
				ds_error_wrap(err, "blob %s: gave up after %u attempts", b->digest,
					      failures);
			else
				ds_error_wrap(err, "blob %s", b->digest);
			goto out;
		}
		emit_retry(r, b, failures, off, &resp, during);
		if (reg_backoff(r, failures, &resp, err) < 0)
			goto out;
		if (lost) {
			free(loc);
			loc = NULL;
			off = 0;
		} else if (loc) {
			/* resume where the registry says the session is */
			uint64_t have = 0;
			int st;
			st = upload_status(c, x, &loc, &have, err);
			if (st < 0)
				goto out;
			if (st == 1 || have > b->size) {
				free(loc);
				loc = NULL;
				off = 0;
			} else {
				off = have;
			}
		}
	}
	rc = 0;
out:
	reg_resp_release(&resp);
	return rc;
}

static int push_one(ds_reg_conn *c, size_t i, void *data, ds_error *err)
{
	push_ctx *x = data;
	push_blob *b = &x->blobs[i];
	ds_reg *r = c->reg;
	_cleanup_close_ int fd = -1;
	uint64_t size, sent = 0;
	int exists = 0;
	char *session = NULL;

	{
		ds_blob_event ev = { .type = DS_BLOB_START, .digest = b->digest, .what = b->what,
				     .size = b->size };
		reg_emit(r, &ev);
	}
	if (ds_store_open_blob(x->img->store, b->digest, &fd, &size, err) < 0)
		return ds_error_wrap(err, "%s %s", b->what, b->digest);
	if (size != b->size)
		return ds_error_set(err, DS_EFORMAT, "%s %s is %llu bytes, the manifest says %llu",
				    b->what, b->digest, (unsigned long long)size,
				    (unsigned long long)b->size);
	if (blob_exists(c, x, b, &exists, err) < 0)
		return -1;
	if (exists) {
		pthread_mutex_lock(&x->lock);
		x->res.blobs_existed++;
		pthread_mutex_unlock(&x->lock);
		emit_done(r, b, DS_BLOB_EXISTS, NULL);
		return 0;
	}
	for (size_t k = 0; k < b->n_mounts && !session; k++) {
		int mounted = 0;
		int st = start_upload(c, x, b, b->mounts[k], &mounted, &session, err);
		if (st < 0)
			return -1;
		if (mounted) {
			pthread_mutex_lock(&x->lock);
			x->res.blobs_mounted++;
			pthread_mutex_unlock(&x->lock);
			emit_done(r, b, DS_BLOB_MOUNTED, b->mounts[k]);
			return 0;
		}
	}
	if (upload_blob(c, x, b, fd, session, &sent, err) < 0) {
		pthread_mutex_lock(&x->lock);
		x->res.bytes_uploaded += sent;
		pthread_mutex_unlock(&x->lock);
		return -1;
	}
	pthread_mutex_lock(&x->lock);
	x->res.bytes_uploaded += sent;
	x->res.blobs_uploaded++;
	pthread_mutex_unlock(&x->lock);
	emit_done(r, b, DS_BLOB_UPLOADED, NULL);
	return 0;
}

static int push_manifest(ds_reg_conn *c, push_ctx *x, const char *reference, const char *digest,
			 ds_error *err)
{
	_cleanup_free_ char *url = ds_xasprintf("/v2/%s/manifests/%s", x->dst->repo, reference);
	reg_req req = REG_REQ_INIT;
	reg_resp resp;
	int rc = -1;

	reg_resp_init(&resp);
	req.method = "PUT";
	req.url = url;
	req.scope = x->scope;
	req.content_type = x->img->manifest_media_type;
	req.body = x->img->manifest;
	req.body_len = x->img->manifest_len;
	req.has_body = 1;
	req.ev_digest = digest;
	req.ev_what = "manifest";
	{
		ds_blob_event ev = { .type = DS_BLOB_START, .digest = digest, .what = "manifest",
				     .size = x->img->manifest_len, .text = reference };
		reg_emit(c->reg, &ev);
	}
	if (reg_call(c, &req, &resp, err) < 0)
		goto out;
	if (resp.curl_code != CURLE_OK || resp.status != 201) {
		reg_error_from_resp(c->reg, &req, &resp, err);
		if (resp.status == 400)
			ds_error_hint(err, "the registry rejected the manifest; see its answer above");
		goto out;
	}
	if (resp.docker_digest && !strncmp(resp.docker_digest, "sha256:", 7) &&
	    strcmp(resp.docker_digest, digest)) {
		ds_error_set(err, DS_ENET,
			     "registry '%s' stored the manifest as %s, but its digest is %s",
			     c->reg->domain, resp.docker_digest, digest);
		goto out;
	}
	{
		ds_blob_event ev = { .type = DS_BLOB_DONE, .digest = digest, .what = "manifest",
				     .size = x->img->manifest_len, .done = x->img->manifest_len,
				     .outcome = DS_BLOB_UPLOADED, .text = reference };
		reg_emit(c->reg, &ev);
	}
	rc = 0;
out:
	reg_resp_release(&resp);
	return rc;
}

/* The repositories on the same registry blobs may be mounted from. */
static void collect_mounts(push_ctx *x, const ds_registry_opts *opts, const char *srcdir,
			   char **repos, size_t *n_repos)
{
	ds_registry_ref from = { 0 };
	const char *explicit = NULL;

	if (opts && opts->mount_from &&
	    ds_registry_ref_parse(&from, opts->mount_from, NULL) == 0 &&
	    !strcmp(from.domain, x->dst->domain) && strcmp(from.repo, x->dst->repo))
		explicit = from.repo;
	for (size_t i = 0; i < x->n_blobs; i++) {
		push_blob *b = &x->blobs[i];
		char *found[MOUNT_TRIES];
		size_t n = 0;
		if (explicit)
			b->mounts[b->n_mounts++] = ds_xstrdup(explicit);
		n = reg_sources_get(srcdir, b->digest, x->dst->domain, x->dst->repo, found,
				    MOUNT_TRIES);
		for (size_t k = 0; k < n; k++) {
			int dup = 0;
			for (size_t m = 0; m < b->n_mounts; m++)
				dup |= !strcmp(b->mounts[m], found[k]);
			if (!dup && b->n_mounts < MOUNT_TRIES)
				b->mounts[b->n_mounts++] = found[k];
			else
				free(found[k]);
		}
		for (size_t m = 0; m < b->n_mounts; m++) {
			int dup = 0;
			for (size_t k = 0; k < *n_repos; k++)
				dup |= !strcmp(repos[k], b->mounts[m]);
			if (!dup && *n_repos < SOURCES_IN_SCOPE)
				repos[(*n_repos)++] = b->mounts[m];
		}
	}
	ds_registry_ref_release(&from);
}

int ds_registry_push(const ds_image *img, const ds_ref *dst, const ds_registry_opts *opts,
		     ds_push_result *res, ds_error *err)
{
	ds_registry_ref rr = { 0 };
	ds_reg_conn *c = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *srcdir = NULL;
	char *repos[SOURCES_IN_SCOPE];
	size_t n_repos = 0;
	char digest[DS_DIGEST_BUFSZ];
	push_ctx x;
	ds_buf scope;
	int rc = -1;

	memset(&x, 0, sizeof(x));
	pthread_mutex_init(&x.lock, NULL);
	ds_buf_init(&scope, 16384);
	if (ds_registry_ref_from_ref(&rr, dst, err) < 0)
		goto out;
	name = ds_registry_ref_format(&rr);
	if (!img || !img->manifest || !img->manifest_media_type || !img->store) {
		ds_error_set(err, DS_EINVAL, "nothing to push");
		goto out;
	}
	if (ds_sha256_buf(img->manifest, img->manifest_len, digest, err) < 0)
		goto out;
	if (img->manifest_digest[0] && strcmp(img->manifest_digest, digest)) {
		ds_error_set(err, DS_EFORMAT, "the image's manifest bytes do not match its digest %s",
			     img->manifest_digest);
		goto out;
	}
	if (rr.digest && strcmp(rr.digest, digest)) {
		ds_error_set(err, DS_EINVAL, "the image's digest is %s, not %s", digest, rr.digest);
		goto out;
	}
	x.img = img;
	x.dst = &rr;
	x.blobs = ds_xcalloc(img->n_layers + 1, sizeof(push_blob));
	for (size_t i = 0; i < img->n_layers; i++) {
		int dup = 0;
		for (size_t k = 0; k < x.n_blobs; k++)
			dup |= !strcmp(x.blobs[k].digest, img->layers[i].digest);
		if (dup)
			continue;
		memcpy(x.blobs[x.n_blobs].digest, img->layers[i].digest, DS_DIGEST_BUFSZ);
		x.blobs[x.n_blobs].size = img->layers[i].size;
		x.blobs[x.n_blobs].what = "layer";
		x.n_blobs++;
	}
	/* the config goes last, after every layer */
	memcpy(x.blobs[x.n_blobs].digest, img->config_digest, DS_DIGEST_BUFSZ);
	x.blobs[x.n_blobs].size = img->config_size;
	x.blobs[x.n_blobs].what = "config";
	x.n_blobs++;
	x.res.blobs_total = x.n_blobs;

	srcdir = reg_sources_dir(opts ? opts->cache_dir : NULL);
	collect_mounts(&x, opts, srcdir, repos, &n_repos);
	/* one token for everything: push here, pull from mount sources */
	ds_buf_addf(&scope, "repository:%s:pull,push", rr.repo);
	for (size_t k = 0; k < n_repos; k++)
		ds_buf_addf(&scope, " repository:%s:pull", repos[k]);
	x.scope = scope.data;

	if (reg_open(&c, rr.domain, rr.host, rr.repo, opts, err) < 0)
		goto out;
	if (reg_parallel(c, x.n_blobs - 1, push_one, &x, err) < 0)
		goto out;
	if (push_one(c, x.n_blobs - 1, &x, err) < 0)
		goto out;
	if (push_manifest(c, &x, rr.tag ? rr.tag : digest, digest, err) < 0)
		goto out;
	for (size_t i = 0; opts && i < opts->n_extra_tags; i++) {
		const char *t = opts->extra_tags[i];
		if (rr.tag && !strcmp(t, rr.tag))
			continue;
		if (push_manifest(c, &x, t, digest, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < x.n_blobs; i++)
		reg_sources_add(srcdir, x.blobs[i].digest, rr.domain, rr.repo);
	memcpy(x.res.digest, digest, sizeof(digest));
	x.res.manifest_size = img->manifest_len;
	if (res)
		*res = x.res;
	rc = 0;
out:
	if (rc < 0) {
		if (res) {
			/* what happened before the failure, for the report */
			x.res.digest[0] = '\0';
			*res = x.res;
		}
		ds_error_wrap(err, "push 'docker://%s'",
			      name ? name : (dst && dst->path ? dst->path : ""));
	}
	for (size_t i = 0; x.blobs && i < x.n_blobs; i++)
		for (size_t k = 0; k < x.blobs[i].n_mounts; k++)
			free(x.blobs[i].mounts[k]);
	free(x.blobs);
	reg_close(c);
	ds_buf_release(&scope);
	pthread_mutex_destroy(&x.lock);
	ds_registry_ref_release(&rr);
	return rc;
}
