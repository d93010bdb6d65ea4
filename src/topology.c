/*
 * Where the data is: the master named by the sentinels (and checked with
 * ROLE), and the cluster node that owns a slot (MOVED, ASK, TRYAGAIN and
 * READONLY followed), and the connect to it: this layer decides which
 * server, and hands the transport (conn_net.c) where to connect.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "conn_net.h"
#include "log.h"
#include "topology.h"

/*
 * TRYAGAIN (a multi-key command on a slot being migrated) is retried after
 * this many microseconds, doubled at each hop.
 */
#define TRYAGAIN_BASE_US 20000

/* Longest host name accepted in a MOVED or ASK reply. */
#define REDIRECT_HOST_MAX 256

/*
 * How long a sentinel lookup that found no master is remembered: the
 * connects meanwhile fail at once instead of asking every sentinel again.
 */
#define SENTINEL_FAIL_MEMORY_MS 1000

/* Most names of cluster nodes kept (a node has up to three). */
#define KNOWN_MAX 4096

/*
 * Ask the sentinels, the one that answered last first, where the master
 * is, all within c's timeout; point c->node there.  Returns 0, or -1 with
 * c->err set; a lookup that found no master is remembered for a moment,
 * and fails at once meanwhile.
 */
static int
topo_sentinel_resolve(struct conn *c)
{
	const char *argv[] = { "SENTINEL", "get-master-addr-by-name",
	    c->url.master };
	size_t n = c->url.nsentinels;
	int64_t now = clock_mono_ms(), deadline = now + conn_timeout_ms(c);

	if (now < c->sentinel_fail_until) {
		error_set(&c->err, 0, "%s (%lld ms ago; asked again in "
		    "%lld ms)", c->sentinel_err, (long long)(now -
		    (c->sentinel_fail_until - SENTINEL_FAIL_MEMORY_MS)),
		    (long long)(c->sentinel_fail_until - now));
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = (c->sentinel + k) % n;
		const struct redis_node *s = &c->url.sentinels[i];
		long ms = conn_share(deadline, n - k);
		redisContext *ctx;
		redisReply *r;
		char where[CONN_WHERE_MAX];
		int port, rc;

		if (ms == 0) {
			error_set(&c->err, 0, "the %ld ms timeout ran out "
			    "with %zu of %zu sentinels asked",
			    conn_timeout_ms(c), k, n);
			break;
		}
		if ((ctx = conn_ctx_open(c, s->host, s->port, NULL,
		    CONN_AUTH_SENTINEL, ms)) == NULL)
			continue;
		conn_node_name(s->host, s->port, where, sizeof(where));
		r = conn_ctx_command(c, ctx, where, 3, argv, "sentinel");
		redisFree(ctx);
		if (r == NULL)
			continue;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_STRING ||
		    (port = redis_url_parse_port(r->element[1]->str,
		    r->element[1]->len)) < 0) {
			error_set(&c->err, 0, "sentinel %s: no "
			    "master named \"%s\"", where, c->url.master);
			freeReplyObject(r);
			continue;
		}
		c->sentinel = i;
		rc = conn_set_node(c, r->element[0]->str, port);
		freeReplyObject(r);
		return rc;
	}
	error_prefix(&c->err, "no sentinel told where the master is: ");
	/* every request would pay the lookup again: remembered a moment */
	snprintf(c->sentinel_err, sizeof(c->sentinel_err), "%.400s",
	    c->err.text);
	c->sentinel_fail_until = clock_mono_ms() + SENTINEL_FAIL_MEMORY_MS;
	return -1;
}

/* With Sentinel: is the server on c->ctx the master?  Returns 0 or -1. */
static int
topo_role_check(struct conn *c)
{
	const char *argv[] = { "ROLE" };
	char where[CONN_WHERE_MAX];
	redisReply *r;
	int ok;

	conn_where(c, where, sizeof(where));
	if ((r = conn_ctx_command(c, c->ctx, where, 1, argv, "ROLE at")) ==
	    NULL)
		return -1;
	ok = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "master") == 0;
	if (!ok)
		error_set(&c->err, 0, "%s is not the master of "
		    "\"%s\" (role %s): a failover is in progress", where,
		    c->url.master,
		    r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->type == REDIS_REPLY_STRING ?
		    r->element[0]->str : "unknown");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/*
 * "MOVED 3999 127.0.0.1:6381" or "ASK ...": the node, into host/port.
 * Redis 7 may leave the host out ("MOVED 3999 :6381"): the one we talk
 * to, and *hostless says so.  Returns 0, or -1 when msg names no node
 * that fits in host.
 */
