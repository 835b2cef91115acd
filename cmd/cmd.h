/* Shared by the subcommands: reporting, exit codes, small parsers. */
#ifndef DS_CMD_CMD_H
#define DS_CMD_CMD_H

#include <stdio.h>

#include <dsbuild/build.h>
#include <dsbuild/detect.h>
#include <dsbuild/error.h>

/* Exit codes (docs/cli.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_INPUT = 3,
	EXIT_IMAGE = 4,
	EXIT_AUTH = 5,
	EXIT_NET = 6,
	EXIT_IO = 7,
	EXIT_INTERRUPTED = 130,
};

typedef struct cmd_def {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage; /* full help text */
} cmd_def;

extern const cmd_def ds_commands[];
const cmd_def *cmd_find(const char *name);

extern int cmd_quiet;

/* Prints "error: msg" and "hint: ..." and returns the exit code for it. */
int cmd_report(const ds_error *err);
/* Prints "error: ..." for a usage problem, points at --help, returns 2. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cmd_print_help(const cmd_def *c, FILE *f);

/* A growable list of strings (borrowed pointers or owned, see strv_push_own). */
typedef struct strv {
	const char **v;
	size_t n, alloc;
	char **owned;
	size_t n_owned;
} strv;

void strv_push(strv *s, const char *x);
void strv_push_own(strv *s, char *x);
void strv_release(strv *s);
static inline ds_strv strv_view(const strv *s)
{
	ds_strv v = { s->v, s->n };
	return v;
}

/* --cmd/--entrypoint: a JSON array of strings, or words split as a shell
 * would (quotes and backslashes, no expansion). */
int cmd_parse_argv(const char *flag, const char *s, strv *out, ds_error *err);

/* Absolute path with symlinks resolved as far as the path exists (the
 * last component may not exist yet).  Malloc'd. */
char *cmd_abspath(const char *p);

/* Human sizes: "12.3 MB". */
void cmd_human_size(unsigned long long n, char *buf, size_t sz);

/* Installs SIGINT/SIGTERM handlers that ask the library to stop. */
void cmd_install_signals(void);

int cmd_build(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_buildpacks(int argc, char **argv);
int cmd_buildpack(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

extern const char cmd_build_usage[];
extern const char cmd_inspect_usage[];
extern const char cmd_detect_usage[];
extern const char cmd_buildpacks_usage[];
extern const char cmd_buildpack_usage[];
extern const char cmd_version_usage[];
extern const char cmd_help_usage[];

/* detect and buildpacks: the tree of dir (with the project's exclude
 * setting) and its plan; $DSBUILD_BUILDER and $DSBUILD_BASE fill what the
 * flags left unset.  On failure *src may be set (free it). */
int cmd_plan(const char *dir, ds_detect_opts *o, ds_source **src, json_t **plan, ds_error *err);

#endif
