/* Wheel file names and the tags a target supports: parsing tables, then
 * the whole ordered tag list for several targets compared with what
 * Debian's python3-packaging (packaging.tags) generates for them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/python.h>

#include "testutil.h"
#include "pyref.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static char *tags_of(const ds_pywheel_name *w)
{
	ds_buf b;

	ds_buf_init(&b, 0);
	for (size_t i = 0; i < w->n_tags; i++)
		ds_buf_addf(&b, "%s%s-%s-%s", i ? " " : "", w->tags[i].interpreter, w->tags[i].abi,
			    w->tags[i].platform);
	return ds_buf_detach(&b, NULL);
}

static const struct {
	const char *file, *key, *version, *build, *tags;
} wheels[] = {
	{ "pip-23.0.1-py3-none-any.whl", "pip", "23.0.1", "", "py3-none-any" },
	{ "six-1.16.0-py2.py3-none-any.whl", "six", "1.16.0", "", "py2-none-any py3-none-any" },
	{ "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "numpy",
	  "1.26.4", "",
	  "cp311-cp311-manylinux_2_17_x86_64 cp311-cp311-manylinux2014_x86_64" },
	{ "scikit_learn-1.5.0-cp311-cp311-manylinux_2_36_x86_64.whl", "scikit-learn", "1.5.0", "",
	  "cp311-cp311-manylinux_2_36_x86_64" },
	{ "Foo.Bar-1.0-1build-py3-none-any.whl", "foo-bar", "1.0", "1build", "py3-none-any" },
	{ "pkg-2.0-12-CP39.CP310-ABI3-LINUX_X86_64.whl", "pkg", "2.0", "12",
	  "cp39-abi3-linux_x86_64 cp310-abi3-linux_x86_64" },
	{ "https://download.example.org/whl/torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl?x=1#sha256=00",
	  "torch", "2.1.0+cpu", "", "cp311-cp311-linux_x86_64" },
	{ "./wheels/cryptography-42.0.5-cp39-abi3-musllinux_1_2_aarch64.whl", "cryptography",
	  "42.0.5", "", "cp39-abi3-musllinux_1_2_aarch64" },
	{ "a-1-py3.py3-none.none-any.any.whl", "a", "1", "", "py3-none-any" },
};

static const struct {
	const char *file, *err;
} bad_wheels[] = {
	{ "pip-23.0.1-py3-none-any.zip", "does not end in '.whl'" },
	{ "pip-23.0.1-py3-none.whl", "expected name-version" },
	{ "a-b-c-d-e-f-g.whl", "expected name-version" },
	{ "p__p-1.0-py3-none-any.whl", "invalid project name" },
	{ "p-p-1.0-py3-none-any.whl", "invalid version" }, /* '-' in the name is not escaped */
	{ "pip-1.0-x-py3-none-any.whl", "build tag must start with a number" },
	{ "pip-one-py3-none-any.whl", "invalid version" },
	{ "pip-1.0-py3..py2-none-any.whl", "invalid compatibility tags" },
	{ "pip-1.0--none-any.whl", "invalid compatibility tags" },
	{ "pip-1.0-py3-none-an$y.whl", "invalid compatibility tags" },
	{ ".whl", "expected name-version" },
};

