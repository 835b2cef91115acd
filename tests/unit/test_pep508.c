/* PEP 508: requirement strings and environment markers.  PEP 508's own
 * grammar test list, fixed tables, then corpora checked against Debian's
 * python3-packaging (parse results and marker values). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/python.h>

#include "testutil.h"
#include "pyref.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* "name|extras|specs|url|m" as packaging_ref.py prints it. */
static char *summary(const char *text)
{
	ds_pyreq *r;
	ds_buf specs;
	char *s;

	if (ds_pyreq_parse(&r, text, NULL) < 0)
		return strdup("INVALID");
	ds_buf_init(&specs, 0);
	ds_pyspecset_format(&r->specs, &specs, NULL);
	{
		ds_buf ex;
		ds_buf_init(&ex, 0);
		for (size_t i = 0; i < r->n_extras; i++)
			ds_buf_addf(&ex, "%s%s", i ? "," : "", r->extras[i]);
		s = tu_fmt("%s|%s|%s|%s|%s", r->name, ex.data, specs.data, r->url ? r->url : "",
			   r->marker ? "m" : "");
		ds_buf_release(&ex);
	}
	ds_buf_release(&specs);
	ds_pyreq_free(r);
	return s;
}

/* PEP 508's test list ("Complete Grammar" section), and what each holds. */
static const struct {
	const char *text, *want;
} pep508[] = {
	{ "A", "A||||" },
	{ "A.B-C_D", "A.B-C_D||||" },
	{ "aa", "aa||||" },
	{ "name", "name||||" },
	{ "name<=1", "name||<=1||" },
	{ "name>=3", "name||>=3||" },
	{ "name>=3,<2", "name||<2,>=3||" },
	{ "name@http://foo.com", "name|||http://foo.com|" },
	{ "name [fred,bar] @ http://foo.com ; python_version=='2.7'",
	  "name|bar,fred||http://foo.com|m" },
	{ "name[quux, strange];python_version<'2.7' and platform_version=='2'",
	  "name|quux,strange|||m" },
	{ "name; os_name=='a' or os_name=='b'", "name||||m" },
	{ "name; os_name=='a' and os_name=='b' or os_name=='c'", "name||||m" },
	{ "name; os_name=='a' and (os_name=='b' or os_name=='c')", "name||||m" },
	{ "name; os_name=='a' or os_name=='b' and os_name=='c'", "name||||m" },
	{ "name; (os_name=='a' or os_name=='b') and os_name=='c'", "name||||m" },
};

static const struct {
	const char *text, *want;
} more[] = {
	{ "  requests [security , tests] >= 2.8.1, == 2.8.* ; python_version < \"2.7\"  ",
	  "requests|security,tests|==2.8.*,>=2.8.1||m" },
	{ "name (>=1.0, <2)", "name||<2,>=1.0||" },
	{ "name(>=1.0)", "name||>=1.0||" },
	{ "name ( >= 1.0 )", "name||>=1.0||" },
	{ "name[]", "name||||" },
	{ "name[ ]>=1", "name||>=1||" },
	{ "Name[Foo_Bar,foo-bar,FOO.BAR]", "Name|foo-bar|||" },
	{ "name>=1,", "name||>=1||" },
	{ "name===arbitrary-thing", "name||===arbitrary-thing||" },
	{ "name~=1.4.5a4", "name||~=1.4.5a4||" },
	{ "name==1.0+local.1", "name||==1.0+local.1||" },
	{ "name>= v1.0", "name||>=1.0||" },
	{ "name==1.0A1", "name||==1.0a1||" },
	{ "name;python_version>='3'", "name||||m" },
	{ "name @ file:///tmp/x.whl", "name|||file:///tmp/x.whl|" },
	{ "name @ https://user:tok@host/x.whl#sha256=00", "name|||https://user:tok@host/x.whl#sha256=00|" },
	{ "name@git+https://github.com/a/b.git@v1.0#egg=name", "name|||git+https://github.com/a/b.git@v1.0#egg=name|" },
	{ "name @ https://h/x.zip ", "name|||https://h/x.zip|" },
	{ "a\t>=1\t;\tos_name=='posix'", "a||>=1||m" },
};

