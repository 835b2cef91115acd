/* detect -> plan: facts about the tree, the base, then each buildpack of
 * the order in turn; the ones that pass make the group and contribute to
 * the plan.  Project config and flags come last (they win). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <dsbuild/build.h>
#include <dsbuild/python.h>
#include <dsbuild/toml.h>

#include "buildpack/bp.h"
#include "util/util.h"

/* ---- plan helpers --------------------------------------------------------------- */

void plan_why(bp_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	json_array_append_new(c->why, json_string(line));
}

void plan_note(json_t *plan, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	json_array_append_new(json_object_get(plan, "notes"), json_string(line));
}

void plan_process(bp_ctx *c, const char *type, json_t *command, int port, const char *from)
{
	json_t *procs = json_object_get(c->plan, "processes"), *p = json_object(), *old;
	size_t i;

	json_object_set_new(p, "type", json_string(type));
	json_object_set_new(p, "command", command);
	if (port)
		json_object_set_new(p, "port", json_integer(port));
	json_object_set_new(p, "from", json_string(from));
	json_object_set_new(p, "buildpack", json_string(c->bp ? c->bp->id : "config"));
	json_array_foreach (procs, i, old) {
		if (!strcmp(json_string_value(json_object_get(old, "type")), type)) {
			json_array_set_new(procs, i, p);
			return;
		}
	}
	json_array_append_new(procs, p);
}

void plan_generated(json_t *plan, const char *path, const char *content)
{
	json_t *g = json_object_get(plan, "generated"), *o = json_object(), *old;
	size_t i;

	json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "content", json_string(content));
	json_array_foreach (g, i, old) {
		if (!strcmp(json_string_value(json_object_get(old, "path")), path)) {
			json_array_set_new(g, i, o);
			return;
		}
	}
	json_array_append_new(g, o);
}

void plan_env(json_t *plan, const char *name, const char *value)
{
	json_object_set_new(json_object_get(plan, "env"), name, json_string(value));
}

int plan_has_requirement(const json_t *facts, const char *name)
{
	json_t *names = json_object_get(json_object_get(facts, "requirements"), "names"), *v;
	size_t i;

	json_array_foreach (names, i, v)
		if (ds_pyname_equal(json_string_value(v), name))
			return 1;
	return 0;
}

/* A buildpack's [[files]]: runtime files for the dsbuild layer. */
int plan_files(bp_ctx *c, ds_error *err)
{
	json_t *files = json_object_get(c->bp->desc, "files"), *f;
	size_t i;

	if (files && !json_is_array(files))
		return ds_error_set(err, DS_EINVAL, "'%s': 'files' must be an array of tables "
						    "([[files]])", c->bp->file);
	json_array_foreach (files, i, f) {
		const char *source = json_string_value(json_object_get(f, "source"));
		const char *target = json_string_value(json_object_get(f, "target"));
		const char *mode = json_string_value(json_object_get(f, "mode"));
		json_t *o;
		char *end = NULL;
		unsigned long m = 0644;

		if (!source || !target || target[0] != '/' || strstr(target, "/../") ||
		    strstr(source, "..") || source[0] == '/')
			return ds_error_set(err, DS_EINVAL, "'%s': files[%zu] needs a relative "
							    "'source' inside the buildpack and an "
							    "absolute 'target'", c->bp->file, i);
		if (mode) {
			m = strtoul(mode, &end, 8);
			if (!*mode || *end || m > 07777)
				return ds_error_set(err, DS_EINVAL, "'%s': files[%zu] mode '%s' is "
								    "not an octal mode such as "
								    "\"0644\"", c->bp->file, i, mode);
		}
		o = json_object();
		json_object_set_new(o, "target", json_string(target));
		json_object_set_new(o, "mode", json_integer((json_int_t)m));
		json_object_set_new(o, "buildpack", json_string(c->bp->id));
		if (c->bp->builtin) {
			_cleanup_free_ char *p = ds_xasprintf("%s/%s", c->bp->embed, source);
			if (!bp_embedded(p, NULL, NULL)) {
				json_decref(o);
				return ds_error_set(err, DS_ENOENT, "'%s': files[%zu] source '%s' is "
								    "not built in", c->bp->file, i,
						    source);
			}
			json_object_set_new(o, "embedded", json_string(p));
		} else {
			_cleanup_free_ char *p = ds_xasprintf("%s/%s", c->bp->dir, source);
			if (!ds_path_exists(p)) {
				json_decref(o);
				return ds_error_set(err, DS_ENOENT, "'%s': files[%zu] source '%s' "
								    "does not exist", c->bp->file, i,
						    source);
			}
			json_object_set_new(o, "source", json_string(p));
		}
		json_array_append_new(json_object_get(c->plan, "files"), o);
	}
	return 0;
}