static void wheel_names(void)
{
	ds_error err = DS_ERROR_INIT;

	for (size_t i = 0; i < N_OF(wheels); i++) {
		ds_pywheel_name *w;
		char v[DS_PYVER_STRING_MAX], *t;
		if (ds_pywheel_name_parse(&w, wheels[i].file, &err) < 0) {
			ok(0, "parse '%s': %s", wheels[i].file, err.msg);
			continue;
		}
		is_str(w->key, wheels[i].key, "'%s': key", wheels[i].file);
		is_str(ds_pyver_format(&w->version, v, sizeof(v)), wheels[i].version, "  version");
		if (wheels[i].build[0]) {
			char b[64];
			snprintf(b, sizeof(b), "%llu%s", (unsigned long long)w->build_num, w->build_tag);
			ok(w->has_build, "  has a build tag");
			is_str(b, wheels[i].build, "  build tag");
		} else {
			ok(!w->has_build, "  no build tag");
		}
		t = tags_of(w);
		is_str(t, wheels[i].tags, "  tags");
		free(t);
		ds_pywheel_name_free(w);
	}
	for (size_t i = 0; i < N_OF(bad_wheels); i++) {
		ds_pywheel_name *w;
		ok(ds_pywheel_name_parse(&w, bad_wheels[i].file, &err) < 0, "refused '%s'",
		   bad_wheels[i].file);
		has_str(err.msg, bad_wheels[i].err, "  %s", bad_wheels[i].err);
	}
	{
		/* a compressed tag set too large to expand */
		char name[4096] = "p-1.0-";
		for (int i = 0; i < 40; i++)
			strcat(name, i ? ".py3x" : "py3x");
		strcat(name, "-");
		for (int i = 0; i < 40; i++)
			strcat(name, i ? ".abiz" : "abiz");
		strcat(name, "-any.whl");
		ds_pywheel_name *w;
		ok(ds_pywheel_name_parse(&w, name, &err) < 0, "1600 tags refused");
	}
}

static void sdist_names(void)
{
	char *name = NULL, v[DS_PYVER_STRING_MAX];
	ds_pyver ver;
	ds_error err = DS_ERROR_INIT;

	ok(ds_pysdist_name_parse(&name, &ver, "https://h/p/scikit-learn-1.5.0rc1.tar.gz", &err) == 0,
	   "sdist .tar.gz");
	is_str(name, "scikit-learn", "  name: up to the last '-'");
	is_str(ds_pyver_format(&ver, v, sizeof(v)), "1.5.0rc1", "  version");
	free(name);
	ok(ds_pysdist_name_parse(&name, &ver, "zope.interface-6.0.zip", &err) == 0 &&
		   strcmp(name, "zope.interface") == 0,
	   "sdist .zip");
	free(name);
	ok(ds_pysdist_name_parse(&name, &ver, "pkg-1.0.tar.bz2", &err) < 0 &&
		   strstr(err.msg, ".tar.gz or .zip"),
	   "other archives refused: %s", err.msg);
	ok(ds_pysdist_name_parse(&name, &ver, "pkg.tar.gz", &err) < 0, "no version refused");
	ok(ds_pysdist_name_parse(&name, &ver, "pkg-x.y.tar.gz", &err) < 0, "bad version refused");
}

static char *tag_text(const ds_pytag *t)
{
	return tu_fmt("%s-%s-%s", t->interpreter, t->abi, t->platform);
}

/* The same in a static buffer, for one-off checks. */
static const char *tag_str(const ds_pytag *t)
{
	static char buf[3 * DS_PYTAG_PART_MAX];

	snprintf(buf, sizeof(buf), "%s-%s-%s", t->interpreter, t->abi, t->platform);
	return buf;
}

static const struct {
	const char *python, *glibc, *arch, *musl;
	size_t count; /* hand-computed size of the list */
} targets[] = {
	{ "3.11", "2.36", "x86_64", NULL, 914 },
	{ "3.11", "2.17", "aarch64", NULL, 3 * 3 + 9 * 3 + 13 * 3 + 1 + 13 },
	{ "3.12", "2.31", "aarch64", NULL, 0 },
	{ "3.9", "2.28", "x86_64", NULL, 0 },
	{ "3.7", "2.17", "x86_64", NULL, 0 },
	{ "3.11", "2.36", "armv7l", NULL, 0 },
	{ "3.10", "2.35", "i686", NULL, 0 },
	{ "3.11", "2.36", "ppc64le", NULL, 0 },
	{ "3.11", "2.36", "s390x", NULL, 0 },
	{ "3.13", "2.39", "x86_64", NULL, 0 },
	{ "3.11", NULL, "aarch64", "1.2", 0 },
	{ "3.11", "2.5", "x86_64", NULL, 0 },
	{ "3.2", "2.17", "x86_64", NULL, 0 },
};

