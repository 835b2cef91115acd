/* .deb -> layer: synthetic packages made with libarchive (ar + tar.gz)
 * exercise merged /usr, symlink retargeting, hardlinks sorted before their
 * target, setuid bits, left-out docs, duplicates between packages, unsafe
 * paths and paths through symlinks; the layer is read back and checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/debian.h>
#include <dsbuild/store.h>

#include "debian/tree.h"
#include "tap.h"

typedef struct {
	const char *path;
	char type;          /* f file, d dir, l symlink, h hardlink */
	unsigned mode;
	const char *data;   /* file content, or link target */
} ent;

typedef struct {
	char *p;
	size_t len, alloc;
} mem;

static la_ssize_t mem_write(struct archive *a, void *d, const void *buf, size_t n)
{
	mem *m = d;
	if (m->len + n > m->alloc) {
		m->alloc = (m->len + n) * 2;
		m->p = realloc(m->p, m->alloc);
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return (la_ssize_t)n;
}

static mem make_tar(const ent *e, size_t n)
{
	struct archive *a = archive_write_new();
	mem m = { 0 };

	archive_write_set_format_gnutar(a);
	archive_write_add_filter_gzip(a);
	archive_write_open(a, &m, NULL, mem_write, NULL);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_copy_pathname(ae, e[i].path);
		archive_entry_set_mtime(ae, 1700000000 + (time_t)i, 0);
		archive_entry_set_uname(ae, "root");
		switch (e[i].type) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_copy_symlink(ae, e[i].data);
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_copy_hardlink(ae, e[i].data);
			break;
		}
		archive_entry_set_perm(ae, e[i].mode);
		archive_write_header(a, ae);
		if (e[i].type == 'f')
			archive_write_data(a, e[i].data, strlen(e[i].data));
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	return m;
}

static void ar_member(struct archive *a, const char *name, const void *data, size_t len)
{
	struct archive_entry *ae = archive_entry_new();
	archive_entry_copy_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, (la_int64_t)len);
	archive_write_header(a, ae);
	archive_write_data(a, data, len);
	archive_entry_free(ae);
}

/* Writes a .deb named pkg with data entries e to dir/pkg.deb. */
static char *make_deb(const char *dir, const char *pkg, const ent *e, size_t n)
{
	static const ent ctl_tmpl[] = { { "./", 'd', 0755, NULL } };
	char control[256], *path;
	ent ctl[3];
	mem c, d;
	struct archive *a = archive_write_new();

	snprintf(control, sizeof(control), "Package: %s\nVersion: 1.0\nArchitecture: all\n", pkg);
	ctl[0] = ctl_tmpl[0];
	ctl[1] = (ent){ "./control", 'f', 0644, control };
	ctl[2] = (ent){ "./md5sums", 'f', 0644, "d41d8cd98f00b204e9800998ecf8427e  usr/x\n" };
	c = make_tar(ctl, 3);
	d = make_tar(e, n);
	if (asprintf(&path, "%s/%s.deb", dir, pkg) < 0)
		abort();
	archive_write_set_format_ar_svr4(a);
	archive_write_open_filename(a, path);
	ar_member(a, "debian-binary", "2.0\n", 4);
	ar_member(a, "control.tar.gz", c.p, c.len);
	ar_member(a, "data.tar.gz", d.p, d.len);
	archive_write_close(a);
	archive_write_free(a);
	free(c.p);
	free(d.p);
	return path;
}

/* The layer's entries as "path type mode link|size" lines. */
static char *read_layer(ds_store *s, const char *digest, char **data_of_first_file)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char *out = calloc(1, 65536), buf[256];
	size_t len = 0;
	ds_buf p = DS_BUF_INIT;

	ds_buf_init(&p, 0);
	ds_store_blob_path(s, digest, &p, NULL);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	archive_read_open_filename(a, p.data, 65536);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		const char *hl = archive_entry_hardlink(ae), *sl = archive_entry_symlink(ae);
		char t = hl ? 'h' : archive_entry_filetype(ae) == AE_IFDIR ? 'd'
				  : archive_entry_filetype(ae) == AE_IFLNK ? 'l' : 'f';
		len += (size_t)snprintf(out + len, 65536 - len, "%s %c %o %s%s%lld %u:%u\n",
					archive_entry_pathname(ae), t,
					(unsigned)archive_entry_perm(ae), hl ? hl : sl ? sl : "",
					hl || sl ? " " : "", (long long)archive_entry_size(ae),
					(unsigned)archive_entry_uid(ae), (unsigned)archive_entry_gid(ae));
		if (t == 'f' && data_of_first_file && strstr(archive_entry_pathname(ae), "a-link")) {
			la_ssize_t n = archive_read_data(a, buf, sizeof(buf) - 1);
			buf[n > 0 ? n : 0] = '\0';
			*data_of_first_file = strdup(buf);
		}
	}
	archive_read_free(a);
	ds_buf_release(&p);
	return out;
}

