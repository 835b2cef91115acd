/* PEP 440 versions: parsing every spelling the specification allows,
 * the canonical form, and the total order.
 *
 * The grammar is PEP 440's "appendix B" pattern.  Its optional separators
 * make it ambiguous ("1.0a.-dev" is valid: the pre-release takes '.' and the
 * dev release '-'), so the matcher below tries the alternatives in the
 * pattern's order and backtracks like the regular expression would; the
 * depth is fixed (pre, post, dev, local), so the work is bounded. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <dsbuild/python.h>

#include "python/pyutil.h"
#include "util/util.h"

typedef struct vmatch {
	const char *s;
	size_t n;
	ds_pyver *v;
	int overflow;
} vmatch;

static int is_sep(int c)
{
	return c == '-' || c == '_' || c == '.';
}

static size_t digit_end(const vmatch *m, size_t i)
{
	while (i < m->n && py_isdigit((unsigned char)m->s[i]))
		i++;
	return i;
}

static uint64_t number(vmatch *m, size_t a, size_t b)
{
	uint64_t x = 0;

	for (size_t i = a; i < b; i++) {
		unsigned d = (unsigned)(m->s[i] - '0');
		if (x > (UINT64_MAX - d) / 10) {
			m->overflow = 1;
			return 0;
		}
		x = x * 10 + d;
	}
	return x;
}

/* Length of the first label of labels[] that s[i..] starts with
 * (case-insensitive), and its index in *which; 0 when none does. */
static size_t label_at(const vmatch *m, size_t i, const char *const *labels, int *which)
{
	for (int k = 0; labels[k]; k++) {
		size_t l = strlen(labels[k]), j;
		if (l > m->n - i)
			continue;
		for (j = 0; j < l; j++)
			if (py_lower((unsigned char)m->s[i + j]) != labels[k][j])
				break;
		if (j == l) {
			*which = k;
			return l;
		}
	}
	return 0;
}

static int m_local(vmatch *m, size_t i)
{
	size_t j;

	m->v->local[0] = '\0';
	if (i == m->n)
		return 1;
	if (m->s[i] != '+')
		return 0;
	j = i + 1;
	for (;;) {
		size_t start = j;
		while (j < m->n && py_isalnum((unsigned char)m->s[j]))
			j++;
		if (j == start)
			return 0;
		if (j == m->n)
			break;
		if (!is_sep(m->s[j]))
			return 0;
		j++;
	}
	return 1;
}

/* After a label: "[-_.]?[0-9]*" in the pattern's order of attempts. Calls
 * next(m, end) for each; sets *num / *has. */
typedef int (*vnext_fn)(vmatch *m, size_t i);

static int m_number_then(vmatch *m, size_t k, uint64_t *num, vnext_fn next)
{
	size_t d;

	if (k < m->n && is_sep(m->s[k])) {
		d = digit_end(m, k + 1);
		if (d > k + 1) {
			*num = number(m, k + 1, d);
			if (next(m, d))
				return 1;
		}
		*num = 0;
		if (next(m, k + 1))
			return 1;
	}
	d = digit_end(m, k);
	if (d > k) {
		*num = number(m, k, d);
		if (next(m, d))
			return 1;
	}
	*num = 0;
	return next(m, k);
}

static int m_dev(vmatch *m, size_t i)
{
	static const char *const labels[] = { "dev", NULL };

	for (int sep = 1; sep >= 0; sep--) {
		size_t j = i, l;
		int which;
		if (sep) {
			if (j >= m->n || !is_sep(m->s[j]))
				continue;
			j++;
		}
		l = label_at(m, j, labels, &which);
		if (!l)
			continue;
		m->v->has_dev = 1;
		if (m_number_then(m, j + l, &m->v->dev, m_local))
			return 1;
	}
	m->v->has_dev = 0;
	m->v->dev = 0;
	return m_local(m, i);
}

