/* pip requirements files.
 *
 * The stages are pip's (src/pip/_internal/req/req_file.py): physical lines
 * joined on a trailing backslash (not after a comment line), comments
 * removed ('#' at the start or after whitespace), ${VAR} expanded, then
 * each logical line split into the requirement (the words before the first
 * one starting with '-') and options (shell-split, parsed like optparse:
 * "--opt=v", "--opt v", "-ov", "-o v", unambiguous long prefixes).
 *
 * Where pip silently ignores something on a line (an --index-url on a
 * requirement line, stray words after options, --hash without a
 * requirement), this parser refuses it with the file and line, since the
 * writer almost certainly meant something else. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <dsbuild/python.h>

#include "python/pyutil.h"
#include "util/util.h"

enum {
	O_INDEX_URL = 1, O_EXTRA_INDEX_URL, O_NO_INDEX, O_CONSTRAINT, O_REQUIREMENT, O_EDITABLE,
	O_FIND_LINKS, O_NO_BINARY, O_ONLY_BINARY, O_PREFER_BINARY, O_REQUIRE_HASHES, O_PRE,
	O_TRUSTED_HOST, O_USE_FEATURE, O_GLOBAL_OPTION, O_HASH, O_CONFIG_SETTINGS,
};

static const struct {
	const char *lng;
	char shrt;
	int id;
	int takes_value;
	int per_req; /* allowed on a requirement line */
} options[] = {
	{ "index-url", 'i', O_INDEX_URL, 1, 0 },
	{ "extra-index-url", 0, O_EXTRA_INDEX_URL, 1, 0 },
	{ "no-index", 0, O_NO_INDEX, 0, 0 },
	{ "constraint", 'c', O_CONSTRAINT, 1, 0 },
	{ "requirement", 'r', O_REQUIREMENT, 1, 0 },
	{ "editable", 'e', O_EDITABLE, 1, 0 },
	{ "find-links", 'f', O_FIND_LINKS, 1, 0 },
	{ "no-binary", 0, O_NO_BINARY, 1, 0 },
	{ "only-binary", 0, O_ONLY_BINARY, 1, 0 },
	{ "prefer-binary", 0, O_PREFER_BINARY, 0, 0 },
	{ "require-hashes", 0, O_REQUIRE_HASHES, 0, 0 },
	{ "pre", 0, O_PRE, 0, 0 },
	{ "trusted-host", 0, O_TRUSTED_HOST, 1, 0 },
	{ "use-feature", 0, O_USE_FEATURE, 1, 0 },
	{ "global-option", 0, O_GLOBAL_OPTION, 1, 1 },
	{ "hash", 0, O_HASH, 1, 1 },
	{ "config-settings", 'C', O_CONFIG_SETTINGS, 1, 1 },
};

typedef struct rf_opt {
	int idx; /* into options[] */
	char *value;
} rf_opt;

typedef struct rf_ctx {
	ds_reqfile *rf;
	const ds_reqfile_opts *opts;
	int max_depth;
	char *root_abs;
	const char *stack[DS_REQFILE_DEPTH_MAX + 2];
	size_t depth;
	size_t n_items;
	size_t alloc_reqs, alloc_cons;
	ds_error *err;
} rf_ctx;

#define LINE_FAIL(ctx, file, line, ...)                                                           \
	(ds_error_set((ctx)->err, DS_EINVAL, "'%s' line %d: ", file, line),                      \
	 append_msg((ctx)->err, __VA_ARGS__))

