/* The registry client: the OCI distribution API over libcurl.
 *
 * Pull: docker://HOST/REPO[:TAG][@DIGEST] -> manifest (OCI or Docker v2,
 * indexes and manifest lists resolved for a platform) -> config and layer
 * blobs streamed into a ds_store, every byte digest-checked.
 * Push: blobs (HEAD first, cross-repository mount when a source repository on
 * the same registry is known, monolithic or streamed/chunked upload resumed
 * after a dropped connection), then the config, then the manifest.
 *
 * Credentials come from opts->creds, else the auth files and credential
 * helpers Docker, podman and skopeo use (docs/registry.md lists the order).
 * The library never prints: progress goes through opts->progress, errors
 * through ds_error (DS_EAUTH refused credentials, DS_ENET network or registry
 * failure, DS_ENOENT unknown repository/tag, DS_EFORMAT bad manifest or
 * digest mismatch). */
#ifndef DSBUILD_REGISTRY_H
#define DSBUILD_REGISTRY_H

#include <stdint.h>
#include <dsbuild/digest.h>
#include <dsbuild/error.h>
#include <dsbuild/image.h>
#include <dsbuild/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits on references (Docker's grammar). */
#define DS_REGISTRY_NAME_MAX 255   /* repository path */
#define DS_REGISTRY_TAG_MAX 128
#define DS_REGISTRY_HOST_MAX 255

/* A normalised registry reference. */
typedef struct ds_registry_ref {
	char *domain;   /* as users name it: "docker.io", "ghcr.io", "127.0.0.1:5000" */
	char *host;     /* where the API lives: "registry-1.docker.io", "127.0.0.1:5000" */
	char *repo;     /* "library/busybox", "team/app" */
	char *tag;      /* "latest" when neither tag nor digest was given; NULL with a digest only */
	char *digest;   /* "sha256:..." or NULL */
} ds_registry_ref;

/* Parses "[docker://]NAME[:TAG][@DIGEST]" with Docker's defaults: no domain
 * means docker.io, a one-component name on docker.io gets "library/", no tag
 * and no digest means "latest".  Validates the host, port, repository path
 * components, tag and digest; fails with DS_EINVAL naming the bad part, or
 * DS_EUNSUPPORTED for a digest algorithm other than sha256. */
int ds_registry_ref_parse(ds_registry_ref *out, const char *s, ds_error *err);
/* The same from a parsed docker:// ds_ref (path, tag, digest). */
int ds_registry_ref_from_ref(ds_registry_ref *out, const ds_ref *ref, ds_error *err);
/* "domain/repo[:tag][@digest]", malloc'd. */
char *ds_registry_ref_format(const ds_registry_ref *r);
void ds_registry_ref_release(ds_registry_ref *r);
/* Normalises a registry name as given to `login`: "docker.io",
 * "https://index.docker.io/v1/", "HOST[:PORT]" (a trailing path is dropped).
 * Writes the domain ("docker.io", "host:5000") into out (malloc'd). */
int ds_registry_domain_parse(char **out, const char *s, ds_error *err);
/* 1 for localhost, 127.0.0.0/8 and ::1 (with or without a port). */
int ds_registry_host_is_loopback(const char *host);

typedef enum {
	DS_PLAIN_HTTP_AUTO = 0, /* HTTPS; plain HTTP only for loopback hosts when HTTPS fails,
				   or for any host when tls_verify is 0 (without credentials) */
	DS_PLAIN_HTTP_NEVER,    /* HTTPS only */
	DS_PLAIN_HTTP_ALWAYS,   /* plain HTTP, asked for explicitly (credentials are sent) */
} ds_plain_http;

typedef enum {
	DS_BLOB_START = 1, /* a transfer or check begins: size */
	DS_BLOB_PROGRESS,  /* done of size bytes moved */
	DS_BLOB_RETRY,     /* a request failed and is retried: text = why, attempt */
	DS_BLOB_DONE,      /* finished: outcome (and text = source repo for a mount) */
} ds_blob_event_type;

typedef enum {
	DS_BLOB_UPLOADED = 1, /* bytes were sent */
	DS_BLOB_EXISTS,       /* the registry already had it: nothing sent */
	DS_BLOB_MOUNTED,      /* mounted from another repository: nothing sent */
	DS_BLOB_DOWNLOADED,   /* fetched into the store */
	DS_BLOB_CACHED,       /* already in the store: nothing fetched */
} ds_blob_outcome;

typedef struct ds_blob_event {
	ds_blob_event_type type;
	const char *digest;
	const char *what;     /* "config", "layer", "manifest" */
	uint64_t size;
	uint64_t done;
	ds_blob_outcome outcome;
	const char *text;
	unsigned attempt;
} ds_blob_event;

