/*
 * The Redis connection.  One context per process, made lazily after fork.
 * After an I/O error hiredis leaves the context unusable, so it is freed
 * and the next command connects anew, re-applying timeouts, AUTH and
 * SELECT (redisReconnect() in hiredis 0.14 keeps none of them).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

struct conn {
	struct conn_url url;
	struct timeval tv;
	redisContext *ctx;
	/* where ctx points when not the URL's address: the master named by
	 * the sentinels, or the cluster node that owns our slot */
	struct conn_node node;
	int on_url;		/* ctx is at the URL's node all the same */
	char node_err[256];	/* why node did not answer then */
	size_t sentinel;	/* the sentinel that answered last */
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

/* Parse "host[:port]" or "[v6][:port]" in s[0..end).  Returns 0 or -1. */
static int
parse_hostport(const char *s, const char *end, int defport, char **host,
    int *port, char *err, size_t errlen)
{
	const char *host_end;
	long v;

	*port = defport;
	if (s < end && *s == '[') {
		const char *close = memchr(s, ']', (size_t)(end - s));

		if (close == NULL)
			URL_FAIL("unterminated '[' in the host");
		*host = dup_range(s + 1, (size_t)(close - s - 1));
		host_end = close + 1;
		if (host_end < end && *host_end != ':')
			URL_FAIL("junk after ']' in the host");
	} else {
		host_end = memchr(s, ':', (size_t)(end - s));
		if (host_end == NULL)
			host_end = end;
		*host = dup_range(s, (size_t)(host_end - s));
	}
	if (*host == NULL || (*host)[0] == '\0')
		URL_FAIL("missing host");
	if (host_end < end) {
		host_end++;
		if (parse_int_range(host_end, (size_t)(end - host_end), 1,
		    65535, &v) < 0)
			URL_FAIL("bad port (1-65535)");
		*port = (int)v;
	}
	return 0;
fail:
	return -1;
}

/* "h1:p1,h2:p2" in s[0..end) into url->sentinels.  Returns 0 or -1. */
static int
parse_sentinels(const char *s, const char *end, struct conn_url *url,
    char *err, size_t errlen)
{
	size_t n = 1;

	for (const char *q = s; q < end; q++)
		n += *q == ',';
	if (n > CONN_MAX_SENTINELS)
		URL_FAIL("more than %d sentinels", CONN_MAX_SENTINELS);
	if ((url->sentinels = calloc(n, sizeof(*url->sentinels))) == NULL)
		URL_FAIL("out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *e = comma != NULL ? comma : end;

		url->nsentinels = i + 1;
		if (parse_hostport(s, e, 26379, &url->sentinels[i].host,
		    &url->sentinels[i].port, err, errlen) < 0)
			return -1;
		s = e + 1;
	}
	return 0;
fail:
	return -1;
}

/* "/<master-name>[/db]" of a redis-sentinel:// URL. */
static int
parse_sentinel_path(const char *p, struct conn_url *url, char *err,
    size_t errlen)
{
	const char *name_end;
	long v;

	if (*p == '?')
		URL_FAIL("a redis-sentinel:// URL takes no query string");
	if (*p != '/' || p[1] == '/' || p[1] == '\0')
		URL_FAIL("missing master name (redis-sentinel://host:port,"
		    "host:port/<master-name>[/db])");
	p++;
	name_end = p + strcspn(p, "/?");
	if ((url->master = pct_decode(p, (size_t)(name_end - p))) == NULL)
		URL_FAIL("bad percent-escape in the master name");
	if (*name_end == '?')
		URL_FAIL("a redis-sentinel:// URL takes no query string");
	if (*name_end == '/' && name_end[1] != '\0') {
		if (parse_int_range(name_end + 1, strlen(name_end + 1), 0,
		    INT_MAX, &v) < 0)
			URL_FAIL("bad database number");
		url->db = (int)v;
	}
	return 0;
fail:
	return -1;
}

