/* Facts about a source tree: what the buildpacks decide on.  Every file
 * read here is untrusted and read with a bound. */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <dsbuild/buf.h>
#include <dsbuild/debian.h>
#include <dsbuild/detect.h>
#include <dsbuild/notebook.h>
#include <dsbuild/pydeps.h>
#include <dsbuild/python.h>
#include <dsbuild/toml.h>

#include "buildpack/bp.h"
#include "util/util.h"

static const ds_source_file *find_file(const ds_source *src, const char *path)
{
	size_t lo = 0, hi = src->n_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(src->files[mid].path, path);
		if (!c)
			return &src->files[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Reads a regular file of the tree (by its relative path) into out, at
 * most max bytes; a larger file is an error naming it. */
static int read_tree_file(const ds_source *src, const char *rel, size_t max, ds_buf *out,
			  ds_error *err)
{
	_cleanup_free_ char *p = ds_xasprintf("%s/%s", src->root, rel);

	ds_buf_init(out, max);
	if (ds_read_file(p, max, out, err) < 0) {
		ds_buf_release(out);
		return ds_error_wrap(err, "'%s'", rel);
	}
	return 0;
}

static int is_top_file(const ds_source *src, const char *rel)
{
	const ds_source_file *f = find_file(src, rel);
	return f && f->type == DS_ENTRY_FILE;
}

static const char *ext_of(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	if (!dot || (slash && dot < slash) || dot == path || (slash && dot == slash + 1))
		return "";
	return dot;
}

static void add_ignored(json_t *facts, const char *path, const char *why, const char *hint)
{
	json_t *a = json_object_get(facts, "ignored"), *o = json_object();
	json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "why", json_string(why));
	if (hint)
		json_object_set_new(o, "hint", json_string(hint));
	json_array_append_new(a, o);
}

static void add_note(json_t *facts, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(json_t *facts, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	json_array_append_new(json_object_get(facts, "notes"), json_string(line));
}

/* ---- project config: [tool.dsbuild] or dsbuild.toml ------------------------- */

static const char *const config_keys[] = {
	"base", "process", "job", "processes", "env", "ports", "model-threshold", "buildpacks",
	"builder", "exclude",
};

static int check_config(const json_t *cfg, const char *file, ds_error *err)
{
	const char *k;
	json_t *v;

	if (!json_is_object(cfg))
		return ds_error_set(err, DS_EINVAL, "'%s': [tool.dsbuild] must be a table", file);
	json_object_foreach ((json_t *)cfg, k, v) {
		size_t i;
		for (i = 0; i < DS_ARRAY_SIZE(config_keys); i++)
			if (!strcmp(k, config_keys[i]))
				break;
		if (i == DS_ARRAY_SIZE(config_keys)) {
			ds_error_set(err, DS_EINVAL, "'%s': unknown dsbuild setting '%s'", file, k);
			return ds_error_hint(err, "the settings are base, process, job, processes, "
						  "env, ports, model-threshold, buildpacks, builder, "
						  "exclude (docs/buildpacks.md)");
		}
	}
#define WANT(key, test, what)                                                                      \
	do {                                                                                       \
		json_t *x_ = json_object_get(cfg, key);                                            \
		if (x_ && !(test(x_)))                                                             \
			return ds_error_set(err, DS_EINVAL, "'%s': '%s' must be %s", file, key,    \
					    what);                                                 \
	} while (0)
	WANT("base", json_is_string, "a string such as \"debian:bookworm\"");
	WANT("process", json_is_string, "the name of a process");
	WANT("job", json_is_string, "the path of a notebook or script");
	WANT("processes", json_is_object, "a table of name = \"command\"");
	WANT("env", json_is_object, "a table of NAME = \"value\"");
	WANT("ports", json_is_array, "an array of port numbers");
	WANT("model-threshold", json_is_integer, "a size in bytes");
	WANT("buildpacks", json_is_array, "an array of buildpack folders");
	WANT("builder", json_is_string, "the path of a builder file");
	WANT("exclude", json_is_array, "an array of ignore patterns");
#undef WANT
	{
		const char *name;
		json_t *p;
		json_object_foreach (json_object_get(cfg, "processes"), name, p) {
			int ok = json_is_string(p) && json_string_length(p) > 0;
			if (json_is_array(p) && json_array_size(p) > 0) {
				size_t i;
				json_t *w;
				ok = 1;
				json_array_foreach (p, i, w)
					ok &= json_is_string(w);
			}
			if (!ok)
				return ds_error_set(err, DS_EINVAL,
						    "'%s': process '%s' must be a command string or "
						    "a non-empty array of strings", file, name);
		}
		json_object_foreach (json_object_get(cfg, "env"), name, p)
			if (!json_is_string(p) && !json_is_integer(p) && !json_is_real(p) &&
			    !json_is_boolean(p))
				return ds_error_set(err, DS_EINVAL, "'%s': env '%s' must be a string",
						    file, name);
	}
	{
		size_t i;
		json_t *p;
		json_array_foreach (json_object_get(cfg, "ports"), i, p)
			if (!json_is_integer(p) || json_integer_value(p) < 1 ||
			    json_integer_value(p) > 65535)
				return ds_error_set(err, DS_EINVAL, "'%s': ports[%zu] is not a port "
								    "number (1-65535)", file, i);
	}
	return 0;
}

static int read_config(json_t *facts, const ds_source *src, json_t *pyproject, ds_error *err)
{
	json_t *tool = json_object_get(json_object_get(pyproject, "tool"), "dsbuild");
	_cleanup_json_ json_t *doc = NULL;

	if (is_top_file(src, "dsbuild.toml")) {
		_cleanup_free_ char *p = ds_xasprintf("%s/dsbuild.toml", src->root);
		if (ds_toml_parse_file(&doc, p, err) < 0) {
			if (err && err->code == DS_EFORMAT)
				err->code = DS_EINVAL;
			return ds_error_wrap(err, "project config");
		}
		if (check_config(doc, "dsbuild.toml", err) < 0)
			return -1;
		if (tool)
			add_note(facts, "dsbuild.toml is used; [tool.dsbuild] in pyproject.toml is "
					"ignored");
		json_object_set_new(doc, "file", json_string("dsbuild.toml"));
		json_object_set(facts, "config", doc);
		return 0;
	}
	if (tool) {
		if (check_config(tool, "pyproject.toml", err) < 0)
			return -1;
		doc = json_deep_copy(tool);
		json_object_set_new(doc, "file", json_string("pyproject.toml"));
		json_object_set(facts, "config", doc);
	}
	return 0;
}

/* ---- Python version ---------------------------------------------------------- */

/* "3.11" -> "==3.11.*"; "3.11.4" -> "==3.11.*" (the patch level is the base's). */
static int version_request(const char *file, int line, const char *v, json_t *facts, ds_error *err)
{
	int maj, min, n = 0;
	char rest[16] = "";

	if (sscanf(v, "%d.%d%n", &maj, &min, &n) != 2 || maj != 3 || min < 0 || min > 99 ||
	    (v[n] && (v[n] != '.' || strlen(v + n) >= sizeof(rest)))) {
		ds_error_set(err, DS_EINVAL, "'%s' line %d: '%s' is not a CPython version", file,
			     line, v);
		return ds_error_hint(err, "write a version such as 3.11 (dsbuild builds CPython "
					  "images only)");
	}
	json_t *py = json_object();
	json_object_set_new(py, "request", json_sprintf("==%d.%d.*", maj, min));
	json_object_set_new(py, "written", json_string(v));
	json_object_set_new(py, "from", json_string(file));
	json_object_set_new(facts, "python", py);
	if (v[n])
		add_note(facts, "%s asks for Python %s: the patch level is the base's", file, v);
	return 0;
}

static int read_python_version(json_t *facts, const ds_source *src, json_t *pyproject,
			       ds_error *err)
{
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	const char *rp;

	if (is_top_file(src, ".python-version")) {
		char *line, *save = NULL;
		int lno = 0;
		if (read_tree_file(src, ".python-version", 4096, &b, err) < 0)
			return -1;
		for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *e;
			lno++;
			while (isspace((unsigned char)*line))
				line++;
			e = line + strlen(line);
			while (e > line && isspace((unsigned char)e[-1]))
				*--e = '\0';
			if (!*line || *line == '#')
				continue;
			return version_request(".python-version", lno, line, facts, err);
		}
		return ds_error_set(err, DS_EINVAL, "'.python-version' names no version");
	}
	if (is_top_file(src, "runtime.txt")) {
		char *s, *e;
		if (read_tree_file(src, "runtime.txt", 4096, &b, err) < 0)
			return -1;
		s = b.data;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strcspn(s, "\r\n");
		*e = '\0';
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (strncmp(s, "python-", 7)) {
			ds_error_set(err, DS_EINVAL, "'runtime.txt' line 1: '%s' is not a Python "
						     "runtime", s);
			return ds_error_hint(err, "write python-3.11 (Heroku's format)");
		}
		return version_request("runtime.txt", 1, s + 7, facts, err);
	}
	rp = json_string_value(json_object_get(json_object_get(pyproject, "project"),
					       "requires-python"));
	if (rp) {
		ds_pyspecset ss;
		json_t *py;
		if (ds_pyspecset_parse(&ss, rp, err) < 0)
			return ds_error_wrap(err, "'pyproject.toml': requires-python");
		ds_pyspecset_release(&ss);
		py = json_object();
		json_object_set_new(py, "request", json_string(rp));
		json_object_set_new(py, "written", json_string(rp));
		json_object_set_new(py, "from", json_string("pyproject.toml requires-python"));
		json_object_set_new(facts, "python", py);
	}
	return 0;
}

/* ---- requirements --------------------------------------------------------------- */

static void add_name(json_t *names, const char *name)
{
	_cleanup_free_ char *n = NULL;
	size_t i;
	json_t *v;

	if (!name || ds_pyname_normalize(&n, name, NULL) < 0)
		return;
	json_array_foreach (names, i, v)
		if (!strcmp(json_string_value(v), n))
			return;
	json_array_append_new(names, json_string(n));
}

static int read_requirements(json_t *facts, const ds_source *src, json_t *pyproject,
			     ds_error *err)
{
	const char *file = NULL;
	json_t *r, *names;

	if (ds_pydeps_detect(&file, src->root, err) < 0)
		return -1;
	if (!file)
		return 0;
	r = json_object();
	names = json_array();
	json_object_set_new(r, "file", json_string(file));
	json_object_set_new(r, "names", names);
	json_object_set_new(facts, "requirements", r);
	if (!strcmp(file, "requirements.txt")) {
		ds_reqfile_opts ro = DS_REQFILE_OPTS_INIT;
		ds_reqfile *rf = NULL;
		ro.root = src->root;
		if (ds_reqfile_parse_file(&rf, "requirements.txt", &ro, err) < 0)
			return -1;
		for (size_t i = 0; i < rf->n_reqs; i++)
			add_name(names, rf->reqs[i].req ? rf->reqs[i].req->name : NULL);
		ds_reqfile_free(rf);
	} else if (!strcmp(file, "pyproject.toml")) {
		size_t i;
		json_t *d;
		json_array_foreach (json_object_get(json_object_get(pyproject, "project"),
						    "dependencies"), i, d) {
			ds_pyreq *rq = NULL;
			if (!json_is_string(d))
				continue;
			if (ds_pyreq_parse(&rq, json_string_value(d), err) < 0)
				return ds_error_wrap(err, "'pyproject.toml': dependencies[%zu]", i);
			add_name(names, rq->name);
			ds_pyreq_free(rq);
		}
	} else {
		_cleanup_json_ json_t *lock = NULL;
		_cleanup_free_ char *p = ds_xasprintf("%s/%s", src->root, file);
		size_t i;
		json_t *pk;
		if (ds_toml_parse_file(&lock, p, err) < 0)
			return -1;
		json_array_foreach (json_object_get(lock, "packages"), i, pk)
			add_name(names, json_string_value(json_object_get(pk, "name")));
	}
	return 0;
}

/* ---- notebooks ------------------------------------------------------------------ */

static json_t *strv_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int read_notebook(json_t *facts, const ds_source *src, const ds_source_file *f,
			 ds_error *err)
{
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;
	ds_notebook *nb = NULL;
	json_t *o;

	if (f->size > DS_DETECT_FILE_MAX)
		return ds_error_set(err, DS_EINVAL, "'%s': a notebook of %llu bytes is too large "
						    "(at most 64 MiB)", f->path,
				    (unsigned long long)f->size);
	if (read_tree_file(src, f->path, DS_DETECT_FILE_MAX, &b, err) < 0)
		return -1;
	if (ds_notebook_convert(&nb, f->path, b.data, b.len, err) < 0)
		return -1;
	o = json_object();
	json_object_set_new(o, "path", json_string(f->path));
	json_object_set_new(o, "cells", json_integer((json_int_t)nb->n_cells));
	json_object_set_new(o, "code_cells", json_integer((json_int_t)nb->n_code_cells));
	json_object_set_new(o, "params", strv_json(nb->params, nb->n_params));
	json_object_set_new(o, "notes", strv_json(nb->notes, nb->n_notes));
	for (size_t i = 0; i < nb->n_notes; i++)
		add_note(facts, "%s: %s", f->path, nb->notes[i]);
	json_object_set_new(o, "script", json_string(nb->script));
	if (nb->exported)
		json_object_set_new(o, "exported", json_string(nb->exported));
	json_array_append_new(json_object_get(facts, "notebooks"), o);
	ds_notebook_free(nb);
	return 0;
}

/* ---- model files ------------------------------------------------------------------ */

static const char *const model_exts[][2] = {
	{ ".pkl", "pickle" },	     { ".pickle", "pickle" }, { ".joblib", "joblib" },
	{ ".onnx", "onnx" },	     { ".pt", "pytorch" },    { ".pth", "pytorch" },
	{ ".h5", "keras" },	     { ".keras", "keras" },   { ".safetensors", "safetensors" },
};

/* 1 when the first bytes are those of a pickle (protocol 2-5, or an old
 * protocol's opening opcodes) or of a compressed joblib dump. */
static int pickle_magic(const unsigned char *h, size_t n, int joblib)
{
	if (n >= 2 && h[0] == 0x80 && h[1] >= 2 && h[1] <= 5)
		return 1;
	if (n >= 1 && (h[0] == '(' || h[0] == ']' || h[0] == '}' || h[0] == 'c'))
		return 1; /* protocols 0 and 1 */
	if (joblib && n >= 2 &&
	    ((h[0] == 0x78 && (h[1] == 0x01 || h[1] == 0x5e || h[1] == 0x9c || h[1] == 0xda)) ||
	     (h[0] == 0x1f && h[1] == 0x8b) || (h[0] == 'B' && h[1] == 'Z') ||
	     (h[0] == 0xfd && h[1] == '7') || (h[0] == 0x04 && h[1] == 0x22)))
		return 1;
	return 0;
}

static int check_model(const ds_source *src, const ds_source_file *f, const char *format,
		       ds_error *err)
{
	_cleanup_free_ char *p = ds_xasprintf("%s/%s", src->root, f->path);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	unsigned char h[64];
	ssize_t n;

	if (fd < 0)
		return ds_error_set_errno(err, errno, "cannot open '%s'", f->path);
	n = read(fd, h, sizeof(h));
	if (n < 0)
		return ds_error_set_errno(err, errno, "cannot read '%s'", f->path);
	if (n >= 24 && !memcmp(h, "version https://git-lfs", 23)) {
		ds_error_set(err, DS_EINVAL, "'%s' is a Git LFS pointer, not the model itself",
			     f->path);
		return ds_error_hint(err, "run 'git lfs pull' in the project, then build again");
	}
	if (!strcmp(format, "pickle") || !strcmp(format, "joblib")) {
		if (!pickle_magic(h, (size_t)n, !strcmp(format, "joblib"))) {
			ds_error_set(err, DS_EINVAL, "'%s' is not a %s file (it does not start "
						     "as one does)", f->path, format);
			return ds_error_hint(err, "save the model with %s, or rename the file if "
						  "it is not a model",
					     !strcmp(format, "joblib") ? "joblib.dump()" :
									 "pickle.dump()");
		}
	}
	return 0;
}

/* ---- apps -------------------------------------------------------------------------- */

static const char *const app_files[] = {
	"app.py", "api.py", "main.py", "server.py", "serve.py", "wsgi.py", "asgi.py",
	"application.py",
};

typedef struct {
	const char *framework;
	const char *pattern; /* group 1: the object's name */
} app_rule;

static const app_rule app_rules[] = {
	{ "fastapi", "^([A-Za-z_][A-Za-z0-9_]*)[ \t]*(:[^=\n]*)?=[ \t]*(fastapi\\.)?FastAPI[ \t]*\\(" },
	{ "flask", "^([A-Za-z_][A-Za-z0-9_]*)[ \t]*(:[^=\n]*)?=[ \t]*(flask\\.)?Flask[ \t]*\\(" },
	{ "streamlit", "^[ \t]*(import[ \t]+streamlit|from[ \t]+streamlit[ \t.])" },
	{ "gradio", "^[ \t]*(import[ \t]+gradio|from[ \t]+gradio[ \t.])" },
};

/* Fills framework and object when text builds a web app. */
static int app_scan(const char *text, const char **framework, char **object)
{
	for (size_t i = 0; i < DS_ARRAY_SIZE(app_rules); i++) {
		regex_t re;
		regmatch_t m[2];
		if (regcomp(&re, app_rules[i].pattern, REG_EXTENDED | REG_NEWLINE))
			continue;
		if (!regexec(&re, text, 2, m, 0)) {
			*framework = app_rules[i].framework;
			*object = !strcmp(*framework, "flask") || !strcmp(*framework, "fastapi") ?
					  ds_xstrndup(text + m[1].rm_so,
						      (size_t)(m[1].rm_eo - m[1].rm_so)) :
					  NULL;
			regfree(&re);
			return 1;
		}
		regfree(&re);
	}
	return 0;
}

int ds_app_scan(const char *text, const char **framework, char **object)
{
	return app_scan(text, framework, object);
}

static int read_apps(json_t *facts, const ds_source *src, ds_error *err)
{
	json_t *apps = json_object_get(facts, "apps"), *scripts = json_object_get(facts, "scripts");

	for (size_t i = 0; i < DS_ARRAY_SIZE(app_files); i++) {
		_cleanup_buf_ ds_buf b = DS_BUF_INIT;
		const char *fw = NULL;
		_cleanup_free_ char *obj = NULL;
		if (!is_top_file(src, app_files[i]))
			continue;
		if (read_tree_file(src, app_files[i], DS_DETECT_FILE_MAX, &b, err) < 0)
			return -1;
		if (app_scan(b.data, &fw, &obj)) {
			json_t *a = json_object();
			json_object_set_new(a, "path", json_string(app_files[i]));
			json_object_set_new(a, "module",
					    json_stringn(app_files[i], strlen(app_files[i]) - 3));
			json_object_set_new(a, "framework", json_string(fw));
			if (obj)
				json_object_set_new(a, "object", json_string(obj));
			json_array_append_new(apps, a);
		} else {
			json_array_append_new(scripts, json_string(app_files[i]));
		}
	}
	/* Other top-level scripts a job could run. */
	for (size_t i = 0; i < src->n_files; i++) {
		const ds_source_file *f = &src->files[i];
		size_t j;
		if (f->type != DS_ENTRY_FILE || strchr(f->path, '/') || strcmp(ext_of(f->path), ".py"))
			continue;
		for (j = 0; j < DS_ARRAY_SIZE(app_files); j++)
			if (!strcmp(f->path, app_files[j]))
				break;
		if (j < DS_ARRAY_SIZE(app_files))
			continue;
		if (!strncmp(f->path, "train", 5) || !strncmp(f->path, "job", 3) ||
		    !strncmp(f->path, "run", 3) || !strncmp(f->path, "predict", 7) ||
		    !strncmp(f->path, "score", 5) || !strncmp(f->path, "evaluate", 8)) {
			json_array_append_new(scripts, json_string(f->path));
		}
	}
	return 0;
}

/* ---- what is not used ------------------------------------------------------------- */

static void read_ignored(json_t *facts, const ds_source *src, json_t *pyproject)
{
	int has_reqs = json_object_get(facts, "requirements") != NULL;

	for (size_t i = 0; i < src->n_files; i++) {
		const char *p = src->files[i].path;
		if (!strcmp(p, "environment.yml") || !strcmp(p, "environment.yaml") ||
		    !strcmp(p, "conda.yaml") || !strcmp(p, "conda.yml"))
			add_ignored(facts, p, "conda environments are not supported yet",
				    "put the pip packages in requirements.txt and system "
				    "libraries in apt.txt");
		else if (!strcmp(p, "Pipfile") && !has_reqs)
			add_ignored(facts, p, "Pipfile is not read",
				    "run 'pipenv requirements > requirements.txt'");
		else if (!strcmp(p, "poetry.lock") && !has_reqs)
			add_ignored(facts, p, "poetry's lock file is not read",
				    "run 'poetry export -f requirements.txt -o requirements.txt', "
				    "or list the dependencies in [project].dependencies");
		else if (!strcmp(p, "setup.py") && !has_reqs)
			add_ignored(facts, p, "setup.py is not run (dsbuild never runs project code "
					      "at build time)",
				    "list the dependencies in requirements.txt or pyproject.toml");
		else if (!strcmp(p, "Dockerfile") || !strcmp(p, "Containerfile"))
			add_ignored(facts, p, "dsbuild builds without a Dockerfile", NULL);
	}
	if (pyproject && !has_reqs &&
	    json_object_get(json_object_get(json_object_get(pyproject, "tool"), "poetry"),
			    "dependencies"))
		add_ignored(facts, "pyproject.toml [tool.poetry.dependencies]",
			    "poetry's dependency tables are not read",
			    "list the dependencies in [project].dependencies (PEP 621)");
	for (size_t i = 0; i < src->n_skipped; i++) {
		const ds_source_skip *s = &src->skipped[i];
		add_ignored(facts, s->path,
			    s->reason == DS_SKIP_IGNORED ? "matched an ignore rule" :
			    s->why			 ? s->why :
							   "always left out",
			    s->reason == DS_SKIP_SECRET ? "add '!PATH' to .dsbuildignore to include it" :
							  NULL);
	}
}

/* ---- the facts ---------------------------------------------------------------------- */

int ds_detect_facts(json_t **out, const ds_source *src, const ds_detect_opts *opts, ds_error *err)
{
	_cleanup_json_ json_t *facts = json_object();
	_cleanup_json_ json_t *pyproject = NULL;
	uint64_t threshold = opts && opts->model_threshold ? opts->model_threshold :
							     DS_MODEL_THRESHOLD_DEFAULT;

	json_object_set_new(facts, "notebooks", json_array());
	json_object_set_new(facts, "models", json_array());
	json_object_set_new(facts, "apps", json_array());
	json_object_set_new(facts, "scripts", json_array());
	json_object_set_new(facts, "ignored", json_array());
	json_object_set_new(facts, "notes", json_array());

	if (is_top_file(src, "pyproject.toml")) {
		_cleanup_free_ char *p = ds_xasprintf("%s/pyproject.toml", src->root);
		if (ds_toml_parse_file(&pyproject, p, err) < 0) {
			if (err && err->code == DS_EFORMAT)
				err->code = DS_EINVAL;
			return -1;
		}
	}
	if (read_config(facts, src, pyproject, err) < 0)
		return -1;
	{
		json_t *proj = json_object_get(pyproject, "project");
		if (json_is_string(json_object_get(proj, "name"))) {
			json_t *p = json_object();
			json_object_set(p, "name", json_object_get(proj, "name"));
			if (json_is_string(json_object_get(proj, "version")))
				json_object_set(p, "version", json_object_get(proj, "version"));
			json_object_set_new(facts, "project", p);
		}
	}
	{
		json_t *cfg = json_object_get(facts, "config");
		json_t *mt = json_object_get(cfg, "model-threshold");
		if (mt && !(opts && opts->model_threshold) && json_integer_value(mt) > 0)
			threshold = (uint64_t)json_integer_value(mt);
	}
	if (read_python_version(facts, src, pyproject, err) < 0)
		return -1;
	if (read_requirements(facts, src, pyproject, err) < 0)
		return -1;
	if (read_apps(facts, src, err) < 0)
		return -1;

	for (size_t i = 0; i < src->n_files; i++) {
		const ds_source_file *f = &src->files[i];
		const char *ext = ext_of(f->path), *format = NULL;
		if (f->type != DS_ENTRY_FILE)
			continue;
		if (!strcmp(ext, ".ipynb")) {
			if (strstr(f->path, ".ipynb_checkpoints/"))
				continue;
			if (read_notebook(facts, src, f, err) < 0)
				return -1;
			continue;
		}
		for (size_t j = 0; j < DS_ARRAY_SIZE(model_exts); j++)
			if (!strcasecmp(ext, model_exts[j][0]))
				format = model_exts[j][1];
		if (!format && f->size >= threshold && strcmp(ext, ".py"))
			format = "data";
		if (format) {
			json_t *m;
			if (check_model(src, f, format, err) < 0)
				return -1;
			m = json_object();
			json_object_set_new(m, "path", json_string(f->path));
			json_object_set_new(m, "size", json_integer((json_int_t)f->size));
			json_object_set_new(m, "format", json_string(format));
			json_array_append_new(json_object_get(facts, "models"), m);
		}
	}
	json_object_set_new(facts, "model_threshold", json_integer((json_int_t)threshold));

	if (is_top_file(src, "Procfile")) {
		_cleanup_buf_ ds_buf b = DS_BUF_INIT;
		ds_procfile_entry *pe = NULL;
		size_t n = 0;
		json_t *a = json_array();
		if (read_tree_file(src, "Procfile", 1 << 20, &b, err) < 0) {
			json_decref(a);
			return -1;
		}
		if (ds_procfile_parse(&pe, &n, "Procfile", b.data, b.len, err) < 0) {
			json_decref(a);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "type", json_string(pe[i].type));
			json_object_set_new(o, "command", json_string(pe[i].command));
			json_object_set_new(o, "line", json_integer(pe[i].line));
			json_array_append_new(a, o);
		}
		ds_procfile_free(pe, n);
		json_object_set_new(facts, "procfile", a);
	}
	if (is_top_file(src, "apt.txt")) {
		_cleanup_buf_ ds_buf b = DS_BUF_INIT;
		char **pk = NULL;
		size_t n = 0;
		if (read_tree_file(src, "apt.txt", 1 << 20, &b, err) < 0)
			return -1;
		if (ds_debian_apt_txt_parse(&pk, &n, b.data, b.len, "apt.txt", err) < 0)
			return -1;
		json_object_set_new(facts, "apt", strv_json(pk, n));
		ds_debian_strv_free(pk);
	}
	read_ignored(facts, src, pyproject);
	*out = TAKE_PTR(facts);
	return 0;
}

