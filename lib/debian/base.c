/* ds_debian_base_build(): sources -> verified indexes -> closure ->
 * downloads -> layers.  See docs/debian-base.md. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/debian.h>

#include "ds_config.h"
#include "debian/depends.h"
#include "debian/fetch.h"
#include "debian/index.h"
#include "debian/release.h"
#include "debian/tree.h"
#include "util/util.h"

extern char **environ;

/* Bumped whenever the layers built from the same packages would change. */
#define DEB_LAYER_FORMAT "dsbuild-debian-layer-2"

static const char *const default_packages[] = { "python3", NULL };
/* Installed from their .deb without their dependencies, which serve only
 * their maintainer scripts (awk for base-files, debconf for tzdata). */
static const char *const data_packages[] = { "base-files", "netbase", "tzdata", NULL };
/* Dependencies on these serve maintainer scripts and triggers only. */
static const char *const script_only[] = { "dpkg", "debconf", "debconf-2.0", "install-info",
					   NULL };

const char *const *ds_debian_default_packages(void)
{
	return default_packages;
}

typedef struct source {
	char *uri;        /* mirror, no trailing slash */
	char *suite;      /* "bookworm-security" */
	int required;     /* the main suite: must exist */
	char *date;
} source;

typedef struct pending_index {
	deb_download d;
	char *name;       /* URL of the plain path, for errors */
	char *rel_path;   /* "main/binary-amd64/Packages.xz" */
	int origin;       /* source */
} pending_index;

typedef struct chosen {
	size_t pkg;       /* index entry */
	int group;        /* 0 base, 1 extra */
	int data_only;    /* installed without its dependencies */
} chosen;

typedef struct ctx {
	const ds_debian_opts *o;
	ds_error *err;
	const char *suite;
	const char *arch;
	char *mirror, *security;
	char *components;
	char *keyring;
	char *debian_dir;   /* CACHE/debian */
	ds_store *dl;       /* downloads */
	deb_fetcher *fetch;
	source *src;
	size_t n_src;
	deb_index *ix;
	pending_index *idx;
	size_t n_idx;
	const char *const *base_req;
	size_t n_base_req;
	chosen *set;
	size_t n_set;
	ds_sha256 release_hash; /* over every verified Release text */
} ctx;

static void event(ctx *c, ds_debian_event_type type, const char *text, uint64_t done,
		  uint64_t total, const ds_layer_desc *layer, int cached)
{
	ds_debian_event ev = { type, text, done, total, layer, cached };

	if (c->o->on_event)
		c->o->on_event(c->o->event_data, &ev);
}