static void test_paths(void)
{
	char *s;

	is_str((s = deb_path_normalize("./usr//bin/./x")), "usr/bin/x", "normalize");
	free(s);
	is_str((s = deb_path_normalize("/etc/x/")), "etc/x", "absolute made relative");
	free(s);
	is_str((s = deb_path_normalize("./")), "", "root");
	free(s);
	ok(deb_path_normalize("./usr/../../etc/passwd") == NULL, ".. rejected");
	ok(deb_path_normalize("..") == NULL, "bare .. rejected");
	is_str((s = deb_path_usrmerge("bin/sh")), "usr/bin/sh", "bin merged");
	free(s);
	is_str((s = deb_path_usrmerge("lib64/ld.so")), "usr/lib64/ld.so", "lib64 merged");
	free(s);
	is_str((s = deb_path_usrmerge("libexec/x")), "libexec/x", "libexec untouched");
	free(s);
	is_str((s = deb_path_usrmerge("bin")), "usr/bin", "the dir itself");
	free(s);
	is_str((s = deb_symlink_retarget("bin/sh", "usr/bin/sh", "dash")), "dash", "same dir");
	free(s);
	is_str((s = deb_symlink_retarget("bin/x", "usr/bin/x", "../usr/share/x")), "../share/x",
	       "relative target re-rooted");
	free(s);
	is_str((s = deb_symlink_retarget("lib/x/libz.so.1", "usr/lib/x/libz.so.1",
					 "../../lib/x/libz.so.1.2")),
	       "libz.so.1.2", "target in a merged dir");
	free(s);
	is_str((s = deb_symlink_retarget("sbin/a", "usr/sbin/a", "../bin/b")), "../bin/b",
	       "sibling merged dir");
	free(s);
	is_str((s = deb_symlink_retarget("bin/a", "usr/bin/a", "/usr/bin/b")), "/usr/bin/b",
	       "absolute target kept");
	free(s);
}

