/* The built-in buildpacks' detection code (buildpacks/<name>/buildpack.toml
 * names it with `handler`), and the declarative handler every other
 * dsbuild-format buildpack uses. */
#include <fcntl.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <dsbuild/buf.h>

#include "buildpack/bp.h"
#include "util/util.h"

static json_t *argv_json(const char *first, ...)
{
	json_t *a = json_array();
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		json_array_append_new(a, json_string(s));
	va_end(ap);
	return a;
}

static int is_debian_base(const json_t *plan)
{
	const char *b = json_string_value(json_object_get(json_object_get(plan, "base"), "ref"));
	return b && !strncmp(b, "debian:", 7);
}

static int has_process(const json_t *plan, const char *type)
{
	json_t *p;
	size_t i;
	json_array_foreach (json_object_get(plan, "processes"), i, p)
		if (!strcmp(json_string_value(json_object_get(p, "type")), type))
			return 1;
	return 0;
}

static json_t *find_process(const json_t *plan, const char *type)
{
	json_t *p;
	size_t i;
	json_array_foreach (json_object_get(plan, "processes"), i, p)
		if (!strcmp(json_string_value(json_object_get(p, "type")), type))
			return p;
	return NULL;
}

static void add_package(json_t *plan, const char *name)
{
	json_t *a = json_object_get(plan, "packages"), *v;
	size_t i;
	json_array_foreach (a, i, v)
		if (!strcmp(json_string_value(v), name))
			return;
	json_array_append_new(a, json_string(name));
}

/* ---- dsbuild/apt ------------------------------------------------------------------ */

static int h_apt(bp_ctx *c, int *pass, ds_error *err)
{
	json_t *apt = json_object_get(c->facts, "apt"), *v;
	size_t i;

	if (!json_array_size(apt)) {
		plan_why(c, "no apt.txt");
		return 0;
	}
	if (!is_debian_base(c->plan)) {
		plan_why(c, "apt.txt is ignored: the base is not a Debian stack (use --base "
			    "debian:bookworm)");
		plan_note(c->plan, "apt.txt is ignored: the base is not a Debian stack");
		return 0;
	}
	json_array_foreach (apt, i, v)
		add_package(c->plan, json_string_value(v));
	plan_why(c, "apt.txt: %zu package%s", json_array_size(apt),
		 json_array_size(apt) == 1 ? "" : "s");
	*pass = 1;
	return 0;
}

/* ---- dsbuild/python --------------------------------------------------------------- */

static int h_python(bp_ctx *c, int *pass, ds_error *err)
{
	json_t *req = json_object_get(c->facts, "requirements");
	json_t *py = json_object_get(c->facts, "python");
	int code = 0;

	for (size_t i = 0; i < c->src->n_files && !code; i++) {
		const char *p = c->src->files[i].path;
		size_t l = strlen(p);
		code = (l > 3 && !strcmp(p + l - 3, ".py")) || (l > 6 && !strcmp(p + l - 6, ".ipynb"));
	}
	{
		/* Pickled models are Python objects: serving them needs Python. */
		json_t *m;
		size_t i;
		json_array_foreach (json_object_get(c->facts, "models"), i, m) {
			const char *f = json_string_value(json_object_get(m, "format"));
			if (!code && (!strcmp(f, "pickle") || !strcmp(f, "joblib"))) {
				code = 1;
				plan_why(c, "pickled models");
			}
		}
	}
	if (!req && !py && !code) {
		plan_why(c, "no Python code, requirements or version file");
		return 0;
	}
	if (req)
		plan_why(c, "%s: %zu requirement%s",
			 json_string_value(json_object_get(req, "file")),
			 json_array_size(json_object_get(req, "names")),
			 json_array_size(json_object_get(req, "names")) == 1 ? "" : "s");
	if (py)
		plan_why(c, "Python %s from %s", json_string_value(json_object_get(py, "written")),
			 json_string_value(json_object_get(py, "from")));
	if (!req && !py && !json_array_size(c->why))
		plan_why(c, "Python code, no requirements");
	plan_env(c->plan, "PYTHONUNBUFFERED", "1");
	plan_env(c->plan, "PYTHONDONTWRITEBYTECODE", "1");
	*pass = 1;
	return 0;
}

