/* Registry auth: Basic, or Bearer tokens from the challenge's realm (with
 * Basic credentials, an OAuth2 refresh token, or anonymously), cached per
 * scope until they expire or the registry answers 401. */
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "registry/client.h"
#include "registry/www_auth.h"
#include "util/util.h"

#define TOKEN_DEFAULT_TTL 60
#define TOKEN_MARGIN 10

int reg_auth_load_creds(ds_reg *r, ds_error *err)
{
	ds_buf tried;

	if (r->creds_loaded)
		return 0;
	if (r->o.creds) {
		if (ds_creds_from_string(&r->creds, r->o.creds, err) < 0)
			return -1;
		r->creds_loaded = 1;
		return 0;
	}
	ds_buf_init(&tried, 8192);
	if (ds_creds_lookup(&r->creds, r->domain, r->repo, r->o.auth_file, &tried, err) < 0) {
		ds_buf_release(&tried);
		return -1;
	}
	free(r->creds_tried);
	r->creds_tried = ds_buf_detach(&tried, NULL);
	r->creds_loaded = 1;
	return 0;
}

void reg_auth_hint(ds_reg *r, ds_error *err)
{
	pthread_mutex_lock(&r->lock);
	if (r->creds.username || r->creds.identity_token)
		ds_error_hint(err, "check the credentials for '%s'%s%s from %s, or run `dsbuild login "
				   "%s` again",
			      r->domain, r->creds.username ? " user " : "",
			      r->creds.username ? r->creds.username : "", r->creds.source, r->domain);
	else
		ds_error_hint(err, "run `dsbuild login %s` or pass --creds USER:PASSWORD (no "
				   "credentials for '%s' in %s)",
			      r->domain, r->domain,
			      r->creds_tried && r->creds_tried[0] ? r->creds_tried : "any auth file");
	pthread_mutex_unlock(&r->lock);
}

int reg_auth_learn(ds_reg *r, const char *www_auth, ds_error *err)
{
	ds_www_auth wa;
	const ds_auth_challenge *ch;
	int changed = 0;

	if (ds_www_auth_parse(&wa, www_auth, strlen(www_auth), err) < 0) {
		ds_www_auth_release(&wa);
		return ds_error_wrap(err, "registry '%s'", r->domain);
	}
	pthread_mutex_lock(&r->lock);
	if ((ch = ds_www_auth_find(&wa, "bearer"))) {
		const char *realm = ds_auth_challenge_param(ch, "realm");
		const char *service = ds_auth_challenge_param(ch, "service");
		if (!realm || (strncasecmp(realm, "https://", 8) && strncasecmp(realm, "http://", 7))) {
			pthread_mutex_unlock(&r->lock);
			ds_www_auth_release(&wa);
			return ds_error_set(err, DS_EAUTH,
					    "registry '%s' sent a Bearer challenge without a usable "
					    "realm URL",
					    r->domain);
		}
		if (r->scheme != REG_AUTH_BEARER || !r->realm || strcmp(r->realm, realm) ||
		    (service && (!r->service || strcmp(r->service, service)))) {
			changed = 1;
			free(r->realm);
			free(r->service);
			r->realm = ds_xstrdup(realm);
			r->service = service ? ds_xstrdup(service) : NULL;
			for (size_t i = 0; i < r->n_tokens; i++) {
				free(r->tokens[i].scope);
				free(r->tokens[i].token);
			}
			r->n_tokens = 0;
		}
		r->scheme = REG_AUTH_BEARER;
	} else if (ds_www_auth_find(&wa, "basic")) {
		changed = r->scheme != REG_AUTH_BASIC;
		r->scheme = REG_AUTH_BASIC;
	} else {
		pthread_mutex_unlock(&r->lock);
		ds_error_set(err, DS_EUNSUPPORTED,
			     "registry '%s' asks for an unsupported authentication scheme '%s'",
			     r->domain, wa.challenges[0].scheme);
		ds_www_auth_release(&wa);
		return -1;
	}
	pthread_mutex_unlock(&r->lock);
	ds_www_auth_release(&wa);
	return changed;
}

