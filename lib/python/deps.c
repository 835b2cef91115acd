/* The Python dependency stage: requirement files of a tree -> resolved
 * wheels -> one venv layer, reused from the layer cache when the resolved
 * set (and the target) did not change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dsbuild/pydeps.h>
#include <dsbuild/toml.h>

#include "python/pydeps_int.h"
#include "util/util.h"

#define DEFAULT_INDEX "https://pypi.org/simple"
#define PIPCONF_MAX ((size_t)1 << 20)
#define PYPROJECT_DEPS_MAX 10000

static void emit(const ds_pydeps_opts *o, ds_pydeps_event_type t, const char *text, uint64_t done,
		 uint64_t total)
{
	ds_pydeps_event ev = {t, text, done, total};

	if (o->on_event)
		o->on_event(o->event_data, &ev);
}

static void emitf(const ds_pydeps_opts *o, ds_pydeps_event_type t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void emitf(const ds_pydeps_opts *o, ds_pydeps_event_type t, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	_cleanup_free_ char *safe = NULL;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	safe = ds_pyurl_redact(buf);
	emit(o, t, safe, 0, 0);
}

int ds_pydeps_detect(const char **out, const char *dir, ds_error *err)
{
	static const char *const names[] = {"pylock.toml", "requirements.txt", "pyproject.toml"};

	(void)err;
	*out = NULL;
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *p = ds_xasprintf("%s/%s", dir, names[i]);
		struct stat st;
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (i == 2) {
			/* only with [project].dependencies or optional groups */
			json_t *doc = NULL;
			json_t *proj;
			int has;
			if (ds_toml_parse_file(&doc, p, NULL) < 0)
				return 0; /* reported when read for real */
			proj = json_object_get(doc, "project");
			has = json_is_array(json_object_get(proj, "dependencies")) &&
			      json_array_size(json_object_get(proj, "dependencies")) > 0;
			json_decref(doc);
			if (!has)
				continue;
		}
		*out = names[i];
		return 0;
	}
	return 0;
}

/* ---- pip configuration ----------------------------------------------------- */

typedef struct strv {
	size_t n;
	char **v;
} strv;

static void strv_add(strv *s, const char *v)
{
	s->v = ds_xrealloc(s->v, (s->n + 1) * sizeof(char *));
	s->v[s->n++] = ds_xstrdup(v);
}

static void strv_free(strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void add_words(strv *s, const char *text)
{
	_cleanup_free_ char *t = ds_xstrdup(text);
	char *save = NULL;

	for (char *w = strtok_r(t, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save))
		strv_add(s, w);
}

typedef struct pipconf {
	char *index_url;
	strv extra;
	strv find_links;
	int no_index;
	int pre;
} pipconf;

static void pipconf_release(pipconf *c)
{
	free(c->index_url);
	strv_free(&c->extra);
	strv_free(&c->find_links);
}

/* One pip.conf: [global] then [install] values (later files win). */
static void read_pipconf(pipconf *c, const char *path)
{
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	char *save = NULL, *line, *key = NULL;
	int section = 0;
	strv *cont = NULL;

	ds_buf_init(&b, PIPCONF_MAX + 1);
	if (!ds_path_exists(path) || ds_read_file(path, PIPCONF_MAX, &b, NULL) < 0 || !b.data)
		return;
	for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = line, *eq, *v, *e;
		(void)key;
		if ((*l == ' ' || *l == '\t') && cont && section) {
			add_words(cont, l);
			continue;
		}
		cont = NULL;
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			section = !strncmp(l, "[global]", 8) || !strncmp(l, "[install]", 9) ||
				  !strncmp(l, "[download]", 10);
			continue;
		}
		if (!section || !(eq = strpbrk(l, "=:")))
			continue;
		v = eq + 1;
		e = eq;
		while (e > l && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t'))
			*--e = '\0';
		if (!strcmp(l, "index-url") || !strcmp(l, "index_url") || !strcmp(l, "i")) {
			free(c->index_url);
			c->index_url = ds_xstrdup(v);
		} else if (!strcmp(l, "extra-index-url") || !strcmp(l, "extra_index_url")) {
			strv_free(&c->extra);
			add_words(&c->extra, v);
			cont = &c->extra;
		} else if (!strcmp(l, "find-links") || !strcmp(l, "find_links")) {
			strv_free(&c->find_links);
			add_words(&c->find_links, v);
			cont = &c->find_links;
		} else if (!strcmp(l, "no-index") || !strcmp(l, "no_index")) {
			c->no_index =
			    !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
		} else if (!strcmp(l, "pre")) {
			c->pre = !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
		}
	}
}

