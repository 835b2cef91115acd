/* Fuzz target: pip requirements files and, through them and directly, the
 * PEP 508, marker, PEP 440 and wheel-name parsers.  Nested -r / -c files
 * are served from the input itself (so includes, cycles and depth limits
 * are exercised).  Beyond not crashing, it checks round trips: a
 * requirement, marker, specifier set or version formatted canonically
 * parses again to the same text, and every version compares equal to its
 * canonical form. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/python.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *input;
static size_t input_len;

static int serve(void *d, const char *path, ds_buf *out, ds_error *err)
{
	(void)d;
	/* "-r x" gets the input again, "-r empty" nothing, anything else is missing */
	if (strcmp(path, "empty") == 0)
		return 0;
	if (strchr(path, 'x'))
		return ds_buf_add(out, input, input_len) < 0 ? ds_error_set(err, DS_ENOMEM, "big") : 0;
	return ds_error_set(err, DS_ENOENT, "cannot open '%s'", path);
}

static const char *fake_env(void *d, const char *name)
{
	(void)d;
	return strcmp(name, "A") == 0 ? "${A}" : strcmp(name, "B") == 0 ? "-r x" : NULL;
}

static void check(int cond, const char *what, const char *text)
{
	if (!cond) {
		fprintf(stderr, "round trip failed: %s: '%s'\n", what, text);
		abort();
	}
}

static void requirement(const char *s, const ds_pyenv *env)
{
	ds_pyreq *r, *r2;
	ds_buf a, b;
	int v;
	const char *ex[] = { "test" };

	if (ds_pyreq_parse(&r, s, NULL) < 0)
		return;
	(void)ds_pyreq_applies(&v, r, env, ex, 1, NULL);
	ds_buf_init(&a, 0);
	ds_buf_init(&b, 0);
	if (ds_pyreq_format(r, &a, NULL) == 0) {
		check(ds_pyreq_parse(&r2, a.data, NULL) == 0, "requirement reparse", a.data);
		check(ds_pyreq_format(r2, &b, NULL) == 0 && strcmp(a.data, b.data) == 0,
		      "requirement format", a.data);
		ds_pyreq_free(r2);
	}
	ds_buf_release(&a);
	ds_buf_release(&b);
	ds_pyreq_free(r);
}

static void marker(const char *s, const ds_pyenv *env)
{
	ds_pymarker *m, *m2;
	ds_buf a, b;
	int v1, v2, r1, r2;

	if (ds_pymarker_parse(&m, s, NULL) < 0)
		return;
	r1 = ds_pymarker_evaluate(&v1, m, env, NULL);
	ds_buf_init(&a, 0);
	ds_buf_init(&b, 0);
	if (ds_pymarker_format(m, &a, NULL) == 0) {
		check(ds_pymarker_parse(&m2, a.data, NULL) == 0, "marker reparse", a.data);
		check(ds_pymarker_format(m2, &b, NULL) == 0 && strcmp(a.data, b.data) == 0,
		      "marker format", a.data);
		r2 = ds_pymarker_evaluate(&v2, m2, env, NULL);
		check(r1 == r2 && (r1 < 0 || v1 == v2), "marker value", a.data);
		ds_pymarker_free(m2);
	}
	ds_buf_release(&a);
	ds_buf_release(&b);
	ds_pymarker_free(m);
}

static void version(const char *s)
{
	ds_pyver v, v2;
	char buf[DS_PYVER_STRING_MAX], buf2[DS_PYVER_STRING_MAX];

	if (ds_pyver_parse(&v, s, NULL) < 0)
		return;
	ds_pyver_format(&v, buf, sizeof(buf));
	check(ds_pyver_parse(&v2, buf, NULL) == 0, "version reparse", buf);
	check(ds_pyver_compare(&v, &v2) == 0, "version compare", buf);
	check(strcmp(ds_pyver_format(&v2, buf2, sizeof(buf2)), buf) == 0, "version format", buf);
}

static void specifiers(const char *s)
{
	ds_pyspecset set, set2;
	ds_buf a, b;
	ds_pyver vs[3];
	unsigned char keep[3];

	if (ds_pyspecset_parse(&set, s, NULL) < 0)
		return;
	ds_pyver_parse(&vs[0], "1.0", NULL);
	ds_pyver_parse(&vs[1], "2.0rc1", NULL);
	ds_pyver_parse(&vs[2], "1!0.post1+x", NULL);
	(void)ds_pyspecset_filter(&set, vs, 3, 0, keep);
	ds_buf_init(&a, 0);
	ds_buf_init(&b, 0);
	if (ds_pyspecset_format(&set, &a, NULL) == 0) {
		check(ds_pyspecset_parse(&set2, a.data, NULL) == 0, "specifiers reparse", a.data);
		check(ds_pyspecset_format(&set2, &b, NULL) == 0 && strcmp(a.data, b.data) == 0,
		      "specifiers format", a.data);
		for (int i = 0; i < 3; i++)
			check(ds_pyspecset_contains(&set, &vs[i], 1) ==
				      ds_pyspecset_contains(&set2, &vs[i], 1),
			      "specifiers meaning", a.data);
		ds_pyspecset_release(&set2);
	}
	ds_buf_release(&a);
	ds_buf_release(&b);
	ds_pyspecset_release(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ds_reqfile_opts o = DS_REQFILE_OPTS_INIT;
	ds_reqfile *rf;
	ds_pyenv env;
	char *s, *line, *save = NULL;

	if (size > 1 << 16)
		return 0;
	input = (const char *)data;
	input_len = size;
	ds_pyenv_for_target(&env, "3.11", "3.11.2", "linux/arm64", NULL);

	o.read = serve;
	o.getenv = fake_env;
	if (ds_reqfile_parse(&rf, input, size, "requirements.txt", &o, NULL) == 0) {
		for (size_t i = 0; i < rf->n_reqs; i++) {
			(void)ds_reqfile_req_needs_build(&rf->reqs[i]);
			if (rf->reqs[i].req->name)
				(void)ds_reqfile_formats(rf, rf->reqs[i].req->name);
		}
		(void)ds_reqfile_check_hashes(rf, &env, NULL);
		(void)ds_reqfile_check_hashes(rf, NULL, NULL);
		ds_reqfile_free(rf);
	}

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	free(ds_pyurl_redact(s));
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		ds_pywheel_name *w;
		char *name = NULL;
		ds_pyver v;
		requirement(line, &env);
		marker(line, &env);
		version(line);
		specifiers(line);
		if (ds_pywheel_name_parse(&w, line, NULL) == 0)
			ds_pywheel_name_free(w);
		if (ds_pysdist_name_parse(&name, &v, line, NULL) == 0)
			free(name);
		{
			char *u = NULL, *us = NULL, *pw = NULL;
			if (ds_pyurl_split_auth(&u, &us, &pw, line, NULL) == 0) {
				free(u);
				free(us);
				free(pw);
			}
		}
	}
	free(s);
	return 0;
}
