/* Cloud Native Buildpacks: buildpacks with bin/detect and bin/build
 * (Buildpack API 0.7 to 0.12) run unmodified, on the host, as the user
 * running dsbuild.  Detection runs bin/detect and resolves the build plans of
 * the group; the build runs bin/build of each buildpack in order, then turns
 * its launch layers into image layers at /layers/<id>/<layer>, its env files
 * into the image's env, launch.toml into processes and labels, and keeps its
 * cache layers for the next build.  docs/internals/cnb.md has the details. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dsbuild/image.h>
#include <dsbuild/layer.h>
#include <dsbuild/toml.h>

#include "buildpack/bp.h"
#include "buildpack/cnb.h"
#include "util/util.h"

extern char **environ;

#define IMAGE_LAYERS "/layers"
#define IMAGE_APP "/workspace"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define TAIL_KEEP 8192 /* bytes of a buildpack's stderr kept */
#define TAIL_SHOW 1200 /* ... and shown in an error */
#define TAIL_LINES 12
#define DRAIN_MAX ((size_t)1 << 20) /* stderr read after the program exited */

/* ---- small helpers ------------------------------------------------------------- */

/* TOML a buildpack wrote: a syntax error is bad input, as in buildpack.toml. */
static int parse_toml(json_t **out, const char *name, const char *text, size_t len, ds_error *err)
{
	if (ds_toml_parse(out, name, text, len, err) == 0)
		return 0;
	if (err && err->code == DS_EFORMAT)
		err->code = DS_EINVAL;
	return -1;
}

static int is_object(const json_t *v)
{
	return json_is_object(v) && !ds_toml_tag_kind(v);
}