/* text, substring of the error */
static const struct {
	const char *text, *err;
} bad[] = {
	{ "", "expected a project name" },
	{ "-name", "expected a project name" },
	{ "name-", "expected a version specifier" },
	{ "name=1.0", "'=' is not a version operator" },
	{ "name>=1.0 bar", "expected ',' or ';' after the version specifier" },
	{ "name>=1.0.*", "'.*' is only allowed" },
	{ "name (>=1.0", "expected ')'" },
	{ "name[foo", "expected ']'" },
	{ "name[foo bar]", "expected ',' between extra names" },
	{ "name[foo,]", "expected an extra name after ','" },
	{ "name @", "expected a URL" },
	{ "name @ ./local", "expected a URL with a scheme" },
	{ "name @ https:///path", "expected a URL with a scheme" },
	{ "name @ https://h/x;python_version>'3'", "" }, /* ';' is part of the URL: valid */
	{ "name @ https://h/x ;", "invalid marker" },
	{ "name @ https://h/x bar", "expected ';' or the end after the URL" },
	{ "name; python_version", "expected a marker operator" },
	{ "name; python_version >=", "expected a marker variable" },
	{ "name; os_name == 'a' and", "expected a marker variable" },
	{ "name; (os_name == 'a'", "expected ')'" },
	{ "name; os_name == 'a')", "unexpected ')'" },
	{ "name; os_name == \"a", "unterminated string" },
	{ "name; foo == 'a'", "expected a marker variable" },
	{ "name; os_name = 'a'", "expected a marker operator" },
	{ "name; os_name not 'a'", "'in' after 'not'" },
	{ "name; os_name notin 'a'", "expected a marker operator" },
	{ "name; os_name == 'a' AND os_name == 'b'", "expected 'and', 'or' or the end" },
	{ "name; os_name=='a'andos_name=='b'", "expected 'and', 'or' or the end" },
	{ "name; python_versionx == '3'", "expected a marker variable" },
	{ "name; os.name. == 'a'", "expected a marker variable" },
	{ "name>=1.0+local", "local version label" },
	{ "name~=1", "two release numbers" },
	{ "na$me", "expected a version specifier, '@' or ';'" },
};

/* Markers evaluated for CPython 3.11.2 on linux/amd64 with extra "". */
static const struct {
	const char *marker;
	int want;
} evals[] = {
	{ "python_version >= '3.8'", 1 },
	{ "python_version < '3.10'", 0 },        /* versions, not strings: 3.11 > 3.10 */
	{ "python_version > '3.9'", 1 },
	{ "python_version == '3.11'", 1 },
	{ "python_version == '3.11.0'", 1 },     /* PEP 440: zeros padded */
	{ "python_version == '3.*'", 1 },
	{ "python_version != '3.11.*'", 0 },
	{ "python_version ~= '3.9'", 1 },
	{ "python_full_version >= '3.11.1'", 1 },
	{ "python_full_version < '3.11.2'", 0 },
	{ "python_full_version === '3.11.2'", 1 },
	{ "'3.8' < python_version", 1 },         /* variable on the right */
	{ "'3.12' <= python_version", 0 },
	{ "os_name == 'posix'", 1 },
	{ "os.name == 'posix'", 1 },             /* legacy spelling */
	{ "sys_platform == 'linux'", 1 },
	{ "sys.platform == 'win32'", 0 },
	{ "sys_platform != 'darwin'", 1 },
	{ "platform_system == 'Linux'", 1 },
	{ "platform_machine == 'x86_64'", 1 },
	{ "platform.machine in 'x86_64 aarch64'", 1 },
	{ "platform_machine not in 'aarch64 arm64'", 1 },
	{ "'linux' in sys_platform", 1 },
	{ "'lin' in sys_platform", 1 },          /* substring */
	{ "'win' not in sys_platform", 1 },
	{ "implementation_name == 'cpython'", 1 },
	{ "implementation_version >= '3.11'", 1 },
	{ "platform_python_implementation == 'CPython'", 1 },
	{ "python_implementation == 'CPython'", 1 },
	{ "platform.python_implementation != 'PyPy'", 1 },
	{ "platform_release == ''", 1 },
	{ "platform_version == ''", 1 },
	{ "os_name < 'q'", 1 },                  /* not versions: string order */
	{ "os_name > 'q'", 0 },
	{ "'b' > 'a'", 1 },                      /* two literals */
	{ "'10' > '9'", 1 },                     /* both versions */
	{ "'abc' > 'abd'", 0 },
	{ "extra == ''", 1 },
	{ "extra == 'test'", 0 },
	{ "os_name == 'a' and os_name == 'b' or os_name == 'posix'", 1 },
	{ "os_name == 'posix' or os_name == 'b' and os_name == 'c'", 1 },
	{ "os_name == 'a' and (os_name == 'b' or os_name == 'posix')", 0 },
	{ "(os_name == 'posix' or os_name == 'b') and os_name == 'c'", 0 },
	{ "((((os_name == 'posix'))))", 1 },
	{ "os_name=='posix'and(sys_platform=='linux')", 1 },
	{ "python_version>\"3\"", 1 },
	{ "python_version >= '3.9' and platform_machine != 'aarch64' and sys_platform == 'linux'", 1 },
	{ "python_version < '3' or python_version >= '3.12' or sys_platform == 'win32'", 0 },
};

