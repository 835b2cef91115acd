#include <stdio.h>

#include <dsbuild/debian.h>

#include "debian/depends.h"
#include "util/util.h"

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

int deb_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 2 || n > DEB_NAME_MAX)
		return n == 1 && ((name[0] >= 'a' && name[0] <= 'z') ||
				  (name[0] >= '0' && name[0] <= '9'));
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

const char *deb_op_str(deb_op op)
{
	switch (op) {
	case DEB_OP_LT:
		return "<<";
	case DEB_OP_LE:
		return "<=";
	case DEB_OP_EQ:
		return "=";
	case DEB_OP_GE:
		return ">=";
	case DEB_OP_GT:
		return ">>";
	default:
		return "";
	}
}

int deb_op_satisfied(deb_op op, const char *have, const char *want)
{
	int r;

	if (op == DEB_OP_NONE)
		return 1;
	if (!have)
		return 0;
	r = ds_debian_version_compare(have, want);
	switch (op) {
	case DEB_OP_LT:
		return r < 0;
	case DEB_OP_LE:
		return r <= 0;
	case DEB_OP_EQ:
		return r == 0;
	case DEB_OP_GE:
		return r >= 0;
	case DEB_OP_GT:
		return r > 0;
	default:
		return 0;
	}
}

void deb_dep_format(ds_buf *b, const deb_dep *d)
{
	if (d->op == DEB_OP_NONE)
		ds_buf_adds(b, d->name);
	else
		ds_buf_addf(b, "%s (%s %s)", d->name, deb_op_str(d->op), d->version);
}

void deb_group_format(ds_buf *b, const deb_dep_group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		if (i)
			ds_buf_adds(b, " | ");
		deb_dep_format(b, &g->alts[i]);
	}
}

void deb_dep_release(deb_dep *d)
{
	free(d->name);
	free(d->version);
	d->name = d->version = NULL;
}

