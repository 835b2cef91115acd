/* deb822 parsing (paragraphs, continuation lines, comments, errors),
 * relationship fields, apt.txt requests, Release files and clearsigning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/debian.h>

#include "debian/control.h"
#include "debian/depends.h"
#include "debian/release.h"
#include "tap.h"

static char *dup(const char *s)
{
	return strdup(s);
}

static void test_paragraphs(void)
{
	char *d = dup("Package: a\nVersion: 1.0\nDescription: short\n long line one\n .\n"
		      " line two\n\n\n# a comment\nPackage: b\n  \t\nPackage: c\r\nDepends: x,\n"
		      "  y\n");
	deb_control c;
	ds_error err = DS_ERROR_INIT;

	deb_control_init(&c, d, strlen(d), "t");
	is_int(deb_control_next(&c, &err), 1, "first paragraph");
	is_int(c.n, 3, "three fields");
	is_str(deb_control_get(&c, "package"), "a", "field names are case-insensitive");
	is_str(deb_control_get(&c, "Version"), "1.0", "value");
	is_str(deb_control_get(&c, "Description"), "short\n long line one\n .\n line two",
	       "continuation lines are kept, trailing newline trimmed");
	ok(deb_control_get(&c, "Missing") == NULL, "missing field is NULL");
	is_int(deb_control_next(&c, &err), 1, "second paragraph after blank lines and a comment");
	is_str(deb_control_get(&c, "Package"), "b", "second value");
	is_int(c.para_line, 10, "paragraph line number");
	is_int(deb_control_next(&c, &err), 1, "a line of blanks separates paragraphs");
	is_str(deb_control_get(&c, "Package"), "c", "CR trimmed");
	is_str(deb_control_get(&c, "Depends"), "x,\n  y", "continued Depends");
	is_int(deb_control_next(&c, &err), 0, "end");
	is_int(deb_control_next(&c, &err), 0, "end again");
	free(d);

	d = dup("");
	deb_control_init(&c, d, 0, "t");
	is_int(deb_control_next(&c, &err), 0, "empty input has no paragraph");
	free(d);

	d = dup("Package: a\nVersion:\n");
	deb_control_init(&c, d, strlen(d), "t");
	is_int(deb_control_next(&c, &err), 1, "empty value accepted");
	is_str(deb_control_get(&c, "Version"), "", "empty value");
	free(d);

	d = dup("Package: a");
	deb_control_init(&c, d, strlen(d), "t");
	is_int(deb_control_next(&c, &err), 1, "no final newline");
	is_str(deb_control_get(&c, "Package"), "a", "value at end of data");
	free(d);
}

static void expect_error(const char *text, const char *msg, const char *what)
{
	char *d = dup(text);
	deb_control c;
	ds_error err = DS_ERROR_INIT;
	int rc;

	deb_control_init(&c, d, strlen(d), "Packages");
	while ((rc = deb_control_next(&c, &err)) == 1)
		;
	is_int(rc, -1, "%s fails", what);
	is_str(err.msg, msg, "%s: message", what);
	is_int(err.code, DS_EFORMAT, "%s: code", what);
	free(d);
}

static void test_errors(void)
{
	expect_error(" continued\n", "'Packages' line 1: continuation line outside a field",
		     "continuation first");
	expect_error("Package: a\nno colon here\n", "'Packages' line 2: expected 'Field: value'",
		     "line without colon");
	expect_error("Package: a\n: v\n", "'Packages' line 2: expected 'Field: value'",
		     "empty field name");
	expect_error("Package: a\npackage: b\n", "'Packages' line 2: duplicate field 'package'",
		     "duplicate field");
	expect_error("Package: a\n\nPa ck: b\n",
		     "'Packages' line 3: invalid character in field name", "space in name");
	expect_error("-Package: a\n", "'Packages' line 1: field name starts with '-'",
		     "leading dash");

	/* too many fields */
	{
		char *big = malloc(DEB_PARA_FIELDS_MAX * 16 + 64), *p = big;
		for (int i = 0; i <= DEB_PARA_FIELDS_MAX; i++)
			p += snprintf(p, 16, "F%d: x\n", i);
		expect_error(big, "'Packages' line 257: more than 256 fields in a paragraph",
			     "too many fields");
		free(big);
	}
	/* NUL inside a line */
	{
		char d[] = "Package: a\0b\n";
		deb_control c;
		ds_error err = DS_ERROR_INIT;
		deb_control_init(&c, d, sizeof(d) - 1, "P");
		is_int(deb_control_next(&c, &err), -1, "NUL byte rejected");
	}
}

