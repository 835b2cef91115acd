/* WWW-Authenticate challenges (RFC 7235): one or more
 *   SCHEME [token68 | name=value *(, name=value)]
 * separated by commas, values as tokens or quoted strings.  Registries send
 *   Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"
 * or  Basic realm="registry".  Parsing is bounded: at most
 * DS_WWW_AUTH_MAX_LEN bytes, DS_WWW_AUTH_MAX_CHALLENGES challenges of
 * DS_WWW_AUTH_MAX_PARAMS parameters each. */
#ifndef DS_REGISTRY_WWW_AUTH_H
#define DS_REGISTRY_WWW_AUTH_H

#include <stddef.h>
#include <dsbuild/error.h>

#define DS_WWW_AUTH_MAX_LEN 16384
#define DS_WWW_AUTH_MAX_CHALLENGES 8
#define DS_WWW_AUTH_MAX_PARAMS 16

typedef struct ds_auth_param {
	char *name;  /* lowercased */
	char *value; /* unquoted, escapes resolved */
} ds_auth_param;

typedef struct ds_auth_challenge {
	char *scheme;  /* lowercased: "bearer", "basic" */
	char *token68; /* or NULL */
	ds_auth_param params[DS_WWW_AUTH_MAX_PARAMS];
	size_t n_params;
} ds_auth_challenge;

typedef struct ds_www_auth {
	ds_auth_challenge challenges[DS_WWW_AUTH_MAX_CHALLENGES];
	size_t n;
} ds_www_auth;

/* Parses len bytes of s (several headers may be joined with ", ").  Fails
 * with DS_EFORMAT on malformed or oversized input; out is zeroed first and
 * must be released either way. */
int ds_www_auth_parse(ds_www_auth *out, const char *s, size_t len, ds_error *err);
void ds_www_auth_release(ds_www_auth *a);
/* The first challenge of this scheme (case-insensitive), or NULL. */
const ds_auth_challenge *ds_www_auth_find(const ds_www_auth *a, const char *scheme);
/* A parameter's value (name case-insensitive), or NULL. */
const char *ds_auth_challenge_param(const ds_auth_challenge *c, const char *name);

#endif
