#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "debian/control.h"
#include "debian/release.h"
#include "util/util.h"

static const char *next_line(const char *p, const char *end, size_t *len)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return nl ? nl + 1 : end;
}

int deb_clearsign_body(ds_buf *out, const char *data, size_t len, const char *name,
		       ds_error *err)
{
	const char *p = data, *end = data + len, *line;
	size_t n;
	int in_header = 1, found_sig = 0;
	ds_buf b;

	ds_buf_init(&b, len + 1);
	/* the armor line, then hash headers up to a blank line */
	line = p;
	p = next_line(p, end, &n);
	if (n != 34 || memcmp(line, "-----BEGIN PGP SIGNED MESSAGE-----", 34) != 0) {
		ds_buf_release(&b);
		return ds_error_set(err, DS_EFORMAT, "'%s' is not a clearsigned message", name);
	}
	while (p < end) {
		line = p;
		p = next_line(p, end, &n);
		if (in_header) {
			if (n == 0)
				in_header = 0;
			continue;
		}
		if (n == 29 && memcmp(line, "-----BEGIN PGP SIGNATURE-----", 29) == 0) {
			found_sig = 1;
			break;
		}
		if (n >= 2 && line[0] == '-' && line[1] == ' ') {
			line += 2;
			n -= 2;
		}
		if (b.len && ds_buf_addch(&b, '\n') < 0) {
			ds_buf_release(&b);
			return ds_error_set(err, DS_ENOMEM, "'%s' is too large", name);
		}
		if (ds_buf_add(&b, line, n) < 0) {
			ds_buf_release(&b);
			return ds_error_set(err, DS_ENOMEM, "'%s' is too large", name);
		}
	}
	if (!found_sig) {
		ds_buf_release(&b);
		return ds_error_set(err, DS_EFORMAT, "'%s': signature block missing", name);
	}
	ds_buf_addch(&b, '\n');
	ds_buf_release(out);
	*out = b;
	return 0;
}

static char *dup_field(const deb_control *c, const char *f)
{
	const char *v = deb_control_get(c, f);
	return v ? ds_xstrdup(v) : NULL;
}

void deb_release_release(deb_release *r)
{
	free(r->origin);
	free(r->suite);
	free(r->codename);
	free(r->date);
	free(r->valid_until);
	free(r->architectures);
	free(r->components);
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

static int parse_sha256(deb_release *r, const char *v, const char *name, ds_error *err)
{
	const char *p = v;

	while (*p) {
		const char *hash, *size, *path;
		size_t hl, pl;
		char *endp;
		unsigned long long sz;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		hash = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		hl = (size_t)(p - hash);
		while (*p == ' ' || *p == '\t')
			p++;
		size = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		while (*p == ' ' || *p == '\t')
			p++;
		path = p;
		while (*p && *p != '\n' && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		pl = (size_t)(p - path);
		if (hl != 64 || pl == 0 || pl > 1024 || !isdigit((unsigned char)*size))
			return ds_error_set(err, DS_EFORMAT, "'%s': bad SHA256 line", name);
		for (size_t i = 0; i < 64; i++)
			if (!isxdigit((unsigned char)hash[i]))
				return ds_error_set(err, DS_EFORMAT, "'%s': bad SHA256 line",
						    name);
		errno = 0;
		sz = strtoull(size, &endp, 10);
		if (errno || !isspace((unsigned char)*endp))
			return ds_error_set(err, DS_EFORMAT, "'%s': bad size in SHA256 line", name);
		if (r->n_files == DEB_RELEASE_FILES_MAX)
			return ds_error_set(err, DS_EFORMAT, "'%s': too many files listed", name);
		r->files = ds_xrealloc(r->files, (r->n_files + 1) * sizeof(*r->files));
		r->files[r->n_files].path = ds_xstrndup(path, pl);
		for (size_t i = 0; i < 64; i++)
			r->files[r->n_files].sha256[i] = (char)tolower((unsigned char)hash[i]);
		r->files[r->n_files].sha256[64] = '\0';
		r->files[r->n_files].size = sz;
		r->n_files++;
		while (*p && *p != '\n')
			p++;
	}
	return 0;
}

int deb_release_parse(deb_release *out, char *data, size_t len, const char *name, ds_error *err)
{
	deb_control c;
	deb_release r = { 0 };
	const char *v;
	int rc;

	deb_control_init(&c, data, len, name);
	rc = deb_control_next(&c, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return ds_error_set(err, DS_EFORMAT, "'%s' is empty", name);
	r.origin = dup_field(&c, "Origin");
	r.suite = dup_field(&c, "Suite");
	r.codename = dup_field(&c, "Codename");
	r.date = dup_field(&c, "Date");
	r.valid_until = dup_field(&c, "Valid-Until");
	r.architectures = dup_field(&c, "Architectures");
	r.components = dup_field(&c, "Components");
	v = deb_control_get(&c, "Acquire-By-Hash");
	r.acquire_by_hash = v && strcasecmp(v, "yes") == 0;
	v = deb_control_get(&c, "SHA256");
	if (!v) {
		deb_release_release(&r);
		return ds_error_set(err, DS_EFORMAT, "'%s' has no SHA256 field", name);
	}
	if (parse_sha256(&r, v, name, err) < 0) {
		deb_release_release(&r);
		return -1;
	}
	*out = r;
	return 0;
}

const deb_release_file *deb_release_find(const deb_release *r, const char *path)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (strcmp(r->files[i].path, path) == 0)
			return &r->files[i];
	return NULL;
}

int deb_release_date(int64_t *out, const char *s)
{
	struct tm tm;
	const char *p;
	char *rest;

	memset(&tm, 0, sizeof(tm));
	p = strchr(s, ',');
	p = p ? p + 1 : s;
	while (*p == ' ')
		p++;
	rest = strptime(p, "%d %b %Y %H:%M:%S", &tm);
	if (!rest)
		return -1;
	while (*rest == ' ')
		rest++;
	if (*rest && strcmp(rest, "UTC") != 0 && strcmp(rest, "GMT") != 0 &&
	    strcmp(rest, "+0000") != 0 && strcmp(rest, "Z") != 0)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}
