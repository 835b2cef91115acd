/* PEP 508 environment markers: parser, evaluator, and the environment of
 * a target interpreter.
 *
 * Tokens follow packaging's tokenizer: whitespace is space and tab,
 * strings are '...' or "..." without escapes, the keywords and variable
 * names must stand alone (\b on both sides).  'and' binds tighter than
 * 'or'; both are kept as n-ary nodes so a long chain does not make a deep
 * tree (only parentheses nest, and they are bounded). */
#include <stdio.h>
#include <string.h>

#include <dsbuild/python.h>

#include "python/pyutil.h"
#include "util/util.h"

enum { N_CMP = 1, N_AND, N_OR };

enum {
	OP_EQ = 1, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_COMPAT, OP_ARB, OP_IN, OP_NOT_IN,
};

static const char *const op_names[] = {
	"", "==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in",
};

/* Canonical variable names, in ds_pyenv order. */
static const char *const var_names[] = {
	"python_version",      "python_full_version",
	"implementation_name", "implementation_version",
	"platform_python_implementation",
	"os_name",             "sys_platform",
	"platform_system",     "platform_machine",
	"platform_release",    "platform_version",
	"extra",
};
#define VAR_EXTRA 11

typedef struct pm_node {
	int kind;
	int paren;
	/* N_CMP: var >= 0 names the variable on that side, else text is a literal */
	int lvar, rvar;
	char *ltext, *rtext;
	int op;
	/* N_AND / N_OR */
	size_t n;
	struct pm_node **kids;
} pm_node;

struct ds_pymarker {
	pm_node *root;
};

static void node_free(pm_node *n)
{
	if (!n)
		return;
	free(n->ltext);
	free(n->rtext);
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n);
}

ds_pymarker *ds_pymarker_free(ds_pymarker *m)
{
	if (m) {
		node_free(m->root);
		free(m);
	}
	return NULL;
}

/* ---- the environment ------------------------------------------------------- */

static char *env_field(ds_pyenv *env, int var)
{
	switch (var) {
	case 0: return env->python_version;
	case 1: return env->python_full_version;
	case 2: return env->implementation_name;
	case 3: return env->implementation_version;
	case 4: return env->platform_python_implementation;
	case 5: return env->os_name;
	case 6: return env->sys_platform;
	case 7: return env->platform_system;
	case 8: return env->platform_machine;
	case 9: return env->platform_release;
	case 10: return env->platform_version;
	case 11: return env->extra;
	}
	return NULL;
}

/* The variable a name denotes (with packaging's legacy spellings), or -1. */
static int var_lookup(const char *s, size_t n)
{
	static const struct {
		const char *name;
		int var;
	} aliases[] = {
		{ "os.name", 5 },
		{ "sys.platform", 6 },
		{ "platform.version", 10 },
		{ "platform.machine", 8 },
		{ "platform.python_implementation", 4 },
		{ "python_implementation", 4 },
	};

	for (int i = 0; i < (int)DS_ARRAY_SIZE(var_names); i++)
		if (strlen(var_names[i]) == n && memcmp(var_names[i], s, n) == 0)
			return i;
	for (size_t i = 0; i < DS_ARRAY_SIZE(aliases); i++)
		if (strlen(aliases[i].name) == n && memcmp(aliases[i].name, s, n) == 0)
			return aliases[i].var;
	return -1;
}

int ds_pyenv_set(ds_pyenv *env, const char *name, const char *value, ds_error *err)
{
	int var = var_lookup(name, strlen(name));
	size_t n = strlen(value);

	if (var < 0)
		return ds_error_set(err, DS_EINVAL, "unknown marker variable '%s'", name);
	if (n >= DS_PYENV_VALUE_MAX)
		return ds_error_set(err, DS_EINVAL, "value of '%s' longer than %d bytes", name,
				    DS_PYENV_VALUE_MAX - 1);
	memcpy(env_field(env, var), value, n + 1);
	return 0;
}

const char *ds_pyenv_get(const ds_pyenv *env, const char *name)
{
	int var = var_lookup(name, strlen(name));

	return var < 0 ? NULL : env_field((ds_pyenv *)env, var);
}

