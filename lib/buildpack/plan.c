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
		if (json_is_true(json_object_get(f, "template")))
			json_object_set_new(o, "template", json_true());
		else if (json_object_get(f, "template") && !json_is_boolean(json_object_get(f, "template")))
			return ds_error_set(err, DS_EINVAL, "'%s': files[%zu] template must be true or "
							    "false", c->bp->file, i);
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

typedef struct group {
	bp **v;
	int *optional;
	size_t n;
} group;

static void groups_free(group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < g[i].n; k++)
			bp_free(g[i].v[k]);
		free(g[i].v);
		free(g[i].optional);
	}
	free(g);
}

static void group_push(group *g, bp *b, int optional)
{
	g->v = ds_xrealloc(g->v, (g->n + 1) * sizeof(*g->v));
	g->optional = ds_xrealloc(g->optional, (g->n + 1) * sizeof(*g->optional));
	g->v[g->n] = b;
	g->optional[g->n] = optional;
	g->n++;
}

/* A buildpack named by a group entry: a path (relative to the builder
 * file), an id the builder's [[buildpacks]] maps to a path, or a built-in. */
static int load_entry(bp **out, const json_t *e, const json_t *builder, const char *bdir,
		      const char *bfile, ds_error *err)
{
	const char *id = json_string_value(json_object_get(e, "id"));
	const char *path = json_string_value(json_object_get(e, "path"));
	json_t *m;
	size_t i;

	if (!id && !path)
		return ds_error_set(err, DS_EINVAL, "'%s': an order group entry needs an id or a "
						    "path", bfile);
	if (!path && builder)
		json_array_foreach (json_object_get(builder, "buildpacks"), i, m)
			if (id && !strcmp(json_string_value(json_object_get(m, "id")) ?: "", id))
				path = json_string_value(json_object_get(m, "path"));
	if (path) {
		_cleanup_free_ char *p = path[0] == '/' || !bdir ? ds_xstrdup(path) :
								 ds_xasprintf("%s/%s", bdir, path);
		if (bp_load_dir(out, p, err) < 0)
			return ds_error_wrap(err, "'%s'", bfile);
		if (id && strcmp(id, (*out)->id)) {
			ds_error_set(err, DS_EINVAL, "'%s': the buildpack at '%s' is '%s', not '%s'",
				     bfile, path, (*out)->id, id);
			bp_free(*out);
			*out = NULL;
			return -1;
		}
		return 0;
	}
	if (strncmp(id, "dsbuild/", 8)) {
		ds_error_set(err, DS_EINVAL, "'%s': buildpack '%s' has no path", bfile, id);
		return ds_error_hint(err, "add path = \"DIR\" to the entry, or a [[buildpacks]] "
					  "table with its id and path");
	}
	if (bp_load_builtin(out, id + 8, err) < 0)
		return ds_error_wrap(err, "'%s'", bfile);
	return 0;
}

/* The order groups (a builder's, else the built-in one), each followed by
 * the project's and --buildpack's buildpacks, then the launcher. */
