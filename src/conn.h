/* The Redis connection: URL parsing, timeouts, AUTH/SELECT, reconnect. */
#ifndef ISBITCOINLIT_CONN_H
#define ISBITCOINLIT_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

/* A parsed Redis URL.  All strings are owned by the struct. */
struct conn_url {
	char *host;	/* NULL for a unix socket */
	int port;
	char *path;	/* unix socket path, or NULL */
	char *user;	/* NULL: no user name (AUTH password) */
	char *password;	/* NULL: no AUTH */
	int db;
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
 * A Lua script run by EVALSHA, loaded on first use and again after
 * NOSCRIPT (the server restarted or flushed its script cache).
 */
struct conn_script {
	const char *body;
	char sha[41];
};

/* Run script with keys and args; same reply rules as conn_command(). */
redisReply *conn_eval(struct conn *c, struct conn_script *s, int nkeys,
    const char **keys, int nargs, const char **args, const size_t *arglens);

/* Why the last command failed, for logs and error bodies. */
const char *conn_error(const struct conn *c);

/* Drop the connection (e.g. after fork); the next command reconnects. */
void conn_reset(struct conn *c);

#endif