int ds_pyplatform_machine(const char **out, const char *platform, ds_error *err)
{
	static const struct {
		const char *platform, *machine;
	} map[] = {
		{ "linux/amd64", "x86_64" },     { "linux/arm64", "aarch64" },
		{ "linux/arm64/v8", "aarch64" }, { "linux/arm/v7", "armv7l" },
		{ "linux/arm", "armv7l" },       { "linux/arm/v6", "armv6l" },
		{ "linux/arm/v5", "armv5tel" },  { "linux/386", "i686" },
		{ "linux/ppc64le", "ppc64le" },  { "linux/ppc64", "ppc64" },
		{ "linux/s390x", "s390x" },      { "linux/riscv64", "riscv64" },
		{ "linux/mips64le", "mips64" },  { "linux/loong64", "loongarch64" },
	};
	static const char *const machines[] = {
		"x86_64", "aarch64", "armv7l", "armv6l", "armv5tel", "i686", "ppc64le", "ppc64",
		"s390x",  "riscv64", "mips64", "loongarch64",
	};

	if (!platform)
		platform = "linux/amd64";
	for (size_t i = 0; i < DS_ARRAY_SIZE(map); i++)
		if (strcmp(map[i].platform, platform) == 0) {
			*out = map[i].machine;
			return 0;
		}
	for (size_t i = 0; i < DS_ARRAY_SIZE(machines); i++)
		if (strcmp(machines[i], platform) == 0) {
			*out = machines[i];
			return 0;
		}
	if (strncmp(platform, "linux/", 6) != 0 && strchr(platform, '/'))
		return ds_error_set(err, DS_EUNSUPPORTED,
				    "platform '%s' is not supported: Python wheels are chosen for "
				    "linux targets only",
				    platform);
	return ds_error_set(err, DS_EUNSUPPORTED, "unknown platform '%s'", platform);
}

/* "3.11" -> 3, 11; "3.11.2rc1" accepted as a full version. */
static int python_parts(const char *v, int full, unsigned *major, unsigned *minor)
{
	char *e;
	unsigned long a, b;

	if (!py_isdigit((unsigned char)v[0]))
		return -1;
	a = strtoul(v, &e, 10);
	if (*e != '.' || !py_isdigit((unsigned char)e[1]))
		return -1;
	b = strtoul(e + 1, &e, 10);
	if (a > 99 || b > 999)
		return -1;
	if (*e && !full)
		return -1;
	if (*e && !ds_pyver_valid(v))
		return -1;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return 0;
}

int ds_pyenv_for_target(ds_pyenv *env, const char *python_version, const char *full_version,
			const char *platform, ds_error *err)
{
	ds_pyenv e;
	unsigned ma, mi, fma, fmi;
	const char *machine, *rc;

	if (!python_version && !full_version)
		return ds_error_set(err, DS_EINVAL, "no Python version given for the target");
	if (python_version && python_parts(python_version, 0, &ma, &mi) < 0)
		return ds_error_set(err, DS_EINVAL, "invalid Python version '%s': expected 'X.Y'",
				    python_version);
	if (full_version && (python_parts(full_version, 1, &fma, &fmi) < 0 ||
			     strlen(full_version) >= DS_PYENV_VALUE_MAX))
		return ds_error_set(err, DS_EINVAL,
				    "invalid Python version '%s': expected 'X.Y.Z'", full_version);
	if (python_version && full_version && (ma != fma || mi != fmi))
		return ds_error_set(err, DS_EINVAL, "Python version '%s' does not match '%s'",
				    python_version, full_version);
	if (!python_version) {
		ma = fma;
		mi = fmi;
	}
	if (ds_pyplatform_machine(&machine, platform, err) < 0)
		return -1;

	memset(&e, 0, sizeof(e));
	snprintf(e.python_version, sizeof(e.python_version), "%u.%u", ma, mi);
	snprintf(e.python_full_version, sizeof(e.python_full_version), "%s",
		 full_version ? full_version : e.python_version);
	snprintf(e.implementation_name, sizeof(e.implementation_name), "cpython");
	/* sys.implementation.version is printed with the release level's first
	 * letter: 3.12.0rc1 -> 3.12.0c1. */
	rc = strstr(e.python_full_version, "rc");
	if (rc)
		snprintf(e.implementation_version, sizeof(e.implementation_version), "%.*s%s",
			 (int)(rc - e.python_full_version), e.python_full_version, rc + 1);
	else
		snprintf(e.implementation_version, sizeof(e.implementation_version), "%s",
			 e.python_full_version);
	snprintf(e.platform_python_implementation, sizeof(e.platform_python_implementation),
		 "CPython");
	snprintf(e.os_name, sizeof(e.os_name), "posix");
	snprintf(e.sys_platform, sizeof(e.sys_platform), "linux");
	snprintf(e.platform_system, sizeof(e.platform_system), "Linux");
	snprintf(e.platform_machine, sizeof(e.platform_machine), "%s", machine);
	*env = e;
	return 0;
}

