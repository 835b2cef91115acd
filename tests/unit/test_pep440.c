/* PEP 440 versions and specifiers: the PEP's own examples, fixed tables,
 * then a corpus of versions and specifiers checked against Debian's
 * python3-packaging (parse, canonical form, every pair's order, every
 * specifier against every version). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/python.h>

#include "testutil.h"
#include "pyref.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int sign(int x)
{
	return x < 0 ? -1 : x > 0;
}

static const char *canon(const char *text)
{
	static char buf[DS_PYVER_STRING_MAX];
	ds_pyver v;

	if (ds_pyver_parse(&v, text, NULL) < 0)
		return "INVALID";
	return ds_pyver_format(&v, buf, sizeof(buf));
}

static int cmp(const char *a, const char *b)
{
	ds_pyver x, y;

	if (ds_pyver_parse(&x, a, NULL) < 0 || ds_pyver_parse(&y, b, NULL) < 0)
		return 99;
	return sign(ds_pyver_compare(&x, &y));
}

/* contains(v) with prereleases 0 / 1; -1 when the specifier is invalid. */
static int spec_has(const char *spec, const char *version, int pre)
{
	ds_pyspecset s;
	ds_pyver v;
	int r;

	if (ds_pyspecset_parse(&s, spec, NULL) < 0)
		return -1;
	if (ds_pyver_parse(&v, version, NULL) < 0) {
		ds_pyspecset_release(&s);
		return -2;
	}
	r = ds_pyspecset_contains(&s, &v, pre);
	ds_pyspecset_release(&s);
	return r;
}

/* ---- normalisation (PEP 440 "Normalization" section) ---- */
static const struct {
	const char *in, *out;
} normal[] = {
	{ "1.0", "1.0" },
	{ "1.0.0", "1.0.0" },
	{ "1.0a1", "1.0a1" },
	{ "1.0A1", "1.0a1" },           /* case */
	{ "1.1RC1", "1.1rc1" },
	{ "00", "0" },                  /* integers */
	{ "09000", "9000" },
	{ "1.0.01", "1.0.1" },
	{ "1.1.a1", "1.1a1" },          /* pre-release separators */
	{ "1.1-a1", "1.1a1" },
	{ "1.1_a1", "1.1a1" },
	{ "1.0a.1", "1.0a1" },
	{ "1.0-alpha-1", "1.0a1" },
	{ "1.1alpha1", "1.1a1" },       /* spellings */
	{ "1.1beta2", "1.1b2" },
	{ "1.1c3", "1.1rc3" },
	{ "1.1pre3", "1.1rc3" },
	{ "1.1preview3", "1.1rc3" },
	{ "1.2a", "1.2a0" },            /* implicit pre-release number */
	{ "1.2.post2", "1.2.post2" },
	{ "1.2-post2", "1.2.post2" },   /* post separators */
	{ "1.2_post2", "1.2.post2" },
	{ "1.2post2", "1.2.post2" },
	{ "1.2.post-2", "1.2.post2" },
	{ "1.0-r4", "1.0.post4" },      /* spellings */
	{ "1.0-rev4", "1.0.post4" },
	{ "1.2.post", "1.2.post0" },    /* implicit post number */
	{ "1.0-1", "1.0.post1" },       /* implicit post release */
	{ "1.2.dev2", "1.2.dev2" },
	{ "1.2-dev2", "1.2.dev2" },     /* dev separators */
	{ "1.2dev2", "1.2.dev2" },
	{ "1.2_dev_2", "1.2.dev2" },
	{ "1.2.dev", "1.2.dev0" },      /* implicit dev number */
	{ "1.0-dev-", "1.0.dev0" },     /* a separator without a number */
	{ "1.0+ubuntu-1", "1.0+ubuntu.1" },   /* local separators */
	{ "1.0+ubuntu_1", "1.0+ubuntu.1" },
	{ "1.0+Ubuntu.01", "1.0+ubuntu.1" },  /* local: case, integers */
	{ "1.0+007.a", "1.0+7.a" },
	{ "v1.0", "1.0" },              /* preceding v */
	{ "V1.0", "1.0" },
	{ "  1.0\t ", "1.0" },          /* whitespace */
	{ "1!1.0", "1!1.0" },
	{ "0!1.0", "1.0" },             /* epoch 0 is not written */
	{ "1.0a1.post2.dev3+x.y", "1.0a1.post2.dev3+x.y" },
	{ "1.0a.-dev", "1.0a0.dev0" },  /* both optional separators used */
	{ "1.0a-1", "1.0a1" },          /* '-1' after a label is its number */
	{ "1.0a.-1", "1.0a0.post1" },   /* ...unless the label took the separator */
	{ "1.0.post.dev1", "1.0.post0.dev1" },
	{ "2019.10.28", "2019.10.28" },
	{ "18446744073709551615", "18446744073709551615" },
};