static int load_groups(group **out, size_t *n_out, const ds_detect_opts *o, json_t *facts,
		       const json_t *builder, const char *bfile, const char *root, ds_error *err)
{
	size_t len, ng = 0, i, k;
	const unsigned char *data = bp_embedded("order.toml", &len, NULL);
	_cleanup_json_ json_t *builtin = NULL;
	_cleanup_free_ char *bdir = NULL;
	const json_t *order;
	json_t *ge, *g, *extra;
	group *groups = NULL;

	if (!data)
		return ds_error_set(err, DS_ENOENT, "the built-in buildpack order is missing");
	if (ds_toml_parse(&builtin, "buildpacks/order.toml", (const char *)data, len, err) < 0)
		return -1;
	order = json_object_get(builtin, "order");
	if (builder && json_array_size(json_object_get(builder, "order"))) {
		const char *slash = strrchr(bfile, '/');
		order = json_object_get(builder, "order");
		bdir = slash ? ds_xstrndup(bfile, (size_t)(slash - bfile)) : ds_xstrdup(".");
	}
	extra = json_object_get(json_object_get(facts, "config"), "buildpacks");
	groups = ds_xcalloc(json_array_size(order) + 1, sizeof(*groups));
	json_array_foreach (order, i, g) {
		group *gr = &groups[ng++];
		int has_launcher = 0;
		if (!json_is_array(json_object_get(g, "group"))) {
			groups_free(groups, ng);
			return ds_error_set(err, DS_EINVAL, "'%s': order[%zu] needs group = [...]",
					    bdir ? bfile : "buildpacks/order.toml", i);
		}
		json_array_foreach (json_object_get(g, "group"), k, ge) {
			bp *b = NULL;
			if (load_entry(&b, ge, bdir ? builder : NULL, bdir, bdir ? bfile : "order",
				       err) < 0) {
				groups_free(groups, ng);
				return -1;
			}
			if (!strcmp(b->id, "dsbuild/launcher")) {
				has_launcher = 1;
				bp_free(b);
				continue;
			}
			group_push(gr, b, json_is_true(json_object_get(ge, "optional")));
		}
		(void)has_launcher;
		/* The project's buildpacks, then --buildpack's: required. */
		json_array_foreach (extra, k, ge) {
			bp *b = NULL;
			const char *cfile = json_string_value(
				json_object_get(json_object_get(facts, "config"), "file"));
			if (!json_is_string(ge)) {
				groups_free(groups, ng);
				return ds_error_set(err, DS_EINVAL, "'%s': buildpacks[%zu] must be a "
								    "folder path", cfile, k);
			}
			const char *rel = json_string_value(ge);
			_cleanup_free_ char *dir = rel[0] == '/' ? ds_xstrdup(rel) :
								 ds_xasprintf("%s/%s", root, rel);
			if (bp_load_dir(&b, dir, err) < 0) {
				groups_free(groups, ng);
				return ds_error_wrap(err, "'%s' buildpacks", cfile);
			}
			group_push(gr, b, 0);
		}
		for (k = 0; o && k < o->n_buildpacks; k++) {
			bp *b = NULL;
			if (bp_load_dir(&b, o->buildpacks[k], err) < 0) {
				groups_free(groups, ng);
				return ds_error_wrap(err, "--buildpack");
			}
			group_push(gr, b, 0);
		}
		{
			bp *b = NULL;
			if (bp_load_builtin(&b, "launcher", err) < 0) {
				groups_free(groups, ng);
				return -1;
			}
			group_push(gr, b, 1);
		}
	}
	*out = groups;
	*n_out = ng;
	return 0;
}

static json_t *new_plan(void)
{
	json_t *plan = json_object();
	json_object_set_new(plan, "buildpacks", json_array());
	json_object_set_new(plan, "group", json_array());
	json_object_set_new(plan, "processes", json_array());
	json_object_set_new(plan, "env", json_object());
	json_object_set_new(plan, "packages", json_array());
	json_object_set_new(plan, "files", json_array());
	json_object_set_new(plan, "models", json_array());
	json_object_set_new(plan, "generated", json_array());
	json_object_set_new(plan, "labels", json_object());
	json_object_set_new(plan, "extra_ports", json_array());
	json_object_set_new(plan, "notes", json_array());
	return plan;
}

/* Runs one group's detection on plan.  *ok = 0 when a required buildpack
 * did not pass (the next group is tried). */
static int run_group(json_t *plan, group *g, const ds_source *src, json_t *facts,
		     const ds_detect_opts *o, int *ok, ds_error *err)
{
	json_t *bps = json_object_get(plan, "buildpacks"), *grp = json_object_get(plan, "group");

	*ok = 1;
	for (size_t i = 0; i < g->n; i++) {
		bp *b = g->v[i];
		bp_ctx c = { .src = src, .facts = facts, .plan = plan, .opts = o, .bp = b,
			     .why = json_array() };
		bp_detect_fn fn = b->cnb     ? bp_cnb_detect :
				  b->handler ? bp_handler(b->handler) :
					       bp_handler("declarative");
		json_t *e = json_object();
		int pass = 0;

		json_object_set_new(e, "id", json_string(b->id));
		json_object_set_new(e, "version", json_string(b->version));
		json_object_set_new(e, "name", json_string(b->name));
		json_object_set_new(e, "optional", json_boolean(g->optional[i]));
		if (!b->builtin)
			json_object_set_new(e, "path", json_string(b->dir));
		json_object_set_new(e, "why", c.why);
		json_array_append_new(bps, e);
		if (b->cnb && o && o->no_exec) {
			ds_error_set(err, DS_EINVAL, "buildpack '%s' (%s) is executable (bin/detect, "
						     "bin/build), and executable buildpacks are not "
						     "allowed here", b->id, b->dir);
			return ds_error_hint(err, "use a declarative buildpack, or drop the policy "
						  "(%s)",
					     o->no_exec_origin ? o->no_exec_origin :
								 "--no-exec-buildpacks");
		}
		if (fn(&c, &pass, err) < 0)
			return ds_error_wrap(err, "buildpack '%s'", b->id);
		if (pass && plan_files(&c, err) < 0)
			return -1;
		json_object_set_new(e, "detected", json_boolean(pass));
		if (pass) {
			json_t *ge = json_object();
			json_object_set_new(ge, "id", json_string(b->id));
			json_object_set_new(ge, "version", json_string(b->version));
			json_array_append_new(grp, ge);
		} else if (!g->optional[i]) {
			*ok = 0;
			return 0;
		}
		/* Project config overrides detection and the Procfile; the
		 * launcher, last, sees the final set. */
		if (i + 2 == g->n && finish_processes(plan, facts, o, err) < 0)
			return -1;
	}
	if (g->n < 2 && finish_processes(plan, facts, o, err) < 0)
		return -1;
	return 0;
}

