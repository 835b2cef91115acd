/* Jupyter notebooks (nbformat 4) into Python scripts for jobs.
 *
 * IPython syntax is recognised where IPython's own input transformers recognise it: at the
 * start of a logical line, so each cell is scanned with a small Python tokenizer that only
 * tracks strings (single- and triple-quoted), brackets, comments and backslash continuations.
 * A magic or shell line is opaque, as in IPython: it ends at its physical line (or its backslash
 * continuations) and is never scanned as Python.  Whatever replaces it is one self-contained
 * line, so the tokenizer's idea of the script always matches Python's. */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include <jansson.h>

#include <dsbuild/notebook.h>

#include "util/util.h"

#define SNIP_MAX 60   /* bytes of a source line quoted in a note */
#define PKGS_MAX 200  /* bytes of package names quoted in a note */
#define MAX_FUTURE 64 /* "from __future__" lines moved to the top, per cell and in all */

typedef struct strv {
	char **v;
	size_t n, alloc;
} strv;

static void strv_push(strv *s, char *str)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 8;
		s->v = ds_xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->n++] = str;
}

static int strv_has(const strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return 1;
	return 0;
}

static void strv_truncate(strv *s, size_t n)
{
	while (s->n > n)
		free(s->v[--s->n]);
}

static void strv_release(strv *s)
{
	strv_truncate(s, 0);
	free(s->v);
	s->v = NULL;
	s->alloc = 0;
}

typedef struct nb_ctx {
	int oom;	/* an output buffer reached DS_NOTEBOOK_MAX_SCRIPT */
	size_t cell;	/* 1-based index of the cell being converted */
	int param_cell; /* it is the parameters cell */
	strv notes;
	size_t notes_dropped; /* past DS_NOTEBOOK_MAX_NOTES */
	strv params;
	int params_over;  /* a parameter past DS_NOTEBOOK_MAX_PARAMS was noted */
	strv cell_future; /* "from __future__" lines of the cell being converted */
	strv future;	  /* of all cells, for the top of the script */
	strv exp_future;  /* of the exported cells, for the top of the module */
} nb_ctx;

/* Output: a failed add marks the context, checked once at the end. */
static void put(nb_ctx *c, ds_buf *b, const char *s, size_t n)
{
	if (!c->oom && ds_buf_add(b, s, n) < 0)
		c->oom = 1;
}

static void puts_(nb_ctx *c, ds_buf *b, const char *s)
{
	put(c, b, s, strlen(s));
}

/* s[0..n) escaped for a Python string literal in double quotes. */
static void put_pyesc(nb_ctx *c, ds_buf *b, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8];
		if (ch >= 0x20 && ch != 0x7f && ch != '\\' && ch != '"')
			continue;
		put(c, b, s + run, i - run);
		run = i + 1;
		if (ch == '\\' || ch == '"')
			snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (ch == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else
			snprintf(esc, sizeof(esc), "\\x%02x", ch);
		puts_(c, b, esc);
	}
	put(c, b, s + run, n - run);
}

/* s[0..n) as a Python string literal. */
static void put_pystr(nb_ctx *c, ds_buf *b, const char *s, size_t n)
{
	put(c, b, "\"", 1);
	put_pyesc(c, b, s, n);
	put(c, b, "\"", 1);
}

/* A source line quoted in a note: at most SNIP_MAX bytes (cut at a character boundary: the
 * text is valid UTF-8, jansson checked it), control characters as '?'.  Freed by the caller. */
