/* Which repositories a blob is known to be in, remembered in the cache so a
 * push can mount instead of upload: CACHE/registry/sources/<hex> holds
 * "domain/repo" lines, newest first, at most REG_SOURCES_MAX. */
#ifndef DS_REGISTRY_SOURCES_H
#define DS_REGISTRY_SOURCES_H

#include <stddef.h>

#define REG_SOURCES_MAX 8

/* The cache directory for opts->cache_dir (NULL = the default store path,
 * "" = none): malloc'd, or NULL when disabled. */
char *reg_sources_dir(const char *cache_dir);
/* Best effort: failures are ignored (it is only a hint). */
void reg_sources_add(const char *dir, const char *digest, const char *domain, const char *repo);
/* Repositories on domain (other than not_repo) that have digest, newest
 * first; returns how many were written to out (each malloc'd). */
size_t reg_sources_get(const char *dir, const char *digest, const char *domain,
		       const char *not_repo, char **out, size_t max);

#endif
