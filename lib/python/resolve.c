/* The resolver: depth-first with backtracking over candidates = (name,
 * version, best wheel for the target by tag priority).  Versions are tried
 * newest first (pip's order); a package's requirements are read from its
 * PEP 658 metadata file when the index offers one, else from the wheel.
 * When nothing fits, the first conflict met is reported, naming both sides
 * and where each came from. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/digest.h>

#include "python/pydeps_int.h"
#include "util/util.h"

#define RESOLVE_STEPS_MAX 200000
#define RESOLVE_NEEDS_MAX 100000
#define RESOLVE_PROJECTS_MAX 5000 /* pins point into a fixed array */

/* ---- METADATA ---------------------------------------------------------------- */

void pymeta_release(pymeta *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->version);
	free(m->requires_python);
	for (size_t i = 0; i < m->n_requires; i++)
		free(m->requires[i]);
	free(m->requires);
	memset(m, 0, sizeof(*m));
}

/* RFC 822 headers up to the first blank line; continuation lines start
 * with whitespace. */
int pymeta_parse(pymeta *out, const char *data, size_t len, const char *what, ds_error *err)
{
	pymeta m = {0};
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *colon;
		size_t klen;
		_cleanup_free_ char *val = NULL;

		if (le == p || (le == p + 1 && *p == '\r'))
			break;
		colon = memchr(p, ':', (size_t)(le - p));
		if (!colon || *p == ' ' || *p == '\t') {
			p = eol ? eol + 1 : end;
			continue;
		}
		klen = (size_t)(colon - p);
		{
			const char *v = colon + 1, *ve = le;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
				ve--;
			val = ds_xstrndup(v, (size_t)(ve - v));
		}
		p = eol ? eol + 1 : end;
		/* folded continuation lines */
		while (p < end && (*p == ' ' || *p == '\t')) {
			const char *e2 = memchr(p, '\n', (size_t)(end - p));
			p = e2 ? e2 + 1 : end;
		}
		if (klen == 4 && !strncasecmp(data + (colon - data) - 4, "Name", 4) && !m.name) {
			m.name = TAKE_PTR(val);
		} else if (klen == 7 && !strncasecmp(colon - 7, "Version", 7) && !m.version) {
			m.version = TAKE_PTR(val);
		} else if (klen == 15 && !strncasecmp(colon - 15, "Requires-Python", 15)) {
			free(m.requires_python);
			m.requires_python = TAKE_PTR(val);
		} else if (klen == 13 && !strncasecmp(colon - 13, "Requires-Dist", 13)) {
			if (m.n_requires >= 10000) {
				pymeta_release(&m);
				return ds_error_set(err, DS_ENOMEM, "%s: too many Requires-Dist",
						    what);
			}
			m.requires = ds_xrealloc(m.requires, (m.n_requires + 1) * sizeof(char *));
			m.requires[m.n_requires++] = TAKE_PTR(val);
		}
	}
	if (!m.name || !m.version) {
		pymeta_release(&m);
		return ds_error_set(err, DS_EFORMAT, "%s: METADATA has no Name or Version", what);
	}
	*out = m;
	return 0;
}