int
conn_url_parse(const char *text, struct conn_url *url, char *err,
    size_t errlen)
{
	const char *p, *auth, *auth_end, *at, *host, *rest;
	char redacted[512];
	long v;
	int is_unix = 0, is_sentinel = 0;

	memset(url, 0, sizeof(*url));
	url->port = 6379;
	if (strncmp(text, "redis://", 8) == 0) {
		p = text + 8;
	} else if (strncmp(text, "unix://", 7) == 0) {
		is_unix = 1;
		p = text + 7;
	} else if (strncmp(text, "redis-sentinel://", 17) == 0) {
		is_sentinel = 1;
		p = text + 17;
	} else if (strncmp(text, "rediss://", 9) == 0) {
		URL_FAIL("TLS (rediss://) is not supported; use redis:// "
		    "on a private network or a unix:// socket");
	} else {
		URL_FAIL("not a redis://, redis-sentinel:// or unix:// URL");
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

	if (is_sentinel) {
		url->port = 0;
		if (parse_sentinels(host, auth_end, url, err, errlen) < 0 ||
		    parse_sentinel_path(auth_end, url, err, errlen) < 0)
			goto fail;
		return 0;
	}

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

	if (parse_hostport(host, auth_end, 6379, &url->host, &url->port, err,
	    errlen) < 0)
		goto fail;
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
	free(url->master);
	for (size_t i = 0; i < url->nsentinels; i++)
		free(url->sentinels[i].host);
	free(url->sentinels);
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
	    (url->password && !(c->url.password = strdup(url->password))) ||
	    (url->master && !(c->url.master = strdup(url->master))))
		goto nomem;
	if (url->nsentinels > 0) {
		c->url.sentinels = calloc(url->nsentinels,
		    sizeof(*c->url.sentinels));
		if (c->url.sentinels == NULL)
			goto nomem;
		c->url.nsentinels = url->nsentinels;
		for (size_t i = 0; i < url->nsentinels; i++) {
			c->url.sentinels[i].port = url->sentinels[i].port;
			c->url.sentinels[i].host = strdup(url->sentinels[i].host);
			if (c->url.sentinels[i].host == NULL)
				goto nomem;
		}
	}
	c->tv.tv_sec = timeout_ms / 1000;
	c->tv.tv_usec = (timeout_ms % 1000) * 1000;
	return c;
nomem:
	conn_free(c);
	return NULL;
}

/* Point the next connect at host:port (NULL: back to the URL's address). */
static int
conn_set_node(struct conn *c, const char *host, int port)
{
	char *h = NULL;

	if (host != NULL && (h = strdup(host)) == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		return -1;
	}
	free(c->node.host);
	c->node.host = h;
	c->node.port = port;
	return 0;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	conn_reset(c);
	conn_set_node(c, NULL, 0);
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

/* host:port for messages, with brackets around an IPv6 address. */
static void
node_name(const char *host, int port, char *buf, size_t len)
{
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d",
	    host, port);
}

/* Is ctx at c->node (else at the URL's address)? */
static int
at_node(const struct conn *c)
{
	return c->node.host != NULL && !c->on_url;
}

/* Describe the server's address for messages (never the password). */
static void
conn_where(const struct conn *c, char *buf, size_t len)
{
	if (at_node(c))
		node_name(c->node.host, c->node.port, buf, len);
	else if (c->url.path != NULL)
		snprintf(buf, len, "unix:%s", c->url.path);
	else if (c->url.host != NULL)
		node_name(c->url.host, c->url.port, buf, len);
	else
		snprintf(buf, len, "master \"%s\"", c->url.master);
}