static const char *const invalid[] = {
	"", " ", "a", "1.", ".1", "1..0", "1.0-", "1.0+", "1.0+a_", "1.0+.a", "1.0a1a1",
	"1.0.dev1.post1", "1.0foo", "1.0-foo", "1!", "!1", "1!2!3", "1.0 1", "1,0", "1.0-dev--",
	"1.0+ubuntu 1", "vv1.0", "1.0.post.post", "1.0_", "1.0..dev", "1.0+a+b", "1.0a1b1",
	"18446744073709551616", "1.0.18446744073709551616", "1.0\x01",
	/* 33 release segments */
	"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33",
};

/* PEP 440's ordering example, strictly increasing. */
static const char *const pep_order[] = {
	"1.0.dev456", "1.0a1",  "1.0a2.dev456", "1.0a12.dev456",      "1.0a12",
	"1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456",
	"1.0rc1",     "1.0",    "1.0+abc.5",    "1.0+abc.7",          "1.0+5",
	"1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1",
};

/* spec, version, with prereleases=0, with prereleases=1 */
static const struct {
	const char *spec, *v;
	int dflt, pre;
} spec_table[] = {
	/* ~= (PEP 440 "Compatible release") */
	{ "~=2.2", "2.2", 1, 1 },
	{ "~=2.2", "2.3", 1, 1 },
	{ "~=2.2", "2.9.9", 1, 1 },
	{ "~=2.2", "3.0", 0, 0 },
	{ "~=2.2", "2.1", 0, 0 },
	{ "~=1.4.5", "1.4.5", 1, 1 },
	{ "~=1.4.5", "1.4.9", 1, 1 },
	{ "~=1.4.5", "1.5.0", 0, 0 },
	{ "~=2.2.post3", "2.2.post3", 1, 1 },
	{ "~=2.2.post3", "2.9", 1, 1 },
	{ "~=2.2.post3", "2.2", 0, 0 },
	{ "~=2.2.post3", "3.0", 0, 0 },
	{ "~=1.4.5a4", "1.4.5a4", 1, 1 },  /* names a pre-release: allows them */
	{ "~=1.4.5a4", "1.4.5", 1, 1 },
	{ "~=1.4.5a4", "1.4.9", 1, 1 },
	{ "~=1.4.5a4", "1.5.0", 0, 0 },
	{ "~=2.2.0", "2.2.5", 1, 1 },
	{ "~=2.2.0", "2.3.0", 0, 0 },
	{ "~=1.4.5.0", "1.4.5.9", 1, 1 },
	{ "~=1.4.5.0", "1.4.6", 0, 0 },
	{ "~=1!2.2", "1!2.5", 1, 1 },
	{ "~=1!2.2", "2.5", 0, 0 },
	/* == and !=, with prefix matching */
	{ "==1.1.post1", "1.1", 0, 0 },
	{ "==1.1.post1", "1.1.post1", 1, 1 },
	{ "==1.1.*", "1.1.post1", 1, 1 },
	{ "==1.1", "1.1.0", 1, 1 },        /* zero padding */
	{ "==1.1.0", "1.1", 1, 1 },
	{ "==1.1.*", "1.1", 1, 1 },
	{ "==1.1.0.*", "1.1", 1, 1 },
	{ "==1.1.*", "1.10", 0, 0 },
	{ "==1.*", "1.9.9", 1, 1 },
	{ "==1.*", "2.0", 0, 0 },
	{ "==1.1.*", "1.1a1", 0, 1 },
	{ "==1.0", "1.0+local", 1, 1 },    /* candidate's local ignored */
	{ "==1.0+local", "1.0", 0, 0 },
	{ "==1.0+local", "1.0+local", 1, 1 },
	{ "==1.0+local", "1.0+other", 0, 0 },
	{ "==1.*", "1.0+local", 1, 1 },
	{ "==2!1.*", "1.5", 0, 0 },
	{ "==2!1.*", "2!1.5", 1, 1 },
	{ "!=1.1.*", "1.1.5", 0, 0 },
	{ "!=1.1.*", "1.2", 1, 1 },
	{ "!=1.0", "1.0+local", 0, 0 },
	{ "!=1.0+local", "1.0", 1, 1 },
	{ "==1.0a1", "1.0a1", 1, 1 },      /* names a pre-release */
	/* inclusive ordered */
	{ "<=2.0", "2.0+local", 1, 1 },
	{ ">=2.0", "2.0+local", 1, 1 },
	{ ">=2.0", "2.1a1", 0, 1 },
	{ ">=2.0a1", "2.1a1", 1, 1 },
	{ "<=2.0", "2.0.post1", 0, 0 },
	/* exclusive ordered */
	{ ">1.7", "1.7.1", 1, 1 },
	{ ">1.7", "1.7.0.post1", 0, 0 },   /* not a post-release of V */
	{ ">1.7", "1.7.post1", 0, 0 },
	{ ">1.7.post2", "1.7.1", 1, 1 },
	{ ">1.7.post2", "1.7.0.post3", 1, 1 },
	{ ">1.7.post2", "1.7.0", 0, 0 },
	{ ">1.7", "1.7+local", 0, 0 },     /* nor a local version of V */
	{ ">1.7", "1.7.1+local", 1, 1 },
	{ "<1.7", "1.7.0rc1", 0, 0 },      /* not a pre-release of V */
	{ "<1.7", "1.7.dev0", 0, 0 },
	{ "<1.7", "1.6.9rc1", 0, 1 },
	{ "<1.7rc1", "1.7.0a1", 0, 1 },    /* exclusive: no pre-releases by default */
	{ "<3.1", "3.0.dev0", 0, 1 },
	{ "<1.7", "1.7.0.post1", 0, 0 },
	{ ">1.7a1", "1.7a2", 0, 1 },       /* '>' does not let pre-releases in */
	/* === */
	{ "===1.0", "1.0", 1, 1 },
	{ "===1.0", "1.0.0", 0, 0 },
	{ "===1.0+LOCAL", "1.0+local", 1, 1 },
	{ "===foobar", "1.0", 0, 0 },
	/* sets */
	{ ">=1.0,<2.0", "1.5", 1, 1 },
	{ ">=1.0, <2.0", "2.0", 0, 0 },
	{ ">=1.0,!=1.5.*", "1.5.1", 0, 0 },
	{ ">=1.0,!=1.5.*", "1.6", 1, 1 },
	{ "", "1.0a1", 0, 1 },
	{ "", "1.0", 1, 1 },
	{ " >= 1.0 , != 1.3.4.* , < 2.0 ", "1.3.5", 1, 1 },
	{ ">=1.0,,<2", "1.5", 1, 1 },     /* empty parts are skipped */
	{ ">=1.0.dev0,<2", "1.5a1", 1, 1 }, /* a dev release is a pre-release */
};