/* pip's order: site-wide, user, $PIP_CONFIG_FILE; then PIP_* variables. */
static void load_pipconf(pipconf *c)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME"), *v;
	const char *f = getenv("PIP_CONFIG_FILE");

	if (f && !strcmp(f, "/dev/null"))
		goto env;
	read_pipconf(c, "/etc/pip.conf");
	read_pipconf(c, "/etc/xdg/pip/pip.conf");
	if (home) {
		_cleanup_free_ char *p1 = ds_xasprintf("%s/.pip/pip.conf", home);
		_cleanup_free_ char *p2 = xdg && xdg[0]
					      ? ds_xasprintf("%s/pip/pip.conf", xdg)
					      : ds_xasprintf("%s/.config/pip/pip.conf", home);
		read_pipconf(c, p1);
		read_pipconf(c, p2);
	}
	if (f && f[0])
		read_pipconf(c, f);
env:
	if ((v = getenv("PIP_INDEX_URL")) && v[0]) {
		free(c->index_url);
		c->index_url = ds_xstrdup(v);
	}
	if ((v = getenv("PIP_EXTRA_INDEX_URL")) && v[0]) {
		strv_free(&c->extra);
		add_words(&c->extra, v);
	}
	if ((v = getenv("PIP_FIND_LINKS")) && v[0]) {
		strv_free(&c->find_links);
		add_words(&c->find_links, v);
	}
	if ((v = getenv("PIP_NO_INDEX")) && v[0])
		c->no_index = !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
	if ((v = getenv("PIP_PRE")) && v[0])
		c->pre = !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
}

/* ---- inputs ------------------------------------------------------------------ */

typedef struct inputs {
	char *source;
	ds_reqfile *rf;
	size_t n_roots;
	pyroot *roots;
	size_t n_cons;
	pyroot *cons;
	size_t n_owned;
	ds_pyreq **owned; /* from pyproject.toml */
	strv origins;
	strv direct_links; /* local wheels named in requirement files */
	strv lock_hashes;  /* pylock.toml: "sha256:<hex>" per root, "" when none */
} inputs;

static void inputs_release(inputs *in)
{
	free(in->source);
	ds_reqfile_free(in->rf);
	free(in->roots);
	free(in->cons);
	for (size_t i = 0; i < in->n_owned; i++)
		ds_pyreq_free(in->owned[i]);
	free(in->owned);
	strv_free(&in->origins);
	strv_free(&in->direct_links);
	strv_free(&in->lock_hashes);
}

