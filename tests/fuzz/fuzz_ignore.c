/* Fuzz target for the ignore rules: the input up to the first NUL byte is
 * an ignore file, read in both syntaxes; the rest is up to 8 NUL-separated
 * paths, matched with each.  Besides not crashing or leaking, checks that
 * what the walker relies on holds: a path below an excluded directory for
 * which ds_ignore_may_reinclude() says 0 is excluded too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/ignore.h"

#define MAX_PATHS 8
#define MAX_PATH 8192

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Copies s (n bytes) as a path the walker could pass: no empty components,
 * no leading or trailing '/', no NUL. */
static size_t clean_path(const uint8_t *s, size_t n, char *out)
{
	size_t w = 0;

	for (size_t i = 0; i < n && w < MAX_PATH - 1; i++) {
		if (s[i] == '/' && (w == 0 || out[w - 1] == '/'))
			continue;
		out[w++] = (char)s[i];
	}
	if (w && out[w - 1] == '/')
		w--;
	out[w] = '\0';
	return w;
}

static void match_paths(const ds_ignore *ig, ds_ignore_syntax syntax, char paths[][MAX_PATH],
			size_t n_paths)
{
	for (size_t i = 0; i < n_paths; i++) {
		char *p = paths[i];
		size_t len = strlen(p);
		int is_dir = (int)(i & 1);
		ds_ignore_result r = ds_ignore_match(ig, p, is_dir);
		int again = ds_ignore_may_reinclude(ig, p);

		check(r == DS_IGNORE_NONE || r == DS_IGNORE_EXCLUDE || r == DS_IGNORE_INCLUDE);
		check(again == 0 || again == 1);
		if (syntax == DS_IGNORE_GIT)
			check(again == 0);
		if (!len)
			check(r == DS_IGNORE_NONE);
		/* every parent that is excluded and not to be descended into
		 * excludes this path too */
		for (size_t k = 1; k < len; k++) {
			if (p[k] != '/')
				continue;
			p[k] = '\0';
			if (ds_ignore_match(ig, p, 1) == DS_IGNORE_EXCLUDE &&
			    !ds_ignore_may_reinclude(ig, p))
				check(r == DS_IGNORE_EXCLUDE);
			p[k] = '/';
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char paths[MAX_PATHS][MAX_PATH];
	const uint8_t *nul = memchr(data, '\0', size);
	size_t text_len = nul ? (size_t)(nul - data) : size, n_paths = 0;
	static const ds_ignore_syntax syntaxes[] = { DS_IGNORE_GIT, DS_IGNORE_DOCKER };

	if (nul) {
		const uint8_t *p = nul + 1, *end = data + size;
		while (p <= end && n_paths < MAX_PATHS) {
			const uint8_t *q = memchr(p, '\0', (size_t)(end - p));
			size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
			clean_path(p, n, paths[n_paths++]);
			if (!q)
				break;
			p = q + 1;
		}
	}
	for (size_t s = 0; s < 2; s++) {
		ds_error err = DS_ERROR_INIT;
		ds_ignore *ig = NULL;

		if (ds_ignore_parse(&ig, ".ignore", (const char *)data, text_len, syntaxes[s],
				    &err) < 0) {
			check(ig == NULL);
			check(err.code != 0 && err.msg[0] != '\0' && err.hint[0] != '\0');
			check(strncmp(err.msg, "'.ignore' line ", 15) == 0);
			continue;
		}
		check(ds_ignore_count(ig) <= DS_IGNORE_MAX_RULES);
		match_paths(ig, syntaxes[s], paths, n_paths);
		ds_ignore_free(ig);
	}
	return 0;
}
