/*
 * Private to the connection's files (conn*.c, topology.c): struct conn and
 * the transport (conn_net.c), the layer the others stand on.  The
 * transport reads the URL and c->node to know where to connect, and knows
 * nothing of Sentinel or Cluster; topology.c decides which server
 * (topology.h), and conn.c is the public face (conn.h).
 */
#ifndef ISBITCOINLIT_CONN_NET_H
#define ISBITCOINLIT_CONN_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "errors.h"
#include "redis_url.h"

/* Room for a server's address in messages: "[v6]:port", "unix:/path". */
#define CONN_WHERE_MAX 300

struct conn {
	/* the transport's: where to connect and the context there */
	struct redis_url url;	/* our copy */
	struct timeval tv;	/* connect and command timeout */
	redisContext *ctx;	/* NULL: connect on the next command */
	/* where ctx points when not the URL's address: the master named by
	 * the sentinels, or the cluster node that owns our slot */
	struct redis_node node;
	int on_url;		/* ctx is at the URL's node all the same */
	struct error err;	/* its text is what conn_error() returns */
	/* connections made so far, ASK's one-command ones too */
	unsigned long generation;

	/* topology.c's: where the data is */
	char node_err[256];	/* why node did not answer then */
	size_t sentinel;	/* the sentinel that answered last */
	/* with Cluster: the nodes the cluster lists (one entry per name a
	 * node has: ip, endpoint, host name), the only ones a MOVED or ASK
	 * is followed to; asked again on each MOVED */
	struct redis_node *known;
	size_t nknown;
	size_t seed;		/* the cluster seed that answered last */
	/* with Sentinel: no sentinel answered; until this (clock_mono_ms())
	 * a connect fails at once with sentinel_err */
	int64_t sentinel_fail_until;
	char sentinel_err[ERROR_TEXT_MAX];

	/* conn.c's: the circuit breaker (conn_set_breaker()); retry_ms 0: off */
	long retry_ms;
	int64_t open_until;	/* failed: no command is sent before this */
	int broken;		/* the failure was logged; not yet answered */
	int breaker_failed;	/* the last command failed in the breaker */
	char open_err[256];	/* why it opened */
};

/* Whose credentials conn_ctx_open() sends. */
enum conn_auth {
	CONN_AUTH_SENTINEL,	/* the sentinels' (if any); no SELECT */
	CONN_AUTH_DATA		/* the URL's user, password and database */
};

/* ---- conn_net.c: the transport ---- */

/* host:port into buf, with brackets around an IPv6 address. */
void conn_node_name(const char *host, int port, char *buf, size_t len);

/* Is ctx at c->node (else at the URL's address)? */
int conn_at_node(const struct conn *c);

/* The address of c's server into buf, for messages (never the password). */
void conn_where(const struct conn *c, char *buf, size_t len);

/*
 * Point the next connect at host:port (a copy; NULL: back to the URL's
 * address).  Returns 0, or -1 with c->err set when out of memory.
 */
int conn_set_node(struct conn *c, const char *host, int port);

/*
 * The time for the next of left attempts that must all end by deadline
 * (clock_mono_ms()): an equal share of what remains, so that a refused
 * attempt leaves more to the others.  Returns milliseconds, 0 when none
 * remain.
 */
long conn_share(int64_t deadline, size_t left);

/* c's timeout in milliseconds. */
long conn_timeout_ms(const struct conn *c);

/* Record in c->err why ctx failed; saved_errno tells a timeout apart. */
void conn_ctx_fail(struct conn *c, const redisContext *ctx, const char *what,
    const char *where, int saved_errno);

/*
 * Connect to one server with a timeout of ms (0: c's own) for the connect
 * and each command, then AUTH (and with CONN_AUTH_DATA, SELECT).
 * Returns a context the caller frees with redisFree(), or NULL with
 * c->err set.
 */
redisContext *conn_ctx_open(struct conn *c, const char *host, int port,
    const char *path, enum conn_auth auth, long ms);

/*
 * Run one command on a raw context.  Returns the reply (the caller frees
 * it), or NULL with c->err set, also for an error reply.
 */
redisReply *conn_ctx_command(struct conn *c, redisContext *ctx,
    const char *where, int argc, const char **argv, const char *what);

/*
 * Send n commands on ctx and read their replies into replies (the caller
 * frees them).  Returns 0, or -1 with every reply read so far freed.
 */
int conn_ctx_pipeline(redisContext *ctx, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies);

/*
 * Connect c->ctx to the server where the data is (topology.c's).  Returns
 * 0, or -1 with c->err set.
 */
typedef int (*conn_open_fn)(struct conn *c);

/*
 * One pipeline on c's current server, connecting with open_fn as needed
 * and sending once more on a fresh connection if a reused one failed.
 * Returns 0 with replies filled, or -1 (replies NULL, c->err set).
 * Redirections are not looked at.
 */
int conn_pipeline_once(struct conn *c, conn_open_fn open_fn, size_t n,
    const int *argcs, const char **const *argvs,
    const size_t *const *argvlens, redisReply **replies);

/* Is r an error reply starting with prefix? */
int conn_reply_is_error(const redisReply *r, const char *prefix);

#endif
