/* Wheel installation (PEP 427 / 491) into a staging tree laid out as the
 * venv at DS_PYVENV_PREFIX, read with libarchive's zip reader:
 *
 *   <pkg>/...                      -> lib/pythonX.Y/site-packages/<pkg>/...
 *   <name>.data/purelib|platlib/   -> lib/pythonX.Y/site-packages/
 *   <name>.data/scripts/           -> bin/ ("#!python" rewritten to the venv's)
 *   <name>.data/headers/           -> include/site/pythonX.Y/<name>/
 *   <name>.data/data/              -> the venv root
 *
 * Every file is checked against RECORD while it is written; console and GUI
 * scripts come from entry_points.txt; INSTALLER, REQUESTED and a rewritten
 * RECORD are added.  Absolute paths, '..', links and duplicates are
 * refused.  The staging tree is then written to the layer sorted
 * (venv.c), so the layer does not depend on the order of the zip. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/digest.h>

#include "python/pydeps_int.h"
#include "util/util.h"

#define WHEEL_PATH_MAX 1024
#define SCRIPT_MAX ((size_t)16 << 20)

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* "sha256=<urlsafe base64, no padding>" of a 32-byte digest */
static void record_hash(char out[64], const unsigned char d[32])
{
	char *p = out;
	int i;

	memcpy(p, "sha256=", 7);
	p += 7;
	for (i = 0; i + 2 < 32; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
		*p++ = b64url[v >> 18 & 63];
		*p++ = b64url[v >> 12 & 63];
		*p++ = b64url[v >> 6 & 63];
		*p++ = b64url[v & 63];
	}
	{
		unsigned v = (unsigned)d[30] << 16 | (unsigned)d[31] << 8;
		*p++ = b64url[v >> 18 & 63];
		*p++ = b64url[v >> 12 & 63];
		*p++ = b64url[v >> 6 & 63];
	}
	*p = '\0';
}

