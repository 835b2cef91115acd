/* The package index client: PEP 503 HTML and PEP 691 JSON simple pages,
 * PEP 658 metadata, PEP 592 yanked files, find-links folders and pages,
 * downloads in parallel into the blob store, sha256-checked.
 *
 * Credentials come from the index URL (user:pass@host), .netrc (libcurl,
 * $NETRC or ~/.netrc) and are sent only to the host they belong to.  URLs
 * are redacted (ds_pyurl_redact) in every message. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include <dsbuild/digest.h>
#include <dsbuild/pydeps.h>

#include "python/pydeps_int.h"
#include "util/util.h"

/* ---- URL helpers ---------------------------------------------------------- */

static size_t scheme_len(const char *u)
{
	size_t i = 0;

	if (!isalpha((unsigned char)u[0]))
		return 0;
	while (isalnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.')
		i++;
	return u[i] == ':' ? i : 0;
}

/* Removes "." and ".." segments from an absolute path (in place, RFC 3986
 * 5.2.4): the path is cut into segments, ".." drops the previous one. */
static void remove_dots(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		char *seg = ++in; /* *in was '/' */
		size_t sl = strcspn(seg, "/");
		int last = seg[sl] == '\0';
		in = seg + sl;
		if (sl == 1 && seg[0] == '.') {
			if (last)
				*out++ = '/';
			continue;
		}
		if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p && *--out != '/')
				;
			if (last)
				*out++ = '/';
			continue;
		}
		*out++ = '/';
		memmove(out, seg, sl);
		out += sl;
	}
	*out = '\0';
}

int ds_pyurl_join(char **out, const char *base, const char *href, ds_error *err)
{
	size_t sl = scheme_len(base), hl;
	const char *auth, *path, *q;
	_cleanup_free_ char *res = NULL;

	if (strlen(href) > DS_PYINDEX_URL_MAX || strlen(base) > DS_PYINDEX_URL_MAX)
		return ds_error_set(err, DS_EINVAL, "link too long");
	if (scheme_len(href)) {
		*out = ds_xstrdup(href);
		return 0;
	}
	if (!sl || strncmp(base + sl, "://", 3))
		return ds_error_set(err, DS_EINVAL, "'%s' is not an absolute URL", base);
	auth = base + sl + 3;
	path = auth + strcspn(auth, "/?#");
	if (!strncmp(href, "//", 2)) {
		*out = ds_xasprintf("%.*s:%s", (int)sl, base, href);
		return 0;
	}
	if (href[0] == '/') {
		res = ds_xasprintf("%.*s%s", (int)(path - base), base, href);
	} else if (href[0] == '?' || href[0] == '#' || !href[0]) {
		hl = strcspn(path, href[0] == '#' ? "#" : "?#");
		res = ds_xasprintf("%.*s%s", (int)(path - base) + (int)hl, base, href);
		*out = TAKE_PTR(res);
		return 0;
	} else {
		size_t plen = strcspn(path, "?#");
		const char *slash = NULL;
		for (q = path; q < path + plen; q++)
			if (*q == '/')
				slash = q;
		if (!slash)
			res = ds_xasprintf("%.*s/%s", (int)(path - base), base, href);
		else
			res = ds_xasprintf("%.*s%s", (int)(slash + 1 - base), base, href);
	}
	{
		/* dot segments of the path part only */
		char *p = res + (path - base);
		size_t plen = strcspn(p, "?#");
		_cleanup_free_ char *tail = ds_xstrdup(p + plen);
		p[plen] = '\0';
		remove_dots(p);
		if (!p[0]) {
			p[0] = '/';
			p[1] = '\0';
		}
		*out = ds_xasprintf("%s%s", res, tail);
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static char *percent_decode(const char *s, size_t n)
{
	char *o = ds_xmalloc(n + 1), *p = o;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*p++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return o;
}

/* The last path segment of a URL, percent-decoded. */
static char *url_filename(const char *url)
{
	size_t n = strcspn(url, "?#");
	const char *s = url;

	for (size_t i = 0; i < n; i++)
		if (url[i] == '/')
			s = url + i + 1;
	return percent_decode(s, (size_t)(url + n - s));
}

static int valid_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexval(s[i]) < 0)
			return 0;
	return 1;
}

