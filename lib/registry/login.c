/* login/logout: check credentials against the registry, then store them
 * where Docker and podman look (see creds.h). */
#include <stdio.h>

#include <dsbuild/registry.h>

#include "registry/client.h"
#include "util/util.h"

static int check_creds(ds_reg_conn *c, ds_error *err)
{
	ds_reg *r = c->reg;
	reg_req req = REG_REQ_INIT;
	reg_resp resp;
	int rc = -1;

	if (r->scheme == REG_AUTH_NONE || r->scheme == REG_AUTH_UNKNOWN)
		return 0; /* the registry asks for nothing: any credentials do */
	if (!r->send_creds) {
		ds_error_set(err, DS_EAUTH, "refusing to send credentials to '%s' over plain HTTP",
			     r->domain);
		return ds_error_hint(err, "use HTTPS, or pass --plain-http if you accept that");
	}
	reg_resp_init(&resp);
	req.method = "GET";
	req.url = "/v2/";
	req.scope = ""; /* no repository: Basic creds, or a token without scope */
	if (reg_call(c, &req, &resp, err) < 0)
		goto out;
	if (resp.curl_code != CURLE_OK || resp.status != 200) {
		reg_error_from_resp(r, &req, &resp, err);
		goto out;
	}
	rc = 0;
out:
	reg_resp_release(&resp);
	return rc;
}

int ds_registry_login(const char *registry, const char *user, const char *password,
		      const ds_registry_opts *opts, char **where_out, ds_error *err)
{
	ds_registry_opts o = DS_REGISTRY_OPTS_INIT;
	_cleanup_free_ char *domain = NULL;
	_cleanup_free_ char *up = NULL;
	ds_reg_conn *c = NULL;
	int rc = -1;

	if (opts)
		o = *opts;
	if (ds_registry_domain_parse(&domain, registry, err) < 0)
		return -1;
	if (!user || !*user || strchr(user, ':'))
		return ds_error_set(err, DS_EINVAL, "a user name is needed (without ':')");
	if (!password || !*password)
		return ds_error_set(err, DS_EINVAL, "a password is needed");
	up = ds_xasprintf("%s:%s", user, password);
	o.creds = up;
	if (reg_open(&c, domain, !strcmp(domain, "docker.io") ? "registry-1.docker.io" : domain,
		     NULL, &o, err) < 0)
		goto out;
	if (check_creds(c, err) < 0)
		goto out;
	if (ds_creds_save(domain, user, password, opts ? opts->auth_file : NULL, where_out, err) <
	    0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		ds_error_wrap(err, "login to '%s'", domain);
	explicit_bzero(up, strlen(up));
	reg_close(c);
	return rc;
}

int ds_registry_logout(const char *registry, const ds_registry_opts *opts, char **where_out,
		       ds_error *err)
{
	_cleanup_free_ char *domain = NULL;

	if (ds_registry_domain_parse(&domain, registry, err) < 0)
		return -1;
	if (ds_creds_erase(domain, opts ? opts->auth_file : NULL, where_out, err) < 0)
		return ds_error_wrap(err, "logout from '%s'", domain);
	return 0;
}
