/* The Redis connection: URL parsing, timeouts, AUTH/SELECT, reconnect. */
#ifndef ISBITCOINLIT_CONN_H
#define ISBITCOINLIT_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#define CONN_MAX_SENTINELS 16
/* Redirections (MOVED, ASK, TRYAGAIN, READONLY) followed per command. */
#define CONN_MAX_REDIRECTS 5

struct conn_node {
	char *host;
	int port;
};

/*
 * A parsed Redis URL.  All strings are owned by the struct.  A
 * redis-sentinel:// URL fills master and sentinels and leaves host and
 * path NULL: the master's address is asked of the sentinels.
 */
struct conn_url {
	char *host;	/* NULL for a unix socket or Sentinel */
	int port;
	char *path;	/* unix socket path, or NULL */
	char *user;	/* NULL: no user name (AUTH password) */
	char *password;	/* NULL: no AUTH */
	int db;
	char *master;	/* Sentinel: the monitored master's name */
	struct conn_node *sentinels;
	size_t nsentinels;
};

/* Parse text into url.  Returns 0, or -1 with a one-line reason in err. */
int conn_url_parse(const char *text, struct conn_url *url, char *err,
    size_t errlen);
void conn_url_free(struct conn_url *url);

/* Write text with any password replaced by "***" into out (for logs). */
void conn_url_redact(const char *text, char *out, size_t outlen);

struct conn;

/*
 * Make a connection object; nothing is connected until the first command.
 * Each connect asks the sentinels (if any) where the master is and checks
 * it with ROLE, so a failover is followed by the next reconnect.  Cluster
 * redirections (MOVED, ASK) are followed to the node that owns the slot;
 * the commands of one pipeline must then all hash to one slot.
 * Returns NULL only when out of memory.  The caller owns the result.
 */
struct conn *conn_new(const struct conn_url *url, long timeout_ms);
void conn_free(struct conn *c);

/*
 * Run one command.  Returns the reply (caller frees with
 * freeReplyObject), which may be a Redis error reply, or NULL when Redis
 * could not be reached or answered late; conn_error() then says why.  A
 * command that fails on a connection that was already open is retried once
 * on a fresh one (the server restarted while we idled): every command this
 * project sends is idempotent.  A timeout is not retried.
 */
redisReply *conn_command(struct conn *c, int argc, const char **argv,
    const size_t *argvlen);

/*
 * Send n commands in one round trip and fill replies[0..n-1].  Returns 0,
 * or -1 (every replies[i] NULL) when the connection failed.  Retries like
 * conn_command().
 */
int conn_pipeline(struct conn *c, size_t n, const int *argcs,
    const char **const *argvs, const size_t *const *argvlens,
    redisReply **replies);

/*
 * A Lua script run by EVALSHA, loaded on first use; after NOSCRIPT (the
 * server restarted or flushed its script cache, or another cluster node
 * answered) it is sent whole with EVAL.  Scripts touch only the keys they
 * are given.
 */
struct conn_script {
	const char *body;
	char sha[41];
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

/* Why the last command failed, for logs and error bodies. */
const char *conn_error(const struct conn *c);

/* Drop the connection (e.g. after fork); the next command reconnects. */
void conn_reset(struct conn *c);

#endif
