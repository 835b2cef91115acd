/* lib/oci/ref.c: the transports skopeo names, tags, digests, and the
 * errors (with their messages and hints) for what is not a reference. */
#include <dsbuild/image.h>

#include "testutil.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void good(const char *s, ds_transport t, const char *path, const char *tag,
		 const char *digest)
{
	ds_error err = DS_ERROR_INIT;
	ds_ref r;

	memset(&r, 0, sizeof(r));
	ok_err(ds_ref_parse(&r, s, &err) == 0, &err, "'%s' parses", s);
	is_int(r.transport, t, "  transport of '%s'", s);
	is_str(r.path, path, "  path of '%s'", s);
	is_str(r.tag, tag, "  tag of '%s'", s);
	is_str(r.digest, digest, "  digest of '%s'", s);
	ds_ref_release(&r);
}

/* Fails with DS_EINVAL, msg equal to want_msg, hint containing want_hint
 * (or empty when NULL), and out untouched. */
static void bad(const char *s, const char *want_msg, const char *want_hint)
{
	ds_error err = DS_ERROR_INIT;
	ds_ref r;
	char *sentinel = (char *)"untouched";

	r.transport = (ds_transport)77;
	r.path = r.tag = r.digest = sentinel;
	ok(ds_ref_parse(&r, s, &err) == -1, "'%s' is refused", s);
	is_int(err.code, DS_EINVAL, "  with DS_EINVAL");
	is_str(err.msg, want_msg, "  message for '%s'", s);
	if (want_hint)
		has_str(err.hint, want_hint, "  hint for '%s': %s", s, err.hint);
	else
		is_str(err.hint, "", "  no hint for '%s'", s);
	ok(r.transport == 77 && r.path == sentinel && r.tag == sentinel && r.digest == sentinel,
	   "  the output is untouched");
}

