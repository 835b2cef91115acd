/* Fuzz target: simple-index pages.  The first byte picks PEP 691 JSON (odd)
 * or PEP 503 HTML (even) and one of a few base URLs; the rest is the page.
 * Beyond not crashing: every file has a non-empty name and an absolute URL
 * without a fragment, hashes are 64 lowercase hex digits or empty, and the
 * URL joiner is total on what the page holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/pydeps.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex64_or_empty(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return 1;
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *bases[] = {"http://127.0.0.1:8000/simple/pkg/", "https://h/",
				      "http://u:p@h/a/b", "file:///srv/idx/simple/x/"};
	ds_pyfile_list l = {0};
	ds_error err = DS_ERROR_INIT;
	int json;
	const char *base;

	if (size < 1)
		return 0;
	json = data[0] & 1;
	base = bases[(data[0] >> 1) % 4];
	if (ds_pyindex_parse(&l, (const char *)data + 1, size - 1, json, base, &err) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			const ds_pyfile *f = &l.v[i];
			char *j = NULL;
			if (!f->filename || !f->url || strchr(f->url, '#') ||
			    !strstr(f->url, ":") || !hex64_or_empty(f->sha256) ||
			    !hex64_or_empty(f->metadata_sha256))
				abort();
			if (ds_pyurl_join(&j, base, f->url, NULL) == 0)
				free(j);
			if (ds_pyurl_join(&j, f->url, "../x.whl", NULL) == 0)
				free(j);
		}
	}
	ds_pyfile_list_release(&l);
	return 0;
}