/* ---- parsing ------------------------------------------------------------------ */

typedef struct pm_parser {
	const char *s;
	size_t n, i;
	int depth;
	ds_error *err;
	int failed;
} pm_parser;

static int is_word(int c)
{
	return py_isalnum(c) || c == '_';
}

static void skip_ws(pm_parser *p)
{
	while (p->i < p->n && py_iswsp((unsigned char)p->s[p->i]))
		p->i++;
}

static int fail(pm_parser *p, const char *what)
{
	char shown[240], at[64];

	if (p->failed)
		return -1;
	p->failed = 1;
	py_quote(shown, sizeof(shown), p->s, p->n);
	if (p->i >= p->n)
		return ds_error_set(p->err, DS_EINVAL, "invalid marker '%s': %s at the end", shown,
				    what);
	py_quote(at, sizeof(at), p->s + p->i, p->n - p->i);
	return ds_error_set(p->err, DS_EINVAL, "invalid marker '%s': %s at '%s'", shown, what, at);
}

/* A keyword standing alone at the current position. */
static int keyword(pm_parser *p, const char *kw)
{
	size_t l = strlen(kw);

	if (p->n - p->i < l || memcmp(p->s + p->i, kw, l) != 0)
		return 0;
	if (p->i > 0 && is_word((unsigned char)p->s[p->i - 1]))
		return 0;
	if (p->i + l < p->n && is_word((unsigned char)p->s[p->i + l]))
		return 0;
	return 1;
}

/* variable or quoted string: *var >= 0 or *text malloc'd. */
static int parse_var(pm_parser *p, int *var, char **text)
{
	size_t j = p->i;
	char q;

	*var = -1;
	*text = NULL;
	if (p->i < p->n && (p->s[p->i] == '\'' || p->s[p->i] == '"')) {
		const char *e;
		q = p->s[p->i];
		e = memchr(p->s + p->i + 1, q, p->n - p->i - 1);
		if (!e)
			return fail(p, "unterminated string");
		if (memchr(p->s + p->i + 1, '\0', (size_t)(e - (p->s + p->i + 1))))
			return fail(p, "NUL byte in a string");
		*text = ds_xstrndup(p->s + p->i + 1, (size_t)(e - (p->s + p->i + 1)));
		p->i = (size_t)(e - p->s) + 1;
		return 0;
	}
	if (p->i > 0 && is_word((unsigned char)p->s[p->i - 1]))
		return fail(p, "expected a marker variable or a quoted string");
	while (j < p->n && (is_word((unsigned char)p->s[j]) || p->s[j] == '.'))
		j++;
	/* Variables never end in '.': "os.name." is not one. */
	if (j > p->i) {
		int v = var_lookup(p->s + p->i, j - p->i);
		if (v >= 0) {
			*var = v;
			p->i = j;
			return 0;
		}
	}
	return fail(p, "expected a marker variable (python_version, sys_platform, extra ...) "
		       "or a quoted string");
}

static int parse_op(pm_parser *p, int *op)
{
	static const struct {
		const char *t;
		int op;
	} sym[] = {
		{ "===", OP_ARB }, { "==", OP_EQ }, { "~=", OP_COMPAT }, { "!=", OP_NE },
		{ "<=", OP_LE },   { ">=", OP_GE }, { "<", OP_LT },      { ">", OP_GT },
	};

	if (keyword(p, "in")) {
		p->i += 2;
		*op = OP_IN;
		return 0;
	}
	if (keyword(p, "not")) {
		p->i += 3;
		if (p->i >= p->n || !py_iswsp((unsigned char)p->s[p->i]))
			return fail(p, "expected whitespace after 'not'");
		skip_ws(p);
		if (!keyword(p, "in"))
			return fail(p, "expected 'in' after 'not'");
		p->i += 2;
		*op = OP_NOT_IN;
		return 0;
	}
	for (size_t k = 0; k < DS_ARRAY_SIZE(sym); k++) {
		size_t l = strlen(sym[k].t);
		if (p->n - p->i >= l && memcmp(p->s + p->i, sym[k].t, l) == 0) {
			p->i += l;
			*op = sym[k].op;
			return 0;
		}
	}
	return fail(p, "expected a marker operator (<=, <, !=, ==, >=, >, ~=, ===, in, not in)");
}

static pm_node *parse_or(pm_parser *p);

