/* A TOML v1.0.0 parser producing a jansson tree (include/dsbuild/toml.h,
 * docs/internals/toml.md).
 *
 * Recursive descent over the bytes, which are checked as UTF-8 first.  Recursion happens only for
 * arrays and inline tables, and every container counts against DS_TOML_MAX_DEPTH, so neither the
 * stack nor the depth of the tree (jansson frees and dumps recursively) depends on the input.
 *
 * The redefinition rules need to know how each table came to be, which a json_t cannot record, so
 * a side table maps each table (and each array of tables) to its kind:
 *   IMPLICIT  created on the way to a header's table ([a.b] creates a); a header may define it
 *   EXPLICIT  defined by a [header], or an element of an array of tables
 *   DOTTED    created by dotted keys (a.b = 1 creates a) in one section; no header may define it,
 *             and only dotted keys of that same section may add to it
 *   INLINE    an inline table: nothing may be added to it
 *   AOT       an array made by [[header]]; arrays without an entry are static
 * Objects without an entry (tagged values, tables inside static arrays) are values, not tables.
 * This follows the spec's examples and, where the spec is silent (dotted keys through a table
 * that only a header path created), Python's tomllib, which reads pyproject.toml for pip. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/toml.h>

#include "util/util.h"

enum kind { K_IMPLICIT = 1, K_EXPLICIT, K_DOTTED, K_INLINE, K_AOT };

struct meta {
	const json_t *v; /* NULL: free slot */
	enum kind kind;
	unsigned section; /* K_DOTTED: the section whose dotted keys made it */
	size_t pos;	  /* where it was defined, for hints */
};

struct part {
	size_t off, len; /* in key.bytes */
	size_t pos;	 /* in the document */
};

struct key {
	ds_buf bytes;
	struct part *parts;
	size_t n, cap;
};

struct parser {
	const char *name;
	const char *s;
	size_t len;
	size_t pos;
	ds_error *err;
	json_t *root;
	json_t *cur;   /* the table of the current section */
	int cur_depth; /* its depth; the root's is 0 */
	unsigned section, nsections;
	size_t nnodes;
	struct meta *map;
	size_t map_cap, map_n;
	ds_buf str; /* scratch for string values */
};

/* ---- errors ---- */

static void line_col(const struct parser *p, size_t pos, size_t *line, size_t *col)
{
	size_t i, start = 0, l = 1, c = 1;

	if (pos > p->len)
		pos = p->len;
	for (i = 0; i < pos; i++) {
		if (p->s[i] == '\n') {
			l++;
			start = i + 1;
		}
	}
	for (i = start; i < pos; i++)
		if (((unsigned char)p->s[i] & 0xC0) != 0x80)
			c++;
	if (start == 0 && pos >= 3 && !memcmp(p->s, "\xEF\xBB\xBF", 3))
		c--; /* editors do not show the byte order mark */
	*line = l;
	*col = c;
}

static size_t line_of(const struct parser *p, size_t pos)
{
	size_t l, c;

	line_col(p, pos, &l, &c);
	return l;
}

__attribute__((format(printf, 4, 5))) static int fail_code(struct parser *p, size_t pos, int code,
							   const char *fmt, ...)
{
	char msg[1200];
	size_t line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line_col(p, pos, &line, &col);
	return ds_error_set(p->err, code, "'%s' line %zu column %zu: %s", p->name, line, col, msg);
}

#define fail(p, pos, ...) fail_code(p, pos, DS_EFORMAT, __VA_ARGS__)
#define hint(p, ...) ds_error_hint((p)->err, __VA_ARGS__)

static int oom(struct parser *p, size_t pos)
{
	return fail_code(p, pos, DS_ENOMEM, "out of memory");
}

/* Byte length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F; /* no surrogates */
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F; /* nothing past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* Describes what is at pos for "expected X, found Y". */
static const char *found(const struct parser *p, size_t pos, char *buf, size_t size)
{
	unsigned char c;

	if (pos >= p->len)
		return "end of file";
	c = (unsigned char)p->s[pos];
	if (c == '\n' || (c == '\r' && pos + 1 < p->len && p->s[pos + 1] == '\n'))
		return "end of line";
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else if (c < 0x80)
		snprintf(buf, size, "U+%04X", c);
	else
		snprintf(buf, size, "'%.*s'",
			 (int)utf8_len((const unsigned char *)p->s + pos, p->len - pos),
			 p->s + pos);
	return buf;
}

#define FOUND(p, pos) found(p, pos, (char[16]){ 0 }, 16)

static int is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Appends one key part to b as it would be written in TOML: bare if it can be, else quoted. */
static void quote_part(ds_buf *b, const char *s, size_t n)
{
	size_t i;
	int bare = n > 0;

	for (i = 0; i < n && bare; i++)
		bare = is_bare((unsigned char)s[i]);
	if (bare) {
		ds_buf_add(b, s, n);
		return;
	}
	ds_buf_addch(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			ds_buf_addf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			ds_buf_addf(b, "\\u%04X", c);
		else
			ds_buf_addch(b, (char)c);
	}
	ds_buf_addch(b, '"');
}

/* The first n parts of k, for messages: at most about 200 bytes, cut at a character boundary. */
static const char *key_str(const struct key *k, size_t n, char *out, size_t size)
{
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	size_t i, len;

	ds_buf_init(&b, 4096);
	for (i = 0; i < n; i++) {
		if (i)
			ds_buf_addch(&b, '.');
		quote_part(&b, k->bytes.data + k->parts[i].off, k->parts[i].len);
		if (b.len > 200)
			break;
	}
	len = b.len;
	if (len > 200) {
		len = 200;
		while (len > 0 && ((unsigned char)b.data[len] & 0xC0) == 0x80)
			len--;
		snprintf(out, size, "%.*s...", (int)len, b.data);
	} else {
		snprintf(out, size, "%s", ds_buf_cstr(&b));
	}
	return out;
}

#define KEY(k, n) key_str(k, n, (char[256]){ 0 }, 256)

static const char *type_desc(const json_t *v)
{
	const char *kind = ds_toml_tag_kind(v);

	if (kind) {
		if (!strcmp(kind, "float"))
			return "a float";
		if (!strcmp(kind, "date-local"))
			return "a date";
		if (!strcmp(kind, "time-local"))
			return "a time";
		return "a date-time";
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an inline table";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a float";
	default: return "a boolean";
	}
}

/* ---- the side table ---- */

static size_t ptr_hash(const void *v)
{
	uint64_t x = (uint64_t)(uintptr_t)v;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (size_t)x;
}

