#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/debian.h>

#include "debian/tree.h"
#include "util/util.h"

typedef struct tree_entry {
	char *path;
	char *link;          /* symlink target, or hardlink target path */
	ds_entry_type type;
	uint32_t mode, uid, gid;
	int64_t mtime;       /* -1: generated */
	uint64_t size, off;  /* file data in the spool */
	size_t seq;
	const char *pkg;     /* NULL for generated entries */
	size_t root;         /* hardlinks: index of the file holding the data */
} tree_entry;

struct deb_tree {
	int spool;
	uint64_t spool_len;
	tree_entry *e;
	size_t n, alloc;
	size_t next_seq;
	char **pkgs;
	size_t n_pkgs;
	char **warnings;
	size_t n_warnings;
	char toplevel_used[8];
};

static const char *const merged_dirs[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32",
					   "libo32" };

int deb_tree_new(deb_tree **out, const char *spool_dir, ds_error *err)
{
	deb_tree *t;
	_cleanup_free_ char *tmpl = ds_xasprintf("%s/.deb-spool-XXXXXX", spool_dir);
	int fd;

	if (ds_mkdir_p(spool_dir, 0755, err) < 0)
		return -1;
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return ds_error_set_errno(err, errno, "cannot create a temp file in '%s'", spool_dir);
	unlink(tmpl);
	t = ds_xcalloc(1, sizeof(*t));
	t->spool = fd;
	*out = t;
	return 0;
}

deb_tree *deb_tree_free(deb_tree *t)
{
	if (!t)
		return NULL;
	if (t->spool >= 0)
		close(t->spool);
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].path);
		free(t->e[i].link);
	}
	free(t->e);
	for (size_t i = 0; i < t->n_pkgs; i++)
		free(t->pkgs[i]);
	free(t->pkgs);
	for (size_t i = 0; i < t->n_warnings; i++)
		free(t->warnings[i]);
	free(t->warnings);
	free(t);
	return NULL;
}

static void warn(deb_tree *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(deb_tree *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (t->n_warnings >= 100)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	t->warnings = ds_xrealloc(t->warnings, (t->n_warnings + 1) * sizeof(char *));
	t->warnings[t->n_warnings++] = s;
}

size_t deb_tree_warnings(const deb_tree *t, const char *const **out)
{
	*out = (const char *const *)t->warnings;
	return t->n_warnings;
}

/* ---- paths ------------------------------------------------------------- */

char *deb_path_normalize(const char *raw)
{
	ds_buf b;
	const char *p = raw;

	ds_buf_init(&b, DEB_PATH_MAX);
	while (*p) {
		const char *s;
		size_t n;
		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			ds_buf_release(&b);
			return NULL;
		}
		if ((b.len && ds_buf_addch(&b, '/') < 0) || ds_buf_add(&b, s, n) < 0) {
			ds_buf_release(&b);
			return NULL;
		}
	}
	return ds_buf_detach(&b, NULL);
}

static int merged_index(const char *path)
{
	for (size_t i = 0; i < DS_ARRAY_SIZE(merged_dirs); i++) {
		size_t l = strlen(merged_dirs[i]);
		if (strncmp(path, merged_dirs[i], l) == 0 && (path[l] == '/' || path[l] == '\0'))
			return (int)i;
	}
	return -1;
}

char *deb_path_usrmerge(const char *path)
{
	if (merged_index(path) >= 0)
		return ds_xasprintf("usr/%s", path);
	return ds_xstrdup(path);
}

/* Splits a relative path into components (in place). */
static size_t split(char *s, char **v, size_t max)
{
	size_t n = 0;
	char *p = s;

	while (*p && n < max) {
		while (*p == '/')
			*p++ = '\0';
		if (!*p)
			break;
		v[n++] = p;
		while (*p && *p != '/')
			p++;
	}
	return n;
}

#define COMPONENTS_MAX 256