int bp_cnb_api_minor(const char *api)
{
	long v = 0;

	if (!api || strncmp(api, "0.", 2) || !api[2])
		return -1;
	for (const char *p = api + 2; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return (int)v;
}

/* The id as a folder name: '/' -> '_' (as the CNB lifecycle does). */
static char *escape_id(const char *id)
{
	char *s = ds_xstrdup(id);
	for (char *p = s; *p; p++)
		if (*p == '/')
			*p = '_';
	return s;
}

static char *replace_all(const char *s, const char *from, const char *to)
{
	ds_buf b = DS_BUF_INIT;
	size_t fl = strlen(from);
	const char *p = s, *q;

	ds_buf_init(&b, 0);
	while ((q = strstr(p, from))) {
		char next = q[fl];
		if (next && next != '/' && next != ':') {
			ds_buf_add(&b, p, (size_t)(q - p) + 1);
			p = q + 1;
			continue;
		}
		ds_buf_add(&b, p, (size_t)(q - p));
		ds_buf_adds(&b, to);
		p = q + fl;
	}
	ds_buf_adds(&b, p);
	return ds_buf_detach(&b, NULL);
}

char *bp_cnb_rewrite_path(const bp_cnb_rewrite *rw, const char *s)
{
	char *a = ds_xstrdup(s), *b;

	if (rw && rw->layers_root && *rw->layers_root && strcmp(rw->layers_root, "/")) {
		b = replace_all(a, rw->layers_root, IMAGE_LAYERS);
		free(a);
		a = b;
	}
	if (rw && rw->app_root && *rw->app_root && strcmp(rw->app_root, "/")) {
		b = replace_all(a, rw->app_root, IMAGE_APP);
		free(a);
		a = b;
	}
	return a;
}

/* Reads a regular file (never through a link) of at most max bytes into out
 * (reset first).  *missing = 1 (and 0 returned) when nothing is there. */
static int read_small(ds_buf *out, const char *path, const char *name, size_t max, int *missing,
		      ds_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;

	*missing = 0;
	ds_buf_reset(out);
	if (fd < 0 && errno == ENOENT) {
		*missing = 1;
		return 0;
	}
	if (fd < 0 && errno == ELOOP)
		return ds_error_set(err, DS_EINVAL, "'%s' is a symbolic link, not a file", name);
	if (fd < 0)
		return ds_error_set_errno(err, errno, "cannot open '%s'", name);
	if (fstat(fd, &st) < 0)
		return ds_error_set_errno(err, errno, "cannot read '%s'", name);
	if (!S_ISREG(st.st_mode))
		return ds_error_set(err, DS_EINVAL, "'%s' is not a regular file", name);
	if ((uint64_t)st.st_size > max)
		return ds_error_set(err, DS_ENOMEM, "'%s' is larger than the limit of %zu bytes",
				    name, max);
	return ds_read_fd(fd, name, max, out, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The names in dir, sorted; none when dir does not exist. */
static int list_dir(char ***out, size_t *n_out, const char *dir, const char *name, size_t max,
		    ds_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (!d && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (!d)
		return ds_error_set_errno(err, errno, "cannot read folder '%s'", name);
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == max) {
			closedir(d);
			free_strv(v, n);
			return ds_error_set(err, DS_ENOMEM, "'%s' holds more than %zu entries",
					    name, max);
		}
		v = ds_xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = ds_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	*n_out = n;
	return 0;
}

static int is_dir(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- TOML out ------------------------------------------------------------------ */

static void toml_string(ds_buf *b, const char *s, size_t len)
{
	ds_buf_addch(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"':
			ds_buf_adds(b, "\\\"");
			break;
		case '\\':
			ds_buf_adds(b, "\\\\");
			break;
		case '\b':
			ds_buf_adds(b, "\\b");
			break;
		case '\t':
			ds_buf_adds(b, "\\t");
			break;
		case '\n':
			ds_buf_adds(b, "\\n");
			break;
		case '\f':
			ds_buf_adds(b, "\\f");
			break;
		case '\r':
			ds_buf_adds(b, "\\r");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				ds_buf_addf(b, "\\u%04x", c);
			else
				ds_buf_addch(b, (char)c);
		}
	}
	ds_buf_addch(b, '"');
}

static void toml_key(ds_buf *b, const char *k)
{
	int bare = *k != '\0';
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			bare = 0;
	if (bare)
		ds_buf_adds(b, k);
	else
		toml_string(b, k, strlen(k));
}

static int toml_inline(ds_buf *b, const json_t *v, int depth, ds_error *err)
{
	const char *tag = ds_toml_tag_kind(v);

	if (depth > 64)
		return ds_error_set(err, DS_ENOMEM, "metadata nested more than 64 deep");
	if (tag) {
		ds_buf_adds(b, json_string_value(json_object_get(v, "value")));
		return 0;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		toml_string(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		ds_buf_addf(b, "%lld", (long long)json_integer_value(v));
		return 0;
	case JSON_REAL: {
		char num[64];
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		ds_buf_adds(b, num);
		if (!strpbrk(num, ".eEin"))
			ds_buf_adds(b, ".0");
		return 0;
	}
	case JSON_TRUE:
	case JSON_FALSE:
		ds_buf_adds(b, json_is_true(v) ? "true" : "false");
		return 0;
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		ds_buf_addch(b, '[');
		json_array_foreach ((json_t *)v, i, x) {
			if (i)
				ds_buf_adds(b, ", ");
			if (toml_inline(b, x, depth + 1, err) < 0)
				return -1;
		}
		ds_buf_addch(b, ']');
		return 0;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		int first = 1;
		ds_buf_addch(b, '{');
		json_object_foreach ((json_t *)v, k, x) {
			ds_buf_adds(b, first ? " " : ", ");
			first = 0;
			toml_key(b, k);
			ds_buf_adds(b, " = ");
			if (toml_inline(b, x, depth + 1, err) < 0)
				return -1;
		}
		ds_buf_adds(b, first ? "}" : " }");
		return 0;
	}
	default:
		return ds_error_set(err, DS_EINVAL,
				    "metadata holds a null, which TOML cannot write");
	}
}

static int array_of_tables(const json_t *v)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || !json_array_size(v))
		return 0;
	json_array_foreach ((json_t *)v, i, x)
		if (!is_object(x))
			return 0;
	return 1;
}

static int toml_table(ds_buf *b, const json_t *t, const char *path, int depth, ds_error *err)
{
	const char *k;
	json_t *v;

	if (depth > 64)
		return ds_error_set(err, DS_ENOMEM, "metadata nested more than 64 deep");
	json_object_foreach ((json_t *)t, k, v) {
		if (is_object(v) || array_of_tables(v))
			continue;
		toml_key(b, k);
		ds_buf_adds(b, " = ");
		if (toml_inline(b, v, depth + 1, err) < 0)
			return -1;
		ds_buf_addch(b, '\n');
	}
	json_object_foreach ((json_t *)t, k, v) {
		ds_buf sub = DS_BUF_INIT;
		size_t i;
		json_t *x;
		int rc = 0;

		if (!is_object(v) && !array_of_tables(v))
			continue;
		ds_buf_init(&sub, 0);
		if (*path)
			ds_buf_addf(&sub, "%s.", path);
		toml_key(&sub, k);
		if (is_object(v)) {
			ds_buf_addf(b, "\n[%s]\n", sub.data);
			rc = toml_table(b, v, sub.data, depth + 1, err);
		} else {
			json_array_foreach (v, i, x) {
				ds_buf_addf(b, "\n[[%s]]\n", sub.data);
				if ((rc = toml_table(b, x, sub.data, depth + 1, err)) < 0)
					break;
			}
		}
		ds_buf_release(&sub);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int bp_cnb_toml_write(ds_buf *out, const json_t *doc, ds_error *err)
{
	ds_buf b = DS_BUF_INIT;

	if (!is_object(doc))
		return ds_error_set(err, DS_EINVAL, "a TOML document must be a table");
	ds_buf_init(&b, CNB_TOML_MAX * 4);
	if (toml_table(&b, doc, "", 0, err) < 0) {
		ds_buf_release(&b);
		return -1;
	}
	ds_buf_reset(out);
	if (ds_buf_add(out, b.data, b.len) < 0) {
		ds_buf_release(&b);
		return ds_error_set(err, DS_ENOMEM, "a TOML document is too large to write");
	}
	ds_buf_release(&b);
	return 0;
}

/* ---- the build plan (detect) ---------------------------------------------------- */

static int plan_list(json_t **out, json_t *sec, const char *key, const char *where, int req,
		     const char *name, ds_error *err)
{
	json_t *list = json_object_get(sec, key), *e, *r = json_array();
	size_t i;

	if (list && !json_is_array(list)) {
		json_decref(r);
		return ds_error_set(err, DS_EINVAL,
				    "'%s': %s%s must be an array of tables ([[%s%s]])", name, where,
				    key, where, key);
	}
	if (json_array_size(list) > CNB_ENTRIES_MAX) {
		json_decref(r);
		return ds_error_set(err, DS_ENOMEM, "'%s': %s%s has more than %d entries", name,
				    where, key, CNB_ENTRIES_MAX);
	}
	json_array_foreach (list, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		json_t *md = json_object_get(e, "metadata"), *o;
		if (!is_object(e) || !n || !*n) {
			json_decref(r);
			return ds_error_set(err, DS_EINVAL, "'%s': %s%s[%zu] needs a name", name,
					    where, key, i);
		}
		if (md && !is_object(md)) {
			json_decref(r);
			return ds_error_set(err, DS_EINVAL,
					    "'%s': %s%s[%zu] (%s): metadata must be a "
					    "table",
					    name, where, key, i, n);
		}
		o = json_object();
		json_object_set_new(o, "name", json_string(n));
		if (req) {
			md = md ? json_deep_copy(md) : json_object();
			/* Buildpack API 0.3 moved requires.version into metadata. */
			if (json_is_string(json_object_get(e, "version")) &&
			    !json_object_get(md, "version"))
				json_object_set(md, "version", json_object_get(e, "version"));
			json_object_set_new(o, "metadata", md);
		}
		json_array_append_new(r, o);
	}
	*out = r;
	return 0;
}

static int plan_option(json_t **out, json_t *sec, const char *where, const char *name,
		       ds_error *err)
{
	json_t *p = NULL, *r = NULL, *o;

	if (plan_list(&p, sec, "provides", where, 0, name, err) < 0)
		return -1;
	if (plan_list(&r, sec, "requires", where, 1, name, err) < 0) {
		json_decref(p);
		return -1;
	}
	o = json_object();
	json_object_set_new(o, "provides", p);
	json_object_set_new(o, "requires", r);
	*out = o;
	return 0;
}

int bp_cnb_plan_parse(json_t **out, const char *text, size_t len, const char *name, ds_error *err)
{
	_cleanup_json_ json_t *doc = NULL;
	json_t *opts, *o, *alt, * or ;
	size_t i;

	if (parse_toml(&doc, name, text, len, err) < 0)
		return -1;
	or = json_object_get(doc, "or");
	if (or &&!array_of_tables(or) && !(json_is_array(or) && !json_array_size(or)))
		return ds_error_set(err, DS_EINVAL,
				    "'%s': 'or' must be an array of tables ([[or]])", name);
	if (json_array_size(or) > CNB_OR_MAX)
		return ds_error_set(err, DS_ENOMEM, "'%s': more than %d [[or]] alternatives", name,
				    CNB_OR_MAX);
	if (plan_option(&o, doc, "", name, err) < 0)
		return -1;
	opts = json_array();
	json_array_append_new(opts, o);
	json_array_foreach (or, i, alt) {
		char where[32];
		snprintf(where, sizeof(where), "or[%zu].", i);
		if (plan_option(&o, alt, where, name, err) < 0) {
			json_decref(opts);
			return -1;
		}
		json_array_append_new(opts, o);
	}
	*out = opts;
	return 0;
}

/* ---- resolving the plans of a group ------------------------------------------------ */

/* One trial: which alternative each buildpack uses (idx) and which are in. */
typedef struct trial {
	size_t n;
	size_t *idx;
	int *in;
	json_t *reasons;  /* per buildpack: why it was left out, or null */
	json_t *problems; /* per buildpack: why a required one fails the trial, or null */
	json_t *deps;	  /* name -> {"pending","providers","requires","early"} */
	int removed, valid;
} trial;

static json_t *dep_get(json_t *deps, const char *name)
{
	json_t *d = json_object_get(deps, name);
	if (!d) {
		d = json_pack("{s:[],s:[],s:[],s:[]}", "pending", "providers", "requires", "early");
		json_object_set_new(deps, name, d);
	}
	return d;
}

/* The dependencies of the buildpacks in the trial, as the lifecycle maps
 * them: a require is met by the providers before it (or itself). */
static void trial_deps(trial *t, const json_t *cands)
{
	json_t *c, *e;
	size_t i, j;

	json_decref(t->deps);
	t->deps = json_object();
	json_array_foreach ((json_t *)cands, i, c) {
		json_t *opt = json_array_get(json_object_get(c, "options"), t->idx[i]);
		if (!t->in[i])
			continue;
		json_array_foreach (json_object_get(opt, "provides"), j, e) {
			json_t *d = dep_get(t->deps, json_string_value(json_object_get(e, "name")));
			json_array_append_new(json_object_get(d, "pending"),
					      json_integer((json_int_t)i));
		}
		json_array_foreach (json_object_get(opt, "requires"), j, e) {
			json_t *d = dep_get(t->deps, json_string_value(json_object_get(e, "name")));
			json_t *pending = json_object_get(d, "pending");
			json_t *prov = json_object_get(d, "providers");
			json_array_extend(prov, pending);
			json_array_clear(pending);
			if (!json_array_size(prov)) {
				json_array_append_new(json_object_get(d, "early"),
						      json_integer((json_int_t)i));
			} else {
				json_t *r = json_object();
				json_object_set(r, "name", json_object_get(e, "name"));
				json_object_set(r, "metadata", json_object_get(e, "metadata"));
				json_array_append_new(json_object_get(d, "requires"), r);
			}
		}
	}
}

/* Marks buildpack i as failing the trial for why: an optional one is left
 * out, a required one makes the trial invalid. */
static int trial_fail(trial *t, const json_t *cands, size_t i, const char *why)
{
	if (!t->in[i])
		return 0;
	if (json_is_true(json_object_get(json_array_get(cands, i), "optional"))) {
		t->in[i] = 0;
		json_array_set_new(t->reasons, i, json_string(why));
		return 1;
	}
	if (json_is_null(json_array_get(t->problems, i)))
		json_array_set_new(t->problems, i, json_string(why));
	t->valid = 0;
	return 0;
}

static void trial_run(trial *t, const json_t *cands, int final)
{
	t->removed = 0;
	t->valid = 1;
	json_array_clear(t->reasons);
	json_array_clear(t->problems);
	for (size_t i = 0; i < t->n; i++) {
		t->in[i] = 1;
		json_array_append_new(t->reasons, json_null());
		json_array_append_new(t->problems, json_null());
	}
	for (;;) {
		const char *name;
		json_t *d, *x;
		size_t j;
		int removed = 0;
		char why[512];

		trial_deps(t, cands);
		json_object_foreach (t->deps, name, d) {
			json_array_foreach (json_object_get(d, "early"), j, x) {
				snprintf(why, sizeof(why),
					 "its build plan requires '%s', which no "
					 "buildpack before it provides",
					 name);
				removed |= trial_fail(t, cands, (size_t)json_integer_value(x), why);
			}
			if (!final)
				continue;
			json_array_foreach (json_object_get(d, "pending"), j, x) {
				snprintf(why, sizeof(why),
					 "its build plan provides '%s', which no "
					 "buildpack after it requires",
					 name);
				removed |= trial_fail(t, cands, (size_t)json_integer_value(x), why);
			}
		}
		if (!removed || !t->valid)
			break;
	}
	for (size_t i = 0; i < t->n; i++)
		t->removed += !t->in[i];
}

static void trial_copy(trial *to, const trial *from)
{
	memcpy(to->idx, from->idx, from->n * sizeof(*from->idx));
	memcpy(to->in, from->in, from->n * sizeof(*from->in));
	json_array_clear(to->reasons);
	json_array_extend(to->reasons, from->reasons);
	json_array_clear(to->problems);
	json_array_extend(to->problems, from->problems);
	json_decref(to->deps);
	to->deps = json_incref(from->deps);
	to->removed = from->removed;
	to->valid = from->valid;
}

static void trial_init(trial *t, size_t n)
{
	t->n = n;
	t->idx = ds_xcalloc(n, sizeof(*t->idx));
	t->in = ds_xcalloc(n, sizeof(*t->in));
	t->reasons = json_array();
	t->problems = json_array();
	t->deps = NULL;
}

static void trial_release(trial *t)
{
	free(t->idx);
	free(t->in);
	json_decref(t->reasons);
	json_decref(t->problems);
	json_decref(t->deps);
}

int bp_cnb_resolve(json_t *cands, int final, int *valid, ds_error *err)
{
	size_t n = json_array_size(cands), tried = 0;
	trial t, best;
	json_t *c;
	size_t i;
	int have = 0;

	*valid = 1;
	if (n > CNB_GROUP_MAX)
		return ds_error_set(err, DS_ENOMEM,
				    "more than %d Cloud Native Buildpacks in one "
				    "build",
				    CNB_GROUP_MAX);
	if (!n)
		return 0;
	json_array_foreach (cands, i, c)
		if (!json_array_size(json_object_get(c, "options")))
			return ds_error_set(err, DS_EINVAL, "buildpack %zu has no build plan", i);
	trial_init(&t, n);
	trial_init(&best, n);
	for (;;) {
		size_t k;
		trial_run(&t, cands, final);
		tried++;
		if (!have || (t.valid && (!best.valid || t.removed < best.removed))) {
			trial_copy(&best, &t);
			have = 1;
		}
		if ((best.valid && !best.removed) || tried >= CNB_TRIALS_MAX)
			break;
		/* The next combination: the last buildpack's alternatives first. */
		for (k = n; k > 0; k--) {
			size_t m = json_array_size(
			    json_object_get(json_array_get(cands, k - 1), "options"));
			if (++t.idx[k - 1] < m)
				break;
			t.idx[k - 1] = 0;
		}
		if (k == 0)
			break;
	}
	json_array_foreach (cands, i, c) {
		json_t *entries = json_array(), *d;
		const char *name;
		json_object_set_new(c, "option",
				    json_integer(best.in[i] ? (json_int_t)best.idx[i] : -1));
		json_object_del(c, "reason");
		json_object_del(c, "problem");
		if (!best.in[i])
			json_object_set(c, "reason", json_array_get(best.reasons, i));
		if (!json_is_null(json_array_get(best.problems, i)))
			json_object_set(c, "problem", json_array_get(best.problems, i));
		json_object_foreach (best.deps, name, d) {
			json_t *x;
			size_t j;
			int mine = 0;
			json_array_foreach (json_object_get(d, "providers"), j, x)
				mine |= (size_t)json_integer_value(x) == i;
			if (mine && best.in[i])
				json_array_extend(entries, json_object_get(d, "requires"));
		}
		json_object_set_new(c, "entries", entries);
	}
	*valid = best.valid;
	trial_release(&t);
	trial_release(&best);
	return 0;
}

/* ---- layer metadata, launch.toml ------------------------------------------------- */

int bp_cnb_layer_parse(int types[3], json_t **metadata, const char *text, size_t len,
		       const char *name, ds_error *err)
{
	static const char *const keys[3] = {"launch", "build", "cache"};
	_cleanup_json_ json_t *doc = NULL;
	json_t *t, *md;
	int v[3] = {0, 0, 0};

	if (parse_toml(&doc, name, text, len, err) < 0)
		return -1;
	t = json_object_get(doc, "types");
	if (t && !is_object(t))
		return ds_error_set(err, DS_EINVAL, "'%s': 'types' must be a table ([types])",
				    name);
	for (int i = 0; i < 3; i++) {
		json_t *b = json_object_get(t, keys[i]);
		if (b && !json_is_boolean(b))
			return ds_error_set(err, DS_EINVAL,
					    "'%s': [types] %s must be true or false", name,
					    keys[i]);
		v[i] = json_is_true(b);
	}
	md = json_object_get(doc, "metadata");
	if (md && !is_object(md))
		return ds_error_set(err, DS_EINVAL, "'%s': 'metadata' must be a table ([metadata])",
				    name);
	memcpy(types, v, sizeof(v));
	*metadata = json_incref(md);
	return 0;
}

static int string_array(json_t **out, json_t *a, const char *what, const char *name, ds_error *err)
{
	json_t *x, *r;
	size_t i;

	if (!json_is_array(a))
		return ds_error_set(err, DS_EINVAL, "'%s': %s must be an array of strings", name,
				    what);
	if (json_array_size(a) > CNB_ENTRIES_MAX)
		return ds_error_set(err, DS_ENOMEM, "'%s': %s has more than %d elements", name,
				    what, CNB_ENTRIES_MAX);
	r = json_array();
	json_array_foreach (a, i, x) {
		if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x)) {
			json_decref(r);
			return ds_error_set(err, DS_EINVAL, "'%s': %s[%zu] must be a string", name,
					    what, i);
		}
		json_array_append(r, x);
	}
	*out = r;
	return 0;
}

static int valid_type(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return 0;
	return 1;
}

static int launch_process(json_t **out, json_t *p, size_t i, int minor, const char *name,
			  ds_error *err)
{
	const char *type = json_string_value(json_object_get(p, "type"));
	json_t *cmd = json_object_get(p, "command"), *args = json_object_get(p, "args");
	json_t *def = json_object_get(p, "default"), *wd = json_object_get(p, "working-dir");
	json_t *direct = json_object_get(p, "direct"), *argv = NULL, *a = NULL, *o;
	char where[64];

	snprintf(where, sizeof(where), "processes[%zu]", i);
	if (!is_object(p))
		return ds_error_set(err, DS_EINVAL, "'%s': %s must be a table", name, where);
	if (!type || !valid_type(type))
		return ds_error_set(err, DS_EINVAL,
				    "'%s': %s needs a type of letters, digits and "
				    ". _ - (at most 64)",
				    name, where);
	if ((def && !json_is_boolean(def)) || (direct && !json_is_boolean(direct)))
		return ds_error_set(err, DS_EINVAL,
				    "'%s': %s (%s): default and direct must be true "
				    "or false",
				    name, where, type);
	if (wd && (!json_is_string(wd) || !json_string_length(wd)))
		return ds_error_set(err, DS_EINVAL, "'%s': %s (%s): working-dir must be a path",
				    name, where, type);
	if (args && string_array(&a, args, "args", name, err) < 0)
		return -1;
	if (minor >= 9 || json_is_array(cmd)) {
		if (!cmd || string_array(&argv, cmd, "command", name, err) < 0) {
			json_decref(a);
			if (!cmd)
				return ds_error_set(err, DS_EINVAL, "'%s': %s (%s) has no command",
						    name, where, type);
			return ds_error_wrap(err, "process '%s'", type);
		}
		if (!json_array_size(argv) || !*json_string_value(json_array_get(argv, 0))) {
			json_decref(a);
			json_decref(argv);
			return ds_error_set(err, DS_EINVAL, "'%s': %s (%s) has an empty command",
					    name, where, type);
		}
		json_array_extend(argv, a);
	} else {
		/* Buildpack API < 0.9: a string; a shell runs it unless direct. */
		const char *s = json_string_value(cmd);
		if (!s || !*s) {
			json_decref(a);
			return ds_error_set(err, DS_EINVAL, "'%s': %s (%s) has no command", name,
					    where, type);
		}
		if (json_is_true(direct)) {
			argv = json_array();
			json_array_append_new(argv, json_string(s));
			json_array_extend(argv, a);
		} else {
			ds_buf sh = DS_BUF_INIT;
			size_t k;
			json_t *x;
			ds_buf_init(&sh, 0);
			ds_buf_adds(&sh, s);
			json_array_foreach (a, k, x)
				ds_buf_addf(&sh, " %s", json_string_value(x));
			argv = json_string(sh.data);
			ds_buf_release(&sh);
		}
	}
	json_decref(a);
	o = json_object();
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "command", argv);
	json_object_set_new(o, "default", json_boolean(json_is_true(def)));
	if (wd)
		json_object_set(o, "workdir", wd);
	*out = o;
	return 0;
}

