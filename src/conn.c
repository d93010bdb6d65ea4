/*
 * The transport to one Redis server: connect with timeouts, AUTH and
 * SELECT, reconnect after a failure, pipelines, scripts (EVALSHA/EVAL)
 * and WAIT.  Where that server is (Sentinel, Cluster) is topology.c's job.
 *
 * After an I/O error hiredis leaves the context unusable, so it is freed
 * and the next command connects anew, re-applying timeouts, AUTH and
 * SELECT (redisReconnect() in hiredis 0.14 keeps none of them).  Contexts
 * are made lazily, so a struct conn made before fork connects in the child.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "conn_impl.h"

struct conn *
conn_new(const struct redis_url *url, long timeout_ms)
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
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	conn_reset(c);
	conn_set_node(c, NULL, 0);
	topo_forget_nodes(c);
	redis_url_free(&c->url);
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
	return c->err.text[0] ? c->err.text : "no error";
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

/* A read or write that ran out of time says so. */
void
conn_ctx_fail(struct conn *c, const redisContext *ctx, const char *what,
    const char *where, int saved_errno)
{
	if (ctx != NULL && ctx->err == REDIS_ERR_IO &&
	    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
		error_set(&c->err, 0, "%s %s: timed out after %ld ms",
		    what, where,
		    (long)c->tv.tv_sec * 1000 + c->tv.tv_usec / 1000);
	else if (ctx != NULL && ctx->err == REDIS_ERR_EOF)
		error_set(&c->err, 0, "%s %s: connection closed "
		    "by the server", what, where);
	else
		error_set(&c->err, 0, "%s %s: %s", what, where,
		    ctx != NULL && ctx->errstr[0] ? ctx->errstr :
		    "out of memory");
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
    int auth)
{
	redisContext *ctx;
	redisReply *r;
	char where[CONN_WHERE_MAX], db[16];

	if (path != NULL) {
		snprintf(where, sizeof(where), "unix:%s", path);
		ctx = redisConnectUnixWithTimeout(path, c->tv);
	} else {
		conn_node_name(host, port, where, sizeof(where));
		ctx = redisConnectWithTimeout(host, port, c->tv);
	}
	if (ctx == NULL || ctx->err) {
		conn_ctx_fail(c, ctx, "connect", where, errno);
		goto err;
	}
	if (redisSetTimeout(ctx, c->tv) != REDIS_OK) {
		conn_ctx_fail(c, ctx, "set timeout on", where, errno);
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
		if ((r = conn_ctx_command(c, ctx, where, argc, argv,
		    "AUTH at")) == NULL)
			goto err;
		freeReplyObject(r);
	}
	if (auth && c->url.db != 0) {
		const char *argv[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", c->url.db);
		if ((r = conn_ctx_command(c, ctx, where, 2, argv,
		    "SELECT at")) == NULL)
			goto err;
		freeReplyObject(r);
	}
	return ctx;
err:
	if (ctx != NULL)
		redisFree(ctx);
	return NULL;
}

/*
 * Connect to the master the sentinels name (checked with ROLE), else to
 * the cluster node a MOVED pointed at, else to the URL's address.
 * Returns 0, or -1 with c->err set.
 */
static int
conn_connect(struct conn *c)
{
	if (c->url.master != NULL && topo_sentinel_resolve(c) < 0)
		return -1;
	c->on_url = 0;
	if (c->node.host != NULL)
		c->ctx = conn_ctx_open(c, c->node.host, c->node.port, NULL, 1);
	/*
	 * With Cluster, when the node that had our slot does not answer, the
	 * URL's node may name its successor (MOVED); the node is kept for the
	 * next connect in case it is the URL's node that is gone.
	 */
	if (c->ctx == NULL && c->url.master == NULL) {
		if (c->node.host != NULL)
			snprintf(c->node_err, sizeof(c->node_err), "%.200s",
			    c->err.text);
		c->on_url = c->node.host != NULL;
		c->ctx = conn_ctx_open(c, c->url.host, c->url.port,
		    c->url.path, 1);
	}
	if (c->ctx == NULL) {
		if (c->url.master != NULL)
			error_prefix(&c->err, "the master of \"%s\" that the "
			    "sentinels name: ", c->url.master);
		return -1;
	}
	if (c->url.master != NULL && topo_role_check(c) < 0) {
		conn_reset(c);
		return -1;
	}
	c->generation++;
	return 0;
}

unsigned long
conn_generation(const struct conn *c)
{
	return c->generation;
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

int
conn_pipeline_once(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = c->ctx != NULL, timed_out, saved_errno;

		memset(replies, 0, n * sizeof(*replies));
		if (c->ctx == NULL && conn_connect(c) < 0)
			break;
		if (conn_ctx_pipeline(c->ctx, n, argcs, argvs, argvlens,
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

int
conn_reply_is_error(const redisReply *r, const char *prefix)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, prefix, strlen(prefix)) == 0;
}

/* Each attempt is conn_pipeline_once(); topology.c follows redirections. */
int
conn_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	return topo_pipeline(c, n, argcs, argvs, argvlens, replies);
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

long long
conn_wait_replicas(struct conn *c, int n, long ms)
{
	struct timeval tv = c->tv;
	char nbuf[16], msbuf[24], where[CONN_WHERE_MAX];
	const char *argv[] = { "WAIT", nbuf, msbuf };
	redisReply *r;
	long long got;

	if (c->ctx == NULL) {
		error_set(&c->err, 0, "the connection to Redis was "
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
	    (r = conn_ctx_command(c, c->ctx, where, 3, argv, "WAIT at")) ==
	    NULL) {
		if (c->ctx->err)
			conn_reset(c);
		else
			(void)redisSetTimeout(c->ctx, c->tv);
		return -1;
	}
	(void)redisSetTimeout(c->ctx, c->tv);
	got = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	if (got < 0)
		error_set(&c->err, 0, "WAIT at %s: unexpected reply",
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
	if (r->type != REDIS_REPLY_STRING || r->len != CONN_SHA1_HEX) {
		error_set(&c->err, 0, "SCRIPT LOAD: %s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	memcpy(s->sha, r->str, CONN_SHA1_HEX);
	s->sha[CONN_SHA1_HEX] = '\0';
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
		error_set(&c->err, 0, "out of memory");
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
	lens[0] = strlen(argv[0]);
	argv[1] = s->sha;
	lens[1] = CONN_SHA1_HEX;
	r = conn_command(c, argc, argv, lens);
	if (conn_reply_is_error(r, "NOSCRIPT")) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		lens[0] = strlen(argv[0]);
		argv[1] = s->body;
		lens[1] = strlen(s->body);
		r = conn_command(c, argc, argv, lens);
	}
out:
	free(argv);
	free(lens);
	return r;
}
