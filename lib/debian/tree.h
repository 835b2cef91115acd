/* A layer being assembled from .debs and generated files: entries are
 * collected (file data spooled to an unlinked temp file), then sorted,
 * de-duplicated, completed with missing parent directories and written
 * through the layer writer in one pass. */
#ifndef DS_DEBIAN_TREE_H
#define DS_DEBIAN_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <dsbuild/buf.h>
#include <dsbuild/error.h>
#include <dsbuild/layer.h>
#include <dsbuild/store.h>

#define DEB_CONTROL_MAX ((size_t)1 << 20)   /* control, md5sums of one .deb */
#define DEB_PATH_MAX 4096

typedef struct deb_tree deb_tree;

/* spool_dir: where the temp file goes (it is unlinked at once). */
int deb_tree_new(deb_tree **out, const char *spool_dir, ds_error *err);
deb_tree *deb_tree_free(deb_tree *t);

/* Reads the .deb at path and adds its data.tar: paths normalised (no
 * "..", no absolute), merged /usr (bin, sbin, lib* -> usr/...), owners
 * 0:0, setuid/setgid dropped, docs/man/info/locales left out (copyright
 * kept).  *control gets the control file, *md5sums the md5sums file ("" if
 * none).  pkg names the package in errors. */
int deb_tree_add_deb(deb_tree *t, const char *path, const char *pkg, ds_buf *control,
		     ds_buf *md5sums, ds_error *err);

/* Generated entries (mtime: see deb_tree_write). */
int deb_tree_add_file(deb_tree *t, const char *path, uint32_t mode, uint32_t uid, uint32_t gid,
		      const void *data, size_t len, ds_error *err);
int deb_tree_add_dir(deb_tree *t, const char *path, uint32_t mode, uint32_t uid, uint32_t gid,
		     ds_error *err);
int deb_tree_add_symlink(deb_tree *t, const char *path, const char *target, ds_error *err);

/* 1 when an entry with this path was added (before de-duplication). */
int deb_tree_has(const deb_tree *t, const char *path);
/* Reads back a file added earlier (first one with that path) into out. */
int deb_tree_read(const deb_tree *t, const char *path, size_t max, ds_buf *out, ds_error *err);

/* Calls fn for every added FILE path starting with prefix. */
void deb_tree_each(const deb_tree *t, const char *prefix, void (*fn)(void *data, const char *path),
		   void *data);

/* Removes every entry whose path starts with prefix. */
void deb_tree_drop(deb_tree *t, const char *prefix);

/* 1 when a .deb added had entries under this top-level directory before
 * merged-/usr rewriting ("lib64"). */
int deb_tree_used_toplevel(const deb_tree *t, const char *dir);

/* Warnings collected (files two packages ship, hardlinks into left-out
 * paths); borrowed, valid until deb_tree_free(). */
size_t deb_tree_warnings(const deb_tree *t, const char *const **out);

/* mtime < 0: .deb entries keep their own mtime and generated entries get
 * synth_mtime; mtime >= 0: every entry gets it.  Writes the layer into
 * store and fills info. */
int deb_tree_write(deb_tree *t, ds_store *store, const ds_layer_opts *lopts, int64_t mtime,
		   int64_t synth_mtime, ds_layer_info *info, ds_error *err);

/* Lexical helpers, exposed for tests. */
/* "./usr//bin/." -> "usr/bin"; NULL for "..", NUL or too long; "" = root. */
char *deb_path_normalize(const char *raw);
/* "bin/sh" -> "usr/bin/sh" (and sbin, lib, lib32, lib64, libx32, libo32);
 * other paths unchanged.  Returns a new string. */
char *deb_path_usrmerge(const char *path);
/* The target a relative symlink needs after moving from old_path to
 * new_path so it still points where it pointed (merged /usr applied to
 * the destination).  Absolute targets are returned unchanged. */
char *deb_symlink_retarget(const char *old_path, const char *new_path, const char *target);

#endif
