/* Reference answers for the lib/python unit tests from Debian's
 * python3-packaging, through tests/unit/data/python/packaging_ref.py. */
#ifndef DS_TESTS_PYREF_H
#define DS_TESTS_PYREF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYREF_MISSING "python3-packaging is needed for this check (apt-get install python3-packaging)"

static const char *pyref_python(void)
{
	const char *p = getenv("DS_TEST_PYTHON");

	if (p && *p)
		return p;
	/* Debian's interpreter: its python3-packaging is what the tests compare
	 * with, whatever python3 comes first in PATH. */
	if (access("/usr/bin/python3", X_OK) == 0)
		return "/usr/bin/python3";
	return "python3";
}

/* Runs the script in mode with inputs (one per line, no newlines inside)
 * and extra arguments; returns its output lines (NULL-terminated, *n set),
 * or NULL when python3 or python3-packaging is missing or it failed. */
__attribute__((unused)) static char **pyref_run(const char *mode, const char *const *inputs,
						size_t n_in, const char *args, size_t *n)
{
	char in_path[] = "/tmp/dsbuild-pyref-XXXXXX", cmd[2048], line[8192];
	char **out = NULL;
	size_t cap = 0;
	FILE *f, *p;
	int fd = mkstemp(in_path), st;

	*n = 0;
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	for (size_t i = 0; i < n_in; i++)
		fprintf(f, "%s\n", inputs[i]);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' '%s/python/packaging_ref.py' %s '%s' %s", pyref_python(),
		 DS_TEST_DATA, mode, in_path, args ? args : "");
	p = popen(cmd, "r");
	if (!p) {
		unlink(in_path);
		return NULL;
	}
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (*n + 2 > cap) {
			cap = cap ? cap * 2 : 64;
			out = realloc(out, cap * sizeof(*out));
		}
		out[(*n)++] = strdup(line);
		out[*n] = NULL;
	}
	st = pclose(p);
	unlink(in_path);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		for (size_t i = 0; i < *n; i++)
			free(out[i]);
		free(out);
		*n = 0;
		return NULL;
	}
	if (!out)
		out = calloc(1, sizeof(*out));
	return out;
}

__attribute__((unused)) static void pyref_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

#endif
