#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <dsbuild/error.h>

static volatile sig_atomic_t canceled;

void ds_cancel_request(void)
{
	canceled = 1;
}

int ds_canceled(void)
{
	return canceled != 0;
}

static int code_from_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return DS_ENOENT;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return DS_ENOSPC;
	case ENOMEM:
		return DS_ENOMEM;
	case EINTR:
		return DS_ECANCELED;
	default:
		return DS_EIO;
	}
}

int ds_error_set(ds_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	err->sys_errno = 0;
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int ds_error_set_errno(ds_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	err->code = code_from_errno(errnum);
	err->sys_errno = errnum;
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
	if (errnum == ENOSPC || errnum == EDQUOT || errnum == EFBIG)
		snprintf(err->hint, sizeof(err->hint),
			 "free some disk space, or point DSBUILD_CACHE and -o at a larger disk");
	return -1;
}

int ds_error_wrap(ds_error *err, const char *fmt, ...)
{
	char prefix[DS_ERROR_MSG_MAX];
	char old[DS_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* the tail of a long message goes first: the context matters more */
	snprintf(err->msg, sizeof(err->msg), "%.1000s: %.1040s", prefix, old);
	return -1;
}

int ds_error_hint(ds_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
	return -1;
}

void ds_error_clear(ds_error *err)
{
	if (!err)
		return;
	err->code = DS_OK;
	err->sys_errno = 0;
	err->msg[0] = '\0';
	err->hint[0] = '\0';
}