static struct meta *meta_get(const struct parser *p, const json_t *v)
{
	size_t mask, i;

	if (!p->map_cap)
		return NULL;
	mask = p->map_cap - 1;
	for (i = ptr_hash(v) & mask; p->map[i].v; i = (i + 1) & mask)
		if (p->map[i].v == v)
			return &p->map[i];
	return NULL;
}

static void meta_insert(struct meta *map, size_t cap, const struct meta *m)
{
	size_t i;

	for (i = ptr_hash(m->v) & (cap - 1); map[i].v; i = (i + 1) & (cap - 1))
		;
	map[i] = *m;
}

static int meta_add(struct parser *p, const json_t *v, enum kind kind, size_t pos)
{
	struct meta m = { v, kind, p->section, pos };
	size_t i;

	if ((p->map_n + 1) * 2 > p->map_cap) {
		size_t cap = p->map_cap ? p->map_cap * 2 : 64;
		struct meta *map = calloc(cap, sizeof(*map));
		if (!map)
			return oom(p, pos);
		for (i = 0; i < p->map_cap; i++)
			if (p->map[i].v)
				meta_insert(map, cap, &p->map[i]);
		free(p->map);
		p->map = map;
		p->map_cap = cap;
	}
	meta_insert(p->map, p->map_cap, &m);
	p->map_n++;
	return 0;
}

/* ---- values and their limits ---- */

/* Counts jansson values against DS_TOML_MAX_NODES, which bounds the memory a document takes. */
static int count_nodes(struct parser *p, size_t pos, size_t n)
{
	p->nnodes += n;
	if (p->nnodes > DS_TOML_MAX_NODES) {
		fail_code(p, pos, DS_ENOMEM, "more than %d values", DS_TOML_MAX_NODES);
		return hint(p,
			    "dsbuild reads TOML documents of at most %d tables, arrays and values "
			    "(a date counts 3)",
			    DS_TOML_MAX_NODES);
	}
	return 0;
}

static int check_depth(struct parser *p, size_t pos, long depth)
{
	if (depth > DS_TOML_MAX_DEPTH)
		return fail_code(p, pos, DS_ENOMEM,
				 "tables and arrays nested deeper than %d levels",
				 DS_TOML_MAX_DEPTH);
	return 0;
}

/* A new value, or NULL with the error set. */
static json_t *new_value(struct parser *p, size_t pos, json_t *v)
{
	if (count_nodes(p, pos, 1) < 0) {
		json_decref(v);
		return NULL;
	}
	if (!v)
		oom(p, pos);
	return v;
}

static json_t *new_table(struct parser *p, size_t pos, enum kind kind)
{
	json_t *t = new_value(p, pos, json_object());

	if (t && meta_add(p, t, kind, pos) < 0) {
		json_decref(t);
		return NULL;
	}
	return t;
}

static json_t *new_tagged(struct parser *p, size_t pos, const char *kind, const char *text,
			  size_t len)
{
	json_t *o;

	if (count_nodes(p, pos, 2) < 0) /* the two strings; new_value counts the object */
		return NULL;
	o = new_value(p, pos, json_object());
	if (!o)
		return NULL;
	if (json_object_set_new(o, "$toml", json_string(kind)) < 0 ||
	    json_object_set_new(o, "value", json_stringn(text, len)) < 0) {
		json_decref(o);
		oom(p, pos);
		return NULL;
	}
	return o;
}

/* ---- lexing ---- */

static int peek_at(const struct parser *p, size_t off)
{
	return p->pos + off < p->len ? (unsigned char)p->s[p->pos + off] : -1;
}

static int peek(const struct parser *p)
{
	return peek_at(p, 0);
}

