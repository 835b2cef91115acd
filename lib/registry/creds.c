#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/evp.h>

#include <dsbuild/registry.h>

#include "registry/creds.h"
#include "util/util.h"

extern char **environ;

#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

char *ds_base64_encode(const void *data, size_t len)
{
	char *out = ds_xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

char *ds_base64_decode(const char *s, size_t *len_out)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *out;
	int r;

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	if (n == 0 || n % 4 != 0 || n > DS_CREDS_FILE_MAX)
		return NULL;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	out = ds_xmalloc(n / 4 * 3 + 1);
	r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r < pad) {
		free(out);
		return NULL;
	}
	r -= (int)pad;
	out[r] = '\0';
	if (len_out)
		*len_out = (size_t)r;
	return (char *)out;
}

void ds_creds_release(ds_creds *c)
{
	if (!c)
		return;
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	if (c->identity_token)
		explicit_bzero(c->identity_token, strlen(c->identity_token));
	free(c->username);
	free(c->password);
	free(c->identity_token);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

int ds_creds_from_string(ds_creds *out, const char *s, ds_error *err)
{
	const char *colon = s ? strchr(s, ':') : NULL;

	if (!colon || colon == s) {
		ds_error_set(err, DS_EINVAL, "credentials must be USER:PASSWORD");
		return ds_error_hint(err, "pass --creds USER:PASSWORD");
	}
	memset(out, 0, sizeof(*out));
	out->username = ds_xstrndup(s, (size_t)(colon - s));
	out->password = ds_xstrdup(colon + 1);
	out->source = ds_xstrdup("--creds");
	return 0;
}

/* An "auths" key reduced to "host[/path]": scheme and a /v1/ or /v2/ API
 * path dropped, Docker Hub's names folded to docker.io. */
static char *normalise_key(const char *key)
{
	const char *p = key;
	char *k, *slash;
	size_t n;

	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	k = ds_xstrdup(p);
	n = strlen(k);
	while (n && k[n - 1] == '/')
		k[--n] = '\0';
	if (n >= 3 && (!strcmp(k + n - 3, "/v1") || !strcmp(k + n - 3, "/v2")))
		k[n - 3] = '\0';
	slash = strchr(k, '/');
	for (char *q = k; *q && q != slash; q++)
		*q = (char)tolower((unsigned char)*q);
	n = slash ? (size_t)(slash - k) : strlen(k);
	if ((n == 15 && !strncmp(k, "index.docker.io", n)) ||
	    (n == 20 && !strncmp(k, "registry-1.docker.io", n))) {
		char *d = ds_xasprintf("docker.io%s", slash ? slash : "");
		free(k);
		k = d;
	}
	return k;
}

/* How well key matches domain/repo: 0 no, 1 the registry, 1 + length for a
 * repository-scoped key (more specific wins). */
static size_t key_match(const char *key, const char *domain, const char *repo)
{
	_cleanup_free_ char *k = normalise_key(key);
	size_t dn = strlen(domain);

	if (!strcmp(k, domain))
		return 1;
	if (!repo || strncmp(k, domain, dn) != 0 || k[dn] != '/')
		return 0;
	const char *kp = k + dn + 1;
	size_t kn = strlen(kp);
	if (!strncmp(repo, kp, kn) && (repo[kn] == '\0' || repo[kn] == '/'))
		return 1 + kn;
	return 0;
}

static int helper_name_valid(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static const char *helper_server(const char *domain)
{
	return !strcmp(domain, "docker.io") ? DOCKER_HUB_KEY : domain;
}

static int read_pipes(int fd_out, int fd_err, ds_buf *out, ds_buf *errb, ds_error *err)
{
	struct pollfd p[2] = { { fd_out, POLLIN, 0 }, { fd_err, POLLIN, 0 } };
	time_t deadline = time(NULL) + DS_CREDS_HELPER_TIMEOUT_S;
	char tmp[4096];

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int left = (int)(deadline - time(NULL));
		if (left <= 0)
			return ds_error_set(err, DS_EAUTH, "timed out after %d s",
					    DS_CREDS_HELPER_TIMEOUT_S);
		int r = poll(p, 2, left * 1000);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ds_error_set_errno(err, errno, "poll");
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t n = read(p[i].fd, tmp, sizeof(tmp));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				continue;
			}
			ds_buf *b = i == 0 ? out : errb;
			if (ds_buf_add(b, tmp, (size_t)n) < 0)
				return ds_error_set(err, DS_EAUTH, "printed more than %zu bytes",
						    DS_CREDS_HELPER_OUTPUT_MAX);
		}
	}
	return 0;
}

