/* Registry credentials: where Docker, podman and skopeo keep them.
 *
 * Lookup order (the first file with an answer wins):
 *   --creds, else only the auth file named by the caller, else
 *   $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 *   ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json,
 *   ${DOCKER_CONFIG:-~/.docker}/config.json.
 * In each file: credHelpers[domain], else the most specific "auths" entry
 * (keys "host", "https://host/v1/", "host/namespace/repo"), else credsStore.
 * A helper is `docker-credential-NAME get|store|erase` speaking JSON on
 * stdin/stdout; a missing or failing helper is an error (DS_EAUTH) that
 * names the helper and the file that configured it. */
#ifndef DS_REGISTRY_CREDS_H
#define DS_REGISTRY_CREDS_H

#include <dsbuild/buf.h>
#include <dsbuild/error.h>

#define DS_CREDS_FILE_MAX ((size_t)1 << 20)
#define DS_CREDS_HELPER_OUTPUT_MAX ((size_t)64 << 10)
#define DS_CREDS_HELPER_TIMEOUT_S 60

typedef struct ds_creds {
	char *username;       /* NULL: anonymous */
	char *password;
	char *identity_token; /* OAuth2 refresh token (helper user "<token>", "identitytoken") */
	char *source;         /* "'/root/.docker/config.json'", "--creds",
				 "credential helper 'docker-credential-x' (from '...')" */
} ds_creds;

/* "USER:PASS" as given to --creds (the password may contain ':'). */
int ds_creds_from_string(ds_creds *out, const char *s, ds_error *err);
/* Looks domain (and repo, may be NULL) up.  Not found is not an error: out
 * is left anonymous.  tried (may be NULL) gets a list of the places looked
 * at, for hints: "'/root/.docker/config.json', credential helper ...". */
int ds_creds_lookup(ds_creds *out, const char *domain, const char *repo, const char *auth_file,
		    ds_buf *tried, ds_error *err);
void ds_creds_release(ds_creds *c);

/* The file login/logout write: auth_file, $REGISTRY_AUTH_FILE, else
 * ${DOCKER_CONFIG:-~/.docker}/config.json.  Malloc'd. */
char *ds_creds_target_file(const char *auth_file);
int ds_creds_save(const char *domain, const char *user, const char *password,
		  const char *auth_file, char **where, ds_error *err);
int ds_creds_erase(const char *domain, const char *auth_file, char **where, ds_error *err);

/* Runs docker-credential-<name> <action> with input on stdin; out gets
 * stdout (bounded); *status its exit status.  Fails when it cannot run. */
int ds_creds_helper_run(const char *name, const char *action, const char *input, ds_buf *out,
			int *status, ds_error *err);

/* Base64 (standard alphabet, padded). */
char *ds_base64_encode(const void *data, size_t len);
/* Returns the decoded bytes (NUL-terminated) or NULL on bad input. */
char *ds_base64_decode(const char *s, size_t *len_out);

#endif
