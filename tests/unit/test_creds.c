/* Credentials: auth files in the order Docker/podman use, credHelpers and
 * credsStore through a fake docker-credential-* helper, login and logout. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/creds.h"
#include "util/util.h"

#include "tap.h"

static char root[256];

static void put(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	ds_error err = DS_ERROR_INIT;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	ds_mkdir_p(p, 0755, &err);
	*slash = '/';
	if (ds_write_file_atomic(p, text, strlen(text), &err) < 0 || chmod(p, mode) < 0)
		printf("# cannot write %s: %s\n", p, err.msg);
}

static char *path(const char *rel)
{
	return ds_xasprintf("%s/%s", root, rel);
}

static void unset_all(void)
{
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("DOCKER_CONFIG");
}

static void lookup(const char *domain, const char *repo, const char *auth_file, const char *user,
		   const char *pass, const char *source_part, const char *what)
{
	ds_creds c;
	ds_error err = DS_ERROR_INIT;
	int rc = ds_creds_lookup(&c, domain, repo, auth_file, NULL, &err);

	ok(rc == 0, "%s: lookup ok%s%s", what, rc ? ": " : "", rc ? err.msg : "");
	if (rc)
		return;
	is_str(c.username, user, "%s: user", what);
	is_str(c.password, pass, "%s: password", what);
	ok(!source_part || (c.source && strstr(c.source, source_part)), "%s: source '%s' has '%s'",
	   what, c.source ? c.source : "(null)", source_part ? source_part : "");
	ds_creds_release(&c);
}

/* base64 of "u:p" etc. */
#define B64_DOCKER "ZHU6ZHA=" /* du:dp */
#define B64_PODMAN "cHU6cHA=" /* pu:pp */
#define B64_REPO "cnU6cnA="   /* ru:rp */

