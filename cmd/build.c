#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <dsbuild/build.h>
#include <dsbuild/image.h>

#include "cmd.h"
#include "registry_cmd.h"

const char cmd_build_usage[] =
	"usage: dsbuild [build] [OPTIONS] [DIR]\n"
	"\n"
	"Builds an OCI image of DIR (default: the current folder): a base image plus\n"
	"the tree at /workspace as its own layer. Same tree, same image digest.\n"
	"\n"
	"Output\n"
	"  -o, --output REF      where to write; repeatable. REF is one of\n"
	"                          oci:DIR[:TAG]              an OCI image layout\n"
	"                          oci-archive:FILE[:TAG]     a tar of one\n"
	"                          docker-archive:FILE[:NAME:TAG]  for docker/podman load\n"
	"                        default: oci:DIR/.dsbuild/image:TAG\n"
	"  -t, --tag NAME[:TAG]  name the image; repeatable (default: the folder's name,\n"
	"                        tag 'latest')\n"
	"  --push docker://HOST/REPO[:TAG]  push the image to a registry; repeatable\n"
	"  --digest-file FILE    write the image's manifest digest to FILE (for CI)\n"
	"\n"
	"Base\n"
	"  --base REF            debian:SUITE (default debian:bookworm, or $DSBUILD_BASE):\n"
	"                        a Python runtime built from Debian packages;\n"
	"                        scratch; oci:DIR[:TAG]; oci-archive:FILE; docker-archive:FILE\n"
	"  --apt PKG             add a Debian package (and what it needs); repeatable;\n"
	"                        apt.txt in DIR does the same, one package per line\n"
	"  --debian-mirror URL   Debian mirror (default $DSBUILD_DEBIAN_MIRROR, else\n"
	"                        http://deb.debian.org/debian)\n"
	"  --debian-allow-unverified  skip the archive signature check (hashes are\n"
	"                        still checked); for mirrors without a keyring here\n"
	"  --platform OS/ARCH    the platform to build for (default: this machine's)\n"
	"\n"
	"Python packages (from requirements.txt, pyproject.toml or pylock.toml in DIR;\n"
	"installed from wheels into a venv at /opt/venv, see docs/python.md)\n"
	"  --index-url URL       package index (default: the files', $PIP_INDEX_URL,\n"
	"                        pip.conf, else https://pypi.org/simple)\n"
	"  --extra-index-url URL another index; repeatable\n"
	"  --find-links DIR|URL  a folder or page of wheels; repeatable\n"
	"  --no-index            use only --find-links\n"
	"  --pre                 allow pre-releases\n"
	"  --group NAME          add a pyproject optional-dependencies group; repeatable\n"
	"  --lock FILE           write the resolved set as a pylock.toml (PEP 751)\n"
	"\n"
	"Processes (detected by the buildpacks: web, predict, notebook, job; see\n"
	"docs/buildpacks.md and 'dsbuild detect')\n"
	"  --process NAME        the default process (the image's Cmd)\n"
	"  --job PATH            the notebook or script the job process runs\n"
	"  --buildpack DIR       add a buildpack after the built-in ones; repeatable\n"
	"  --builder FILE        a builder file: base, buildpack order, env, labels\n"
	"                        (default $DSBUILD_BUILDER, else the project's)\n"
	"  --no-exec-buildpacks  refuse buildpacks that run programs (Cloud Native\n"
	"                        Buildpacks: bin/detect, bin/build)\n"
	"\n"
	"Config\n"
	"  --env KEY=VALUE       set an environment variable; repeatable\n"
	"  --entrypoint CMD      a JSON array or words, e.g. '[\"python\",\"app.py\"]' or\n"
	"                        'python app.py'; '' clears the base's\n"
	"  --cmd CMD             the default arguments, same forms\n"
	"  --workdir DIR         working directory (default /workspace)\n"
	"  --user USER[:GROUP]   user to run as, e.g. 1000:1000\n"
	"  --port N[/PROTO]      expose a port (tcp, udp, sctp); repeatable\n"
	"  --label KEY=VALUE     add a config label; repeatable\n"
	"  --annotation K=V      add a manifest annotation; repeatable\n"
	"\n"
	"Other\n"
	"  --cache-dir DIR       blob cache (default $DSBUILD_CACHE, else\n"
	"                        $XDG_CACHE_HOME/dsbuild, else ~/.cache/dsbuild)\n"
	"  --no-cache            rebuild every layer, even those the cache has\n"
	"  --json                print the result as JSON on stdout\n"
	"  -q, --quiet           print only errors\n"
	"  -h, --help            show this help\n"
	"\n"
	"What goes in: everything in DIR except .git, __pycache__, .ipynb_checkpoints,\n"
	"virtual environments, the output folder, what .dsbuildignore (or else\n"
	".dockerignore) excludes, and likely secrets (.env, *.pem, id_rsa, .aws/ ...),\n"
	"which are left out with a warning unless the ignore file has a '!' rule for them.\n"
	"Timestamps come from SOURCE_DATE_EPOCH, else the last git commit, else 1970.\n"
	"\n"
	"\n" CMD_REGISTRY_HELP
	"\n"
	"Examples:\n"
	"  dsbuild .\n"
	"  dsbuild . --push docker://registry.example.com/team/model:1.0\n"
	"  dsbuild build . --base oci:base:latest --cmd 'python main.py' -o oci:out:v1\n"
	"  dsbuild . -t myapp:1.0 -o docker-archive:myapp.tar && podman load -i myapp.tar\n";

