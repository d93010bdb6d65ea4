/*
 * The Redis URL grammar (redis://, unix://, redis-sentinel://) and the
 * one rule for where a URL keeps its password, used to redact it from logs
 * and to scrub it from argv.  Pure: no I/O.
 */
#ifndef ISBITCOINLIT_REDIS_URL_H
#define ISBITCOINLIT_REDIS_URL_H

#include <stddef.h>

#include "errors.h"

#define REDIS_URL_DEFAULT_PORT	6379	/* redis:// without a port */
#define REDIS_URL_SENTINEL_PORT	26379	/* a sentinel without a port */
#define REDIS_URL_MAX_NODES	16	/* sentinels, or cluster seeds */

/* The code of a struct error filled by redis_url_parse(). */
enum redis_url_err {
	REDIS_URL_EINVAL = 1,	/* not a URL we accept; the text says why */
	REDIS_URL_ENOMEM
};

struct redis_node {
	char *host;
	int port;
};

/*
 * A parsed Redis URL.  All strings are owned by the struct.  A redis://
 * URL fills seeds (one or more "host:port" of a cluster; host and port are
 * the first).  A redis-sentinel:// URL fills master and sentinels (and the
 * sentinels' own user and password when given) and leaves host and path
 * NULL: the master's address is asked of the sentinels.
 */
struct redis_url {
	char *host;	/* NULL for a unix socket or Sentinel */
	int port;
	char *path;	/* unix socket path, or NULL */
	char *user;	/* NULL: no user name (AUTH password) */
	char *password;	/* NULL: no AUTH */
	int db;
	char *master;	/* Sentinel: the monitored master's name */
	struct redis_node *sentinels;
	size_t nsentinels;
	char *sentinel_user;	/* NULL: no user name for the sentinels */
	char *sentinel_password;	/* NULL: the sentinels get no AUTH */
	struct redis_node *seeds;	/* redis://: every host named */
	size_t nseeds;
};

/*
 * Parse text into url.  The user name and password end at the last '@'
 * before the first '/', '?' or '#' after "://"; a URL with an '@' after
 * that is refused, so a '/', '?' or '#' in a user name or password, and
 * an '@' in a path, must be percent-encoded (%2F, %3F, %23, %40).  In a
 * redis-sentinel:// URL the first '@' before that one separates the data
 * nodes' "[user]:password" from the sentinels' (an '@' in either is then
 * %40).
 * Returns 0 (release url with redis_url_free()), or -1 with url zeroed
 * and err (may be NULL) set to a redis_url_err and a one-line reason that
 * ends with the URL, its password redacted.
 */
int redis_url_parse(const char *text, struct redis_url *url,
    struct error *err);

/* Free url's strings (zeroing the password first) and zero url. */
void redis_url_free(struct redis_url *url);

/*
 * Write text into out (truncated to outlen) with its password replaced
 * by "***", for logs and error messages.  Whatever the text, everything
 * from "://" (or from after a user name and its ':') to the last '@' is
 * masked: a URL whose path holds an '@' is masked more than needed.
 */
void redis_url_redact(const char *text, char *out, size_t outlen);

/*
 * Overwrite the password in text with 'x's in place, keeping its length;
 * the same span as redis_url_redact().
 */
void redis_url_scrub(char *text);

/*
 * Parse all of s[0..len) as a TCP port, decimal digits only.  Returns the
 * port (1-65535) or -1.
 */
int redis_url_parse_port(const char *s, size_t len);

#endif