int ds_project_excludes(char **out, const char *dir, ds_error *err)
{
	_cleanup_free_ char *dt = ds_xasprintf("%s/dsbuild.toml", dir);
	_cleanup_free_ char *pp = ds_xasprintf("%s/pyproject.toml", dir);
	_cleanup_json_ json_t *doc = NULL;
	const char *file = NULL;
	json_t *ex, *v;
	ds_buf b = DS_BUF_INIT;
	size_t i;

	*out = NULL;
	if (ds_path_exists(dt)) {
		if (ds_toml_parse_file(&doc, dt, err) < 0)
			return ds_error_wrap(err, "project config");
		ex = json_object_get(doc, "exclude");
		file = "dsbuild.toml";
	} else if (ds_path_exists(pp)) {
		if (ds_toml_parse_file(&doc, pp, err) < 0)
			return -1;
		ex = json_object_get(json_object_get(json_object_get(doc, "tool"), "dsbuild"),
				     "exclude");
		file = "pyproject.toml";
	} else {
		return 0;
	}
	if (!ex)
		return 0;
	if (!json_is_array(ex))
		return ds_error_set(err, DS_EINVAL, "'%s': 'exclude' must be an array of ignore "
						    "patterns", file);
	ds_buf_init(&b, 1 << 20);
	json_array_foreach (ex, i, v) {
		if (!json_is_string(v) || strchr(json_string_value(v), '\n')) {
			ds_buf_release(&b);
			return ds_error_set(err, DS_EINVAL, "'%s': exclude[%zu] must be one pattern "
							    "(a string)", file, i);
		}
		ds_buf_addf(&b, "%s\n", json_string_value(v));
	}
	*out = b.data ? b.data : ds_xstrdup("");
	return 0;
}