static int append_msg(ds_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int append_msg(ds_error *err, const char *fmt, ...)
{
	va_list ap;
	size_t l;

	if (!err)
		return -1;
	l = strlen(err->msg);
	va_start(ap, fmt);
	vsnprintf(err->msg + l, sizeof(err->msg) - l, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- freeing ---------------------------------------------------------------------- */

static void req_release(ds_reqfile_req *r)
{
	ds_pyreq_free(r->req);
	free(r->link);
	for (size_t i = 0; i < r->n_hashes; i++)
		free(r->hashes[i]);
	free(r->hashes);
	memset(r, 0, sizeof(*r));
}

static void values_free(ds_reqfile_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].value);
	free(v);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

ds_reqfile *ds_reqfile_free(ds_reqfile *rf)
{
	if (!rf)
		return NULL;
	for (size_t i = 0; i < rf->n_reqs; i++)
		req_release(&rf->reqs[i]);
	free(rf->reqs);
	for (size_t i = 0; i < rf->n_constraints; i++)
		req_release(&rf->constraints[i]);
	free(rf->constraints);
	free(rf->index_url.value);
	values_free(rf->extra_index_urls, rf->n_extra_index_urls);
	values_free(rf->find_links, rf->n_find_links);
	values_free(rf->trusted_hosts, rf->n_trusted_hosts);
	strv_free(rf->only_binary, rf->n_only_binary);
	strv_free(rf->no_binary, rf->n_no_binary);
	strv_free(rf->files, rf->n_files);
	free(rf);
	return NULL;
}

/* ---- small helpers -------------------------------------------------------------- */

#define VALUES_MAX 1024 /* values of one list option (--find-links ...), names in --only-binary */

/* Makes room for element n of *v, doubling at powers of two. */
static void *grow(void *v, size_t n, size_t size)
{
	if (n && (n & (n - 1)))
		return v;
	return ds_xrealloc(v, (n ? n * 2 : 1) * size);
}

static int add_value(ds_reqfile_value **v, size_t *n, const char *value, const char *file,
		     int line, ds_error *err)
{
	if (*n >= VALUES_MAX)
		return ds_error_set(err, DS_EINVAL, "'%s' line %d: more than %d values of this option",
				    file, line, VALUES_MAX);
	*v = grow(*v, *n, sizeof(**v));
	(*v)[*n].value = ds_xstrdup(value);
	(*v)[*n].file = file;
	(*v)[*n].line = line;
	(*n)++;
	return 0;
}

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
	size_t l = strlen(suffix);

	return n >= l && strncasecmp(s + n - l, suffix, l) == 0;
}

static const char *const vcs_schemes[] = {
	"git",      "git+http",  "git+https", "git+ssh",       "git+git",  "git+file",
	"hg+file",  "hg+http",   "hg+https",  "hg+ssh",        "hg+static-http",
	"svn",      "svn+ssh",   "svn+http",  "svn+https",     "svn+svn",  "svn+file",
	"bzr+http", "bzr+https", "bzr+ssh",   "bzr+sftp",      "bzr+ftp",  "bzr+lp",
	"bzr+file",
};

/* The scheme before ':' when it is one pip knows: 1 plain (http, https,
 * file, ftp), 2 a VCS, 0 not a URL. */
static int url_kind(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t n;
	static const char *const plain[] = { "http", "https", "file", "ftp" };

	if (!colon)
		return 0;
	n = (size_t)(colon - s);
	for (size_t i = 0; i < DS_ARRAY_SIZE(plain); i++)
		if (strlen(plain[i]) == n && strncasecmp(s, plain[i], n) == 0)
			return 1;
	for (size_t i = 0; i < DS_ARRAY_SIZE(vcs_schemes); i++)
		if (strlen(vcs_schemes[i]) == n && strncasecmp(s, vcs_schemes[i], n) == 0)
			return 2;
	return 0;
}

static int is_file_url(const char *s)
{
	return strncasecmp(s, "file:", 5) == 0;
}

static int is_archive(const char *s, size_t n)
{
	static const char *const ext[] = { ".zip", ".whl", ".tar.bz2", ".tbz", ".tar.xz", ".txz",
					   ".tlz", ".tar.lz", ".tar.lzma", ".tar.gz", ".tgz", ".tar" };

	for (size_t i = 0; i < DS_ARRAY_SIZE(ext); i++)
		if (ends_with_ci(s, n, ext[i]))
			return 1;
	return 0;
}

/* The path part of a link (no query or fragment) ends in .whl. */
static int link_is_wheel(const char *link)
{
	size_t n = strcspn(link, "?#");

	return n >= 4 && strncmp(link + n - 4, ".whl", 4) == 0;
}

static int link_is_archive(const char *link)
{
	return is_archive(link, strcspn(link, "?#"));
}

/* "#...&sha256=<hex>" on a link. */
static int link_has_hash(const char *link)
{
	const char *frag = strchr(link, '#');
	static const char *const algos[] = { "sha256=", "sha384=", "sha512=" };

	if (!frag)
		return 0;
	for (const char *p = frag + 1; *p;) {
		for (size_t i = 0; i < DS_ARRAY_SIZE(algos); i++)
			if (strncmp(p, algos[i], strlen(algos[i])) == 0 &&
			    py_isalnum((unsigned char)p[strlen(algos[i])]))
				return 1;
		p += strcspn(p, "&");
		if (*p)
			p++;
	}
	return 0;
}

static void quoted(char *buf, size_t size, const char *s)
{
	py_quote(buf, size, s, strlen(s));
}

/* ---- requirement lines ------------------------------------------------------------- */

/* "path[extra1,extra2]" -> path and the extras part; 0 when no extras. */
static size_t strip_extras(const char *s, size_t n)
{
	const char *open;

	if (n < 3 || s[n - 1] != ']')
		return 0;
	open = NULL;
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '[')
			open = s + i;
		else if (s[i] == ']')
			open = NULL;
	if (!open || open == s || open + 2 > s + n - 1)
		return 0;
	return n - (size_t)(open - s);
}

/* Parses "placeholder[...]" to get normalised extras into r. */
static int parse_extras_into(rf_ctx *ctx, ds_pyreq *r, const char *extras, size_t n,
			     const char *file, int line)
{
	char *text = ds_xasprintf("placeholder%.*s", (int)n, extras);
	ds_pyreq *tmp = NULL;
	ds_error e2 = DS_ERROR_INIT;
	char shown[120];

	if (ds_pyreq_parse(&tmp, text, &e2) < 0 || tmp->specs.n || tmp->url || tmp->marker) {
		free(text);
		ds_pyreq_free(tmp);
		quoted(shown, sizeof(shown), extras);
		return LINE_FAIL(ctx, file, line, "invalid extras '%.*s'", (int)n, extras);
	}
	free(text);
	r->extras = tmp->extras;
	r->n_extras = tmp->n_extras;
	tmp->extras = NULL;
	tmp->n_extras = 0;
	ds_pyreq_free(tmp);
	return 0;
}

/* "#egg=name" (or "name[extras]") on a link sets r's name. */
static int egg_name(rf_ctx *ctx, ds_pyreq *r, const char *link, const char *file, int line)
{
	const char *frag = strchr(link, '#'), *p;
	size_t n, l;
	char *value;

	if (!frag)
		return 0;
	for (p = frag + 1; *p;) {
		if (strncmp(p, "egg=", 4) == 0)
			break;
		p += strcspn(p, "&");
		if (*p)
			p++;
	}
	if (!*p)
		return 0;
	p += 4;
	n = strcspn(p, "&");
	value = ds_xstrndup(p, n);
	l = pyname_span(value);
	if (!l || l > DS_PYNAME_MAX || (value[l] && value[l] != '[')) {
		char shown[120];
		quoted(shown, sizeof(shown), value);
		free(value);
		return LINE_FAIL(ctx, file, line, "invalid project name '#egg=%s' on the link", shown);
	}
	r->name = ds_xstrndup(value, l);
	if (ds_pyname_normalize(&r->key, r->name, ctx->err) < 0) {
		free(value);
		return -1;
	}
	if (value[l] && parse_extras_into(ctx, r, value + l, strlen(value + l), file, line) < 0) {
		free(value);
		return -1;
	}
	free(value);
	return 0;
}

/* Name and ==version from a wheel file name, for a wheel link or path. */
static int wheel_pin(rf_ctx *ctx, ds_pyreq *r, const char *link, const char *file, int line)
{
	ds_pywheel_name *w;
	ds_error e2 = DS_ERROR_INIT;
	char buf[DS_PYVER_STRING_MAX + 3];

	if (ds_pywheel_name_parse(&w, link, &e2) < 0)
		return LINE_FAIL(ctx, file, line, "%s", e2.msg);
	r->name = ds_xstrdup(w->name);
	r->key = ds_xstrdup(w->key);
	buf[0] = '=';
	buf[1] = '=';
	ds_pyver_format(&w->version, buf + 2, sizeof(buf) - 2);
	ds_pywheel_name_free(w);
	if (ds_pyspecset_parse(&r->specs, buf, &e2) < 0)
		return LINE_FAIL(ctx, file, line, "%s", e2.msg);
	return 0;
}

static int looks_like_path(const char *s)
{
	return strchr(s, '/') != NULL || s[0] == '.';
}

