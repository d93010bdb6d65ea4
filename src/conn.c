/*
 * The connection's public face (conn.h): a struct conn made from a URL and
 * freed; every command through the circuit breaker, then topology.c, which
 * connects where the data is and follows redirections over the transport
 * (conn_net.c); WAIT on the connection the writes went over.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "clock.h"
#include "conn.h"
#include "conn_net.h"
#include "log.h"
#include "topology.h"

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

const char *
conn_error(const struct conn *c)
{
	return c->err.text[0] ? c->err.text : "no error";
}

unsigned long
conn_generation(const struct conn *c)
{
	return c->generation;
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
 * topo_pipeline() connects where the data is, resends once on a fresh
 * connection (conn_pipeline_once()) and follows redirections.
 * With a breaker, a failure keeps every command from the server for
 * retry_ms (said in the log once, until the server answers again).
 */
int
conn_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	char where[CONN_WHERE_MAX];
	int64_t now = clock_mono_ms();
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
		c->open_until = clock_mono_ms() + c->retry_ms;
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