static int from_reqfile(inputs *in, const ds_pydeps_opts *o, const char *name, ds_error *err)
{
	ds_reqfile_opts ro = DS_REQFILE_OPTS_INIT;
	_cleanup_free_ char *path = NULL;

	ro.root = o->source_dir;
	if (ds_reqfile_parse_file(&in->rf, name, &ro, err) < 0)
		return -1;
	in->roots = ds_xcalloc(in->rf->n_reqs + 1, sizeof(*in->roots));
	for (size_t i = 0; i < in->rf->n_reqs; i++) {
		ds_reqfile_req *q = &in->rf->reqs[i];
		pyroot *r;
		_cleanup_free_ char *origin = ds_xasprintf("%s line %d", q->file, q->line);
		if (q->req->marker) {
			/* evaluated by the resolver; nothing to check here */
		}
		if (ds_reqfile_req_needs_build(q) || (q->kind != DS_REQFILE_INDEX && !q->wheel)) {
			_cleanup_free_ char *l = ds_pyurl_redact(q->link ? q->link : "?");
			ds_error_set(err, DS_EUNSUPPORTED, "%s: '%s' has no wheel to install (%s)",
				     origin, q->req->name ? q->req->name : l,
				     q->editable		 ? "an editable install"
				     : q->kind == DS_REQFILE_VCS ? "a version-control checkout"
								 : "a source tree or archive");
			return ds_error_hint(err,
					     "build a wheel for it (pip wheel --no-deps -w "
					     "wheels/ ...) and pass --find-links wheels/ with a "
					     "plain requirement");
		}
		if (q->kind == DS_REQFILE_URL && q->wheel)
			strv_add(&in->direct_links, q->link);
		if (q->kind == DS_REQFILE_PATH && q->wheel) {
			const char *l = q->link;
			if (!strncmp(l, "file://", 7))
				l += 7;
			strv_add(&in->direct_links, l);
		}
		strv_add(&in->origins, origin);
		r = &in->roots[in->n_roots++];
		r->req = q->req;
		r->origin = in->origins.v[in->origins.n - 1];
		r->n_hashes = q->n_hashes;
		r->hashes = q->hashes;
	}
	in->cons = ds_xcalloc(in->rf->n_constraints + 1, sizeof(*in->cons));
	for (size_t i = 0; i < in->rf->n_constraints; i++) {
		ds_reqfile_req *q = &in->rf->constraints[i];
		_cleanup_free_ char *origin = ds_xasprintf("%s line %d", q->file, q->line);
		if (!q->req->key)
			continue;
		strv_add(&in->origins, origin);
		in->cons[in->n_cons].req = q->req;
		in->cons[in->n_cons].origin = in->origins.v[in->origins.n - 1];
		in->n_cons++;
	}
	(void)path;
	return 0;
}

static int add_owned_req(inputs *in, const char *text, const char *origin, ds_error *err)
{
	ds_pyreq *q = NULL;

	if (in->n_owned >= PYPROJECT_DEPS_MAX)
		return ds_error_set(err, DS_ENOMEM, "pyproject.toml: too many dependencies");
	if (ds_pyreq_parse(&q, text, err) < 0)
		return ds_error_wrap(err, "%s", origin);
	if (q->url) {
		ds_pyreq_free(q);
		ds_error_set(err, DS_EUNSUPPORTED,
			     "%s: direct URL requirements are not supported "
			     "yet",
			     origin);
		return ds_error_hint(err, "build or download the wheel into a folder and pass "
					  "--find-links FOLDER");
	}
	in->owned = ds_xrealloc(in->owned, (in->n_owned + 1) * sizeof(*in->owned));
	in->owned[in->n_owned++] = q;
	strv_add(&in->origins, origin);
	return 0;
}

static int from_pyproject(inputs *in, const ds_pydeps_opts *o, ds_error *err)
{
	_cleanup_free_ char *path = ds_xasprintf("%s/pyproject.toml", o->source_dir);
	_cleanup_json_ json_t *doc = NULL;
	json_t *proj, *deps, *opt, *v;
	size_t i;

	if (ds_toml_parse_file(&doc, path, err) < 0)
		return -1;
	proj = json_object_get(doc, "project");
	deps = json_object_get(proj, "dependencies");
	if (deps && !json_is_array(deps))
		return ds_error_set(err, DS_EINVAL,
				    "'pyproject.toml': [project].dependencies is "
				    "not an array");
	json_array_foreach (deps, i, v) {
		_cleanup_free_ char *origin = ds_xasprintf("pyproject.toml [project].dependencies "
							   "item %zu",
							   i + 1);
		if (!json_is_string(v))
			return ds_error_set(err, DS_EINVAL, "%s is not a string", origin);
		if (add_owned_req(in, json_string_value(v), origin, err) < 0)
			return -1;
	}
	opt = json_object_get(proj, "optional-dependencies");
	for (size_t g = 0; g < o->n_groups; g++) {
		json_t *grp = NULL;
		const char *k;
		json_t *gv;
		json_object_foreach (opt, k, gv)
			if (ds_pyname_equal(k, o->groups[g]))
				grp = gv;
		if (!json_is_array(grp)) {
			ds_error_set(err, DS_EINVAL,
				     "'pyproject.toml' has no optional-dependencies "
				     "group '%s'",
				     o->groups[g]);
			return ds_error_hint(err,
					     "name a group of [project.optional-dependencies]");
		}
		json_array_foreach (grp, i, v) {
			_cleanup_free_ char *origin = ds_xasprintf(
			    "pyproject.toml [project.optional-dependencies].%s item %zu",
			    o->groups[g], i + 1);
			if (!json_is_string(v))
				return ds_error_set(err, DS_EINVAL, "%s is not a string", origin);
			if (add_owned_req(in, json_string_value(v), origin, err) < 0)
				return -1;
		}
	}
	in->roots = ds_xcalloc(in->n_owned + 1, sizeof(*in->roots));
	for (size_t k = 0; k < in->n_owned; k++) {
		in->roots[k].req = in->owned[k];
		in->roots[k].origin = in->origins.v[k];
	}
	in->n_roots = in->n_owned;
	return 0;
}

