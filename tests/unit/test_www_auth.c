/* WWW-Authenticate parsing: the forms registries send, and malformed input. */
#include "registry/www_auth.h"

#include "tap.h"

static int parse(ds_www_auth *a, const char *s, ds_error *err)
{
	return ds_www_auth_parse(a, s, strlen(s), err);
}

int main(void)
{
	ds_www_auth a;
	ds_error err = DS_ERROR_INIT;
	const ds_auth_challenge *c;

	/* Docker Hub's form */
	ok(parse(&a, "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		     "scope=\"repository:library/busybox:pull\"",
		 &err) == 0,
	   "bearer challenge parses");
	is_int(a.n, 1, "one challenge");
	c = ds_www_auth_find(&a, "BEARER");
	ok(c != NULL, "scheme found case-insensitively");
	is_str(c ? ds_auth_challenge_param(c, "realm") : NULL, "https://auth.docker.io/token",
	       "realm");
	is_str(c ? ds_auth_challenge_param(c, "Service") : NULL, "registry.docker.io", "service");
	is_str(c ? ds_auth_challenge_param(c, "scope") : NULL, "repository:library/busybox:pull",
	       "scope with ':' and '/'");
	ds_www_auth_release(&a);

	/* distribution's htpasswd answer, and two challenges in one header */
	ok(parse(&a, "Basic realm=\"local-registry\"", &err) == 0, "basic parses");
	c = ds_www_auth_find(&a, "basic");
	is_str(c ? ds_auth_challenge_param(c, "realm") : NULL, "local-registry", "basic realm");
	ds_www_auth_release(&a);

	ok(parse(&a, "Basic realm=\"a\", Bearer realm=\"https://t/x\",error=\"insufficient_scope\"",
		 &err) == 0,
	   "two challenges parse");
	is_int(a.n, 2, "two challenges");
	c = ds_www_auth_find(&a, "bearer");
	is_str(c ? ds_auth_challenge_param(c, "error") : NULL, "insufficient_scope",
	       "second challenge's params");
	ds_www_auth_release(&a);

	/* spacing, escapes, unquoted values, token68, a bare scheme */
	ok(parse(&a, "  bearer   realm = \"x\\\"y\" ,  service=reg.io , scope=\"\"", &err) == 0,
	   "spaces, escapes and tokens");
	c = ds_www_auth_find(&a, "bearer");
	is_str(c ? ds_auth_challenge_param(c, "realm") : NULL, "x\"y", "escaped quote");
	is_str(c ? ds_auth_challenge_param(c, "service") : NULL, "reg.io", "unquoted value");
	is_str(c ? ds_auth_challenge_param(c, "scope") : NULL, "", "empty quoted value");
	ds_www_auth_release(&a);

	ok(parse(&a, "Negotiate, Basic abc+/def==", &err) == 0, "bare scheme and token68");
	is_int(a.n, 2, "two challenges");
	c = ds_www_auth_find(&a, "basic");
	is_str(c ? c->token68 : NULL, "abc+/def==", "token68 kept");
	ds_www_auth_release(&a);

	/* unquoted URL (some servers) */
	ok(parse(&a, "Bearer realm=https://auth.example.com/token?x=1,service=s", &err) == 0,
	   "unquoted URL realm");
	c = ds_www_auth_find(&a, "bearer");
	is_str(c ? ds_auth_challenge_param(c, "realm") : NULL, "https://auth.example.com/token?x=1",
	       "unquoted realm with '=' inside");
	ds_www_auth_release(&a);

	/* malformed */
	ok(parse(&a, "Bearer realm=\"unterminated", &err) == -1, "unterminated string refused");
	is_int(err.code, DS_EFORMAT, "DS_EFORMAT");
	ds_www_auth_release(&a);
	ok(parse(&a, "", &err) == -1, "empty refused");
	ds_www_auth_release(&a);
	ok(parse(&a, "=x", &err) == -1, "no scheme refused");
	ds_www_auth_release(&a);
	ok(parse(&a, "Bearer realm=\"a\" service=\"b\"", &err) == -1, "missing comma refused");
	ds_www_auth_release(&a);
	{
		ok(ds_www_auth_parse(&a, "Basic\0x", 7, &err) == -1, "NUL byte refused");
		ds_www_auth_release(&a);
	}
	/* bounds */
	{
		char big[DS_WWW_AUTH_MAX_LEN + 10];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		ok(parse(&a, big, &err) == -1, "oversized header refused");
		ds_www_auth_release(&a);
		char many[4096] = "Bearer ";
		for (int i = 0; i < DS_WWW_AUTH_MAX_PARAMS + 1; i++) {
			char p[32];
			snprintf(p, sizeof(p), "%sp%d=\"v\"", i ? "," : "", i);
			strcat(many, p);
		}
		ok(parse(&a, many, &err) == -1, "too many parameters refused: %s", err.msg);
		ds_www_auth_release(&a);
		char chs[4096] = "";
		for (int i = 0; i < DS_WWW_AUTH_MAX_CHALLENGES + 1; i++)
			strcat(chs, "Basic realm=\"r\", ");
		ok(parse(&a, chs, &err) == -1, "too many challenges refused: %s", err.msg);
		ds_www_auth_release(&a);
	}
	return done_testing();
}