char *deb_symlink_retarget(const char *old_path, const char *new_path, const char *target)
{
	_cleanup_free_ char *dir = NULL, *tcopy = NULL, *abs = NULL, *mapped = NULL,
			    *ndir = NULL;
	char *comp[COMPONENTS_MAX], *tc[COMPONENTS_MAX], *mc[COMPONENTS_MAX],
		*dc[COMPONENTS_MAX];
	size_t n, nt, nm, nd, common;
	ds_buf b;
	char *slash;

	if (target[0] == '/')
		return ds_xstrdup(target);
	dir = ds_xstrdup(old_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		dir[0] = '\0';
	n = split(dir, comp, COMPONENTS_MAX);
	tcopy = ds_xstrdup(target);
	nt = split(tcopy, tc, COMPONENTS_MAX);
	for (size_t i = 0; i < nt; i++) {
		if (strcmp(tc[i], ".") == 0)
			continue;
		if (strcmp(tc[i], "..") == 0) {
			if (n)
				n--;
			continue;
		}
		if (n < COMPONENTS_MAX)
			comp[n++] = tc[i];
	}
	ds_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			ds_buf_addch(&b, '/');
		ds_buf_adds(&b, comp[i]);
	}
	abs = ds_buf_detach(&b, NULL);
	mapped = deb_path_usrmerge(abs);
	nm = split(mapped, mc, COMPONENTS_MAX);
	ndir = ds_xstrdup(new_path);
	slash = strrchr(ndir, '/');
	if (slash)
		*slash = '\0';
	else
		ndir[0] = '\0';
	nd = split(ndir, dc, COMPONENTS_MAX);
	for (common = 0; common < nm && common < nd && strcmp(mc[common], dc[common]) == 0;
	     common++)
		;
	ds_buf_init(&b, 0);
	for (size_t i = common; i < nd; i++)
		ds_buf_adds(&b, i > common ? "/.." : "..");
	for (size_t i = common; i < nm; i++) {
		if (b.len)
			ds_buf_addch(&b, '/');
		ds_buf_adds(&b, mc[i]);
	}
	if (!b.len)
		ds_buf_adds(&b, ".");
	return ds_buf_detach(&b, NULL);
}

/* Paths a runtime image does without (as mmdebstrap's path-exclude in the
 * reference, plus lintian's and doc-base's data); copyright files stay. */
static int excluded(const char *p)
{
	static const char *const prefixes[] = {
		"usr/share/man/", "usr/share/info/", "usr/share/locale/", "usr/share/lintian/",
		"usr/share/doc-base/",
	};
	for (size_t i = 0; i < DS_ARRAY_SIZE(prefixes); i++)
		if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	if (strncmp(p, "usr/share/doc/", 14) == 0) {
		const char *rest = p + 14, *slash = strchr(rest, '/');
		if (!slash)
			return 0;
		return strcmp(slash + 1, "copyright") != 0;
	}
	return 0;
}

/* ---- collecting ---------------------------------------------------------- */

static tree_entry *push(deb_tree *t, ds_error *err)
{
	tree_entry *e;

	if (t->n >= DS_DEBIAN_ENTRIES_MAX) {
		ds_error_set(err, DS_ENOMEM, "more than %d files in one layer", DS_DEBIAN_ENTRIES_MAX);
		return NULL;
	}
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 1024;
		t->e = ds_xrealloc(t->e, t->alloc * sizeof(*t->e));
	}
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	e->seq = t->next_seq++;
	e->mtime = -1;
	t->n++;
	return e;
}

static int spool_write(deb_tree *t, const void *data, size_t len, ds_error *err)
{
	if (t->spool_len + len > DS_DEBIAN_LAYER_MAX)
		return ds_error_set(err, DS_ENOSPC, "layer larger than %llu bytes",
				    (unsigned long long)DS_DEBIAN_LAYER_MAX);
	if (ds_write_all(t->spool, data, len, "spool file", err) < 0)
		return -1;
	t->spool_len += len;
	return 0;
}

int deb_tree_add_file(deb_tree *t, const char *path, uint32_t mode, uint32_t uid, uint32_t gid,
		      const void *data, size_t len, ds_error *err)
{
	tree_entry *e;
	uint64_t off = t->spool_len;

	if (spool_write(t, data, len, err) < 0)
		return -1;
	if (!(e = push(t, err)))
		return -1;
	e->path = ds_xstrdup(path);
	e->type = DS_ENTRY_FILE;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	e->size = len;
	e->off = off;
	return 0;
}

