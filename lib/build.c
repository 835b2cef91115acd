/* The orchestrator: source → base → app layer → config → manifest.  Each
 * stage takes the previous one's value and nothing else. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include <dsbuild/build.h>
#include <dsbuild/debian.h>
#include <dsbuild/detect.h>
#include <dsbuild/layer.h>
#include <dsbuild/pydeps.h>

#include "buildpack/bp.h"
#include "ds_config.h"
#include "oci/oci.h"
#include "util/util.h"

const char *ds_version(void)
{
	return DS_VERSION;
}

static void emit(const ds_build_opts *o, ds_event *ev)
{
	if (o->on_event)
		o->on_event(o->event_data, ev);
}

static char *rfc3339(int64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return ds_xstrdup(buf);
}

static int split_kv(const char *kv, const char *flag, char **k, const char **v, ds_error *err)
{
	const char *eq = strchr(kv, '=');

	if (!eq || eq == kv) {
		ds_error_set(err, DS_EINVAL, "invalid %s '%s'", flag, kv);
		return ds_error_hint(err, "write %s KEY=VALUE", flag);
	}
	*k = ds_xstrndup(kv, (size_t)(eq - kv));
	*v = eq + 1;
	return 0;
}

static json_t *strv_json(const ds_strv *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

static int env_set(json_t *env, const char *kv)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv), i;
	json_t *e;

	json_array_foreach (env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, kv, klen) && s[klen] == '=')
			return json_array_set_new(env, i, json_string(kv));
	}
	return json_array_append_new(env, json_string(kv));
}

static int parse_port(const char *s, char *out, size_t outsz, ds_error *err)
{
	const char *slash = strchr(s, '/');
	const char *proto = slash ? slash + 1 : "tcp";
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || (slash ? end != slash : *end != '\0') || errno || n < 1 || n > 65535 ||
	    (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))) {
		ds_error_set(err, DS_EINVAL, "invalid --port '%s'", s);
		return ds_error_hint(err, "write a number from 1 to 65535, optionally with /tcp, "
					  "/udp or /sctp, e.g. --port 8080");
	}
	snprintf(out, outsz, "%ld/%s", n, proto);
	return 0;
}

/* Applies the flags to the config's "config" object. */
static int apply_settings(json_t *cfg, const ds_build_opts *o, ds_error *err)
{
	json_t *c = json_object_get(cfg, "config");
	json_t *env, *ports, *labels;

	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(cfg, "config", c);
	}
	env = json_object_get(c, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(c, "Env", env);
	}
	{
		int has_path = 0;
		size_t i;
		json_t *e;
		json_array_foreach (env, i, e)
			if (json_is_string(e) && !strncmp(json_string_value(e), "PATH=", 5))
				has_path = 1;
		if (!has_path)
			json_array_append_new(env, json_string("PATH=/usr/local/sbin:/usr/local/bin:"
							       "/usr/sbin:/usr/bin:/sbin:/bin"));
	}
	for (size_t i = 0; i < o->env.n; i++) {
		_cleanup_free_ char *k = NULL;
		const char *v;
		if (split_kv(o->env.v[i], "--env", &k, &v, err) < 0)
			return -1;
		env_set(env, o->env.v[i]);
	}
	if (o->entrypoint_set) {
		if (o->entrypoint.n)
			json_object_set_new(c, "Entrypoint", strv_json(&o->entrypoint));
		else
			json_object_del(c, "Entrypoint");
		/* as in a Dockerfile: a new entrypoint drops the base's Cmd */
		if (!o->cmd_set)
			json_object_del(c, "Cmd");
	}
	if (o->cmd_set) {
		if (o->cmd.n)
			json_object_set_new(c, "Cmd", strv_json(&o->cmd));
		else
			json_object_del(c, "Cmd");
	}
	json_object_set_new(c, "WorkingDir", json_string(o->workdir ? o->workdir : DS_APP_DIR));
	if (o->user)
		json_object_set_new(c, "User", json_string(o->user));
	if (o->ports.n) {
		ports = json_object_get(c, "ExposedPorts");
		if (!json_is_object(ports)) {
			ports = json_object();
			json_object_set_new(c, "ExposedPorts", ports);
		}
		for (size_t i = 0; i < o->ports.n; i++) {
			char p[32];
			if (parse_port(o->ports.v[i], p, sizeof(p), err) < 0)
				return -1;
			json_object_set_new(ports, p, json_object());
		}
	}
	if (o->labels.n) {
		labels = json_object_get(c, "Labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(c, "Labels", labels);
		}
		for (size_t i = 0; i < o->labels.n; i++) {
			_cleanup_free_ char *k = NULL;
			const char *v;
			if (split_kv(o->labels.v[i], "--label", &k, &v, err) < 0)
				return -1;
			json_object_set_new(labels, k, json_string(v));
		}
	}
	return 0;
}

static json_t *new_config(const char *platform, ds_error *err)
{
	char os[32], arch[32], variant[32];
	json_t *cfg, *rootfs;

	if (ds_platform_parse(platform, os, arch, variant, err) < 0)
		return NULL;
	cfg = json_object();
	json_object_set_new(cfg, "architecture", json_string(arch));
	json_object_set_new(cfg, "os", json_string(os));
	if (variant[0] && strcmp(arch, "arm64"))
		json_object_set_new(cfg, "variant", json_string(variant));
	json_object_set_new(cfg, "config", json_object());
	rootfs = json_object();
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_object_set_new(rootfs, "diff_ids", json_array());
	json_object_set_new(cfg, "rootfs", rootfs);
	json_object_set_new(cfg, "history", json_array());
	return cfg;
}

static void human_size(uint64_t n, char *buf, size_t sz)
{
	const char *u[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, sz, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, sz, "%.1f %s", v, u[i]);
}

typedef struct progress_ctx {
	const ds_build_opts *o;
	uint64_t total;
	const char *text;
} progress_ctx;

static void on_progress(void *data, uint64_t done)
{
	progress_ctx *p = data;
	ds_event ev = { .type = DS_EVENT_LAYER_PROGRESS, .text = p->text, .done = done,
			.total = p->total };
	emit(p->o, &ev);
}

/* Copies the base's blobs into the cache (verifying each) and returns its
 * config, layers and the annotations naming it. */