static int at_newline(const struct parser *p)
{
	int c = peek(p);

	return c == '\n' || (c == '\r' && peek_at(p, 1) == '\n');
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

static int is_control(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* At '\n' or '\r'. */
static int eat_newline(struct parser *p)
{
	if (p->s[p->pos] == '\n') {
		p->pos++;
		return 0;
	}
	if (p->s[p->pos] == '\r' && peek_at(p, 1) == '\n') {
		p->pos += 2;
		return 0;
	}
	fail(p, p->pos, "carriage return without a line feed");
	return hint(p, "TOML lines end with LF or CRLF");
}

/* At '#': skips the comment, leaving the newline. */
static int skip_comment(struct parser *p)
{
	for (p->pos++; p->pos < p->len; p->pos++) {
		int c = (unsigned char)p->s[p->pos];
		if (c == '\n' || (c == '\r' && peek_at(p, 1) == '\n'))
			return 0;
		if (is_control(c))
			return fail(p, p->pos, "control character U+%04X in a comment", c);
	}
	return 0;
}

/* Whitespace, comments and newlines, as between array elements. */
static int skip_ws_nl(struct parser *p)
{
	for (;;) {
		int c;
		skip_ws(p);
		c = peek(p);
		if (c == '#') {
			if (skip_comment(p) < 0)
				return -1;
		} else if (c == '\n' || c == '\r') {
			if (eat_newline(p) < 0)
				return -1;
		} else {
			return 0;
		}
	}
}

/* The end of an expression: whitespace, maybe a comment, then a newline or the end. */
static int end_line(struct parser *p, const char *after)
{
	skip_ws(p);
	if (peek(p) == '#' && skip_comment(p) < 0)
		return -1;
	if (p->pos >= p->len)
		return 0;
	if (peek(p) == '\n' || peek(p) == '\r')
		return eat_newline(p);
	fail(p, p->pos, "expected the end of the line after %s, found %s", after, FOUND(p, p->pos));
	return hint(p, "each key = value pair and each [table] header goes on a line of its own");
}

/* ---- strings ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int add_utf8(struct parser *p, ds_buf *b, uint32_t cp, size_t pos)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return ds_buf_add(b, u, n) < 0 ? oom(p, pos) : 0;
}

static int add_bytes(struct parser *p, ds_buf *b, const char *s, size_t n)
{
	return ds_buf_add(b, s, n) < 0 ? oom(p, p->pos) : 0;
}

static int bad_escape_hint(struct parser *p)
{
	return hint(p, "the escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX; write a "
		       "backslash as \\\\, or use a 'literal string'");
}

/* At a backslash in a basic string. */
static int parse_escape(struct parser *p, ds_buf *b, int ml)
{
	size_t at = p->pos;
	int c = peek_at(p, 1);
	uint32_t cp = 0;
	int i, n;
	char e;

	switch (c) {
	case 'b': e = '\b'; break;
	case 't': e = '\t'; break;
	case 'n': e = '\n'; break;
	case 'f': e = '\f'; break;
	case 'r': e = '\r'; break;
	case '"': e = '"'; break;
	case '\\': e = '\\'; break;
	case 'u':
	case 'U':
		n = c == 'u' ? 4 : 8;
		for (i = 0; i < n; i++) {
			int h = hexval(peek_at(p, 2 + (size_t)i));
			if (h < 0) {
				fail(p, at, "invalid escape: '\\%c' needs %d hexadecimal digits", c,
				     n);
				return bad_escape_hint(p);
			}
			cp = cp << 4 | (uint32_t)h;
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
			fail(p, at, "invalid escape '\\%c%.*s': not a Unicode scalar value", c, n,
			     p->s + at + 2);
			return hint(p, "escapes name code points U+0000 to U+D7FF and U+E000 to "
				       "U+10FFFF; surrogates and larger values are not characters");
		}
		p->pos += 2 + (size_t)n;
		return add_utf8(p, b, cp, at);
	default:
		if (ml && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
			/* a line-ending backslash: drops whitespace up to the next content */
			p->pos++;
			skip_ws(p);
			if (!(peek(p) == '\n' || peek(p) == '\r')) {
				fail(p, at,
				     "invalid escape: a backslash followed by whitespace must "
				     "end the line");
				return bad_escape_hint(p);
			}
			for (;;) {
				skip_ws(p);
				if (peek(p) != '\n' && peek(p) != '\r')
					return 0;
				if (eat_newline(p) < 0)
					return -1;
			}
		}
		if (c < 0) {
			fail(p, at, "unterminated string: a backslash at the end of the file");
			return hint(p, "close the string with a quote");
		}
		if (c >= 0x20 && c < 0x7f)
			fail(p, at, "invalid escape '\\%c'", c);
		else
			fail(p, at, "invalid escape: a backslash before %s", FOUND(p, at + 1));
		return bad_escape_hint(p);
	}
	p->pos += 2;
	return add_bytes(p, b, &e, 1);
}

static int unterminated(struct parser *p, size_t start, int ml, char q)
{
	fail(p, start, "unterminated string");
	if (ml)
		return hint(p, "close it with %c%c%c", q, q, q);
	return hint(p, "a string in %c quotes ends on its line; use %c%c%c for a multi-line string",
		    q, q, q, q);
}

/* At the opening quote(s) of a string; appends its contents to b.  CRLF in a multi-line
 * string becomes LF. */
static int parse_string(struct parser *p, ds_buf *b, int ml)
{
	size_t start = p->pos;
	char q = p->s[p->pos];
	int basic = q == '"';

	p->pos += ml ? 3 : 1;
	if (ml && at_newline(p))
		p->pos += p->s[p->pos] == '\r' ? 2 : 1;
	for (;;) {
		size_t e;
		int c = peek(p);

		if (c < 0)
			return unterminated(p, start, ml, q);
		if (c == q) {
			size_t n = 1;
			if (!ml) {
				p->pos++;
				return 0;
			}
			while (peek_at(p, n) == q)
				n++;
			if (n >= 3) {
				if (n > 5) {
					fail(p, p->pos,
					     "too many %s in a row at the end of a string",
					     basic ? "quotes" : "apostrophes");
					return hint(
						p, "at most two may come before the closing %c%c%c",
						q, q, q);
				}
				if (add_bytes(p, b, p->s + p->pos, n - 3) < 0)
					return -1;
				p->pos += n;
				return 0;
			}
			if (add_bytes(p, b, p->s + p->pos, n) < 0)
				return -1;
			p->pos += n;
			continue;
		}
		if (c == '\\' && basic) {
			if (parse_escape(p, b, ml) < 0)
				return -1;
			continue;
		}
		if (c == '\n' || c == '\r') {
			if (!ml)
				return unterminated(p, start, ml, q);
			if (eat_newline(p) < 0 || add_bytes(p, b, "\n", 1) < 0)
				return -1;
			continue;
		}
		if (is_control(c)) {
			fail(p, p->pos, "control character U+%04X in a string", c);
			if (basic)
				return hint(p, "write it as the escape \\u%04X", c);
			return hint(p, "use a \"basic string\" with the escape \\u%04X", c);
		}
		for (e = p->pos + 1; e < p->len; e++) {
			c = (unsigned char)p->s[e];
			if (c == q || (c == '\\' && basic) || is_control(c))
				break;
		}
		if (add_bytes(p, b, p->s + p->pos, e - p->pos) < 0)
			return -1;
		p->pos = e;
	}
}

static int at_triple(const struct parser *p)
{
	int q = peek(p);

	return (q == '"' || q == '\'') && peek_at(p, 1) == q && peek_at(p, 2) == q;
}

/* ---- keys ---- */

static void key_release(struct key *k)
{
	ds_buf_release(&k->bytes);
	free(k->parts);
}

#define _cleanup_key_ __attribute__((cleanup(key_release)))

/* A key: simple keys joined by dots, with whitespace around the dots.  what names it in
 * messages ("a key", "a table name"). */
static int parse_key(struct parser *p, struct key *k, const char *what)
{
	if (!k->bytes.data)
		ds_buf_init(&k->bytes, 0);
	k->n = 0;
	ds_buf_reset(&k->bytes);
	for (;;) {
		size_t at, off = k->bytes.len, len;
		int c;

		skip_ws(p);
		at = p->pos;
		c = peek(p);
		if (c == '"' || c == '\'') {
			if (at_triple(p)) {
				fail(p, at, "a multi-line string cannot be a key");
				return hint(p, "quote keys with \"...\" or '...' on one line");
			}
			if (parse_string(p, &k->bytes, 0) < 0)
				return -1;
		} else if (c >= 0 && is_bare(c)) {
			while (p->pos < p->len && is_bare((unsigned char)p->s[p->pos]))
				p->pos++;
			if (add_bytes(p, &k->bytes, p->s + at, p->pos - at) < 0)
				return -1;
		} else {
			fail(p, at, "expected %s, found %s", what, FOUND(p, at));
			if (k->n)
				return hint(p, "a dotted key has a name after every dot");
			if (c == '=')
				return hint(p, "the key is missing before '='");
			if (c >= 0x80 || (c > 0x20 && c < 0x7f && !strchr(".[]{},#", c)))
				return hint(
					p, "bare keys may hold only ASCII letters, digits, '_' and "
					   "'-'; quote other keys: \"...\"");
			return -1;
		}
		len = k->bytes.len - off;
		if (len > DS_TOML_MAX_KEY)
			return fail_code(p, at, DS_ENOMEM, "key longer than %d bytes",
					 DS_TOML_MAX_KEY);
		if (len == 5 && !memcmp(k->bytes.data + off, "$toml", 5)) {
			fail(p, at, "the key '$toml' is reserved");
			return hint(p,
				    "dsbuild marks dates and special floats with a '$toml' member; "
				    "rename the key");
		}
		if (k->n == (size_t)DS_TOML_MAX_DEPTH)
			return fail_code(p, at, DS_ENOMEM, "dotted key of more than %d parts",
					 DS_TOML_MAX_DEPTH);
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 8;
			struct part *parts = realloc(k->parts, cap * sizeof(*parts));
			if (!parts)
				return oom(p, at);
			k->parts = parts;
			k->cap = cap;
		}
		k->parts[k->n++] = (struct part){ off, len, at };
		skip_ws(p);
		if (peek(p) != '.')
			return 0;
		p->pos++;
	}
}

static const char *part_name(const struct key *k, size_t i)
{
	return k->bytes.data + k->parts[i].off;
}

/* ---- tables ---- */

/* Sets key k (relative to table t) to v, creating the tables of a dotted key.  Takes v. */
static int set_keyval(struct parser *p, json_t *t, const struct key *k, json_t *v)
{
	const struct part *last = &k->parts[k->n - 1];
	json_t *old;
	size_t i;

	for (i = 0; i + 1 < k->n; i++) {
		const struct part *pt = &k->parts[i];
		json_t *c = json_object_getn(t, part_name(k, i), pt->len);
		struct meta *m;

		if (!c) {
			c = new_table(p, pt->pos, K_DOTTED);
			if (!c)
				goto fail;
			if (json_object_setn_new_nocheck(t, part_name(k, i), pt->len, c) < 0) {
				oom(p, pt->pos);
				goto fail;
			}
			t = c;
			continue;
		}
		m = meta_get(p, c);
		if (json_is_array(c)) {
			fail(p, pt->pos, "dotted keys cannot add to array '%s'", KEY(k, i + 1));
			if (m)
				hint(p,
				     "'%s' is an array of tables: add keys to an element under its "
				     "[[...]] header",
				     KEY(k, i + 1));
			goto fail;
		}
		if (!m) {
			fail(p, pt->pos, "'%s' is already %s, not a table", KEY(k, i + 1),
			     type_desc(c));
			hint(p, "a key can be set only once");
			goto fail;
		}
		switch (m->kind) {
		case K_INLINE:
			fail(p, pt->pos, "cannot add to inline table '%s'", KEY(k, i + 1));
			hint(p, "an inline table is complete where it is written (line %zu)",
			     line_of(p, m->pos));
			goto fail;
		case K_EXPLICIT:
			fail(p, pt->pos, "dotted keys cannot add to table '%s', which has a header",
			     KEY(k, i + 1));
			hint(p, "put the key in that table's own section (line %zu)",
			     line_of(p, m->pos));
			goto fail;
		case K_DOTTED:
			if (m->section != p->section) {
				fail(p, pt->pos,
				     "dotted keys cannot add to table '%s' from another "
				     "section",
				     KEY(k, i + 1));
				hint(p, "it was created by dotted keys at line %zu",
				     line_of(p, m->pos));
				goto fail;
			}
			break;
		default:
			m->kind = K_DOTTED;
			m->section = p->section;
			m->pos = pt->pos;
			break;
		}
		t = c;
	}
	old = json_object_getn(t, part_name(k, k->n - 1), last->len);
	if (old) {
		struct meta *m = meta_get(p, old);
		fail(p, last->pos, "duplicate key '%s'", KEY(k, k->n));
		if (m)
			hint(p, "'%s' is already %s (line %zu)", KEY(k, k->n),
			     m->kind == K_AOT	   ? "an array of tables"
			     : m->kind == K_INLINE ? "an inline table"
						   : "a table",
			     line_of(p, m->pos));
		else
			hint(p, "a key can be set only once in a table");
		goto fail;
	}
	if (json_object_setn_new_nocheck(t, part_name(k, k->n - 1), last->len, v) < 0)
		return oom(p, last->pos);
	return 0;
fail:
	json_decref(v);
	return -1;
}

/* [k] or [[k]]: finds or creates the table and makes it the current section. */
static int define_table(struct parser *p, const struct key *k, int aot)
{
	json_t *t = p->root;
	long depth = 0;
	size_t i;

	for (i = 0; i < k->n; i++) {
		const struct part *pt = &k->parts[i];
		int last = i + 1 == k->n;
		json_t *v = json_object_getn(t, part_name(k, i), pt->len);
		struct meta *m;

		if (!v) {
			if (check_depth(p, pt->pos, depth + 1 + (last && aot)) < 0)
				return -1;
			if (last && aot) {
				json_t *a = new_value(p, pt->pos, json_array());
				if (!a)
					return -1;
				if (meta_add(p, a, K_AOT, pt->pos) < 0) {
					json_decref(a);
					return -1;
				}
				if (json_object_setn_new_nocheck(t, part_name(k, i), pt->len, a) <
				    0)
					return oom(p, pt->pos);
				v = new_table(p, pt->pos, K_EXPLICIT);
				if (!v)
					return -1;
				if (json_array_append_new(a, v) < 0)
					return oom(p, pt->pos);
				p->cur = v;
				p->cur_depth = (int)depth + 2;
				return 0;
			}
			v = new_table(p, pt->pos, last ? K_EXPLICIT : K_IMPLICIT);
			if (!v)
				return -1;
			if (json_object_setn_new_nocheck(t, part_name(k, i), pt->len, v) < 0)
				return oom(p, pt->pos);
			t = v;
			depth++;
			if (last) {
				p->cur = v;
				p->cur_depth = (int)depth;
			}
			continue;
		}
		m = meta_get(p, v);
		if (json_is_array(v)) {
			if (!m) {
				fail(p, pt->pos, "cannot extend array '%s': it is a static array",
				     KEY(k, i + 1));
				return hint(p,
					    "an array written as key = [...] is complete where it "
					    "is written");
			}
			if (last && !aot) {
				fail(p, pt->pos, "'%s' is an array of tables, not a table",
				     KEY(k, i + 1));
				return hint(p, "[[%s]] adds an element to it", KEY(k, i + 1));
			}
			if (check_depth(p, pt->pos, depth + 2) < 0)
				return -1;
			if (last) {
				json_t *e = new_table(p, pt->pos, K_EXPLICIT);
				if (!e)
					return -1;
				if (json_array_append_new(v, e) < 0)
					return oom(p, pt->pos);
				p->cur = e;
				p->cur_depth = (int)depth + 2;
				return 0;
			}
			t = json_array_get(v, json_array_size(v) - 1);
			depth += 2;
			continue;
		}
		if (!m) {
			fail(p, pt->pos, "'%s' is already %s, not a table", KEY(k, i + 1),
			     type_desc(v));
			return hint(p, "a key can be set only once");
		}
		if (m->kind == K_INLINE) {
			fail(p, pt->pos, "cannot add to inline table '%s'", KEY(k, i + 1));
			return hint(p, "an inline table is complete where it is written (line %zu)",
				    line_of(p, m->pos));
		}
		if (last && aot) {
			fail(p, pt->pos, "'%s' is already a table, not an array of tables",
			     KEY(k, i + 1));
			return hint(p, "it is first defined at line %zu", line_of(p, m->pos));
		}
		if (last && m->kind == K_EXPLICIT) {
			fail(p, pt->pos, "table '%s' is already defined", KEY(k, i + 1));
			return hint(p,
				    "it is defined at line %zu; a table can be defined only once",
				    line_of(p, m->pos));
		}
		if (last && m->kind == K_DOTTED) {
			fail(p, pt->pos, "table '%s' is already defined by dotted keys",
			     KEY(k, i + 1));
			return hint(p,
				    "the dotted key at line %zu creates it; a table created by "
				    "dotted keys cannot have a header",
				    line_of(p, m->pos));
		}
		if (check_depth(p, pt->pos, depth + 1) < 0)
			return -1;
		if (last) {
			m->kind = K_EXPLICIT;
			m->pos = pt->pos;
			p->cur = v;
			p->cur_depth = (int)depth + 1;
			return 0;
		}
		t = v;
		depth++;
	}
	return 0; /* not reached: k has at least one part */
}

/* ---- numbers, booleans, dates ---- */

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A short form of a literal for messages. */
static const char *lit(const char *t, size_t n, char *buf, size_t size)
{
	if (n > 64)
		snprintf(buf, size, "%.60s...", t);
	else
		snprintf(buf, size, "%.*s", (int)n, t);
	return buf;
}

#define LIT(t, n) lit(t, n, (char[80]){ 0 }, 80)

static int underscore_error(struct parser *p, size_t pos, const char *t, size_t n)
{
	fail(p, pos, "misplaced '_' in '%s'", LIT(t, n));
	return hint(p, "an underscore must stand between two digits");
}

/* Digits of the given base with single underscores between them, t[*i] onwards, stopping at
 * the first other character; *ndigits counts them. */
static int digits(struct parser *p, size_t pos, const char *t, size_t n, size_t *i, int base,
		  int *ndigits)
{
	int prev = 0;

	*ndigits = 0;
	for (; *i < n; (*i)++) {
		int c = (unsigned char)t[*i], d;
		if (c == '_') {
			if (!prev || *i + 1 >= n || hexval((unsigned char)t[*i + 1]) < 0 ||
			    hexval((unsigned char)t[*i + 1]) >= base)
				return underscore_error(p, pos, t, n);
			prev = 0;
			continue;
		}
		d = hexval(c);
		if (d < 0 || d >= base || (base == 10 && !is_digit(c)))
			return 0;
		prev = 1;
		(*ndigits)++;
	}
	return 0;
}

static json_t *parse_radix_int(struct parser *p, size_t pos, const char *t, size_t n)
{
	int base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
	const char *what = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
	uint64_t v = 0;
	size_t i = 2, j;
	int nd;

	if (digits(p, pos, t, n, &i, base, &nd) < 0)
		return NULL;
	if (i < n || !nd) {
		if (i < n && t[i] != '_' && is_bare((unsigned char)t[i]) && hexval(t[i]) >= 0)
			fail(p, pos, "invalid digit '%c' in %s integer '%s'", t[i], what,
			     LIT(t, n));
		else
			fail(p, pos, "invalid %s integer '%s'", what, LIT(t, n));
		return NULL;
	}
	for (j = 2; j < n; j++) {
		if (t[j] == '_')
			continue;
		if (v > ((uint64_t)INT64_MAX - (uint64_t)hexval(t[j])) / (uint64_t)base) {
			fail(p, pos, "integer '%s' does not fit in 64 bits", LIT(t, n));
			hint(p, "TOML integers range from -2^63 to 2^63-1");
			return NULL;
		}
		v = v * (uint64_t)base + (uint64_t)hexval(t[j]);
	}
	return new_value(p, pos, json_integer((json_int_t)v));
}

static json_t *parse_dec_int(struct parser *p, size_t pos, const char *t, size_t n)
{
	size_t i = t[0] == '+' || t[0] == '-', j;
	int neg = t[0] == '-';
	uint64_t max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;

	for (j = i; j < n; j++) {
		unsigned d;
		if (t[j] == '_')
			continue;
		d = (unsigned)(t[j] - '0');
		if (v > (max - d) / 10) {
			fail(p, pos, "integer '%s' does not fit in 64 bits", LIT(t, n));
			hint(p, "TOML integers range from -9223372036854775808 to "
				"9223372036854775807");
			return NULL;
		}
		v = v * 10 + d;
	}
	if (neg) /* v is at most 2^63, which only INT64_MIN can hold negated */
		return new_value(p, pos, json_integer(v > INT64_MAX ? INT64_MIN : -(json_int_t)v));
	return new_value(p, pos, json_integer((json_int_t)v));
}

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* A decimal integer or float: [sign] int [. digits] [e [sign] digits]. */
static json_t *parse_decimal(struct parser *p, size_t pos, const char *t, size_t n)
{
	char buf[DS_TOML_MAX_NUMBER + 1], *end;
	size_t i = t[0] == '+' || t[0] == '-', int_start = i, j, k = 0;
	int nd, is_float = 0;
	double d;

	if (digits(p, pos, t, n, &i, 10, &nd) < 0)
		return NULL;
	if (!nd) {
		if (i < n && t[i] == '.') {
			fail(p, pos, "invalid float '%s'", LIT(t, n));
			hint(p, "a decimal point needs digits on both sides: 0.5, not .5");
		} else {
			fail(p, pos, "invalid number '%s'", LIT(t, n));
		}
		return NULL;
	}
	if (t[int_start] == '0' && i - int_start > 1) {
		fail(p, pos, "leading zero in '%s'", LIT(t, n));
		hint(p, "decimal numbers do not start with 0; octal is written 0o755");
		return NULL;
	}
	if (i < n && t[i] == '.') {
		i++;
		is_float = 1;
		if (i < n && t[i] == '_')
			return underscore_error(p, pos, t, n), NULL;
		if (digits(p, pos, t, n, &i, 10, &nd) < 0)
			return NULL;
		if (!nd) {
			fail(p, pos, "invalid float '%s'", LIT(t, n));
			hint(p, "a decimal point needs digits on both sides: 1.0, not 1.");
			return NULL;
		}
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		is_float = 1;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (i < n && t[i] == '_')
			return underscore_error(p, pos, t, n), NULL;
		if (digits(p, pos, t, n, &i, 10, &nd) < 0)
			return NULL;
		if (!nd) {
			fail(p, pos, "invalid float '%s': the exponent has no digits", LIT(t, n));
			return NULL;
		}
	}
	if (i < n) {
		fail(p, pos, "invalid %s '%s'", is_float ? "float" : "number", LIT(t, n));
		if (t[i] == '.' || t[i] == 'e' || t[i] == 'E')
			hint(p, "a float is written like 3.14, 1e6 or 6.626e-34");
		else if (i == 1 && t[0] == '0' && (t[1] == 'X' || t[1] == 'O' || t[1] == 'B'))
			hint(p, "the prefixes are lowercase: 0x, 0o, 0b");
		else if (!is_float && isalpha((unsigned char)t[i]))
			hint(p, "to write a string, quote it: \"%s\"", LIT(t, n));
		return NULL;
	}
	if (!is_float)
		return parse_dec_int(p, pos, t, n);
	for (j = 0; j < n; j++)
		if (t[j] != '_')
			buf[k++] = t[j];
	buf[k] = '\0';
	pthread_once(&c_locale_once, c_locale_init);
	errno = 0;
	d = c_locale ? strtod_l(buf, &end, c_locale) : strtod(buf, &end);
	if (errno == ERANGE && isinf(d)) {
		fail(p, pos, "float '%s' is out of range", LIT(t, n));
		hint(p, "TOML floats are IEEE 754 doubles, up to about 1.8e308");
		return NULL;
	}
	return new_value(p, pos, json_real(d));
}

static int two(const char *t)
{
	return (t[0] - '0') * 10 + (t[1] - '0');
}

static int all_digits(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)t[i]))
			return 0;
	return 1;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* HH:MM:SS[.digits] at t[*i]; returns 0, or -1 with the reason in *why. */
