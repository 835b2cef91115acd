/* Fuzz target: Procfiles (from source trees we did not write).
 *
 * Besides not crashing or leaking, it checks what callers rely on: a failure names the file and
 * leaves the outputs alone; a success gives unique types of [A-Za-z0-9_-]+, non-empty trimmed
 * commands that jansson accepts as strings (valid UTF-8, so they can go into processes.json)
 * without control characters but tab, and line numbers in increasing order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <dsbuild/notebook.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_procfile: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ds_error err = DS_ERROR_INIT;
	ds_procfile_entry *sentinel = (ds_procfile_entry *)&err, *v = sentinel;
	size_t n = 12345;

	if (ds_procfile_parse(&v, &n, "Procfile", (const char *)data, size, &err) < 0) {
		check(v == sentinel && n == 12345, "outputs set on failure");
		check(strncmp(err.msg, "'Procfile' ", 11) == 0, "message without the file name");
		return 0;
	}
	check(n <= DS_PROCFILE_MAX_LINES, "too many entries");
	check((n == 0) == (v == NULL), "entries and count disagree");
	for (size_t i = 0; i < n; i++) {
		const char *t = v[i].type, *c = v[i].command;
		size_t cl = strlen(c);
		json_t *j;
		check(*t != '\0', "an empty type");
		for (; *t; t++)
			check((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
				      (*t >= '0' && *t <= '9') || *t == '_' || *t == '-',
			      "a bad character in a type");
		check(cl > 0 && c[0] != ' ' && c[0] != '\t' && c[cl - 1] != ' ' &&
			      c[cl - 1] != '\t',
		      "an empty or untrimmed command");
		for (const char *p = c; *p; p++)
			check((unsigned char)*p >= 0x20 || *p == '\t', "a control character");
		check(!strchr(c, 0x7f), "DEL in a command");
		j = json_string(c);
		check(j != NULL, "a command jansson refuses");
		json_decref(j);
		check(v[i].line >= 1 && (i == 0 || v[i].line > v[i - 1].line), "line numbers");
		for (size_t k = 0; k < i; k++)
			check(strcmp(v[i].type, v[k].type) != 0, "a duplicate type");
	}
	ds_procfile_free(v, n);
	return 0;
}