/* ---- pylock.toml --------------------------------------------------------------- */

static void toml_str(ds_buf *b, const char *s)
{
	ds_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ds_buf_addf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			ds_buf_addf(b, "\\u%04x", (unsigned char)*s);
		else
			ds_buf_addch(b, *s);
	}
	ds_buf_addch(b, '"');
}

/* PEP 751: one [[packages]] per pick with its wheel (URL without
 * credentials) and sha256. */
static int write_lock(const char *path, const pypick *p, size_t n, char (*digests)[DS_DIGEST_BUFSZ],
		      const ds_pydeps_opts *o, ds_error *err)
{
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;

	ds_buf_init(&b, (size_t)64 << 20);
	ds_buf_adds(&b, "lock-version = \"1.0\"\ncreated-by = \"dsbuild\"\n");
	ds_buf_adds(&b, "requires-python = ");
	{
		_cleanup_free_ char *rp = ds_xasprintf("==%s.*", o->python_version);
		toml_str(&b, rp);
	}
	ds_buf_adds(&b, "\n");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *url = NULL;
		ds_pyurl_split_auth(&url, NULL, NULL, p[i].file->url, NULL);
		ds_buf_adds(&b, "\n[[packages]]\nname = ");
		toml_str(&b, p[i].key);
		ds_buf_adds(&b, "\nversion = ");
		toml_str(&b, p[i].version);
		ds_buf_adds(&b, "\nwheels = [{ name = ");
		toml_str(&b, p[i].file->filename);
		if (url && strncmp(url, "file:", 5)) {
			ds_buf_adds(&b, ", url = ");
			toml_str(&b, url);
		}
		ds_buf_addf(&b, ", hashes = { sha256 = \"%s\" } }]\n", ds_digest_hex(digests[i]));
	}
	if (!b.data || b.len >= b.max)
		return ds_error_set(err, DS_ENOMEM, "lock file too large");
	return ds_write_file_atomic(path, b.data, b.len, err);
}