static void hex_to_raw(const char *digest, unsigned char out[32])
{
	const char *h = ds_digest_hex(digest);

	for (int i = 0; i < 32; i++) {
		int hi = h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10;
		int lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
}

static void sha_raw(const void *data, size_t len, unsigned char out[32])
{
	char d[DS_DIGEST_BUFSZ];

	if (ds_sha256_buf(data, len, d, NULL) < 0)
		abort();
	hex_to_raw(d, out);
}

typedef struct installed {
	char *rel; /* path relative to site-packages, as RECORD writes it */
	char hash[64];
	uint64_t size;
} installed;

typedef struct record_line {
	char *path;
	char *hash;
} record_line;

typedef struct W {
	const pyinstall *in;
	const char *wheel; /* file name, for messages */
	char *venv;	   /* stage/opt/venv */
	char *site_rel;	   /* lib/python3.11/site-packages */
	char *distinfo;	   /* "numpy-1.26.4.dist-info" */
	char *data;	   /* "numpy-1.26.4.data" */
	char *name;	   /* project name from the file name */
	size_t n_inst;
	installed *inst;
	size_t n_seen;
	installed *seen; /* wheel path + hash of what the zip holds */
	ds_buf record;	 /* the wheel's RECORD */
	ds_buf entry_points;
	ds_error *err;
} W;

/* A relative path with no '..', no empty or '.' component, no backslash. */
static int safe_path(const char *p)
{
	const char *s = p;

	if (!p[0] || p[0] == '/' || strlen(p) > WHEEL_PATH_MAX || strchr(p, '\\'))
		return 0;
	while (*s) {
		size_t l = strcspn(s, "/");
		if ((l == 2 && s[0] == '.' && s[1] == '.') || (l == 1 && s[0] == '.'))
			return 0;
		if (l == 0 && s[l] == '/')
			return 0;
		s += l;
		if (*s == '/')
			s++;
	}
	return 1;
}

static int mkparents(const char *path, ds_error *err)
{
	_cleanup_free_ char *d = ds_xstrdup(path);
	char *slash = strrchr(d, '/');

	if (!slash)
		return 0;
	*slash = '\0';
	return ds_mkdir_p(d, 0755, err);
}

/* venv-relative destination of a wheel entry; NULL when refused. */
static char *destination(W *w, const char *path, int *is_script, ds_error *err)
{
	size_t dl = strlen(w->data);

	*is_script = 0;
	if (!strncmp(path, w->data, dl) && path[dl] == '/') {
		const char *rest = path + dl + 1;
		const char *sub = strchr(rest, '/');
		size_t kl = sub ? (size_t)(sub - rest) : strlen(rest);
		if (!sub || !sub[1]) {
			ds_error_set(err, DS_EFORMAT, "'%s': unexpected entry '%s'", w->wheel,
				     path);
			return NULL;
		}
		sub++;
		if ((kl == 7 && !strncmp(rest, "purelib", 7)) ||
		    (kl == 7 && !strncmp(rest, "platlib", 7)))
			return ds_xasprintf("%s/%s", w->site_rel, sub);
		if (kl == 7 && !strncmp(rest, "scripts", 7)) {
			*is_script = 1;
			if (strchr(sub, '/')) {
				ds_error_set(err, DS_EFORMAT, "'%s': script '%s' in a subfolder",
					     w->wheel, path);
				return NULL;
			}
			return ds_xasprintf("bin/%s", sub);
		}
		if (kl == 7 && !strncmp(rest, "headers", 7))
			return ds_xasprintf("include/site/python%s/%s/%s", w->in->python_version,
					    w->name, sub);
		if (kl == 4 && !strncmp(rest, "data", 4))
			return ds_xstrdup(sub);
		ds_error_set(err, DS_EFORMAT, "'%s': unknown .data folder in '%s'", w->wheel, path);
		return NULL;
	}
	return ds_xasprintf("%s/%s", w->site_rel, path);
}

/* "../../../bin/x" for "bin/x" as seen from site-packages */
static char *rel_to_site(const W *w, const char *venv_rel)
{
	size_t sl = strlen(w->site_rel);

	if (!strncmp(venv_rel, w->site_rel, sl) && venv_rel[sl] == '/')
		return ds_xstrdup(venv_rel + sl + 1);
	return ds_xasprintf("../../../%s", venv_rel);
}

static void add_installed(W *w, const char *venv_rel, const unsigned char d[32], uint64_t size)
{
	installed *i;

	w->inst = ds_xrealloc(w->inst, (w->n_inst + 1) * sizeof(*w->inst));
	i = &w->inst[w->n_inst++];
	i->rel = rel_to_site(w, venv_rel);
	record_hash(i->hash, d);
	i->size = size;
}

/* Writes data to venv/<rel>; refuses an existing path (two wheels, one file). */
static int write_new(W *w, const char *rel, const void *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *p = ds_xasprintf("%s/%s", w->venv, rel);
	int fd;

	if (mkparents(p, w->err) < 0)
		return -1;
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		if (errno == EEXIST) {
			ds_error_set(w->err, DS_EINVAL,
				     "'%s' installs '%s%s', which another "
				     "package installs too",
				     w->wheel, DS_PYVENV_PREFIX "/", rel);
			return ds_error_hint(w->err, "remove one of the two packages from the "
						     "requirements");
		}
		return ds_error_set_errno(w->err, errno, "cannot create '%s'", p);
	}
	if (ds_write_all(fd, data, len, p, w->err) < 0) {
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return ds_error_set_errno(w->err, errno, "cannot write '%s'", p);
	return 0;
}

/* Copies the current entry to venv/<rel>, hashing it. */
static int copy_entry(W *w, struct archive *a, const char *rel, mode_t mode, unsigned char d[32],
		      uint64_t *size)
{
	_cleanup_free_ char *p = ds_xasprintf("%s/%s", w->venv, rel);
	ds_sha256 c;
	char dg[DS_DIGEST_BUFSZ];
	int fd;
	char buf[65536];

	if (mkparents(p, w->err) < 0)
		return -1;
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		if (errno == EEXIST) {
			ds_error_set(w->err, DS_EINVAL,
				     "'%s' installs '%s/%s', which another "
				     "package installs too",
				     w->wheel, DS_PYVENV_PREFIX, rel);
			return ds_error_hint(w->err, "remove one of the two packages from the "
						     "requirements");
		}
		return ds_error_set_errno(w->err, errno, "cannot create '%s'", p);
	}
	if (ds_sha256_init(&c, w->err) < 0) {
		close(fd);
		return -1;
	}
	*size = 0;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0) {
			ds_sha256_release(&c);
			close(fd);
			return ds_error_set(w->err, DS_EFORMAT, "'%s': %s", w->wheel,
					    archive_error_string(a));
		}
		if (n == 0)
			break;
		ds_sha256_update(&c, buf, (size_t)n);
		*size += (uint64_t)n;
		if (*size > PY_WHEEL_SIZE_MAX || ds_write_all(fd, buf, (size_t)n, p, w->err) < 0) {
			ds_sha256_release(&c);
			close(fd);
			return *size > PY_WHEEL_SIZE_MAX
				   ? ds_error_set(w->err, DS_ENOMEM, "'%s': entry too large",
						  w->wheel)
				   : -1;
		}
	}
	ds_sha256_final(&c, dg);
	hex_to_raw(dg, d);
	if (close(fd) < 0)
		return ds_error_set_errno(w->err, errno, "cannot write '%s'", p);
	return 0;
}