static const char *const bad_specs[] = {
	"1.0", "=1.0", "=>1.0", ">=", ">=1.0.*", "~=1", "~=1.*", "<1.0+local", ">=1.0+local",
	"~=1.0+local", "==1.0a1.*", "==1.*.*", "==*", ">=foo", "== 1.0 2", "~=1.0,>", "!==1.0",
	"===a b", "<>1.0",
};

/* Versions and specifiers checked against packaging, every pair. */
static const char *const corpus_versions[] = {
	"0", "0.0", "0.1", "1", "1.0", "1.0.0", "1.0.1", "1.1", "1.10", "2", "2.0.0.0",
	"1.0.dev0", "1.0.dev1", "1.0a0", "1.0a1", "1.0a1.dev1", "1.0a1.post1", "1.0a1.post1.dev1",
	"1.0b1", "1.0rc1", "1.0rc1.post1", "1.0c2", "1.0.post0", "1.0.post1", "1.0.post1.dev0",
	"1.0-1", "1.0+local", "1.0+local.1", "1.0+local.a", "1.0+1", "1.0+1.a", "1.0+a.1",
	"1.0+a", "1.0+b", "1.0+10", "1.0+9", "1.0+local.01", "1.0.post1+x", "1.0a1+x", "1!0.1",
	"1!1.0", "2!0", "1.1.dev0", "1.1a1", "1.1.post1", "1.0.0.post1", "1.0.0+x", "0.9",
	"0.9.9.post5", "3.11", "3.11.2", "3.12.0rc1", "3.10", "3.9", "2.7.18", "1.0a", "1.0.post",
	"1.0.dev", "1.0alpha2", "1.0BETA3", "1.0preview1", "v1.0", "1.0-r4",
};

