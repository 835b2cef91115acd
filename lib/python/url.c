/* Credentials in URLs: kept for use, redacted for logs and messages. */
#include <stdio.h>
#include <string.h>

#include <dsbuild/python.h>

#include "python/pyutil.h"
#include "util/util.h"

static int scheme_char(int c)
{
	return py_isalnum(c) || c == '+' || c == '-' || c == '.';
}

/* Where the authority that starts at s[a] ends. */
static size_t authority_end(const char *s, size_t a, size_t n)
{
	while (a < n) {
		unsigned char c = (unsigned char)s[a];
		if (c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' ||
		    c == '>' || c <= ' ' || c == 0x7f)
			break;
		a++;
	}
	return a;
}

static const char *find_at(const char *s, size_t a, size_t e)
{
	const char *at = NULL;

	for (size_t i = a; i < e; i++)
		if (s[i] == '@')
			at = s + i;
	return at;
}

int pyurl_redact_into(ds_buf *out, const char *s, size_t n)
{
	size_t i = 0, copied = 0;
	int rc = 0;

	while (i + 3 <= n) {
		size_t a, e;
		const char *at, *colon;

		if (!(s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') || i == 0 ||
		    !scheme_char((unsigned char)s[i - 1])) {
			i++;
			continue;
		}
		a = i + 3;
		e = authority_end(s, a, n);
		at = find_at(s, a, e);
		if (!at) {
			i = e > a ? e : a;
			continue;
		}
		rc |= ds_buf_add(out, s + copied, a - copied);
		colon = memchr(s + a, ':', (size_t)(at - (s + a)));
		if (colon) {
			rc |= ds_buf_add(out, s + a, (size_t)(colon - (s + a)));
			rc |= ds_buf_adds(out, ":****");
		} else {
			rc |= ds_buf_adds(out, "****");
		}
		copied = (size_t)(at - s); /* from '@' on */
		i = e;
	}
	rc |= ds_buf_add(out, s + copied, n - copied);
	return rc ? -1 : 0;
}

char *ds_pyurl_redact(const char *text)
{
	ds_buf b;
	char *r;

	ds_buf_init(&b, (size_t)-1);
	if (pyurl_redact_into(&b, text, strlen(text)) < 0)
		abort();
	r = ds_buf_detach(&b, NULL);
	if (!r)
		abort();
	return r;
}

static int hexval(int c)
{
	if (py_isdigit(c))
		return c - '0';
	c = py_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static char *percent_decode(const char *s, size_t n)
{
	char *o = ds_xmalloc(n + 1);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n &&
		    (h = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)s[i + 2])) >= 0) {
			o[k++] = (char)(h * 16 + l);
			i += 2;
			continue;
		}
		o[k++] = s[i];
	}
	o[k] = '\0';
	return o;
}

int ds_pyurl_split_auth(char **url_out, char **user, char **password, const char *url,
			ds_error *err)
{
	size_t n = strlen(url), i = 0, a, e;
	const char *at, *colon;
	char *u = NULL, *pw = NULL;

	while (i < n && scheme_char((unsigned char)url[i]))
		i++;
	/* Not echoed: a malformed URL may still hold a password. */
	if (i == 0 || n - i < 3 || memcmp(url + i, "://", 3) != 0)
		return ds_error_set(err, DS_EINVAL, "invalid URL: expected scheme://host/...");
	a = i + 3;
	e = authority_end(url, a, n);
	at = find_at(url, a, e);
	if (at) {
		colon = memchr(url + a, ':', (size_t)(at - (url + a)));
		if (colon) {
			u = percent_decode(url + a, (size_t)(colon - (url + a)));
			pw = percent_decode(colon + 1, (size_t)(at - colon - 1));
		} else {
			u = percent_decode(url + a, (size_t)(at - (url + a)));
		}
	}
	if (url_out)
		*url_out = at ? ds_xasprintf("%.*s%s", (int)a, url, at + 1) : ds_xstrdup(url);
	if (user)
		*user = u;
	else
		free(u);
	if (password)
		*password = pw;
	else
		free(pw);
	return 0;
}

const char *py_quote(char *buf, size_t size, const char *text, size_t n)
{
	ds_buf b;
	size_t o = 0;

	if (!size)
		return buf;
	ds_buf_init(&b, 0);
	if (n > 4096)
		n = 4096;
	if (pyurl_redact_into(&b, text, n) < 0) {
		ds_buf_release(&b);
		buf[0] = '\0';
		return buf;
	}
	for (size_t i = 0; i < b.len && o + 1 < size; i++) {
		unsigned char c = (unsigned char)b.data[i];
		buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (b.len > o && size >= 4) {
		o = size - 4;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	ds_buf_release(&b);
	return buf;
}
