/*
 * The Redis connection's public API.  A process holds one struct conn per
 * URL it was given (the primary's, and the API's read replica's when
 * set).  Each keeps one context, made on first use and remade after any
 * failure, and follows Sentinel failovers and Cluster redirections (an ASK
 * opens a short-lived second context).  The URL grammar is redis_url.h.
 * In layers, each over the one below: conn.c and conn_script.c implement
 * this header; topology.c (where the data is) finds the server; conn_net.c
 * (the transport) talks to it.  They share conn_net.h, the transport's
 * private header, which holds struct conn.
 */
#ifndef ISBITCOINLIT_CONN_H
#define ISBITCOINLIT_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "redis_url.h"

/* Redirections (MOVED, ASK, TRYAGAIN, READONLY) followed per command. */
#define CONN_MAX_REDIRECTS 5

/* Hex digits of a script's SHA1, as EVALSHA takes it. */
#define CONN_SHA1_HEX 40

struct conn;

/*
 * Make a connection object from a copy of url (the caller keeps url);
 * nothing is connected until the first command, so make it after fork.
 * Each connect asks the sentinels (if any) where the master is and checks
 * it with ROLE, so a failover is followed by the next reconnect.  Cluster
 * redirections (MOVED, ASK) are followed to the node that owns the slot;
 * the commands of one pipeline must then all hash to one slot.
 * Returns NULL only when out of memory.  The caller owns the result and
 * releases it with conn_free().
 */
struct conn *conn_new(const struct redis_url *url, long timeout_ms);

/* Close the connection and free c (NULL is allowed). */
void conn_free(struct conn *c);

/*
 * Run one command.  Returns the reply (the caller frees it with
 * freeReplyObject), which may be a Redis error reply, or NULL when Redis
 * could not be reached or answered late; conn_error() then says why.
 *
 * A command that fails on a connection that was already open is sent once
 * more on a fresh one (the server restarted or dropped us while we idled);
 * a timeout is not retried, nor a failure on a fresh connection.  The
 * command may have run before the first connection failed, so it may run
 * twice.  For what this project sends, a second run leaves the data as
 * one run would: reads, the cache's SET ... EX, TS.ALTER, TS.CREATE (its
 * caller accepts "key already exists"), the sample writes (which keep the
 * first value of a timestamp; a second run counts the samples as
 * duplicates) and the lock's release script.
 * The exception is the refresh lock's SET ... NX PX: when the first run
 * took the lock and only its reply was lost, the second answers nil
 * against our own lock; store_lock_take() therefore asks who holds the
 * lock after a nil, and releases it by its token after a lost reply.
 */
redisReply *conn_command(struct conn *c, int argc, const char **argv,
    const size_t *argvlen);

/*
 * Send n commands in one round trip and fill replies[0..n-1] (the caller
 * frees each).  Returns 0, or -1 (every replies[i] NULL) when the
 * connection failed; conn_error() says why.  Retries like conn_command(),
 * and, after a redirection (MOVED, ASK, TRYAGAIN, or READONLY with
 * Sentinel), sends the whole pipeline again, up to CONN_MAX_REDIRECTS
 * times: the same rule about a second run applies to every command in it.
 * A redirection still left after that is in replies as an error reply.
 */
int conn_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies);

/*
 * A Lua script run by EVALSHA, loaded on first use; after NOSCRIPT (the
 * server restarted or flushed its script cache, or another cluster node
 * answered) it is sent whole with EVAL.  Scripts touch only the keys they
 * are given.  The caller owns the struct (usually static); sha is filled
 * on first use.
 */
struct conn_script {
	const char *body;
	char sha[CONN_SHA1_HEX + 1];
};

/* Run script with keys and args; same reply rules as conn_command(). */
redisReply *conn_eval(struct conn *c, struct conn_script *s, int nkeys,
    const char **keys, int nargs, const char **args, const size_t *arglens);

/*
 * WAIT for n replicas to acknowledge every write made so far on this
 * connection, at most ms milliseconds.  Returns the number that did, or -1
 * (conn_error() says why).  Never reconnects: a fresh connection has made
 * no write, and WAIT on it would acknowledge nothing.
 */
long long conn_wait_replicas(struct conn *c, int n, long ms);

/*
 * A number that changes whenever commands start going over another
 * connection: a (re)connect, or a command sent on its own connection for
 * an ASK.  WAIT covers only the writes of the connection it is sent on,
 * so equal numbers before the first write and at WAIT mean it covers all.
 */
unsigned long conn_generation(const struct conn *c);

/*
 * Why the last command failed, for logs and error bodies (never the
 * password).  The text is owned by c and valid until its next command.
 */
const char *conn_error(const struct conn *c);

/*
 * A circuit breaker for a server that may be slow or gone, such as a read
 * replica with a fallback: after a command fails to reach it, every
 * command fails at once for retry_ms (conn_error() says so), then one is
 * sent again.  The first failure is logged as a warning, and nothing more
 * until the server answers again (logged too).  retry_ms 0: off (the
 * default).
 */
void conn_set_breaker(struct conn *c, long retry_ms);

/*
 * Did the last command fail in the breaker (the failure that opened it,
 * logged already, or one refused while it is open)?  A caller that logs
 * failures leaves these out, so the log says it once.
 */
int conn_breaker_failed(const struct conn *c);

/* Drop the connection (e.g. after fork); the next command reconnects. */
void conn_reset(struct conn *c);

#endif