/* ---- dsbuild/models ---------------------------------------------------------------- */

static int h_models(bp_ctx *c, int *pass, ds_error *err)
{
	json_t *models = json_object_get(c->facts, "models"), *m;
	size_t i;
	uint64_t total = 0;

	if (!json_array_size(models)) {
		plan_why(c, "no model files (.pkl .joblib .onnx .pt .pth .h5 .keras .safetensors) "
			    "or files over %lld bytes",
			 (long long)json_integer_value(json_object_get(c->facts,
								       "model_threshold")));
		return 0;
	}
	json_array_foreach (models, i, m) {
		json_array_append(json_object_get(c->plan, "models"), m);
		total += (uint64_t)json_integer_value(json_object_get(m, "size"));
	}
	plan_why(c, "%zu model file%s, %llu bytes: their own layer", json_array_size(models),
		 json_array_size(models) == 1 ? "" : "s", (unsigned long long)total);
	*pass = 1;
	return 0;
}

/* ---- dsbuild/web ------------------------------------------------------------------- */

static void stem_of(const char *path, char *out, size_t sz)
{
	const char *b = strrchr(path, '/');
	const char *dot;
	b = b ? b + 1 : path;
	dot = strrchr(b, '.');
	snprintf(out, sz, "%.*s", (int)(dot && dot > b ? (size_t)(dot - b) : strlen(b)), b);
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			*p = '_';
	if (out[0] >= '0' && out[0] <= '9')
		out[0] = '_';
}

static int web_app(bp_ctx *c, const char *file, const char *module, const char *dir,
		   const char *framework, const char *object, int *pass)
{
	_cleanup_free_ char *target = ds_xasprintf("%s:%s", module, object ? object : "app");
	_cleanup_free_ char *fpath = ds_xasprintf("%s%s%s", dir ? dir : "", dir ? "/" : "", file);
	_cleanup_free_ char *ftarget = ds_xasprintf("%s:%s", fpath, object ? object : "app");
	_cleanup_free_ char *absdir = dir ? ds_xasprintf("/workspace/%s", dir) : NULL;
	_cleanup_free_ char *from = NULL;
	json_t *cmd;

	if (!strcmp(framework, "flask") && plan_has_requirement(c->facts, "gunicorn")) {
		cmd = argv_json("gunicorn", "--bind", "0.0.0.0:${PORT}", NULL);
		if (absdir) {
			json_array_append_new(cmd, json_string("--pythonpath"));
			json_array_append_new(cmd, json_string(absdir));
		}
		json_array_append_new(cmd, json_string(target));
		from = ds_xasprintf("%s (Flask, gunicorn)", fpath);
	} else if (!strcmp(framework, "flask")) {
		cmd = argv_json("python3", "-m", "flask", "--app", ftarget, "run", "--host",
				"0.0.0.0", "--port", "${PORT}", NULL);
		from = ds_xasprintf("%s (Flask, its development server: add gunicorn to the "
				    "requirements for production)", fpath);
	} else if (!strcmp(framework, "fastapi") && plan_has_requirement(c->facts, "uvicorn")) {
		cmd = argv_json("uvicorn", target, "--host", "0.0.0.0", "--port", "${PORT}", NULL);
		if (absdir) {
			json_array_append_new(cmd, json_string("--app-dir"));
			json_array_append_new(cmd, json_string(absdir));
		}
		from = ds_xasprintf("%s (FastAPI, uvicorn)", fpath);
	} else if (!strcmp(framework, "fastapi")) {
		plan_note(c->plan, "%s is a FastAPI app but uvicorn is not a dependency: add "
				   "uvicorn to the requirements", fpath);
		cmd = argv_json("python3", fpath, NULL);
		from = ds_xasprintf("%s (FastAPI without uvicorn: run as a script)", fpath);
	} else if (!strcmp(framework, "streamlit")) {
		cmd = argv_json("streamlit", "run", fpath, "--server.port", "${PORT}",
				"--server.address", "0.0.0.0", "--server.headless", "true", NULL);
		from = ds_xasprintf("%s (Streamlit)", fpath);
	} else {
		cmd = argv_json("python3", fpath, NULL);
		from = ds_xasprintf("%s (%s)", fpath, framework);
	}
	if ((!strcmp(framework, "flask") || !strcmp(framework, "fastapi") ||
	     !strcmp(framework, "streamlit") || !strcmp(framework, "gradio")) &&
	    !plan_has_requirement(c->facts, framework))
		plan_note(c->plan, "%s uses %s, which the requirements do not name", fpath,
			  framework);
	plan_process(c, "web", cmd, DS_DEFAULT_PORT, from);
	if (!strcmp(framework, "gradio")) {
		json_t *env = json_object();
		json_object_set_new(env, "GRADIO_SERVER_NAME", json_string("0.0.0.0"));
		json_object_set_new(env, "GRADIO_SERVER_PORT", json_string("${PORT}"));
		json_object_set_new(find_process(c->plan, "web"), "env", env);
	}
	plan_why(c, "%s", from);
	*pass = 1;
	return 0;
}