/* Reads <name>.dist-info/METADATA from the wheel at path. */
static int wheel_metadata(ds_buf *out, const char *path, const char *what, ds_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r, found = 0;

	archive_read_support_format_zip_seekable(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		ds_error_set(err, DS_EFORMAT, "%s: not a zip file: %s", what,
			     archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *n = archive_entry_pathname(e);
		const char *slash = n ? strchr(n, '/') : NULL;
		if (!slash || strcmp(slash, "/METADATA") || slash - n < 11 ||
		    strncmp(slash - 10, ".dist-info", 10))
			continue;
		if (archive_entry_size(e) > (la_int64_t)PY_METADATA_MAX)
			break;
		for (;;) {
			char buf[16384];
			la_ssize_t got = archive_read_data(a, buf, sizeof(buf));
			if (got < 0) {
				ds_error_set(err, DS_EFORMAT, "%s: %s", what,
					     archive_error_string(a));
				archive_read_free(a);
				return -1;
			}
			if (got == 0)
				break;
			if (ds_buf_add(out, buf, (size_t)got) < 0) {
				archive_read_free(a);
				return ds_error_set(err, DS_ENOMEM, "%s: METADATA too large", what);
			}
		}
		found = 1;
		break;
	}
	archive_read_free(a);
	if (!found)
		return ds_error_set(err, DS_EFORMAT, "%s: no .dist-info/METADATA in the wheel",
				    what);
	return 0;
}

/* ---- candidates ---------------------------------------------------------------- */

typedef struct cand {
	ds_pyver ver;
	char vtext[DS_PYVER_STRING_MAX];
	const ds_pyfile *file; /* best wheel for the target */
	int yanked;	       /* every wheel of this version is yanked */
	int loaded;
	pymeta meta;
	size_t n_deps;
	ds_pyreq **deps;
} cand;

typedef struct proj {
	char *key;
	int loaded;
	size_t n;
	cand *c;	   /* newest first */
	size_t n_files;	   /* files listed, for messages */
	char *source_only; /* newest version with only source archives, or NULL */
} proj;

typedef struct need {
	char *key;
	const ds_pyreq *req;
	char *origin; /* "requirements.txt line 3" or "scikit-learn 1.5" */
	int is_root;
	const pyroot *root;
} need;

typedef struct pin {
	proj *p;
	cand *c;
	size_t n_extras;
	char **extras;
	size_t need; /* the need that chose it */
} pin;

typedef struct R {
	pyindex *ix;
	const pyresolve_opts *o;
	const pyroot *roots;
	size_t n_roots;
	size_t n_projs;
	proj *projs;
	size_t n_needs, cap_needs;
	need *needs;
	size_t n_pins;
	pin *pins;
	size_t steps;
	ds_error conflict; /* the first conflict met */
	int have_conflict;
	ds_error *err; /* a hard error (network ...) */
	int hard;
} R;

static int cand_cmp(const void *a, const void *b)
{
	return ds_pyver_compare(&((const cand *)b)->ver, &((const cand *)a)->ver);
}

static int load_project(R *r, proj *p)
{
	const ds_pyfile_list *fl;
	ds_pyver pyv;

	if (p->loaded)
		return 0;
	if (pyindex_project(&fl, r->ix, p->key, r->err) < 0)
		return -1;
	p->loaded = 1;
	p->n_files = fl->n;
	if (ds_pyver_parse(&pyv, r->o->env->python_full_version, NULL) < 0)
		ds_pyver_parse(&pyv, r->o->env->python_version, NULL);
	for (size_t i = 0; i < fl->n; i++) {
		const ds_pyfile *f = &fl->v[i];
		ds_pywheel_name *w = NULL;
		long prio;
		cand *c = NULL;

		if (f->requires_python) {
			ds_pyspecset rp = DS_PYSPECSET_INIT;
			int ok = 1;
			if (ds_pyspecset_parse(&rp, f->requires_python, NULL) == 0)
				ok = ds_pyspecset_contains(&rp, &pyv, 1);
			ds_pyspecset_release(&rp);
			if (!ok)
				continue;
		}
		if (ds_pywheel_name_parse(&w, f->filename, NULL) < 0) {
			char *name = NULL;
			ds_pyver v;
			char vt[DS_PYVER_STRING_MAX];
			if (ds_pysdist_name_parse(&name, &v, f->filename, NULL) == 0) {
				ds_pyver old;
				ds_pyver_format(&v, vt, sizeof(vt));
				if (!p->source_only ||
				    (ds_pyver_parse(&old, p->source_only, NULL) == 0 &&
				     ds_pyver_compare(&v, &old) > 0)) {
					free(p->source_only);
					p->source_only = ds_xstrdup(vt);
				}
				free(name);
			}
			continue;
		}
		prio = ds_pywheel_priority(r->o->tags, w);
		if (prio < 0) {
			ds_pywheel_name_free(w);
			continue;
		}
		for (size_t k = 0; k < p->n; k++)
			if (!ds_pyver_compare(&p->c[k].ver, &w->version))
				c = &p->c[k];
		if (!c) {
			p->c = ds_xrealloc(p->c, (p->n + 1) * sizeof(*p->c));
			c = &p->c[p->n++];
			memset(c, 0, sizeof(*c));
			c->ver = w->version;
			ds_pyver_format(&w->version, c->vtext, sizeof(c->vtext));
			c->yanked = 1;
		}
		{
			/* best wheel: a non-yanked one first, then tag priority */
			int better = !c->file;
			if (c->file) {
				ds_pywheel_name *cw = NULL;
				long cp = 1L << 30;
				if (ds_pywheel_name_parse(&cw, c->file->filename, NULL) == 0)
					cp = ds_pywheel_priority(r->o->tags, cw);
				ds_pywheel_name_free(cw);
				if (c->file->yanked && !f->yanked)
					better = 1;
				else if (c->file->yanked == f->yanked && prio < cp)
					better = 1;
			}
			if (better)
				c->file = f;
			if (!f->yanked)
				c->yanked = 0;
		}
		ds_pywheel_name_free(w);
	}
	if (p->n)
		qsort(p->c, p->n, sizeof(*p->c), cand_cmp);
	if (p->source_only && p->n) {
		/* keep it only when newer than every wheel: worth a mention */
		ds_pyver sv;
		if (ds_pyver_parse(&sv, p->source_only, NULL) == 0 &&
		    ds_pyver_compare(&sv, &p->c[0].ver) <= 0) {
			free(p->source_only);
			p->source_only = NULL;
		}
	}
	return 0;
}

static int load_cand(R *r, proj *p, cand *c)
{
	_cleanup_buf_ ds_buf md = DS_BUF_INIT;
	_cleanup_free_ char *what = ds_xasprintf("'%s'", c->file->filename);

	if (c->loaded)
		return 0;
	ds_buf_init(&md, PY_METADATA_MAX);
	if (c->file->has_metadata) {
		_cleanup_free_ char *u = ds_xasprintf("%s.metadata", c->file->url);
		if (pyindex_get(r->ix, u, PY_METADATA_MAX, &md, r->err) < 0)
			return -1;
		if (c->file->metadata_sha256[0]) {
			char d[DS_DIGEST_BUFSZ];
			if (ds_sha256_buf(md.data ? md.data : "", md.len, d, r->err) < 0)
				return -1;
			if (strcmp(d + 7, c->file->metadata_sha256))
				return ds_error_set(r->err, DS_EFORMAT,
						    "metadata of '%s' does not match its sha256",
						    c->file->filename);
		}
	} else if (!strncmp(c->file->url, "file://", 7)) {
		if (wheel_metadata(&md, c->file->url + 7, what, r->err) < 0)
			return -1;
	} else {
		char dg[1][DS_DIGEST_BUFSZ];
		const ds_pyfile *f = c->file;
		_cleanup_buf_ ds_buf path = DS_BUF_INIT;
		if (pyindex_download(r->ix, &f, 1, r->o->store, dg, NULL, NULL, r->err) < 0)
			return -1;
		ds_buf_init(&path, 4096);
		if (ds_store_blob_path(r->o->store, dg[0], &path, r->err) < 0)
			return -1;
		if (wheel_metadata(&md, path.data, what, r->err) < 0)
			return -1;
	}
	if (pymeta_parse(&c->meta, md.data ? md.data : "", md.len, what, r->err) < 0)
		return -1;
	for (size_t i = 0; i < c->meta.n_requires; i++) {
		ds_pyreq *q = NULL;
		if (ds_pyreq_parse(&q, c->meta.requires[i], r -> err) < 0)
			return ds_error_wrap(r->err, "%s %s: Requires-Dist", p->key, c->vtext);
		c->deps = ds_xrealloc(c->deps, (c->n_deps + 1) * sizeof(*c->deps));
		c->deps[c->n_deps++] = q;
	}
	c->loaded = 1;
	return 0;
}

static proj *get_proj(R *r, const char *key)
{
	for (size_t i = 0; i < r->n_projs; i++)
		if (!strcmp(r->projs[i].key, key))
			return &r->projs[i];
	return NULL;
}

static pin *find_pin(R *r, const char *key)
{
	for (size_t i = 0; i < r->n_pins; i++)
		if (!strcmp(r->pins[i].p->key, key))
			return &r->pins[i];
	return NULL;
}

static void push_need(R *r, const char *key, const ds_pyreq *q, char *origin, const pyroot *root)
{
	if (r->n_needs == r->cap_needs) {
		r->cap_needs = r->cap_needs ? r->cap_needs * 2 : 64;
		r->needs = ds_xrealloc(r->needs, r->cap_needs * sizeof(*r->needs));
	}
	r->needs[r->n_needs++] = (need){ds_xstrdup(key), q, origin, root != NULL, root};
}

static void pop_needs(R *r, size_t to)
{
	while (r->n_needs > to) {
		need *n = &r->needs[--r->n_needs];
		free(n->key);
		free(n->origin);
	}
}

/* "numpy>=1.22" / "scikit-learn[x]==1.5" */
static char *req_text(const ds_pyreq *q)
{
	ds_buf b = DS_BUF_INIT;
	char *s;
	ds_pyreq copy = *q;

	copy.marker = NULL;
	ds_buf_init(&b, DS_PYREQ_TEXT_MAX);
	if (ds_pyreq_format(&copy, &b, NULL) < 0 || !b.data) {
		ds_buf_release(&b);
		return ds_xstrdup(q->name ? q->name : "?");
	}
	s = ds_pyurl_redact(b.data);
	ds_buf_release(&b);
	return s;
}

static char *phrase(const need *n)
{
	_cleanup_free_ char *t = req_text(n->req);
	return ds_xasprintf(n->is_root ? "%s asks for %s" : "%s requires %s", n->origin, t);
}

static void conflict2(R *r, const need *a, const need *b)
{
	_cleanup_free_ char *pa = NULL, *pb = NULL;

	if (r->have_conflict)
		return;
	/* a dependency's side first: "X 1.5 requires ..., but requirements.txt line 3 asks ..." */
	if (a->is_root && !b->is_root) {
		const need *t = a;
		a = b;
		b = t;
	}
	pa = phrase(a);
	pb = phrase(b);
	ds_error_set(&r->conflict, DS_EINVAL, "%s, but %s", pa, pb);
	ds_error_hint(&r->conflict,
		      "relax one of the two requirements so that one version of "
		      "'%s' satisfies both",
		      a->key);
	r->have_conflict = 1;
}

static int applies(R *r, const ds_pyreq *q, char *const *extras, size_t n_extras, int *out)
{
	return ds_pyreq_applies(out, q, r->o->env, (const char *const *)extras, n_extras, r->err);
}

static int has_extra(const pin *p, const char *x)
{
	for (size_t i = 0; i < p->n_extras; i++)
		if (!strcmp(p->extras[i], x))
			return 1;
	return 0;
}

/* Pushes the requirements of c (requested with extras) as needs. */
static int push_deps(R *r, proj *p, cand *c, char *const *extras, size_t n_extras)
{
	for (size_t i = 0; i < c->n_deps; i++) {
		int ok = 0;
		if (applies(r, c->deps[i], extras, n_extras, &ok) < 0)
			return -1;
		if (!ok)
			continue;
		if (!c->deps[i]->key) {
			continue;
		}
		if (r->n_needs >= RESOLVE_NEEDS_MAX)
			return ds_error_set(r->err, DS_ENOMEM, "more than %d requirements",
					    RESOLVE_NEEDS_MAX);
		push_need(r, c->deps[i]->key, c->deps[i], ds_xasprintf("%s %s", p->key, c->vtext),
			  NULL);
	}
	return 0;
}

static int hash_allowed(const need *n, const ds_pyfile *f)
{
	if (!n->root || !n->root->n_hashes || !f->sha256[0])
		return 1;
	for (size_t i = 0; i < n->root->n_hashes; i++)
		if (!strncmp(n->root->hashes[i], "sha256:", 7) &&
		    !strcmp(n->root->hashes[i] + 7, f->sha256))
			return 1;
	return 0;
}

static int pins_exact(const ds_pyreq *q)
{
	for (size_t i = 0; i < q->specs.n; i++)
		if ((q->specs.v[i].op == DS_PYSPEC_EQ && !q->specs.v[i].wildcard) ||
		    q->specs.v[i].op == DS_PYSPEC_ARBITRARY)
			return 1;
	return 0;
}

static int step(R *r, size_t i);

static int try_pin(R *r, size_t i, proj *p, cand *c, char *const *extras, size_t n_extras)
{
	size_t saved = r->n_needs;
	pin *pn;
	int rc;

	if (load_cand(r, p, c) < 0)
		return -1;
	r->pins = ds_xrealloc(r->pins, (r->n_pins + 1) * sizeof(*r->pins));
	pn = &r->pins[r->n_pins++];
	pn->p = p;
	pn->c = c;
	pn->need = i;
	pn->n_extras = n_extras;
	pn->extras = ds_xcalloc(n_extras + 1, sizeof(char *));
	for (size_t k = 0; k < n_extras; k++)
		pn->extras[k] = ds_xstrdup(extras[k]);
	if (push_deps(r, p, c, extras, n_extras) < 0)
		return -1;
	rc = step(r, i + 1);
	if (rc == 1)
		return 1;
	pop_needs(r, saved);
	pn = &r->pins[--r->n_pins];
	for (size_t k = 0; k < pn->n_extras; k++)
		free(pn->extras[k]);
	free(pn->extras);
	return rc;
}

/* 1: resolved; 0: no solution below this point; -1: hard error. */
static int step(R *r, size_t i)
{
	need *n;
	pin *pn;
	proj *p;

	/* needs an existing pin already satisfies (the common case) are passed
	 * over in a loop: recursion depth grows with pins, not with needs */
	while (i < r->n_needs) {
		const need *q = &r->needs[i];
		const pin *pp = find_pin(r, q->key);
		int more = 0;
		if (!pp || !ds_pyspecset_contains(&q->req->specs, &pp->c->ver, 1))
			break;
		for (size_t k = 0; k < q->req->n_extras; k++)
			if (!has_extra(pp, q->req->extras[k]))
				more = 1;
		if (more)
			break;
		i++;
	}
	if (i == r->n_needs)
		return 1;
	if (++r->steps > RESOLVE_STEPS_MAX) {
		ds_error_set(r->err, DS_EINVAL, "resolution gave up after %d steps",
			     RESOLVE_STEPS_MAX);
		return ds_error_hint(r->err, "pin more versions in the requirements to narrow "
					     "the search");
	}
	n = &r->needs[i];
	pn = find_pin(r, n->key);
	if (pn) {
		size_t saved = r->n_needs;
		size_t n_new = 0, old_n = pn->n_extras;
		int rc;
		if (!ds_pyspecset_contains(&n->req->specs, &pn->c->ver, 1)) {
			conflict2(r, n, &r->needs[pn->need]);
			return 0;
		}
		for (size_t k = 0; k < n->req->n_extras; k++)
			if (!has_extra(pn, n->req->extras[k]))
				n_new++;
		if (n_new) {
			size_t pi = (size_t)(pn - r->pins);
			pn->extras = ds_xrealloc(pn->extras, (old_n + n_new + 1) * sizeof(char *));
			for (size_t k = 0; k < n->req->n_extras; k++)
				if (!has_extra(pn, n->req->extras[k]))
					pn->extras[pn->n_extras++] = ds_xstrdup(n->req->extras[k]);
			if (push_deps(r, pn->p, pn->c, pn->extras, pn->n_extras) < 0)
				return -1;
			rc = step(r, i + 1);
			if (rc != 1) {
				pn = &r->pins[pi];
				pop_needs(r, saved);
				while (pn->n_extras > old_n)
					free(pn->extras[--pn->n_extras]);
			}
			return rc;
		}
		return step(r, i + 1);
	}
	p = get_proj(r, n->key);
	if (!p) {
		if (r->n_projs >= RESOLVE_PROJECTS_MAX)
			return ds_error_set(r->err, DS_ENOMEM, "more than %d projects",
					    RESOLVE_PROJECTS_MAX);
		p = &r->projs[r->n_projs++];
		memset(p, 0, sizeof(*p));
		p->key = ds_xstrdup(n->key);
	}
	if (load_project(r, p) < 0)
		return -1;
	{
		/* every need on this project so far narrows the choice */
		ds_pyspecset all = DS_PYSPECSET_INIT;
		ds_pyver *vers = ds_xcalloc(p->n + 1, sizeof(*vers));
		unsigned char *keep = ds_xcalloc(p->n + 1, 1);
		int exact = 0, any_kept = 0, rc = 0;
		const cand *hash_refused = NULL;
		const need *direct = NULL;

		for (size_t k = 0; k < r->n_needs; k++) {
			if (strcmp(r->needs[k].key, n->key))
				continue;
			ds_pyspecset_merge(&all, &r->needs[k].req->specs, NULL);
			exact |= pins_exact(r->needs[k].req);
			if (r->needs[k].root && r->needs[k].root->direct)
				direct = &r->needs[k];
		}
		for (size_t k = 0; k < r->o->n_constraints; k++) {
			const pyroot *cn = &r->o->constraints[k];
			int ap = 0;
			if (!cn->req->key || strcmp(cn->req->key, n->key))
				continue;
			if (ds_pyreq_applies(&ap, cn->req, r->o->env, NULL, 0, NULL) == 0 && ap) {
				ds_pyspecset_merge(&all, &cn->req->specs, NULL);
				exact |= pins_exact(cn->req);
			}
		}
		for (size_t k = 0; k < p->n; k++)
			vers[k] = p->c[k].ver;
		ds_pyspecset_filter(&all, vers, p->n, r->o->pre, keep);
		for (size_t k = 0; k < p->n && rc == 0; k++) {
			cand *c = &p->c[k];
			int hashes_ok = 1;
			if (!keep[k] || (c->yanked && !exact))
				continue;
			if (direct && strcmp(c->file->url, direct->root->direct->url))
				continue;
			for (size_t m = 0; m < r->n_needs; m++)
				if (!strcmp(r->needs[m].key, n->key) &&
				    !hash_allowed(&r->needs[m], c->file))
					hashes_ok = 0;
			if (!hashes_ok) {
				if (!hash_refused)
					hash_refused = c;
				continue;
			}
			any_kept = 1;
			rc = try_pin(r, i, p, c, n->req->extras, n->req->n_extras);
			/* try_pin may grow r->needs: re-point n before using it */
			n = &r->needs[i];
			p = get_proj(r, n->key);
		}
		if (rc == 0 && !any_kept && !r->have_conflict) {
			/* nothing fits: name the needs, or say what the index has */
			const need *other = NULL;
			for (size_t k = 0; k < r->n_needs && !other; k++) {
				unsigned char *kp = ds_xcalloc(p->n + 1, 1);
				ds_pyspecset two = DS_PYSPECSET_INIT;
				if (k != i && !strcmp(r->needs[k].key, n->key)) {
					ds_pyspecset_merge(&two, &n->req->specs, NULL);
					ds_pyspecset_merge(&two, &r->needs[k].req->specs, NULL);
					if (!ds_pyspecset_filter(&two, vers, p->n, 1, kp))
						other = &r->needs[k];
				}
				ds_pyspecset_release(&two);
				free(kp);
			}
			if (hash_refused) {
				ds_error_set(
				    &r->conflict, DS_EFORMAT,
				    "'%s' (sha256 %s) matches none of the --hash values of "
				    "'%s' (%s)",
				    hash_refused->file->filename, hash_refused->file->sha256,
				    n->key, n->origin);
				ds_error_hint(&r->conflict,
					      "check the --hash values, or whether the "
					      "index serves a different file");
				r->have_conflict = 1;
			} else if (other) {
				conflict2(r, n, other);
			} else {
				_cleanup_free_ char *t = req_text(n->req);
				_cleanup_buf_ ds_buf av = DS_BUF_INIT;
				ds_buf_init(&av, 4096);
				for (size_t k = 0; k < p->n && k < 12; k++)
					ds_buf_addf(&av, "%s%s", k ? ", " : "", p->c[k].vtext);
				if (p->n > 12)
					ds_buf_adds(&av, ", ...");
				if (!p->n_files) {
					ds_error_set(&r->conflict, DS_ENOENT,
						     "no package '%s' on the index (%s)", n->key,
						     n->origin);
					ds_error_hint(&r->conflict,
						      "check the name, --index-url and "
						      "--find-links");
				} else if (!p->n) {
					ds_error_set(&r->conflict, DS_EUNSUPPORTED,
						     "'%s' (%s) has no wheel for the target "
						     "interpreter%s%s",
						     n->key, n->origin,
						     p->source_only ? "; it offers only a source "
								      "archive for "
								    : "",
						     p->source_only ? p->source_only : "");
					ds_error_hint(
					    &r->conflict,
					    "build a wheel for it (pip wheel) and pass "
					    "--find-links DIR, or pick a version with a wheel "
					    "for this Python and platform");
				} else {
					ds_error_set(
					    &r->conflict, DS_EINVAL,
					    "no version of '%s' matches %s (%s); the index has "
					    "wheels for %s",
					    n->key, t, n->origin, av.data ? av.data : "none");
					ds_error_hint(
					    &r->conflict, "change the version specifier%s",
					    r->o->pre ? "" : ", or pass --pre for pre-releases");
				}
				r->have_conflict = 1;
			}
		}
		ds_pyspecset_release(&all);
		free(vers);
		free(keep);
		return rc;
	}
}

void pypicks_free(pypick *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++) {
		free(p[i].key);
		free(p[i].name);
		for (size_t k = 0; k < p[i].n_extras; k++)
			free(p[i].extras[k]);
		free(p[i].extras);
	}
	free(p);
}

