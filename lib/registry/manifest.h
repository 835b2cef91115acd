/* Manifests and indexes as a registry sends them (untrusted): OCI image
 * manifest and index, Docker v2 schema 2 manifest and manifest list.
 * Parsing is bounded (DS_MANIFEST_MAX bytes, DS_LAYERS_MAX layers,
 * REG_INDEX_ENTRIES_MAX index entries) and checks every descriptor. */
#ifndef DS_REGISTRY_MANIFEST_H
#define DS_REGISTRY_MANIFEST_H

#include <stdint.h>
#include <jansson.h>

#include <dsbuild/digest.h>
#include <dsbuild/error.h>

#define REG_INDEX_ENTRIES_MAX 1000
#define REG_BLOB_SIZE_MAX ((uint64_t)1 << 40)

/* The Accept header for manifest requests. */
#define REG_MANIFEST_ACCEPT                                                                       \
	"application/vnd.oci.image.index.v1+json, "                                               \
	"application/vnd.docker.distribution.manifest.list.v2+json, "                             \
	"application/vnd.oci.image.manifest.v1+json, "                                            \
	"application/vnd.docker.distribution.manifest.v2+json"

typedef struct reg_desc {
	char *media_type;
	char digest[DS_DIGEST_BUFSZ];
	uint64_t size;
	char *os, *arch, *variant; /* index entries: platform, or NULL */
	json_t *annotations;       /* borrowed from the manifest's JSON, or NULL */
} reg_desc;

typedef struct reg_manifest {
	int is_index;
	char *media_type;  /* the manifest's own media type */
	json_t *json;      /* owned */
	reg_desc config;   /* image manifests */
	reg_desc *layers;
	size_t n_layers;
	reg_desc *entries; /* indexes */
	size_t n_entries;
} reg_manifest;

/* Parses len bytes.  content_type (may be NULL) is the answer's
 * Content-Type, used when the document has no mediaType.  name is used in
 * errors.  DS_EFORMAT for malformed documents, DS_EUNSUPPORTED for schema 1
 * or unknown media types.  out is zeroed first; release it either way. */
int reg_manifest_parse(reg_manifest *out, const char *data, size_t len, const char *content_type,
		       const char *name, ds_error *err);
void reg_manifest_release(reg_manifest *m);

/* Picks the index entry for platform "os/arch[/variant]" (aliases such as
 * x86_64 and aarch64 accepted).  DS_ENOENT listing what is there when
 * nothing matches. */
int reg_manifest_select(const reg_manifest *idx, const char *platform, size_t *which,
			ds_error *err);

#endif
