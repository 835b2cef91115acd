/* Ignore rules: .dsbuildignore in gitignore(5) syntax, .dockerignore as
 * Docker's moby/patternmatcher reads it.
 *
 * Each pattern compiles to a list of tokens.  Matching runs the tokens over
 * the path as a set of live positions (an NFA simulation, one row per
 * token), so it costs O(tokens x path length) whatever the pattern holds:
 * no backtracking, nothing exponential in the number of '*' or '**'. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "source/ignore.h"
#include "util/util.h"

enum tok_type {
	T_BYTE,  /* one literal byte */
	T_ONE,   /* '?': one character other than '/' */
	T_CLASS, /* '[...]': one character other than '/', in (or not in) a set */
	T_STAR,  /* '*': any run of characters other than '/' */
	T_ANY,   /* trailing '**' (and Docker's leading '**'): anything, '/' included */
	T_DIRS,  /* '**' then '/': nothing, or anything that ends with '/' */
};

struct tok {
	uint8_t type;
	uint8_t byte; /* T_BYTE */
	uint16_t cls; /* T_CLASS: index into rule->cls */
};

struct cls {
	uint32_t first, count; /* rule->ranges[first .. first + count) */
	uint16_t named;        /* git's [:alpha:] and friends, one bit each */
	uint8_t negate;
};

struct rule {
	struct tok *toks;
	size_t n_toks;
	struct cls *cls;
	uint32_t (*ranges)[2];
	uint8_t negate;   /* '!' */
	uint8_t dir_only; /* git: a trailing '/' */
	uint8_t basename; /* git: no '/' in the pattern, so it matches the last component */
	/* The literal bytes the pattern starts and ends with, for a quick
	 * answer before running the tokens: lit[0 .. n_prefix) then
	 * lit[n_prefix .. n_prefix + n_suffix).  n_prefix == n_toks for a
	 * pattern without wildcards. */
	size_t n_prefix, n_suffix;
	uint8_t *lit;
};

struct ds_ignore {
	ds_ignore_syntax syntax;
	struct rule *rules;
	size_t n_rules;
	size_t n_negated;
};

