/* Python packaging standards: the parsers and evaluators the dependency
 * resolver, the index client and the wheel installer are built on.
 *
 *   PEP 440   versions (ds_pyver), specifiers (ds_pyspec, ds_pyspecset)
 *   PEP 503   project name normalisation (ds_pyname_*)
 *   PEP 508   dependency specifiers (ds_pyreq) and environment markers
 *             (ds_pymarker) evaluated for a target (ds_pyenv)
 *   pip       requirements files (ds_reqfile), URL credentials (ds_pyurl_*)
 *   PEP 427, 425, 600, 656   wheel file names (ds_pywheel_name) and the
 *             ordered tags a target interpreter supports (ds_pytags)
 *
 * Nothing here touches the network; only ds_reqfile_parse_file() reads
 * files.  Every input is bounded (the *_MAX limits below).  Where the
 * standards leave room, the behaviour is that of pip and packaging; the
 * few deliberate differences are listed in docs/internals/python.md. */
#ifndef DSBUILD_PYTHON_H
#define DSBUILD_PYTHON_H

#include <stddef.h>
#include <stdint.h>
#include <dsbuild/buf.h>
#include <dsbuild/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PEP 503 names ------------------------------------------------------ */

#define DS_PYNAME_MAX 256 /* longest project or extra name accepted */

/* 1 when name is a valid PEP 508 name: ASCII letters and digits, with '.',
 * '-', '_' inside (not first or last), at most DS_PYNAME_MAX bytes. */
int ds_pyname_valid(const char *name);
/* The PEP 503 form: lowercase, every run of '-', '_', '.' replaced by one
 * '-' ("Foo__Bar.baz" -> "foo-bar-baz").  Fails (DS_EINVAL) on an invalid
 * name.  *out is malloc'd. */
int ds_pyname_normalize(char **out, const char *name, ds_error *err);
/* 1 when a and b normalise to the same name (no allocation). */
int ds_pyname_equal(const char *a, const char *b);

/* ---- PEP 440 versions ----------------------------------------------------- */

#define DS_PYVER_TEXT_MAX 256     /* longest version string accepted */
#define DS_PYVER_RELEASE_MAX 32   /* release segments ("1.2.3" has 3) */
#define DS_PYVER_LOCAL_MAX 128    /* normalised local label, without '+' */
#define DS_PYVER_STRING_MAX 1024  /* room for any ds_pyver_format() result */

typedef enum {
	DS_PYVER_PRE_NONE = 0,
	DS_PYVER_PRE_A,  /* a, alpha */
	DS_PYVER_PRE_B,  /* b, beta */
	DS_PYVER_PRE_RC, /* rc, c, pre, preview */
} ds_pyver_pre_kind;

/* A parsed version: a plain value, copyable with '=', nothing to free.
 * Numbers above UINT64_MAX are refused at parse time. */
typedef struct ds_pyver {
	uint64_t epoch;                      /* 0 when absent */
	uint32_t n_release;                  /* >= 1 */
	uint64_t release[DS_PYVER_RELEASE_MAX];
	ds_pyver_pre_kind pre_kind;
	uint64_t pre;                        /* valid when pre_kind != NONE */
	int has_post;
	uint64_t post;
	int has_dev;
	uint64_t dev;
	char local[DS_PYVER_LOCAL_MAX + 1];  /* "" or normalised: "ubuntu.1" */
} ds_pyver;

/* Parses any spelling PEP 440 allows ("v1.0", "1.0-1", "1.0.ALPHA.2",
 * "1.0_post", "1.0+Ubuntu-01", surrounding whitespace) into its parts.
 * Invalid versions fail with DS_EINVAL ("invalid version '1.0.x'"). */