static const char *const corpus_specs[] = {
	"==1.0", "==1.0.*", "==1.*", "==1.0+local", "==1.0a1", "!=1.0", "!=1.0.*", "<=1.0",
	">=1.0", "<1.0", ">1.0", "~=1.0", "~=1.0.0", "~=1.0a1", "~=1.0.post1", "===1.0",
	">1.0.post0", "<1.0rc1", ">=1.0.dev0", "<=1.0a1", "~=3.9", ">=3.10,<3.12", "==1!1.*",
	"!=1.0+local", ">1.0a1", "<1.1", ">0.9.9", "==0.9.*", "~=0.9.9", "==1.0.0.0.*",
	">=1.0,!=1.0.post1", "==2", "<2!0",
};

static void pep440_examples(void)
{
	size_t n = N_OF(pep_order);

	for (size_t i = 0; i < N_OF(normal); i++)
		is_str(canon(normal[i].in), normal[i].out, "normalise '%s'", normal[i].in);
	for (size_t i = 0; i < N_OF(invalid); i++)
		ok(!ds_pyver_valid(invalid[i]), "invalid version #%zu '%s'", i,
		   strchr(invalid[i], '\x01') ? "(control character)" : invalid[i]);
	is_str(canon("\n 1.0\r\n"), "1.0", "newlines around a version are whitespace");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (cmp(pep_order[i], pep_order[j]) != sign((int)i - (int)j)) {
				ok(0, "PEP 440 order: '%s' vs '%s'", pep_order[i], pep_order[j]);
				return;
			}
	ok(1, "PEP 440's ordering example: %zu versions, every pair in order", n);
	is_int(cmp("1.0", "1.0.0.0"), 0, "trailing zeros do not count");
	is_int(cmp("1.0.post1", "1.0-1"), 0, "implicit post release equals .post1");
	is_int(cmp("1!0.1", "999"), 1, "epoch first");
	is_int(cmp("1.0+a.1", "1.0+1"), -1, "local: strings before numbers");
	is_int(cmp("1.0+1.a", "1.0+1"), 1, "local: longer after its prefix");
	is_int(cmp("1.0+10", "1.0+9"), 1, "local: numbers compare numerically");
}

static void specifier_tables(void)
{
	ds_pyspec s;
	ds_error err = DS_ERROR_INIT;

	for (size_t i = 0; i < N_OF(spec_table); i++) {
		is_int(spec_has(spec_table[i].spec, spec_table[i].v, 0), spec_table[i].dflt,
		       "'%s' contains '%s'", spec_table[i].spec, spec_table[i].v);
		is_int(spec_has(spec_table[i].spec, spec_table[i].v, 1), spec_table[i].pre,
		       "'%s' contains '%s' (pre-releases allowed)", spec_table[i].spec,
		       spec_table[i].v);
	}
	for (size_t i = 0; i < N_OF(bad_specs); i++) {
		ds_pyspecset set;
		int rc = ds_pyspecset_parse(&set, bad_specs[i], &err);
		ok(rc < 0, "invalid specifier '%s'", bad_specs[i]);
		if (rc == 0)
			ds_pyspecset_release(&set);
	}
	ok(ds_pyspec_parse(&s, ">=1.0+local", &err) < 0 && strstr(err.msg, "local version"),
	   "a local label with '>=' is explained: %s", err.msg);
	ok(ds_pyspec_parse(&s, "~=1", &err) < 0 && strstr(err.msg, "two release"),
	   "'~=1' is explained: %s", err.msg);
	ok(ds_pyspec_parse(&s, ">=1.0.*", &err) < 0 && strstr(err.msg, "'.*'"),
	   "'>=1.0.*' is explained: %s", err.msg);
	ok(ds_pyspec_parse(&s, "== 1.4.*", &err) == 0 && s.op == DS_PYSPEC_EQ && s.wildcard &&
		   s.version.n_release == 2,
	   "'== 1.4.*' parses as a wildcard on 1.4");
	ok(ds_pyspec_parse(&s, "~=2.2", &err) == 0 && !ds_pyspec_allows_prereleases(&s),
	   "'~=2.2' does not allow pre-releases");
	ok(ds_pyspec_parse(&s, "<=2.2rc1", &err) == 0 && ds_pyspec_allows_prereleases(&s),
	   "'<=2.2rc1' allows pre-releases");
	ok(ds_pyspec_parse(&s, "<2.2rc1", &err) == 0 && !ds_pyspec_allows_prereleases(&s),
	   "'<2.2rc1' does not (exclusive)");
}

