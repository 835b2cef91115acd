/* Pull: manifest (index resolved for a platform), then config and layers
 * streamed into the store with their digests checked, resumed with a Range
 * request after a dropped connection. */
#include <stdio.h>

#include <dsbuild/registry.h>

#include "oci/oci.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/pool.h"
#include "registry/sources.h"
#include "util/util.h"

#define PROGRESS_STEP ((uint64_t)1 << 20)

typedef struct dl {
	ds_store *store;
	ds_blob_writer *w;
	reg_resp *resp;
	uint64_t written, size, start, last_emit;
	int started, failed;
	ds_error err;
	ds_reg *reg;
	const char *digest, *what;
} dl;

static int dl_sink(void *data, const void *buf, size_t len)
{
	dl *d = data;

	if (!d->started) {
		d->started = 1;
		if (d->written && d->resp->status == 200) {
			/* the server ignored our Range: start over */
			ds_blob_writer_abort(d->w);
			d->w = NULL;
			d->written = 0;
			if (ds_blob_writer_new(&d->w, d->store, &d->err) < 0) {
				d->failed = 1;
				return -1;
			}
		}
	}
	if (d->written + len > d->size) {
		ds_error_set(&d->err, DS_EFORMAT,
			     "blob %s from registry '%s' is larger than the %llu bytes its descriptor "
			     "says",
			     d->digest, d->reg->domain, (unsigned long long)d->size);
		d->failed = 1;
		return -1;
	}
	if (ds_blob_writer_write(d->w, buf, len, &d->err) < 0) {
		d->failed = 1;
		return -1;
	}
	d->written += len;
	return 0;
}

static void dl_xfer(void *data, uint64_t sent, uint64_t received)
{
	dl *d = data;
	uint64_t done = d->start + received;

	(void)sent;
	if (done >= d->last_emit + PROGRESS_STEP) {
		ds_blob_event ev = { .type = DS_BLOB_PROGRESS, .digest = d->digest, .what = d->what,
				     .size = d->size, .done = done };
		d->last_emit = done;
		reg_emit(d->reg, &ev);
	}
}

/* Downloads one blob into store unless it is there; verifies its digest. */
static int fetch_blob(ds_reg_conn *c, const char *repo, const char *scope, const char *digest,
		      uint64_t size, const char *what, ds_store *store, ds_error *err)
{
	ds_reg *r = c->reg;
	_cleanup_free_ char *url = ds_xasprintf("/v2/%s/blobs/%s", repo, digest);
	reg_resp resp;
	dl d;
	int rc = -1;

	if (ds_store_has(store, digest)) {
		ds_blob_event ev = { .type = DS_BLOB_DONE, .digest = digest, .what = what,
				     .size = size, .done = size, .outcome = DS_BLOB_CACHED };
		reg_emit(r, &ev);
		return 0;
	}
	memset(&d, 0, sizeof(d));
	d.store = store;
	d.size = size;
	d.reg = r;
	d.digest = digest;
	d.what = what;
	d.resp = &resp;
	reg_resp_init(&resp);
	if (ds_blob_writer_new(&d.w, store, err) < 0)
		goto out;
	{
		ds_blob_event ev = { .type = DS_BLOB_START, .digest = digest, .what = what,
				     .size = size };
		reg_emit(r, &ev);
	}
	for (unsigned attempt = 1;; attempt++) {
		reg_req req = REG_REQ_INIT;
		char range[64];

		req.method = "GET";
		req.url = url;
		req.scope = scope;
		req.follow = 1;
		req.sink = dl_sink;
		req.sink_data = &d;
		req.xfer = dl_xfer;
		req.xfer_data = &d;
		if (d.written) {
			snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)d.written);
			req.range = range;
		}
		d.start = d.written;
		d.started = 0;
		if (reg_send(c, &req, &resp, err) < 0)
			goto out;
		if (d.failed) {
			if (err)
				*err = d.err;
			goto out;
		}
		if (resp.curl_code == CURLE_OK && (resp.status == 200 || resp.status == 206)) {
			ds_blob_writer *w = TAKE_PTR(d.w);
			if (d.written != size) {
				ds_blob_writer_abort(w);
				ds_error_set(err, DS_EFORMAT,
					     "blob %s from registry '%s' is %llu bytes, its descriptor "
					     "says %llu",
					     digest, r->domain, (unsigned long long)d.written,
					     (unsigned long long)size);
				goto out;
			}
			if (ds_blob_writer_commit(w, digest, NULL, NULL, err) < 0) {
				ds_error_wrap(err, "blob from registry '%s'", r->domain);
				goto out;
			}
			break;
		}
		if (resp.curl_code == CURLE_OK && resp.status == 416) {
			/* our offset is beyond what it has: start over */
			ds_blob_writer_abort(d.w);
			d.w = NULL;
			d.written = 0;
			if (ds_blob_writer_new(&d.w, store, err) < 0)
				goto out;
		} else if (!reg_should_retry(&resp) || attempt > (unsigned)r->o.retries) {
			reg_req shown = req;
			reg_error_from_resp(r, &shown, &resp, err);
			if (attempt > 1 && reg_should_retry(&resp))
				ds_error_wrap(err, "after %u attempts", attempt);
			goto out;
		}
		if (attempt > (unsigned)r->o.retries) {
			ds_error_set(err, DS_ENET, "registry '%s': blob %s: gave up after %u attempts",
				     r->domain, digest, attempt);
			goto out;
		}
		{
			char why[300];
			reg_resp_reason(&resp, why, sizeof(why));
			ds_blob_event ev = { .type = DS_BLOB_RETRY, .digest = digest, .what = what,
					     .size = size, .done = d.written, .text = why,
					     .attempt = attempt };
			reg_emit(r, &ev);
		}
		if (reg_backoff(r, attempt, &resp, err) < 0)
			goto out;
	}
	{
		ds_blob_event ev = { .type = DS_BLOB_DONE, .digest = digest, .what = what,
				     .size = size, .done = size, .outcome = DS_BLOB_DOWNLOADED };
		reg_emit(r, &ev);
	}
	rc = 0;
