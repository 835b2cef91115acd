#include <getopt.h>
#include <string.h>

#include <jansson.h>

#include <dsbuild/build.h>
#include <dsbuild/image.h>

#include "cmd.h"

const char cmd_inspect_usage[] =
	"usage: dsbuild inspect [--json] [--platform OS/ARCH] REF\n"
	"\n"
	"Shows an image: its manifest digest, platform, layers (size and what made\n"
	"each), config (env, entrypoint, cmd, workdir, user, ports, labels) and\n"
	"annotations. REF is oci:DIR[:TAG], oci-archive:FILE[:TAG] or\n"
	"docker-archive:FILE[:NAME:TAG]. Digests of the manifest and config are\n"
	"verified; layer blobs are checked for presence and size.\n"
	"\n"
	"  --json              print one JSON object on stdout\n"
	"  --platform OS/ARCH  pick from a multi-platform image (default: this machine's)\n"
	"  -h, --help          show this help\n";

static void print_strs(const char *label, json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || !json_array_size(a))
		return;
	printf("  %-12s", label);
	json_array_foreach (a, i, v)
		printf("%s%s", i ? " " : "", json_is_string(v) ? json_string_value(v) : "?");
	printf("\n");
}

static void print_human(const ds_image *img)
{
	json_t *cfg = img->config, *c = json_object_get(cfg, "config"), *v;
	const char *k;
	size_t i;
	char sz[32];
	unsigned long long total = 0;

	printf("digest:      %s\n", img->manifest_digest);
	printf("media type:  %s\n", img->manifest_media_type);
	printf("platform:    %s/%s%s%s\n",
	       json_string_value(json_object_get(cfg, "os")) ?: "?",
	       json_string_value(json_object_get(cfg, "architecture")) ?: "?",
	       json_object_get(cfg, "variant") ? "/" : "",
	       json_string_value(json_object_get(cfg, "variant")) ?: "");
	if (json_string_value(json_object_get(cfg, "created")))
		printf("created:     %s\n", json_string_value(json_object_get(cfg, "created")));
	printf("config:      %s\n", img->config_digest);
	for (i = 0; i < img->n_layers; i++)
		total += img->layers[i].size;
	cmd_human_size(total, sz, sizeof(sz));
	printf("layers:      %zu, %s compressed\n", img->n_layers, sz);
	for (i = 0; i < img->n_layers; i++) {
		cmd_human_size(img->layers[i].size, sz, sizeof(sz));
		printf("  %2zu  %s  %9s  %s\n", i + 1, img->layers[i].digest, sz,
		       img->layers[i].created_by ? img->layers[i].created_by : "");
	}
	printf("config:\n");
	print_strs("Entrypoint", json_object_get(c, "Entrypoint"));
	print_strs("Cmd", json_object_get(c, "Cmd"));
	if (json_string_value(json_object_get(c, "WorkingDir")))
		printf("  %-12s%s\n", "WorkingDir", json_string_value(json_object_get(c, "WorkingDir")));
	if (json_string_value(json_object_get(c, "User")))
		printf("  %-12s%s\n", "User", json_string_value(json_object_get(c, "User")));
	json_array_foreach (json_object_get(c, "Env"), i, v)
		printf("  %-12s%s\n", i ? "" : "Env", json_string_value(v) ?: "?");
	i = 0;
	json_object_foreach (json_object_get(c, "ExposedPorts"), k, v)
		printf("  %-12s%s\n", i++ ? "" : "Ports", k);
	i = 0;
	json_object_foreach (json_object_get(c, "Labels"), k, v)
		if (strcmp(k, DS_METADATA_LABEL))
			printf("  %-12s%s=%s\n", i++ ? "" : "Labels", k, json_string_value(v) ?: "");
	{
		/* dsbuild's metadata label: the Debian packages of the image */
		const char *m = json_string_value(
			json_object_get(json_object_get(c, "Labels"), DS_METADATA_LABEL));
		json_t *meta = m ? json_loads(m, 0, NULL) : NULL;
		json_t *deb = json_object_get(meta, "debian");
		json_t *pk = json_object_get(deb, "packages");
		if (json_is_array(pk)) {
			printf("packages:    %zu from Debian %s (%s)%s%s\n", json_array_size(pk),
			       json_string_value(json_object_get(deb, "suite")) ?: "?",
			       json_string_value(json_object_get(deb, "arch")) ?: "?",
			       json_object_get(deb, "python") ? ", Python " : "",
			       json_string_value(json_object_get(deb, "python")) ?: "");
			json_array_foreach (pk, i, v)
				printf("  %-32s %s\n",
				       json_string_value(json_object_get(v, "name")) ?: "?",
				       json_string_value(json_object_get(v, "version")) ?: "?");
		}
		json_decref(meta);
	}
	if (json_object_size(json_object_get(img->manifest_json, "annotations"))) {
		printf("annotations:\n");
		json_object_foreach (json_object_get(img->manifest_json, "annotations"), k, v)
			printf("  %s=%s\n", k, json_string_value(v) ?: "");
	}
}

static void print_json(const ds_image *img)
{
	json_t *j = json_object(), *ls = json_array();
	char *s;

	json_object_set_new(j, "digest", json_string(img->manifest_digest));
	json_object_set_new(j, "mediaType", json_string(img->manifest_media_type));
	json_object_set_new(j, "config_digest", json_string(img->config_digest));
	json_object_set(j, "config", img->config);
	for (size_t i = 0; i < img->n_layers; i++) {
		const ds_layer_desc *l = &img->layers[i];
		json_t *o = json_object();
		json_object_set_new(o, "digest", json_string(l->digest));
		json_object_set_new(o, "size", json_integer((json_int_t)l->size));
		json_object_set_new(o, "diff_id", json_string(l->diff_id));
		json_object_set_new(o, "mediaType", json_string(l->media_type));
		json_object_set_new(o, "created_by",
				    l->created_by ? json_string(l->created_by) : json_null());
		json_array_append_new(ls, o);
	}
	json_object_set_new(j, "layers", ls);
	json_object_set_new(j, "annotations",
			    json_object_get(img->manifest_json, "annotations") ?
				    json_deep_copy(json_object_get(img->manifest_json, "annotations")) :
				    json_object());
	s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
	puts(s);
	free(s);
	json_decref(j);
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "platform", required_argument, NULL, 'p' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	ds_error err = DS_ERROR_INIT;
	const char *platform = NULL;
	ds_image *img = NULL;
	ds_ref ref;
	int json = 0, c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'p':
			platform = optarg;
			break;
		case 'h':
			fputs(cmd_inspect_usage, stdout);
			return EXIT_OK;
		case ':':
			return cmd_usage_error("inspect", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cmd_usage_error("inspect", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error("inspect", optind >= argc ? "name an image to inspect" :
								   "inspect takes one image");
	if (ds_ref_parse(&ref, argv[optind], &err) < 0)
		return cmd_report(&err);
	if (ds_image_open(&img, &ref, platform, &err) < 0) {
		if (err.code == DS_ENOENT || err.code == DS_EFORMAT || err.code == DS_EINVAL)
			err.code = DS_EIMAGE;
		ds_ref_release(&ref);
		return cmd_report(&err);
	}
	ds_ref_release(&ref);
	if (json)
		print_json(img);
	else
		print_human(img);
	rc = EXIT_OK;
	ds_image_free(img);
	return rc;
}