int ds_pyver_parse(ds_pyver *out, const char *text, ds_error *err);
/* 1 when text parses. */
int ds_pyver_valid(const char *text);
/* The total order of PEP 440: <0, 0, >0 like strcmp.  1.0 == 1.0.0;
 * 1.0.dev0 < 1.0a1 < 1.0b1.dev0 < 1.0rc1 < 1.0 < 1.0+local < 1.0.post1. */
int ds_pyver_compare(const ds_pyver *a, const ds_pyver *b);
/* The canonical form into buf ("1!2.0rc1.post3.dev4+ubuntu.1"); returns
 * buf.  size >= DS_PYVER_STRING_MAX never truncates. */
const char *ds_pyver_format(const ds_pyver *v, char *buf, size_t size);
/* A pre-release or a development release (1.0a1, 1.0.dev0, 1.0.post1.dev2). */
int ds_pyver_is_prerelease(const ds_pyver *v);
int ds_pyver_is_postrelease(const ds_pyver *v);
/* *out = v without its local label ("1.0+abc" -> "1.0"). */
void ds_pyver_public(ds_pyver *out, const ds_pyver *v);
/* *out = epoch and release only ("1!2.0rc1.post1+x" -> "1!2.0"). */
void ds_pyver_base(ds_pyver *out, const ds_pyver *v);

/* ---- PEP 440 specifiers --------------------------------------------------- */

#define DS_PYSPEC_MAX 64 /* specifiers in one set */

typedef enum {
	DS_PYSPEC_COMPATIBLE = 1, /* ~= */
	DS_PYSPEC_EQ,             /* == (wildcard: ==1.2.*) */
	DS_PYSPEC_NE,             /* != (wildcard: !=1.2.*) */
	DS_PYSPEC_LE,             /* <= */
	DS_PYSPEC_GE,             /* >= */
	DS_PYSPEC_LT,             /* <  */
	DS_PYSPEC_GT,             /* >  */
	DS_PYSPEC_ARBITRARY,      /* === (string equality) */
} ds_pyspec_op;

typedef struct ds_pyspec {
	ds_pyspec_op op;
	int wildcard;                         /* "==1.2.*", "!=1.2.*" */
	ds_pyver version;                     /* every operator but === */
	char text[DS_PYVER_TEXT_MAX + 1];     /* the version as written ("1.2.*") */
} ds_pyspec;

/* A conjunction of specifiers; empty matches every version. */
typedef struct ds_pyspecset {
	size_t n;
	ds_pyspec *v;
} ds_pyspecset;

#define DS_PYSPECSET_INIT { 0, NULL }

/* One specifier: "~=2.2", ">= 1.0", "==1.4.*", "===foobar".  Refuses what
 * PEP 440 refuses: '.*' other than on a release with == or !=, a local label
 * with anything but == and !=, '~=' with a single release segment. */
int ds_pyspec_parse(ds_pyspec *out, const char *text, ds_error *err);
/* Comma-separated specifiers; "" is the empty set.  *out is initialised
 * (any previous contents are not freed); release it with
 * ds_pyspecset_release(). */
int ds_pyspecset_parse(ds_pyspecset *out, const char *text, ds_error *err);
void ds_pyspecset_release(ds_pyspecset *s);
/* Appends copies of src's specifiers to dst (a resolver intersecting the
 * constraints on one project).  DS_ENOMEM past DS_PYSPEC_MAX * 64. */
int ds_pyspecset_merge(ds_pyspecset *dst, const ds_pyspecset *src, ds_error *err);
/* The operator's own rule, pre-releases not filtered: PEP 440's exclusive
 * ordered comparisons (<V excludes V's pre-releases unless V is one, >V
 * excludes V's post-releases unless V is one and V's local versions), ==
 * and != ignore the candidate's local label unless the specifier has one,
 * ~=V is >=V plus a prefix match, === compares canonical strings
 * case-insensitively. */
int ds_pyspec_contains(const ds_pyspec *s, const ds_pyver *v);
/* 1 when s names a pre-release with an inclusive operator (==, >=, <=, ~=,
 * ===), which lets pre-releases match the whole set. */
