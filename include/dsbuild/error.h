/* Errors: every fallible libdsbuild call takes a `ds_error *` last and
 * returns 0 on success or -1 on failure, with the error filled in.
 * The library never prints and never exits; cmd/ reports errors. */
#ifndef DSBUILD_ERROR_H
#define DSBUILD_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The few codes a caller acts on.  cmd/ maps them to exit codes. */
typedef enum {
	DS_OK = 0,
	DS_EINVAL,       /* bad input: a flag, a file's content, a reference */
	DS_ENOENT,       /* a named file, directory, tag or blob does not exist */
	DS_EFORMAT,      /* corrupt or unsupported data: bad JSON, digest mismatch */
	DS_EIO,          /* the system refused: read/write/permission failure */
	DS_ENOSPC,       /* disk full or file too large */
	DS_EAUTH,        /* authentication refused */
	DS_ENET,         /* network or remote server failure */
	DS_EUNSUPPORTED, /* valid but not supported by this version */
	DS_ECANCELED,    /* interrupted by the user */
	DS_ENOMEM,       /* out of memory or over a resource limit */
	DS_EIMAGE,       /* an input image (base, inspect) is missing or unusable */
} ds_error_code;

#define DS_ERROR_MSG_MAX 2048
#define DS_ERROR_HINT_MAX 1024

typedef struct ds_error {
	int code;                       /* a ds_error_code */
	int sys_errno;                  /* errno behind it, or 0 */
	char msg[DS_ERROR_MSG_MAX];     /* "cannot read 'x': No such file or directory" */
	char hint[DS_ERROR_HINT_MAX];   /* what to do, or "" */
} ds_error;

#define DS_ERROR_INIT { 0, 0, { 0 }, { 0 } }

/* Sets err (which may be NULL) and returns -1, so callers can
 * `return ds_error_set(err, DS_EINVAL, "...")`. */
int ds_error_set(ds_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like ds_error_set() with ": strerror(errnum)" appended and the code
 * derived from errnum (ENOENT -> DS_ENOENT, ENOSPC -> DS_ENOSPC, ...). */
int ds_error_set_errno(ds_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the message with context once, at a boundary:
 * "push 'x': " + previous message.  Returns -1. */
int ds_error_wrap(ds_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets the hint (replacing any).  Returns -1. */
int ds_error_hint(ds_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void ds_error_clear(ds_error *err);

/* Cooperative cancellation: cmd/ calls ds_cancel_request() from a signal
 * handler; long-running library loops check ds_canceled() and fail with
 * DS_ECANCELED, cleaning up as on any other error. */
void ds_cancel_request(void);
int ds_canceled(void);

#ifdef __cplusplus
}
#endif
#endif