out:
	ds_blob_writer_abort(d.w);
	reg_resp_release(&resp);
	return rc;
}

/* Fetches a manifest by tag or digest and checks its digest: against
 * want_digest when given, and against Docker-Content-Digest when sent. */
static int fetch_manifest(ds_reg_conn *c, const char *repo, const char *scope,
			  const char *reference, const char *want_digest, ds_buf *body,
			  char digest_out[DS_DIGEST_BUFSZ], char **content_type, ds_error *err)
{
	ds_reg *r = c->reg;
	_cleanup_free_ char *url = ds_xasprintf("/v2/%s/manifests/%s", repo, reference);
	reg_req req = REG_REQ_INIT;
	reg_resp resp;
	char got[DS_DIGEST_BUFSZ];
	int rc = -1;

	reg_resp_init(&resp);
	resp.body.max = DS_MANIFEST_MAX;
	req.method = "GET";
	req.url = url;
	req.scope = scope;
	req.accept = REG_MANIFEST_ACCEPT;
	req.follow = 1;
	req.ev_what = "manifest";
	if (reg_call(c, &req, &resp, err) < 0)
		goto out;
	if (resp.curl_code != CURLE_OK || resp.status != 200) {
		reg_error_from_resp(r, &req, &resp, err);
		if (resp.status == 404)
			ds_error_hint(err, "check the repository name and the tag or digest");
		goto out;
	}
	if (ds_sha256_buf(resp.body.data, resp.body.len, got, err) < 0)
		goto out;
	if (want_digest && strcmp(got, want_digest)) {
		ds_error_set(err, DS_EFORMAT,
			     "registry '%s' sent a manifest with digest %s for %s: digest mismatch",
			     r->domain, got, want_digest);
		goto out;
	}
	if (resp.docker_digest && !strncmp(resp.docker_digest, "sha256:", 7) &&
	    strcmp(resp.docker_digest, got)) {
		ds_error_set(err, DS_EFORMAT,
			     "registry '%s' sent a manifest with digest %s but says %s "
			     "(Docker-Content-Digest)",
			     r->domain, got, resp.docker_digest);
		goto out;
	}
	ds_buf_reset(body);
	if (ds_buf_add(body, resp.body.data, resp.body.len) < 0) {
		ds_error_set(err, DS_ENOMEM, "manifest too large");
		goto out;
	}
	memcpy(digest_out, got, DS_DIGEST_BUFSZ);
	*content_type = resp.content_type ? ds_xstrdup(resp.content_type) : NULL;
	rc = 0;
out:
	reg_resp_release(&resp);
	return rc;
}

typedef struct pull_job {
	const char *repo, *scope;
	ds_store *store;
	const reg_manifest *m;
} pull_job;