static int eval(const char *marker, const ds_pyenv *env, const char *extra, int *out,
		ds_error *err)
{
	ds_pymarker *m;
	ds_pyenv e = *env;
	int rc;

	if (ds_pymarker_parse(&m, marker, err) < 0)
		return -2;
	if (extra)
		ds_pyenv_set(&e, "extra", extra, NULL);
	rc = ds_pymarker_evaluate(out, m, &e, err);
	ds_pymarker_free(m);
	return rc;
}

static void grammar(void)
{
	ds_error err = DS_ERROR_INIT;

	for (size_t i = 0; i < N_OF(pep508); i++) {
		char *s = summary(pep508[i].text);
		is_str(s, pep508[i].want, "PEP 508 test '%s'", pep508[i].text);
		free(s);
	}
	for (size_t i = 0; i < N_OF(more); i++) {
		char *s = summary(more[i].text);
		is_str(s, more[i].want, "parse '%s'", more[i].text);
		free(s);
	}
	for (size_t i = 0; i < N_OF(bad); i++) {
		ds_pyreq *r = NULL;
		int rc = ds_pyreq_parse(&r, bad[i].text, &err);
		if (!bad[i].err[0]) {
			ok(rc == 0, "valid: '%s'", bad[i].text);
			ds_pyreq_free(r);
			continue;
		}
		ok(rc < 0 && err.code == DS_EINVAL, "invalid: '%s'", bad[i].text);
		has_str(err.msg, bad[i].err, "  error explains it");
		if (rc == 0)
			ds_pyreq_free(r);
	}
	ds_pyreq *r;
	ok(ds_pyreq_parse(&r, "name=1.0", &err) < 0 && strstr(err.hint, "=="),
	   "'=' gets the hint '%s'", err.hint);
	ok(ds_pyreq_parse(&r, "name @ https://user:secret@host/x.whl bar", &err) < 0 &&
		   !strstr(err.msg, "secret"),
	   "errors do not show credentials: %s", err.msg);
}