static int open_base(const ds_build_opts *o, const char *platform, ds_store *cache, json_t **cfg,
		     ds_layer_desc **layers, size_t *n_layers, json_t *annotations, ds_error *err)
{
	ds_ref ref;
	ds_image *img = NULL;
	ds_event ev = { .type = DS_EVENT_BASE, .text = o->base };
	int is_registry;

	if (ds_ref_parse(&ref, o->base, err) < 0) {
		ds_error_wrap(err, "--base");
		return ds_error_hint(err, "use --base debian:SUITE, scratch, docker://REF, "
					  "oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE");
	}
	is_registry = ref.transport == DS_TRANSPORT_DOCKER;
	if (ref.transport == DS_TRANSPORT_DOCKER) {
		ds_registry_opts ro = DS_REGISTRY_OPTS_INIT;
		if (ds_registry_pull(&img, &ref, platform, cache, o->registry ? o->registry : &ro,
				     err) < 0) {
			ds_ref_release(&ref);
			if (err && (err->code == DS_ENOENT || err->code == DS_EFORMAT ||
				    err->code == DS_EUNSUPPORTED))
				err->code = DS_EIMAGE;
			return ds_error_wrap(err, "cannot use base '%s'", o->base);
		}
	} else if (ds_image_open(&img, &ref, platform, err) < 0) {
		ds_ref_release(&ref);
		if (err && (err->code == DS_ENOENT || err->code == DS_EFORMAT ||
			    err->code == DS_EINVAL || err->code == DS_EUNSUPPORTED))
			err->code = DS_EIMAGE;
		return ds_error_wrap(err, "cannot use base '%s'", o->base);
	}
	ds_ref_release(&ref);
	emit(o, &ev);
	*layers = ds_xcalloc(img->n_layers + 1, sizeof(**layers));
	for (size_t i = 0; i < img->n_layers; i++) {
		const ds_layer_desc *l = &img->layers[i];
		ds_layer_desc *d = &(*layers)[i];
		if (ds_store_copy_blob(cache, img->store, l->digest, err) < 0) {
			*n_layers = i;
			ds_image_free(img);
			if (err && err->code == DS_EFORMAT)
				err->code = DS_EIMAGE;
			return ds_error_wrap(err, "cannot use base '%s': layer %zu", o->base, i + 1);
		}
		/* The config's diff_id must be what the layer unpacks to (umoci
		 * checks it; podman does not).  Once checked, the pair is
		 * remembered in the layer cache. */
		{
			_cleanup_free_ char *key = ds_xasprintf("diff-id/v1 %s %s", l->digest,
								l->diff_id);
			ds_layer_info seen;
			if (!ds_layer_cache_get(cache, key, &seen)) {
				char did[DS_DIGEST_BUFSZ];
				uint64_t tsz;
				if (ds_layer_uncompressed_digest(cache, l, did, &tsz, err) < 0) {
					*n_layers = i;
					ds_image_free(img);
					if (err && err->code == DS_EFORMAT)
						err->code = DS_EIMAGE;
					return ds_error_wrap(err, "cannot use base '%s': layer %zu",
							     o->base, i + 1);
				}
				if (strcmp(did, l->diff_id)) {
					*n_layers = i;
					ds_error_set(err, DS_EIMAGE, "cannot use base '%s': layer %zu (%s) "
								     "unpacks to %s, but its config says %s",
						     o->base, i + 1, l->digest, did, l->diff_id);
					ds_image_free(img);
					return ds_error_hint(err, "the base image is corrupt; rebuild or "
								  "re-pull it");
				}
				memset(&seen, 0, sizeof(seen));
				memcpy(seen.digest, l->digest, DS_DIGEST_BUFSZ);
				memcpy(seen.diff_id, did, DS_DIGEST_BUFSZ);
				seen.size = l->size;
				seen.tar_size = tsz;
				ds_layer_cache_put(cache, key, &seen, NULL);
			}
		}
		/* Docker's media types name the same bytes as OCI's. */
		if (!strcmp(l->media_type, DS_MEDIA_DOCKER_LAYER_GZIP))
			d->media_type = ds_xstrdup(DS_MEDIA_LAYER_GZIP);
		else if (!strcmp(l->media_type, "application/vnd.docker.image.rootfs.diff.tar"))
			d->media_type = ds_xstrdup(DS_MEDIA_LAYER_TAR);
		else
			d->media_type = ds_xstrdup(l->media_type);
		memcpy(d->digest, l->digest, DS_DIGEST_BUFSZ);
		memcpy(d->diff_id, l->diff_id, DS_DIGEST_BUFSZ);
		d->size = l->size;
		*n_layers = i + 1;
	}
	*cfg = json_deep_copy(img->config);
	/* A registry reference names the base anywhere; a local path would only
	 * make the digest depend on where the base sits, so it is left out
	 * (the digest identifies the base either way). */
	if (is_registry)
		json_object_set_new(annotations, "org.opencontainers.image.base.name",
				    json_string(o->base));
	json_object_set_new(annotations, "org.opencontainers.image.base.digest",
			    json_string(img->manifest_digest));
	ds_image_free(img);
	return 0;
}

static void on_debian_event(void *data, const ds_debian_event *dev)
{
	const ds_build_opts *o = data;
	ds_event ev = { 0 };

	switch (dev->type) {
	case DS_DEBIAN_EV_INDEX:
	case DS_DEBIAN_EV_RESOLVED:
		ev.type = DS_EVENT_INFO;
		ev.text = dev->text;
		break;
	case DS_DEBIAN_EV_DOWNLOAD:
		ev.type = DS_EVENT_LAYER_PROGRESS;
		ev.text = "debian packages";
		ev.done = dev->done;
		ev.total = dev->total;
		break;
	case DS_DEBIAN_EV_LAYER_START:
		ev.type = DS_EVENT_LAYER_START;
		ev.text = dev->text;
		break;
	case DS_DEBIAN_EV_LAYER_DONE:
		ev.type = DS_EVENT_LAYER_DONE;
		ev.text = dev->text;
		ev.layer = dev->layer;
		ev.cached = dev->cached;
		break;
	case DS_DEBIAN_EV_WARNING:
		ev.type = DS_EVENT_WARNING;
		ev.text = dev->text;
		break;
	default:
		return;
	}
	emit(o, &ev);
}

#define APT_TXT_MAX ((size_t)1 << 20)

/* apt.txt at the root of the tree, if any: the packages to add. */
/* A Python runtime assembled from Debian packages (docs/debian-base.md),
 * plus apt.txt / --apt packages in their own layer. */
static int open_debian_base(const ds_build_opts *o, const char *base, const char *platform,
			    const char *created, const json_t *plan, const char *cache_dir,
			    ds_store *cache,
			    json_t **cfg, ds_layer_desc **layers, size_t *n_layers, json_t *labels,
			    ds_error *err)
{
	ds_debian_opts dopts = DS_DEBIAN_OPTS_INIT;
	ds_layer_opts lo = DS_LAYER_OPTS_INIT;
	ds_debian_base *b = NULL;
	json_t *pk = json_object_get(plan, "packages"), *v;
	size_t n_pk = json_array_size(pk), i;
	const char **extra = NULL;
	size_t n_extra = 0;
	ds_event ev = { .type = DS_EVENT_BASE, .text = base };
	int rc = -1;

	/* Packages from the buildpacks (apt.txt, a Procfile that needs a shell,
	 * a team's) and --apt. */
	extra = ds_xcalloc(n_pk + o->apt.n + 1, sizeof(*extra));
	json_array_foreach (pk, i, v)
		extra[n_extra++] = json_string_value(v);
	for (i = 0; i < o->apt.n; i++)
		extra[n_extra++] = o->apt.v[i];
	emit(o, &ev);
	dopts.suite = base + strlen("debian:");
	dopts.platform = platform;
	dopts.mirror = o->debian_mirror;
	dopts.extra_packages = extra;
	dopts.n_extra_packages = n_extra;
	dopts.allow_unverified = o->allow_unverified;
	dopts.cache_dir = cache_dir;
	dopts.on_event = on_debian_event;
	dopts.event_data = (void *)o;
	lo.gzip_level = o->gzip_level;
	lo.threads = o->threads;
	if (ds_debian_base_build(&b, &dopts, cache, &lo, err) < 0) {
		ds_error_wrap(err, "base '%s'", base);
		goto out;
	}
	*cfg = new_config(platform, err);
	if (!*cfg)
		goto out;
	{
		json_t *c = json_object_get(*cfg, "config"), *env = json_array();
		for (i = 0; i < b->n_env; i++)
			json_array_append_new(env, json_string(b->env[i]));
		json_array_append_new(env, json_string("HOME=/home/app"));
		json_object_set_new(c, "Env", env);
		/* The app user of the image conventions, known to /etc/passwd. */
		json_object_set_new(c, "User", json_string("1000:1000"));
	}
	*layers = ds_xcalloc(b->n_layers + 1, sizeof(**layers));
	for (i = 0; i < b->n_layers; i++) {
		ds_layer_desc *d = &(*layers)[i];
		json_t *h = json_object();
		json_array_append_new(json_object_get(json_object_get(*cfg, "rootfs"), "diff_ids"),
				      json_string(b->layers[i].diff_id));
		json_object_set_new(h, "created", json_string(created));
		json_object_set_new(h, "created_by", json_string(b->layers[i].created_by ?
									 b->layers[i].created_by :
									 "dsbuild debian"));
		json_array_append_new(json_object_get(*cfg, "history"), h);
		d->media_type = ds_xstrdup(b->layers[i].media_type);
		memcpy(d->digest, b->layers[i].digest, DS_DIGEST_BUFSZ);
		memcpy(d->diff_id, b->layers[i].diff_id, DS_DIGEST_BUFSZ);
		d->size = b->layers[i].size;
		d->created_by = b->layers[i].created_by ? ds_xstrdup(b->layers[i].created_by) : NULL;
		*n_layers = i + 1;
	}
	{
		json_t *meta = json_deep_copy(b->manifest);
		if (b->python_version)
			json_object_set_new(meta, "python", json_string(b->python_version));
		json_object_set_new(labels, "debian", meta);
	}
	rc = 0;
out:
	ds_debian_base_free(b);
	free(extra);
	return rc;
}