static char *snip(const char *s, size_t n, size_t max)
{
	size_t k = n;
	char *r;

	if (k > max) {
		k = max;
		while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
	}
	r = ds_xmalloc(k + 4);
	for (size_t i = 0; i < k; i++) {
		unsigned char ch = (unsigned char)s[i];
		r[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	memcpy(r + k, k < n ? "..." : "", k < n ? 4 : 1);
	return r;
}

static void note(nb_ctx *c, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds "cell N line M: msg" to the notes, or "cell Nmsg" when line is 0 (msg then starts with
 * ": " or " left out: "). */
static void note(nb_ctx *c, size_t line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (c->notes.n >= DS_NOTEBOOK_MAX_NOTES) {
		c->notes_dropped++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (line)
		strv_push(&c->notes, ds_xasprintf("cell %zu line %zu: %s", c->cell, line, msg));
	else
		strv_push(&c->notes, ds_xasprintf("cell %zu%s", c->cell, msg));
	free(msg);
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\f';
}

static int is_ident_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (unsigned char)ch >= 0x80;
}

static int is_ident_char(char ch)
{
	return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

static int is_ascii_ident_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (ch >= '0' && ch <= '9');
}

/* s[0..n) starts with word w followed by a blank or the end. */
static int starts_word(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && memcmp(s, w, k) == 0 && (n == k || is_blank(s[k]));
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_blank(**s))
		(*s)++, (*n)--;
	while (*n > 0 && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* Physical lines of a cell's text (newlines already normalised to '\n'). */
typedef struct cursor {
	const char *p, *end;
	size_t line; /* of the line last returned, 1-based */
} cursor;

static int next_line(cursor *cur, const char **s, size_t *n)
{
	const char *nl;

	if (cur->p >= cur->end)
		return 0;
	nl = memchr(cur->p, '\n', (size_t)(cur->end - cur->p));
	*s = cur->p;
	*n = (size_t)((nl ? nl : cur->end) - cur->p);
	cur->p = nl ? nl + 1 : cur->end;
	cur->line++;
	return 1;
}

/* What the tokenizer carries from one physical line to the next. */
typedef struct py_state {
	int str;      /* 0, 1 (in a single-quoted string), 3 (in a triple-quoted one) */
	char quote;   /* the string's quote character */
	int cont;     /* the line ended with a backslash outside a string */
	size_t depth; /* open brackets */
} py_state;

static int py_clean(const py_state *st)
{
	return !st->str && !st->cont && !st->depth;
}

typedef struct line_info {
	char last;   /* last code character (outside strings and comments), or 0 */
	int ipython; /* calls get_ipython() */
} line_info;

/* Scans one physical line s[0..n) (without its newline) from state st. */
static void scan_line(py_state *st, const char *s, size_t n, line_info *li)
{
	size_t i = 0;

	li->last = 0;
	li->ipython = 0;
	st->cont = 0;
	while (i < n) {
		char ch = s[i];
		if (st->str) {
			if (ch == '\\') {
				if (i + 1 == n)
					return; /* the string goes on on the next line */
				i += 2;
			} else if (ch == st->quote &&
				   (st->str == 1 ||
				    (i + 2 < n && s[i + 1] == ch && s[i + 2] == ch))) {
				i += st->str;
				st->str = 0;
				li->last = ch;
			} else {
				i++;
			}
			continue;
		}
		if (ch == '#')
			break;
		if (ch == '"' || ch == '\'') {
			st->quote = ch;
			st->str = i + 2 < n && s[i + 1] == ch && s[i + 2] == ch ? 3 : 1;
			i += st->str;
			li->last = ch;
			continue;
		}
		if (is_ident_start(ch) && (i == 0 || !is_ident_char(s[i - 1]))) {
			size_t j = i;
			while (j < n && is_ident_char(s[j]))
				j++;
			if (j - i == 11 && memcmp(s + i, "get_ipython", 11) == 0) {
				size_t k = j;
				while (k < n && is_blank(s[k]))
					k++;
				if (k < n && s[k] == '(')
					li->ipython = 1;
			}
			li->last = s[j - 1];
			i = j;
			continue;
		}
		if (ch == '(' || ch == '[' || ch == '{')
			st->depth++;
		else if ((ch == ')' || ch == ']' || ch == '}') && st->depth > 0)
			st->depth--;
		else if (ch == '\\' && i + 1 == n)
			st->cont = 1;
		if (!is_blank(ch))
			li->last = ch;
		i++;
	}
	/* a single-quoted string ends at the end of its line (a syntax error in Python) */
	if (st->str == 1)
		st->str = 0;
}

/* The span of an IPython escape starting at the current line: the line and the ones its
 * trailing backslashes continue onto.  *cmd gets them joined as IPython joins them (each
 * backslash dropped, parts joined with a space, trailing blanks of the last dropped);
 * *span_end is the end of the last line. */
static void gather(nb_ctx *c, cursor *cur, const char *t, size_t n, ds_buf *cmd,
		   const char **span_end)
{
	const char *s = t, *nx;
	size_t nn;

	for (;;) {
		*span_end = s + n;
		if (n == 0 || s[n - 1] != '\\' || !next_line(cur, &nx, &nn))
			break;
		put(c, cmd, s, n - 1);
		put(c, cmd, " ", 1);
		s = nx;
		n = nn;
	}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	put(c, cmd, s, n);
}

/* Comments out the lines in [s, end): the first at indentation ind (with "pass" so that an
 * indented block stays a block), the rest as plain comments. */
static void comment_span(nb_ctx *c, ds_buf *out, const char *ind, size_t il, const char *s,
			 const char *end)
{
	cursor sub = {s, end, 0};
	const char *l;
	size_t n;
	int first = 1;

	while (next_line(&sub, &l, &n)) {
		if (first) {
			put(c, out, ind, il);
			puts_(c, out, il ? "pass  # " : "# ");
			put(c, out, l + il, n - il);
		} else {
			put(c, out, ind, il);
			puts_(c, out, n ? "# " : "#");
			put(c, out, l, n);
		}
		put(c, out, "\n", 1);
		first = 0;
	}
	if (first) { /* an empty span: not reached, a span has its first line */
		put(c, out, ind, il);
		puts_(c, out, il ? "pass\n" : "#\n");
	}
}

/* Comments out a whole cell: every line as "# line". */
static void comment_text(nb_ctx *c, ds_buf *out, const char *text, size_t len)
{
	cursor sub = {text, text + len, 0};
	const char *l;
	size_t n;

	while (next_line(&sub, &l, &n)) {
		puts_(c, out, n ? "# " : "#");
		put(c, out, l, n);
		put(c, out, "\n", 1);
	}
}

/* Shell-like words: blanks separate, quotes group (and are dropped), nothing is expanded. */
typedef struct word {
	const char *s;
	size_t n;
	int quoted;
} word;

#define MAX_WORDS 256

static size_t split_words(const char *s, size_t n, word *w, size_t max)
{
	size_t i = 0, nw = 0;

	while (nw < max) {
		while (i < n && is_blank(s[i]))
			i++;
		if (i >= n)
			break;
		if ((s[i] == '"' || s[i] == '\'') && memchr(s + i + 1, s[i], n - i - 1)) {
			const char *q = memchr(s + i + 1, s[i], n - i - 1);
			w[nw++] = (word){s + i + 1, (size_t)(q - s - i - 1), 1};
			i = (size_t)(q - s) + 1;
			continue;
		}
		w[nw].s = s + i;
		w[nw].quoted = 0;
		while (i < n && !is_blank(s[i]))
			i++;
		w[nw].n = (size_t)(s + i - w[nw].s);
		nw++;
	}
	return nw;
}

static int word_is(const word *w, const char *lit)
{
	return w->n == strlen(lit) && memcmp(w->s, lit, w->n) == 0;
}

/* A word a shell treats specially (&&, ;, |, >, 2>&1 ...): the command ends there for us. */
static int word_is_operator(const word *w)
{
	if (w->quoted)
		return 0;
	for (size_t i = 0; i < w->n; i++)
		if (strchr(";&|<>", w->s[i]))
			return 1;
	return 0;
}

/* "pip", "pip3", "pip3.11", "conda", "mamba", "micromamba", possibly with a directory. */
static int is_installer(const word *w)
{
	const char *s = w->s, *slash;
	size_t n = w->n;

	while ((slash = memchr(s, '/', n)))
		n -= (size_t)(slash + 1 - s), s = slash + 1;
	if (n >= 3 && memcmp(s, "pip", 3) == 0) {
		for (size_t i = 3; i < n; i++)
			if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '.')
				return 0;
		return 1;
	}
	return (n == 5 && memcmp(s, "conda", 5) == 0) || (n == 5 && memcmp(s, "mamba", 5) == 0) ||
	       (n == 10 && memcmp(s, "micromamba", 10) == 0);
}

/* Options of pip and conda install that take the next word as their value. */
static int takes_value(const word *w)
{
	static const char opts[] =
	    " -r --requirement -c --constraint -i --index-url --extra-index-url -f --find-links"
	    " -t --target --prefix --root --src --upgrade-strategy --progress-bar --python"
	    " --channel -n --name -p --platform --python-version --implementation --abi"
	    " --trusted-host --cache-dir --log --proxy --retries --timeout --no-binary"
	    " --only-binary -e --editable ";
	const char *p = opts;

	if (w->n == 0 || memchr(w->s, ' ', w->n))
		return 0;
	while ((p = strstr(p, " ")) && p[1]) {
		p++;
		if (strncmp(p, w->s, w->n) == 0 && p[w->n] == ' ')
			return 1;
	}
	return 0;
}

/* If the command s[0..n) runs pip or conda, returns 1 and sets *install (it installs) and pkgs
 * (the package words after "install", space-separated, at most PKGS_MAX bytes). */
static int installer_command(nb_ctx *c, const char *s, size_t n, int *install, ds_buf *pkgs)
{
	word w[MAX_WORDS];
	size_t nw = split_words(s, n, w, MAX_WORDS), i;

	if (nw == 0)
		return 0;
	if (is_installer(&w[0]))
		i = 1;
	else if (nw >= 3 && word_is(&w[1], "-m") &&
		 (word_is(&w[2], "pip") || word_is(&w[2], "conda")))
		i = 3;
	else
		return 0;
	while (i < nw && w[i].n > 0 && w[i].s[0] == '-' && !w[i].quoted)
		i++;
	*install = i < nw && word_is(&w[i], "install");
	if (!*install)
		return 1;
	for (i++; i < nw && !word_is_operator(&w[i]); i++) {
		if (w[i].n > 0 && w[i].s[0] == '-' && !w[i].quoted) {
			if (takes_value(&w[i]))
				i++;
			continue;
		}
		if (w[i].n == 0)
			continue;
		if (pkgs->len + w[i].n + 1 > PKGS_MAX) {
			puts_(c, pkgs, pkgs->len ? " ..." : "...");
			break;
		}
		if (pkgs->len)
			put(c, pkgs, " ", 1);
		put(c, pkgs, w[i].s, w[i].n);
	}
	return 1;
}

/* Comments out an installer command (cmd is what follows the escape) with its note. */
static void installer_note(nb_ctx *c, size_t line, const char *what, size_t wn, int install,
			   ds_buf *pkgs)
{
	_cleanup_free_ char *sn = snip(what, wn, SNIP_MAX);
	_cleanup_free_ char *pk = NULL;

	if (!install) {
		note(c, line, "'%s' left out: pip and conda do not run in the job", sn);
		return;
	}
	if (pkgs->len == 0) {
		note(c, line, "'%s' left out: list the packages in requirements.txt", sn);
		return;
	}
	pk = snip(pkgs->data, pkgs->len, PKGS_MAX + 8);
	note(c, line, "'%s' left out: list %s in requirements.txt", sn, pk);
}

/* Line magics that only configure the notebook's display or reloading: commented silently. */
static int is_quiet_magic(const char *name, size_t n)
{
	static const char *const quiet[] = {"matplotlib", "load_ext", "config", "autoreload",
					    "reload_ext"};
	for (size_t i = 0; i < DS_ARRAY_SIZE(quiet); i++)
		if (n == strlen(quiet[i]) && memcmp(name, quiet[i], n) == 0)
			return 1;
	return 0;
}

/* The statement of "%timeit [options] statement": options (-n N -r R -p P -t -c -q -o) dropped. */
static void timeit_statement(const char **s, size_t *n)
{
	for (;;) {
		const char *w;
		size_t k = 0;
		trim(s, n);
		if (*n < 2 || (*s)[0] != '-')
			return;
		w = *s;
		while (k < *n && !is_blank(w[k]))
			k++;
		*s += k;
		*n -= k;
		if (k == 2 && (w[1] == 'n' || w[1] == 'r' || w[1] == 'p')) {
			trim(s, n);
			k = 0;
			while (k < *n && !is_blank((*s)[k]))
				k++;
			*s += k;
			*n -= k;
		}
	}
}

/* Emits ind + prefix + stmt as one line if stmt is complete on its own (no string, bracket or
 * continuation left open, which IPython would not have accepted either); returns 0 if not. */
static int emit_statement(nb_ctx *c, ds_buf *out, size_t line, const char *ind, size_t il,
			  const char *prefix, size_t pn, const char *stmt, size_t sn)
{
	py_state st = {0};
	line_info li;

	scan_line(&st, prefix, pn, &li);
	scan_line(&st, stmt, sn, &li);
	if (!py_clean(&st))
		return 0;
	put(c, out, ind, il);
	put(c, out, prefix, pn);
	put(c, out, stmt, sn);
	put(c, out, "\n", 1);
	if (li.ipython)
		note(c, line, "get_ipython() needs IPython: outside Jupyter the call fails");
	return 1;
}

/* A line magic or shell escape at the start of a logical line: t[0] is '%' or '!', ind[0..il)
 * its indentation.  Consumes its continuation lines from cur. */
static void convert_escape(nb_ctx *c, cursor *cur, ds_buf *out, const char *ind, size_t il,
			   const char *t, size_t tn)
{
	_cleanup_buf_ ds_buf cmd = DS_BUF_INIT;
	_cleanup_buf_ ds_buf pkgs = DS_BUF_INIT;
	_cleanup_free_ char *sn = NULL;
	size_t line = cur->line;
	const char *span_end, *s, *name;
	size_t n, nn;
	int install;

	ds_buf_init(&cmd, DS_NOTEBOOK_MAX_SCRIPT);
	ds_buf_init(&pkgs, 0);
	gather(c, cur, t, tn, &cmd, &span_end);
	if (c->oom)
		return;
	sn = snip(cmd.data, cmd.len, SNIP_MAX);

	if (cmd.data[0] == '!') {
		s = cmd.data + (cmd.len > 1 && cmd.data[1] == '!' ? 2 : 1);
		n = cmd.len - (size_t)(s - cmd.data);
		trim(&s, &n);
		if (n == 0) {
			comment_span(c, out, ind, il, ind, span_end);
		} else if (installer_command(c, s, n, &install, &pkgs)) {
			comment_span(c, out, ind, il, ind, span_end);
			installer_note(c, line, cmd.data, cmd.len, install, &pkgs);
		} else {
			put(c, out, ind, il);
			puts_(c, out, "__import__(\"subprocess\").run(");
			put_pystr(c, out, s, n);
			puts_(c, out, ", shell=True, check=True)\n");
			note(c, line, "'%s' runs with /bin/sh: the image needs a shell%s", sn,
			     memchr(s, '$', n) || memchr(s, '{', n)
				 ? " (and {var}, $var are not Python values here)"
				 : "");
		}
		return;
	}

	/* '%' */
	if (cmd.len > 1 && cmd.data[1] == '%') {
		comment_span(c, out, ind, il, ind, span_end);
		note(c, line, "'%s' left out: a cell magic only works on the first line of a cell",
		     sn);
		return;
	}
	name = cmd.data + 1;
	nn = 0;
	while (1 + nn < cmd.len && is_ascii_ident_char(name[nn]))
		nn++;
	s = name + nn;
	n = cmd.len - 1 - nn;
	trim(&s, &n);
	if (is_quiet_magic(name, nn)) {
		comment_span(c, out, ind, il, ind, span_end);
		return;
	}
	if (nn == 4 && memcmp(name, "time", 4) == 0) {
		if (n == 0 || !emit_statement(c, out, line, ind, il, "", 0, s, n)) {
			comment_span(c, out, ind, il, ind, span_end);
			if (n)
				note(c, line, "'%s' left out: the statement is not complete", sn);
		}
		return;
	}
	if (nn == 6 && memcmp(name, "timeit", 6) == 0) {
		timeit_statement(&s, &n);
		if (n && emit_statement(c, out, line, ind, il, "", 0, s, n)) {
			note(c, line, "'%s' runs the statement once, untimed", sn);
		} else {
			comment_span(c, out, ind, il, ind, span_end);
			if (n)
				note(c, line, "'%s' left out: the statement is not complete", sn);
		}
		return;
	}
	if ((nn == 3 && memcmp(name, "pip", 3) == 0) ||
	    (nn == 5 && memcmp(name, "conda", 5) == 0) ||
	    (nn == 5 && memcmp(name, "mamba", 5) == 0)) {
		if (!installer_command(c, name, cmd.len - 1, &install, &pkgs))
			install = 0;
		comment_span(c, out, ind, il, ind, span_end);
		installer_note(c, line, cmd.data, cmd.len, install, &pkgs);
		return;
	}
	comment_span(c, out, ind, il, ind, span_end);
	{
		_cleanup_free_ char *mn = snip(name, nn, SNIP_MAX);
		note(c, line, "'%s' left out: IPython magic '%%%s' does not run in a script", sn,
		     mn);
	}
}

/* "x = !cmd", "a, b = %magic": the offset of the escape character, or 0. */
static size_t assign_escape(const char *t, size_t n)
{
	size_t i = 0;

	if (!is_ident_start(t[0]))
		return 0;
	while (i < n && (is_ident_char(t[i]) || t[i] == '.' || t[i] == ',' || is_blank(t[i])))
		i++;
	if (i >= n || t[i] != '=' || (i + 1 < n && t[i + 1] == '='))
		return 0;
	for (i++; i < n && is_blank(t[i]); i++)
		;
	return i < n && (t[i] == '!' || t[i] == '%') ? i : 0;
}

static void convert_assign_escape(nb_ctx *c, cursor *cur, ds_buf *out, const char *ind, size_t il,
				  const char *t, size_t tn, size_t rhs)
{
	_cleanup_buf_ ds_buf cmd = DS_BUF_INIT;
	_cleanup_free_ char *sn = NULL;
	size_t line = cur->line;
	const char *span_end;

	ds_buf_init(&cmd, DS_NOTEBOOK_MAX_SCRIPT);
	gather(c, cur, t, tn, &cmd, &span_end);
	if (c->oom)
		return;
	sn = snip(cmd.data, cmd.len, SNIP_MAX);
	if (cmd.data[rhs] == '%' && cmd.len > rhs + 5 && memcmp(cmd.data + rhs, "%time", 5) == 0 &&
	    is_blank(cmd.data[rhs + 5])) {
		const char *s = cmd.data + rhs + 5;
		size_t n = cmd.len - rhs - 5;
		trim(&s, &n);
		if (n && emit_statement(c, out, line, ind, il, cmd.data, rhs, s, n))
			return;
	}
	comment_span(c, out, ind, il, ind, span_end);
	if (cmd.data[rhs] == '!')
		note(c, line,
		     "'%s' left out: use subprocess.run(CMD, shell=True, capture_output=True, "
		     "text=True).stdout.splitlines()",
		     sn);
	else
		note(c, line, "'%s' left out: IPython magics do not run in a script", sn);
}

/* "pip install x" without '%' (IPython's automagic): never valid Python. */
static int is_automagic_install(const char *t, size_t n)
{
	static const char *const tools[] = {"pip", "pip3", "conda", "mamba"};

	for (size_t i = 0; i < DS_ARRAY_SIZE(tools); i++) {
		size_t k = strlen(tools[i]);
		if (starts_word(t, n, tools[i])) {
			const char *s = t + k;
			size_t m = n - k;
			trim(&s, &m);
			return starts_word(s, m, "install") || starts_word(s, m, "uninstall");
		}
	}
	return 0;
}

/* "from __future__ import x" */
static int is_future_import(const char *t, size_t n)
{
	const char *s = t;
	size_t m = n;

	if (!starts_word(s, m, "from"))
		return 0;
	s += 4, m -= 4;
	trim(&s, &m);
	if (!starts_word(s, m, "__future__"))
		return 0;
	s += 10, m -= 10;
	trim(&s, &m);
	return starts_word(s, m, "import");
}

/* The value of "NAME = value" starts a literal: a number, string, list, dict, tuple, True,
 * False or None. */
static int is_literal_start(const char *v, size_t n)
{
	size_t p = 0;

	if (n == 0)
		return 0;
	if (v[0] == '-' || v[0] == '+')
		return n > 1 && ((v[1] >= '0' && v[1] <= '9') || v[1] == '.');
	if ((v[0] >= '0' && v[0] <= '9') || v[0] == '"' || v[0] == '\'' || v[0] == '[' ||
	    v[0] == '{' || v[0] == '(')
		return 1;
	if (v[0] == '.')
		return n > 1 && v[1] >= '0' && v[1] <= '9';
	while (p < n && p < 2 && strchr("rRbBuUfF", v[p]))
		p++;
	if (p > 0 && p < n && (v[p] == '"' || v[p] == '\''))
		return 1;
	for (size_t i = 0; i < 3; i++) {
		static const char *const kw[] = {"True", "False", "None"};
		size_t k = strlen(kw[i]);
		if (n >= k && memcmp(v, kw[i], k) == 0 && (n == k || !is_ident_char(v[k])))
			return 1;
	}
	return 0;
}

/* In the parameters cell, a top-level "NAME = literal" (or "NAME: type = literal"). */
static void param_assign(nb_ctx *c, size_t line, const char *t, size_t n)
{
	size_t i = 0, name_len;

	if (!(is_ascii_ident_char(t[0]) && !(t[0] >= '0' && t[0] <= '9')))
		return;
	while (i < n && is_ascii_ident_char(t[i]))
		i++;
	if (i < n && (unsigned char)t[i] >= 0x80)
		return;
	name_len = i;
	while (i < n && is_blank(t[i]))
		i++;
	if (i < n && t[i] == ':') {
		for (i++; i < n && t[i] != '='; i++)
			if (!is_ascii_ident_char(t[i]) && !strchr(".,[]| \t'\"", t[i]))
				return;
	}
	if (i >= n || t[i] != '=' || (i + 1 < n && t[i + 1] == '='))
		return;
	for (i++; i < n && is_blank(t[i]); i++)
		;
	if (!is_literal_start(t + i, n - i))
		return;
	{
		char *name = ds_xstrndup(t, name_len);
		if (strv_has(&c->params, name)) {
			free(name);
		} else if (c->params.n >= DS_NOTEBOOK_MAX_PARAMS) {
			if (!c->params_over)
				note(c, line,
				     "'%s' is not read from the environment: more than %d "
				     "parameters",
				     name, DS_NOTEBOOK_MAX_PARAMS);
			c->params_over = 1;
			free(name);
		} else {
			strv_push(&c->params, name);
		}
	}
}

/* Converts the lines from cur to the end of the cell into out.  Returns 1 if a string, bracket
 * or continuation is still open at the end (the caller then comments the cell out), else 0. */
static int convert_lines(nb_ctx *c, cursor *cur, ds_buf *out)
{
	py_state st = {0};
	const char *s;
	size_t n;

	while (!c->oom && next_line(cur, &s, &n)) {
		size_t line = cur->line, il = 0, tn, rhs;
		const char *t;
		line_info li;
		py_state tmp;

		if (!py_clean(&st)) {
			scan_line(&st, s, n, &li);
			goto keep;
		}
		while (il < n && is_blank(s[il]))
			il++;
		t = s + il;
		tn = n - il;
		while (tn > 0 && is_blank(t[tn - 1]))
			tn--;
		if (tn == 0) {
			li.ipython = 0;
			goto keep;
		}
		if (t[0] == '!' || t[0] == '%') {
			convert_escape(c, cur, out, s, il, t, n - il);
			continue;
		}
		if ((rhs = assign_escape(t, tn))) {
			convert_assign_escape(c, cur, out, s, il, t, n - il, rhs);
			continue;
		}
		if (is_automagic_install(t, tn)) {
			_cleanup_buf_ ds_buf pkgs = DS_BUF_INIT;
			int install;
			ds_buf_init(&pkgs, 0);
			if (!installer_command(c, t, tn, &install, &pkgs))
				install = 0;
			comment_span(c, out, s, il, s, s + n);
			installer_note(c, line, t, tn, install, &pkgs);
			continue;
		}
		tmp = st;
		scan_line(&tmp, s, n, &li);
		if (t[0] == '?' || (py_clean(&tmp) && li.last == '?')) {
			comment_span(c, out, s, il, s, s + n); /* help: obj? ?obj obj?? */
			continue;
		}
		st = tmp;
		if (il == 0 && py_clean(&st) && is_future_import(t, tn) &&
		    c->future.n + c->cell_future.n < MAX_FUTURE) {
			char *fl = ds_xstrndup(t, tn);
			if (!strv_has(&c->cell_future, fl))
				strv_push(&c->cell_future, fl);
			else
				free(fl);
			puts_(c, out, "# moved to the top: ");
			put(c, out, t, tn);
			put(c, out, "\n", 1);
			continue;
		}
		if (il == 0 && c->param_cell)
			param_assign(c, line, t, tn);
	keep:
		if (li.ipython)
			note(c, line,
			     "get_ipython() needs IPython: outside Jupyter the call fails");
		put(c, out, s, n);
		put(c, out, "\n", 1);
	}
	return py_clean(&st) ? 0 : 1;
}

/* "%%writefile [-a|--append] FILE" with the cell's body after the first line. */
static int convert_writefile(nb_ctx *c, ds_buf *out, const char *args, size_t an, const char *body,
			     size_t bn)
{
	word w[MAX_WORDS];
	size_t nw = split_words(args, an, w, MAX_WORDS);
	const word *file = NULL;
	int append = 0;

	for (size_t i = 0; i < nw; i++) {
		if (!w[i].quoted && (word_is(&w[i], "-a") || word_is(&w[i], "--append")))
			append = 1;
		else if (!w[i].quoted && w[i].n > 0 && w[i].s[0] == '-')
			return -1;
		else if (file)
			return -1;
		else
			file = &w[i];
	}
	if (!file || file->n == 0)
		return -1;
	puts_(c, out, "with open(");
	put_pystr(c, out, file->s, file->n);
	puts_(c, out, append ? ", \"a\"" : ", \"w\"");
	puts_(c, out, ", encoding=\"utf-8\") as _ds_f:\n    _ds_f.write(");
	put(c, out, "\"", 1);
	put_pyesc(c, out, body, bn);
	if (bn > 0 && body[bn - 1] != '\n')
		puts_(c, out, "\\n"); /* IPython ends the cell with a newline */
	puts_(c, out, "\")\n");
	return 0;
}

/* Converts one code cell's text into out.  Returns 1 when the cell is to be commented out
 * because something stays open at its end. */
static int convert_cell(nb_ctx *c, const char *text, size_t len, ds_buf *out)
{
	cursor cur = {text, text + len, 0};
	_cleanup_free_ char *sn = NULL;
	const char *s, *t, *name, *args;
	size_t n, tn, nn = 0, an, line0;

	/* IPython drops leading blank lines; then a cell magic is on the first line */
	for (;;) {
		cursor before = cur;
		if (!next_line(&cur, &s, &n))
			return 0;
		t = s;
		tn = n;
		trim(&t, &tn);
		if (tn == 0) {
			put(c, out, "\n", 1);
			continue;
		}
		if (tn < 2 || t[0] != '%' || t[1] != '%')
			return convert_lines(c, &before, out);
		break;
	}
	line0 = cur.line;
	name = t + 2;
	while (nn < tn - 2 && is_ascii_ident_char(name[nn]))
		nn++;
	args = name + nn;
	an = tn - 2 - nn;
	trim(&args, &an);
	sn = snip(t, tn, SNIP_MAX);

	if ((nn == 4 && memcmp(name, "time", 4) == 0) ||
	    (nn == 7 && memcmp(name, "capture", 7) == 0)) {
		if (nn == 7) {
			word w[MAX_WORDS];
			size_t nw = split_words(args, an, w, MAX_WORDS);
			for (size_t i = 0; i < nw; i++) {
				if (w[i].n && w[i].s[0] != '-') {
					_cleanup_free_ char *v = snip(w[i].s, w[i].n, SNIP_MAX);
					note(
					    c, line0,
					    "'%s' dropped: the output is shown and '%s' is not set",
					    sn, v);
					break;
				}
			}
		}
		return convert_lines(c, &cur, out);
	}
	if (nn == 9 && memcmp(name, "writefile", 9) == 0) {
		if (convert_writefile(c, out, args, an, cur.p, (size_t)(cur.end - cur.p)) == 0)
			return 0;
		comment_text(c, out, s, (size_t)(text + len - s));
		note(c, line0, "'%s' cell left out: write it as %%%%writefile [-a] FILE", sn);
		return 0;
	}
	comment_text(c, out, s, (size_t)(text + len - s));
	if ((nn == 4 && memcmp(name, "bash", 4) == 0) || (nn == 2 && memcmp(name, "sh", 2) == 0) ||
	    (nn == 6 && memcmp(name, "script", 6) == 0))
		note(c, line0,
		     "'%s' cell left out: run it as a Procfile process, or from Python with "
		     "subprocess",
		     sn);
	else
		note(c, line0, "'%s' cell left out: IPython cell magics do not run in a script",
		     sn);
	return 0;
}

/* Appends s[0..n) with CRLF and lone CR turned into LF; *cr carries a CR at the end of one
 * piece of an array source over to the next. */
static void put_normalised(nb_ctx *c, ds_buf *b, const char *s, size_t n, int *cr)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && *cr && i == 0) {
			run = 1;
		} else if (s[i] == '\r') {
			put(c, b, s + run, i - run);
			put(c, b, "\n", 1);
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
			run = i + 1;
		}
	}
	put(c, b, s + run, n - run);
	*cr = n > 0 && s[n - 1] == '\r';
}