static pm_node *parse_atom(pm_parser *p)
{
	pm_node *n;

	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == '(') {
		if (++p->depth > DS_PYMARKER_DEPTH_MAX) {
			fail(p, "parentheses nested too deeply");
			return NULL;
		}
		p->i++;
		skip_ws(p);
		n = parse_or(p);
		if (!n)
			return NULL;
		skip_ws(p);
		if (p->i >= p->n || p->s[p->i] != ')') {
			fail(p, "expected ')'");
			node_free(n);
			return NULL;
		}
		p->i++;
		p->depth--;
		n->paren = 1;
		skip_ws(p);
		return n;
	}
	n = ds_xcalloc(1, sizeof(*n));
	n->kind = N_CMP;
	if (parse_var(p, &n->lvar, &n->ltext) < 0)
		goto bad;
	skip_ws(p);
	if (parse_op(p, &n->op) < 0)
		goto bad;
	skip_ws(p);
	if (parse_var(p, &n->rvar, &n->rtext) < 0)
		goto bad;
	skip_ws(p);
	return n;
bad:
	node_free(n);
	return NULL;
}

static void add_kid(pm_node *list, pm_node *kid)
{
	if ((list->n & (list->n - 1)) == 0)
		list->kids = ds_xrealloc(list->kids, (list->n ? list->n * 2 : 1) * sizeof(*list->kids));
	list->kids[list->n++] = kid;
}

static pm_node *parse_chain(pm_parser *p, int kind)
{
	const char *kw = kind == N_OR ? "or" : "and";
	pm_node *first = kind == N_OR ? parse_chain(p, N_AND) : parse_atom(p), *list;

	if (!first)
		return NULL;
	if (!keyword(p, kw))
		return first;
	list = ds_xcalloc(1, sizeof(*list));
	list->kind = kind;
	add_kid(list, first);
	while (keyword(p, kw)) {
		pm_node *k;
		p->i += strlen(kw);
		k = kind == N_OR ? parse_chain(p, N_AND) : parse_atom(p);
		if (!k) {
			node_free(list);
			return NULL;
		}
		add_kid(list, k);
	}
	return list;
}

static pm_node *parse_or(pm_parser *p)
{
	return parse_chain(p, N_OR);
}

int pymarker_parse_n(ds_pymarker **out, const char *s, size_t n, ds_error *err)
{
	pm_parser p = { .s = s, .n = n, .err = err };
	pm_node *root;
	ds_pymarker *m;

	if (n > DS_PYMARKER_TEXT_MAX)
		return ds_error_set(err, DS_EINVAL, "invalid marker: longer than %d bytes",
				    DS_PYMARKER_TEXT_MAX);
	root = parse_or(&p);
	if (!root)
		return -1;
	skip_ws(&p);
	if (p.i < p.n) {
		node_free(root);
		return fail(&p, p.s[p.i] == ')' ? "unexpected ')'" : "expected 'and', 'or' or the end");
	}
	m = ds_xcalloc(1, sizeof(*m));
	m->root = root;
	*out = m;
	return 0;
}

int ds_pymarker_parse(ds_pymarker **out, const char *text, ds_error *err)
{
	if (!text)
		return ds_error_set(err, DS_EINVAL, "invalid marker: none given");
	return pymarker_parse_n(out, text, strlen(text), err);
}

/* ---- evaluation ---------------------------------------------------------------- */

/* packaging.utils.canonicalize_name() on any string; malloc'd. */
static char *canon(const char *s)
{
	char *dst = ds_xmalloc(strlen(s) + 1);
	size_t o = 0;

	while (*s) {
		if (*s == '-' || *s == '_' || *s == '.') {
			while (*s == '-' || *s == '_' || *s == '.')
				s++;
			dst[o++] = '-';
			continue;
		}
		dst[o++] = (char)py_lower((unsigned char)*s++);
	}
	dst[o] = '\0';
	return dst;
}

static int compare(int *out, const pm_node *n, const char *l, const char *r, ds_error *err)
{
	ds_pyspec spec;
	ds_pyver v;
	int c;

	if (n->op != OP_IN && n->op != OP_NOT_IN && strlen(r) <= DS_PYVER_TEXT_MAX) {
		char *spec_text = ds_xasprintf("%s%s", op_names[n->op], r);
		int ok = ds_pyspec_parse(&spec, spec_text, NULL) == 0 &&
			 ds_pyver_parse(&v, l, NULL) == 0;
		free(spec_text);
		if (ok) {
			*out = ds_pyspec_contains(&spec, &v);
			return 0;
		}
	}
	c = strcmp(l, r);
	switch (n->op) {
	case OP_EQ: *out = c == 0; return 0;
	case OP_NE: *out = c != 0; return 0;
	case OP_LT: *out = c < 0; return 0;
	case OP_LE: *out = c <= 0; return 0;
	case OP_GT: *out = c > 0; return 0;
	case OP_GE: *out = c >= 0; return 0;
	case OP_IN: *out = strstr(r, l) != NULL; return 0;
	case OP_NOT_IN: *out = strstr(r, l) == NULL; return 0;
	}
	return ds_error_set(err, DS_EINVAL, "cannot evaluate '%s' %s '%s': '%s' compares versions only",
			    l, op_names[n->op], r, op_names[n->op]);
}