enum {
	OPT_BASE = 256,
	OPT_ENV,
	OPT_ENTRYPOINT,
	OPT_CMD,
	OPT_WORKDIR,
	OPT_USER,
	OPT_PORT,
	OPT_LABEL,
	OPT_ANNOTATION,
	OPT_PLATFORM,
	OPT_CACHE,
	OPT_JSON,
	OPT_LEVEL,
	OPT_NO_CACHE,
	OPT_APT,
	OPT_DEBIAN_MIRROR,
	OPT_DEBIAN_UNVERIFIED,
	OPT_PUSH,
	OPT_DIGEST_FILE,
	OPT_INDEX_URL,
	OPT_EXTRA_INDEX_URL,
	OPT_FIND_LINKS,
	OPT_NO_INDEX,
	OPT_PRE,
	OPT_GROUP,
	OPT_LOCK,
	OPT_PROCESS,
	OPT_JOB,
	OPT_BUILDPACK,
	OPT_BUILDER,
	OPT_NO_EXEC_BUILDPACKS,
};

typedef struct ui {
	int json, quiet, tty;
	const char *ignore_file;
	int progress_shown;
	time_t last;
	json_t *skipped;
	json_t *cached; /* digests of layers reused from the cache */
} ui;

static void on_event(void *data, const ds_event *ev)
{
	ui *u = data;
	char a[32], b[32];

	switch (ev->type) {
	case DS_EVENT_SKIPPED:
		if (ev->skip->reason == DS_SKIP_SECRET && !u->quiet)
			cmd_warn("leaving out '%s': it looks like %s; add '!%s' to %s to include it",
				 ev->skip->path, ev->skip->why, ev->skip->path,
				 u->ignore_file ? u->ignore_file : ".dsbuildignore");
		if (u->skipped) {
			json_t *o = json_object();
			json_object_set_new(o, "path", json_string(ev->skip->path));
			json_object_set_new(o, "reason",
					    json_string(ev->skip->reason == DS_SKIP_SECRET ? "secret" :
							ev->skip->reason == DS_SKIP_ALWAYS ? "always" :
											     "ignored"));
			json_object_set_new(o, "why", json_string(ev->skip->why));
			json_array_append_new(u->skipped, o);
		}
		break;
	case DS_EVENT_SOURCE:
		if (!u->quiet && !u->json) {
			cmd_human_size(ev->source->total_bytes, a, sizeof(a));
			fprintf(stderr, "source: %s: %zu entries, %s%s%s\n", ev->source->root,
				ev->source->n_files, a, ev->source->ignore_file ? ", rules from " : "",
				ev->source->ignore_file ? ev->source->ignore_file : "");
		}
		break;
	case DS_EVENT_BASE:
		if (!u->quiet && !u->json)
			fprintf(stderr, "base: %s\n", ev->text);
		break;
	case DS_EVENT_INFO:
		if (!u->quiet && !u->json)
			fprintf(stderr, "  %s\n", ev->text);
		break;
	case DS_EVENT_WARNING:
		if (!u->quiet)
			cmd_warn("%s", ev->text);
		break;
	case DS_EVENT_LAYER_START:
		u->progress_shown = 0;
		u->last = 0;
		break;
	case DS_EVENT_LAYER_PROGRESS:
		if (u->quiet || u->json || !u->tty || !ev->total)
			break;
		if (time(NULL) == u->last && ev->done < ev->total)
			break;
		u->last = time(NULL);
		{
			int pct = (int)(ev->done * 100 / ev->total), bar = pct / 4;
			cmd_human_size(ev->done, a, sizeof(a));
			cmd_human_size(ev->total, b, sizeof(b));
			fprintf(stderr, "\r\033[K%.40s [%-25.*s] %3d%% %s / %s", ev->text, bar,
				"#########################", pct, a, b);
			u->progress_shown = 1;
		}
		break;
	case DS_EVENT_LAYER_DONE:
		if (ev->cached && u->cached)
			json_object_set_new(u->cached, ev->layer->digest, json_true());
		if (u->progress_shown)
			fprintf(stderr, "\r\033[K");
		if (!u->quiet && !u->json) {
			cmd_human_size(ev->layer->size, a, sizeof(a));
			fprintf(stderr, "layer %s: %.19s %s%s\n", ev->text, ev->layer->digest, a,
				ev->cached ? " (cached)" : "");
		}
		break;
	}
}

