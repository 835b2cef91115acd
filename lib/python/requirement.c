/* PEP 503 names and PEP 508 dependency specifiers. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <dsbuild/python.h>

#include "python/pyutil.h"
#include "util/util.h"

/* ---- names --------------------------------------------------------------------- */

static int name_sep(int c)
{
	return c == '-' || c == '_' || c == '.';
}

size_t pyname_span(const char *s)
{
	size_t i, end;

	if (!py_isalnum((unsigned char)s[0]))
		return 0;
	end = 1;
	for (i = 1; py_isalnum((unsigned char)s[i]) || name_sep(s[i]); i++)
		if (py_isalnum((unsigned char)s[i]))
			end = i + 1;
	return end;
}

int ds_pyname_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= DS_PYNAME_MAX && pyname_span(name) == n;
}

static char *normalize(const char *name)
{
	char *out = ds_xmalloc(strlen(name) + 1);
	size_t o = 0;

	for (const char *p = name; *p;) {
		if (name_sep(*p)) {
			while (name_sep(*p))
				p++;
			out[o++] = '-';
			continue;
		}
		out[o++] = (char)py_lower((unsigned char)*p++);
	}
	out[o] = '\0';
	return out;
}

int ds_pyname_normalize(char **out, const char *name, ds_error *err)
{
	if (!ds_pyname_valid(name)) {
		char shown[96];
		py_quote(shown, sizeof(shown), name, strlen(name));
		return ds_error_set(err, DS_EINVAL,
				    "invalid project name '%s': letters, digits and '-', '_', '.' "
				    "inside only",
				    shown);
	}
	*out = normalize(name);
	return 0;
}

int ds_pyname_equal(const char *a, const char *b)
{
	for (;;) {
		if (name_sep(*a) && name_sep(*b)) {
			while (name_sep(*a))
				a++;
			while (name_sep(*b))
				b++;
			continue;
		}
		if (py_lower((unsigned char)*a) != py_lower((unsigned char)*b))
			return 0;
		if (!*a)
			return 1;
		a++;
		b++;
	}
}

/* ---- requirements ------------------------------------------------------------------ */

ds_pyreq *ds_pyreq_free(ds_pyreq *r)
{
	if (!r)
		return NULL;
	free(r->name);
	free(r->key);
	for (size_t i = 0; i < r->n_extras; i++)
		free(r->extras[i]);
	free(r->extras);
	ds_pyspecset_release(&r->specs);
	free(r->url);
	ds_pymarker_free(r->marker);
	free(r);
	return NULL;
}

typedef struct rq_parser {
	const char *s;
	size_t n, i;
	ds_error *err;
} rq_parser;

static void rq_ws(rq_parser *p)
{
	while (p->i < p->n && py_iswsp((unsigned char)p->s[p->i]))
		p->i++;
}

static int rq_fail(rq_parser *p, const char *what)
{
	char shown[240], at[64];

	py_quote(shown, sizeof(shown), p->s, p->n);
	if (p->i >= p->n)
		return ds_error_set(p->err, DS_EINVAL, "invalid requirement '%s': %s", shown, what);
	py_quote(at, sizeof(at), p->s + p->i, p->n - p->i);
	return ds_error_set(p->err, DS_EINVAL, "invalid requirement '%s': %s, got '%s'", shown,
			    what, at);
}

static int extra_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds a normalised extra, keeping the list sorted and unique. */
static int add_extra(ds_pyreq *r, const char *s, size_t n, rq_parser *p)
{
	char *raw = ds_xstrndup(s, n), *e = normalize(raw);

	free(raw);
	for (size_t i = 0; i < r->n_extras; i++)
		if (strcmp(r->extras[i], e) == 0) {
			free(e);
			return 0;
		}
	if (r->n_extras == DS_PYREQ_EXTRAS_MAX) {
		free(e);
		return rq_fail(p, "too many extras");
	}
	r->extras = ds_xrealloc(r->extras, (r->n_extras + 1) * sizeof(*r->extras));
	r->extras[r->n_extras++] = e;
	qsort(r->extras, r->n_extras, sizeof(*r->extras), extra_cmp);
	return 0;
}

