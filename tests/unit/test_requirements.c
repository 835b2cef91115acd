/* pip requirements files: every option, nested files, continuations,
 * comments, ${VAR}, hash-checking mode, format control, errors with file
 * and line, reading under a root, and credential redaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dsbuild/python.h>

#include "testutil.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

#define H64A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H64B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* In-memory files for nested -r / -c. */
typedef struct mem_file {
	const char *path, *data;
} mem_file;

static const mem_file *mem_files;
static size_t n_mem_files;
static int reads;

static int mem_read(void *data, const char *path, ds_buf *out, ds_error *err)
{
	(void)data;
	reads++;
	for (size_t i = 0; i < n_mem_files; i++)
		if (strcmp(mem_files[i].path, path) == 0)
			return ds_buf_adds(out, mem_files[i].data) < 0
				       ? ds_error_set(err, DS_ENOMEM, "too big")
				       : 0;
	return ds_error_set(err, DS_ENOENT, "cannot open '%s': No such file or directory", path);
}

static const char *mem_getenv(void *data, const char *name)
{
	(void)data;
	if (strcmp(name, "TOKEN") == 0)
		return "s3cret";
	if (strcmp(name, "INDEX_HOST") == 0)
		return "pypi.example.com";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "NUMPY_VERSION") == 0)
		return "1.26.4";
	return NULL;
}

static int parse(ds_reqfile **rf, const char *text, const mem_file *files, size_t n,
		 ds_error *err)
{
	ds_reqfile_opts o = DS_REQFILE_OPTS_INIT;

	mem_files = files;
	n_mem_files = n;
	reads = 0;
	o.read = mem_read;
	o.getenv = mem_getenv;
	return ds_reqfile_parse(rf, text, strlen(text), "requirements.txt", &o, err);
}

static char *req_text(const ds_reqfile_req *r)
{
	ds_buf b;

	ds_buf_init(&b, 0);
	ds_pyreq_format(r->req, &b, NULL);
	return ds_buf_detach(&b, NULL);
}

static const char main_txt[] =
	"# A requirements file using every option pip accepts in one.\n"
	"--index-url https://__token__:${TOKEN}@${INDEX_HOST}/simple\n"
	"--extra-index-url=https://extra.example.com/simple\n"
	"-f ./wheels\n"
	"--find-links https://download.example.com/whl/stable.html\n"
	"--trusted-host extra.example.com:8080\n"
	"--no-binary :all:\n"
	"--only-binary numpy,SciPy\n"
	"--prefer-binary\n"
	"--pre\n"
	"--use-feature=truststore\n"
	"-r reqs/base.txt\n"
	"\n"
	"   # an indented comment \\\n"
	"requests [security,socks] >= 2.8.1, == 2.8.* ; python_version < \"3.99\"  # trailing\n"
	"numpy==${NUMPY_VERSION} \\\n"
	"    --hash=sha256:" H64A " \\\n"
	"    --hash sha256:" H64B "\n"
	"./downloads/numpy-1.9.2-cp34-none-win32.whl\n"
	"https://files.example.com/x/pkg-1.0-py3-none-any.whl\n"
	"urllib3 @ https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip\n"
	"-e git+https://github.com/org/proj.git@v1#egg=proj\n"
	"--editable ./local/project[Extra_1]\n"
	"git+https://github.com/org/other.git#egg=other&subdirectory=sub\n"
	"./path/to/project\n"
	"pkg-1.0.tar.gz\n"
	"https://files.example.com/pkg-2.0.tar.gz ; python_version >= \"3\"\n"
	"file:///abs/wheels/abc-3.0-py3-none-any.whl\n"
	"torch==2.1.0+cpu --config-settings=k=v --global-option=--quiet\n"
	"-c constraints.txt\n";

static const mem_file nested[] = {
	{ "reqs/base.txt", "scipy>=1.11\n-r more.txt\n" },
	{ "reqs/more.txt", "joblib\r\nthreadpoolctl ; extra == 'x'\r\n" },
	{ "constraints.txt", "numpy<2\nscipy!=1.11.0\n-r reqs/cons-req.txt\n" },
	{ "reqs/cons-req.txt", "six\n" },
};