/* Lowercase letters, digits and separators, as image names allow. */
static char *default_name(const char *root)
{
	const char *base = strrchr(root, '/');
	char *n;
	size_t k = 0;

	base = base && base[1] ? base + 1 : "image";
	n = malloc(strlen(base) + 8);
	if (!n)
		abort();
	for (const char *p = base; *p; p++) {
		char c = (char)tolower((unsigned char)*p);
		if (isalnum((unsigned char)c) || ((c == '.' || c == '_' || c == '-') && k > 0))
			n[k++] = c;
	}
	while (k && !isalnum((unsigned char)n[k - 1]))
		k--;
	if (!k) {
		memcpy(n, "image", 5);
		k = 5;
	}
	n[k] = '\0';
	return n;
}

static int has_tag(const char *t)
{
	const char *c = strrchr(t, ':'), *s = strrchr(t, '/');
	return c && (!s || c > s);
}

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "tag", required_argument, NULL, 't' },
		{ "base", required_argument, NULL, OPT_BASE },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "cmd", required_argument, NULL, OPT_CMD },
		{ "workdir", required_argument, NULL, OPT_WORKDIR },
		{ "user", required_argument, NULL, OPT_USER },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "annotation", required_argument, NULL, OPT_ANNOTATION },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "cache-dir", required_argument, NULL, OPT_CACHE },
		{ "gzip-level", required_argument, NULL, OPT_LEVEL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "apt", required_argument, NULL, OPT_APT },
		{ "debian-mirror", required_argument, NULL, OPT_DEBIAN_MIRROR },
		{ "debian-allow-unverified", no_argument, NULL, OPT_DEBIAN_UNVERIFIED },
		{ "push", required_argument, NULL, OPT_PUSH },
		{ "digest-file", required_argument, NULL, OPT_DIGEST_FILE },
		{ "index-url", required_argument, NULL, OPT_INDEX_URL },
		{ "extra-index-url", required_argument, NULL, OPT_EXTRA_INDEX_URL },
		{ "find-links", required_argument, NULL, OPT_FIND_LINKS },
		{ "no-index", no_argument, NULL, OPT_NO_INDEX },
		{ "pre", no_argument, NULL, OPT_PRE },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "lock", required_argument, NULL, OPT_LOCK },
		{ "process", required_argument, NULL, OPT_PROCESS },
		{ "job", required_argument, NULL, OPT_JOB },
		{ "buildpack", required_argument, NULL, OPT_BUILDPACK },
		{ "builder", required_argument, NULL, OPT_BUILDER },
		{ "no-exec-buildpacks", no_argument, NULL, OPT_NO_EXEC_BUILDPACKS },
		CMD_REGISTRY_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	ds_build_opts o = DS_BUILD_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	ds_build_result res = { 0 };
	strv outputs = { 0 }, tags = { 0 }, env = { 0 }, ep = { 0 }, cmdv = { 0 }, ports = { 0 },
	     labels = { 0 }, ann = { 0 }, excl = { 0 }, apt = { 0 }, pushes = { 0 };
	strv py_extra = { 0 }, py_links = { 0 }, py_groups = { 0 }, bps = { 0 };
	ds_registry_opts ro = DS_REGISTRY_OPTS_INIT;
	ds_ref *push_refs = NULL;
	const char *digest_file = NULL;
	json_t *pushed = NULL;
	ds_write_txn **txns = NULL;
	ds_ref *refs = NULL;
	ui u = { 0 };
	const char *dir = ".";
	char *default_out = NULL;
	int c, rc = EXIT_FAIL;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			strv_push(&outputs, optarg);
			break;
		case 't':
			strv_push(&tags, optarg);
			break;
		case OPT_PROCESS:
			o.process = optarg;
			break;
		case OPT_JOB:
			o.job = optarg;
			break;
		case OPT_BUILDPACK:
			strv_push(&bps, optarg);
			break;
		case OPT_BUILDER:
			o.builder = optarg;
			break;
		case OPT_NO_EXEC_BUILDPACKS:
			o.no_exec_buildpacks = 1;
			break;
		case OPT_BASE:
			o.base = optarg;
			break;
		case OPT_ENV:
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				ds_error_set(&err, DS_EINVAL, "invalid --env '%s'", optarg);
				ds_error_hint(&err, "write --env KEY=VALUE");
				rc = cmd_report(&err);
				goto out;
			}
			strv_push(&env, optarg);
			break;
		case OPT_ENTRYPOINT:
			strv_release(&ep);
			if (cmd_parse_argv("--entrypoint", optarg, &ep, &err) < 0) {
				rc = cmd_report(&err);
				goto out;
			}
			o.entrypoint_set = 1;
			break;
		case OPT_CMD:
			strv_release(&cmdv);
			if (cmd_parse_argv("--cmd", optarg, &cmdv, &err) < 0) {
				rc = cmd_report(&err);
				goto out;
			}
			o.cmd_set = 1;
			break;
		case OPT_WORKDIR:
			if (optarg[0] != '/') {
				ds_error_set(&err, DS_EINVAL, "invalid --workdir '%s': it must be an "
							      "absolute path",
					     optarg);
				ds_error_hint(&err, "write e.g. --workdir /workspace/src");
				rc = cmd_report(&err);
				goto out;
			}
			o.workdir = optarg;
			break;
		case OPT_USER:
			o.user = optarg;
			break;
		case OPT_PORT:
			strv_push(&ports, optarg);
			break;
		case OPT_LABEL:
			strv_push(&labels, optarg);
			break;
		case OPT_ANNOTATION:
			strv_push(&ann, optarg);
			break;
		case OPT_PLATFORM:
			o.platform = optarg;
			break;
		case OPT_CACHE:
			o.cache_dir = optarg;
			break;
		case OPT_LEVEL: {
			char *end;
			long l = strtol(optarg, &end, 10);
			if (*end || l < 0 || l > 9) {
				rc = cmd_usage_error("build", "--gzip-level must be 0 to 9");
				goto out;
			}
			o.gzip_level = (int)l;
			break;
		}
		case OPT_JSON:
			u.json = 1;
			break;
		case OPT_NO_CACHE:
			o.no_cache = 1;
			break;
		case OPT_APT:
			strv_push(&apt, optarg);
			break;
		case OPT_DEBIAN_MIRROR:
			o.debian_mirror = optarg;
			break;
		case OPT_DEBIAN_UNVERIFIED:
			o.allow_unverified = 1;
			break;
		case OPT_PUSH:
			strv_push(&pushes, optarg);
			break;
		case OPT_DIGEST_FILE:
			digest_file = optarg;
			break;
		case OPT_INDEX_URL:
			o.py_index_url = optarg;
			break;
		case OPT_EXTRA_INDEX_URL:
			strv_push(&py_extra, optarg);
			break;
		case OPT_FIND_LINKS:
			strv_push(&py_links, optarg);
			break;
		case OPT_NO_INDEX:
			o.py_no_index = 1;
			break;
		case OPT_PRE:
			o.py_pre = 1;
			break;
		case OPT_GROUP:
			strv_push(&py_groups, optarg);
			break;
		case OPT_LOCK:
			o.py_lock = optarg;
			break;
		case 'q':
			u.quiet = 1;
			break;
		case 'h':
			fputs(cmd_build_usage, stdout);
			rc = EXIT_OK;
			goto out;
		case ':':
			rc = cmd_usage_error("build", "option '%s' needs a value", argv[optind - 1]);
			goto out;
		default: {
			int r = cmd_registry_opt(c, optarg, &ro, "build");
			if (r == 0)
				break;
			rc = r == 1 ? cmd_usage_error("build", "unknown option '%s'", argv[optind - 1]) :
				      r;
			goto out;
		}
		}
	}
	if (optind < argc)
		dir = argv[optind++];
	if (optind < argc) {
		rc = cmd_usage_error("build", "too many arguments: '%s'", argv[optind]);
		goto out;
	}
	{
		/* Check the folder before anything else, for a clear message. */
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			ds_source *tmp = NULL;
			if (ds_source_scan(&tmp, dir, NULL, &err) < 0) {
				rc = cmd_report(&err);
				goto out;
			}
			ds_source_free(tmp);
		}
	}
	if (!tags.n) {
		char real[PATH_MAX];
		char *name = default_name(realpath(dir, real) ? real : dir);
		strv_push_own(&tags, name);
	}
	for (size_t i = 0; i < tags.n; i++) {
		/* NAME:TAG for archives; bare NAME means NAME:latest */
		if (!has_tag(tags.v[i])) {
			char *full = malloc(strlen(tags.v[i]) + 8);
			if (!full)
				abort();
			snprintf(full, strlen(tags.v[i]) + 8, "%s:latest", tags.v[i]);
			tags.v[i] = full;
			tags.owned = realloc(tags.owned, (tags.n_owned + 1) * sizeof(char *));
			tags.owned[tags.n_owned++] = full;
		}
	}
	if (!outputs.n) {
		size_t n = strlen(dir) + 32;
		default_out = malloc(n);
		if (!default_out)
			abort();
		snprintf(default_out, n, "oci:%s/.dsbuild/image", dir);
		strv_push(&outputs, default_out);
	}
	refs = calloc(outputs.n + 1, sizeof(*refs));
	for (size_t i = 0; i < outputs.n; i++) {
		if (ds_ref_parse(&refs[i], outputs.v[i], &err) < 0) {
			ds_error_wrap(&err, "-o");
			rc = cmd_report(&err);
			goto out;
		}
		if (refs[i].transport == DS_TRANSPORT_DOCKER) {
			rc = cmd_usage_error("build", "-o '%s': pushing to a registry is not "
						      "supported yet",
					     outputs.v[i]);
			goto out;
		}
		char *abs = cmd_abspath(refs[i].path);
		strv_push_own(&excl, abs);
	}
	push_refs = calloc(pushes.n + 1, sizeof(*push_refs));
	for (size_t i = 0; i < pushes.n; i++) {
		if (ds_ref_parse(&push_refs[i], pushes.v[i], &err) < 0) {
			ds_error_wrap(&err, "--push");
			rc = cmd_report(&err);
			goto out;
		}
		if (push_refs[i].transport != DS_TRANSPORT_DOCKER) {
			rc = cmd_usage_error("build", "--push '%s': write docker://HOST/REPO[:TAG] "
						      "(use -o for local outputs)",
					     pushes.v[i]);
			goto out;
		}
	}
	if (default_out) {
		/* the default output's parent folder is dsbuild's own */
		char *p = malloc(strlen(dir) + 16);
		if (!p)
			abort();
		snprintf(p, strlen(dir) + 16, "%s/.dsbuild", dir);
		mkdir(p, 0755);
		free(p);
	}

	u.tty = isatty(2);
	if (u.json) {
		u.skipped = json_array();
		u.cached = json_object();
	}
	{
		/* the ignore file in use, for the secrets warning's advice */
		char *p = malloc(strlen(dir) + 20);
		if (!p)
			abort();
		snprintf(p, strlen(dir) + 20, "%s/.dsbuildignore", dir);
		if (access(p, F_OK) != 0) {
			snprintf(p, strlen(dir) + 20, "%s/.dockerignore", dir);
			if (access(p, F_OK) == 0)
				u.ignore_file = ".dockerignore";
		}
		free(p);
	}
	o.source_dir = dir;
	o.env = strv_view(&env);
	o.entrypoint = strv_view(&ep);
	o.cmd = strv_view(&cmdv);
	o.ports = strv_view(&ports);
	o.labels = strv_view(&labels);
	o.annotations = strv_view(&ann);
	o.exclude_dirs = strv_view(&excl);
	o.apt = strv_view(&apt);
	o.py_extra_index_urls = strv_view(&py_extra);
	o.py_find_links = strv_view(&py_links);
	o.py_groups = strv_view(&py_groups);
	o.buildpacks = strv_view(&bps);
	if (!o.builder && getenv("DSBUILD_BUILDER") && *getenv("DSBUILD_BUILDER"))
		o.builder = getenv("DSBUILD_BUILDER");
	if (!o.base && getenv("DSBUILD_BASE") && *getenv("DSBUILD_BASE"))
		o.base = getenv("DSBUILD_BASE");
	o.on_event = on_event;
	o.registry = &ro;
	o.event_data = &u;
	if (ds_build(&res, &o, &err) < 0) {
		rc = cmd_report(&err);
		goto out;
	}
	/* Every output is prepared (written under temporary names) and the
	 * pushes done before any output is committed (renamed into place): a
	 * failure anywhere leaves every destination as it was. */
	txns = calloc(outputs.n + 1, sizeof(*txns));
	for (size_t i = 0; i < outputs.n; i++) {
		ds_write_opts wo = DS_WRITE_OPTS_INIT;
		wo.tags = tags.v;
		wo.n_tags = tags.n;
		if (ds_image_write_prepare(&txns[i], res.image, &refs[i], &wo, &err) < 0) {
			rc = cmd_report(&err);
			goto out;
		}
	}
	if (pushes.n)
		pushed = json_array();
	for (size_t i = 0; i < pushes.n; i++) {
		cmd_progress pr;
		ds_push_result pres;
		ds_registry_opts po = ro;
		cmd_progress_init(&pr, "push", u.quiet, u.json);
		po.progress = cmd_progress_event;
		po.progress_data = &pr;
		if (ds_registry_push(res.image, &push_refs[i], &po, &pres, &err) < 0) {
			cmd_progress_release(&pr);
			rc = cmd_report(&err);
			goto out;
		}
		cmd_progress_release(&pr);
		if (strcmp(pres.digest, res.image->manifest_digest)) {
			ds_error_set(&err, DS_ENET, "the registry stored '%s' as %s, but dsbuild "
						    "pushed %s",
				     pushes.v[i], pres.digest, res.image->manifest_digest);
			rc = cmd_report(&err);
			goto out;
		}
		if (!u.quiet && !u.json)
			fprintf(stderr, "pushed %s@%s (%zu of %zu blobs uploaded, %zu mounted, %zu "
					"already there)\n",
				pushes.v[i], pres.digest, pres.blobs_uploaded, pres.blobs_total,
				pres.blobs_mounted, pres.blobs_existed);
		json_t *pj = json_object();
		json_object_set_new(pj, "ref", json_string(pushes.v[i]));
		json_object_set_new(pj, "digest", json_string(pres.digest));
		json_object_set_new(pj, "bytes_uploaded", json_integer((json_int_t)pres.bytes_uploaded));
		json_object_set_new(pj, "blobs_uploaded", json_integer((json_int_t)pres.blobs_uploaded));
		json_object_set_new(pj, "blobs_mounted", json_integer((json_int_t)pres.blobs_mounted));
		json_object_set_new(pj, "blobs_existed", json_integer((json_int_t)pres.blobs_existed));
		json_array_append_new(pushed, pj);
	}
	for (size_t i = 0; i < outputs.n; i++) {
		ds_write_txn *t = txns[i];
		txns[i] = NULL;
		if (ds_write_txn_commit(t, &err) < 0) {
			rc = cmd_report(&err);
			goto out;
		}
	}
	if (digest_file) {
		int r = cmd_write_digest_file(digest_file, res.image->manifest_digest);
		if (r) {
			rc = r;
			goto out;
		}
	}
	if (u.json) {
		json_t *j = json_object(), *outs = json_array(), *ls = json_array();
		if (pushed)
			json_object_set(j, "pushed", pushed);
		for (size_t i = 0; i < outputs.n; i++)
			json_array_append_new(outs, json_string(outputs.v[i]));
		for (size_t i = 0; i < res.image->n_layers; i++) {
			const ds_layer_desc *l = &res.image->layers[i];
			json_t *lo = json_object();
			json_object_set_new(lo, "digest", json_string(l->digest));
			json_object_set_new(lo, "diff_id", json_string(l->diff_id));
			json_object_set_new(lo, "size", json_integer((json_int_t)l->size));
			json_object_set_new(lo, "mediaType", json_string(l->media_type));
			if (l->created_by)
				json_object_set_new(lo, "created_by", json_string(l->created_by));
			json_object_set_new(lo, "cached",
					    json_boolean(json_object_get(u.cached, l->digest) != NULL));
			json_array_append_new(ls, lo);
		}
		json_object_set_new(j, "digest", json_string(res.image->manifest_digest));
		json_object_set_new(j, "config_digest", json_string(res.image->config_digest));
		json_object_set_new(j, "outputs", outs);
		json_object_set_new(j, "layers", ls);
		json_object_set_new(j, "skipped", json_incref(u.skipped));
		json_object_set_new(j, "epoch", json_integer(res.epoch));
		if (res.plan) {
			json_t *procs = json_array(), *p;
			size_t k;
			json_array_foreach (json_object_get(res.plan, "processes"), k, p) {
				json_t *e = json_object();
				json_object_set(e, "type", json_object_get(p, "type"));
				json_object_set(e, "command", json_object_get(p, "command"));
				json_object_set(e, "default", json_object_get(p, "default"));
				json_array_append_new(procs, e);
			}
			json_object_set_new(j, "processes", procs);
			json_object_set(j, "buildpacks", json_object_get(res.plan, "group"));
			json_object_set(j, "base", json_object_get(json_object_get(res.plan, "base"),
								  "ref"));
		}
		if (res.python) {
			json_t *py = json_object();
			json_object_set_new(py, "packages", json_incref(res.python));
			json_object_set_new(py, "cached", json_boolean(res.python_cached));
			json_object_set_new(j, "python", py);
		}
		json_object_set_new(j, "epoch_source",
				    json_string(res.epoch_origin == DS_EPOCH_ENV ? "SOURCE_DATE_EPOCH" :
						res.epoch_origin == DS_EPOCH_GIT ? "git" :
										   "fixed"));
		char *s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(j);
	} else if (!u.quiet) {
		fprintf(stderr, "built %s\n", res.image->manifest_digest);
		for (size_t i = 0; i < outputs.n; i++) {
			const char *t = refs[i].tag;
			if (refs[i].transport == DS_TRANSPORT_OCI && !t) {
				const char *c2 = strrchr(tags.v[0], ':');
				t = c2 ? c2 + 1 : "latest";
			}
			fprintf(stderr, "  wrote %s%s%s\n", outputs.v[i],
				refs[i].transport == DS_TRANSPORT_OCI && !refs[i].tag ? ":" : "",
				refs[i].transport == DS_TRANSPORT_OCI && !refs[i].tag ? t : "");
		}
		if (refs[0].transport == DS_TRANSPORT_OCI) {
			const char *t = refs[0].tag;
			const char *c2 = strrchr(tags.v[0], ':');
			json_t *xports = json_object_get(json_object_get(res.image->config, "config"),
							"ExposedPorts"), *pv;
			const char *pk;
			fprintf(stderr, "run it: podman run --rm");
			json_object_foreach (xports, pk, pv) {
				int pn = atoi(pk);
				if (pn > 0 && strstr(pk, "/tcp"))
					fprintf(stderr, " -p %d:%d", pn, pn);
			}
			fprintf(stderr, " oci:%s:%s\n", refs[0].path,
				t ? t : (c2 ? c2 + 1 : "latest"));
			if (res.plan && json_array_size(json_object_get(res.plan, "processes")) > 1) {
				json_t *p;
				size_t k;
				fprintf(stderr, "processes:");
				json_array_foreach (json_object_get(res.plan, "processes"), k, p)
					fprintf(stderr, " %s%s",
						json_string_value(json_object_get(p, "type")),
						json_is_true(json_object_get(p, "default")) ?
							" (default)" :
							"");
				fprintf(stderr, " (podman run ... IMAGE NAME runs one by name)\n");
			}
		}
	}
	rc = EXIT_OK;
