/* Registry references: Docker's defaults and grammar. */
#include <dsbuild/registry.h>

#include "tap.h"

static void check(const char *in, const char *domain, const char *host, const char *repo,
		  const char *tag, const char *digest)
{
	ds_registry_ref r = { 0 };
	ds_error err = DS_ERROR_INIT;
	int rc = ds_registry_ref_parse(&r, in, &err);

	ok(rc == 0, "parse '%s'%s%s", in, rc ? ": " : "", rc ? err.msg : "");
	if (rc)
		return;
	is_str(r.domain, domain, "'%s' domain", in);
	is_str(r.host, host, "'%s' API host", in);
	is_str(r.repo, repo, "'%s' repo", in);
	is_str(r.tag, tag, "'%s' tag", in);
	is_str(r.digest, digest, "'%s' digest", in);
	ds_registry_ref_release(&r);
}

static void bad(const char *in, int code, const char *needle)
{
	ds_registry_ref r = { 0 };
	ds_error err = DS_ERROR_INIT;
	int rc = ds_registry_ref_parse(&r, in, &err);

	ok(rc == -1, "'%s' rejected", in);
	is_int(err.code, code, "'%s' error code", in);
	ok(needle == NULL || strstr(err.msg, needle) != NULL, "'%s' message names '%s': %s", in,
	   needle ? needle : "", err.msg);
	ds_registry_ref_release(&r);
}

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int main(void)
{
	/* Docker Hub defaults */
	check("busybox", "docker.io", "registry-1.docker.io", "library/busybox", "latest", NULL);
	check("docker://busybox:1.36", "docker.io", "registry-1.docker.io", "library/busybox",
	      "1.36", NULL);
	check("user/app", "docker.io", "registry-1.docker.io", "user/app", "latest", NULL);
	check("docker.io/library/python:3.11-slim", "docker.io", "registry-1.docker.io",
	      "library/python", "3.11-slim", NULL);
	check("index.docker.io/python", "docker.io", "registry-1.docker.io", "library/python",
	      "latest", NULL);
	/* registries with ports, localhost, IPs */
	check("docker://127.0.0.1:5000/team/app:v1", "127.0.0.1:5000", "127.0.0.1:5000", "team/app",
	      "v1", NULL);
	check("localhost/app", "localhost", "localhost", "app", "latest", NULL);
	check("localhost:5000/app", "localhost:5000", "localhost:5000", "app", "latest", NULL);
	check("[::1]:5000/app:x", "[::1]:5000", "[::1]:5000", "app", "x", NULL);
	check("GHCR.IO/owner/app", "ghcr.io", "ghcr.io", "owner/app", "latest", NULL);
	check("Registry/app", "registry", "registry", "app", "latest", NULL);
	/* "localhost:5000" alone is name + tag, as in Docker */
	check("localhost:5000", "docker.io", "registry-1.docker.io", "library/localhost", "5000",
	      NULL);
	/* digests, with and without a tag */
	check("ghcr.io/a/b@" D64, "ghcr.io", "ghcr.io", "a/b", NULL, D64);
	check("ghcr.io/a/b:t@" D64, "ghcr.io", "ghcr.io", "a/b", "t", D64);
	/* separators in path components */
	check("r.io/a.b/c_d/e__f/g--h-i:T_1.x-y", "r.io", "r.io", "a.b/c_d/e__f/g--h-i", "T_1.x-y",
	      NULL);

	bad("", DS_EINVAL, "empty");
	bad("docker://", DS_EINVAL, NULL);
	bad("r.io/App", DS_EINVAL, "'App'");
	bad("r.io/a__b_/c", DS_EINVAL, "component");
	bad("r.io/a___b", DS_EINVAL, "component");
	bad("r.io/a//b", DS_EINVAL, "component");
	bad("r.io/a/", DS_EINVAL, "component");
	bad("r.io/-a", DS_EINVAL, "component");
	bad("r.io/a:", DS_EINVAL, "bad tag");
	bad("r.io/a:.x", DS_EINVAL, "bad tag");
	bad("r.io/a:x/y", DS_EINVAL, NULL);
	bad("r.io:99999/a", DS_EINVAL, "bad registry");
	bad("r.io:0/a", DS_EINVAL, "bad registry");
	bad("r-.io/a", DS_EINVAL, "bad registry");
	bad("r..io/a", DS_EINVAL, "bad registry");
	bad("r.io/a@sha256:abc", DS_EINVAL, "bad digest");
	bad("r.io/a@sha512:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    DS_EUNSUPPORTED, "sha512");
	{
		char tag[200];
		memset(tag, 'a', sizeof(tag));
		memcpy(tag, "r.io/a:", 7);
		tag[7 + 129] = '\0';
		bad(tag, DS_EINVAL, "bad tag");
		char name[300];
		memset(name, 'a', sizeof(name));
		memcpy(name, "r.io/", 5);
		name[5 + 256] = '\0';
		bad(name, DS_EINVAL, "longer than");
	}

	/* format round trip */
	{
		ds_registry_ref r = { 0 };
		ds_error err = DS_ERROR_INIT;
		char *s;
		ok(ds_registry_ref_parse(&r, "busybox", &err) == 0, "parse busybox");
		s = ds_registry_ref_format(&r);
		is_str(s, "docker.io/library/busybox:latest", "canonical form");
		free(s);
		ds_registry_ref_release(&r);
	}
	/* from a ds_ref as lib/oci/ref.c gives it */
	{
		ds_ref in = { DS_TRANSPORT_DOCKER, (char *)"127.0.0.1:5000/x/y", (char *)"t", NULL };
		ds_registry_ref r = { 0 };
		ds_error err = DS_ERROR_INIT;
		ok(ds_registry_ref_from_ref(&r, &in, &err) == 0, "from ds_ref");
		is_str(r.host, "127.0.0.1:5000", "host from ds_ref");
		is_str(r.repo, "x/y", "repo from ds_ref");
		is_str(r.tag, "t", "tag from ds_ref");
		ds_registry_ref_release(&r);
		in.transport = DS_TRANSPORT_OCI;
		ok(ds_registry_ref_from_ref(&r, &in, &err) == -1, "oci: ref refused");
	}
	/* login's registry names */
	{
		static const char *const cases[][2] = {
			{ "docker.io", "docker.io" },
			{ "https://index.docker.io/v1/", "docker.io" },
			{ "registry-1.docker.io", "docker.io" },
			{ "127.0.0.1:5000", "127.0.0.1:5000" },
			{ "http://Localhost:5000/v2/", "localhost:5000" },
			{ "ghcr.io/owner", "ghcr.io" },
		};
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *d = NULL;
			ds_error err = DS_ERROR_INIT;
			ok(ds_registry_domain_parse(&d, cases[i][0], &err) == 0, "domain '%s'",
			   cases[i][0]);
			is_str(d, cases[i][1], "domain of '%s'", cases[i][0]);
			free(d);
		}
		char *d = NULL;
		ds_error err = DS_ERROR_INIT;
		ok(ds_registry_domain_parse(&d, "bad host!", &err) == -1, "bad registry name refused");
	}
	/* loopback */
	ok(ds_registry_host_is_loopback("localhost:5000"), "localhost:5000 is loopback");
	ok(ds_registry_host_is_loopback("127.0.0.1"), "127.0.0.1 is loopback");
	ok(ds_registry_host_is_loopback("127.1.2.3:80"), "127.1.2.3:80 is loopback");
	ok(ds_registry_host_is_loopback("[::1]:5000"), "[::1]:5000 is loopback");
	ok(!ds_registry_host_is_loopback("127.example.com"), "127.example.com is not");
	ok(!ds_registry_host_is_loopback("localhost.evil.com"), "localhost.evil.com is not");
	ok(!ds_registry_host_is_loopback("10.0.0.1:5000"), "10.0.0.1 is not");
	return done_testing();
}
