#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "util.h"

void *ds_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *ds_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		abort();
	return p;
}

void *ds_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *ds_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

char *ds_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		abort();
	return p;
}

char *ds_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	va_end(ap);
	return p;
}

int ds_write_all(int fd, const void *data, size_t len, const char *name, ds_error *err)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ds_error_set_errno(err, errno, "cannot write '%s'", name);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ds_read_fd(int fd, const char *name, size_t max, ds_buf *out, ds_error *err)
{
	char tmp[65536];

	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ds_error_set_errno(err, errno, "cannot read '%s'", name);
		}
		if (n == 0)
			return 0;
		if (out->len + (size_t)n > max || ds_buf_add(out, tmp, (size_t)n) < 0)
			return ds_error_set(err, DS_EFORMAT, "'%s' is larger than the limit of %zu bytes",
					    name, max);
	}
}

int ds_read_file(const char *path, size_t max, ds_buf *out, ds_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ds_error_set_errno(err, errno, "cannot open '%s'", path);
	return ds_read_fd(fd, path, max, out, err);
}

int ds_write_file_atomic(const char *path, const void *data, size_t len, ds_error *err)
{
	_cleanup_free_ char *tmp = ds_xasprintf("%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp);

	if (fd < 0)
		return ds_error_set_errno(err, errno, "cannot create '%s'", tmp);
	if (ds_write_all(fd, data, len, path, err) < 0 || fchmod(fd, 0644) < 0) {
		if (!err || !err->msg[0])
			ds_error_set_errno(err, errno, "cannot write '%s'", path);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return ds_error_set_errno(err, e, "cannot write '%s'", path);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return ds_error_set_errno(err, e, "cannot rename '%s' into place", path);
	}
	return 0;
}

int ds_mkdir_p(const char *path, mode_t mode, ds_error *err)
{
	_cleanup_free_ char *p = ds_xstrdup(path);
	size_t n = strlen(p);

	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return ds_error_set_errno(err, errno, "cannot create directory '%s'", p);
		p[i] = c;
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return ds_error_set_errno(err, errno, "cannot create directory '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return ds_error_set(err, DS_EINVAL, "'%s' exists and is not a directory", path);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void ds_rm_rf(const char *path)
{
	if (!path)
		return;
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

char *ds_mkdtemp_beside(const char *path, ds_error *err)
{
	_cleanup_free_ char *copy = ds_xstrdup(path);
	char *slash;
	char *tmpl;

	while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
		copy[strlen(copy) - 1] = '\0';
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		tmpl = ds_xasprintf("%s/.%s.tmp-XXXXXX", slash == copy ? "" : copy, slash + 1);
	} else {
		tmpl = ds_xasprintf(".%s.tmp-XXXXXX", copy);
	}
	if (!mkdtemp(tmpl)) {
		ds_error_set_errno(err, errno, "cannot create a temporary directory beside '%s'", path);
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

int ds_copy_fd(int in, int out, uint64_t len, const char *name, ds_error *err)
{
	char buf[131072];

	while (len) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = read(in, buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ds_error_set_errno(err, errno, "cannot read '%s'", name);
		}
		if (n == 0) {
			if (len == UINT64_MAX)
				return 0;
			return ds_error_set(err, DS_EFORMAT, "'%s' is shorter than expected", name);
		}
		if (ds_write_all(out, buf, (size_t)n, name, err) < 0)
			return -1;
		if (len != UINT64_MAX)
			len -= (uint64_t)n;
		if (ds_canceled())
			return ds_error_set(err, DS_ECANCELED, "interrupted");
	}
	return 0;
}

int ds_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

char *ds_path_absolute(const char *path)
{
	ds_buf b;
	char cwd[PATH_MAX];
	const char *p;

	ds_buf_init(&b, 0);
	if (path[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		ds_buf_adds(&b, cwd);
	}
	p = path;
	while (*p) {
		const char *e;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *s = strrchr(b.data, '/');
			if (s && b.alloc)
				b.len = (size_t)(s - b.data), b.data[b.len] = '\0';
		} else {
			ds_buf_addch(&b, '/');
			ds_buf_add(&b, p, n);
		}
		p += n;
	}
	if (b.len == 0)
		ds_buf_addch(&b, '/');
	return ds_buf_detach(&b, NULL);
}

int ds_path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int ds_json_dump(const json_t *j, ds_buf *out, ds_error *err)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (!s)
		return ds_error_set(err, DS_ENOMEM, "cannot serialise JSON");
	if (ds_buf_adds(out, s) < 0) {
		free(s);
		return ds_error_set(err, DS_ENOMEM, "JSON document too large");
	}
	free(s);
	return 0;
}

json_t *ds_json_parse(const char *data, size_t len, const char *name, ds_error *err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);

	if (!j) {
		ds_error_set(err, DS_EFORMAT, "'%s' is not valid JSON: line %d column %d: %s", name,
			     je.line, je.column, je.text);
		return NULL;
	}
	return j;
}