/* Record why ctx failed; a read or write that ran out of time says so. */
static void
ctx_fail(struct conn *c, const redisContext *ctx, const char *what,
    const char *where, int saved_errno)
{
	if (ctx != NULL && ctx->err == REDIS_ERR_IO &&
	    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
		snprintf(c->err, sizeof(c->err), "%s %s: timed out after %ld ms",
		    what, where,
		    (long)c->tv.tv_sec * 1000 + c->tv.tv_usec / 1000);
	else if (ctx != NULL && ctx->err == REDIS_ERR_EOF)
		snprintf(c->err, sizeof(c->err), "%s %s: connection closed "
		    "by the server", what, where);
	else
		snprintf(c->err, sizeof(c->err), "%s %s: %s", what, where,
		    ctx != NULL && ctx->errstr[0] ? ctx->errstr :
		    "out of memory");
}

static void
conn_fail(struct conn *c, const char *what, int saved_errno)
{
	char where[300];

	conn_where(c, where, sizeof(where));
	ctx_fail(c, c->ctx, what, where, saved_errno);
}

/* Run one command on a raw context; the reply, or NULL with c->err set. */
static redisReply *
ctx_command(struct conn *c, redisContext *ctx, const char *where, int argc,
    const char **argv, const char *what)
{
	redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);

	if (r == NULL) {
		ctx_fail(c, ctx, what, where, errno);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(c->err, sizeof(c->err), "%s %s: %s", what, where,
		    r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/*
 * Connect to one server and apply the timeouts, then (with auth) AUTH and
 * SELECT.  Returns the context, or NULL with c->err set.
 */
static redisContext *
ctx_open(struct conn *c, const char *host, int port, const char *path,
    int auth)
{
	redisContext *ctx;
	redisReply *r;
	char where[300], db[16];

	if (path != NULL) {
		snprintf(where, sizeof(where), "unix:%s", path);
		ctx = redisConnectUnixWithTimeout(path, c->tv);
	} else {
		node_name(host, port, where, sizeof(where));
		ctx = redisConnectWithTimeout(host, port, c->tv);
	}
	if (ctx == NULL || ctx->err) {
		ctx_fail(c, ctx, "connect", where, errno);
		goto err;
	}
	if (redisSetTimeout(ctx, c->tv) != REDIS_OK) {
		ctx_fail(c, ctx, "set timeout on", where, errno);
		goto err;
	}
	if (path == NULL)
		(void)redisEnableKeepAlive(ctx);
	if (auth && c->url.password != NULL) {
		const char *argv[3];
		int argc = 0;

		argv[argc++] = "AUTH";
		if (c->url.user != NULL)
			argv[argc++] = c->url.user;
		argv[argc++] = c->url.password;
		if ((r = ctx_command(c, ctx, where, argc, argv, "AUTH at")) ==
		    NULL)
			goto err;
		freeReplyObject(r);
	}
	if (auth && c->url.db != 0) {
		const char *argv[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", c->url.db);
		if ((r = ctx_command(c, ctx, where, 2, argv, "SELECT at")) ==
		    NULL)
			goto err;
		freeReplyObject(r);
	}
	return ctx;
err:
	if (ctx != NULL)
		redisFree(ctx);
	return NULL;
}

/* Put a printf-style prefix before the error already in c->err. */
static void __attribute__((format(printf, 2, 3)))
conn_err_prefix(struct conn *c, const char *fmt, ...)
{
	char prefix[200];
	size_t plen, rlen = strnlen(c->err, sizeof(c->err) - 1);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	if (plen + rlen >= sizeof(c->err))
		rlen = sizeof(c->err) - 1 - plen;
	memmove(c->err + plen, c->err, rlen);
	memcpy(c->err, prefix, plen);
	c->err[plen + rlen] = '\0';
}

/*
 * Ask the sentinels, the one that answered last first, where the master
 * is; point c->node there.  Returns 0 or -1.
 */
static int
sentinel_resolve(struct conn *c)
{
	const char *argv[] = { "SENTINEL", "get-master-addr-by-name",
	    c->url.master };
	size_t n = c->url.nsentinels;

	for (size_t k = 0; k < n; k++) {
		size_t i = (c->sentinel + k) % n;
		const struct conn_node *s = &c->url.sentinels[i];
		redisContext *ctx = ctx_open(c, s->host, s->port, NULL, 0);
		redisReply *r;
		char where[300];
		long port;
		int rc;

		if (ctx == NULL)
			continue;
		node_name(s->host, s->port, where, sizeof(where));
		r = ctx_command(c, ctx, where, 3, argv, "sentinel");
		redisFree(ctx);
		if (r == NULL)
			continue;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_STRING ||
		    parse_int_range(r->element[1]->str, r->element[1]->len, 1,
		    65535, &port) < 0) {
			snprintf(c->err, sizeof(c->err), "sentinel %s: no master "
			    "named \"%s\"", where, c->url.master);
			freeReplyObject(r);
			continue;
		}
		c->sentinel = i;
		rc = conn_set_node(c, r->element[0]->str, (int)port);
		freeReplyObject(r);
		return rc;
	}
	conn_err_prefix(c, "no sentinel told where the master is: ");
	return -1;
}

/* With Sentinel: is the server on c->ctx the master?  Returns 0 or -1. */
static int
role_check(struct conn *c)
{
	const char *argv[] = { "ROLE" };
	char where[300];
	redisReply *r;
	int ok;

	conn_where(c, where, sizeof(where));
	if ((r = ctx_command(c, c->ctx, where, 1, argv, "ROLE at")) == NULL)
		return -1;
	ok = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "master") == 0;
	if (!ok)
		snprintf(c->err, sizeof(c->err), "%s is not the master of \"%s\" "
		    "(role %s): a failover is in progress", where, c->url.master,
		    r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->type == REDIS_REPLY_STRING ?
		    r->element[0]->str : "unknown");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Connect to the master or the node redirected to.  Returns 0 or -1. */
static int
conn_connect(struct conn *c)
{
	if (c->url.master != NULL && sentinel_resolve(c) < 0)
		return -1;
	c->on_url = 0;
	if (c->node.host != NULL)
		c->ctx = ctx_open(c, c->node.host, c->node.port, NULL, 1);
	/*
	 * With Cluster, when the node that had our slot does not answer, the
	 * URL's node may name its successor (MOVED); the node is kept for the
	 * next connect in case it is the URL's node that is gone.
	 */
	if (c->ctx == NULL && c->url.master == NULL) {
		if (c->node.host != NULL)
			snprintf(c->node_err, sizeof(c->node_err), "%.200s",
			    c->err);
		c->on_url = c->node.host != NULL;
		c->ctx = ctx_open(c, c->url.host, c->url.port, c->url.path, 1);
	}
	if (c->ctx == NULL) {
		if (c->url.master != NULL)
			conn_err_prefix(c, "the master of \"%s\" that the "
			    "sentinels name: ", c->url.master);
		return -1;
	}
	if (c->url.master != NULL && role_check(c) < 0) {
		conn_reset(c);
		return -1;
	}
	return 0;
}

/* Send n commands on ctx and read their replies.  Returns 0 or -1. */
static int
ctx_pipeline(redisContext *ctx, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	size_t got;

	for (size_t i = 0; i < n; i++)
		if (redisAppendCommandArgv(ctx, argcs[i], argvs[i],
		    argvlens ? argvlens[i] : NULL) != REDIS_OK)
			return -1;
	for (got = 0; got < n; got++) {
		void *r;

		if (redisGetReply(ctx, &r) != REDIS_OK) {
			for (size_t i = 0; i < got; i++) {
				freeReplyObject(replies[i]);
				replies[i] = NULL;
			}
			return -1;
		}
		replies[got] = r;
	}
	return 0;
}

/* One pipeline on the current server, reconnecting once if it was stale. */
static int
conn_pipeline_once(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = c->ctx != NULL, timed_out, saved_errno;

		memset(replies, 0, n * sizeof(*replies));
		if (c->ctx == NULL && conn_connect(c) < 0)
			break;
		if (ctx_pipeline(c->ctx, n, argcs, argvs, argvlens,
		    replies) == 0)
			return 0;
		saved_errno = errno;
		conn_fail(c, "command at", saved_errno);
		timed_out = c->ctx->err == REDIS_ERR_IO &&
		    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
		conn_reset(c);
		if (!reused || timed_out)
			break;
	}
	return -1;
}

/*
 * "MOVED 3999 127.0.0.1:6381" or "ASK ...": the node, into host/port.  Redis
 * 7 may leave the host out ("MOVED 3999 :6381"): the one we talk to.
 */
static int
parse_redirect(const struct conn *c, const char *msg, char *host,
    size_t hostlen, int *port)
{
	const char *addr = strchr(msg, ' '), *colon, *current;
	long v;

	if (addr == NULL || (addr = strchr(addr + 1, ' ')) == NULL)
		return -1;
	addr++;
	if ((colon = strrchr(addr, ':')) == NULL ||
	    parse_int_range(colon + 1, strlen(colon + 1), 1, 65535, &v) < 0 ||
	    (size_t)(colon - addr) >= hostlen)
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	*port = (int)v;
	current = at_node(c) ? c->node.host : c->url.host;
	if (host[0] == '\0') {
		if (current == NULL || strlen(current) >= hostlen)
			return -1;
		strcpy(host, current);
	}
	return 0;
}

/*
 * Answer an ASK: run command i once on the node named, after ASKING,
 * and put its reply in place of the redirection.  Returns 0 or -1.
 */
static int
conn_ask(struct conn *c, const char *host, int port, int argc,
    const char **argv, const size_t *argvlen, redisReply **reply)
{
	int argcs[2] = { 1, argc };
	const char *asking[] = { "ASKING" };
	const char **const argvs[2] = { asking, argv };
	const size_t *const lens[2] = { NULL, argvlen };
	redisReply *r[2];
	redisContext *ctx = ctx_open(c, host, port, NULL, 1);
	char where[300];

	if (ctx == NULL)
		return -1;
	if (ctx_pipeline(ctx, 2, argcs, argvs, argvlen ? lens : NULL, r) < 0) {
		node_name(host, port, where, sizeof(where));
		ctx_fail(c, ctx, "command at", where, errno);
		redisFree(ctx);
		return -1;
	}
	redisFree(ctx);
	freeReplyObject(r[0]);
	freeReplyObject(*reply);
	*reply = r[1];
	return 0;
}

static int
error_is(const redisReply *r, const char *prefix)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, prefix, strlen(prefix)) == 0;
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

/*
 * Run the pipeline and follow what the server says about where the data
 * is: MOVED (the slot has a new owner: go there for good), ASK (this
 * command only, during a slot migration), TRYAGAIN (keys of a migrating
 * slot are split for a moment), READONLY (with Sentinel: the master was
 * demoted; ask the sentinels again).  Every command this project sends
 * is idempotent, so running one again is safe.
 */
int
conn_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	for (int hop = 0;; hop++) {
		const char *moved = NULL;
		int again = 0, readonly = 0, port;
		char host[256];

		if (conn_pipeline_once(c, n, argcs, argvs, argvlens, replies) < 0)
			return -1;
		/* ASK: the command alone, on the node importing the slot. */
		for (size_t i = 0; i < n && hop < CONN_MAX_REDIRECTS; i++) {
			if (!error_is(replies[i], "ASK ") || parse_redirect(c,
			    replies[i]->str, host, sizeof(host), &port) < 0)
				continue;
			log_debug("redis cluster redirect reply=\"%s\"",
			    replies[i]->str);
			if (conn_ask(c, host, port, argcs[i], argvs[i],
			    argvlens ? argvlens[i] : NULL, &replies[i]) < 0)
				goto failed;
		}
		for (size_t i = 0; i < n; i++) {
			if (error_is(replies[i], "MOVED "))
				moved = replies[i]->str;
			again |= error_is(replies[i], "TRYAGAIN") ||
			    error_is(replies[i], "ASK ");
			readonly |= c->url.master != NULL &&
			    error_is(replies[i], "READONLY");
		}
		if ((!moved && !again && !readonly) ||
		    hop == CONN_MAX_REDIRECTS)
			return 0;	/* the caller sees any error left */
		if (moved != NULL) {
			/* the slot's owner, from now on */
			if (parse_redirect(c, moved, host, sizeof(host),
			    &port) < 0)
				return 0;
			log_debug("redis cluster redirect reply=\"%s\"", moved);
			if (c->on_url && port == c->node.port &&
			    strcmp(host, c->node.host) == 0) {
				/* back to the owner that just did not answer */
				snprintf(c->err, sizeof(c->err), "the cluster "
				    "node of the slot does not answer: %s",
				    c->node_err);
				goto failed;
			}
			if (conn_set_node(c, host, port) < 0)
				goto failed;
			conn_reset(c);
		} else if (readonly) {
			log_warn("redis master demoted, asking the sentinels "
			    "again master=\"%s\"", c->url.master);
			conn_reset(c);
		} else
			usleep(20000 << hop);
		for (size_t i = 0; i < n; i++) {
			freeReplyObject(replies[i]);
			replies[i] = NULL;
		}
	}
failed:
	for (size_t i = 0; i < n; i++) {
		freeReplyObject(replies[i]);
		replies[i] = NULL;
	}
	return -1;
}

