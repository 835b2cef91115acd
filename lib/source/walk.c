#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include <dsbuild/source.h>

#include "source/ignore.h"
#include "util/util.h"

#define IGNORE_FILE_MAX ((size_t)1 << 20)

typedef struct walk {
	ds_source *src;
	ds_ignore *ig;
	const char *extra_ignore, *extra_name;
	const ds_source_opts *opts;
	int rootfd;
	size_t files_alloc, skipped_alloc;
	/* hard link bookkeeping, parallel to src->files */
	dev_t *dev;
	ino_t *ino;
	ds_error *err;
} walk;

static const struct {
	const char *pattern;
	int dir;
	const char *why;
} secrets[] = {
	{ ".env", 0, "an environment file with secrets" },
	{ ".env.*", 0, "an environment file with secrets" },
	{ "*.pem", 0, "a key or certificate" },
	{ "*.key", 0, "a private key" },
	{ "*.p12", 0, "a key store" },
	{ "*.pfx", 0, "a key store" },
	{ "id_rsa*", 0, "an SSH key" },
	{ "id_dsa*", 0, "an SSH key" },
	{ "id_ecdsa*", 0, "an SSH key" },
	{ "id_ed25519*", 0, "an SSH key" },
	{ ".netrc", 0, "login credentials" },
	{ "_netrc", 0, "login credentials" },
	{ ".pypirc", 0, "package index credentials" },
	{ ".git-credentials", 0, "git credentials" },
	{ ".htpasswd", 0, "password hashes" },
	{ ".aws", 1, "cloud credentials" },
	{ ".azure", 1, "cloud credentials" },
	{ ".ssh", 1, "SSH keys" },
	{ ".gnupg", 1, "GnuPG keys" },
	{ ".kube", 1, "cluster credentials" },
	{ "gcloud", 1, "cloud credentials" },
};

/* Template files hold placeholders, not secrets. */
static int is_env_template(const char *name)
{
	static const char *const ok[] = { ".env.example", ".env.sample", ".env.template",
					  ".env.dist", ".env.defaults" };
	for (size_t i = 0; i < DS_ARRAY_SIZE(ok); i++)
		if (!strcmp(name, ok[i]))
			return 1;
	return 0;
}

static const char *secret_reason(const char *rel, const char *name, int is_dir)
{
	if (!is_dir && !strcmp(name, "config.json")) {
		size_t n = strlen(rel);
		if (n >= 19 && !strcmp(rel + n - 19, ".docker/config.json") &&
		    (n == 19 || rel[n - 20] == '/'))
			return "registry credentials";
	}
	if (is_env_template(name))
		return NULL;
	for (size_t i = 0; i < DS_ARRAY_SIZE(secrets); i++)
		if (secrets[i].dir == is_dir && fnmatch(secrets[i].pattern, name, 0) == 0)
			return secrets[i].why;
	return NULL;
}

static int add_skip(walk *w, const char *rel, ds_skip_reason reason, const char *why)
{
	ds_source *s = w->src;

	if (s->n_skipped == w->skipped_alloc) {
		w->skipped_alloc = w->skipped_alloc ? 2 * w->skipped_alloc : 16;
		s->skipped = ds_xrealloc(s->skipped, w->skipped_alloc * sizeof(*s->skipped));
	}
	s->skipped[s->n_skipped].path = ds_xstrdup(rel);
	s->skipped[s->n_skipped].reason = reason;
	s->skipped[s->n_skipped].why = why;
	s->n_skipped++;
	return 0;
}

static ds_source_file *add_file(walk *w, const char *rel, ds_entry_type type, uint32_t mode,
				uint64_t size, const struct stat *st)
{
	ds_source *s = w->src;
	ds_source_file *f;

	if (s->n_files >= DS_SOURCE_MAX_FILES) {
		ds_error_set(w->err, DS_ENOMEM, "the tree has more than %d entries",
			     DS_SOURCE_MAX_FILES);
		ds_error_hint(w->err, "leave generated or data folders out with .dsbuildignore");
		return NULL;
	}
	if (s->n_files == w->files_alloc) {
		w->files_alloc = w->files_alloc ? 2 * w->files_alloc : 256;
		s->files = ds_xrealloc(s->files, w->files_alloc * sizeof(*s->files));
		w->dev = ds_xrealloc(w->dev, w->files_alloc * sizeof(*w->dev));
		w->ino = ds_xrealloc(w->ino, w->files_alloc * sizeof(*w->ino));
	}
	f = &s->files[s->n_files];
	memset(f, 0, sizeof(*f));
	f->path = ds_xstrdup(rel);
	f->type = type;
	f->mode = mode;
	f->size = size;
	w->dev[s->n_files] = (type == DS_ENTRY_FILE && st->st_nlink > 1) ? st->st_dev : 0;
	w->ino[s->n_files] = (type == DS_ENTRY_FILE && st->st_nlink > 1) ? st->st_ino : 0;
	s->n_files++;
	if (type == DS_ENTRY_FILE)
		s->total_bytes += size;
	return f;
}

