/* The package index: every paragraph of the Packages files read, by name,
 * and what each package provides; and the dependency closure over it. */
#ifndef DS_DEBIAN_INDEX_H
#define DS_DEBIAN_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <dsbuild/error.h>

#include "debian/depends.h"

#define DEB_INDEX_PACKAGES_MAX 2000000

typedef struct deb_pkg {
	/* borrowed from the Packages text the index owns */
	const char *name, *version, *arch, *source, *priority, *multi_arch;
	const char *depends, *pre_depends, *provides, *conflicts, *breaks;
	const char *filename, *sha256; /* sha256: 64 hex */
	uint64_t size;
	int essential;
	int origin;                    /* caller's number for the index it came from */
} deb_pkg;

typedef struct deb_index deb_index;

/* arch: the Debian architecture the index is for ("all" packages are kept
 * too; other architectures are skipped).  where: the suite name used in
 * errors ("bookworm"). */
int deb_index_new(deb_index **out, const char *arch, const char *where, ds_error *err);
deb_index *deb_index_free(deb_index *ix);

/* Adds every paragraph of a Packages file.  Takes ownership of data (a
 * malloc'd buffer with data[len] == '\0', e.g. from ds_buf_detach()), also
 * on failure.  name is used in errors.  Paragraphs missing Package,
 * Version, Filename, Size or SHA256, or with an invalid name or version,
 * fail the call. */
int deb_index_add(deb_index *ix, char *data, size_t len, int origin, const char *name,
		  ds_error *err);

size_t deb_index_count(const deb_index *ix);
const deb_pkg *deb_index_pkg(const deb_index *ix, size_t i);
/* The candidate of a name: its highest version (the first index added wins
 * a tie).  Returns an index or (size_t)-1. */
size_t deb_index_candidate(const deb_index *ix, const char *name);

/* Every version of a name, in the order added; NULL/0 when unknown. */
const size_t *deb_index_lookup(const deb_index *ix, const char *name, size_t *n);

typedef struct deb_provide {
	size_t pkg;            /* the providing package */
	const char *version;   /* "= VERSION" of a versioned Provides, or NULL */
} deb_provide;

/* Packages providing a virtual name (built on first use after adds). */
int deb_index_providers(const deb_provide **out, size_t *n, deb_index *ix, const char *name,
			ds_error *err);

/* Names whose appearance in a dependency group makes the group count as
 * met: packages only maintainer scripts use (dpkg, debconf), which are
 * never run.  names is borrowed (NULL-terminated) and must outlive ix;
 * requests naming them are still honoured. */
void deb_index_set_script_only(deb_index *ix, const char *const *names);
int deb_index_script_only(const deb_index *ix, const char *name);

/* The suite name given to deb_index_new(). */
const char *deb_index_where(const deb_index *ix);
const char *deb_index_arch(const deb_index *ix);

/* The dependency closure.  req: the requests (name + optional version);
 * installed: packages already present (their dependencies are assumed met)
 * which satisfy dependencies first.  *out gets the new packages, sorted by
 * name; *n_out their number.  Errors name the package and the dependency
 * that cannot be met, and the chain of packages that needed it. */
int deb_resolve(size_t **out, size_t *n_out, deb_index *ix, const deb_dep *req, size_t n_req,
		const size_t *installed, size_t n_installed, ds_error *err);

#endif