/* A code cell's source: a string or a list of strings. */
static int cell_source(nb_ctx *c, ds_buf *src, const json_t *cell)
{
	const json_t *v = json_object_get(cell, "source"), *e;
	int cr = 0;
	size_t i;

	if (json_is_string(v)) {
		put_normalised(c, src, json_string_value(v), json_string_length(v), &cr);
		return 0;
	}
	if (!json_is_array(v))
		return -1;
	json_array_foreach (v, i, e) {
		if (!json_is_string(e))
			return -1;
		put_normalised(c, src, json_string_value(e), json_string_length(e), &cr);
	}
	return 0;
}

static int has_tag(const json_t *cell, const char *tag)
{
	const json_t *tags = json_object_get(json_object_get(cell, "metadata"), "tags"), *t;
	size_t i;

	json_array_foreach (tags, i, t) {
		if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0)
			return 1;
	}
	return 0;
}

/* "# export", "#| export", "#|export", "#export" (and nbdev's "exports", "exporti"). */
static int is_export_directive(const char *s, size_t n)
{
	size_t i = 1;

	if (n == 0 || s[0] != '#')
		return 0;
	while (i < n && is_blank(s[i]))
		i++;
	if (i < n && s[i] == '|')
		i++;
	while (i < n && is_blank(s[i]))
		i++;
	if (n - i < 6 || memcmp(s + i, "export", 6) != 0)
		return 0;
	i += 6;
	if (i < n && (s[i] == 's' || s[i] == 'i'))
		i++;
	while (i < n && is_blank(s[i]))
		i++;
	return i == n;
}