int main(void)
{
	char *old_path = ds_xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	ds_error err = DS_ERROR_INIT;

	snprintf(root, sizeof(root), "/tmp/dsbuild-test-creds-XXXXXX");
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	unset_all();
	setenv("HOME", root, 1);
	{
		char *bin = path("bin");
		char *p = ds_xasprintf("%s:%s", bin, old_path);
		setenv("PATH", p, 1);
		free(p);
		free(bin);
	}
	/* A fake helper: answers for helper.example, stores/erases into files. */
	put("bin/docker-credential-dstest",
	    "#!/bin/sh\n"
	    "d=$(dirname \"$0\")\n"
	    "case \"$1\" in\n"
	    "get) read -r host\n"
	    "  if [ -f \"$d/stored-$host\" ]; then cat \"$d/stored-$host\"; exit 0; fi\n"
	    "  case \"$host\" in\n"
	    "  helper.example) echo '{\"ServerURL\":\"helper.example\",\"Username\":\"hu\","
	    "\"Secret\":\"hp\"}';;\n"
	    "  token.example) echo '{\"ServerURL\":\"token.example\",\"Username\":\"<token>\","
	    "\"Secret\":\"refresh-123\"}';;\n"
	    "  https://index.docker.io/v1/) echo '{\"Username\":\"hub\",\"Secret\":\"hubp\"}';;\n"
	    "  broken.example) echo 'kaboom' >&2; exit 3;;\n"
	    "  *) echo 'credentials not found in native keychain'; exit 1;;\n"
	    "  esac;;\n"
	    "store) cat > \"$d/store-input\";;\n"
	    "erase) read -r host; echo \"$host\" > \"$d/erased\";;\n"
	    "esac\n",
	    0755);

	/* 1. nothing configured: anonymous, not an error */
	lookup("r.example", NULL, NULL, NULL, NULL, NULL, "no files");

	/* 2. ~/.docker/config.json with Docker Hub's legacy key and a plain host */
	put(".docker/config.json",
	    "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_DOCKER "\"},"
	    "\"r.example:5000\":{\"username\":\"uu\",\"password\":\"pp:with:colons\"},"
	    "\"http://old.example/v1/\":{\"auth\":\"" B64_DOCKER "\"}}}",
	    0600);
	lookup("docker.io", "library/busybox", NULL, "du", "dp", ".docker/config.json",
	       "docker hub legacy key");
	lookup("r.example:5000", NULL, NULL, "uu", "pp:with:colons", "config.json",
	       "username/password fields");
	lookup("old.example", NULL, NULL, "du", "dp", NULL, "scheme and /v1/ stripped");
	lookup("r.example", NULL, NULL, NULL, NULL, NULL, "port must match");

	/* 3. podman's auth.json wins over Docker's; repo-scoped keys are most specific */
	put(".config/containers/auth.json",
	    "{\"auths\":{\"docker.io\":{\"auth\":\"" B64_PODMAN "\"},"
	    "\"docker.io/team\":{\"auth\":\"" B64_REPO "\"}}}",
	    0600);
	lookup("docker.io", "library/busybox", NULL, "pu", "pp", "containers/auth.json",
	       "auth.json before config.json");
	lookup("docker.io", "team/app", NULL, "ru", "rp", NULL, "repository-scoped key");
	lookup("docker.io", "teamx/app", NULL, "pu", "pp", NULL, "scoped key matches components");

	/* 4. $REGISTRY_AUTH_FILE first; DOCKER_CONFIG moves config.json */
	put("raf.json", "{\"auths\":{\"docker.io\":{\"auth\":\"" B64_DOCKER "\"}}}", 0600);
	{
		char *p = path("raf.json");
		setenv("REGISTRY_AUTH_FILE", p, 1);
		lookup("docker.io", "library/x", NULL, "du", "dp", "raf.json", "REGISTRY_AUTH_FILE");
		/* an explicit --authfile is the only file read */
		char *missing = path("nope.json");
		lookup("docker.io", "library/x", missing, NULL, NULL, NULL, "--authfile only");
		free(missing);
		unsetenv("REGISTRY_AUTH_FILE");
		free(p);
	}
	put("dc/config.json", "{\"auths\":{\"dc.example\":{\"auth\":\"" B64_REPO "\"}}}", 0600);
	{
		char *p = path("dc");
		setenv("DOCKER_CONFIG", p, 1);
		lookup("dc.example", NULL, NULL, "ru", "rp", "dc/config.json", "DOCKER_CONFIG");
		lookup("r.example:5000", NULL, NULL, NULL, NULL, NULL,
		       "~/.docker ignored with DOCKER_CONFIG");
		unsetenv("DOCKER_CONFIG");
		free(p);
	}

	/* 5. helpers: credHelpers per registry, credsStore for the rest */
	put(".docker/config.json",
	    "{\"credHelpers\":{\"helper.example\":\"dstest\",\"token.example\":\"dstest\","
	    "\"broken.example\":\"dstest\",\"missing.example\":\"nosuchhelper\"},"
	    "\"credsStore\":\"dstest\",\"auths\":{\"https://index.docker.io/v1/\":{}}}",
	    0600);
	{
		char *p = path(".config/containers/auth.json");
		unlink(p);
		free(p);
	}
	lookup("helper.example", NULL, NULL, "hu", "hp", "docker-credential-dstest",
	       "credHelpers entry");
	lookup("docker.io", "library/x", NULL, "hub", "hubp", "docker-credential-dstest",
	       "credsStore for an empty auths entry");
	lookup("unknown.example", NULL, NULL, NULL, NULL, NULL, "helper 'not found' is anonymous");
	{
		ds_creds c;
		ok(ds_creds_lookup(&c, "token.example", NULL, NULL, NULL, &err) == 0,
		   "identity token from helper");
		is_str(c.identity_token, "refresh-123", "<token> user means identity token");
		ok(c.username == NULL, "no username with an identity token");
		ds_creds_release(&c);

		ds_buf tried;
		ds_buf_init(&tried, 4096);
		ok(ds_creds_lookup(&c, "missing.example", NULL, NULL, &tried, &err) == -1,
		   "missing helper is an error");
		is_int(err.code, DS_EAUTH, "missing helper: DS_EAUTH");
		ok(strstr(err.msg, "docker-credential-nosuchhelper") != NULL,
		   "message names the helper: %s", err.msg);
		ok(strstr(err.msg, ".docker/config.json") != NULL, "message names the file");
		ok(strstr(err.hint, "install") != NULL, "hint says what to do: %s", err.hint);
		ds_buf_release(&tried);

		ok(ds_creds_lookup(&c, "broken.example", NULL, NULL, NULL, &err) == -1,
		   "failing helper is an error");
		ok(strstr(err.msg, "kaboom") != NULL && strstr(err.msg, "exit 3") != NULL,
		   "failing helper's output and status shown: %s", err.msg);
	}

	/* 6. malformed files and entries */
	put(".docker/config.json", "{\"auths\":{\"bad.example\":{\"auth\":\"!!notbase64\"}}}",
	    0600);
	{
		ds_creds c;
		ok(ds_creds_lookup(&c, "bad.example", NULL, NULL, NULL, &err) == -1,
		   "malformed auth refused");
		ok(strstr(err.msg, "bad.example") != NULL, "names the entry: %s", err.msg);
		put(".docker/config.json", "{not json", 0600);
		ok(ds_creds_lookup(&c, "x.example", NULL, NULL, NULL, &err) == -1,
		   "malformed file refused");
		ok(strstr(err.msg, "config.json") != NULL, "names the file: %s", err.msg);
	}

	/* 7. --creds */
	{
		ds_creds c;
		ok(ds_creds_from_string(&c, "me:p:w", &err) == 0, "--creds parses");
		is_str(c.username, "me", "--creds user");
		is_str(c.password, "p:w", "--creds password keeps ':'");
		ds_creds_release(&c);
		ok(ds_creds_from_string(&c, "nopass", &err) == -1, "--creds without ':' refused");
		ok(ds_creds_from_string(&c, ":x", &err) == -1, "--creds without user refused");
	}

	/* 8. save and erase: file entries with 0600, other keys kept */
	{
		char *p = path(".docker/config.json");
		unlink(p);
		free(p);
	}
	{
		char *where = NULL;
		struct stat st;
		char *cfg = path(".docker/config.json");
		ok(ds_creds_save("127.0.0.1:5000", "user", "s3cret", NULL, &where, &err) == 0,
		   "save to a new config.json: %s", err.msg);
		is_str(where, cfg, "saved where expected");
		free(where);
		ok(stat(cfg, &st) == 0 && (st.st_mode & 0777) == 0600, "config.json is 0600");
		lookup("127.0.0.1:5000", NULL, NULL, "user", "s3cret", NULL, "saved creds read back");
		ok(ds_creds_save("docker.io", "hubu", "hubp", NULL, NULL, &err) == 0, "save hub");
		ds_buf b;
		ds_buf_init(&b, 1 << 20);
		ds_read_file(cfg, 1 << 20, &b, &err);
		ok(strstr(b.data, "https://index.docker.io/v1/") != NULL,
		   "hub saved under Docker's key");
		ok(strstr(b.data, "127.0.0.1:5000") != NULL, "other entry kept");
		ds_buf_release(&b);
		ok(ds_creds_erase("127.0.0.1:5000", NULL, &where, &err) == 0, "erase");
		free(where);
		lookup("127.0.0.1:5000", NULL, NULL, NULL, NULL, NULL, "erased");
		lookup("docker.io", "library/x", NULL, "hubu", "hubp", NULL, "hub still there");
		ok(ds_creds_erase("127.0.0.1:5000", NULL, NULL, &err) == -1, "erase twice fails");
		is_int(err.code, DS_ENOENT, "not logged in: DS_ENOENT");
		/* an unrelated key survives a save */
		put(".docker/config.json", "{\"psFormat\":\"x\",\"auths\":{}}", 0600);
		ok(ds_creds_save("a.example", "u", "p", NULL, NULL, &err) == 0, "save keeps keys");
		ds_buf_init(&b, 1 << 20);
		ds_read_file(cfg, 1 << 20, &b, &err);
		ok(strstr(b.data, "psFormat") != NULL, "psFormat kept");
		ds_buf_release(&b);
		free(cfg);
	}
	/* login through a configured helper */
	put(".docker/config.json", "{\"credHelpers\":{\"h.example\":\"dstest\"}}", 0600);
	{
		char *where = NULL;
		ds_buf b;
		ok(ds_creds_save("h.example", "hu2", "hp2", NULL, &where, &err) == 0,
		   "save through a helper");
		is_str(where, "credential helper 'docker-credential-dstest'", "helper named");
		free(where);
		char *in = path("bin/store-input");
		ds_buf_init(&b, 1 << 20);
		ok(ds_read_file(in, 1 << 20, &b, &err) == 0 && strstr(b.data, "\"Secret\":\"hp2\"") &&
			   strstr(b.data, "\"ServerURL\":\"h.example\""),
		   "helper got the JSON: %s", b.data);
		ds_buf_release(&b);
		free(in);
		ok(ds_creds_erase("h.example", NULL, NULL, &err) == 0, "erase through a helper");
		in = path("bin/erased");
		ds_buf_init(&b, 1 << 20);
		ok(ds_read_file(in, 1 << 20, &b, &err) == 0 && strstr(b.data, "h.example"),
		   "helper erased the host");
		ds_buf_release(&b);
		free(in);
	}
	/* base64 */
	{
		size_t n;
		char *e = ds_base64_encode("u:p", 3);
		is_str(e, "dTpw", "base64 encode");
		char *d = ds_base64_decode(e, &n);
		is_str(d, "u:p", "base64 decode");
		is_int(n, 3, "decoded length");
		free(d);
		free(e);
		ok(ds_base64_decode("abc", &n) == NULL, "bad base64 length refused");
		ok(ds_base64_decode("a*c=", &n) == NULL, "bad base64 char refused");
	}

	ds_rm_rf(root);
	setenv("PATH", old_path, 1);
	free(old_path);
	return done_testing();
}
