/* The built-in buildpacks, compiled in by buildpacks/embed.py. */
#ifndef DS_BUILDPACK_EMBED_H
#define DS_BUILDPACK_EMBED_H

#include <stddef.h>

typedef struct ds_embedded_file {
	const char *path;          /* relative to buildpacks/: "predict/server.py" */
	const unsigned char *data; /* NUL-terminated */
	size_t len;
	unsigned mode;             /* 0644 or 0755 */
} ds_embedded_file;

extern const ds_embedded_file ds_embedded_buildpacks[];
extern const size_t ds_embedded_buildpacks_n;

#endif
