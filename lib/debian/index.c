#include <errno.h>
#include <stdio.h>

#include <dsbuild/debian.h>

#include "debian/control.h"
#include "debian/index.h"
#include "util/util.h"

typedef struct bucket {
	const char *key;
	void *v;        /* size_t[] or deb_provide[] */
	size_t n, alloc;
} bucket;

typedef struct strmap {
	bucket *b;
	size_t cap, used;
} strmap;

struct deb_index {
	char *arch;
	char *where;
	deb_pkg *pkgs;
	size_t n, alloc;
	char **texts;
	size_t n_texts;
	strmap names;
	strmap provides;
	int provides_built;
	const char *const *script_only;
	char **owned;   /* strings allocated for provides versions */
	size_t n_owned;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static bucket *map_find(const strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->b[i].key)
			return NULL;
		if (strcmp(m->b[i].key, key) == 0)
			return &m->b[i];
	}
}

static bucket *map_get(strmap *m, const char *key)
{
	bucket *b;

	if ((m->used + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 1024;
		bucket *nb = ds_xcalloc(ncap, sizeof(*nb));
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->b[i].key)
				continue;
			size_t j = hash(m->b[i].key) & (ncap - 1);
			while (nb[j].key)
				j = (j + 1) & (ncap - 1);
			nb[j] = m->b[i];
		}
		free(m->b);
		m->b = nb;
		m->cap = ncap;
	}
	size_t i = hash(key) & (m->cap - 1);
	while (m->b[i].key && strcmp(m->b[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	b = &m->b[i];
	if (!b->key) {
		b->key = key;
		m->used++;
	}
	return b;
}

static void bucket_push(bucket *b, const void *item, size_t size)
{
	if (b->n == b->alloc) {
		b->alloc = b->alloc ? b->alloc * 2 : 2;
		b->v = ds_xrealloc(b->v, b->alloc * size);
	}
	memcpy((char *)b->v + b->n * size, item, size);
	b->n++;
}

static void map_free(strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->b[i].v);
	free(m->b);
	memset(m, 0, sizeof(*m));
}

int deb_index_new(deb_index **out, const char *arch, const char *where, ds_error *err)
{
	deb_index *ix = ds_xcalloc(1, sizeof(*ix));

	ix->arch = ds_xstrdup(arch);
	ix->where = ds_xstrdup(where ? where : "the archive");
	*out = ix;
	return 0;
}

deb_index *deb_index_free(deb_index *ix)
{
	if (!ix)
		return NULL;
	for (size_t i = 0; i < ix->n_texts; i++)
		free(ix->texts[i]);
	free(ix->texts);
	for (size_t i = 0; i < ix->n_owned; i++)
		free(ix->owned[i]);
	free(ix->owned);
	map_free(&ix->names);
	map_free(&ix->provides);
	free(ix->pkgs);
	free(ix->arch);
	free(ix->where);
	free(ix);
	return NULL;
}

void deb_index_set_script_only(deb_index *ix, const char *const *names)
{
	ix->script_only = names;
}

int deb_index_script_only(const deb_index *ix, const char *name)
{
	for (const char *const *p = ix->script_only; p && *p; p++)
		if (strcmp(*p, name) == 0)
			return 1;
	return 0;
}

const char *deb_index_where(const deb_index *ix)
{
	return ix->where;
}

const char *deb_index_arch(const deb_index *ix)
{
	return ix->arch;
}

static int is_hex64(const char *s)
{
	size_t i;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

int deb_index_add(deb_index *ix, char *data, size_t len, int origin, const char *name,
		  ds_error *err)
{
	deb_control c;
	int rc;

	ix->texts = ds_xrealloc(ix->texts, (ix->n_texts + 1) * sizeof(*ix->texts));
	ix->texts[ix->n_texts++] = data;
	deb_control_init(&c, data, len, name);
	while ((rc = deb_control_next(&c, err)) == 1) {
		deb_pkg p = { 0 };
		const char *size, *ess;
		char *endp;

		p.name = deb_control_get(&c, "Package");
		p.version = deb_control_get(&c, "Version");
		p.arch = deb_control_get(&c, "Architecture");
		p.filename = deb_control_get(&c, "Filename");
		p.sha256 = deb_control_get(&c, "SHA256");
		size = deb_control_get(&c, "Size");
		if (!p.name || !p.version || !p.arch || !p.filename || !p.sha256 || !size)
			return ds_error_set(err, DS_EFORMAT,
					    "'%s' line %d: paragraph without Package, Version, "
					    "Architecture, Filename, Size or SHA256",
					    name, c.para_line);
		if (!deb_name_valid(p.name))
			return ds_error_set(err, DS_EFORMAT, "'%s' line %d: invalid package name '%.200s'",
					    name, c.para_line, p.name);
		if (!ds_debian_version_valid(p.version))
			return ds_error_set(err, DS_EFORMAT,
					    "'%s' line %d: invalid version '%.200s' of '%s'", name,
					    c.para_line, p.version, p.name);
		if (!is_hex64(p.sha256))
			return ds_error_set(err, DS_EFORMAT, "'%s' line %d: invalid SHA256 of '%s'",
					    name, c.para_line, p.name);
		errno = 0;
		p.size = strtoull(size, &endp, 10);
		if (errno || *endp || endp == size)
			return ds_error_set(err, DS_EFORMAT, "'%s' line %d: invalid Size of '%s'",
					    name, c.para_line, p.name);
		if (strcmp(p.arch, ix->arch) != 0 && strcmp(p.arch, "all") != 0)
			continue;
		p.source = deb_control_get(&c, "Source");
		p.priority = deb_control_get(&c, "Priority");
		p.multi_arch = deb_control_get(&c, "Multi-Arch");
		p.depends = deb_control_get(&c, "Depends");
		p.pre_depends = deb_control_get(&c, "Pre-Depends");
		p.provides = deb_control_get(&c, "Provides");
		p.conflicts = deb_control_get(&c, "Conflicts");
		p.breaks = deb_control_get(&c, "Breaks");
		ess = deb_control_get(&c, "Essential");
		p.essential = ess && strcmp(ess, "yes") == 0;
		p.origin = origin;
		if (ix->n == DEB_INDEX_PACKAGES_MAX)
			return ds_error_set(err, DS_EFORMAT, "'%s': more than %d packages", name,
					    DEB_INDEX_PACKAGES_MAX);
		if (ix->n == ix->alloc) {
			ix->alloc = ix->alloc ? ix->alloc * 2 : 4096;
			ix->pkgs = ds_xrealloc(ix->pkgs, ix->alloc * sizeof(*ix->pkgs));
		}
		ix->pkgs[ix->n] = p;
		bucket_push(map_get(&ix->names, p.name), &ix->n, sizeof(size_t));
		ix->n++;
		ix->provides_built = 0;
	}
	return rc < 0 ? -1 : 0;
}

size_t deb_index_count(const deb_index *ix)
{
	return ix->n;
}

const deb_pkg *deb_index_pkg(const deb_index *ix, size_t i)
{
	return i < ix->n ? &ix->pkgs[i] : NULL;
}

const size_t *deb_index_lookup(const deb_index *ix, const char *name, size_t *n)
{
	bucket *b = map_find(&ix->names, name);

	*n = b ? b->n : 0;
	return b ? b->v : NULL;
}

size_t deb_index_candidate(const deb_index *ix, const char *name)
{
	size_t n, best = (size_t)-1;
	const size_t *v = deb_index_lookup(ix, name, &n);

	for (size_t i = 0; i < n; i++) {
		if (best == (size_t)-1 ||
		    ds_debian_version_compare(ix->pkgs[v[i]].version, ix->pkgs[best].version) > 0)
			best = v[i];
	}
	return best;
}

static int build_provides(deb_index *ix, ds_error *err)
{
	map_free(&ix->provides);
	for (size_t i = 0; i < ix->n; i++) {
		deb_deps d;
		if (!ix->pkgs[i].provides)
			continue;
		/* a malformed Provides only hides what it would provide */
		if (deb_deps_parse(&d, ix->pkgs[i].provides, ix->arch, NULL) < 0)
			continue;
		for (size_t g = 0; g < d.n; g++) {
			for (size_t a = 0; a < d.v[g].n; a++) {
				deb_dep *dep = &d.v[g].alts[a];
				deb_provide pr = { i, NULL };
				if (dep->op == DEB_OP_EQ) {
					ix->owned = ds_xrealloc(ix->owned, (ix->n_owned + 1) *
										   sizeof(char *));
					ix->owned[ix->n_owned++] = TAKE_PTR(dep->version);
					pr.version = ix->owned[ix->n_owned - 1];
				}
				ix->owned = ds_xrealloc(ix->owned,
							(ix->n_owned + 1) * sizeof(char *));
				ix->owned[ix->n_owned++] = TAKE_PTR(dep->name);
				bucket_push(map_get(&ix->provides, ix->owned[ix->n_owned - 1]), &pr,
					    sizeof(pr));
			}
		}
		deb_deps_release(&d);
	}
	ix->provides_built = 1;
	return 0;
}

int deb_index_providers(const deb_provide **out, size_t *n, deb_index *ix, const char *name,
			ds_error *err)
{
	bucket *b;

	if (!ix->provides_built && build_provides(ix, err) < 0)
		return -1;
	b = map_find(&ix->provides, name);
	*out = b ? b->v : NULL;
	*n = b ? b->n : 0;
	return 0;
}