/* The first line is an export directive, or one of the "#|" directive lines that lead. */
static int cell_exported(const char *text, size_t len)
{
	cursor cur = {text, text + len, 0};
	const char *s;
	size_t n;

	while (next_line(&cur, &s, &n)) {
		if (is_export_directive(s, n))
			return 1;
		if (n < 2 || s[0] != '#' || s[1] != '|')
			return 0;
	}
	return 0;
}

static int is_python(const char *lang)
{
	if (strncasecmp(lang, "python", 6) != 0)
		return 0;
	for (const char *p = lang + 6; *p; p++)
		if (!(*p >= '0' && *p <= '9') && *p != '.')
			return 0;
	return 1;
}

static const char script_head[] =
    "# Generated by dsbuild from a Jupyter notebook: edit the notebook, not this file.\n";

static const char module_head[] =
    "# Generated by dsbuild from the cells of a Jupyter notebook tagged \"export\".\n";

static const char param_imports[] = "import json as _ds_json\n"
				    "import os as _ds_os\n";

static const char display_def[] = "\n"
				  "try:\n"
				  "    from IPython.display import display\n"
				  "except ImportError:\n"
				  "    display = print\n";

static const char param_def[] =
    "\n"
    "\n"
    "def _ds_param(name, default):\n"
    "    \"\"\"$name, else $NAME, else default; converted to the type of default.\"\"\"\n"
    "    for key in (name, name.upper()):\n"
    "        if key in _ds_os.environ:\n"
    "            value = _ds_os.environ[key]\n"
    "            break\n"
    "    else:\n"
    "        return default\n"
    "    if isinstance(default, bool):\n"
    "        word = value.strip().lower()\n"
    "        if word in (\"1\", \"true\", \"yes\"):\n"
    "            return True\n"
    "        if word in (\"0\", \"false\", \"no\"):\n"
    "            return False\n"
    "        raise SystemExit(\"parameter %r: %r is not a bool (true/false, yes/no, 1/0)\"\n"
    "                         % (name, value))\n"
    "    for kind, article in ((int, \"an\"), (float, \"a\")):\n"
    "        if isinstance(default, kind):\n"
    "            try:\n"
    "                return kind(value)\n"
    "            except ValueError:\n"
    "                raise SystemExit(\"parameter %r: %r is not %s %s\"\n"
    "                                 % (name, value, article, kind.__name__))\n"
    "    if isinstance(default, str):\n"
    "        return value\n"
    "    try:\n"
    "        return _ds_json.loads(value)\n"
    "    except ValueError:\n"
    "        return value\n";

