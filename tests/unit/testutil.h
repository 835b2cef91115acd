/* Helpers shared by the foundation unit tests (buf, digest, store, layer,
 * ref, image, source): temp dirs, small files, running commands. */
#ifndef DS_TESTS_TESTUTIL_H
#define DS_TESTS_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* Formatted strings that live until free_strs() at the end of the test:
 * paths and refs are built inline without bookkeeping. */
static char **strs;
static size_t n_strs;

__attribute__((unused, format(printf, 1, 2))) static char *F(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	strs = realloc(strs, (n_strs + 1) * sizeof(*strs));
	strs[n_strs++] = s;
	return s;
}

__attribute__((unused)) static void free_strs(void)
{
	for (size_t i = 0; i < n_strs; i++)
		free(strs[i]);
	free(strs);
}

/* ok() that also prints an error's message when it fails. */
#define ok_err(cond, e, ...)                                                                      \
	do {                                                                                      \
		int _oe = !!(cond);                                                               \
		ok(_oe, __VA_ARGS__);                                                             \
		if (!_oe)                                                                         \
			printf("#   error %d: %s\n#   hint: %s\n", (e)->code, (e)->msg,          \
			       (e)->hint);                                                        \
	} while (0)

/* The message contains needle. */
#define has_str(hay, needle, ...)                                                                 \
	do {                                                                                      \
		const char *_h = (hay), *_n = (needle);                                           \
		int _in = _h && _n && strstr(_h, _n) != NULL;                                     \
		ok(_in, __VA_ARGS__);                                                             \
		if (!_in)                                                                         \
			printf("#   '%s' does not contain '%s'\n", _h ? _h : "(null)", _n);       \
	} while (0)

__attribute__((unused)) static char *tu_tmpdir(const char *tag)
{
	const char *t = getenv("TMPDIR");
	char *p;

	if (asprintf(&p, "%s/dsbuild-%s-XXXXXX", t && *t ? t : "/tmp", tag) < 0 || !mkdtemp(p)) {
		perror("mkdtemp");
		exit(99);
	}
	return p;
}

__attribute__((unused, returns_nonnull, format(printf, 1, 2))) static char *tu_fmt(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	va_end(ap);
	return p;
}

/* Writes len bytes to path, creating or truncating it. */
__attribute__((unused)) static void tu_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(99);
	}
}

__attribute__((unused)) static void tu_writes(const char *path, const char *s)
{
	tu_write(path, s, strlen(s));
}

/* Reads a whole file (NUL-terminated); NULL if it cannot be read. */
__attribute__((unused)) static char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = (n + 65536 + 1) * 2;
			p = realloc(p, cap);
			if (!p)
				abort();
		}
		size_t r = fread(p + n, 1, 65536, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

/* Runs a shell command; returns its exit status (or -1). */
__attribute__((unused, format(printf, 1, 2))) static int tu_sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	fflush(stdout);
	r = system(cmd);
	free(cmd);
	if (r == -1 || !WIFEXITED(r))
		return -1;
	return WEXITSTATUS(r);
}

__attribute__((unused)) static void tu_rm_rf(const char *path)
{
	if (path && tu_sh("rm -rf '%s'", path) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

/* Number of entries in a directory other than . and .., or -1 when it
 * cannot be opened. */
__attribute__((unused)) static int tu_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

#endif