static int eval_node(int *out, const pm_node *n, const ds_pyenv *env, ds_error *err)
{
	if (n->kind == N_CMP) {
		const char *l = n->lvar >= 0 ? env_field((ds_pyenv *)env, n->lvar) : n->ltext;
		const char *r = n->rvar >= 0 ? env_field((ds_pyenv *)env, n->rvar) : n->rtext;
		if (n->lvar == VAR_EXTRA || n->rvar == VAR_EXTRA) {
			char *cl = canon(l), *cr = canon(r);
			int rc = compare(out, n, cl, cr, err);
			free(cl);
			free(cr);
			return rc;
		}
		return compare(out, n, l, r, err);
	}
	/* and: all true; or: any true.  Every operand is evaluated so that an
	 * invalid comparison is reported whatever the environment. */
	*out = n->kind == N_AND;
	for (size_t i = 0; i < n->n; i++) {
		int v;
		if (eval_node(&v, n->kids[i], env, err) < 0)
			return -1;
		if (n->kind == N_AND)
			*out = *out && v;
		else
			*out = *out || v;
	}
	return 0;
}

int ds_pymarker_evaluate(int *out, const ds_pymarker *m, const ds_pyenv *env, ds_error *err)
{
	int v;

	if (eval_node(&v, m->root, env, err) < 0)
		return -1;
	*out = v;
	return 0;
}

int ds_pymarker_evaluate_extras(int *out, const ds_pymarker *m, const ds_pyenv *env,
				const char *const *extras, size_t n_extras, ds_error *err)
{
	ds_pyenv e = *env;
	int any = 0, v;

	e.extra[0] = '\0';
	if (ds_pymarker_evaluate(&v, m, &e, err) < 0)
		return -1;
	any = v;
	for (size_t i = 0; i < n_extras && !any; i++) {
		if (ds_pyenv_set(&e, "extra", extras[i], err) < 0)
			return -1;
		if (ds_pymarker_evaluate(&v, m, &e, err) < 0)
			return -1;
		any = v;
	}
	*out = any;
	return 0;
}

static int uses_extra(const pm_node *n)
{
	if (n->kind == N_CMP)
		return n->lvar == VAR_EXTRA || n->rvar == VAR_EXTRA;
	for (size_t i = 0; i < n->n; i++)
		if (uses_extra(n->kids[i]))
			return 1;
	return 0;
}

int ds_pymarker_uses_extra(const ds_pymarker *m)
{
	return m && uses_extra(m->root);
}

static int format_side(ds_buf *out, int var, const char *text, int extra_cmp)
{
	char q;

	if (var >= 0)
		return ds_buf_adds(out, var_names[var]);
	q = strchr(text, '"') ? '\'' : '"';
	if (extra_cmp) {
		char *c = canon(text);
		int rc = ds_buf_addf(out, "%c%s%c", q, c, q);
		free(c);
		return rc;
	}
	return ds_buf_addf(out, "%c%s%c", q, text, q);
}

static int format_node(ds_buf *out, const pm_node *n, int top)
{
	int rc = 0;
	int paren = n->paren && !top;

	if (paren)
		rc |= ds_buf_addch(out, '(');
	if (n->kind == N_CMP) {
		int ex = (n->lvar == VAR_EXTRA || n->rvar == VAR_EXTRA) &&
			 (n->op == OP_EQ || n->op == OP_NE);
		rc |= format_side(out, n->lvar, n->ltext, ex);
		rc |= ds_buf_addf(out, " %s ", op_names[n->op]);
		rc |= format_side(out, n->rvar, n->rtext, ex);
	} else {
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				rc |= ds_buf_adds(out, n->kind == N_AND ? " and " : " or ");
			rc |= format_node(out, n->kids[i], 0);
		}
	}
	if (paren)
		rc |= ds_buf_addch(out, ')');
	return rc ? -1 : 0;
}

int ds_pymarker_format(const ds_pymarker *m, ds_buf *out, ds_error *err)
{
	if (format_node(out, m->root, 1) < 0)
		return ds_error_set(err, DS_ENOMEM, "marker too long to format");
	return 0;
}
