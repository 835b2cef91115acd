/* Deterministic gzip stream: the same input, level and block size give the
 * same bytes whatever the number of threads, the machine or the day.
 * No file name, mtime 0, OS byte 255 (unknown). */
#ifndef DS_OCI_GZIP_H
#define DS_OCI_GZIP_H

#include <stddef.h>
#include <dsbuild/error.h>

/* Receives compressed bytes, in order.  Returns 0, or -1 with err set. */
typedef int (*ds_gzip_sink)(void *data, const void *buf, size_t len, ds_error *err);

typedef struct ds_gzip ds_gzip;

int ds_gzip_new(ds_gzip **out, int level, int threads, ds_gzip_sink sink, void *sink_data,
		ds_error *err);
int ds_gzip_write(ds_gzip *z, const void *data, size_t len, ds_error *err);
/* Flushes everything and writes the trailer.  The stream is done after. */
int ds_gzip_finish(ds_gzip *z, ds_error *err);
/* NULL-safe; stops any threads. Returns NULL. */
ds_gzip *ds_gzip_free(ds_gzip *z);

#endif