static void formats(void)
{
	ds_pyspecset s, t;
	ds_buf b;
	ds_error err = DS_ERROR_INIT;

	ds_buf_init(&b, 0);
	ok(ds_pyspecset_parse(&s, " <2 , >= 1.0A1, !=1.5.*, ===Odd, ~=1.4.0", &err) == 0,
	   "set with five specifiers");
	ok(ds_pyspecset_format(&s, &b, &err) == 0, "format");
	is_str(b.data, "!=1.5.*,<2,===Odd,>=1.0a1,~=1.4.0", "canonical text, sorted");
	ds_buf_reset(&b);
	ok(ds_pyspecset_parse(&t, "<1.9", &err) == 0 && ds_pyspecset_merge(&t, &s, &err) == 0 &&
		   t.n == 6,
	   "merge appends");
	ds_pyspecset_format(&t, &b, &err);
	is_str(b.data, "!=1.5.*,<1.9,<2,===Odd,>=1.0a1,~=1.4.0", "merged text");
	ds_pyspecset_release(&s);
	ds_pyspecset_release(&t);
	ds_buf_release(&b);
}

static void filtering(void)
{
	static const char *const avail[] = { "1.0", "1.1", "2.0a1", "2.0" };
	static const char *const only_pre[] = { "0.9", "2.0a1", "2.0b1" };
	ds_pyver v[4];
	unsigned char keep[4];
	ds_pyspecset s;

	for (int i = 0; i < 4; i++)
		ds_pyver_parse(&v[i], avail[i], NULL);
	ds_pyspecset_parse(&s, ">=1.0", NULL);
	is_int(ds_pyspecset_filter(&s, v, 4, 0, keep), 3, "finals kept, the pre-release not");
	ok(keep[0] && keep[1] && !keep[2] && keep[3], "which ones");
	is_int(ds_pyspecset_filter(&s, v, 4, 1, keep), 4, "--pre keeps the pre-release too");
	ds_pyspecset_release(&s);

	for (int i = 0; i < 3; i++)
		ds_pyver_parse(&v[i], only_pre[i], NULL);
	ds_pyspecset_parse(&s, ">=1.0", NULL);
	is_int(ds_pyspecset_filter(&s, v, 3, 0, keep), 2,
	       "only pre-releases match: they are taken (PEP 440)");
	ok(!keep[0] && keep[1] && keep[2], "which ones");
	ds_pyspecset_release(&s);
	ds_pyspecset_parse(&s, ">=3", NULL);
	is_int(ds_pyspecset_filter(&s, v, 3, 0, keep), 0, "nothing matches");
	ds_pyspecset_release(&s);
}

static void errors(void)
{
	ds_pyver v;
	ds_error err = DS_ERROR_INIT;

	ok(ds_pyver_parse(&v, "1.0-foo", &err) < 0 && err.code == DS_EINVAL &&
		   strstr(err.msg, "'1.0-foo'"),
	   "error names the version: %s", err.msg);
	ok(ds_pyver_parse(&v, "1.99999999999999999999", &err) < 0 && strstr(err.msg, "too large"),
	   "overflow explained: %s", err.msg);
	ok(ds_pyver_parse(&v, "x1", &err) < 0 && strstr(err.msg, "number"),
	   "must start with a number: %s", err.msg);
	ok(ds_pyver_parse(&v, "1.0\x01", &err) < 0 && !strchr(err.msg, '\x01'),
	   "control characters are not echoed");
	ds_pyver_parse(&v, "1!2.3rc4.post5.dev6+a.b", NULL);
	ok(v.epoch == 1 && v.n_release == 2 && v.release[1] == 3 && v.pre_kind == DS_PYVER_PRE_RC &&
		   v.pre == 4 && v.has_post && v.post == 5 && v.has_dev && v.dev == 6 &&
		   strcmp(v.local, "a.b") == 0,
	   "parts");
	ok(ds_pyver_is_prerelease(&v) && ds_pyver_is_postrelease(&v), "flags");
	{
		ds_pyver b, p;
		char buf[DS_PYVER_STRING_MAX];
		ds_pyver_base(&b, &v);
		ds_pyver_public(&p, &v);
		is_str(ds_pyver_format(&b, buf, sizeof(buf)), "1!2.3", "base version");
		is_str(ds_pyver_format(&p, buf, sizeof(buf)), "1!2.3rc4.post5.dev6", "public version");
		is_str(ds_pyver_format(&v, buf, 8), "1!2.3rc", "format truncates to the buffer");
	}
}