/* Reads a pylock.toml into a fixed set: every package pinned to its wheel. */
static int from_pylock(inputs *in, const ds_pydeps_opts *o, ds_error *err)
{
	_cleanup_free_ char *path = ds_xasprintf("%s/pylock.toml", o->source_dir);
	_cleanup_json_ json_t *doc = NULL;
	json_t *pkgs, *pk;
	size_t i;

	if (ds_toml_parse_file(&doc, path, err) < 0)
		return -1;
	pkgs = json_object_get(doc, "packages");
	if (!json_is_array(pkgs))
		return ds_error_set(err, DS_EINVAL, "'pylock.toml' has no [[packages]]");
	json_array_foreach (pkgs, i, pk) {
		const char *name = json_string_value(json_object_get(pk, "name"));
		const char *ver = json_string_value(json_object_get(pk, "version"));
		const char *marker = json_string_value(json_object_get(pk, "marker"));
		json_t *wh = json_object_get(pk, "wheels");
		_cleanup_free_ char *text = NULL;
		_cleanup_free_ char *origin = ds_xasprintf("pylock.toml package %zu", i + 1);
		if (!name || !ver || !json_is_array(wh) || !json_array_size(wh)) {
			ds_error_set(err, DS_EUNSUPPORTED, "%s ('%s') has no wheels", origin,
				     name ? name : "?");
			return ds_error_hint(err,
					     "only wheels can be installed; regenerate the lock "
					     "file with wheels only");
		}
		text = marker ? ds_xasprintf("%s==%s ; %s", name, ver, marker)
			      : ds_xasprintf("%s==%s", name, ver);
		if (add_owned_req(in, text, origin, err) < 0)
			return -1;
		{
			/* the locked wheels' hashes: the resolver takes only those files */
			const char *h = NULL;
			json_t *whl;
			size_t k;
			json_array_foreach (wh, k, whl) {
				const char *x = json_string_value(
				    json_object_get(json_object_get(whl, "hashes"), "sha256"));
				if (x && strlen(x) == 64 && !h)
					h = x;
			}
			if (h) {
				_cleanup_free_ char *d = ds_xasprintf("sha256:%s", h);
				strv_add(&in->lock_hashes, d);
			} else {
				strv_add(&in->lock_hashes, "");
			}
		}
	}
	in->roots = ds_xcalloc(in->n_owned + 1, sizeof(*in->roots));
	for (size_t k = 0; k < in->n_owned; k++) {
		in->roots[k].req = in->owned[k];
		in->roots[k].origin = in->origins.v[k];
		if (in->lock_hashes.v[k][0]) {
			in->roots[k].hashes = &in->lock_hashes.v[k];
			in->roots[k].n_hashes = 1;
		}
	}
	in->n_roots = in->n_owned;
	return 0;
}

/* ---- the stage ----------------------------------------------------------------- */

ds_pydeps_result *ds_pydeps_result_free(ds_pydeps_result *r)
{
	if (!r)
		return NULL;
	free(r->source);
	free(r->created_by);
	json_decref(r->packages);
	for (size_t i = 0; i < r->n_env; i++)
		free(r->env[i]);
	free(r->env);
	free(r);
	return NULL;
}

typedef struct dl_progress {
	const ds_pydeps_opts *o;
} dl_progress;

static void on_dl(void *data, uint64_t done, uint64_t total)
{
	dl_progress *p = data;
	emit(p->o, DS_PYDEPS_EV_DOWNLOAD, "python wheels", done, total);
}

static const pyroot *root_of(const inputs *in, const char *key)
{
	for (size_t i = 0; i < in->n_roots; i++)
		if (in->roots[i].req->key && !strcmp(in->roots[i].req->key, key))
			return &in->roots[i];
	return NULL;
}