static void every_option(void)
{
	ds_reqfile *rf = NULL;
	ds_error err = DS_ERROR_INIT;
	char *s;

	ok_err(parse(&rf, main_txt, nested, N_OF(nested), &err) == 0, &err, "parse it");
	if (!rf)
		return;
	is_str(rf->index_url.value, "https://__token__:s3cret@pypi.example.com/simple",
	       "--index-url with ${VAR}s expanded, credentials kept");
	is_int(rf->index_url.line, 2, "  from line 2");
	is_int(rf->n_extra_index_urls, 1, "--extra-index-url=");
	is_str(rf->extra_index_urls[0].value, "https://extra.example.com/simple", "  value");
	is_int(rf->n_find_links, 2, "-f and --find-links");
	is_str(rf->find_links[0].value, "./wheels", "  as written");
	is_str(rf->find_links[0].file, "requirements.txt", "  file");
	is_int(rf->find_links[1].line, 5, "  line");
	is_int(rf->n_trusted_hosts, 1, "--trusted-host");
	is_str(rf->trusted_hosts[0].value, "extra.example.com:8080", "  value");
	ok(rf->pre && rf->prefer_binary && !rf->no_index && !rf->require_hashes, "flags");
	is_int(ds_reqfile_formats(rf, "numpy"), DS_PYFMT_BINARY, "numpy: --only-binary");
	is_int(ds_reqfile_formats(rf, "scipy"), DS_PYFMT_BINARY, "scipy: normalised name");
	is_int(ds_reqfile_formats(rf, "six"), DS_PYFMT_SOURCE, "others: --no-binary :all:");
	is_int(rf->n_files, 5, "five files read");
	is_str(rf->files[2], "reqs/more.txt", "nested -r relative to the including file");

	is_int(rf->n_reqs, 17, "17 requirements");
	if (rf->n_reqs != 17)
		goto out;
	/* nested files come at their -r line */
	is_str(rf->reqs[0].req->name, "scipy", "[0] from reqs/base.txt");
	is_str(rf->reqs[0].file, "reqs/base.txt", "  file");
	is_int(rf->reqs[0].line, 1, "  line");
	is_str(rf->reqs[1].req->name, "joblib", "[1] from reqs/more.txt (CRLF)");
	is_str(rf->reqs[2].req->name, "threadpoolctl", "[2]");
	ok(rf->reqs[2].req->marker != NULL, "  with its marker");

	s = req_text(&rf->reqs[3]);
	is_str(s, "requests[security,socks]==2.8.*,>=2.8.1; python_version < \"3.99\"",
	       "[3] requests after a comment line ending in '\\' (not continued)");
	free(s);
	is_int(rf->reqs[3].line, 15, "  line 15");
	is_int(rf->reqs[3].kind, DS_REQFILE_INDEX, "  from the index");
	ok(!ds_reqfile_req_needs_build(&rf->reqs[3]), "  no build needed");

	s = req_text(&rf->reqs[4]);
	is_str(s, "numpy==1.26.4", "[4] numpy, version from ${NUMPY_VERSION}");
	free(s);
	is_int(rf->reqs[4].line, 16, "  first line of the continued line");
	is_int(rf->reqs[4].n_hashes, 2, "  two --hash values");
	is_str(rf->reqs[4].hashes[1], "sha256:" H64B, "  --hash VALUE form");

	is_int(rf->reqs[5].kind, DS_REQFILE_PATH, "[5] a local wheel");
	ok(rf->reqs[5].wheel && !ds_reqfile_req_needs_build(&rf->reqs[5]), "  a wheel");
	is_str(rf->reqs[5].link, "./downloads/numpy-1.9.2-cp34-none-win32.whl", "  path");
	s = req_text(&rf->reqs[5]);
	is_str(s, "numpy==1.9.2", "  name and version from the file name");
	free(s);

	is_int(rf->reqs[6].kind, DS_REQFILE_URL, "[6] a wheel URL");
	ok(rf->reqs[6].wheel, "  a wheel");
	is_str(rf->reqs[6].req->name, "pkg", "  name from the file name");

	is_int(rf->reqs[7].kind, DS_REQFILE_URL, "[7] name @ URL (source archive)");
	is_str(rf->reqs[7].req->name, "urllib3", "  name");
	ok(!rf->reqs[7].wheel && ds_reqfile_req_needs_build(&rf->reqs[7]), "  needs a build");

	is_int(rf->reqs[8].kind, DS_REQFILE_VCS, "[8] -e git+https");
	ok(rf->reqs[8].editable && ds_reqfile_req_needs_build(&rf->reqs[8]), "  editable");
	is_str(rf->reqs[8].req->name, "proj", "  name from #egg=");

	is_int(rf->reqs[9].kind, DS_REQFILE_PATH, "[9] --editable path[extra]");
	ok(rf->reqs[9].editable, "  editable");
	is_str(rf->reqs[9].link, "./local/project", "  path without the extras");
	ok(rf->reqs[9].req->n_extras == 1 && strcmp(rf->reqs[9].req->extras[0], "extra-1") == 0,
	   "  extras normalised");
	ok(rf->reqs[9].req->name == NULL, "  unnamed");

	is_int(rf->reqs[10].kind, DS_REQFILE_VCS, "[10] a VCS URL without -e");
	is_str(rf->reqs[10].req->name, "other", "  #egg= before &subdirectory=");
	ok(!rf->reqs[10].editable, "  not editable");

	is_int(rf->reqs[11].kind, DS_REQFILE_PATH, "[11] a project directory");
	ok(ds_reqfile_req_needs_build(&rf->reqs[11]) && !rf->reqs[11].req->name, "  unnamed, build");
	is_int(rf->reqs[12].kind, DS_REQFILE_PATH, "[12] an sdist file name without '/'");
	ok(ds_reqfile_req_needs_build(&rf->reqs[12]), "  needs a build");

	is_int(rf->reqs[13].kind, DS_REQFILE_URL, "[13] an sdist URL with a marker after '; '");
	is_str(rf->reqs[13].link, "https://files.example.com/pkg-2.0.tar.gz", "  link");
	ok(rf->reqs[13].req->marker != NULL, "  marker");

	is_int(rf->reqs[14].kind, DS_REQFILE_PATH, "[14] a file: URL is local");
	ok(rf->reqs[14].wheel && strcmp(rf->reqs[14].req->name, "abc") == 0, "  a wheel");

	s = req_text(&rf->reqs[15]);
	is_str(s, "torch==2.1.0+cpu", "[15] per-requirement build options accepted");
	free(s);

	is_int(rf->n_constraints, 2, "two constraints from -c");
	is_str(rf->constraints[0].req->name, "numpy", "  numpy<2");
	is_str(rf->constraints[1].file, "constraints.txt", "  file");
	/* pip: a -r inside a constraints file gives requirements */
	is_str(rf->reqs[16].req->name, "six", "[16] -r inside -c is a requirement (as pip)");
	is_str(rf->reqs[16].file, "reqs/cons-req.txt", "  from its file");
out:
	ds_reqfile_free(rf);
}

