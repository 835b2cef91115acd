/* dsbuild push SRC docker://DST, and the registry helpers the other
 * registry commands share (registry_cmd.h). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <dsbuild/image.h>
#include <dsbuild/registry.h>

#include "cmd.h"
#include "registry_cmd.h"

const char cmd_push_usage[] =
	"usage: dsbuild push [OPTIONS] SRC docker://HOST[:PORT]/REPO[:TAG]\n"
	"\n"
	"Pushes an image to a registry: the layers the registry lacks (a blob it has\n"
	"is not sent again; one in another repository of the same registry is\n"
	"mounted), then the config, then the manifest. SRC is oci:DIR[:TAG],\n"
	"oci-archive:FILE[:TAG], docker-archive:FILE or docker://REF. The pushed\n"
	"digest is printed; --digest-file and --json hand it to CI.\n"
	"\n"
	"  -t, --tag TAG         also tag the pushed manifest TAG; repeatable\n"
	"  --digest-file FILE    write the manifest digest to FILE\n"
	"  --platform OS/ARCH    pick from a multi-platform SRC (default: this machine's)\n"
	"  --json                print the result as JSON on stdout\n"
	"  -q, --quiet           print only errors\n"
	"  -h, --help            show this help\n"
	"\n" CMD_REGISTRY_HELP
	"\n"
	"Examples:\n"
	"  dsbuild push oci:.dsbuild/image:latest docker://ghcr.io/team/app:1.0\n"
	"  dsbuild push --tag latest oci:out docker://127.0.0.1:5000/app:v1\n";

enum { OPT_DIGEST_FILE = 0x400, OPT_PLATFORM, OPT_JSON };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		n <<= 10, end++;
		break;
	case 'm':
	case 'M':
		n <<= 20, end++;
		break;
	case 'g':
	case 'G':
		n <<= 30, end++;
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || n == 0)
		return -1;
	*out = n;
	return 0;
}

int cmd_registry_opt(int c, const char *arg, ds_registry_opts *o, const char *cmd)
{
	char *end;
	long n;

	switch (c) {
	case REG_OPT_CREDS:
		if (!strchr(arg, ':') || arg[0] == ':')
			return cmd_usage_error(cmd, "--creds takes USER:PASSWORD");
		o->creds = arg;
		return 0;
	case REG_OPT_AUTHFILE:
		o->auth_file = arg;
		return 0;
	case REG_OPT_CERT_DIR:
		o->cert_dir = arg;
		return 0;
	case REG_OPT_TLS_VERIFY:
		if (!arg || !strcmp(arg, "true") || !strcmp(arg, "1")) {
			o->tls_verify = 1;
			return 0;
		}
		if (!strcmp(arg, "false") || !strcmp(arg, "0")) {
			o->tls_verify = 0;
			return 0;
		}
		return cmd_usage_error(cmd, "--tls-verify takes true or false, not '%s'", arg);
	case REG_OPT_PLAIN_HTTP:
		o->plain_http = DS_PLAIN_HTTP_ALWAYS;
		return 0;
	case REG_OPT_RETRY:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || *end || n < 0 || n > 100)
			return cmd_usage_error(cmd, "--retry-times takes a number from 0 to 100");
		o->retries = n ? (int)n : -1;
		return 0;
	case REG_OPT_PARALLEL:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || *end || n < 1 || n > 16)
			return cmd_usage_error(cmd, "--parallel takes a number from 1 to 16");
		o->parallel = (int)n;
		return 0;
	case REG_OPT_CHUNK:
		if (parse_size(arg, &o->chunk_size) < 0)
			return cmd_usage_error(cmd, "--chunk-size takes a size such as 16M");
		return 0;
	default:
		return 1;
	}
}

void cmd_progress_init(cmd_progress *p, const char *verb, int quiet, int json)
{
	memset(p, 0, sizeof(*p));
	p->verb = verb;
	p->quiet = quiet;
	p->json = json;
	p->tty = isatty(2);
	if (json)
		p->events = json_array();
}

void cmd_progress_release(cmd_progress *p)
{
	if (p->line_shown)
		fprintf(stderr, "\r\033[K");
	json_decref(p->events);
	p->events = NULL;
}

static const char *outcome_name(ds_blob_outcome o)
{
	switch (o) {
	case DS_BLOB_UPLOADED:
		return "uploaded";
	case DS_BLOB_EXISTS:
		return "exists";
	case DS_BLOB_MOUNTED:
		return "mounted";
	case DS_BLOB_DOWNLOADED:
		return "downloaded";
	case DS_BLOB_CACHED:
		return "cached";
	}
	return "?";
}

static const char *short_digest(const char *d)
{
	static __thread char s[20];
	if (!d)
		return "";
	snprintf(s, sizeof(s), "%.19s", d);
	return s;
}

void cmd_progress_event(void *data, const ds_blob_event *ev)
{
	cmd_progress *p = data;
	char a[32], b[32];

	if (ev->type == DS_BLOB_DONE && p->events && ev->digest) {
		json_t *o = json_object();
		json_object_set_new(o, "digest", json_string(ev->digest));
		json_object_set_new(o, "what", json_string(ev->what ? ev->what : ""));
		json_object_set_new(o, "size", json_integer((json_int_t)ev->size));
		json_object_set_new(o, "outcome", json_string(outcome_name(ev->outcome)));
		if (ev->outcome == DS_BLOB_MOUNTED && ev->text)
			json_object_set_new(o, "from", json_string(ev->text));
		json_array_append_new(p->events, o);
	}
	if (p->quiet || (p->json && ev->type != DS_BLOB_RETRY))
		return; /* retries are warnings: on stderr even with --json */
	switch (ev->type) {
	case DS_BLOB_START:
		break;
	case DS_BLOB_PROGRESS:
		if (!p->tty || !ev->size || now_ms() - p->last_print_ms < 200)
			break;
		p->last_print_ms = now_ms();
		cmd_human_size(ev->done, a, sizeof(a));
		cmd_human_size(ev->size, b, sizeof(b));
		fprintf(stderr, "\r\033[K%s %s %s: %s / %s (%d%%)", p->verb, ev->what,
			short_digest(ev->digest), a, b, (int)(ev->done * 100 / ev->size));
		p->line_shown = 1;
		break;
	case DS_BLOB_RETRY:
		if (p->line_shown)
			fprintf(stderr, "\r\033[K");
		p->line_shown = 0;
		if (ev->what && !strcmp(ev->what, "ping"))
			cmd_warn("%s: cannot reach the registry yet, retrying (attempt %u): %s",
				 p->verb, ev->attempt + 1, ev->text ? ev->text : "");
		else if (!ev->digest)
			cmd_warn("%s: %s: retrying (attempt %u): %s", p->verb,
				 ev->what ? ev->what : "request", ev->attempt + 1,
				 ev->text ? ev->text : "");
		else
			cmd_warn("%s %s %s: retrying (attempt %u): %s", p->verb,
				 ev->what ? ev->what : "", short_digest(ev->digest), ev->attempt + 1,
				 ev->text ? ev->text : "");
		break;
	case DS_BLOB_DONE:
		if (p->line_shown)
			fprintf(stderr, "\r\033[K");
		p->line_shown = 0;
		p->blobs_done++;
		cmd_human_size(ev->size, a, sizeof(a));
		if (ev->what && !strcmp(ev->what, "manifest"))
			fprintf(stderr, "manifest %s: %s\n", ev->text ? ev->text : "", ev->digest);
		else if (ev->outcome == DS_BLOB_MOUNTED)
			fprintf(stderr, "%s %s %s: mounted from %s\n", ev->what, ev->digest, a,
				ev->text ? ev->text : "?");
		else
			fprintf(stderr, "%s %s %s: %s\n", ev->what, ev->digest, a,
				outcome_name(ev->outcome));
		break;
	}
}