/* Takes "#sha256=<hex>" (other algorithms are ignored) off url into f. */
static void take_fragment(ds_pyfile *f, char *url)
{
	char *h = strchr(url, '#');

	if (!h)
		return;
	if (!strncmp(h + 1, "sha256=", 7) && strlen(h + 8) == 64 && valid_hex(h + 8, 64)) {
		for (int i = 0; i < 64; i++)
			f->sha256[i] = (char)tolower((unsigned char)h[8 + i]);
		f->sha256[64] = '\0';
	}
	*h = '\0';
}

void ds_pyfile_list_release(ds_pyfile_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].filename);
		free(l->v[i].url);
		free(l->v[i].requires_python);
		free(l->v[i].yanked_reason);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static ds_pyfile *list_add(ds_pyfile_list *l, ds_error *err)
{
	if (l->n >= DS_PYINDEX_FILES_MAX) {
		ds_error_set(err, DS_ENOMEM, "index page lists more than %d files",
			     DS_PYINDEX_FILES_MAX);
		return NULL;
	}
	if ((l->n & (l->n - 1)) == 0 || l->n == 0)
		l->v = ds_xrealloc(l->v, (l->n ? l->n * 2 : 8) * sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(*l->v));
	return &l->v[l->n++];
}

/* ---- PEP 503 HTML ------------------------------------------------------------ */

/* Decodes HTML character references in s[0..n). */
static char *html_unescape(const char *s, size_t n)
{
	char *o = ds_xmalloc(n * 4 + 1), *p = o;
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"amp;", '&'},  {"lt;", '<'},    {"gt;", '>'},
		    {"quot;", '"'}, {"apos;", '\''}, {"#39;", '\''}};

	for (size_t i = 0; i < n; i++) {
		size_t k;
		if (s[i] != '&') {
			*p++ = s[i];
			continue;
		}
		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			size_t el = strlen(ents[k].name);
			if (i + 1 + el <= n && !strncmp(s + i + 1, ents[k].name, el)) {
				*p++ = ents[k].c;
				i += el;
				break;
			}
		}
		if (k < sizeof(ents) / sizeof(ents[0]))
			continue;
		if (i + 2 < n && s[i + 1] == '#') {
			size_t j = i + 2;
			unsigned long cp = 0;
			int hex = (s[j] == 'x' || s[j] == 'X');
			if (hex)
				j++;
			size_t start = j;
			while (j < n && j - start < 8 &&
			       (hex ? hexval(s[j]) >= 0 : isdigit((unsigned char)s[j]))) {
				cp = cp * (hex ? 16 : 10) + (unsigned long)hexval(s[j]);
				j++;
			}
			if (j > start && j < n && s[j] == ';' && cp > 0 && cp < 0x110000) {
				if (cp < 0x80) {
					*p++ = (char)cp;
				} else if (cp < 0x800) {
					*p++ = (char)(0xc0 | (cp >> 6));
					*p++ = (char)(0x80 | (cp & 0x3f));
				} else if (cp < 0x10000) {
					*p++ = (char)(0xe0 | (cp >> 12));
					*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
					*p++ = (char)(0x80 | (cp & 0x3f));
				} else {
					*p++ = (char)(0xf0 | (cp >> 18));
					*p++ = (char)(0x80 | ((cp >> 12) & 0x3f));
					*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
					*p++ = (char)(0x80 | (cp & 0x3f));
				}
				i = j;
				continue;
			}
		}
		*p++ = '&';
	}
	*p = '\0';
	return o;
}

typedef struct attr {
	const char *name;
	size_t name_len;
	char *value; /* unescaped; NULL for a bare attribute */
	int present;
} attr;

/* Parses the attributes of a tag from s (just after the tag name) to the
 * closing '>' (returned), filling the wanted ones. */
static const char *parse_attrs(const char *s, const char *end, attr *want, size_t n_want)
{
	while (s < end) {
		const char *ns, *vs = NULL;
		size_t nl, vl = 0;
		while (s < end && (isspace((unsigned char)*s) || *s == '/'))
			s++;
		if (s >= end || *s == '>')
			return s;
		ns = s;
		while (s < end && !isspace((unsigned char)*s) && *s != '=' && *s != '>' &&
		       *s != '/')
			s++;
		nl = (size_t)(s - ns);
		while (s < end && isspace((unsigned char)*s))
			s++;
		if (s < end && *s == '=') {
			s++;
			while (s < end && isspace((unsigned char)*s))
				s++;
			if (s < end && (*s == '"' || *s == '\'')) {
				char q = *s++;
				vs = s;
				while (s < end && *s != q)
					s++;
				vl = (size_t)(s - vs);
				if (s < end)
					s++;
			} else {
				vs = s;
				while (s < end && !isspace((unsigned char)*s) && *s != '>')
					s++;
				vl = (size_t)(s - vs);
			}
		}
		for (size_t i = 0; i < n_want; i++) {
			if (want[i].name_len == nl && !strncasecmp(want[i].name, ns, nl) &&
			    !want[i].present) {
				want[i].present = 1;
				want[i].value = vs ? html_unescape(vs, vl) : NULL;
			}
		}
	}
	return s;
}

