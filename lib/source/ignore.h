/* Ignore rules in gitignore syntax (.dsbuildignore) or Docker's syntax
 * (.dockerignore): blank lines and '#' comments skipped, '!' re-includes,
 * trailing '/' matches directories only, '*' '?' '[...]' never cross '/',
 * '**' crosses directories, '\' escapes.  The last matching rule wins. */
#ifndef DS_SOURCE_IGNORE_H
#define DS_SOURCE_IGNORE_H

#include <stddef.h>
#include <dsbuild/error.h>

typedef enum {
	DS_IGNORE_GIT,    /* a pattern with no '/' (other than a trailing one)
	                     matches at any depth */
	DS_IGNORE_DOCKER, /* every pattern is anchored at the root (Docker) */
} ds_ignore_syntax;

typedef enum {
	DS_IGNORE_NONE = 0,    /* no rule matched */
	DS_IGNORE_EXCLUDE = 1, /* the last matching rule excludes the path */
	DS_IGNORE_INCLUDE = 2, /* the last matching rule is a '!' re-include */
} ds_ignore_result;

typedef struct ds_ignore ds_ignore;

/* Parses text (len bytes, need not be NUL-terminated; a UTF-8 BOM and
 * CRLF line ends are fine).  name is the file name used in errors
 * ("'.dsbuildignore' line 3: unterminated '[' in pattern 'a[b'", with a
 * hint): DS_EINVAL for a bad pattern or a NUL byte, DS_ENOMEM past a limit.
 * At most DS_IGNORE_MAX_RULES rules of DS_IGNORE_MAX_LINE bytes each
 * (comment lines may be longer).  *out is untouched on failure. */
#define DS_IGNORE_MAX_RULES 10000
#define DS_IGNORE_MAX_LINE 4096
int ds_ignore_parse(ds_ignore **out, const char *name, const char *text, size_t len,
		    ds_ignore_syntax syntax, ds_error *err);
ds_ignore *ds_ignore_free(ds_ignore *ig);

/* Matches a path relative to the tree root, '/'-separated, no leading
 * "./" or '/'.  is_dir says whether the path is a directory (Docker's
 * syntax ignores it).  The answer also holds for a path below an excluded
 * directory: with DS_IGNORE_GIT such a path is excluded (git cannot
 * re-include it), with DS_IGNORE_DOCKER a rule matches a path when it
 * matches the path or one of its parents (moby/patternmatcher's
 * MatchesOrParentMatches).  The walker goes top-down and does not descend
 * into an excluded directory unless ds_ignore_may_reinclude() says a
 * later rule could re-include something below.  Costs O(pattern length x
 * path length) per rule at worst, whatever the pattern. */
ds_ignore_result ds_ignore_match(const ds_ignore *ig, const char *path, int is_dir);

/* 1 when some '!' rule could match a path under dir (so the walk must
 * descend into an excluded directory), else 0.  Always 0 for
 * DS_IGNORE_GIT.  May answer 1 when nothing below ends up re-included. */
int ds_ignore_may_reinclude(const ds_ignore *ig, const char *dir);

/* Number of rules parsed (for tests and `dsbuild detect`). */
size_t ds_ignore_count(const ds_ignore *ig);

#endif