static void test_depends(void)
{
	deb_deps d;
	ds_error err = DS_ERROR_INIT;
	ds_buf b;

	ok(deb_deps_parse(&d, "libc6 (>= 2.34), python3.11:any (>= 3.11.2-1~) | python3-foo,\n "
			      "bar [amd64], baz [!amd64], qux <!nocheck>, mime-support | media-types,"
			      " old (<< 2:1.0), x (> 1), y (< 1)",
			  "arm64", &err) == 0,
	   "Depends parsed: %s", err.msg);
	is_int(d.n, 8, "groups (one dropped by [amd64])");
	is_str(d.v[0].alts[0].name, "libc6", "name");
	is_int(d.v[0].alts[0].op, DEB_OP_GE, "op >=");
	is_str(d.v[0].alts[0].version, "2.34", "version");
	is_int(d.v[1].n, 2, "alternatives");
	is_str(d.v[1].alts[0].name, "python3.11", ":any stripped");
	is_str(d.v[1].alts[0].version, "3.11.2-1~", "version with tilde");
	is_str(d.v[1].alts[1].name, "python3-foo", "second alternative");
	ok(d.v[1].alts[1].version == NULL, "no version");
	is_str(d.v[2].alts[0].name, "baz", "[!amd64] kept on arm64");
	is_str(d.v[3].alts[0].name, "qux", "profile ignored");
	is_int(d.v[5].alts[0].op, DEB_OP_LT, "op <<");
	is_int(d.v[6].alts[0].op, DEB_OP_GE, "obsolete > means >=");
	ds_buf_init(&b, 0);
	deb_group_format(&b, &d.v[1]);
	is_str(ds_buf_cstr(&b), "python3.11 (>= 3.11.2-1~) | python3-foo", "group formatted");
	ds_buf_release(&b);
	deb_deps_release(&d);

	ok(deb_deps_parse(&d, "a, , b,", "amd64", &err) == 0 && d.n == 2, "empty groups tolerated");
	deb_deps_release(&d);
	ok(deb_deps_parse(&d, "", "amd64", &err) == 0 && d.n == 0, "empty field");
	deb_deps_release(&d);

	ok(deb_deps_parse(&d, "a (>= 1", "amd64", &err) < 0, "missing ')' rejected");
	is_str(err.msg, "'a (>= 1': missing ')'", "message");
	ok(deb_deps_parse(&d, "a (~ 1)", "amd64", &err) < 0, "bad operator rejected");
	ok(deb_deps_parse(&d, "A", "amd64", &err) < 0, "uppercase name rejected");
	ok(deb_deps_parse(&d, "../etc", "amd64", &err) < 0, "path-like name rejected");
	ok(deb_deps_parse(&d, "a (>= x1)", "amd64", &err) < 0, "invalid version rejected");
	ok(deb_deps_parse(&d, "a | | b", "amd64", &err) < 0, "empty alternative rejected");
	ok(deb_deps_parse(&d, "a b", "amd64", &err) < 0, "garbage after name rejected");

	ok(deb_name_valid("g++"), "g++ valid");
	ok(deb_name_valid("libstdc++6"), "libstdc++6 valid");
	ok(!deb_name_valid("-a"), "leading dash invalid");
	ok(!deb_name_valid("a/b"), "slash invalid");
	ok(!deb_name_valid(""), "empty invalid");

	ok(deb_op_satisfied(DEB_OP_GE, "1.0-1", "1.0"), ">= satisfied");
	ok(!deb_op_satisfied(DEB_OP_LT, "1.0", "1.0"), "<< not satisfied by equal");
	ok(deb_op_satisfied(DEB_OP_EQ, "1:1.0", "1:1.0"), "= satisfied");
	ok(!deb_op_satisfied(DEB_OP_GT, "1.0~rc1", "1.0"), ">> not satisfied by ~");
}