static void unset_vars(void)
{
	ds_reqfile *rf;
	ds_error err = DS_ERROR_INIT;

	/* An unset variable is left as written and so makes the line invalid:
	 * pip does the same. */
	ok(parse(&rf, "literal==${UNSET}\n", NULL, 0, &err) < 0 && strstr(err.msg, "${UNSET}") &&
		   strstr(err.msg, "line 1"),
	   "unset ${VAR} left as written: %s", err.msg);
	ok(parse(&rf, "pkg ; os_name == '${EMPTY}$TOKEN${token}'\n", NULL, 0, &err) == 0, "parse");
	{
		ds_buf b;
		ds_buf_init(&b, 0);
		ds_pymarker_format(rf->reqs[0].req->marker, &b, NULL);
		is_str(b.data, "os_name == \"${EMPTY}$TOKEN${token}\"",
		       "empty, $NAME and lowercase names are not expanded");
		ds_buf_release(&b);
	}
	ds_reqfile_free(rf);
}

static void lines(void)
{
	ds_reqfile *rf;
	ds_error err = DS_ERROR_INIT;

	ok(parse(&rf, "\xef\xbb\xbf" "a\r\nb \\\r\n >=1 \\\n ,<2\rc\\", NULL, 0, &err) == 0,
	   "BOM, CRLF, CR, continuations, backslash at the end");
	is_int(rf->n_reqs, 3, "three requirements");
	{
		char *s = req_text(&rf->reqs[1]);
		is_str(s, "b<2,>=1", "continued over three lines");
		free(s);
	}
	is_int(rf->reqs[1].line, 2, "  numbered by its first line");
	is_int(rf->reqs[2].line, 5, "a line after a CR is numbered");
	is_str(rf->reqs[2].req->name, "c", "  trailing backslash at end of file");
	ds_reqfile_free(rf);

	ok(parse(&rf, "a # comment\n#b\n  # c\nd#not-a-comment\n", NULL, 0, &err) < 0 &&
		   strstr(err.msg, "line 4"),
	   "'#' without whitespace before it is not a comment: %s", err.msg);
	ok(parse(&rf, "# x \\\nfoo\n", NULL, 0, &err) == 0 && rf->n_reqs == 1 &&
		   rf->reqs[0].line == 2,
	   "a comment line ending in '\\' does not continue");
	ds_reqfile_free(rf);
	ok(parse(&rf, "foo \\\n# comment\nbar\n", NULL, 0, &err) == 0 && rf->n_reqs == 2,
	   "a continued line followed by a comment line ends there (as pip)");
	ds_reqfile_free(rf);
	ok(parse(&rf, "foo  --hash=sha256:" H64A "\n", NULL, 0, &err) == 0 &&
		   rf->reqs[0].n_hashes == 1,
	   "two spaces before an option");
	ds_reqfile_free(rf);
	ok(parse(&rf, "foo --hash='sha256:" H64A "'\n", NULL, 0, &err) == 0 &&
		   rf->reqs[0].n_hashes == 1,
	   "quoted option value");
	ds_reqfile_free(rf);
	ok(parse(&rf, "-i\"https://x/simple\"\n--extra-index 'https://y/simple'\n", NULL, 0,
		 &err) == 0 &&
		   strcmp(rf->index_url.value, "https://x/simple") == 0 &&
		   rf->n_extra_index_urls == 1,
	   "-iVALUE and an unambiguous long prefix (as optparse)");
	ds_reqfile_free(rf);
	ok(parse(&rf, "--extra-index-url https://a/simple\n-i https://b/simple\n"
		      "--extra-index-url https://c/simple\n",
		 NULL, 0, &err) == 0 &&
		   rf->n_extra_index_urls == 1 &&
		   strcmp(rf->extra_index_urls[0].value, "https://c/simple") == 0,
	   "--index-url drops the --extra-index-url lines before it (as pip)");
	ds_reqfile_free(rf);
	ok(parse(&rf, "--no-index\n--require-hashes\n", NULL, 0, &err) == 0 && rf->no_index &&
		   rf->require_hashes && rf->n_reqs == 0,
	   "--no-index, --require-hashes");
	ds_reqfile_free(rf);
	ok(parse(&rf, "", NULL, 0, &err) == 0 && rf->n_reqs == 0 && rf->n_files == 1,
	   "an empty file");
	ds_reqfile_free(rf);
}

