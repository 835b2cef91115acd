#include <stdio.h>

#include <dsbuild/image.h>

#include "util/util.h"

static int valid_tag(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-' || (c == ':' && i > 0) || (c == '/' && i > 0)))
			return 0;
	}
	return !(t[0] == '.' || t[0] == '-');
}

static int split_path(ds_ref *out, const char *s, const char *orig, ds_error *err)
{
	const char *colon = strchr(s, ':');

	if (colon) {
		out->path = ds_xstrndup(s, (size_t)(colon - s));
		if (!valid_tag(colon + 1)) {
			ds_error_set(err, DS_EINVAL, "invalid tag '%s' in '%s'", colon + 1, orig);
			return ds_error_hint(err, "tags use letters, digits, '_', '.' and '-'");
		}
		out->tag = ds_xstrdup(colon + 1);
	} else {
		out->path = ds_xstrdup(s);
	}
	if (!out->path[0])
		return ds_error_set(err, DS_EINVAL, "'%s' names no path", orig);
	return 0;
}

int ds_ref_parse(ds_ref *out, const char *s, ds_error *err)
{
	ds_ref r = { 0 };
	const char *rest;

	if (!strncmp(s, "oci:", 4)) {
		r.transport = DS_TRANSPORT_OCI;
		rest = s + 4;
	} else if (!strncmp(s, "oci-archive:", 12)) {
		r.transport = DS_TRANSPORT_OCI_ARCHIVE;
		rest = s + 12;
	} else if (!strncmp(s, "docker-archive:", 15)) {
		r.transport = DS_TRANSPORT_DOCKER_ARCHIVE;
		rest = s + 15;
	} else if (!strncmp(s, "docker://", 9)) {
		const char *at, *slash, *colon;
		r.transport = DS_TRANSPORT_DOCKER;
		rest = s + 9;
		at = strchr(rest, '@');
		if (at) {
			if (!ds_digest_valid(at + 1)) {
				ds_error_set(err, DS_EINVAL, "invalid digest in '%s'", s);
				return ds_error_hint(err, "a digest looks like sha256:<64 hex digits>");
			}
			r.digest = ds_xstrdup(at + 1);
		}
		size_t n = at ? (size_t)(at - rest) : strlen(rest);
		char *name = ds_xstrndup(rest, n);
		slash = strrchr(name, '/');
		colon = strrchr(name, ':');
		if (colon && (!slash || colon > slash)) {
			r.tag = ds_xstrdup(colon + 1);
			name[colon - name] = '\0';
			if (!valid_tag(r.tag) || strchr(r.tag, '/') || strchr(r.tag, ':')) {
				ds_error_set(err, DS_EINVAL, "invalid tag '%s' in '%s'", r.tag, s);
				free(name);
				ds_ref_release(&r);
				return -1;
			}
		}
		r.path = name;
		if (!r.path[0]) {
			ds_ref_release(&r);
			return ds_error_set(err, DS_EINVAL, "'%s' names no repository", s);
		}
		*out = r;
		return 0;
	} else {
		ds_error_set(err, DS_EINVAL, "'%s' does not name a transport", s);
		return ds_error_hint(err, "write oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE "
					  "or docker://HOST/REPO[:TAG]");
	}
	if (r.transport == DS_TRANSPORT_DOCKER_ARCHIVE) {
		/* docker-archive:FILE[:NAME[:TAG]] keeps NAME:TAG whole as the tag */
		const char *colon = strchr(rest, ':');
		r.path = colon ? ds_xstrndup(rest, (size_t)(colon - rest)) : ds_xstrdup(rest);
		if (colon && colon[1])
			r.tag = ds_xstrdup(colon + 1);
		if (!r.path[0]) {
			ds_ref_release(&r);
			return ds_error_set(err, DS_EINVAL, "'%s' names no file", s);
		}
		*out = r;
		return 0;
	}
	if (split_path(&r, rest, s, err) < 0) {
		ds_ref_release(&r);
		return -1;
	}
	*out = r;
	return 0;
}

void ds_ref_release(ds_ref *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->tag);
	free(r->digest);
	r->path = r->tag = r->digest = NULL;
}
