/* Fuzz target: deb822 control data as found in Packages, InRelease and a
 * .deb's control file, and everything parsed out of it (relationship
 * fields, versions, Release SHA256 lists, clearsigned bodies). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dsbuild/debian.h>

#include "debian/control.h"
#include "debian/depends.h"
#include "debian/release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void relations(const char *v)
{
	deb_deps d;

	if (!v)
		return;
	if (deb_deps_parse(&d, v, "amd64", NULL) == 0) {
		for (size_t g = 0; g < d.n; g++)
			for (size_t a = 0; a < d.v[g].n; a++)
				if (d.v[g].alts[a].version)
					(void)deb_op_satisfied(d.v[g].alts[a].op, "1.0-1",
							       d.v[g].alts[a].version);
		deb_deps_release(&d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	deb_control c;
	deb_release r;
	ds_buf body;
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	deb_control_init(&c, buf, size, "fuzz");
	while ((rc = deb_control_next(&c, NULL)) == 1) {
		const char *v = deb_control_get(&c, "Version");
		if (v && ds_debian_version_valid(v))
			(void)ds_debian_version_compare(v, "1:2.0~rc1-1+b1");
		relations(deb_control_get(&c, "Depends"));
		relations(deb_control_get(&c, "Pre-Depends"));
		relations(deb_control_get(&c, "Provides"));
	}
	free(buf);

	/* as a clearsigned InRelease */
	ds_buf_init(&body, 0);
	if (deb_clearsign_body(&body, (const char *)data, size, "fuzz", NULL) == 0) {
		if (deb_release_parse(&r, body.data, body.len, "fuzz", NULL) == 0)
			deb_release_release(&r);
	}
	ds_buf_release(&body);

	/* as an apt.txt */
	{
		char **v;
		size_t n;
		if (ds_debian_apt_txt_parse(&v, &n, (const char *)data, size, "fuzz", NULL) == 0)
			ds_debian_strv_free(v);
	}
	return 0;
}