int ds_creds_helper_run(const char *name, const char *action, const char *input, ds_buf *out,
			int *status, ds_error *err)
{
	_cleanup_free_ char *prog = ds_xasprintf("docker-credential-%s", name);
	char *argv[] = { prog, (char *)action, NULL };
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 };
	ds_buf errb;
	pid_t pid;
	int r, ws = 0, rc = -1;

	if (!helper_name_valid(name))
		return ds_error_set(err, DS_EAUTH, "invalid credential helper name '%s'", name);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) {
		ds_error_set_errno(err, errno, "cannot run '%s'", prog);
		goto out_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, e[1], 2);
	r = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		if (r == ENOENT)
			ds_error_set(err, DS_EAUTH, "credential helper '%s' not found in PATH", prog);
		else
			ds_error_set_errno(err, r, "cannot run credential helper '%s'", prog);
		if (err)
			err->code = DS_EAUTH;
		goto out_pipes;
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	in[0] = o[1] = e[1] = -1;
	{
		/* The input is small (a host name or one JSON object): it fits
		 * the pipe, so writing before reading cannot deadlock. */
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		size_t len = strlen(input);
		ssize_t w = len ? write(in[1], input, len) : 0;
		(void)w;
		signal(SIGPIPE, old);
	}
	close(in[1]);
	in[1] = -1;
	ds_buf_init(&errb, DS_CREDS_HELPER_OUTPUT_MAX);
	r = read_pipes(o[0], e[0], out, &errb, err);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (r < 0) {
		ds_error_wrap(err, "credential helper '%s'", prog);
		if (err)
			err->code = DS_EAUTH;
		ds_buf_release(&errb);
		goto out_pipes;
	}
	/* Helpers report "not found" on stdout; keep stderr for messages. */
	if (!(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) && out->len == 0 && errb.len)
		ds_buf_add(out, errb.data, errb.len);
	ds_buf_release(&errb);
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	rc = 0;
out_pipes:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (o[i] >= 0)
			close(o[i]);
		if (e[i] >= 0)
			close(e[i]);
	}
	return rc;
}

static void trim(ds_buf *b)
{
	while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r' ||
			  b->data[b->len - 1] == ' '))
		b->data[--b->len] = '\0';
}

/* Asks a helper.  Not found: 0 with out anonymous. */
static int helper_get(ds_creds *out, const char *name, const char *domain, const char *file,
		      ds_error *err)
{
	ds_buf o;
	int status = 0;
	json_t *j;
	const char *u, *s;

	ds_buf_init(&o, DS_CREDS_HELPER_OUTPUT_MAX);
	if (ds_creds_helper_run(name, "get", helper_server(domain), &o, &status, err) < 0) {
		ds_buf_release(&o);
		ds_error_hint(err, "install docker-credential-%s, or remove it from '%s' "
				   "(credHelpers/credsStore)",
			      name, file);
		return ds_error_wrap(err, "'%s'", file);
	}
	trim(&o);
	if (status != 0) {
		int notfound = strcasestr(o.data, "credentials not found") != NULL;
		if (notfound) {
			ds_buf_release(&o);
			return 0;
		}
		ds_error_set(err, DS_EAUTH,
			     "credential helper 'docker-credential-%s' (from '%s') failed for '%s' "
			     "(exit %d): %.300s",
			     name, file, domain, status, o.data);
		ds_buf_release(&o);
		return -1;
	}
	j = json_loadb(o.data, o.len, 0, NULL);
	ds_buf_release(&o);
	u = json_string_value(json_object_get(j, "Username"));
	s = json_string_value(json_object_get(j, "Secret"));
	if (!j || !u || !s) {
		json_decref(j);
		return ds_error_set(err, DS_EAUTH,
				    "credential helper 'docker-credential-%s' (from '%s') printed "
				    "no Username/Secret JSON for '%s'",
				    name, file, domain);
	}
	if (!strcmp(u, "<token>")) {
		out->identity_token = ds_xstrdup(s);
	} else {
		out->username = ds_xstrdup(u);
		out->password = ds_xstrdup(s);
	}
	out->source = ds_xasprintf("credential helper 'docker-credential-%s' (from '%s')", name,
				   file);
	json_decref(j);
	return 0;
}