/* Lexically resolves a symlink target against the link's folder; returns
 * the in-tree path, or NULL if it leaves the tree. */
static char *resolve_in_tree(const char *rel, const char *target)
{
	ds_buf b;
	const char *slash = strrchr(rel, '/');
	_cleanup_free_ char *joined = NULL;
	const char *p;

	if (target[0] == '/')
		return NULL;
	joined = slash ? ds_xasprintf("%.*s/%s", (int)(slash - rel), rel, target) :
			 ds_xstrdup(target);
	ds_buf_init(&b, 0);
	for (p = joined; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (b.len == 0) {
				ds_buf_release(&b);
				return NULL;
			}
			char *s = strrchr(b.data, '/');
			b.len = s ? (size_t)(s - b.data) : 0;
			b.data[b.len] = '\0';
		} else {
			if (b.len)
				ds_buf_addch(&b, '/');
			ds_buf_add(&b, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (b.len == 0)
		ds_buf_addch(&b, '.');
	return ds_buf_detach(&b, NULL);
}

static int is_excluded_path(walk *w, const char *rel)
{
	_cleanup_free_ char *abs = ds_xasprintf("%s/%s", w->src->root, rel);

	for (size_t i = 0; i < w->opts->n_exclude_dirs; i++)
		if (!strcmp(abs, w->opts->exclude_dirs[i]))
			return 1;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks the folder rel (opened as dfd); returns the number of entries
 * added below it, or -1. */
static long walk_dir(walk *w, int dfd, const char *rel, int parent_excluded)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	long added = 0;

	if (!d) {
		int e = errno;
		close(dfd);
		ds_error_set_errno(w->err, e, "cannot read folder '%s'", rel[0] ? rel : ".");
		return -1;
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 32;
			names = ds_xrealloc(names, alloc * sizeof(*names));
		}
		names[n++] = ds_xstrdup(de->d_name);
	}
	/* Sorted per folder only to make error reporting stable.  (An empty
	 * folder has names == NULL, which qsort must not be given.) */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);

	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];
		_cleanup_free_ char *path = rel[0] ? ds_xasprintf("%s/%s", rel, name) :
						     ds_xstrdup(name);
		struct stat st;
		ds_ignore_result ir;
		const char *why;
		int is_dir, excluded = parent_excluded;

		if (strlen(path) >= DS_SOURCE_MAX_PATH) {
			ds_error_set(w->err, DS_EINVAL, "path '%.100s...' is longer than %d bytes",
				     path, DS_SOURCE_MAX_PATH);
			goto fail;
		}
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ds_error_set_errno(w->err, errno, "cannot stat '%s'", path);
			goto fail;
		}
		is_dir = S_ISDIR(st.st_mode);

		/* Always left out, whatever the ignore file says. */
		if (!strcmp(name, ".git") || !strcmp(name, ".dsbuild") ||
		    (is_dir && (!strcmp(name, "__pycache__") || !strcmp(name, ".ipynb_checkpoints")))) {
			if (!parent_excluded)
				add_skip(w, path, DS_SKIP_ALWAYS,
					 !strcmp(name, ".git")	      ? "version control data" :
					 !strcmp(name, ".dsbuild")    ? "dsbuild's output" :
					 !strcmp(name, "__pycache__") ? "Python bytecode cache" :
									"notebook checkpoints");
			continue;
		}
		if (is_excluded_path(w, path)) {
			if (!parent_excluded)
				add_skip(w, path, DS_SKIP_ALWAYS, "the output folder");
			continue;
		}
		if (is_dir) {
			struct stat vs;
			_cleanup_free_ char *cfg = ds_xasprintf("%s/pyvenv.cfg", name);
			if (fstatat(dirfd(d), cfg, &vs, AT_SYMLINK_NOFOLLOW) == 0) {
				if (!parent_excluded)
					add_skip(w, path, DS_SKIP_ALWAYS, "a virtual environment");
				continue;
			}
		}

		ir = w->ig ? ds_ignore_match(w->ig, path, is_dir) : DS_IGNORE_NONE;
		if (ir == DS_IGNORE_EXCLUDE)
			excluded = 1;
		else if (ir == DS_IGNORE_INCLUDE)
			excluded = 0;
		why = secret_reason(path, name, is_dir);
		if (!excluded && why && ir != DS_IGNORE_INCLUDE) {
			add_skip(w, path, DS_SKIP_SECRET, why);
			continue;
		}
		if (excluded && !(is_dir && w->ig && ds_ignore_may_reinclude(w->ig, path))) {
			if (!parent_excluded)
				add_skip(w, path, DS_SKIP_IGNORED, "matched an ignore rule");
			continue;
		}

		if (is_dir) {
			int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			long k;

			if (sub < 0) {
				ds_error_set_errno(w->err, errno, "cannot open folder '%s'", path);
				ds_error_hint(w->err, "make it readable, or leave it out with a line "
						      "'%s/' in .dsbuildignore",
					      path);
				goto fail;
			}
			if (!excluded && !add_file(w, path, DS_ENTRY_DIR, 0755, 0, &st))
				goto fail;
			k = walk_dir(w, sub, path, excluded);
			if (k < 0)
				goto fail;
			if (excluded) {
				if (k > 0) {
					/* a re-included file needs its parent folder */
					if (!add_file(w, path, DS_ENTRY_DIR, 0755, 0, &st))
						goto fail;
					k++;
				} else if (!parent_excluded) {
					add_skip(w, path, DS_SKIP_IGNORED, "matched an ignore rule");
				}
			} else {
				k++;
			}
			added += k;
		} else if (excluded) {
			continue;
		} else if (S_ISREG(st.st_mode)) {
			if (!add_file(w, path, DS_ENTRY_FILE, (st.st_mode & 0111) ? 0755 : 0644,
				      (uint64_t)st.st_size, &st))
				goto fail;
			added++;
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t tl = readlinkat(dirfd(d), name, target, sizeof(target) - 1);
			_cleanup_free_ char *in_tree = NULL;
			struct stat ts;
			ds_source_file *f;

			if (tl < 0) {
				ds_error_set_errno(w->err, errno, "cannot read link '%s'", path);
				goto fail;
			}
			target[tl] = '\0';
			in_tree = resolve_in_tree(path, target);
			if (!in_tree) {
				ds_error_set(w->err, DS_EINVAL, "symbolic link '%s' points outside the "
								"tree, to '%s'",
					     path, target);
				ds_error_hint(w->err, "replace it with a copy of what it points to, or "
						      "leave it out with a line '%s' in .dsbuildignore",
					      path);
				goto fail;
			}
			if (fstatat(w->rootfd, in_tree, &ts, 0) < 0) {
				ds_error_set(w->err, DS_EINVAL, "symbolic link '%s' points to '%s', which "
								"does not exist",
					     path, target);
				ds_error_hint(w->err, "fix or remove the link, or leave it out with a "
						      "line '%s' in .dsbuildignore",
					      path);
				goto fail;
			}
			f = add_file(w, path, DS_ENTRY_SYMLINK, 0777, 0, &st);
			if (!f)
				goto fail;
			f->link = ds_xstrdup(target);
			added++;
		} else {
			const char *kind = S_ISSOCK(st.st_mode)	 ? "a socket" :
					   S_ISFIFO(st.st_mode)	 ? "a named pipe" :
					   S_ISCHR(st.st_mode)	 ? "a character device" :
					   S_ISBLK(st.st_mode)	 ? "a block device" :
								   "of an unknown type";
			ds_error_set(w->err, DS_EINVAL, "cannot add '%s': it is %s, and images hold "
							"only files, folders and links",
				     path, kind);
			ds_error_hint(w->err, "leave it out with a line '%s' in .dsbuildignore", path);
			goto fail;
		}
		if (ds_canceled()) {
			ds_error_set(w->err, DS_ECANCELED, "interrupted");
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return added;
fail:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return -1;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const ds_source_file *)a)->path, ((const ds_source_file *)b)->path);
}

