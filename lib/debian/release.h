/* InRelease: the clearsigned Release file of a suite, and what it lists. */
#ifndef DS_DEBIAN_RELEASE_H
#define DS_DEBIAN_RELEASE_H

#include <stddef.h>
#include <stdint.h>
#include <dsbuild/buf.h>
#include <dsbuild/error.h>

#define DEB_RELEASE_FILES_MAX 20000

typedef struct deb_release_file {
	char *path;          /* "main/binary-amd64/Packages.xz" */
	char sha256[65];     /* hex */
	uint64_t size;
} deb_release_file;

typedef struct deb_release {
	char *origin, *suite, *codename, *date, *valid_until, *architectures, *components;
	int acquire_by_hash;
	deb_release_file *files;
	size_t n_files;
} deb_release;

/* The signed text of a clearsigned message ("-----BEGIN PGP SIGNED
 * MESSAGE-----"), dash-escaping undone, into out.  Does NOT check the
 * signature (gpgv does); used only when verification is skipped. */
int deb_clearsign_body(ds_buf *out, const char *data, size_t len, const char *name,
		       ds_error *err);

/* Parses Release text (data[len] == '\0'; parsed in place). */
int deb_release_parse(deb_release *out, char *data, size_t len, const char *name, ds_error *err);
void deb_release_release(deb_release *r);
const deb_release_file *deb_release_find(const deb_release *r, const char *path);

/* Parses an RFC 2822 date as Release files write it ("Sat, 10 Feb 2024
 * 09:51:59 UTC").  Returns 0 and the time, or -1. */
int deb_release_date(int64_t *out, const char *s);

#endif