/* ---- Python dependencies (lib/python/deps.c, docs/python.md) ------------- */

/* The label a non-Debian base carries to say which Python it has. */
#define PY_VERSION_LABEL "io.dsbuild.python.version"
#define PY_EXE_LABEL "io.dsbuild.python.executable"

static void append_layer(json_t *cfg, ds_layer_desc **layers, size_t *n_layers,
			 const ds_layer_info *info, const char *created_by, const char *created);

/* The base's Python: "3.11" and "/usr/bin/python3.11", or NULLs. */
static void base_python(const char *base, json_t *cfg, json_t *meta, char **version, char **exe)
{
	json_t *c = json_object_get(cfg, "config");

	*version = *exe = NULL;
	if (!strncmp(base, "debian:", 7)) {
		json_t *d = json_object_get(meta, "debian");
		const char *v = json_string_value(json_object_get(d, "python"));
		if (v) {
			*version = ds_xstrdup(v);
			*exe = ds_xasprintf("/usr/bin/python%s", v);
		}
	} else {
		json_t *labels = json_object_get(c, "Labels");
		const char *v = json_string_value(json_object_get(labels, PY_VERSION_LABEL));
		const char *x = json_string_value(json_object_get(labels, PY_EXE_LABEL));
		if (v) {
			*version = ds_xstrdup(v);
			*exe = x ? ds_xstrdup(x) : ds_xasprintf("/usr/bin/python%s", v);
		}
	}
}

static void on_pydeps_event(void *data, const ds_pydeps_event *pev)
{
	const ds_build_opts *o = data;
	ds_event ev = { 0 };
	char line[2300];

	switch (pev->type) {
	case DS_PYDEPS_EV_INFO:
		ev.type = DS_EVENT_INFO;
		ev.text = pev->text;
		break;
	case DS_PYDEPS_EV_RESOLVED:
		snprintf(line, sizeof(line), "python: %s", pev->text);
		ev.type = DS_EVENT_INFO;
		ev.text = line;
		break;
	case DS_PYDEPS_EV_DOWNLOAD:
		ev.type = DS_EVENT_LAYER_PROGRESS;
		ev.text = "python wheels";
		ev.done = pev->done;
		ev.total = pev->total;
		break;
	case DS_PYDEPS_EV_WARNING:
		ev.type = DS_EVENT_WARNING;
		ev.text = pev->text;
		break;
	default:
		return;
	}
	emit(o, &ev);
}

/* When the tree has Python requirements: the venv layer after the base's,
 * /opt/venv/bin first on PATH, VIRTUAL_ENV, and the resolved set in the
 * metadata label.  py_version/py_exe: the Debian base's Python, or NULL. */
static int add_python_layer(const ds_build_opts *o, const json_t *plan, const char *base,
			    const char *platform, const char *created, const ds_source *src,
			    int64_t epoch,
			    ds_store *cache, json_t *cfg, ds_layer_desc **layers, size_t *n_layers,
			    json_t *meta, ds_build_result *res, ds_error *err)
{
	ds_pydeps_opts po = DS_PYDEPS_OPTS_INIT;
	ds_pydeps_result *pr = NULL;
	const char *file = NULL;
	_cleanup_free_ char *py_version = NULL, *py_exe = NULL;
	json_t *c = json_object_get(cfg, "config"), *env, *e;
	(void)base;
	ds_event ev;
	size_t i;
	int has_path = 0;

	json_t *extra = json_object_get(plan, "python_requirements"), *x;
	_cleanup_free_ const char **xreq = NULL, **xorig = NULL;

	if (ds_pydeps_detect(&file, src->root, err) < 0)
		return -1;
	if (!file && !json_array_size(extra))
		return 0;
	xreq = ds_xcalloc(json_array_size(extra) + 1, sizeof(*xreq));
	xorig = ds_xcalloc(json_array_size(extra) + 1, sizeof(*xorig));
	json_array_foreach (extra, i, x) {
		xreq[i] = json_string_value(json_object_get(x, "requirement"));
		xorig[i] = json_string_value(json_object_get(x, "origin"));
	}
	po.extra_requirements = xreq;
	po.extra_origins = xorig;
	po.n_extra_requirements = json_array_size(extra);
	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(cfg, "config", c);
	}
	base_python(base, cfg, meta, &py_version, &py_exe);
	if (!py_version) {
		ds_error_set(err, DS_EINVAL, "'%s' needs Python packages, but the base '%s' has no "
					     "Python that dsbuild knows of", file ? file : "a buildpack", base);
		return ds_error_hint(err, "use the default base (--base debian:bookworm), or a base "
					  "labelled " PY_VERSION_LABEL "=3.X (and "
					  PY_EXE_LABEL "=/path/to/python3.X)");
	}
	po.source_dir = src->root;
	po.python_version = py_version;
	po.python = py_exe;
	po.platform = platform;
	po.glibc = !strncmp(base, "debian:bookworm", 15) ? "2.36" :
		   !strncmp(base, "debian:trixie", 13)	 ? "2.41" : NULL;
	po.index_url = o->py_index_url;
	po.extra_index_urls = o->py_extra_index_urls.v;
	po.n_extra_index_urls = o->py_extra_index_urls.n;
	po.find_links = o->py_find_links.v;
	po.n_find_links = o->py_find_links.n;
	po.no_index = o->py_no_index;
	po.default_index_url = o->py_default_index_url;
	po.default_extra_index_urls = o->py_default_extra_index_urls.v;
	po.n_default_extra_index_urls = o->py_default_extra_index_urls.n;
	po.pre = o->py_pre;
	po.groups = o->py_groups.v;
	po.n_groups = o->py_groups.n;
	po.lock_out = o->py_lock;
	/* Not the tree's epoch: a new commit must not rebuild the dependency
	 * layer (the Debian layers keep their .debs' times for the same reason). */
	po.mtime = 0;
	(void)epoch;
	po.no_cache = o->no_cache;
	po.layer.gzip_level = o->gzip_level;
	po.layer.threads = o->threads;
	po.on_event = on_pydeps_event;
	po.event_data = (void *)o;
	ev = (ds_event){ .type = DS_EVENT_LAYER_START, .text = "python" };
	emit(o, &ev);
	if (ds_pydeps_build(&pr, &po, cache, err) < 0)
		return -1;
	append_layer(cfg, layers, n_layers, &pr->layer, pr->created_by, created);
	/* Env: /opt/venv/bin first on PATH, VIRTUAL_ENV */
	env = json_object_get(c, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(c, "Env", env);
	}
	json_array_foreach (env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, "PATH=", 5)) {
			_cleanup_free_ char *np = ds_xasprintf("PATH=%s/bin:%s", DS_PYVENV_PREFIX,
							       s + 5);
			json_array_set_new(env, i, json_string(np));
			has_path = 1;
		}
	}
	if (!has_path)
		env_set(env, "PATH=" DS_PYVENV_PREFIX "/bin:/usr/local/sbin:/usr/local/bin:"
			     "/usr/sbin:/usr/bin:/sbin:/bin");
	for (size_t k = 0; k < pr->n_env; k++)
		env_set(env, pr->env[k]);
	{
		json_t *pm = json_object();
		json_object_set_new(pm, "source", json_string(pr->source));
		json_object_set_new(pm, "python", json_string(py_version));
		json_object_set_new(pm, "prefix", json_string(DS_PYVENV_PREFIX));
		json_object_set_new(pm, "packages", json_deep_copy(pr->packages));
		json_object_set_new(meta, "python", pm);
	}
	res->python = json_incref(pr->packages);
	res->python_cached = pr->cached;
	ev = (ds_event){ .type = DS_EVENT_LAYER_DONE, .text = "python",
			 .layer = &(*layers)[*n_layers - 1], .cached = pr->cached };
	emit(o, &ev);
	ds_pydeps_result_free(pr);
	return 0;
}