/* Called from the transfer threads, one call at a time (the library holds a
 * lock around it): keep it short. */
typedef void (*ds_blob_progress_fn)(void *data, const ds_blob_event *ev);

typedef struct ds_registry_opts {
	const char *creds;         /* "USER:PASS" (or "USER" + password after ':'); NULL = look up */
	const char *auth_file;     /* only this auth file (read, and written by login) */
	const char *cert_dir;      /* *.crt CAs, *.cert + *.key client cert; NULL = certs.d dirs */
	int tls_verify;            /* 1 (default): verify the server's certificate */
	ds_plain_http plain_http;
	int parallel;              /* blob transfers at once; default 3, at most 16 */
	int retries;               /* retries after a failed request; default 5; -1 = none */
	unsigned retry_base_ms;    /* first backoff (doubles, full jitter); default 500 or
				      $DSBUILD_RETRY_BASE_MS */
	unsigned retry_max_ms;     /* cap of one backoff and of Retry-After; default 30000 */
	unsigned stall_timeout_s;  /* abort a transfer that moved nothing for this long; default
				      60 or $DSBUILD_STALL_TIMEOUT */
	uint64_t chunk_size;       /* push: 0 = one streamed PATCH per blob; else chunks */
	uint64_t monolithic_max;   /* push: blobs up to this size go in a single PUT; default 1 MiB */
	const char *cache_dir;     /* where blob sources are remembered for mounts; NULL = the
				      default store path, "" = do not remember */
	const char *mount_from;    /* push: "HOST/REPO" (or a docker:// ref) whose blobs may be
				      mounted; blobs remembered in cache_dir are tried too */
	const char **extra_tags;   /* push: more tags for the same manifest */
	size_t n_extra_tags;
	const char *user_agent;    /* NULL = "dsbuild/VERSION" */
	ds_blob_progress_fn progress;
	void *progress_data;
} ds_registry_opts;

#define DS_REGISTRY_OPTS_INIT { .tls_verify = 1 }

/* Pulls ref (docker:// transport) for platform ("os/arch[/variant]", NULL =
 * the host's) into store, which must outlive the image.  Blobs already in
 * store are not fetched again.  The image's manifest is the platform's
 * manifest (an index is resolved); *index_digest_out, when not NULL, gets
 * the digest the tag pointed at (the index's, or the manifest's). */
int ds_registry_pull(ds_image **out, const ds_ref *ref, const char *platform, ds_store *store,
		     const ds_registry_opts *opts, ds_error *err);
int ds_registry_pull_ex(ds_image **out, char index_digest_out[DS_DIGEST_BUFSZ],
			const ds_ref *ref, const char *platform, ds_store *store,
			const ds_registry_opts *opts, ds_error *err);

typedef struct ds_push_result {
	char digest[DS_DIGEST_BUFSZ]; /* the manifest's, as the registry confirmed */
	uint64_t manifest_size;
	uint64_t bytes_uploaded;      /* blob bytes sent, retries included */
	size_t blobs_total;           /* config + layers */
	size_t blobs_uploaded;
	size_t blobs_existed;
	size_t blobs_mounted;
} ds_push_result;

/* Pushes img (blobs read from img->store, streamed, never loaded whole) to
 * dst (docker://; its tag, else its digest, names the manifest) and to each
 * of opts->extra_tags.  Manifest bytes are pushed exactly as in
 * img->manifest, with img->manifest_media_type.  The registry never gets a
 * manifest before every blob it names is there.  res may be NULL. */
int ds_registry_push(const ds_image *img, const ds_ref *dst, const ds_registry_opts *opts,
		     ds_push_result *res, ds_error *err);

/* Checks user/password against registry (a name as for
 * ds_registry_domain_parse) and stores them: in a credential helper when the
 * target file names one for the registry (credHelpers/credsStore), else in
 * the file's "auths".  The file is opts->auth_file, else $REGISTRY_AUTH_FILE,
 * else $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 * *where_out (may be NULL) gets what was written, malloc'd: a path or
 * "credential helper 'docker-credential-NAME'". */
int ds_registry_login(const char *registry, const char *user, const char *password,
		      const ds_registry_opts *opts, char **where_out, ds_error *err);
/* Removes stored credentials for registry from the same target (and its
 * helper).  Fails with DS_ENOENT when there were none. */
int ds_registry_logout(const char *registry, const ds_registry_opts *opts, char **where_out,
		       ds_error *err);

#ifdef __cplusplus
}
#endif
#endif
