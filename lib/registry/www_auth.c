#include <ctype.h>
#include <strings.h>

#include "registry/www_auth.h"
#include "util/util.h"

typedef struct {
	const char *s;
	size_t len, pos;
} scanner;

static int tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int t68char(int c)
{
	return isalnum(c) || (c && strchr("-._~+/", c));
}

static int peek(const scanner *sc)
{
	return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static void skip_ows(scanner *sc)
{
	while (peek(sc) == ' ' || peek(sc) == '\t')
		sc->pos++;
}

static size_t scan_token(scanner *sc)
{
	size_t start = sc->pos;
	while (sc->pos < sc->len && tchar((unsigned char)sc->s[sc->pos]))
		sc->pos++;
	return sc->pos - start;
}

static char *lower_ndup(const char *s, size_t n)
{
	char *p = ds_xstrndup(s, n);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)tolower((unsigned char)p[i]);
	return p;
}

/* A token68 at pos, followed by OWS and then ',' or the end. */
static size_t token68_len(const scanner *sc)
{
	size_t i = sc->pos, n;

	while (i < sc->len && t68char((unsigned char)sc->s[i]))
		i++;
	if (i == sc->pos)
		return 0;
	while (i < sc->len && sc->s[i] == '=')
		i++;
	n = i - sc->pos;
	while (i < sc->len && (sc->s[i] == ' ' || sc->s[i] == '\t'))
		i++;
	if (i < sc->len && sc->s[i] != ',')
		return 0;
	return n;
}

static int scan_value(scanner *sc, char **out, ds_error *err)
{
	if (peek(sc) == '"') {
		ds_buf b;
		ds_buf_init(&b, DS_WWW_AUTH_MAX_LEN + 1);
		sc->pos++;
		for (;;) {
			int c = peek(sc);
			if (c < 0) {
				ds_buf_release(&b);
				return ds_error_set(err, DS_EFORMAT,
						    "malformed WWW-Authenticate header: unterminated "
						    "quoted string");
			}
			sc->pos++;
			if (c == '"')
				break;
			if (c == '\\') {
				c = peek(sc);
				if (c < 0)
					continue;
				sc->pos++;
			}
			if (ds_buf_addch(&b, (char)c) < 0) {
				ds_buf_release(&b);
				return ds_error_set(err, DS_EFORMAT, "WWW-Authenticate value too long");
			}
		}
		*out = ds_buf_detach(&b, NULL);
		return 0;
	}
	size_t start = sc->pos;
	/* Be lenient about unquoted values (some servers send URLs unquoted). */
	while (sc->pos < sc->len && sc->s[sc->pos] != ',' && sc->s[sc->pos] != ' ' &&
	       sc->s[sc->pos] != '\t' && sc->s[sc->pos] != '"')
		sc->pos++;
	*out = ds_xstrndup(sc->s + start, sc->pos - start);
	return 0;
}

void ds_www_auth_release(ds_www_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		ds_auth_challenge *c = &a->challenges[i];
		free(c->scheme);
		free(c->token68);
		for (size_t k = 0; k < c->n_params; k++) {
			free(c->params[k].name);
			free(c->params[k].value);
		}
	}
	memset(a, 0, sizeof(*a));
}

int ds_www_auth_parse(ds_www_auth *out, const char *s, size_t len, ds_error *err)
{
	scanner sc = { s, len, 0 };

	memset(out, 0, sizeof(*out));
	if (len > DS_WWW_AUTH_MAX_LEN)
		return ds_error_set(err, DS_EFORMAT, "WWW-Authenticate header longer than %d bytes",
				    DS_WWW_AUTH_MAX_LEN);
	if (memchr(s, '\0', len))
		return ds_error_set(err, DS_EFORMAT, "malformed WWW-Authenticate header: NUL byte");
	for (;;) {
		ds_auth_challenge *c;
		size_t n, start;

		while (peek(&sc) == ' ' || peek(&sc) == '\t' || peek(&sc) == ',')
			sc.pos++;
		if (peek(&sc) < 0)
			break;
		start = sc.pos;
		n = scan_token(&sc);
		if (n == 0)
			return ds_error_set(err, DS_EFORMAT,
					    "malformed WWW-Authenticate header: expected a scheme at "
					    "byte %zu",
					    sc.pos);
		if (out->n == DS_WWW_AUTH_MAX_CHALLENGES)
			return ds_error_set(err, DS_EFORMAT,
					    "WWW-Authenticate header has more than %d challenges",
					    DS_WWW_AUTH_MAX_CHALLENGES);
		c = &out->challenges[out->n++];
		c->scheme = lower_ndup(s + start, n);
		if (peek(&sc) != ' ' && peek(&sc) != '\t')
			continue; /* a bare scheme: end, or ',' */
		skip_ows(&sc);
		n = token68_len(&sc);
		if (n) {
			/* "Basic abc==" but not "Bearer realm=x" (that has a value after '=') */
			c->token68 = ds_xstrndup(s + sc.pos, n);
			sc.pos += n;
			continue;
		}
		for (;;) {
			size_t save, nlen;
			char *value = NULL;

			while (peek(&sc) == ' ' || peek(&sc) == '\t' || peek(&sc) == ',')
				sc.pos++;
			if (peek(&sc) < 0)
				break;
			save = sc.pos;
			nlen = scan_token(&sc);
			if (nlen == 0)
				return ds_error_set(err, DS_EFORMAT,
						    "malformed WWW-Authenticate header: unexpected "
						    "'%c' at byte %zu",
						    s[sc.pos], sc.pos);
			skip_ows(&sc);
			if (peek(&sc) != '=') {
				/* not a parameter: the next challenge's scheme */
				sc.pos = save;
				break;
			}
			sc.pos++;
			skip_ows(&sc);
			if (c->n_params == DS_WWW_AUTH_MAX_PARAMS)
				return ds_error_set(err, DS_EFORMAT,
						    "WWW-Authenticate challenge has more than %d "
						    "parameters",
						    DS_WWW_AUTH_MAX_PARAMS);
			if (scan_value(&sc, &value, err) < 0)
				return -1;
			c->params[c->n_params].name = lower_ndup(s + save, nlen);
			c->params[c->n_params].value = value;
			c->n_params++;
			skip_ows(&sc);
			if (peek(&sc) >= 0 && peek(&sc) != ',')
				return ds_error_set(err, DS_EFORMAT,
						    "malformed WWW-Authenticate header: expected ',' "
						    "at byte %zu",
						    sc.pos);
		}
	}
	if (out->n == 0)
		return ds_error_set(err, DS_EFORMAT, "empty WWW-Authenticate header");
	return 0;
}

const ds_auth_challenge *ds_www_auth_find(const ds_www_auth *a, const char *scheme)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcasecmp(a->challenges[i].scheme, scheme))
			return &a->challenges[i];
	return NULL;
}

const char *ds_auth_challenge_param(const ds_auth_challenge *c, const char *name)
{
	for (size_t i = 0; i < c->n_params; i++)
		if (!strcasecmp(c->params[i].name, name))
			return c->params[i].value;
	return NULL;
}
