/* dpkg version comparison: a fixed table, then every pair of a list of
 * tricky versions checked against `dpkg --compare-versions` itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <dsbuild/debian.h>

#include "tap.h"

static int sign(int x)
{
	return x < 0 ? -1 : x > 0;
}

static const struct {
	const char *a, *b;
	int want;
} table[] = {
	{ "1.0", "1.0", 0 },
	{ "1.0", "1.0-0", 0 },       /* no revision == revision "0" */
	{ "1.0-0", "1.0", 0 },
	{ "0:1.0", "1.0", 0 },
	{ "1.0", "1.1", -1 },
	{ "1.0", "1:0.1", -1 },      /* epoch wins */
	{ "2:1.0", "10:0.1", -1 },   /* epochs compare as numbers */
	{ "1.0~rc1", "1.0", -1 },    /* ~ sorts before the end */
	{ "1.0~~", "1.0~", -1 },
	{ "1.0~~a", "1.0~~", 1 },
	{ "1.0~", "1.0", -1 },
	{ "1.0", "1.0a", -1 },       /* end before letters */
	{ "1.0a", "1.0+", -1 },      /* letters before non-letters */
	{ "1.0+", "1.0.", -1 },      /* '+' < '.' in ASCII */
	{ "1.0.", "1.0-", 1 },
	{ "1.2.10", "1.2.9", 1 },    /* digits numerically */
	{ "1.002", "1.2", 0 },       /* leading zeros */
	{ "1.0-1", "1.0-1+b1", -1 },
	{ "1.0-1+deb12u1", "1.0-1+deb12u2", -1 },
	{ "1.0-1~bpo12+1", "1.0-1", -1 },
	{ "3.11.2-6", "3.11.2-6+deb12u1", -1 },
	{ "1.0-a-b", "1.0-a", 1 },   /* revision after the LAST hyphen */
	{ "a", "b", -1 },
	{ "1:1.0-1", "1:1.0-1", 0 },
	{ "9", "10", -1 },
	{ "1.0-10", "1.0-9", 1 },
	{ "2.36-9+deb12u4", "2.36-9+deb12u10", -1 },
};

/* Versions whose every pair is checked against dpkg. */
static const char *const corpus[] = {
	"0", "0.0", "0.1", "1", "1.0", "1.00", "1.0-0", "1.0-1", "1.0-1.1", "1.0-1+b1",
	"1.0-1~bpo1", "1.0-1build1", "1.0~", "1.0~~", "1.0~rc1", "1.0~rc1-1", "1.0a", "1.0A",
	"1.0+dfsg", "1.0+dfsg-1", "1.0.1", "1.0.1~beta", "1.0-a", "1.0-a-b", "1:0", "1:1.0",
	"1:1.0-1", "2:0.1", "10:0.1", "1.2.3-4+deb12u1", "1.2.3-4+deb12u10", "1.2.3-4+deb11u9",
	"3.11.2-6", "3.11.2-6+deb12u1", "3.11.2-6+b1", "2.36-9+deb12u4", "9", "10", "010",
	"1.0+", "1.0.", "1:1.0:1", "1:1.0-1:2-3", "0.0~git20230101.abc-1", "20230101", "1.0-0.1",
	"1a", "1Z", "1z", "1.~", "1.0-~", "5.2.15-2+b2", "2023c-5", "2024a-0+deb12u1",
};

static int dpkg_cmp(const char *a, const char *op, const char *b)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), "dpkg --compare-versions '%s' %s '%s' 2>/dev/null", a, op, b);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) == 0;
}

int main(void)
{
	size_t n = sizeof(corpus) / sizeof(corpus[0]);
	int mismatches = 0, checked = 0;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		is_int(sign(ds_debian_version_compare(table[i].a, table[i].b)), table[i].want,
		       "'%s' vs '%s'", table[i].a, table[i].b);
		is_int(sign(ds_debian_version_compare(table[i].b, table[i].a)), -table[i].want,
		       "'%s' vs '%s' (reversed)", table[i].b, table[i].a);
	}

	ok(ds_debian_version_valid("1:2.3-4"), "valid: epoch, upstream, revision");
	ok(ds_debian_version_valid("0.0~git1+ds-1.1~bpo12+1"), "valid: all punctuation");
	ok(!ds_debian_version_valid(""), "invalid: empty");
	ok(!ds_debian_version_valid("a1.0"), "invalid: upstream not starting with a digit");
	ok(!ds_debian_version_valid("x:1.0"), "invalid: non-numeric epoch");
	ok(!ds_debian_version_valid(":1.0"), "invalid: empty epoch");
	ok(!ds_debian_version_valid("1.0-"), "invalid: empty revision");
	ok(!ds_debian_version_valid("1.0 1"), "invalid: space");
	ok(!ds_debian_version_valid("1.0_1"), "invalid: underscore");
	ok(!ds_debian_version_valid("1.0-1:2"), "invalid: colon in revision");
	ok(!ds_debian_version_valid("99999999999:1"), "invalid: epoch overflow");

	if (system("dpkg --version >/dev/null 2>&1") != 0) {
		ok(0, "dpkg is needed to check the comparison (apt-get install dpkg)");
		return done_testing();
	}
	for (size_t i = 0; i < n; i++) {
		/* dpkg is asked about each unordered pair once; our order must be
		 * antisymmetric as well */
		for (size_t j = i; j < n; j++) {
			int mine = sign(ds_debian_version_compare(corpus[i], corpus[j]));
			if (sign(ds_debian_version_compare(corpus[j], corpus[i])) != -mine) {
				mismatches++;
				printf("# '%s' vs '%s': not antisymmetric\n", corpus[i], corpus[j]);
			}
			int lt = dpkg_cmp(corpus[i], "lt", corpus[j]);
			int eq = lt == 1 ? 0 : dpkg_cmp(corpus[i], "eq", corpus[j]);
			int theirs = lt == 1 ? -1 : eq == 1 ? 0 : 1;
			checked++;
			if (!ds_debian_version_valid(corpus[i]) || lt < 0 || eq < 0 ||
			    mine != theirs) {
				mismatches++;
				printf("# '%s' vs '%s': ours %d, dpkg %d\n", corpus[i], corpus[j], mine,
				       theirs);
			}
		}
	}
	is_int(mismatches, 0, "%d pairs agree with dpkg --compare-versions", checked);
	return done_testing();
}