static void add_unique(strv *s, const char *str)
{
	if (!strv_has(s, str))
		strv_push(s, ds_xstrdup(str));
}

ds_notebook *ds_notebook_free(ds_notebook *nb)
{
	if (!nb)
		return NULL;
	free(nb->script);
	free(nb->language);
	for (size_t i = 0; i < nb->n_params; i++)
		free(nb->params[i]);
	free(nb->params);
	for (size_t i = 0; i < nb->n_notes; i++)
		free(nb->notes[i]);
	free(nb->notes);
	free(nb->exported);
	free(nb);
	return NULL;
}

/* The checks before conversion: nbformat 4, a Python kernel, a list of cells. */
static int check_notebook(const char *file, const json_t *root, const char **lang,
			  const json_t **cells, ds_error *err)
{
	const json_t *nbf = json_object_get(root, "nbformat");
	const json_t *meta = json_object_get(root, "metadata");
	_cleanup_free_ char *sn = NULL;

	if (!json_is_integer(nbf)) {
		ds_error_set(err, DS_EINVAL,
			     "'%s' has no nbformat version: re-save it with "
			     "Jupyter 4+",
			     file);
		return ds_error_hint(err, "open it in Jupyter (4 or later) and save it");
	}
	if (json_integer_value(nbf) != 4) {
		ds_error_set(err, DS_EUNSUPPORTED,
			     "'%s' is an nbformat %lld notebook, not 4: re-save it with Jupyter 4+",
			     file, (long long)json_integer_value(nbf));
		return ds_error_hint(err, "open it in Jupyter (4 or later) and save it: Jupyter "
					  "converts the notebook to nbformat 4");
	}
	*lang = json_string_value(json_object_get(json_object_get(meta, "kernelspec"), "language"));
	if (!*lang)
		*lang = json_string_value(
		    json_object_get(json_object_get(meta, "language_info"), "name"));
	if (*lang && !is_python(*lang)) {
		sn = snip(*lang, strlen(*lang), SNIP_MAX);
		ds_error_set(err, DS_EUNSUPPORTED,
			     "'%s' is a '%s' notebook: only Python notebooks run as jobs", file,
			     sn);
		return ds_error_hint(err, "switch its kernel to Python, or leave it out with "
					  ".dsbuildignore");
	}
	*cells = json_object_get(root, "cells");
	if (!json_is_array(*cells))
		return ds_error_set(err, DS_EINVAL, "'%s' has no list of cells", file);
	if (json_array_size(*cells) > DS_NOTEBOOK_MAX_CELLS)
		return ds_error_set(err, DS_ENOMEM, "'%s' has more than %d cells", file,
				    DS_NOTEBOOK_MAX_CELLS);
	return 0;
}

