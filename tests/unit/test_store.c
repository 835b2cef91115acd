/* lib/oci/store.c: put/has/read/verify/copy, corruption and truncation are
 * caught with DS_EFORMAT, and a blob writer that fails or is aborted leaves
 * nothing behind, neither a blob nor a temp file. */
#include <dsbuild/digest.h>
#include <dsbuild/error.h>
#include <dsbuild/store.h>

#include "testutil.h"

#define HELLO_DIGEST "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define EMPTY_DIGEST "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char *root;

static char *blob_file(const char *r, const char *digest)
{
	return tu_fmt("%s/blobs/sha256/%s", r, digest + 7);
}

static void test_open(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_store *s = NULL;
	char *p = tu_fmt("%s/nope", root);
	struct stat st;

	ok(ds_store_open(&s, p, 0, &err) == -1 && s == NULL, "opening a missing store fails");
	is_int(err.code, DS_ENOENT, "with DS_ENOENT");
	has_str(err.msg, "has no blobs/sha256 directory", "saying what is missing: %s", err.msg);
	free(p);

	p = tu_fmt("%s/a/b/store", root);
	ok_err(ds_store_open(&s, p, 1, &err) == 0, &err, "create makes the store and its parents");
	is_str(ds_store_root(s), p, "root is as given");
	ds_store_free(s);
	{
		char *b = tu_fmt("%s/blobs/sha256", p), *t = tu_fmt("%s/tmp", p);
		ok(stat(b, &st) == 0 && S_ISDIR(st.st_mode), "blobs/sha256 exists");
		ok(stat(t, &st) == 0 && S_ISDIR(st.st_mode), "tmp exists");
		free(b);
		free(t);
	}
	ok_err(ds_store_open(&s, p, 0, &err) == 0, &err, "an existing store opens without create");
	ds_store_free(s);
	ok_err(ds_store_open(&s, p, 1, &err) == 0, &err, "and with create");
	ds_store_free(s);
	ok(ds_store_free(NULL) == NULL, "ds_store_free(NULL)");
	free(p);

	p = tu_fmt("%s/file", root);
	tu_writes(p, "x");
	ok(ds_store_open(&s, p, 1, &err) == -1, "a file where the store should be fails");
	free(p);
}