/* "name [extras] @" at the start: a PEP 508 URL requirement. */
static int pep508_url_form(const char *s)
{
	size_t i = 0, l;

	while (py_iswsp((unsigned char)s[i]))
		i++;
	l = pyname_span(s + i);
	if (!l)
		return 0;
	i += l;
	while (py_iswsp((unsigned char)s[i]))
		i++;
	if (s[i] == '[') {
		const char *close = strchr(s + i, ']');
		if (!close)
			return 0;
		i = (size_t)(close - s) + 1;
		while (py_iswsp((unsigned char)s[i]))
			i++;
	}
	return s[i] == '@';
}

static void kind_of_link(ds_reqfile_req *item, const char *link)
{
	int k = url_kind(link);

	if (k == 2)
		item->kind = DS_REQFILE_VCS;
	else if (is_file_url(link))
		item->kind = DS_REQFILE_PATH;
	else
		item->kind = DS_REQFILE_URL;
}

static char *trim_dup(const char *s, size_t n)
{
	while (n && py_isspace((unsigned char)*s))
		s++, n--;
	while (n && py_isspace((unsigned char)s[n - 1]))
		n--;
	return ds_xstrndup(s, n);
}

static int parse_requirement_text(rf_ctx *ctx, ds_reqfile_req *item, const char *text,
				  const char *file, int line)
{
	const char *sep = url_kind(text) ? "; " : ";";
	const char *m = strstr(text, sep);
	_cleanup_free_ char *main_part = trim_dup(text, m ? (size_t)(m - text) : strlen(text));
	_cleanup_free_ char *marker = m ? trim_dup(m + strlen(sep), strlen(m + strlen(sep))) : NULL;
	ds_pyreq *r = NULL;
	ds_error e2 = DS_ERROR_INIT;
	char shown[240];
	size_t n = strlen(main_part);

	quoted(shown, sizeof(shown), main_part);
	if (url_kind(main_part)) {
		r = ds_xcalloc(1, sizeof(*r));
		item->req = r;
		item->link = ds_xstrdup(main_part);
		kind_of_link(item, main_part);
		item->wheel = link_is_wheel(main_part);
		if (item->wheel ? wheel_pin(ctx, r, main_part, file, line) < 0
				: egg_name(ctx, r, main_part, file, line) < 0)
			return -1;
	} else if (pep508_url_form(main_part)) {
		if (ds_pyreq_parse(&r, main_part, &e2) < 0)
			return LINE_FAIL(ctx, file, line, "%s", e2.msg);
		item->req = r;
		item->link = ds_xstrdup(r->url);
		kind_of_link(item, r->url);
		item->wheel = link_is_wheel(r->url);
		if (r->marker)
			marker = NULL; /* cannot happen: ';' was split off */
	} else if (looks_like_path(main_part) || is_archive(main_part, n)) {
		size_t ex = strip_extras(main_part, n);
		r = ds_xcalloc(1, sizeof(*r));
		item->req = r;
		item->kind = DS_REQFILE_PATH;
		item->link = ds_xstrndup(main_part, n - ex);
		item->wheel = link_is_wheel(item->link);
		if (ex && parse_extras_into(ctx, r, main_part + n - ex, ex, file, line) < 0)
			return -1;
		if (item->wheel && wheel_pin(ctx, r, item->link, file, line) < 0)
			return -1;
	} else {
		if (ds_pyreq_parse(&r, main_part, &e2) < 0) {
			ds_error_set(ctx->err, DS_EINVAL, "'%s' line %d: %s", file, line, e2.msg);
			if (e2.hint[0])
				ds_error_hint(ctx->err, "%s", e2.hint);
			return -1;
		}
		item->req = r;
		item->kind = DS_REQFILE_INDEX;
	}
	if (marker && *marker) {
		if (ds_pymarker_parse(&r->marker, marker, &e2) < 0)
			return LINE_FAIL(ctx, file, line, "%s", e2.msg);
	} else if (marker && !*marker && m) {
		/* "name ;" : pip takes an empty marker as none. */
	}
	return 0;
}

static int parse_editable(rf_ctx *ctx, ds_reqfile_req *item, const char *value, const char *file,
			  int line)
{
	static const char *const vcs[] = { "git", "hg", "svn", "bzr" };
	size_t n = strlen(value), ex = 0;
	ds_pyreq *r = ds_xcalloc(1, sizeof(*r));
	char shown[240];
	int k = url_kind(value);

	item->req = r;
	item->editable = 1;
	quoted(shown, sizeof(shown), value);
	if (!k || is_file_url(value)) {
		if (!k)
			ex = strip_extras(value, n);
		item->kind = DS_REQFILE_PATH;
		item->link = ds_xstrndup(value, n - ex);
		if (ex && parse_extras_into(ctx, r, value + n - ex, ex, file, line) < 0)
			return -1;
		return egg_name(ctx, r, item->link, file, line);
	}
	for (size_t i = 0; i < DS_ARRAY_SIZE(vcs); i++) {
		size_t l = strlen(vcs[i]);
		if (strncasecmp(value, vcs[i], l) == 0 && value[l] == ':') {
			item->link = ds_xasprintf("%s+%s", vcs[i], value);
			break;
		}
	}
	if (!item->link) {
		if (k != 2)
			return LINE_FAIL(ctx, file, line,
					 "'%s' is not a valid editable requirement: expected a local "
					 "project path or a VCS URL (git+https://..., hg+, svn+, bzr+)",
					 shown);
		item->link = ds_xstrdup(value);
	}
	item->kind = DS_REQFILE_VCS;
	return egg_name(ctx, r, item->link, file, line);
}

/* ---- options ------------------------------------------------------------------------- */

/* POSIX shell words, as Python's shlex.split(). */
static int shell_split(char ***out, size_t *n_out, const char *s, const char **why)
{
	char **v = NULL;
	size_t n = 0;
	ds_buf w;

	*why = NULL;
	ds_buf_init(&w, DS_REQFILE_LINE_MAX);
	for (;;) {
		int in_word = 0;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (!*s)
			break;
		ds_buf_reset(&w);
		while (*s && !(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
			in_word = 1;
			if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');
				if (!e) {
					*why = "no closing quotation";
					goto bad;
				}
				ds_buf_add(&w, s + 1, (size_t)(e - s - 1));
				s = e + 1;
			} else if (*s == '"') {
				s++;
				while (*s && *s != '"') {
					if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					ds_buf_addch(&w, *s++);
				}
				if (!*s) {
					*why = "no closing quotation";
					goto bad;
				}
				s++;
			} else if (*s == '\\') {
				if (!s[1]) {
					*why = "no escaped character after '\\'";
					goto bad;
				}
				ds_buf_addch(&w, s[1]);
				s += 2;
			} else {
				ds_buf_addch(&w, *s++);
			}
		}
		if (in_word) {
			v = grow(v, n, sizeof(*v));
			v[n++] = ds_xstrndup(w.data, w.len);
		}
	}
	ds_buf_release(&w);
	*out = v;
	*n_out = n;
	return 0;
bad:
	ds_buf_release(&w);
	strv_free(v, n);
	return -1;
}