static void test_requests(void)
{
	deb_dep r;
	ds_error err = DS_ERROR_INIT;
	char **v;
	size_t n;
	const char *apt = "# tools\njq\n  curl=7.88.1-10+deb12u5  \n\nlibfoo (>= 2) # comment\n";

	ok(deb_request_parse(&r, "jq=1.6-2.1", &err) == 0, "name=version");
	is_str(r.name, "jq", "name");
	is_int(r.op, DEB_OP_EQ, "op =");
	is_str(r.version, "1.6-2.1", "version");
	deb_dep_release(&r);
	ok(deb_request_parse(&r, "libfoo (>= 2)", &err) == 0, "name (op version)");
	is_int(r.op, DEB_OP_GE, ">=");
	deb_dep_release(&r);
	ok(deb_request_parse(&r, "a, b", &err) < 0, "two packages in one request rejected");
	is_int(err.code, DS_EINVAL, "EINVAL");
	ok(deb_request_parse(&r, "Foo", &err) < 0, "bad name rejected");
	ok(deb_request_parse(&r, "foo=", &err) < 0, "empty version rejected");

	ok(ds_debian_apt_txt_parse(&v, &n, apt, strlen(apt), "apt.txt", &err) == 0,
	   "apt.txt parsed: %s", err.msg);
	is_int(n, 3, "three entries");
	is_str(v[0], "jq", "first");
	is_str(v[1], "curl=7.88.1-10+deb12u5", "trimmed");
	is_str(v[2], "libfoo (>= 2)", "comment stripped");
	ok(v[3] == NULL, "NULL-terminated");
	ds_debian_strv_free(v);
	ok(ds_debian_apt_txt_parse(&v, &n, "jq\nBad Name\n", 12, "apt.txt", &err) < 0,
	   "bad apt.txt line rejected");
	is_str(err.msg, "'apt.txt' line 2: invalid package name 'Bad'", "apt.txt error names the line");
	ok(ds_debian_apt_txt_parse(&v, &n, "jq\0x\n", 5, "apt.txt", &err) < 0, "NUL rejected");
}

static void test_release(void)
{
	const char *signed_text =
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
		"Origin: Debian\nSuite: stable\nCodename: bookworm\n"
		"Date: Sat, 10 Feb 2024 09:51:59 UTC\n"
		"Acquire-By-Hash: yes\nSHA256:\n"
		" 0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF   1234 "
		"main/binary-amd64/Packages.xz\n"
		" 1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 99 main/x\n"
		"- -escaped: no\n"
		"-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";
	ds_buf body = DS_BUF_INIT;
	deb_release r;
	ds_error err = DS_ERROR_INIT;
	const deb_release_file *f;
	int64_t t;

	ds_buf_init(&body, 0);
	ok(deb_clearsign_body(&body, signed_text, strlen(signed_text), "InRelease", &err) == 0,
	   "clearsigned body extracted");
	ok(strstr(ds_buf_cstr(&body), "\n-escaped: no\n") != NULL, "dash-escaping undone");
	ok(strstr(ds_buf_cstr(&body), "SHA512") == NULL, "armor header dropped");
	ok(deb_release_parse(&r, body.data, body.len, "InRelease", &err) < 0,
	   "the unescaped line is not a field continuation: '-escaped' rejected");
	ds_buf_release(&body);

	{
		char *t2 = strdup(signed_text);
		char *cut = strstr(t2, "- -escaped");
		memmove(cut, cut + strlen("- -escaped: no\n"), strlen(cut + strlen("- -escaped: no\n")) + 1);
		ds_buf_init(&body, 0);
		ok(deb_clearsign_body(&body, t2, strlen(t2), "InRelease", &err) == 0, "body again");
		ok(deb_release_parse(&r, body.data, body.len, "InRelease", &err) == 0,
		   "Release parsed: %s", err.msg);
		is_str(r.codename, "bookworm", "codename");
		is_str(r.suite, "stable", "suite");
		ok(r.acquire_by_hash, "by-hash");
		is_int(r.n_files, 2, "two files");
		f = deb_release_find(&r, "main/binary-amd64/Packages.xz");
		ok(f != NULL, "file found");
		if (f) {
			is_int(f->size, 1234, "size");
			is_str(f->sha256,
			       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			       "hash lowercased");
		}
		ok(deb_release_find(&r, "main/binary-arm64/Packages.xz") == NULL, "missing file");
		deb_release_release(&r);
		ds_buf_release(&body);
		free(t2);
	}
	ok(deb_clearsign_body(&body, "Origin: x\n", 10, "InRelease", &err) < 0, "unsigned rejected");
	is_str(err.msg, "'InRelease' is not a clearsigned message", "message");
	{
		const char *nosig = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nA: b\n";
		ok(deb_clearsign_body(&body, nosig, strlen(nosig), "InRelease", &err) < 0,
		   "missing signature block rejected");
	}
	{
		char *bad = strdup("Codename: x\nSHA256:\n zz 12 main/x\n");
		ok(deb_release_parse(&r, bad, strlen(bad), "Release", &err) < 0, "bad hash rejected");
		free(bad);
		bad = strdup("Codename: x\n");
		ok(deb_release_parse(&r, bad, strlen(bad), "Release", &err) < 0, "no SHA256 rejected");
		free(bad);
	}
	ok(deb_release_date(&t, "Sat, 10 Feb 2024 09:51:59 UTC") == 0 && t == 1707558719,
	   "Release date parsed");
	ok(deb_release_date(&t, "yesterday") < 0, "bad date rejected");
}

int main(void)
{
	test_paragraphs();
	test_errors();
	test_depends();
	test_requests();
	test_release();
	return done_testing();
}