static int m_post(vmatch *m, size_t i)
{
	static const char *const labels[] = { "post", "rev", "r", NULL };

	/* "1.0-1": an implicit post-release. */
	if (i < m->n && m->s[i] == '-') {
		size_t d = digit_end(m, i + 1);
		if (d > i + 1) {
			m->v->has_post = 1;
			m->v->post = number(m, i + 1, d);
			if (m_dev(m, d))
				return 1;
		}
	}
	for (int sep = 1; sep >= 0; sep--) {
		size_t j = i, l;
		int which;
		if (sep) {
			if (j >= m->n || !is_sep(m->s[j]))
				continue;
			j++;
		}
		l = label_at(m, j, labels, &which);
		if (!l)
			continue;
		m->v->has_post = 1;
		if (m_number_then(m, j + l, &m->v->post, m_dev))
			return 1;
	}
	m->v->has_post = 0;
	m->v->post = 0;
	return m_dev(m, i);
}

static int m_pre(vmatch *m, size_t i)
{
	static const char *const labels[] = { "alpha", "a",   "beta", "b",
					      "preview", "pre", "c",    "rc", NULL };
	static const ds_pyver_pre_kind kinds[] = { DS_PYVER_PRE_A,  DS_PYVER_PRE_A,
						   DS_PYVER_PRE_B,  DS_PYVER_PRE_B,
						   DS_PYVER_PRE_RC, DS_PYVER_PRE_RC,
						   DS_PYVER_PRE_RC, DS_PYVER_PRE_RC };

	for (int sep = 1; sep >= 0; sep--) {
		size_t j = i, l;
		int which;
		if (sep) {
			if (j >= m->n || !is_sep(m->s[j]))
				continue;
			j++;
		}
		l = label_at(m, j, labels, &which);
		if (!l)
			continue;
		m->v->pre_kind = kinds[which];
		if (m_number_then(m, j + l, &m->v->pre, m_post))
			return 1;
	}
	m->v->pre_kind = DS_PYVER_PRE_NONE;
	m->v->pre = 0;
	return m_post(m, i);
}

/* Lowercase, '.' separators, numeric parts without leading zeros. */
static int normalize_local(char *dst, size_t size, const char *s, size_t n)
{
	size_t o = 0, i = 0;

	while (i < n) {
		size_t e = i, k;
		int numeric = 1;
		while (e < n && !is_sep(s[e])) {
			if (!py_isdigit((unsigned char)s[e]))
				numeric = 0;
			e++;
		}
		k = i;
		if (numeric)
			while (k + 1 < e && s[k] == '0')
				k++;
		if (o && o + 1 < size)
			dst[o++] = '.';
		for (; k < e; k++) {
			if (o + 1 >= size)
				return -1;
			dst[o++] = (char)py_lower((unsigned char)s[k]);
		}
		i = e + 1;
	}
	if (o >= size)
		return -1;
	dst[o] = '\0';
	return 0;
}

