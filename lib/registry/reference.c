/* Registry references with Docker's normalisation rules (the grammar of
 * distribution/reference): [DOMAIN/]PATH[:TAG][@DIGEST]. */
#include <ctype.h>
#include <stdio.h>

#include <dsbuild/registry.h>

#include "util/util.h"

#define REF_INPUT_MAX 4096

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int component_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]))
		return 0;
	while (i < n) {
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return 1;
		/* a separator, then at least one alnum */
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i == n || !is_lower_alnum(s[i]))
			return 0;
	}
	return 1;
}

static int tag_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DS_REGISTRY_TAG_MAX)
		return 0;
	if (!(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int label_char(char c)
{
	return isalnum((unsigned char)c) || c == '-';
}

/* host[:port] where host is a DNS name, an IPv4 address or [IPv6]. */
static int domain_valid(const char *s, size_t n)
{
	size_t i = 0, hend;

	if (n == 0 || n > DS_REGISTRY_HOST_MAX)
		return 0;
	if (s[0] == '[') {
		while (i < n && s[i] != ']')
			i++;
		if (i == n || i < 3)
			return 0;
		for (size_t k = 1; k < i; k++)
			if (!(isxdigit((unsigned char)s[k]) || s[k] == ':' || s[k] == '.'))
				return 0;
		hend = i + 1;
	} else {
		size_t lab = 0;
		while (i < n && s[i] != ':') {
			if (s[i] == '.') {
				if (lab == 0 || s[i - 1] == '-')
					return 0;
				lab = 0;
			} else if (label_char(s[i])) {
				if (lab == 0 && s[i] == '-')
					return 0;
				lab++;
			} else {
				return 0;
			}
			i++;
		}
		if (lab == 0 || s[i - 1] == '-')
			return 0;
		hend = i;
	}
	if (hend == n)
		return 1;
	if (s[hend] != ':' || hend + 1 == n || n - hend - 1 > 5)
		return 0;
	unsigned long port = 0;
	for (size_t k = hend + 1; k < n; k++) {
		if (!isdigit((unsigned char)s[k]))
			return 0;
		port = port * 10 + (unsigned long)(s[k] - '0');
	}
	return port >= 1 && port <= 65535;
}

static char *lower_dup(const char *s, size_t n)
{
	char *p = ds_xstrndup(s, n);
	for (char *q = p; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

static const char *canonical_domain(const char *d)
{
	if (!strcmp(d, "index.docker.io") || !strcmp(d, "registry-1.docker.io") ||
	    !strcmp(d, "registry.hub.docker.com"))
		return "docker.io";
	return d;
}

int ds_registry_host_is_loopback(const char *host)
{
	size_t n;

	if (!host)
		return 0;
	if (host[0] == '[') {
		const char *e = strchr(host, ']');
		return e && (size_t)(e - host) == 4 && !strncmp(host, "[::1]", 5);
	}
	if (!strcmp(host, "::1"))
		return 1;
	n = strcspn(host, ":");
	if (n == 9 && !strncasecmp(host, "localhost", 9))
		return 1;
	if (n > 4 && !strncmp(host, "127.", 4)) {
		int dots = 0;
		for (size_t i = 0; i < n; i++) {
			if (host[i] == '.')
				dots++;
			else if (!isdigit((unsigned char)host[i]))
				return 0;
		}
		return dots == 3;
	}
	return 0;
}

static int digest_check(const char *d, const char *input, ds_error *err)
{
	const char *colon = strchr(d, ':');

	if (ds_digest_valid(d))
		return 0;
	if (colon && colon != d && colon[1]) {
		int grammar = 1;
		for (const char *p = d; p < colon; p++)
			if (!(is_lower_alnum(*p) || *p == '+' || *p == '.' || *p == '_' || *p == '-'))
				grammar = 0;
		for (const char *p = colon + 1; *p; p++)
			if (!isxdigit((unsigned char)*p))
				grammar = 0;
		if (grammar && strncmp(d, "sha256:", 7) != 0) {
			ds_error_set(err, DS_EUNSUPPORTED,
				     "reference '%s': digest algorithm '%.*s' is not supported", input,
				     (int)(colon - d), d);
			return ds_error_hint(err, "use a sha256 digest");
		}
	}
	ds_error_set(err, DS_EINVAL, "invalid reference '%s': bad digest '%s'", input, d);
	return ds_error_hint(err, "a digest is 'sha256:' followed by 64 lowercase hex digits");
}

int ds_registry_ref_parse(ds_registry_ref *out, const char *s, ds_error *err)
{
	const char *input = s;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *domain = NULL;
	_cleanup_free_ char *repo = NULL;
	_cleanup_free_ char *tag = NULL;
	_cleanup_free_ char *digest = NULL;
	const char *at, *slash, *colon, *path;

	if (!s || !*s)
		return ds_error_set(err, DS_EINVAL, "empty image reference");
	if (strlen(s) > REF_INPUT_MAX)
		return ds_error_set(err, DS_EINVAL, "image reference is longer than %d bytes",
				    REF_INPUT_MAX);
	if (!strncmp(s, "docker://", 9))
		s += 9;
	at = strchr(s, '@');
	if (at) {
		digest = ds_xstrdup(at + 1);
		if (digest_check(digest, input, err) < 0)
			return -1;
		name = ds_xstrndup(s, (size_t)(at - s));
	} else {
		name = ds_xstrdup(s);
	}
	slash = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (colon && (!slash || colon > slash)) {
		tag = ds_xstrdup(colon + 1);
		name[colon - name] = '\0';
		if (!tag_valid(tag)) {
			ds_error_set(err, DS_EINVAL, "invalid reference '%s': bad tag '%s'", input, tag);
			return ds_error_hint(err, "a tag is up to 128 letters, digits, '_', '.' and "
						  "'-', not starting with '.' or '-'");
		}
	}
	if (!name[0]) {
		ds_error_set(err, DS_EINVAL, "invalid reference '%s': no repository name", input);
		return ds_error_hint(err, "write docker://HOST[:PORT]/REPO[:TAG]");
	}
	slash = strchr(name, '/');
	if (slash) {
		size_t n = (size_t)(slash - name);
		int is_domain = memchr(name, '.', n) || memchr(name, ':', n) ||
				(n == 9 && !strncmp(name, "localhost", 9)) || name[0] == '[';
		for (size_t i = 0; i < n && !is_domain; i++)
			if (isupper((unsigned char)name[i]))
				is_domain = 1;
		if (is_domain) {
			if (!domain_valid(name, n)) {
				ds_error_set(err, DS_EINVAL, "invalid reference '%s': bad registry '%.*s'",
					     input, (int)n, name);
				return ds_error_hint(err, "a registry is HOST or HOST:PORT, e.g. "
							  "ghcr.io or 127.0.0.1:5000");
			}
			domain = lower_dup(name, n);
			path = slash + 1;
		} else {
			path = name;
		}
	} else {
		path = name;
	}
	if (!domain)
		domain = ds_xstrdup("docker.io");
	{
		const char *c = canonical_domain(domain);
		if (c != domain) {
			free(domain);
			domain = ds_xstrdup(c);
		}
	}
	if (!strcmp(domain, "docker.io") && !strchr(path, '/'))
		repo = ds_xasprintf("library/%s", path);
	else
		repo = ds_xstrdup(path);
	if (strlen(repo) > DS_REGISTRY_NAME_MAX)
		return ds_error_set(err, DS_EINVAL,
				    "invalid reference '%s': repository name longer than %d bytes",
				    input, DS_REGISTRY_NAME_MAX);
	for (const char *p = repo;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!component_valid(p, n)) {
			ds_error_set(err, DS_EINVAL,
				     "invalid reference '%s': bad repository name component '%.*s'",
				     input, (int)n, p);
			return ds_error_hint(err, "repository names are lowercase letters and digits "
						  "separated by '.', '_', '__', '-' or '/'");
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (!tag && !digest)
		tag = ds_xstrdup("latest");

	out->host = ds_xstrdup(!strcmp(domain, "docker.io") ? "registry-1.docker.io" : domain);
	out->domain = TAKE_PTR(domain);
	out->repo = TAKE_PTR(repo);
	out->tag = TAKE_PTR(tag);
	out->digest = TAKE_PTR(digest);
	return 0;
}

int ds_registry_ref_from_ref(ds_registry_ref *out, const ds_ref *ref, ds_error *err)
{
	ds_buf b;
	int r;

	if (!ref || ref->transport != DS_TRANSPORT_DOCKER || !ref->path)
		return ds_error_set(err, DS_EINVAL, "not a docker:// reference");
	ds_buf_init(&b, REF_INPUT_MAX + 1);
	if (ds_buf_adds(&b, ref->path) < 0 ||
	    (ref->tag && ds_buf_addf(&b, ":%s", ref->tag) < 0) ||
	    (ref->digest && ds_buf_addf(&b, "@%s", ref->digest) < 0)) {
		ds_buf_release(&b);
		return ds_error_set(err, DS_EINVAL, "image reference is longer than %d bytes",
				    REF_INPUT_MAX);
	}
	r = ds_registry_ref_parse(out, ds_buf_cstr(&b), err);
	ds_buf_release(&b);
	return r;
}

char *ds_registry_ref_format(const ds_registry_ref *r)
{
	return ds_xasprintf("%s/%s%s%s%s%s", r->domain, r->repo, r->tag ? ":" : "",
			    r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "");
}

void ds_registry_ref_release(ds_registry_ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->host);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

int ds_registry_domain_parse(char **out, const char *s, ds_error *err)
{
	const char *p = s;
	size_t n;
	char *d;

	if (!s || !*s)
		return ds_error_set(err, DS_EINVAL, "empty registry name");
	if (!strncmp(p, "docker://", 9))
		p += 9;
	else if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	n = strcspn(p, "/");
	if (!domain_valid(p, n)) {
		ds_error_set(err, DS_EINVAL, "invalid registry '%s'", s);
		return ds_error_hint(err, "name a registry as HOST or HOST:PORT, e.g. ghcr.io or "
					  "127.0.0.1:5000");
	}
	d = lower_dup(p, n);
	if (canonical_domain(d) != d) {
		free(d);
		d = ds_xstrdup("docker.io");
	}
	*out = d;
	return 0;
}