static int valid_suite(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static char *clean_uri(const char *u)
{
	char *s = ds_xstrdup(u);
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static int valid_uri(const char *u)
{
	return (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0 ||
		strncmp(u, "file://", 7) == 0) &&
	       !strpbrk(u, " \t\r\n");
}

/* ---- signatures -------------------------------------------------------- */

static int run_gpgv(ctx *c, const char *url, const ds_buf *signed_text, ds_buf *body)
{
	ds_error *err = c->err;
	_cleanup_free_ char *tmp = ds_xasprintf("%s/tmp/gpgv-XXXXXX", c->debian_dir);
	_cleanup_free_ char *in = NULL, *out = NULL, *errf = NULL;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc = -1;
	char *argv[] = { "gpgv", "--quiet", "--keyring", c->keyring, "--output", NULL, NULL, NULL };

	if (access(c->keyring, R_OK) < 0) {
		ds_error_set(err, DS_EAUTH, "cannot verify '%s': keyring '%s' is missing", url,
			     c->keyring);
		return ds_error_hint(err, "install Debian's archive keyring (apt-get install "
					  "debian-archive-keyring), name another keyring, or skip "
					  "verification explicitly (--debian-allow-unverified)");
	}
	if (!mkdtemp(tmp))
		return ds_error_set_errno(err, errno, "cannot create a temp dir in '%s/tmp'",
					  c->debian_dir);
	in = ds_xasprintf("%s/InRelease", tmp);
	out = ds_xasprintf("%s/Release", tmp);
	errf = ds_xasprintf("%s/stderr", tmp);
	if (ds_write_file_atomic(in, signed_text->data, signed_text->len, err) < 0)
		goto out;
	argv[5] = out;
	argv[6] = in;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	st = posix_spawnp(&pid, "gpgv", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (st != 0) {
		ds_error_set(err, DS_EAUTH, "cannot verify '%s': cannot run gpgv: %s", url,
			     strerror(st));
		ds_error_hint(err, "install gpgv (apt-get install gpgv), or skip verification "
				   "explicitly (--debian-allow-unverified)");
		goto out;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		ds_buf e;
		const char *why = NULL;
		ds_buf_init(&e, 8192);
		ds_read_file(errf, 8192, &e, NULL);
		/* gpgv's line that says what was wrong */
		for (char *line = e.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (strstr(line, "BAD signature") || strstr(line, "No public key") ||
			    strstr(line, "Can't check signature") || strstr(line, "expired") ||
			    strstr(line, "no valid OpenPGP data") || strstr(line, "no signature"))
				why = line;
			if (!nl)
				break;
		}
		if (why && strncmp(why, "gpgv: ", 6) == 0)
			why += 6;
		ds_error_set(err, DS_EAUTH, "'%s': bad or unknown signature%s%s", url,
			     why ? ": gpgv: " : "", why ? why : "");
		ds_error_hint(err, "the mirror or the network may be tampering with the archive; "
				   "if the keyring '%s' is outdated, update debian-archive-keyring",
			      c->keyring);
		ds_buf_release(&e);
		goto out;
	}
	if (ds_read_file(out, DS_DEBIAN_INRELEASE_MAX, body, err) < 0)
		goto out;
	rc = 0;
out:
	ds_rm_rf(tmp);
	return rc;
}

/* ---- indexes ----------------------------------------------------------- */

static int decompress(ctx *c, const char *path, const char *name, ds_buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char buf[65536];
	la_ssize_t n;
	int rc = -1;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	ds_buf_init(out, DS_DEBIAN_PACKAGES_MAX);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		ds_error_set(c->err, DS_EFORMAT, "cannot read '%s': %s", name,
			     archive_error_string(a));
		goto out;
	}
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (ds_buf_add(out, buf, (size_t)n) < 0) {
			ds_error_set(c->err, DS_EFORMAT, "'%s' is larger than %zu bytes", name,
				     DS_DEBIAN_PACKAGES_MAX);
			goto out;
		}
	}
	if (n < 0) {
		ds_error_set(c->err, DS_EFORMAT, "cannot read '%s': %s", name,
			     archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	if (rc < 0)
		ds_buf_release(out);
	return rc;
}

static int load_source(ctx *c, size_t si)
{
	source *s = &c->src[si];
	ds_error *err = c->err;
	_cleanup_free_ char *url = ds_xasprintf("%s/dists/%s/InRelease", s->uri, s->suite);
	ds_buf raw = DS_BUF_INIT, body = DS_BUF_INIT;
	deb_release rel = { 0 };
	int rc = -1;
	char *comps = ds_xstrdup(c->components), *save = NULL;

	ds_buf_init(&raw, DS_DEBIAN_INRELEASE_MAX);
	ds_buf_init(&body, DS_DEBIAN_INRELEASE_MAX);
	if (deb_fetch_buf(c->fetch, url, DS_DEBIAN_INRELEASE_MAX, &raw, err) < 0) {
		if (err && err->code == DS_ENOENT && !s->required) {
			rc = 1; /* no -updates or -security suite: fine */
			goto out;
		}
		if (err && err->code == DS_ENOENT) {
			ds_error_set(err, DS_ENOENT, "suite '%s' not found on '%s'", s->suite, s->uri);
			ds_error_hint(err, "use a Debian codename such as bookworm or trixie, and "
					   "check the mirror URL");
		}
		goto out;
	}
	if (c->o->allow_unverified) {
		if (strncmp(raw.data, "-----BEGIN PGP SIGNED MESSAGE-----", 34) == 0) {
			if (deb_clearsign_body(&body, raw.data, raw.len, url, err) < 0)
				goto out;
		} else {
			ds_buf_add(&body, raw.data, raw.len);
		}
	} else if (strncmp(raw.data, "-----BEGIN PGP SIGNED MESSAGE-----", 34) != 0) {
		ds_error_set(err, DS_EAUTH, "'%s' is not signed", url);
		ds_error_hint(err, "use a mirror that serves signed InRelease files, or skip "
				   "verification explicitly (--debian-allow-unverified)");
		goto out;
	} else if (run_gpgv(c, url, &raw, &body) < 0) {
		goto out;
	}
	ds_sha256_update(&c->release_hash, body.data, body.len);
	if (deb_release_parse(&rel, body.data, body.len, url, err) < 0)
		goto out;
	if (!((rel.codename && strcmp(rel.codename, s->suite) == 0) ||
	      (rel.suite && strcmp(rel.suite, s->suite) == 0))) {
		ds_error_set(err, DS_EFORMAT, "'%s' is for suite '%s', not '%s'", url,
			     rel.codename ? rel.codename : rel.suite ? rel.suite : "?", s->suite);
		goto out;
	}
	if (rel.valid_until) {
		int64_t until;
		if (deb_release_date(&until, rel.valid_until) == 0 && until < (int64_t)time(NULL)) {
			_cleanup_free_ char *w = ds_xasprintf(
				"'%s' expired on %s (a snapshot or a stale mirror?)", url,
				rel.valid_until);
			event(c, DS_DEBIAN_EV_WARNING, w, 0, 0, NULL, 0);
		}
	}
	s->date = rel.date ? ds_xstrdup(rel.date) : NULL;

	for (char *comp = strtok_r(comps, " ,", &save); comp; comp = strtok_r(NULL, " ,", &save)) {
		static const char *const exts[] = { ".xz", ".gz", "" };
		const deb_release_file *f = NULL;
		_cleanup_free_ char *rel_path = NULL, *label = NULL;
		pending_index *pi;

		for (size_t e = 0; e < DS_ARRAY_SIZE(exts) && !f; e++) {
			free(rel_path);
			rel_path = ds_xasprintf("%s/binary-%s/Packages%s", comp, c->arch, exts[e]);
			f = deb_release_find(&rel, rel_path);
		}
		if (!f) {
			if (!s->required)
				continue;
			ds_error_set(err, DS_ENOENT, "'%s' lists no %s/binary-%s/Packages", url, comp,
				     c->arch);
			ds_error_hint(err, "check the architecture ('%s') and component ('%s')",
				      c->arch, comp);
			goto out;
		}
		label = ds_xasprintf("%s %s %s", s->suite, comp, c->arch);
		event(c, DS_DEBIAN_EV_INDEX, label, 0, f->size, NULL, 0);
		c->idx = ds_xrealloc(c->idx, (c->n_idx + 1) * sizeof(*c->idx));
		pi = &c->idx[c->n_idx++];
		memset(pi, 0, sizeof(*pi));
		pi->origin = (int)si;
		pi->name = ds_xasprintf("%s/dists/%s/%s", s->uri, s->suite, rel_path);
		pi->rel_path = ds_xstrdup(rel_path);
		snprintf(pi->d.digest, sizeof(pi->d.digest), "sha256:%s", f->sha256);
		pi->d.size = f->size;
		pi->d.what = ds_xasprintf("index '%s'", rel_path);
		if (rel.acquire_by_hash) {
			_cleanup_free_ char *dir = ds_xstrdup(rel_path);
			*strrchr(dir, '/') = '\0';
			pi->d.url = ds_xasprintf("%s/dists/%s/%s/by-hash/SHA256/%s", s->uri, s->suite,
						 dir, f->sha256);
			pi->d.fallback_url = ds_xstrdup(pi->name);
		} else {
			pi->d.url = ds_xstrdup(pi->name);
		}
		ds_sha256_update(&c->release_hash, pi->d.digest, strlen(pi->d.digest));
	}
	rc = 0;
out:
	free(comps);
	deb_release_release(&rel);
	ds_buf_release(&raw);
	ds_buf_release(&body);
	return rc;
}

/* Fetches the indexes the Release files named (in parallel) and reads them
 * into the index. */
static int load_indexes(ctx *c)
{
	deb_download *d = ds_xcalloc(c->n_idx ? c->n_idx : 1, sizeof(*d));
	int rc;

	for (size_t i = 0; i < c->n_idx; i++)
		d[i] = c->idx[i].d;
	rc = deb_fetch_all(c->fetch, d, c->n_idx, NULL, NULL, c->err);
	free(d);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < c->n_idx; i++) {
		ds_buf text = DS_BUF_INIT, path = DS_BUF_INIT;
		size_t len;
		char *data;

		ds_buf_init(&path, 0);
		if (ds_store_blob_path(c->dl, c->idx[i].d.digest, &path, c->err) < 0 ||
		    decompress(c, path.data, c->idx[i].rel_path, &text) < 0) {
			ds_buf_release(&path);
			return -1;
		}
		ds_buf_release(&path);
		data = ds_buf_detach(&text, &len);
		if (deb_index_add(c->ix, data, len, c->idx[i].origin, c->idx[i].name, c->err) < 0)
			return -1;
	}
	return 0;
}

/* ---- the package set ----------------------------------------------------- */

static int in_set(const ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n_set; i++)
		if (strcmp(deb_index_pkg(c->ix, c->set[i].pkg)->name, name) == 0)
			return 1;
	return 0;
}

static void add_to_set(ctx *c, size_t pkg, int group, int data_only)
{
	c->set = ds_xrealloc(c->set, (c->n_set + 1) * sizeof(*c->set));
	c->set[c->n_set].pkg = pkg;
	c->set[c->n_set].group = group;
	c->set[c->n_set].data_only = data_only;
	c->n_set++;
}

static int parse_requests(ctx *c, const char *const *req, size_t n, deb_dep **out)
{
	deb_dep *v = ds_xcalloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		if (deb_request_parse(&v[i], req[i], c->err) < 0) {
			for (size_t j = 0; j < i; j++)
				deb_dep_release(&v[j]);
			free(v);
			return -1;
		}
	}
	*out = v;
	return 0;
}

