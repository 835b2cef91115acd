/* Internal helpers shared by the Python packaging modules. */
#ifndef DS_PYTHON_PYUTIL_H
#define DS_PYTHON_PYUTIL_H

#include <stddef.h>

#include <dsbuild/python.h>

static inline int py_isdigit(int c)
{
	return c >= '0' && c <= '9';
}
static inline int py_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline int py_isalnum(int c)
{
	return py_isdigit(c) || py_isalpha(c);
}
static inline int py_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}
/* Python's str.strip() whitespace, ASCII part. */
static inline int py_isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
/* PEP 508 wsp: space and tab only. */
static inline int py_iswsp(int c)
{
	return c == ' ' || c == '\t';
}

/* Parses exactly s[0..n) as a version (surrounding whitespace allowed). */
int pyver_parse_n(ds_pyver *out, const char *s, size_t n, ds_error *err);
/* 1 when s[0..n) is "v?(N!)?N(.N)*" (the part of "==X.*" before ".*"). */
int pyver_is_plain_release(const char *s, size_t n);

/* Length of the PEP 508 identifier at s (letters/digits with -_. inside,
 * ending on a letter or digit), 0 when none starts there. */
size_t pyname_span(const char *s);

/* Parses a marker from s[0..n) (the text after ';'). */
int pymarker_parse_n(ds_pymarker **out, const char *s, size_t n, ds_error *err);

/* Appends to out the copy of s[0..n) with credentials redacted. */
int pyurl_redact_into(ds_buf *out, const char *s, size_t n);

/* Shortens text for an error message (redacted, at most ~200 bytes) into
 * buf; returns buf. */
const char *py_quote(char *buf, size_t size, const char *text, size_t n);

#endif