int bp_cnb_launch_parse(json_t **procs, json_t **labels, const char *text, size_t len, int minor,
			const char *name, ds_error *err)
{
	_cleanup_json_ json_t *doc = NULL, *pv = json_array(), *lv = json_object();
	json_t *ps, *ls, *x;
	size_t i;

	if (parse_toml(&doc, name, text, len, err) < 0)
		return -1;
	ps = json_object_get(doc, "processes");
	ls = json_object_get(doc, "labels");
	if ((ps && !json_is_array(ps)) || (ls && !json_is_array(ls)))
		return ds_error_set(err, DS_EINVAL,
				    "'%s': processes and labels must be arrays of "
				    "tables ([[processes]], [[labels]])",
				    name);
	if (json_array_size(ps) > CNB_ENTRIES_MAX || json_array_size(ls) > CNB_ENTRIES_MAX)
		return ds_error_set(err, DS_ENOMEM, "'%s': more than %d processes or labels", name,
				    CNB_ENTRIES_MAX);
	json_array_foreach (ps, i, x) {
		json_t *p = NULL, *old;
		size_t j;
		if (launch_process(&p, x, i, minor, name, err) < 0)
			return -1;
		json_array_foreach (pv, j, old)
			if (json_equal(json_object_get(old, "type"), json_object_get(p, "type"))) {
				json_decref(p);
				return ds_error_set(
				    err, DS_EINVAL,
				    "'%s': process type '%s' is given "
				    "twice",
				    name, json_string_value(json_object_get(old, "type")));
			}
		json_array_append_new(pv, p);
	}
	json_array_foreach (ls, i, x) {
		const char *k = json_string_value(json_object_get(x, "key"));
		json_t *v = json_object_get(x, "value");
		if (!is_object(x) || !k || !*k || !json_is_string(v))
			return ds_error_set(err, DS_EINVAL,
					    "'%s': labels[%zu] needs a key and a string "
					    "value",
					    name, i);
		json_object_set(lv, k, v);
	}
	*procs = TAKE_PTR(pv);
	*labels = TAKE_PTR(lv);
	return 0;
}

/* ---- environment files ------------------------------------------------------------- */

static void env_join(json_t *env, const char *name, const char *value, const char *delim,
		     int prepend)
{
	const char *cur = json_string_value(json_object_get(env, name));
	char *v;

	if (!cur || !*cur)
		v = ds_xstrdup(value);
	else if (prepend)
		v = ds_xasprintf("%s%s%s", value, delim, cur);
	else
		v = ds_xasprintf("%s%s%s", cur, delim, value);
	json_object_set_new(env, name, json_string(v));
	free(v);
}

int bp_cnb_env_apply(json_t *env, const char *dir, const char *what, const bp_cnb_rewrite *rw,
		     ds_error *err)
{
	char **names = NULL;
	size_t n = 0;
	ds_buf val = DS_BUF_INIT, dl = DS_BUF_INIT;
	int rc = -1;

	if (list_dir(&names, &n, dir, what, CNB_ENV_FILES_MAX, err) < 0)
		return -1;
	ds_buf_init(&val, CNB_ENV_FILE_MAX + 1);
	ds_buf_init(&dl, CNB_ENV_FILE_MAX + 1);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = ds_xasprintf("%s/%s", dir, names[i]);
		_cleanup_free_ char *fname = ds_xasprintf("%s/%s", what, names[i]);
		_cleanup_free_ char *var = NULL, *value = NULL;
		const char *dot = strchr(names[i], '.'), *suffix = dot ? dot + 1 : "override";
		struct stat st;
		int missing;

		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		var = dot ? ds_xstrndup(names[i], (size_t)(dot - names[i])) : ds_xstrdup(names[i]);
		if (!*var || strchr(var, '='))
			continue;
		if (strcmp(suffix, "override") && strcmp(suffix, "default") &&
		    strcmp(suffix, "prepend") && strcmp(suffix, "append"))
			continue; /* .delim, or a suffix the spec does not know */
		if (read_small(&val, path, fname, CNB_ENV_FILE_MAX, &missing, err) < 0 || missing)
			goto out;
		if (memchr(val.data, '\0', val.len)) {
			ds_error_set(err, DS_EINVAL,
				     "'%s' holds a NUL byte, which no environment "
				     "variable can",
				     fname);
			goto out;
		}
		value = rw ? bp_cnb_rewrite_path(rw, val.data) : ds_xstrdup(val.data);
		if (!strcmp(suffix, "override")) {
			json_object_set_new(env, var, json_string(value));
		} else if (!strcmp(suffix, "default")) {
			const char *cur = json_string_value(json_object_get(env, var));
			if (!cur || !*cur)
				json_object_set_new(env, var, json_string(value));
		} else {
			_cleanup_free_ char *dpath = ds_xasprintf("%s/%s.delim", dir, var);
			_cleanup_free_ char *dname = ds_xasprintf("%s/%s.delim", what, var);
			if (read_small(&dl, dpath, dname, CNB_ENV_FILE_MAX, &missing, err) < 0)
				goto out;
			if (memchr(dl.data, '\0', dl.len)) {
				ds_error_set(err, DS_EINVAL, "'%s' holds a NUL byte", dname);
				goto out;
			}
			env_join(env, var, value, missing ? "" : dl.data,
				 !strcmp(suffix, "prepend"));
		}
		if (!json_is_string(json_object_get(env, var))) {
			ds_error_set(err, DS_EINVAL, "'%s' is not UTF-8 text", fname);
			goto out;
		}
	}
	rc = 0;
out:
	ds_buf_release(&val);
	ds_buf_release(&dl);
	free_strv(names, n);
	return rc;
}

/* <layer>/bin, lib ... on the search paths: build (all five) or launch. */
static void env_root_dir(json_t *env, const char *host, const char *as, int launch)
{
	static const struct {
		const char *var, *sub;
		int launch;
	} paths[] = {
	    {"PATH", "bin", 1},
	    {"LD_LIBRARY_PATH", "lib", 1},
	    {"LIBRARY_PATH", "lib", 0},
	    {"CPATH", "include", 0},
	    {"PKG_CONFIG_PATH", "pkgconfig", 0},
	};
	for (size_t i = 0; i < DS_ARRAY_SIZE(paths); i++) {
		_cleanup_free_ char *h = ds_xasprintf("%s/%s", host, paths[i].sub);
		_cleanup_free_ char *a = ds_xasprintf("%s/%s", as, paths[i].sub);
		if ((launch && !paths[i].launch) || !is_dir(h))
			continue;
		env_join(env, paths[i].var, a, ":", 1);
	}
}

/* ---- running bin/detect and bin/build --------------------------------------------- */

typedef struct tailbuf {
	char d[TAIL_KEEP];
	size_t len;
} tailbuf;