static int cmp_skip(const void *a, const void *b)
{
	return strcmp(((const ds_source_skip *)a)->path, ((const ds_source_skip *)b)->path);
}

typedef struct {
	dev_t dev;
	ino_t ino;
	size_t idx;
} link_key;

static int cmp_link(const void *a, const void *b)
{
	const link_key *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorts the list and turns the second and later paths of a hard-linked
 * file into links to the first (in sorted order, as tar needs). */
typedef struct {
	ds_source_file f; /* first member: cmp_file works on pairs too */
	dev_t dev;
	ino_t ino;
} file_inode;

static void finish_list(walk *w)
{
	ds_source *s = w->src;
	size_t n = s->n_files, k = 0;
	file_inode *p = ds_xcalloc(n + 1, sizeof(*p));
	link_key *keys = ds_xcalloc(n + 1, sizeof(*keys));

	for (size_t i = 0; i < n; i++)
		p[i] = (file_inode){ s->files[i], w->dev[i], w->ino[i] };
	qsort(p, n, sizeof(*p), cmp_file);
	for (size_t i = 0; i < n; i++) {
		s->files[i] = p[i].f;
		if (p[i].ino)
			keys[k++] = (link_key){ p[i].dev, p[i].ino, i };
	}
	free(p);
	qsort(keys, k, sizeof(*keys), cmp_link);
	for (size_t i = 1, first = 0; i < k; i++) {
		if (keys[i].dev != keys[first].dev || keys[i].ino != keys[first].ino) {
			first = i;
			continue;
		}
		ds_source_file *f = &s->files[keys[i].idx];
		f->type = DS_ENTRY_HARDLINK;
		f->link = ds_xstrdup(s->files[keys[first].idx].path);
		s->total_bytes -= f->size;
		f->size = 0;
	}
	free(keys);
	if (s->n_skipped > 1)
		qsort(s->skipped, s->n_skipped, sizeof(*s->skipped), cmp_skip);
}

static int load_ignore(walk *w, ds_error *err)
{
	static const struct {
		const char *name;
		ds_ignore_syntax syntax;
	} files[] = { { ".dsbuildignore", DS_IGNORE_GIT }, { ".dockerignore", DS_IGNORE_DOCKER } };

	for (size_t i = 0; i < DS_ARRAY_SIZE(files); i++) {
		_cleanup_buf_ ds_buf b = DS_BUF_INIT;
		int fd = openat(w->rootfd, files[i].name, O_RDONLY | O_CLOEXEC);
		int r;

		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return ds_error_set_errno(err, errno, "cannot read '%s'", files[i].name);
		}
		ds_buf_init(&b, IGNORE_FILE_MAX + 2 +
					(w->extra_ignore ? strlen(w->extra_ignore) : 0));
		r = ds_read_fd(fd, files[i].name, IGNORE_FILE_MAX, &b, err);
		close(fd);
		if (r < 0)
			return -1;
		if (w->extra_ignore) {
			ds_buf_addch(&b, '\n');
			ds_buf_adds(&b, w->extra_ignore);
		}
		if (ds_ignore_parse(&w->ig, files[i].name, b.data, b.len, files[i].syntax, err) < 0)
			return -1;
		w->src->ignore_file = ds_xstrdup(files[i].name);
		return 0;
	}
	if (w->extra_ignore &&
	    ds_ignore_parse(&w->ig, w->extra_name ? w->extra_name : "exclude", w->extra_ignore,
			    strlen(w->extra_ignore), DS_IGNORE_GIT, err) < 0)
		return -1;
	return 0;
}

