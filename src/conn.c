/*
 * The Redis connection.  One context per process, made lazily after fork.
 * After an I/O error hiredis leaves the context unusable, so it is freed
 * and the next command connects anew, re-applying timeouts, AUTH and
 * SELECT (redisReconnect() in hiredis 0.14 keeps none of them).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "conn.h"

struct conn {
	struct conn_url url;
	struct timeval tv;
	redisContext *ctx;
	char err[512];
};

/* ---- URL parsing (pure) ---- */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..len) into a new string; NULL on bad escapes. */
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
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
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

/* Parse all of s[0..len) as a decimal integer in [min, max]. */
static int
parse_int_range(const char *s, size_t len, long min, long max, long *out)
{
	long v = 0;

	if (len == 0 || len > 10)
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

#define URL_FAIL(...) do {						\
	snprintf(err, errlen, __VA_ARGS__);				\
	goto fail;							\
} while (0)

/* Parse "[[user]:password@]" at the start of auth[0..len). */
static int
parse_userinfo(const char *ui, size_t len, struct conn_url *url, char *err,
    size_t errlen)
{
	const char *colon = memchr(ui, ':', len);

	if (colon == NULL)
		URL_FAIL("missing ':' before the password (use "
		    "redis://:password@host or redis://user:password@host)");
	if (colon > ui && (url->user = pct_decode(ui, (size_t)(colon - ui))) ==
	    NULL)
		URL_FAIL("bad percent-escape in the user name");
	if ((size_t)(colon - ui) + 1 == len)
		URL_FAIL("empty password");
	url->password = pct_decode(colon + 1, len - (size_t)(colon - ui) - 1);
	if (url->password == NULL)
		URL_FAIL("bad percent-escape in the password");
	return 0;
fail:
	return -1;
}

int
conn_url_parse(const char *text, struct conn_url *url, char *err,
    size_t errlen)
{
	const char *p, *auth, *auth_end, *at, *host, *host_end, *rest;
	char redacted[512];
	long v;
	int is_unix;

	memset(url, 0, sizeof(*url));
	url->port = 6379;
	if (strncmp(text, "redis://", 8) == 0) {
		is_unix = 0;
		p = text + 8;
	} else if (strncmp(text, "unix://", 7) == 0) {
		is_unix = 1;
		p = text + 7;
	} else if (strncmp(text, "rediss://", 9) == 0) {
		URL_FAIL("TLS (rediss://) is not supported; use redis:// "
		    "on a private network or a unix:// socket");
	} else {
		URL_FAIL("not a redis:// or unix:// URL");
	}

	/* The authority runs to the first '/', '?' or the end. */
	auth = p;
	auth_end = auth + strcspn(auth, "/?");
	at = NULL;
	for (const char *q = auth; q < auth_end; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		if (parse_userinfo(auth, (size_t)(at - auth), url, err,
		    errlen) < 0)
			goto fail;
		host = at + 1;
	} else
		host = auth;

	if (is_unix) {
		const char *q;

		if (host != auth_end)
			URL_FAIL("a unix:// URL takes no host; write "
			    "unix:///path/to/redis.sock");
		if (*auth_end != '/')
			URL_FAIL("missing socket path (unix:///path/to/redis.sock)");
		q = auth_end + strcspn(auth_end, "?");
		if ((url->path = pct_decode(auth_end, (size_t)(q - auth_end))) ==
		    NULL)
			URL_FAIL("bad percent-escape in the socket path");
		if (*q == '?') {
			q++;
			if (strncmp(q, "db=", 3) != 0)
				URL_FAIL("unknown query parameter (only ?db=N)");
			if (parse_int_range(q + 3, strlen(q + 3), 0, INT_MAX,
			    &v) < 0)
				URL_FAIL("bad database number");
			url->db = (int)v;
		}
		return 0;
	}

	/* host, [v6], then an optional :port */
	if (host < auth_end && *host == '[') {
		const char *close = memchr(host, ']', (size_t)(auth_end - host));

		if (close == NULL)
			URL_FAIL("unterminated '[' in the host");
		url->host = dup_range(host + 1, (size_t)(close - host - 1));
		host_end = close + 1;
		if (host_end < auth_end && *host_end != ':')
			URL_FAIL("junk after ']' in the host");
	} else {
		host_end = memchr(host, ':', (size_t)(auth_end - host));
		if (host_end == NULL)
			host_end = auth_end;
		url->host = dup_range(host, (size_t)(host_end - host));
	}
	if (url->host == NULL || url->host[0] == '\0')
		URL_FAIL("missing host");
	if (host_end < auth_end) {
		host_end++;
		if (parse_int_range(host_end, (size_t)(auth_end - host_end), 1,
		    65535, &v) < 0)
			URL_FAIL("bad port (1-65535)");
		url->port = (int)v;
	}

	rest = auth_end;
	if (*rest == '?')
		URL_FAIL("a redis:// URL takes no query string");
	if (*rest == '/') {
		rest++;
		if (*rest != '\0') {
			if (parse_int_range(rest, strlen(rest), 0, INT_MAX, &v) <
			    0)
				URL_FAIL("bad database number");
			url->db = (int)v;
		}
	}
	return 0;

fail:
	/* Append the URL, without its password, to the reason. */
	conn_url_redact(text, redacted, sizeof(redacted));
	{
		size_t n = strlen(err);

		if (n < errlen)
			snprintf(err + n, errlen - n, ": \"%s\"", redacted);
	}
	conn_url_free(url);
	return -1;
}

