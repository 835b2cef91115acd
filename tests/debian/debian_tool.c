/* Test driver for the Debian base: builds a base with ds_debian_base_build()
 * and writes it as an OCI image, so the integration tests can run it with
 * podman, umoci and oci-image-tool.
 *
 *   debian_tool --cache DIR --out oci:DIR[:TAG] [--suite S] [--platform P |
 *     --arch A] [--mirror URL] [--security-mirror URL|none] [--apt PKG]...
 *     [--apt-file FILE] [--package PKG]... [--no-ca] [--keyring FILE]
 *     [--allow-unverified] [--mtime N] [--parallel N]
 *
 * Prints a JSON summary on stdout; errors as "error: ..." / "hint: ..." on
 * stderr with exit code 1 (2 for usage). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/debian.h>
#include <dsbuild/image.h>
#include <dsbuild/store.h>

static void on_event(void *data, const ds_debian_event *ev)
{
	int verbose = *(int *)data;

	switch (ev->type) {
	case DS_DEBIAN_EV_WARNING:
		fprintf(stderr, "warning: %s\n", ev->text);
		break;
	case DS_DEBIAN_EV_DOWNLOAD:
		break;
	default:
		if (verbose)
			fprintf(stderr, "debian: %s%s\n", ev->text ? ev->text : "",
				ev->cached ? " (cached)" : "");
	}
}

static int fail(const ds_error *err)
{
	fprintf(stderr, "error: %s\n", err->msg);
	if (err->hint[0])
		fprintf(stderr, "hint: %s\n", err->hint);
	return 1;
}

static json_t *make_config(const ds_debian_base *b)
{
	json_t *cfg = json_object(), *c = json_object(), *env = json_array(),
	       *rootfs = json_object(), *ids = json_array(), *hist = json_array(),
	       *labels = json_object();
	char arch[32] = "", variant[16] = "";
	const char *plat = b->platform + strlen("linux/");
	const char *slash = strchr(plat, '/');
	char *pk;

	if (slash) {
		snprintf(arch, sizeof(arch), "%.*s", (int)(slash - plat), plat);
		snprintf(variant, sizeof(variant), "%s", slash + 1);
	} else {
		snprintf(arch, sizeof(arch), "%s", plat);
	}
	for (size_t i = 0; i < b->n_env; i++)
		json_array_append_new(env, json_string(b->env[i]));
	json_object_set_new(c, "Env", env);
	json_object_set_new(c, "Cmd", json_pack("[s]", b->python ? "python3" : "/bin/sh"));
	pk = json_dumps(b->manifest, JSON_COMPACT | JSON_SORT_KEYS);
	json_object_set_new(labels, "io.dsbuild.debian", json_string(pk));
	free(pk);
	json_object_set_new(c, "Labels", labels);
	for (size_t i = 0; i < b->n_layers; i++) {
		json_array_append_new(ids, json_string(b->layers[i].diff_id));
		json_array_append_new(hist, json_pack("{s:s, s:s}", "created", "1970-01-01T00:00:00Z",
						      "created_by", b->layers[i].created_by));
	}
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_object_set_new(rootfs, "diff_ids", ids);
	json_object_set_new(cfg, "architecture", json_string(arch));
	if (variant[0])
		json_object_set_new(cfg, "variant", json_string(variant));
	json_object_set_new(cfg, "os", json_string("linux"));
	json_object_set_new(cfg, "created", json_string("1970-01-01T00:00:00Z"));
	json_object_set_new(cfg, "config", c);
	json_object_set_new(cfg, "rootfs", rootfs);
	json_object_set_new(cfg, "history", hist);
	return cfg;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cache", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "suite", required_argument, NULL, 's' },
		{ "platform", required_argument, NULL, 'p' },
		{ "arch", required_argument, NULL, 'a' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "security-mirror", required_argument, NULL, 'S' },
		{ "apt", required_argument, NULL, 'A' },
		{ "apt-file", required_argument, NULL, 'F' },
		{ "package", required_argument, NULL, 'P' },
		{ "no-ca", no_argument, NULL, 'n' },
		{ "keyring", required_argument, NULL, 'k' },
		{ "allow-unverified", no_argument, NULL, 'u' },
		{ "mtime", required_argument, NULL, 't' },
		{ "parallel", required_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	ds_debian_opts o = DS_DEBIAN_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	const char *cache = NULL, *outref = NULL;
	const char **apt = calloc((size_t)argc + 1, sizeof(char *));
	const char **pkgs = calloc((size_t)argc + 1, sizeof(char *));
	size_t n_apt = 0, n_pkgs = 0;
	char **file_pkgs = NULL;
	int verbose = 0, ch;
	ds_store *store = NULL;
	ds_debian_base *b = NULL;
	ds_image *img = NULL;
	ds_ref ref;
	json_t *cfg, *summary, *layers;
	char *storedir;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cache = optarg; break;
		case 'o': outref = optarg; break;
		case 's': o.suite = optarg; break;
		case 'p': o.platform = optarg; break;
		case 'a': o.arch = optarg; break;
		case 'm': o.mirror = optarg; break;
		case 'S': o.security_mirror = optarg; break;
		case 'A': apt[n_apt++] = optarg; break;
		case 'P': pkgs[n_pkgs++] = optarg; break;
		case 'n': o.ca_certificates = 0; break;
		case 'k': o.keyring = optarg; break;
		case 'u': o.allow_unverified = 1; break;
		case 't': o.mtime = atoll(optarg); break;
		case 'j': o.parallel = atoi(optarg); break;
		case 'v': verbose = 1; break;
		case 'F': {
			FILE *f = fopen(optarg, "rb");
			char buf[65536];
			size_t len, n;
			if (!f) {
				perror(optarg);
				return 2;
			}
			len = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			if (ds_debian_apt_txt_parse(&file_pkgs, &n, buf, len, optarg, &err) < 0)
				return fail(&err);
			for (size_t i = 0; i < n; i++)
				apt[n_apt++] = file_pkgs[i];
			break;
		}
		default:
			fprintf(stderr, "usage: see the comment at the top of debian_tool.c\n");
			return 2;
		}
	}
	if (!cache || !outref) {
		fprintf(stderr, "error: --cache and --out are required\n");
		return 2;
	}
	o.cache_dir = cache;
	o.extra_packages = apt;
	o.n_extra_packages = n_apt;
	if (n_pkgs) {
		o.base_packages = pkgs;
		o.n_base_packages = n_pkgs;
	}
	o.on_event = on_event;
	o.event_data = &verbose;

	storedir = malloc(strlen(cache) + 16);
	sprintf(storedir, "%s/store", cache);
	if (ds_store_open(&store, storedir, 1, &err) < 0)
		return fail(&err);
	if (ds_debian_base_build(&b, &o, store, NULL, &err) < 0)
		return fail(&err);
	cfg = make_config(b);
	if (ds_image_assemble(&img, store, cfg, b->layers, b->n_layers, NULL, &err) < 0)
		return fail(&err);
	if (ds_ref_parse(&ref, outref, &err) < 0 || ds_image_write(img, &ref, NULL, &err) < 0)
		return fail(&err);

	layers = json_array();
	for (size_t i = 0; i < b->n_layers; i++)
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I, s:s}", "digest",
							b->layers[i].digest, "diff_id",
							b->layers[i].diff_id, "size",
							(json_int_t)b->layers[i].size, "created_by",
							b->layers[i].created_by));
	summary = json_pack("{s:s, s:o, s:O, s:s?, s:s?, s:s}", "digest", img->manifest_digest,
			    "layers", layers, "debian", b->manifest, "python_version",
			    b->python_version, "python", b->python, "platform", b->platform);
	json_dumpf(summary, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
	printf("\n");
	json_decref(summary);
	json_decref(cfg);
	ds_ref_release(&ref);
	ds_image_free(img);
	ds_debian_base_free(b);
	ds_store_free(store);
	ds_debian_strv_free(file_pkgs);
	free(apt);
	free(pkgs);
	free(storedir);
	return 0;
}