static int h_web(bp_ctx *c, int *pass, ds_error *err)
{
	json_t *apps = json_object_get(c->facts, "apps"), *a, *nb;
	size_t i;

	a = json_array_get(apps, 0);
	if (a) {
		for (i = 1; i < json_array_size(apps); i++)
			plan_note(c->plan, "%s is also a web app; the web process runs %s",
				  json_string_value(json_object_get(json_array_get(apps, i),
								    "path")),
				  json_string_value(json_object_get(a, "path")));
		return web_app(c, json_string_value(json_object_get(a, "path")),
			       json_string_value(json_object_get(a, "module")), NULL,
			       json_string_value(json_object_get(a, "framework")),
			       json_string_value(json_object_get(a, "object")), pass);
	}
	/* An API extracted from a notebook: its cells tagged "export". */
	json_array_foreach (json_object_get(c->facts, "notebooks"), i, nb) {
		const char *exported = json_string_value(json_object_get(nb, "exported"));
		const char *fw = NULL;
		_cleanup_free_ char *obj = NULL, *file = NULL, *gen = NULL;
		char stem[256];
		if (!exported || !ds_app_scan(exported, &fw, &obj))
			continue;
		stem_of(json_string_value(json_object_get(nb, "path")), stem, sizeof(stem));
		file = ds_xasprintf("%s.py", stem);
		gen = ds_xasprintf(DS_GENERATED_DIR "/api/%s", file);
		plan_generated(c->plan, gen, exported);
		return web_app(c, file, stem, DS_GENERATED_DIR "/api", fw, obj, pass);
	}
	plan_why(c, "no web app (app.py, api.py, main.py ... using Flask, FastAPI, Streamlit "
		    "or Gradio, or notebook cells tagged \"export\" that make one)");
	return 0;
}

/* ---- dsbuild/predict ---------------------------------------------------------------- */

/* Python packages a pickle names in its GLOBAL opcodes, for a hint. */
static const char *const pickle_modules[][2] = {
	{ "sklearn", "scikit-learn" }, { "numpy", "numpy" },	 { "pandas", "pandas" },
	{ "xgboost", "xgboost" },      { "lightgbm", "lightgbm" }, { "torch", "torch" },
	{ "scipy", "scipy" },	       { "statsmodels", "statsmodels" },
};

/* numpy and scipy come with the libraries that need them. */
static int required_through(bp_ctx *c, const char *dist)
{
	static const char *const numpy_users[] = { "scikit-learn", "pandas", "scipy", "xgboost",
						   "lightgbm", "statsmodels", "torch" };
	static const char *const scipy_users[] = { "scikit-learn", "statsmodels", "xgboost",
						   "lightgbm" };
	const char *const *users = NULL;
	size_t n = 0;

	if (!strcmp(dist, "numpy")) {
		users = numpy_users;
		n = DS_ARRAY_SIZE(numpy_users);
	} else if (!strcmp(dist, "scipy")) {
		users = scipy_users;
		n = DS_ARRAY_SIZE(scipy_users);
	}
	for (size_t i = 0; i < n; i++)
		if (plan_has_requirement(c->facts, users[i]))
			return 1;
	return 0;
}