static void tail_add(tailbuf *t, const char *p, size_t n)
{
	if (n >= sizeof(t->d)) {
		memcpy(t->d, p + n - sizeof(t->d), sizeof(t->d));
		t->len = sizeof(t->d);
		return;
	}
	if (t->len + n > sizeof(t->d)) {
		size_t drop = t->len + n - sizeof(t->d);
		memmove(t->d, t->d + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->d + t->len, p, n);
	t->len += n;
}

/* The last lines of t, indented, control characters replaced. */
static void tail_format(ds_buf *out, const tailbuf *t)
{
	size_t end = t->len, start, lines = 0;

	while (end && (t->d[end - 1] == '\n' || t->d[end - 1] == '\r'))
		end--;
	if (!end) {
		ds_buf_adds(out, "\n  (nothing on stderr)");
		return;
	}
	start = end;
	while (start && end - start < TAIL_SHOW) {
		if (t->d[start - 1] == '\n' && ++lines == TAIL_LINES)
			break;
		start--;
	}
	ds_buf_adds(out, "\n  | ");
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)t->d[i];
		if (c == '\n')
			ds_buf_adds(out, "\n  | ");
		else if (c == '\t')
			ds_buf_addch(out, ' ');
		else if (c < 0x20 || c == 0x7f)
			ds_buf_addch(out, '?');
		else
			ds_buf_addch(out, (char)c);
	}
}

static char **env_vector(const json_t *env, const char *what, ds_error *err)
{
	size_t n = json_object_size(env), i = 0, total = 0;
	char **v = ds_xcalloc(n + 1, sizeof(*v));
	const char *k;
	json_t *x;

	json_object_foreach ((json_t *)env, k, x) {
		v[i] = ds_xasprintf("%s=%s", k, json_string_value(x));
		total += strlen(v[i++]) + 1;
	}
	if (total > CNB_ENV_TOTAL_MAX) {
		free_strv(v, n);
		ds_error_set(err, DS_ENOMEM, "the environment of %s is larger than %zu bytes", what,
			     CNB_ENV_TOTAL_MAX);
		return NULL;
	}
	return v;
}

static void wait_pid(pid_t pid, int *st)
{
	while (waitpid(pid, st, 0) < 0 && errno == EINTR)
		;
}

/* Runs prog (argv, env) in cwd with stdin and stdout on /dev/null and stderr
 * kept in tail; *status = exit status, or 128 + signal.  The program gets a
 * process group of its own, killed when it ends (what it left behind) or on
 * cancellation. */
static int run_program(int *status, tailbuf *tail, char *const argv[], const json_t *env,
		       const char *cwd, const char *what, ds_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int pfd[2], st = 0, rc, exited = 0;
	char **envp = env_vector(env, what, err);
	char buf[4096];
	pid_t pid;

	if (!envp)
		return -1;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free_strv(envp, json_object_size(env));
		return ds_error_set_errno(err, errno, "cannot run %s", what);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawn_file_actions_addchdir_np(&fa, cwd);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					  POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free_strv(envp, json_object_size(env));
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		ds_error_set_errno(err, rc, "cannot run '%s' in '%s'", argv[0], cwd);
		if (rc == EACCES || rc == ENOEXEC)
			ds_error_hint(err, "make it executable (chmod +x) with a '#!' line naming "
					   "an interpreter this machine has");
		return -1;
	}
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int k = poll(&p, 1, 200);
		if (k > 0) {
			ssize_t r = read(pfd[0], buf, sizeof(buf));
			if (r > 0) {
				tail_add(tail, buf, (size_t)r);
				continue;
			}
			if (r == 0 || (errno != EINTR && errno != EAGAIN))
				break;
		}
		if (ds_canceled()) {
			kill(-pid, SIGKILL);
			wait_pid(pid, &st);
			close(pfd[0]);
			return ds_error_set(err, DS_ECANCELED, "%s: interrupted", what);
		}
		if (waitpid(pid, &st, WNOHANG) == pid) {
			/* It ended but something it started holds stderr open. */
			size_t drained = 0;
			exited = 1;
			while (drained < DRAIN_MAX && poll(&p, 1, 0) > 0) {
				ssize_t r = read(pfd[0], buf, sizeof(buf));
				if (r <= 0)
					break;
				tail_add(tail, buf, (size_t)r);
				drained += (size_t)r;
			}
			break;
		}
	}
	close(pfd[0]);
	while (!exited) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			break;
		if (ds_canceled()) {
			kill(-pid, SIGKILL);
			wait_pid(pid, &st);
			return ds_error_set(err, DS_ECANCELED, "%s: interrupted", what);
		}
		poll(NULL, 0, 100);
	}
	kill(-pid, SIGKILL);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}

static const char *const passed_env[] = {
    "PATH",	"HOME",	      "USER",	     "LOGNAME",		  "LANG",	"LC_ALL",
    "LC_CTYPE", "TZ",	      "TMPDIR",	     "SOURCE_DATE_EPOCH", "http_proxy", "https_proxy",
    "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
};

/* The few variables of dsbuild's own environment a buildpack gets. */
static json_t *base_env(void)
{
	json_t *env = json_object();

	for (size_t i = 0; i < DS_ARRAY_SIZE(passed_env); i++) {
		const char *v = getenv(passed_env[i]);
		if (v)
			json_object_set_new(env, passed_env[i], json_string(v));
	}
	if (!json_string_value(json_object_get(env, "PATH")))
		json_object_set_new(env, "PATH", json_string(DEFAULT_PATH));
	return env;
}

/* CNB_TARGET_*: this machine (buildpacks run here) and the base's distro. */
static void target_env(json_t *env, const json_t *plan)
{
	const char *plat = ds_platform_host(), *slash = strchr(plat, '/');
	const char *base = json_string_value(json_object_get(json_object_get(plan, "base"), "ref"));
	char arch[32] = "", variant[32] = "";

	if (slash)
		sscanf(slash + 1, "%31[^/]/%31s", arch, variant);
	json_object_set_new(env, "CNB_TARGET_OS", json_string("linux"));
	json_object_set_new(env, "CNB_TARGET_ARCH", json_string(arch));
	if (*variant)
		json_object_set_new(env, "CNB_TARGET_ARCH_VARIANT", json_string(variant));
	if (base && !strcmp(base, "debian:bookworm")) {
		json_object_set_new(env, "CNB_TARGET_DISTRO_NAME", json_string("debian"));
		json_object_set_new(env, "CNB_TARGET_DISTRO_VERSION", json_string("12"));
	} else if (base && !strcmp(base, "debian:trixie")) {
		json_object_set_new(env, "CNB_TARGET_DISTRO_NAME", json_string("debian"));
		json_object_set_new(env, "CNB_TARGET_DISTRO_VERSION", json_string("13"));
	}
}

/* 1 when buildpack.toml's [[targets]] (none: any) admit the target in env. */
static int targets_match(const json_t *desc, const json_t *env)
{
	json_t *targets = json_object_get(desc, "targets"), *t;
	const char *dn = json_string_value(json_object_get(env, "CNB_TARGET_DISTRO_NAME"));
	const char *dv = json_string_value(json_object_get(env, "CNB_TARGET_DISTRO_VERSION"));
	const char *var = json_string_value(json_object_get(env, "CNB_TARGET_ARCH_VARIANT"));
	size_t i;

	if (!json_is_array(targets) || !json_array_size(targets))
		return 1;
	json_array_foreach (targets, i, t) {
		const char *os = json_string_value(json_object_get(t, "os"));
		const char *arch = json_string_value(json_object_get(t, "arch"));
		const char *v = json_string_value(json_object_get(t, "variant"));
		json_t *distros = json_object_get(t, "distros"), *d;
		size_t j;
		int ok = 0;
		if (os && strcmp(os, "linux"))
			continue;
		if (arch &&
		    strcmp(arch, json_string_value(json_object_get(env, "CNB_TARGET_ARCH"))))
			continue;
		if (v && (!var || strcmp(v, var)))
			continue;
		if (!json_array_size(distros) || !dn)
			return 1;
		json_array_foreach (distros, j, d) {
			const char *n = json_string_value(json_object_get(d, "name"));
			const char *ver = json_string_value(json_object_get(d, "version"));
			if ((!n || !strcmp(n, dn)) && (!ver || !strcmp(ver, dv)))
				ok = 1;
		}
		if (ok)
			return 1;
	}
	return 0;
}

static char *make_tmpdir(const char *parent, const char *prefix, ds_error *err)
{
	const char *tmp = getenv("TMPDIR");
	char *t =
	    ds_xasprintf("%s/%s-XXXXXX", parent ? parent : (tmp && *tmp ? tmp : "/tmp"), prefix);

	if (!mkdtemp(t)) {
		ds_error_set_errno(err, errno, "cannot create a temporary folder '%s'", t);
		free(t);
		return NULL;
	}
	return t;
}

static int check_api(const bp *b, int *minor, ds_error *err)
{
	const char *api = json_string_value(json_object_get(b->desc, "api"));
	int m = bp_cnb_api_minor(api);

	if (!api) {
		ds_error_set(err, DS_EINVAL,
			     "'%s': a Cloud Native Buildpack needs api = \"0.10\" "
			     "(the Buildpack API it implements)",
			     b->file);
		return -1;
	}
	if (m < CNB_API_MIN || m > CNB_API_MAX) {
		ds_error_set(err, DS_EINVAL,
			     "'%s': Buildpack API '%s' is not supported "
			     "(dsbuild runs 0.%d to 0.%d)",
			     b->file, api, CNB_API_MIN, CNB_API_MAX);
		return ds_error_hint(err,
				     "use a version of the buildpack written for Buildpack API "
				     "0.%d or later",
				     CNB_API_MIN);
	}
	if (!strcmp(b->id, ".") || !strcmp(b->id, ".."))
		return ds_error_set(err, DS_EINVAL, "'%s': id '%s' cannot name a folder", b->file,
				    b->id);
	*minor = m;
	return 0;
}

/* ---- detection --------------------------------------------------------------------- */

static void names_of(ds_buf *b, const json_t *list)
{
	size_t i;
	json_t *e;

	json_array_foreach ((json_t *)list, i, e)
		ds_buf_addf(b, "%s%s", i ? ", " : "",
			    json_string_value(json_object_get(e, "name")));
}

/* After a resolution: each candidate's verdict into plan["buildpacks"]
 * (detected, why), plan["group"] and plan["cnb"], all changed in place (the
 * plan's maker holds them).  The buildpack being detected, last in
 * plan["buildpacks"], joins the group through its caller. */