static int parse_time(const char *t, size_t n, size_t *i, const char **why)
{
	const char *s = t + *i;
	size_t left = n - *i, j;

	if (left < 5 || !all_digits(s, 2) || s[2] != ':' || !all_digits(s + 3, 2))
		return *why = "expected HH:MM:SS", -1;
	if (left < 6 || s[5] != ':')
		return *why = "seconds are required (HH:MM:SS)", -1;
	if (left < 8 || !all_digits(s + 6, 2))
		return *why = "expected HH:MM:SS", -1;
	if (two(s) > 23)
		return *why = "the hour is out of range (00 to 23)", -1;
	if (two(s + 3) > 59)
		return *why = "the minute is out of range (00 to 59)", -1;
	if (two(s + 6) > 60)
		return *why = "the second is out of range (00 to 60)", -1;
	j = 8;
	if (j < left && s[j] == '.') {
		j++;
		if (j >= left || !is_digit((unsigned char)s[j]))
			return *why = "a decimal point in the seconds needs digits after it", -1;
		while (j < left && is_digit((unsigned char)s[j]))
			j++;
	}
	*i += j;
	return 0;
}

/* Offset date-time, local date-time, local date or local time. */
static json_t *parse_datetime(struct parser *p, size_t pos, const char *t, size_t n)
{
	char buf[DS_TOML_MAX_NUMBER + 1], day[64];
	const char *why = NULL, *kind;
	size_t i = 0;

	memcpy(buf, t, n);
	buf[n] = '\0';
	if (n >= 3 && (t[1] == ':' || t[2] == ':')) {
		if (parse_time(t, n, &i, &why) < 0)
			goto bad;
		if (i < n) {
			why = t[i] == 'Z' || t[i] == 'z' || t[i] == '+' || t[i] == '-'
				      ? "a time without a date cannot have an offset"
				      : "unexpected characters after the time";
			goto bad;
		}
		return new_tagged(p, pos, "time-local", buf, n);
	}
	if (n < 10 || !all_digits(t, 4) || t[4] != '-' || !all_digits(t + 5, 2) || t[7] != '-' ||
	    !all_digits(t + 8, 2) || (n > 10 && is_digit((unsigned char)t[10]))) {
		why = "expected YYYY-MM-DD";
		goto bad;
	}
	{
		int y = atoi(t), m = two(t + 5), d = two(t + 8);
		if (m < 1 || m > 12) {
			why = "the month is out of range (01 to 12)";
			goto bad;
		}
		if (d < 1 || d > days_in_month(y, m)) {
			snprintf(day, sizeof(day), "%.7s has no day %.2s", t, t + 8);
			why = day;
			goto bad;
		}
	}
	if (n == 10)
		return new_tagged(p, pos, "date-local", buf, n);
	if (t[10] != 'T' && t[10] != 't' && t[10] != ' ') {
		why = "expected 'T' or a space between the date and the time";
		goto bad;
	}
	buf[10] = 'T';
	i = 11;
	if (parse_time(t, n, &i, &why) < 0)
		goto bad;
	kind = "datetime-local";
	if (i < n) {
		kind = "datetime";
		if (t[i] == 'Z' || t[i] == 'z') {
			buf[i] = 'Z';
			i++;
		} else if ((t[i] == '+' || t[i] == '-') && n - i >= 6 && all_digits(t + i + 1, 2) &&
			   t[i + 3] == ':' && all_digits(t + i + 4, 2)) {
			if (two(t + i + 1) > 23 || two(t + i + 4) > 59) {
				why = "the offset is out of range";
				goto bad;
			}
			i += 6;
		} else {
			why = "expected an offset (Z, +HH:MM or -HH:MM) after the time";
			goto bad;
		}
		if (i < n) {
			why = "unexpected characters after the offset";
			goto bad;
		}
	}
	return new_tagged(p, pos, kind, buf, n);
bad:
	fail(p, pos, "invalid date-time '%s': %s", LIT(t, n), why);
	hint(p, "TOML dates and times follow RFC 3339: 1979-05-27T07:32:00Z, "
		"1979-05-27T07:32:00, 1979-05-27, 07:32:00");
	return NULL;
}