int main(void)
{
	char long_tag[200], s[300];

	good("oci:/srv/images/app", DS_TRANSPORT_OCI, "/srv/images/app", NULL, NULL);
	good("oci:out", DS_TRANSPORT_OCI, "out", NULL, NULL);
	good("oci:out:v1", DS_TRANSPORT_OCI, "out", "v1", NULL);
	good("oci:./rel/dir:1.0-rc_2", DS_TRANSPORT_OCI, "./rel/dir", "1.0-rc_2", NULL);
	good("oci:out:team/app:v1", DS_TRANSPORT_OCI, "out", "team/app:v1", NULL);
	good("oci-archive:app.tar", DS_TRANSPORT_OCI_ARCHIVE, "app.tar", NULL, NULL);
	good("oci-archive:/tmp/app.tar:latest", DS_TRANSPORT_OCI_ARCHIVE, "/tmp/app.tar", "latest",
	     NULL);
	good("docker-archive:app.tar", DS_TRANSPORT_DOCKER_ARCHIVE, "app.tar", NULL, NULL);
	good("docker-archive:app.tar:", DS_TRANSPORT_DOCKER_ARCHIVE, "app.tar", NULL, NULL);
	good("docker-archive:app.tar:myapp:1.0", DS_TRANSPORT_DOCKER_ARCHIVE, "app.tar", "myapp:1.0",
	     NULL);
	good("docker-archive:/x/app.tar:reg.io/team/app:1.0", DS_TRANSPORT_DOCKER_ARCHIVE,
	     "/x/app.tar", "reg.io/team/app:1.0", NULL);
	good("docker://alpine", DS_TRANSPORT_DOCKER, "alpine", NULL, NULL);
	good("docker://alpine:3.19", DS_TRANSPORT_DOCKER, "alpine", "3.19", NULL);
	good("docker://localhost:5000/app", DS_TRANSPORT_DOCKER, "localhost:5000/app", NULL, NULL);
	good("docker://localhost:5000/team/app:v2", DS_TRANSPORT_DOCKER, "localhost:5000/team/app",
	     "v2", NULL);
	good("docker://ghcr.io/o/app@sha256:" D64, DS_TRANSPORT_DOCKER, "ghcr.io/o/app", NULL,
	     "sha256:" D64);
	good("docker://ghcr.io/o/app:1.2@sha256:" D64, DS_TRANSPORT_DOCKER, "ghcr.io/o/app", "1.2",
	     "sha256:" D64);
	good("docker://127.0.0.1:5000/app@sha256:" D64, DS_TRANSPORT_DOCKER, "127.0.0.1:5000/app",
	     NULL, "sha256:" D64);

	memset(long_tag, 'a', 128);
	long_tag[128] = '\0';
	snprintf(s, sizeof(s), "oci:out:%s", long_tag);
	good(s, DS_TRANSPORT_OCI, "out", long_tag, NULL);

	/* no transport */
	bad("out", "'out' does not name a transport", "oci:DIR[:TAG]");
	bad("/srv/images/app", "'/srv/images/app' does not name a transport", "oci:DIR[:TAG]");
	bad("", "'' does not name a transport", "docker://HOST/REPO[:TAG]");
	bad("OCI:out", "'OCI:out' does not name a transport", "oci:DIR[:TAG]");
	bad("docker:alpine", "'docker:alpine' does not name a transport", "oci:DIR[:TAG]");
	bad("dir:out", "'dir:out' does not name a transport", "oci-archive:FILE");
	/* no path */
	bad("oci:", "'oci:' names no path", NULL);
	bad("oci::v1", "'oci::v1' names no path", NULL);
	bad("oci-archive:", "'oci-archive:' names no path", NULL);
	bad("docker-archive:", "'docker-archive:' names no file", NULL);
	bad("docker-archive::app:1", "'docker-archive::app:1' names no file", NULL);
	bad("docker://", "'docker://' names no repository", NULL);
	bad("docker://:v1", "'docker://:v1' names no repository", NULL);
	/* bad tags */
	bad("oci:out:", "invalid tag '' in 'oci:out:'", "letters, digits");
	bad("oci:out:bad tag", "invalid tag 'bad tag' in 'oci:out:bad tag'", "letters, digits");
	bad("oci:out:-v1", "invalid tag '-v1' in 'oci:out:-v1'", "letters, digits");
	bad("oci:out:.v1", "invalid tag '.v1' in 'oci:out:.v1'", "letters, digits");
	bad("oci:out::v1", "invalid tag ':v1' in 'oci:out::v1'", "letters, digits");
	bad("oci-archive:a.tar:v$1", "invalid tag 'v$1' in 'oci-archive:a.tar:v$1'",
	    "letters, digits");
	memset(long_tag, 'a', 129);
	long_tag[129] = '\0';
	snprintf(s, sizeof(s), "oci:out:%s", long_tag);
	{
		char want[800];
		snprintf(want, sizeof(want), "invalid tag '%s' in '%s'", long_tag, s);
		bad(s, want, "letters, digits");
	}
	bad("docker://alpine:", "invalid tag '' in 'docker://alpine:'", NULL);
	bad("docker://alpine:3 19", "invalid tag '3 19' in 'docker://alpine:3 19'", NULL);
	/* bad digests */
	bad("docker://alpine@sha256:abc", "invalid digest in 'docker://alpine@sha256:abc'",
	    "sha256:<64 hex digits>");
	bad("docker://alpine@", "invalid digest in 'docker://alpine@'", "sha256:<64 hex digits>");
	bad("docker://alpine@sha256:" D64 "0", "invalid digest in 'docker://alpine@sha256:" D64 "0'",
	    "sha256:<64 hex digits>");

	{
		ds_ref r;
		ds_error err = DS_ERROR_INIT;
		ds_ref_parse(&r, "oci:out:v1", &err);
		ds_ref_release(&r);
		ok(r.path == NULL && r.tag == NULL && r.digest == NULL, "release clears the fields");
		ds_ref_release(&r);
		ds_ref_release(NULL);
		ok(1, "a second release and a NULL release are harmless");
	}
	return done_testing();
}
