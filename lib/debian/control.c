#include <stdio.h>
#include <strings.h>

#include "debian/control.h"
#include "util/util.h"

void deb_control_init(deb_control *c, char *data, size_t len, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->p = data;
	c->end = data + len;
	c->name = name;
	c->line = 1;
}

static int is_blank_line(const char *p, const char *eol)
{
	for (; p < eol; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 0;
	return 1;
}

static char *line_end(char *p, char *end)
{
	char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

/* value_end[i] is where field i's value ends (its last line's '\n'). */
static void finish_values(deb_control *c, char **value_end)
{
	for (size_t i = 0; i < c->n; i++) {
		char *v = (char *)c->fields[i].value, *e = value_end[i];
		while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
			e--;
		*e = '\0';
	}
}

int deb_control_next(deb_control *c, ds_error *err)
{
	char *value_end[DEB_PARA_FIELDS_MAX];
	const char *name = c->name ? c->name : "control data";

	c->n = 0;
	/* separators and comments before the paragraph */
	while (c->p < c->end) {
		char *eol = line_end(c->p, c->end);
		if (!is_blank_line(c->p, eol) && *c->p != '#')
			break;
		c->p = eol < c->end ? eol + 1 : eol;
		c->line++;
	}
	if (c->p >= c->end)
		return 0;
	c->para_line = c->line;

	while (c->p < c->end) {
		char *line = c->p, *eol = line_end(line, c->end), *colon, *v;

		if (memchr(line, '\0', (size_t)(eol - line)))
			return ds_error_set(err, DS_EFORMAT, "'%s' line %d: NUL byte", name, c->line);
		if (is_blank_line(line, eol)) {
			c->p = eol < c->end ? eol + 1 : eol;
			c->line++;
			break;
		}
		if (*line == '#') {
			c->p = eol < c->end ? eol + 1 : eol;
			c->line++;
			continue;
		}
		if (*line == ' ' || *line == '\t') {
			if (c->n == 0)
				return ds_error_set(err, DS_EFORMAT,
						    "'%s' line %d: continuation line outside a field",
						    name, c->line);
			value_end[c->n - 1] = eol;
			c->p = eol < c->end ? eol + 1 : eol;
			c->line++;
			continue;
		}
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || colon == line)
			return ds_error_set(err, DS_EFORMAT, "'%s' line %d: expected 'Field: value'",
					    name, c->line);
		if (colon - line > DEB_FIELD_NAME_MAX)
			return ds_error_set(err, DS_EFORMAT, "'%s' line %d: field name too long", name,
					    c->line);
		for (char *q = line; q < colon; q++) {
			unsigned char ch = (unsigned char)*q;
			if (ch <= 32 || ch >= 127)
				return ds_error_set(err, DS_EFORMAT,
						    "'%s' line %d: invalid character in field name",
						    name, c->line);
		}
		if (*line == '-')
			return ds_error_set(err, DS_EFORMAT,
					    "'%s' line %d: field name starts with '-'", name,
					    c->line);
		if (c->n == DEB_PARA_FIELDS_MAX)
			return ds_error_set(err, DS_EFORMAT,
					    "'%s' line %d: more than %d fields in a paragraph", name,
					    c->line, DEB_PARA_FIELDS_MAX);
		for (size_t i = 0; i < c->n; i++) {
			if (strlen(c->fields[i].name) == (size_t)(colon - line) &&
			    strncasecmp(c->fields[i].name, line, (size_t)(colon - line)) == 0)
				return ds_error_set(err, DS_EFORMAT,
						    "'%s' line %d: duplicate field '%.*s'", name,
						    c->line, (int)(colon - line), line);
		}
		*colon = '\0';
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		c->fields[c->n].name = line;
		c->fields[c->n].value = v;
		value_end[c->n] = eol;
		c->n++;
		c->p = eol < c->end ? eol + 1 : eol;
		c->line++;
	}
	finish_values(c, value_end);
	return 1;
}

const char *deb_control_get(const deb_control *c, const char *field)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(c->fields[i].name, field) == 0)
			return c->fields[i].value;
	return NULL;
}