static void accessors(void)
{
	ds_pyreq *r;
	ds_buf b;
	ds_error err = DS_ERROR_INIT;
	ds_pyenv env;
	int v;

	ds_buf_init(&b, 0);
	ok(ds_pyreq_parse(&r, "Django.REST_framework [Extra_One,extra.one] (>=3.14,<4) ; "
			      "python_version>='3.8' and extra=='Extra-One'",
			  &err) == 0,
	   "parse a full requirement");
	is_str(r->name, "Django.REST_framework", "name as written");
	is_str(r->key, "django-rest-framework", "key normalised (PEP 503)");
	is_int(r->n_extras, 1, "extras normalised and deduplicated (PEP 685)");
	is_str(r->extras[0], "extra-one", "extra");
	is_int(r->specs.n, 2, "two specifiers");
	ok(ds_pymarker_uses_extra(r->marker), "marker uses extra");
	ok(ds_pyreq_format(r, &b, &err) == 0, "format");
	is_str(b.data,
	       "Django.REST_framework[extra-one]<4,>=3.14; python_version >= \"3.8\" and extra == "
	       "\"extra-one\"",
	       "canonical text");
	ds_pyenv_for_target(&env, "3.11", "3.11.2", "linux/amd64", &err);
	ok(ds_pyreq_applies(&v, r, &env, NULL, 0, &err) == 0 && !v, "not for no extras");
	{
		const char *ex[] = { "other", "EXTRA_one" };
		ok(ds_pyreq_applies(&v, r, &env, ex, 2, &err) == 0 && v,
		   "applies when 'EXTRA_one' is requested (normalised)");
	}
	ds_pyreq_free(r);

	ds_buf_reset(&b);
	ok(ds_pyreq_parse(&r, "pkg@https://h/p.whl\t;os_name=='x'", &err) == 0, "parse a URL req");
	ds_pyreq_format(r, &b, &err);
	is_str(b.data, "pkg @ https://h/p.whl ; os_name == \"x\"",
	       "URL then a space before ';' (else ';' would be part of the URL)");
	ds_pyreq_free(r);
	ok(ds_pyreq_parse(&r, "pkg@https://h/p.whl;os_name=='x'", &err) == 0 && !r->marker,
	   "parse a URL req with ';' and no space");
	is_str(r->url, "https://h/p.whl;os_name=='x'", "without a space ';' belongs to the URL");
	ds_pyreq_free(r);
	ok(ds_pyreq_parse(&r, "pkg", &err) == 0 && ds_pyreq_applies(&v, r, &env, NULL, 0, &err) == 0 &&
		   v,
	   "no marker: applies");
	ds_pyreq_free(r);
	ds_buf_release(&b);

	ok(ds_pyname_valid("a") && ds_pyname_valid("A.b-c_D9") && !ds_pyname_valid("a-") &&
		   !ds_pyname_valid("_a") && !ds_pyname_valid("") && !ds_pyname_valid("a b"),
	   "name validity");
	ok(ds_pyname_equal("Foo__Bar.baz", "foo-bar-baz") && ds_pyname_equal("a", "A") &&
		   !ds_pyname_equal("foo", "foobar") && !ds_pyname_equal("foo-bar", "foobar"),
	   "names compared normalised");
	{
		char *n = NULL;
		ok(ds_pyname_normalize(&n, "Foo__Bar..baz", &err) == 0, "normalise");
		is_str(n, "foo-bar-baz", "runs of -_. become one '-'");
		free(n);
		ok(ds_pyname_normalize(&n, "foo/bar", &err) < 0 && strstr(err.msg, "foo/bar"),
		   "invalid name refused: %s", err.msg);
	}
}