static int resolve_group(ctx *c, const char *const *req, size_t n_req, int group)
{
	deb_dep *deps = NULL;
	size_t *installed, *res = NULL, n_res = 0;
	int rc;

	if (n_req > DS_DEBIAN_PACKAGES_REQ_MAX)
		return ds_error_set(c->err, DS_EINVAL, "more than %d packages requested",
				    DS_DEBIAN_PACKAGES_REQ_MAX);
	if (parse_requests(c, req, n_req, &deps) < 0)
		return -1;
	installed = ds_xcalloc(c->n_set ? c->n_set : 1, sizeof(size_t));
	for (size_t i = 0; i < c->n_set; i++)
		installed[i] = c->set[i].pkg;
	rc = deb_resolve(&res, &n_res, c->ix, deps, n_req, installed, c->n_set, c->err);
	for (size_t i = 0; i < n_req; i++)
		deb_dep_release(&deps[i]);
	free(deps);
	free(installed);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n_res; i++)
		add_to_set(c, res[i], group, 0);
	free(res);
	return 0;
}

static int add_data_package(ctx *c, const char *name, int group)
{
	size_t p;

	if (in_set(c, name))
		return 0;
	p = deb_index_candidate(c->ix, name);
	if (p == (size_t)-1)
		return ds_error_set(c->err, DS_ENOENT, "unknown package '%s': it is not in %s (%s)",
				    name, c->suite, c->arch);
	add_to_set(c, p, group, 1);
	return 0;
}

static int cmp_chosen(const void *a, const void *b, void *ix)
{
	const chosen *x = a, *y = b;
	if (x->group != y->group)
		return x->group - y->group;
	return strcmp(deb_index_pkg(ix, x->pkg)->name, deb_index_pkg(ix, y->pkg)->name);
}

/* ---- resolution cache ---------------------------------------------------- */

/* The closure depends only on the verified Release files (which pin the
 * indexes by hash), the architecture and the requests: cache it so a warm
 * build does not read the indexes at all. */
static void resolved_key(ctx *c, const char *release_hash, char out[DS_DIGEST_BUFSZ])
{
	ds_sha256 h;
	char line[256];

	ds_sha256_init(&h, NULL);
	snprintf(line, sizeof(line), "%s %s\n%s\narch %s\ncomponents %s\nca %d\n",
		 DEB_LAYER_FORMAT, DS_VERSION, release_hash, c->arch, c->components,
		 c->o->ca_certificates);
	ds_sha256_update(&h, line, strlen(line));
	for (size_t i = 0; i < c->n_src; i++) {
		ds_sha256_update(&h, c->src[i].uri, strlen(c->src[i].uri) + 1);
		ds_sha256_update(&h, c->src[i].suite, strlen(c->src[i].suite) + 1);
	}
	for (int g = 0; g < 2; g++) {
		const char *const *r = g ? c->o->extra_packages : c->base_req;
		size_t n = g ? c->o->n_extra_packages : c->n_base_req;
		ds_sha256_update(&h, g ? "extra\n" : "base\n", 5 + (size_t)g);
		for (size_t i = 0; i < n; i++)
			ds_sha256_update(&h, r[i], strlen(r[i]) + 1);
	}
	for (const char *const *p = data_packages; *p; p++)
		ds_sha256_update(&h, *p, strlen(*p) + 1);
	for (const char *const *p = script_only; *p; p++)
		ds_sha256_update(&h, *p, strlen(*p) + 1);
	ds_sha256_final(&h, out);
}

static char *resolved_path(ctx *c, const char *key)
{
	return ds_xasprintf("%s/resolved/%s.json", c->debian_dir, ds_digest_hex(key));
}

/* 1 when the set was loaded from the cache (c->ix then holds just those
 * packages), 0 when there is none or it is unusable. */