int deb_tree_add_dir(deb_tree *t, const char *path, uint32_t mode, uint32_t uid, uint32_t gid,
		     ds_error *err)
{
	tree_entry *e = push(t, err);

	if (!e)
		return -1;
	e->path = ds_xstrdup(path);
	e->type = DS_ENTRY_DIR;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	return 0;
}

int deb_tree_add_symlink(deb_tree *t, const char *path, const char *target, ds_error *err)
{
	tree_entry *e = push(t, err);

	if (!e)
		return -1;
	e->path = ds_xstrdup(path);
	e->link = ds_xstrdup(target);
	e->type = DS_ENTRY_SYMLINK;
	e->mode = 0777;
	return 0;
}

int deb_tree_has(const deb_tree *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].path, path) == 0)
			return 1;
	return 0;
}

static int spool_read(const deb_tree *t, uint64_t off, void *buf, size_t len, ds_error *err)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(t->spool, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ds_error_set_errno(err, errno, "cannot read the spool file");
		}
		if (n == 0)
			return ds_error_set(err, DS_EIO, "spool file truncated");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int deb_tree_read(const deb_tree *t, const char *path, size_t max, ds_buf *out, ds_error *err)
{
	for (size_t i = 0; i < t->n; i++) {
		const tree_entry *e = &t->e[i];
		char *buf;
		if (strcmp(e->path, path) != 0 || e->type != DS_ENTRY_FILE)
			continue;
		if (e->size > max)
			return ds_error_set(err, DS_ENOMEM, "'%s' is larger than %zu bytes", path, max);
		buf = ds_xmalloc((size_t)e->size + 1);
		if (spool_read(t, e->off, buf, (size_t)e->size, err) < 0) {
			free(buf);
			return -1;
		}
		ds_buf_reset(out);
		if (ds_buf_add(out, buf, (size_t)e->size) < 0) {
			free(buf);
			return ds_error_set(err, DS_ENOMEM, "'%s' is too large", path);
		}
		free(buf);
		return 0;
	}
	return ds_error_set(err, DS_ENOENT, "'%s' is not in the layer", path);
}

void deb_tree_each(const deb_tree *t, const char *prefix, void (*fn)(void *data, const char *path),
		   void *data)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].type == DS_ENTRY_FILE &&
		    strncmp(t->e[i].path, prefix, strlen(prefix)) == 0)
			fn(data, t->e[i].path);
}

void deb_tree_drop(deb_tree *t, const char *prefix)
{
	size_t w = 0, n = strlen(prefix);

	for (size_t i = 0; i < t->n; i++) {
		if (strncmp(t->e[i].path, prefix, n) == 0) {
			free(t->e[i].path);
			free(t->e[i].link);
			continue;
		}
		t->e[w++] = t->e[i];
	}
	t->n = w;
}

int deb_tree_used_toplevel(const deb_tree *t, const char *dir)
{
	for (size_t i = 0; i < DS_ARRAY_SIZE(merged_dirs); i++)
		if (strcmp(merged_dirs[i], dir) == 0)
			return t->toplevel_used[i];
	return 0;
}

/* ---- reading a .deb ------------------------------------------------------ */

typedef struct {
	struct archive *outer;
	char buf[65536];
} inner_src;

static la_ssize_t inner_read(struct archive *a, void *data, const void **buf)
{
	inner_src *s = data;
	la_ssize_t n = archive_read_data(s->outer, s->buf, sizeof(s->buf));

	*buf = s->buf;
	if (n < 0)
		archive_set_error(a, EIO, "%s", archive_error_string(s->outer));
	return n;
}

static const char *entry_path(struct archive_entry *ae)
{
	const char *p = archive_entry_pathname_utf8(ae);
	return p ? p : archive_entry_pathname(ae);
}

static int read_small(struct archive *a, ds_buf *out, const char *what, const char *pkg,
		      ds_error *err)
{
	char buf[16384];
	la_ssize_t n;

	ds_buf_reset(out);
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (ds_buf_add(out, buf, (size_t)n) < 0)
			return ds_error_set(err, DS_EFORMAT, "'%s': %s is larger than %zu bytes", pkg,
					    what, DEB_CONTROL_MAX);
	}
	if (n < 0)
		return ds_error_set(err, DS_EFORMAT, "'%s': cannot read %s: %s", pkg, what,
				    archive_error_string(a));
	return 0;
}