static void apply_resolution(json_t *plan, json_t *cands)
{
	json_t *bps = json_object_get(plan, "buildpacks"), *group = json_object_get(plan, "group");
	json_t *cnb = json_object_get(plan, "cnb"), *c, *e;
	size_t i;

	if (!json_is_array(cnb)) {
		cnb = json_array();
		json_object_set_new(plan, "cnb", cnb);
	}
	json_array_clear(cnb);
	json_object_del(plan, "cnb_error");
	json_array_foreach (cands, i, c) {
		json_int_t opt = json_integer_value(json_object_get(c, "option"));
		const char *problem = json_string_value(json_object_get(c, "problem"));
		json_t *why, *o, *alt;
		ds_buf line = DS_BUF_INIT;

		e = json_array_get(bps, (size_t)json_integer_value(json_object_get(c, "index")));
		why = json_object_get(e, "why");
		if (!json_is_array(why)) {
			why = json_array();
			json_object_set_new(e, "why", why);
		}
		json_array_clear(why);
		ds_buf_init(&line, 1024);
		if (opt < 0) {
			ds_buf_addf(&line, "bin/detect passed, but it is left out: %s",
				    json_string_value(json_object_get(c, "reason")));
			json_array_append_new(why, json_string(line.data));
			json_object_set_new(e, "detected", json_false());
			ds_buf_release(&line);
			continue;
		}
		alt = json_array_get(json_object_get(c, "options"), (size_t)opt);
		ds_buf_adds(&line, "bin/detect passed");
		if (opt > 0)
			ds_buf_addf(&line, " (its build plan's [[or]] alternative %lld)",
				    (long long)opt);
		if (json_array_size(json_object_get(alt, "provides"))) {
			ds_buf_adds(&line, "; provides ");
			names_of(&line, json_object_get(alt, "provides"));
		}
		if (json_array_size(json_object_get(alt, "requires"))) {
			ds_buf_adds(&line, "; requires ");
			names_of(&line, json_object_get(alt, "requires"));
		}
		json_array_append_new(why, json_string(line.data));
		if (problem) {
			ds_buf_reset(&line);
			ds_buf_addf(&line,
				    "%s: unless a buildpack after it requires it, the build "
				    "fails",
				    problem);
			json_array_append_new(why, json_string(line.data));
			if (!json_object_get(plan, "cnb_error")) {
				ds_buf_reset(&line);
				ds_buf_addf(&line, "buildpack '%s': %s",
					    json_string_value(json_object_get(c, "id")), problem);
				json_object_set_new(plan, "cnb_error", json_string(line.data));
			}
		}
		ds_buf_release(&line);
		json_object_set_new(e, "detected", json_true());
		o = json_object();
		json_object_set(o, "id", json_object_get(c, "id"));
		json_object_set(o, "version", json_object_get(c, "version"));
		json_object_set(o, "dir", json_object_get(c, "dir"));
		json_object_set(o, "api", json_object_get(c, "api"));
		json_object_set(o, "provides", json_object_get(alt, "provides"));
		json_object_set(o, "requires", json_object_get(alt, "requires"));
		json_object_set(o, "entries", json_object_get(c, "entries"));
		json_array_append_new(cnb, o);
	}
	json_array_clear(group);
	json_array_foreach (bps, i, e) {
		if (i + 1 < json_array_size(bps) && json_is_true(json_object_get(e, "detected"))) {
			json_t *ge = json_object();
			json_object_set(ge, "id", json_object_get(e, "id"));
			json_object_set(ge, "version", json_object_get(e, "version"));
			json_array_append_new(group, ge);
		}
	}
}

/* Resolves the candidates so far: as if the group ended here when that is
 * valid (it is re-done when another CNB buildpack follows), else as far as
 * known, with "cnb_error" naming what would fail the build. */
static int resolve_all(json_t *plan, json_t *cands, ds_error *err)
{
	_cleanup_json_ json_t *problems = json_array();
	json_t *c;
	size_t i;
	int valid;

	if (bp_cnb_resolve(cands, 1, &valid, err) < 0)
		return -1;
	if (!valid) {
		json_array_foreach (cands, i, c)
			json_array_append(problems, json_object_get(c, "problem") ?: json_null());
		if (bp_cnb_resolve(cands, 0, &valid, err) < 0)
			return -1;
		/* Not final, requires only look back: this was valid before. */
		if (!valid)
			return ds_error_set(err, DS_EINVAL,
					    "the build plans of the Cloud Native "
					    "Buildpacks do not resolve");
		json_array_foreach (cands, i, c)
			if (json_is_string(json_array_get(problems, i)))
				json_object_set(c, "problem", json_array_get(problems, i));
	}
	apply_resolution(plan, cands);
	return 0;
}

int bp_cnb_detect(bp_ctx *c, int *pass, ds_error *err)
{
	const bp *b = c->bp;
	_cleanup_json_ json_t *env = NULL, *opts = NULL;
	_cleanup_free_ char *tmp = NULL, *platform = NULL, *planfile = NULL, *prog = NULL;
	_cleanup_free_ char *envdir = NULL, *pname = NULL;
	_cleanup_buf_ ds_buf text = DS_BUF_INIT;
	json_t *cands, *cand, *bps = json_object_get(c->plan, "buildpacks");
	json_t *self = json_array_get(bps, json_array_size(bps) - 1);
	tailbuf *tail = NULL;
	int minor = 0, status = 0, missing, rc = -1, fd, valid;
	char *argv[4];

	*pass = 0;
	if (check_api(b, &minor, err) < 0)
		return -1;
	env = base_env();
	target_env(env, c->plan);
	if (!targets_match(b->desc, env)) {
		const char *dn = json_string_value(json_object_get(env, "CNB_TARGET_DISTRO_NAME"));
		const char *dv =
		    json_string_value(json_object_get(env, "CNB_TARGET_DISTRO_VERSION"));
		plan_why(c, "not for this target: its [[targets]] do not include linux/%s%s%s%s%s",
			 json_string_value(json_object_get(env, "CNB_TARGET_ARCH")),
			 dn ? " on " : "", dn ? dn : "", dn ? " " : "", dn ? dv : "");
		return 0;
	}
	cands = json_object_get(c->plan, "cnb_detected");
	if (json_array_size(cands) >= CNB_GROUP_MAX)
		return ds_error_set(err, DS_ENOMEM,
				    "more than %d Cloud Native Buildpacks in one "
				    "build",
				    CNB_GROUP_MAX);
	if (!(tmp = make_tmpdir(NULL, "dsbuild-cnb-detect", err)))
		return -1;
	platform = ds_xasprintf("%s/platform", tmp);
	envdir = ds_xasprintf("%s/env", platform);
	planfile = ds_xasprintf("%s/plan.toml", tmp);
	prog = ds_xasprintf("%s/bin/detect", b->dir);
	if (ds_mkdir_p(envdir, 0755, err) < 0)
		goto out;
	fd = open(planfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		ds_error_set_errno(err, errno, "cannot create '%s'", planfile);
		goto out;
	}
	close(fd);
	json_object_set_new(env, "CNB_BUILDPACK_DIR", json_string(b->dir));
	json_object_set_new(env, "CNB_PLATFORM_DIR", json_string(platform));
	json_object_set_new(env, "CNB_BUILD_PLAN_PATH", json_string(planfile));
	argv[0] = prog;
	argv[1] = minor < 8 ? platform : NULL;
	argv[2] = minor < 8 ? planfile : NULL;
	argv[3] = NULL;
	tail = ds_xcalloc(1, sizeof(*tail));
	if (run_program(&status, tail, argv, env, c->src->root, "bin/detect", err) < 0)
		goto out;
	if (status == 100) {
		plan_why(c, "bin/detect did not pass (exit status 100)");
		rc = 0;
		goto out;
	}
	if (status != 0) {
		ds_buf msg = DS_BUF_INIT;
		ds_buf_init(&msg, DS_ERROR_MSG_MAX);
		tail_format(&msg, tail);
		ds_error_set(err, DS_EINVAL,
			     "bin/detect failed with exit status %d (0 means the "
			     "buildpack applies, 100 that it does not); its stderr "
			     "ends with:%s",
			     status, msg.data);
		ds_error_hint(err, "fix the buildpack (%s), or leave it out", b->dir);
		ds_buf_release(&msg);
		goto out;
	}
	pname = ds_xasprintf("build plan of %s (CNB_BUILD_PLAN_PATH)", b->id);
	if (read_small(&text, planfile, pname, CNB_TOML_MAX, &missing, err) < 0)
		goto out;
	if (bp_cnb_plan_parse(&opts, missing ? "" : text.data, missing ? 0 : text.len, pname, err) <
	    0)
		goto out;
	if (!json_is_array(cands)) {
		cands = json_array();
		json_object_set_new(c->plan, "cnb_detected", cands);
	}
	cand = json_object();
	json_object_set_new(cand, "index", json_integer((json_int_t)json_array_size(bps) - 1));
	json_object_set_new(cand, "id", json_string(b->id));
	json_object_set_new(cand, "version", json_string(b->version));
	json_object_set_new(cand, "dir", json_string(b->dir));
	json_object_set(cand, "api", json_object_get(b->desc, "api"));
	json_object_set_new(cand, "optional",
			    json_boolean(json_is_true(json_object_get(self, "optional"))));
	json_object_set(cand, "options", opts);
	json_array_append(cands, cand);
	if (bp_cnb_resolve(cands, 0, &valid, err) < 0) {
		json_decref(cand);
		goto out;
	}
	if (!valid) {
		/* Only its own requires can be unmet: it cannot take part. */
		_cleanup_free_ char *why = ds_xasprintf(
		    "bin/detect passed, but %s",
		    json_string_value(json_object_get(cand, "problem")) ?: "its plan is unmet");
		json_array_remove(cands, json_array_size(cands) - 1);
		json_decref(cand);
		if (resolve_all(c->plan, cands, err) < 0)
			goto out;
		json_array_clear(c->why);
		plan_why(c, "%s", why);
		rc = 0;
		goto out;
	}
	if (resolve_all(c->plan, cands, err) < 0) {
		json_decref(cand);
		goto out;
	}
	*pass = json_integer_value(json_object_get(cand, "option")) >= 0;
	json_decref(cand);
	rc = 0;
out:
	free(tail);
	ds_rm_rf(tmp);
	return rc;
}

/* ---- layers into the image ----------------------------------------------------------- */

typedef struct walk {
	char **v;
	size_t n;
} walk;

static int walk_dir(walk *w, const char *root, const char *rel, int depth, const char *what,
		    ds_error *err)
{
	_cleanup_free_ char *dir = *rel ? ds_xasprintf("%s/%s", root, rel) : ds_xstrdup(root);
	char **names = NULL;
	size_t n = 0;

	if (depth > CNB_DEPTH_MAX)
		return ds_error_set(err, DS_ENOMEM, "%s: folders nested more than %d deep", what,
				    CNB_DEPTH_MAX);
	if (list_dir(&names, &n, dir, what, CNB_LAYER_FILES_MAX, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *r = *rel ? ds_xasprintf("%s/%s", rel, names[i]) : ds_xstrdup(names[i]);
		_cleanup_free_ char *full = ds_xasprintf("%s/%s", root, r);
		struct stat st;

		if (w->n >= CNB_LAYER_FILES_MAX || strlen(r) > CNB_PATH_MAX) {
			free(r);
			free_strv(names, n);
			return ds_error_set(err, DS_ENOMEM,
					    "%s: more than %d entries or a path "
					    "longer than %d",
					    what, CNB_LAYER_FILES_MAX, CNB_PATH_MAX);
		}
		w->v = ds_xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
		w->v[w->n++] = r;
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode) &&
		    walk_dir(w, root, r, depth + 1, what, err) < 0) {
			free_strv(names, n);
			return -1;
		}
	}
	free_strv(names, n);
	return 0;
}