static int read_entry(W *w, struct archive *a, ds_buf *out, size_t max)
{
	char buf[65536];

	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0)
			return ds_error_set(w->err, DS_EFORMAT, "'%s': %s", w->wheel,
					    archive_error_string(a));
		if (n == 0)
			return 0;
		if (out->len + (size_t)n > max || ds_buf_add(out, buf, (size_t)n) < 0)
			return ds_error_set(w->err, DS_ENOMEM, "'%s': entry larger than %zu bytes",
					    w->wheel, max);
	}
}

/* The body of a script with "#!python" (or "#!pythonw") rewritten. */
static int install_script(W *w, const char *rel, ds_buf *body, unsigned char orig[32])
{
	const char *d = body->data ? body->data : "";
	size_t len = body->len;
	_cleanup_buf_ ds_buf out = DS_BUF_INIT;
	unsigned char nd[32];

	sha_raw(d, len, orig);
	ds_buf_init(&out, SCRIPT_MAX + 64);
	if ((len >= 9 && !strncmp(d, "#!python\n", 9)) ||
	    (len >= 10 && !strncmp(d, "#!pythonw\n", 10)) ||
	    (len >= 10 && !strncmp(d, "#!python\r\n", 10))) {
		const char *nl = memchr(d, '\n', len);
		ds_buf_adds(&out, "#!" DS_PYVENV_PREFIX "/bin/python\n");
		ds_buf_add(&out, nl + 1, len - (size_t)(nl + 1 - d));
	} else {
		ds_buf_add(&out, d, len);
	}
	if (write_new(w, rel, out.data ? out.data : "", out.len, 0755) < 0)
		return -1;
	sha_raw(out.data ? out.data : "", out.len, nd);
	add_installed(w, rel, nd, out.len);
	return 0;
}

static void seen_add(W *w, const char *path, const unsigned char d[32])
{
	w->seen = ds_xrealloc(w->seen, (w->n_seen + 1) * sizeof(*w->seen));
	w->seen[w->n_seen].rel = ds_xstrdup(path);
	record_hash(w->seen[w->n_seen].hash, d);
	w->seen[w->n_seen].size = 0;
	w->n_seen++;
}

/* Splits one CSV line of RECORD (quotes as Python's csv writes them). */
static int csv_fields(const char *s, size_t n, char **f, int max)
{
	int k = 0;
	size_t i = 0;

	while (k < max) {
		ds_buf b = DS_BUF_INIT;
		ds_buf_init(&b, WHEEL_PATH_MAX * 4);
		if (i < n && s[i] == '"') {
			i++;
			while (i < n) {
				if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
					ds_buf_addch(&b, '"');
					i += 2;
				} else if (s[i] == '"') {
					i++;
					break;
				} else {
					ds_buf_addch(&b, s[i++]);
				}
			}
		}
		while (i < n && s[i] != ',')
			ds_buf_addch(&b, s[i++]);
		f[k++] = b.data ? ds_xstrdup(b.data) : ds_xstrdup("");
		ds_buf_release(&b);
		if (i >= n)
			break;
		i++;
	}
	return k;
}

