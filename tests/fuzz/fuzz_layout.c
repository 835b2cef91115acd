/* Fuzz target: what `dsbuild inspect` and --base read from disk, through
 * ds_image_open() on oci:, oci-archive: and docker-archive:.
 *
 * Input: 3 header bytes, then sections separated by "\n@@@@\n":
 *   byte 0   mode: 0 oci:DIR, 1 oci-archive:, 2 docker-archive:, 3 the rest
 *            of the input is itself a tar, opened as an archive
 *   byte 1   platform (NULL, linux/amd64, linux/arm64, linux/arm/v7,
 *            windows/amd64); its low bit picks oci- or docker-archive in mode 3
 *   byte 2   tag (NULL, latest, v1, app:v1)
 *   section 0  oci-layout (left out when empty)
 *   section 1  index.json (manifest.json in mode 2 without oci-layout)
 *   section 2.. blobs, stored under their sha256
 * So that the fuzzer can build valid chains without computing hashes, a
 * section may name a later one N (a single digit) as "@N" (its digest
 * "sha256:..."), "#N" (its size) or "$N" (its path "blobs/sha256/...").
 *
 * Everything lives in one directory per process (on /dev/shm when there),
 * emptied after each input; extraction temp dirs go there too (TMPDIR). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include <dsbuild/image.h>

#include "util/util.h"

#define MAX_SECTIONS 10
#define SEP "\n@@@@\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *base, *layout, *tarpath;
static int debug; /* FUZZ_LAYOUT_DEBUG=1: say what each input did, on stderr */

static void cleanup(void)
{
	ds_rm_rf(base);
}

static void init(void)
{
	const char *t = getenv("TMPDIR");
	char *tmpl;

	if (access("/dev/shm", W_OK) == 0)
		t = "/dev/shm";
	else if (!t || !*t)
		t = "/tmp";
	tmpl = ds_xasprintf("%s/dsbuild-fuzz-layout-XXXXXX", t);
	if (!mkdtemp(tmpl))
		abort();
	base = tmpl;
	layout = ds_xasprintf("%s/layout", base);
	tarpath = ds_xasprintf("%s/in.tar", base);
	/* ds_archive_open extracts under $TMPDIR */
	setenv("TMPDIR", base, 1);
	atexit(cleanup);
}

typedef struct section {
	const char *p;
	size_t len;
	ds_buf out;  /* after substitution */
	char digest[DS_DIGEST_BUFSZ];
} section;

static size_t split(const char *p, size_t len, section *s)
{
	size_t n = 0;
	const size_t sl = sizeof(SEP) - 1;

	while (n < MAX_SECTIONS) {
		const char *e = memmem(p, len, SEP, sl);
		s[n].p = p;
		s[n].len = e ? (size_t)(e - p) : len;
		n++;
		if (!e)
			break;
		len -= (size_t)(e - p) + sl;
		p = e + sl;
	}
	return n;
}

/* Replaces @N #N $N for N > i; later sections are done first. */
static void substitute(section *s, size_t n, size_t i)
{
	ds_buf *b = &s[i].out;

	ds_buf_init(b, 1 << 20);
	for (size_t k = 0; k < s[i].len; k++) {
		char c = s[i].p[k];
		if ((c == '@' || c == '#' || c == '$') && k + 1 < s[i].len && s[i].p[k + 1] >= '0' &&
		    s[i].p[k + 1] <= '9') {
			size_t j = (size_t)(s[i].p[k + 1] - '0');
			if (j > i && j < n) {
				if (c == '@')
					ds_buf_adds(b, s[j].digest);
				else if (c == '#')
					ds_buf_addf(b, "%zu", s[j].out.len);
				else
					ds_buf_addf(b, "blobs/sha256/%s", ds_digest_hex(s[j].digest));
				k++;
				continue;
			}
		}
		ds_buf_addch(b, c);
	}
	ds_sha256_buf(b->data, b->len, s[i].digest, NULL);
}

static void put_file(const char *dir, const char *name, const ds_buf *b)
{
	char *p = ds_xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd >= 0) {
		ds_write_all(fd, b->data, b->len, p, NULL);
		close(fd);
	}
	free(p);
}

static void tar_add(struct archive *a, const char *name, const ds_buf *b)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)b->len);
	if (archive_write_header(a, e) == ARCHIVE_OK && b->len)
		archive_write_data(a, b->data, b->len);
	archive_entry_free(e);
}