static int
parse_redirect(const struct conn *c, const char *msg, char *host,
    size_t hostlen, int *port, int *hostless)
{
	const char *addr = strchr(msg, ' '), *colon, *current;

	if (addr == NULL || (addr = strchr(addr + 1, ' ')) == NULL)
		return -1;
	addr++;
	if ((colon = strrchr(addr, ':')) == NULL ||
	    (*port = redis_url_parse_port(colon + 1, strlen(colon + 1))) < 0 ||
	    (size_t)(colon - addr) >= hostlen)
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	current = conn_at_node(c) ? c->node.host : c->url.host;
	*hostless = host[0] == '\0';
	if (*hostless) {
		if (current == NULL || strlen(current) >= hostlen)
			return -1;
		strcpy(host, current);
	}
	return 0;
}

void
topo_forget_nodes(struct conn *c)
{
	for (size_t i = 0; i < c->nknown; i++)
		free(c->known[i].host);
	free(c->known);
	c->known = NULL;
	c->nknown = 0;
}

/*
 * Remember name:port as a cluster node.  Returns 0 (a name that is not a
 * short string, or a bad port, or one past KNOWN_MAX, is skipped), or -1
 * when out of memory.
 */
static int
known_add(struct conn *c, const redisReply *name, long long port)
{
	struct redis_node *k;

	if (name == NULL || name->type != REDIS_REPLY_STRING ||
	    name->len == 0 || name->len >= REDIRECT_HOST_MAX ||
	    memchr(name->str, '\0', name->len) != NULL ||
	    port < 1 || port > 65535 || c->nknown >= KNOWN_MAX)
		return 0;
	if ((k = reallocarray(c->known, c->nknown + 1, sizeof(*k))) == NULL)
		return -1;
	c->known = k;
	if ((k[c->nknown].host = strdup(name->str)) == NULL)
		return -1;
	k[c->nknown++].port = (int)port;
	return 0;
}

/* In a key/value array r (RESP2 map), the value of key, or NULL. */
static const redisReply *
map_get(const redisReply *r, const char *key)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return NULL;
	for (size_t i = 0; i < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[i]->str, key) == 0)
			return r->element[i + 1];
	return NULL;
}

/*
 * The nodes of a CLUSTER SHARDS reply (Redis 7: every node, with or
 * without slots) into c->known.  Returns 0 or -1 (out of memory).
 */
static int
known_from_shards(struct conn *c, const redisReply *r)
{
	static const char *const names[] = { "ip", "endpoint", "hostname" };

	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements;
	    i++) {
		const redisReply *nodes = map_get(r->element[i], "nodes");

		for (size_t j = 0; nodes != NULL &&
		    nodes->type == REDIS_REPLY_ARRAY && j < nodes->elements;
		    j++) {
			const redisReply *port = map_get(nodes->element[j],
			    "port");

			if (port == NULL || port->type != REDIS_REPLY_INTEGER)
				continue;
			for (size_t k = 0; k < 3; k++)
				if (known_add(c, map_get(nodes->element[j],
				    names[k]), port->integer) < 0)
					return -1;
		}
	}
	return 0;
}

/*
 * The nodes of a CLUSTER SLOTS reply (before Redis 7: the nodes that
 * serve slots) into c->known.  Returns 0 or -1 (out of memory).
 */
