/* PEP 440 version specifiers and sets of them, with the pre-release rules. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <dsbuild/python.h>

#include "python/pyutil.h"
#include "util/util.h"

static const struct {
	const char *text;
	ds_pyspec_op op;
} ops[] = {
	/* longest first */
	{ "===", DS_PYSPEC_ARBITRARY }, { "~=", DS_PYSPEC_COMPATIBLE }, { "==", DS_PYSPEC_EQ },
	{ "!=", DS_PYSPEC_NE },         { "<=", DS_PYSPEC_LE },         { ">=", DS_PYSPEC_GE },
	{ "<", DS_PYSPEC_LT },          { ">", DS_PYSPEC_GT },
};

static const char *op_text(ds_pyspec_op op)
{
	for (size_t i = 0; i < DS_ARRAY_SIZE(ops); i++)
		if (ops[i].op == op)
			return ops[i].text;
	return "?";
}

static int spec_parse_n(ds_pyspec *out, const char *s, size_t n, ds_error *err)
{
	ds_pyspec sp;
	char shown[DS_PYVER_TEXT_MAX + 16];
	size_t i = 0, vn;
	const char *vs;
	ds_error e2 = DS_ERROR_INIT;

	while (n && py_isspace((unsigned char)*s))
		s++, n--;
	while (n && py_isspace((unsigned char)s[n - 1]))
		n--;
	py_quote(shown, sizeof(shown), s, n);
	memset(&sp, 0, sizeof(sp));
	for (i = 0; i < DS_ARRAY_SIZE(ops); i++) {
		size_t l = strlen(ops[i].text);
		if (n >= l && memcmp(s, ops[i].text, l) == 0) {
			sp.op = ops[i].op;
			s += l;
			n -= l;
			break;
		}
	}
	if (!sp.op)
		return ds_error_set(err, DS_EINVAL,
				    "invalid specifier '%s': expected an operator (==, !=, <=, >=, <, >, "
				    "~=, ===) before the version",
				    shown);
	while (n && py_isspace((unsigned char)*s))
		s++, n--;
	vs = s;
	vn = n;
	if (vn > DS_PYVER_TEXT_MAX)
		return ds_error_set(err, DS_EINVAL, "invalid specifier '%s': version too long", shown);
	memcpy(sp.text, vs, vn);
	sp.text[vn] = '\0';

	if (sp.op == DS_PYSPEC_ARBITRARY) {
		for (size_t k = 0; k < vn; k++)
			if (py_isspace((unsigned char)vs[k]) || vs[k] == ';' || vs[k] == ')' ||
			    vs[k] == ',' || vs[k] == '\0')
				return ds_error_set(err, DS_EINVAL,
						    "invalid specifier '%s': unexpected '%c' in the "
						    "version",
						    shown, vs[k] ? vs[k] : '0');
		/* Keep the parsed form when it is a version, for the pre-release rule. */
		if (pyver_parse_n(&sp.version, vs, vn, NULL) < 0)
			memset(&sp.version, 0, sizeof(sp.version));
		*out = sp;
		return 0;
	}
	if (vn == 0)
		return ds_error_set(err, DS_EINVAL, "invalid specifier '%s': no version after '%s'",
				    shown, op_text(sp.op));
	if (vn >= 2 && vs[vn - 2] == '.' && vs[vn - 1] == '*') {
		if (sp.op != DS_PYSPEC_EQ && sp.op != DS_PYSPEC_NE)
			return ds_error_set(err, DS_EINVAL,
					    "invalid specifier '%s': '.*' is only allowed with == and !=",
					    shown);
		if (!pyver_is_plain_release(vs, vn - 2))
			return ds_error_set(err, DS_EINVAL,
					    "invalid specifier '%s': '.*' must follow a release number "
					    "such as '1.2'",
					    shown);
		sp.wildcard = 1;
		vn -= 2;
	}
	if (pyver_parse_n(&sp.version, vs, vn, &e2) < 0)
		return ds_error_set(err, DS_EINVAL, "invalid specifier '%s': %s", shown, e2.msg);
	if (sp.version.local[0] && sp.op != DS_PYSPEC_EQ && sp.op != DS_PYSPEC_NE)
		return ds_error_set(err, DS_EINVAL,
				    "invalid specifier '%s': a local version label is only allowed "
				    "with == and !=",
				    shown);
	if (sp.op == DS_PYSPEC_COMPATIBLE && sp.version.n_release < 2)
		return ds_error_set(err, DS_EINVAL,
				    "invalid specifier '%s': '~=' needs at least two release numbers "
				    "(~=1.0)",
				    shown);
	*out = sp;
	return 0;
}