/* ---- the base and its Python ---------------------------------------------------- */

static const struct {
	const char *base, *python;
} known_bases[] = {
	{ "debian:bookworm", "3.11.2" },
	{ "debian:trixie", "3.13.5" },
};

const char *ds_debian_suite_python(const char *base)
{
	for (size_t i = 0; i < DS_ARRAY_SIZE(known_bases); i++)
		if (!strcmp(known_bases[i].base, base))
			return known_bases[i].python;
	return NULL;
}

static int python_fits(const char *request, const char *version)
{
	ds_pyspecset ss;
	ds_pyver v;
	int ok;

	if (ds_pyspecset_parse(&ss, request, NULL) < 0)
		return 0;
	if (ds_pyver_parse(&v, version, NULL) < 0) {
		ds_pyspecset_release(&ss);
		return 0;
	}
	ok = ds_pyspecset_contains(&ss, &v, 1);
	ds_pyspecset_release(&ss);
	return ok;
}

static int choose_base(json_t *plan, json_t *facts, const ds_detect_opts *o, ds_error *err)
{
	json_t *py = json_object_get(facts, "python");
	const char *request = json_string_value(json_object_get(py, "request"));
	const char *pyfrom = json_string_value(json_object_get(py, "from"));
	const char *written = json_string_value(json_object_get(py, "written"));
	const char *cfg_base = json_string_value(json_object_get(json_object_get(facts, "config"),
								 "base"));
	const char *base = NULL, *from = NULL, *pyv;
	json_t *b = json_object(), *pp;

	if (o && o->base) {
		base = o->base;
		from = o->base_origin ? o->base_origin : "--base";
	} else if (cfg_base) {
		base = cfg_base;
		from = json_string_value(json_object_get(json_object_get(facts, "config"), "file"));
	}
	if (base) {
		pyv = ds_debian_suite_python(base);
		if (request && pyv && !python_fits(request, pyv)) {
			ds_buf fits = DS_BUF_INIT;
			ds_buf_init(&fits, 1024);
			for (size_t i = 0; i < DS_ARRAY_SIZE(known_bases); i++)
				if (python_fits(request, known_bases[i].python))
					ds_buf_addf(&fits, "%s%s", fits.len ? ", " : "",
						    known_bases[i].base);
			ds_error_set(err, DS_EINVAL, "%s asks for Python %s, but the base '%s' (%s) "
						     "has Python %s", pyfrom, written, base, from,
				     pyv);
			if (fits.len)
				ds_error_hint(err, "use --base %s, or change %s", fits.data, pyfrom);
			else
				ds_error_hint(err, "no built-in base has it: change %s, or use a base "
						   "labelled io.dsbuild.python.version", pyfrom);
			ds_buf_release(&fits);
			json_decref(b);
			return -1;
		}
	} else if (request) {
		for (size_t i = 0; i < DS_ARRAY_SIZE(known_bases) && !base; i++)
			if (python_fits(request, known_bases[i].python))
				base = known_bases[i].base;
		if (!base) {
			ds_buf have = DS_BUF_INIT;
			ds_buf_init(&have, 1024);
			for (size_t i = 0; i < DS_ARRAY_SIZE(known_bases); i++)
				ds_buf_addf(&have, "%s%s has %s", i ? ", " : "", known_bases[i].base,
					    known_bases[i].python);
			ds_error_set(err, DS_EINVAL, "%s asks for Python %s, which no built-in base "
						     "has (%s)", pyfrom, written, have.data);
			ds_error_hint(err, "change %s to a version one of them has, or pass --base "
					   "with an image labelled io.dsbuild.python.version", pyfrom);
			ds_buf_release(&have);
			json_decref(b);
			return -1;
		}
		from = strcmp(base, DS_DEFAULT_BASE) ? pyfrom : "default";
	} else {
		base = DS_DEFAULT_BASE;
		from = "default";
	}
	json_object_set_new(b, "ref", json_string(base));
	json_object_set_new(b, "from", json_string(from));
	json_object_set_new(plan, "base", b);
	pyv = ds_debian_suite_python(base);
	pp = json_object();
	if (pyv)
		json_object_set_new(pp, "version", json_string(pyv));
	json_object_set_new(pp, "request", request ? json_string(request) : json_null());
	json_object_set_new(pp, "from", json_string(pyfrom ? pyfrom : "the base"));
	json_object_set_new(plan, "python", pp);
	return 0;
}

