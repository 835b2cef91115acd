/* dpkg's version syntax and ordering (lib/dpkg/version.c, parsehelp.c):
 * [epoch:]upstream[-revision]; letters sort before non-letters, '~' before
 * everything including the end of the string, digit runs numerically. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>

#include <dsbuild/debian.h>

#include "debian/depends.h"
#include "util/util.h"

typedef struct {
	const char *p, *end;
} span;

typedef struct {
	unsigned long epoch;
	span upstream, revision;
} version_parts;

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Splits v without validating it (as dpkg does when comparing). */
static void split(version_parts *out, const char *v)
{
	const char *colon, *hyphen, *end;

	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	out->epoch = 0;
	colon = memchr(v, ':', (size_t)(end - v));
	if (colon) {
		unsigned long e = 0;
		for (const char *q = v; q < colon; q++) {
			if (!is_digit(*q))
				break;
			if (e < (unsigned long)INT_MAX)
				e = e * 10 + (unsigned long)(*q - '0');
		}
		out->epoch = e;
		v = colon + 1;
	}
	hyphen = NULL;
	for (const char *q = end; q > v; q--) {
		if (q[-1] == '-') {
			hyphen = q - 1;
			break;
		}
	}
	out->upstream.p = v;
	out->upstream.end = hyphen ? hyphen : end;
	out->revision.p = hyphen ? hyphen + 1 : end;
	out->revision.end = end;
}

static int at(const char *p, const char *end)
{
	return p < end ? (unsigned char)*p : 0;
}

static int order(int c)
{
	if (is_digit(c))
		return 0;
	if (is_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int verrevcmp(span a, span b)
{
	const char *ap = a.p, *bp = b.p;

	while (ap < a.end || bp < b.end) {
		int first_diff = 0;

		while ((ap < a.end && !is_digit(*ap)) || (bp < b.end && !is_digit(*bp))) {
			int ac = order(at(ap, a.end));
			int bc = order(at(bp, b.end));
			if (ac != bc)
				return ac - bc;
			ap++;
			bp++;
		}
		while (at(ap, a.end) == '0')
			ap++;
		while (at(bp, b.end) == '0')
			bp++;
		while (is_digit(at(ap, a.end)) && is_digit(at(bp, b.end))) {
			if (!first_diff)
				first_diff = *ap - *bp;
			ap++;
			bp++;
		}
		if (is_digit(at(ap, a.end)))
			return 1;
		if (is_digit(at(bp, b.end)))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

int ds_debian_version_compare(const char *a, const char *b)
{
	version_parts va, vb;
	int r;

	split(&va, a);
	split(&vb, b);
	if (va.epoch != vb.epoch)
		return va.epoch < vb.epoch ? -1 : 1;
	r = verrevcmp(va.upstream, vb.upstream);
	if (r)
		return r;
	return verrevcmp(va.revision, vb.revision);
}

int ds_debian_version_valid(const char *v)
{
	const char *colon, *hyphen = NULL, *end;
	size_t len = strlen(v);

	if (len == 0 || len > DEB_VERSION_MAX)
		return 0;
	for (const char *q = v; *q; q++)
		if (isspace((unsigned char)*q))
			return 0;
	end = v + len;
	colon = strchr(v, ':');
	if (colon) {
		unsigned long e = 0;
		if (colon == v)
			return 0;
		for (const char *q = v; q < colon; q++) {
			if (!is_digit(*q))
				return 0;
			e = e * 10 + (unsigned long)(*q - '0');
			if (e > (unsigned long)INT_MAX)
				return 0;
		}
		v = colon + 1;
	}
	for (const char *q = end; q > v; q--) {
		if (q[-1] == '-') {
			hyphen = q - 1;
			break;
		}
	}
	if (hyphen == v || v == end)
		return 0;
	if (hyphen && hyphen + 1 == end)
		return 0;
	if (!is_digit(*v))
		return 0;
	for (const char *q = v; q < (hyphen ? hyphen : end); q++) {
		if (!is_digit(*q) && !is_alpha(*q) && !strchr(".-+~:", *q))
			return 0;
		if (*q == ':' && !colon)
			return 0;
	}
	if (hyphen) {
		for (const char *q = hyphen + 1; q < end; q++)
			if (!is_digit(*q) && !is_alpha(*q) && !strchr(".+~", *q))
				return 0;
	}
	return 1;
}
