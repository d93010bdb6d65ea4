/*
 * The Redis URL grammar and password redaction: pure string work, no I/O,
 * so that the unit tests and the fuzzer call it directly.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "redis_url.h"

/* Decimal digits accepted in a number: enough for INT_MAX, no overflow. */
#define MAX_DIGITS 10

/*
 * Percent-decode s[0..len) into a new string (the caller frees it).
 * NULL on a bad escape, an escaped NUL, or when out of memory.
 */
static char *
pct_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			hi = hex_digit((unsigned char)s[i + 1]);
			lo = hex_digit((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* Parse all of s[0..len) as a decimal integer in [min, max].  0 or -1. */
static int
parse_int_range(const char *s, size_t len, long min, long max, long *out)
{
	long v = 0;

	if (len == 0 || len > MAX_DIGITS)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
redis_url_parse_port(const char *s, size_t len)
{
	long v;

	return parse_int_range(s, len, 1, 65535, &v) < 0 ? -1 : (int)v;
}

/* The database number s into url->db.  Returns 0, or -1 with why. */
static int
parse_db(const char *s, struct redis_url *url, struct error *why)
{
	long v;

	if (parse_int_range(s, strlen(s), 0, INT_MAX, &v) < 0)
		return error_set(why, REDIS_URL_EINVAL, "bad database number");
	url->db = (int)v;
	return 0;
}

/*
 * The end of a URL of scheme after its hosts or master: nothing, "/", or
 * "/db" into url->db; no query string.  Returns 0, or -1 with why.
 */
static int
parse_db_tail(const char *p, const char *scheme, struct redis_url *url,
    struct error *why)
{
	if (*p == '?')
		return error_set(why, REDIS_URL_EINVAL, "a %s URL takes no "
		    "query string", scheme);
	if (*p == '/' && p[1] != '\0')
		return parse_db(p + 1, url, why);
	return 0;
}

/* A new NUL-terminated copy of s[0..len) (the caller frees it), or NULL. */
static char *
dup_range(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* text past scheme ("redis://"), or NULL when text has another scheme. */
static const char *
after_scheme(const char *text, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncmp(text, scheme, n) == 0 ? text + n : NULL;
}

/*
 * Parse "[user]:password" in ui[0..len) into new *user and *password (the
 * caller frees them, also on failure); whose names them in messages ("",
 * or "sentinel ").  Returns 0 or -1.
 */
static int
parse_userinfo(const char *ui, size_t len, char **user, char **password,
    const char *whose, struct error *why)
{
	const char *colon = memchr(ui, ':', len);

	if (colon == NULL)
		return error_set(why, REDIS_URL_EINVAL, "missing ':' before "
		    "the %spassword (use redis://:password@host or "
		    "redis://user:password@host)", whose);
	if (colon > ui && (*user = pct_decode(ui, (size_t)(colon - ui))) ==
	    NULL)
		return error_set(why, REDIS_URL_EINVAL, "bad percent-escape in "
		    "the %suser name", whose);
	if ((size_t)(colon - ui) + 1 == len)
		return error_set(why, REDIS_URL_EINVAL, "empty %spassword",
		    whose);
	*password = pct_decode(colon + 1, len - (size_t)(colon - ui) - 1);
	if (*password == NULL)
		return error_set(why, REDIS_URL_EINVAL, "bad percent-escape in "
		    "the %spassword", whose);
	return 0;
}

/*
 * The user information of a URL, ui[0..len): "[user]:password" for the
 * data nodes; in a redis-sentinel:// URL it may go on with '@' and
 * "[user]:password" for the sentinels (the data nodes' part may then be
 * empty: "@:password" is the sentinels' alone).  Returns 0 or -1.
 */
static int
parse_credentials(const char *ui, size_t len, int sentinel,
    struct redis_url *url, struct error *why)
{
	const char *at = sentinel ? memchr(ui, '@', len) : NULL;

	if (at == NULL)
		return parse_userinfo(ui, len, &url->user, &url->password, "",
		    why);
	if (at > ui && parse_userinfo(ui, (size_t)(at - ui), &url->user,
	    &url->password, "", why) < 0)
		return -1;
	at++;
	if (memchr(at, '@', len - (size_t)(at - ui)) != NULL)
		return error_set(why, REDIS_URL_EINVAL, "more than two user "
		    "names and passwords (an '@' in a password is written "
		    "%%40)");
	return parse_userinfo(at, len - (size_t)(at - ui),
	    &url->sentinel_user, &url->sentinel_password, "sentinel ",
	    why);
}

/*
 * Parse "host[:port]" or "[v6][:port]" in s[0..end) into a new *host (the
 * caller frees it, also on failure) and *port.  Returns 0 or -1.
 */
static int
parse_hostport(const char *s, const char *end, int defport, char **host,
    int *port, struct error *why)
{
	const char *host_end;

	*port = defport;
	if (s < end && *s == '[') {
		const char *close = memchr(s, ']', (size_t)(end - s));

		if (close == NULL)
			return error_set(why, REDIS_URL_EINVAL, "unterminated "
			    "'[' in the host");
		*host = dup_range(s + 1, (size_t)(close - s - 1));
		host_end = close + 1;
		if (host_end < end && *host_end != ':')
			return error_set(why, REDIS_URL_EINVAL, "junk after "
			    "']' in the host");
	} else {
		host_end = memchr(s, ':', (size_t)(end - s));
		if (host_end == NULL)
			host_end = end;
		*host = dup_range(s, (size_t)(host_end - s));
	}
	if (*host == NULL || (*host)[0] == '\0')
		return error_set(why, REDIS_URL_EINVAL, "missing host");
	if (host_end < end) {
		host_end++;
		if ((*port = redis_url_parse_port(host_end,
		    (size_t)(end - host_end))) < 0)
			return error_set(why, REDIS_URL_EINVAL, "bad port "
			    "(1-65535)");
	}
	return 0;
}

/*
 * "h1:p1,h2:p2" in s[0..end) into a new array *nodes of *n (the caller
 * frees them, also on failure); defport where a port is left out.
 * Returns 0 or -1.
 */
static int
parse_nodes(const char *s, const char *end, int defport,
    struct redis_node **nodes, size_t *n, struct error *why)
{
	size_t count = 1;

	for (const char *q = s; q < end; q++)
		count += *q == ',';
	if (count > REDIS_URL_MAX_NODES)
		return error_set(why, REDIS_URL_EINVAL, "more than %d "
		    "hosts", REDIS_URL_MAX_NODES);
	if ((*nodes = calloc(count, sizeof(**nodes))) == NULL)
		return error_set(why, REDIS_URL_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *e = comma != NULL ? comma : end;

		*n = i + 1;
		if (parse_hostport(s, e, defport, &(*nodes)[i].host,
		    &(*nodes)[i].port, why) < 0)
			return -1;
		s = e + 1;
	}
	return 0;
}

/* "/<master-name>[/db]" of a redis-sentinel:// URL.  Returns 0 or -1. */
static int
parse_sentinel_path(const char *p, struct redis_url *url, struct error *why)
{
	const char *name_end;

	if (*p == '?')
		return error_set(why, REDIS_URL_EINVAL, "a redis-sentinel:// "
		    "URL takes no query string");
	if (*p != '/' || p[1] == '/' || p[1] == '\0')
		return error_set(why, REDIS_URL_EINVAL, "missing master name "
		    "(redis-sentinel://host:port,host:port/"
		    "<master-name>[/db])");
	p++;
	name_end = p + strcspn(p, "/?");
	if ((url->master = pct_decode(p, (size_t)(name_end - p))) == NULL)
		return error_set(why, REDIS_URL_EINVAL, "bad percent-escape in "
		    "the master name");
	return parse_db_tail(name_end, "redis-sentinel://", url, why);
}

/* "/path[?db=N]" of a unix:// URL; host is what preceded it. */
static int
parse_unix(const char *host, const char *auth_end, struct redis_url *url,
    struct error *why)
{
	const char *q;

	if (host != auth_end)
		return error_set(why, REDIS_URL_EINVAL, "a unix:// URL takes "
		    "no host; write unix:///path/to/redis.sock");
	if (*auth_end != '/')
		return error_set(why, REDIS_URL_EINVAL, "missing socket path "
		    "(unix:///path/to/redis.sock)");
	q = auth_end + strcspn(auth_end, "?");
	if ((url->path = pct_decode(auth_end, (size_t)(q - auth_end))) == NULL)
		return error_set(why, REDIS_URL_EINVAL, "bad percent-escape in "
		    "the socket path");
	if (*q == '?') {
		q++;
		if (strncmp(q, "db=", 3) != 0)
			return error_set(why, REDIS_URL_EINVAL, "unknown query "
			    "parameter (only ?db=N)");
		return parse_db(q + 3, url, why);
	}
	return 0;
}

/*
 * "host[:port][,host[:port]...][/db]" of a redis:// URL (several: seeds
 * of a cluster); auth_end is where the hosts end.
 */
static int
parse_tcp(const char *host, const char *auth_end, struct redis_url *url,
    struct error *why)
{
	const char *rest = auth_end;

	if (parse_nodes(host, auth_end, REDIS_URL_DEFAULT_PORT, &url->seeds,
	    &url->nseeds, why) < 0)
		return -1;
	if ((url->host = strdup(url->seeds[0].host)) == NULL)
		return error_set(why, REDIS_URL_ENOMEM, "out of memory");
	url->port = url->seeds[0].port;
	return parse_db_tail(rest, "redis://", url, why);
}

int
redis_url_parse(const char *text, struct redis_url *url, struct error *err)
{
	const char *p, *auth, *auth_end, *at, *host;
	struct error why = { 0, "" };
	char redacted[ERROR_TEXT_MAX];
	int is_unix = 0, is_sentinel = 0, rc;

	memset(url, 0, sizeof(*url));
	url->port = REDIS_URL_DEFAULT_PORT;
	if ((p = after_scheme(text, "unix://")) != NULL)
		is_unix = 1;
	else if ((p = after_scheme(text, "redis-sentinel://")) != NULL)
		is_sentinel = 1;
	else if ((p = after_scheme(text, "redis://")) == NULL) {
		if (after_scheme(text, "rediss://") != NULL)
			error_set(&why, REDIS_URL_EINVAL, "TLS (rediss://) is "
			    "not spoken here: reach the server through a TLS "
			    "tunnel (stunnel4) on a unix:// socket");
		else
			error_set(&why, REDIS_URL_EINVAL, "not a redis://, "
			    "redis-sentinel:// or unix:// URL");
		goto fail;
	}

	/*
	 * The authority runs to the first '/', '?', '#' or the end (RFC
	 * 3986), and its last '@' ends the user name and password.  An '@'
	 * after it means a user name or password holding one of those
	 * unencoded: refused, because where the password ends would then be
	 * a guess, and redis_url_redact() must mask what we parse.
	 */
	auth = p;
	auth_end = auth + strcspn(auth, "/?#");
	if (strchr(auth_end, '@') != NULL) {
		error_set(&why, REDIS_URL_EINVAL, "an '@' after the host: "
		    "percent-encode '/', '?' and '#' in a user name or "
		    "password (%%2F, %%3F, %%23), and '@' elsewhere (%%40)");
		goto fail;
	}
	if (*auth_end == '#') {
		error_set(&why, REDIS_URL_EINVAL, "a '#' after the host (a "
		    "'#' in a password is written %%23)");
		goto fail;
	}
	at = NULL;
	for (const char *q = auth; q < auth_end; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		if (parse_credentials(auth, (size_t)(at - auth), is_sentinel,
		    url, &why) < 0)
			goto fail;
		host = at + 1;
	} else
		host = auth;

	if (is_sentinel) {
		url->port = 0;
		rc = parse_nodes(host, auth_end, REDIS_URL_SENTINEL_PORT,
		    &url->sentinels, &url->nsentinels, &why) < 0 ||
		    parse_sentinel_path(auth_end, url, &why) < 0 ? -1 : 0;
	} else if (is_unix)
		rc = parse_unix(host, auth_end, url, &why);
	else
		rc = parse_tcp(host, auth_end, url, &why);
	if (rc == 0)
		return 0;

fail:
	/* Append the URL, without its password, to the reason. */
	redis_url_redact(text, redacted, sizeof(redacted));
	redis_url_free(url);
	return error_set(err, why.code, "%s: \"%s\"", why.text, redacted);
}

/* Zero and free a password (NULL is allowed). */
static void
secret_free(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

void
redis_url_free(struct redis_url *url)
{
	free(url->host);
	free(url->path);
	free(url->user);
	free(url->master);
	free(url->sentinel_user);
	for (size_t i = 0; i < url->nsentinels; i++)
		free(url->sentinels[i].host);
	free(url->sentinels);
	for (size_t i = 0; i < url->nseeds; i++)
		free(url->seeds[i].host);
	free(url->seeds);
	secret_free(url->password);
	secret_free(url->sentinel_password);
	memset(url, 0, sizeof(*url));
}

/*
 * Where text may keep a password, conservatively, whatever the text: from
 * after "://" (the text's start when it has none, as in the typo
 * "redis:/:pw@h") to the LAST '@' of the whole text, less a user name
 * (the text up to the first ':' there); all of it when there is no ':'
 * ("secret@host" is taken for a password).  For a URL that
 * redis_url_parse() accepts this is exactly its password, since it
 * refuses an '@' after the authority; for any other text it may mask
 * more (a path or query holding an '@'), never less.  Returns 1 with the
 * span [*start, *end) as offsets into text (possibly empty,
 * "user:@host"), or 0 when no '@' follows "://" (or, without it, none is
 * in the text).
 */
static int
password_span(const char *text, size_t *start, size_t *end)
{
	const char *p = strstr(text, "://"), *at = strrchr(text, '@'), *colon;

	/* no "://" (a typo such as "redis:/"): from the text's start */
	p = p != NULL ? p + 3 : text;
	if (at == NULL || at < p)
		return 0;
	colon = memchr(p, ':', (size_t)(at - p));
	*start = (size_t)((colon != NULL ? colon + 1 : p) - text);
	*end = (size_t)(at - text);
	return 1;
}

void
redis_url_redact(const char *text, char *out, size_t outlen)
{
	size_t start, end;

	if (outlen == 0)
		return;
	if (password_span(text, &start, &end))
		snprintf(out, outlen, "%.*s***%s", (int)start, text,
		    text + end);
	else
		snprintf(out, outlen, "%s", text);
}

void
redis_url_scrub(char *text)
{
	size_t start, end;

	if (password_span(text, &start, &end))
		memset(text + start, 'x', end - start);
}