static int entry_creds(ds_creds *out, json_t *e, const char *file, const char *key,
		       ds_error *err)
{
	const char *auth = json_string_value(json_object_get(e, "auth"));
	const char *user = json_string_value(json_object_get(e, "username"));
	const char *pass = json_string_value(json_object_get(e, "password"));
	const char *idt = json_string_value(json_object_get(e, "identitytoken"));

	if (auth && *auth) {
		size_t n;
		char *dec = ds_base64_decode(auth, &n);
		char *colon = dec ? memchr(dec, ':', n) : NULL;
		if (!colon || colon == dec || memchr(dec, '\0', n)) {
			free(dec);
			ds_error_set(err, DS_EAUTH, "'%s': auths entry '%s' has a malformed \"auth\"",
				     file, key);
			return ds_error_hint(err, "run `dsbuild login` again for this registry");
		}
		out->username = ds_xstrndup(dec, (size_t)(colon - dec));
		out->password = ds_xstrdup(colon + 1);
		explicit_bzero(dec, n);
		free(dec);
	} else if (user && pass) {
		out->username = ds_xstrdup(user);
		out->password = ds_xstrdup(pass);
	}
	if (idt && *idt)
		out->identity_token = ds_xstrdup(idt);
	if (out->username || out->identity_token)
		out->source = ds_xasprintf("'%s'", file);
	return 0;
}

/* 0: done (out may be anonymous); -1 error. */
static int lookup_file(ds_creds *out, const char *file, const char *domain, const char *repo,
		       ds_error *err)
{
	ds_buf b;
	json_t *j, *helpers, *auths, *best = NULL;
	const char *best_key = NULL, *key, *store;
	size_t best_score = 0;
	json_t *v;
	int r = 0;

	ds_buf_init(&b, DS_CREDS_FILE_MAX);
	if (ds_read_file(file, DS_CREDS_FILE_MAX, &b, err) < 0) {
		ds_buf_release(&b);
		if (err && err->code == DS_ENOENT) {
			ds_error_clear(err);
			return 0;
		}
		if (err)
			err->code = DS_EAUTH;
		return -1;
	}
	j = ds_json_parse(b.data, b.len, file, err);
	ds_buf_release(&b);
	if (!j) {
		if (err)
			err->code = DS_EAUTH;
		return ds_error_hint(err, "fix or remove '%s'", file);
	}
	helpers = json_object_get(j, "credHelpers");
	if (json_is_object(helpers)) {
		json_object_foreach(helpers, key, v) {
			if (json_is_string(v) && key_match(key, domain, NULL) == 1) {
				r = helper_get(out, json_string_value(v), domain, file, err);
				json_decref(j);
				return r;
			}
		}
	}
	auths = json_object_get(j, "auths");
	if (json_is_object(auths)) {
		json_object_foreach(auths, key, v) {
			size_t s = key_match(key, domain, repo);
			if (s > best_score && json_is_object(v)) {
				best_score = s;
				best = v;
				best_key = key;
			}
		}
	}
	if (best && entry_creds(out, best, file, best_key, err) < 0) {
		json_decref(j);
		return -1;
	}
	store = json_string_value(json_object_get(j, "credsStore"));
	if (!out->username && !out->identity_token && store && *store)
		r = helper_get(out, store, domain, file, err);
	json_decref(j);
	return r;
}

static char *home_path(const char *rel)
{
	const char *home = getenv("HOME");
	return ds_xasprintf("%s/%s", home && *home ? home : "/", rel);
}

static char *docker_config_file(void)
{
	const char *dc = getenv("DOCKER_CONFIG");
	if (dc && *dc)
		return ds_xasprintf("%s/config.json", dc);
	return home_path(".docker/config.json");
}