static int verify_record(W *w)
{
	const char *p = w->record.data, *end = p + w->record.len;
	size_t n_lines = 0;
	record_line *lines = NULL;
	int rc = -1;

	if (!p)
		return ds_error_set(w->err, DS_EFORMAT, "'%s' has no %s/RECORD", w->wheel,
				    w->distinfo);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol ? eol : end) - p);
		char *f[3] = {NULL, NULL, NULL};
		if (len && p[len - 1] == '\r')
			len--;
		if (len) {
			int k = csv_fields(p, len, f, 3);
			lines = ds_xrealloc(lines, (n_lines + 1) * sizeof(*lines));
			lines[n_lines].path = f[0];
			lines[n_lines].hash = k > 1 ? f[1] : ds_xstrdup("");
			n_lines++;
			if (k > 2)
				free(f[2]);
		}
		p = eol ? eol + 1 : end;
	}
	for (size_t i = 0; i < w->n_seen; i++) {
		const installed *s = &w->seen[i];
		size_t dl = strlen(w->distinfo);
		int found = 0;
		if (!strncmp(s->rel, w->distinfo, dl) &&
		    (!strcmp(s->rel + dl, "/RECORD") || !strcmp(s->rel + dl, "/RECORD.jws") ||
		     !strcmp(s->rel + dl, "/RECORD.p7s")))
			continue;
		for (size_t k = 0; k < n_lines && !found; k++) {
			if (strcmp(lines[k].path, s->rel))
				continue;
			found = 1;
			if (!lines[k].hash[0]) {
				ds_error_set(w->err, DS_EFORMAT,
					     "'%s': RECORD has no hash for '%s'", w->wheel, s->rel);
				goto out;
			}
			if (strncmp(lines[k].hash, "sha256=", 7))
				continue; /* another algorithm: not checked */
			if (strcmp(lines[k].hash, s->hash)) {
				ds_error_set(w->err, DS_EFORMAT,
					     "'%s': '%s' does not match its hash in RECORD",
					     w->wheel, s->rel);
				ds_error_hint(w->err,
					      "the wheel is corrupt or was modified; rebuild or "
					      "re-download it");
				goto out;
			}
		}
		if (!found) {
			ds_error_set(w->err, DS_EFORMAT, "'%s': '%s' is not listed in RECORD",
				     w->wheel, s->rel);
			ds_error_hint(w->err, "the wheel is corrupt or was modified; rebuild or "
					      "re-download it");
			goto out;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < n_lines; i++) {
		free(lines[i].path);
		free(lines[i].hash);
	}
	free(lines);
	return rc;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int valid_ident_path(const char *s, int allow_dots)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || (allow_dots && *s == '.')))
			return 0;
	return 1;
}

/* console_scripts / gui_scripts -> bin/<name> */
static int install_entry_points(W *w)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;
	int in_scripts = 0;

	if (!w->entry_points.data)
		return 0;
	text = ds_xstrdup(w->entry_points.data);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = trim(line), *eq, *name, *val, *colon, *br;
		_cleanup_free_ char *mod = NULL, *attr = NULL, *body = NULL, *rel = NULL;
		_cleanup_free_ char *first = NULL;
		unsigned char d[32];

		if (!*l || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			in_scripts = !strcmp(l, "[console_scripts]") || !strcmp(l, "[gui_scripts]");
			continue;
		}
		if (!in_scripts || !(eq = strchr(l, '=')))
			continue;
		*eq = '\0';
		name = trim(l);
		val = trim(eq + 1);
		if ((br = strchr(val, '[')))
			*br = '\0';
		val = trim(val);
		colon = strchr(val, ':');
		if (!colon || !*name || strchr(name, '/') || !strcmp(name, "..") ||
		    !strcmp(name, ".") || strlen(name) > 255) {
			return ds_error_set(w->err, DS_EFORMAT, "'%s': invalid entry point '%s'",
					    w->wheel, name);
		}
		*colon = '\0';
		mod = ds_xstrdup(trim(val));
		attr = ds_xstrdup(trim(colon + 1));
		if (!valid_ident_path(mod, 1) || !valid_ident_path(attr, 1))
			return ds_error_set(w->err, DS_EFORMAT,
					    "'%s': invalid entry point '%s = %s:%s'", w->wheel,
					    name, mod, attr);
		first = ds_xstrndup(attr, strcspn(attr, "."));
		body = ds_xasprintf("#!" DS_PYVENV_PREFIX "/bin/python\n"
				    "# -*- coding: utf-8 -*-\n"
				    "import re\n"
				    "import sys\n"
				    "from %s import %s\n"
				    "if __name__ == '__main__':\n"
				    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', "
				    "sys.argv[0])\n"
				    "    sys.exit(%s())\n",
				    mod, first, attr);
		rel = ds_xasprintf("bin/%s", name);
		if (write_new(w, rel, body, strlen(body), 0755) < 0)
			return -1;
		sha_raw(body, strlen(body), d);
		add_installed(w, rel, d, strlen(body));
	}
	return 0;
}