static int
known_from_slots(struct conn *c, const redisReply *r)
{
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements;
	    i++) {
		const redisReply *range = r->element[i];

		for (size_t j = 2; range->type == REDIS_REPLY_ARRAY &&
		    j < range->elements; j++) {
			const redisReply *n = range->element[j];

			if (n->type == REDIS_REPLY_ARRAY && n->elements >= 2 &&
			    n->element[1]->type == REDIS_REPLY_INTEGER &&
			    known_add(c, n->element[0],
			    n->element[1]->integer) < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * Ask the server on c->ctx which nodes its cluster has (CLUSTER SHARDS,
 * else CLUSTER SLOTS) and keep them in c->known.  Returns 0, or -1 with
 * why filled: not a cluster (an error reply), the connection failed (then
 * reset), or out of memory.
 */
static int
topo_known_refresh(struct conn *c, char *why, size_t whylen)
{
	const char *shards[] = { "CLUSTER", "SHARDS" };
	const char *slots[] = { "CLUSTER", "SLOTS" };
	redisReply *r;
	int rc;

	topo_forget_nodes(c);
	r = redisCommandArgv(c->ctx, 2, shards, NULL);
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		r = redisCommandArgv(c->ctx, 2, slots, NULL);
	}
	if (r == NULL) {
		snprintf(why, whylen, "CLUSTER SHARDS failed: %s",
		    c->ctx->errstr[0] ? c->ctx->errstr : "out of memory");
		conn_reset(c);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "not a cluster: %.200s", r->str);
		freeReplyObject(r);
		return -1;
	}
	rc = (r->element != NULL && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements > 0 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_INTEGER) ?
	    known_from_slots(c, r) : known_from_shards(c, r);
	freeReplyObject(r);
	if (rc < 0) {
		topo_forget_nodes(c);
		snprintf(why, whylen, "out of memory");
	}
	return rc;
}

/*
 * With several seeds: is the server on c->ctx a cluster node (it lists
 * the cluster's nodes)?  Several seeds of servers that are not one cluster
 * would split the data.  Returns 0, or -1 with c->err set.
 */
static int
topo_seed_check(struct conn *c)
{
	char where[CONN_WHERE_MAX], why[300] = "";

	conn_where(c, where, sizeof(where));
	if (topo_known_refresh(c, why, sizeof(why)) == 0)
		return 0;
	error_set(&c->err, 0, "the URL names %zu seeds, which must be nodes "
	    "of one Redis Cluster, but %s is not: %s", c->url.nseeds, where,
	    why);
	return -1;
}

/*
 * Point the URL's address (c->url.host, port) at seed i.  Returns 0 or
 * -1 (out of memory, c->err set).
 */
static int
topo_use_seed(struct conn *c, size_t i)
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
topo_open_url(struct conn *c)
{
	size_t n = c->url.nseeds;
	int64_t deadline = clock_mono_ms() + conn_timeout_ms(c);
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
		if (ctx != NULL && (topo_use_seed(c, i) < 0 ||
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
topo_connect(struct conn *c)
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
		c->ctx = topo_open_url(c);
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

/*
 * Is host:port among c->known?  A redirect without a host matches a node
 * on that port that the cluster lists with no endpoint ("?").
 */
static int
known_has(const struct conn *c, const char *host, int port, int hostless)
{
	for (size_t i = 0; i < c->nknown; i++)
		if (c->known[i].port == port &&
		    (strcasecmp(c->known[i].host, host) == 0 ||
		    (hostless && strcmp(c->known[i].host, "?") == 0)))
			return 1;
	return 0;
}

/*
 * May the redirection kind ("MOVED", "ASK") to host:port be followed?
 * Only from a redis:// URL (not unix://, not Sentinel) whose server is a
 * cluster that lists that node; the list is asked again with refresh, or
 * when the node is not in it.  Returns 1, or 0 with c->err set.
 */
static int
topo_redirect_allowed(struct conn *c, const char *kind, const char *host,
    int port, int hostless, int refresh)
{
	char where[CONN_WHERE_MAX], to[CONN_WHERE_MAX], why[300] = "";

	conn_where(c, where, sizeof(where));
	conn_node_name(host, port, to, sizeof(to));
	if (c->url.host == NULL)
		snprintf(why, sizeof(why), "a %s URL is not a cluster",
		    c->url.path != NULL ? "unix://" : "Sentinel");
	else if ((refresh || !known_has(c, host, port, hostless)) &&
	    topo_known_refresh(c, why, sizeof(why)) < 0)
		;
	else if (known_has(c, host, port, hostless))
		return 1;
	else
		snprintf(why, sizeof(why), "the cluster does not list it "
		    "among its %zu node addresses", c->nknown);
	error_set(&c->err, 0, "redis at %s answered %s to %s, but it is not "
	    "a cluster node we know: not followed (%s)", where, kind, to, why);
	return 0;
}

/*
 * Answer an ASK: run the command once on the node named, after ASKING, on
 * a context of its own, and put its reply in place of *reply (freed).
 * Returns 0, or -1 with c->err set.
 */
static int
topo_ask(struct conn *c, const char *host, int port, int argc,
    const char **argv, const size_t *argvlen, redisReply **reply)
{
	int argcs[2] = { 1, argc };
	const char *asking[] = { "ASKING" };
	const char **const argvs[2] = { asking, argv };
	const size_t *const lens[2] = { NULL, argvlen };
	redisReply *r[2];
	redisContext *ctx = conn_ctx_open(c, host, port, NULL,
	    CONN_AUTH_DATA, 0);

	c->generation++;	/* this command runs on another connection */
	char where[CONN_WHERE_MAX];

	if (ctx == NULL)
		return -1;
	if (conn_ctx_pipeline(ctx, 2, argcs, argvs, argvlen ? lens : NULL,
	    r) < 0) {
		conn_node_name(host, port, where, sizeof(where));
		conn_ctx_fail(c, ctx, "command at", where, errno);
		redisFree(ctx);
		return -1;
	}
	redisFree(ctx);
	freeReplyObject(r[0]);
	freeReplyObject(*reply);
	*reply = r[1];
	return 0;
}

/*
 * Run the pipeline and follow what the server says about where the data
 * is: MOVED (the slot has a new owner: go there for good), ASK (this
 * command only, during a slot migration), TRYAGAIN (keys of a migrating
 * slot are split for a moment), READONLY (with Sentinel: the master was
 * demoted; ask the sentinels again).  A redirected command was not run,
 * but the whole pipeline is sent again, so its other commands run twice:
 * conn.h says which of ours that is safe for.
 */
int
topo_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies)
{
	for (int hop = 0;; hop++) {
		const char *moved = NULL;
		int again = 0, readonly = 0, port, hostless;
		char host[REDIRECT_HOST_MAX];

		if (conn_pipeline_once(c, topo_connect, n, argcs, argvs,
		    argvlens, replies) < 0)
			return -1;
		/* ASK: the command alone, on the node importing the slot. */
		for (size_t i = 0; i < n && hop < CONN_MAX_REDIRECTS; i++) {
			if (!conn_reply_is_error(replies[i], "ASK ") ||
			    parse_redirect(c, replies[i]->str, host,
			    sizeof(host), &port, &hostless) < 0)
				continue;
			log_debug("redis cluster redirect reply=\"%s\"",
			    replies[i]->str);
			if (!topo_redirect_allowed(c, "ASK", host, port,
			    hostless, 0))
				goto failed;
			if (topo_ask(c, host, port, argcs[i], argvs[i],
			    argvlens ? argvlens[i] : NULL, &replies[i]) < 0)
				goto failed;
		}
		for (size_t i = 0; i < n; i++) {
			if (conn_reply_is_error(replies[i], "MOVED "))
				moved = replies[i]->str;
			again |= conn_reply_is_error(replies[i],
			    "TRYAGAIN") ||
			    conn_reply_is_error(replies[i], "ASK ");
			readonly |= c->url.master != NULL &&
			    conn_reply_is_error(replies[i], "READONLY");
		}
		if ((!moved && !again && !readonly) ||
		    hop == CONN_MAX_REDIRECTS)
			return 0;	/* the caller sees any error left */
		if (moved != NULL) {
			/* the slot's owner, from now on */
			if (parse_redirect(c, moved, host, sizeof(host),
			    &port, &hostless) < 0)
				return 0;
			log_debug("redis cluster redirect reply=\"%s\"", moved);
			if (!topo_redirect_allowed(c, "MOVED", host, port,
			    hostless, 1))
				goto failed;
			if (c->on_url && port == c->node.port &&
			    strcmp(host, c->node.host) == 0) {
				/* back to the owner that just did not answer */
				error_set(&c->err, 0, "the cluster "
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
			usleep(TRYAGAIN_BASE_US << hop);
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