static reg_token *find_token(ds_reg *r, const char *scope)
{
	for (size_t i = 0; i < r->n_tokens; i++)
		if (!strcmp(r->tokens[i].scope, scope))
			return &r->tokens[i];
	return NULL;
}

static void drop_token(ds_reg *r, reg_token *t)
{
	size_t i = (size_t)(t - r->tokens);
	free(t->scope);
	free(t->token);
	memmove(&r->tokens[i], &r->tokens[i + 1], (r->n_tokens - i - 1) * sizeof(*t));
	r->n_tokens--;
}

static int realm_may_get_creds(ds_reg *r, const char *realm)
{
	_cleanup_free_ char *host = NULL;
	const char *p;

	if (!strncasecmp(realm, "https://", 8) || r->o.plain_http == DS_PLAIN_HTTP_ALWAYS)
		return 1;
	p = realm + 7;
	host = ds_xstrndup(p, strcspn(p, "/?#"));
	return ds_registry_host_is_loopback(host);
}

static void add_param(ds_buf *b, CURL *h, const char *name, const char *value)
{
	char *e = curl_easy_escape(h, value, 0);
	ds_buf_addf(b, "%s%s=%s", b->len ? "&" : "", name, e ? e : "");
	curl_free(e);
}

/* Fetches a token for scope (space-separated scopes); r->lock held. */
static int fetch_token(ds_reg_conn *c, const char *scope, char **tok_out, time_t *exp_out,
		       ds_error *err)
{
	ds_reg *r = c->reg;
	reg_req req = REG_REQ_INIT;
	reg_resp resp;
	ds_buf q, url;
	_cleanup_free_ char *authz = NULL;
	_cleanup_free_ char *scopes = ds_xstrdup(scope ? scope : "");
	json_t *j = NULL;
	const char *tok;
	json_int_t ttl = TOKEN_DEFAULT_TTL;
	int rc = -1, have_creds;
	char *save = NULL;

	if (reg_auth_load_creds(r, err) < 0)
		return -1;
	have_creds = r->creds.username || r->creds.identity_token;
	if (have_creds && !realm_may_get_creds(r, r->realm)) {
		ds_error_set(err, DS_EAUTH,
			     "refusing to send credentials for '%s' over plain HTTP to '%s'", r->domain,
			     r->realm);
		return ds_error_hint(err, "use an HTTPS token realm, or pass --plain-http if you "
					  "accept that");
	}
	ds_buf_init(&q, 65536);
	ds_buf_init(&url, 65536 + 4096);
	reg_resp_init(&resp);
	resp.body.max = REG_TOKEN_MAX;
	if (r->service)
		add_param(&q, c->curl, "service", r->service);
	if (r->creds.identity_token) {
		/* OAuth2 refresh-token grant: scopes space-separated in one field */
		add_param(&q, c->curl, "grant_type", "refresh_token");
		add_param(&q, c->curl, "refresh_token", r->creds.identity_token);
		add_param(&q, c->curl, "client_id", "dsbuild");
		if (scopes[0])
			add_param(&q, c->curl, "scope", scopes);
		req.method = "POST";
		req.url = r->realm;
		req.body = q.data;
		req.body_len = q.len;
		req.has_body = 1;
		req.content_type = "application/x-www-form-urlencoded";
	} else {
		for (char *s = strtok_r(scopes, " ", &save); s; s = strtok_r(NULL, " ", &save))
			add_param(&q, c->curl, "scope", s);
		ds_buf_addf(&url, "%s%s%s", r->realm, strchr(r->realm, '?') ? "&" : "?", q.data);
		req.method = "GET";
		req.url = url.data;
		if (r->creds.username) {
			_cleanup_free_ char *up = ds_xasprintf("%s:%s", r->creds.username,
							       r->creds.password ? r->creds.password : "");
			_cleanup_free_ char *b64 = ds_base64_encode(up, strlen(up));
			authz = ds_xasprintf("Basic %s", b64);
			explicit_bzero(up, strlen(up));
		}
	}
	req.follow = 1;
	if (reg_send_token_request(c, &req, authz, &resp, err) < 0)
		goto out;
	if (resp.curl_code != CURLE_OK) {
		ds_error_set(err, DS_ENET, "token server '%s' for registry '%s' failed: %s", r->realm,
			     r->domain, resp.curl_msg);
		goto out;
	}
	if (resp.status == 401 || resp.status == 403) {
		reg_req shown = req;
		shown.url = r->realm;
		reg_error_from_resp(r, &shown, &resp, err);
		if (have_creds)
			ds_error_wrap(err, "token server refused the credentials%s%s from %s",
				      r->creds.username ? " for user " : "",
				      r->creds.username ? r->creds.username : "", r->creds.source);
		else
			ds_error_wrap(err, "token server refused anonymous access");
		if (err)
			err->code = DS_EAUTH;
		if (have_creds)
			ds_error_hint(err, "check the credentials for '%s' from %s, or run `dsbuild "
					   "login %s` again",
				      r->domain, r->creds.source, r->domain);
		else
			ds_error_hint(err, "run `dsbuild login %s` or pass --creds USER:PASSWORD (no "
					   "credentials for '%s' in %s)",
				      r->domain, r->domain,
				      r->creds_tried && r->creds_tried[0] ? r->creds_tried
									  : "any auth file");
		goto out;
	}
	if (resp.status != 200) {
		reg_error_from_resp(r, &req, &resp, err);
		ds_error_wrap(err, "token server '%s'", r->realm);
		goto out;
	}
	j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	tok = json_string_value(json_object_get(j, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok || strlen(tok) > REG_TOKEN_MAX || strpbrk(tok, "\r\n")) {
		ds_error_set(err, DS_EAUTH, "token server '%s' for registry '%s' sent no usable token",
			     r->realm, r->domain);
		goto out;
	}
	if (json_is_integer(json_object_get(j, "expires_in")))
		ttl = json_integer_value(json_object_get(j, "expires_in"));
	if (ttl <= 0)
		ttl = TOKEN_DEFAULT_TTL;
	{
		const char *rt = json_string_value(json_object_get(j, "refresh_token"));
		if (rt && *rt && r->creds.identity_token) {
			free(r->creds.identity_token);
			r->creds.identity_token = ds_xstrdup(rt);
		}
	}
	*tok_out = ds_xstrdup(tok);
	*exp_out = time(NULL) + (time_t)ttl - (ttl > 2 * TOKEN_MARGIN ? TOKEN_MARGIN : 0);
	rc = 0;
out:
	json_decref(j);
	reg_resp_release(&resp);
	ds_buf_release(&q);
	ds_buf_release(&url);
	return rc;
}

int reg_auth_header(ds_reg_conn *c, const char *scope, int force, char **out, ds_error *err)
{
	ds_reg *r = c->reg;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&r->lock);
	switch (r->scheme) {
	case REG_AUTH_UNKNOWN:
	case REG_AUTH_NONE:
		break;
	case REG_AUTH_BASIC:
		if (reg_auth_load_creds(r, err) < 0) {
			rc = -1;
			break;
		}
		if (r->creds.username && r->send_creds) {
			_cleanup_free_ char *up = ds_xasprintf("%s:%s", r->creds.username,
							       r->creds.password ? r->creds.password : "");
			_cleanup_free_ char *b64 = ds_base64_encode(up, strlen(up));
			*out = ds_xasprintf("Basic %s", b64);
			explicit_bzero(up, strlen(up));
		}
		break;
	case REG_AUTH_BEARER: {
		reg_token *t = find_token(r, scope);
		char *tok = NULL;
		time_t exp = 0;

		if (t && (force || t->expires <= time(NULL))) {
			drop_token(r, t);
			t = NULL;
		}
		if (t) {
			*out = ds_xasprintf("Bearer %s", t->token);
			break;
		}
		if (fetch_token(c, scope, &tok, &exp, err) < 0) {
			rc = -1;
			break;
		}
		if (r->n_tokens == REG_TOKENS_MAX)
			drop_token(r, &r->tokens[0]);
		r->tokens[r->n_tokens].scope = ds_xstrdup(scope);
		r->tokens[r->n_tokens].token = tok;
		r->tokens[r->n_tokens].expires = exp;
		r->n_tokens++;
		*out = ds_xasprintf("Bearer %s", tok);
		break;
	}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}
