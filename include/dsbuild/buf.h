/* ds_buf: one growable, bounded, always NUL-terminated byte buffer. */
#ifndef DSBUILD_BUF_H
#define DSBUILD_BUF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ds_buf {
	char *data;   /* never NULL after init; always NUL-terminated */
	size_t len;
	size_t alloc;
	size_t max;   /* adding past max fails; 0 means DS_BUF_DEFAULT_MAX */
} ds_buf;

#define DS_BUF_DEFAULT_MAX ((size_t)64 << 20)
#define DS_BUF_INIT { NULL, 0, 0, 0 }

void ds_buf_init(ds_buf *b, size_t max);
/* Frees the contents; the buffer can be reused after ds_buf_init(). */
void ds_buf_release(ds_buf *b);
/* Returns the malloc'd contents (NUL-terminated) and resets b. */
char *ds_buf_detach(ds_buf *b, size_t *len);
void ds_buf_reset(ds_buf *b);

/* These return 0, or -1 when the buffer would pass its max or memory runs
 * out; the buffer is unchanged on failure. */
int ds_buf_add(ds_buf *b, const void *data, size_t len);
int ds_buf_adds(ds_buf *b, const char *s);
int ds_buf_addch(ds_buf *b, char c);
int ds_buf_addf(ds_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The buffer's contents ("" for an unused buffer). */
const char *ds_buf_cstr(const ds_buf *b);

#ifdef __cplusplus
}
#endif
#endif
