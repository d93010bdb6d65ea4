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
#include <time.h>

#include "conn_impl.h"
#include "log.h"

/*
 * A copy of the n nodes of from into *to and *nto (counted as soon as
 * allocated, so redis_url_free() frees a partial copy).  Returns 0 or -1.
 */
static int
nodes_copy(struct redis_node **to, size_t *nto, const struct redis_node *from,
    size_t n)
{
	if (n == 0)
		return 0;
	if ((*to = calloc(n, sizeof(**to))) == NULL)
		return -1;
	*nto = n;
	for (size_t i = 0; i < n; i++) {
		(*to)[i].port = from[i].port;
		if (((*to)[i].host = strdup(from[i].host)) == NULL)
			return -1;
	}
	return 0;
}

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
	    (url->master && !(c->url.master = strdup(url->master))) ||
	    (url->sentinel_user &&
	    !(c->url.sentinel_user = strdup(url->sentinel_user))) ||
	    (url->sentinel_password &&
	    !(c->url.sentinel_password = strdup(url->sentinel_password))))
		goto nomem;
	if (nodes_copy(&c->url.sentinels, &c->url.nsentinels, url->sentinels,
	    url->nsentinels) < 0 || nodes_copy(&c->url.seeds, &c->url.nseeds,
	    url->seeds, url->nseeds) < 0)
		goto nomem;
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

int64_t
conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long
conn_share(int64_t deadline, size_t left)
{
	int64_t rest = deadline - conn_now_ms();

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

/*
 * Point the URL's address (c->url.host, port) at seed i.  Returns 0 or
 * -1 (out of memory, c->err set).
 */
static int
conn_use_seed(struct conn *c, size_t i)
{
	char *h;

	if (c->url.seeds[i].host == c->url.host ||
	    strcmp(c->url.seeds[i].host, c->url.host) == 0) {
		c->url.port = c->url.seeds[i].port;
		c->seed = i;
		return 0;
	}
	if ((h = strdup(c->url.seeds[i].host)) == NULL) {
		error_set(&c->err, 0, "out of memory");
		return -1;
	}
	free(c->url.host);
	c->url.host = h;
	c->url.port = c->url.seeds[i].port;
	c->seed = i;
	return 0;
}

/*
 * Connect to the URL's address: its socket, or its seeds, the one that
 * answered last first, all within c's timeout.  Returns a context (with
 * c's own timeout) or NULL with c->err set.
 */
static redisContext *
conn_open_url(struct conn *c)
{
	size_t n = c->url.nseeds;
	int64_t deadline = conn_now_ms() + conn_timeout_ms(c);
	redisContext *ctx = NULL;

	if (c->url.path != NULL || n == 0)
		return conn_ctx_open(c, c->url.host, c->url.port, c->url.path,
		    CONN_AUTH_DATA, 0);
	for (size_t k = 0; k < n && ctx == NULL; k++) {
		size_t i = (c->seed + k) % n;
		long ms = conn_share(deadline, n - k);

		if (ms == 0)
			break;
		ctx = conn_ctx_open(c, c->url.seeds[i].host,
		    c->url.seeds[i].port, NULL, CONN_AUTH_DATA, ms);
		if (ctx != NULL && (conn_use_seed(c, i) < 0 ||
		    redisSetTimeout(ctx, c->tv) != REDIS_OK)) {
			redisFree(ctx);
			return NULL;
		}
	}
	if (ctx == NULL && n > 1)
		error_prefix(&c->err, "none of the %zu seeds answered within "
		    "%ld ms; the last: ", n, conn_timeout_ms(c));
	return ctx;
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
		c->ctx = conn_ctx_open(c, c->node.host, c->node.port, NULL,
		    CONN_AUTH_DATA, 0);
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
		c->ctx = conn_open_url(c);
	}
	if (c->ctx == NULL) {
		if (c->url.master != NULL)
			error_prefix(&c->err, "the master of \"%s\" that the "
			    "sentinels name: ", c->url.master);
		return -1;
	}
	if ((c->url.master != NULL && topo_role_check(c) < 0) ||
	    (c->url.nseeds > 1 && !conn_at_node(c) && topo_seed_check(c) < 0)) {
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

void
conn_set_breaker(struct conn *c, long retry_ms)
{
	c->retry_ms = retry_ms;
}

int
conn_breaker_failed(const struct conn *c)
{
	return c->breaker_failed;
}

/*
 * Each attempt is conn_pipeline_once(); topology.c follows redirections.
 * With a breaker, a failure keeps every command from the server for
 * retry_ms (said in the log once, until the server answers again).
 */
int
conn_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	char where[CONN_WHERE_MAX];
	int64_t now = conn_now_ms();
	int rc;

	c->breaker_failed = 0;
	if (c->retry_ms > 0 && now < c->open_until) {
		memset(replies, 0, n * sizeof(*replies));
		conn_where(c, where, sizeof(where));
		error_set(&c->err, 0, "redis at %s not asked for %lld ms more "
		    "(it failed: %s)", where, (long long)(c->open_until - now),
		    c->open_err);
		c->breaker_failed = 1;
		return -1;
	}
	rc = topo_pipeline(c, n, argcs, argvs, argvlens, replies);
	if (c->retry_ms <= 0)
		return rc;
	conn_where(c, where, sizeof(where));
	if (rc < 0) {
		c->open_until = conn_now_ms() + c->retry_ms;
		snprintf(c->open_err, sizeof(c->open_err), "%.200s",
		    c->err.text);
		if (!c->broken)
			log_warn("redis at %s failed: not asked again for %ld "
			    "ms, then tried (said once until it answers) "
			    "error=\"%s\"", where, c->retry_ms, c->err.text);
		c->broken = 1;
		c->breaker_failed = 1;
	} else if (c->broken) {
		log_warn("redis at %s answers again", where);
		c->broken = 0;
	}
	return rc;
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
