/* What push, copy, login/logout (and build --push / --base docker://) share:
 * the registry options, their help text, and the per-blob progress printer.
 * Defined in cmd/push.c. */
#ifndef DS_CMD_REGISTRY_CMD_H
#define DS_CMD_REGISTRY_CMD_H

#include <getopt.h>

#include <jansson.h>

#include <dsbuild/registry.h>

int cmd_push(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);

extern const char cmd_push_usage[];
extern const char cmd_copy_usage[];
extern const char cmd_login_usage[];
extern const char cmd_logout_usage[];

enum {
	REG_OPT_CREDS = 0x300,
	REG_OPT_AUTHFILE,
	REG_OPT_CERT_DIR,
	REG_OPT_TLS_VERIFY,
	REG_OPT_PLAIN_HTTP,
	REG_OPT_RETRY,
	REG_OPT_PARALLEL,
	REG_OPT_CHUNK,
};

/* Long options every registry command takes (put them in the option table). */
#define CMD_REGISTRY_LONGOPTS                                                                     \
	{ "creds", required_argument, NULL, REG_OPT_CREDS },                                      \
		{ "authfile", required_argument, NULL, REG_OPT_AUTHFILE },                        \
		{ "cert-dir", required_argument, NULL, REG_OPT_CERT_DIR },                        \
		{ "tls-verify", optional_argument, NULL, REG_OPT_TLS_VERIFY },                    \
		{ "plain-http", no_argument, NULL, REG_OPT_PLAIN_HTTP },                          \
		{ "retry-times", required_argument, NULL, REG_OPT_RETRY },                        \
		{ "parallel", required_argument, NULL, REG_OPT_PARALLEL },                        \
		{ "chunk-size", required_argument, NULL, REG_OPT_CHUNK }

#define CMD_REGISTRY_HELP                                                                         \
	"Registry\n"                                                                              \
	"  --creds USER:PASS     credentials (default: auth files and credential helpers:\n"      \
	"                        $REGISTRY_AUTH_FILE, containers/auth.json,\n"                    \
	"                        $DOCKER_CONFIG/config.json or ~/.docker/config.json)\n"          \
	"  --authfile FILE       read credentials from FILE only\n"                               \
	"  --cert-dir DIR        CA certificates (*.crt) and client cert (*.cert, *.key)\n"       \
	"                        (default: certs.d/HOST:PORT under ~/.config/containers,\n"       \
	"                        /etc/containers, /etc/docker)\n"                                 \
	"  --tls-verify=false    do not verify the registry's certificate (and allow\n"           \
	"                        plain HTTP, without credentials)\n"                              \
	"  --plain-http          talk plain HTTP (localhost and 127.0.0.1 fall back to it\n"      \
	"                        by themselves)\n"                                                \
	"  --retry-times N       retries of a failed request (default 5)\n"                       \
	"  --parallel N          blobs transferred at once (default 3)\n"                         \
	"  --chunk-size SIZE     upload in chunks of SIZE bytes (k/M/G suffixes; default:\n"      \
	"                        one streamed request per blob)\n"

/* Handles one of the options above: 0 done, 1 not a registry option, or an
 * exit code >= 2 after printing a usage error. */
int cmd_registry_opt(int c, const char *arg, ds_registry_opts *o, const char *cmd);

/* Progress: one line per blob in logs; a live status line on a terminal. */
typedef struct cmd_progress {
	int quiet, json, tty;
	const char *verb;        /* "push", "pull" */
	size_t blobs_done;
	uint64_t last_print_ms;
	int line_shown;
	json_t *events;          /* for --json: one object per finished blob, or NULL */
} cmd_progress;

void cmd_progress_init(cmd_progress *p, const char *verb, int quiet, int json);
void cmd_progress_release(cmd_progress *p);
void cmd_progress_event(void *data, const ds_blob_event *ev);

/* Writes "DIGEST\n" to path (for CI); 0 or an exit code after an error. */
int cmd_write_digest_file(const char *path, const char *digest);

#endif