static void check_pickle_needs(bp_ctx *c, const char *path)
{
	_cleanup_free_ char *p = ds_xasprintf("%s/%s", c->src->root, path);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *data = NULL;
	ssize_t n;

	if (fd < 0)
		return;
	data = ds_xmalloc(1 << 20);
	n = read(fd, data, (1 << 20) - 1);
	if (n <= 0)
		return;
	for (size_t i = 0; i < DS_ARRAY_SIZE(pickle_modules); i++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "%s.", pickle_modules[i][0]);
		if (memmem(data, (size_t)n, needle, strlen(needle)) &&
		    !plan_has_requirement(c->facts, pickle_modules[i][1]) &&
		    !required_through(c, pickle_modules[i][1]))
			plan_note(c->plan, "%s refers to %s: add %s to the requirements, or "
					   "loading it will fail", path, pickle_modules[i][0],
				  pickle_modules[i][1]);
	}
}

static int h_predict(bp_ctx *c, int *pass, ds_error *err)
{
	json_t *models = json_object_get(c->facts, "models"), *m, *cmd;
	size_t i, n = 0;

	if (has_process(c->plan, "web")) {
		plan_why(c, "a web app serves the project");
		return 0;
	}
	cmd = argv_json("python3", "/opt/dsbuild/predict/server.py", "--port", "${PORT}", NULL);
	json_array_foreach (models, i, m) {
		const char *f = json_string_value(json_object_get(m, "format"));
		const char *path = json_string_value(json_object_get(m, "path"));
		if (strcmp(f, "pickle") && strcmp(f, "joblib"))
			continue;
		if (!strcmp(f, "joblib") && !plan_has_requirement(c->facts, "joblib") &&
		    !plan_has_requirement(c->facts, "scikit-learn")) {
			json_decref(cmd);
			ds_error_set(err, DS_EINVAL, "'%s' is a joblib file, and joblib is not a "
						     "dependency", path);
			return ds_error_hint(err, "add joblib to requirements.txt so that the "
						  "predict server can load it");
		}
		check_pickle_needs(c, path);
		json_array_append_new(cmd, json_string(path));
		n++;
	}
	if (!n) {
		json_decref(cmd);
		plan_why(c, json_array_size(models) ? "no pickle or joblib model (other formats "
						      "need a web app to serve them)" :
						      "no model files");
		return 0;
	}
	plan_process(c, "predict", cmd, DS_DEFAULT_PORT,
		     n == 1 ? "a pickled model, served by the built-in KServe V1 server" :
			      "pickled models, served by the built-in KServe V1 server");
	plan_why(c, "%zu pickle/joblib model%s and no web app", n, n == 1 ? "" : "s");
	*pass = 1;
	return 0;
}

/* ---- dsbuild/notebook ---------------------------------------------------------------- */

static int h_notebook(bp_ctx *c, int *pass, ds_error *err)
{
	size_t n = json_array_size(json_object_get(c->facts, "notebooks"));
	json_t *cmd;
	const char *from;

	if (!n) {
		plan_why(c, "no notebooks");
		return 0;
	}
	if (plan_has_requirement(c->facts, "jupyterlab")) {
		cmd = argv_json("jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser",
				"--ServerApp.root_dir=/workspace", NULL);
		from = "notebooks and jupyterlab";
	} else if (plan_has_requirement(c->facts, "notebook") ||
		   plan_has_requirement(c->facts, "jupyter") ||
		   plan_has_requirement(c->facts, "nbclassic")) {
		cmd = argv_json("jupyter", "notebook", "--ip=0.0.0.0", "--port=8888",
				"--no-browser", "--notebook-dir=/workspace", NULL);
		from = "notebooks and Jupyter Notebook";
	} else {
		plan_why(c, "%zu notebook%s, but Jupyter is not a dependency (add notebook or "
			    "jupyterlab to the requirements for the notebook process)",
			 n, n == 1 ? "" : "s");
		return 0;
	}
	plan_process(c, "notebook", cmd, 8888, from);
	plan_why(c, "%zu notebook%s, %s", n, n == 1 ? "" : "s", from);
	*pass = 1;
	return 0;
}