static void markers(void)
{
	ds_pyenv env;
	ds_error err = DS_ERROR_INIT;
	int v;

	ok(ds_pyenv_for_target(&env, "3.11", "3.11.2", "linux/amd64", &err) == 0, "env for target");
	for (size_t i = 0; i < N_OF(evals); i++) {
		int rc = eval(evals[i].marker, &env, NULL, &v, &err);
		ok(rc == 0 && v == evals[i].want, "'%s' is %d", evals[i].marker, evals[i].want);
		if (rc)
			printf("#   %s\n", err.msg);
	}
	ok(eval("extra == 'Test_Extra'", &env, "test-extra", &v, &err) == 0 && v,
	   "extra names normalised on both sides");
	ok(eval("extra == 'test.extra'", &env, "TEST__EXTRA", &v, &err) == 0 && v,
	   "extra names normalised on both sides (2)");
	ok(eval("os_name ~= 'posix'", &env, NULL, &v, &err) < 0 && err.code == DS_EINVAL &&
		   strstr(err.msg, "~="),
	   "'~=' on strings is an error: %s", err.msg);
	ok(eval("os_name === 'posix'", &env, NULL, &v, &err) < 0, "'===' on strings is an error");
	ok(eval("os_name == 'x' and os_name ~= 'y'", &env, NULL, &v, &err) < 0,
	   "an invalid comparison is reported even after a false 'and'");

	{
		ds_pymarker *m;
		const char *ex[] = { "a", "b" };
		ds_buf b;
		ok(ds_pymarker_parse(&m, "extra == 'b' or extra == 'c'", &err) == 0, "parse");
		ok(ds_pymarker_evaluate_extras(&v, m, &env, ex, 2, &err) == 0 && v,
		   "true for one of the extras");
		ok(ds_pymarker_evaluate_extras(&v, m, &env, ex, 1, &err) == 0 && !v,
		   "false for the others");
		ds_pymarker_free(m);
		ds_buf_init(&b, 0);
		ok(ds_pymarker_parse(&m, "os.name=='a' and(python_version<'3' or extra==\"X_Y\")",
				     &err) == 0 &&
			   ds_pymarker_format(m, &b, &err) == 0,
		   "format");
		is_str(b.data, "os_name == \"a\" and (python_version < \"3\" or extra == \"x-y\")",
		       "canonical marker text");
		ds_pymarker_free(m);
		ds_buf_release(&b);
	}

	{
		/* nesting and chain bounds */
		char deep[200], *chain;
		ds_pymarker *m;
		size_t o = 0;
		for (int i = 0; i < 40; i++)
			deep[o++] = '(';
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "os_name=='a'");
		for (int i = 0; i < 40; i++)
			deep[o++] = ')';
		deep[o] = '\0';
		ok(ds_pymarker_parse(&m, deep, &err) < 0 && strstr(err.msg, "nested"),
		   "40 nested parentheses refused: %s", err.msg);
		chain = calloc(1, 20000);
		for (int i = 0; i < 1000; i++)
			strcat(chain, i ? " or os_name=='a'" : "os_name=='a'");
		ok(ds_pymarker_parse(&m, chain, &err) == 0, "a chain of 1000 comparisons parses");
		ok(ds_pymarker_evaluate(&v, m, &env, &err) == 0 && !v, "and evaluates");
		ds_pymarker_free(m);
		free(chain);
	}
}