static const struct {
	const char *text, *err;
} bad[] = {
	{ "numpy\nscipy>=1 bar\n", "'requirements.txt' line 2: invalid requirement 'scipy>=1 bar'" },
	{ "numpy=1.0\n", "'=' is not a version operator" },
	{ "--foo\n", "line 1: unknown option '--foo'" },
	{ "--no\n", "ambiguous option" },
	{ "-x y\n", "unknown option '-x'" },
	{ "numpy --index-url https://x\n", "'--index-url' cannot follow a requirement" },
	{ "numpy -r other.txt\n", "'--requirement' cannot follow a requirement" },
	{ "--hash=sha256:" H64A "\n", "'--hash' needs a requirement on the same line" },
	{ "numpy --hash=md5:abc\n", "sha256, sha384 or sha512" },
	{ "numpy --hash=sha256:abc\n", "expected 64 hex digits" },
	{ "numpy --hash=sha256\n", "expected an algorithm and a value" },
	{ "numpy --hash\n", "'--hash' needs a value" },
	{ "--pre=1\n", "'--pre' takes no value" },
	{ "-r\n", "'--requirement' needs a value" },
	{ "-i 'unclosed\n", "no closing quotation" },
	{ "-r a.txt b.txt\n", "unexpected 'b.txt' after the options" },
	{ "-e https://h/x.zip\n", "not a valid editable requirement" },
	{ "-e a -e b\n", "one -e" },
	{ "-e ./a --hash=sha256:" H64A "\n", "editable requirements cannot have hashes" },
	{ "x \n-r missing.txt\n", "'requirements.txt' line 2: cannot open 'missing.txt'" },
	{ "-r https://h/r.txt\n", "not from URLs" },
	{ "-c cons-extras.txt\n", "'cons-extras.txt' line 1: constraints cannot have extras" },
	{ "-c cons-editable.txt\n", "editable requirements are not allowed as constraints" },
	{ "-c cons-unnamed.txt\n", "unnamed requirements are not allowed as constraints" },
	{ "-r loop-a.txt\n", "'loop-a.txt' includes itself: loop-a.txt -> loop-b.txt -> loop-a.txt" },
	{ "-r requirements.txt\n", "includes itself" },
	{ "-r deep0.txt\n", "nested more than 16 files deep" },
	{ "pkg @ https://user:hunter2@h/x.zip bad\n", "user:****@h" },
	{ "./x/bad-name.whl\n", "invalid wheel file name" },
	{ "git+https://h/r.git#egg=bad name\n", "invalid project name" },
	{ "a\0b\n", "NUL" },
	{ "--only-binary -x\n", "needs a value" },
	{ "--no-binary bad/name\n", "invalid project name 'bad/name'" },
};