static int pull_layer(ds_reg_conn *c, size_t i, void *data, ds_error *err)
{
	pull_job *j = data;
	const reg_desc *l = &j->m->layers[i];

	return fetch_blob(c, j->repo, j->scope, l->digest, l->size, "layer", j->store, err);
}

int ds_registry_pull_ex(ds_image **out, char index_digest_out[DS_DIGEST_BUFSZ],
			const ds_ref *ref, const char *platform, ds_store *store,
			const ds_registry_opts *opts, ds_error *err)
{
	ds_registry_ref rr = { 0 };
	ds_reg_conn *c = NULL;
	_cleanup_free_ char *scope = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *ctype = NULL;
	_cleanup_free_ char *srcdir = NULL;
	char top_digest[DS_DIGEST_BUFSZ], digest[DS_DIGEST_BUFSZ];
	reg_manifest m = { 0 };
	ds_buf body;
	ds_image *img = NULL;
	int rc = -1;

	ds_buf_init(&body, DS_MANIFEST_MAX);
	if (ds_registry_ref_from_ref(&rr, ref, err) < 0)
		goto out;
	name = ds_registry_ref_format(&rr);
	if (!platform)
		platform = ds_platform_host();
	if (reg_open(&c, rr.domain, rr.host, rr.repo, opts, err) < 0)
		goto out;
	scope = ds_xasprintf("repository:%s:pull", rr.repo);
	if (fetch_manifest(c, rr.repo, scope, rr.digest ? rr.digest : rr.tag, rr.digest, &body,
			   top_digest, &ctype, err) < 0)
		goto out;
	memcpy(digest, top_digest, sizeof(digest));
	if (reg_manifest_parse(&m, body.data, body.len, ctype, "the manifest", err) < 0)
		goto out;
	if (m.is_index) {
		size_t which;
		char child[DS_DIGEST_BUFSZ];
		if (reg_manifest_select(&m, platform, &which, err) < 0)
			goto out;
		memcpy(child, m.entries[which].digest, sizeof(child));
		reg_manifest_release(&m);
		free(ctype);
		ctype = NULL;
		if (fetch_manifest(c, rr.repo, scope, child, child, &body, digest, &ctype, err) < 0)
			goto out;
		if (reg_manifest_parse(&m, body.data, body.len, ctype, "the platform's manifest",
				       err) < 0)
			goto out;
		if (m.is_index) {
			ds_error_set(err, DS_EUNSUPPORTED, "nested indexes are not supported");
			goto out;
		}
	}
	if (fetch_blob(c, rr.repo, scope, m.config.digest, m.config.size, "config", store, err) < 0)
		goto out;
	{
		pull_job j = { rr.repo, scope, store, &m };
		if (reg_parallel(c, m.n_layers, pull_layer, &j, err) < 0)
			goto out;
	}
	srcdir = reg_sources_dir(opts ? opts->cache_dir : NULL);
	reg_sources_add(srcdir, m.config.digest, rr.domain, rr.repo);
	for (size_t i = 0; i < m.n_layers; i++)
		reg_sources_add(srcdir, m.layers[i].digest, rr.domain, rr.repo);

	img = ds_xcalloc(1, sizeof(*img));
	img->store = store;
	img->owns_store = 0;
	memcpy(img->manifest_digest, digest, sizeof(digest));
	img->manifest_media_type = ds_xstrdup(m.media_type);
	img->manifest = ds_buf_detach(&body, &img->manifest_len);
	if (ds_image_load_manifest(img, "the manifest", err) < 0 ||
	    ds_image_check_blobs(img, err) < 0)
		goto out;
	*out = TAKE_PTR(img);
	if (index_digest_out)
		memcpy(index_digest_out, top_digest, DS_DIGEST_BUFSZ);
	rc = 0;
out:
	if (rc < 0 && err)
		ds_error_wrap(err, "pull 'docker://%s'", name ? name : (ref && ref->path ? ref->path : ""));
	ds_image_free(img);
	reg_manifest_release(&m);
	ds_buf_release(&body);
	reg_close(c);
	ds_registry_ref_release(&rr);
	return rc;
}

int ds_registry_pull(ds_image **out, const ds_ref *ref, const char *platform, ds_store *store,
		     const ds_registry_opts *opts, ds_error *err)
{
	return ds_registry_pull_ex(out, NULL, ref, platform, store, opts, err);
}
