/* The resolver over a find-links folder of generated wheels: newest first,
 * dependencies, backtracking, conflict reports, markers, extras,
 * pre-releases, tag priority, constraints, missing and source-only
 * projects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dsbuild/pydeps.h>

#include "../../lib/python/pydeps_int.h"
#include "pywheel_util.h"
#include "tap.h"

static char dir[256];
static ds_pyenv env;
static ds_pytags *tags;

static void wheel(const char *name, const char *ver, const char *tag, const char *r1,
		  const char *r2)
{
	const char *reqs[] = {r1, r2, NULL};
	tw_file f = {"pkg_x/__init__.py", "", 0, 0, 0};
	char d[512];

	snprintf(d, sizeof(d), "%s/%s", dir, "links");
	mkdir(d, 0755);
	tw_wheel(d, name, ver, tag ? tag : "py3-none-any", reqs, &f, 1, NULL, 0);
}

typedef struct result {
	int rc;
	ds_error err;
	char set[2048]; /* "a==1 b==2" */
} result;

static result resolve(const char *const *reqs, const char *const *cons, int pre)
{
	result res = {0};
	pyindex *ix = NULL;
	char links[512];
	const char *fl[] = {links};
	pyindex_opts io = {0};
	pyresolve_opts ro = {0};
	pyroot roots[16] = {0}, cr[16] = {0};
	ds_pyreq *owned[32] = {0};
	char origins[32][64];
	size_t n = 0, nc = 0, no = 0;
	pypick *picks = NULL;
	size_t np = 0;

	snprintf(links, sizeof(links), "%s/links", dir);
	io.find_links = fl;
	io.n_find_links = 1;
	if (pyindex_new(&ix, &io, &res.err) < 0) {
		res.rc = -1;
		return res;
	}
	for (; reqs[n]; n++) {
		ds_pyreq_parse(&owned[no], reqs[n], &res.err);
		snprintf(origins[no], sizeof(origins[no]), "requirements.txt line %zu", n + 1);
		roots[n].req = owned[no];
		roots[n].origin = origins[no++];
	}
	for (; cons && cons[nc]; nc++) {
		ds_pyreq_parse(&owned[no], cons[nc], &res.err);
		snprintf(origins[no], sizeof(origins[no]), "constraints.txt line %zu", nc + 1);
		cr[nc].req = owned[no];
		cr[nc].origin = origins[no++];
	}
	ro.env = &env;
	ro.tags = tags;
	ro.pre = pre;
	ro.constraints = cr;
	ro.n_constraints = nc;
	res.rc = pyresolve(&picks, &np, ix, roots, n, &ro, &res.err);
	for (size_t i = 0; res.rc == 0 && i < np; i++) {
		size_t l = strlen(res.set);
		snprintf(res.set + l, sizeof(res.set) - l, "%s%s==%s", i ? " " : "", picks[i].key,
			 picks[i].version);
	}
	if (res.rc == 0 && np) {
		/* the tag choice is visible in the file name */
		for (size_t i = 0; i < np; i++)
			if (!strcmp(picks[i].key, "fast")) {
				size_t l = strlen(res.set);
				snprintf(res.set + l, sizeof(res.set) - l, " [%s]",
					 picks[i].file->filename);
			}
	}
	pypicks_free(picks, np);
	pyindex_free(ix);
	for (size_t i = 0; i < no; i++)
		ds_pyreq_free(owned[i]);
	return res;
}

#define R(...) ((const char *const[]){__VA_ARGS__, NULL})