int ds_creds_lookup(ds_creds *out, const char *domain, const char *repo, const char *auth_file,
		    ds_buf *tried, ds_error *err)
{
	char *files[4] = { NULL };
	size_t n = 0;
	ds_creds c = { 0 };
	int r = 0;

	if (auth_file) {
		files[n++] = ds_xstrdup(auth_file);
	} else {
		const char *raf = getenv("REGISTRY_AUTH_FILE");
		const char *xrd = getenv("XDG_RUNTIME_DIR");
		const char *xch = getenv("XDG_CONFIG_HOME");
		if (raf && *raf)
			files[n++] = ds_xstrdup(raf);
		if (xrd && *xrd)
			files[n++] = ds_xasprintf("%s/containers/auth.json", xrd);
		if (xch && *xch)
			files[n++] = ds_xasprintf("%s/containers/auth.json", xch);
		else
			files[n++] = home_path(".config/containers/auth.json");
		files[n++] = docker_config_file();
	}
	for (size_t i = 0; i < n; i++) {
		if (tried)
			ds_buf_addf(tried, "%s'%s'", tried->len ? ", " : "", files[i]);
		r = lookup_file(&c, files[i], domain, repo, err);
		if (r < 0 || c.username || c.identity_token)
			break;
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	if (r < 0) {
		ds_creds_release(&c);
		return -1;
	}
	*out = c;
	return 0;
}

char *ds_creds_target_file(const char *auth_file)
{
	const char *raf = getenv("REGISTRY_AUTH_FILE");

	if (auth_file)
		return ds_xstrdup(auth_file);
	if (raf && *raf)
		return ds_xstrdup(raf);
	return docker_config_file();
}

static int write_private(const char *path, json_t *j, ds_error *err)
{
	_cleanup_free_ char *dir = ds_xstrdup(path);
	_cleanup_free_ char *tmp = NULL;
	char *slash = strrchr(dir, '/');
	ds_buf b;
	int fd;

	if (slash && slash != dir) {
		*slash = '\0';
		if (ds_mkdir_p(dir, 0700, err) < 0)
			return -1;
	}
	ds_buf_init(&b, DS_CREDS_FILE_MAX);
	{
		char *s = json_dumps(j, JSON_INDENT(4) | JSON_SORT_KEYS);
		if (!s || ds_buf_adds(&b, s) < 0 || ds_buf_addch(&b, '\n') < 0) {
			free(s);
			ds_buf_release(&b);
			return ds_error_set(err, DS_ENOMEM, "cannot serialise '%s'", path);
		}
		free(s);
	}
	tmp = ds_xasprintf("%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		ds_buf_release(&b);
		return ds_error_set_errno(err, errno, "cannot create '%s'", tmp);
	}
	if (ds_write_all(fd, b.data, b.len, path, err) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		if (err && !err->msg[0])
			ds_error_set_errno(err, errno, "cannot write '%s'", path);
		unlink(tmp);
		ds_buf_release(&b);
		return -1;
	}
	ds_buf_release(&b);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return ds_error_set_errno(err, e, "cannot rename '%s' into place", path);
	}
	return 0;
}

static json_t *load_or_empty(const char *file, ds_error *err)
{
	ds_buf b;
	json_t *j;

	ds_buf_init(&b, DS_CREDS_FILE_MAX);
	if (ds_read_file(file, DS_CREDS_FILE_MAX, &b, err) < 0) {
		ds_buf_release(&b);
		if (err && err->code == DS_ENOENT) {
			ds_error_clear(err);
			return json_object();
		}
		return NULL;
	}
	j = ds_json_parse(b.data, b.len, file, err);
	ds_buf_release(&b);
	if (j && !json_is_object(j)) {
		json_decref(j);
		ds_error_set(err, DS_EFORMAT, "'%s' is not a JSON object", file);
		return NULL;
	}
	return j;
}

static const char *configured_helper(json_t *j, const char *domain)
{
	json_t *helpers = json_object_get(j, "credHelpers"), *v;
	const char *key, *store;

	if (json_is_object(helpers)) {
		json_object_foreach(helpers, key, v) {
			if (json_is_string(v) && key_match(key, domain, NULL) == 1)
				return json_string_value(v);
		}
	}
	store = json_string_value(json_object_get(j, "credsStore"));
	return store && *store ? store : NULL;
}