static const mem_file bad_files[] = {
	{ "cons-extras.txt", "numpy[x]<2\n" },
	{ "cons-editable.txt", "-e ./proj\n" },
	{ "cons-unnamed.txt", "./proj\n" },
	{ "loop-a.txt", "-r loop-b.txt\n" },
	{ "loop-b.txt", "-r ./loop-a.txt\n" },
	{ "deep0.txt", "-r deep1.txt\n" },   { "deep1.txt", "-r deep2.txt\n" },
	{ "deep2.txt", "-r deep3.txt\n" },   { "deep3.txt", "-r deep4.txt\n" },
	{ "deep4.txt", "-r deep5.txt\n" },   { "deep5.txt", "-r deep6.txt\n" },
	{ "deep6.txt", "-r deep7.txt\n" },   { "deep7.txt", "-r deep8.txt\n" },
	{ "deep8.txt", "-r deep9.txt\n" },   { "deep9.txt", "-r deep10.txt\n" },
	{ "deep10.txt", "-r deep11.txt\n" }, { "deep11.txt", "-r deep12.txt\n" },
	{ "deep12.txt", "-r deep13.txt\n" }, { "deep13.txt", "-r deep14.txt\n" },
	{ "deep14.txt", "-r deep15.txt\n" }, { "deep15.txt", "-r deep16.txt\n" },
	{ "deep16.txt", "-r deep17.txt\n" }, { "deep17.txt", "x\n" },
};