int ds_pyspec_allows_prereleases(const ds_pyspec *s);
/* v satisfies every specifier of s.  A pre-release matches only when
 * prereleases is 1 (pip --pre, or an installed pre-release) or the set
 * itself names one (ds_pyspec_allows_prereleases()).  Use
 * ds_pyspecset_filter() for PEP 440's "unless nothing else matches". */
int ds_pyspecset_contains(const ds_pyspecset *s, const ds_pyver *v, int prereleases);
/* Marks in keep[i] (1/0) which of versions[0..n) a resolver may choose:
 * those ds_pyspecset_contains() accepts, or, when none of them does and
 * prereleases is 0, the pre-releases that satisfy every specifier (PEP 440:
 * pre-releases are taken when they are the only match).  Returns how many
 * were kept. */
size_t ds_pyspecset_filter(const ds_pyspecset *s, const ds_pyver *versions, size_t n,
			   int prereleases, unsigned char *keep);
/* Canonical text: specifiers sorted and comma-joined (">=1.0,<2",
 * "" for the empty set), versions in canonical form. */
int ds_pyspecset_format(const ds_pyspecset *s, ds_buf *out, ds_error *err);

/* ---- PEP 508 environment markers ------------------------------------------ */

#define DS_PYMARKER_TEXT_MAX (16 << 10) /* longest marker accepted */
#define DS_PYMARKER_DEPTH_MAX 32        /* nested parentheses */
#define DS_PYENV_VALUE_MAX 128

/* The values markers are evaluated against.  Plain value type. */
typedef struct ds_pyenv {
	char python_version[DS_PYENV_VALUE_MAX];          /* "3.11" */
	char python_full_version[DS_PYENV_VALUE_MAX];     /* "3.11.2" */
	char implementation_name[DS_PYENV_VALUE_MAX];     /* "cpython" */
	char implementation_version[DS_PYENV_VALUE_MAX];  /* "3.11.2" */
	char platform_python_implementation[DS_PYENV_VALUE_MAX]; /* "CPython" */
	char os_name[DS_PYENV_VALUE_MAX];                 /* "posix" */
	char sys_platform[DS_PYENV_VALUE_MAX];            /* "linux" */
	char platform_system[DS_PYENV_VALUE_MAX];         /* "Linux" */
	char platform_machine[DS_PYENV_VALUE_MAX];        /* "x86_64", "aarch64" */
	char platform_release[DS_PYENV_VALUE_MAX];        /* kernel; "" unknown */
	char platform_version[DS_PYENV_VALUE_MAX];        /* kernel; "" unknown */
	char extra[DS_PYENV_VALUE_MAX];                   /* "" outside an extra */
} ds_pyenv;

/* Fills env for CPython on Linux: python_version "3.11" (NULL: taken from
 * full_version), python_full_version "3.11.2" (NULL: python_version),
 * platform an OCI platform ("linux/amd64", "linux/arm64", "linux/arm/v7",
 * "linux/386", "linux/ppc64le", "linux/s390x", "linux/riscv64") or NULL for
 * linux/amd64.  platform_release and platform_version are "" (a container's
 * kernel is not known at build time); extra is "".  DS_EINVAL for a bad
 * Python version, DS_EUNSUPPORTED for another OS or an unknown machine. */
int ds_pyenv_for_target(ds_pyenv *env, const char *python_version, const char *full_version,
			const char *platform, ds_error *err);
/* Sets one value by marker name ("platform_release", or the legacy aliases
 * "os.name", "sys.platform", "platform.machine" ...).  DS_EINVAL for an
 * unknown name or a value over DS_PYENV_VALUE_MAX - 1 bytes. */