static int token_char(int c)
{
	return is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* A value that is not a string, array or inline table: a boolean, number or date. */
static json_t *parse_bare_value(struct parser *p)
{
	size_t pos = p->pos, e = pos, n, i, sgn;
	const char *t = p->s + pos;

	while (e < p->len && token_char((unsigned char)p->s[e]))
		e++;
	/* "1979-05-27 07:32:00": a space may stand between date and time */
	if (e - pos == 10 && t[4] == '-' && t[7] == '-' && e + 3 < p->len && p->s[e] == ' ' &&
	    is_digit((unsigned char)p->s[e + 1]) && is_digit((unsigned char)p->s[e + 2]) &&
	    p->s[e + 3] == ':')
		for (e++; e < p->len && token_char((unsigned char)p->s[e]); e++)
			;
	n = e - pos;
	p->pos = e;
	if (n > DS_TOML_MAX_NUMBER) {
		fail_code(p, pos, DS_ENOMEM, "literal longer than %d characters",
			  DS_TOML_MAX_NUMBER);
		return NULL;
	}
	if (n == 4 && !memcmp(t, "true", 4))
		return new_value(p, pos, json_true());
	if (n == 5 && !memcmp(t, "false", 5))
		return new_value(p, pos, json_false());
	sgn = t[0] == '+' || t[0] == '-';
	if (n == sgn + 3 && (!memcmp(t + sgn, "inf", 3) || !memcmp(t + sgn, "nan", 3))) {
		const char *v = t[sgn] == 'n' ? "nan" : t[0] == '-' ? "-inf" : "inf";
		return new_tagged(p, pos, "float", v, strlen(v));
	}
	if (n == sgn || !(is_digit((unsigned char)t[sgn]) || t[sgn] == '.')) {
		if (n == sgn)
			fail(p, pos, "expected a value, found %s", FOUND(p, pos + n));
		else
			fail(p, pos, "invalid value '%s'", LIT(t, n));
		if ((n == 4 && !strncasecmp(t, "true", 4)) ||
		    (n == 5 && !strncasecmp(t, "false", 5)))
			hint(p, "booleans are lowercase: true, false");
		else if (n == sgn + 3 &&
			 (!strncasecmp(t + sgn, "inf", 3) || !strncasecmp(t + sgn, "nan", 3)))
			hint(p, "the special floats are inf, +inf, -inf, nan, +nan, -nan");
		else if (n)
			hint(p, "to write a string, quote it: \"%s\"", LIT(t, n));
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (t[i] == ':' || t[i] == ' ' ||
		    (t[i] == '-' && i > 0 && t[i - 1] != 'e' && t[i - 1] != 'E'))
			return sgn ? (fail(p, pos, "invalid value '%s'", LIT(t, n)), NULL)
				   : parse_datetime(p, pos, t, n);
	}
	if (n > sgn + 1 && t[sgn] == '0' &&
	    (t[sgn + 1] == 'x' || t[sgn + 1] == 'o' || t[sgn + 1] == 'b')) {
		if (sgn) {
			fail(p, pos, "invalid integer '%s'", LIT(t, n));
			hint(p, "hexadecimal, octal and binary integers cannot have a sign");
			return NULL;
		}
		return parse_radix_int(p, pos, t, n);
	}
	return parse_decimal(p, pos, t, n);
}

/* ---- values ---- */

static int parse_value(struct parser *p, long depth, json_t **out);

/* At '['; depth is the new array's. */
static int parse_array(struct parser *p, long depth, json_t **out)
{
	size_t start = p->pos;
	json_t *a, *v;

	if (check_depth(p, start, depth) < 0)
		return -1;
	a = new_value(p, start, json_array());
	if (!a)
		return -1;
	p->pos++;
	for (;;) {
		if (skip_ws_nl(p) < 0)
			goto fail;
		if (peek(p) == ']')
			break;
		if (peek(p) < 0) {
			fail(p, start, "unterminated array");
			hint(p, "close it with ']'");
			goto fail;
		}
		if (peek(p) == ',') {
			fail(p, p->pos, "expected a value, found ','");
			goto fail;
		}
		if (parse_value(p, depth, &v) < 0)
			goto fail;
		if (json_array_append_new(a, v) < 0) {
			oom(p, p->pos);
			goto fail;
		}
		if (skip_ws_nl(p) < 0)
			goto fail;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == ']')
			break;
		if (peek(p) < 0) {
			fail(p, start, "unterminated array");
			hint(p, "close it with ']'");
		} else {
			fail(p, p->pos, "expected ',' or ']' in the array, found %s",
			     FOUND(p, p->pos));
		}
		goto fail;
	}
	p->pos++;
	*out = a;
	return 0;
fail:
	json_decref(a);
	return -1;
}

