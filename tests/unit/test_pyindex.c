/* Simple-index pages: PEP 503 HTML (anchors, <base>, entities, hash
 * fragments, data-requires-python, data-yanked, PEP 658/714 metadata),
 * PEP 691 JSON, URL joining, limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/pydeps.h>

#include "tap.h"

#define H64A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H64B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static void join(const char *base, const char *href, const char *want)
{
	char *got = NULL;
	ds_error err = DS_ERROR_INIT;
	int rc = ds_pyurl_join(&got, base, href, &err);

	ok(rc == 0, "join '%s' + '%s'", base, href);
	is_str(got, want, "  -> %s", want);
	free(got);
}

static void test_join(void)
{
	join("http://h:1/simple/numpy/", "../../files/numpy-1.whl", "http://h:1/files/numpy-1.whl");
	join("http://h/simple/numpy/", "numpy-1.whl#sha256=x",
	     "http://h/simple/numpy/numpy-1.whl#sha256=x");
	join("http://h/simple/numpy", "numpy-1.whl", "http://h/simple/numpy-1.whl");
	join("http://h/a/b/", "/x/y.whl", "http://h/x/y.whl");
	join("https://h/a/", "//cdn.example/p/y.whl", "https://cdn.example/p/y.whl");
	join("https://h/a/", "https://other/z.whl", "https://other/z.whl");
	join("http://h/a/b/", "../../../../x.whl", "http://h/x.whl");
	join("http://h", "x.whl", "http://h/x.whl");
	join("http://u:p@h/simple/", "./a/./b/../c.whl", "http://u:p@h/simple/a/c.whl");
	{
		char *got = NULL;
		ok(ds_pyurl_join(&got, "not a url", "x", NULL) < 0 && !got,
		   "a relative link needs an absolute base");
	}
}

static void test_html(void)
{
	const char *page =
	    "<!DOCTYPE html>\n<html><head><title>Links</title></head><body>\n"
	    "<!-- <a href=\"commented-1.0.whl\">x</a> -->\n"
	    "<a href=\"../../files/pkg-1.0-py3-none-any.whl#sha256=" H64A "\" "
	    "data-requires-python=\"&gt;=3.8\">pkg-1.0-py3-none-any.whl</a><br/>\n"
	    "<A HREF='pkg-2.0.tar.gz#md5=abc' data-yanked>pkg-2.0.tar.gz</A>\n"
	    "<a data-yanked=\"bad &amp; broken\" href=pkg-3.0-py3-none-any.whl "
	    "data-dist-info-metadata=\"sha256=" H64B "\">x</a>\n"
	    "<a href=\"pkg-4.0-py3-none-any.whl\" data-core-metadata=\"true\" "
	    "data-dist-info-metadata=\"false\">x</a>\n"
	    "<a href=\"pkg-5.0-py3-none-any.whl\" data-dist-info-metadata=\"false\">x</a>\n"
	    "<a href=\"pkg%2B6.0-py3-none-any.whl\">x</a>\n"
	    "<a name=\"no-href\">x</a><a href=\"\">empty</a>\n"
	    "<abbr href=\"not-an-anchor.whl\">x</abbr>\n"
	    "</body></html>\n";
	ds_pyfile_list l = {0};
	ds_error err = DS_ERROR_INIT;

	ok(ds_pyindex_parse(&l, page, strlen(page), 0, "http://h:8/simple/pkg/", &err) == 0,
	   "html page parses: %s", err.msg);
	is_int(l.n, 6, "six links (comment, no-href, empty and <abbr> skipped)");
	if (l.n < 6)
		return;
	is_str(l.v[0].filename, "pkg-1.0-py3-none-any.whl", "file name from the URL");
	is_str(l.v[0].url, "http://h:8/files/pkg-1.0-py3-none-any.whl",
	       "relative URL resolved, "
	       "fragment dropped");
	is_str(l.v[0].sha256, H64A, "sha256 from the fragment");
	is_str(l.v[0].requires_python, ">=3.8", "data-requires-python, entities decoded");
	ok(!l.v[0].yanked && !l.v[0].has_metadata, "not yanked, no metadata");
	ok(l.v[1].yanked && !l.v[1].yanked_reason, "bare data-yanked");
	is_str(l.v[1].sha256, "", "md5 fragment ignored");
	is_str(l.v[1].url, "http://h:8/simple/pkg/pkg-2.0.tar.gz", "upper-case tag and attribute");
	ok(l.v[2].yanked, "yanked with a reason");
	is_str(l.v[2].yanked_reason, "bad & broken", "reason decoded");
	ok(l.v[2].has_metadata, "PEP 658 metadata");
	is_str(l.v[2].metadata_sha256,
	       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	       "metadata hash, lowercased");
	ok(l.v[3].has_metadata, "PEP 714 data-core-metadata wins");
	ok(!l.v[4].has_metadata, "data-dist-info-metadata=\"false\"");
	is_str(l.v[5].filename, "pkg+6.0-py3-none-any.whl", "file name percent-decoded");
	ds_pyfile_list_release(&l);

	{
		const char *b = "<html><head><base href=\"http://cdn/x/\"></head>"
				"<a href=\"y.whl\">y</a>";
		ok(ds_pyindex_parse(&l, b, strlen(b), 0, "http://h/simple/p/", &err) == 0 &&
		       l.n == 1,
		   "<base href>");
		if (l.n == 1)
			is_str(l.v[0].url, "http://cdn/x/y.whl", "links resolved against <base>");
		ds_pyfile_list_release(&l);
	}
	{
		/* unterminated tags and quotes never read past the end */
		const char *bad[] = {"<a href=\"x.whl",
				     "<a href=",
				     "<a ",
				     "<",
				     "<!--",
				     "<a href='x.whl' data-yanked=\"",
				     "&#x110000;<a href=y>"};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			ds_pyfile_list t = {0};
			ok(ds_pyindex_parse(&t, bad[i], strlen(bad[i]), 0, "http://h/", &err) == 0,
			   "truncated html %zu is not an error", i);
			ds_pyfile_list_release(&t);
		}
	}
}

