/* Internal to libdsbuild: pieces of the OCI image model shared by the
 * layout, archive and registry code. */
#ifndef DS_OCI_OCI_H
#define DS_OCI_OCI_H

#include <dsbuild/image.h>

/* Parses "os/arch[/variant]"; arm64 implies variant v8. */
int ds_platform_parse(const char *s, char os[32], char arch[32], char variant[32], ds_error *err);

/* Validates a descriptor object; what names it in errors. */
int ds_descriptor_parse(const json_t *d, const char *what, char digest[DS_DIGEST_BUFSZ],
			uint64_t *size, const char **media_type, ds_error *err);

/* Picks the entry of index's "manifests" for platform (NULL = host).
 * *out is borrowed from index. */
int ds_index_select(const json_t *index, const char *platform, const char *name, json_t **out,
		    ds_error *err);

/* With img->store, img->manifest(_len) and img->manifest_digest set (the
 * bytes already verified), parses the manifest and loads the config. */
int ds_image_load_manifest(ds_image *img, const char *name, ds_error *err);

/* Every layer blob present with the size its descriptor says. */
int ds_image_check_blobs(const ds_image *img, ds_error *err);

/* Opens the layout in dir.  ref, when not NULL, is what the user named
 * (an oci-archive:/docker-archive: extracted into dir): errors name it,
 * never dir. */
/* Decompresses a layer blob (gzip or plain tar) from store, returning the
 * SHA-256 and size of the tar inside: what the config's diff_id must be. */
int ds_layer_uncompressed_digest(const ds_store *store, const ds_layer_desc *l,
				 char diff_id[DS_DIGEST_BUFSZ], uint64_t *size, ds_error *err);

int ds_layout_open(ds_image **out, const char *dir, const char *tag, const char *platform,
		   const ds_ref *ref, ds_error *err);
int ds_archive_open(ds_image **out, const ds_ref *ref, const char *platform, ds_error *err);

/* A prepared write: everything is on disk under temporary names, and
 * committing is renames only.  See ds_image_write_prepare(). */
struct ds_write_txn {
	char *tmp;       /* temp folder or file, renamed to final on commit */
	char *final;
	char **added;    /* blobs added to an existing layout, removed on abort */
	size_t n_added;
};

/* Adds path to the blobs an abort removes. */
void ds_write_txn_added(ds_write_txn *t, const char *path);

/* tags: plain tags for the layout's ref.name annotations. */
int ds_layout_prepare(ds_write_txn *t, const ds_image *img, const char *dir, const char **tags,
		      size_t n_tags, ds_error *err);
int ds_archive_prepare_oci(ds_write_txn *t, const ds_image *img, const char *file,
			   const char **tags, size_t n_tags, ds_error *err);
int ds_archive_prepare_docker(ds_write_txn *t, const ds_image *img, const char *file,
			      const char **repo_tags, size_t n_tags, ds_error *err);

#endif