static int read_control_tar(struct archive *in, const char *pkg, ds_buf *control, ds_buf *md5sums,
			    int *have_control, ds_error *err)
{
	struct archive_entry *ae;
	int r, count = 0;

	while ((r = archive_read_next_header(in, &ae)) == ARCHIVE_OK) {
		const char *p = entry_path(ae);
		_cleanup_free_ char *norm = p ? deb_path_normalize(p) : NULL;
		if (++count > 1000)
			return ds_error_set(err, DS_EFORMAT, "'%s': too many entries in control.tar",
					    pkg);
		if (!norm)
			continue;
		if (strcmp(norm, "control") == 0) {
			if (read_small(in, control, "control", pkg, err) < 0)
				return -1;
			*have_control = 1;
		} else if (strcmp(norm, "md5sums") == 0) {
			if (read_small(in, md5sums, "md5sums", pkg, err) < 0)
				return -1;
		}
	}
	if (r != ARCHIVE_EOF)
		return ds_error_set(err, DS_EFORMAT, "'%s': corrupt control.tar: %s", pkg,
				    archive_error_string(in));
	return 0;
}

static const char *intern(deb_tree *t, const char *pkg)
{
	if (t->n_pkgs && strcmp(t->pkgs[t->n_pkgs - 1], pkg) == 0)
		return t->pkgs[t->n_pkgs - 1];
	t->pkgs = ds_xrealloc(t->pkgs, (t->n_pkgs + 1) * sizeof(char *));
	t->pkgs[t->n_pkgs] = ds_xstrdup(pkg);
	return t->pkgs[t->n_pkgs++];
}

static int read_data_tar(deb_tree *t, struct archive *in, const char *pkg, ds_error *err)
{
	struct archive_entry *ae;
	const char *ipkg = intern(t, pkg);
	char buf[65536];
	int r;

	while ((r = archive_read_next_header(in, &ae)) == ARCHIVE_OK) {
		const char *raw = entry_path(ae), *hl;
		_cleanup_free_ char *norm = NULL, *path = NULL, *link = NULL;
		mode_t ft = archive_entry_filetype(ae);
		uint32_t perm = archive_entry_perm(ae) & 07777;
		int mi;
		tree_entry *e;

		if (ds_canceled())
			return ds_error_set(err, DS_ECANCELED, "interrupted");
		if (!raw)
			return ds_error_set(err, DS_EFORMAT, "'%s': data.tar entry without a name", pkg);
		norm = deb_path_normalize(raw);
		if (!norm)
			return ds_error_set(err, DS_EFORMAT, "'%s': unsafe path '%.300s' in data.tar",
					    pkg, raw);
		if (!*norm)
			continue; /* "./" itself */
		mi = merged_index(norm);
		if (mi >= 0)
			t->toplevel_used[mi] = 1;
		path = deb_path_usrmerge(norm);
		hl = archive_entry_hardlink_utf8(ae);
		if (!hl)
			hl = archive_entry_hardlink(ae);
		if (excluded(path))
			continue;
		if (hl) {
			_cleanup_free_ char *hn = deb_path_normalize(hl);
			if (!hn || !*hn)
				return ds_error_set(err, DS_EFORMAT,
						    "'%s': unsafe hardlink target '%.300s'", pkg, hl);
			link = deb_path_usrmerge(hn);
			if (excluded(link)) {
				warn(t, "'%s': leaving out '%s', a hardlink to '%s' which is left out",
				     pkg, path, link);
				continue;
			}
			if (!(e = push(t, err)))
				return -1;
			e->type = DS_ENTRY_HARDLINK;
			e->mode = perm & 0777;
			e->link = TAKE_PTR(link);
		} else if (ft == AE_IFREG) {
			la_int64_t size = archive_entry_size(ae);
			uint64_t off = t->spool_len, got = 0;
			la_ssize_t n;
			if (size < 0)
				return ds_error_set(err, DS_EFORMAT, "'%s': '%s' has a negative size",
						    pkg, path);
			while ((n = archive_read_data(in, buf, sizeof(buf))) > 0) {
				if (spool_write(t, buf, (size_t)n, err) < 0)
					return -1;
				got += (uint64_t)n;
			}
			if (n < 0)
				return ds_error_set(err, DS_EFORMAT, "'%s': corrupt data.tar at '%s': %s",
						    pkg, path, archive_error_string(in));
			if (got != (uint64_t)size)
				return ds_error_set(err, DS_EFORMAT, "'%s': '%s' is truncated", pkg,
						    path);
			if (!(e = push(t, err)))
				return -1;
			e->type = DS_ENTRY_FILE;
			e->mode = perm & 0777; /* no setuid, setgid or sticky bits */
			e->size = got;
			e->off = off;
		} else if (ft == AE_IFDIR) {
			if (!(e = push(t, err)))
				return -1;
			e->type = DS_ENTRY_DIR;
			e->mode = perm & 01777; /* sticky kept (tmp dirs), setgid/setuid not */
		} else if (ft == AE_IFLNK) {
			const char *target = archive_entry_symlink_utf8(ae);
			if (!target)
				target = archive_entry_symlink(ae);
			if (!target || !*target || strlen(target) >= DEB_PATH_MAX)
				return ds_error_set(err, DS_EFORMAT, "'%s': bad symlink '%s'", pkg, path);
			if (!(e = push(t, err)))
				return -1;
			e->type = DS_ENTRY_SYMLINK;
			e->mode = 0777;
			e->link = strcmp(norm, path) != 0 ? deb_symlink_retarget(norm, path, target)
							  : ds_xstrdup(target);
		} else {
			warn(t, "'%s': leaving out '%s': not a file, directory or link", pkg, path);
			continue;
		}
		e->path = TAKE_PTR(path);
		e->pkg = ipkg;
		e->mtime = archive_entry_mtime(ae) > 0 ? (int64_t)archive_entry_mtime(ae) : 0;
	}
	if (r != ARCHIVE_EOF)
		return ds_error_set(err, DS_EFORMAT, "'%s': corrupt data.tar: %s", pkg,
				    archive_error_string(in));
	return 0;
}