static void against_packaging(void)
{
	ds_error err = DS_ERROR_INIT;

	for (size_t i = 0; i < N_OF(targets); i++) {
		ds_pytarget t = { targets[i].python, targets[i].glibc, targets[i].musl,
				  targets[i].arch };
		ds_pytags *tags;
		char args[256], **out;
		size_t n;
		int bad = 0;

		snprintf(args, sizeof(args), "%s %s %s %s", targets[i].python,
			 targets[i].glibc ? targets[i].glibc : "-", targets[i].arch,
			 targets[i].musl ? targets[i].musl : "");
		if (ds_pytags_supported(&tags, &t, &err) < 0) {
			ok(0, "tags for %s: %s", args, err.msg);
			continue;
		}
		if (targets[i].count)
			is_int(ds_pytags_count(tags), targets[i].count, "%s: %zu tags", args,
			       targets[i].count);
		out = pyref_run("tags", NULL, 0, args, &n);
		if (!out) {
			ok(0, PYREF_MISSING);
			ds_pytags_free(tags);
			return;
		}
		is_int(ds_pytags_count(tags), n, "%s: as many tags as packaging.tags", args);
		for (size_t k = 0; k < n && k < ds_pytags_count(tags); k++) {
			char *mine = tag_text(ds_pytags_get(tags, k));
			if (strcmp(mine, out[k]) != 0 && bad++ < 5)
				printf("# [%zu] ours %s, packaging %s\n", k, mine, out[k]);
			free(mine);
		}
		is_int(bad, 0, "%s: the same tags in the same order", args);
		/* every tag's priority is its index */
		bad = 0;
		for (size_t k = 0; k < ds_pytags_count(tags); k++) {
			const ds_pytag *g = ds_pytags_get(tags, k);
			if (ds_pytags_priority(tags, g->interpreter, g->abi, g->platform) != (long)k)
				bad++;
		}
		is_int(bad, 0, "%s: priority of each tag is its index", args);
		pyref_free(out, n);
		ds_pytags_free(tags);
	}
}