out:
	if (rc != EXIT_OK && default_out) {
		/* leave no empty .dsbuild/ behind a failed first build */
		char *p = malloc(strlen(dir) + 16);
		if (p) {
			snprintf(p, strlen(dir) + 16, "%s/.dsbuild", dir);
			rmdir(p);
			free(p);
		}
	}
	for (size_t i = 0; txns && i < outputs.n; i++)
		ds_write_txn_abort(txns[i]);
	free(txns);
	ds_build_result_release(&res);
	for (size_t i = 0; refs && i < outputs.n; i++)
		ds_ref_release(&refs[i]);
	free(refs);
	free(default_out);
	json_decref(u.skipped);
	json_decref(u.cached);
	strv_release(&outputs);
	strv_release(&tags);
	strv_release(&env);
	strv_release(&ep);
	strv_release(&cmdv);
	strv_release(&ports);
	strv_release(&labels);
	strv_release(&ann);
	strv_release(&excl);
	strv_release(&apt);
	strv_release(&py_extra);
	strv_release(&py_links);
	strv_release(&py_groups);
	strv_release(&bps);
	for (size_t i = 0; push_refs && i < pushes.n; i++)
		ds_ref_release(&push_refs[i]);
	free(push_refs);
	strv_release(&pushes);
	json_decref(pushed);
	return rc;
}
