/* lib/source/{walk,epoch}.c on trees made here: order, modes, links,
 * what is always left out, secrets, ignore files, output folders, bad
 * entries (each error naming the path), and the build epoch from
 * SOURCE_DATE_EPOCH, git and the fixed fallback. */
#include <sys/socket.h>
#include <sys/un.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/layer.h>
#include <dsbuild/source.h>
#include <dsbuild/store.h>

#include "testutil.h"

static char *root;
static int tree_n;


/* ---- tree building ---------------------------------------------------- */

static char *new_tree(void)
{
	char *t = tu_fmt("%s/t%d", root, ++tree_n);
	mkdir(t, 0755);
	return t;
}

static void mk(const char *tree, const char *rel)
{
	char *p = tu_fmt("%s/%s", tree, rel);
	if (tu_sh("mkdir -p '%s'", p) != 0)
		exit(99);
	free(p);
}

static void put(const char *tree, const char *rel, const char *content)
{
	char *p = tu_fmt("%s/%s", tree, rel);
	tu_writes(p, content);
	free(p);
}

static void ln_s(const char *tree, const char *target, const char *rel)
{
	char *p = tu_fmt("%s/%s", tree, rel);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(99);
	}
	free(p);
}

static void ln(const char *tree, const char *from, const char *rel)
{
	char *a = tu_fmt("%s/%s", tree, from), *b = tu_fmt("%s/%s", tree, rel);
	if (link(a, b) < 0) {
		perror(b);
		exit(99);
	}
	free(a);
	free(b);
}

static ds_source *scan(const char *tree, const ds_source_opts *o, ds_error *err)
{
	ds_source *s = NULL;

	ds_error_clear(err);
	if (ds_source_scan(&s, tree, o, err) < 0)
		return NULL;
	return s;
}

/* "path[type]" joined by spaces; type f d l h. */
static char *listing(const ds_source *s)
{
	ds_buf b = DS_BUF_INIT;

	for (size_t i = 0; s && i < s->n_files; i++) {
		const ds_source_file *f = &s->files[i];
		char t = f->type == DS_ENTRY_FILE    ? 'f' :
			 f->type == DS_ENTRY_DIR     ? 'd' :
			 f->type == DS_ENTRY_SYMLINK ? 'l' :
						       'h';
		ds_buf_addf(&b, "%s%s[%c]", i ? " " : "", f->path, t);
	}
	return ds_buf_detach(&b, NULL);
}

/* "path:reason" of the skipped list; reason a(lways) s(ecret) i(gnored). */
static char *skipped(const ds_source *s)
{
	ds_buf b = DS_BUF_INIT;

	for (size_t i = 0; s && i < s->n_skipped; i++) {
		const ds_source_skip *k = &s->skipped[i];
		ds_buf_addf(&b, "%s%s:%c", i ? " " : "", k->path,
			    k->reason == DS_SKIP_ALWAYS ? 'a' :
			    k->reason == DS_SKIP_SECRET ? 's' :
							  'i');
	}
	return ds_buf_detach(&b, NULL);
}

static const ds_source_file *find(const ds_source *s, const char *path)
{
	for (size_t i = 0; s && i < s->n_files; i++)
		if (!strcmp(s->files[i].path, path))
			return &s->files[i];
	return NULL;
}

static const ds_source_skip *find_skip(const ds_source *s, const char *path)
{
	for (size_t i = 0; s && i < s->n_skipped; i++)
		if (!strcmp(s->skipped[i].path, path))
			return &s->skipped[i];
	return NULL;
}

#define is_listing(s, want, ...)                                                                  \
	do {                                                                                      \
		char *_l = listing(s);                                                            \
		is_str(_l, want, __VA_ARGS__);                                                    \
		free(_l);                                                                         \
	} while (0)

#define is_skipped(s, want, ...)                                                                  \
	do {                                                                                      \
		char *_l = skipped(s);                                                            \
		is_str(_l, want, __VA_ARGS__);                                                    \
		free(_l);                                                                         \
	} while (0)

/* ---- walk ------------------------------------------------------------- */

