/* Internal helpers shared by every stage: files, JSON, small macros. */
#ifndef DS_UTIL_UTIL_H
#define DS_UTIL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <dsbuild/buf.h>
#include <dsbuild/error.h>

#define DS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void ds_freep(void *p)
{
	free(*(void **)p);
}
static inline void ds_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void ds_buf_releasep(ds_buf *b)
{
	ds_buf_release(b);
}
static inline void ds_json_decrefp(json_t **j)
{
	json_decref(*j);
}
#define _cleanup_free_ __attribute__((cleanup(ds_freep)))
#define _cleanup_close_ __attribute__((cleanup(ds_closep)))
#define _cleanup_buf_ __attribute__((cleanup(ds_buf_releasep)))
#define _cleanup_json_ __attribute__((cleanup(ds_json_decrefp)))

/* Returns *p and sets it to NULL: ownership moves to the caller. */
#define TAKE_PTR(p)                                                                               \
	({                                                                                        \
		__typeof__(p) _t = (p);                                                           \
		(p) = NULL;                                                                       \
		_t;                                                                               \
	})
#define TAKE_FD(fd)                                                                               \
	({                                                                                        \
		int _f = (fd);                                                                    \
		(fd) = -1;                                                                        \
		_f;                                                                               \
	})

/* Aborts on allocation failure: used only for small bookkeeping where an
 * out-of-memory error could not be reported more usefully. */
void *ds_xmalloc(size_t n);
void *ds_xcalloc(size_t n, size_t m);
void *ds_xrealloc(void *p, size_t n);
char *ds_xstrdup(const char *s);
char *ds_xstrndup(const char *s, size_t n);
char *ds_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Files. */
int ds_write_all(int fd, const void *data, size_t len, const char *name, ds_error *err);
int ds_read_file(const char *path, size_t max, ds_buf *out, ds_error *err);
int ds_read_fd(int fd, const char *name, size_t max, ds_buf *out, ds_error *err);
/* Writes path via a temp file in the same directory and rename(). */
int ds_write_file_atomic(const char *path, const void *data, size_t len, ds_error *err);
int ds_mkdir_p(const char *path, mode_t mode, ds_error *err);
/* Removes a tree, not following symlinks.  Best effort; NULL-safe. */
void ds_rm_rf(const char *path);
/* Creates "<dir of path>/.<name of path>.tmp-XXXXXX" and returns it. */
char *ds_mkdtemp_beside(const char *path, ds_error *err);
/* Copies len bytes (or to EOF when len is UINT64_MAX) from in to out. */
int ds_copy_fd(int in, int out, uint64_t len, const char *name, ds_error *err);
/* 1 if path exists (lstat), else 0. */
int ds_path_exists(const char *path);
/* Absolute, lexically normalised form of path (no symlink resolution). */
char *ds_path_absolute(const char *path);
/* 1 if path equals dir or lies under it (both absolute, normalised). */
int ds_path_is_under(const char *path, const char *dir);

/* JSON: compact, keys sorted, so the same value gives the same bytes. */
int ds_json_dump(const json_t *j, ds_buf *out, ds_error *err);
/* Parses exactly len bytes; name is used in errors. */
json_t *ds_json_parse(const char *data, size_t len, const char *name, ds_error *err);

#include "banned.h"

#endif
