/* Fuzz target: TOML documents (pyproject.toml, pylock.toml, buildpack.toml and builder files
 * come from source trees and buildpacks we did not write).
 *
 * Besides not crashing or leaking, it checks what callers rely on: a failure sets a message
 * naming the file and leaves the output alone; a success gives an object whose tree survives a
 * round trip through JSON text (so every string is valid UTF-8 and every real is finite). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/toml.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const json_t *v, int depth)
{
	const char *key;
	json_t *e;
	size_t i;

	if (depth > DS_TOML_MAX_DEPTH + 1)
		abort();
	(void)ds_toml_tagged(v, NULL);
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, e) walk(e, depth + 1);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) walk(e, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ds_error err = DS_ERROR_INIT;
	json_t *sentinel = json_object(), *out = sentinel, *back;
	char *text;

	if (ds_toml_parse(&out, "fuzz.toml", (const char *)data, size, &err) < 0) {
		if (out != sentinel || strncmp(err.msg, "'fuzz.toml' ", 12) != 0)
			abort();
		json_decref(sentinel);
		return 0;
	}
	json_decref(sentinel);
	if (!json_is_object(out))
		abort();
	walk(out, 0);
	text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		abort();
	/* jansson cannot load U+0000 in object keys; the rest must come back equal */
	if (!strstr(text, "\\u0000")) {
		back = json_loads(text, JSON_DECODE_ANY, NULL);
		if (!back || !json_equal(back, out))
			abort();
		json_decref(back);
	}
	free(text);
	json_decref(out);
	return 0;
}