static const char *file_key(const char *file, const char *domain)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	/* Docker's own file keeps Docker Hub under its legacy URL. */
	if (!strcmp(domain, "docker.io") && !strcmp(base, "config.json"))
		return DOCKER_HUB_KEY;
	return domain;
}

int ds_creds_save(const char *domain, const char *user, const char *password,
		  const char *auth_file, char **where, ds_error *err)
{
	_cleanup_free_ char *file = ds_creds_target_file(auth_file);
	_cleanup_json_ json_t *j = load_or_empty(file, err);
	const char *helper;
	json_t *auths;

	if (!j)
		return -1;
	helper = configured_helper(j, domain);
	if (helper) {
		_cleanup_json_ json_t *in = json_pack("{s:s,s:s,s:s}", "ServerURL",
						      helper_server(domain), "Username", user,
						      "Secret", password);
		_cleanup_free_ char *s = json_dumps(in, JSON_COMPACT);
		ds_buf o;
		int status = 0;

		ds_buf_init(&o, DS_CREDS_HELPER_OUTPUT_MAX);
		if (!s || ds_creds_helper_run(helper, "store", s, &o, &status, err) < 0) {
			ds_buf_release(&o);
			ds_error_hint(err, "install docker-credential-%s, or remove it from '%s'",
				      helper, file);
			return -1;
		}
		trim(&o);
		if (status != 0) {
			ds_error_set(err, DS_EAUTH,
				     "credential helper 'docker-credential-%s' (from '%s') could not "
				     "store credentials for '%s' (exit %d): %.300s",
				     helper, file, domain, status, o.data);
			ds_buf_release(&o);
			return -1;
		}
		ds_buf_release(&o);
		if (where)
			*where = ds_xasprintf("credential helper 'docker-credential-%s'", helper);
		return 0;
	}
	auths = json_object_get(j, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(j, "auths", auths);
	}
	{
		/* Drop other spellings of the same registry so one entry remains. */
		const char *key;
		void *tmp;
		json_t *v;
		json_object_foreach_safe(auths, tmp, key, v) {
			if (key_match(key, domain, NULL) == 1)
				json_object_del(auths, key);
		}
	}
	{
		_cleanup_free_ char *up = ds_xasprintf("%s:%s", user, password);
		_cleanup_free_ char *b64 = ds_base64_encode(up, strlen(up));
		json_object_set_new(auths, file_key(file, domain), json_pack("{s:s}", "auth", b64));
		explicit_bzero(up, strlen(up));
	}
	if (write_private(file, j, err) < 0)
		return -1;
	if (where)
		*where = ds_xstrdup(file);
	return 0;
}

int ds_creds_erase(const char *domain, const char *auth_file, char **where, ds_error *err)
{
	_cleanup_free_ char *file = ds_creds_target_file(auth_file);
	_cleanup_json_ json_t *j = load_or_empty(file, err);
	const char *helper, *key;
	json_t *auths, *v;
	void *tmp;
	int removed = 0;

	if (where)
		*where = NULL;
	if (!j)
		return -1;
	helper = configured_helper(j, domain);
	if (helper) {
		ds_buf o;
		int status = 0;

		ds_buf_init(&o, DS_CREDS_HELPER_OUTPUT_MAX);
		if (ds_creds_helper_run(helper, "erase", helper_server(domain), &o, &status, err) <
		    0) {
			ds_buf_release(&o);
			return -1;
		}
		ds_buf_release(&o);
		if (status == 0) {
			removed = 1;
			if (where)
				*where = ds_xasprintf("credential helper 'docker-credential-%s'",
						      helper);
		}
	}
	auths = json_object_get(j, "auths");
	if (json_is_object(auths)) {
		json_object_foreach_safe(auths, tmp, key, v) {
			if (key_match(key, domain, NULL) == 1) {
				json_object_del(auths, key);
				removed |= 2;
			}
		}
	}
	if (removed & 2) {
		if (write_private(file, j, err) < 0)
			return -1;
		if (where) {
			free(*where);
			*where = ds_xstrdup(file);
		}
	}
	if (!removed) {
		ds_error_set(err, DS_ENOENT, "not logged in to '%s'", domain);
		return ds_error_hint(err, "no credentials for it in '%s'%s", file,
				     helper ? " or its credential helper" : "");
	}
	return 0;
}