void
conn_url_free(struct conn_url *url)
{
	free(url->host);
	free(url->path);
	free(url->user);
	if (url->password != NULL) {
		explicit_bzero(url->password, strlen(url->password));
		free(url->password);
	}
	memset(url, 0, sizeof(*url));
}

void
conn_url_redact(const char *text, char *out, size_t outlen)
{
	const char *p = strstr(text, "://"), *auth_end, *at = NULL, *colon;

	if (outlen == 0)
		return;
	if (p == NULL) {
		snprintf(out, outlen, "%s", text);
		return;
	}
	p += 3;
	auth_end = p + strcspn(p, "/?");
	for (const char *q = p; q < auth_end; q++)
		if (*q == '@')
			at = q;
	colon = at != NULL ? memchr(p, ':', (size_t)(at - p)) : NULL;
	if (colon == NULL) {
		/* no "user:password@": nothing secret, unless "secret@host" */
		if (at != NULL)
			snprintf(out, outlen, "%.*s***%s", (int)(p - text), text,
			    at);
		else
			snprintf(out, outlen, "%s", text);
		return;
	}
	snprintf(out, outlen, "%.*s***%s", (int)(colon + 1 - text), text, at);
}

/* ---- connection ---- */

struct conn *
conn_new(const struct conn_url *url, long timeout_ms)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	/*
	 * hiredis writes with write(2): a server that went away would kill
	 * the process with SIGPIPE instead of failing the command.
	 */
	signal(SIGPIPE, SIG_IGN);
	c->url.port = url->port;
	c->url.db = url->db;
	if ((url->host && !(c->url.host = strdup(url->host))) ||
	    (url->path && !(c->url.path = strdup(url->path))) ||
	    (url->user && !(c->url.user = strdup(url->user))) ||
	    (url->password && !(c->url.password = strdup(url->password)))) {
		conn_free(c);
		return NULL;
	}
	c->tv.tv_sec = timeout_ms / 1000;
	c->tv.tv_usec = (timeout_ms % 1000) * 1000;
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	conn_reset(c);
	conn_url_free(&c->url);
	free(c);
}

void
conn_reset(struct conn *c)
{
	if (c->ctx != NULL)
		redisFree(c->ctx);
	c->ctx = NULL;
}

const char *
conn_error(const struct conn *c)
{
	return c->err[0] ? c->err : "no error";
}