static void test_put_read(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_store *s;
	char d[DS_DIGEST_BUFSZ], d2[DS_DIGEST_BUFSZ];
	ds_buf b = DS_BUF_INIT;
	char *tmp = tu_fmt("%s/s1/tmp", root);
	char *r = tu_fmt("%s/s1", root);
	struct stat st;

	ds_store_open(&s, r, 1, &err);
	ok(!ds_store_has(s, HELLO_DIGEST), "an empty store has no blob");
	ok(!ds_store_has(s, "sha256:nothex"), "ds_store_has of an invalid digest is 0");
	ok(!ds_store_has(s, "sha256:../../etc/passwd"), "and of a path");
	ok_err(ds_store_put(s, "hello", 5, d, &err) == 0, &err, "put");
	is_str(d, HELLO_DIGEST, "put gives the sha256 of the content");
	ok(ds_store_has(s, d), "the store has it");
	{
		char *f = blob_file(r, d);
		ok(stat(f, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 5,
		   "it is a 5-byte file under blobs/sha256/<hex>");
		is_int(st.st_mode & 07777, 0644, "readable by everyone (0644)");
		free(f);
	}
	ok_err(ds_store_put(s, "hello", 5, d2, &err) == 0, &err, "putting it again");
	is_str(d2, HELLO_DIGEST, "gives the same digest");
	is_int(tu_count_entries(tmp), 0, "no temp file left in ROOT/tmp");
	{
		char *bl = tu_fmt("%s/blobs/sha256", r);
		is_int(tu_count_entries(bl), 1, "one blob in the store");
		free(bl);
	}
	ok_err(ds_store_put(s, "", 0, d, &err) == 0, &err, "put of zero bytes");
	is_str(d, EMPTY_DIGEST, "is the empty digest");

	ok_err(ds_store_read_blob(s, HELLO_DIGEST, 100, &b, &err) == 0, &err, "read_blob");
	is_int(b.len, 5, "reads 5 bytes");
	is_str(ds_buf_cstr(&b), "hello", "the content");
	ds_buf_release(&b);
	ok_err(ds_store_read_blob(s, HELLO_DIGEST, 5, &b, &err) == 0, &err,
	       "read_blob with max == size");
	ds_buf_release(&b);
	ds_buf_init(&b, 0);
	ds_buf_adds(&b, "untouched");
	ok(ds_store_read_blob(s, HELLO_DIGEST, 4, &b, &err) == -1, "read_blob over max fails");
	is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
	has_str(err.msg, "over the limit", "saying so: %s", err.msg);
	is_str(ds_buf_cstr(&b), "untouched", "the output buffer is untouched on failure");
	ok(ds_store_read_blob(s, "sha256:abc", 100, &b, &err) == -1 && err.code == DS_EFORMAT,
	   "read_blob of an invalid digest is DS_EFORMAT");
	ok(ds_store_read_blob(s, "sha256:" "0000000000000000000000000000000000000000000000000000000000000000",
			      100, &b, &err) == -1,
	   "read_blob of a missing blob fails");
	is_int(err.code, DS_ENOENT, "with DS_ENOENT");
	has_str(err.msg, "is missing from", "naming the blob and store: %s", err.msg);
	is_str(ds_buf_cstr(&b), "untouched", "output still untouched");
	ds_buf_release(&b);

	ok_err(ds_store_verify_blob(s, HELLO_DIGEST, 5, &err) == 0, &err, "verify with the size");
	ok_err(ds_store_verify_blob(s, HELLO_DIGEST, UINT64_MAX, &err) == 0, &err,
	       "verify without the size");
	ok(ds_store_verify_blob(s, HELLO_DIGEST, 6, &err) == -1, "verify with a wrong size fails");
	is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
	has_str(err.msg, "the manifest says 6", "saying both sizes: %s", err.msg);

	{
		ds_buf p = DS_BUF_INIT;
		char *want = blob_file(r, HELLO_DIGEST);
		ok(ds_store_blob_path(s, HELLO_DIGEST, &p, &err) == 0, "blob_path");
		is_str(ds_buf_cstr(&p), want, "is ROOT/blobs/sha256/<hex>");
		ds_buf_release(&p);
		ok(ds_store_blob_path(s, "sha256:../x", &p, &err) == -1 && err.code == DS_EFORMAT,
		   "blob_path of an invalid digest fails");
		free(want);
	}
	{
		int fd = -1;
		uint64_t size = 0;
		char buf[8] = { 0 };
		ok(ds_store_open_blob(s, HELLO_DIGEST, &fd, &size, &err) == 0 && fd >= 0,
		   "open_blob");
		is_int(size, 5, "with its size");
		ok(read(fd, buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5), "readable");
		close(fd);
	}
	ds_store_free(s);
	free(tmp);
	free(r);
}

static void test_corrupt(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_store *s;
	char d[DS_DIGEST_BUFSZ];
	ds_buf b = DS_BUF_INIT;
	char *r = tu_fmt("%s/s2", root);
	char *f;
	char *data;
	size_t n;

	ds_store_open(&s, r, 1, &err);
	ds_store_put(s, "some content of a blob", 22, d, &err);
	f = blob_file(r, d);

	/* flip one byte */
	data = tu_read(f, &n);
	data[10] ^= 0x01;
	tu_write(f, data, n);
	free(data);
	ok(ds_store_has(s, d), "a corrupt blob is still 'present' (has does not hash)");
	ok(ds_store_read_blob(s, d, 1000, &b, &err) == -1, "reading a blob with a flipped byte fails");
	is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
	has_str(err.msg, "is corrupt", "saying it is corrupt: %s", err.msg);
	has_str(err.msg, d, "naming the digest");
	ok(b.len == 0, "nothing was returned");
	ok(ds_store_verify_blob(s, d, 22, &err) == -1, "verify of the flipped blob fails");
	is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
	has_str(err.msg, "hashes to sha256:", "saying what it hashes to: %s", err.msg);

	/* truncate it */
	tu_write(f, "some content", 12);
	ok(ds_store_read_blob(s, d, 1000, &b, &err) == -1 && err.code == DS_EFORMAT,
	   "reading a truncated blob fails with DS_EFORMAT");
	ok(ds_store_verify_blob(s, d, 22, &err) == -1 && err.code == DS_EFORMAT,
	   "verify of a truncated blob against its size fails with DS_EFORMAT");
	has_str(err.msg, "is 12 bytes", "naming the size: %s", err.msg);
	ok(ds_store_verify_blob(s, d, UINT64_MAX, &err) == -1 && err.code == DS_EFORMAT,
	   "verify of a truncated blob without a size fails on its hash");
	tu_write(f, "", 0);
	ok(ds_store_read_blob(s, d, 1000, &b, &err) == -1 && err.code == DS_EFORMAT,
	   "an emptied blob fails with DS_EFORMAT");

	/* a symlink or a folder in place of a blob */
	unlink(f);
	if (symlink("/etc/hostname", f) == 0) {
		ok(ds_store_read_blob(s, d, 1000, &b, &err) == -1,
		   "a symlink in place of a blob is not followed");
		unlink(f);
	}
	mkdir(f, 0755);
	ok(ds_store_read_blob(s, d, 1000, &b, &err) == -1, "a folder in place of a blob fails");
	ok(!ds_store_has(s, d), "and does not count as present");
	rmdir(f);
	ds_buf_release(&b);
	free(f);
	ds_store_free(s);
	free(r);
}

static void test_copy(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_store *a, *b;
	char d[DS_DIGEST_BUFSZ], bad[DS_DIGEST_BUFSZ];
	ds_buf out = DS_BUF_INIT;
	char *ra = tu_fmt("%s/ca", root), *rb = tu_fmt("%s/cb", root);
	char *btmp = tu_fmt("%s/cb/tmp", root);
	char *big = malloc(300000);

	for (int i = 0; i < 300000; i++)
		big[i] = (char)(i * 7 + i / 1000);
	ds_store_open(&a, ra, 1, &err);
	ds_store_open(&b, rb, 1, &err);
	ds_store_put(a, big, 300000, d, &err);
	ok_err(ds_store_copy_blob(b, a, d, &err) == 0, &err, "copy a 300 kB blob");
	ok(ds_store_has(b, d), "the destination has it");
	ok_err(ds_store_read_blob(b, d, 400000, &out, &err) == 0, &err, "it reads back");
	ok(out.len == 300000 && !memcmp(out.data, big, 300000), "byte for byte");
	ds_buf_release(&out);
	ok_err(ds_store_copy_blob(b, a, d, &err) == 0, &err, "copying it again is a no-op");

	ok(ds_store_copy_blob(b, a, EMPTY_DIGEST, &err) == -1, "copying a missing blob fails");
	is_int(err.code, DS_ENOENT, "with DS_ENOENT");

	ds_store_put(a, "to be corrupted", 15, bad, &err);
	{
		char *f = blob_file(ra, bad);
		tu_writes(f, "to be CORRUPTED");
		free(f);
	}
	ok(ds_store_copy_blob(b, a, bad, &err) == -1, "copying a corrupt blob fails");
	is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
	has_str(err.msg, ra, "naming the source store: %s", err.msg);
	ok(!ds_store_has(b, bad), "the corrupt blob did not reach the destination");
	is_int(tu_count_entries(btmp), 0, "and left no temp file");
	ds_store_free(a);
	ds_store_free(b);
	free(big);
	free(ra);
	free(rb);
	free(btmp);
}

static void test_writer(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_store *s;
	ds_blob_writer *w = NULL;
	char d[DS_DIGEST_BUFSZ];
	uint64_t size = 0;
	char *r = tu_fmt("%s/w", root);
	char *tmp = tu_fmt("%s/w/tmp", root);
	char *blobs = tu_fmt("%s/w/blobs/sha256", root);

	ds_store_open(&s, r, 1, &err);
	ok_err(ds_blob_writer_new(&w, s, &err) == 0, &err, "new writer");
	is_int(tu_count_entries(tmp), 1, "it has a temp file in ROOT/tmp");
	ds_blob_writer_write(w, "hel", 3, &err);
	ds_blob_writer_write(w, "", 0, &err);
	ds_blob_writer_write(w, "lo", 2, &err);
	ok_err(ds_blob_writer_commit(w, NULL, d, &size, &err) == 0, &err, "commit");
	is_str(d, HELLO_DIGEST, "the digest of what was written");
	is_int(size, 5, "and its size");
	ok(ds_store_has(s, HELLO_DIGEST), "published");
	is_int(tu_count_entries(tmp), 0, "temp file gone");

	ds_blob_writer_new(&w, s, &err);
	ds_blob_writer_write(w, "hello", 5, &err);
	ok_err(ds_blob_writer_commit(w, HELLO_DIGEST, NULL, NULL, &err) == 0, &err,
	       "commit with the right expected digest and NULL outputs");

	ds_blob_writer_new(&w, s, &err);
	ds_blob_writer_write(w, "other", 5, &err);
	ok(ds_blob_writer_commit(w, EMPTY_DIGEST, d, &size, &err) == -1,
	   "commit with a wrong expected digest fails");
	is_int(err.code, DS_EFORMAT, "with DS_EFORMAT");
	has_str(err.msg, "digest mismatch", "saying so: %s", err.msg);
	has_str(err.msg, EMPTY_DIGEST, "naming the expected digest");
	is_str(d, HELLO_DIGEST, "digest_out untouched on failure");
	ok(!ds_store_has(s, EMPTY_DIGEST), "nothing published under the expected digest");
	{
		char actual[DS_DIGEST_BUFSZ];
		ds_sha256_buf("other", 5, actual, &err);
		ok(!ds_store_has(s, actual), "nor under the actual one");
	}
	is_int(tu_count_entries(tmp), 0, "no temp file left in ROOT/tmp");
	is_int(tu_count_entries(blobs), 1, "still one blob");

	ds_blob_writer_new(&w, s, &err);
	ds_blob_writer_write(w, "abandoned", 9, &err);
	ds_blob_writer_abort(w);
	is_int(tu_count_entries(tmp), 0, "abort leaves no temp file");
	is_int(tu_count_entries(blobs), 1, "and publishes nothing");
	ds_blob_writer_new(&w, s, &err);
	ds_blob_writer_abort(w);
	ds_blob_writer_abort(NULL);
	ok(1, "abort of an empty writer and of NULL");

	/* a layout written by another tool has no tmp/ */
	rmdir(tmp);
	w = NULL;
	ok_err(ds_blob_writer_new(&w, s, &err) == 0 && w, &err,
	       "a writer recreates a missing ROOT/tmp");
	if (w) {
		ds_blob_writer_write(w, "x", 1, &err);
		ok_err(ds_blob_writer_commit(w, NULL, d, NULL, &err) == 0, &err, "and commits");
	}
	is_int(tu_count_entries(tmp), 0, "and leaves ROOT/tmp empty");
	ds_store_free(s);
	free(r);
	free(tmp);
	free(blobs);
}

static void test_default_path(void)
{
	ds_error err = DS_ERROR_INIT;
	ds_buf b = DS_BUF_INIT;

	setenv("DSBUILD_CACHE", "/x/cache", 1);
	setenv("XDG_CACHE_HOME", "/x/xdg", 1);
	setenv("HOME", "/x/home", 1);
	ok(ds_store_default_path(&b, &err) == 0, "default path");
	is_str(ds_buf_cstr(&b), "/x/cache", "DSBUILD_CACHE first");
	ds_buf_release(&b);
	setenv("DSBUILD_CACHE", "", 1);
	ds_store_default_path(&b, &err);
	is_str(ds_buf_cstr(&b), "/x/xdg/dsbuild", "then XDG_CACHE_HOME/dsbuild (empty counts as unset)");
	ds_buf_release(&b);
	unsetenv("XDG_CACHE_HOME");
	ds_store_default_path(&b, &err);
	is_str(ds_buf_cstr(&b), "/x/home/.cache/dsbuild", "then ~/.cache/dsbuild");
	ds_buf_release(&b);
	unsetenv("HOME");
	unsetenv("DSBUILD_CACHE");
	ok(ds_store_default_path(&b, &err) == -1, "nothing set fails");
	is_int(err.code, DS_EINVAL, "with DS_EINVAL");
	has_str(err.hint, "DSBUILD_CACHE", "the hint names DSBUILD_CACHE: %s", err.hint);
	ds_buf_release(&b);
}

int main(void)
{
	root = tu_tmpdir("store");
	test_open();
	test_put_read();
	test_corrupt();
	test_copy();
	test_writer();
	test_default_path();
	tu_rm_rf(root);
	free(root);
	return done_testing();
}