static void against_packaging(void)
{
	size_t nv = N_OF(corpus_versions), ns = N_OF(corpus_specs), n;
	const char **in;
	char **out;
	size_t k = 0;
	int bad = 0;

	/* canonical forms and validity, including the tables above */
	in = calloc(nv + N_OF(normal) + N_OF(invalid), sizeof(*in));
	for (size_t i = 0; i < nv; i++)
		in[k++] = corpus_versions[i];
	for (size_t i = 0; i < N_OF(normal); i++)
		if (!strchr(normal[i].in, '\n'))
			in[k++] = normal[i].in;
	for (size_t i = 0; i < N_OF(invalid); i++)
		if (!strchr(invalid[i], '\x01') && invalid[i][0] &&
		    strspn(invalid[i], "0123456789.") != strlen(invalid[i]))
			in[k++] = invalid[i];
	out = pyref_run("versions", in, k, NULL, &n);
	if (!out) {
		ok(0, PYREF_MISSING);
		free(in);
		return;
	}
	for (size_t i = 0; i < k && i < n; i++)
		if (strcmp(canon(in[i]), out[i]) != 0) {
			bad++;
			printf("# '%s': ours '%s', packaging '%s'\n", in[i], canon(in[i]), out[i]);
		}
	is_int(bad, 0, "%zu versions parse and normalise as packaging does", k);
	pyref_free(out, n);
	free(in);

	/* every pair ordered */
	{
		char **pairs = calloc(nv * nv, sizeof(*pairs));
		bad = 0;
		for (size_t i = 0; i < nv; i++)
			for (size_t j = 0; j < nv; j++)
				pairs[i * nv + j] = tu_fmt("%s\t%s", corpus_versions[i], corpus_versions[j]);
		out = pyref_run("compare", (const char *const *)pairs, nv * nv, NULL, &n);
		ok(out && n == nv * nv, "packaging compared %zu pairs", nv * nv);
		for (size_t i = 0; out && i < nv; i++)
			for (size_t j = 0; j < nv; j++) {
				int theirs = atoi(out[i * nv + j]);
				int mine = cmp(corpus_versions[i], corpus_versions[j]);
				if (mine != theirs) {
					bad++;
					printf("# '%s' vs '%s': ours %d, packaging %d\n", corpus_versions[i],
					       corpus_versions[j], mine, theirs);
				}
			}
		is_int(bad, 0, "every pair of versions ordered as packaging orders them");
		pyref_free(out, n);
		for (size_t i = 0; i < nv * nv; i++)
			free(pairs[i]);
		free(pairs);
	}

	/* every specifier against every version, both pre-release modes */
	{
		size_t total = ns * nv + N_OF(spec_table) + N_OF(bad_specs), m = 0;
		char **cases = calloc(total, sizeof(*cases));
		bad = 0;
		for (size_t i = 0; i < ns; i++)
			for (size_t j = 0; j < nv; j++)
				cases[m++] = tu_fmt("%s\t%s", corpus_specs[i], corpus_versions[j]);
		for (size_t i = 0; i < N_OF(spec_table); i++)
			cases[m++] = tu_fmt("%s\t%s", spec_table[i].spec, spec_table[i].v);
		for (size_t i = 0; i < N_OF(bad_specs); i++)
			cases[m++] = tu_fmt("%s\t1.0", bad_specs[i]);
		out = pyref_run("specs", (const char *const *)cases, m, NULL, &n);
		ok(out && n == m, "packaging answered %zu specifier cases", m);
		for (size_t i = 0; out && i < m; i++) {
			char *tab = strchr(cases[i], '\t'), mine[32];
			int a, b;
			*tab = '\0';
			a = spec_has(cases[i], tab + 1, 1);
			b = spec_has(cases[i], tab + 1, 0);
			if (a == -1)
				snprintf(mine, sizeof(mine), "INVALID");
			else
				snprintf(mine, sizeof(mine), "%d %d", a, b);
			if (strcmp(mine, out[i]) != 0) {
				bad++;
				printf("# '%s' contains '%s': ours '%s', packaging '%s'\n", cases[i],
				       tab + 1, mine, out[i]);
			}
		}
		is_int(bad, 0, "every specifier decides as packaging does");
		pyref_free(out, n);
		for (size_t i = 0; i < m; i++)
			free(cases[i]);
		free(cases);
	}
}

int main(void)
{
	pep440_examples();
	specifier_tables();
	formats();
	filtering();
	errors();
	against_packaging();
	return done_testing();
}