static int inline_newline(struct parser *p)
{
	fail(p, p->pos, "newline inside an inline table");
	return hint(p, "an inline table is written on one line; use a [table] section for more");
}

/* At '{'; depth is the new table's. */
static int parse_inline_table(struct parser *p, long depth, json_t **out)
{
	_cleanup_key_ struct key k = { 0 };
	size_t start = p->pos;
	unsigned saved = p->section;
	json_t *t, *v;

	if (check_depth(p, start, depth) < 0)
		return -1;
	t = new_table(p, start, K_INLINE);
	if (!t)
		return -1;
	p->section = ++p->nsections;
	p->pos++;
	skip_ws(p);
	if (peek(p) == '}')
		goto done;
	for (;;) {
		skip_ws(p);
		if (at_newline(p) || peek(p) == '\r') {
			inline_newline(p);
			goto fail;
		}
		if (peek(p) == '}') {
			fail(p, p->pos, "trailing comma in an inline table");
			hint(p, "TOML 1.0 does not allow a comma before '}'");
			goto fail;
		}
		if (parse_key(p, &k, "a key") < 0)
			goto fail;
		if (peek(p) != '=') {
			if (at_newline(p))
				inline_newline(p);
			else
				fail(p, p->pos, "expected '=' after '%s', found %s", KEY(&k, k.n),
				     FOUND(p, p->pos));
			goto fail;
		}
		p->pos++;
		skip_ws(p);
		if (check_depth(p, k.parts[0].pos, depth + (long)k.n - 1) < 0 ||
		    parse_value(p, depth + (long)k.n - 1, &v) < 0)
			goto fail;
		if (set_keyval(p, t, &k, v) < 0)
			goto fail;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == '}')
			break;
		if (peek(p) < 0) {
			fail(p, start, "unterminated inline table");
			hint(p, "close it with '}'");
		} else if (at_newline(p) || peek(p) == '\r') {
			inline_newline(p);
		} else {
			fail(p, p->pos, "expected ',' or '}' in the inline table, found %s",
			     FOUND(p, p->pos));
		}
		goto fail;
	}