/* ---- dsbuild/job ---------------------------------------------------------------------- */

/* "notebooks/train.ipynb" -> "notebooks-train" */
static void job_script_path(const char *nb, char *out, size_t sz)
{
	size_t l = strlen(nb), k = 0;
	if (l > 6 && !strcmp(nb + l - 6, ".ipynb"))
		l -= 6;
	for (size_t i = 0; i < l && k + 1 < sz; i++)
		out[k++] = nb[i] == '/' ? '-' : nb[i];
	out[k] = '\0';
}

static int h_job(bp_ctx *c, int *pass, ds_error *err)
{
	json_t *nbs = json_object_get(c->facts, "notebooks"), *nb;
	json_t *scripts = json_object_get(c->facts, "scripts");
	const char *want = c->opts ? c->opts->job : NULL, *want_from = "--job";
	const char *chosen = NULL, *why = NULL;
	size_t i;

	if (!want) {
		want = json_string_value(json_object_get(json_object_get(c->facts, "config"), "job"));
		want_from = json_string_value(json_object_get(json_object_get(c->facts, "config"),
							      "file"));
	}
	/* Every notebook becomes a script under .dsbuild/jobs/. */
	json_array_foreach (nbs, i, nb) {
		char name[4096];
		_cleanup_free_ char *gen = NULL;
		job_script_path(json_string_value(json_object_get(nb, "path")), name, sizeof(name));
		gen = ds_xasprintf(DS_GENERATED_DIR "/jobs/%s.py", name);
		plan_generated(c->plan, gen, json_string_value(json_object_get(nb, "script")));
	}
	if (want) {
		size_t l = strlen(want);
		int ok = 0;
		json_array_foreach (nbs, i, nb)
			ok |= !strcmp(json_string_value(json_object_get(nb, "path")), want);
		for (size_t k = 0; !ok && k < c->src->n_files; k++)
			ok = !strcmp(c->src->files[k].path, want) && l > 3 &&
			     !strcmp(want + l - 3, ".py");
		if (!ok) {
			ds_error_set(err, DS_EINVAL, "the job '%s' (%s) is not a notebook or Python "
						     "script of the project", want, want_from);
			return ds_error_hint(err, "name a .ipynb or .py file, relative to the "
						  "project folder");
		}
		chosen = want;
		why = want_from;
	}
	/* A notebook with a parameters cell, else one named like a job, else a
	 * script, else a lone notebook. */
	json_array_foreach (nbs, i, nb) {
		if (chosen)
			break;
		if (json_array_size(json_object_get(nb, "params"))) {
			chosen = json_string_value(json_object_get(nb, "path"));
			why = "its cell tagged \"parameters\"";
		}
	}
	json_array_foreach (nbs, i, nb) {
		const char *p = json_string_value(json_object_get(nb, "path"));
		const char *b = strrchr(p, '/');
		b = b ? b + 1 : p;
		if (chosen)
			break;
		if (!strncmp(b, "train", 5) || !strncmp(b, "job", 3) || !strncmp(b, "run", 3)) {
			chosen = p;
			why = "its name";
		}
	}
	if (!chosen && json_array_size(scripts)) {
		chosen = json_string_value(json_array_get(scripts, 0));
		why = "a script that is not a web app";
	}
	if (!chosen && json_array_size(nbs) == 1) {
		chosen = json_string_value(json_object_get(json_array_get(nbs, 0), "path"));
		why = "the only notebook";
	}
	if (!chosen) {
		plan_why(c, json_array_size(nbs) ? "several notebooks and none is the job (pass "
						   "--job or set job in [tool.dsbuild])" :
						   "no job script (train*.py, main.py ...) or notebook");
		return 0;
	}
	{
		size_t l = strlen(chosen);
		json_t *cmd;
		_cleanup_free_ char *from = NULL;
		if (l > 6 && !strcmp(chosen + l - 6, ".ipynb")) {
			char name[4096];
			_cleanup_free_ char *gen = NULL;
			job_script_path(chosen, name, sizeof(name));
			gen = ds_xasprintf("/workspace/" DS_GENERATED_DIR "/jobs/%s.py", name);
			cmd = argv_json("python3", gen, NULL);
			from = ds_xasprintf("%s, converted to a script (%s)", chosen, why);
		} else {
			cmd = argv_json("python3", chosen, NULL);
			from = ds_xasprintf("%s (%s)", chosen, why);
		}
		plan_process(c, "job", cmd, 0, from);
		plan_why(c, "%s", from);
	}
	*pass = 1;
	return 0;
}

