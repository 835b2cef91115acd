/* Debian base images: a Python runtime (and the packages of apt.txt)
 * assembled directly from the Debian archive, the way distroless does it:
 * no apt, no maintainer scripts, no root, any architecture from any host.
 *
 *   InRelease (gpgv) -> Packages (sha256 from InRelease) -> dependency
 *   closure -> .deb downloads (sha256 from Packages, parallel, cached)
 *   -> data.tar entries normalised (merged /usr, owners, modes) -> layers
 *
 * See docs/debian-base.md for what is done in place of maintainer scripts,
 * how layers are grouped and how mtimes are chosen. */
#ifndef DSBUILD_DEBIAN_H
#define DSBUILD_DEBIAN_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <dsbuild/error.h>
#include <dsbuild/layer.h>
#include <dsbuild/store.h>
#include <dsbuild/image.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DS_DEBIAN_DEFAULT_SUITE "bookworm"
#define DS_DEBIAN_DEFAULT_MIRROR "http://deb.debian.org/debian"
#define DS_DEBIAN_DEFAULT_SECURITY_MIRROR "http://deb.debian.org/debian-security"
#define DS_DEBIAN_DEFAULT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
/* Environment variables read when the matching option is NULL. */
#define DS_DEBIAN_MIRROR_ENV "DSBUILD_DEBIAN_MIRROR"
#define DS_DEBIAN_SECURITY_MIRROR_ENV "DSBUILD_DEBIAN_SECURITY_MIRROR"

/* Limits on what is read from the archive. */
#define DS_DEBIAN_INRELEASE_MAX ((size_t)4 << 20)
#define DS_DEBIAN_PACKAGES_MAX ((size_t)512 << 20)  /* one uncompressed Packages file */
#define DS_DEBIAN_DEB_MAX ((uint64_t)2 << 30)         /* one .deb */
#define DS_DEBIAN_LAYER_MAX ((uint64_t)16 << 30)      /* unpacked bytes in one layer */
#define DS_DEBIAN_ENTRIES_MAX 500000                 /* entries in one layer */
#define DS_DEBIAN_PACKAGES_REQ_MAX 2000              /* packages in one build */

/* ---- versions and architectures ---------------------------------------- */

/* dpkg's version comparison (epoch, upstream, revision; '~' sorts before
 * everything, even the end).  Returns <0, 0 or >0 like strcmp. */
int ds_debian_version_compare(const char *a, const char *b);
/* 1 when v is a version dpkg accepts (epoch digits, upstream starting with
 * a digit, allowed characters only), else 0. */
int ds_debian_version_valid(const char *v);

/* Maps an OCI platform to a Debian architecture:
 * linux/amd64 -> amd64, linux/arm64[/v8] -> arm64, linux/arm/v7 -> armhf,
 * linux/arm/v5 -> armel, linux/386 -> i386, linux/ppc64le -> ppc64el,
 * linux/s390x -> s390x, linux/mips64le -> mips64el, linux/riscv64 -> riscv64.
 * NULL platform = the host's.  *out is a static string. */
int ds_debian_arch_from_platform(const char **out, const char *platform, ds_error *err);
/* The reverse: "arm64" -> "linux/arm64", "armhf" -> "linux/arm/v7"; NULL
 * for an unknown architecture.  Static string. */
const char *ds_debian_arch_to_platform(const char *arch);

/* ---- building a base ----------------------------------------------------- */

typedef enum {
	DS_DEBIAN_EV_INDEX = 1,   /* text = "bookworm main amd64": an index is being read */
	DS_DEBIAN_EV_RESOLVED,    /* text = summary; total = packages in the closure */
	DS_DEBIAN_EV_DOWNLOAD,    /* done/total bytes over all .debs still to fetch */
	DS_DEBIAN_EV_LAYER_START, /* text = created_by of the layer being written */
	DS_DEBIAN_EV_LAYER_DONE,  /* text = created_by; layer = the finished layer */
	DS_DEBIAN_EV_WARNING,     /* text = a warning worth showing, e.g. a file two
				     packages ship (first one kept) */
} ds_debian_event_type;

typedef struct ds_debian_event {
	ds_debian_event_type type;
	const char *text;
	uint64_t done, total;
	const ds_layer_desc *layer;
	int cached;               /* LAYER_DONE / INDEX: nothing rebuilt or downloaded */
} ds_debian_event;

typedef void (*ds_debian_event_fn)(void *data, const ds_debian_event *ev);

