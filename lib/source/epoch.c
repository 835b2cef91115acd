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

/* `git -C dir log -1 --format=%ct -- .`; 0 on success. */
static int git_commit_time(const char *dir, int64_t *out)
{
	char *argv[] = { "git", "-C", (char *)dir, "log", "-1", "--format=%ct", "--", ".", NULL };
	posix_spawn_file_actions_t fa;
	char buf[64];
	size_t len = 0;
	int pipefd[2], status;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
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
		ssize_t n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	buf[len] = '\0';
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return parse_epoch(buf, out);
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