int ds_source_scan(ds_source **out, const char *dir, const ds_source_opts *opts, ds_error *err)
{
	ds_source_opts def = DS_SOURCE_OPTS_INIT;
	walk w = { 0 };
	char real[PATH_MAX];
	struct stat st;
	int dfd;

	if (stat(dir, &st) < 0) {
		ds_error_set_errno(err, errno, "cannot build '%s'", dir);
		return ds_error_hint(err, "pass the folder that holds your project, e.g. 'dsbuild .'");
	}
	if (!S_ISDIR(st.st_mode)) {
		ds_error_set(err, DS_EINVAL, "cannot build '%s': it is a file, not a folder", dir);
		return ds_error_hint(err, "pass the folder that holds it, e.g. 'dsbuild .'");
	}
	if (!realpath(dir, real))
		return ds_error_set_errno(err, errno, "cannot resolve '%s'", dir);
	w.opts = opts ? opts : &def;
	w.extra_ignore = w.opts->extra_ignore;
	w.extra_name = w.opts->extra_name;
	w.err = err;
	w.src = ds_xcalloc(1, sizeof(*w.src));
	w.src->root = ds_xstrdup(real);
	w.rootfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.rootfd < 0) {
		ds_error_set_errno(err, errno, "cannot open '%s'", dir);
		goto fail;
	}
	if (load_ignore(&w, err) < 0)
		goto fail;
	dfd = dup(w.rootfd);
	if (dfd < 0) {
		ds_error_set_errno(err, errno, "cannot open '%s'", dir);
		goto fail;
	}
	if (walk_dir(&w, dfd, "", 0) < 0)
		goto fail;
	finish_list(&w);
	close(w.rootfd);
	ds_ignore_free(w.ig);
	free(w.dev);
	free(w.ino);
	*out = w.src;
	return 0;