static int read_member(deb_tree *t, struct archive *outer, int is_data, const char *pkg,
		       ds_buf *control, ds_buf *md5sums, int *have_control, ds_error *err)
{
	struct archive *in = archive_read_new();
	inner_src *src = ds_xmalloc(sizeof(*src));
	int rc;

	src->outer = outer;
	archive_read_support_filter_gzip(in);
	archive_read_support_filter_xz(in);
	archive_read_support_filter_zstd(in);
	archive_read_support_filter_bzip2(in);
	archive_read_support_filter_lzma(in);
	archive_read_support_format_tar(in);
	if (archive_read_open(in, src, NULL, inner_read, NULL) != ARCHIVE_OK) {
		rc = ds_error_set(err, DS_EFORMAT, "'%s': cannot read %s: %s", pkg,
				  is_data ? "data.tar" : "control.tar", archive_error_string(in));
	} else if (is_data) {
		rc = read_data_tar(t, in, pkg, err);
	} else {
		rc = read_control_tar(in, pkg, control, md5sums, have_control, err);
	}
	archive_read_free(in);
	free(src);
	return rc;
}

int deb_tree_add_deb(deb_tree *t, const char *path, const char *pkg, ds_buf *control,
		     ds_buf *md5sums, ds_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int r, rc = -1, have_control = 0, have_data = 0, members = 0;
	ds_buf ver;

	ds_buf_init(&ver, 64);
	ds_buf_reset(control);
	ds_buf_reset(md5sums);
	archive_read_support_format_ar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		if (access(path, R_OK) < 0)
			ds_error_set_errno(err, errno, "'%s': cannot read '%s'", pkg, path);
		else
			ds_error_set(err, DS_EFORMAT, "'%s': not a Debian package (%s)", pkg,
				     archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);
		members++;
		if (!name || members > 16) {
			ds_error_set(err, DS_EFORMAT, "'%s': not a Debian package", pkg);
			goto out;
		}
		if (members == 1) {
			if (strcmp(name, "debian-binary") != 0 ||
			    read_small(a, &ver, "debian-binary", pkg, err) < 0 ||
			    strncmp(ds_buf_cstr(&ver), "2.", 2) != 0) {
				ds_error_set(err, DS_EFORMAT,
					     "'%s': not a Debian package (format 2.x expected)", pkg);
				goto out;
			}
		} else if (strncmp(name, "control.tar", 11) == 0 && !have_control) {
			if (read_member(t, a, 0, pkg, control, md5sums, &have_control, err) < 0)
				goto out;
			if (!have_control) {
				ds_error_set(err, DS_EFORMAT, "'%s': control.tar has no control file",
					     pkg);
				goto out;
			}
		} else if (strncmp(name, "data.tar", 8) == 0 && !have_data) {
			if (!have_control) {
				ds_error_set(err, DS_EFORMAT, "'%s': data.tar before control.tar", pkg);
				goto out;
			}
			if (read_member(t, a, 1, pkg, NULL, NULL, NULL, err) < 0)
				goto out;
			have_data = 1;
		} else if (name[0] != '_') {
			ds_error_set(err, DS_EFORMAT, "'%s': unexpected member '%.100s'", pkg, name);
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		ds_error_set(err, DS_EFORMAT, "'%s': %s: %s", pkg,
			     members ? "corrupt package" : "not a Debian package",
			     archive_error_string(a));
		goto out;
	}
	if (!have_control || !have_data) {
		ds_error_set(err, DS_EFORMAT, "'%s': not a Debian package (no %s)", pkg,
			     have_control ? "data.tar" : "control.tar");
		goto out;
	}
	rc = 0;
out:
	ds_buf_release(&ver);
	archive_read_free(a);
	return rc;
}