int cmd_write_digest_file(const char *path, const char *digest)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%s\n", digest) < 0 || fclose(f) != 0) {
		ds_error err = DS_ERROR_INIT;
		ds_error_set_errno(&err, errno, "cannot write digest file '%s'", path);
		return cmd_report(&err);
	}
	return 0;
}

int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "digest-file", required_argument, NULL, OPT_DIGEST_FILE },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		CMD_REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	ds_registry_opts ro = DS_REGISTRY_OPTS_INIT;
	ds_error err = DS_ERROR_INIT;
	const char *digest_file = NULL, *platform = NULL;
	strv tags = { 0 };
	ds_ref src = { 0 }, dst = { 0 };
	ds_image *img = NULL;
	ds_store *cache = NULL;
	ds_push_result res;
	cmd_progress prog;
	int json = 0, quiet = 0, c, rc = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:qh", opts, NULL)) != -1) {
		int r;
		switch (c) {
		case 't':
			strv_push(&tags, optarg);
			break;
		case OPT_DIGEST_FILE:
			digest_file = optarg;
			break;
		case OPT_PLATFORM:
			platform = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(cmd_push_usage, stdout);
			strv_release(&tags);
			return EXIT_OK;
		case ':':
			strv_release(&tags);
			return cmd_usage_error("push", "option '%s' needs a value", argv[optind - 1]);
		case '?':
			strv_release(&tags);
			return cmd_usage_error("push", "unknown option '%s'", argv[optind - 1]);
		default:
			r = cmd_registry_opt(c, optarg, &ro, "push");
			if (r != 0) {
				strv_release(&tags);
				return r == 1 ? cmd_usage_error("push", "unknown option '%s'",
								       argv[optind - 1]) : r;
			}
		}
	}
	if (argc - optind != 2) {
		strv_release(&tags);
		return cmd_usage_error("push", "push takes a source image and a docker:// destination");
	}
	if (ds_ref_parse(&src, argv[optind], &err) < 0 ||
	    ds_ref_parse(&dst, argv[optind + 1], &err) < 0) {
		rc = cmd_report(&err);
		goto out;
	}
	if (dst.transport != DS_TRANSPORT_DOCKER) {
		rc = cmd_usage_error("push", "the destination must be docker://HOST/REPO[:TAG], not "
					     "'%s' (use 'dsbuild copy' for other transports)",
				     argv[optind + 1]);
		goto out;
	}
	for (size_t i = 0; i < tags.n; i++) {
		ds_registry_ref t = { 0 };
		char probe[300];
		snprintf(probe, sizeof(probe), "x/y:%s", tags.v[i]);
		if (ds_registry_ref_parse(&t, probe, &err) < 0) {
			rc = cmd_report(&err);
			goto out;
		}
		ds_registry_ref_release(&t);
	}
	cmd_progress_init(&prog, "push", quiet, json);
	ro.progress = cmd_progress_event;
	ro.progress_data = &prog;
	ro.extra_tags = tags.v;
	ro.n_extra_tags = tags.n;
	if (src.transport == DS_TRANSPORT_DOCKER) {
		ds_buf path;
		ds_buf_init(&path, 8192);
		if (ds_store_default_path(&path, &err) < 0 ||
		    ds_store_open(&cache, path.data, 1, &err) < 0) {
			ds_buf_release(&path);
			cmd_progress_release(&prog);
			rc = cmd_report(&err);
			goto out;
		}
		ds_buf_release(&path);
		prog.verb = "pull";
		if (ds_registry_pull(&img, &src, platform, cache, &ro, &err) < 0) {
			cmd_progress_release(&prog);
			rc = cmd_report(&err);
			goto out;
		}
		prog.verb = "push";
		ro.mount_from = argv[optind];
	} else if (ds_image_open(&img, &src, platform, &err) < 0) {
		cmd_progress_release(&prog);
		rc = cmd_report(&err);
		goto out;
	}
	if (ds_registry_push(img, &dst, &ro, &res, &err) < 0) {
		cmd_progress_release(&prog);
		rc = cmd_report(&err);
		goto out;
	}
	if (digest_file && (rc = cmd_write_digest_file(digest_file, res.digest)) != 0) {
		cmd_progress_release(&prog);
		goto out;
	}
	if (json) {
		json_t *j = json_object(), *ta = json_array();
		char *s;
		for (size_t i = 0; i < tags.n; i++)
			json_array_append_new(ta, json_string(tags.v[i]));
		json_object_set_new(j, "digest", json_string(res.digest));
		json_object_set_new(j, "destination", json_string(argv[optind + 1]));
		json_object_set_new(j, "tags", ta);
		json_object_set_new(j, "manifest_size", json_integer((json_int_t)res.manifest_size));
		json_object_set_new(j, "bytes_uploaded", json_integer((json_int_t)res.bytes_uploaded));
		json_object_set_new(j, "blobs",
				    json_pack("{s:I,s:I,s:I,s:I}", "total", (json_int_t)res.blobs_total,
					      "uploaded", (json_int_t)res.blobs_uploaded, "existed",
					      (json_int_t)res.blobs_existed, "mounted",
					      (json_int_t)res.blobs_mounted));
		json_object_set(j, "transfers", prog.events);
		s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(j);
	} else if (!quiet) {
		char sz[32];
		cmd_human_size(res.bytes_uploaded, sz, sizeof(sz));
		fprintf(stderr,
			"pushed %s: %s\n%zu blobs: %zu uploaded (%s), %zu already there, %zu mounted\n",
			argv[optind + 1], res.digest, res.blobs_total, res.blobs_uploaded, sz,
			res.blobs_existed, res.blobs_mounted);
	}
	cmd_progress_release(&prog);
out:
	ds_image_free(img);
	ds_store_free(cache);
	ds_ref_release(&src);
	ds_ref_release(&dst);
	strv_release(&tags);
	return rc;
}