static const char *kind_of(mode_t m)
{
	return S_ISSOCK(m)   ? "a socket"
	       : S_ISFIFO(m) ? "a named pipe"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
			     : "a special file";
}

/* Writes host (a layer folder) into a new layer at img ("layers/x/y"), with
 * its parents; entries sorted, owned by root, mtime 0, modes 0755/0644. */
static int write_layer(ds_layer_info *info, ds_store *store, const ds_layer_opts *lo,
		       const char *host, const char *img, const bp_cnb_rewrite *rw,
		       const char *what, ds_error *err)
{
	ds_layer_opts dflt = DS_LAYER_OPTS_INIT;
	ds_layer_writer *w = NULL;
	walk wk = {0};
	_cleanup_free_ char *parents = ds_xstrdup(img);
	int rc = -1;

	if (walk_dir(&wk, host, "", 0, what, err) < 0)
		goto out;
	qsort(wk.v, wk.n, sizeof(*wk.v), cmp_str);
	if (ds_layer_writer_new(&w, store, lo ? lo : &dflt, err) < 0)
		goto out;
	for (char *p = parents;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			ds_layer_entry e = {.path = parents, .type = DS_ENTRY_DIR, .mode = 0755};
			*p = '\0';
			if (ds_layer_writer_add(w, &e, err) < 0)
				goto out;
			*p = c;
			if (!c)
				break;
		}
	}
	for (size_t i = 0; i < wk.n; i++) {
		_cleanup_free_ char *full = ds_xasprintf("%s/%s", host, wk.v[i]);
		_cleanup_free_ char *path = ds_xasprintf("%s/%s", img, wk.v[i]);
		ds_layer_entry e = {.path = path};
		struct stat st;

		if (lstat(full, &st) < 0) {
			ds_error_set_errno(err, errno, "%s: cannot read '%s'", what, wk.v[i]);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			e.type = DS_ENTRY_DIR;
			e.mode = 0755;
			if (ds_layer_writer_add(w, &e, err) < 0)
				goto out;
		} else if (S_ISLNK(st.st_mode)) {
			char target[CNB_PATH_MAX + 1];
			ssize_t n = readlink(full, target, sizeof(target));
			_cleanup_free_ char *t = NULL;
			if (n < 0 || (size_t)n > CNB_PATH_MAX) {
				ds_error_set(err, DS_EINVAL, "%s: cannot read link '%s'", what,
					     wk.v[i]);
				goto out;
			}
			target[n] = '\0';
			t = target[0] == '/' ? bp_cnb_rewrite_path(rw, target) : ds_xstrdup(target);
			e.type = DS_ENTRY_SYMLINK;
			e.mode = 0777;
			e.link = t;
			if (ds_layer_writer_add(w, &e, err) < 0)
				goto out;
		} else if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				ds_error_set_errno(err, errno, "%s: cannot open '%s'", what,
						   wk.v[i]);
				goto out;
			}
			e.type = DS_ENTRY_FILE;
			e.mode = (st.st_mode & 0111) ? 0755 : 0644;
			e.size = (uint64_t)st.st_size;
			if (ds_layer_writer_add_fd(w, &e, fd, err) < 0)
				goto out;
		} else {
			ds_error_set(err, DS_EINVAL,
				     "%s: '%s' is %s, which an image layer cannot "
				     "hold",
				     what, wk.v[i], kind_of(st.st_mode));
			goto out;
		}
	}
	rc = ds_layer_writer_finish(w, info, err);
	w = NULL;
out:
	ds_layer_writer_free(w);
	free_strv(wk.v, wk.n);
	return rc;
}

/* Copies the tree at from to to (which must not exist): files, folders,
 * links.  Used to restore cached layers. */
static int copy_tree(const char *from, const char *to, ds_error *err)
{
	walk wk = {0};
	int rc = -1;

	if (walk_dir(&wk, from, "", 0, from, err) < 0)
		goto out;
	qsort(wk.v, wk.n, sizeof(*wk.v), cmp_str);
	if (mkdir(to, 0755) < 0) {
		ds_error_set_errno(err, errno, "cannot create '%s'", to);
		goto out;
	}
	for (size_t i = 0; i < wk.n; i++) {
		_cleanup_free_ char *src = ds_xasprintf("%s/%s", from, wk.v[i]);
		_cleanup_free_ char *dst = ds_xasprintf("%s/%s", to, wk.v[i]);
		struct stat st;

		if (lstat(src, &st) < 0) {
			ds_error_set_errno(err, errno, "cannot read '%s'", src);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(dst, (st.st_mode & 07777) | 0700) < 0) {
				ds_error_set_errno(err, errno, "cannot create '%s'", dst);
				goto out;
			}
		} else if (S_ISLNK(st.st_mode)) {
			char target[CNB_PATH_MAX + 1];
			ssize_t n = readlink(src, target, sizeof(target));
			if (n < 0 || (size_t)n > CNB_PATH_MAX) {
				ds_error_set(err, DS_EINVAL, "cannot read link '%s'", src);
				goto out;
			}
			target[n] = '\0';
			if (symlink(target, dst) < 0) {
				ds_error_set_errno(err, errno, "cannot create '%s'", dst);
				goto out;
			}
		} else if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int out = -1;
			if (in < 0) {
				ds_error_set_errno(err, errno, "cannot open '%s'", src);
				goto out;
			}
			out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				   (st.st_mode & 07777) | 0600);
			if (out < 0) {
				ds_error_set_errno(err, errno, "cannot create '%s'", dst);
				goto out;
			}
			if (ds_copy_fd(in, out, UINT64_MAX, src, err) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	free_strv(wk.v, wk.n);
	return rc;
}

/* ---- the build ----------------------------------------------------------------------- */

typedef struct cnb_layer {
	char *name, *path;
	int types[3]; /* launch, build, cache */
	json_t *metadata;
} cnb_layer;

typedef struct cnb_bp {
	const char *id, *version, *dir;
	int minor;
	char *esc, *layers, *cache;
	const json_t *entries;
	cnb_layer *l;
	size_t n_l;
} cnb_bp;

typedef struct cnb_build {
	const json_t *plan;
	const ds_source *src;
	char *work, *layers_root, *platform;
	cnb_bp *v;
	size_t n;
	bp_cnb_rewrite rw;
	bp_cnb_result *r;
	json_t *met;	/* plan entry names met by a buildpack */
	char *def_type; /* the default process so far */
} cnb_build;

static void free_layers_of(cnb_bp *b)
{
	for (size_t i = 0; i < b->n_l; i++) {
		free(b->l[i].name);
		free(b->l[i].path);
		json_decref(b->l[i].metadata);
	}
	free(b->l);
	b->l = NULL;
	b->n_l = 0;
}

static int copy_file(const char *from, const char *to)
{
	ds_buf t = DS_BUF_INIT;
	int missing, rc;

	ds_buf_init(&t, CNB_TOML_MAX);
	rc = read_small(&t, from, from, CNB_TOML_MAX, &missing, NULL);
	if (rc == 0 && !missing)
		rc = ds_write_file_atomic(to, t.data, t.len, NULL);
	ds_buf_release(&t);
	return rc;
}

/* Cached layers (and store.toml) of the last build into b->layers; a layer
 * that cannot be restored is skipped (the cache only saves time). */
static void restore_cache(cnb_bp *b)
{
	char **names = NULL;
	size_t n = 0;

	if (!b->cache || list_dir(&names, &n, b->cache, b->cache, CNB_LAYERS_MAX * 2 + 1, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		_cleanup_free_ char *src = ds_xasprintf("%s/%s", b->cache, names[i]);
		_cleanup_free_ char *dst = ds_xasprintf("%s/%s", b->layers, names[i]);
		_cleanup_free_ char *name = NULL, *sdir = NULL, *ddir = NULL;
		if (l <= 5 || strcmp(names[i] + l - 5, ".toml"))
			continue;
		if (!strcmp(names[i], "store.toml")) {
			copy_file(src, dst);
			continue;
		}
		name = ds_xstrndup(names[i], l - 5);
		sdir = ds_xasprintf("%s/%s", b->cache, name);
		ddir = ds_xasprintf("%s/%s", b->layers, name);
		if (!is_dir(sdir))
			continue;
		if (copy_tree(sdir, ddir, NULL) < 0) {
			ds_rm_rf(ddir);
			continue;
		}
		{
			ds_buf t = DS_BUF_INIT;
			int missing;
			ds_buf_init(&t, CNB_TOML_MAX);
			if (read_small(&t, src, src, CNB_TOML_MAX, &missing, NULL) < 0 || missing ||
			    ds_write_file_atomic(dst, t.data, t.len, NULL) < 0)
				ds_rm_rf(ddir);
			ds_buf_release(&t);
		}
	}
	free_strv(names, n);
}

/* The environment of bin/build for buildpack i: build layers of the ones
 * before it, then the CNB_* variables. */
static int build_env(json_t **out, cnb_build *x, size_t i, const char *planfile, ds_error *err)
{
	json_t *env = base_env();

	for (size_t j = 0; j < i; j++) {
		for (size_t k = 0; k < x->v[j].n_l; k++) {
			cnb_layer *l = &x->v[j].l[k];
			_cleanup_free_ char *e = NULL, *eb = NULL, *we = NULL, *web = NULL;
			if (!l->types[1] || !is_dir(l->path))
				continue;
			e = ds_xasprintf("%s/env", l->path);
			eb = ds_xasprintf("%s/env.build", l->path);
			we = ds_xasprintf("%s: layer '%s' env", x->v[j].id, l->name);
			web = ds_xasprintf("%s: layer '%s' env.build", x->v[j].id, l->name);
			env_root_dir(env, l->path, l->path, 0);
			if (bp_cnb_env_apply(env, e, we, NULL, err) < 0 ||
			    bp_cnb_env_apply(env, eb, web, NULL, err) < 0) {
				json_decref(env);
				return -1;
			}
		}
	}
	target_env(env, x->plan);
	json_object_set_new(env, "CNB_BUILDPACK_DIR", json_string(x->v[i].dir));
	json_object_set_new(env, "CNB_PLATFORM_DIR", json_string(x->platform));
	json_object_set_new(env, "CNB_BP_PLAN_PATH", json_string(planfile));
	json_object_set_new(env, "CNB_LAYERS_DIR", json_string(x->v[i].layers));
	*out = env;
	return 0;
}

/* The Buildpack Plan of buildpack i: its entries not met by one before it. */
static int write_bp_plan(cnb_build *x, size_t i, const char *path, ds_error *err)
{
	_cleanup_json_ json_t *doc = json_object(), *entries = json_array();
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	json_t *e;
	size_t k;

	json_array_foreach ((json_t *)x->v[i].entries, k, e)
		if (!json_object_get(x->met, json_string_value(json_object_get(e, "name"))))
			json_array_append(entries, e);
	json_object_set(doc, "entries", entries);
	ds_buf_init(&b, 0);
	if (bp_cnb_toml_write(&b, doc, err) < 0)
		return ds_error_wrap(err, "the Buildpack Plan of '%s'", x->v[i].id);
	return ds_write_file_atomic(path, b.data, b.len, err);
}

static int read_toml(json_t **out, const char *path, const char *name, int *missing, ds_error *err)
{
	_cleanup_buf_ ds_buf t = DS_BUF_INIT;

	ds_buf_init(&t, CNB_TOML_MAX + 1);
	*out = NULL;
	if (read_small(&t, path, name, CNB_TOML_MAX, missing, err) < 0 || *missing)
		return *missing ? 0 : -1;
	return parse_toml(out, name, t.data, t.len, err);
}

static int cmp_layer(const void *a, const void *b)
{
	return strcmp(((const cnb_layer *)a)->name, ((const cnb_layer *)b)->name);
}

/* Reads the <layer>.toml files bin/build left, sorted by layer name. */
static int scan_layers(cnb_bp *b, ds_error *err)
{
	char **names = NULL;
	size_t n = 0;
	_cleanup_buf_ ds_buf t = DS_BUF_INIT;
	int rc = -1;

	if (list_dir(&names, &n, b->layers, "CNB_LAYERS_DIR", CNB_LAYERS_MAX * 4, err) < 0)
		return -1;
	ds_buf_init(&t, CNB_TOML_MAX + 1);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		_cleanup_free_ char *path = ds_xasprintf("%s/%s", b->layers, names[i]);
		cnb_layer ly = {0};
		int missing;
		if (l <= 5 || strcmp(names[i] + l - 5, ".toml") ||
		    !strcmp(names[i], "launch.toml") || !strcmp(names[i], "build.toml") ||
		    !strcmp(names[i], "store.toml"))
			continue;
		if (b->n_l == CNB_LAYERS_MAX) {
			ds_error_set(err, DS_ENOMEM, "more than %d layers", CNB_LAYERS_MAX);
			goto out;
		}
		if (read_small(&t, path, names[i], CNB_TOML_MAX, &missing, err) < 0)
			goto out;
		if (missing)
			continue;
		if (bp_cnb_layer_parse(ly.types, &ly.metadata, t.data, t.len, names[i], err) < 0)
			goto out;
		ly.name = ds_xstrndup(names[i], l - 5);
		ly.path = ds_xasprintf("%s/%s", b->layers, ly.name);
		b->l = ds_xrealloc(b->l, (b->n_l + 1) * sizeof(*b->l));
		b->l[b->n_l++] = ly;
		if ((ly.types[0] || ly.types[1] || ly.types[2]) && !is_dir(ly.path)) {
			ds_error_set(err, DS_EINVAL,
				     "'%s' marks layer '%s' launch, build or cache, "
				     "but there is no folder '%s'",
				     names[i], ly.name, ly.name);
			ds_error_hint(err, "dsbuild keeps no previous image to reuse a layer from: "
					   "create the folder on every build (or cache = true)");
			goto out;
		}
	}
	if (b->n_l)
		qsort(b->l, b->n_l, sizeof(*b->l), cmp_layer);
	rc = 0;
out:
	free_strv(names, n);
	return rc;
}