static void test_order_and_modes(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	ds_source *s;
	const ds_source_file *f;
	char real[4096];

	mk(t, "a/b");
	put(t, "a/b/c", "c");
	put(t, "a/z.txt", "zz");
	put(t, "a-b", "");
	put(t, "a.txt", "12345");
	put(t, "A", "A");
	put(t, "b.txt", "b");
	put(t, "run.sh", "#!/bin/sh\n");
	chmod(F("%s/run.sh", t), 0700);
	put(t, "group-exec", "x");
	chmod(F("%s/group-exec", t), 0610);
	chmod(F("%s/a.txt", t), 0600);
	chmod(F("%s/a/b", t), 0700);
	put(t, "\xc3\xa9t\xc3\xa9.txt", "utf8");
	put(t, "latin\xe9.bin", "latin1");

	s = scan(t, NULL, &err);
	ok_err(s != NULL, &err, "scan a small tree");
	is_listing(s,
		   "A[f] a[d] a-b[f] a.txt[f] a/b[d] a/b/c[f] a/z.txt[f] b.txt[f] group-exec[f] "
		   "latin\xe9.bin[f] run.sh[f] \xc3\xa9t\xc3\xa9.txt[f]",
		   "sorted bytewise by full path, parents before children");
	ok(s && realpath(t, real) && !strcmp(s->root, real), "root is the real absolute path");
	ok(s && s->ignore_file == NULL, "no ignore file");
	ok(s && s->n_skipped == 0, "nothing skipped");
	f = find(s, "a.txt");
	ok(f && f->mode == 0644 && f->size == 5, "a 0600 file becomes 0644, size 5");
	f = find(s, "run.sh");
	ok(f && f->mode == 0755, "an executable file becomes 0755");
	f = find(s, "group-exec");
	ok(f && f->mode == 0755, "any exec bit makes it 0755");
	f = find(s, "a/b");
	ok(f && f->mode == 0755 && f->type == DS_ENTRY_DIR, "a 0700 dir becomes 0755");
	ok(s && s->total_bytes == 1 + 1 + 2 + 0 + 5 + 1 + 1 + 10 + 4 + 6, "total_bytes sums files");
	ds_source_free(s);
	ok(ds_source_free(NULL) == NULL, "ds_source_free(NULL)");

	/* the same tree scanned again lists the same thing */
	{
		ds_source *a = scan(t, NULL, &err), *b = scan(t, NULL, &err);
		char *la = listing(a), *lb = listing(b);
		is_str(la, lb, "scanning twice gives the same list");
		free(la);
		free(lb);
		ds_source_free(a);
		ds_source_free(b);
	}

	/* relative path in; the path of a file; a missing folder */
	{
		char cwd[4096];
		if (getcwd(cwd, sizeof(cwd)) && chdir(root) == 0) {
			char *rel = tu_fmt("t%d", tree_n);
			s = scan(rel, NULL, &err);
			ok_err(s && !strcmp(s->root, real), &err, "a relative dir resolves to its root");
			ds_source_free(s);
			free(rel);
			if (chdir(cwd) < 0)
				ok(0, "chdir back");
		}
	}
	s = scan(F("%s/a.txt", t), NULL, &err);
	ok(!s && err.code == DS_EINVAL, "scanning a file fails with DS_EINVAL");
	has_str(err.msg, "it is a file, not a folder", "saying so: %s", err.msg);
	s = scan(F("%s/nope", root), NULL, &err);
	ok(!s && err.code == DS_ENOENT, "a missing folder fails with DS_ENOENT");
	has_str(err.msg, "nope", "naming it: %s", err.msg);
	has_str(err.hint, "dsbuild .", "with a hint: %s", err.hint);
	free(t);
}