done:
	p->pos++;
	p->section = saved;
	*out = t;
	return 0;
fail:
	json_decref(t);
	return -1;
}

/* depth is that of the table or array that will hold the value. */
static int parse_value(struct parser *p, long depth, json_t **out)
{
	int c = peek(p);
	json_t *v;

	if (c == '"' || c == '\'') {
		size_t pos = p->pos;
		ds_buf_reset(&p->str);
		if (parse_string(p, &p->str, at_triple(p)) < 0)
			return -1;
		v = new_value(p, pos, json_stringn_nocheck(p->str.data, p->str.len));
	} else if (c == '[') {
		return parse_array(p, depth + 1, out);
	} else if (c == '{') {
		return parse_inline_table(p, depth + 1, out);
	} else if (c >= 0 && (token_char(c) && c != ':')) {
		v = parse_bare_value(p);
	} else {
		fail(p, p->pos, "expected a value, found %s", FOUND(p, p->pos));
		if (c < 0 || c == '\n' || c == '\r' || c == '#')
			hint(p, "write key = value; an empty string is \"\"");
		return -1;
	}
	if (!v)
		return -1;
	*out = v;
	return 0;
}

/* ---- the document ---- */

static int parse_keyval(struct parser *p)
{
	_cleanup_key_ struct key k = { 0 };
	json_t *v;

	if (parse_key(p, &k, "a key") < 0)
		return -1;
	if (peek(p) != '=') {
		fail(p, p->pos, "expected '=' after '%s', found %s", KEY(&k, k.n),
		     FOUND(p, p->pos));
		if (p->pos >= p->len || at_newline(p))
			return hint(p, "a key and its value go on one line: key = value");
		if (p->pos < p->len && peek(p) >= 0x20)
			return hint(p,
				    "bare keys may hold only ASCII letters, digits, '_' and '-'; "
				    "quote other keys: \"...\"");
		return -1;
	}
	p->pos++;
	skip_ws(p);
	if (check_depth(p, k.parts[0].pos, p->cur_depth + (long)k.n - 1) < 0 ||
	    parse_value(p, p->cur_depth + (long)k.n - 1, &v) < 0)
		return -1;
	return set_keyval(p, p->cur, &k, v);
}

