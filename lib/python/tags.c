/* Wheel file names (PEP 427) and the ordered tags a target supports
 * (PEP 425, manylinux PEP 600 with the PEP 513/571/599 aliases, musllinux
 * PEP 656), listed in the order packaging.tags.sys_tags() gives for CPython
 * on Linux: that order is what pip ranks wheels by. */
#include <stdio.h>
#include <string.h>

#include <dsbuild/python.h>

#include "python/pyutil.h"
#include "util/util.h"

#define WHEEL_TAGS_MAX 1024 /* tags one wheel name may expand to */
#define WHEEL_PARTS_MAX 256 /* dot-separated parts of one tag field */

struct ds_pytags {
	size_t n, alloc;
	ds_pytag *v;
	size_t *sorted; /* indexes ordered by tag text, for lookups */
};

/* ---- file names ----------------------------------------------------------------- */

ds_pywheel_name *ds_pywheel_name_free(ds_pywheel_name *w)
{
	if (w) {
		free(w->name);
		free(w->key);
		free(w->build_tag);
		free(w->tags);
		free(w);
	}
	return NULL;
}

static int hexval(int c)
{
	if (py_isdigit(c))
		return c - '0';
	c = py_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The last path segment of a path or URL, without '?' / '#' parts,
 * percent-decoded (an index writes "torch-2.1.0%2Bcpu-...whl"). */
static char *file_part(const char *s)
{
	size_t n = strcspn(s, "?#");
	const char *slash = NULL;
	char *o;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '/')
			slash = s + i;
	if (slash) {
		n -= (size_t)(slash + 1 - s);
		s = slash + 1;
	}
	o = ds_xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
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

static int bad_wheel(ds_error *err, const char *file, const char *why)
{
	char shown[200];

	py_quote(shown, sizeof(shown), file, strlen(file));
	return ds_error_set(err, DS_EINVAL, "invalid wheel file name '%s': %s", shown, why);
}

static int tag_equal(const ds_pytag *a, const ds_pytag *b)
{
	return strcmp(a->interpreter, b->interpreter) == 0 && strcmp(a->abi, b->abi) == 0 &&
	       strcmp(a->platform, b->platform) == 0;
}

/* Splits "a.b" of one tag field into parts (lowercased) in parts[]. */
static int split_field(char *field, char **parts, size_t max, size_t *n)
{
	char *p = field;

	*n = 0;
	for (;;) {
		char *dot = strchr(p, '.');
		if (dot)
			*dot = '\0';
		if (!*p || strlen(p) >= DS_PYTAG_PART_MAX || *n == max)
			return -1;
		for (char *c = p; *c; c++) {
			if (!py_isalnum((unsigned char)*c) && *c != '_')
				return -1;
			*c = (char)py_lower((unsigned char)*c);
		}
		parts[(*n)++] = p;
		if (!dot)
			return 0;
		p = dot + 1;
	}
}

int ds_pywheel_name_parse(ds_pywheel_name **out, const char *filename, ds_error *err)
{
	_cleanup_free_ char *file = file_part(filename);
	_cleanup_free_ char *stem = NULL;
	char *f[6], *py[WHEEL_PARTS_MAX], *abi[WHEEL_PARTS_MAX], *plat[WHEEL_PARTS_MAX];
	size_t len = strlen(file), dashes = 0, npy, nabi, nplat;
	ds_pywheel_name *w;
	ds_error e2 = DS_ERROR_INIT;

	if (len < 4 || strcmp(file + len - 4, ".whl") != 0)
		return bad_wheel(err, file, "it does not end in '.whl'");
	if (len > 1024)
		return bad_wheel(err, file, "too long");
	stem = ds_xstrndup(file, len - 4);
	for (char *p = stem; *p; p++)
		if (*p == '-')
			dashes++;
	if (dashes != 4 && dashes != 5)
		return bad_wheel(err, file,
				 "expected name-version(-build)-python-abi-platform.whl");
	f[0] = stem;
	for (size_t i = 1; i <= dashes; i++) {
		f[i] = strchr(f[i - 1], '-');
		*f[i]++ = '\0';
	}
	if (!*f[0] || strstr(f[0], "__"))
		return bad_wheel(err, file, "invalid project name");
	for (char *p = f[0]; *p; p++)
		if (!py_isalnum((unsigned char)*p) && *p != '_' && *p != '.')
			return bad_wheel(err, file, "invalid project name");
	if (!ds_pyname_valid(f[0]))
		return bad_wheel(err, file, "invalid project name");

	w = ds_xcalloc(1, sizeof(*w));
	if (ds_pyver_parse(&w->version, f[1], &e2) < 0) {
		ds_pywheel_name_free(w);
		return bad_wheel(err, file, e2.msg);
	}
	w->name = ds_xstrdup(f[0]);
	if (ds_pyname_normalize(&w->key, w->name, err) < 0) {
		ds_pywheel_name_free(w);
		return -1;
	}
	if (dashes == 5) {
		const char *b = f[2];
		uint64_t num = 0;
		if (!py_isdigit((unsigned char)*b)) {
			ds_pywheel_name_free(w);
			return bad_wheel(err, file, "the build tag must start with a number");
		}
		while (py_isdigit((unsigned char)*b)) {
			if (num > (UINT64_MAX - 9) / 10) {
				ds_pywheel_name_free(w);
				return bad_wheel(err, file, "build number too large");
			}
			num = num * 10 + (uint64_t)(*b++ - '0');
		}
		w->has_build = 1;
		w->build_num = num;
		w->build_tag = ds_xstrdup(b);
	} else {
		w->build_tag = ds_xstrdup("");
	}
	if (split_field(f[dashes - 2], py, WHEEL_PARTS_MAX, &npy) < 0 ||
	    split_field(f[dashes - 1], abi, WHEEL_PARTS_MAX, &nabi) < 0 ||
	    split_field(f[dashes], plat, WHEEL_PARTS_MAX, &nplat) < 0 ||
	    npy * nabi > WHEEL_TAGS_MAX || npy * nabi * nplat > WHEEL_TAGS_MAX) {
		ds_pywheel_name_free(w);
		return bad_wheel(err, file, "invalid compatibility tags");
	}
	w->tags = ds_xcalloc(npy * nabi * nplat, sizeof(*w->tags));
	for (size_t i = 0; i < npy; i++)
		for (size_t j = 0; j < nabi; j++)
			for (size_t k = 0; k < nplat; k++) {
				ds_pytag t;
				size_t d;
				memset(&t, 0, sizeof(t));
				snprintf(t.interpreter, sizeof(t.interpreter), "%s", py[i]);
				snprintf(t.abi, sizeof(t.abi), "%s", abi[j]);
				snprintf(t.platform, sizeof(t.platform), "%s", plat[k]);
				for (d = 0; d < w->n_tags; d++)
					if (tag_equal(&w->tags[d], &t))
						break;
				if (d == w->n_tags)
					w->tags[w->n_tags++] = t;
			}
	*out = w;
	return 0;
}

int ds_pysdist_name_parse(char **name_out, ds_pyver *version, const char *filename,
			  ds_error *err)
{
	_cleanup_free_ char *file = file_part(filename);
	size_t len = strlen(file), stem;
	char *dash, shown[200];
	ds_pyver v;
	ds_error e2 = DS_ERROR_INIT;

	py_quote(shown, sizeof(shown), file, len);
	if (len > 7 && strcmp(file + len - 7, ".tar.gz") == 0)
		stem = len - 7;
	else if (len > 4 && strcmp(file + len - 4, ".zip") == 0)
		stem = len - 4;
	else
		return ds_error_set(err, DS_EINVAL,
				    "invalid source archive name '%s': expected .tar.gz or .zip", shown);
	file[stem] = '\0';
	dash = strrchr(file, '-');
	if (!dash || dash == file)
		return ds_error_set(err, DS_EINVAL,
				    "invalid source archive name '%s': expected name-version", shown);
	*dash = '\0';
	if (!ds_pyname_valid(file))
		return ds_error_set(err, DS_EINVAL, "invalid source archive name '%s': bad name",
				    shown);
	if (ds_pyver_parse(&v, dash + 1, &e2) < 0)
		return ds_error_set(err, DS_EINVAL, "invalid source archive name '%s': %s", shown,
				    e2.msg);
	*name_out = ds_xstrdup(file);
	*version = v;
	return 0;
}

/* ---- supported tags ----------------------------------------------------------- */

ds_pytags *ds_pytags_free(ds_pytags *t)
{
	if (t) {
		free(t->v);
		free(t->sorted);
		free(t);
	}
	return NULL;
}

size_t ds_pytags_count(const ds_pytags *t)
{
	return t->n;
}

const ds_pytag *ds_pytags_get(const ds_pytags *t, size_t i)
{
	return i < t->n ? &t->v[i] : NULL;
}

static void add_tag(ds_pytags *t, const char *i, const char *a, const char *p)
{
	ds_pytag *g;

	if (t->n == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 256;
		t->v = ds_xrealloc(t->v, t->alloc * sizeof(*t->v));
	}
	g = &t->v[t->n++];
	memset(g, 0, sizeof(*g));
	snprintf(g->interpreter, sizeof(g->interpreter), "%s", i);
	snprintf(g->abi, sizeof(g->abi), "%s", a);
	snprintf(g->platform, sizeof(g->platform), "%s", p);
}

static int tag_cmp3(const ds_pytag *g, const char *i, const char *a, const char *p)
{
	int c = strcmp(g->interpreter, i);

	if (!c)
		c = strcmp(g->abi, a);
	if (!c)
		c = strcmp(g->platform, p);
	return c;
}

static int sorted_cmp(const void *x, const void *y, void *data)
{
	const ds_pytags *base = data;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	const ds_pytag *ta = &base->v[a], *tb = &base->v[b];
	int c = tag_cmp3(ta, tb->interpreter, tb->abi, tb->platform);

	return c ? c : (a > b) - (a < b);
}

/* "2.36" -> 2, 36 (anything after the minor number is ignored, as packaging
 * does for "2.20-2014.11"). */
static int two_numbers(const char *s, unsigned *major, unsigned *minor)
{
	char *e;
	unsigned long a, b;

	if (!py_isdigit((unsigned char)s[0]))
		return -1;
	a = strtoul(s, &e, 10);
	if (*e != '.' || !py_isdigit((unsigned char)e[1]))
		return -1;
	b = strtoul(e + 1, &e, 10);
	if (a > 99 || b > 999)
		return -1;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return 0;
}

/* Architectures manylinux wheels exist for (packaging's _ALLOWED_ARCHS plus
 * the 32-bit ones it checks the interpreter's ELF header for). */
static int manylinux_arch(const char *arch)
{
	static const char *const archs[] = { "x86_64", "i686",  "aarch64", "armv7l", "ppc64",
					     "ppc64le", "s390x", "riscv64", "loongarch64" };

	for (size_t i = 0; i < DS_ARRAY_SIZE(archs); i++)
		if (strcmp(archs[i], arch) == 0)
			return 1;
	return 0;
}

#define GLIBC_LAST_MINOR 50 /* packaging's guess for a glibc 3 */

static void platforms(char ***out, size_t *n, const char *arch, int glibc, unsigned gmaj,
		      unsigned gmin, int musl, unsigned mmaj, unsigned mmin)
{
	char **v = NULL;
	size_t k = 0, alloc = 0;

#define ADD(...)                                                                                  \
	do {                                                                                      \
		if (k == alloc) {                                                                 \
			alloc = alloc ? alloc * 2 : 64;                                           \
			v = ds_xrealloc(v, alloc * sizeof(*v));                                   \
		}                                                                                 \
		v[k++] = ds_xasprintf(__VA_ARGS__);                                               \
	} while (0)

	if (glibc && manylinux_arch(arch)) {
		int x86 = strcmp(arch, "x86_64") == 0 || strcmp(arch, "i686") == 0;
		unsigned old_major = 2;
		int old_minor = x86 ? 4 : 16;
		for (unsigned major = gmaj; major >= 2; major--) {
			int top = major == gmaj ? (int)gmin : GLIBC_LAST_MINOR;
			int floor = major == old_major ? old_minor : -1;
			for (int minor = top; minor > floor; minor--) {
				ADD("manylinux_%u_%d_%s", major, minor, arch);
				if (major == 2 && minor == 17)
					ADD("manylinux2014_%s", arch);
				else if (major == 2 && minor == 12)
					ADD("manylinux2010_%s", arch);
				else if (major == 2 && minor == 5)
					ADD("manylinux1_%s", arch);
			}
		}
	}
	if (musl)
		for (int minor = (int)mmin; minor >= 0; minor--)
			ADD("musllinux_%u_%d_%s", mmaj, minor, arch);
	ADD("linux_%s", arch);
#undef ADD
	*out = v;
	*n = k;
}

int ds_pytags_supported(ds_pytags **out, const ds_pytarget *t, ds_error *err)
{
	unsigned major, minor, gmaj = 0, gmin = 0, mmaj = 0, mmin = 0;
	const char *arch;
	char **plats = NULL, interp[32], abi[32], buf[32];
	size_t np = 0;
	ds_pytags *tags;

	if (!t->python || two_numbers(t->python, &major, &minor) < 0 || major != 3)
		return ds_error_set(err, DS_EINVAL, "invalid target Python version '%s': expected "
				    "'3.Y'", t->python ? t->python : "");
	if (t->glibc && two_numbers(t->glibc, &gmaj, &gmin) < 0)
		return ds_error_set(err, DS_EINVAL, "invalid glibc version '%s': expected 'X.Y'",
				    t->glibc);
	if (t->glibc && gmaj < 2)
		return ds_error_set(err, DS_EINVAL, "invalid glibc version '%s'", t->glibc);
	if (t->musl && two_numbers(t->musl, &mmaj, &mmin) < 0)
		return ds_error_set(err, DS_EINVAL, "invalid musl version '%s': expected 'X.Y'",
				    t->musl);
	if (t->glibc && t->musl)
		return ds_error_set(err, DS_EINVAL, "a target has either glibc or musl, not both");
	if (ds_pyplatform_machine(&arch, t->arch, err) < 0)
		return -1;

	platforms(&plats, &np, arch, t->glibc != NULL, gmaj, gmin, t->musl != NULL, mmaj, mmin);
	tags = ds_xcalloc(1, sizeof(*tags));
	snprintf(interp, sizeof(interp), "cp%u%u", major, minor);
	/* Before 3.8 the ABI tag carries pymalloc's 'm', before 3.3 UCS-4's 'u'. */
	snprintf(abi, sizeof(abi), "cp%u%u%s%s", major, minor, minor < 8 ? "m" : "",
		 minor < 3 ? "u" : "");

	for (size_t p = 0; p < np; p++)
		add_tag(tags, interp, abi, plats[p]);
	if (minor >= 2)
		for (size_t p = 0; p < np; p++)
			add_tag(tags, interp, "abi3", plats[p]);
	for (size_t p = 0; p < np; p++)
		add_tag(tags, interp, "none", plats[p]);
	if (minor >= 2)
		for (unsigned m = minor - 1; m >= 2; m--) {
			snprintf(buf, sizeof(buf), "cp%u%u", major, m);
			for (size_t p = 0; p < np; p++)
				add_tag(tags, buf, "abi3", plats[p]);
		}
	/* compatible_tags(): py3Y, py3, py3(Y-1) ... py30 */
	for (int pass = 0; pass < 2; pass++) {
		for (int k = -2; k < (int)minor; k++) {
			if (k == -2)
				snprintf(buf, sizeof(buf), "py%u%u", major, minor);
			else if (k == -1)
				snprintf(buf, sizeof(buf), "py%u", major);
			else
				snprintf(buf, sizeof(buf), "py%u%u", major, minor - 1 - (unsigned)k);
			if (pass == 0) {
				for (size_t p = 0; p < np; p++)
					add_tag(tags, buf, "none", plats[p]);
			} else {
				add_tag(tags, buf, "none", "any");
			}
		}
		if (pass == 0)
			add_tag(tags, interp, "none", "any");
	}
	for (size_t p = 0; p < np; p++)
		free(plats[p]);
	free(plats);

	tags->sorted = ds_xcalloc(tags->n, sizeof(*tags->sorted));
	for (size_t i = 0; i < tags->n; i++)
		tags->sorted[i] = i;
	qsort_r(tags->sorted, tags->n, sizeof(*tags->sorted), sorted_cmp, tags);
	*out = tags;
	return 0;
}

long ds_pytags_priority(const ds_pytags *t, const char *interpreter, const char *abi,
			const char *platform)
{
	size_t lo = 0, hi = t->n;

	/* First index whose tag is >= the one sought: the lowest priority of
	 * equal tags, as the ties were ordered by index. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tag_cmp3(&t->v[t->sorted[mid]], interpreter, abi, platform) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->n && tag_cmp3(&t->v[t->sorted[lo]], interpreter, abi, platform) == 0)
		return (long)t->sorted[lo];
	return -1;
}

long ds_pywheel_priority(const ds_pytags *t, const ds_pywheel_name *w)
{
	long best = -1;

	for (size_t i = 0; i < w->n_tags; i++) {
		long p = ds_pytags_priority(t, w->tags[i].interpreter, w->tags[i].abi,
					    w->tags[i].platform);
		if (p >= 0 && (best < 0 || p < best))
			best = p;
	}
	return best;
}