fail:
	if (w.rootfd >= 0)
		close(w.rootfd);
	ds_ignore_free(w.ig);
	free(w.dev);
	free(w.ino);
	ds_source_free(w.src);
	return -1;
}

ds_source *ds_source_free(ds_source *src)
{
	if (!src)
		return NULL;
	for (size_t i = 0; i < src->n_files; i++) {
		free(src->files[i].path);
		free(src->files[i].link);
	}
	for (size_t i = 0; i < src->n_skipped; i++)
		free(src->skipped[i].path);
	free(src->files);
	free(src->skipped);
	free(src->root);
	free(src->ignore_file);
	free(src);
	return NULL;
}

int ds_source_write_layer(const ds_source *src, ds_layer_writer *w, const char *prefix,
			  uint32_t uid, uint32_t gid, int64_t mtime, ds_error *err)
{
	return ds_source_write_layer_with(src, NULL, 0, w, prefix, uid, gid, mtime, err);
}

static int write_extra(const ds_source_extra *x, ds_layer_writer *w, const char *prefix,
		       uint32_t uid, uint32_t gid, int64_t mtime, ds_error *err)
{
	_cleanup_free_ char *path = ds_xasprintf("%s/%s", prefix, x->path);
	ds_layer_entry e = { .path = path, .type = x->type, .mode = x->mode, .uid = uid,
			     .gid = gid, .mtime = mtime };

	if (x->type == DS_ENTRY_FILE)
		e.size = x->len;
	if (ds_layer_writer_add(w, &e, err) < 0)
		return -1;
	if (x->type == DS_ENTRY_FILE && x->len && ds_layer_writer_data(w, x->data, x->len, err) < 0)
		return -1;
	return 0;
}