static void test_json(void)
{
	const char *page =
	    "{\"meta\":{\"api-version\":\"1.1\"},\"name\":\"pkg\",\"files\":["
	    "{\"filename\":\"pkg-1.0-py3-none-any.whl\",\"url\":\"../../f/"
	    "pkg-1.0-py3-none-any.whl\","
	    "\"hashes\":{\"sha256\":\"" H64A "\"},\"requires-python\":\">=3.9\","
	    "\"core-metadata\":{\"sha256\":\"" H64A "\"}},"
	    "{\"filename\":\"pkg-2.0-py3-none-any.whl\",\"url\":\"https://x/"
	    "pkg-2.0-py3-none-any.whl\","
	    "\"hashes\":{},\"yanked\":\"oops\",\"dist-info-metadata\":true},"
	    "{\"filename\":\"pkg-3.0-py3-none-any.whl\",\"url\":\"p3.whl\",\"hashes\":{},"
	    "\"yanked\":false,\"core-metadata\":false},"
	    "{\"filename\":\"../evil.whl\",\"url\":\"e.whl\",\"hashes\":{}},"
	    "{\"url\":\"nofilename.whl\"}]}";
	ds_pyfile_list l = {0};
	ds_error err = DS_ERROR_INIT;

	ok(ds_pyindex_parse(&l, page, strlen(page), 1, "http://h/simple/pkg/", &err) == 0,
	   "json page parses: %s", err.msg);
	is_int(l.n, 3, "three files (a name with '/' and a file without a name skipped)");
	if (l.n == 3) {
		is_str(l.v[0].url, "http://h/f/pkg-1.0-py3-none-any.whl", "relative url resolved");
		is_str(l.v[0].sha256, H64A, "hashes.sha256");
		is_str(l.v[0].requires_python, ">=3.9", "requires-python");
		ok(l.v[0].has_metadata && !strcmp(l.v[0].metadata_sha256, H64A), "core-metadata");
		ok(l.v[1].yanked && l.v[1].yanked_reason && !strcmp(l.v[1].yanked_reason, "oops"),
		   "yanked with reason");
		ok(l.v[1].has_metadata, "dist-info-metadata: true");
		ok(!l.v[2].yanked && !l.v[2].has_metadata, "yanked: false, core-metadata: false");
	}
	ds_pyfile_list_release(&l);
	ok(ds_pyindex_parse(&l, "{\"files\": 3}", 12, 1, "http://h/", &err) < 0 &&
	       err.code == DS_EFORMAT,
	   "files must be an array");
	ok(ds_pyindex_parse(&l, "{nope", 5, 1, "http://h/", &err) < 0, "bad json is an error");
	ds_pyfile_list_release(&l);
}

int main(void)
{
	test_join();
	test_html();
	test_json();
	return done_testing();
}