/* The builder file: --builder, $DSBUILD_BUILDER (both in opts), else the
 * project's `builder`. */
static int load_builder(json_t **out, char **file, const ds_detect_opts *o, json_t *facts,
			const ds_source *src, ds_error *err)
{
	json_t *cfg = json_object_get(facts, "config");
	const char *p = o ? o->builder : NULL;
	_cleanup_free_ char *path = NULL;

	*out = NULL;
	*file = NULL;
	if (!p && json_is_string(json_object_get(cfg, "builder"))) {
		p = json_string_value(json_object_get(cfg, "builder"));
		path = p[0] == '/' ? ds_xstrdup(p) : ds_xasprintf("%s/%s", src->root, p);
	} else if (p) {
		path = ds_path_absolute(p);
	}
	if (!path)
		return 0;
	if (!ds_path_exists(path)) {
		ds_error_set(err, DS_ENOENT, "builder file '%s' does not exist", p);
		return ds_error_hint(err, "check --builder, $DSBUILD_BUILDER or the project's "
					  "'builder' setting");
	}
	if (ds_toml_parse_file(out, path, err) < 0) {
		if (err && err->code == DS_EFORMAT)
			err->code = DS_EINVAL; /* a file the user wrote: bad input */
		return -1;
	}
	{
		const char *k;
		json_t *v;
		static const char *const keys[] = { "builder", "base", "env", "labels", "python",
						    "policy", "order", "buildpacks" };
		json_object_foreach (*out, k, v) {
			size_t i;
			for (i = 0; i < DS_ARRAY_SIZE(keys); i++)
				if (!strcmp(k, keys[i]))
					break;
			if (i == DS_ARRAY_SIZE(keys)) {
				ds_error_set(err, DS_EINVAL, "'%s': unknown builder setting '%s'",
					     path, k);
				json_decref(*out);
				*out = NULL;
				return ds_error_hint(err, "the settings are [builder], base, [env], "
							  "[labels], [python], [policy], [[order]], "
							  "[[buildpacks]] (docs/buildpacks.md)");
			}
		}
		{
			/* [builder] holds name, description and (as well as the top
			 * level) base. */
			json_t *bt = json_object_get(*out, "builder");
			json_object_foreach (bt, k, v) {
				if (strcmp(k, "name") && strcmp(k, "description") && strcmp(k, "base")) {
					ds_error_set(err, DS_EINVAL, "'%s': unknown setting '%s' in "
								     "[builder]", path, k);
					json_decref(*out);
					*out = NULL;
					return ds_error_hint(err, "[builder] takes name, description "
								  "and base");
				}
			}
			if (json_object_get(bt, "base") && !json_object_get(*out, "base"))
				json_object_set(*out, "base", json_object_get(bt, "base"));
		}
		if (json_object_get(*out, "base") && !json_is_string(json_object_get(*out, "base"))) {
			json_decref(*out);
			*out = NULL;
			return ds_error_set(err, DS_EINVAL, "'%s': base must be a string", path);
		}
	}
	*file = TAKE_PTR(path);
	return 0;
}