/* ---- buildpack layers (docs/buildpacks.md) ------------------------------------- */

/* Appends a finished layer to layers, rootfs.diff_ids and history. */
static void append_layer(json_t *cfg, ds_layer_desc **layers, size_t *n_layers,
			 const ds_layer_info *info, const char *created_by, const char *created)
{
	json_t *rootfs = json_object_get(cfg, "rootfs"), *d, *hist, *h;

	*layers = ds_xrealloc(*layers, (*n_layers + 1) * sizeof(**layers));
	memset(&(*layers)[*n_layers], 0, sizeof(**layers));
	(*layers)[*n_layers].media_type = ds_xstrdup(DS_MEDIA_LAYER_GZIP);
	memcpy((*layers)[*n_layers].digest, info->digest, DS_DIGEST_BUFSZ);
	memcpy((*layers)[*n_layers].diff_id, info->diff_id, DS_DIGEST_BUFSZ);
	(*layers)[*n_layers].size = info->size;
	(*layers)[*n_layers].created_by = ds_xstrdup(created_by);
	(*n_layers)++;
	if (!json_is_object(rootfs)) {
		rootfs = json_object();
		json_object_set_new(cfg, "rootfs", rootfs);
	}
	json_object_set_new(rootfs, "type", json_string("layers"));
	d = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(d)) {
		d = json_array();
		json_object_set_new(rootfs, "diff_ids", d);
	}
	json_array_append_new(d, json_string(info->diff_id));
	hist = json_object_get(cfg, "history");
	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(cfg, "history", hist);
	}
	h = json_object();
	json_object_set_new(h, "created", json_string(created));
	json_object_set_new(h, "created_by", json_string(created_by));
	json_array_append_new(hist, h);
}

typedef struct mem_entry {
	char *path; /* in-layer, no leading '/' */
	ds_entry_type type;
	uint32_t mode, uid, gid;
	char *data; /* owned */
	size_t len;
} mem_entry;

static int mem_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const mem_entry *)a)->path, ((const mem_entry *)b)->path);
}

typedef struct mem_tree {
	mem_entry *v;
	size_t n;
} mem_tree;

static void mem_tree_release(mem_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].path);
		free(t->v[i].data);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static mem_entry *mem_tree_find(mem_tree *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].path, path))
			return &t->v[i];
	return NULL;
}

/* Adds a file (data stolen) and its missing parent directories; parents
 * under `owned` (e.g. "workspace") belong to uid/gid, others to root. */
static void mem_tree_add(mem_tree *t, const char *path, ds_entry_type type, uint32_t mode,
			 uint32_t uid, uint32_t gid, char *data, size_t len)
{
	mem_entry *e;

	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		_cleanup_free_ char *dir = ds_xstrndup(path, (size_t)(s - path));
		if (mem_tree_find(t, dir))
			continue;
		t->v = ds_xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
		t->v[t->n++] = (mem_entry){ .path = TAKE_PTR(dir), .type = DS_ENTRY_DIR,
					    .mode = 0755 };
	}
	e = mem_tree_find(t, path);
	if (e) {
		free(e->data);
	} else {
		t->v = ds_xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
		e = &t->v[t->n++];
		e->path = ds_xstrdup(path);
	}
	e->type = type;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	e->data = data;
	e->len = len;
}

static int mem_tree_write(mem_tree *t, ds_layer_writer *lw, int64_t mtime, ds_error *err)
{
	qsort(t->v, t->n, sizeof(*t->v), mem_entry_cmp);
	for (size_t i = 0; i < t->n; i++) {
		ds_layer_entry e = { .path = t->v[i].path, .type = t->v[i].type,
				     .mode = t->v[i].mode, .uid = t->v[i].uid, .gid = t->v[i].gid,
				     .mtime = mtime };
		if (e.type == DS_ENTRY_FILE)
			e.size = t->v[i].len;
		if (ds_layer_writer_add(lw, &e, err) < 0)
			return -1;
		if (e.type == DS_ENTRY_FILE && t->v[i].len &&
		    ds_layer_writer_data(lw, t->v[i].data, t->v[i].len, err) < 0)
			return -1;
	}
	return 0;
}

/* A hash of a tree's paths, modes, owners and contents: its cache key part. */
static void mem_tree_hash(mem_tree *t, char out[DS_DIGEST_BUFSZ])
{
	ds_sha256 h;

	qsort(t->v, t->n, sizeof(*t->v), mem_entry_cmp);
	if (ds_sha256_init(&h, NULL) < 0) {
		snprintf(out, DS_DIGEST_BUFSZ, "unhashed");
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		char hdr[64];
		snprintf(hdr, sizeof(hdr), "\n%d %o %u %u %zu\n", t->v[i].type, t->v[i].mode,
			 t->v[i].uid, t->v[i].gid, t->v[i].len);
		ds_sha256_update(&h, t->v[i].path, strlen(t->v[i].path) + 1);
		ds_sha256_update(&h, hdr, strlen(hdr));
		if (t->v[i].len)
			ds_sha256_update(&h, t->v[i].data, t->v[i].len);
	}
	ds_sha256_final(&h, out);
}

/* The buildpacks' runtime files (the launcher, the predict server, a
 * team's CA certificate ...) and /data for the app user: one layer, the
 * same for every project that uses the same buildpacks. */
