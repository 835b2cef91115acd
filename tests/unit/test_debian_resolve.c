/* The dependency closure over a synthetic Packages file: alternatives,
 * virtual packages, versioned provides, version constraints, several
 * versions across indexes, cycles, Essential, conflicts, installed sets,
 * and the errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/debian.h>

#include "debian/index.h"
#include "tap.h"

#define PKG(name, ver, extra)                                                                     \
	"Package: " name "\nVersion: " ver "\nArchitecture: amd64\n" extra                        \
	"Filename: pool/" name "_" ver ".deb\nSize: 100\nSHA256: "                                \
	"0000000000000000000000000000000000000000000000000000000000000000\n\n"

static const char main_packages[] =
	PKG("libc6", "2.36-9", "Depends: libgcc-s1\nPriority: required\n")
	PKG("libgcc-s1", "12.2.0-14", "Depends: libc6 (>= 2.35)\n") /* cycle with libc6 */
	PKG("app", "1.0", "Depends: libfoo (>= 1.2), libc6\nPre-Depends: prep\n")
	PKG("prep", "1", "")
	PKG("libfoo", "1.3-1", "Depends: libc6 (>= 2.36)\n")
	PKG("uses-alt", "1", "Depends: not-there | libalt, liby | libz\n")
	PKG("libalt", "1", "")
	PKG("liby", "1", "")
	PKG("libz", "1", "")
	PKG("wants-mta", "1", "Depends: mail-transport-agent\n")
	PKG("postfix", "3.7", "Provides: mail-transport-agent\nPriority: optional\n")
	PKG("exim4-daemon-light", "4.96", "Provides: mail-transport-agent\nPriority: standard\n")
	PKG("wants-vapi", "1", "Depends: vapi (>= 2)\n")
	PKG("impl-old", "1", "Provides: vapi (= 1)\n")
	PKG("impl-new", "1", "Provides: vapi (= 3)\n")
	PKG("wants-unversioned", "1", "Depends: uapi (>= 1)\n")
	PKG("uapi-impl", "1", "Provides: uapi\n")
	PKG("libbar", "1.0-1", "")
	PKG("wants-old-bar", "1", "Depends: libbar (<< 2)\n")
	PKG("needs-new", "1", "Depends: libold (>= 2)\n")
	PKG("libold", "1.9", "")
	PKG("top", "1", "Depends: mid\n")
	PKG("mid", "1", "Depends: bottom\n")
	PKG("bottom", "1", "Depends: ghost (>= 1) | phantom\n")
	PKG("ess", "1", "Essential: yes\n")
	PKG("needs-ess", "1", "Depends: ess\n")
	PKG("x", "1", "")
	PKG("y", "1", "Conflicts: x\n")
	PKG("z", "1", "Breaks: x (<< 1)\nConflicts: zvirt\nProvides: zvirt\n")
	PKG("arched", "1", "Depends: onlyamd [amd64], onlyarm [arm64]\n")
	PKG("onlyamd", "1", "")
	"Package: onlyarm\nVersion: 1\nArchitecture: arm64\nFilename: pool/o.deb\nSize: 1\n"
	"SHA256: 0000000000000000000000000000000000000000000000000000000000000000\n\n"
	PKG("anyqual", "1", "Depends: python3:any (>= 3.11~)\n")
	PKG("python3", "3.11.2-1+b1", "")
	PKG("uses-dpkg", "1", "Depends: dpkg (>= 1.15) | install-info, libz\n")
	PKG("dpkg", "1.21", "Essential: yes\n")
	"Package: allpkg\nVersion: 1\nArchitecture: all\nDepends: libc6\nFilename: pool/a.deb\n"
	"Size: 1\nSHA256: 0000000000000000000000000000000000000000000000000000000000000000\n";

static const char security_packages[] =
	PKG("libbar", "2.0-1", "")
	PKG("libc6", "2.36-9+deb12u4", "Depends: libgcc-s1\nPriority: required\n");

static deb_index *ix;

/* Resolves space-separated requests; returns the names chosen, space
 * separated, or "ERROR: message". */
static char result[4096];
static size_t *last;
static size_t n_last;