int ds_source_write_layer_with(const ds_source *src, const ds_source_extra *extra,
			       size_t n_extra, ds_layer_writer *w, const char *prefix,
			       uint32_t uid, uint32_t gid, int64_t mtime, ds_error *err)
{
	size_t xi = 0;
	_cleanup_close_ int rootfd = open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ds_layer_entry e;

	if (rootfd < 0)
		return ds_error_set_errno(err, errno, "cannot open '%s'", src->root);
	/* Parents of the prefix belong to root; the prefix itself to the app. */
	for (const char *p = prefix; *p;) {
		const char *slash = strchr(p, '/');
		_cleanup_free_ char *dir = slash ? ds_xstrndup(prefix, (size_t)(slash - prefix)) :
						   ds_xstrdup(prefix);
		memset(&e, 0, sizeof(e));
		e.path = dir;
		e.type = DS_ENTRY_DIR;
		e.mode = 0755;
		e.uid = slash ? 0 : uid;
		e.gid = slash ? 0 : gid;
		e.mtime = mtime;
		if (ds_layer_writer_add(w, &e, err) < 0)
			return -1;
		if (!slash)
			break;
		p = slash + 1;
	}
	for (size_t i = 0; i <= src->n_files; i++) {
		/* Extra entries merged in, so the stream stays sorted bytewise. */
		while (xi < n_extra &&
		       (i == src->n_files || strcmp(extra[xi].path, src->files[i].path) < 0))
			if (write_extra(&extra[xi++], w, prefix, uid, gid, mtime, err) < 0)
				return -1;
		if (i == src->n_files)
			break;
		const ds_source_file *f = &src->files[i];
		_cleanup_free_ char *path = ds_xasprintf("%s/%s", prefix, f->path);
		_cleanup_free_ char *link = NULL;

		memset(&e, 0, sizeof(e));
		e.path = path;
		e.type = f->type;
		e.mode = f->mode;
		e.uid = uid;
		e.gid = gid;
		e.mtime = mtime;
		e.size = f->size;
		if (f->type == DS_ENTRY_HARDLINK) {
			link = ds_xasprintf("%s/%s", prefix, f->link);
			e.link = link;
		} else {
			e.link = f->link;
		}
		if (f->type == DS_ENTRY_FILE) {
			struct stat st;
			_cleanup_close_ int fd = openat(rootfd, f->path,
							O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
			if (fd < 0) {
				ds_error_set_errno(err, errno, "cannot read '%s'", f->path);
				return ds_error_hint(err, "make it readable (chmod +r), or leave it "
							  "out with a line '%s' in .dsbuildignore",
						     f->path);
			}
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
				return ds_error_set(err, DS_EIO, "'%s' changed while it was being read",
						    f->path);
			if (ds_layer_writer_add_fd(w, &e, fd, err) < 0)
				return -1;
		} else if (ds_layer_writer_add(w, &e, err) < 0) {
			return -1;
		}
	}
	return 0;
}

int ds_source_hash(const ds_source *src, char out[DS_DIGEST_BUFSZ], ds_error *err)
{
	_cleanup_close_ int rootfd = open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	static __thread char buf[131072];
	ds_sha256 all;

	if (rootfd < 0)
		return ds_error_set_errno(err, errno, "cannot open '%s'", src->root);
	if (ds_sha256_init(&all, err) < 0)
		return -1;
	for (size_t i = 0; i < src->n_files; i++) {
		const ds_source_file *f = &src->files[i];
		char line[64];

		/* NUL-separated fields cannot be confused with names. */
		ds_sha256_update(&all, f->path, strlen(f->path) + 1);
		snprintf(line, sizeof(line), "%d %o %llu", f->type, f->mode,
			 (unsigned long long)f->size);
		ds_sha256_update(&all, line, strlen(line) + 1);
		if (f->link)
			ds_sha256_update(&all, f->link, strlen(f->link) + 1);
		if (f->type == DS_ENTRY_FILE) {
			_cleanup_close_ int fd = openat(rootfd, f->path,
							O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
			uint64_t seen = 0;
			ds_sha256 h;
			char d[DS_DIGEST_BUFSZ];

			if (fd < 0) {
				ds_sha256_release(&all);
				ds_error_set_errno(err, errno, "cannot read '%s'", f->path);
				return ds_error_hint(err, "make it readable (chmod +r), or leave it "
							  "out with a line '%s' in .dsbuildignore",
						     f->path);
			}
			if (ds_sha256_init(&h, err) < 0) {
				ds_sha256_release(&all);
				return -1;
			}
			for (;;) {
				ssize_t n = read(fd, buf, sizeof(buf));
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					int e = errno;
					ds_sha256_release(&h);
					ds_sha256_release(&all);
					return ds_error_set_errno(err, e, "cannot read '%s'", f->path);
				}
				if (n == 0)
					break;
				ds_sha256_update(&h, buf, (size_t)n);
				seen += (uint64_t)n;
				if (ds_canceled()) {
					ds_sha256_release(&h);
					ds_sha256_release(&all);
					return ds_error_set(err, DS_ECANCELED, "interrupted");
				}
			}
			ds_sha256_final(&h, d);
			if (seen != f->size) {
				ds_sha256_release(&all);
				return ds_error_set(err, DS_EIO, "'%s' changed while it was being read",
						    f->path);
			}
			ds_sha256_update(&all, d, strlen(d) + 1);
		}
	}
	ds_sha256_final(&all, out);
	return 0;
}