int ds_pyspec_parse(ds_pyspec *out, const char *text, ds_error *err)
{
	if (!text)
		return ds_error_set(err, DS_EINVAL, "invalid specifier: none given");
	return spec_parse_n(out, text, strlen(text), err);
}

int ds_pyspecset_parse(ds_pyspecset *out, const char *text, ds_error *err)
{
	ds_pyspecset s = DS_PYSPECSET_INIT;
	const char *p = text ? text : "";

	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p), k = 0;

		while (k < n && py_isspace((unsigned char)p[k]))
			k++;
		if (k < n) {
			if (s.n == DS_PYSPEC_MAX) {
				ds_pyspecset_release(&s);
				return ds_error_set(err, DS_ENOMEM,
						    "invalid specifiers: more than %d in one set",
						    DS_PYSPEC_MAX);
			}
			if ((s.n & (s.n - 1)) == 0) /* 0, 1, 2, 4 ...: grow */
				s.v = ds_xrealloc(s.v, (s.n ? s.n * 2 : 1) * sizeof(*s.v));
			if (spec_parse_n(&s.v[s.n], p, n, err) < 0) {
				ds_pyspecset_release(&s);
				return -1;
			}
			s.n++;
		}
		if (!e)
			break;
		p = e + 1;
	}
	*out = s;
	return 0;
}