static int add_runtime_layer(const ds_build_opts *o, json_t *plan, ds_store *cache,
			     const char *created, json_t *cfg, ds_layer_desc **layers,
			     size_t *n_layers, ds_error *err)
{
	mem_tree t = { 0 };
	json_t *f;
	size_t i;
	ds_layer_info info;
	ds_layer_opts lo = DS_LAYER_OPTS_INIT;
	ds_layer_writer *lw = NULL;
	char hash[DS_DIGEST_BUFSZ];
	_cleanup_free_ char *key = NULL;
	ds_event ev;
	int cached, rc = -1;

	json_array_foreach (json_object_get(plan, "files"), i, f) {
		const char *target = json_string_value(json_object_get(f, "target"));
		const char *emb = json_string_value(json_object_get(f, "embedded"));
		const char *src = json_string_value(json_object_get(f, "source"));
		uint32_t mode = (uint32_t)json_integer_value(json_object_get(f, "mode"));
		char *data;
		size_t len;

		if (emb) {
			const unsigned char *d = bp_embedded(emb, &len, NULL);
			data = ds_xmalloc(len + 1);
			memcpy(data, d, len);
		} else {
			ds_buf b = DS_BUF_INIT;
			ds_buf_init(&b, (size_t)1 << 30);
			if (ds_read_file(src, (size_t)1 << 30, &b, err) < 0) {
				ds_buf_release(&b);
				ds_error_wrap(err, "buildpack '%s'",
					      json_string_value(json_object_get(f, "buildpack")));
				goto out;
			}
			len = b.len;
			data = b.data; /* owned now */
		}
		if (json_is_true(json_object_get(f, "template"))) {
			/* ${NAME}: the image's env as the plan has it (builder, buildpacks,
			 * project); an unknown name is an error, not an empty string. */
			ds_buf out = DS_BUF_INIT;
			ds_buf_init(&out, (size_t)1 << 30);
			for (size_t k = 0; k < len;) {
				const char *end;
				if (data[k] != '$' || k + 1 >= len || data[k + 1] != '{') {
					ds_buf_addch(&out, data[k++]);
					continue;
				}
				end = memchr(data + k + 2, '}', len - k - 2);
				{
					_cleanup_free_ char *name =
						end ? ds_xstrndup(data + k + 2,
								  (size_t)(end - data - k - 2)) :
						      NULL;
					const char *v = name ? json_string_value(json_object_get(
								       json_object_get(plan, "env"),
								       name)) :
							       NULL;
					if (!v) {
						ds_error_set(err, DS_EINVAL, "buildpack '%s': template "
									     "'%s' uses ${%s}, which "
									     "no env setting defines",
							     json_string_value(json_object_get(
								     f, "buildpack")),
							     target, name ? name : "...");
						ds_error_hint(err, "set it in the builder's [env], the "
								   "buildpack's [contributes] env or "
								   "the project's env");
						ds_buf_release(&out);
						free(data);
						goto out;
					}
					ds_buf_adds(&out, v);
					k = (size_t)(end - data) + 1;
				}
			}
			free(data);
			len = out.len;
			data = out.data ? out.data : ds_xstrdup("");
		}
		mem_tree_add(&t, target + 1, DS_ENTRY_FILE, mode, 0, 0, data, len);
	}
	mem_tree_add(&t, DS_DATA_DIR + 1, DS_ENTRY_DIR, 0755, DS_APP_UID, DS_APP_GID, NULL, 0);
	mem_tree_hash(&t, hash);
	lo.gzip_level = o->gzip_level;
	lo.threads = o->threads;
	key = ds_xasprintf("runtime-layer/v1 level=%d %s", lo.gzip_level, hash);
	ev = (ds_event){ .type = DS_EVENT_LAYER_START, .text = "buildpacks" };
	emit(o, &ev);
	cached = !o->no_cache && ds_layer_cache_get(cache, key, &info);
	if (!cached) {
		if (ds_layer_writer_new(&lw, cache, &lo, err) < 0)
			goto out;
		if (mem_tree_write(&t, lw, 0, err) < 0) {
			lw = ds_layer_writer_free(lw);
			goto out;
		}
		if (ds_layer_writer_finish(lw, &info, err) < 0)
			goto out;
		ds_layer_cache_put(cache, key, &info, NULL);
	}
	append_layer(cfg, layers, n_layers, &info,
		     "dsbuild: buildpack runtime files in /opt/dsbuild and " DS_DATA_DIR, created);
	ev = (ds_event){ .type = DS_EVENT_LAYER_DONE, .text = "buildpacks",
			 .layer = &(*layers)[*n_layers - 1], .cached = cached };
	emit(o, &ev);
	rc = 0;
out:
	mem_tree_release(&t);
	return rc;
}

/* The part of src whose paths are (in_set 1) or are not (0) in set, with
 * the folders they need.  Files are borrowed from src; a hard link whose
 * target falls on the other side becomes a copy. */
static ds_source *source_subset(const ds_source *src, const json_t *set, int in_set,
				ds_source_file **extra_out)
{
	ds_source *r = ds_xcalloc(1, sizeof(*r));
	ds_source_file *copies = ds_xcalloc(src->n_files + 1, sizeof(*copies));
	size_t nc = 0;

	*r = *src;
	r->files = ds_xcalloc(src->n_files + 1, sizeof(*r->files));
	r->n_files = 0;
	r->total_bytes = 0;
	r->skipped = NULL;
	r->n_skipped = 0;
	for (size_t i = 0; i < src->n_files; i++) {
		const ds_source_file *f = &src->files[i];
		int member = 0;
		json_t *m;
		size_t k;
		json_array_foreach (set, k, m) {
			const char *p = json_string_value(json_object_get(m, "path"));
			size_t l = strlen(f->path);
			if (!strcmp(p, f->path) ||
			    (f->type == DS_ENTRY_DIR && !strncmp(p, f->path, l) && p[l] == '/'))
				member = 1;
		}
		if (f->type == DS_ENTRY_DIR && !in_set)
			member = 0; /* every folder stays in the app layer */
		if (member != in_set)
			continue;
		if (f->type == DS_ENTRY_HARDLINK) {
			int target_in = 0;
			json_array_foreach (set, k, m)
				target_in |= !strcmp(json_string_value(json_object_get(m, "path")),
						     f->link);
			if (target_in != in_set) {
				copies[nc] = *f;
				copies[nc].type = DS_ENTRY_FILE;
				copies[nc].link = NULL;
				r->files[r->n_files++] = copies[nc++];
				r->total_bytes += f->size;
				continue;
			}
		}
		r->files[r->n_files++] = *f;
		if (f->type == DS_ENTRY_FILE)
			r->total_bytes += f->size;
	}
	*extra_out = copies;
	return r;
}

/* Writes a tree layer at /workspace (plus generated files under it),
 * reusing the cached one when the same inputs made it before. */
static int tree_layer(const ds_build_opts *o, ds_store *cache, const ds_source *src,
		      mem_tree *gen, int64_t epoch, const char *what, ds_layer_info *info,
		      int *cached, ds_error *err)
{
	ds_layer_opts lo = DS_LAYER_OPTS_INIT;
	ds_layer_writer *lw = NULL;
	_cleanup_free_ char *key = NULL;
	char tree[DS_DIGEST_BUFSZ], ghash[DS_DIGEST_BUFSZ] = "";
	progress_ctx pc = { o, src->total_bytes, what };
	ds_event ev = { .type = DS_EVENT_LAYER_START, .text = what, .total = src->total_bytes };

	emit(o, &ev);
	lo.gzip_level = o->gzip_level;
	lo.threads = o->threads;
	lo.progress = on_progress;
	lo.progress_data = &pc;
	if (ds_source_hash(src, tree, err) < 0)
		return -1;
	if (gen && gen->n)
		mem_tree_hash(gen, ghash);
	/* Same tree, epoch and level → the same layer: reuse it. */
	key = ds_xasprintf("app-layer/v2 prefix=%s uid=%d gid=%d mtime=%lld level=%d %s %s",
			   &DS_APP_DIR[1], DS_APP_UID, DS_APP_GID, (long long)epoch,
			   lo.gzip_level, tree, ghash);
	*cached = !o->no_cache && ds_layer_cache_get(cache, key, info);
	if (*cached)
		return 0;
	if (ds_layer_writer_new(&lw, cache, &lo, err) < 0)
		return -1;
	{
		/* The generated files go in their sorted places among the tree's,
		 * as paths relative to /workspace. */
		size_t n = gen ? gen->n : 0, pl = strlen(&DS_APP_DIR[1]) + 1;
		ds_source_extra *x = ds_xcalloc(n + 1, sizeof(*x));
		int rc;
		if (n)
			qsort(gen->v, gen->n, sizeof(*gen->v), mem_entry_cmp);
		for (size_t i = 0; i < n; i++)
			x[i] = (ds_source_extra){ .path = gen->v[i].path + pl, .type = gen->v[i].type,
						  .mode = gen->v[i].mode, .data = gen->v[i].data,
						  .len = gen->v[i].len };
		rc = ds_source_write_layer_with(src, x, n, lw, &DS_APP_DIR[1], DS_APP_UID,
						DS_APP_GID, epoch, err);
		free(x);
		if (rc < 0) {
			ds_layer_writer_free(lw);
			return -1;
		}
	}
	if (ds_layer_writer_finish(lw, info, err) < 0)
		return -1;
	/* A cache that cannot be written only costs speed next time. */
	ds_layer_cache_put(cache, key, info, NULL);
	return 0;
}

/* The plan's generated files under /workspace/.dsbuild: processes.json and
 * the notebooks converted to scripts. */
