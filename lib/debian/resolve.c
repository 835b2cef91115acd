/* The dependency closure: breadth-first over Pre-Depends and Depends from
 * the requests, one version per name, alternatives in order with the ones
 * already chosen preferred, virtual packages through Provides.  No
 * backtracking: a dependency no candidate can meet is an error that names
 * it and the chain of packages that led there. */
#include <stdio.h>

#include <dsbuild/debian.h>

#include "debian/index.h"
#include "util/util.h"

typedef struct {
	deb_index *ix;
	size_t n_pkgs;
	size_t *chosen_by_pkg;   /* per index entry: 1 when chosen (installed or new) */
	size_t *parent;          /* per index entry: who pulled it in, or -1 */
	size_t *queue;
	size_t q_head, q_len;
	size_t *sel;             /* new packages */
	size_t n_sel;
	size_t *all;             /* installed + new */
	size_t n_all;
} resolver;

#define NONE ((size_t)-1)

/* The chosen package of a name, or NONE. */
static size_t chosen_of_name(const resolver *r, const char *name)
{
	size_t n;
	const size_t *v = deb_index_lookup(r->ix, name, &n);

	for (size_t i = 0; i < n; i++)
		if (r->chosen_by_pkg[v[i]])
			return v[i];
	return NONE;
}

static int priority_rank(const char *p)
{
	if (!p)
		return 5;
	if (strcmp(p, "required") == 0)
		return 0;
	if (strcmp(p, "important") == 0)
		return 1;
	if (strcmp(p, "standard") == 0)
		return 2;
	if (strcmp(p, "optional") == 0)
		return 3;
	return 4;
}

/* 1 when the chosen set already satisfies d. */
static int satisfied(resolver *r, const deb_dep *d, ds_error *err)
{
	size_t c = chosen_of_name(r, d->name), n;
	const deb_provide *pv;

	if (c != NONE && deb_op_satisfied(d->op, deb_index_pkg(r->ix, c)->version, d->version))
		return 1;
	if (deb_index_providers(&pv, &n, r->ix, d->name, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!r->chosen_by_pkg[pv[i].pkg])
			continue;
		if (d->op == DEB_OP_NONE || (pv[i].version &&
					     deb_op_satisfied(d->op, pv[i].version, d->version)))
			return 1;
	}
	return 0;
}

/* The package to choose for d, or NONE. */
static size_t pick(resolver *r, const deb_dep *d, ds_error *err, int *failed)
{
	size_t n, best = NONE;
	const size_t *v;
	const deb_provide *pv;

	*failed = 0;
	/* a name already chosen cannot take a second version */
	if (chosen_of_name(r, d->name) == NONE) {
		v = deb_index_lookup(r->ix, d->name, &n);
		for (size_t i = 0; i < n; i++) {
			const deb_pkg *p = deb_index_pkg(r->ix, v[i]);
			if (!deb_op_satisfied(d->op, p->version, d->version))
				continue;
			if (best == NONE || ds_debian_version_compare(
						    p->version, deb_index_pkg(r->ix, best)->version) > 0)
				best = v[i];
		}
		if (best != NONE)
			return best;
	}
	if (deb_index_providers(&pv, &n, r->ix, d->name, err) < 0) {
		*failed = 1;
		return NONE;
	}
	for (size_t i = 0; i < n; i++) {
		const deb_pkg *p = deb_index_pkg(r->ix, pv[i].pkg), *b;
		size_t cand;
		if (d->op != DEB_OP_NONE &&
		    !(pv[i].version && deb_op_satisfied(d->op, pv[i].version, d->version)))
			continue;
		/* only a name's candidate version, or the one chosen, may provide */
		cand = chosen_of_name(r, p->name);
		if (cand == NONE)
			cand = deb_index_candidate(r->ix, p->name);
		if (cand != pv[i].pkg)
			continue;
		if (best == NONE) {
			best = pv[i].pkg;
			continue;
		}
		b = deb_index_pkg(r->ix, best);
		if (priority_rank(p->priority) < priority_rank(b->priority) ||
		    (priority_rank(p->priority) == priority_rank(b->priority) &&
		     strcmp(p->name, b->name) < 0))
			best = pv[i].pkg;
	}
	return best;
}

static void choose(resolver *r, size_t pkg, size_t parent, int installed)
{
	r->chosen_by_pkg[pkg] = 1;
	r->parent[pkg] = parent;
	r->all = ds_xrealloc(r->all, (r->n_all + 1) * sizeof(size_t));
	r->all[r->n_all++] = pkg;
	if (installed)
		return;
	r->sel = ds_xrealloc(r->sel, (r->n_sel + 1) * sizeof(size_t));
	r->sel[r->n_sel++] = pkg;
	r->queue = ds_xrealloc(r->queue, (r->q_len + 1) * sizeof(size_t));
	r->queue[r->q_len++] = pkg;
}