/* ---- writing ----------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	const tree_entry *x = a, *y = b;
	int r = strcmp(x->path, y->path);
	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int same_content(deb_tree *t, const tree_entry *a, const tree_entry *b)
{
	char x[16384], y[16384];
	uint64_t left = a->size, off = 0;

	if (a->type != b->type)
		return 0;
	if (a->type == DS_ENTRY_DIR)
		return 1;
	if (a->type == DS_ENTRY_SYMLINK || a->type == DS_ENTRY_HARDLINK)
		return strcmp(a->link, b->link) == 0;
	if (a->size != b->size || a->mode != b->mode)
		return 0;
	while (left) {
		size_t n = left < sizeof(x) ? (size_t)left : sizeof(x);
		if (spool_read(t, a->off + off, x, n, NULL) < 0 ||
		    spool_read(t, b->off + off, y, n, NULL) < 0 || memcmp(x, y, n) != 0)
			return 0;
		left -= n;
		off += n;
	}
	return 1;
}

static void sort_dedupe(deb_tree *t)
{
	size_t w = 0;

	qsort(t->e, t->n, sizeof(*t->e), cmp_entry);
	for (size_t i = 0; i < t->n; i++) {
		if (w && strcmp(t->e[w - 1].path, t->e[i].path) == 0) {
			tree_entry *keep = &t->e[w - 1], *drop = &t->e[i];
			if (!same_content(t, keep, drop) && keep->type != DS_ENTRY_DIR)
				warn(t, "'%s' is in both '%s' and '%s': keeping the first", drop->path,
				     keep->pkg ? keep->pkg : "dsbuild", drop->pkg ? drop->pkg : "dsbuild");
			else if (!same_content(t, keep, drop))
				warn(t, "'%s' is a directory in '%s' but not in '%s': keeping the "
					"directory",
				     drop->path, keep->pkg ? keep->pkg : "dsbuild",
				     drop->pkg ? drop->pkg : "dsbuild");
			free(drop->path);
			free(drop->link);
			continue;
		}
		t->e[w++] = t->e[i];
	}
	t->n = w;
}

static tree_entry *find(deb_tree *t, const char *path)
{
	tree_entry key;

	key.path = (char *)path;
	key.seq = 0;
	/* entries are unique after sort_dedupe(): compare by path only */
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(t->e[mid].path, key.path);
		if (r == 0)
			return &t->e[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const char *type_name(ds_entry_type ty)
{
	return ty == DS_ENTRY_SYMLINK ? "a symlink" : ty == DS_ENTRY_DIR ? "a directory" : "a file";
}

/* Adds the directories entries are in but that no package ships, and
 * refuses entries below a symlink or a file. */
static int complete_parents(deb_tree *t, ds_error *err)
{
	size_t n = t->n;
	int added = 0;

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = ds_xstrdup(t->e[i].path);
		char *slash;
		while ((slash = strrchr(p, '/'))) {
			tree_entry *par;
			*slash = '\0';
			par = find(t, p);
			if (par) {
				if (par->type != DS_ENTRY_DIR)
					return ds_error_set(err, DS_EFORMAT,
							    "'%s' (from '%s') is inside '%s', which is %s "
							    "(from '%s')",
							    t->e[i].path, t->e[i].pkg ? t->e[i].pkg : "dsbuild",
							    p, type_name(par->type),
							    par->pkg ? par->pkg : "dsbuild");
				break;
			}
			if (deb_tree_add_dir(t, p, 0755, 0, 0, err) < 0)
				return -1;
			added = 1;
		}
		if (added) {
			/* keep find() working: re-sort before the next lookups */
			sort_dedupe(t);
			n = t->n;
			i = (size_t)-1;
			added = 0;
		}
	}
	return 0;
}