static void errors(void)
{
	ds_error err = DS_ERROR_INIT;

	for (size_t i = 0; i < N_OF(bad); i++) {
		ds_reqfile *rf = NULL;
		ds_reqfile_opts o = DS_REQFILE_OPTS_INIT;
		size_t len = strlen(bad[i].text);
		int rc;
		if (strcmp(bad[i].err, "NUL") == 0)
			len = 4;
		mem_files = bad_files;
		n_mem_files = N_OF(bad_files);
		o.read = mem_read;
		o.getenv = mem_getenv;
		rc = ds_reqfile_parse(&rf, bad[i].text, len, "requirements.txt", &o, &err);
		ok(rc < 0 && err.code != 0, "refused #%zu", i);
		has_str(err.msg, bad[i].err, "  %s", bad[i].err);
		if (rc == 0)
			ds_reqfile_free(rf);
	}
	{
		ds_reqfile *rf = NULL;
		ds_reqfile_opts o = DS_REQFILE_OPTS_INIT;
		o.read = mem_read;
		o.max_depth = 3;
		mem_files = bad_files;
		n_mem_files = N_OF(bad_files);
		ok(ds_reqfile_parse(&rf, "-r deep0.txt\n", 13, "r.txt", &o, &err) < 0 &&
			   strstr(err.msg, "more than 3"),
		   "max_depth option: %s", err.msg);
		ok(ds_reqfile_parse(&rf, "pkg @ https://u:p@h/x.zip bad", 29, "r.txt", &o, &err) < 0 &&
			   !strstr(err.msg, "u:p@"),
		   "no credentials in the message: %s", err.msg);
	}
	{
		/* bounded lists: 1025 --find-links, 1025 names in --only-binary */
		ds_buf b;
		ds_reqfile *rf = NULL;
		ds_buf_init(&b, 0);
		for (int i = 0; i < 1025; i++)
			ds_buf_addf(&b, "-f https://h/%d\n", i);
		ok(parse(&rf, b.data, NULL, 0, &err) < 0 && strstr(err.msg, "line 1025") &&
			   strstr(err.msg, "more than 1024"),
		   "1025 --find-links refused: %s", err.msg);
		ds_buf_reset(&b);
		ds_buf_adds(&b, "--only-binary a0");
		for (int i = 1; i < 1025; i++)
			ds_buf_addf(&b, ",a%d", i);
		ok(parse(&rf, b.data, NULL, 0, &err) < 0 && strstr(err.msg, "more than 1024 names"),
		   "1025 names in --only-binary refused: %s", err.msg);
		ds_buf_release(&b);
	}
}

static void hash_mode(void)
{
	ds_reqfile *rf;
	ds_error err = DS_ERROR_INIT;
	ds_pyenv env;

	ds_pyenv_for_target(&env, "3.11", "3.11.2", "linux/amd64", NULL);
	ok(parse(&rf, "a==1.0\nb>=2\n", NULL, 0, &err) == 0, "no hashes");
	ok(!ds_reqfile_hash_checking(rf) && ds_reqfile_check_hashes(rf, &env, &err) == 0,
	   "not hash-checking mode");
	ds_reqfile_free(rf);

	ok(parse(&rf, "a==1.0 --hash=sha256:" H64A "\nb>=2 --hash=sha256:" H64B "\n", NULL, 0,
		 &err) == 0 && ds_reqfile_hash_checking(rf),
	   "a --hash turns it on");
	ok(ds_reqfile_check_hashes(rf, &env, &err) < 0 && strstr(err.msg, "line 2") &&
		   strstr(err.msg, "not pinned") && strstr(err.hint, "line 1 has --hash"),
	   "unpinned refused: %s / %s", err.msg, err.hint);
	ds_reqfile_free(rf);

	ok(parse(&rf, "--require-hashes\na==1.0\n", NULL, 0, &err) == 0 &&
		   ds_reqfile_hash_checking(rf),
	   "--require-hashes turns it on");
	ok(ds_reqfile_check_hashes(rf, &env, &err) < 0 && strstr(err.msg, "has no --hash") &&
		   strstr(err.hint, "--require-hashes"),
	   "missing hash refused: %s", err.msg);
	ds_reqfile_free(rf);

	ok(parse(&rf, "--require-hashes\na==1.* --hash=sha256:" H64A "\n", NULL, 0, &err) == 0 &&
		   ds_reqfile_check_hashes(rf, &env, &err) < 0 && strstr(err.msg, "not pinned"),
	   "a wildcard is not a pin");
	ds_reqfile_free(rf);

	ok(parse(&rf, "--require-hashes\n-e ./proj\n", NULL, 0, &err) == 0 &&
		   ds_reqfile_check_hashes(rf, &env, &err) < 0 && strstr(err.msg, "editable"),
	   "editable refused: %s", err.msg);
	ds_reqfile_free(rf);

	ok(parse(&rf, "--require-hashes\n./proj --hash=sha256:" H64A "\n", NULL, 0, &err) == 0 &&
		   ds_reqfile_check_hashes(rf, &env, &err) < 0 && strstr(err.msg, "not a file"),
	   "directory refused: %s", err.msg);
	ds_reqfile_free(rf);

	ok(parse(&rf,
		 "--require-hashes\n"
		 "a==1.0 --hash=sha256:" H64A "\n"
		 "b===2.0 --hash=sha512:" H64A H64B "\n"
		 "https://h/c-1.0-py3-none-any.whl#sha256=" H64A "\n"
		 "win-only>=1 ; sys_platform == 'win32'\n",
		 NULL, 0, &err) == 0,
	   "a fully hashed file");
	ok_err(ds_reqfile_check_hashes(rf, &env, &err) == 0, &err,
	       "passes: '==', '===', a URL's #sha256=, a requirement whose marker is false");
	ok(ds_reqfile_check_hashes(rf, NULL, &err) < 0 && strstr(err.msg, "line 5"),
	   "without an environment every line is checked");
	ds_reqfile_free(rf);
}