void deb_deps_release(deb_deps *d)
{
	for (size_t i = 0; i < d->n; i++) {
		for (size_t j = 0; j < d->v[i].n; j++)
			deb_dep_release(&d->v[i].alts[j]);
		free(d->v[i].alts);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static int arch_matches(const char *want, size_t len, const char *arch)
{
	if ((len == 3 && memcmp(want, "any", 3) == 0) ||
	    (len == 9 && memcmp(want, "linux-any", 9) == 0))
		return 1;
	if (len == strlen(arch) && memcmp(want, arch, len) == 0)
		return 1;
	if (len > 6 && memcmp(want, "linux-", 6) == 0 && len - 6 == strlen(arch) &&
	    memcmp(want + 6, arch, len - 6) == 0)
		return 1;
	if (len > 4 && memcmp(want, "any-", 4) == 0 && len - 4 == strlen(arch) &&
	    memcmp(want + 4, arch, len - 4) == 0)
		return 1;
	return 0;
}

/* "[amd64 !i386]" between p and end (brackets excluded). */
static int arch_list_applies(const char *p, const char *end, const char *arch)
{
	int any_positive = 0, matched_positive = 0, matched_negative = 0;

	while (p < end) {
		const char *w;
		int neg = 0;
		p = skip_space(p, end);
		if (p >= end)
			break;
		if (*p == '!') {
			neg = 1;
			p++;
		}
		w = p;
		while (p < end && !is_space(*p))
			p++;
		if (neg) {
			if (arch && arch_matches(w, (size_t)(p - w), arch))
				matched_negative = 1;
		} else {
			any_positive = 1;
			if (arch && arch_matches(w, (size_t)(p - w), arch))
				matched_positive = 1;
		}
	}
	if (any_positive)
		return matched_positive;
	return !matched_negative;
}

static int parse_op(deb_op *op, const char **pp, const char *end)
{
	const char *p = *pp;
	size_t left = (size_t)(end - p);

	if (left >= 2 && p[0] == '<' && p[1] == '<') {
		*op = DEB_OP_LT;
		p += 2;
	} else if (left >= 2 && p[0] == '<' && p[1] == '=') {
		*op = DEB_OP_LE;
		p += 2;
	} else if (left >= 2 && p[0] == '>' && p[1] == '>') {
		*op = DEB_OP_GT;
		p += 2;
	} else if (left >= 2 && p[0] == '>' && p[1] == '=') {
		*op = DEB_OP_GE;
		p += 2;
	} else if (left >= 1 && p[0] == '=') {
		*op = DEB_OP_EQ;
		p += 1;
	} else if (left >= 1 && p[0] == '<') {
		*op = DEB_OP_LE;
		p += 1;
	} else if (left >= 1 && p[0] == '>') {
		*op = DEB_OP_GE;
		p += 1;
	} else {
		return -1;
	}
	*pp = p;
	return 0;
}

/* One alternative between p and end.  *applies is 0 when an architecture
 * restriction excludes it. */
static int parse_alt(deb_dep *out, int *applies, const char *p, const char *end, const char *arch,
		     const char *field, ds_error *err)
{
	const char *name, *name_end;
	deb_dep d = { 0 };

	*applies = 1;
	p = skip_space(p, end);
	name = p;
	while (p < end && !is_space(*p) && *p != '(' && *p != '[' && *p != '<' && *p != ':')
		p++;
	name_end = p;
	if (name_end == name)
		return ds_error_set(err, DS_EFORMAT, "'%.200s': missing package name", field);
	if (name_end - name > DEB_NAME_MAX)
		return ds_error_set(err, DS_EFORMAT, "'%.200s': package name too long", field);
	d.name = ds_xstrndup(name, (size_t)(name_end - name));
	if (!deb_name_valid(d.name)) {
		ds_error_set(err, DS_EFORMAT, "'%.200s': invalid package name '%s'", field, d.name);
		deb_dep_release(&d);
		return -1;
	}
	if (p < end && *p == ':') {
		p++;
		while (p < end && !is_space(*p) && *p != '(' && *p != '[' && *p != '<')
			p++;
	}
	p = skip_space(p, end);
	if (p < end && *p == '(') {
		const char *v, *ve, *close;
		p = skip_space(p + 1, end);
		if (parse_op(&d.op, &p, end) < 0) {
			ds_error_set(err, DS_EFORMAT, "'%.200s': bad relation after '%s'", field,
				     d.name);
			deb_dep_release(&d);
			return -1;
		}
		close = memchr(p, ')', (size_t)(end - p));
		if (!close) {
			ds_error_set(err, DS_EFORMAT, "'%.200s': missing ')'", field);
			deb_dep_release(&d);
			return -1;
		}
		v = skip_space(p, close);
		ve = close;
		while (ve > v && is_space(ve[-1]))
			ve--;
		if (ve == v || ve - v > DEB_VERSION_MAX) {
			ds_error_set(err, DS_EFORMAT, "'%.200s': bad version for '%s'", field,
				     d.name);
			deb_dep_release(&d);
			return -1;
		}
		d.version = ds_xstrndup(v, (size_t)(ve - v));
		if (!ds_debian_version_valid(d.version)) {
			ds_error_set(err, DS_EFORMAT, "'%.200s': invalid version '%s'", field,
				     d.version);
			deb_dep_release(&d);
			return -1;
		}
		p = skip_space(close + 1, end);
	}
	while (p < end && (*p == '[' || *p == '<')) {
		char closech = *p == '[' ? ']' : '>';
		const char *close = memchr(p, closech, (size_t)(end - p));
		if (!close) {
			ds_error_set(err, DS_EFORMAT, "'%.200s': missing '%c'", field, closech);
			deb_dep_release(&d);
			return -1;
		}
		if (*p == '[' && !arch_list_applies(p + 1, close, arch))
			*applies = 0;
		p = skip_space(close + 1, end);
	}
	if (p != end) {
		ds_error_set(err, DS_EFORMAT, "'%.200s': unexpected '%c' after '%s'", field, *p,
			     d.name);
		deb_dep_release(&d);
		return -1;
	}
	*out = d;
	return 0;
}

int deb_deps_parse(deb_deps *out, const char *s, const char *arch, ds_error *err)
{
	deb_deps d = { 0 };
	const char *p = s, *end = s + strlen(s);

	while (p < end) {
		const char *ge = memchr(p, ',', (size_t)(end - p)), *q;
		deb_dep_group g = { 0 };

		if (!ge)
			ge = end;
		if (skip_space(p, ge) == ge) { /* empty group: tolerated */
			p = ge < end ? ge + 1 : ge;
			continue;
		}
		if (d.n == DEB_DEPS_MAX) {
			deb_deps_release(&d);
			return ds_error_set(err, DS_EFORMAT, "'%.200s': too many relations", s);
		}
		q = p;
		while (q < ge) {
			const char *ae = memchr(q, '|', (size_t)(ge - q));
			deb_dep dep;
			int applies;
			if (!ae)
				ae = ge;
			if (g.n == DEB_ALTS_MAX ||
			    parse_alt(&dep, &applies, q, ae, arch, s, err) < 0) {
				if (g.n == DEB_ALTS_MAX)
					ds_error_set(err, DS_EFORMAT, "'%.200s': too many alternatives",
						     s);
				for (size_t i = 0; i < g.n; i++)
					deb_dep_release(&g.alts[i]);
				free(g.alts);
				deb_deps_release(&d);
				return -1;
			}
			if (applies) {
				g.alts = ds_xrealloc(g.alts, (g.n + 1) * sizeof(*g.alts));
				g.alts[g.n++] = dep;
			} else {
				deb_dep_release(&dep);
			}
			q = ae < ge ? ae + 1 : ae;
		}
		if (g.n) {
			d.v = ds_xrealloc(d.v, (d.n + 1) * sizeof(*d.v));
			d.v[d.n++] = g;
		}
		p = ge < end ? ge + 1 : ge;
	}
	*out = d;
	return 0;
}

int deb_request_parse(deb_dep *out, const char *s, ds_error *err)
{
	const char *eq = strchr(s, '=');
	int applies;

	/* "name=version" as apt-get takes it; "name (>= v)" as in Depends */
	if (eq && eq > s && eq[-1] != '<' && eq[-1] != '>' && !strchr(s, '(')) {
		deb_dep r = { 0 };
		const char *n = s, *ne = eq, *v = eq + 1, *ve = s + strlen(s);
		while (n < ne && is_space(*n))
			n++;
		while (ne > n && is_space(ne[-1]))
			ne--;
		while (v < ve && is_space(*v))
			v++;
		while (ve > v && is_space(ve[-1]))
			ve--;
		if (ne == n || ne - n > DEB_NAME_MAX || ve == v || ve - v > DEB_VERSION_MAX)
			return ds_error_set(err, DS_EINVAL, "invalid package request '%.200s'", s);
		r.name = ds_xstrndup(n, (size_t)(ne - n));
		r.version = ds_xstrndup(v, (size_t)(ve - v));
		r.op = DEB_OP_EQ;
		if (!deb_name_valid(r.name)) {
			ds_error_set(err, DS_EINVAL, "invalid package name '%s'", r.name);
			deb_dep_release(&r);
			return -1;
		}
		if (!ds_debian_version_valid(r.version)) {
			ds_error_set(err, DS_EINVAL, "invalid version '%s' for '%s'", r.version,
				     r.name);
			deb_dep_release(&r);
			return -1;
		}
		*out = r;
		return 0;
	}
	if (strchr(s, ',') || strchr(s, '|'))
		return ds_error_set(err, DS_EINVAL,
				    "invalid package request '%.200s': one package per entry", s);
	if (parse_alt(out, &applies, s, s + strlen(s), NULL, s, err) < 0) {
		if (err)
			err->code = DS_EINVAL;
		return -1;
	}
	return 0;
}
