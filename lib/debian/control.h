/* deb822 control data (Packages, Release, a .deb's control file): a
 * paragraph at a time, parsed in place without copying. */
#ifndef DS_DEBIAN_CONTROL_H
#define DS_DEBIAN_CONTROL_H

#include <stddef.h>
#include <dsbuild/error.h>

#define DEB_PARA_FIELDS_MAX 256
#define DEB_FIELD_NAME_MAX 128

typedef struct deb_field {
	const char *name;   /* NUL-terminated inside the parsed data */
	const char *value;  /* trimmed; continuation lines kept with their "\n " */
} deb_field;

typedef struct deb_control {
	char *p, *end;      /* what is left to parse; *end == '\0' */
	const char *name;   /* for errors: "'bookworm/main/binary-amd64/Packages'" */
	int line;           /* line number of p */
	int para_line;      /* first line of the current paragraph */
	size_t n;
	deb_field fields[DEB_PARA_FIELDS_MAX];
} deb_control;

/* data[len] must exist and be '\0' (a ds_buf's data is); the parser writes
 * NULs into data, so fields stay valid as long as data does.  name is
 * borrowed. */
void deb_control_init(deb_control *c, char *data, size_t len, const char *name);
/* Returns 1 with the next paragraph in c->fields, 0 at the end, -1 with err
 * set ("'NAME' line 3: expected 'Field: value'").  Comment lines ('#' in
 * the first column) are skipped; lines of blanks separate paragraphs. */
int deb_control_next(deb_control *c, ds_error *err);
/* The value of a field of the current paragraph (case-insensitive name),
 * or NULL. */
const char *deb_control_get(const deb_control *c, const char *field);

#endif