int ds_notebook_convert(ds_notebook **out, const char *file, const char *data, size_t len,
			ds_error *err)
{
	nb_ctx c = {0};
	_cleanup_json_ json_t *root = NULL;
	_cleanup_buf_ ds_buf body = DS_BUF_INIT;
	_cleanup_buf_ ds_buf exp = DS_BUF_INIT;
	_cleanup_buf_ ds_buf src = DS_BUF_INIT;
	_cleanup_buf_ ds_buf cellout = DS_BUF_INIT;
	_cleanup_buf_ ds_buf script = DS_BUF_INIT;
	_cleanup_buf_ ds_buf module = DS_BUF_INIT;
	const json_t *cells = NULL;
	const char *lang = NULL;
	size_t n_code = 0, param_cell = 0, n_exported = 0;
	json_error_t je;
	ds_notebook *nb;
	int rc = -1;

	if (!file)
		file = "notebook";
	if (!data)
		data = "";
	if (len > DS_NOTEBOOK_MAX_SIZE)
		return ds_error_set(err, DS_ENOMEM, "'%s' is larger than %zu MiB", file,
				    DS_NOTEBOOK_MAX_SIZE >> 20);
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		data += 3, len -= 3;
	root = json_loadb(data, len, 0, &je);
	if (!root) {
		_cleanup_free_ char *text = snip(je.text, strnlen(je.text, sizeof(je.text)), 160);
		ds_error_set(err, DS_EINVAL, "'%s' is not a valid notebook: line %d column %d: %s",
			     file, je.line, je.column, text);
		return ds_error_hint(err, "a notebook is JSON: fix it there, or open it in Jupyter "
					  "and save it again");
	}
	if (!json_is_object(root))
		return ds_error_set(err, DS_EINVAL, "'%s' is not a notebook: not a JSON object",
				    file);
	if (check_notebook(file, root, &lang, &cells, err) < 0)
		return -1;

	ds_buf_init(&body, DS_NOTEBOOK_MAX_SCRIPT);
	ds_buf_init(&exp, DS_NOTEBOOK_MAX_SCRIPT);
	ds_buf_init(&src, DS_NOTEBOOK_MAX_SCRIPT);
	ds_buf_init(&cellout, DS_NOTEBOOK_MAX_SCRIPT);
	for (size_t i = 0; i < json_array_size(cells) && !c.oom; i++) {
		const json_t *cell = json_array_get(cells, i);
		const char *type = json_string_value(json_object_get(cell, "cell_type"));
		size_t notes0 = c.notes.n, dropped0 = c.notes_dropped, params0 = c.params.n;
		int exported, is_param;
		char hdr[64];

		c.cell = i + 1;
		if (!json_is_object(cell)) {
			ds_error_set(err, DS_EINVAL, "'%s' cell %zu is not a JSON object", file,
				     c.cell);
			goto out;
		}
		if (!type) {
			ds_error_set(err, DS_EINVAL, "'%s' cell %zu has no cell_type", file,
				     c.cell);
			goto out;
		}
		if (strcmp(type, "code") != 0) {
			if (strcmp(type, "markdown") != 0 && strcmp(type, "raw") != 0) {
				_cleanup_free_ char *sn = snip(type, strlen(type), SNIP_MAX);
				note(&c, 0, " left out: unknown cell type '%s'", sn);
			}
			continue;
		}
		n_code++;
		ds_buf_reset(&src);
		if (cell_source(&c, &src, cell) < 0) {
			ds_error_set(err, DS_EINVAL,
				     "'%s' cell %zu: 'source' is not a string or a list of strings",
				     file, c.cell);
			goto out;
		}
		exported = has_tag(cell, "export") || cell_exported(src.data, src.len);
		is_param = !param_cell && has_tag(cell, "parameters");
		ds_buf_reset(&cellout);
		if (has_tag(cell, "injected-parameters")) {
			comment_text(&c, &cellout, src.data, src.len);
			note(&c, 0,
			     " left out: papermill's injected parameters would override the "
			     "environment's");
		} else {
			if (!is_param && param_cell && has_tag(cell, "parameters"))
				note(&c, 0,
				     ": also tagged 'parameters', but only cell %zu's values come "
				     "from the "
				     "environment",
				     param_cell);
			c.param_cell = is_param;
			if (convert_cell(&c, src.data, src.len, &cellout) != 0) {
				strv_truncate(&c.notes, notes0);
				c.notes_dropped = dropped0;
				strv_truncate(&c.params, params0);
				strv_truncate(&c.cell_future, 0);
				ds_buf_reset(&cellout);
				comment_text(&c, &cellout, src.data, src.len);
				note(&c, 0,
				     " left out: a string, bracket or backslash continuation is "
				     "still "
				     "open at its end");
			}
			c.param_cell = 0;
		}
		if (is_param)
			param_cell = c.cell;
		snprintf(hdr, sizeof(hdr), "\n# cell %zu\n", c.cell);
		puts_(&c, &body, hdr);
		put(&c, &body, cellout.data, cellout.len);
		if (is_param && c.params.n > 0) {
			puts_(&c, &body, "# parameters: from the environment when set\n");
			for (size_t k = 0; k < c.params.n; k++) {
				puts_(&c, &body, c.params.v[k]);
				puts_(&c, &body, " = _ds_param(\"");
				puts_(&c, &body, c.params.v[k]);
				puts_(&c, &body, "\", ");
				puts_(&c, &body, c.params.v[k]);
				puts_(&c, &body, ")\n");
			}
		}
		for (size_t k = 0; k < c.cell_future.n; k++) {
			add_unique(&c.future, c.cell_future.v[k]);
			if (exported)
				add_unique(&c.exp_future, c.cell_future.v[k]);
		}
		strv_truncate(&c.cell_future, 0);
		if (exported) {
			n_exported++;
			puts_(&c, &exp, hdr);
			put(&c, &exp, cellout.data, cellout.len);
		}
	}

	ds_buf_init(&script, DS_NOTEBOOK_MAX_SCRIPT);
	puts_(&c, &script, script_head);
	for (size_t k = 0; k < c.future.n; k++) {
		puts_(&c, &script, c.future.v[k]);
		puts_(&c, &script, "\n");
	}
	if (c.params.n)
		puts_(&c, &script, param_imports);
	puts_(&c, &script, display_def);
	if (c.params.n)
		puts_(&c, &script, param_def);
	put(&c, &script, body.data, body.len);
	if (n_exported) {
		ds_buf_init(&module, DS_NOTEBOOK_MAX_SCRIPT);
		puts_(&c, &module, module_head);
		for (size_t k = 0; k < c.exp_future.n; k++) {
			puts_(&c, &module, c.exp_future.v[k]);
			puts_(&c, &module, "\n");
		}
		put(&c, &module, exp.data, exp.len);
	}
	if (c.oom) {
		ds_error_set(err, DS_ENOMEM, "'%s': the script would be larger than %zu MiB", file,
			     DS_NOTEBOOK_MAX_SCRIPT >> 20);
		goto out;
	}
	if (c.notes_dropped)
		strv_push(&c.notes, ds_xasprintf("%zu more notes left out", c.notes_dropped));

	nb = ds_xcalloc(1, sizeof(*nb));
	nb->script = ds_buf_detach(&script, NULL);
	nb->n_cells = json_array_size(cells);
	nb->n_code_cells = n_code;
	nb->language = lang ? ds_xstrdup(lang) : NULL;
	nb->params = TAKE_PTR(c.params.v);
	nb->n_params = c.params.n;
	c.params.n = 0;
	nb->notes = TAKE_PTR(c.notes.v);
	nb->n_notes = c.notes.n;
	c.notes.n = 0;
	nb->exported = n_exported ? ds_buf_detach(&module, NULL) : NULL;
	*out = nb;
	rc = 0;
out:
	strv_release(&c.notes);
	strv_release(&c.params);
	strv_release(&c.cell_future);
	strv_release(&c.future);
	strv_release(&c.exp_future);
	return rc;
}