/* ---- processes from config and flags --------------------------------------------- */

static const char *const default_order[] = { "web", "predict", "notebook", "job" };

static int finish_processes(json_t *plan, json_t *facts, const ds_detect_opts *o, ds_error *err)
{
	json_t *cfg = json_object_get(facts, "config");
	const char *cfile = json_string_value(json_object_get(cfg, "file"));
	json_t *procs = json_object_get(plan, "processes"), *p;
	const char *want = NULL, *want_from = NULL, *name;
	const char *def = NULL;
	size_t i;
	bp_ctx c = { .plan = plan, .facts = facts };

	json_object_foreach (json_object_get(cfg, "processes"), name, p) {
		_cleanup_free_ char *from = ds_xasprintf("%s [tool.dsbuild.processes]", cfile);
		if (!strcmp(cfile, "dsbuild.toml")) {
			free(from);
			from = ds_xstrdup("dsbuild.toml [processes]");
		}
		plan_process(&c, name, json_deep_copy(p),
			     !strcmp(name, "web") || !strcmp(name, "predict") ? DS_DEFAULT_PORT :
			     !strcmp(name, "notebook")			      ? 8888 :
										0,
			     from);
	}
	if (o && o->process) {
		want = o->process;
		want_from = "--process";
	} else if (json_is_string(json_object_get(cfg, "process"))) {
		want = json_string_value(json_object_get(cfg, "process"));
		want_from = cfile;
	}
	if (want) {
		json_array_foreach (procs, i, p)
			if (!strcmp(json_string_value(json_object_get(p, "type")), want))
				def = want;
		if (!def) {
			ds_buf names = DS_BUF_INIT;
			ds_buf_init(&names, 4096);
			json_array_foreach (procs, i, p)
				ds_buf_addf(&names, "%s%s", i ? ", " : "",
					    json_string_value(json_object_get(p, "type")));
			ds_error_set(err, DS_EINVAL, "unknown process '%s' (%s)", want, want_from);
			if (names.len)
				ds_error_hint(err, "the processes are: %s", names.data);
			else
				ds_error_hint(err, "no process was detected: add a Procfile line "
						   "'%s: COMMAND'", want);
			ds_buf_release(&names);
			return -1;
		}
	}
	if (!def && json_is_string(json_object_get(plan, "cnb_default")))
		def = json_string_value(json_object_get(plan, "cnb_default"));
	for (size_t k = 0; !def && k < DS_ARRAY_SIZE(default_order); k++)
		json_array_foreach (procs, i, p)
			if (!strcmp(json_string_value(json_object_get(p, "type")), default_order[k]))
				def = default_order[k];
	if (!def && json_array_size(procs))
		def = json_string_value(json_object_get(json_array_get(procs, 0), "type"));
	json_array_foreach (procs, i, p)
		json_object_set_new(p, "default", json_boolean(def && !strcmp(def, json_string_value(
							       json_object_get(p, "type")))));
	json_object_set_new(plan, "default_process", def ? json_string(def) : json_null());

	/* Ports and env. */
	{
		json_t *ports = json_array(), *env = json_object_get(plan, "env"), *v;
		const char *k;
		json_array_foreach (procs, i, p) {
			json_t *port = json_object_get(p, "port");
			size_t j;
			int dup = 0;
			if (!port)
				continue;
			json_array_foreach (ports, j, v)
				dup |= json_integer_value(v) == json_integer_value(port);
			if (!dup)
				json_array_append(ports, port);
			if (json_integer_value(port) == DS_DEFAULT_PORT)
				plan_env(plan, "PORT", "8080");
		}
		json_t *more = json_array();
		json_array_extend(more, json_object_get(plan, "extra_ports"));
		json_array_extend(more, json_object_get(cfg, "ports"));
		json_object_del(plan, "extra_ports");
		json_array_foreach (more, i, v) {
			size_t j;
			json_t *w;
			int dup = 0;
			json_array_foreach (ports, j, w)
				dup |= json_integer_value(v) == json_integer_value(w);
			if (!dup)
				json_array_append(ports, v);
		}
		json_decref(more);
		json_object_set_new(plan, "ports", ports);
		json_object_foreach (json_object_get(cfg, "env"), k, v) {
			char num[64];
			if (json_is_string(v)) {
				json_object_set(env, k, v);
				continue;
			}
			if (json_is_integer(v))
				snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			else if (json_is_real(v))
				snprintf(num, sizeof(num), "%g", json_real_value(v));
			else
				snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : "false");
			json_object_set_new(env, k, json_string(num));
		}
	}
	return 0;
}

