/* lib/util/digest.c: SHA-256 against the FIPS 180-2 vectors, streaming in
 * pieces, and the strictness of ds_digest_valid(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/digest.h>

#include "testutil.h"

static const struct {
	const char *in;
	const char *hex;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
	  "lmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

static void test_vectors(void)
{
	ds_error err = DS_ERROR_INIT;
	char out[DS_DIGEST_BUFSZ], want[DS_DIGEST_BUFSZ];

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		snprintf(want, sizeof(want), "sha256:%s", vectors[i].hex);
		memset(out, 'X', sizeof(out));
		ok(ds_sha256_buf(vectors[i].in, strlen(vectors[i].in), out, &err) == 0,
		   "one-shot digest %zu", i);
		is_str(out, want, "vector %zu (\"%.10s...\")", i, vectors[i].in);
		is_int(strlen(out), DS_DIGEST_LEN, "digest %zu is %d characters", i, DS_DIGEST_LEN);
		ok(ds_digest_valid(out), "and passes ds_digest_valid");
		is_str(ds_digest_hex(out), vectors[i].hex, "ds_digest_hex gives the hex part");
	}
}

static void test_streaming(void)
{
	ds_error err = DS_ERROR_INIT;
	char out[DS_DIGEST_BUFSZ], one[DS_DIGEST_BUFSZ];
	size_t n = 1000000;
	char *a = malloc(n);
	ds_sha256 h;

	memset(a, 'a', n);
	/* one million 'a', FIPS 180-2 */
	ok(ds_sha256_init(&h, &err) == 0, "init");
	for (size_t off = 0, step = 1; off < n; off += step, step = step * 3 % 9973 + 1)
		ds_sha256_update(&h, a + off, off + step > n ? n - off : step);
	ds_sha256_final(&h, out);
	is_str(out, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "a million 'a' fed in uneven pieces");
	ok(h.ctx == NULL, "final releases the context");
	ds_sha256_release(&h);
	ok(1, "release after final is harmless");
	ds_sha256_buf(a, n, one, &err);
	is_str(one, out, "one-shot equals streaming");

	ok(ds_sha256_init(&h, &err) == 0, "init again");
	ds_sha256_update(&h, "ab", 2);
	ds_sha256_update(&h, "", 0);
	ds_sha256_update(&h, "c", 1);
	ds_sha256_final(&h, out);
	is_str(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "empty updates change nothing");

	ok(ds_sha256_init(&h, &err) == 0, "init to abandon");
	ds_sha256_update(&h, "x", 1);
	ds_sha256_release(&h);
	ds_sha256_release(&h);
	ds_sha256_release(NULL);
	ok(1, "release without final, twice, and of NULL");
	free(a);
}

static void test_valid(void)
{
	const char *hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char s[200];

	snprintf(s, sizeof(s), "sha256:%s", hex);
	ok(ds_digest_valid(s), "a well-formed digest");
	ok(!ds_digest_valid(NULL), "NULL");
	ok(!ds_digest_valid(""), "empty string");
	ok(!ds_digest_valid("sha256:"), "no hex");
	ok(!ds_digest_valid(hex), "hex without the algorithm");
	snprintf(s, sizeof(s), "sha256:%.63s", hex);
	ok(!ds_digest_valid(s), "63 hex digits");
	snprintf(s, sizeof(s), "sha256:%s0", hex);
	ok(!ds_digest_valid(s), "65 hex digits");
	snprintf(s, sizeof(s), "sha256:%s\n", hex);
	ok(!ds_digest_valid(s), "a trailing newline");
	snprintf(s, sizeof(s), " sha256:%s", hex);
	ok(!ds_digest_valid(s), "a leading space");
	snprintf(s, sizeof(s), "SHA256:%s", hex);
	ok(!ds_digest_valid(s), "upper-case algorithm");
	snprintf(s, sizeof(s), "sha256:%s", hex);
	s[7] = 'E';
	ok(!ds_digest_valid(s), "upper-case hex");
	s[7] = 'g';
	ok(!ds_digest_valid(s), "a non-hex letter");
	s[7] = '/';
	ok(!ds_digest_valid(s), "a slash (path traversal)");
	snprintf(s, sizeof(s), "sha256:%s", hex);
	s[70] = '.';
	ok(!ds_digest_valid(s), "a dot as the last digit");
	snprintf(s, sizeof(s), "sha512:%s%s", hex, hex);
	ok(!ds_digest_valid(s), "sha512 is not a sha256 digest");
	snprintf(s, sizeof(s), "sha256:%.30s", hex);
	ok(!ds_digest_valid(s), "a short digest ending early is not read past its end");
	snprintf(s, sizeof(s), "sha256+b64:%s", hex);
	ok(!ds_digest_valid(s), "an algorithm with a suffix");
	{
		/* exactly 71 bytes, no NUL after: valid_digest must stop at 71 */
		char *p = malloc(DS_DIGEST_BUFSZ);
		snprintf(p, DS_DIGEST_BUFSZ, "sha256:%s", hex);
		ok(ds_digest_valid(p), "a digest at the end of a heap block");
		free(p);
	}
}

int main(void)
{
	test_vectors();
	test_streaming();
	test_valid();
	return done_testing();
}
