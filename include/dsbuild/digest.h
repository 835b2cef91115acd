/* SHA-256 digests in OCI form: "sha256:" followed by 64 lowercase hex. */
#ifndef DSBUILD_DIGEST_H
#define DSBUILD_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <dsbuild/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DS_DIGEST_LEN 71          /* strlen("sha256:") + 64 */
#define DS_DIGEST_BUFSZ 72

typedef struct ds_sha256 {
	void *ctx; /* EVP_MD_CTX */
} ds_sha256;

int ds_sha256_init(ds_sha256 *h, ds_error *err);
void ds_sha256_update(ds_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out and releases the context. */
void ds_sha256_final(ds_sha256 *h, char out[DS_DIGEST_BUFSZ]);
void ds_sha256_release(ds_sha256 *h);

/* One-shot digest of a buffer. */
int ds_sha256_buf(const void *data, size_t len, char out[DS_DIGEST_BUFSZ], ds_error *err);

/* 1 when s is a well-formed sha256 digest, else 0. */
int ds_digest_valid(const char *s);
/* The hex part of a valid digest. */
const char *ds_digest_hex(const char *digest);

#ifdef __cplusplus
}
#endif
#endif