static void test_links(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	ds_source *s;
	const ds_source_file *f;

	mk(t, "a/b");
	mk(t, "x");
	put(t, "x/one", "shared content");
	ln(t, "x/one", "a/two");
	ln(t, "x/one", "a/b/three");
	put(t, "solo", "s");
	put(t, "a/b/c", "c");
	ln_s(t, "a/b/c", "link");
	ln_s(t, "a", "dirlink");
	ln_s(t, "../solo", "a/up");
	ln_s(t, "b/../../solo", "a/updown");
	ln_s(t, ".", "self");
	ln_s(t, "dirlink/b/c", "via-link");

	s = scan(t, NULL, &err);
	ok_err(s != NULL, &err, "a tree with hard links and in-tree symlinks");
	is_listing(s,
		   "a[d] a/b[d] a/b/c[f] a/b/three[f] a/two[h] a/up[l] a/updown[l] dirlink[l] "
		   "link[l] self[l] solo[f] via-link[l] x[d] x/one[h]",
		   "hard links after the first (sorted) become HARDLINK");
	f = find(s, "a/two");
	ok(f && f->link && !strcmp(f->link, "a/b/three") && f->size == 0,
	   "a/two links to a/b/three, the first in sorted order, with no data");
	f = find(s, "x/one");
	ok(f && f->link && !strcmp(f->link, "a/b/three"), "x/one too");
	f = find(s, "a/b/three");
	ok(f && f->type == DS_ENTRY_FILE && f->size == 14, "the first keeps its data");
	ok(s && s->total_bytes == 14 + 1 + 1, "hard-linked data counts once in total_bytes");
	f = find(s, "link");
	ok(f && f->mode == 0777 && f->link && !strcmp(f->link, "a/b/c"),
	   "a symlink keeps its target as written, mode 0777");
	f = find(s, "a/up");
	ok(f && !strcmp(f->link, "../solo"), "'../solo' from a/ stays in the tree");
	ds_source_free(s);

	/* bad links: each an error naming the link */
	{
		static const struct {
			const char *target, *msg;
		} bad[] = {
			{ "../outside", "points outside the tree, to '../outside'" },
			{ "/etc/passwd", "points outside the tree, to '/etc/passwd'" },
			{ "a/../../x", "points outside the tree, to 'a/../../x'" },
			{ "missing-file", "points to 'missing-file', which does not exist" },
			{ "a/b/nope", "points to 'a/b/nope', which does not exist" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char *u = new_tree();
			mk(u, "a/b");
			put(u, "ok.txt", "x");
			ln_s(u, bad[i].target, "badlink");
			s = scan(u, NULL, &err);
			ok(!s, "a link to '%s' is refused", bad[i].target);
			is_int(err.code, DS_EINVAL, "  with DS_EINVAL");
			has_str(err.msg, "symbolic link 'badlink'", "  naming the link: %s", err.msg);
			has_str(err.msg, bad[i].msg, "  and what is wrong");
			has_str(err.hint, ".dsbuildignore", "  with a hint: %s", err.hint);
			ds_source_free(s);
			free(u);
		}
	}
	/* a dangling link that an ignore rule leaves out is fine */
	{
		char *u = new_tree();
		ln_s(u, "/nowhere", "gone");
		put(u, ".dsbuildignore", "gone\n");
		s = scan(u, NULL, &err);
		ok_err(s != NULL, &err, "a bad link left out by .dsbuildignore is not an error");
		ds_source_free(s);
		free(u);
	}
	free(t);
}

static void test_special_files(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	ds_source *s;

	mk(t, "sub");
	put(t, "sub/ok", "x");
	if (mkfifo(F("%s/sub/pipe", t), 0644) < 0)
		perror("mkfifo");
	s = scan(t, NULL, &err);
	ok(!s, "a named pipe is refused");
	is_int(err.code, DS_EINVAL, "with DS_EINVAL");
	has_str(err.msg, "cannot add 'sub/pipe': it is a named pipe", "naming it: %s", err.msg);
	has_str(err.hint, "'sub/pipe' in .dsbuildignore", "the hint says how to leave it out: %s",
		err.hint);
	put(t, ".dsbuildignore", "sub/pipe\n");
	s = scan(t, NULL, &err);
	ok_err(s != NULL, &err, "and accepted once ignored");
	ds_source_free(s);
	free(t);

	t = new_tree();
	{
		struct sockaddr_un sa;
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		char *p = tu_fmt("%s/sock", t);
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			perror("bind");
		s = scan(t, NULL, &err);
		ok(!s && err.code == DS_EINVAL, "a socket is refused");
		has_str(err.msg, "'sock': it is a socket", "naming it: %s", err.msg);
		close(fd);
		free(p);
	}
	free(t);

	/* a path longer than DS_SOURCE_MAX_PATH */
	t = new_tree();
	{
		char seg[251];
		ds_buf rel = DS_BUF_INIT;
		memset(seg, 'd', 250);
		seg[250] = '\0';
		for (int i = 0; i < 17; i++)
			ds_buf_addf(&rel, "%s%s", i ? "/" : "", seg);
		mk(t, rel.data);
		s = scan(t, NULL, &err);
		ok(!s && err.code == DS_EINVAL, "a path over %d bytes is refused", DS_SOURCE_MAX_PATH);
		has_str(err.msg, "is longer than 4096 bytes", "saying so: %.60s...", err.msg);
		ds_buf_release(&rel);
	}
	free(t);
}

static void test_always_skipped(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	ds_source *s;
	const ds_source_skip *k;

	mk(t, ".git/objects");
	put(t, ".git/HEAD", "ref: x");
	mk(t, "pkg/__pycache__");
	put(t, "pkg/__pycache__/m.cpython-311.pyc", "x");
	put(t, "pkg/m.py", "x");
	put(t, "__pycache__", "a file with that name is kept");
	mk(t, "nb/.ipynb_checkpoints");
	put(t, "nb/a.ipynb", "{}");
	mk(t, ".dsbuild/image");
	mk(t, "venv/lib/python3.11/site-packages");
	put(t, "venv/pyvenv.cfg", "home = /usr/bin\n");
	mk(t, "deep/er/.venv/bin");
	put(t, "deep/er/.venv/pyvenv.cfg", "x");
	put(t, "deep/er/code.py", "x");
	mk(t, "sub/.git");
	put(t, "sub/.gitmodules-like", "x");

	s = scan(t, NULL, &err);
	ok_err(s != NULL, &err, "a tree with .git, caches, venvs and .dsbuild");
	is_listing(s,
		   "__pycache__[f] deep[d] deep/er[d] deep/er/code.py[f] nb[d] nb/a.ipynb[f] pkg[d] "
		   "pkg/m.py[f] sub[d] sub/.gitmodules-like[f]",
		   "what is always left out is not listed");
	is_skipped(s,
		   ".dsbuild:a .git:a deep/er/.venv:a nb/.ipynb_checkpoints:a pkg/__pycache__:a "
		   "sub/.git:a venv:a",
		   "only the top-most skipped paths, sorted, reason ALWAYS");
	k = find_skip(s, "venv");
	is_str(k ? k->why : NULL, "a virtual environment", "venv: a virtual environment");
	k = find_skip(s, ".git");
	is_str(k ? k->why : NULL, "version control data", ".git: version control data");
	k = find_skip(s, "pkg/__pycache__");
	is_str(k ? k->why : NULL, "Python bytecode cache", "__pycache__: bytecode cache");
	ds_source_free(s);

	/* an ignore file cannot bring them back */
	put(t, ".dsbuildignore", "!.git\n!venv\n!pkg/__pycache__\n");
	s = scan(t, NULL, &err);
	ok(s && !find(s, ".git") && !find(s, "venv") && !find(s, "pkg/__pycache__"),
	   "'!' rules do not re-include .git, venvs or caches");
	ds_source_free(s);
	free(t);
}

static void test_secrets(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	ds_source *s;
	const ds_source_skip *k;

	put(t, "app.py", "x");
	put(t, ".env", "TOKEN=1");
	put(t, ".env.local", "TOKEN=2");
	put(t, ".env.example", "TOKEN=");
	put(t, "server.pem", "x");
	put(t, "server.key", "x");
	put(t, "keystore.p12", "x");
	put(t, "id_rsa", "x");
	put(t, "id_ed25519.pub", "x");
	put(t, ".netrc", "x");
	put(t, ".pypirc", "x");
	put(t, ".git-credentials", "x");
	mk(t, ".aws");
	put(t, ".aws/credentials", "x");
	mk(t, ".ssh");
	put(t, ".ssh/config", "x");
	mk(t, ".docker");
	put(t, ".docker/config.json", "{}");
	put(t, ".docker/other.json", "{}");
	mk(t, "conf");
	put(t, "conf/config.json", "{}");
	mk(t, ".kube");
	put(t, ".kube/config", "x");
	mk(t, "sub");
	put(t, "sub/.env", "x");

	s = scan(t, NULL, &err);
	ok_err(s != NULL, &err, "a tree with secrets");
	is_listing(s,
		   ".docker[d] .docker/other.json[f] .env.example[f] app.py[f] conf[d] "
		   "conf/config.json[f] sub[d]",
		   "secrets are left out; templates and other config.json kept");
	is_skipped(s,
		   ".aws:s .docker/config.json:s .env:s .env.local:s .git-credentials:s .kube:s "
		   ".netrc:s .pypirc:s .ssh:s id_ed25519.pub:s id_rsa:s keystore.p12:s "
		   "server.key:s server.pem:s sub/.env:s",
		   "each secret skipped with reason SECRET");
	k = find_skip(s, ".env");
	is_str(k ? k->why : NULL, "an environment file with secrets", ".env's reason");
	k = find_skip(s, "id_rsa");
	is_str(k ? k->why : NULL, "an SSH key", "id_rsa's reason");
	k = find_skip(s, ".docker/config.json");
	is_str(k ? k->why : NULL, "registry credentials", ".docker/config.json's reason");
	ds_source_free(s);

	put(t, ".dsbuildignore", "# I know what I am doing\n!.env\n!.ssh/\n!sub/.env\n");
	s = scan(t, NULL, &err);
	ok_err(s != NULL, &err, "with '!' rules in .dsbuildignore");
	ok(find(s, ".env") && find(s, ".ssh") && find(s, ".ssh/config") && find(s, "sub/.env"),
	   "re-included secrets are listed");
	ok(!find(s, ".env.local") && find_skip(s, ".env.local"), "others stay out");
	ok(!find_skip(s, ".env"), ".env is no longer in the skipped list");
	is_str(s ? s->ignore_file : NULL, ".dsbuildignore", "ignore_file names .dsbuildignore");
	ok(s && find(s, ".dsbuildignore"), "the ignore file itself is part of the tree");
	ds_source_free(s);

	/* an ignore rule wins over the secret warning: ignored, not warned */
	put(t, ".dsbuildignore", ".env\n");
	s = scan(t, NULL, &err);
	k = find_skip(s, ".env");
	ok(k && k->reason == DS_SKIP_IGNORED, "a secret that is ignored anyway is IGNORED, not SECRET");
	ds_source_free(s);
	free(t);
}

static void test_ignore_files(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	ds_source *s;

	put(t, "a.log", "x");
	put(t, "x.tmp", "x");
	put(t, "keep.py", "x");
	mk(t, "sub");
	put(t, "sub/b.log", "x");
	mk(t, "data");
	put(t, "data/big.csv", "x");
	put(t, "data/keep.csv", "x");

	put(t, ".dockerignore", "*.log\ndata/*\n!data/keep.csv\n");
	s = scan(t, NULL, &err);
	ok_err(s != NULL, &err, "with only a .dockerignore");
	is_str(s ? s->ignore_file : NULL, ".dockerignore", "it is used");
	is_listing(s,
		   ".dockerignore[f] data[d] data/keep.csv[f] keep.py[f] sub[d] sub/b.log[f] "
		   "x.tmp[f]",
		   "Docker syntax: *.log matches at the root only; data/keep.csv re-included");
	is_skipped(s, "a.log:i data/big.csv:i", "ignored paths are listed as IGNORED");
	ds_source_free(s);

	put(t, ".dsbuildignore", "*.tmp\n*.log\n");
	s = scan(t, NULL, &err);
	ok_err(s != NULL, &err, "with both files");
	is_str(s ? s->ignore_file : NULL, ".dsbuildignore", ".dsbuildignore wins");
	is_listing(s,
		   ".dockerignore[f] .dsbuildignore[f] data[d] data/big.csv[f] data/keep.csv[f] "
		   "keep.py[f] sub[d]",
		   "gitignore syntax: *.log at any depth; .dockerignore's rules are not used");
	is_skipped(s, "a.log:i sub/b.log:i x.tmp:i", "skipped");
	ds_source_free(s);

	put(t, ".dsbuildignore", "sub/\n");
	s = scan(t, NULL, &err);
	ok(s && !find(s, "sub") && !find(s, "sub/b.log"), "an ignored folder is left out whole");
	is_skipped(s, "sub:i", "and listed once, not its files");
	ds_source_free(s);

	put(t, ".dsbuildignore", "[unclosed\n");
	s = scan(t, NULL, &err);
	if (!s) {
		has_str(err.msg, ".dsbuildignore", "a bad ignore file is an error naming it: %s",
			err.msg);
	} else {
		ok(1, "an unclosed class is taken literally (as git does)");
		ds_source_free(s);
	}
	free(t);
}

static void test_exclude_dirs(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	char real[4096];
	ds_source *s;
	ds_source_opts o = DS_SOURCE_OPTS_INIT;
	const char *ex[2];
	char *out, *file;

	mk(t, "out/image/blobs");
	put(t, "out/image/index.json", "{}");
	put(t, "image.tar", "x");
	put(t, "main.py", "x");
	mk(t, "output-not");
	if (!realpath(t, real))
		exit(99);
	out = tu_fmt("%s/out/image", real);
	file = tu_fmt("%s/image.tar", real);
	ex[0] = out;
	ex[1] = file;
	o.exclude_dirs = ex;
	o.n_exclude_dirs = 2;
	s = scan(t, &o, &err);
	ok_err(s != NULL, &err, "scan with two excluded outputs");
	is_listing(s, "main.py[f] out[d] output-not[d]", "the output folder and file are left out");
	is_skipped(s, "image.tar:a out/image:a", "as ALWAYS");
	{
		const ds_source_skip *k = find_skip(s, "out/image");
		is_str(k ? k->why : NULL, "the output folder", "'the output folder'");
	}
	ds_source_free(s);
	free(out);
	free(file);
	free(t);
}

/* ds_source_write_layer: prefix parents owned by root, the tree by uid. */
static void test_write_layer(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	char *sroot = tu_fmt("%s/store", root);
	ds_source *s;
	ds_store *st;
	ds_layer_writer *w;
	ds_layer_info info;
	struct archive *a;
	struct archive_entry *ae;
	ds_buf got = DS_BUF_INIT;

	mk(t, "d");
	put(t, "d/f.txt", "hello");
	ln_s(t, "d/f.txt", "l");
	ln(t, "d/f.txt", "h");
	s = scan(t, NULL, &err);
	ds_store_open(&st, sroot, 1, &err);
	ds_layer_writer_new(&w, st, NULL, &err);
	ok_err(ds_source_write_layer(s, w, "srv/app", 1000, 1001, 1234567890, &err) == 0, &err,
	       "write the tree under srv/app");
	ok_err(ds_layer_writer_finish(w, &info, &err) == 0, &err, "finish the layer");
	a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	{
		ds_buf p = DS_BUF_INIT;
		ds_store_blob_path(st, info.digest, &p, &err);
		archive_read_open_filename(a, p.data, 65536);
		ds_buf_release(&p);
	}
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK)
		ds_buf_addf(&got, "%s %ld:%ld %lo %ld%s%s\n", archive_entry_pathname(ae),
			    (long)archive_entry_uid(ae), (long)archive_entry_gid(ae),
			    (unsigned long)archive_entry_perm(ae), (long)archive_entry_mtime(ae),
			    archive_entry_hardlink(ae) ? " => " : "",
			    archive_entry_hardlink(ae) ? archive_entry_hardlink(ae) : "");
	archive_read_free(a);
	is_str(got.data,
	       "srv/ 0:0 755 1234567890\n"
	       "srv/app/ 1000:1001 755 1234567890\n"
	       "srv/app/d/ 1000:1001 755 1234567890\n"
	       "srv/app/d/f.txt 1000:1001 644 1234567890\n"
	       "srv/app/h 1000:1001 644 1234567890 => srv/app/d/f.txt\n"
	       "srv/app/l 1000:1001 777 1234567890\n",
	       "parents of the prefix owned by root, the rest by uid:gid, one mtime, "
	       "hard links under the prefix");
	ds_buf_release(&got);

	/* a file that changes size between scan and write */
	put(t, "d/f.txt", "hello, longer now");
	ds_layer_writer_new(&w, st, NULL, &err);
	ok(ds_source_write_layer(s, w, "workspace", 0, 0, 0, &err) == -1,
	   "a file that grew since the scan fails");
	has_str(err.msg, "d/f.txt", "naming it: %s", err.msg);
	ds_layer_writer_free(w);
	ds_source_free(s);
	ds_store_free(st);
	free(sroot);
	free(t);
}