/* Describe the server's address for messages (never the password). */
static void
conn_where(const struct conn *c, char *buf, size_t len)
{
	if (c->url.path != NULL)
		snprintf(buf, len, "unix:%s", c->url.path);
	else if (strchr(c->url.host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d", c->url.host, c->url.port);
	else
		snprintf(buf, len, "%s:%d", c->url.host, c->url.port);
}

/* Record why ctx failed; a read or write that ran out of time says so. */
static void
conn_fail(struct conn *c, const char *what, int saved_errno)
{
	char where[300];

	conn_where(c, where, sizeof(where));
	if (c->ctx != NULL && c->ctx->err == REDIS_ERR_IO &&
	    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
		snprintf(c->err, sizeof(c->err), "%s %s: timed out after %ld ms",
		    what, where,
		    (long)c->tv.tv_sec * 1000 + c->tv.tv_usec / 1000);
	else if (c->ctx != NULL && c->ctx->err == REDIS_ERR_EOF)
		snprintf(c->err, sizeof(c->err), "%s %s: connection closed "
		    "by the server", what, where);
	else
		snprintf(c->err, sizeof(c->err), "%s %s: %s", what, where,
		    c->ctx != NULL && c->ctx->errstr[0] ? c->ctx->errstr :
		    "out of memory");
}

/* Run one command on the raw context during the handshake. */
static int
conn_handshake_cmd(struct conn *c, int argc, const char **argv,
    const char *what)
{
	redisReply *r = redisCommandArgv(c->ctx, argc, argv, NULL);
	char where[300];

	if (r == NULL) {
		conn_fail(c, what, errno);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		conn_where(c, where, sizeof(where));
		snprintf(c->err, sizeof(c->err), "%s %s: %s", what, where,
		    r->str);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* Connect and apply timeouts, AUTH and SELECT.  Returns 0 or -1. */
static int
conn_connect(struct conn *c)
{
	char db[16];

	if (c->url.path != NULL)
		c->ctx = redisConnectUnixWithTimeout(c->url.path, c->tv);
	else
		c->ctx = redisConnectWithTimeout(c->url.host, c->url.port,
		    c->tv);
	if (c->ctx == NULL || c->ctx->err) {
		int e = errno;

		conn_fail(c, "connect", e);
		goto err;
	}
	if (redisSetTimeout(c->ctx, c->tv) != REDIS_OK) {
		conn_fail(c, "set timeout on", errno);
		goto err;
	}
	if (c->url.path == NULL)
		(void)redisEnableKeepAlive(c->ctx);
	if (c->url.password != NULL) {
		const char *argv[3] = { "AUTH", NULL, NULL };
		int argc = 0;

		argv[argc++] = "AUTH";
		if (c->url.user != NULL)
			argv[argc++] = c->url.user;
		argv[argc++] = c->url.password;
		if (conn_handshake_cmd(c, argc, argv, "AUTH at") < 0)
			goto err;
	}
	if (c->url.db != 0) {
		const char *argv[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", c->url.db);
		if (conn_handshake_cmd(c, 2, argv, "SELECT at") < 0)
			goto err;
	}
	return 0;
err:
	conn_reset(c);
	return -1;
}

redisReply *
conn_command(struct conn *c, int argc, const char **argv,
    const size_t *argvlen)
{
	redisReply *r = NULL;

	if (conn_pipeline(c, 1, &argc, &argv, &argvlen, &r) < 0)
		return NULL;
	return r;
}

int
conn_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = c->ctx != NULL, timed_out, saved_errno;
		size_t got = 0;

		memset(replies, 0, n * sizeof(*replies));
		if (c->ctx == NULL && conn_connect(c) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (redisAppendCommandArgv(c->ctx, argcs[i], argvs[i],
			    argvlens ? argvlens[i] : NULL) != REDIS_OK)
				goto failed;
		for (; got < n; got++) {
			void *r;

			if (redisGetReply(c->ctx, &r) != REDIS_OK)
				goto failed;
			replies[got] = r;
		}
		return 0;
failed:
		saved_errno = errno;
		conn_fail(c, "command at", saved_errno);
		timed_out = c->ctx->err == REDIS_ERR_IO &&
		    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
		for (size_t i = 0; i < got; i++) {
			freeReplyObject(replies[i]);
			replies[i] = NULL;
		}
		conn_reset(c);
		if (!reused || timed_out)
			break;
	}
	return -1;
}

/* Load s->body with SCRIPT LOAD and remember its SHA1.  Returns 0 or -1. */
static int
conn_script_load(struct conn *c, struct conn_script *s)
{
	const char *argv[3] = { "SCRIPT", "LOAD", s->body };
	redisReply *r = conn_command(c, 3, argv, NULL);

	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(c->err, sizeof(c->err), "SCRIPT LOAD: %s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	memcpy(s->sha, r->str, 40);
	s->sha[40] = '\0';
	freeReplyObject(r);
	return 0;
}

redisReply *
conn_eval(struct conn *c, struct conn_script *s, int nkeys, const char **keys,
    int nargs, const char **args, const size_t *arglens)
{
	int argc = 3 + nkeys + nargs;
	const char **argv = calloc((size_t)argc, sizeof(*argv));
	size_t *lens = calloc((size_t)argc, sizeof(*lens));
	char nk[16];
	redisReply *r = NULL;

	if (argv == NULL || lens == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		goto out;
	}
	snprintf(nk, sizeof(nk), "%d", nkeys);
	argv[2] = nk;
	lens[2] = strlen(nk);
	for (int i = 0; i < nkeys; i++) {
		argv[3 + i] = keys[i];
		lens[3 + i] = strlen(keys[i]);
	}
	for (int i = 0; i < nargs; i++) {
		argv[3 + nkeys + i] = args[i];
		lens[3 + nkeys + i] = arglens ? arglens[i] : strlen(args[i]);
	}

	argv[0] = "EVALSHA";
	lens[0] = 7;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->sha[0] == '\0' && conn_script_load(c, s) < 0)
			goto out;
		argv[1] = s->sha;
		lens[1] = 40;
		r = conn_command(c, argc, argv, lens);
		if (r == NULL || r->type != REDIS_REPLY_ERROR)
			break;
		if (strncmp(r->str, "NOSCRIPT", 8) != 0)
			break;
		s->sha[0] = '\0';
		freeReplyObject(r);
		r = NULL;
	}
out:
	free(argv);
	free(lens);
	return r;
}
