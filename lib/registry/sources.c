#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include <dsbuild/digest.h>
#include <dsbuild/store.h>

#include "registry/sources.h"
#include "util/util.h"

#define LINE_MAX_LEN 600

char *reg_sources_dir(const char *cache_dir)
{
	ds_buf b;
	char *s;

	if (cache_dir && !*cache_dir)
		return NULL;
	if (cache_dir)
		return ds_xasprintf("%s/registry/sources", cache_dir);
	ds_buf_init(&b, 8192);
	if (ds_store_default_path(&b, NULL) < 0) {
		ds_buf_release(&b);
		return NULL;
	}
	s = ds_xasprintf("%s/registry/sources", b.data);
	ds_buf_release(&b);
	return s;
}

static size_t read_lines(const char *file, char **lines, size_t max)
{
	ds_buf b;
	size_t n = 0;
	char *p, *nl;

	ds_buf_init(&b, (size_t)LINE_MAX_LEN * REG_SOURCES_MAX * 2);
	if (ds_read_file(file, b.max, &b, NULL) < 0) {
		ds_buf_release(&b);
		return 0;
	}
	for (p = b.data; *p && n < max; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		if (nl > p && nl - p < LINE_MAX_LEN)
			lines[n++] = ds_xstrndup(p, (size_t)(nl - p));
	}
	ds_buf_release(&b);
	return n;
}

void reg_sources_add(const char *dir, const char *digest, const char *domain, const char *repo)
{
	char *lines[REG_SOURCES_MAX];
	_cleanup_free_ char *file = NULL;
	_cleanup_free_ char *me = NULL;
	size_t n;
	ds_buf out;

	if (!dir || !ds_digest_valid(digest))
		return;
	if (ds_mkdir_p(dir, 0755, NULL) < 0)
		return;
	file = ds_xasprintf("%s/%s", dir, ds_digest_hex(digest));
	me = ds_xasprintf("%s/%s", domain, repo);
	n = read_lines(file, lines, REG_SOURCES_MAX);
	if (n && !strcmp(lines[0], me)) {
		for (size_t i = 0; i < n; i++)
			free(lines[i]);
		return; /* already first: no write */
	}
	ds_buf_init(&out, (size_t)LINE_MAX_LEN * (REG_SOURCES_MAX + 1));
	ds_buf_addf(&out, "%s\n", me);
	for (size_t i = 0, kept = 1; i < n; i++) {
		if (strcmp(lines[i], me) && kept < REG_SOURCES_MAX) {
			ds_buf_addf(&out, "%s\n", lines[i]);
			kept++;
		}
		free(lines[i]);
	}
	ds_write_file_atomic(file, out.data, out.len, NULL);
	ds_buf_release(&out);
}

size_t reg_sources_get(const char *dir, const char *digest, const char *domain,
		       const char *not_repo, char **out, size_t max)
{
	char *lines[REG_SOURCES_MAX];
	_cleanup_free_ char *file = NULL;
	size_t n, k = 0, dn = strlen(domain);

	if (!dir || !ds_digest_valid(digest))
		return 0;
	file = ds_xasprintf("%s/%s", dir, ds_digest_hex(digest));
	n = read_lines(file, lines, REG_SOURCES_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		if (k < max && !strncmp(l, domain, dn) && l[dn] == '/' && l[dn + 1] &&
		    strcmp(l + dn + 1, not_repo))
			out[k++] = ds_xstrdup(l + dn + 1);
		free(lines[i]);
	}
	return k;
}
