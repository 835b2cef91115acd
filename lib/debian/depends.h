/* Package relationship fields (Depends, Pre-Depends, Provides, Conflicts,
 * Breaks) and the request syntax of apt.txt. */
#ifndef DS_DEBIAN_DEPENDS_H
#define DS_DEBIAN_DEPENDS_H

#include <stddef.h>
#include <dsbuild/buf.h>
#include <dsbuild/error.h>

#define DEB_NAME_MAX 128
#define DEB_VERSION_MAX 256
#define DEB_DEPS_MAX 1024      /* groups in one field */
#define DEB_ALTS_MAX 64        /* alternatives in one group */

typedef enum {
	DEB_OP_NONE = 0,
	DEB_OP_LT, /* << */
	DEB_OP_LE, /* <= (and the obsolete <) */
	DEB_OP_EQ, /* = */
	DEB_OP_GE, /* >= (and the obsolete >) */
	DEB_OP_GT, /* >> */
} deb_op;

typedef struct deb_dep {
	char *name;
	deb_op op;
	char *version;  /* NULL when op is DEB_OP_NONE */
} deb_dep;

typedef struct deb_dep_group {
	deb_dep *alts;  /* a | b | c */
	size_t n;
} deb_dep_group;

typedef struct deb_deps {
	deb_dep_group *v;
	size_t n;
} deb_deps;

/* Parses a relationship field.  Architecture restrictions ("[amd64]",
 * "[!i386]") are evaluated for arch and alternatives that do not apply are
 * dropped (a group left empty is dropped); ":any"/":native" qualifiers and
 * build profiles are ignored.  Names and versions are validated. */
int deb_deps_parse(deb_deps *out, const char *s, const char *arch, ds_error *err);
void deb_deps_release(deb_deps *d);

/* 1 if a package name is valid: [a-z0-9][a-z0-9+.-]+ (dpkg's rule, which
 * also makes it a safe file name). */
int deb_name_valid(const char *name);

/* 1 when version `have` satisfies (op, want). */
int deb_op_satisfied(deb_op op, const char *have, const char *want);
const char *deb_op_str(deb_op op);

/* Appends "name (>= 1.0)" to b. */
void deb_dep_format(ds_buf *b, const deb_dep *d);
void deb_group_format(ds_buf *b, const deb_dep_group *g);

/* A request as written in apt.txt or --apt: "name", "name=version",
 * "name (>= 1.0)". */
int deb_request_parse(deb_dep *out, const char *s, ds_error *err);
void deb_dep_release(deb_dep *d);

#endif