static void attrs_free(attr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].value);
		a[i].value = NULL;
		a[i].present = 0;
	}
}

#define ATTR(n)                                                                                    \
	{                                                                                          \
		n, sizeof(n) - 1, NULL, 0                                                          \
	}

/* "sha256=<hex>" in a metadata attribute value. */
static void metadata_hash(char out[65], const char *v)
{
	if (v && !strncmp(v, "sha256=", 7) && strlen(v + 7) == 64 && valid_hex(v + 7, 64)) {
		for (int i = 0; i < 64; i++)
			out[i] = (char)tolower((unsigned char)v[7 + i]);
		out[64] = '\0';
	}
}

static int parse_html(ds_pyfile_list *out, const char *data, size_t len, const char *base_url,
		      ds_error *err)
{
	const char *s = data, *end = data + len;
	_cleanup_free_ char *base = ds_xstrdup(base_url);

	while (s < end) {
		const char *lt = memchr(s, '<', (size_t)(end - s));
		if (!lt)
			break;
		s = lt + 1;
		if (end - s >= 3 && !strncmp(s, "!--", 3)) {
			const char *c = s + 3;
			while (c + 2 < end && strncmp(c, "-->", 3))
				c++;
			s = c + 3 <= end ? c + 3 : end;
			continue;
		}
		if (end - s >= 5 && !strncasecmp(s, "base", 4) && isspace((unsigned char)s[4])) {
			attr a[] = {ATTR("href")};
			s = parse_attrs(s + 4, end, a, 1);
			if (a[0].value) {
				char *nb = NULL;
				if (ds_pyurl_join(&nb, base, a[0].value, NULL) == 0) {
					free(base);
					base = nb;
				}
			}
			attrs_free(a, 1);
			continue;
		}
		if (end - s >= 2 && (s[0] == 'a' || s[0] == 'A') && isspace((unsigned char)s[1])) {
			attr a[] = {ATTR("href"), ATTR("data-requires-python"), ATTR("data-yanked"),
				    ATTR("data-core-metadata"), ATTR("data-dist-info-metadata")};
			size_t na = sizeof(a) / sizeof(a[0]);
			s = parse_attrs(s + 2, end, a, na);
			if (a[0].value && a[0].value[0]) {
				char *url = NULL;
				ds_pyfile *f;
				if (ds_pyurl_join(&url, base, a[0].value, NULL) < 0) {
					attrs_free(a, na);
					continue;
				}
				f = list_add(out, err);
				if (!f) {
					free(url);
					attrs_free(a, na);
					return -1;
				}
				take_fragment(f, url);
				f->url = url;
				f->filename = url_filename(url);
				if (a[1].value && a[1].value[0])
					f->requires_python = ds_xstrdup(a[1].value);
				if (a[2].present) {
					f->yanked = 1;
					if (a[2].value && a[2].value[0])
						f->yanked_reason = ds_xstrdup(a[2].value);
				}
				for (int k = 3; k <= 4; k++) {
					if (a[k].present && !f->has_metadata &&
					    !(a[k].value && !strcmp(a[k].value, "false"))) {
						f->has_metadata = 1;
						metadata_hash(f->metadata_sha256, a[k].value);
					}
				}
			}
			attrs_free(a, na);
		}
	}
	return 0;
}

/* ---- PEP 691 JSON ------------------------------------------------------------ */