static int resolved_load(ctx *c, const char *key)
{
	_cleanup_free_ char *path = resolved_path(c, key);
	ds_buf b;
	json_t *j, *set, *e;
	size_t i;

	ds_buf_init(&b, 4 << 20);
	if (ds_read_file(path, 4 << 20, &b, NULL) < 0) {
		ds_buf_release(&b);
		return 0;
	}
	j = ds_json_parse(b.data, b.len, path, NULL);
	ds_buf_release(&b);
	set = j ? json_object_get(j, "set") : NULL;
	if (!json_is_array(set) || json_array_size(set) > DS_DEBIAN_PACKAGES_REQ_MAX * 2) {
		json_decref(j);
		return 0;
	}
	json_array_foreach(set, i, e) {
		const char *name, *version, *arch, *filename, *sha256, *src_name = NULL;
		json_int_t origin, group, data_only, size;
		char *text;
		if (json_unpack(e, "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s?s}", "name",
				&name, "version", &version, "arch", &arch, "filename", &filename,
				"sha256", &sha256, "size", &size, "origin", &origin, "group", &group,
				"data_only", &data_only, "source", &src_name) < 0 ||
		    origin < 0 || (size_t)origin >= c->n_src || group < 0 || group > 1 || size < 0 ||
		    strchr(filename, '\n') || strchr(src_name ? src_name : "", '\n'))
			goto bad;
		text = ds_xasprintf("Package: %s\nVersion: %s\nArchitecture: %s\nFilename: %s\n"
				    "Size: %lld\nSHA256: %s\n%s%s%s",
				    name, version, arch, filename, (long long)size, sha256,
				    src_name ? "Source: " : "", src_name ? src_name : "",
				    src_name ? "\n" : "");
		if (deb_index_add(c->ix, text, strlen(text), (int)origin, path, NULL) < 0 ||
		    deb_index_count(c->ix) != i + 1)
			goto bad;
		add_to_set(c, i, (int)group, (int)data_only);
	}
	json_decref(j);
	return 1;
bad:
	/* start over with an empty index */
	json_decref(j);
	deb_index_free(c->ix);
	c->ix = NULL;
	free(c->set);
	c->set = NULL;
	c->n_set = 0;
	deb_index_new(&c->ix, c->arch, c->suite, NULL);
	deb_index_set_script_only(c->ix, script_only);
	return 0;
}

static void resolved_save(ctx *c, const char *key)
{
	_cleanup_free_ char *path = resolved_path(c, key);
	_cleanup_free_ char *dir = ds_xasprintf("%s/resolved", c->debian_dir);
	json_t *set = json_array(), *j;
	ds_buf b;

	for (size_t i = 0; i < c->n_set; i++) {
		const deb_pkg *p = deb_index_pkg(c->ix, c->set[i].pkg);
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "name", p->name,
				      "version", p->version, "arch", p->arch, "filename",
				      p->filename, "sha256", p->sha256, "size", (json_int_t)p->size,
				      "origin", (json_int_t)p->origin, "group",
				      (json_int_t)c->set[i].group, "data_only",
				      (json_int_t)c->set[i].data_only);
		if (e && p->source)
			json_object_set_new(e, "source", json_string(p->source));
		json_array_append_new(set, e);
	}
	j = json_pack("{s:o}", "set", set);
	ds_buf_init(&b, 0);
	if (j && ds_mkdir_p(dir, 0755, NULL) == 0 && ds_json_dump(j, &b, NULL) == 0)
		ds_write_file_atomic(path, b.data, b.len, NULL);
	ds_buf_release(&b);
	json_decref(j);
}

/* ---- downloads ------------------------------------------------------------ */

static void dl_progress(void *data, uint64_t done, uint64_t total)
{
	ctx *c = data;
	event(c, DS_DEBIAN_EV_DOWNLOAD, NULL, done, total, NULL, 0);
}

static int download(ctx *c)
{
	deb_download *d = ds_xcalloc(c->n_set ? c->n_set : 1, sizeof(*d));
	int rc;

	for (size_t i = 0; i < c->n_set; i++) {
		const deb_pkg *p = deb_index_pkg(c->ix, c->set[i].pkg);
		d[i].url = ds_xasprintf("%s/%s", c->src[p->origin].uri, p->filename);
		snprintf(d[i].digest, sizeof(d[i].digest), "sha256:%s", p->sha256);
		d[i].size = p->size;
		d[i].what = ds_xasprintf("'%s' %s", p->name, p->version);
		if (p->size > DS_DEBIAN_DEB_MAX) {
			rc = ds_error_set(c->err, DS_ENOMEM, "'%s' is larger than %llu bytes", p->name,
					  (unsigned long long)DS_DEBIAN_DEB_MAX);
			goto out;
		}
	}
	rc = deb_fetch_all(c->fetch, d, c->n_set, dl_progress, c, c->err);
out:
	for (size_t i = 0; i < c->n_set; i++) {
		free(d[i].url);
		free(d[i].what);
	}
	free(d);
	return rc;
}

/* ---- layers ------------------------------------------------------------- */

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "app:x:1000:1000:app:/home/app:/bin/sh\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group_file[] = "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n";
static const char nsswitch[] = "passwd:         files\ngroup:          files\n"
			       "shadow:         files\nhosts:          files dns\n"
			       "networks:       files\nprotocols:      files\n"
			       "services:       files\n";

/* The layer everything else sits on: users, groups, merged-/usr links,
 * writable tmp and the app user's home. */