typedef struct ds_debian_opts {
	const char *suite;           /* "bookworm" (NULL) | "trixie" | another codename */
	const char *arch;            /* Debian architecture; NULL = from platform */
	const char *platform;        /* OCI platform used when arch is NULL; NULL = host */
	const char *mirror;          /* NULL = $DSBUILD_DEBIAN_MIRROR, else the default;
					suites SUITE and SUITE-updates are read from it */
	const char *security_mirror; /* NULL = $DSBUILD_DEBIAN_SECURITY_MIRROR, else the
					default; "" or "none" = no security suite */
	const char *components;      /* space-separated; NULL = "main" */
	/* The base request: NULL = ds_debian_default_packages().  Its closure is
	 * the base layer, which does not change when extra_packages do. */
	const char *const *base_packages;
	size_t n_base_packages;
	/* apt.txt / --apt: their closure minus what the base has, own layer.
	 * Entries may carry a version: "jq", "jq=1.6-2.1", "libfoo (>= 2)". */
	const char *const *extra_packages;
	size_t n_extra_packages;
	int ca_certificates;         /* 1: add Mozilla's CA bundle (from the
					ca-certificates .deb, without its scripts) */
	const char *keyring;         /* NULL = DS_DEBIAN_DEFAULT_KEYRING */
	int allow_unverified;        /* 1: skip gpgv (hashes are still checked) */
	const char *cache_dir;       /* downloads (by sha256) and layer cache; required */
	int parallel;                /* concurrent downloads; 0 = 8 */
	int64_t mtime;               /* -1: keep each file's mtime from its .deb (see
					docs); >= 0: every entry gets this mtime */
	ds_debian_event_fn on_event;
	void *event_data;
} ds_debian_opts;

#define DS_DEBIAN_OPTS_INIT { .ca_certificates = 1, .mtime = -1 }

/* One package of the image, as recorded in the metadata label. */
typedef struct ds_debian_package {
	char *name;
	char *version;
	char *arch;
	char *sha256;     /* "sha256:<hex>" of the .deb */
	char *source;     /* source package name (and version when it differs) */
	uint64_t size;    /* .deb size */
	size_t layer;     /* index into ds_debian_base.layers */
} ds_debian_package;

typedef struct ds_debian_base {
	char *suite;              /* "bookworm" */
	char *arch;               /* "arm64" */
	char *platform;           /* "linux/arm64" */
	/* Layers in order, blobs in the store given to ds_debian_base_build();
	 * media_type DS_MEDIA_LAYER_GZIP; created_by set; annotations NULL. */
	size_t n_layers;
	ds_layer_desc *layers;
	/* What the base contributes to the image config, "K=V" strings: PATH,
	 * LANG=C.UTF-8 (and SSL_CERT_FILE with ca_certificates). */
	size_t n_env;
	char **env;
	size_t n_packages;        /* sorted by name */
	ds_debian_package *packages;
	/* [{"name","version","arch","sha256","source","layer"}...] sorted by
	 * name, plus the indexes used: for the metadata label. */
	json_t *manifest;
	char *python_version;     /* "3.11", or NULL when python3 is not in it */
	char *python;             /* "/usr/bin/python3.11", or NULL */
	uint32_t app_uid, app_gid;/* 1000:1000, user "app", HOME /home/app */
} ds_debian_base;

/* The default base request: python3 and the files a runtime needs
 * (base-files for os-release, netbase, tzdata).  NULL-terminated, static. */
const char *const *ds_debian_default_packages(void);

/* Builds the base: resolves, downloads, verifies and writes the layers
 * into store.  lopts may be NULL (defaults).  Errors name the package and
 * the dependency ("cannot install 'foo': it depends on 'libbar (>= 2)', but
 * bookworm has 1.9"), the URL, or the file.  Codes: DS_EINVAL (bad
 * request), DS_ENOENT (unknown package or suite), DS_EFORMAT (bad
 * signature, digest mismatch, corrupt .deb), DS_ENET (mirror unreachable),
 * DS_EUNSUPPORTED (unknown architecture). */
int ds_debian_base_build(ds_debian_base **out, const ds_debian_opts *opts, ds_store *store,
			 const ds_layer_opts *lopts, ds_error *err);
/* NULL-safe; returns NULL. */
ds_debian_base *ds_debian_base_free(ds_debian_base *b);

/* Parses the contents of an apt.txt: one package per line, '#' comments,
 * blank lines ignored, "name", "name=version" or "name (op version)".
 * *out is a NULL-terminated malloc'd array of malloc'd strings (free with
 * ds_debian_strv_free()); name is used in errors ("'apt.txt' line 3: ..."). */
int ds_debian_apt_txt_parse(char ***out, size_t *n_out, const char *data, size_t len,
			    const char *name, ds_error *err);
void ds_debian_strv_free(char **v);

#ifdef __cplusplus
}
#endif
#endif