/* launch.toml: processes (a later type replaces an earlier one) and labels. */
static int read_launch(cnb_build *x, cnb_bp *b, ds_error *err)
{
	_cleanup_free_ char *path = ds_xasprintf("%s/launch.toml", b->layers);
	_cleanup_buf_ ds_buf t = DS_BUF_INIT;
	_cleanup_json_ json_t *procs = NULL, *labels = NULL;
	json_t *p;
	size_t i;
	int missing;

	ds_buf_init(&t, CNB_TOML_MAX + 1);
	if (read_small(&t, path, "launch.toml", CNB_TOML_MAX, &missing, err) < 0)
		return -1;
	if (missing)
		return 0;
	if (bp_cnb_launch_parse(&procs, &labels, t.data, t.len, b->minor, "launch.toml", err) < 0)
		return -1;
	json_object_update(x->r->labels, labels);
	json_array_foreach (procs, i, p) {
		const char *type = json_string_value(json_object_get(p, "type"));
		json_t *cmd = json_object_get(p, "command"), *old, *w;
		size_t j;
		int replaced = 0;

		if (json_is_array(cmd)) {
			json_t *c2 = json_array(), *word;
			size_t k;
			json_array_foreach (cmd, k, word) {
				char *s = bp_cnb_rewrite_path(&x->rw, json_string_value(word));
				json_array_append_new(c2, json_string(s));
				free(s);
			}
			json_object_set_new(p, "command", c2);
		} else {
			char *s = bp_cnb_rewrite_path(&x->rw, json_string_value(cmd));
			json_object_set_new(p, "command", json_string(s));
			free(s);
		}
		if ((w = json_object_get(p, "workdir"))) {
			char *s = bp_cnb_rewrite_path(&x->rw, json_string_value(w));
			char *abs =
			    s[0] == '/' ? ds_xstrdup(s) : ds_xasprintf("%s/%s", IMAGE_APP, s);
			json_object_set_new(p, "workdir", json_string(abs));
			free(s);
			free(abs);
		}
		json_object_set_new(p, "buildpack", json_string(b->id));
		if (json_is_true(json_object_get(p, "default"))) {
			free(x->def_type);
			x->def_type = ds_xstrdup(type);
		} else if (x->def_type && !strcmp(x->def_type, type)) {
			free(x->def_type);
			x->def_type = NULL;
		}
		json_array_foreach (x->r->processes, j, old) {
			if (!strcmp(json_string_value(json_object_get(old, "type")), type)) {
				json_array_set(x->r->processes, j, p);
				replaced = 1;
				break;
			}
		}
		if (!replaced)
			json_array_append(x->r->processes, p);
	}
	return 0;
}

/* build.toml [[unmet]]: the plan entries bin/build did not meet go on to
 * the next buildpack that provides them; the others are met. */
static int read_unmet(cnb_build *x, cnb_bp *b, ds_error *err)
{
	_cleanup_free_ char *path = ds_xasprintf("%s/build.toml", b->layers);
	_cleanup_json_ json_t *doc = NULL;
	json_t *unmet, *e;
	size_t i, j;
	int missing;

	if (read_toml(&doc, path, "build.toml", &missing, err) < 0)
		return -1;
	unmet = json_object_get(doc, "unmet");
	if (unmet && !json_is_array(unmet))
		return ds_error_set(err, DS_EINVAL,
				    "'build.toml': unmet must be an array of tables "
				    "([[unmet]])");
	json_array_foreach ((json_t *)b->entries, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *u;
		int is_unmet = 0;
		json_array_foreach (unmet, j, u)
			is_unmet |= json_is_string(json_object_get(u, "name")) &&
				    !strcmp(json_string_value(json_object_get(u, "name")), name);
		if (!is_unmet)
			json_object_set_new(x->met, name, json_true());
	}
	return 0;
}

static int run_build(cnb_build *x, size_t i, ds_error *err)
{
	cnb_bp *b = &x->v[i];
	_cleanup_free_ char *planfile = ds_xasprintf("%s/plan-%zu.toml", x->work, i);
	_cleanup_free_ char *prog = ds_xasprintf("%s/bin/build", b->dir);
	_cleanup_json_ json_t *env = NULL;
	tailbuf *tail;
	char *argv[5];
	int status = 0;

	if (write_bp_plan(x, i, planfile, err) < 0 || build_env(&env, x, i, planfile, err) < 0)
		return -1;
	argv[0] = prog;
	argv[1] = b->minor < 8 ? b->layers : NULL;
	argv[2] = b->minor < 8 ? x->platform : NULL;
	argv[3] = b->minor < 8 ? planfile : NULL;
	argv[4] = NULL;
	tail = ds_xcalloc(1, sizeof(*tail));
	if (run_program(&status, tail, argv, env, x->src->root, "bin/build", err) < 0) {
		free(tail);
		return -1;
	}
	if (status != 0) {
		ds_buf msg = DS_BUF_INIT;
		ds_buf_init(&msg, DS_ERROR_MSG_MAX);
		tail_format(&msg, tail);
		ds_error_set(err, DS_EINVAL,
			     "bin/build failed with exit status %d; its stderr ends "
			     "with:%s",
			     status, msg.data);
		ds_error_hint(err, "fix the buildpack (%s), or leave it out", b->dir);
		ds_buf_release(&msg);
		free(tail);
		return -1;
	}
	free(tail);
	if (scan_layers(b, err) < 0 || read_launch(x, b, err) < 0 || read_unmet(x, b, err) < 0)
		return -1;
	return 0;
}

/* The launch env of every launch layer, composed as the CNB launcher would
 * over the image's own env: PATH and LD_LIBRARY_PATH give what to prepend. */
static int launch_env(cnb_build *x, json_t *env, const char *proc, ds_error *err)
{
	json_object_set_new(env, "PATH", json_string(CNB_BASE_MARK));
	json_object_set_new(env, "LD_LIBRARY_PATH", json_string(CNB_BASE_MARK));
	for (size_t i = 0; i < x->n; i++) {
		cnb_bp *b = &x->v[i];
		for (size_t k = 0; k < b->n_l; k++) {
			cnb_layer *l = &b->l[k];
			_cleanup_free_ char *img =
			    ds_xasprintf("%s/%s/%s", IMAGE_LAYERS, b->esc, l->name);
			_cleanup_free_ char *e = ds_xasprintf("%s/env", l->path);
			_cleanup_free_ char *el = ds_xasprintf("%s/env.launch", l->path);
			_cleanup_free_ char *ep =
			    proc ? ds_xasprintf("%s/env.launch/%s", l->path, proc) : NULL;
			_cleanup_free_ char *we =
			    ds_xasprintf("%s: layer '%s' env", b->id, l->name);
			_cleanup_free_ char *wl =
			    ds_xasprintf("%s: layer '%s' env.launch", b->id, l->name);
			if (!l->types[0])
				continue;
			env_root_dir(env, l->path, img, 1);
			if (bp_cnb_env_apply(env, e, we, &x->rw, err) < 0 ||
			    bp_cnb_env_apply(env, el, wl, &x->rw, err) < 0 ||
			    (ep && bp_cnb_env_apply(env, ep, wl, &x->rw, err) < 0))
				return -1;
		}
	}
	return 0;
}

/* What to prepend to the image's value of a PATH-like variable. */
static char *path_prefix(const char *v)
{
	const char *m = strstr(v, CNB_BASE_MARK);
	ds_buf b = DS_BUF_INIT;
	size_t pre;

	if (!m)
		return ds_xstrdup(v);
	ds_buf_init(&b, 0);
	pre = (size_t)(m - v);
	while (pre && v[pre - 1] == ':')
		pre--;
	ds_buf_add(&b, v, pre);
	m += strlen(CNB_BASE_MARK);
	while (*m == ':')
		m++;
	/* An append lands before the image's value too: dsbuild only prepends. */
	if (*m)
		ds_buf_addf(&b, "%s%s", b.len ? ":" : "", m);
	return ds_buf_detach(&b, NULL);
}