static int fill_system(ctx *c, deb_tree *t)
{
	ds_error *err = c->err;

	if (deb_tree_add_symlink(t, "bin", "usr/bin", err) < 0 ||
	    deb_tree_add_symlink(t, "sbin", "usr/sbin", err) < 0 ||
	    deb_tree_add_symlink(t, "lib", "usr/lib", err) < 0 ||
	    deb_tree_add_dir(t, "usr", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "usr/bin", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "usr/sbin", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "usr/lib", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "etc", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_file(t, "etc/passwd", 0644, 0, 0, passwd, sizeof(passwd) - 1, err) < 0 ||
	    deb_tree_add_file(t, "etc/group", 0644, 0, 0, group_file, sizeof(group_file) - 1, err) < 0 ||
	    deb_tree_add_file(t, "etc/nsswitch.conf", 0644, 0, 0, nsswitch, sizeof(nsswitch) - 1,
			      err) < 0 ||
	    deb_tree_add_dir(t, "tmp", 01777, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "var", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "var/tmp", 01777, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "root", 0700, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "home", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "home/app", 0755, 1000, 1000, err) < 0 ||
	    deb_tree_add_dir(t, "var/lib", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "var/lib/dpkg", 0755, 0, 0, err) < 0 ||
	    deb_tree_add_dir(t, "var/lib/dpkg/status.d", 0755, 0, 0, err) < 0)
		return -1;
	return 0;
}

typedef struct {
	ds_buf *names;
	size_t n;
} crt_list;

static void collect_crt(void *data, const char *path)
{
	crt_list *l = data;
	size_t n = strlen(path);

	if (n > 4 && strcmp(path + n - 4, ".crt") == 0) {
		ds_buf_adds(l->names, path);
		ds_buf_addch(l->names, '\n');
		l->n++;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What update-ca-certificates would make: every Mozilla certificate, in
 * bytewise order, in one PEM bundle; plus OpenSSL's default paths. */
static int make_ca_bundle(ctx *c, deb_tree *t)
{
	ds_buf names, bundle, one;
	crt_list l;
	char **v;
	size_t n = 0;
	int rc = -1;

	ds_buf_init(&names, 0);
	ds_buf_init(&bundle, 16 << 20);
	ds_buf_init(&one, 1 << 20);
	l.names = &names;
	l.n = 0;
	deb_tree_each(t, "usr/share/ca-certificates/mozilla/", collect_crt, &l);
	if (l.n == 0) {
		ds_error_set(c->err, DS_EFORMAT, "'ca-certificates' has no certificates in "
						 "usr/share/ca-certificates/mozilla");
		goto out;
	}
	v = ds_xcalloc(l.n, sizeof(char *));
	for (char *p = names.data, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		v[n++] = p;
	}
	qsort(v, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (deb_tree_read(t, v[i], 1 << 20, &one, c->err) < 0) {
			free(v);
			goto out;
		}
		if (ds_buf_add(&bundle, one.data, one.len) < 0 ||
		    (one.len && one.data[one.len - 1] != '\n' && ds_buf_addch(&bundle, '\n') < 0)) {
			free(v);
			ds_error_set(c->err, DS_ENOMEM, "CA bundle too large");
			goto out;
		}
	}
	free(v);
	if (deb_tree_add_dir(t, "etc/ssl", 0755, 0, 0, c->err) < 0 ||
	    deb_tree_add_dir(t, "etc/ssl/certs", 0755, 0, 0, c->err) < 0 ||
	    deb_tree_add_file(t, "etc/ssl/certs/ca-certificates.crt", 0644, 0, 0, bundle.data,
			      bundle.len, c->err) < 0)
		goto out;
	/* the bundle is what OpenSSL reads; the separate certificates (some
	 * with non-ASCII names) only feed update-ca-certificates */
	deb_tree_drop(t, "usr/share/ca-certificates/");
	if (!deb_tree_has(t, "usr/lib/ssl/cert.pem") &&
	    deb_tree_add_symlink(t, "usr/lib/ssl/cert.pem", "/etc/ssl/certs/ca-certificates.crt",
				 c->err) < 0)
		goto out;
	if (!deb_tree_has(t, "usr/lib/ssl/certs") &&
	    deb_tree_add_symlink(t, "usr/lib/ssl/certs", "/etc/ssl/certs", c->err) < 0)
		goto out;
	rc = 0;
out:
	ds_buf_release(&names);
	ds_buf_release(&bundle);
	ds_buf_release(&one);
	return rc;
}

static int add_status(ctx *c, deb_tree *t, const deb_pkg *p, ds_buf *control, ds_buf *md5sums)
{
	_cleanup_free_ char *path = ds_xasprintf("var/lib/dpkg/status.d/%s", p->name);
	ds_buf st;
	int rc;

	/* the control file as dpkg's status database would hold it */
	while (control->len && (control->data[control->len - 1] == '\n' ||
				control->data[control->len - 1] == ' '))
		control->data[--control->len] = '\0';
	ds_buf_init(&st, DEB_CONTROL_MAX + 64);
	if (ds_buf_add(&st, control->data, control->len) < 0 ||
	    ds_buf_adds(&st, "\nStatus: install ok installed\n") < 0) {
		ds_buf_release(&st);
		return ds_error_set(c->err, DS_ENOMEM, "'%s': control file too large", p->name);
	}
	rc = deb_tree_add_file(t, path, 0644, 0, 0, st.data, st.len, c->err);
	ds_buf_release(&st);
	if (rc < 0 || md5sums->len == 0)
		return rc;
	free(path);
	path = ds_xasprintf("var/lib/dpkg/status.d/%s.md5sums", p->name);
	return deb_tree_add_file(t, path, 0644, 0, 0, md5sums->data, md5sums->len, c->err);
}

/* "3.11.2-6+deb12u1" -> "3.11" */
static char *python_version(const char *v)
{
	const char *p = strchr(v, ':');
	const char *dot1, *dot2;

	p = p ? p + 1 : v;
	dot1 = strchr(p, '.');
	if (!dot1)
		return NULL;
	dot2 = dot1 + 1;
	while (*dot2 >= '0' && *dot2 <= '9')
		dot2++;
	if (dot2 == dot1 + 1)
		return NULL;
	return ds_xstrndup(p, (size_t)(dot2 - p));
}

static int python_extras(ctx *c, deb_tree *t, ds_debian_base *b)
{
	_cleanup_free_ char *bin = NULL, *site = NULL;

	if (!b->python_version)
		return 0;
	bin = ds_xasprintf("usr/bin/python%s", b->python_version);
	if (deb_tree_has(t, bin))
		b->python = ds_xasprintf("/%s", bin);
	/* python-is-python3 in effect, and the dir python3.X-minimal's postinst
	 * creates */
	if (deb_tree_has(t, "usr/bin/python3") && !deb_tree_has(t, "usr/bin/python") &&
	    deb_tree_add_symlink(t, "usr/bin/python", "python3", c->err) < 0)
		return -1;
	site = ds_xasprintf("usr/local/lib/python%s/dist-packages", b->python_version);
	if (deb_tree_add_dir(t, "usr/local", 0755, 0, 0, c->err) < 0 ||
	    deb_tree_add_dir(t, "usr/local/lib", 0755, 0, 0, c->err) < 0 ||
	    deb_tree_add_dir(t, site, 0755, 0, 0, c->err) < 0)
		return -1;
	return 0;
}

/* The cache key of a layer: everything that decides its bytes. */
static void layer_key(ctx *c, int group, const ds_layer_opts *lo, char out[DS_DIGEST_BUFSZ])
{
	ds_sha256 h;
	char line[512];

	ds_sha256_init(&h, NULL);
	snprintf(line, sizeof(line), "%s %s\ngroup %d\narch %s\nmtime %lld\ngzip %d\nca %d\n",
		 DEB_LAYER_FORMAT, DS_VERSION, group, c->arch, (long long)c->o->mtime, lo->gzip_level,
		 c->o->ca_certificates);
	ds_sha256_update(&h, line, strlen(line));
	for (size_t i = 0; i < c->n_set; i++) {
		const deb_pkg *p = deb_index_pkg(c->ix, c->set[i].pkg);
		if (c->set[i].group != group)
			continue;
		snprintf(line, sizeof(line), "%s %s %s %d\n", p->name, p->version, p->sha256,
			 c->set[i].data_only);
		ds_sha256_update(&h, line, strlen(line));
	}
	ds_sha256_final(&h, out);
}

static int layer_cached(ctx *c, ds_store *store, const char *key, ds_layer_desc *l, char **pyver)
{
	_cleanup_free_ char *path = ds_xasprintf("%s/layers/%s.json", c->debian_dir,
						 ds_digest_hex(key));
	ds_buf b;
	json_t *j;
	const char *d, *di, *cb, *pv;
	json_int_t size;

	ds_buf_init(&b, 1 << 16);
	if (ds_read_file(path, 1 << 16, &b, NULL) < 0) {
		ds_buf_release(&b);
		return 0;
	}
	j = ds_json_parse(b.data, b.len, path, NULL);
	ds_buf_release(&b);
	if (!j)
		return 0;
	if (json_unpack(j, "{s:s, s:s, s:I, s:s, s?s}", "digest", &d, "diff_id", &di, "size", &size,
			"created_by", &cb, "python", &pv) < 0 ||
	    !ds_digest_valid(d) || !ds_digest_valid(di) || !ds_store_has(store, d)) {
		json_decref(j);
		return 0;
	}
	memcpy(l->digest, d, DS_DIGEST_BUFSZ);
	memcpy(l->diff_id, di, DS_DIGEST_BUFSZ);
	l->size = (uint64_t)size;
	l->created_by = ds_xstrdup(cb);
	l->media_type = ds_xstrdup(DS_MEDIA_LAYER_GZIP);
	if (pyver && json_is_string(json_object_get(j, "python")))
		*pyver = ds_xstrdup(json_string_value(json_object_get(j, "python")));
	json_decref(j);
	return 1;
}

static void layer_remember(ctx *c, const char *key, const ds_layer_desc *l, const char *python)
{
	_cleanup_free_ char *dir = ds_xasprintf("%s/layers", c->debian_dir);
	_cleanup_free_ char *path = ds_xasprintf("%s/%s.json", dir, ds_digest_hex(key));
	json_t *j = json_pack("{s:s, s:s, s:I, s:s}", "digest", l->digest, "diff_id", l->diff_id,
			      "size", (json_int_t)l->size, "created_by", l->created_by);
	ds_buf b;

	if (!j)
		return;
	if (python)
		json_object_set_new(j, "python", json_string(python));
	ds_buf_init(&b, 0);
	if (ds_mkdir_p(dir, 0755, NULL) == 0 && ds_json_dump(j, &b, NULL) == 0)
		ds_write_file_atomic(path, b.data, b.len, NULL);
	ds_buf_release(&b);
	json_decref(j);
}

static void emit_warnings(ctx *c, deb_tree *t)
{
	const char *const *w;
	size_t n = deb_tree_warnings(t, &w);

	for (size_t i = 0; i < n; i++)
		event(c, DS_DEBIAN_EV_WARNING, w[i], 0, 0, NULL, 0);
}

static char *describe(ctx *c, int group)
{
	size_t n = 0;
	ds_buf b;

	for (size_t i = 0; i < c->n_set; i++)
		n += c->set[i].group == group;
	ds_buf_init(&b, 4096);
	if (group == 0) {
		int py = in_set(c, "python3");
		ds_buf_addf(&b, "dsbuild debian: %s (%s, %zu packages)",
			    py ? "python3 runtime" : "base", c->suite, n);
	} else {
		const char *const *r = c->o->extra_packages;
		ds_buf_adds(&b, "dsbuild debian: apt packages ");
		for (size_t i = 0; i < c->o->n_extra_packages; i++) {
			if (b.len > 200) {
				ds_buf_adds(&b, ", ...");
				break;
			}
			ds_buf_addf(&b, "%s%s", i ? ", " : "", r[i]);
		}
		ds_buf_addf(&b, " (%s, %zu packages)", c->suite, n);
	}
	return ds_buf_detach(&b, NULL);
}

/* Builds (or finds in the layer cache) the layer of one group. */
static int build_layer(ctx *c, ds_store *store, const ds_layer_opts *lo, int group,
		       ds_debian_base *b, ds_layer_desc *l)
{
	ds_error *err = c->err;
	char key[DS_DIGEST_BUFSZ];
	deb_tree *t = NULL;
	ds_buf control, md5sums, path;
	ds_layer_info info;
	_cleanup_free_ char *spool = ds_xasprintf("%s/tmp", c->debian_dir);
	char *pyver = NULL;
	int64_t synth = 0;
	int rc = -1;
	int has_python = group == 0 && in_set(c, "python3");

	layer_key(c, group, lo, key);
	if (group >= 0 && layer_cached(c, store, key, l, has_python ? &pyver : NULL)) {
		if (has_python && pyver) {
			free(b->python);
			b->python = pyver;
		}
		event(c, DS_DEBIAN_EV_LAYER_DONE, l->created_by, 0, 0, l, 1);
		return 0;
	}
	memset(l, 0, sizeof(*l));
	l->created_by = group < 0 ? ds_xstrdup("dsbuild debian: users app (1000:1000) and root, "
					       "/tmp, merged /usr")
				  : describe(c, group);
	event(c, DS_DEBIAN_EV_LAYER_START, l->created_by, 0, 0, NULL, 0);
	ds_buf_init(&control, DEB_CONTROL_MAX);
	ds_buf_init(&md5sums, DEB_CONTROL_MAX);
	ds_buf_init(&path, 0);
	if (deb_tree_new(&t, spool, err) < 0)
		goto out;
	if (group < 0) {
		if (fill_system(c, t) < 0)
			goto out;
	}
	for (size_t i = 0; i < c->n_set; i++) {
		const deb_pkg *p = deb_index_pkg(c->ix, c->set[i].pkg);
		char digest[DS_DIGEST_BUFSZ];
		if (c->set[i].group != group)
			continue;
		snprintf(digest, sizeof(digest), "sha256:%s", p->sha256);
		ds_buf_reset(&path);
		if (ds_store_blob_path(c->dl, digest, &path, err) < 0 ||
		    deb_tree_add_deb(t, path.data, p->name, &control, &md5sums, err) < 0 ||
		    add_status(c, t, p, &control, &md5sums) < 0)
			goto out;
	}
	if (group >= 0) {
		static const char *const tops[] = { "lib32", "lib64", "libx32", "libo32" };
		for (size_t i = 0; i < DS_ARRAY_SIZE(tops); i++) {
			_cleanup_free_ char *to = ds_xasprintf("usr/%s", tops[i]);
			if (deb_tree_used_toplevel(t, tops[i]) &&
			    deb_tree_add_symlink(t, tops[i], to, err) < 0)
				goto out;
		}
		if (group == 0 && c->o->ca_certificates && in_set(c, "ca-certificates") &&
		    make_ca_bundle(c, t) < 0)
			goto out;
		if (has_python && python_extras(c, t, b) < 0)
			goto out;
	}
	emit_warnings(c, t);
	if (deb_tree_write(t, store, lo, c->o->mtime, synth, &info, err) < 0)
		goto out;
	memcpy(l->digest, info.digest, DS_DIGEST_BUFSZ);
	memcpy(l->diff_id, info.diff_id, DS_DIGEST_BUFSZ);
	l->size = info.size;
	l->media_type = ds_xstrdup(DS_MEDIA_LAYER_GZIP);
	layer_remember(c, key, l, has_python ? b->python : NULL);
	event(c, DS_DEBIAN_EV_LAYER_DONE, l->created_by, 0, 0, l, 0);
	rc = 0;
out:
	deb_tree_free(t);
	ds_buf_release(&control);
	ds_buf_release(&md5sums);
	ds_buf_release(&path);
	return rc;
}

/* ---- result ----------------------------------------------------------------- */

ds_debian_base *ds_debian_base_free(ds_debian_base *b)
{
	if (!b)
		return NULL;
	free(b->suite);
	free(b->arch);
	free(b->platform);
	for (size_t i = 0; i < b->n_layers; i++) {
		free(b->layers[i].media_type);
		free(b->layers[i].created_by);
		json_decref(b->layers[i].annotations);
	}
	free(b->layers);
	for (size_t i = 0; i < b->n_env; i++)
		free(b->env[i]);
	free(b->env);
	for (size_t i = 0; i < b->n_packages; i++) {
		free(b->packages[i].name);
		free(b->packages[i].version);
		free(b->packages[i].arch);
		free(b->packages[i].sha256);
		free(b->packages[i].source);
	}
	free(b->packages);
	json_decref(b->manifest);
	free(b->python_version);
	free(b->python);
	free(b);
	return NULL;
}

static void fill_result(ctx *c, ds_debian_base *b, size_t first_pkg_layer)
{
	json_t *pk = json_array(), *srcs = json_array();

	b->packages = ds_xcalloc(c->n_set ? c->n_set : 1, sizeof(*b->packages));
	for (size_t i = 0; i < c->n_set; i++) {
		const deb_pkg *p = deb_index_pkg(c->ix, c->set[i].pkg);
		ds_debian_package *d = &b->packages[b->n_packages++];
		d->name = ds_xstrdup(p->name);
		d->version = ds_xstrdup(p->version);
		d->arch = ds_xstrdup(p->arch);
		d->sha256 = ds_xasprintf("sha256:%s", p->sha256);
		d->source = ds_xstrdup(p->source ? p->source : p->name);
		d->size = p->size;
		d->layer = first_pkg_layer + (size_t)c->set[i].group;
	}
	/* sorted by name for the label */
	for (size_t i = 1; i < b->n_packages; i++) {
		ds_debian_package x = b->packages[i];
		size_t j = i;
		while (j > 0 && strcmp(b->packages[j - 1].name, x.name) > 0) {
			b->packages[j] = b->packages[j - 1];
			j--;
		}
		b->packages[j] = x;
	}
	for (size_t i = 0; i < b->n_packages; i++) {
		ds_debian_package *d = &b->packages[i];
		json_array_append_new(pk, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "name", d->name,
						    "version", d->version, "arch", d->arch, "sha256",
						    d->sha256, "source", d->source, "layer",
						    (json_int_t)d->layer));
	}
	for (size_t i = 0; i < c->n_src; i++) {
		if (!c->src[i].date)
			continue;
		json_array_append_new(srcs, json_pack("{s:s, s:s, s:s}", "uri", c->src[i].uri,
						      "suite", c->src[i].suite, "date",
						      c->src[i].date));
	}
	b->manifest = json_pack("{s:s, s:s, s:o, s:o}", "suite", c->suite, "arch", c->arch,
				"sources", srcs, "packages", pk);
}

int ds_debian_base_build(ds_debian_base **out, const ds_debian_opts *opts, ds_store *store,
			 const ds_layer_opts *lopts, ds_error *err)
{
	ctx c = { 0 };
	ds_layer_opts lo = DS_LAYER_OPTS_INIT;
	ds_debian_base *b = ds_xcalloc(1, sizeof(*b));
	const char *mirror, *security;
	const char *const *base_req;
	size_t n_base_req = 0;
	char hash[DS_DIGEST_BUFSZ], key[DS_DIGEST_BUFSZ];
	int rc = -1;

	c.o = opts;
	c.err = err;
	if (lopts)
		lo = *lopts;
	c.suite = opts->suite ? opts->suite : DS_DEBIAN_DEFAULT_SUITE;
	if (!valid_suite(c.suite)) {
		ds_error_set(err, DS_EINVAL, "invalid Debian suite '%s'", c.suite);
		ds_error_hint(err, "use a codename such as bookworm or trixie");
		goto out;
	}
	if (opts->arch) {
		if (!ds_debian_arch_to_platform(opts->arch)) {
			ds_error_set(err, DS_EUNSUPPORTED, "unknown Debian architecture '%s'",
				     opts->arch);
			goto out;
		}
		c.arch = opts->arch;
	} else if (ds_debian_arch_from_platform(&c.arch, opts->platform, err) < 0) {
		goto out;
	}
	if (!opts->cache_dir) {
		ds_error_set(err, DS_EINVAL, "no cache directory for Debian downloads");
		goto out;
	}
	mirror = opts->mirror ? opts->mirror : getenv(DS_DEBIAN_MIRROR_ENV);
	if (!mirror || !*mirror)
		mirror = DS_DEBIAN_DEFAULT_MIRROR;
	security = opts->security_mirror ? opts->security_mirror
					 : getenv(DS_DEBIAN_SECURITY_MIRROR_ENV);
	if (!security)
		security = DS_DEBIAN_DEFAULT_SECURITY_MIRROR;
	if (!valid_uri(mirror)) {
		ds_error_set(err, DS_EINVAL, "invalid Debian mirror URL '%s'", mirror);
		ds_error_hint(err, "use an http://, https:// or file:// URL such as %s",
			      DS_DEBIAN_DEFAULT_MIRROR);
		goto out;
	}
	if (*security && strcmp(security, "none") != 0 && !valid_uri(security)) {
		ds_error_set(err, DS_EINVAL, "invalid Debian security mirror URL '%s'", security);
		goto out;
	}
	c.mirror = clean_uri(mirror);
	c.security = clean_uri(security);
	c.components = ds_xstrdup(opts->components ? opts->components : "main");
	c.keyring = ds_path_absolute(opts->keyring ? opts->keyring : DS_DEBIAN_DEFAULT_KEYRING);
	c.debian_dir = ds_xasprintf("%s/debian", opts->cache_dir);
	{
		_cleanup_free_ char *tmp = ds_xasprintf("%s/tmp", c.debian_dir);
		if (ds_mkdir_p(tmp, 0755, err) < 0)
			goto out;
	}
	if (ds_store_open(&c.dl, c.debian_dir, 1, err) < 0 ||
	    deb_fetcher_new(&c.fetch, c.dl, opts->parallel, err) < 0 ||
	    deb_index_new(&c.ix, c.arch, c.suite, err) < 0 ||
	    ds_sha256_init(&c.release_hash, err) < 0)
		goto out;
	deb_index_set_script_only(c.ix, script_only);

	/* sources */
	c.src = ds_xcalloc(3, sizeof(*c.src));
	c.src[c.n_src++] = (source){ ds_xstrdup(c.mirror), ds_xstrdup(c.suite), 1, NULL };
	c.src[c.n_src++] = (source){ ds_xstrdup(c.mirror), ds_xasprintf("%s-updates", c.suite), 0,
				     NULL };
	if (*c.security && strcmp(c.security, "none") != 0)
		c.src[c.n_src++] = (source){ ds_xstrdup(c.security),
					     ds_xasprintf("%s-security", c.suite), 0, NULL };
	for (size_t i = 0; i < c.n_src; i++) {
		int r = load_source(&c, i);
		if (r < 0)
			goto out;
	}
	ds_sha256_final(&c.release_hash, hash);

	/* closure */
	base_req = opts->base_packages ? opts->base_packages : default_packages;
	if (opts->base_packages)
		n_base_req = opts->n_base_packages;
	else
		while (base_req[n_base_req])
			n_base_req++;
	c.base_req = base_req;
	c.n_base_req = n_base_req;
	resolved_key(&c, hash, key);
	if (!resolved_load(&c, key)) {
		if (load_indexes(&c) < 0 || resolve_group(&c, base_req, n_base_req, 0) < 0)
			goto out;
		for (const char *const *d = data_packages; *d; d++)
			if (add_data_package(&c, *d, 0) < 0)
				goto out;
		if (opts->ca_certificates && add_data_package(&c, "ca-certificates", 0) < 0)
			goto out;
		if (opts->n_extra_packages &&
		    resolve_group(&c, opts->extra_packages, opts->n_extra_packages, 1) < 0)
			goto out;
		qsort_r(c.set, c.n_set, sizeof(*c.set), cmp_chosen, c.ix);
		resolved_save(&c, key);
	}
	{
		char text[256];
		snprintf(text, sizeof(text), "%zu packages from %s (%s)", c.n_set, c.suite, c.arch);
		event(&c, DS_DEBIAN_EV_RESOLVED, text, 0, c.n_set, NULL, 0);
	}
	{
		const deb_pkg *py = NULL;
		for (size_t i = 0; i < c.n_set; i++)
			if (strcmp(deb_index_pkg(c.ix, c.set[i].pkg)->name, "python3") == 0)
				py = deb_index_pkg(c.ix, c.set[i].pkg);
		if (py)
			b->python_version = python_version(py->version);
	}

	if (download(&c) < 0)
		goto out;

	/* layers: system files, base packages, extra packages */
	b->layers = ds_xcalloc(3, sizeof(*b->layers));
	if (build_layer(&c, store, &lo, -1, b, &b->layers[b->n_layers]) < 0)
		goto out;
	b->n_layers++;
	if (build_layer(&c, store, &lo, 0, b, &b->layers[b->n_layers]) < 0)
		goto out;
	b->n_layers++;
	if (opts->n_extra_packages) {
		int any = 0;
		for (size_t i = 0; i < c.n_set; i++)
			any |= c.set[i].group == 1;
		if (any) {
			if (build_layer(&c, store, &lo, 1, b, &b->layers[b->n_layers]) < 0)
				goto out;
			b->n_layers++;
		}
	}

	b->suite = ds_xstrdup(c.suite);
	b->arch = ds_xstrdup(c.arch);
	b->platform = ds_xstrdup(ds_debian_arch_to_platform(c.arch));
	b->app_uid = 1000;
	b->app_gid = 1000;
	b->env = ds_xcalloc(3, sizeof(char *));
	b->env[b->n_env++] = ds_xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
					"/sbin:/bin");
	b->env[b->n_env++] = ds_xstrdup("LANG=C.UTF-8");
	if (opts->ca_certificates)
		b->env[b->n_env++] = ds_xstrdup("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt");
	fill_result(&c, b, 1);
	*out = TAKE_PTR(b);
	rc = 0;
out:
	ds_debian_base_free(b);
	for (size_t i = 0; i < c.n_src; i++) {
		free(c.src[i].uri);
		free(c.src[i].suite);
		free(c.src[i].date);
	}
	free(c.src);
	for (size_t i = 0; i < c.n_idx; i++) {
		free(c.idx[i].d.url);
		free(c.idx[i].d.fallback_url);
		free(c.idx[i].d.what);
		free(c.idx[i].name);
		free(c.idx[i].rel_path);
	}
	free(c.idx);
	free(c.set);
	deb_index_free(c.ix);
	deb_fetcher_free(c.fetch);
	ds_store_free(c.dl);
	free(c.mirror);
	free(c.security);
	free(c.components);
	free(c.keyring);
	free(c.debian_dir);
	if (rc < 0)
		ds_sha256_release(&c.release_hash);
	return rc;
}