static int find_long(const char *name, size_t n, int *ambiguous)
{
	int found = -1, count = 0;

	*ambiguous = 0;
	for (size_t i = 0; i < DS_ARRAY_SIZE(options); i++) {
		if (strlen(options[i].lng) == n && memcmp(options[i].lng, name, n) == 0)
			return (int)i;
		if (strlen(options[i].lng) > n && memcmp(options[i].lng, name, n) == 0) {
			found = (int)i;
			count++;
		}
	}
	if (count > 1)
		*ambiguous = 1;
	return count == 1 ? found : -1;
}

static void opts_free(rf_opt *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(o[i].value);
	free(o);
}

static int parse_options(rf_ctx *ctx, rf_opt **out, size_t *n_out, const char *text,
			 const char *file, int line)
{
	char **words = NULL, shown[160];
	size_t nw = 0, n = 0;
	rf_opt *o = NULL;
	const char *why;

	if (shell_split(&words, &nw, text, &why) < 0) {
		quoted(shown, sizeof(shown), text);
		return LINE_FAIL(ctx, file, line, "cannot split options '%s': %s", shown, why);
	}
	for (size_t i = 0; i < nw; i++) {
		const char *wd = words[i], *value = NULL;
		int idx = -1, amb = 0;

		quoted(shown, sizeof(shown), wd);
		if (strcmp(wd, "--") == 0 || wd[0] != '-' || !wd[1]) {
			LINE_FAIL(ctx, file, line, "unexpected '%s' after the options", shown);
			goto bad;
		}
		if (wd[1] == '-') {
			const char *eq = strchr(wd + 2, '=');
			size_t len = eq ? (size_t)(eq - wd - 2) : strlen(wd + 2);
			idx = find_long(wd + 2, len, &amb);
			if (idx < 0) {
				LINE_FAIL(ctx, file, line, amb ? "ambiguous option '%.*s'"
							       : "unknown option '%.*s'",
					  (int)(len + 2), shown);
				goto bad;
			}
			if (eq) {
				if (!options[idx].takes_value) {
					LINE_FAIL(ctx, file, line, "option '--%s' takes no value",
						  options[idx].lng);
					goto bad;
				}
				value = eq + 1;
			}
		} else {
			for (size_t k = 0; k < DS_ARRAY_SIZE(options); k++)
				if (options[k].shrt && options[k].shrt == wd[1])
					idx = (int)k;
			if (idx < 0) {
				LINE_FAIL(ctx, file, line, "unknown option '-%c'", wd[1]);
				goto bad;
			}
			if (wd[2])
				value = wd + 2;
		}
		if (options[idx].takes_value && !value) {
			if (i + 1 >= nw) {
				LINE_FAIL(ctx, file, line, "option '--%s' needs a value",
					  options[idx].lng);
				goto bad;
			}
			value = words[++i];
		}
		o = grow(o, n, sizeof(*o));
		o[n].idx = idx;
		o[n].value = value ? ds_xstrdup(value) : NULL;
		n++;
	}
	strv_free(words, nw);
	*out = o;
	*n_out = n;
	return 0;
bad:
	strv_free(words, nw);
	opts_free(o, n);
	return -1;
}

/* --only-binary / --no-binary, as pip's FormatControl.handle_mutual_excludes. */
static int set_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void set_discard(char **v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i], s) == 0) {
			free(v[i]);
			memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
			(*n)--;
			return;
		}
}

static int set_add(char ***v, size_t *n, const char *s)
{
	if (set_has(*v, *n, s))
		return 0;
	if (*n >= VALUES_MAX)
		return -1;
	*v = grow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = ds_xstrdup(s);
	return 0;
}

