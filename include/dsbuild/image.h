/* OCI images: reading them from, and writing them to, the transports
 * skopeo names: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE.
 *
 * A ds_image is a manifest, its config and its layer descriptors, with the
 * blobs in a ds_store.  Everything read is bounded and digest-checked. */
#ifndef DSBUILD_IMAGE_H
#define DSBUILD_IMAGE_H

#include <stdint.h>
#include <jansson.h>
#include <dsbuild/digest.h>
#include <dsbuild/error.h>
#include <dsbuild/layer.h>
#include <dsbuild/store.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DS_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DS_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define DS_MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define DS_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DS_MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DS_MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define DS_MEDIA_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* Limits on what is read from untrusted images. */
#define DS_MANIFEST_MAX ((size_t)4 << 20)
#define DS_CONFIG_MAX ((size_t)8 << 20)
#define DS_INDEX_MAX ((size_t)4 << 20)
#define DS_LAYERS_MAX 1000

typedef enum {
	DS_TRANSPORT_OCI = 1,       /* oci:DIR[:TAG] */
	DS_TRANSPORT_OCI_ARCHIVE,   /* oci-archive:FILE[:TAG] */
	DS_TRANSPORT_DOCKER_ARCHIVE,/* docker-archive:FILE[:NAME:TAG] */
	DS_TRANSPORT_DOCKER,        /* docker://HOST/REPO[:TAG|@DIGEST] */
} ds_transport;

typedef struct ds_ref {
	ds_transport transport;
	char *path;    /* DIR or FILE, or for docker: "HOST/REPO" */
	char *tag;     /* NULL when not given */
	char *digest;  /* docker://...@sha256:..., else NULL */
} ds_ref;

/* Parses "oci:DIR[:TAG]" and friends.  A bare path is not accepted: the
 * transport is always named, as skopeo does. */
int ds_ref_parse(ds_ref *out, const char *s, ds_error *err);
void ds_ref_release(ds_ref *r);

typedef struct ds_layer_desc {
	char *media_type;
	char digest[DS_DIGEST_BUFSZ];
	uint64_t size;
	char diff_id[DS_DIGEST_BUFSZ];  /* from the config's rootfs */
	char *created_by;               /* from the config's history, or NULL */
	json_t *annotations;            /* or NULL */
} ds_layer_desc;

typedef struct ds_image {
	ds_store *store;        /* where the blobs are */
	char manifest_digest[DS_DIGEST_BUFSZ];
	char *manifest_media_type;
	char *manifest;         /* raw bytes as stored/pushed */
	size_t manifest_len;
	json_t *manifest_json;  /* parsed */
	char config_digest[DS_DIGEST_BUFSZ];
	char *config_media_type;
	uint64_t config_size;
	json_t *config;         /* parsed */
	size_t n_layers;
	ds_layer_desc *layers;
	char *tmpdir;           /* extracted archive, removed by ds_image_free() */
	int owns_store;
} ds_image;

/* Opens an image from oci:, oci-archive: or docker-archive:.  For an index
 * the entry for platform ("linux/amd64", NULL = the host's) is chosen.
 * Verifies manifest and config digests; layer blobs are checked for
 * presence and size (ds_image_verify() re-hashes them). */
int ds_image_open(ds_image **out, const ds_ref *ref, const char *platform, ds_error *err);
/* Re-hashes every blob and checks sizes. */
int ds_image_verify(const ds_image *img, ds_error *err);
ds_image *ds_image_free(ds_image *img);

/* Builds an in-memory image from a config and layers whose blobs are in
 * store: serialises config and manifest (sorted keys), stores both. */
int ds_image_assemble(ds_image **out, ds_store *store, json_t *config, const ds_layer_desc *layers,
		      size_t n_layers, json_t *annotations, ds_error *err);

typedef struct ds_write_opts {
	const char **tags;      /* "NAME:TAG" or "TAG"; the ref's own tag wins */
	size_t n_tags;
	ds_progress_fn progress; /* unused for now */
	void *progress_data;
} ds_write_opts;

#define DS_WRITE_OPTS_INIT { NULL, 0, NULL, NULL }

/* Writes img to an oci:, oci-archive: or docker-archive: destination.
 * Atomic: a new layout or archive appears whole or not at all; adding a tag
 * to an existing layout writes blobs first and swaps index.json last. */
int ds_image_write(const ds_image *img, const ds_ref *dst, const ds_write_opts *opts,
		   ds_error *err);

/* Two-phase writing, for builds with several outputs: prepare each one
 * (all the work, under temporary names beside the destination), then
 * commit them all (renames only), or abort them all.  A failed build leaves
 * every destination as it was. */
typedef struct ds_write_txn ds_write_txn;
int ds_image_write_prepare(ds_write_txn **out, const ds_image *img, const ds_ref *dst,
			   const ds_write_opts *opts, ds_error *err);
/* Frees t whatever the outcome. */
int ds_write_txn_commit(ds_write_txn *t, ds_error *err);
/* Removes what prepare wrote and frees t.  NULL-safe; returns NULL. */
ds_write_txn *ds_write_txn_abort(ds_write_txn *t);

/* "linux/amd64" etc. for the host, borrowed static string. */
const char *ds_platform_host(void);

#ifdef __cplusplus
}
#endif
#endif