static const char *resolve(const char *reqs, const size_t *installed, size_t n_installed)
{
	deb_dep req[16];
	size_t n_req = 0;
	ds_error err = DS_ERROR_INIT;
	char *copy = strdup(reqs), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (deb_request_parse(&req[n_req], t, &err) < 0) {
			snprintf(result, sizeof(result), "BAD REQUEST: %s", err.msg);
			free(copy);
			return result;
		}
		n_req++;
	}
	free(copy);
	free(last);
	last = NULL;
	n_last = 0;
	if (deb_resolve(&last, &n_last, ix, req, n_req, installed, n_installed, &err) < 0) {
		snprintf(result, sizeof(result), "ERROR(%d): %s", err.code, err.msg);
	} else {
		result[0] = '\0';
		for (size_t i = 0; i < n_last; i++) {
			const deb_pkg *p = deb_index_pkg(ix, last[i]);
			size_t l = strlen(result);
			snprintf(result + l, sizeof(result) - l, "%s%s=%s", i ? " " : "", p->name,
				 p->version);
		}
	}
	for (size_t i = 0; i < n_req; i++)
		deb_dep_release(&req[i]);
	return result;
}

int main(void)
{
	ds_error err = DS_ERROR_INIT;
	size_t *base;
	size_t n_base;

	ok(deb_index_new(&ix, "amd64", "testsuite", &err) == 0, "index created");
	ok(deb_index_add(ix, strdup(main_packages), strlen(main_packages), 0, "main", &err) == 0,
	   "main index added: %s", err.msg);
	ok(deb_index_add(ix, strdup(security_packages), strlen(security_packages), 1, "security",
			 &err) == 0,
	   "security index added: %s", err.msg);
	ok(deb_index_candidate(ix, "onlyarm") == (size_t)-1, "other architecture skipped");
	ok(deb_index_candidate(ix, "allpkg") != (size_t)-1, "Architecture: all kept");
	is_str(deb_index_pkg(ix, deb_index_candidate(ix, "libc6"))->version, "2.36-9+deb12u4",
	       "candidate is the highest version over all indexes");

	is_str(resolve("app", NULL, 0),
	       "app=1.0 libc6=2.36-9+deb12u4 libfoo=1.3-1 libgcc-s1=12.2.0-14 prep=1",
	       "closure with Pre-Depends, versions and a cycle (libc6 <-> libgcc-s1)");
	is_str(resolve("uses-alt,libz", NULL, 0), "libalt=1 libz=1 uses-alt=1",
	       "first satisfiable alternative; an alternative already chosen wins");
	is_str(resolve("uses-alt", NULL, 0), "libalt=1 liby=1 uses-alt=1",
	       "first alternative when none is chosen");
	is_str(resolve("wants-mta", NULL, 0), "exim4-daemon-light=4.96 wants-mta=1",
	       "virtual package: provider of highest priority");
	is_str(resolve("postfix,wants-mta", NULL, 0), "postfix=3.7 wants-mta=1",
	       "virtual package: provider already chosen");
	is_str(resolve("wants-vapi", NULL, 0), "impl-new=1 wants-vapi=1",
	       "versioned provides satisfies a versioned dependency");
	is_str(resolve("wants-old-bar", NULL, 0), "libbar=1.0-1 wants-old-bar=1",
	       "an older version is taken when the candidate does not fit");
	is_str(resolve("libbar", NULL, 0), "libbar=2.0-1", "the candidate otherwise");
	is_str(resolve("libbar=1.0-1", NULL, 0), "libbar=1.0-1", "name=version request");
	is_str(resolve("libbar (>= 3)", NULL, 0),
	       "ERROR(1): cannot install 'libbar (>= 3)': testsuite has 2.0-1",
	       "request no version meets");
	is_str(resolve("needs-new", NULL, 0),
	       "ERROR(1): cannot install 'needs-new': it depends on 'libold (>= 2)', but "
	       "testsuite has 1.9",
	       "unsatisfiable version: clear error");
	is_str(resolve("top", NULL, 0),
	       "ERROR(1): cannot install 'bottom': it depends on 'ghost (>= 1) | phantom', but "
	       "'ghost' is not in testsuite (amd64); 'phantom' is not in testsuite (amd64) "
	       "(needed by mid <- top)",
	       "missing dependency: error names the chain");
	is_str(resolve("wants-unversioned", NULL, 0),
	       "ERROR(1): cannot install 'wants-unversioned': it depends on 'uapi (>= 1)', but no "
	       "package in testsuite provides that version",
	       "unversioned provides does not satisfy a versioned dependency");
	is_str(resolve("nosuchpkg", NULL, 0),
	       "ERROR(2): unknown package 'nosuchpkg': it is not in testsuite (amd64)",
	       "unknown package");
	is_str(resolve("needs-ess", NULL, 0), "ess=1 needs-ess=1", "Essential when depended on");
	is_str(resolve("app", NULL, 0),
	       "app=1.0 libc6=2.36-9+deb12u4 libfoo=1.3-1 libgcc-s1=12.2.0-14 prep=1",
	       "Essential packages not added otherwise");
	is_str(resolve("x,y", NULL, 0),
	       "ERROR(1): cannot install 'y': it conflicts with 'x', and 'x' 1 is also to be "
	       "installed",
	       "conflict detected");
	is_str(resolve("z", NULL, 0), "z=1", "a package conflicting with what it provides");
	is_str(resolve("x,z", NULL, 0), "x=1 z=1", "Breaks with a version that does not apply");
	is_str(resolve("arched", NULL, 0), "arched=1 onlyamd=1",
	       "architecture restrictions in Depends");
	is_str(resolve("anyqual", NULL, 0), "anyqual=1 python3=3.11.2-1+b1", ":any qualifier");
	is_str(resolve("allpkg", NULL, 0),
	       "allpkg=1 libc6=2.36-9+deb12u4 libgcc-s1=12.2.0-14", "arch all package");

	{
		static const char *const script_only[] = { "dpkg", "install-info", NULL };
		is_str(resolve("uses-dpkg", NULL, 0), "dpkg=1.21 libz=1 uses-dpkg=1",
		       "dpkg installed when depended on");
		deb_index_set_script_only(ix, script_only);
		is_str(resolve("uses-dpkg", NULL, 0), "libz=1 uses-dpkg=1",
		       "dependencies on script-only packages count as met");
		is_str(resolve("dpkg", NULL, 0), "dpkg=1.21", "but they can still be requested");
		deb_index_set_script_only(ix, NULL);
	}

	/* a second request on top of an installed set (apt.txt over the base) */
	resolve("app", NULL, 0);
	base = last;
	n_base = n_last;
	last = NULL;
	is_str(resolve("allpkg,uses-alt", base, n_base), "allpkg=1 libalt=1 liby=1 uses-alt=1",
	       "installed packages are not repeated");
	is_str(resolve("libfoo", base, n_base), "", "a request already installed adds nothing");
	is_str(resolve("libbar=1.0-1", NULL, 0), "libbar=1.0-1", "pinned old version");
	{
		size_t inst = last[0];
		free(last);
		last = NULL;
		is_str(resolve("libbar (>= 2)", &inst, 1),
		       "ERROR(1): cannot install 'libbar (>= 2)': 'libbar' 1.0-1 is already chosen",
		       "conflict with the installed version");
	}
	free(base);
	free(last);

	/* bad indexes */
	{
		deb_index *bad;
		deb_index_new(&bad, "amd64", "x", &err);
		ok(deb_index_add(bad, strdup("Package: a\nVersion: 1\n"), 22, 0, "P", &err) < 0,
		   "paragraph without Filename rejected");
		is_int(err.code, DS_EFORMAT, "EFORMAT");
		const char *t = "Package: ../a\nVersion: 1\nArchitecture: all\nFilename: x\n"
				"Size: 1\nSHA256: 00\n";
		ok(deb_index_add(bad, strdup(t), strlen(t), 0, "P", &err) < 0,
		   "invalid name rejected");
		is_str(err.msg, "'P' line 1: invalid package name '../a'", "message");
		deb_index_free(bad);
	}
	deb_index_free(ix);
	return done_testing();
}