static void build(section *s, size_t n, int mode)
{
	char *blobs = ds_xasprintf("%s/blobs/sha256", layout);
	int legacy = mode == 2 && s[0].out.len == 0;
	const char *second = legacy ? "manifest.json" : "index.json";
	struct archive *a = NULL;

	if (mode == 0) {
		ds_mkdir_p(blobs, 0755, NULL);
	} else {
		a = archive_write_new();
		archive_write_set_format_pax_restricted(a);
		archive_write_open_filename(a, tarpath);
	}
	for (size_t i = 0; i < n; i++) {
		if (i == 0 && s[0].out.len == 0)
			continue;
		if (mode == 0) {
			if (i == 0)
				put_file(layout, "oci-layout", &s[i].out);
			else if (i == 1)
				put_file(layout, "index.json", &s[i].out);
			else
				put_file(blobs, ds_digest_hex(s[i].digest), &s[i].out);
		} else {
			char *name = i == 0 ? ds_xstrdup("oci-layout") :
				     i == 1 ? ds_xstrdup(second) :
					      ds_xasprintf("blobs/sha256/%s", ds_digest_hex(s[i].digest));
			tar_add(a, name, &s[i].out);
			free(name);
		}
	}
	if (a) {
		archive_write_close(a);
		archive_write_free(a);
	}
	free(blobs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const platforms[] = { NULL, "linux/amd64", "linux/arm64", "linux/arm/v7",
						 "windows/amd64" };
	static const char *const tags[] = { NULL, "latest", "v1", "app:v1" };
	section s[MAX_SECTIONS];
	ds_error err = DS_ERROR_INIT;
	ds_image *img = NULL;
	ds_ref ref;
	size_t n = 0;
	int mode, r;

	if (!base) {
		init();
		debug = getenv("FUZZ_LAYOUT_DEBUG") != NULL;
	}
	if (size < 3)
		return 0;
	mode = data[0] % 4;
	memset(&ref, 0, sizeof(ref));
	ref.tag = (char *)tags[data[2] % 4];
	if (mode == 3) {
		ds_buf raw;
		ds_buf_init(&raw, 0);
		ds_buf_add(&raw, data + 3, size - 3);
		put_file(base, "in.tar", &raw);
		ds_buf_release(&raw);
		ref.transport = (data[1] & 1) ? DS_TRANSPORT_DOCKER_ARCHIVE : DS_TRANSPORT_OCI_ARCHIVE;
		ref.path = tarpath;
	} else {
		n = split((const char *)data + 3, size - 3, s);
		for (size_t i = n; i-- > 0;)
			substitute(s, n, i);
		build(s, n, mode);
		ref.transport = mode == 0 ? DS_TRANSPORT_OCI :
				mode == 1 ? DS_TRANSPORT_OCI_ARCHIVE :
					    DS_TRANSPORT_DOCKER_ARCHIVE;
		ref.path = mode == 0 ? layout : tarpath;
	}

	r = ds_image_open(&img, &ref, platforms[data[1] % 5], &err);
	if (debug)
		fprintf(stderr, "mode %d: %s%s\n", mode, r == 0 ? "opened " : "error: ",
			r == 0 ? img->manifest_digest : err.msg);
	if (r == 0) {
		/* what inspect prints must be there */
		if (!img->manifest || !img->config || !ds_digest_valid(img->manifest_digest) ||
		    !ds_digest_valid(img->config_digest))
			__builtin_trap();
		for (size_t i = 0; i < img->n_layers; i++)
			if (!ds_digest_valid(img->layers[i].digest) ||
			    !ds_digest_valid(img->layers[i].diff_id) || !img->layers[i].media_type)
				__builtin_trap();
		ds_image_verify(img, &err);
		img = ds_image_free(img);
	} else if (!err.msg[0]) {
		__builtin_trap(); /* a failure must say why */
	}

	for (size_t i = 0; i < n; i++)
		ds_buf_release(&s[i].out);
	ds_rm_rf(layout);
	unlink(tarpath);
	/* nothing may be left behind: no extraction dir, no temp file */
	{
		DIR *d = opendir(base);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				__builtin_trap();
		if (d)
			closedir(d);
	}
	return 0;
}