/* " (needed by a <- b <- c)" */
static void chain(ds_buf *b, const resolver *r, size_t pkg)
{
	size_t p = r->parent[pkg];
	int depth = 0;

	if (p == NONE)
		return;
	ds_buf_adds(b, " (needed by ");
	while (p != NONE && depth < 20) {
		if (depth)
			ds_buf_adds(b, " <- ");
		ds_buf_adds(b, deb_index_pkg(r->ix, p)->name);
		p = r->parent[p];
		depth++;
	}
	if (p != NONE)
		ds_buf_adds(b, " <- ...");
	ds_buf_adds(b, ")");
}

/* Why d cannot be met: "but bookworm has 1.9", "but it is not in bookworm" */
static void why_not(ds_buf *b, resolver *r, const deb_dep *d)
{
	size_t c = chosen_of_name(r, d->name), n;
	const deb_provide *pv = NULL;
	size_t cand;

	if (c != NONE) {
		ds_buf_addf(b, "'%s' %s is already chosen", d->name,
			    deb_index_pkg(r->ix, c)->version);
		return;
	}
	cand = deb_index_candidate(r->ix, d->name);
	if (cand != NONE) {
		ds_buf_addf(b, "%s has %s", deb_index_where(r->ix),
			    deb_index_pkg(r->ix, cand)->version);
		return;
	}
	deb_index_providers(&pv, &n, r->ix, d->name, NULL);
	if (n)
		ds_buf_addf(b, "no package in %s provides that version",
			    deb_index_where(r->ix));
	else
		ds_buf_addf(b, "'%s' is not in %s (%s)", d->name, deb_index_where(r->ix),
			    deb_index_arch(r->ix));
}

static int dep_error(resolver *r, size_t pkg, const char *field, const deb_dep_group *g,
		     ds_error *err)
{
	ds_buf b;

	ds_buf_init(&b, 1500);
	ds_buf_addf(&b, "cannot install '%s': it %s '", deb_index_pkg(r->ix, pkg)->name, field);
	deb_group_format(&b, g);
	ds_buf_adds(&b, "', but ");
	for (size_t i = 0; i < g->n; i++) {
		if (i)
			ds_buf_adds(&b, "; ");
		why_not(&b, r, &g->alts[i]);
	}
	chain(&b, r, pkg);
	ds_error_set(err, DS_EINVAL, "%s", ds_buf_cstr(&b));
	ds_buf_release(&b);
	return -1;
}

static int process_field(resolver *r, size_t pkg, const char *text, const char *field,
			 ds_error *err)
{
	deb_deps d;

	if (!text)
		return 0;
	if (deb_deps_parse(&d, text, deb_index_arch(r->ix), err) < 0)
		return ds_error_wrap(err, "%s of '%s'", field, deb_index_pkg(r->ix, pkg)->name);
	for (size_t g = 0; g < d.n; g++) {
		size_t pick_ = NONE;
		int rc = 0, failed = 0;

		for (size_t a = 0; a < d.v[g].n && rc == 0; a++) {
			if (deb_index_script_only(r->ix, d.v[g].alts[a].name)) {
				rc = 1;
				break;
			}
			rc = satisfied(r, &d.v[g].alts[a], err);
			if (rc < 0)
				goto fail;
		}
		if (rc == 1)
			continue;
		for (size_t a = 0; a < d.v[g].n && pick_ == NONE; a++) {
			pick_ = pick(r, &d.v[g].alts[a], err, &failed);
			if (failed)
				goto fail;
		}
		if (pick_ == NONE) {
			dep_error(r, pkg, strcmp(field, "Pre-Depends") == 0 ? "pre-depends on"
									   : "depends on",
				  &d.v[g], err);
			goto fail;
		}
		choose(r, pick_, pkg, 0);
	}
	deb_deps_release(&d);
	return 0;
fail:
	deb_deps_release(&d);
	return -1;
}

/* Conflicts and Breaks between the chosen packages. */
static int check_conflicts(resolver *r, ds_error *err)
{
	static const char *const fields[] = { "Conflicts", "Breaks" };

	for (size_t i = 0; i < r->n_sel; i++) {
		const deb_pkg *p = deb_index_pkg(r->ix, r->sel[i]);
		for (size_t f = 0; f < 2; f++) {
			const char *text = f == 0 ? p->conflicts : p->breaks;
			deb_deps d;
			if (!text)
				continue;
			if (deb_deps_parse(&d, text, deb_index_arch(r->ix), err) < 0)
				return ds_error_wrap(err, "%s of '%s'", fields[f], p->name);
			for (size_t g = 0; g < d.n; g++) {
				const deb_dep *dep = &d.v[g].alts[0];
				size_t c = chosen_of_name(r, dep->name), n;
				const deb_provide *pv;
				const char *other = NULL, *other_ver = NULL;

				if (c != NONE && c != r->sel[i] &&
				    deb_op_satisfied(dep->op, deb_index_pkg(r->ix, c)->version,
						     dep->version)) {
					other = deb_index_pkg(r->ix, c)->name;
					other_ver = deb_index_pkg(r->ix, c)->version;
				}
				if (!other &&
				    deb_index_providers(&pv, &n, r->ix, dep->name, NULL) == 0) {
					for (size_t k = 0; k < n && !other; k++) {
						if (!r->chosen_by_pkg[pv[k].pkg] || pv[k].pkg == r->sel[i])
							continue;
						if (strcmp(deb_index_pkg(r->ix, pv[k].pkg)->name,
							   p->name) == 0)
							continue;
						if (dep->op == DEB_OP_NONE ||
						    (pv[k].version &&
						     deb_op_satisfied(dep->op, pv[k].version,
								      dep->version))) {
							other = deb_index_pkg(r->ix, pv[k].pkg)->name;
							other_ver = deb_index_pkg(r->ix, pv[k].pkg)->version;
						}
					}
				}
				if (other) {
					ds_buf b;
					ds_buf_init(&b, 1500);
					ds_buf_addf(&b, "cannot install '%s': it %s '", p->name,
						    f == 0 ? "conflicts with" : "breaks");
					deb_dep_format(&b, dep);
					ds_buf_addf(&b, "', and '%s' %s is also to be installed",
						    other, other_ver);
					chain(&b, r, r->sel[i]);
					ds_error_set(err, DS_EINVAL, "%s", ds_buf_cstr(&b));
					ds_buf_release(&b);
					deb_deps_release(&d);
					return -1;
				}
			}
			deb_deps_release(&d);
		}
	}
	return 0;
}