int ds_pyenv_set(ds_pyenv *env, const char *name, const char *value, ds_error *err);
/* The value by marker name, or NULL for an unknown name. */
const char *ds_pyenv_get(const ds_pyenv *env, const char *name);
/* platform_machine for an OCI platform ("linux/arm64" -> "aarch64");
 * static string.  DS_EUNSUPPORTED for another OS or an unknown arch. */
int ds_pyplatform_machine(const char **out, const char *platform, ds_error *err);

typedef struct ds_pymarker ds_pymarker; /* opaque, immutable once parsed */

/* Parses a marker expression ("python_version < '3.8' and extra == 'x'"):
 * and binds tighter than or, parentheses, both quote styles, either side a
 * variable or a string, the legacy names os.name, sys.platform,
 * platform.version, platform.machine, platform.python_implementation,
 * python_implementation.  Extra names compared with == / != are normalised
 * (PEP 685). */
int ds_pymarker_parse(ds_pymarker **out, const char *text, ds_error *err);
ds_pymarker *ds_pymarker_free(ds_pymarker *m);
/* *out = 1/0.  Comparisons follow PEP 508: when the operator and the right
 * side form a valid specifier and the left side a valid version, PEP 440
 * rules with pre-releases allowed ("3.10" >= "3.9"); otherwise Python's
 * string comparison for ==, !=, <, <=, >, >=, and substring tests for in /
 * not in; ~= and === on non-versions are errors (DS_EINVAL). */
int ds_pymarker_evaluate(int *out, const ds_pymarker *m, const ds_pyenv *env, ds_error *err);
/* Evaluates once with extra = "" and once per extras[i]; *out = 1 if any
 * was true (how a dependency of "pkg[a,b]" is selected). */
int ds_pymarker_evaluate_extras(int *out, const ds_pymarker *m, const ds_pyenv *env,
				const char *const *extras, size_t n_extras, ds_error *err);
/* 1 when the marker mentions the 'extra' variable. */
int ds_pymarker_uses_extra(const ds_pymarker *m);
/* Canonical text: variables bare, values double-quoted, single spaces,
 * parentheses only where written: 'python_version >= "3.8" and (...)'. */
int ds_pymarker_format(const ds_pymarker *m, ds_buf *out, ds_error *err);

/* ---- PEP 508 requirements ------------------------------------------------- */

#define DS_PYREQ_TEXT_MAX (64 << 10) /* longest requirement string accepted */
#define DS_PYREQ_EXTRAS_MAX 64

typedef struct ds_pyreq {
	char *name;           /* as written: "Django"; NULL only in a ds_reqfile_req
				 for an unnamed URL, path or VCS requirement */
	char *key;            /* PEP 503 form: "django" (NULL when name is) */
	size_t n_extras;
	char **extras;        /* normalised (PEP 685), sorted, unique */
	ds_pyspecset specs;   /* empty: any version */
	char *url;            /* "name @ URL": the URL, credentials and all; or NULL */
	ds_pymarker *marker;  /* NULL: applies everywhere */
} ds_pyreq;

/* Parses one PEP 508 string: "name [extras] specifiers ; marker" (the
 * specifiers with or without parentheses) or "name [extras] @ URL ; marker"
 * (whitespace needed between URL and ';').  A URL needs a scheme, and a
 * host unless it is file:.  Errors (DS_EINVAL) name the requirement and
 * what was expected where: "invalid requirement 'foo >= 1.0 bar': expected
 * ',' or ';' after the version specifier, got 'bar'". */
int ds_pyreq_parse(ds_pyreq **out, const char *text, ds_error *err);
ds_pyreq *ds_pyreq_free(ds_pyreq *r);
/* Canonical text: 'name[a,b]>=1,<2; marker' or 'name @ URL ; marker'; the
 * URL is written as is (pass the result through ds_pyurl_redact() before
 * logging it). */
int ds_pyreq_format(const ds_pyreq *r, ds_buf *out, ds_error *err);
/* *out = 1 when r applies to env requested with extras[0..n) (see
 * ds_pymarker_evaluate_extras()); 1 when r has no marker. */
