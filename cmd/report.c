#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdarg.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"

int cmd_quiet;

static int exit_code(int code)
{
	switch (code) {
	case DS_EINVAL:
	case DS_ENOENT:
		return EXIT_INPUT;
	case DS_EFORMAT:
	case DS_EUNSUPPORTED:
	case DS_EIMAGE:
		return EXIT_IMAGE;
	case DS_EAUTH:
		return EXIT_AUTH;
	case DS_ENET:
		return EXIT_NET;
	case DS_EIO:
	case DS_ENOSPC:
		return EXIT_IO;
	case DS_ECANCELED:
		return EXIT_INTERRUPTED;
	default:
		return EXIT_FAIL;
	}
}

int cmd_report(const ds_error *err)
{
	if (err->code == DS_ECANCELED) {
		fprintf(stderr, "error: interrupted; nothing was written\n");
		return EXIT_INTERRUPTED;
	}
	fprintf(stderr, "error: %s\n", err->msg[0] ? err->msg : "unknown failure");
	if (err->hint[0])
		fprintf(stderr, "hint: %s\n", err->hint);
	return exit_code(err->code);
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nhint: see 'dsbuild %s%s--help'\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

void cmd_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_print_help(const cmd_def *c, FILE *f)
{
	fputs(c->usage, f);
}

void strv_push(strv *s, const char *x)
{
	if (s->n + 1 >= s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 8;
		s->v = realloc(s->v, s->alloc * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = x;
	s->v[s->n] = NULL;
}

void strv_push_own(strv *s, char *x)
{
	s->owned = realloc(s->owned, (s->n_owned + 1) * sizeof(*s->owned));
	if (!s->owned)
		abort();
	s->owned[s->n_owned++] = x;
	strv_push(s, x);
}

void strv_release(strv *s)
{
	for (size_t i = 0; i < s->n_owned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int cmd_parse_argv(const char *flag, const char *s, strv *out, ds_error *err)
{
	const char *p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[') {
		json_error_t je;
		json_t *a = json_loads(s, 0, &je);
		size_t i;
		json_t *v;
		if (!json_is_array(a)) {
			json_decref(a);
			ds_error_set(err, DS_EINVAL, "%s '%s' is not a JSON array of strings", flag, s);
			return ds_error_hint(err, "write %s '[\"python\", \"app.py\"]' or %s "
						  "'python app.py'",
					     flag, flag);
		}
		json_array_foreach (a, i, v) {
			if (!json_is_string(v)) {
				json_decref(a);
				return ds_error_set(err, DS_EINVAL,
						    "%s '%s': element %zu is not a string", flag, s,
						    i + 1);
			}
			strv_push_own(out, strdup(json_string_value(v)));
		}
		json_decref(a);
		return 0;
	}
	/* shell-like words */
	while (*p) {
		char *w = malloc(strlen(s) + 1);
		size_t n = 0;
		char q = 0;
		if (!w)
			abort();
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p) {
			free(w);
			break;
		}
		for (; *p; p++) {
			if (q) {
				if (*p == q) {
					q = 0;
				} else if (q == '"' && *p == '\\' &&
					   (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`')) {
					/* inside "...", a backslash escapes only " \\ $ ` (sh) */
					w[n++] = *++p;
				} else if (q == '"' && *p == '\\' && p[1] == '\n') {
					p++; /* line continuation */
				} else {
					w[n++] = *p;
				}
			} else if (*p == '\'' || *p == '"') {
				q = *p;
			} else if (*p == '\\' && p[1]) {
				w[n++] = *++p;
			} else if (*p == ' ' || *p == '\t' || *p == '\n') {
				break;
			} else {
				w[n++] = *p;
			}
		}
		if (q) {
			free(w);
			ds_error_set(err, DS_EINVAL, "%s '%s' has an unterminated %s quote", flag, s,
				     q == '"' ? "double" : "single");
			return ds_error_hint(err, "close the quote, or give a JSON array");
		}
		w[n] = '\0';
		strv_push_own(out, w);
	}
	return 0;
}

void cmd_human_size(unsigned long long n, char *buf, size_t sz)
{
	const char *u[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, sz, "%llu B", n);
	else
		snprintf(buf, sz, "%.1f %s", v, u[i]);
}

static void on_signal(int sig)
{
	(void)sig;
	ds_cancel_request();
}

void cmd_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
}

char *cmd_abspath(const char *p)
{
	char real[PATH_MAX], *copy, *slash, *out;
	size_t n;

	if (realpath(p, real))
		return strdup(real);
	copy = strdup(p);
	if (!copy)
		abort();
	n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		if (!realpath(slash == copy ? "/" : copy, real)) {
			free(copy);
			return strdup(p);
		}
		n = strlen(real) + strlen(slash + 1) + 2;
		out = malloc(n);
		snprintf(out, n, "%s/%s", strcmp(real, "/") ? real : "", slash + 1);
	} else {
		if (!getcwd(real, sizeof(real))) {
			free(copy);
			return strdup(p);
		}
		n = strlen(real) + strlen(copy) + 2;
		out = malloc(n);
		snprintf(out, n, "%s/%s", real, copy);
	}
	free(copy);
	return out;
}

int cmd_plan(const char *dir, ds_detect_opts *o, ds_source **src, json_t **plan, ds_error *err)
{
	ds_source_opts so = DS_SOURCE_OPTS_INIT;
	char *excludes = NULL;
	int rc = -1;

	if (!o->builder && getenv("DSBUILD_BUILDER") && *getenv("DSBUILD_BUILDER"))
		o->builder = getenv("DSBUILD_BUILDER");
	if (!o->base && getenv("DSBUILD_BASE") && *getenv("DSBUILD_BASE")) {
		o->base = getenv("DSBUILD_BASE");
		o->base_origin = "$DSBUILD_BASE";
	}
	if (ds_project_excludes(&excludes, dir, err) < 0)
		return -1;
	so.extra_ignore = excludes;
	so.extra_name = "the project's exclude setting";
	if (ds_source_scan(src, dir, &so, err) == 0 && ds_plan_make(plan, *src, o, err) == 0)
		rc = 0;
	free(excludes);
	return rc;
}