int plan_finish(json_t *plan, const ds_detect_opts *o, ds_error *err)
{
	return finish_processes(plan, json_object_get(plan, "facts"), o, err);
}

/* ---- the order ---------------------------------------------------------------------- */

static void free_bps(bp **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bp_free(v[i]);
	free(v);
}

static int load_order(bp ***out, size_t *n_out, const ds_detect_opts *o, json_t *facts,
		      ds_error *err)
{
	size_t len, n = 0;
	const unsigned char *data = bp_embedded("order.toml", &len, NULL);
	_cleanup_json_ json_t *order = NULL;
	json_t *group, *g, *extra;
	bp **v = NULL;
	size_t i;

	if (!data)
		return ds_error_set(err, DS_ENOENT, "the built-in buildpack order is missing");
	if (ds_toml_parse(&order, "buildpacks/order.toml", (const char *)data, len, err) < 0)
		return -1;
	group = json_object_get(json_array_get(json_object_get(order, "order"), 0), "group");
	extra = json_object_get(json_object_get(facts, "config"), "buildpacks");
	v = ds_xcalloc(json_array_size(group) + (o ? o->n_buildpacks : 0) +
			       json_array_size(extra) + 1,
		       sizeof(*v));
	json_array_foreach (group, i, g) {
		const char *id = json_string_value(json_object_get(g, "id"));
		const char *slash = id ? strchr(id, '/') : NULL;
		if (!slash || bp_load_builtin(&v[n], slash + 1, err) < 0) {
			free_bps(v, n);
			return -1;
		}
		n++;
	}
	/* Project buildpacks, then --buildpack ones: after the built-ins, before
	 * the launcher (which must see every process). */
	{
		bp *launcher = n ? v[n - 1] : NULL;
		if (launcher)
			n--;
		json_array_foreach (extra, i, g) {
			_cleanup_free_ char *dir = NULL;
			if (!json_is_string(g)) {
				free_bps(v, n);
				bp_free(launcher);
				return ds_error_set(err, DS_EINVAL, "project config: buildpacks[%zu] "
								    "must be a folder path", i);
			}
			dir = ds_xasprintf("%s", json_string_value(g));
			if (bp_load_dir(&v[n], dir, err) < 0) {
				free_bps(v, n);
				bp_free(launcher);
				return -1;
			}
			n++;
		}
		for (size_t k = 0; o && k < o->n_buildpacks; k++) {
			if (bp_load_dir(&v[n], o->buildpacks[k], err) < 0) {
				free_bps(v, n);
				bp_free(launcher);
				return ds_error_wrap(err, "--buildpack");
			}
			n++;
		}
		if (launcher)
			v[n++] = launcher;
	}
	*out = v;
	*n_out = n;
	return 0;
}

