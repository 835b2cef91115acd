#include <string.h>

#include <openssl/evp.h>

#include <dsbuild/digest.h>

int ds_sha256_init(ds_sha256 *h, ds_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		h->ctx = NULL;
		return ds_error_set(err, DS_ENOMEM, "cannot start a SHA-256 digest");
	}
	h->ctx = ctx;
	return 0;
}

void ds_sha256_update(ds_sha256 *h, const void *data, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->ctx, data, len);
}

void ds_sha256_final(ds_sha256 *h, char out[DS_DIGEST_BUFSZ])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[DS_DIGEST_LEN] = '\0';
	ds_sha256_release(h);
}

void ds_sha256_release(ds_sha256 *h)
{
	if (h && h->ctx) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

int ds_sha256_buf(const void *data, size_t len, char out[DS_DIGEST_BUFSZ], ds_error *err)
{
	ds_sha256 h;

	if (ds_sha256_init(&h, err) < 0)
		return -1;
	ds_sha256_update(&h, data, len);
	ds_sha256_final(&h, out);
	return 0;
}

int ds_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0)
		return 0;
	for (int i = 0; i < 64; i++) {
		char c = s[7 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return s[DS_DIGEST_LEN] == '\0';
}

const char *ds_digest_hex(const char *digest)
{
	return digest + 7;
}