static void generated_tree(const json_t *plan, mem_tree *t)
{
	json_t *g, *procs = json_object(), *doc = json_object(), *p;
	size_t i;
	_cleanup_buf_ ds_buf b = DS_BUF_INIT;

	json_array_foreach (json_object_get(plan, "generated"), i, g) {
		const char *c = json_string_value(json_object_get(g, "content"));
		_cleanup_free_ char *path = ds_xasprintf("%s/%s", &DS_APP_DIR[1],
							 json_string_value(json_object_get(g, "path")));
		mem_tree_add(t, path, DS_ENTRY_FILE, 0644, DS_APP_UID, DS_APP_GID, ds_xstrdup(c),
			     strlen(c));
	}
	if (json_array_size(json_object_get(plan, "processes"))) {
		_cleanup_free_ char *path = ds_xasprintf("%s/%s", &DS_APP_DIR[1], DS_PROCESSES_FILE);
		json_array_foreach (json_object_get(plan, "processes"), i, p) {
			json_t *e = json_object();
			json_object_set(e, "command", json_object_get(p, "command"));
			if (json_object_get(p, "env"))
				json_object_set(e, "env", json_object_get(p, "env"));
			json_object_set_new(e, "workdir",
					    json_is_string(json_object_get(p, "workdir")) ?
						    json_incref(json_object_get(p, "workdir")) :
						    json_string(DS_APP_DIR));
			json_object_set_new(procs, json_string_value(json_object_get(p, "type")), e);
		}
		json_object_set(doc, "default", json_object_get(plan, "default_process"));
		json_object_set_new(doc, "processes", procs);
		procs = NULL;
		ds_buf_init(&b, 16 << 20);
		if (ds_json_dump(doc, &b, NULL) == 0) {
			ds_buf_addch(&b, '\n');
			mem_tree_add(t, path, DS_ENTRY_FILE, 0644, DS_APP_UID, DS_APP_GID,
				     ds_xstrndup(b.data, b.len), b.len);
		}
	}
	json_decref(procs);
	json_decref(doc);
	/* Folders under /workspace belong to the app user. */
	for (i = 0; i < t->n; i++)
		if (t->v[i].type == DS_ENTRY_DIR && strcmp(t->v[i].path, &DS_APP_DIR[1])) {
			t->v[i].uid = DS_APP_UID;
			t->v[i].gid = DS_APP_GID;
		}
	/* /workspace itself is written by ds_source_write_layer. */
	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].path, &DS_APP_DIR[1])) {
			free(t->v[i].path);
			free(t->v[i].data);
			t->v[i] = t->v[--t->n];
			break;
		}
}

/* Env, ports, volume, labels, entrypoint/cmd of the plan: before the
 * flags, which win. */
static void apply_plan(json_t *cfg, const json_t *plan, const char *py_exe, json_t *meta)
{
	json_t *c = json_object_get(cfg, "config"), *env, *v, *procs;
	const char *k;
	size_t i;

	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(cfg, "config", c);
	}
	env = json_object_get(c, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(c, "Env", env);
	}
	json_object_foreach ((json_t *)json_object_get(plan, "env"), k, v) {
		_cleanup_free_ char *kv = ds_xasprintf("%s=%s", k, json_string_value(v));
		env_set(env, kv);
	}
	json_array_foreach (json_object_get(plan, "ports"), i, v) {
		json_t *ports = json_object_get(c, "ExposedPorts");
		char p[32];
		if (!json_is_object(ports)) {
			ports = json_object();
			json_object_set_new(c, "ExposedPorts", ports);
		}
		snprintf(p, sizeof(p), "%lld/tcp", (long long)json_integer_value(v));
		json_object_set_new(ports, p, json_object());
	}
	if (json_object_size(json_object_get(plan, "labels"))) {
		json_t *labels = json_object_get(c, "Labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(c, "Labels", labels);
		}
		json_object_update(labels, json_object_get(plan, "labels"));
	}
	procs = json_object_get(plan, "processes");
	if (json_array_size(procs)) {
		json_t *vol = json_object();
		json_object_set_new(vol, DS_DATA_DIR, json_object());
		json_object_set_new(c, "Volumes", vol);
	}
	if (json_array_size(procs) && py_exe) {
		json_t *ep = json_array(), *cmd = json_array();
		json_array_append_new(ep, json_string(py_exe));
		json_array_append_new(ep, json_string(DS_LAUNCHER_PATH));
		json_object_set_new(c, "Entrypoint", ep);
		json_array_append(cmd, json_object_get(plan, "default_process"));
		json_object_set_new(c, "Cmd", cmd);
	}
	/* The metadata label: buildpacks and processes. */
	{
		json_t *bps = json_array(), *pl = json_array(), *p;
		json_array_foreach (json_object_get(plan, "group"), i, p)
			json_array_append(bps, p);
		json_array_foreach (procs, i, p) {
			json_t *e = json_object();
			json_object_set(e, "type", json_object_get(p, "type"));
			json_object_set(e, "command", json_object_get(p, "command"));
			json_object_set(e, "default", json_object_get(p, "default"));
			json_object_set(e, "buildpack", json_object_get(p, "buildpack"));
			json_array_append_new(pl, e);
		}
		json_object_set_new(meta, "buildpacks", bps);
		json_object_set_new(meta, "processes", pl);
		if (json_array_size(procs))
			json_object_set(meta, "default_process",
					json_object_get(plan, "default_process"));
	}
}

/* Cloud Native Buildpacks of the plan: their launch layers after the
 * Python dependencies, their env, labels and processes into the plan. */
static int add_cnb_layers(const ds_build_opts *o, const ds_detect_opts *dopts, json_t *plan,
			  const ds_source *src, ds_store *cache, const char *cache_dir,
			  const char *created, json_t *cfg, ds_layer_desc **layers,
			  size_t *n_layers, ds_error *err)
{
	bp_cnb_result *r = NULL;
	ds_layer_opts lo = DS_LAYER_OPTS_INIT;
	json_t *p, *v;
	const char *k;
	size_t i;
	int has_launcher = 0, rc = -1;
	ds_event ev = { .type = DS_EVENT_LAYER_START, .text = "cnb" };

	lo.gzip_level = o->gzip_level;
	lo.threads = o->threads;
	if (o->platform && strcmp(o->platform, ds_platform_host())) {
		ds_error_set(err, DS_EUNSUPPORTED, "Cloud Native Buildpacks run on this machine, so "
						   "they cannot build for '%s' (this machine is '%s')",
			     o->platform, ds_platform_host());
		return ds_error_hint(err, "build for this machine's platform, or use declarative "
					  "buildpacks");
	}
	emit(o, &ev);
	if (bp_cnb_build(&r, plan, src, cache, &lo, cache_dir, err) < 0)
		return -1;
	for (i = 0; i < r->n_layers; i++) {
		append_layer(cfg, layers, n_layers, &r->layers[i], r->created_by[i], created);
		ev = (ds_event){ .type = DS_EVENT_LAYER_DONE, .text = r->created_by[i],
				 .layer = &(*layers)[*n_layers - 1] };
		emit(o, &ev);
	}
	json_object_foreach (r->env, k, v) {
		/* PATH-like values are prepended to the image's own. */
		if (!strcmp(k, "PATH") || !strcmp(k, "LD_LIBRARY_PATH")) {
			json_t *env = json_object_get(json_object_get(cfg, "config"), "Env"), *e;
			const char *cur = NULL;
			size_t l = strlen(k), j;
			_cleanup_free_ char *val = NULL;
			json_array_foreach (env, j, e)
				if (!strncmp(json_string_value(e), k, l) && json_string_value(e)[l] == '=')
					cur = json_string_value(e) + l + 1;
			if (!cur && !strcmp(k, "PATH"))
				cur = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
			val = cur && *cur ? ds_xasprintf("%s:%s", json_string_value(v), cur) :
					    ds_xstrdup(json_string_value(v));
			plan_env(plan, k, val);
			continue;
		}
		plan_env(plan, k, json_string_value(v));
	}
	json_object_update(json_object_get(plan, "labels"), r->labels);
	json_array_foreach (r->processes, i, p) {
		bp_ctx c = { .plan = plan };
		const char *type = json_string_value(json_object_get(p, "type"));
		const char *id = json_string_value(json_object_get(p, "buildpack"));
		_cleanup_free_ char *from = ds_xasprintf("launch.toml of %s", id ? id : "?");
		json_t *q;
		size_t j;
		plan_process(&c, type, json_deep_copy(json_object_get(p, "command")),
			     !strcmp(type, "web") ? DS_DEFAULT_PORT : 0, from);
		json_array_foreach (json_object_get(plan, "processes"), j, q) {
			if (strcmp(json_string_value(json_object_get(q, "type")), type))
				continue;
			if (id)
				json_object_set_new(q, "buildpack", json_string(id));
			/* launch.toml's working-dir and a process's own env */
			if (json_is_string(json_object_get(p, "workdir")))
				json_object_set(q, "workdir", json_object_get(p, "workdir"));
			if (json_is_object(json_object_get(p, "env")))
				json_object_set(q, "env", json_object_get(p, "env"));
		}
		if (json_is_true(json_object_get(p, "default")))
			json_object_set_new(plan, "cnb_default", json_string(type));
	}
	json_array_foreach (json_object_get(plan, "files"), i, p)
		has_launcher |= !strcmp(json_string_value(json_object_get(p, "target")),
					DS_LAUNCHER_PATH);
	if (json_array_size(json_object_get(plan, "processes")) && !has_launcher) {
		json_t *f = json_object();
		json_object_set_new(f, "target", json_string(DS_LAUNCHER_PATH));
		json_object_set_new(f, "mode", json_integer(0755));
		json_object_set_new(f, "embedded", json_string("launcher/launch"));
		json_object_set_new(f, "buildpack", json_string("dsbuild/launcher"));
		json_array_append_new(json_object_get(plan, "files"), f);
	}
	if (plan_finish(plan, dopts, err) < 0)
		goto out;
	rc = 0;
out:
	bp_cnb_result_free(r);
	return rc;
}