static int inst_cmp(const void *a, const void *b)
{
	return strcmp(((const installed *)a)->rel, ((const installed *)b)->rel);
}

static int finish_dist_info(W *w, int requested)
{
	_cleanup_free_ char *inst_rel = ds_xasprintf("%s/%s/INSTALLER", w->site_rel, w->distinfo);
	_cleanup_free_ char *req_rel = ds_xasprintf("%s/%s/REQUESTED", w->site_rel, w->distinfo);
	_cleanup_free_ char *rec_rel = ds_xasprintf("%s/%s/RECORD", w->site_rel, w->distinfo);
	_cleanup_buf_ ds_buf rec = DS_BUF_INIT;
	unsigned char d[32];

	if (write_new(w, inst_rel, "dsbuild\n", 8, 0644) < 0)
		return -1;
	sha_raw("dsbuild\n", 8, d);
	add_installed(w, inst_rel, d, 8);
	if (requested) {
		if (write_new(w, req_rel, "", 0, 0644) < 0)
			return -1;
		sha_raw("", 0, d);
		add_installed(w, req_rel, d, 0);
	}
	qsort(w->inst, w->n_inst, sizeof(*w->inst), inst_cmp);
	ds_buf_init(&rec, (size_t)1 << 30);
	for (size_t i = 0; i < w->n_inst; i++) {
		const char *r = w->inst[i].rel;
		if (strpbrk(r, ",\"\n")) {
			ds_buf_addch(&rec, '"');
			for (; *r; r++) {
				if (*r == '"')
					ds_buf_addch(&rec, '"');
				ds_buf_addch(&rec, *r);
			}
			ds_buf_addch(&rec, '"');
		} else {
			ds_buf_adds(&rec, r);
		}
		ds_buf_addf(&rec, ",%s,%llu\n", w->inst[i].hash,
			    (unsigned long long)w->inst[i].size);
	}
	{
		_cleanup_free_ char *self = rel_to_site(w, rec_rel);
		ds_buf_addf(&rec, "%s,,\n", self);
	}
	return write_new(w, rec_rel, rec.data ? rec.data : "", rec.len, 0644);
}

static void w_release(W *w)
{
	free(w->venv);
	free(w->site_rel);
	free(w->distinfo);
	free(w->data);
	free(w->name);
	for (size_t i = 0; i < w->n_inst; i++)
		free(w->inst[i].rel);
	free(w->inst);
	for (size_t i = 0; i < w->n_seen; i++)
		free(w->seen[i].rel);
	free(w->seen);
	ds_buf_release(&w->record);
	ds_buf_release(&w->entry_points);
}