static int parse_header(struct parser *p)
{
	_cleanup_key_ struct key k = { 0 };
	int aot = peek_at(p, 1) == '[';

	p->pos += aot ? 2 : 1;
	if (parse_key(p, &k, "a table name") < 0)
		return -1;
	if (peek(p) != ']') {
		fail(p, p->pos, "expected '%s' after the table name, found %s", aot ? "]]" : "]",
		     FOUND(p, p->pos));
		return hint(p, "a header is [name] or [[name]], alone on its line; quote names "
			       "with other characters: [\"...\"]");
	}
	p->pos++;
	if (aot) {
		if (peek(p) != ']') {
			fail(p, p->pos, "expected ']]' to close the header, found ']' and %s",
			     FOUND(p, p->pos));
			return hint(p, "write [[name]] with no space between the brackets");
		}
		p->pos++;
	}
	p->section = ++p->nsections;
	return define_table(p, &k, aot);
}

static int parse_document(struct parser *p)
{
	if (p->len >= 3 && !memcmp(p->s, "\xEF\xBB\xBF", 3))
		p->pos = 3;
	for (;;) {
		int c;
		skip_ws(p);
		if (p->pos >= p->len)
			return 0;
		c = peek(p);
		if (c == '\n' || c == '\r') {
			if (eat_newline(p) < 0)
				return -1;
		} else if (c == '#') {
			if (skip_comment(p) < 0)
				return -1;
		} else if (c == '[') {
			if (parse_header(p) < 0 || end_line(p, "the header") < 0)
				return -1;
		} else {
			if (parse_keyval(p) < 0 || end_line(p, "the value") < 0)
				return -1;
		}
	}
}

static int check_utf8(struct parser *p)
{
	size_t i = 0;

	while (i < p->len) {
		unsigned char c = (unsigned char)p->s[i];
		size_t n = c < 0x80 ? 1 : utf8_len((const unsigned char *)p->s + i, p->len - i);
		if (!n) {
			fail(p, i, "invalid UTF-8");
			if (p->len >= 2 &&
			    ((unsigned char)p->s[0] == 0xFF || (unsigned char)p->s[0] == 0xFE))
				return hint(p, "the file looks like UTF-16; TOML files are UTF-8");
			return hint(p,
				    "TOML files are UTF-8; convert it, e.g. with iconv -t UTF-8");
		}
		i += n;
	}
	return 0;
}

int ds_toml_parse(json_t **out, const char *name, const char *text, size_t len, ds_error *err)
{
	struct parser p;
	int r;

	memset(&p, 0, sizeof(p));
	p.name = name ? name : "-";
	p.s = text ? text : "";
	p.len = text ? len : 0;
	p.err = err;
	if (p.len > DS_TOML_MAX_SIZE)
		return ds_error_set(err, DS_ENOMEM, "'%s' is larger than the TOML limit of %zu MiB",
				    p.name, DS_TOML_MAX_SIZE >> 20);
	if (check_utf8(&p) < 0)
		return -1;
	ds_buf_init(&p.str, DS_TOML_MAX_SIZE);
	p.root = p.cur = new_table(&p, 0, K_EXPLICIT);
	r = p.root ? parse_document(&p) : -1;
	ds_buf_release(&p.str);
	free(p.map);
	if (r < 0) {
		json_decref(p.root);
		return -1;
	}
	*out = p.root;
	return 0;
}

int ds_toml_parse_file(json_t **out, const char *path, ds_error *err)
{
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;

	ds_buf_init(&b, DS_TOML_MAX_SIZE + 1);
	if (ds_read_file(path, DS_TOML_MAX_SIZE, &b, err) < 0)
		return -1;
	return ds_toml_parse(out, path, b.data, b.len, err);
}

const char *ds_toml_tag_kind(const json_t *v)
{
	json_t *kind, *value;

	if (!json_is_object(v) || json_object_size(v) != 2)
		return NULL;
	kind = json_object_get(v, "$toml");
	value = json_object_get(v, "value");
	if (!json_is_string(kind) || !json_is_string(value))
		return NULL;
	return json_string_value(kind);
}

const char *ds_toml_tagged(const json_t *v, const char *kind)
{
	const char *k = ds_toml_tag_kind(v);

	if (!k || (kind && strcmp(k, kind)))
		return NULL;
	return json_string_value(json_object_get(v, "value"));
}