static void format_control(void)
{
	static const struct {
		const char *text, *name;
		unsigned want;
	} cases[] = {
		{ "", "x", DS_PYFMT_BINARY | DS_PYFMT_SOURCE },
		{ "--only-binary :all:\n", "x", DS_PYFMT_BINARY },
		{ "--no-binary :all:\n", "x", DS_PYFMT_SOURCE },
		{ "--only-binary :all:\n--no-binary x\n", "x", DS_PYFMT_SOURCE },
		{ "--only-binary :all:\n--no-binary x\n", "y", DS_PYFMT_BINARY },
		{ "--no-binary x\n--only-binary :all:\n", "x", DS_PYFMT_BINARY },
		{ "--only-binary :all:\n--only-binary :none:\n", "x", DS_PYFMT_BINARY | DS_PYFMT_SOURCE },
		{ "--no-binary :all:,x\n", "x", DS_PYFMT_SOURCE },  /* names after :all: dropped */
		{ "--only-binary :all:,:none:,x\n", "x", DS_PYFMT_BINARY },
		{ "--only-binary :all:,:none:,x\n", "y", DS_PYFMT_BINARY | DS_PYFMT_SOURCE },
		{ "--only-binary Foo_Bar\n", "foo-bar", DS_PYFMT_BINARY },
		{ "--no-binary x\n--only-binary x\n", "x", DS_PYFMT_BINARY },
	};
	ds_error err = DS_ERROR_INIT;

	for (size_t i = 0; i < N_OF(cases); i++) {
		ds_reqfile *rf;
		if (parse(&rf, cases[i].text, NULL, 0, &err) < 0) {
			ok(0, "parse #%zu: %s", i, err.msg);
			continue;
		}
		is_int(ds_reqfile_formats(rf, cases[i].name), cases[i].want, "formats #%zu for '%s'", i,
		       cases[i].name);
		ds_reqfile_free(rf);
	}
}