static int parse_json(ds_pyfile_list *out, const char *data, size_t len, const char *base_url,
		      ds_error *err)
{
	_cleanup_json_ json_t *root = ds_json_parse(data, len, "index page", err);
	json_t *files, *f;
	size_t i;

	if (!root)
		return -1;
	files = json_object_get(root, "files");
	if (!json_is_array(files))
		return ds_error_set(err, DS_EFORMAT, "index page has no \"files\" array");
	json_array_foreach (files, i, f) {
		const char *fn = json_string_value(json_object_get(f, "filename"));
		const char *u = json_string_value(json_object_get(f, "url"));
		const char *sha =
		    json_string_value(json_object_get(json_object_get(f, "hashes"), "sha256"));
		json_t *y = json_object_get(f, "yanked"), *m;
		const char *rp = json_string_value(json_object_get(f, "requires-python"));
		char *url = NULL;
		ds_pyfile *pf;

		if (!fn || !u || !fn[0] || strchr(fn, '/') || strlen(fn) > DS_PYINDEX_URL_MAX)
			continue;
		if (ds_pyurl_join(&url, base_url, u, NULL) < 0)
			continue;
		pf = list_add(out, err);
		if (!pf) {
			free(url);
			return -1;
		}
		take_fragment(pf, url);
		pf->url = url;
		pf->filename = ds_xstrdup(fn);
		if (sha && strlen(sha) == 64 && valid_hex(sha, 64))
			for (int k = 0; k < 65; k++)
				pf->sha256[k] = (char)tolower((unsigned char)sha[k]);
		if (rp && rp[0])
			pf->requires_python = ds_xstrdup(rp);
		if (json_is_true(y) || json_is_string(y)) {
			pf->yanked = 1;
			if (json_is_string(y) && json_string_value(y)[0])
				pf->yanked_reason = ds_xstrdup(json_string_value(y));
		}
		m = json_object_get(f, "core-metadata");
		if (!m)
			m = json_object_get(f, "dist-info-metadata");
		if (json_is_true(m) || json_is_object(m)) {
			const char *mh = json_string_value(json_object_get(m, "sha256"));
			pf->has_metadata = 1;
			if (mh && strlen(mh) == 64 && valid_hex(mh, 64))
				for (int k = 0; k < 65; k++)
					pf->metadata_sha256[k] =
					    (char)tolower((unsigned char)mh[k]);
		}
	}
	return 0;
}

int ds_pyindex_parse(ds_pyfile_list *out, const char *data, size_t len, int json,
		     const char *base_url, ds_error *err)
{
	if (len > DS_PYINDEX_PAGE_MAX)
		return ds_error_set(err, DS_ENOMEM, "index page larger than %zu bytes",
				    DS_PYINDEX_PAGE_MAX);
	return json ? parse_json(out, data, len, base_url, err)
		    : parse_html(out, data, len, base_url, err);
}

/* ---- the client -------------------------------------------------------------- */

typedef struct cred {
	char *prefix; /* "scheme://host[:port]" */
	char *user, *password;
} cred;

typedef struct project {
	char *key;
	ds_pyfile_list files;
} project;

struct pyindex {
	size_t n_indexes;
	char **indexes; /* without credentials, ending in '/' */
	size_t n_links;
	char **links; /* find-links: absolute folder paths or URLs */
	size_t n_creds;
	cred *creds;
	size_t n_projects;
	project *projects;
	int parallel;
};

static char *url_hostpart(const char *url)
{
	size_t sl = scheme_len(url);
	const char *a;

	if (!sl || strncmp(url + sl, "://", 3))
		return NULL;
	a = url + sl + 3;
	return ds_xstrndup(url, (size_t)(a - url) + strcspn(a, "/?#"));
}

static int add_location(pyindex *ix, const char *url, int is_index, ds_error *err)
{
	char *clean = NULL, *user = NULL, *pass = NULL;

	if (ds_pyurl_split_auth(&clean, &user, &pass, url, err) < 0)
		return -1;
	if (user) {
		ix->creds = ds_xrealloc(ix->creds, (ix->n_creds + 1) * sizeof(*ix->creds));
		ix->creds[ix->n_creds].prefix = url_hostpart(clean);
		ix->creds[ix->n_creds].user = user;
		ix->creds[ix->n_creds].password = pass ? pass : ds_xstrdup("");
		if (!ix->creds[ix->n_creds].prefix) {
			free(user);
			free(ix->creds[ix->n_creds].password);
		} else {
			ix->n_creds++;
		}
	} else {
		free(pass);
	}
	if (is_index) {
		size_t l = strlen(clean);
		ix->indexes = ds_xrealloc(ix->indexes, (ix->n_indexes + 1) * sizeof(char *));
		ix->indexes[ix->n_indexes++] =
		    (l && clean[l - 1] == '/') ? clean : ds_xasprintf("%s/", clean);
		if (!(l && clean[l - 1] == '/'))
			free(clean);
	} else {
		ix->links = ds_xrealloc(ix->links, (ix->n_links + 1) * sizeof(char *));
		ix->links[ix->n_links++] = clean;
	}
	return 0;
}