void ds_pyspecset_release(ds_pyspecset *s)
{
	if (!s)
		return;
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int ds_pyspecset_merge(ds_pyspecset *dst, const ds_pyspecset *src, ds_error *err)
{
	ds_pyspec *v;

	if (!src->n)
		return 0;
	if (dst->n + src->n > (size_t)DS_PYSPEC_MAX * 64)
		return ds_error_set(err, DS_ENOMEM, "too many version specifiers on one project");
	v = ds_xrealloc(dst->v, (dst->n + src->n) * sizeof(*v));
	memcpy(v + dst->n, src->v, src->n * sizeof(*v));
	dst->v = v;
	dst->n += src->n;
	return 0;
}

/* ==V.* : same epoch, and V's release a prefix of the candidate's
 * (missing candidate segments count as 0). */
static int prefix_match(const ds_pyver *v, const ds_pyver *spec, uint32_t len)
{
	if (v->epoch != spec->epoch)
		return 0;
	for (uint32_t i = 0; i < len; i++) {
		uint64_t x = i < v->n_release ? v->release[i] : 0;
		if (x != spec->release[i])
			return 0;
	}
	return 1;
}

static int same_base(const ds_pyver *a, const ds_pyver *b)
{
	ds_pyver x, y;

	ds_pyver_base(&x, a);
	ds_pyver_base(&y, b);
	return ds_pyver_compare(&x, &y) == 0;
}

static int public_cmp(const ds_pyver *v, const ds_pyver *spec)
{
	ds_pyver p;

	ds_pyver_public(&p, v);
	return ds_pyver_compare(&p, spec);
}

static int equal(const ds_pyspec *s, const ds_pyver *v)
{
	if (s->wildcard)
		return prefix_match(v, &s->version, s->version.n_release);
	if (s->version.local[0])
		return ds_pyver_compare(v, &s->version) == 0;
	return public_cmp(v, &s->version) == 0;
}

int ds_pyspec_contains(const ds_pyspec *s, const ds_pyver *v)
{
	const ds_pyver *sv = &s->version;

	switch (s->op) {
	case DS_PYSPEC_EQ:
		return equal(s, v);
	case DS_PYSPEC_NE:
		return !equal(s, v);
	case DS_PYSPEC_LE:
		return public_cmp(v, sv) <= 0;
	case DS_PYSPEC_GE:
		return public_cmp(v, sv) >= 0;
	case DS_PYSPEC_COMPATIBLE:
		return public_cmp(v, sv) >= 0 && prefix_match(v, sv, sv->n_release - 1);
	case DS_PYSPEC_LT:
		if (ds_pyver_compare(v, sv) >= 0)
			return 0;
		if (!ds_pyver_is_prerelease(sv) && ds_pyver_is_prerelease(v) && same_base(v, sv))
			return 0;
		return 1;
	case DS_PYSPEC_GT:
		if (ds_pyver_compare(v, sv) <= 0)
			return 0;
		if (!ds_pyver_is_postrelease(sv) && ds_pyver_is_postrelease(v) && same_base(v, sv))
			return 0;
		if (v->local[0] && same_base(v, sv))
			return 0;
		return 1;
	case DS_PYSPEC_ARBITRARY: {
		char buf[DS_PYVER_STRING_MAX];
		return strcasecmp(ds_pyver_format(v, buf, sizeof(buf)), s->text) == 0;
	}
	}
	return 0;
}

int ds_pyspec_allows_prereleases(const ds_pyspec *s)
{
	switch (s->op) {
	case DS_PYSPEC_EQ:
		return !s->wildcard && ds_pyver_is_prerelease(&s->version);
	case DS_PYSPEC_GE:
	case DS_PYSPEC_LE:
	case DS_PYSPEC_COMPATIBLE:
	case DS_PYSPEC_ARBITRARY:
		/* An unparsable === text left version zeroed: a final "0". */
		return ds_pyver_is_prerelease(&s->version);
	default:
		return 0;
	}
}

static int all_contain(const ds_pyspecset *s, const ds_pyver *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (!ds_pyspec_contains(&s->v[i], v))
			return 0;
	return 1;
}

static int set_allows_prereleases(const ds_pyspecset *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (ds_pyspec_allows_prereleases(&s->v[i]))
			return 1;
	return 0;
}

int ds_pyspecset_contains(const ds_pyspecset *s, const ds_pyver *v, int prereleases)
{
	if (!prereleases && ds_pyver_is_prerelease(v) && !set_allows_prereleases(s))
		return 0;
	return all_contain(s, v);
}

size_t ds_pyspecset_filter(const ds_pyspecset *s, const ds_pyver *versions, size_t n,
			   int prereleases, unsigned char *keep)
{
	int allow = prereleases || set_allows_prereleases(s);
	size_t kept = 0, pres = 0;

	for (size_t i = 0; i < n; i++) {
		keep[i] = 0;
		if (!all_contain(s, &versions[i]))
			continue;
		if (!allow && ds_pyver_is_prerelease(&versions[i])) {
			keep[i] = 2; /* held back */
			pres++;
			continue;
		}
		keep[i] = 1;
		kept++;
	}
	for (size_t i = 0; i < n; i++) {
		if (keep[i] == 2)
			keep[i] = kept ? 0 : 1;
	}
	return kept ? kept : pres;
}

static int spec_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ds_pyspecset_format(const ds_pyspecset *s, ds_buf *out, ds_error *err)
{
	char **items;
	int rc = 0;

	if (!s->n)
		return 0;
	items = ds_xcalloc(s->n, sizeof(*items));
	for (size_t i = 0; i < s->n; i++) {
		const ds_pyspec *sp = &s->v[i];
		char buf[DS_PYVER_STRING_MAX];
		if (sp->op == DS_PYSPEC_ARBITRARY)
			items[i] = ds_xasprintf("===%s", sp->text);
		else
			items[i] = ds_xasprintf("%s%s%s", op_text(sp->op),
						ds_pyver_format(&sp->version, buf, sizeof(buf)),
						sp->wildcard ? ".*" : "");
	}
	qsort(items, s->n, sizeof(*items), spec_strcmp);
	for (size_t i = 0; i < s->n; i++) {
		if ((i && ds_buf_addch(out, ',') < 0) || ds_buf_adds(out, items[i]) < 0)
			rc = -1;
		free(items[i]);
	}
	free(items);
	if (rc < 0)
		return ds_error_set(err, DS_ENOMEM, "version specifiers too long to format");
	return 0;
}