static const struct {
	const char *name;
	int (*fn)(int);
} named_classes[] = {
	{ "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank }, { "cntrl", iscntrl },
	{ "digit", isdigit }, { "graph", isgraph }, { "lower", islower }, { "print", isprint },
	{ "punct", ispunct }, { "space", isspace }, { "upper", isupper }, { "xdigit", isxdigit },
};

/* The length of the character at s and its code point.  Docker (Go) reads
 * UTF-8 and counts an invalid byte as one U+FFFD; git counts bytes. */
static size_t char_len(const char *str, size_t avail, int docker, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len, i;
	uint32_t v, min;

	*cp = s[0];
	if (!docker || s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, v = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, v = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, v = s[0] & 0x07, min = 0x10000;
	else
		goto invalid;
	if (len > avail)
		goto invalid;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto invalid;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto invalid;
	*cp = v;
	return len;
invalid:
	*cp = 0xfffd;
	return 1;
}

/* ---- Parsing ---------------------------------------------------------- */

/* Scratch space for one line, reused for every line of a file. */
struct compiler {
	const char *name;
	size_t line;
	const char *shown; /* the pattern as written, for errors */
	struct tok toks[DS_IGNORE_MAX_LINE];
	struct cls cls[DS_IGNORE_MAX_LINE / 2 + 1];
	uint32_t ranges[DS_IGNORE_MAX_LINE][2];
	size_t n_toks, n_cls, n_ranges;
	char text[DS_IGNORE_MAX_LINE + 1];
	char tmp[DS_IGNORE_MAX_LINE + 2];
	char clean[DS_IGNORE_MAX_LINE + 3];
};

static int bad_pattern(struct compiler *c, ds_error *err, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad_pattern(struct compiler *c, ds_error *err, const char *hint, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ds_error_set(err, DS_EINVAL, "'%s' line %zu: %s in pattern '%s'", c->name, c->line, what,
		     c->shown);
	return ds_error_hint(err, "%s", hint);
}

static int unterminated(struct compiler *c, ds_error *err)
{
	return bad_pattern(c, err, "close the class with ']', or write '\\[' for a literal '['",
			   "unterminated '['");
}

static int bad_range(struct compiler *c, const char *from, const char *to, ds_error *err)
{
	return bad_pattern(c, err, "write a range low to high, as in '[a-z]'",
			   "invalid range '%.*s'", (int)(to - from), from);
}

static void emit(struct compiler *c, enum tok_type type, uint8_t byte)
{
	c->toks[c->n_toks++] = (struct tok){ (uint8_t)type, byte, (uint16_t)c->n_cls };
}

static void add_range(struct compiler *c, uint32_t lo, uint32_t hi)
{
	c->ranges[c->n_ranges][0] = lo;
	c->ranges[c->n_ranges][1] = hi;
	c->n_ranges++;
}

/* git's class: '!' or '^' negates; a ']' first is literal; '-' first or last
 * is literal; '\' escapes; [:name:] as in fnmatch(3). */
static int class_git(struct compiler *c, const char *p, size_t len, size_t *pos, ds_error *err)
{
	struct cls k = { .first = (uint32_t)c->n_ranges };
	size_t i = *pos + 1, start;
	unsigned char lo, hi;

	if (i < len && (p[i] == '!' || p[i] == '^'))
		k.negate = 1, i++;
	for (int first = 1;; first = 0) {
		if (i >= len)
			return unterminated(c, err);
		if (p[i] == ']' && !first) {
			i++;
			break;
		}
		if (p[i] == '[' && i + 1 < len && p[i + 1] == ':') {
			const char *name = p + i + 2;
			const char *end = memchr(name, ']', len - (i + 2));
			if (!end)
				return unterminated(c, err);
			if (end > name && end[-1] == ':') {
				size_t nlen = (size_t)(end - 1 - name), b;
				for (b = 0; b < DS_ARRAY_SIZE(named_classes); b++)
					if (strlen(named_classes[b].name) == nlen &&
					    !memcmp(named_classes[b].name, name, nlen))
						break;
				if (b == DS_ARRAY_SIZE(named_classes))
					return bad_pattern(
						c, err,
						"use one of [:alnum:] [:alpha:] [:blank:] [:cntrl:] "
						"[:digit:] [:graph:] [:lower:] [:print:] [:punct:] "
						"[:space:] [:upper:] [:xdigit:]",
						"unknown character class '[:%.*s:]'", (int)nlen, name);
				k.named |= (uint16_t)(1u << b);
				i = (size_t)(end - p) + 1;
				continue;
			}
		}
		start = i;
		if (p[i] == '\\' && ++i >= len)
			return unterminated(c, err);
		lo = hi = (unsigned char)p[i++];
		if (i + 1 < len && p[i] == '-' && p[i + 1] != ']') {
			i++;
			if (p[i] == '\\' && ++i >= len)
				return unterminated(c, err);
			hi = (unsigned char)p[i++];
			if (hi < lo)
				return bad_range(c, p + start, p + i, err);
		}
		add_range(c, lo, hi);
	}
	k.count = (uint32_t)(c->n_ranges - k.first);
	c->cls[c->n_cls] = k;
	emit(c, T_CLASS, 0);
	c->n_cls++;
	*pos = i;
	return 0;
}

/* One character of a Docker class (Go's filepath.Match getEsc): a bare '-'
 * or ']' is an error, '\' escapes, and something must follow. */
static int class_char_docker(struct compiler *c, const char *p, size_t len, size_t *pos,
			     uint32_t *cp, ds_error *err)
{
	size_t i = *pos;

	if (i >= len)
		return unterminated(c, err);
	if (p[i] == '-' || p[i] == ']')
		return bad_pattern(c, err,
				   "write '\\-' or '\\]' for a literal '-' or ']' inside '[...]'",
				   "unescaped '%c' in a character class", p[i]);
	if (p[i] == '\\' && ++i >= len)
		return unterminated(c, err);
	if ((unsigned char)p[i] >= 0x80) {
		size_t n = char_len(p + i, len - i, 1, cp);
		if (*cp == 0xfffd && n == 1)
			return bad_pattern(c, err, "save the file as UTF-8",
					   "invalid UTF-8 in a character class");
		i += n;
	} else {
		*cp = (unsigned char)p[i++];
	}
	if (i >= len)
		return unterminated(c, err);
	*pos = i;
	return 0;
}

/* Docker's class (Go's syntax): '^' negates, at least one range. */
static int class_docker(struct compiler *c, const char *p, size_t len, size_t *pos,
			ds_error *err)
{
	struct cls k = { .first = (uint32_t)c->n_ranges };
	size_t i = *pos + 1, start;
	uint32_t lo, hi;

	if (i < len && p[i] == '^')
		k.negate = 1, i++;
	for (size_t n = 0;; n++) {
		if (i < len && p[i] == ']' && n > 0) {
			i++;
			break;
		}
		start = i;
		if (class_char_docker(c, p, len, &i, &lo, err) < 0)
			return -1;
		hi = lo;
		if (p[i] == '-') {
			i++;
			if (class_char_docker(c, p, len, &i, &hi, err) < 0)
				return -1;
			if (hi < lo)
				return bad_range(c, p + start, p + i, err);
		}
		add_range(c, lo, hi);
	}
	k.count = (uint32_t)(c->n_ranges - k.first);
	c->cls[c->n_cls] = k;
	emit(c, T_CLASS, 0);
	c->n_cls++;
	*pos = i;
	return 0;
}

static int trailing_backslash(struct compiler *c, ds_error *err)
{
	return bad_pattern(c, err, "write '\\\\' for a literal backslash", "trailing '\\'");
}

/* gitignore(5) / git's wildmatch with WM_PATHNAME: '**' is special only
 * as a whole component ("**" + "/", "/" + "**" + "/", "/" + "**" at the
 * end); elsewhere it is a plain '*'. */
static int compile_git(struct compiler *c, const char *p, size_t len, ds_error *err)
{
	int after_slash = 1; /* at the start, or just after a '/' */
	size_t i = 0, run;

	while (i < len) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '*') {
			for (run = 0; i < len && p[i] == '*'; i++)
				run++;
			if (run >= 2 && after_slash && i == len) {
				emit(c, T_ANY, 0);
			} else if (run >= 2 && after_slash && p[i] == '/') {
				emit(c, T_DIRS, 0);
				i++;
			} else {
				emit(c, T_STAR, 0);
				after_slash = 0;
			}
			continue;
		}
		if (ch == '?') {
			emit(c, T_ONE, 0);
			i++;
		} else if (ch == '[') {
			if (class_git(c, p, len, &i, err) < 0)
				return -1;
		} else {
			if (ch == '\\') {
				if (i + 1 == len)
					return trailing_backslash(c, err);
				ch = (unsigned char)p[++i];
			}
			emit(c, T_BYTE, ch);
			i++;
		}
		after_slash = ch == '/';
	}
	return 0;
}

/* True when no character in p would make patternmatcher use a regexp. */
static int docker_plain(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (strchr("*?\\[]", p[i]))
			return 0;
	return 1;
}

/* moby/patternmatcher's Pattern.compile: '**' eats a following '/' and
 * becomes the regexp "(.*" "/)?" (T_DIRS), or ".*" at the end (T_ANY).  A leading '**' followed by plain
 * text is a suffix match there ("**.txt" matches "a/b.txt"). */
static int compile_docker(struct compiler *c, const char *p, size_t len, ds_error *err)
{
	size_t i = 0;

	while (i < len) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '*' && i + 1 < len && p[i + 1] == '*') {
			int suffix = i == 0 && len > 2 && p[2] != '/' && docker_plain(p + 2, len - 2);
			i += 2;
			if (i < len && p[i] == '/')
				i++;
			emit(c, i == len || suffix ? T_ANY : T_DIRS, 0);
		} else if (ch == '*') {
			emit(c, T_STAR, 0);
			i++;
		} else if (ch == '?') {
			emit(c, T_ONE, 0);
			i++;
		} else if (ch == '[') {
			if (class_docker(c, p, len, &i, err) < 0)
				return -1;
		} else if (ch == '\\') {
			if (i + 1 == len)
				return trailing_backslash(c, err);
			emit(c, T_BYTE, (uint8_t)p[i + 1]);
			i += 2;
		} else {
			emit(c, T_BYTE, ch);
			i++;
		}
	}
	return 0;
}