/* ---- epoch ------------------------------------------------------------ */

static void test_epoch(void)
{
	ds_error err = DS_ERROR_INIT;
	char *t = new_tree();
	int64_t e = -5;
	ds_epoch_origin o = 0;

	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	ok_err(ds_source_epoch(t, &e, &o, &err) == 0, &err, "SOURCE_DATE_EPOCH=1700000000");
	is_int(e, 1700000000, "is used");
	is_int(o, DS_EPOCH_ENV, "origin ENV");
	setenv("SOURCE_DATE_EPOCH", "0", 1);
	ds_source_epoch(t, &e, &o, &err);
	ok(e == 0 && o == DS_EPOCH_ENV, "0 is valid");
	setenv("SOURCE_DATE_EPOCH", "253402300799", 1);
	ds_source_epoch(t, &e, &o, &err);
	ok(e == 253402300799LL && o == DS_EPOCH_ENV, "9999-12-31T23:59:59Z is the largest");
	{
		static const char *bad[] = { "abc", "-1", "1.5", "12 ", " 12", "0x10", "1e9",
					     "253402300800", "99999999999999999999999" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char want[200];
			e = -5;
			o = 0;
			setenv("SOURCE_DATE_EPOCH", bad[i], 1);
			ok(ds_source_epoch(t, &e, &o, &err) == -1, "SOURCE_DATE_EPOCH='%s' is refused",
			   bad[i]);
			is_int(err.code, DS_EINVAL, "  with DS_EINVAL");
			snprintf(want, sizeof(want),
				 "SOURCE_DATE_EPOCH='%s' is not a number of seconds since 1970", bad[i]);
			is_str(err.msg, want, "  message");
			has_str(err.hint, "unset it", "  hint: %s", err.hint);
			ok(e == -5 && o == 0, "  outputs untouched");
		}
	}
	setenv("SOURCE_DATE_EPOCH", "", 1);
	ok_err(ds_source_epoch(t, &e, &o, &err) == 0, &err, "an empty SOURCE_DATE_EPOCH is unset");
	ok(e == 0 && o == DS_EPOCH_FIXED, "outside git: the fixed epoch 0");
	unsetenv("SOURCE_DATE_EPOCH");
	ds_source_epoch(t, &e, &o, &err);
	ok(e == 0 && o == DS_EPOCH_FIXED, "unset, outside git: the fixed epoch 0");

	if (tu_sh("git --version >/dev/null 2>&1") != 0) {
		ok(0, "git is needed for the git epoch (install the Debian package 'git')");
		free(t);
		return;
	}
	mk(t, "sub");
	mk(t, "other");
	put(t, "sub/a.txt", "a");
	put(t, "other/b.txt", "b");
	ok(tu_sh("cd '%s' && git init -q . && git add sub && "
		 "GIT_COMMITTER_DATE='@1600000000 +0000' GIT_AUTHOR_DATE='@1500000000 +0000' "
		 "git -c user.name=t -c user.email=t@example.com commit -q -m one && git add other && "
		 "GIT_COMMITTER_DATE='@1650000000 +0000' GIT_AUTHOR_DATE='@1650000000 +0000' "
		 "git -c user.name=t -c user.email=t@example.com commit -q -m two",
		 t) == 0,
	   "a git repo with two commits");
	ok_err(ds_source_epoch(t, &e, &o, &err) == 0, &err, "epoch of the repo");
	is_int(e, 1650000000, "the last commit's committer time");
	is_int(o, DS_EPOCH_GIT, "origin GIT");
	{
		char *sub = tu_fmt("%s/sub", t);
		ds_source_epoch(sub, &e, &o, &err);
		is_int(e, 1600000000, "a subfolder: the last commit that touched it");
		is_int(o, DS_EPOCH_GIT, "origin GIT");
		free(sub);
	}
	{
		char *fresh = tu_fmt("%s/untracked", t);
		mkdir(fresh, 0755);
		ds_source_epoch(fresh, &e, &o, &err);
		ok(e == 0 && o == DS_EPOCH_FIXED, "a folder no commit touched: the fixed epoch");
		free(fresh);
	}
	setenv("SOURCE_DATE_EPOCH", "42", 1);
	ds_source_epoch(t, &e, &o, &err);
	ok(e == 42 && o == DS_EPOCH_ENV, "SOURCE_DATE_EPOCH wins over git");
	unsetenv("SOURCE_DATE_EPOCH");
	{
		/* no git on PATH: the fixed epoch, not an error */
		char *path = strdup(getenv("PATH") ? getenv("PATH") : "");
		setenv("PATH", "/nonexistent", 1);
		ok_err(ds_source_epoch(t, &e, &o, &err) == 0, &err, "without git on PATH");
		ok(e == 0 && o == DS_EPOCH_FIXED, "falls back to the fixed epoch");
		setenv("PATH", path, 1);
		free(path);
	}
	free(t);
}

int main(void)
{
	root = tu_tmpdir("source");
	test_order_and_modes();
	test_links();
	test_special_files();
	test_always_skipped();
	test_secrets();
	test_ignore_files();
	test_exclude_dirs();
	test_write_layer();
	test_epoch();
	tu_rm_rf(root);
	free(root);
	free_strs();
	return done_testing();
}