int ds_plan_make(json_t **out, const ds_source *src, const ds_detect_opts *o, ds_error *err)
{
	_cleanup_json_ json_t *plan = json_object();
	json_t *facts = NULL, *bps = json_array(), *group = json_array();
	bp **v = NULL;
	size_t n = 0;
	int rc = -1;

	json_object_set_new(plan, "buildpacks", bps);
	json_object_set_new(plan, "group", group);
	json_object_set_new(plan, "processes", json_array());
	json_object_set_new(plan, "env", json_object());
	json_object_set_new(plan, "packages", json_array());
	json_object_set_new(plan, "files", json_array());
	json_object_set_new(plan, "models", json_array());
	json_object_set_new(plan, "generated", json_array());
	json_object_set_new(plan, "labels", json_object());
	json_object_set_new(plan, "extra_ports", json_array());
	json_object_set_new(plan, "notes", json_array());

	if (ds_detect_facts(&facts, src, o, err) < 0)
		return -1;
	json_object_set_new(plan, "facts", facts);
	json_object_set(plan, "ignored", json_object_get(facts, "ignored"));
	{
		size_t i;
		json_t *x;
		json_array_foreach (json_object_get(facts, "notes"), i, x)
			json_array_append(json_object_get(plan, "notes"), x);
	}
	if (choose_base(plan, facts, o, err) < 0)
		return -1;
	if (load_order(&v, &n, o, facts, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		bp_ctx c = { .src = src, .facts = facts, .plan = plan, .opts = o, .bp = v[i],
			     .why = json_array() };
		bp_detect_fn fn = v[i]->cnb	  ? bp_cnb_detect :
				  v[i]->handler ? bp_handler(v[i]->handler) :
						  bp_handler("declarative");
		json_t *e = json_object();
		int pass = 0;

		json_object_set_new(e, "id", json_string(v[i]->id));
		json_object_set_new(e, "version", json_string(v[i]->version));
		json_object_set_new(e, "name", json_string(v[i]->name));
		if (!v[i]->builtin)
			json_object_set_new(e, "path", json_string(v[i]->dir));
		json_object_set_new(e, "why", c.why);
		json_array_append_new(bps, e);
		if (v[i]->cnb && o && o->no_exec) {
			ds_error_set(err, DS_EINVAL, "buildpack '%s' (%s) is executable (bin/detect, "
						     "bin/build), and executable buildpacks are not "
						     "allowed here", v[i]->id, v[i]->dir);
			ds_error_hint(err, "use a declarative buildpack, or drop the policy (%s)",
				      o->no_exec_origin ? o->no_exec_origin : "--no-exec-buildpacks");
			goto out;
		}
		if (fn(&c, &pass, err) < 0) {
			ds_error_wrap(err, "buildpack '%s'", v[i]->id);
			goto out;
		}
		if (pass && plan_files(&c, err) < 0)
			goto out;
		json_object_set_new(e, "detected", json_boolean(pass));
		if (pass) {
			json_t *ge = json_object();
			json_object_set_new(ge, "id", json_string(v[i]->id));
			json_object_set_new(ge, "version", json_string(v[i]->version));
			json_array_append_new(group, ge);
		}
		/* Project config overrides detection and the Procfile; the
		 * launcher, last, sees the final set. */
		if (i + 2 == n && finish_processes(plan, facts, o, err) < 0)
			goto out;
	}
	if (n < 2 && finish_processes(plan, facts, o, err) < 0)
		goto out;
	*out = TAKE_PTR(plan);
	rc = 0;
out:
	free_bps(v, n);
	return rc;
}