int ds_pyreq_applies(int *out, const ds_pyreq *r, const ds_pyenv *env,
		     const char *const *extras, size_t n_extras, ds_error *err);

/* ---- URLs and credentials ----------------------------------------------- */

/* Copy of text with the credentials of every "scheme://user:pass@host"
 * replaced as pip does in its logs: "https://user:" + "****@host", or
 * "https://" + "****@host" for a lone token.  Works on bare URLs and on whole
 * messages.  Never NULL (aborts when out of memory). */
char *ds_pyurl_redact(const char *text);
/* Splits the credentials off a URL: *url_out without them, *user and
 * *password percent-decoded (NULL when absent).  Any out-param may be NULL.
 * DS_EINVAL for a string that is not scheme://... */
int ds_pyurl_split_auth(char **url_out, char **user, char **password, const char *url,
			ds_error *err);

/* ---- pip requirements files -------------------------------------------- */

#define DS_REQFILE_SIZE_MAX ((size_t)8 << 20) /* one file */
#define DS_REQFILE_LINE_MAX ((size_t)1 << 20) /* one logical line, joined and expanded */
#define DS_REQFILE_DEPTH_MAX 16               /* nested -r / -c */
#define DS_REQFILE_FILES_MAX 256              /* files read in all */
#define DS_REQFILE_ITEMS_MAX 100000           /* requirements and constraints */
#define DS_REQFILE_HASHES_MAX 4096            /* --hash values on one requirement */

typedef enum {
	DS_REQFILE_INDEX = 0, /* a name and specifiers, found on the indexes / find-links */
	DS_REQFILE_URL,       /* an http(s)/ftp URL to a wheel or a source archive */
	DS_REQFILE_VCS,       /* git+https://..., hg+, svn+, bzr+: needs a checkout and a build */
	DS_REQFILE_PATH,      /* a local wheel, source archive or project directory (or file:) */
} ds_reqfile_kind;

/* One requirement or constraint line. */
typedef struct ds_reqfile_req {
	ds_reqfile_kind kind;
	/* Never NULL.  For a wheel file or URL, name and "==version" come from
	 * the file name; for other links from "#egg=name", else name is NULL.
	 * The marker after "; " applies to every kind. */
	ds_pyreq *req;
	/* The URL or path as written (after ${VAR} expansion, extras removed
	 * from paths); NULL for DS_REQFILE_INDEX.  Credentials are kept: log it
	 * through ds_pyurl_redact().  Relative paths are as pip takes them:
	 * relative to the working directory, not to the file. */
	char *link;
	int editable;         /* -e / --editable */
	int wheel;            /* link names a .whl file */
	size_t n_hashes;
	char **hashes;        /* "sha256:<hex>" in order given (sha256, sha384, sha512) */
	const char *file;     /* the file it came from (borrowed from the ds_reqfile) */
	int line;             /* first physical line of its logical line */
} ds_reqfile_req;

/* A value given by an option, with where it was given. */
typedef struct ds_reqfile_value {
	char *value;          /* credentials kept: log through ds_pyurl_redact() */
	const char *file;
	int line;
} ds_reqfile_value;

/* What pip's FormatControl decides: --only-binary / --no-binary. */
#define DS_PYFMT_BINARY 1u
#define DS_PYFMT_SOURCE 2u