static void environments(void)
{
	static const struct {
		const char *platform, *machine;
	} plats[] = {
		{ "linux/amd64", "x86_64" },   { "linux/arm64", "aarch64" },
		{ "linux/arm64/v8", "aarch64" }, { "linux/arm/v7", "armv7l" },
		{ "linux/386", "i686" },       { "linux/ppc64le", "ppc64le" },
		{ "linux/s390x", "s390x" },    { "linux/riscv64", "riscv64" },
		{ NULL, "x86_64" },            { "aarch64", "aarch64" },
	};
	ds_pyenv env;
	ds_error err = DS_ERROR_INIT;
	const char *m;

	for (size_t i = 0; i < N_OF(plats); i++) {
		ok(ds_pyplatform_machine(&m, plats[i].platform, &err) == 0, "machine of %s",
		   plats[i].platform ? plats[i].platform : "(default)");
		is_str(m, plats[i].machine, "  is %s", plats[i].machine);
	}
	ok(ds_pyplatform_machine(&m, "windows/amd64", &err) < 0 && err.code == DS_EUNSUPPORTED &&
		   strstr(err.msg, "linux"),
	   "windows refused: %s", err.msg);
	ok(ds_pyplatform_machine(&m, "linux/sparc", &err) < 0, "unknown arch refused");

	ok(ds_pyenv_for_target(&env, "3.12", "3.12.0rc1", "linux/arm64", &err) == 0, "3.12.0rc1");
	is_str(env.python_version, "3.12", "python_version");
	is_str(env.python_full_version, "3.12.0rc1", "python_full_version");
	is_str(env.implementation_version, "3.12.0c1", "implementation_version as sys prints it");
	is_str(env.platform_machine, "aarch64", "platform_machine");
	is_str(env.sys_platform, "linux", "sys_platform");
	is_str(env.platform_system, "Linux", "platform_system");
	is_str(env.os_name, "posix", "os_name");
	is_str(env.implementation_name, "cpython", "implementation_name");
	is_str(env.platform_python_implementation, "CPython", "platform_python_implementation");
	is_str(env.extra, "", "extra");
	ok(ds_pyenv_for_target(&env, NULL, "3.10.4", NULL, &err) == 0, "only a full version");
	is_str(env.python_version, "3.10", "python_version derived");
	ok(ds_pyenv_for_target(&env, "3.9", NULL, NULL, &err) == 0, "only X.Y");
	is_str(env.python_full_version, "3.9", "full version = X.Y");
	ok(ds_pyenv_for_target(&env, "3", NULL, NULL, &err) < 0, "'3' refused");
	ok(ds_pyenv_for_target(&env, "3.11", "3.10.1", NULL, &err) < 0 &&
		   strstr(err.msg, "does not match"),
	   "mismatch refused");
	ok(ds_pyenv_for_target(&env, "3.11", "3.11.2x", NULL, &err) < 0, "bad full version");
	ok(ds_pyenv_set(&env, "platform_release", "6.1.0-13-amd64", &err) == 0 &&
		   strcmp(ds_pyenv_get(&env, "platform_release"), "6.1.0-13-amd64") == 0,
	   "set and get");
	ok(ds_pyenv_set(&env, "platform.version", "#1 SMP", &err) == 0 &&
		   strcmp(env.platform_version, "#1 SMP") == 0,
	   "legacy name sets the field");
	ok(ds_pyenv_set(&env, "nope", "x", &err) < 0 && ds_pyenv_get(&env, "nope") == NULL,
	   "unknown name");
	{
		int v;
		ok(eval("platform_release >= '10'", &env, NULL, &v, &err) == 0 && v == 1,
		   "'6.1.0-13-amd64' is not a version: string comparison (PEP 508)");
	}
}

static const char *const req_corpus[] = {
	"A", "a.b-c_d", "name>=1.0", "name >= 1.0 , < 2", "name (>=1.0,<2)", "name[a,b]>=1",
	"name[ a , b ]", "name[A_B]", "name@https://h/x.whl", "name @ https://h/x.whl ; os_name=='a'",
	"name; os_name=='a'", "name;os_name=='a' and python_version<'3'", "name===1.0",
	"name~=1.0.0", "name==1.*", "name!=1.0.*", "name==1.0+abc", "name", "na me", "name>=",
	"name>=1.0.*", "name=1", "name[", "name[a b]", "name @", "name @ x", "name==1.0;",
	"name==1.0;;", "name (==1.0", "name==1.0)", "name; os_name", "name ; extra == 'x'",
	"name[x]@file:///tmp/x", "name>=1,", "-name", "name-", "name.", "1name", "name~=1",
	"name>=1.0+x", "name<=v1.0", "name ==  1.0", "name\t>=1", "name;(os_name=='a')",
	"name; os_name=='a')", "name @ https://h/x bar", "name >=1.0 bar",
};

static const char *const marker_corpus[] = {
	"python_version >= '3.8'", "python_version < '3.10'", "python_version == '3.11.*'",
	"python_full_version >= '3.11.1'", "python_full_version === '3.11.2'",
	"os_name == 'posix' and sys_platform == 'linux'", "os.name == 'nt' or sys.platform == 'linux'",
	"platform_machine in 'x86_64 aarch64'", "platform_machine not in 'x86_64'",
	"'x86' in platform_machine", "extra == 'test'", "extra == 'Test_Foo'",
	"extra != 'test'", "implementation_name == 'cpython'", "implementation_version > '3'",
	"python_version ~= '3.9'", "python_version ~= '3'", "python_version != '3.11'",
	"(os_name == 'a' or os_name == 'posix') and python_version > '3'",
	"os_name == 'a' and os_name == 'b' or os_name == 'posix'", "'3.9' < python_version",
	"platform_python_implementation == 'CPython'", "python_implementation == 'PyPy'",
	"platform.python_implementation == 'CPython'", "os_name < 'q'", "os_name >= 'posix'",
	"platform_release == ''", "python_version > '3.9' and (extra == 'a' or extra == 'b')",
	"python_version >= '3.11.0'", "python_version > '3.11'", "python_version < '3.11.1'",
	"os_name =! 'x'", "os_name == x", "foo == 'x'", "os_name = 'a'", "(os_name == 'a'",
	"python_version <= '3.11'", "platform_system == \"Linux\"",
	"python_version in '3.10 3.11 3.12'", "'3.11' not in python_version",
};