static void set_clear(char **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

static int format_control(rf_ctx *ctx, int only, const char *value, const char *file, int line)
{
	ds_reqfile *rf = ctx->rf;
	char ***target = only ? &rf->only_binary : &rf->no_binary;
	size_t *nt = only ? &rf->n_only_binary : &rf->n_no_binary;
	char ***other = only ? &rf->no_binary : &rf->only_binary;
	size_t *no = only ? &rf->n_no_binary : &rf->n_only_binary;
	_cleanup_free_ char *copy = ds_xstrdup(value);
	char *p = copy;
	int after_all = 0, seen_all = 0;

	if (value[0] == '-')
		return LINE_FAIL(ctx, file, line, "'--%s' needs a value: ':all:', ':none:' or names",
				 only ? "only-binary" : "no-binary");
	/* An ':all:' clears both sets; the names after it are dropped unless a
	 * ':none:' follows somewhere after it. */
	if (strstr(value, ":all:")) {
		const char *last = value, *q;
		while ((q = strstr(last, ":all:")))
			last = q + 5;
		seen_all = 1;
		after_all = strstr(last, ":none:") != NULL;
		set_clear(*other, no);
		set_clear(*target, nt);
		(void)set_add(target, nt, ":all:");
		p = copy + (last - value);
		if (!after_all)
			return 0;
	}
	(void)seen_all;
	while (p) {
		char *c = strchr(p, ',');
		if (c)
			*c = '\0';
		if (strcmp(p, ":none:") == 0) {
			set_clear(*target, nt);
		} else if (*p) {
			char *key = NULL;
			char shown[120];
			if (ds_pyname_normalize(&key, p, NULL) < 0) {
				quoted(shown, sizeof(shown), p);
				return LINE_FAIL(ctx, file, line, "invalid project name '%s' in '--%s'",
						 shown, only ? "only-binary" : "no-binary");
			}
			set_discard(*other, no, key);
			if (set_add(target, nt, key) < 0) {
				free(key);
				return LINE_FAIL(ctx, file, line, "more than %d names in '--%s'",
						 VALUES_MAX, only ? "only-binary" : "no-binary");
			}
			free(key);
		}
		p = c ? c + 1 : NULL;
	}
	return 0;
}

static int hexval_ok(int c)
{
	return py_isdigit(c) || (py_lower(c) >= 'a' && py_lower(c) <= 'f');
}

static int add_hash(rf_ctx *ctx, ds_reqfile_req *item, const char *value, const char *file,
		    int line)
{
	static const struct {
		const char *name;
		size_t hex;
	} algos[] = { { "sha256", 64 }, { "sha384", 96 }, { "sha512", 128 } };
	const char *colon = strchr(value, ':');
	char shown[200], *h;
	size_t i, n;

	quoted(shown, sizeof(shown), value);
	if (!colon)
		return LINE_FAIL(ctx, file, line,
				 "invalid --hash '%s': expected an algorithm and a value "
				 "(--hash=sha256:<hex>)",
				 shown);
	for (i = 0; i < DS_ARRAY_SIZE(algos); i++)
		if (strlen(algos[i].name) == (size_t)(colon - value) &&
		    memcmp(algos[i].name, value, (size_t)(colon - value)) == 0)
			break;
	if (i == DS_ARRAY_SIZE(algos))
		return LINE_FAIL(ctx, file, line,
				 "invalid --hash '%s': the algorithm must be sha256, sha384 or sha512",
				 shown);
	n = strlen(colon + 1);
	for (size_t k = 0; k < n; k++)
		if (hexval_ok((unsigned char)colon[1 + k]) == 0)
			n = 0;
	if (n != algos[i].hex)
		return LINE_FAIL(ctx, file, line, "invalid --hash '%s': expected %zu hex digits",
				 shown, algos[i].hex);
	if (item->n_hashes == DS_REQFILE_HASHES_MAX)
		return LINE_FAIL(ctx, file, line, "more than %d hashes", DS_REQFILE_HASHES_MAX);
	h = ds_xstrdup(value);
	for (char *c = h; *c; c++)
		*c = (char)py_lower((unsigned char)*c);
	item->hashes = ds_xrealloc(item->hashes, (item->n_hashes + 1) * sizeof(*item->hashes));
	item->hashes[item->n_hashes++] = h;
	return 0;
}

/* ---- files --------------------------------------------------------------------------- */

/* Lexically normalised relative or absolute path: "a/./b/../c" -> "a/c";
 * leading ".." kept for relative paths. */
static char *normalize_path(const char *path)
{
	ds_buf b;
	const char *p = path;
	int absolute = path[0] == '/';
	size_t kept = 0; /* components that '..' may remove */

	ds_buf_init(&b, 0);
	if (absolute)
		ds_buf_addch(&b, '/');
	while (*p) {
		size_t n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || n == 0) {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (kept) {
				char *s = b.len ? b.data + b.len - 1 : b.data;
				while (s > b.data && *s != '/')
					s--;
				b.len = (size_t)(s - b.data) + (s == b.data && absolute ? 1 : 0);
				if (s == b.data && !absolute && b.data[0] != '/')
					b.len = 0;
				b.data[b.len] = '\0';
				kept--;
			} else if (!absolute) {
				if (b.len && b.data[b.len - 1] != '/')
					ds_buf_addch(&b, '/');
				ds_buf_adds(&b, "..");
			}
		} else {
			if (b.len && b.data[b.len - 1] != '/')
				ds_buf_addch(&b, '/');
			ds_buf_add(&b, p, n);
			kept++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (!b.len)
		ds_buf_addch(&b, '.');
	return ds_buf_detach(&b, NULL);
}

static int default_read(rf_ctx *ctx, const char *path, ds_buf *out, ds_error *err)
{
	_cleanup_free_ char *full = NULL, *real = NULL, *joined = NULL;

	if (url_kind(path))
		return ds_error_set(err, DS_EUNSUPPORTED, "cannot read requirements from URL '%s'",
				    path);
	if (!ctx->root_abs)
		return ds_read_file(path, DS_REQFILE_SIZE_MAX, out, err);
	if (path[0] == '/')
		return ds_error_set(err, DS_EINVAL,
				    "'%s' is an absolute path: files must be inside the build context",
				    path);
	joined = ds_xasprintf("%s/%s", ctx->root_abs, path);
	full = ds_path_absolute(joined);
	if (!full || !ds_path_is_under(full, ctx->root_abs))
		return ds_error_set(err, DS_EINVAL, "'%s' is outside the build context", path);
	real = realpath(full, NULL);
	if (real) {
		_cleanup_free_ char *root_real = realpath(ctx->root_abs, NULL);
		if (root_real && !ds_path_is_under(real, root_real))
			return ds_error_set(err, DS_EINVAL,
					    "'%s' leads outside the build context through a symbolic "
					    "link",
					    path);
	}
	return ds_read_file(full, DS_REQFILE_SIZE_MAX, out, err);
}

static int read_file(rf_ctx *ctx, const char *path, ds_buf *out)
{
	const ds_reqfile_opts *o = ctx->opts;

	if (o && o->read)
		return o->read(o->read_data, path, out, ctx->err);
	return default_read(ctx, path, out, ctx->err);
}

static const char *env_lookup(rf_ctx *ctx, const char *name)
{
	const ds_reqfile_opts *o = ctx->opts;

	if (o && o->getenv)
		return o->getenv(o->getenv_data, name);
	return getenv(name);
}

/* ${NAME} with NAME of [A-Z0-9_]+: replaced by its value when set and not
 * empty, else left as written.  One pass: values are not expanded again. */
static int expand_vars(rf_ctx *ctx, ds_buf *out, const char *s, const char *file, int line)
{
	while (*s) {
		const char *e, *v;
		if (s[0] == '$' && s[1] == '{') {
			e = s + 2;
			while ((*e >= 'A' && *e <= 'Z') || py_isdigit((unsigned char)*e) || *e == '_')
				e++;
			if (*e == '}' && e > s + 2) {
				char *name = ds_xstrndup(s + 2, (size_t)(e - s - 2));
				v = env_lookup(ctx, name);
				free(name);
				if (v && *v) {
					if (ds_buf_adds(out, v) < 0)
						goto big;
					s = e + 1;
					continue;
				}
				if (ds_buf_add(out, s, (size_t)(e + 1 - s)) < 0)
					goto big;
				s = e + 1;
				continue;
			}
		}
		if (ds_buf_addch(out, *s++) < 0)
			goto big;
	}
	return 0;
big:
	return LINE_FAIL(ctx, file, line, "line longer than %zu bytes after expanding variables",
			 DS_REQFILE_LINE_MAX);
}

static int parse_contents(rf_ctx *ctx, const char *data, size_t len, const char *file,
			  int constraint);

static int include_file(rf_ctx *ctx, const char *value, int constraint, const char *file,
			int line)
{
	_cleanup_free_ char *joined = NULL, *name = NULL;
	const char *slash;
	ds_buf data;
	char shown[200];
	int rc;

	quoted(shown, sizeof(shown), value);
	if (url_kind(file) == 1 || url_kind(value) == 1)
		return LINE_FAIL(ctx, file, line,
				 "cannot read '%s': requirements files are read from the build "
				 "context, not from URLs",
				 shown);
	slash = strrchr(file, '/');
	if (value[0] == '/' || !slash)
		joined = ds_xstrdup(value);
	else
		joined = ds_xasprintf("%.*s/%s", (int)(slash - file), file, value);
	name = normalize_path(joined);
	for (size_t i = 0; i < ctx->depth; i++)
		if (strcmp(ctx->stack[i], name) == 0) {
			ds_buf chain;
			ds_buf_init(&chain, 4096);
			for (size_t k = i; k < ctx->depth; k++)
				ds_buf_addf(&chain, "%s -> ", ctx->stack[k]);
			ds_buf_adds(&chain, name);
			LINE_FAIL(ctx, file, line, "'%s' includes itself: %s", name, chain.data);
			ds_buf_release(&chain);
			return -1;
		}
	if (ctx->depth >= (size_t)ctx->max_depth)
		return LINE_FAIL(ctx, file, line, "'%s' is nested more than %d files deep", name,
				 ctx->max_depth);
	if (ctx->rf->n_files >= DS_REQFILE_FILES_MAX)
		return LINE_FAIL(ctx, file, line, "more than %d requirements files",
				 DS_REQFILE_FILES_MAX);
	ds_buf_init(&data, DS_REQFILE_SIZE_MAX);
	if (read_file(ctx, name, &data) < 0) {
		ds_buf_release(&data);
		return ds_error_wrap(ctx->err, "'%s' line %d", file, line);
	}
	rc = parse_contents(ctx, data.data, data.len, name, constraint);
	ds_buf_release(&data);
	return rc;
}

static ds_reqfile_req *new_item(rf_ctx *ctx, int constraint, const char *file, int line)
{
	ds_reqfile *rf = ctx->rf;
	ds_reqfile_req **v = constraint ? &rf->constraints : &rf->reqs;
	size_t *n = constraint ? &rf->n_constraints : &rf->n_reqs;
	size_t *alloc = constraint ? &ctx->alloc_cons : &ctx->alloc_reqs;

	if (ctx->n_items >= DS_REQFILE_ITEMS_MAX) {
		LINE_FAIL(ctx, file, line, "more than %d requirements", DS_REQFILE_ITEMS_MAX);
		return NULL;
	}
	if (*n == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 16;
		*v = ds_xrealloc(*v, *alloc * sizeof(**v));
	}
	ctx->n_items++;
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].file = file;
	(*v)[*n].line = line;
	return &(*v)[(*n)++];
}

static void drop_last_item(rf_ctx *ctx, int constraint)
{
	ds_reqfile *rf = ctx->rf;
	size_t *n = constraint ? &rf->n_constraints : &rf->n_reqs;

	req_release(&(constraint ? rf->constraints : rf->reqs)[*n - 1]);
	(*n)--;
	ctx->n_items--;
}

static int check_constraint(rf_ctx *ctx, const ds_reqfile_req *item, const char *file, int line)
{
	if (item->editable)
		return LINE_FAIL(ctx, file, line, "editable requirements are not allowed as "
						  "constraints");
	if (!item->req->name)
		return LINE_FAIL(ctx, file, line, "unnamed requirements are not allowed as "
						  "constraints");
	if (item->req->n_extras)
		return LINE_FAIL(ctx, file, line, "constraints cannot have extras");
	return 0;
}

static int handle_line(rf_ctx *ctx, char *line_text, const char *file, int line, int constraint)
{
	ds_reqfile *rf = ctx->rf;
	char *opt_start = NULL, *p = line_text;
	rf_opt *o = NULL;
	size_t n = 0;
	const char *editable = NULL;
	int rc = -1, is_req;

	/* pip's break_args_options(): words split on single spaces; the
	 * requirement is every word before the first starting with '-'. */
	for (;;) {
		if (*p == '-') {
			opt_start = p;
			break;
		}
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	if (opt_start) {
		if (opt_start > line_text)
			opt_start[-1] = '\0';
		if (parse_options(ctx, &o, &n, opt_start, file, line) < 0)
			return -1;
		if (opt_start == line_text)
			line_text[0] = '\0';
	}
	for (size_t i = 0; i < n; i++)
		if (options[o[i].idx].id == O_EDITABLE) {
			if (editable) {
				LINE_FAIL(ctx, file, line, "one -e / --editable per line");
				goto out;
			}
			editable = o[i].value;
		}
	is_req = line_text[0] != '\0';
	if (is_req && editable) {
		LINE_FAIL(ctx, file, line, "a requirement and -e on the same line");
		goto out;
	}
	if (is_req || editable) {
		ds_reqfile_req *item;
		for (size_t i = 0; i < n; i++) {
			int id = options[o[i].idx].id;
			if (!options[o[i].idx].per_req && id != O_EDITABLE) {
				LINE_FAIL(ctx, file, line,
					  "'--%s' cannot follow a requirement: put it on a line of "
					  "its own",
					  options[o[i].idx].lng);
				goto out;
			}
			if (editable && id == O_HASH) {
				LINE_FAIL(ctx, file, line, "editable requirements cannot have hashes");
				goto out;
			}
		}
		item = new_item(ctx, constraint, file, line);
		if (!item)
			goto out;
		if ((editable ? parse_editable(ctx, item, editable, file, line)
			      : parse_requirement_text(ctx, item, line_text, file, line)) < 0) {
			drop_last_item(ctx, constraint);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (options[o[i].idx].id == O_HASH &&
			    add_hash(ctx, item, o[i].value, file, line) < 0) {
				drop_last_item(ctx, constraint);
				goto out;
			}
		if (constraint && check_constraint(ctx, item, file, line) < 0) {
			drop_last_item(ctx, constraint);
			goto out;
		}
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *v = o[i].value;
		switch (options[o[i].idx].id) {
		case O_INDEX_URL:
			free(rf->index_url.value);
			rf->index_url.value = ds_xstrdup(v);
			rf->index_url.file = file;
			rf->index_url.line = line;
			values_free(rf->extra_index_urls, rf->n_extra_index_urls);
			rf->extra_index_urls = NULL;
			rf->n_extra_index_urls = 0;
			break;
		case O_EXTRA_INDEX_URL:
			if (add_value(&rf->extra_index_urls, &rf->n_extra_index_urls, v, file, line,
				      ctx->err) < 0)
				goto out;
			break;
		case O_FIND_LINKS:
			if (add_value(&rf->find_links, &rf->n_find_links, v, file, line, ctx->err) < 0)
				goto out;
			break;
		case O_TRUSTED_HOST:
			if (add_value(&rf->trusted_hosts, &rf->n_trusted_hosts, v, file, line,
				      ctx->err) < 0)
				goto out;
			break;
		case O_NO_INDEX:
			rf->no_index = 1;
			break;
		case O_PRE:
			rf->pre = 1;
			break;
		case O_PREFER_BINARY:
			rf->prefer_binary = 1;
			break;
		case O_REQUIRE_HASHES:
			rf->require_hashes = 1;
			break;
		case O_ONLY_BINARY:
		case O_NO_BINARY:
			if (format_control(ctx, options[o[i].idx].id == O_ONLY_BINARY, v, file,
					   line) < 0)
				goto out;
			break;
		case O_USE_FEATURE:
			break;
		case O_REQUIREMENT:
		case O_CONSTRAINT:
			if (include_file(ctx, v, options[o[i].idx].id == O_CONSTRAINT, file, line) < 0)
				goto out;
			break;
		case O_HASH:
		case O_GLOBAL_OPTION:
		case O_CONFIG_SETTINGS:
			LINE_FAIL(ctx, file, line, "'--%s' needs a requirement on the same line",
				  options[o[i].idx].lng);
			goto out;
		}
	}
	rc = 0;
out:
	opts_free(o, n);
	return rc;
}

/* A comment line: optional whitespace then '#' (pip's COMMENT_RE.match). */
static int comment_line(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && py_isspace((unsigned char)s[i]))
		i++;
	return i < n && s[i] == '#';
}

/* Removes pip's COMMENT_RE match ("#" at the start or after whitespace, to
 * the end) and surrounding whitespace, in place. */
static char *strip_comment(char *s)
{
	size_t n;

	for (size_t i = 0; s[i]; i++)
		if (s[i] == '#' && (i == 0 || py_isspace((unsigned char)s[i - 1]))) {
			s[i] = '\0';
			break;
		}
	while (py_isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && py_isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int logical_line(rf_ctx *ctx, ds_buf *joined, const char *file, int line, int constraint)
{
	char *text = strip_comment(joined->data);
	ds_buf expanded;
	int rc;

	if (!*text)
		return 0;
	ds_buf_init(&expanded, DS_REQFILE_LINE_MAX);
	rc = expand_vars(ctx, &expanded, text, file, line);
	if (rc == 0 && expanded.len)
		rc = handle_line(ctx, expanded.data, file, line, constraint);
	ds_buf_release(&expanded);
	return rc;
}

static int parse_contents(rf_ctx *ctx, const char *data, size_t len, const char *file,
			  int constraint)
{
	ds_reqfile *rf = ctx->rf;
	const char *name;
	const char *p = data, *end = data + len;
	ds_buf joined;
	int lineno = 0, primary = 0, pending = 0, rc = 0;

	rf->files = ds_xrealloc(rf->files, (rf->n_files + 1) * sizeof(*rf->files));
	rf->files[rf->n_files] = ds_xstrdup(file);
	name = rf->files[rf->n_files++];
	ctx->stack[ctx->depth++] = name;

	if (memchr(data, '\0', len)) {
		const char *z = memchr(data, '\0', len);
		int l = 1;
		for (const char *q = data; q < z; q++)
			l += *q == '\n';
		ctx->depth--;
		return LINE_FAIL(ctx, name, l, "NUL byte: this is not a text file");
	}
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	ds_buf_init(&joined, DS_REQFILE_LINE_MAX);
	while (p < end && rc == 0) {
		const char *eol = p;
		size_t n;
		while (eol < end && *eol != '\n' && *eol != '\r')
			eol++;
		n = (size_t)(eol - p);
		lineno++;
		if (n && p[n - 1] == '\\' && !comment_line(p, n)) {
			/* continued: line.strip("\\") */
			const char *a = p, *b = p + n;
			while (a < b && *a == '\\')
				a++;
			while (b > a && b[-1] == '\\')
				b--;
			if (!pending)
				primary = lineno;
			pending = 1;
			if (ds_buf_add(&joined, a, (size_t)(b - a)) < 0)
				rc = LINE_FAIL(ctx, name, primary, "line longer than %zu bytes",
					       DS_REQFILE_LINE_MAX);
		} else {
			int at = pending ? primary : lineno;
			if (comment_line(p, n) && ds_buf_addch(&joined, ' ') < 0)
				rc = -1;
			if (rc == 0 && ds_buf_add(&joined, p, n) < 0)
				rc = LINE_FAIL(ctx, name, at, "line longer than %zu bytes",
					       DS_REQFILE_LINE_MAX);
			if (rc == 0)
				rc = logical_line(ctx, &joined, name, at, constraint);
			ds_buf_reset(&joined);
			pending = 0;
		}
		p = eol;
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n' && p > data && p[-1] == '\r' && p - 1 == eol)
			p++;
		else if (p < end && *p == '\n' && p == eol)
			p++;
	}
	if (rc == 0 && pending)
		rc = logical_line(ctx, &joined, name, primary, constraint);
	ds_buf_release(&joined);
	ctx->depth--;
	return rc;
}

static int parse_root(ds_reqfile **out, const char *data, size_t len, const char *path,
		      int read_it, const ds_reqfile_opts *opts, ds_error *err)
{
	rf_ctx ctx;
	ds_buf buf;
	_cleanup_free_ char *name = normalize_path(path);
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.rf = ds_xcalloc(1, sizeof(*ctx.rf));
	ctx.opts = opts;
	ctx.err = err;
	ctx.max_depth = opts && opts->max_depth > 0 && opts->max_depth < DS_REQFILE_DEPTH_MAX
				? opts->max_depth
				: DS_REQFILE_DEPTH_MAX;
	if (opts && opts->root && !opts->read) {
		ctx.root_abs = ds_path_absolute(opts->root);
		if (!ctx.root_abs) {
			ds_reqfile_free(ctx.rf);
			return ds_error_set_errno(err, errno, "cannot resolve '%s'", opts->root);
		}
	}
	ds_buf_init(&buf, DS_REQFILE_SIZE_MAX);
	if (read_it) {
		if (read_file(&ctx, name, &buf) < 0) {
			rc = -1;
			goto done;
		}
		data = buf.data;
		len = buf.len;
	} else if (len > DS_REQFILE_SIZE_MAX) {
		rc = ds_error_set(err, DS_EINVAL, "'%s' is larger than %zu bytes", name,
				  DS_REQFILE_SIZE_MAX);
		goto done;
	}
	rc = parse_contents(&ctx, data, len, name, 0);
done:
	ds_buf_release(&buf);
	free(ctx.root_abs);
	if (rc < 0) {
		ds_reqfile_free(ctx.rf);
		return -1;
	}
	*out = ctx.rf;
	return 0;
}

int ds_reqfile_parse_file(ds_reqfile **out, const char *path, const ds_reqfile_opts *opts,
			  ds_error *err)
{
	return parse_root(out, NULL, 0, path, 1, opts, err);
}

int ds_reqfile_parse(ds_reqfile **out, const char *data, size_t len, const char *name,
		     const ds_reqfile_opts *opts, ds_error *err)
{
	return parse_root(out, data, len, name ? name : "requirements.txt", 0, opts, err);
}

/* ---- after parsing --------------------------------------------------------------------- */

int ds_reqfile_hash_checking(const ds_reqfile *rf)
{
	if (rf->require_hashes)
		return 1;
	for (size_t i = 0; i < rf->n_reqs; i++)
		if (rf->reqs[i].n_hashes)
			return 1;
	return 0;
}

static int pinned(const ds_pyreq *r)
{
	const ds_pyspec *s;

	if (r->specs.n != 1)
		return 0;
	s = &r->specs.v[0];
	return (s->op == DS_PYSPEC_EQ && !s->wildcard) || s->op == DS_PYSPEC_ARBITRARY;
}

static int hash_mode_hint(const ds_reqfile *rf, ds_error *err)
{
	if (rf->require_hashes)
		return ds_error_hint(err, "hash-checking mode is on because of --require-hashes; "
					  "pin every requirement with '==' and give its --hash "
					  "values (pip-compile --generate-hashes writes them)");
	for (size_t i = 0; i < rf->n_reqs; i++)
		if (rf->reqs[i].n_hashes)
			return ds_error_hint(err,
					     "hash-checking mode is on because '%s' line %d has "
					     "--hash; then every requirement needs '==' and --hash",
					     rf->reqs[i].file, rf->reqs[i].line);
	return -1;
}

int ds_reqfile_check_hashes(const ds_reqfile *rf, const ds_pyenv *env, ds_error *err)
{
	if (!ds_reqfile_hash_checking(rf))
		return 0;
	for (size_t i = 0; i < rf->n_reqs; i++) {
		const ds_reqfile_req *r = &rf->reqs[i];
		char shown[240];
		ds_buf b;

		if (env && r->req->marker) {
			int applies;
			if (ds_pyreq_applies(&applies, r->req, env, NULL, 0, err) < 0)
				return ds_error_wrap(err, "'%s' line %d", r->file, r->line);
			if (!applies)
				continue;
		}
		ds_buf_init(&b, 0);
		if (r->link)
			ds_buf_adds(&b, r->link);
		else
			ds_pyreq_format(r->req, &b, NULL);
		py_quote(shown, sizeof(shown), b.data, b.len);
		ds_buf_release(&b);
		if (r->editable) {
			ds_error_set(err, DS_EINVAL,
				     "'%s' line %d: editable requirement '%s' cannot be installed in "
				     "hash-checking mode",
				     r->file, r->line, shown);
			return hash_mode_hint(rf, err);
		}
		if (r->kind == DS_REQFILE_INDEX && !pinned(r->req)) {
			ds_error_set(err, DS_EINVAL,
				     "'%s' line %d: '%s' is not pinned: hash-checking mode needs "
				     "'==' and an exact version",
				     r->file, r->line, shown);
			return hash_mode_hint(rf, err);
		}
		if ((r->kind == DS_REQFILE_PATH || r->kind == DS_REQFILE_VCS) &&
		    !link_is_archive(r->link)) {
			ds_error_set(err, DS_EINVAL,
				     "'%s' line %d: cannot check the hash of '%s': it is not a file",
				     r->file, r->line, shown);
			return hash_mode_hint(rf, err);
		}
		if (!r->n_hashes && !(r->link && link_has_hash(r->link))) {
			ds_error_set(err, DS_EINVAL,
				     "'%s' line %d: '%s' has no --hash: in hash-checking mode every "
				     "requirement needs one",
				     r->file, r->line, shown);
			return hash_mode_hint(rf, err);
		}
	}
	return 0;
}

unsigned ds_reqfile_formats(const ds_reqfile *rf, const char *name)
{
	_cleanup_free_ char *key = NULL;
	unsigned all = DS_PYFMT_BINARY | DS_PYFMT_SOURCE;

	if (ds_pyname_normalize(&key, name, NULL) < 0)
		key = ds_xstrdup(name);
	if (set_has(rf->only_binary, rf->n_only_binary, key))
		return all & ~DS_PYFMT_SOURCE;
	if (set_has(rf->no_binary, rf->n_no_binary, key))
		return all & ~DS_PYFMT_BINARY;
	if (set_has(rf->only_binary, rf->n_only_binary, ":all:"))
		return all & ~DS_PYFMT_SOURCE;
	if (set_has(rf->no_binary, rf->n_no_binary, ":all:"))
		return all & ~DS_PYFMT_BINARY;
	return all;
}

int ds_reqfile_req_needs_build(const ds_reqfile_req *r)
{
	if (r->editable || r->kind == DS_REQFILE_VCS)
		return 1;
	if (r->kind == DS_REQFILE_URL || r->kind == DS_REQFILE_PATH)
		return !r->wheel;
	return 0;
}