static int parse_extras(rq_parser *p, ds_pyreq *r)
{
	size_t l;

	p->i++; /* '[' */
	rq_ws(p);
	if ((l = pyname_span(p->s + p->i)) && p->i + l <= p->n) {
		for (;;) {
			if (l > DS_PYNAME_MAX)
				return rq_fail(p, "extra name too long");
			if (add_extra(r, p->s + p->i, l, p) < 0)
				return -1;
			p->i += l;
			rq_ws(p);
			if (p->i < p->n && pyname_span(p->s + p->i))
				return rq_fail(p, "expected ',' between extra names");
			if (p->i >= p->n || p->s[p->i] != ',')
				break;
			p->i++;
			rq_ws(p);
			l = pyname_span(p->s + p->i);
			if (!l || p->i + l > p->n)
				return rq_fail(p, "expected an extra name after ','");
		}
	}
	rq_ws(p);
	if (p->i >= p->n || p->s[p->i] != ']')
		return rq_fail(p, "expected ']' to close the extras");
	p->i++;
	return 0;
}

static int is_op_start(int c)
{
	return c == '=' || c == '!' || c == '<' || c == '>' || c == '~';
}

static int version_char(int c)
{
	return py_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*' || c == '+' ||
	       c == '!';
}

/* One specifier token at p->i: operator, optional whitespace, version. */
static int parse_one_spec(rq_parser *p, ds_pyspecset *set)
{
	size_t start = p->i, j = p->i;
	int arbitrary;
	ds_error e2 = DS_ERROR_INIT;

	while (j < p->n && is_op_start(p->s[j]) && j - start < 3)
		j++;
	arbitrary = j - start == 3 && memcmp(p->s + start, "===", 3) == 0;
	if (j - start == 1 && p->s[start] == '=') {
		p->i = start;
		rq_fail(p, "'=' is not a version operator");
		return ds_error_hint(p->err, "did you mean '=='?");
	}
	while (j < p->n && py_isspace((unsigned char)p->s[j]))
		j++;
	while (j < p->n && (arbitrary ? !(py_isspace((unsigned char)p->s[j]) || p->s[j] == ';' ||
					   p->s[j] == ')' || p->s[j] == ',')
				       : version_char((unsigned char)p->s[j])))
		j++;
	if (set->n == DS_PYSPEC_MAX)
		return rq_fail(p, "too many version specifiers");
	if ((set->n & (set->n - 1)) == 0)
		set->v = ds_xrealloc(set->v, (set->n ? set->n * 2 : 1) * sizeof(*set->v));
	{
		char *t = ds_xstrndup(p->s + start, j - start);
		int rc = ds_pyspec_parse(&set->v[set->n], t, &e2);
		free(t);
		if (rc < 0) {
			char shown[240];
			py_quote(shown, sizeof(shown), p->s, p->n);
			return ds_error_set(p->err, DS_EINVAL, "invalid requirement '%s': %s", shown,
					    e2.msg);
		}
	}
	set->n++;
	p->i = j;
	return 0;
}

static int parse_specs(rq_parser *p, ds_pyreq *r)
{
	int paren = 0;

	if (p->i < p->n && p->s[p->i] == '(') {
		paren = 1;
		p->i++;
		rq_ws(p);
	}
	while (p->i < p->n && is_op_start(p->s[p->i])) {
		if (parse_one_spec(p, &r->specs) < 0)
			return -1;
		rq_ws(p);
		if (p->i >= p->n || p->s[p->i] != ',')
			break;
		p->i++;
		rq_ws(p);
	}
	if (paren) {
		rq_ws(p);
		if (p->i >= p->n || p->s[p->i] != ')')
			return rq_fail(p, "expected ')' after the version specifiers");
		p->i++;
	}
	return 0;
}

/* packaging's check: a scheme, and a host unless file:. */
static int url_valid(const char *u, size_t n)
{
	size_t i = 0, h;

	if (!n || !py_isalpha((unsigned char)u[0]))
		return 0;
	while (i < n && (py_isalnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' ||
			 u[i] == '.'))
		i++;
	if (i >= n || u[i] != ':')
		return 0;
	if (i == 4 && strncasecmp(u, "file", 4) == 0)
		return 1;
	if (n - i < 3 || u[i + 1] != '/' || u[i + 2] != '/')
		return 0;
	h = i + 3;
	return h < n && u[h] != '/' && u[h] != '?' && u[h] != '#';
}

static int parse_marker_part(rq_parser *p, ds_pyreq *r)
{
	ds_error e2 = DS_ERROR_INIT;

	p->i++; /* ';' */
	if (pymarker_parse_n(&r->marker, p->s + p->i, p->n - p->i, &e2) < 0) {
		char shown[240];
		py_quote(shown, sizeof(shown), p->s, p->n);
		return ds_error_set(p->err, DS_EINVAL, "invalid requirement '%s': %s", shown, e2.msg);
	}
	p->i = p->n;
	return 0;
}