/* ---- dsbuild/procfile ----------------------------------------------------------------- */

static const char *const known_types[] = { "web", "worker", "job", "notebook", "predict",
					   "release", "clock", "scheduler" };

static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[32][32];
	if (la >= 32 || lb >= 32)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int x = d[i - 1][j] + 1, y = d[i][j - 1] + 1,
			    z = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			d[i][j] = x < y ? (x < z ? x : z) : (y < z ? y : z);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	return d[la][lb];
}

static int needs_shell(const char *cmd)
{
	return strpbrk(cmd, "|&;<>()`*?[~\n") || strstr(cmd, "$(");
}

static int h_procfile(bp_ctx *c, int *pass, ds_error *err)
{
	json_t *pf = json_object_get(c->facts, "procfile"), *e;
	size_t i;

	if (!pf) {
		plan_why(c, "no Procfile");
		return 0;
	}
	json_array_foreach (pf, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *cmd = json_string_value(json_object_get(e, "command"));
		int line = (int)json_integer_value(json_object_get(e, "line"));
		_cleanup_free_ char *from = ds_xasprintf("Procfile line %d", line);
		int known = 0;
		char prog[4096];
		const char *s = cmd;

		for (size_t k = 0; k < DS_ARRAY_SIZE(known_types); k++)
			known |= !strcmp(type, known_types[k]);
		for (size_t k = 0; !known && k < DS_ARRAY_SIZE(known_types); k++) {
			if (strlen(type) >= 3 && edit_distance(type, known_types[k]) <= 2) {
				ds_error_set(err, DS_EINVAL, "'Procfile' line %d: unknown process "
							     "type '%s'", line, type);
				return ds_error_hint(err, "did you mean '%s'? (processes dsbuild "
							  "knows: web, worker, job, notebook, "
							  "predict)", known_types[k]);
			}
		}
		/* The program: the first word after NAME=value assignments. */
		for (;;) {
			size_t w;
			while (*s == ' ' || *s == '\t')
				s++;
			w = strcspn(s, " \t");
			if (w >= sizeof(prog))
				break;
			memcpy(prog, s, w);
			prog[w] = '\0';
			if (strchr(prog, '=') && prog[0] != '=' && !strchr(prog, '/')) {
				s += w;
				continue;
			}
			break;
		}
		if (strchr(prog, '/') && prog[0] != '/' && !needs_shell(prog) && !strchr(prog, '$')) {
			const char *rel = !strncmp(prog, "./", 2) ? prog + 2 : prog;
			int found = 0;
			for (size_t k = 0; k < c->src->n_files && !found; k++)
				found = !strcmp(c->src->files[k].path, rel);
			if (!found) {
				ds_error_set(err, DS_EINVAL, "'Procfile' line %d: process '%s' runs "
							     "'%s', which is not in the project",
					     line, type, prog);
				return ds_error_hint(err, "fix the path (relative to the project "
							  "folder) or add the file");
			}
		}
		if (needs_shell(cmd) && is_debian_base(c->plan))
			add_package(c->plan, "dash");
		plan_process(c, type,
			     json_string(cmd),
			     !strcmp(type, "web") || !strcmp(type, "predict") ? DS_DEFAULT_PORT :
			     !strcmp(type, "notebook")			      ? 8888 :
										0,
			     from);
	}
	plan_why(c, "Procfile: %zu process%s", json_array_size(pf),
		 json_array_size(pf) == 1 ? "" : "es");
	*pass = 1;
	return 0;
}

/* ---- dsbuild/launcher ------------------------------------------------------------------- */