static void against_packaging(void)
{
	size_t n, k = N_OF(req_corpus) + N_OF(pep508) + N_OF(more);
	const char **in = calloc(k, sizeof(*in));
	char **out;
	size_t m = 0;
	int bad_count = 0, skipped = 0;

	for (size_t i = 0; i < N_OF(req_corpus); i++)
		in[m++] = req_corpus[i];
	for (size_t i = 0; i < N_OF(pep508); i++)
		in[m++] = pep508[i].text;
	for (size_t i = 0; i < N_OF(more); i++)
		if (!strchr(more[i].text, '\t'))
			in[m++] = more[i].text;
	out = pyref_run("reqs", in, m, NULL, &n);
	if (!out) {
		ok(0, PYREF_MISSING);
		free(in);
		return;
	}
	for (size_t i = 0; i < m && i < n; i++) {
		char *mine = summary(in[i]);
		if (strcmp(mine, out[i]) != 0) {
			bad_count++;
			printf("# '%s': ours '%s', packaging '%s'\n", in[i], mine, out[i]);
		}
		free(mine);
	}
	is_int(bad_count, 0, "%zu requirements parse as packaging parses them", m);
	pyref_free(out, n);
	free(in);

	{
		static const char *const extras[] = { "", "test", "TEST", "a", "test-foo" };
		size_t total = N_OF(marker_corpus) * N_OF(extras) + N_OF(evals), q = 0;
		char **cases = calloc(total, sizeof(*cases));
		ds_pyenv env;
		ds_pyenv_for_target(&env, "3.11", "3.11.2", "linux/amd64", NULL);
		for (size_t i = 0; i < N_OF(marker_corpus); i++)
			for (size_t e = 0; e < N_OF(extras); e++)
				cases[q++] = tu_fmt("%s\t%s", marker_corpus[i], extras[e]);
		for (size_t i = 0; i < N_OF(evals); i++)
			cases[q++] = tu_fmt("%s\t", evals[i].marker);
		out = pyref_run("markers", (const char *const *)cases, q, "3.11 3.11.2 x86_64", &n);
		ok(out && n == q, "packaging evaluated %zu markers", q);
		bad_count = 0;
		for (size_t i = 0; out && i < q; i++) {
			char *tab = strchr(cases[i], '\t'), mine[16];
			int v, rc;
			ds_error err = DS_ERROR_INIT;
			*tab = '\0';
			rc = eval(cases[i], &env, tab + 1, &v, &err);
			snprintf(mine, sizeof(mine), "%s",
				 rc == -2 ? "INVALID" : rc < 0 ? "ERROR" : v ? "1" : "0");
			if (strcmp(out[i], "ERROR") == 0 && rc == 0) {
				/* packaging 23 raises where PEP 508 falls back to strings */
				skipped++;
				continue;
			}
			if (strcmp(mine, out[i]) != 0) {
				bad_count++;
				printf("# '%s' (extra '%s'): ours %s, packaging %s\n", cases[i], tab + 1,
				       mine, out[i]);
			}
		}
		is_int(bad_count, 0, "markers evaluate as packaging evaluates them (%d where "
				     "packaging 23 raises and PEP 508 compares strings)",
		       skipped);
		pyref_free(out, n);
		for (size_t i = 0; i < q; i++)
			free(cases[i]);
		free(cases);
	}
}

int main(void)
{
	grammar();
	accessors();
	markers();
	environments();
	against_packaging();
	return done_testing();
}
