#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>

#include <dsbuild/source.h>

#include "util/util.h"

extern char **environ;

static int parse_epoch(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

/* Runs `git -C dir ARGS...` and puts the first line of its output in buf;
 * 0 on success (exit status 0). */
static int git_run(const char *dir, const char *const *args, char *buf, size_t sz)
{
	char *argv[16];
	posix_spawn_file_actions_t fa;
	size_t len = 0, na = 0;
	int pipefd[2], status;
	pid_t pid;

	argv[na++] = "git";
	argv[na++] = "-C";
	argv[na++] = (char *)dir;
	for (; *args && na < DS_ARRAY_SIZE(argv) - 1; args++)
		argv[na++] = (char *)*args;
	argv[na] = NULL;
	if (sz < 2 || pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (posix_spawnp(&pid, "git", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	for (;;) {
		char drain[512];
		ssize_t n = len < sz - 1 ? read(pipefd[0], buf + len, sz - 1 - len) :
					   read(pipefd[0], drain, sizeof(drain));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < sz - 1)
			len += (size_t)n;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* `git -C dir log -1 --format=%ct -- .`; 0 on success. */
static int git_commit_time(const char *dir, int64_t *out)
{
	static const char *const args[] = { "log", "-1", "--format=%ct", "--", ".", NULL };
	char buf[64];

	if (git_run(dir, args, buf, sizeof(buf)) < 0)
		return -1;
	return parse_epoch(buf, out);
}

void ds_source_git_info(const char *dir, char **revision, char **remote)
{
	static const char *const rev[] = { "rev-parse", "--verify", "-q", "HEAD", NULL };
	static const char *const url[] = { "config", "--get", "remote.origin.url", NULL };
	char buf[4096];

	*revision = *remote = NULL;
	if (git_run(dir, rev, buf, sizeof(buf)) == 0 && strlen(buf) >= 40)
		*revision = ds_xstrdup(buf);
	/* Only a URL says where the source is; a local path (a clone of a
	 * folder) would make the digest depend on the machine. */
	if (git_run(dir, url, buf, sizeof(buf)) == 0 && *buf &&
	    (strstr(buf, "://") || (strchr(buf, '@') && strchr(buf, ':') && buf[0] != '/'))) {
		/* user:password@ never goes into an image */
		char *at = strchr(buf, '@'), *scheme = strstr(buf, "://");
		if (scheme && at && at > scheme)
			*remote = ds_xasprintf("%.*s%s", (int)(scheme + 3 - buf), buf, at + 1);
		else
			*remote = ds_xstrdup(buf);
	}
}

int ds_source_epoch(const char *dir, int64_t *epoch, ds_epoch_origin *origin, ds_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	int64_t v;

	if (s && *s) {
		if (parse_epoch(s, &v) < 0 || v > 253402300799LL) {
			ds_error_set(err, DS_EINVAL, "SOURCE_DATE_EPOCH='%s' is not a number of "
						     "seconds since 1970",
				     s);
			return ds_error_hint(err, "set it to an integer such as $(git log -1 "
						  "--format=%%ct), or unset it");
		}
		*epoch = v;
		*origin = DS_EPOCH_ENV;
		return 0;
	}
	if (git_commit_time(dir, &v) == 0) {
		*epoch = v;
		*origin = DS_EPOCH_GIT;
		return 0;
	}
	*epoch = 0;
	*origin = DS_EPOCH_FIXED;
	return 0;
}