static int pyreq_parse_n(ds_pyreq **out, const char *s, size_t n, ds_error *err)
{
	rq_parser p = { .s = s, .n = n, .err = err };
	ds_pyreq *r;
	size_t l;

	if (n > DS_PYREQ_TEXT_MAX)
		return ds_error_set(err, DS_EINVAL, "invalid requirement: longer than %d bytes",
				    DS_PYREQ_TEXT_MAX);
	if (memchr(s, '\0', n))
		return ds_error_set(err, DS_EINVAL, "invalid requirement: NUL byte");
	r = ds_xcalloc(1, sizeof(*r));
	rq_ws(&p);
	l = pyname_span(s + p.i);
	if (!l || p.i + l > n) {
		rq_fail(&p, "expected a project name at the start");
		goto bad;
	}
	if (l > DS_PYNAME_MAX) {
		rq_fail(&p, "project name too long");
		goto bad;
	}
	r->name = ds_xstrndup(s + p.i, l);
	r->key = normalize(r->name);
	p.i += l;
	rq_ws(&p);
	if (p.i < n && s[p.i] == '[' && parse_extras(&p, r) < 0)
		goto bad;
	rq_ws(&p);
	if (p.i < n && s[p.i] == '@') {
		size_t u;
		p.i++;
		rq_ws(&p);
		u = p.i;
		while (p.i < n && !py_iswsp((unsigned char)s[p.i]))
			p.i++;
		if (p.i == u) {
			rq_fail(&p, "expected a URL after '@'");
			goto bad;
		}
		if (!url_valid(s + u, p.i - u)) {
			p.i = u;
			rq_fail(&p, "expected a URL with a scheme and a host (https://host/path, "
				    "file:///path)");
			goto bad;
		}
		r->url = ds_xstrndup(s + u, p.i - u);
		if (p.i < n) {
			rq_ws(&p);
			if (p.i < n) {
				if (s[p.i] != ';') {
					rq_fail(&p, "expected ';' or the end after the URL");
					goto bad;
				}
				if (parse_marker_part(&p, r) < 0)
					goto bad;
			}
		}
	} else {
		if (parse_specs(&p, r) < 0)
			goto bad;
		rq_ws(&p);
		if (p.i < n) {
			if (s[p.i] != ';') {
				rq_fail(&p, r->specs.n ? "expected ',' or ';' after the version "
							 "specifier"
						       : "expected a version specifier, '@' or ';' "
							 "after the name");
				goto bad;
			}
			if (parse_marker_part(&p, r) < 0)
				goto bad;
		}
	}
	*out = r;
	return 0;
bad:
	ds_pyreq_free(r);
	return -1;
}

int ds_pyreq_parse(ds_pyreq **out, const char *text, ds_error *err)
{
	if (!text)
		return ds_error_set(err, DS_EINVAL, "invalid requirement: none given");
	return pyreq_parse_n(out, text, strlen(text), err);
}

int ds_pyreq_format(const ds_pyreq *r, ds_buf *out, ds_error *err)
{
	int rc = 0;

	rc |= ds_buf_adds(out, r->name ? r->name : "(unnamed)");
	if (r->n_extras) {
		rc |= ds_buf_addch(out, '[');
		for (size_t i = 0; i < r->n_extras; i++) {
			if (i)
				rc |= ds_buf_addch(out, ',');
			rc |= ds_buf_adds(out, r->extras[i]);
		}
		rc |= ds_buf_addch(out, ']');
	}
	if (rc < 0 || ds_pyspecset_format(&r->specs, out, err) < 0)
		goto full;
	if (r->url) {
		rc |= ds_buf_addf(out, " @ %s", r->url);
		if (r->marker)
			rc |= ds_buf_addch(out, ' ');
	}
	if (r->marker) {
		rc |= ds_buf_adds(out, "; ");
		if (rc < 0 || ds_pymarker_format(r->marker, out, err) < 0)
			goto full;
	}
	if (rc < 0)
		goto full;
	return 0;
full:
	return ds_error_set(err, DS_ENOMEM, "requirement too long to format");
}

int ds_pyreq_applies(int *out, const ds_pyreq *r, const ds_pyenv *env,
		     const char *const *extras, size_t n_extras, ds_error *err)
{
	if (!r->marker) {
		*out = 1;
		return 0;
	}
	return ds_pymarker_evaluate_extras(out, r->marker, env, extras, n_extras, err);
}