/* Go's path.Clean, which Docker applies to every pattern: "./a" -> "a",
 * "a//b/" -> "a/b", "a/../b" -> "b".  out holds at least n + 2 bytes. */
static size_t clean_path(const char *s, size_t n, char *out)
{
	int rooted = n > 0 && s[0] == '/';
	size_t r = 0, w = 0, dotdot = 0;

	if (rooted)
		out[w++] = '/', r = 1, dotdot = 1;
	while (r < n) {
		if (s[r] == '/') {
			r++;
		} else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/')) {
			r++;
		} else if (s[r] == '.' && s[r + 1] == '.' && (r + 2 == n || s[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if (w != (size_t)rooted)
				out[w++] = '/';
			while (r < n && s[r] != '/')
				out[w++] = s[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return w;
}

/* git's trim_trailing_spaces(): spaces at the end go unless escaped. */
static size_t git_trim(const char *s, size_t len)
{
	size_t i, last_space = SIZE_MAX;

	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (last_space == SIZE_MAX)
				last_space = i;
			continue;
		}
		if (s[i] == '\\' && ++i == len)
			return len;
		last_space = SIZE_MAX;
	}
	return last_space == SIZE_MAX ? len : last_space;
}

static int is_go_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

/* Go's strings.TrimSpace (ASCII white space). */
static char *trim_space(char *s, size_t *len)
{
	while (*len && is_go_space(s[0]))
		s++, (*len)--;
	while (*len && is_go_space(s[*len - 1]))
		(*len)--;
	s[*len] = '\0';
	return s;
}

/* The pattern Docker ends up with, '!' included: ignorefile.ReadAll trims
 * the line, takes a '!' off, cleans the rest and drops a leading '/', and
 * puts the '!' back; patternmatcher.New trims and cleans that again (so
 * "!/" ends as "!", and "/!a" as "!a").  Returns 1 with the pattern in
 * *out, 0 for a line without one, -1 on error. */
static int docker_pattern(struct compiler *c, char *s, size_t len, const char **out,
			  size_t *out_len, ds_error *err)
{
	char *p = c->tmp;
	size_t n = 0;

	s = trim_space(s, &len);
	c->shown = s;
	if (!len)
		return 0;
	if (s[0] == '!') {
		p[n++] = '!';
		s++, len--;
		s = trim_space(s, &len);
	}
	if (len) {
		len = clean_path(s, len, c->clean);
		s = c->clean;
		if (len > 1 && s[0] == '/')
			s++, len--;
		memcpy(p + n, s, len);
		n += len;
	}
	p[n] = '\0';
	p = trim_space(p, &n);
	if (!n)
		return 0;
	n = clean_path(p, n, c->clean);
	if (c->clean[0] == '!' && n == 1) {
		ds_error_set(err, DS_EINVAL, "'%s' line %zu: '!' without a pattern", c->name,
			     c->line);
		return ds_error_hint(err, "write the path to re-include after the '!', as in "
					  "'!README.md'");
	}
	*out = c->clean;
	*out_len = n;
	return 1;
}

/* Compiles c->text (len bytes) into *r.  Returns 1 for a rule, 0 for a
 * line without one, -1 on error. */
static int parse_line(struct compiler *c, ds_ignore_syntax syntax, size_t len, struct rule *r,
		      ds_error *err)
{
	char *s = c->text;
	int ret;

	memset(r, 0, sizeof(*r));
	c->n_toks = c->n_cls = c->n_ranges = 0;
	if (syntax == DS_IGNORE_GIT) {
		len = git_trim(s, len);
		s[len] = '\0';
		c->shown = s;
		if (len && s[0] == '!')
			r->negate = 1, s++, len--;
		if (len && s[len - 1] == '/')
			r->dir_only = 1, len--;
		r->basename = !memchr(s, '/', len);
		if (!r->basename && s[0] == '/')
			s++, len--;
		if (!len)
			return 0; /* "", "!", "/": git matches nothing with these */
		ret = compile_git(c, s, len, err);
	} else {
		const char *pat = NULL;
		ret = docker_pattern(c, s, len, &pat, &len, err);
		if (ret <= 0)
			return ret;
		r->negate = pat[0] == '!';
		ret = compile_docker(c, pat + r->negate, len - r->negate, err);
	}
	if (ret < 0)
		return -1;
	while (r->n_prefix < c->n_toks && c->toks[r->n_prefix].type == T_BYTE)
		r->n_prefix++;
	while (r->n_prefix + r->n_suffix < c->n_toks &&
	       c->toks[c->n_toks - 1 - r->n_suffix].type == T_BYTE)
		r->n_suffix++;
	r->lit = ds_xmalloc(r->n_prefix + r->n_suffix + 1);
	for (size_t i = 0; i < r->n_prefix; i++)
		r->lit[i] = c->toks[i].byte;
	for (size_t i = 0; i < r->n_suffix; i++)
		r->lit[r->n_prefix + i] = c->toks[c->n_toks - r->n_suffix + i].byte;
	r->n_toks = c->n_toks;
	r->toks = ds_xmalloc(c->n_toks * sizeof(*r->toks));
	memcpy(r->toks, c->toks, c->n_toks * sizeof(*r->toks));
	if (c->n_cls) {
		r->cls = ds_xmalloc(c->n_cls * sizeof(*r->cls));
		memcpy(r->cls, c->cls, c->n_cls * sizeof(*r->cls));
	}
	if (c->n_ranges) {
		r->ranges = ds_xmalloc(c->n_ranges * sizeof(*r->ranges));
		memcpy(r->ranges, c->ranges, c->n_ranges * sizeof(*r->ranges));
	}
	return 1;
}

static void rule_release(struct rule *r)
{
	free(r->toks);
	free(r->cls);
	free(r->ranges);
	free(r->lit);
}

ds_ignore *ds_ignore_free(ds_ignore *ig)
{
	if (!ig)
		return NULL;
	for (size_t i = 0; i < ig->n_rules; i++)
		rule_release(&ig->rules[i]);
	free(ig->rules);
	free(ig);
	return NULL;
}

int ds_ignore_parse(ds_ignore **out, const char *name, const char *text, size_t len,
		    ds_ignore_syntax syntax, ds_error *err)
{
	_cleanup_free_ struct compiler *c = ds_xmalloc(sizeof(*c));
	ds_ignore *ig = ds_xcalloc(1, sizeof(*ig));
	size_t pos = 0, cap = 0;
	struct rule r;

	ig->syntax = syntax;
	c->name = name;
	c->line = 0;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + 1;
		c->line++;
		if (n && s[n - 1] == '\r')
			n--;
		if (n && s[0] == '#')
			continue;
		if (n > DS_IGNORE_MAX_LINE) {
			ds_error_set(err, DS_ENOMEM, "'%s' line %zu: longer than %d bytes", name,
				     c->line, DS_IGNORE_MAX_LINE);
			ds_error_hint(err, "split the pattern, or use '*' and '**' to shorten it");
			goto fail;
		}
		if (memchr(s, '\0', n)) {
			ds_error_set(err, DS_EINVAL, "'%s' line %zu: holds a NUL byte", name,
				     c->line);
			ds_error_hint(err, "an ignore file is text: one pattern per line");
			goto fail;
		}
		memcpy(c->text, s, n);
		c->text[n] = '\0';
		switch (parse_line(c, syntax, n, &r, err)) {
		case -1:
			goto fail;
		case 0:
			continue;
		}
		if (ig->n_rules == DS_IGNORE_MAX_RULES) {
			rule_release(&r);
			ds_error_set(err, DS_ENOMEM, "'%s' line %zu: more than %d rules", name,
				     c->line, DS_IGNORE_MAX_RULES);
			ds_error_hint(err, "ignore whole directories ('build/') or use wildcards "
					   "instead of listing every file");
			goto fail;
		}
		if (ig->n_rules == cap) {
			cap = cap ? 2 * cap : 16;
			ig->rules = ds_xrealloc(ig->rules, cap * sizeof(*ig->rules));
		}
		ig->n_negated += r.negate;
		ig->rules[ig->n_rules++] = r;
	}
	*out = ig;
	return 0;
fail:
	ds_ignore_free(ig);
	return -1;
}

size_t ds_ignore_count(const ds_ignore *ig)
{
	return ig ? ig->n_rules : 0;
}

/* ---- Matching --------------------------------------------------------- */

static int cls_match(const struct rule *r, const struct cls *k, uint32_t ch)
{
	int in = 0;

	for (uint32_t i = 0; i < k->count && !in; i++)
		in = r->ranges[k->first + i][0] <= ch && ch <= r->ranges[k->first + i][1];
	for (size_t b = 0; b < DS_ARRAY_SIZE(named_classes) && !in; b++)
		in = (k->named >> b & 1) && ch < 128 && named_classes[b].fn((int)ch);
	return in != k->negate;
}

/* How many bytes a one-character token consumes at s, or 0. */
static size_t tok_one(const struct rule *r, const struct tok *t, const char *s, size_t avail,
		      int docker)
{
	uint32_t ch;
	size_t n;

	if (t->type == T_BYTE)
		return (unsigned char)s[0] == t->byte;
	/* Docker's classes become regexp classes, which do match '/'. */
	if (s[0] == '/' && !(docker && t->type == T_CLASS))
		return 0;
	n = char_len(s, avail, docker, &ch);
	if (t->type == T_CLASS && !cls_match(r, &r->cls[t->cls], ch))
		return 0;
	return n;
}

/* Moves the live positions of cur (within [*lo, *hi]) over token t into
 * nxt: cur[j] means the tokens so far match s[0..j).  Returns 0 when no
 * position is left alive. */
static int step(const struct rule *r, const struct tok *t, const char *s, size_t n, int docker,
		const uint8_t *cur, uint8_t *nxt, size_t *lo, size_t *hi)
{
	size_t a = *lo, b = n, j, k, nlo = SIZE_MAX, nhi = 0;
	int seen = 0;
	uint32_t ch;

#define LIVE(pos) (nxt[pos] = 1, nlo = (pos) < nlo ? (pos) : nlo, nhi = (pos) > nhi ? (pos) : nhi)
	switch (t->type) {
	case T_BYTE:
	case T_ONE:
	case T_CLASS:
		a = *lo + 1;
		b = *hi + 4 < n ? *hi + 4 : n;
		if (a > n)
			return 0;
		memset(nxt + a, 0, b - a + 1);
		for (j = *lo; j <= *hi && j < n; j++)
			if (cur[j] && (k = tok_one(r, t, s + j, n - j, docker)))
				LIVE(j + k);
		break;
	case T_STAR:
	case T_ANY:
		memset(nxt + a, 0, b - a + 1);
		for (j = *lo; j <= n && (j <= *hi || j <= nhi); j++) {
			if (j <= *hi && cur[j])
				LIVE(j);
			if (nxt[j] && j < n && (t->type == T_ANY || s[j] != '/'))
				LIVE(j + char_len(s + j, n - j, docker, &ch));
		}
		break;
	case T_DIRS:
		memset(nxt + a, 0, b - a + 1);
		for (j = *lo; j <= n; j++) {
			int live = j <= *hi && cur[j];
			if (live || (seen && s[j - 1] == '/'))
				LIVE(j);
			seen |= live;
		}
		break;
	}
#undef LIVE
	if (nlo == SIZE_MAX)
		return 0;
	*lo = nlo;
	*hi = nhi;
	return 1;
}

enum {
	M_EXACT = 1,  /* the pattern matches all of s */
	M_PARENT = 2, /* ... or s up to one of its '/' (a parent directory) */
	M_PREFIX = 4, /* ... or s and then possibly more (so something below) */
};

#define RUN_STACK 1024

static int suffix_at(const struct rule *r, const char *s, size_t end)
{
	const uint8_t *suf = r->lit + r->n_prefix;

	return end >= r->n_suffix && (uint8_t)s[end - 1] == suf[r->n_suffix - 1] &&
	       !memcmp(s + end - r->n_suffix, suf, r->n_suffix);
}

/* The literal start and end of the pattern rule out most paths at once. */
static int quick_reject(const struct rule *r, const char *s, size_t n, unsigned want)
{
	int any;

	if (r->n_prefix && (n < r->n_prefix || (uint8_t)s[0] != r->lit[0] ||
			    memcmp(s, r->lit, r->n_prefix)))
		return 1;
	if (r->n_prefix == r->n_toks)
		return !(((want & M_EXACT) && n == r->n_prefix) ||
			 ((want & M_PARENT) && n > r->n_prefix && s[r->n_prefix] == '/'));
	any = !r->n_suffix || ((want & M_EXACT) && suffix_at(r, s, n));
	for (size_t j = 1; !any && (want & M_PARENT) && j < n; j++)
		any = s[j] == '/' && suffix_at(r, s, j);
	return !any;
}

static int run(const struct rule *r, const char *s, size_t n, int docker, unsigned want)
{
	uint8_t small[2][RUN_STACK];
	uint8_t *heap = NULL, *cur, *nxt, *tmp;
	size_t lo = 0, hi, i = 0, j;
	int found = 0;

	if (!(want & M_PREFIX)) {
		if (quick_reject(r, s, n, want))
			return 0;
		if (r->n_prefix == r->n_toks)
			return 1;
		i = lo = r->n_prefix; /* checked already */
	}
	if (n < RUN_STACK) {
		cur = small[0];
		nxt = small[1];
	} else {
		heap = ds_xmalloc(2 * (n + 1));
		cur = heap;
		nxt = heap + n + 1;
	}
	hi = lo;
	cur[lo] = 1;
	for (;; i++) {
		if ((want & M_PREFIX) && hi == n && cur[n]) {
			found = 1;
			goto out;
		}
		if (i == r->n_toks)
			break;
		if (!step(r, &r->toks[i], s, n, docker, cur, nxt, &lo, &hi))
			goto out;
		tmp = cur, cur = nxt, nxt = tmp;
	}
	if (want & M_EXACT)
		found = hi == n && cur[n];
	for (j = lo ? lo : 1; !found && (want & M_PARENT) && j <= hi && j < n; j++)
		found = cur[j] && s[j] == '/';
out:
	free(heap);
	return found;
}

static ds_ignore_result verdict(const struct rule *r)
{
	return r->negate ? DS_IGNORE_INCLUDE : DS_IGNORE_EXCLUDE;
}

/* git: the last rule that matches s[0..n) itself. */
static ds_ignore_result match_git(const ds_ignore *ig, const char *s, size_t n, int is_dir)
{
	const char *slash = memrchr(s, '/', n);
	size_t base = slash ? (size_t)(slash - s) + 1 : 0;

	for (size_t i = ig->n_rules; i-- > 0;) {
		const struct rule *r = &ig->rules[i];
		if (r->dir_only && !is_dir)
			continue;
		if (r->basename ? run(r, s + base, n - base, 0, M_EXACT) : run(r, s, n, 0, M_EXACT))
			return verdict(r);
	}
	return DS_IGNORE_NONE;
}

ds_ignore_result ds_ignore_match(const ds_ignore *ig, const char *path, int is_dir)
{
	size_t n;

	if (!ig || !path || !*path)
		return DS_IGNORE_NONE;
	n = strlen(path);
	if (ig->syntax == DS_IGNORE_DOCKER) {
		/* patternmatcher's MatchesOrParentMatches: a rule matches the
		 * path or one of its parents; the last matching rule wins. */
		for (size_t i = ig->n_rules; i-- > 0;)
			if (run(&ig->rules[i], path, n, 1, M_EXACT | M_PARENT))
				return verdict(&ig->rules[i]);
		return DS_IGNORE_NONE;
	}
	/* git: nothing below an excluded directory comes back. */
	for (size_t k = 1; k < n; k++)
		if (path[k] == '/' && match_git(ig, path, k, 1) == DS_IGNORE_EXCLUDE)
			return DS_IGNORE_EXCLUDE;
	return match_git(ig, path, n, is_dir);
}

int ds_ignore_may_reinclude(const ds_ignore *ig, const char *dir)
{
	_cleanup_free_ char *s = NULL;
	size_t n;

	if (!ig || !dir || ig->syntax == DS_IGNORE_GIT || !ig->n_negated)
		return 0;
	s = ds_xasprintf("%s/", dir);
	n = strlen(s);
	/* From the last rule back: a '!' rule that could match dir, a parent,
	 * or something below means yes; an exclude rule that matches dir or a
	 * parent covers everything below, so the rules before it cannot
	 * matter. */
	for (size_t i = ig->n_rules; i-- > 0;) {
		const struct rule *r = &ig->rules[i];
		if (r->negate && run(r, s, n, 1, M_PARENT | M_PREFIX))
			return 1;
		if (!r->negate && run(r, s, n, 1, M_PARENT))
			return 0;
	}
	return 0;
}