int ds_pydeps_build(ds_pydeps_result **out, const ds_pydeps_opts *o, ds_store *store, ds_error *err)
{
	inputs in = {0};
	pipconf pc = {0};
	pyindex *ix = NULL;
	pyindex_opts io = {0};
	ds_pyenv env;
	ds_pytags *tags = NULL;
	pyresolve_opts ro = {0};
	pypick *picks = NULL;
	size_t n_picks = 0;
	char(*digests)[DS_DIGEST_BUFSZ] = NULL;
	const ds_pyfile **files = NULL;
	const char *src = NULL;
	strv extra = {0}, links = {0};
	const char *index_url = NULL;
	int no_index, pre, hash_mode = 0;
	ds_pytarget tg = {0};
	_cleanup_buf_ ds_buf key = DS_BUF_INIT;
	ds_pydeps_result *res = NULL;
	char *stage = NULL;
	int rc = -1;

	if (!o->python_version || !o->python) {
		ds_error_set(err, DS_EINVAL, "the base image has no Python");
		return ds_error_hint(err, "use the default base (debian:bookworm)");
	}
	if (ds_pydeps_detect(&src, o->source_dir, err) < 0)
		return -1;
	if (!src && !o->n_extra_requirements)
		return ds_error_set(err, DS_ENOENT,
				    "no requirements.txt, pyproject.toml or "
				    "pylock.toml in '%s'",
				    o->source_dir);
	if (!src)
		src = "buildpack requirements";
	in.source = ds_xstrdup(src);
	if (!strcmp(src, "buildpack requirements")) {
		/* only the buildpacks' requirements */
	} else if (!strcmp(src, "requirements.txt")) {
		if (from_reqfile(&in, o, "requirements.txt", err) < 0)
			goto out;
	} else if (!strcmp(src, "pyproject.toml")) {
		if (from_pyproject(&in, o, err) < 0)
			goto out;
	} else if (from_pylock(&in, o, err) < 0) {
		goto out;
	}

	/* requirements the buildpacks add (docs/buildpacks.md), after the project's */
	if (o->n_extra_requirements && !strcmp(src, "pylock.toml")) {
		ds_error_set(err, DS_EINVAL, "buildpacks add Python requirements, and the project "
					     "installs a locked set (pylock.toml)");
		ds_error_hint(err, "add them to the lock (they are: %s%s)", o->extra_requirements[0],
			      o->n_extra_requirements > 1 ? " ..." : "");
		goto out;
	}
	if (o->n_extra_requirements && in.rf && ds_reqfile_hash_checking(in.rf)) {
		ds_error_set(err, DS_EINVAL, "buildpacks add Python requirements, and "
					     "requirements.txt is in hash-checking mode");
		ds_error_hint(err, "pin them with their hashes in requirements.txt");
		goto out;
	}
	for (size_t i = 0; i < o->n_extra_requirements; i++) {
		ds_pyreq *rq = NULL;
		const char *origin = o->extra_origins && o->extra_origins[i] ? o->extra_origins[i] :
									       "a buildpack";
		if (ds_pyreq_parse(&rq, o->extra_requirements[i], err) < 0) {
			ds_error_wrap(err, "%s", origin);
			goto out;
		}
		in.owned = ds_xrealloc(in.owned, (in.n_owned + 1) * sizeof(*in.owned));
		in.owned[in.n_owned++] = rq;
		in.roots = ds_xrealloc(in.roots, (in.n_roots + 1) * sizeof(*in.roots));
		memset(&in.roots[in.n_roots], 0, sizeof(*in.roots));
		strv_add(&in.origins, origin);
		in.roots[in.n_roots].req = rq;
		in.roots[in.n_roots].origin = in.origins.v[in.origins.n - 1];
		in.n_roots++;
	}

	/* the target */
	if (ds_pyenv_for_target(&env, o->python_version, o->python_full_version, o->platform, err) <
	    0)
		goto out;
	tg.python = o->python_version;
	tg.glibc = o->glibc ? o->glibc : "2.17";
	tg.arch = o->platform ? o->platform : "linux/amd64";
	if (ds_pytags_supported(&tags, &tg, err) < 0)
		goto out;
	if (in.rf) {
		if (ds_reqfile_check_hashes(in.rf, &env, err) < 0)
			goto out;
		hash_mode = ds_reqfile_hash_checking(in.rf);
	}

	/* where packages come from: flags, then the file, then pip's config */
	load_pipconf(&pc);
	index_url = pc.index_url ? pc.index_url : DEFAULT_INDEX;
	for (size_t i = 0; i < pc.extra.n; i++)
		strv_add(&extra, pc.extra.v[i]);
	/* a builder's index: over pip's config, under the files and flags */
	if (o->default_index_url) {
		index_url = o->default_index_url;
		strv_free(&extra);
	}
	for (size_t i = 0; i < o->n_default_extra_index_urls; i++)
		strv_add(&extra, o->default_extra_index_urls[i]);
	for (size_t i = 0; i < pc.find_links.n; i++)
		strv_add(&links, pc.find_links.v[i]);
	no_index = pc.no_index;
	pre = pc.pre;
	if (in.rf) {
		if (in.rf->index_url.value) {
			index_url = in.rf->index_url.value;
			strv_free(&extra);
		}
		for (size_t i = 0; i < in.rf->n_extra_index_urls; i++)
			strv_add(&extra, in.rf->extra_index_urls[i].value);
		for (size_t i = 0; i < in.rf->n_find_links; i++)
			strv_add(&links, in.rf->find_links[i].value);
		no_index |= in.rf->no_index;
		pre |= in.rf->pre;
	}
	if (o->index_url)
		index_url = o->index_url;
	for (size_t i = 0; i < o->n_extra_index_urls; i++)
		strv_add(&extra, o->extra_index_urls[i]);
	for (size_t i = 0; i < o->n_find_links; i++) {
		/* a folder on the command line is relative to the working directory;
		 * the files' are relative to the tree */
		const char *l = o->find_links[i];
		if (!strstr(l, "://") && l[0] != '/') {
			_cleanup_free_ char *abs = ds_path_absolute(l);
			strv_add(&links, abs ? abs : l);
		} else {
			strv_add(&links, l);
		}
	}
	for (size_t i = 0; i < in.direct_links.n; i++)
		strv_add(&links, in.direct_links.v[i]);
	no_index |= o->no_index;
	pre |= o->pre;
	io.index_url = no_index ? NULL : index_url;
	io.extra = no_index ? NULL : (const char *const *)extra.v;
	io.n_extra = no_index ? 0 : extra.n;
	io.find_links = (const char *const *)links.v;
	io.n_find_links = links.n;
	io.root = o->source_dir;
	io.parallel = o->parallel;
	if (pyindex_new(&ix, &io, err) < 0)
		goto out;
	if (io.index_url)
		emitf(o, DS_PYDEPS_EV_INFO, "python: index %s", io.index_url);
	for (size_t i = 0; i < io.n_extra; i++)
		emitf(o, DS_PYDEPS_EV_INFO, "python: extra index %s", io.extra[i]);

	ro.env = &env;
	ro.tags = tags;
	ro.pre = pre;
	ro.hash_checking = hash_mode;
	ro.n_constraints = in.n_cons;
	ro.constraints = in.cons;
	ro.store = store;
	if (pyresolve(&picks, &n_picks, ix, in.roots, in.n_roots, &ro, err) < 0) {
		ds_error_wrap(err, "cannot resolve the Python requirements of '%s'", src);
		goto out;
	}

	/* every file's sha256: from the index, else by downloading it */
	digests = ds_xcalloc(n_picks + 1, sizeof(*digests));
	files = ds_xcalloc(n_picks + 1, sizeof(*files));
	{
		size_t n_unknown = 0;
		for (size_t i = 0; i < n_picks; i++) {
			if (picks[i].file->sha256[0])
				snprintf(digests[i], DS_DIGEST_BUFSZ, "sha256:%s",
					 picks[i].file->sha256);
			else
				files[n_unknown++] = picks[i].file;
		}
		if (n_unknown) {
			char(*dg)[DS_DIGEST_BUFSZ] = ds_xcalloc(n_unknown, sizeof(*dg));
			dl_progress dp = {o};
			if (pyindex_download(ix, files, n_unknown, store, dg, on_dl, &dp, err) <
			    0) {
				free(dg);
				goto out;
			}
			for (size_t i = 0, k = 0; i < n_picks; i++)
				if (!picks[i].file->sha256[0])
					memcpy(digests[i], dg[k++], DS_DIGEST_BUFSZ);
			free(dg);
		}
	}
	/* hashes given for a package (--hash, a lock file) must match its file;
	 * in hash-checking mode every package needs one */
	for (size_t i = 0; i < n_picks; i++) {
		const pyroot *r = root_of(&in, picks[i].key);
		int ok = 0;
		if (!r || !r->n_hashes) {
			if (!hash_mode)
				continue;
			ds_error_set(err, DS_EINVAL,
				     "hash-checking mode: '%s' %s is needed "
				     "(a dependency) but not pinned with a "
				     "hash in '%s'",
				     picks[i].key, picks[i].version, src);
			ds_error_hint(err, "add '%s==%s --hash=%s' to %s", picks[i].key,
				      picks[i].version, digests[i], src);
			goto out;
		}
		for (size_t k = 0; k < r->n_hashes; k++)
			if (!strcmp(r->hashes[k], digests[i]))
				ok = 1;
		if (!ok) {
			ds_error_set(err, DS_EFORMAT,
				     "'%s' has sha256 %s, which none of the "
				     "hashes given for '%s' (%s) matches",
				     picks[i].file->filename, ds_digest_hex(digests[i]),
				     picks[i].key, r->origin);
			ds_error_hint(err, "check the hashes, or whether the index serves a "
					   "different file");
			goto out;
		}
	}

	res = ds_xcalloc(1, sizeof(*res));
	res->source = ds_xstrdup(src);
	res->packages = json_array();
	ds_buf_init(&key, (size_t)16 << 20);
	ds_buf_addf(&key, "pydeps/v1 prefix=%s python=%s exe=%s platform=%s mtime=%lld level=%d",
		    DS_PYVENV_PREFIX, o->python_version, o->python,
		    o->platform ? o->platform : "linux/amd64", (long long)o->mtime,
		    o->layer.gzip_level);
	for (size_t i = 0; i < n_picks; i++) {
		json_t *p = json_object();
		_cleanup_free_ char *line = ds_xasprintf("%s==%s (%s)", picks[i].name,
							 picks[i].version, picks[i].file->filename);
		json_object_set_new(p, "name", json_string(picks[i].key));
		json_object_set_new(p, "version", json_string(picks[i].version));
		json_object_set_new(p, "filename", json_string(picks[i].file->filename));
		json_object_set_new(p, "sha256", json_string(ds_digest_hex(digests[i])));
		json_object_set_new(p, "requested", json_boolean(picks[i].requested));
		json_array_append_new(res->packages, p);
		ds_buf_addf(&key, " %s==%s %s %s%s", picks[i].key, picks[i].version,
			    picks[i].file->filename, digests[i], picks[i].requested ? " R" : "");
		emit(o, DS_PYDEPS_EV_RESOLVED, line, 0, 0);
	}
	if (!key.data || key.len >= key.max) {
		ds_error_set(err, DS_ENOMEM, "too many packages");
		goto out;
	}
	res->created_by = ds_xasprintf("dsbuild: python packages in %s (%zu from %s)",
				       DS_PYVENV_PREFIX, n_picks, src);
	res->env = ds_xcalloc(2, sizeof(char *));
	res->env[res->n_env++] = ds_xstrdup("VIRTUAL_ENV=" DS_PYVENV_PREFIX);

	if (o->lock_out && write_lock(o->lock_out, picks, n_picks, digests, o, err) < 0)
		goto out;

	if (!o->no_cache && ds_layer_cache_get(store, key.data, &res->layer)) {
		res->cached = 1;
		*out = res;
		res = NULL;
		rc = 0;
		goto out;
	}
	{
		dl_progress dp = {o};
		for (size_t i = 0; i < n_picks; i++)
			files[i] = picks[i].file;
		if (pyindex_download(ix, files, n_picks, store, digests, on_dl, &dp, err) < 0)
			goto out;
	}
	{
		_cleanup_free_ char *anchor = ds_xasprintf("%s/pydeps", ds_store_root(store));
		ds_layer_writer *w = NULL;
		pyinstall pi = {o->python_version, o->python, NULL, o->mtime};
		stage = ds_mkdtemp_beside(anchor, err);
		if (!stage)
			goto out;
		pi.stage = stage;
		if (pyvenv_create(&pi, err) < 0)
			goto out;
		for (size_t i = 0; i < n_picks; i++) {
			_cleanup_buf_ ds_buf path = DS_BUF_INIT;
			ds_buf_init(&path, 4096);
			if (ds_store_blob_path(store, digests[i], &path, err) < 0)
				goto out;
			if (pywheel_install(&pi, path.data, picks[i].file->filename,
					    picks[i].requested, err) < 0) {
				ds_error_wrap(err, "cannot install '%s' %s", picks[i].key,
					      picks[i].version);
				goto out;
			}
		}
		if (ds_layer_writer_new(&w, store, &o->layer, err) < 0)
			goto out;
		if (pyvenv_write_layer(&pi, w, err) < 0) {
			ds_layer_writer_free(w);
			goto out;
		}
		if (ds_layer_writer_finish(w, &res->layer, err) < 0)
			goto out;
		ds_layer_cache_put(store, key.data, &res->layer, NULL);
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	if (stage) {
		ds_rm_rf(stage);
		free(stage);
	}
	ds_pydeps_result_free(res);
	free(digests);
	free(files);
	pypicks_free(picks, n_picks);
	pyindex_free(ix);
	ds_pytags_free(tags);
	pipconf_release(&pc);
	strv_free(&extra);
	strv_free(&links);
	inputs_release(&in);
	return rc;
}