long long
conn_wait_replicas(struct conn *c, int n, long ms)
{
	struct timeval tv = c->tv;
	char nbuf[16], msbuf[24], where[300];
	const char *argv[] = { "WAIT", nbuf, msbuf };
	redisReply *r;
	long long got;

	if (c->ctx == NULL) {
		snprintf(c->err, sizeof(c->err), "the connection to Redis was "
		    "lost before WAIT: the writes' replication is unknown");
		return -1;
	}
	snprintf(nbuf, sizeof(nbuf), "%d", n);
	snprintf(msbuf, sizeof(msbuf), "%ld", ms);
	/* The read may block up to ms longer than a plain command. */
	tv.tv_sec += ms / 1000;
	tv.tv_usec += (ms % 1000) * 1000;
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	conn_where(c, where, sizeof(where));
	if (redisSetTimeout(c->ctx, tv) != REDIS_OK ||
	    (r = ctx_command(c, c->ctx, where, 3, argv, "WAIT at")) == NULL) {
		if (c->ctx->err)
			conn_reset(c);
		else
			(void)redisSetTimeout(c->ctx, c->tv);
		return -1;
	}
	(void)redisSetTimeout(c->ctx, c->tv);
	got = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	if (got < 0)
		snprintf(c->err, sizeof(c->err), "WAIT at %s: unexpected reply",
		    where);
	freeReplyObject(r);
	return got;
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

	/*
	 * EVALSHA; after NOSCRIPT (a restarted server, or another cluster
	 * node) EVAL with the body, which also caches it where it ran.
	 */
	if (s->sha[0] == '\0' && conn_script_load(c, s) < 0)
		goto out;
	argv[0] = "EVALSHA";
	lens[0] = 7;
	argv[1] = s->sha;
	lens[1] = 40;
	r = conn_command(c, argc, argv, lens);
	if (error_is(r, "NOSCRIPT")) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		lens[0] = 4;
		argv[1] = s->body;
		lens[1] = strlen(s->body);
		r = conn_command(c, argc, argv, lens);
	}
out:
	free(argv);
	free(lens);
	return r;
}
