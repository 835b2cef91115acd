#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/buf.h>

static char empty[1];

void ds_buf_init(ds_buf *b, size_t max)
{
	b->data = empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max ? max : DS_BUF_DEFAULT_MAX;
}

void ds_buf_release(ds_buf *b)
{
	if (b->alloc)
		free(b->data);
	b->data = empty;
	b->len = 0;
	b->alloc = 0;
}

void ds_buf_reset(ds_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->data[0] = '\0';
}

char *ds_buf_detach(ds_buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	if (!b->alloc) {
		p = calloc(1, 1);
	} else {
		p = b->data;
	}
	b->data = empty;
	b->len = 0;
	b->alloc = 0;
	return p;
}

static int grow(ds_buf *b, size_t extra)
{
	size_t want, n;
	char *p;

	if (!b->max)
		b->max = DS_BUF_DEFAULT_MAX;
	if (extra > b->max || b->len > b->max - extra)
		return -1;
	/* A max near SIZE_MAX must not let the size or its doubling wrap. */
	if (extra > SIZE_MAX / 2 - 1 - b->len)
		return -1;
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < want)
		n = n * 2;
	p = b->alloc ? realloc(b->data, n) : malloc(n);
	if (!p)
		return -1;
	if (!b->alloc)
		p[0] = '\0';
	b->data = p;
	b->alloc = n;
	return 0;
}

int ds_buf_add(ds_buf *b, const void *data, size_t len)
{
	if (grow(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int ds_buf_adds(ds_buf *b, const char *s)
{
	return ds_buf_add(b, s, strlen(s));
}

int ds_buf_addch(ds_buf *b, char c)
{
	return ds_buf_add(b, &c, 1);
}

int ds_buf_addf(ds_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *ds_buf_cstr(const ds_buf *b)
{
	return b->data ? b->data : "";
}
