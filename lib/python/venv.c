/* The virtual environment at DS_PYVENV_PREFIX, made without running
 * Python: pyvenv.cfg, bin/python* symbolic links to the base image's
 * interpreter, lib/pythonX.Y/site-packages (and the lib64 link) — what
 * `python3 -m venv --without-pip` makes, so sys.prefix is the venv and the
 * base's site-packages stay out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "python/pydeps_int.h"
#include "util/util.h"

#define VENV_ENTRIES_MAX 2000000

int pyvenv_create(const pyinstall *in, ds_error *err)
{
	_cleanup_free_ char *venv = ds_xasprintf("%s%s", in->stage, DS_PYVENV_PREFIX);
	_cleanup_free_ char *site =
	    ds_xasprintf("%s/lib/python%s/site-packages", venv, in->python_version);
	_cleanup_free_ char *bin = ds_xasprintf("%s/bin", venv);
	_cleanup_free_ char *inc = ds_xasprintf("%s/include", venv);
	_cleanup_free_ char *cfg = ds_xasprintf("%s/pyvenv.cfg", venv);
	_cleanup_free_ char *home = ds_xstrdup(in->python);
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *pyx = ds_xasprintf("python%s", in->python_version);
	char *slash = strrchr(home, '/');
	const struct {
		const char *name;
		const char *target;
	} links[] = {{"python", pyx}, {"python3", pyx}, {pyx, in->python}};

	if (in->python[0] != '/' || !slash)
		return ds_error_set(err, DS_EINVAL,
				    "the base's Python '%s' is not an absolute path", in->python);
	*slash = '\0';
	if (ds_mkdir_p(site, 0755, err) < 0 || ds_mkdir_p(bin, 0755, err) < 0 ||
	    ds_mkdir_p(inc, 0755, err) < 0)
		return -1;
	text = ds_xasprintf("home = %s\n"
			    "include-system-site-packages = false\n"
			    "version = %s\n"
			    "executable = %s\n"
			    "command = dsbuild (no Python was run)\n",
			    home[0] ? home : "/", in->python_version, in->python);
	if (ds_write_file_atomic(cfg, text, strlen(text), err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		_cleanup_free_ char *p = ds_xasprintf("%s/%s", bin, links[i].name);
		if (symlink(links[i].target, p) < 0 && errno != EEXIST)
			return ds_error_set_errno(err, errno, "cannot create '%s'", p);
	}
	{
		_cleanup_free_ char *p = ds_xasprintf("%s/lib64", venv);
		if (symlink("lib", p) < 0 && errno != EEXIST)
			return ds_error_set_errno(err, errno, "cannot create '%s'", p);
	}
	return 0;
}

typedef struct ent {
	char *path; /* layer path, no leading '/' */
	char type;  /* 'd', 'f', 'l' */
	mode_t mode;
	uint64_t size;
} ent;

typedef struct ents {
	size_t n, cap;
	ent *v;
} ents;

static int collect(ents *es, const char *fs, const char *rel, ds_error *err)
{
	DIR *d = opendir(fs);
	struct dirent *de;

	if (!d)
		return ds_error_set_errno(err, errno, "cannot read '%s'", fs);
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL, *r = NULL;
		struct stat st;
		ent *e;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = ds_xasprintf("%s/%s", fs, de->d_name);
		r = ds_xasprintf("%s/%s", rel, de->d_name);
		if (lstat(p, &st) < 0) {
			closedir(d);
			return ds_error_set_errno(err, errno, "cannot stat '%s'", p);
		}
		if (es->n >= VENV_ENTRIES_MAX) {
			closedir(d);
			return ds_error_set(err, DS_ENOMEM, "more than %d files in the environment",
					    VENV_ENTRIES_MAX);
		}
		if (es->n == es->cap) {
			es->cap = es->cap ? es->cap * 2 : 256;
			es->v = ds_xrealloc(es->v, es->cap * sizeof(*es->v));
		}
		e = &es->v[es->n++];
		e->path = ds_xstrdup(r);
		e->size = 0;
		if (S_ISDIR(st.st_mode)) {
			e->type = 'd';
			e->mode = 0755;
			if (collect(es, p, r, err) < 0) {
				closedir(d);
				return -1;
			}
		} else if (S_ISLNK(st.st_mode)) {
			e->type = 'l';
			e->mode = 0777;
		} else {
			e->type = 'f';
			e->mode = (st.st_mode & 0111) ? 0755 : 0644;
			e->size = (uint64_t)st.st_size;
		}
	}
	closedir(d);
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const ent *)a)->path, ((const ent *)b)->path);
}

int pyvenv_write_layer(const pyinstall *in, ds_layer_writer *w, ds_error *err)
{
	ents es = {0};
	_cleanup_free_ char *top = ds_xasprintf("%s%s", in->stage, DS_PYVENV_PREFIX);
	int rc = -1;
	ds_layer_entry le = {.uid = 0, .gid = 0, .mtime = in->mtime};

	/* the parents of the prefix first: "opt", "opt/venv" */
	{
		const char *pre = DS_PYVENV_PREFIX + 1;
		for (const char *s = pre;; s++) {
			if (*s == '/' || !*s) {
				_cleanup_free_ char *p = ds_xstrndup(pre, (size_t)(s - pre));
				le.path = p;
				le.type = DS_ENTRY_DIR;
				le.mode = 0755;
				if (ds_layer_writer_add(w, &le, err) < 0)
					return -1;
			}
			if (!*s)
				break;
		}
	}
	if (collect(&es, top, DS_PYVENV_PREFIX + 1, err) < 0)
		goto out;
	qsort(es.v, es.n, sizeof(*es.v), ent_cmp);
	for (size_t i = 0; i < es.n; i++) {
		const ent *e = &es.v[i];
		_cleanup_free_ char *fs = ds_xasprintf("%s/%s", in->stage, e->path);
		le.path = e->path;
		le.mode = e->mode;
		le.size = 0;
		le.link = NULL;
		if (e->type == 'd') {
			le.type = DS_ENTRY_DIR;
			if (ds_layer_writer_add(w, &le, err) < 0)
				goto out;
		} else if (e->type == 'l') {
			char target[4096];
			ssize_t n = readlink(fs, target, sizeof(target) - 1);
			if (n < 0) {
				ds_error_set_errno(err, errno, "cannot read link '%s'", fs);
				goto out;
			}
			target[n] = '\0';
			le.type = DS_ENTRY_SYMLINK;
			le.link = target;
			if (ds_layer_writer_add(w, &le, err) < 0)
				goto out;
		} else {
			int fd = open(fs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0) {
				ds_error_set_errno(err, errno, "cannot open '%s'", fs);
				goto out;
			}
			le.type = DS_ENTRY_FILE;
			le.size = e->size;
			if (ds_layer_writer_add_fd(w, &le, fd, err) < 0) {
				close(fd);
				goto out;
			}
			close(fd);
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < es.n; i++)
		free(es.v[i].path);
	free(es.v);
	return rc;
}