int pyver_parse_n(ds_pyver *out, const char *s, size_t n, ds_error *err)
{
	ds_pyver v;
	vmatch m;
	size_t i, d;
	char shown[DS_PYVER_TEXT_MAX + 16];

	while (n && py_isspace((unsigned char)*s))
		s++, n--;
	while (n && py_isspace((unsigned char)s[n - 1]))
		n--;
	if (n > DS_PYVER_TEXT_MAX)
		return ds_error_set(err, DS_EINVAL, "invalid version '%.40s...': longer than %d bytes",
				    s, DS_PYVER_TEXT_MAX);
	py_quote(shown, sizeof(shown), s, n);
	if (memchr(s, '\0', n))
		return ds_error_set(err, DS_EINVAL, "invalid version '%s'", shown);

	memset(&v, 0, sizeof(v));
	memset(&m, 0, sizeof(m));
	m.s = s;
	m.n = n;
	m.v = &v;
	i = 0;
	if (i < n && (s[i] == 'v' || s[i] == 'V'))
		i++;
	d = digit_end(&m, i);
	if (d == i)
		return ds_error_set(err, DS_EINVAL, "invalid version '%s': it must start with a number",
				    shown);
	if (d < n && s[d] == '!') {
		v.epoch = number(&m, i, d);
		i = d + 1;
		d = digit_end(&m, i);
		if (d == i)
			return ds_error_set(err, DS_EINVAL,
					    "invalid version '%s': expected a number after the epoch",
					    shown);
	}
	for (;;) {
		if (v.n_release == DS_PYVER_RELEASE_MAX)
			return ds_error_set(err, DS_EINVAL,
					    "invalid version '%s': more than %d release segments",
					    shown, DS_PYVER_RELEASE_MAX);
		v.release[v.n_release++] = number(&m, i, d);
		i = d;
		if (i + 1 < n && s[i] == '.' && py_isdigit((unsigned char)s[i + 1])) {
			i++;
			d = digit_end(&m, i);
			continue;
		}
		break;
	}
	if (!m_pre(&m, i))
		return ds_error_set(err, DS_EINVAL, "invalid version '%s'", shown);
	if (m.overflow)
		return ds_error_set(err, DS_EINVAL, "invalid version '%s': a number is too large",
				    shown);
	if (v.local[0] == '\0') {
		const char *plus = memchr(s, '+', n);
		if (plus) {
			size_t ln = n - (size_t)(plus + 1 - s);
			if (normalize_local(v.local, sizeof(v.local), plus + 1, ln) < 0)
				return ds_error_set(err, DS_EINVAL,
						    "invalid version '%s': local label longer than %d bytes",
						    shown, DS_PYVER_LOCAL_MAX);
		}
	}
	*out = v;
	return 0;
}

int ds_pyver_parse(ds_pyver *out, const char *text, ds_error *err)
{
	if (!text)
		return ds_error_set(err, DS_EINVAL, "invalid version: none given");
	return pyver_parse_n(out, text, strlen(text), err);
}

int ds_pyver_valid(const char *text)
{
	ds_pyver v;

	return ds_pyver_parse(&v, text, NULL) == 0;
}

int pyver_is_plain_release(const char *s, size_t n)
{
	size_t i = 0, d;

	while (n && py_isspace((unsigned char)*s))
		s++, n--;
	while (n && py_isspace((unsigned char)s[n - 1]))
		n--;
	if (i < n && (s[i] == 'v' || s[i] == 'V'))
		i++;
	for (d = i; d < n && py_isdigit((unsigned char)s[d]); d++)
		;
	if (d == i)
		return 0;
	if (d < n && s[d] == '!') {
		i = d + 1;
		for (d = i; d < n && py_isdigit((unsigned char)s[d]); d++)
			;
		if (d == i)
			return 0;
	}
	while (d < n) {
		if (s[d] != '.')
			return 0;
		i = d + 1;
		for (d = i; d < n && py_isdigit((unsigned char)s[d]); d++)
			;
		if (d == i)
			return 0;
	}
	return 1;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int release_cmp(const ds_pyver *a, const ds_pyver *b)
{
	uint32_t n = a->n_release > b->n_release ? a->n_release : b->n_release;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t x = i < a->n_release ? a->release[i] : 0;
		uint64_t y = i < b->n_release ? b->release[i] : 0;
		if (x != y)
			return cmp_u64(x, y);
	}
	return 0;
}

/* -1: sorts before every pre-release (a dev release of a final), 1: after
 * all (no pre-release), 0: has one. */