int ds_plan_make(json_t **out, const ds_source *src, const ds_detect_opts *oin, ds_error *err)
{
	_cleanup_json_ json_t *proto = new_plan();
	_cleanup_json_ json_t *builder = NULL;
	_cleanup_free_ char *bfile = NULL;
	ds_detect_opts ob = oin ? *oin : (ds_detect_opts)DS_DETECT_OPTS_INIT;
	const ds_detect_opts *o = &ob;
	json_t *facts = NULL;
	json_t *tried = json_array();
	group *groups = NULL;
	size_t ng = 0;
	int rc = -1;

	if (ds_detect_facts(&facts, src, o, err) < 0)
		goto out;
	json_object_set_new(proto, "facts", facts);
	json_object_set(proto, "ignored", json_object_get(facts, "ignored"));
	{
		size_t i;
		json_t *x;
		json_array_foreach (json_object_get(facts, "notes"), i, x)
			json_array_append(json_object_get(proto, "notes"), x);
	}
	if (load_builder(&builder, &bfile, o, facts, src, err) < 0)
		goto out;
	if (builder) {
		json_t *b = json_object(), *pol = json_object_get(builder, "policy");
		const char *k;
		json_t *v;
		json_object_set_new(b, "file", json_string(bfile));
		json_t *bn = json_object_get(json_object_get(builder, "builder"), "name");
		json_object_set_new(b, "name", bn ? json_incref(bn) : json_string(bfile));
		json_object_set_new(proto, "builder", b);
		/* The builder's settings come first: everything else overrides them. */
		json_object_foreach (json_object_get(builder, "env"), k, v)
			if (json_is_string(v))
				plan_env(proto, k, json_string_value(v));
		json_object_foreach (json_object_get(builder, "labels"), k, v)
			if (json_is_string(v))
				json_object_set(json_object_get(proto, "labels"), k, v);
		if (json_is_object(json_object_get(builder, "python")))
			json_object_set(proto, "python_index", json_object_get(builder, "python"));
		if (json_is_false(json_object_get(pol, "executable-buildpacks")) && !ob.no_exec) {
			ob.no_exec = 1;
			ob.no_exec_origin = bfile;
		}
	}
	{
		/* Base precedence: flags > project > builder > Python version > default. */
		const char *cfg_base = json_string_value(
			json_object_get(json_object_get(facts, "config"), "base"));
		if (!ob.base && !cfg_base && json_is_string(json_object_get(builder, "base"))) {
			ob.base = json_string_value(json_object_get(builder, "base"));
			ob.base_origin = bfile;
		}
	}
	if (choose_base(proto, facts, o, err) < 0)
		goto out;
	if (load_groups(&groups, &ng, o, facts, builder, bfile ? bfile : "", src->root, err) < 0)
		goto out;
	for (size_t gi = 0; gi < ng; gi++) {
		json_t *plan = json_deep_copy(proto);
		int ok = 0;
		if (run_group(plan, &groups[gi], src, json_object_get(plan, "facts"), o, &ok,
			      err) < 0) {
			json_decref(plan);
			goto out;
		}
		if (ok) {
			json_object_set_new(plan, "group_index", json_integer((json_int_t)gi));
			json_object_set_new(plan, "groups_tried", json_incref(tried));
			*out = plan;
			rc = 0;
			goto out;
		}
		json_array_append(tried, json_object_get(plan, "buildpacks"));
		json_decref(plan);
	}
	{
		ds_buf why = DS_BUF_INIT;
		json_t *bps, *e;
		size_t i, k;
		ds_buf_init(&why, 4096);
		json_array_foreach (tried, i, bps)
			json_array_foreach (bps, k, e)
				if (json_is_false(json_object_get(e, "detected")) &&
				    !json_is_true(json_object_get(e, "optional")))
					ds_buf_addf(&why, "%sgroup %zu: %s: %s", why.len ? "; " : "",
						    i + 1, json_string_value(json_object_get(e, "id")),
						    json_string_value(json_array_get(
							    json_object_get(e, "why"),
							    json_array_size(json_object_get(e, "why")) -
								    1)) ?: "did not pass");
		ds_error_set(err, DS_EINVAL, "no buildpack group applies to this project (%s)",
			     why.len ? why.data : "no groups");
		ds_error_hint(err, "'dsbuild detect' shows what each buildpack looked for");
		ds_buf_release(&why);
	}
out:
	json_decref(tried);
	groups_free(groups, ng);
	return rc;
}