static void free_layers(ds_layer_desc *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].media_type);
		free(l[i].created_by);
		json_decref(l[i].annotations);
	}
	free(l);
}

int ds_build(ds_build_result *out, const ds_build_opts *oin, ds_error *err)
{
	ds_build_result res = { 0 };
	ds_build_opts ob = *oin;
	const ds_build_opts *o = &ob;
	ds_source_opts so = DS_SOURCE_OPTS_INIT;
	ds_detect_opts dopts = DS_DETECT_OPTS_INIT;
	_cleanup_buf_ ds_buf cache_path = DS_BUF_INIT;
	_cleanup_free_ char *created = NULL, *py_version = NULL, *py_exe = NULL;
	_cleanup_free_ char *excludes = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_json_ json_t *annotations = json_object();
	_cleanup_json_ json_t *plan = NULL;
	const char *platform = o->platform ? o->platform : ds_platform_host();
	const char *base;
	_cleanup_json_ json_t *meta = json_object();
	ds_store *cache = NULL;
	ds_layer_desc *layers = NULL;
	size_t n_layers = 0;
	ds_layer_info info;
	int cached = 0;
	ds_event ev;
	char sz[32];
	mem_tree gen = { 0 };
	ds_source *app_src = NULL, *model_src = NULL;
	ds_source_file *app_copies = NULL, *model_copies = NULL;
	const char **extra_urls = NULL;
	int rc = -1;

	if (ds_source_epoch(o->source_dir, &res.epoch, &res.epoch_origin, err) < 0)
		return -1;
	created = rfc3339(res.epoch);
	so.exclude_dirs = o->exclude_dirs.v;
	so.n_exclude_dirs = o->exclude_dirs.n;
	if (ds_project_excludes(&excludes, o->source_dir, err) < 0)
		return -1;
	so.extra_ignore = excludes;
	so.extra_name = "the project's exclude setting";
	if (ds_source_scan(&res.source, o->source_dir, &so, err) < 0)
		return -1;
	for (size_t i = 0; i < res.source->n_skipped; i++) {
		ev = (ds_event){ .type = DS_EVENT_SKIPPED, .skip = &res.source->skipped[i] };
		emit(o, &ev);
	}
	ev = (ds_event){ .type = DS_EVENT_SOURCE, .source = res.source };
	emit(o, &ev);

	/* detect → plan: the buildpacks decide the base, packages, processes. */
	dopts.base = oin->base;
	dopts.process = o->process;
	dopts.job = o->job;
	dopts.buildpacks = o->buildpacks.v;
	dopts.n_buildpacks = o->buildpacks.n;
	dopts.no_exec = o->no_exec_buildpacks;
	dopts.builder = o->builder;
	if (ds_plan_make(&plan, res.source, &dopts, err) < 0)
		goto out;
	base = json_string_value(json_object_get(json_object_get(plan, "base"), "ref"));
	ob.base = base;
	{
		/* A builder's package index: under the files' and the flags'. */
		json_t *pi = json_object_get(plan, "python_index"), *x;
		size_t i;
		if (json_is_string(json_object_get(pi, "index-url")))
			ob.py_default_index_url = json_string_value(json_object_get(pi, "index-url"));
		if (json_array_size(json_object_get(pi, "extra-index-urls"))) {
			extra_urls = ds_xcalloc(json_array_size(json_object_get(pi, "extra-index-urls")),
						sizeof(*extra_urls));
			json_array_foreach (json_object_get(pi, "extra-index-urls"), i, x)
				if (json_is_string(x))
					extra_urls[ob.py_default_extra_index_urls.n++] =
						json_string_value(x);
			ob.py_default_extra_index_urls.v = extra_urls;
		}
	}
	{
		json_t *g, *n;
		size_t i;
		json_array_foreach (json_object_get(plan, "group"), i, g) {
			_cleanup_free_ char *line = ds_xasprintf(
				"buildpack %s %s", json_string_value(json_object_get(g, "id")),
				json_string_value(json_object_get(g, "version")));
			ev = (ds_event){ .type = DS_EVENT_INFO, .text = line };
			emit(o, &ev);
		}
		json_array_foreach (json_object_get(plan, "notes"), i, n) {
			ev = (ds_event){ .type = DS_EVENT_WARNING, .text = json_string_value(n) };
			emit(o, &ev);
		}
	}

	if (o->cache_dir) {
		ds_buf_adds(&cache_path, o->cache_dir);
	} else if (ds_store_default_path(&cache_path, err) < 0) {
		goto out;
	}
	if (ds_store_open(&cache, cache_path.data, 1, err) < 0) {
		ds_error_wrap(err, "cache");
		ds_error_hint(err, "pass --cache-dir DIR or set DSBUILD_CACHE to a writable folder");
		goto out;
	}

	if (!strcmp(base, "scratch")) {
		cfg = new_config(platform, err);
		if (!cfg)
			goto out;
		if (o->apt.n) {
			ds_error_set(err, DS_EINVAL, "--apt needs a Debian base, and the base is "
						     "'scratch'");
			ds_error_hint(err, "use --base debian:bookworm, or drop --apt");
			goto out;
		}
	} else if (!strncmp(base, "debian:", 7)) {
		if (open_debian_base(o, base, platform, created, plan, cache_path.data, cache,
				     &cfg, &layers, &n_layers, meta, err) < 0)
			goto out;
		json_object_set_new(annotations, "org.opencontainers.image.base.name",
				    json_string(base));
	} else {
		if (o->apt.n) {
			ds_error_set(err, DS_EINVAL, "--apt needs a Debian base, and the base is '%s'",
				     base);
			ds_error_hint(err, "use --base debian:bookworm, or drop --apt");
			goto out;
		}
		if (open_base(o, platform, cache, &cfg, &layers, &n_layers, annotations, err) < 0)
			goto out;
	}
	if (strncmp(base, "debian:", 7)) {
		_cleanup_free_ char *apt = ds_xasprintf("%s/apt.txt", res.source->root);
		if (ds_path_exists(apt)) {
			ev = (ds_event){ .type = DS_EVENT_WARNING,
					 .text = "apt.txt is ignored: the base is not a Debian stack "
						 "(use --base debian:bookworm)" };
			emit(o, &ev);
		}
	}
	base_python(base, cfg, meta, &py_version, &py_exe);
	/* Python dependencies: between the base's layers and the app's. */
	if (add_python_layer(o, plan, base, platform, created, res.source, res.epoch, cache, cfg,
			     &layers, &n_layers, meta, &res, err) < 0)
		goto out;
	if (json_array_size(json_object_get(plan, "cnb")) &&
	    add_cnb_layers(o, &dopts, plan, res.source, cache, cache_path.data, created, cfg,
			   &layers, &n_layers, err) < 0)
		goto out;
	/* Processes need the launcher, which needs the base's Python. */
	if (json_array_size(json_object_get(plan, "processes")) && !py_exe) {
		if (!o->cmd_set && !o->entrypoint_set) {
			ev = (ds_event){ .type = DS_EVENT_WARNING,
					 .text = "the base has no Python that dsbuild knows of: the "
						 "detected processes are not set (pass --cmd, or use "
						 "the default base)" };
			emit(o, &ev);
		}
		json_t *files = json_object_get(plan, "files"), *kept = json_array(), *f;
		size_t i;
		json_array_clear(json_object_get(plan, "processes"));
		/* Only the launcher and the predict server need Python; a team's
		 * files (a CA certificate) stay. */
		json_array_foreach (files, i, f) {
			const char *who = json_string_value(json_object_get(f, "buildpack"));
			if (who && strcmp(who, "dsbuild/launcher") && strcmp(who, "dsbuild/predict"))
				json_array_append(kept, f);
		}
		json_object_set_new(plan, "files", kept);
		json_object_set_new(plan, "default_process", json_null());
	}
	if (json_array_size(json_object_get(plan, "files")) &&
	    add_runtime_layer(o, plan, cache, created, cfg, &layers, &n_layers, err) < 0)
		goto out;

	/* Model files, then the code: a code edit changes only the last layer. */
	if (json_array_size(json_object_get(plan, "models"))) {
		char total[32], line[256];
		model_src = source_subset(res.source, json_object_get(plan, "models"), 1,
					  &model_copies);
		if (tree_layer(o, cache, model_src, NULL, res.epoch, "models", &info, &cached,
			       err) < 0)
			goto out;
		human_size(model_src->total_bytes, total, sizeof(total));
		snprintf(line, sizeof(line), "dsbuild: model files at %s (%zu files, %s)",
			 DS_APP_DIR, json_array_size(json_object_get(plan, "models")), total);
		append_layer(cfg, &layers, &n_layers, &info, line, created);
		ev = (ds_event){ .type = DS_EVENT_LAYER_DONE, .text = "models",
				 .layer = &layers[n_layers - 1], .cached = cached };
		emit(o, &ev);
		app_src = source_subset(res.source, json_object_get(plan, "models"), 0, &app_copies);
	}
	apply_plan(cfg, plan, py_exe, meta);
	if (apply_settings(cfg, o, err) < 0)
		goto out;
	if (json_object_size(meta)) {
		/* Build metadata in one JSON label (docs/image.md). */
		json_t *c = json_object_get(cfg, "config"), *labels;
		_cleanup_buf_ ds_buf mb = DS_BUF_INIT;
		labels = json_object_get(c, "Labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(c, "Labels", labels);
		}
		ds_buf_init(&mb, DS_CONFIG_MAX / 2);
		if (ds_json_dump(meta, &mb, err) < 0)
			goto out;
		json_object_set_new(labels, DS_METADATA_LABEL, json_string(mb.data));
	}

	/* The app layer: the tree (without the model files) and what the
	 * buildpacks generated for it. */
	generated_tree(plan, &gen);
	{
		const ds_source *s = app_src ? app_src : res.source;
		char line[256];
		human_size(s->total_bytes, sz, sizeof(sz));
		if (tree_layer(o, cache, s, &gen, res.epoch, "app", &info, &cached, err) < 0)
			goto out;
		snprintf(line, sizeof(line), "dsbuild: app source at %s (%zu entries, %s)",
			 DS_APP_DIR, s->n_files, sz);
		append_layer(cfg, &layers, &n_layers, &info, line, created);
		ev = (ds_event){ .type = DS_EVENT_LAYER_DONE, .text = "app",
				 .layer = &layers[n_layers - 1], .cached = cached };
		emit(o, &ev);
	}
	json_object_set_new(cfg, "created", json_string(created));

	json_object_set_new(annotations, "org.opencontainers.image.created", json_string(created));
	{
		/* What the image is and where it came from, as annotations and
		 * labels (docs/image.md); --label and --annotation win. */
		json_t *proj = json_object_get(json_object_get(plan, "facts"), "project");
		json_t *labels = json_object_get(json_object_get(cfg, "config"), "Labels");
		_cleanup_free_ char *rev = NULL, *url = NULL;
		const char *kv[4][2] = {
			{ "org.opencontainers.image.title",
			  /* not the folder's name: a checkout path must not
			   * change the digest */
			  json_string_value(json_object_get(proj, "name")) },
			{ "org.opencontainers.image.version",
			  json_string_value(json_object_get(proj, "version")) },
			{ NULL, NULL },
			{ NULL, NULL },
		};
		ds_source_git_info(res.source->root, &rev, &url);
		kv[2][0] = "org.opencontainers.image.revision";
		kv[2][1] = rev;
		kv[3][0] = "org.opencontainers.image.source";
		kv[3][1] = url;
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(json_object_get(cfg, "config"), "Labels", labels);
		}
		for (size_t i = 0; i < 4; i++) {
			if (!kv[i][1])
				continue;
			json_object_set_new(annotations, kv[i][0], json_string(kv[i][1]));
			if (!json_object_get(labels, kv[i][0]))
				json_object_set_new(labels, kv[i][0], json_string(kv[i][1]));
		}
		if (json_string_value(json_object_get(annotations, "org.opencontainers.image.base.name")) &&
		    !json_object_get(labels, "org.opencontainers.image.base.name"))
			json_object_set(labels, "org.opencontainers.image.base.name",
					json_object_get(annotations,
							"org.opencontainers.image.base.name"));
	}
	for (size_t i = 0; i < o->annotations.n; i++) {
		_cleanup_free_ char *k = NULL;
		const char *v;
		if (split_kv(o->annotations.v[i], "--annotation", &k, &v, err) < 0)
			goto out;
		json_object_set_new(annotations, k, json_string(v));
	}
	if (ds_image_assemble(&res.image, cache, cfg, layers, n_layers, annotations, err) < 0)
		goto out;
	res.image->owns_store = 1;
	cache = NULL;
	res.plan = json_incref(plan);
	*out = res;
	memset(&res, 0, sizeof(res));
	rc = 0;
out:
	mem_tree_release(&gen);
	if (app_src) {
		free(app_src->files);
		free(app_src);
	}
	if (model_src) {
		free(model_src->files);
		free(model_src);
	}
	free(app_copies);
	free(model_copies);
	free(extra_urls);
	free_layers(layers, n_layers);
	ds_store_free(cache);
	ds_build_result_release(&res);
	return rc;
}

void ds_build_result_release(ds_build_result *r)
{
	if (!r)
		return;
	r->image = ds_image_free(r->image);
	r->source = ds_source_free(r->source);
	json_decref(r->python);
	r->python = NULL;
	json_decref(r->plan);
	r->plan = NULL;
}