static int pick_cmp(const void *a, const void *b)
{
	return strcmp(((const pypick *)a)->key, ((const pypick *)b)->key);
}

int pyresolve(pypick **out, size_t *n_out, pyindex *ix, const pyroot *roots, size_t n_roots,
	      const pyresolve_opts *o, ds_error *err)
{
	R r = {.ix = ix, .o = o, .roots = roots, .n_roots = n_roots, .err = err};
	pypick *picks = NULL;
	size_t n = 0;
	int rc;

	/* projs must not move while pins point at them: reserve */
	r.projs = ds_xcalloc(RESOLVE_PROJECTS_MAX, sizeof(*r.projs));
	for (size_t i = 0; i < n_roots; i++) {
		int ap = 0;
		if (!roots[i].req->key)
			continue;
		if (ds_pyreq_applies(&ap, roots[i].req, o->env, NULL, 0, err) < 0) {
			rc = -1;
			goto out;
		}
		if (ap)
			push_need(&r, roots[i].req->key, roots[i].req, ds_xstrdup(roots[i].origin),
				  &roots[i]);
	}
	rc = step(&r, 0);
	if (rc == 0) {
		if (r.have_conflict) {
			if (err)
				*err = r.conflict;
		} else {
			ds_error_set(err, DS_EINVAL,
				     "the requirements cannot be satisfied together");
		}
		rc = -1;
		goto out;
	}
	if (rc < 0)
		goto out;
	picks = ds_xcalloc(r.n_pins + 1, sizeof(*picks));
	for (size_t i = 0; i < r.n_pins; i++) {
		pin *pn = &r.pins[i];
		pypick *pk = &picks[n++];
		pk->key = ds_xstrdup(pn->p->key);
		pk->name = ds_xstrdup(pn->c->meta.name ? pn->c->meta.name : pn->p->key);
		snprintf(pk->version, sizeof(pk->version), "%s", pn->c->vtext);
		pk->file = pn->c->file;
		pk->n_extras = pn->n_extras;
		pk->extras = pn->extras;
		pn->extras = NULL;
		for (size_t k = 0; k < n_roots; k++)
			if (roots[k].req->key && !strcmp(roots[k].req->key, pk->key))
				pk->requested = 1;
	}
	qsort(picks, n, sizeof(*picks), pick_cmp);
	*out = picks;
	*n_out = n;
	picks = NULL;
	rc = 0;
out:
	pop_needs(&r, 0);
	free(r.needs);
	for (size_t i = 0; i < r.n_pins; i++) {
		if (r.pins[i].extras) {
			for (size_t k = 0; k < r.pins[i].n_extras; k++)
				free(r.pins[i].extras[k]);
			free(r.pins[i].extras);
		}
	}
	free(r.pins);
	for (size_t i = 0; i < r.n_projs; i++) {
		for (size_t k = 0; k < r.projs[i].n; k++) {
			pymeta_release(&r.projs[i].c[k].meta);
			for (size_t d = 0; d < r.projs[i].c[k].n_deps; d++)
				ds_pyreq_free(r.projs[i].c[k].deps[d]);
			free(r.projs[i].c[k].deps);
		}
		free(r.projs[i].c);
		free(r.projs[i].key);
		free(r.projs[i].source_only);
	}
	free(r.projs);
	return rc;
}
