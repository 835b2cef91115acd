/* Procfiles: "type: command" lines, as Heroku and foreman read them.
 *
 * Where Heroku silently skips a line it cannot read, this parser refuses it with the file and
 * line: a Procfile with a typo would otherwise build an image without the process. */
#include <stdio.h>

#include <dsbuild/notebook.h>

#include "util/util.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* s[0..n) for a message: at most 40 bytes, control characters and bad bytes as '?'. */
static void snippet(char *dst, size_t size, const char *s, size_t n)
{
	size_t o = 0, i = 0;

	while (i < n && o + 4 < size && i < 40) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k == 0 || (k == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))) {
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + k + 4 >= size)
			break;
		memcpy(dst + o, s + i, k);
		o += k;
		i += k;
	}
	if (i < n) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

void ds_procfile_free(ds_procfile_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++) {
		free(e[i].type);
		free(e[i].command);
	}
	free(e);
}

/* Checks the command s[0..n): valid UTF-8, no control characters but tab. */
static int check_command(const char *file, int line, const char *s, size_t n, ds_error *err)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
		if (c == '\0')
			return ds_error_set(err, DS_EINVAL,
					    "'%s' line %d: the command holds a NUL byte", file,
					    line);
		if (k == 0)
			return ds_error_set(err, DS_EINVAL,
					    "'%s' line %d: the command is not valid UTF-8", file,
					    line);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return ds_error_set(
			    err, DS_EINVAL,
			    "'%s' line %d: the command holds control character 0x%02x", file, line,
			    c);
		i += k;
	}
	return 0;
}

/* Parses one non-blank, non-comment line s[0..n) (blanks trimmed at both ends) into e. */
static int parse_line(ds_procfile_entry *e, const char *file, int line, const char *s, size_t n,
		      ds_error *err)
{
	const char *colon = memchr(s, ':', n);
	const char *cmd, *end = s + n;
	size_t tlen;
	char what[256];

	if (!colon) {
		snippet(what, sizeof(what), s, n);
		ds_error_set(err, DS_EINVAL, "'%s' line %d: no ':' in '%s'", file, line, what);
		return ds_error_hint(err, "each line reads 'type: command', as in 'web: gunicorn "
					  "app:app'");
	}
	tlen = (size_t)(colon - s);
	while (tlen > 0 && is_blank(s[tlen - 1]))
		tlen--;
	if (tlen == 0)
		return ds_error_set(err, DS_EINVAL, "'%s' line %d: no process type before ':'",
				    file, line);
	for (size_t i = 0; i < tlen; i++) {
		if (!is_type_char(s[i])) {
			snippet(what, sizeof(what), s, tlen);
			ds_error_set(err, DS_EINVAL, "'%s' line %d: '%s' is not a process type",
				     file, line, what);
			return ds_error_hint(err,
					     "a process type has only letters, digits, '-' and "
					     "'_'");
		}
	}
	cmd = colon + 1;
	while (cmd < end && is_blank(*cmd))
		cmd++;
	if (cmd == end) {
		snippet(what, sizeof(what), s, tlen);
		return ds_error_set(err, DS_EINVAL,
				    "'%s' line %d: process type '%s' has no command", file, line,
				    what);
	}
	if (check_command(file, line, cmd, (size_t)(end - cmd), err) < 0)
		return -1;
	e->type = ds_xstrndup(s, tlen);
	e->command = ds_xstrndup(cmd, (size_t)(end - cmd));
	e->line = line;
	return 0;
}

int ds_procfile_parse(ds_procfile_entry **out, size_t *n, const char *file, const char *data,
		      size_t len, ds_error *err)
{
	ds_procfile_entry *v = NULL;
	size_t nv = 0, alloc = 0;
	const char *p = data, *end = data + len;
	int line = 0;

	if (!file)
		file = "Procfile";
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *s = p;
		size_t ll = (size_t)(eol - p);

		p = nl ? nl + 1 : end;
		if (++line > DS_PROCFILE_MAX_LINES) {
			ds_error_set(err, DS_ENOMEM, "'%s' has more than %d lines", file,
				     DS_PROCFILE_MAX_LINES);
			goto fail;
		}
		if (ll > DS_PROCFILE_MAX_LINE) {
			ds_error_set(err, DS_ENOMEM, "'%s' line %d: longer than %zu bytes", file,
				     line, DS_PROCFILE_MAX_LINE);
			goto fail;
		}
		if (ll > 0 && s[ll - 1] == '\r')
			ll--;
		while (ll > 0 && is_blank(*s))
			s++, ll--;
		while (ll > 0 && is_blank(s[ll - 1]))
			ll--;
		if (ll == 0 || *s == '#')
			continue;
		if (nv == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			v = ds_xrealloc(v, alloc * sizeof(*v));
		}
		if (parse_line(&v[nv], file, line, s, ll, err) < 0)
			goto fail;
		for (size_t i = 0; i < nv; i++) {
			if (strcmp(v[i].type, v[nv].type) == 0) {
				ds_error_set(
				    err, DS_EINVAL,
				    "'%s' line %d: process type '%s' is already defined on "
				    "line %d",
				    file, line, v[nv].type, v[i].line);
				ds_error_hint(err, "give each process its own type, or remove one");
				nv++;
				goto fail;
			}
		}
		nv++;
	}
	if (nv == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = nv;
	return 0;
fail:
	ds_procfile_free(v, nv);
	return -1;
}
