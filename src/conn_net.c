/*
 * The transport to one Redis server, handed where to connect: contexts
 * with timeouts, AUTH and SELECT; commands and pipelines on a context;
 * failures put into words; and the one resend on a fresh connection.
 * It knows nothing of Sentinel or Cluster: which server c->node names is
 * topology.c's to decide, and a reconnect goes through the connect
 * function its caller passes.
 *
 * After an I/O error hiredis leaves the context unusable, so it is freed
 * and the next command connects anew, re-applying timeouts, AUTH and
 * SELECT (redisReconnect() in hiredis 0.14 keeps none of them).  Contexts
 * are made lazily, so a struct conn made before fork connects in the child.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "clock.h"
#include "conn_net.h"

int
conn_set_node(struct conn *c, const char *host, int port)
{
	char *h = NULL;

	if (host != NULL && (h = strdup(host)) == NULL) {
		error_set(&c->err, 0, "out of memory");
		return -1;
	}
	free(c->node.host);
	c->node.host = h;
	c->node.port = port;
	return 0;
}

void
conn_reset(struct conn *c)
{
	if (c->ctx != NULL)
		redisFree(c->ctx);
	c->ctx = NULL;
}

void
conn_node_name(const char *host, int port, char *buf, size_t len)
{
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d",
	    host, port);
}

int
conn_at_node(const struct conn *c)
{
	return c->node.host != NULL && !c->on_url;
}

void
conn_where(const struct conn *c, char *buf, size_t len)
{
	if (conn_at_node(c))
		conn_node_name(c->node.host, c->node.port, buf, len);
	else if (c->url.path != NULL)
		snprintf(buf, len, "unix:%s", c->url.path);
	else if (c->url.host != NULL)
		conn_node_name(c->url.host, c->url.port, buf, len);
	else
		snprintf(buf, len, "master \"%s\"", c->url.master);
}

long
conn_share(int64_t deadline, size_t left)
{
	int64_t rest = deadline - clock_mono_ms();

	if (rest <= 0 || left == 0)
		return 0;
	rest /= (int64_t)left;
	return rest > 0 ? (long)rest : 1;
}

long
conn_timeout_ms(const struct conn *c)
{
	return (long)c->tv.tv_sec * 1000 + c->tv.tv_usec / 1000;
}

/* A read or write that ran out of time says so (with ctx's own timeout). */
void
conn_ctx_fail(struct conn *c, const redisContext *ctx, const char *what,
    const char *where, int saved_errno)
{
	if (ctx != NULL && ctx->err == REDIS_ERR_IO &&
	    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
		error_set(&c->err, 0, "%s %s: timed out after %ld ms",
		    what, where, ctx->timeout != NULL ?
		    (long)ctx->timeout->tv_sec * 1000 +
		    ctx->timeout->tv_usec / 1000 : conn_timeout_ms(c));
	else if (ctx != NULL && ctx->err == REDIS_ERR_EOF)
		error_set(&c->err, 0, "%s %s: connection closed "
		    "by the server", what, where);
	else
		error_set(&c->err, 0, "%s %s: %s", what, where,
		    ctx != NULL && ctx->errstr[0] ? ctx->errstr :
		    "out of memory");
}

/*
 * A unix socket closed at the first command: say what that means when a
 * TLS tunnel listens there, as its clients see a failed handshake.
 */
static void
conn_tunnel_hint(struct conn *c, const redisContext *ctx, const char *path)
{
	char text[ERROR_TEXT_MAX];

	if (path == NULL || ctx == NULL || !(ctx->err == REDIS_ERR_EOF ||
	    (ctx->err == REDIS_ERR_IO &&
	    strcmp(ctx->errstr, strerror(ECONNRESET)) == 0)))
		return;
	snprintf(text, sizeof(text), "%s", c->err.text);
	error_set(&c->err, 0, "%s (a TLS tunnel on this socket closes it so "
	    "when the TLS handshake or the check of Redis's certificate "
	    "fails: see the tunnel's log)", text);
}

static void
conn_fail(struct conn *c, const char *what, int saved_errno)
{
	char where[CONN_WHERE_MAX];

	conn_where(c, where, sizeof(where));
	conn_ctx_fail(c, c->ctx, what, where, saved_errno);
}

redisReply *
conn_ctx_command(struct conn *c, redisContext *ctx, const char *where,
    int argc, const char **argv, const char *what)
{
	redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);

	if (r == NULL) {
		conn_ctx_fail(c, ctx, what, where, errno);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		error_set(&c->err, 0, "%s %s: %s", what, where,
		    r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

redisContext *
conn_ctx_open(struct conn *c, const char *host, int port, const char *path,
    enum conn_auth auth, long ms)
{
	redisContext *ctx;
	redisReply *r;
	struct timeval tv = c->tv;
	char where[CONN_WHERE_MAX], db[16];
	const char *user = auth == CONN_AUTH_DATA ? c->url.user :
	    c->url.sentinel_user;
	const char *password = auth == CONN_AUTH_DATA ? c->url.password :
	    c->url.sentinel_password;

	if (ms > 0) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
	}
	if (path != NULL) {
		snprintf(where, sizeof(where), "unix:%s", path);
		ctx = redisConnectUnixWithTimeout(path, tv);
	} else {
		conn_node_name(host, port, where, sizeof(where));
		ctx = redisConnectWithTimeout(host, port, tv);
	}
	if (ctx == NULL || ctx->err) {
		conn_ctx_fail(c, ctx, "connect", where, errno);
		goto err;
	}
	if (redisSetTimeout(ctx, tv) != REDIS_OK) {
		conn_ctx_fail(c, ctx, "set timeout on", where, errno);
		goto err;
	}
	if (path == NULL)
		(void)redisEnableKeepAlive(ctx);
	if (password != NULL) {
		const char *argv[3];
		int argc = 0;

		argv[argc++] = "AUTH";
		if (user != NULL)
			argv[argc++] = user;
		argv[argc++] = password;
		if ((r = conn_ctx_command(c, ctx, where, argc, argv,
		    auth == CONN_AUTH_DATA ? "AUTH at" : "AUTH at sentinel")) ==
		    NULL) {
			conn_tunnel_hint(c, ctx, path);
			goto err;
		}
		freeReplyObject(r);
	}
	if (auth == CONN_AUTH_DATA && c->url.db != 0) {
		const char *argv[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", c->url.db);
		if ((r = conn_ctx_command(c, ctx, where, 2, argv,
		    "SELECT at")) == NULL) {
			conn_tunnel_hint(c, ctx, path);
			goto err;
		}
		freeReplyObject(r);
	}
	return ctx;
err:
	if (ctx != NULL)
		redisFree(ctx);
	return NULL;
}

int
conn_ctx_pipeline(redisContext *ctx, size_t n, const int *argcs,
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

/*
 * A command that fails on a reused connection is sent once more on a fresh
 * one, which open_fn makes; conn.h says why a second run is safe.
 */
int
conn_pipeline_once(struct conn *c, conn_open_fn open_fn, size_t n,
    const int *argcs, const char **const *argvs,
    const size_t *const *argvlens, redisReply **replies)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = c->ctx != NULL, timed_out, saved_errno;

		memset(replies, 0, n * sizeof(*replies));
		if (c->ctx == NULL && open_fn(c) < 0)
			break;
		if (conn_ctx_pipeline(c->ctx, n, argcs, argvs, argvlens,
		    replies) == 0)
			return 0;
		saved_errno = errno;
		conn_fail(c, "command at", saved_errno);
		if (!reused && !conn_at_node(c))
			conn_tunnel_hint(c, c->ctx, c->url.path);
		timed_out = c->ctx->err == REDIS_ERR_IO &&
		    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
		conn_reset(c);
		if (!reused || timed_out)
			break;
	}
	return -1;
}

int
conn_reply_is_error(const redisReply *r, const char *prefix)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, prefix, strlen(prefix)) == 0;
}