int main(void)
{
	ds_pytarget t = {"3.11", "2.36", NULL, "x86_64"};
	result r;

	snprintf(dir, sizeof(dir), "/tmp/ds-test-resolve.%d", (int)getpid());
	mkdir(dir, 0700);
	ds_pyenv_for_target(&env, "3.11", "3.11.2", "linux/amd64", NULL);
	ds_pytags_supported(&tags, &t, NULL);

	wheel("top", "1.0", NULL, "mid>=1", NULL);
	wheel("top", "2.0", NULL, "mid>=2", "old ; python_version < \"3\"");
	wheel("mid", "1.0", NULL, NULL, NULL);
	wheel("mid", "2.0", NULL, NULL, NULL);
	wheel("mid", "3.0b1", NULL, NULL, NULL);
	/* backtracking: left 2 needs pin==1, right needs pin==2 */
	wheel("left", "1.0", NULL, NULL, NULL);
	wheel("left", "2.0", NULL, "pin==1", NULL);
	wheel("right", "1.0", NULL, "pin==2", NULL);
	wheel("pin", "1", NULL, NULL, NULL);
	wheel("pin", "2", NULL, NULL, NULL);
	/* conflict */
	wheel("scikit_learn", "1.5", NULL, "numpy>=1.22", NULL);
	wheel("numpy", "1.21", NULL, NULL, NULL);
	wheel("numpy", "1.26", NULL, NULL, NULL);
	/* extras */
	wheel("withx", "1.0", NULL, "extradep ; extra == \"fancy\"", NULL);
	wheel("extradep", "0.1", NULL, NULL, NULL);
	/* tags: the compiled wheel wins, an unsupported one is never chosen */
	wheel("fast", "1.0", NULL, NULL, NULL);
	wheel("fast", "1.0", "cp311-cp311-manylinux_2_17_x86_64", NULL, NULL);
	wheel("fast", "9.0", "cp27-cp27mu-manylinux1_x86_64", NULL, NULL);
	wheel("fast", "8.0", "cp311-cp311-manylinux_2_39_x86_64", NULL, NULL);
	/* only pre-releases */
	wheel("onlypre", "1.0a1", NULL, NULL, NULL);
	{
		char p[512];
		FILE *f;
		snprintf(p, sizeof(p), "%s/links/srconly-1.0.tar.gz", dir);
		f = fopen(p, "w");
		if (f) {
			fputs("x", f);
			fclose(f);
		}
	}

	r = resolve(R("top"), NULL, 0);
	ok(r.rc == 0, "top resolves: %s", r.err.msg);
	is_str(r.set, "mid==2.0 top==2.0", "newest versions, no pre-release, marker false skipped");

	r = resolve(R("top"), NULL, 1);
	is_str(r.set, "mid==3.0b1 top==2.0", "--pre takes the pre-release");

	r = resolve(R("top", "mid<2"), NULL, 0);
	ok(r.rc == 0, "backtracks over top: %s", r.err.msg);
	is_str(r.set, "mid==1.0 top==1.0", "top 2 needs mid>=2, so top 1");

	r = resolve(R("left", "right"), NULL, 0);
	ok(r.rc == 0, "backtracking: %s", r.err.msg);
	is_str(r.set, "left==1.0 pin==2 right==1.0", "left 2 conflicts with right's pin==2");

	r = resolve(R("scikit-learn", "numpy==1.21"), NULL, 0);
	ok(r.rc < 0 && r.err.code == DS_EINVAL, "conflict is an error");
	is_str(r.err.msg,
	       "scikit-learn 1.5 requires numpy>=1.22, but requirements.txt line 2 asks "
	       "for numpy==1.21",
	       "the conflict names both sides");
	ok(strstr(r.err.hint, "numpy") != NULL, "hint names the project: %s", r.err.hint);

	r = resolve(R("scikit-learn"), R("numpy<1.22"), 0);
	ok(r.rc < 0, "a constraint can make it impossible");
	ok(strstr(r.err.msg, "numpy") != NULL, "message: %s", r.err.msg);

	r = resolve(R("numpy"), R("numpy<1.22"), 0);
	is_str(r.set, "numpy==1.21", "constraints narrow versions");

	r = resolve(R("withx"), NULL, 0);
	is_str(r.set, "withx==1.0", "extra dependency left out without the extra");
	r = resolve(R("withx[fancy]"), NULL, 0);
	is_str(r.set, "extradep==0.1 withx==1.0", "extra dependency pulled by [fancy]");
	r = resolve(R("withx", "WithX[Fancy]"), NULL, 0);
	is_str(r.set, "extradep==0.1 withx==1.0", "extras added to a pinned project");

	r = resolve(R("fast"), NULL, 0);
	is_str(r.set, "fast==1.0 [fast-1.0-cp311-cp311-manylinux_2_17_x86_64.whl]",
	       "best tag: compiled manylinux wheel, cp27 and glibc 2.39 refused");

	r = resolve(R("onlypre"), NULL, 0);
	is_str(r.set, "onlypre==1.0a1", "a pre-release when it is the only version");

	r = resolve(R("nosuchpkg"), NULL, 0);
	ok(r.rc < 0 && r.err.code == DS_ENOENT, "unknown project: %s", r.err.msg);
	ok(strstr(r.err.msg, "nosuchpkg") && strstr(r.err.msg, "line 1"), "names it and where");

	r = resolve(R("srconly"), NULL, 0);
	ok(r.rc < 0 && r.err.code == DS_EUNSUPPORTED, "source-only: %s", r.err.msg);
	ok(strstr(r.err.hint, "--find-links") != NULL, "hint says how: %s", r.err.hint);

	r = resolve(R("mid>=9"), NULL, 0);
	ok(r.rc < 0 && strstr(r.err.msg, "no version of 'mid' matches mid>=9"), "no match: %s",
	   r.err.msg);
	ok(strstr(r.err.msg, "2.0") != NULL, "lists what there is");

	ds_pytags_free(tags);
	{
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# cannot remove %s\n", dir);
	}
	return done_testing();
}