static int h_launcher(bp_ctx *c, int *pass, ds_error *err)
{
	size_t n = json_array_size(json_object_get(c->plan, "processes"));
	if (!n) {
		plan_why(c, "no processes");
		return 0;
	}
	plan_why(c, "%zu process%s, runnable by name", n, n == 1 ? "" : "es");
	*pass = 1;
	return 0;
}

/* ---- declarative buildpacks (docs/buildpacks.md) ---------------------------------------- */

static int glob_match(const char *pattern, const char *path)
{
	if (strchr(pattern, '/'))
		return !fnmatch(pattern, path, FNM_PATHNAME | FNM_PERIOD);
	const char *b = strrchr(path, '/');
	return !fnmatch(pattern, b ? b + 1 : path, FNM_PERIOD);
}

static int h_declarative(bp_ctx *c, int *pass, ds_error *err)
{
	json_t *d = json_object_get(c->bp->desc, "detect"), *v;
	json_t *files = json_object_get(d, "files"), *contains = json_object_get(d, "contains");
	size_t i;

	if (d && !json_is_object(d))
		return ds_error_set(err, DS_EINVAL, "'%s': 'detect' must be a table", c->bp->file);
	if (files && !json_is_array(files))
		return ds_error_set(err, DS_EINVAL, "'%s': detect.files must be an array of "
						    "patterns", c->bp->file);
	if (contains && !json_is_array(contains))
		return ds_error_set(err, DS_EINVAL, "'%s': detect.contains must be an array of "
						    "tables ([[detect.contains]])", c->bp->file);
	/* files: any pattern that matches a file passes this rule. */
	if (json_array_size(files)) {
		const char *hit = NULL;
		json_array_foreach (files, i, v) {
			if (!json_is_string(v))
				return ds_error_set(err, DS_EINVAL, "'%s': detect.files[%zu] must "
								    "be a string", c->bp->file, i);
			for (size_t k = 0; k < c->src->n_files && !hit; k++)
				if (glob_match(json_string_value(v), c->src->files[k].path))
					hit = c->src->files[k].path;
		}
		if (!hit) {
			plan_why(c, "no file matches detect.files");
			return 0;
		}
		plan_why(c, "%s matches detect.files", hit);
	}
	/* contains: every rule needs a file matching `files` whose content
	 * matches the regular expression `pattern`. */
	json_array_foreach (contains, i, v) {
		const char *fpat = json_string_value(json_object_get(v, "file"));
		const char *rpat = json_string_value(json_object_get(v, "pattern"));
		regex_t re;
		const char *hit = NULL;
		int rc;
		if (!fpat || !rpat)
			return ds_error_set(err, DS_EINVAL, "'%s': detect.contains[%zu] needs "
							    "'file' and 'pattern'", c->bp->file, i);
		rc = regcomp(&re, rpat, REG_EXTENDED | REG_NEWLINE | REG_NOSUB);
		if (rc) {
			char msg[256];
			regerror(rc, &re, msg, sizeof(msg));
			return ds_error_set(err, DS_EINVAL, "'%s': detect.contains[%zu] pattern "
							    "'%s': %s", c->bp->file, i, rpat, msg);
		}
		for (size_t k = 0; k < c->src->n_files && !hit; k++) {
			const ds_source_file *f = &c->src->files[k];
			_cleanup_buf_ ds_buf b = DS_BUF_INIT;
			_cleanup_free_ char *p = NULL;
			if (f->type != DS_ENTRY_FILE || f->size > DS_DETECT_FILE_MAX ||
			    !glob_match(fpat, f->path))
				continue;
			p = ds_xasprintf("%s/%s", c->src->root, f->path);
			ds_buf_init(&b, DS_DETECT_FILE_MAX);
			if (ds_read_file(p, DS_DETECT_FILE_MAX, &b, NULL) < 0)
				continue;
			if (memchr(b.data, 0, b.len))
				continue; /* binary */
			if (!regexec(&re, b.data, 0, NULL, 0))
				hit = f->path;
		}
		regfree(&re);
		if (!hit) {
			plan_why(c, "no %s file contains /%s/", fpat, rpat);
			return 0;
		}
		plan_why(c, "%s contains /%s/", hit, rpat);
	}
	if (!json_array_size(files) && !json_array_size(contains))
		plan_why(c, "no detect rules: always passes");

	/* Contributions. */
	{
		json_t *ct = json_object_get(c->bp->desc, "contributes");
		const char *k;
		if (ct && !json_is_object(ct))
			return ds_error_set(err, DS_EINVAL, "'%s': 'contributes' must be a table",
					    c->bp->file);
		json_array_foreach (json_object_get(ct, "packages"), i, v) {
			if (!json_is_string(v))
				return ds_error_set(err, DS_EINVAL, "'%s': contributes.packages[%zu] "
								    "must be a package name",
						    c->bp->file, i);
			if (!is_debian_base(c->plan)) {
				plan_note(c->plan, "%s: Debian packages are ignored, the base is not "
						   "a Debian stack", c->bp->id);
				break;
			}
			add_package(c->plan, json_string_value(v));
		}
		json_array_foreach (json_object_get(ct, "python"), i, v) {
			json_t *r = json_object();
			_cleanup_free_ char *origin = ds_xasprintf("buildpack %s (%s)", c->bp->id,
								   c->bp->file);
			if (!json_is_string(v)) {
				json_decref(r);
				return ds_error_set(err, DS_EINVAL, "'%s': contributes.python[%zu] "
								    "must be a requirement string such "
								    "as \"requests>=2\"", c->bp->file, i);
			}
			json_object_set(r, "requirement", v);
			json_object_set_new(r, "origin", json_string(origin));
			if (!json_object_get(c->plan, "python_requirements"))
				json_object_set_new(c->plan, "python_requirements", json_array());
			json_array_append_new(json_object_get(c->plan, "python_requirements"), r);
		}
		json_object_foreach (json_object_get(ct, "env"), k, v) {
			if (!json_is_string(v))
				return ds_error_set(err, DS_EINVAL, "'%s': contributes.env.%s must be "
								    "a string", c->bp->file, k);
			plan_env(c->plan, k, json_string_value(v));
		}
		json_object_foreach (json_object_get(ct, "labels"), k, v) {
			if (!json_is_string(v))
				return ds_error_set(err, DS_EINVAL, "'%s': contributes.labels.%s must "
								    "be a string", c->bp->file, k);
			json_object_set(json_object_get(c->plan, "labels"), k, v);
		}
		json_array_foreach (json_object_get(ct, "ports"), i, v) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 65535)
				return ds_error_set(err, DS_EINVAL, "'%s': contributes.ports[%zu] is "
								    "not a port number", c->bp->file, i);
			json_array_append(json_object_get(c->plan, "extra_ports"), v);
		}
	}
	json_array_foreach (json_object_get(c->bp->desc, "processes"), i, v) {
		const char *type = json_string_value(json_object_get(v, "type"));
		json_t *cmd = json_object_get(v, "command");
		json_t *port = json_object_get(v, "port");
		_cleanup_free_ char *from = ds_xasprintf("buildpack %s", c->bp->id);
		if (!type || !(json_is_string(cmd) || json_is_array(cmd)))
			return ds_error_set(err, DS_EINVAL, "'%s': processes[%zu] needs 'type' and "
							    "'command'", c->bp->file, i);
		if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
			     json_integer_value(port) > 65535))
			return ds_error_set(err, DS_EINVAL, "'%s': processes[%zu] port is not a port "
							    "number (1-65535)", c->bp->file, i);
		plan_process(c, type, json_deep_copy(cmd), port ? (int)json_integer_value(port) : 0,
			     from);
	}
	*pass = 1;
	return 0;
}

static const struct {
	const char *name;
	bp_detect_fn fn;
} handlers[] = {
	{ "apt", h_apt },	    { "python", h_python },     { "models", h_models },
	{ "web", h_web },	    { "predict", h_predict },   { "notebook", h_notebook },
	{ "job", h_job },	    { "procfile", h_procfile }, { "launcher", h_launcher },
	{ "declarative", h_declarative },
};

bp_detect_fn bp_handler(const char *name)
{
	for (size_t i = 0; i < DS_ARRAY_SIZE(handlers); i++)
		if (!strcmp(handlers[i].name, name))
			return handlers[i].fn;
	return NULL;
}