int main(void)
{
	char dir[] = "/tmp/test-debian-deb-XXXXXX";
	char *store_dir, *spool, *deb1, *deb2, *deb3, *layer, *first_data = NULL;
	ds_store *s;
	deb_tree *t;
	ds_error err = DS_ERROR_INIT;
	ds_buf control = DS_BUF_INIT, md5 = DS_BUF_INIT;
	ds_layer_info info;
	const char *const *warnings;
	static const ent pkg_a[] = {
		{ "./", 'd', 0755, NULL },
		{ "./bin/", 'd', 0755, NULL },
		{ "./bin/tool", 'f', 04755, "#!tool\n" },
		{ "./bin/sh", 'l', 0777, "dash" },
		{ "./bin/up", 'l', 0777, "../usr/share/x" },
		{ "./lib/", 'd', 0755, NULL },
		{ "./lib/libt.so.1", 'f', 0644, "ELF" },
		{ "./usr/", 'd', 0755, NULL },
		{ "./usr/lib/", 'd', 0755, NULL },
		{ "./usr/lib/z-target", 'f', 0644, "shared data" },
		{ "./usr/lib/a-link", 'h', 0644, "./usr/lib/z-target" },
		{ "./usr/share/", 'd', 0755, NULL },
		{ "./usr/share/doc/", 'd', 0755, NULL },
		{ "./usr/share/doc/a/", 'd', 0755, NULL },
		{ "./usr/share/doc/a/copyright", 'f', 0644, "GPL" },
		{ "./usr/share/doc/a/changelog.gz", 'f', 0644, "old news" },
		{ "./usr/share/man/", 'd', 0755, NULL },
		{ "./usr/share/man/man1/", 'd', 0755, NULL },
		{ "./usr/share/man/man1/a.1.gz", 'f', 0644, "manual" },
		{ "./var/mail/", 'd', 02775, NULL },
		{ "./usr/share/same", 'f', 0644, "from a" },
	};
	static const ent pkg_b[] = {
		{ "./usr/", 'd', 0755, NULL },
		{ "./usr/share/", 'd', 0755, NULL },
		{ "./usr/share/same", 'f', 0644, "from b" },
		{ "./usr/share/deep/er/file", 'f', 0644, "no parents shipped" },
	};
	static const ent pkg_escape[] = {
		{ "./", 'd', 0755, NULL },
		{ "./usr/../../etc/passwd", 'f', 0644, "root::0:0::/:/bin/sh\n" },
	};
	static const ent pkg_link[] = {
		{ "./usr/lib/foo", 'l', 0777, "/etc" },
	};
	static const ent pkg_through[] = {
		{ "./usr/lib/foo/bar", 'f', 0644, "via a symlink" },
	};

	test_paths();
	if (!mkdtemp(dir))
		return 1;
	if (asprintf(&store_dir, "%s/store", dir) < 0 || asprintf(&spool, "%s/spool", dir) < 0)
		return 1;
	ok(ds_store_open(&s, store_dir, 1, &err) == 0, "store");
	ds_buf_init(&control, 0);
	ds_buf_init(&md5, 0);
	deb1 = make_deb(dir, "a", pkg_a, sizeof(pkg_a) / sizeof(pkg_a[0]));
	deb2 = make_deb(dir, "b", pkg_b, sizeof(pkg_b) / sizeof(pkg_b[0]));

	ok(deb_tree_new(&t, spool, &err) == 0, "tree");
	ok(deb_tree_add_deb(t, deb1, "a", &control, &md5, &err) == 0, "deb a read: %s", err.msg);
	ok(strstr(control.data, "Package: a\n") != NULL, "control file returned");
	ok(strstr(md5.data, "usr/x") != NULL, "md5sums returned");
	ok(deb_tree_add_deb(t, deb2, "b", &control, &md5, &err) == 0, "deb b read: %s", err.msg);
	ok(deb_tree_used_toplevel(t, "lib"), "lib used");
	ok(!deb_tree_used_toplevel(t, "lib64"), "lib64 not used");
	ok(deb_tree_write(t, s, NULL, -1, 42, &info, &err) == 0, "layer written: %s", err.msg);
	is_int(deb_tree_warnings(t, &warnings), 1, "one warning");
	if (deb_tree_warnings(t, &warnings))
		is_str(warnings[0], "'usr/share/same' is in both 'a' and 'b': keeping the first",
		       "duplicate named");
	layer = read_layer(s, info.digest, &first_data);
	is_str(layer,
	       "usr/ d 755 0 0:0\n"
	       "usr/bin/ d 755 0 0:0\n"
	       "usr/bin/sh l 777 dash 0 0:0\n"
	       "usr/bin/tool f 755 7 0:0\n"
	       "usr/bin/up l 777 ../share/x 0 0:0\n"
	       "usr/lib/ d 755 0 0:0\n"
	       "usr/lib/a-link f 644 11 0:0\n"
	       "usr/lib/libt.so.1 f 644 3 0:0\n"
	       "usr/lib/z-target h 644 usr/lib/a-link 0 0:0\n"
	       "usr/share/ d 755 0 0:0\n"
	       "usr/share/deep/ d 755 0 0:0\n"
	       "usr/share/deep/er/ d 755 0 0:0\n"
	       "usr/share/deep/er/file f 644 18 0:0\n"
	       "usr/share/doc/ d 755 0 0:0\n"
	       "usr/share/doc/a/ d 755 0 0:0\n"
	       "usr/share/doc/a/copyright f 644 3 0:0\n"
	       "usr/share/man/ d 755 0 0:0\n"
	       "usr/share/same f 644 6 0:0\n"
	       "var/ d 755 0 0:0\n"
	       "var/mail/ d 775 0 0:0\n",
	       "merged /usr, sorted, parents added, docs left out, setuid/setgid dropped, "
	       "hardlink data on the first path");
	is_str(first_data, "shared data", "hardlinked data kept");
	deb_tree_free(t);
	free(layer);

	ok(deb_tree_new(&t, spool, &err) == 0, "tree 2");
	deb3 = make_deb(dir, "evil", pkg_escape, 2);
	ok(deb_tree_add_deb(t, deb3, "evil", &control, &md5, &err) < 0, "'..' escaping rejected");
	is_str(err.msg, "'evil': unsafe path './usr/../../etc/passwd' in data.tar", "message");
	deb_tree_free(t);
	free(deb3);

	ok(deb_tree_new(&t, spool, &err) == 0, "tree 3");
	deb3 = make_deb(dir, "link", pkg_link, 1);
	ok(deb_tree_add_deb(t, deb3, "link", &control, &md5, &err) == 0, "symlink package");
	free(deb3);
	deb3 = make_deb(dir, "through", pkg_through, 1);
	ok(deb_tree_add_deb(t, deb3, "through", &control, &md5, &err) == 0, "second package");
	ok(deb_tree_write(t, s, NULL, -1, 0, &info, &err) < 0, "a path through a symlink rejected");
	is_str(err.msg,
	       "'usr/lib/foo/bar' (from 'through') is inside 'usr/lib/foo', which is a symlink "
	       "(from 'link')",
	       "message");
	deb_tree_free(t);
	free(deb3);

	ok(deb_tree_new(&t, spool, &err) == 0, "tree 4");
	{
		FILE *f;
		if (asprintf(&deb3, "%s/junk.deb", dir) < 0)
			return 1;
		f = fopen(deb3, "w");
		fputs("!<arch>\ngarbage", f);
		fclose(f);
		ok(deb_tree_add_deb(t, deb3, "junk", &control, &md5, &err) < 0, "junk rejected");
		ok(strncmp(err.msg, "'junk': ", 8) == 0, "names the package: %s", err.msg);
		free(deb3);
	}
	deb_tree_free(t);

	ds_buf_release(&control);
	ds_buf_release(&md5);
	ds_store_free(s);
	free(deb1);
	free(deb2);
	free(first_data);
	free(store_dir);
	free(spool);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