static int resolve_hardlinks(deb_tree *t, ds_error *err)
{
	for (size_t i = 0; i < t->n; i++) {
		tree_entry *e = &t->e[i];
		tree_entry *target;
		int depth = 0;
		e->root = i;
		if (e->type != DS_ENTRY_HARDLINK)
			continue;
		target = find(t, e->link);
		while (target && target->type == DS_ENTRY_HARDLINK && depth++ < 16)
			target = find(t, target->link);
		if (!target || target->type != DS_ENTRY_FILE)
			return ds_error_set(err, DS_EFORMAT, "'%s': hardlink '%s' to missing file '%s'",
					    e->pkg ? e->pkg : "dsbuild", e->path, e->link);
		e->root = (size_t)(target - t->e);
	}
	return 0;
}

int deb_tree_write(deb_tree *t, ds_store *store, const ds_layer_opts *lopts, int64_t mtime,
		   int64_t synth_mtime, ds_layer_info *info, ds_error *err)
{
	ds_layer_writer *w = NULL;
	const char **written = NULL;
	char buf[65536];
	int rc = -1;

	sort_dedupe(t);
	if (complete_parents(t, err) < 0 || resolve_hardlinks(t, err) < 0)
		return -1;
	written = ds_xcalloc(t->n ? t->n : 1, sizeof(char *));
	if (ds_layer_writer_new(&w, store, lopts, err) < 0)
		goto out;
	for (size_t i = 0; i < t->n; i++) {
		tree_entry *e = &t->e[i], *root = &t->e[e->root];
		ds_layer_entry le = { 0 };

		le.path = e->path;
		le.type = e->type;
		le.mode = e->mode;
		le.uid = e->uid;
		le.gid = e->gid;
		le.link = e->link;
		le.mtime = mtime >= 0 ? mtime : e->mtime >= 0 ? e->mtime : synth_mtime;
		if (e->type == DS_ENTRY_FILE || e->type == DS_ENTRY_HARDLINK) {
			/* the first path of a hardlink group in sorted order holds the data */
			if (written[e->root]) {
				le.type = DS_ENTRY_HARDLINK;
				le.link = written[e->root];
				le.size = 0;
			} else {
				uint64_t left = root->size, off = root->off;
				le.type = DS_ENTRY_FILE;
				le.size = root->size;
				le.link = NULL;
				if (e != root)
					le.mode = root->mode;
				written[e->root] = e->path;
				if (ds_layer_writer_add(w, &le, err) < 0)
					goto out;
				while (left) {
					size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
					if (spool_read(t, off, buf, n, err) < 0 ||
					    ds_layer_writer_data(w, buf, n, err) < 0)
						goto out;
					left -= n;
					off += n;
				}
				continue;
			}
		}
		if (ds_layer_writer_add(w, &le, err) < 0)
			goto out;
	}
	rc = ds_layer_writer_finish(w, info, err);
	w = NULL;
out:
	ds_layer_writer_free(w);
	free(written);
	return rc;
}