/* curl_global_init with the default flags, for pthread_once. */
static void curl_global_init_default(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int pyindex_new(pyindex **out, const pyindex_opts *o, ds_error *err)
{
	pyindex *ix = ds_xcalloc(1, sizeof(*ix));
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, curl_global_init_default);
	ix->parallel = o->parallel > 0 ? o->parallel : 8;
	if (o->index_url && add_location(ix, o->index_url, 1, err) < 0)
		goto fail;
	for (size_t i = 0; i < o->n_extra; i++)
		if (add_location(ix, o->extra[i], 1, err) < 0)
			goto fail;
	for (size_t i = 0; i < o->n_find_links; i++) {
		const char *l = o->find_links[i];
		if (scheme_len(l) > 1) {
			if (!strncmp(l, "file://", 7)) {
				char *p = percent_decode(l + 7, strlen(l + 7));
				ix->links =
				    ds_xrealloc(ix->links, (ix->n_links + 1) * sizeof(char *));
				ix->links[ix->n_links++] = p;
			} else if (add_location(ix, l, 0, err) < 0) {
				goto fail;
			}
		} else {
			char *p = (l[0] == '/' || !o->root) ? ds_xstrdup(l)
							    : ds_xasprintf("%s/%s", o->root, l);
			ix->links = ds_xrealloc(ix->links, (ix->n_links + 1) * sizeof(char *));
			ix->links[ix->n_links++] = p;
		}
	}
	*out = ix;
	return 0;
fail:
	pyindex_free(ix);
	return -1;
}

pyindex *pyindex_free(pyindex *ix)
{
	if (!ix)
		return NULL;
	for (size_t i = 0; i < ix->n_indexes; i++)
		free(ix->indexes[i]);
	for (size_t i = 0; i < ix->n_links; i++)
		free(ix->links[i]);
	for (size_t i = 0; i < ix->n_creds; i++) {
		free(ix->creds[i].prefix);
		free(ix->creds[i].user);
		if (ix->creds[i].password)
			memset(ix->creds[i].password, 0, strlen(ix->creds[i].password));
		free(ix->creds[i].password);
	}
	for (size_t i = 0; i < ix->n_projects; i++) {
		free(ix->projects[i].key);
		ds_pyfile_list_release(&ix->projects[i].files);
	}
	free(ix->indexes);
	free(ix->links);
	free(ix->creds);
	free(ix->projects);
	free(ix);
	return NULL;
}

static const cred *find_cred(const pyindex *ix, const char *url)
{
	for (size_t i = 0; i < ix->n_creds; i++) {
		size_t l = strlen(ix->creds[i].prefix);
		if (!strncmp(url, ix->creds[i].prefix, l) &&
		    (url[l] == '/' || url[l] == '\0' || url[l] == '?'))
			return &ix->creds[i];
	}
	return NULL;
}

typedef struct sink {
	ds_buf *buf;
	ds_blob_writer *w;
	uint64_t got, max;
	int too_big;
	ds_error werr;
	int failed;
	uint64_t *progress;
	pthread_mutex_t *lock;
} sink;

static size_t on_data(char *p, size_t sz, size_t nm, void *data)
{
	sink *s = data;
	size_t n = sz * nm;

	if (s->got + n > s->max) {
		s->too_big = 1;
		return 0;
	}
	s->got += n;
	if (s->buf && ds_buf_add(s->buf, p, n) < 0) {
		s->too_big = 1;
		return 0;
	}
	if (s->w && ds_blob_writer_write(s->w, p, n, &s->werr) < 0) {
		s->failed = 1;
		return 0;
	}
	if (s->progress) {
		pthread_mutex_lock(s->lock);
		*s->progress += n;
		pthread_mutex_unlock(s->lock);
	}
	return n;
}

static CURL *new_handle(const pyindex *ix, const char *url, char *errbuf)
{
	CURL *c = curl_easy_init();
	const cred *cr = find_cred(ix, url);
	const char *netrc = getenv("NETRC");

	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "dsbuild");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (cr) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cr->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, cr->password);
	} else {
		curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
		if (netrc && netrc[0])
			curl_easy_setopt(c, CURLOPT_NETRC_FILE, netrc);
	}
	return c;
}