typedef struct ds_reqfile {
	/* Requirements in file order, nested -r files at their -r line. */
	size_t n_reqs;
	ds_reqfile_req *reqs;
	/* From -c files (only names, specifiers, markers, links; no extras,
	 * no editables: rejected as pip does). */
	size_t n_constraints;
	ds_reqfile_req *constraints;
	/* -i / --index-url: the last one given (value NULL: not given).  As in
	 * pip, an --index-url drops the --extra-index-url lines before it. */
	ds_reqfile_value index_url;
	size_t n_extra_index_urls;
	ds_reqfile_value *extra_index_urls;
	size_t n_find_links;                  /* -f / --find-links, as written */
	ds_reqfile_value *find_links;
	size_t n_trusted_hosts;
	ds_reqfile_value *trusted_hosts;
	int no_index;                         /* --no-index */
	int pre;                              /* --pre */
	int prefer_binary;                    /* --prefer-binary */
	int require_hashes;                   /* --require-hashes (see ds_reqfile_hash_checking) */
	/* --only-binary / --no-binary sets: normalised names or ":all:". */
	size_t n_only_binary;
	char **only_binary;
	size_t n_no_binary;
	char **no_binary;
	/* Every file read, the first one first, named as in messages. */
	size_t n_files;
	char **files;
} ds_reqfile;

/* Reads a nested file into out (bounded by out->max).  path is the name
 * pip would open: the including file's directory joined with the -r value. */
typedef int (*ds_reqfile_read_fn)(void *data, const char *path, ds_buf *out, ds_error *err);
/* Returns the value of an environment variable or NULL. */
typedef const char *(*ds_reqfile_getenv_fn)(void *data, const char *name);

typedef struct ds_reqfile_opts {
	/* Without read: files are read from the file system, relative to root
	 * when set, and must stay under it (no absolute paths, no '..' or
	 * symbolic link out of it): the build context.  NULL root = the working
	 * directory, unrestricted. */
	const char *root;
	ds_reqfile_read_fn read;
	void *read_data;
	/* ${NAME} expansion (NAME of A-Z, 0-9, _ only, as pip): NULL = getenv(3).
	 * Unset or empty variables are left as written. */
	ds_reqfile_getenv_fn getenv;
	void *getenv_data;
	int max_depth;   /* 0 = DS_REQFILE_DEPTH_MAX */
} ds_reqfile_opts;

#define DS_REQFILE_OPTS_INIT { 0 }

/* Parses a requirements file and every file it includes with -r / -c
 * (resolved against the including file's directory, as pip does; a file
 * that includes itself, directly or not, is an error).  Errors name the
 * file and line: "'requirements/dev.txt' line 3: invalid requirement ...",
 * with credentials redacted.  opts may be NULL. */
int ds_reqfile_parse_file(ds_reqfile **out, const char *path, const ds_reqfile_opts *opts,
			  ds_error *err);
/* The same for contents in memory; name is how the file is called in
 * messages and the base of its -r paths. */
int ds_reqfile_parse(ds_reqfile **out, const char *data, size_t len, const char *name,
		     const ds_reqfile_opts *opts, ds_error *err);
ds_reqfile *ds_reqfile_free(ds_reqfile *rf);

/* pip's hash-checking mode: --require-hashes, or any requirement with a
 * --hash. */
int ds_reqfile_hash_checking(const ds_reqfile *rf);
/* In hash-checking mode, fails (DS_EINVAL, file:line) on the first
 * requirement pip would refuse: an index requirement not pinned with '=='
 * (no wildcard) or '===', one without a hash (a link's #sha256= fragment
 * counts), an editable, or a directory.  Requirements whose marker is false
 * for env are skipped (env NULL: check all).  0 outside hash-checking mode. */
int ds_reqfile_check_hashes(const ds_reqfile *rf, const ds_pyenv *env, ds_error *err);
/* What --only-binary / --no-binary allow for a project: DS_PYFMT_BINARY,
 * DS_PYFMT_SOURCE or both (pip's rules: the project's own entry first, then
 * ":all:"). */
unsigned ds_reqfile_formats(const ds_reqfile *rf, const char *name);
/* 1 when no wheel can come straight from this requirement: editable, VCS,
 * a project directory, a source archive.  The resolver's message: build a
 * wheel and pass --find-links. */
int ds_reqfile_req_needs_build(const ds_reqfile_req *r);

