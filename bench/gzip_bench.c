/* Benchmark driver for lib/oci/gzip.c: gzip_bench [-l LEVEL] [-t THREADS]
 * compresses stdin to stdout in 64 KiB writes, as the layer writer does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "oci/gzip.h"
#include "util/util.h"

static int to_stdout(void *data, const void *buf, size_t len, ds_error *err)
{
	(void)data;
	return ds_write_all(STDOUT_FILENO, buf, len, "stdout", err);
}

int main(int argc, char **argv)
{
	static unsigned char buf[65536];
	int level = 6, threads = 1, c;
	ds_error err = DS_ERROR_INIT;
	ds_gzip *z = NULL;
	ssize_t n;

	while ((c = getopt(argc, argv, "l:t:")) != -1) {
		if (c == 'l')
			level = atoi(optarg);
		else if (c == 't')
			threads = atoi(optarg);
		else {
			fprintf(stderr, "usage: gzip_bench [-l LEVEL] [-t THREADS] <in >out\n");
			return 2;
		}
	}
	if (ds_gzip_new(&z, level, threads, to_stdout, NULL, &err) < 0)
		goto fail;
	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ds_error_set_errno(&err, errno, "cannot read 'stdin'");
			goto fail;
		}
		if (n == 0)
			break;
		if (ds_gzip_write(z, buf, (size_t)n, &err) < 0)
			goto fail;
	}
	if (ds_gzip_finish(z, &err) < 0)
		goto fail;
	ds_gzip_free(z);
	return 0;
fail:
	fprintf(stderr, "gzip_bench: error: %s\n", err.msg);
	ds_gzip_free(z);
	return 1;
}