static int transfer_error(CURLcode rc, long status, const char *url, const char *msg, ds_error *err)
{
	_cleanup_free_ char *r = ds_pyurl_redact(url);

	if (rc == CURLE_OK && status == 404)
		return ds_error_set(err, DS_ENOENT, "'%s' not found (404)", r);
	if (rc == CURLE_OK && (status == 401 || status == 403)) {
		ds_error_set(err, DS_EAUTH, "'%s' refused the credentials (%ld)", r, status);
		return ds_error_hint(err, "put user:password in the index URL, in ~/.netrc or in "
					  "pip.conf");
	}
	if (rc == CURLE_OK)
		return ds_error_set(err, DS_ENET, "'%s' answered %ld", r, status);
	if (rc == CURLE_FILE_COULDNT_READ_FILE)
		return ds_error_set(err, DS_ENOENT, "cannot read '%s'", r);
	{
		_cleanup_free_ char *m =
		    ds_pyurl_redact(msg && msg[0] ? msg : curl_easy_strerror(rc));
		return ds_error_set(err, DS_ENET, "cannot fetch '%s': %s", r, m);
	}
}

/* GET url; *json_out = 1 when the answer is PEP 691 JSON. */
static int get(const pyindex *ix, const char *url, size_t max, ds_buf *out, int *json_out,
	       ds_error *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	sink s = {.buf = out, .max = max};
	CURL *c = new_handle(ix, url, errbuf);
	CURLcode rc;
	long status = 0;
	char *ct = NULL;

	if (!c)
		return ds_error_set(err, DS_ENOMEM, "cannot create a transfer");
	if (json_out) {
		hdr = curl_slist_append(hdr, "Accept: application/vnd.pypi.simple.v1+json, "
					     "application/vnd.pypi.simple.v1+html;q=0.2, "
					     "text/html;q=0.01");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (json_out) {
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		*json_out = ct && strstr(ct, "application/vnd.pypi.simple.v1+json") != NULL;
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	if (s.too_big) {
		_cleanup_free_ char *r = ds_pyurl_redact(url);
		return ds_error_set(err, DS_ENOMEM, "'%s' is larger than %zu bytes", r, max);
	}
	if (rc != CURLE_OK || (status >= 400) || (strncmp(url, "file:", 5) && status != 200))
		return transfer_error(rc, status, url, errbuf, err);
	return 0;
}

int pyindex_get(pyindex *ix, const char *url, size_t max, ds_buf *out, ds_error *err)
{
	return get(ix, url, max, out, NULL, err);
}

static int is_dist(const char *fn)
{
	size_t l = strlen(fn);
	return (l > 4 && !strcmp(fn + l - 4, ".whl")) ||
	       (l > 7 && !strcmp(fn + l - 7, ".tar.gz")) || (l > 4 && !strcmp(fn + l - 4, ".zip"));
}

/* The project key a file name belongs to, or NULL. */
static char *file_key(const char *fn)
{
	size_t l = strlen(fn);
	char *key = NULL;

	if (l > 4 && !strcmp(fn + l - 4, ".whl")) {
		ds_pywheel_name *w = NULL;
		if (ds_pywheel_name_parse(&w, fn, NULL) == 0) {
			key = ds_xstrdup(w->key);
			ds_pywheel_name_free(w);
		}
	} else {
		char *name = NULL;
		ds_pyver v;
		if (ds_pysdist_name_parse(&name, &v, fn, NULL) == 0) {
			ds_pyname_normalize(&key, name, NULL);
			free(name);
		}
	}
	return key;
}

static void add_if_project(ds_pyfile_list *dst, const ds_pyfile *f, const char *key, int take)
{
	_cleanup_free_ char *k = is_dist(f->filename) ? file_key(f->filename) : NULL;
	ds_pyfile *n;

	if (!k || strcmp(k, key) || dst->n >= DS_PYINDEX_FILES_MAX)
		return;
	n = list_add(dst, NULL);
	if (!n)
		return;
	if (take) {
		*n = *f;
		return;
	}
	*n = *f;
	n->filename = ds_xstrdup(f->filename);
	n->url = ds_xstrdup(f->url);
	n->requires_python = f->requires_python ? ds_xstrdup(f->requires_python) : NULL;
	n->yanked_reason = f->yanked_reason ? ds_xstrdup(f->yanked_reason) : NULL;
}

static int scan_folder(ds_pyfile_list *dst, const char *dir, const char *key, ds_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return ds_error_set_errno(err, errno, "cannot read find-links folder '%s'", dir);
	while ((e = readdir(d))) {
		ds_pyfile f = {0};
		if (e->d_name[0] == '.' || !is_dist(e->d_name))
			continue;
		f.filename = e->d_name;
		f.url = ds_xasprintf("file://%s/%s", dir, e->d_name);
		add_if_project(dst, &f, key, 0);
		free(f.url);
	}
	closedir(d);
	return 0;
}

/* "https://h/x-1.0-py3-none-any.whl#sha256=..." */
static int ends_with_whl(const char *url)
{
	size_t n = strcspn(url, "?#");
	return n > 4 && !strncmp(url + n - 4, ".whl", 4);
}

int pyindex_project(const ds_pyfile_list **out, pyindex *ix, const char *key, ds_error *err)
{
	ds_pyfile_list files = {0};

	for (size_t i = 0; i < ix->n_projects; i++) {
		if (!strcmp(ix->projects[i].key, key)) {
			*out = &ix->projects[i].files;
			return 0;
		}
	}
	for (size_t i = 0; i < ix->n_indexes; i++) {
		_cleanup_free_ char *url = ds_xasprintf("%s%s/", ix->indexes[i], key);
		_cleanup_buf_ ds_buf page = DS_BUF_INIT;
		ds_pyfile_list got = {0};
		int json = 0;

		ds_buf_init(&page, DS_PYINDEX_PAGE_MAX);
		if (get(ix, url, DS_PYINDEX_PAGE_MAX, &page, &json, err) < 0) {
			if (err && err->code == DS_ENOENT)
				continue; /* this index does not have it */
			ds_pyfile_list_release(&files);
			return -1;
		}
		if (ds_pyindex_parse(&got, page.data ? page.data : "", page.len, json, url, err) <
		    0) {
			_cleanup_free_ char *r = ds_pyurl_redact(url);
			ds_pyfile_list_release(&got);
			ds_pyfile_list_release(&files);
			return ds_error_wrap(err, "'%s'", r);
		}
		for (size_t k = 0; k < got.n; k++) {
			ds_pyfile *n = list_add(&files, NULL);
			if (!n)
				break;
			*n = got.v[k];
			memset(&got.v[k], 0, sizeof(got.v[k]));
		}
		ds_pyfile_list_release(&got);
	}
	for (size_t i = 0; i < ix->n_links; i++) {
		const char *l = ix->links[i];
		struct stat st;
		if (!scheme_len(l) || l[0] == '/') {
			if (stat(l, &st) == 0 && S_ISDIR(st.st_mode)) {
				if (scan_folder(&files, l, key, err) < 0) {
					ds_pyfile_list_release(&files);
					return -1;
				}
			} else if (stat(l, &st) == 0) {
				ds_pyfile f = {0};
				_cleanup_free_ char *fn = url_filename(l);
				f.filename = fn;
				f.url = ds_xasprintf("file://%s", l);
				add_if_project(&files, &f, key, 0);
				free(f.url);
			} else {
				ds_pyfile_list_release(&files);
				return ds_error_set_errno(err, errno, "cannot read find-links '%s'",
							  l);
			}
		} else if (ends_with_whl(l)) {
			/* a wheel URL (a requirement "name @ https://.../x.whl") */
			ds_pyfile f = {0};
			_cleanup_free_ char *u = ds_xstrdup(l);
			_cleanup_free_ char *fn = NULL;
			take_fragment(&f, u);
			fn = url_filename(u);
			f.filename = fn;
			f.url = u;
			add_if_project(&files, &f, key, 0);
		} else {
			_cleanup_buf_ ds_buf page = DS_BUF_INIT;
			ds_pyfile_list got = {0};
			ds_buf_init(&page, DS_PYINDEX_PAGE_MAX);
			if (get(ix, l, DS_PYINDEX_PAGE_MAX, &page, NULL, err) < 0 ||
			    ds_pyindex_parse(&got, page.data ? page.data : "", page.len, 0, l,
					     err) < 0) {
				ds_pyfile_list_release(&got);
				ds_pyfile_list_release(&files);
				return -1;
			}
			for (size_t k = 0; k < got.n; k++)
				add_if_project(&files, &got.v[k], key, 0);
			ds_pyfile_list_release(&got);
		}
	}
	ix->projects = ds_xrealloc(ix->projects, (ix->n_projects + 1) * sizeof(*ix->projects));
	ix->projects[ix->n_projects].key = ds_xstrdup(key);
	ix->projects[ix->n_projects].files = files;
	*out = &ix->projects[ix->n_projects++].files;
	return 0;
}

/* ---- parallel downloads ------------------------------------------------------ */

typedef struct dl_job {
	pyindex *ix;
	const ds_pyfile *const *files;
	size_t n;
	ds_store *store;
	char (*digests)[DS_DIGEST_BUFSZ];
	size_t next;
	int failed;
	ds_error err;
	uint64_t done, total;
	pyindex_progress_fn progress;
	void *pdata;
	pthread_mutex_t lock;
} dl_job;

static int download_one(dl_job *j, const ds_pyfile *f, char digest[DS_DIGEST_BUFSZ], ds_error *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char expect[DS_DIGEST_BUFSZ];
	ds_blob_writer *w = NULL;
	sink s = {.max = PY_WHEEL_SIZE_MAX, .progress = &j->done, .lock = &j->lock};
	CURL *c;
	CURLcode rc;
	long status = 0;
	uint64_t size;

	if (f->sha256[0]) {
		snprintf(expect, sizeof(expect), "sha256:%s", f->sha256);
		if (ds_store_has(j->store, expect)) {
			memcpy(digest, expect, DS_DIGEST_BUFSZ);
			return 0;
		}
	}
	if (ds_blob_writer_new(&w, j->store, err) < 0)
		return -1;
	s.w = w;
	c = new_handle(j->ix, f->url, errbuf);
	if (!c) {
		ds_blob_writer_abort(w);
		return ds_error_set(err, DS_ENOMEM, "cannot create a transfer");
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (s.failed) {
		ds_blob_writer_abort(w);
		*err = s.werr;
		return -1;
	}
	if (rc != CURLE_OK || status >= 400 || (strncmp(f->url, "file:", 5) && status != 200)) {
		ds_blob_writer_abort(w);
		return transfer_error(rc, status, f->url, errbuf, err);
	}
	if (ds_blob_writer_commit(w, f->sha256[0] ? expect : NULL, digest, &size, err) < 0) {
		_cleanup_free_ char *r = ds_pyurl_redact(f->url);
		if (err && err->code == DS_EFORMAT) {
			ds_error_set(err, DS_EFORMAT, "'%s' does not match its sha256 %s (from %s)",
				     f->filename, f->sha256, r);
			return ds_error_hint(err, "the file changed on the index or was corrupted "
						  "in transit; check the index and the hashes");
		}
		return ds_error_wrap(err, "'%s'", f->filename);
	}
	return 0;
}

static void *dl_worker(void *data)
{
	dl_job *j = data;

	for (;;) {
		size_t i;
		ds_error e = DS_ERROR_INIT;
		pthread_mutex_lock(&j->lock);
		if (j->failed || j->next >= j->n) {
			pthread_mutex_unlock(&j->lock);
			return NULL;
		}
		i = j->next++;
		pthread_mutex_unlock(&j->lock);
		if (download_one(j, j->files[i], j->digests[i], &e) < 0) {
			pthread_mutex_lock(&j->lock);
			if (!j->failed) {
				j->failed = 1;
				j->err = e;
			}
			pthread_mutex_unlock(&j->lock);
			return NULL;
		}
		if (j->progress) {
			pthread_mutex_lock(&j->lock);
			j->progress(j->pdata, j->done, j->total);
			pthread_mutex_unlock(&j->lock);
		}
	}
}

int pyindex_download(pyindex *ix, const ds_pyfile *const *files, size_t n, ds_store *store,
		     char (*digests)[DS_DIGEST_BUFSZ], pyindex_progress_fn progress, void *pdata,
		     ds_error *err)
{
	dl_job j = {.ix = ix,
		    .files = files,
		    .n = n,
		    .store = store,
		    .digests = digests,
		    .progress = progress,
		    .pdata = pdata};
	size_t nt = (size_t)ix->parallel < n ? (size_t)ix->parallel : n;
	pthread_t *t = ds_xcalloc(nt + 1, sizeof(*t));
	size_t started = 0;

	pthread_mutex_init(&j.lock, NULL);
	for (size_t i = 0; i < nt; i++) {
		if (pthread_create(&t[i], NULL, dl_worker, &j))
			break;
		started++;
	}
	if (!started && n)
		dl_worker(&j);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
	pthread_mutex_destroy(&j.lock);
	if (j.failed) {
		if (err)
			*err = j.err;
		return -1;
	}
	return 0;
}