static int cmp_by_name(const void *a, const void *b, void *ix)
{
	const deb_pkg *pa = deb_index_pkg(ix, *(const size_t *)a);
	const deb_pkg *pb = deb_index_pkg(ix, *(const size_t *)b);
	return strcmp(pa->name, pb->name);
}

int deb_resolve(size_t **out, size_t *n_out, deb_index *ix, const deb_dep *req, size_t n_req,
		const size_t *installed, size_t n_installed, ds_error *err)
{
	resolver r = { 0 };
	int rc = -1;

	r.ix = ix;
	r.n_pkgs = deb_index_count(ix);
	r.chosen_by_pkg = ds_xcalloc(r.n_pkgs, sizeof(size_t));
	r.parent = ds_xmalloc(r.n_pkgs * sizeof(size_t));
	for (size_t i = 0; i < r.n_pkgs; i++)
		r.parent[i] = NONE;
	for (size_t i = 0; i < n_installed; i++)
		if (installed[i] < r.n_pkgs && !r.chosen_by_pkg[installed[i]])
			choose(&r, installed[i], NONE, 1);

	for (size_t i = 0; i < n_req; i++) {
		int failed = 0, s;
		size_t p;
		deb_dep_group g = { (deb_dep *)&req[i], 1 };

		s = satisfied(&r, &req[i], err);
		if (s < 0)
			goto out;
		if (s == 1)
			continue;
		p = pick(&r, &req[i], err, &failed);
		if (failed)
			goto out;
		if (p == NONE) {
			ds_buf b;
			size_t n;
			const deb_provide *pv;
			ds_buf_init(&b, 1500);
			if (deb_index_candidate(ix, req[i].name) == NONE &&
			    (deb_index_providers(&pv, &n, ix, req[i].name, NULL) < 0 || n == 0)) {
				ds_error_set(err, DS_ENOENT, "unknown package '%s': it is not in %s (%s)",
					     req[i].name, deb_index_where(ix), deb_index_arch(ix));
				ds_error_hint(err, "check the name on https://packages.debian.org/%s/%s",
					      deb_index_where(ix), req[i].name);
			} else {
				ds_buf_adds(&b, "cannot install '");
				deb_group_format(&b, &g);
				ds_buf_adds(&b, "': ");
				why_not(&b, &r, &req[i]);
				ds_error_set(err, DS_EINVAL, "%s", ds_buf_cstr(&b));
			}
			ds_buf_release(&b);
			goto out;
		}
		choose(&r, p, NONE, 0);
	}
	while (r.q_head < r.q_len) {
		size_t pkg = r.queue[r.q_head++];
		const deb_pkg *p = deb_index_pkg(ix, pkg);

		if (ds_canceled()) {
			ds_error_set(err, DS_ECANCELED, "interrupted");
			goto out;
		}
		if (r.n_sel > DS_DEBIAN_PACKAGES_REQ_MAX) {
			ds_error_set(err, DS_ENOMEM, "more than %d packages to install",
				     DS_DEBIAN_PACKAGES_REQ_MAX);
			goto out;
		}
		if (process_field(&r, pkg, p->pre_depends, "Pre-Depends", err) < 0 ||
		    process_field(&r, pkg, p->depends, "Depends", err) < 0)
			goto out;
	}
	if (check_conflicts(&r, err) < 0)
		goto out;
	if (r.n_sel)
		qsort_r(r.sel, r.n_sel, sizeof(size_t), cmp_by_name, ix);
	*out = TAKE_PTR(r.sel);
	*n_out = r.n_sel;
	rc = 0;
out:
	free(r.chosen_by_pkg);
	free(r.parent);
	free(r.queue);
	free(r.sel);
	free(r.all);
	return rc;
}