/* ---- wheels and tags (PEP 427, 425, 600, 656) ----------------------------- */

#define DS_PYTAG_PART_MAX 64 /* one interpreter, ABI or platform tag */

typedef struct ds_pytag {
	char interpreter[DS_PYTAG_PART_MAX]; /* "cp311", "py3" */
	char abi[DS_PYTAG_PART_MAX];         /* "cp311", "abi3", "none" */
	char platform[DS_PYTAG_PART_MAX];    /* "manylinux_2_17_x86_64", "any" */
} ds_pytag;

typedef struct ds_pywheel_name {
	char *name;           /* as in the file name: "scikit_learn" */
	char *key;            /* PEP 503 form: "scikit-learn" */
	ds_pyver version;
	int has_build;        /* optional build tag: number then string */
	uint64_t build_num;
	char *build_tag;      /* the suffix after the number ("" when none) */
	size_t n_tags;        /* the compressed tag sets expanded, unique, in order */
	ds_pytag *tags;
} ds_pywheel_name;

/* Parses "name-ver(-build)?-py-abi-plat.whl" (a path or URL is cut at the
 * last '/', a '?' or '#' suffix dropped) with compressed tag sets
 * ("py2.py3-none-any", "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64").
 * Tags are lowercased.  DS_EINVAL names the file and what is wrong. */
int ds_pywheel_name_parse(ds_pywheel_name **out, const char *filename, ds_error *err);
ds_pywheel_name *ds_pywheel_name_free(ds_pywheel_name *w);

/* Parses a source archive name "name-version.tar.gz" / ".zip" (what an index
 * lists beside wheels).  *name_out is malloc'd as written. */
int ds_pysdist_name_parse(char **name_out, ds_pyver *version, const char *filename,
			  ds_error *err);

/* The interpreter a wheel is chosen for. */
typedef struct ds_pytarget {
	const char *python;   /* "3.11" ("3.11.2" accepted): CPython 3.x */
	const char *glibc;    /* "2.36"; NULL when not glibc */
	const char *musl;     /* "1.2" for a musl libc; NULL otherwise */
	const char *arch;     /* "x86_64", "aarch64", "armv7l", "i686", "ppc64le",
				 "s390x", "riscv64" ... or an OCI platform "linux/arm64" */
} ds_pytarget;

typedef struct ds_pytags ds_pytags; /* opaque: the ordered list and an index */

/* The tags the target supports, best first, as packaging.tags.sys_tags()
 * lists them for CPython on Linux: cpXY-cpXY-P, cpXY-abi3-P, cpXY-none-P for
 * every platform P, cpXW-abi3-P for older 3.W down to 3.2, pyXY/py3/pyXW-
 * none-P, cpXY-none-any, pyXY/py3/pyXW-none-any.  Platforms: manylinux_2_N
 * from the target's glibc down to 2_17 (2_5 on x86_64/i686) with the legacy
 * manylinux2014/2010/1 aliases after 2_17/2_12/2_5, musllinux_1_N for a
 * musl target, then linux_ARCH.  DS_EINVAL for an unparsable version. */
int ds_pytags_supported(ds_pytags **out, const ds_pytarget *t, ds_error *err);
ds_pytags *ds_pytags_free(ds_pytags *t);
size_t ds_pytags_count(const ds_pytags *t);
/* The i-th tag (i < count); borrowed. */
const ds_pytag *ds_pytags_get(const ds_pytags *t, size_t i);
/* The priority of one tag: its index in the list (lower is better), or -1
 * when the target does not support it.  Case-sensitive (tags are
 * lowercase). */
long ds_pytags_priority(const ds_pytags *t, const char *interpreter, const char *abi,
			const char *platform);
/* The best (lowest) priority among a wheel's tags, -1 if none is supported. */
long ds_pywheel_priority(const ds_pytags *t, const ds_pywheel_name *w);

#ifdef __cplusplus
}
#endif
#endif