static int export_env(cnb_build *x, ds_error *err)
{
	_cleanup_json_ json_t *env = json_object();
	const char *k;
	json_t *v, *p;
	size_t i;

	if (launch_env(x, env, NULL, err) < 0)
		return -1;
	json_object_foreach (env, k, v) {
		const char *s = json_string_value(v);
		if (!strcmp(k, "PATH") || !strcmp(k, "LD_LIBRARY_PATH")) {
			char *pre = path_prefix(s);
			if (*pre)
				json_object_set_new(x->r->env, k, json_string(pre));
			free(pre);
		} else if (!strstr(s, CNB_BASE_MARK)) {
			json_object_set(x->r->env, k, v);
		}
	}
	/* env.launch/<process>/: what differs becomes the process's env, for the
	 * launcher (which expands $: written $$). */
	json_array_foreach (x->r->processes, i, p) {
		_cleanup_json_ json_t *penv = json_object(), *diff = json_object();
		if (launch_env(x, penv, json_string_value(json_object_get(p, "type")), err) < 0)
			return -1;
		json_object_foreach (penv, k, v) {
			const char *s = json_string_value(v), *g;
			ds_buf b = DS_BUF_INIT;
			g = json_string_value(json_object_get(env, k));
			if (g && !strcmp(g, s))
				continue;
			ds_buf_init(&b, 0);
			for (const char *q = s; *q;) {
				if (!strncmp(q, CNB_BASE_MARK, strlen(CNB_BASE_MARK))) {
					ds_buf_addf(&b, "${%s}", k);
					q += strlen(CNB_BASE_MARK);
				} else {
					if (*q == '$')
						ds_buf_addch(&b, '$');
					ds_buf_addch(&b, *q++);
				}
			}
			json_object_set_new(diff, k, json_string(b.data));
			ds_buf_release(&b);
		}
		if (json_object_size(diff))
			json_object_set(p, "env", diff);
	}
	return 0;
}

static int export_layers(cnb_build *x, const ds_layer_opts *lo, ds_store *store, ds_error *err)
{
	bp_cnb_result *r = x->r;

	for (size_t i = 0; i < x->n; i++) {
		cnb_bp *b = &x->v[i];
		for (size_t k = 0; k < b->n_l; k++) {
			cnb_layer *l = &b->l[k];
			_cleanup_free_ char *img =
			    ds_xasprintf("%s/%s/%s", IMAGE_LAYERS + 1, b->esc, l->name);
			_cleanup_free_ char *what =
			    ds_xasprintf("buildpack '%s' layer '%s'", b->id, l->name);
			if (!l->types[0])
				continue;
			if (r->n_layers == CNB_LAUNCH_LAYERS_MAX)
				return ds_error_set(err, DS_ENOMEM,
						    "the Cloud Native Buildpacks made "
						    "more than %d launch layers",
						    CNB_LAUNCH_LAYERS_MAX);
			r->layers = ds_xrealloc(r->layers, (r->n_layers + 1) * sizeof(*r->layers));
			r->created_by =
			    ds_xrealloc(r->created_by, (r->n_layers + 1) * sizeof(*r->created_by));
			if (write_layer(&r->layers[r->n_layers], store, lo, l->path, img, &x->rw,
					what, err) < 0)
				return -1;
			r->created_by[r->n_layers++] =
			    ds_xasprintf("cnb %s: layer %s", b->id, l->name);
		}
	}
	return 0;
}

/* The cache layers (with their metadata, without [types]) and store.toml of
 * each buildpack replace the ones of the last build.  Failures only cost
 * time next build, so they are not errors. */
static void save_cache(cnb_build *x)
{
	for (size_t i = 0; i < x->n; i++) {
		cnb_bp *b = &x->v[i];
		_cleanup_free_ char *fresh = NULL, *old = NULL, *store = NULL, *pstore = NULL;
		int any = 0;

		if (!b->cache)
			continue;
		fresh = ds_mkdtemp_beside(b->cache, NULL);
		if (!fresh)
			continue;
		for (size_t k = 0; k < b->n_l; k++) {
			cnb_layer *l = &b->l[k];
			_cleanup_free_ char *to = NULL, *toml = NULL;
			_cleanup_json_ json_t *doc = json_object();
			ds_buf t = DS_BUF_INIT;
			if (!l->types[2] || !is_dir(l->path))
				continue;
			to = ds_xasprintf("%s/%s", fresh, l->name);
			toml = ds_xasprintf("%s/%s.toml", fresh, l->name);
			if (l->metadata)
				json_object_set(doc, "metadata", l->metadata);
			ds_buf_init(&t, 0);
			if (bp_cnb_toml_write(&t, doc, NULL) == 0 &&
			    ds_write_file_atomic(toml, t.data, t.len, NULL) == 0 &&
			    rename(l->path, to) == 0)
				any = 1;
			else
				unlink(toml);
			ds_buf_release(&t);
		}
		pstore = ds_xasprintf("%s/store.toml", b->layers);
		store = ds_xasprintf("%s/store.toml", fresh);
		if (ds_path_exists(pstore) && copy_file(pstore, store) == 0)
			any = 1;
		if (ds_path_exists(b->cache)) {
			old = ds_mkdtemp_beside(b->cache, NULL);
			if (!old || rename(b->cache, old) < 0) {
				ds_rm_rf(fresh);
				ds_rm_rf(old);
				continue;
			}
		}
		if (!any || rename(fresh, b->cache) < 0)
			ds_rm_rf(fresh);
		ds_rm_rf(old);
	}
}

void bp_cnb_result_free(bp_cnb_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_layers; i++)
		free(r->created_by[i]);
	free(r->created_by);
	free(r->layers);
	json_decref(r->env);
	json_decref(r->processes);
	json_decref(r->labels);
	free(r);
}

static void build_release(cnb_build *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].esc);
		free(x->v[i].layers);
		free(x->v[i].cache);
		free_layers_of(&x->v[i]);
	}
	free(x->v);
	if (x->work)
		ds_rm_rf(x->work);
	free(x->work);
	free(x->layers_root);
	free(x->platform);
	free(x->def_type);
	json_decref(x->met);
}

static int build_setup(cnb_build *x, const json_t *cnb, const char *cache_dir, ds_error *err)
{
	_cleanup_free_ char *cache_root = cache_dir ? ds_xasprintf("%s/cnb", cache_dir) : NULL;
	_cleanup_free_ char *envdir = NULL;
	json_t *e;
	size_t i;

	if (json_array_size(cnb) > CNB_GROUP_MAX)
		return ds_error_set(err, DS_ENOMEM,
				    "more than %d Cloud Native Buildpacks in one "
				    "build",
				    CNB_GROUP_MAX);
	/* Beside the cache, so cache layers move there by rename. */
	if (cache_root && ds_mkdir_p(cache_root, 0755, err) < 0)
		return ds_error_wrap(err, "cache");
	if (!(x->work = make_tmpdir(cache_root, ".tmp-build", err)))
		return -1;
	x->layers_root = ds_xasprintf("%s/layers", x->work);
	x->platform = ds_xasprintf("%s/platform", x->work);
	envdir = ds_xasprintf("%s/env", x->platform);
	x->rw.layers_root = x->layers_root;
	x->rw.app_root = x->src->root;
	x->met = json_object();
	if (ds_mkdir_p(envdir, 0755, err) < 0 || ds_mkdir_p(x->layers_root, 0755, err) < 0)
		return -1;
	x->v = ds_xcalloc(json_array_size(cnb) + 1, sizeof(*x->v));
	json_array_foreach ((json_t *)cnb, i, e) {
		cnb_bp *b = &x->v[x->n];
		const char *id = json_string_value(json_object_get(e, "id"));
		const char *dir = json_string_value(json_object_get(e, "dir"));
		int minor = bp_cnb_api_minor(json_string_value(json_object_get(e, "api")));
		if (!id || !dir || minor < CNB_API_MIN || !strcmp(id, ".") || !strcmp(id, ".."))
			return ds_error_set(err, DS_EINVAL,
					    "the plan's Cloud Native Buildpack %zu "
					    "is incomplete",
					    i);
		x->n++;
		b->id = id;
		b->dir = dir;
		b->version = json_string_value(json_object_get(e, "version"));
		b->minor = minor;
		b->entries = json_object_get(e, "entries");
		b->esc = escape_id(id);
		b->layers = ds_xasprintf("%s/%s", x->layers_root, b->esc);
		b->cache = cache_root ? ds_xasprintf("%s/%s", cache_root, b->esc) : NULL;
		for (size_t j = 0; j + 1 < x->n; j++)
			if (!strcmp(x->v[j].esc, b->esc))
				return ds_error_set(err, DS_EINVAL,
						    "buildpacks '%s' and '%s' would "
						    "share the layers folder '%s'",
						    x->v[j].id, id, b->esc);
		if (mkdir(b->layers, 0755) < 0)
			return ds_error_set_errno(err, errno, "cannot create '%s'", b->layers);
		restore_cache(b);
	}
	return 0;
}

int bp_cnb_build(bp_cnb_result **out, const json_t *plan, const ds_source *src, ds_store *store,
		 const ds_layer_opts *lo, const char *cache_dir, ds_error *err)
{
	cnb_build x = {.plan = plan, .src = src};
	const json_t *cnb = json_object_get(plan, "cnb");
	json_t *p;
	size_t i;
	int rc = -1;

	x.r = ds_xcalloc(1, sizeof(*x.r));
	x.r->env = json_object();
	x.r->processes = json_array();
	x.r->labels = json_object();
	if (!json_array_size(cnb)) {
		*out = x.r;
		return 0;
	}
	if (json_is_string(json_object_get(plan, "cnb_error"))) {
		ds_error_set(err, DS_EINVAL, "%s",
			     json_string_value(json_object_get(plan, "cnb_error")));
		ds_error_hint(err, "a buildpack after it must require it, or leave the buildpack "
				   "out; 'dsbuild detect' shows each buildpack's build plan");
		goto out;
	}
	if (build_setup(&x, cnb, cache_dir, err) < 0)
		goto out;
	for (i = 0; i < x.n; i++) {
		if (ds_canceled()) {
			ds_error_set(err, DS_ECANCELED, "interrupted");
			goto out;
		}
		if (run_build(&x, i, err) < 0) {
			ds_error_wrap(err, "buildpack '%s'", x.v[i].id);
			goto out;
		}
	}
	if (export_layers(&x, lo, store, err) < 0 || export_env(&x, err) < 0)
		goto out;
	json_array_foreach (x.r->processes, i, p)
		json_object_set_new(
		    p, "default",
		    json_boolean(
			x.def_type &&
			!strcmp(x.def_type, json_string_value(json_object_get(p, "type")))));
	save_cache(&x);
	*out = x.r;
	x.r = NULL;
	rc = 0;
out:
	bp_cnb_result_free(x.r);
	build_release(&x);
	return rc;
}