int pywheel_install(const pyinstall *in, const char *path, const char *filename, int requested,
		    ds_error *err)
{
	W w = {.in = in, .wheel = filename, .err = err};
	ds_pywheel_name *wn = NULL;
	struct archive *a = NULL;
	struct archive_entry *e;
	char vt[DS_PYVER_STRING_MAX];
	size_t n_entries = 0;
	int r, rc = -1, have_wheel = 0;

	if (ds_pywheel_name_parse(&wn, filename, err) < 0)
		return -1;
	ds_pyver_format(&wn->version, vt, sizeof(vt));
	w.name = ds_xstrdup(wn->name);
	w.venv = ds_xasprintf("%s%s", in->stage, DS_PYVENV_PREFIX);
	w.site_rel = ds_xasprintf("lib/python%s/site-packages", in->python_version);
	ds_buf_init(&w.record, (size_t)64 << 20);
	ds_buf_init(&w.entry_points, (size_t)4 << 20);
	a = archive_read_new();
	archive_read_support_format_zip_seekable(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		ds_error_set(err, DS_EFORMAT, "'%s' is not a zip file: %s", filename,
			     archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		mode_t ftype = archive_entry_filetype(e);
		_cleanup_free_ char *dest = NULL;
		int is_script = 0;
		unsigned char d[32];
		uint64_t size = 0;
		const char *slash;

		if (++n_entries > PY_WHEEL_ENTRIES_MAX) {
			ds_error_set(err, DS_ENOMEM, "'%s' has more than %d entries", filename,
				     PY_WHEEL_ENTRIES_MAX);
			goto out;
		}
		if (!p || !safe_path(p)) {
			_cleanup_free_ char *shown = p ? ds_pyurl_redact(p) : ds_xstrdup("?");
			ds_error_set(err, DS_EFORMAT, "'%s' holds an unsafe path '%s'", filename,
				     shown);
			ds_error_hint(err, "the wheel tries to write outside the environment; do "
					   "not install it");
			goto out;
		}
		if (ftype == AE_IFDIR)
			continue;
		if (ftype != AE_IFREG) {
			ds_error_set(err, DS_EFORMAT, "'%s': '%s' is not a regular file", filename,
				     p);
			goto out;
		}
		/* the dist-info folder is the one holding WHEEL */
		slash = strchr(p, '/');
		if (slash && !strchr(slash + 1, '/') && slash - p > 10 &&
		    !strncmp(slash - 10, ".dist-info", 10)) {
			if (!w.distinfo) {
				w.distinfo = ds_xstrndup(p, (size_t)(slash - p));
				w.data = ds_xasprintf("%.*s.data", (int)(slash - p - 10), p);
			}
			if (!strncmp(p, w.distinfo, strlen(w.distinfo))) {
				if (!strcmp(slash, "/RECORD")) {
					if (read_entry(&w, a, &w.record, (size_t)64 << 20) < 0)
						goto out;
					continue;
				}
				if (!strcmp(slash, "/WHEEL"))
					have_wheel = 1;
				if (!strcmp(slash, "/entry_points.txt")) {
					/* installed as is, and read for the scripts */
					_cleanup_buf_ ds_buf ep = DS_BUF_INIT;
					ds_buf_init(&ep, (size_t)4 << 20);
					if (read_entry(&w, a, &ep, (size_t)4 << 20) < 0)
						goto out;
					ds_buf_add(&w.entry_points, ep.data ? ep.data : "", ep.len);
					dest = ds_xasprintf("%s/%s", w.site_rel, p);
					if (write_new(&w, dest, ep.data ? ep.data : "", ep.len,
						      0644) < 0)
						goto out;
					sha_raw(ep.data ? ep.data : "", ep.len, d);
					seen_add(&w, p, d);
					add_installed(&w, dest, d, ep.len);
					continue;
				}
			}
		}
		if (!w.data) {
			/* entries before the dist-info's: derive the names from the file name */
			w.distinfo = ds_xasprintf("%s-%s.dist-info", wn->name, vt);
			w.data = ds_xasprintf("%s-%s.data", wn->name, vt);
		}
		dest = destination(&w, p, &is_script, err);
		if (!dest)
			goto out;
		if (is_script) {
			_cleanup_buf_ ds_buf body = DS_BUF_INIT;
			ds_buf_init(&body, SCRIPT_MAX);
			if (read_entry(&w, a, &body, SCRIPT_MAX) < 0 ||
			    install_script(&w, dest, &body, d) < 0)
				goto out;
			seen_add(&w, p, d);
			continue;
		}
		if (copy_entry(&w, a, dest, (archive_entry_perm(e) & 0111) ? 0755 : 0644, d,
			       &size) < 0)
			goto out;
		seen_add(&w, p, d);
		add_installed(&w, dest, d, size);
	}
	if (r != ARCHIVE_EOF) {
		ds_error_set(err, DS_EFORMAT, "'%s': %s", filename, archive_error_string(a));
		goto out;
	}
	if (!w.distinfo || !have_wheel) {
		ds_error_set(err, DS_EFORMAT, "'%s' has no .dist-info/WHEEL", filename);
		goto out;
	}
	if (verify_record(&w) < 0 || install_entry_points(&w) < 0 ||
	    finish_dist_info(&w, requested) < 0)
		goto out;
	rc = 0;
out:
	if (a)
		archive_read_free(a);
	ds_pywheel_name_free(wn);
	w_release(&w);
	return rc;
}