static void by_hand(void)
{
	ds_pytarget t = { "3.11", "2.36", NULL, "linux/amd64" };
	ds_pytags *tags;
	ds_error err = DS_ERROR_INIT;
	long p_many, p_2014, p_abi3, p_none, p_pure, p_any;

	ok(ds_pytags_supported(&tags, &t, &err) == 0, "3.11 / glibc 2.36 / linux/amd64");
	is_str(tag_str(ds_pytags_get(tags, 0)), "cp311-cp311-manylinux_2_36_x86_64", "best tag");
	is_str(tag_str(ds_pytags_get(tags, ds_pytags_count(tags) - 1)), "py30-none-any",
	       "worst tag");
	p_many = ds_pytags_priority(tags, "cp311", "cp311", "manylinux_2_28_x86_64");
	p_2014 = ds_pytags_priority(tags, "cp311", "cp311", "manylinux2014_x86_64");
	p_abi3 = ds_pytags_priority(tags, "cp39", "abi3", "manylinux_2_17_x86_64");
	p_none = ds_pytags_priority(tags, "cp311", "none", "linux_x86_64");
	p_pure = ds_pytags_priority(tags, "py3", "none", "any");
	p_any = ds_pytags_priority(tags, "cp311", "none", "any");
	ok(p_many >= 0 && p_many < p_2014 && p_2014 < p_abi3 && p_none < p_abi3 &&
		   p_abi3 < p_any && p_any < p_pure,
	   "order: manylinux_2_28 < manylinux2014 < none-linux < cp39-abi3 < cp311-none-any < "
	   "py3-none-any");
	is_int(ds_pytags_priority(tags, "cp311", "cp311", "manylinux_2_37_x86_64"), -1,
	       "newer glibc than the target: unsupported");
	is_int(ds_pytags_priority(tags, "cp311", "cp311", "musllinux_1_2_x86_64"), -1,
	       "musllinux on a glibc target: unsupported");
	is_int(ds_pytags_priority(tags, "cp312", "cp312", "manylinux_2_17_x86_64"), -1,
	       "another Python: unsupported");
	is_int(ds_pytags_priority(tags, "cp311", "cp311", "manylinux_2_17_aarch64"), -1,
	       "another arch: unsupported");
	is_int(ds_pytags_priority(tags, "cp312", "abi3", "manylinux_2_17_x86_64"), -1,
	       "abi3 of a newer Python: unsupported");
	{
		ds_pywheel_name *w;
		ds_pywheel_name_parse(&w,
				      "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
				      &err);
		is_int(ds_pywheel_priority(tags, w),
		       ds_pytags_priority(tags, "cp311", "cp311", "manylinux_2_17_x86_64"),
		       "a wheel's priority is its best tag's");
		ds_pywheel_name_free(w);
		ds_pywheel_name_parse(&w, "numpy-1.26.4-cp312-cp312-win_amd64.whl", &err);
		is_int(ds_pywheel_priority(tags, w), -1, "a Windows wheel: unsupported");
		ds_pywheel_name_free(w);
	}
	ds_pytags_free(tags);

	{
		ds_pytarget r = { "3.11", "2.36", NULL, "riscv64" };
		ok(ds_pytags_supported(&tags, &r, &err) == 0, "riscv64");
		is_str(tag_str(ds_pytags_get(tags, 0)), "cp311-cp311-manylinux_2_36_riscv64",
		       "riscv64 gets manylinux tags (packaging >= 24)");
		is_int(ds_pytags_priority(tags, "cp311", "cp311", "manylinux_2_17_riscv64"),
		       ds_pytags_priority(tags, "cp311", "cp311", "manylinux2014_riscv64") - 1,
		       "down to 2_17 and its alias");
		is_int(ds_pytags_priority(tags, "cp311", "cp311", "manylinux_2_16_riscv64"), -1,
		       "not below 2_17");
		ds_pytags_free(tags);
	}
	{
		ds_pytarget g = { "3.11", NULL, NULL, "x86_64" };
		ok(ds_pytags_supported(&tags, &g, &err) == 0, "unknown libc");
		is_str(tag_str(ds_pytags_get(tags, 0)), "cp311-cp311-linux_x86_64",
		       "only linux_x86_64");
		ds_pytags_free(tags);
	}
	{
		ds_pytarget b1 = { "2.7", "2.36", NULL, "x86_64" };
		ds_pytarget b2 = { "3.11", "two", NULL, "x86_64" };
		ds_pytarget b3 = { "3.11", "2.36", NULL, "windows/amd64" };
		ds_pytarget b4 = { "3.11", "2.36", "1.2", "x86_64" };
		ds_pytarget b5 = { "3", "2.36", NULL, "x86_64" };
		ok(ds_pytags_supported(&tags, &b1, &err) < 0, "Python 2 refused: %s", err.msg);
		ok(ds_pytags_supported(&tags, &b2, &err) < 0, "bad glibc refused: %s", err.msg);
		ok(ds_pytags_supported(&tags, &b3, &err) < 0 && err.code == DS_EUNSUPPORTED,
		   "windows refused: %s", err.msg);
		ok(ds_pytags_supported(&tags, &b4, &err) < 0, "glibc and musl refused");
		ok(ds_pytags_supported(&tags, &b5, &err) < 0, "'3' refused");
	}
}

int main(void)
{
	wheel_names();
	sdist_names();
	by_hand();
	against_packaging();
	return done_testing();
}