static void from_disk(void)
{
	char *dir = tu_tmpdir("reqfile"), *p, *outside = tu_tmpdir("reqfile-out");
	ds_reqfile *rf;
	ds_reqfile_opts o = DS_REQFILE_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	char cwd[4096];

	p = tu_fmt("%s/sub", dir);
	mkdir(p, 0755);
	free(p);
	p = tu_fmt("%s/requirements.txt", dir);
	tu_writes(p, "a\n-r sub/dev.txt\n");
	free(p);
	p = tu_fmt("%s/sub/dev.txt", dir);
	tu_writes(p, "b\n-c ../cons.txt\n");
	free(p);
	p = tu_fmt("%s/cons.txt", dir);
	tu_writes(p, "a<2\n");
	free(p);
	p = tu_fmt("%s/secret.txt", outside);
	tu_writes(p, "top-secret\n");
	free(p);
	p = tu_fmt("%s/sub/link.txt", dir);
	{
		char *target = tu_fmt("%s/secret.txt", outside);
		if (symlink(target, p) < 0)
			perror("symlink");
		free(target);
	}
	free(p);
	p = tu_fmt("%s/escape.txt", dir);
	tu_writes(p, "-r ../../etc/passwd\n");
	free(p);
	p = tu_fmt("%s/abs.txt", dir);
	tu_writes(p, "-r /etc/passwd\n");
	free(p);
	p = tu_fmt("%s/via-link.txt", dir);
	tu_writes(p, "-r sub/link.txt\n");
	free(p);

	o.root = dir;
	ok_err(ds_reqfile_parse_file(&rf, "requirements.txt", &o, &err) == 0, &err,
	       "read from disk under a root");
	if (rf) {
		ok(rf->n_reqs == 2 && rf->n_constraints == 1, "two requirements, one constraint");
		is_str(rf->files[2], "cons.txt", "'sub/../cons.txt' named normalised");
		is_str(rf->constraints[0].file, "cons.txt", "constraint's file");
		ds_reqfile_free(rf);
	}
	ok(ds_reqfile_parse_file(&rf, "escape.txt", &o, &err) < 0 &&
		   strstr(err.msg, "outside the build context") && strstr(err.msg, "line 1"),
	   "'..' out of the root refused: %s", err.msg);
	ok(ds_reqfile_parse_file(&rf, "abs.txt", &o, &err) < 0 && strstr(err.msg, "absolute"),
	   "absolute path refused: %s", err.msg);
	ok(ds_reqfile_parse_file(&rf, "via-link.txt", &o, &err) < 0 &&
		   strstr(err.msg, "symbolic link") && !strstr(err.msg, "top-secret"),
	   "symbolic link out of the root refused: %s", err.msg);
	ok(ds_reqfile_parse_file(&rf, "nope.txt", &o, &err) < 0 && err.code == DS_ENOENT,
	   "missing file: %s", err.msg);

	/* Without a root: relative to the working directory. */
	if (getcwd(cwd, sizeof(cwd)) && chdir(dir) == 0) {
		ok_err(ds_reqfile_parse_file(&rf, "./requirements.txt", NULL, &err) == 0, &err,
		       "no root: from the working directory");
		if (rf)
			is_str(rf->files[0], "requirements.txt", "  named normalised");
		ds_reqfile_free(rf);
		if (chdir(cwd) < 0)
			perror("chdir");
	}
	tu_rm_rf(dir);
	tu_rm_rf(outside);
	free(dir);
	free(outside);
}

static void redaction(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "https://user:pass@host/simple", "https://user:****@host/simple" },
		{ "https://token@host/simple", "https://****@host/simple" },
		{ "https://host/simple", "https://host/simple" },
		{ "https://host/p@ath", "https://host/p@ath" },   /* '@' after the host */
		{ "git+https://u:p@github.com/x.git@v1#egg=x", "git+https://u:****@github.com/x.git@v1#egg=x" },
		{ "see 'https://a:b@h1/x' and https://c@h2 here", "see 'https://a:****@h1/x' and https://****@h2 here" },
		{ "https://u:p@ss@host/", "https://u:****@host/" }, /* last '@' ends the user info */
		{ "no url here: user:pass@host", "no url here: user:pass@host" },
		{ "://x:y@z", "://x:y@z" },
		{ "", "" },
	};
	ds_error err = DS_ERROR_INIT;

	for (size_t i = 0; i < N_OF(cases); i++) {
		char *r = ds_pyurl_redact(cases[i].in);
		is_str(r, cases[i].out, "redact '%s'", cases[i].in);
		free(r);
	}
	{
		char *url = NULL, *user = NULL, *pw = NULL;
		ok(ds_pyurl_split_auth(&url, &user, &pw, "https://us%40er:p%3Ass@host:8080/simple/",
				       &err) == 0,
		   "split credentials");
		is_str(url, "https://host:8080/simple/", "  URL without them");
		is_str(user, "us@er", "  user percent-decoded");
		is_str(pw, "p:ss", "  password percent-decoded");
		free(url);
		free(user);
		free(pw);
		ok(ds_pyurl_split_auth(&url, &user, &pw, "https://tok@host/", &err) == 0 &&
			   strcmp(user, "tok") == 0 && pw == NULL && strcmp(url, "https://host/") == 0,
		   "a lone token is the user");
		free(url);
		free(user);
		ok(ds_pyurl_split_auth(&url, &user, &pw, "https://host/", &err) == 0 && !user && !pw,
		   "no credentials");
		free(url);
		ok(ds_pyurl_split_auth(&url, NULL, NULL, "host/x:y@z", &err) < 0 &&
			   !strstr(err.msg, "y@"),
		   "not a URL: %s", err.msg);
	}
}

int main(void)
{
	every_option();
	unset_vars();
	lines();
	errors();
	hash_mode();
	format_control();
	from_disk();
	redaction();
	return done_testing();
}
