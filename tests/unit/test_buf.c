/* lib/util/buf.c: the bounded buffer never passes its max, stays unchanged
 * when an add fails, is always NUL-terminated, and can be detached,
 * released and reused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/buf.h>

#include "testutil.h"

static void test_unused(void)
{
	ds_buf a = DS_BUF_INIT;
	ds_buf b;

	is_str(ds_buf_cstr(&a), "", "DS_BUF_INIT reads as \"\"");
	ds_buf_init(&b, 0);
	is_str(ds_buf_cstr(&b), "", "an initialised, unused buffer reads as \"\"");
	ok(b.data != NULL && b.data[0] == '\0', "data is never NULL after init");
	is_int(b.max, DS_BUF_DEFAULT_MAX, "max 0 means the default max");
	ds_buf_reset(&b);
	is_str(ds_buf_cstr(&b), "", "reset of an unused buffer is harmless");
	ds_buf_release(&b);
	ds_buf_release(&a);

	ok(ds_buf_adds(&a, "hello") == 0, "DS_BUF_INIT buffer accepts adds");
	is_str(ds_buf_cstr(&a), "hello", "and holds them");
	is_int(a.max, DS_BUF_DEFAULT_MAX, "with the default max");
	ds_buf_release(&a);
}

static void test_bounds(void)
{
	ds_buf b;

	ds_buf_init(&b, 10);
	ok(ds_buf_add(&b, "0123456789", 10) == 0, "exactly max bytes fit");
	is_int(b.len, 10, "len is 10");
	ok(b.data[10] == '\0', "NUL after the last byte");
	ok(ds_buf_addch(&b, 'x') == -1, "one byte past max fails");
	ok(ds_buf_add(&b, "", 0) == 0, "adding nothing at max is fine");
	ok(ds_buf_adds(&b, "abc") == -1, "a string past max fails");
	ok(ds_buf_addf(&b, "%d", 7) == -1, "addf past max fails");
	is_int(b.len, 10, "failed adds leave len unchanged");
	is_str(ds_buf_cstr(&b), "0123456789", "failed adds leave the content unchanged");
	ds_buf_release(&b);

	ds_buf_init(&b, 10);
	ok(ds_buf_adds(&b, "abcd") == 0, "a short add");
	ok(ds_buf_addf(&b, "%s-%d", "xyz", 12345) == -1, "addf that would end past max fails");
	is_str(ds_buf_cstr(&b), "abcd", "the buffer is unchanged after the failed addf");
	ok(ds_buf_addf(&b, "%s%d", "xy", 1234) == 0, "addf ending exactly at max works");
	is_str(ds_buf_cstr(&b), "abcdxy1234", "and wrote all of it");
	ds_buf_release(&b);

	ds_buf_init(&b, 1);
	ok(ds_buf_add(&b, "ab", 2) == -1, "max 1 refuses 2 bytes");
	ok(ds_buf_addch(&b, 'a') == 0, "max 1 takes 1 byte");
	ds_buf_release(&b);

	/* A max near SIZE_MAX must not let len + extra wrap around. */
	ds_buf_init(&b, SIZE_MAX);
	ok(ds_buf_adds(&b, "abc") == 0, "an 'unbounded' buffer takes a small add");
	ok(ds_buf_add(&b, "x", SIZE_MAX) == -1, "adding SIZE_MAX bytes fails cleanly");
	ok(ds_buf_add(&b, "x", SIZE_MAX - 3) == -1, "adding SIZE_MAX - len bytes fails cleanly");
	ok(ds_buf_add(&b, "x", SIZE_MAX / 2 + 1) == -1, "adding half the address space fails");
	is_str(ds_buf_cstr(&b), "abc", "the buffer is unchanged after those");
	ds_buf_release(&b);
}

static void test_growth(void)
{
	ds_buf b;
	char big[5000];
	int good = 1;

	memset(big, 'q', sizeof(big));
	ds_buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		if (ds_buf_addf(&b, "%04d,", i) < 0)
			good = 0;
	ok(good, "1000 addf calls succeed");
	is_int(b.len, 5000, "5000 bytes written");
	ok(!strncmp(b.data, "0000,0001,", 10) && !strcmp(b.data + 4990, "0998,0999,"),
	   "content is right across reallocations");
	ok(b.alloc > b.len, "room for the NUL");
	ds_buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	is_str(ds_buf_cstr(&b), "", "reset NUL-terminates");
	ok(ds_buf_add(&b, big, sizeof(big)) == 0 && b.len == sizeof(big) && b.data[b.len] == '\0',
	   "a 5000-byte add after reset, NUL-terminated");
	ok(ds_buf_add(&b, "a\0b", 3) == 0 && b.len == sizeof(big) + 3 &&
		   !memcmp(b.data + sizeof(big), "a\0b", 4),
	   "embedded NUL bytes are kept, and a NUL follows");
	/* a formatted string longer than the initial allocation */
	ds_buf_reset(&b);
	ok(ds_buf_addf(&b, "%.*s!", 3000, big) == 0 && b.len == 3001 && b.data[3000] == '!' &&
		   b.data[3001] == '\0',
	   "a long addf into a small buffer");
	ds_buf_release(&b);
}

static char filler[256];

static void test_detach_release(void)
{
	ds_buf b;
	size_t len = 99;
	char *p;

	ds_buf_init(&b, 100);
	ds_buf_adds(&b, "detach me");
	p = ds_buf_detach(&b, &len);
	is_str(p, "detach me", "detach returns the contents");
	is_int(len, 9, "and their length");
	free(p);
	is_int(b.len, 0, "the buffer is empty after detach");
	is_str(ds_buf_cstr(&b), "", "and reads as \"\"");
	ok(ds_buf_adds(&b, "again") == 0, "and can be reused");
	is_str(ds_buf_cstr(&b), "again", "with the new contents");
	is_int(b.max, 100, "and keeps its max");
	ok(ds_buf_add(&b, filler, 200) == -1, "the max still applies after detach");
	ds_buf_release(&b);

	ds_buf_init(&b, 0);
	len = 99;
	p = ds_buf_detach(&b, &len);
	ok(p != NULL && p[0] == '\0', "detach of an unused buffer returns a malloc'd \"\"");
	is_int(len, 0, "of length 0");
	free(p);
	p = ds_buf_detach(&b, NULL);
	ok(p != NULL, "detach with a NULL length pointer");
	free(p);

	ds_buf_init(&b, 50);
	ds_buf_adds(&b, "one");
	ds_buf_release(&b);
	is_int(b.len, 0, "release empties");
	is_str(ds_buf_cstr(&b), "", "release leaves a readable empty buffer");
	ds_buf_release(&b);
	ok(1, "a second release is harmless");
	ds_buf_init(&b, 50);
	ok(ds_buf_adds(&b, "two") == 0, "init after release makes it usable again");
	is_str(ds_buf_cstr(&b), "two", "with fresh contents");
	ds_buf_release(&b);
}

int main(void)
{
	test_unused();
	test_bounds();
	test_growth();
	test_detach_release();
	return done_testing();
}
