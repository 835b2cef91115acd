/* apt.txt, and mapping OCI platforms to Debian architectures. */
#include <stdio.h>

#include <dsbuild/debian.h>

#include "debian/depends.h"
#include "util/util.h"

#define APT_TXT_LINE_MAX 1024

void ds_debian_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int ds_debian_apt_txt_parse(char ***out, size_t *n_out, const char *data, size_t len,
			    const char *name, ds_error *err)
{
	char **v = ds_xcalloc(1, sizeof(char *));
	size_t n = 0;
	const char *p = data, *end = data + len;
	int line = 0;

	if (memchr(data, '\0', len)) {
		ds_debian_strv_free(v);
		return ds_error_set(err, DS_EINVAL, "'%s' contains a NUL byte", name);
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *s, *e, *hash, *t;
		_cleanup_free_ char *entry = NULL, *tok = NULL;
		deb_dep r;

		e = nl ? nl : end;
		line++;
		s = p;
		p = nl ? nl + 1 : end;
		hash = memchr(s, '#', (size_t)(e - s));
		if (hash)
			e = hash;
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (s == e)
			continue;
		if (e - s > APT_TXT_LINE_MAX) {
			ds_debian_strv_free(v);
			return ds_error_set(err, DS_EINVAL, "'%s' line %d: line too long", name, line);
		}
		entry = ds_xstrndup(s, (size_t)(e - s));
		if (strstr(entry, "://")) {
			ds_debian_strv_free(v);
			ds_error_set(err, DS_EINVAL, "'%s' line %d: '%s': URLs are not supported",
				     name, line, entry);
			return ds_error_hint(err, "name a package of the Debian suite instead");
		}
		for (t = entry; *t && *t != ' ' && *t != '\t' && *t != '=' && *t != '(' &&
				*t != ':';
		     t++)
			;
		tok = ds_xstrndup(entry, (size_t)(t - entry));
		if (!deb_name_valid(tok)) {
			ds_debian_strv_free(v);
			ds_error_set(err, DS_EINVAL, "'%s' line %d: invalid package name '%s'", name,
				     line, tok);
			return ds_error_hint(err, "write one Debian package name per line, "
						  "optionally as name=version; '#' starts a comment");
		}
		if (deb_request_parse(&r, entry, err) < 0) {
			ds_debian_strv_free(v);
			return ds_error_wrap(err, "'%s' line %d", name, line);
		}
		deb_dep_release(&r);
		if (n == DS_DEBIAN_PACKAGES_REQ_MAX) {
			ds_debian_strv_free(v);
			return ds_error_set(err, DS_EINVAL, "'%s': more than %d packages", name,
					    DS_DEBIAN_PACKAGES_REQ_MAX);
		}
		v = ds_xrealloc(v, (n + 2) * sizeof(char *));
		v[n++] = TAKE_PTR(entry);
		v[n] = NULL;
	}
	*out = v;
	*n_out = n;
	return 0;
}

static const struct {
	const char *platform, *arch;
} arch_map[] = {
	{ "linux/amd64", "amd64" },     { "linux/arm64", "arm64" },
	{ "linux/arm64/v8", "arm64" },  { "linux/arm/v7", "armhf" },
	{ "linux/arm", "armhf" },       { "linux/arm/v5", "armel" },
	{ "linux/arm/v6", "armel" },    { "linux/386", "i386" },
	{ "linux/ppc64le", "ppc64el" }, { "linux/s390x", "s390x" },
	{ "linux/mips64le", "mips64el" }, { "linux/riscv64", "riscv64" },
};

int ds_debian_arch_from_platform(const char **out, const char *platform, ds_error *err)
{
	if (!platform)
		platform = ds_platform_host();
	for (size_t i = 0; i < DS_ARRAY_SIZE(arch_map); i++) {
		if (strcmp(arch_map[i].platform, platform) == 0) {
			*out = arch_map[i].arch;
			return 0;
		}
	}
	ds_error_set(err, DS_EUNSUPPORTED, "platform '%s' has no Debian architecture", platform);
	return ds_error_hint(err, "use one of linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v5, "
				  "linux/386, linux/ppc64le, linux/s390x, linux/mips64le, "
				  "linux/riscv64");
}

const char *ds_debian_arch_to_platform(const char *arch)
{
	for (size_t i = 0; i < DS_ARRAY_SIZE(arch_map); i++)
		if (strcmp(arch_map[i].arch, arch) == 0)
			return arch_map[i].platform;
	return NULL;
}