static int pre_class(const ds_pyver *v)
{
	if (v->pre_kind == DS_PYVER_PRE_NONE && !v->has_post && v->has_dev)
		return -1;
	if (v->pre_kind == DS_PYVER_PRE_NONE)
		return 1;
	return 0;
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!py_isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* packaging's key: no local < any local; parts compared in turn, numbers
 * numerically and above every string, a shorter prefix first. */
static int local_cmp(const char *a, const char *b)
{
	if (!*a || !*b)
		return (*a != '\0') - (*b != '\0');
	for (;;) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		int na = all_digits(a, la), nb = all_digits(b, lb), c;

		if (na && nb) {
			c = la != lb ? (la < lb ? -1 : 1) : memcmp(a, b, la);
		} else if (na || nb) {
			c = na ? 1 : -1;
		} else {
			c = memcmp(a, b, la < lb ? la : lb);
			if (!c)
				c = (la > lb) - (la < lb);
		}
		if (c)
			return c < 0 ? -1 : 1;
		a += la;
		b += lb;
		if (!*a || !*b)
			return (*a != '\0') - (*b != '\0');
		a++;
		b++;
	}
}

int ds_pyver_compare(const ds_pyver *a, const ds_pyver *b)
{
	int c, pa, pb;

	if ((c = cmp_u64(a->epoch, b->epoch)))
		return c;
	if ((c = release_cmp(a, b)))
		return c;
	pa = pre_class(a);
	pb = pre_class(b);
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (pa == 0) {
		if (a->pre_kind != b->pre_kind)
			return a->pre_kind < b->pre_kind ? -1 : 1;
		if ((c = cmp_u64(a->pre, b->pre)))
			return c;
	}
	if (a->has_post != b->has_post)
		return a->has_post ? 1 : -1;
	if (a->has_post && (c = cmp_u64(a->post, b->post)))
		return c;
	if (a->has_dev != b->has_dev)
		return a->has_dev ? -1 : 1;
	if (a->has_dev && (c = cmp_u64(a->dev, b->dev)))
		return c;
	return local_cmp(a->local, b->local);
}

const char *ds_pyver_format(const ds_pyver *v, char *buf, size_t size)
{
	static const char *const pre[] = { "", "a", "b", "rc" };
	size_t o = 0;

#define PUT(...)                                                                                  \
	do {                                                                                      \
		if (o < size) {                                                                   \
			int w_ = snprintf(buf + o, size - o, __VA_ARGS__);                        \
			o = w_ < 0 ? size : o + (size_t)w_;                                       \
		}                                                                                 \
	} while (0)

	if (!size)
		return buf;
	buf[0] = '\0';
	if (v->epoch)
		PUT("%" PRIu64 "!", v->epoch);
	for (uint32_t i = 0; i < v->n_release && i < DS_PYVER_RELEASE_MAX; i++)
		PUT(i ? ".%" PRIu64 : "%" PRIu64, v->release[i]);
	if (v->pre_kind != DS_PYVER_PRE_NONE && v->pre_kind <= DS_PYVER_PRE_RC)
		PUT("%s%" PRIu64, pre[v->pre_kind], v->pre);
	if (v->has_post)
		PUT(".post%" PRIu64, v->post);
	if (v->has_dev)
		PUT(".dev%" PRIu64, v->dev);
	if (v->local[0])
		PUT("+%.*s", DS_PYVER_LOCAL_MAX, v->local);
#undef PUT
	return buf;
}

int ds_pyver_is_prerelease(const ds_pyver *v)
{
	return v->pre_kind != DS_PYVER_PRE_NONE || v->has_dev;
}

int ds_pyver_is_postrelease(const ds_pyver *v)
{
	return v->has_post;
}

void ds_pyver_public(ds_pyver *out, const ds_pyver *v)
{
	*out = *v;
	out->local[0] = '\0';
}

void ds_pyver_base(ds_pyver *out, const ds_pyver *v)
{
	ds_pyver b;

	memset(&b, 0, sizeof(b));
	b.epoch = v->epoch;
	b.n_release = v->n_release;
	memcpy(b.release, v->release, sizeof(b.release));
	*out = b;
}
