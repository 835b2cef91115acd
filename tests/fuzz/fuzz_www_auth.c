/* Fuzz target: the WWW-Authenticate parser (bytes straight from a server). */
#include <stddef.h>
#include <stdint.h>

#include "registry/www_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ds_www_auth a;
	ds_error err = DS_ERROR_INIT;

	if (ds_www_auth_parse(&a, (const char *)data, size, &err) == 0) {
		const ds_auth_challenge *c = ds_www_auth_find(&a, "bearer");
		if (c) {
			(void)ds_auth_challenge_param(c, "realm");
			(void)ds_auth_challenge_param(c, "service");
			(void)ds_auth_challenge_param(c, "scope");
		}
		c = ds_www_auth_find(&a, "basic");
		if (c)
			(void)ds_auth_challenge_param(c, "realm");
	}
	ds_www_auth_release(&a);
	return 0;
}
