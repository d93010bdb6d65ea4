/*
 * The store's connection: made from a URL and owned by the store
 * (store_open()) and checked at start-up, the circuit breaker of a read
 * replica, and what the refresh asks of the connection its writes went
 * over (its generation, WAIT for the replicas).
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "redis_url.h"
#include "store_impl.h"

int
store_open(const struct cfg *cfg, const char *text, struct store *st)
{
	struct redis_url url;
	struct conn *conn;
	struct error err;

	memset(st, 0, sizeof(*st));
	if (redis_url_parse(text, &url, &err) < 0) {
		log_error("%s", err.text);	/* validated at start-up already */
		return -1;
	}
	conn = conn_new(&url, cfg->redis_timeout_ms);
	redis_url_free(&url);
	if (conn == NULL || store_init(st, conn, cfg->timeseries,
	    cfg->key_prefix, cfg->retention_s) < 0) {
		log_error("out of memory");
		conn_free(conn);
		return -1;
	}
	st->owns_conn = 1;
	return 0;
}

void
store_close(struct store *st)
{
	struct conn *conn = st->owns_conn ? st->conn : NULL;

	store_fini(st);
	conn_free(conn);
}

int
store_startup_check(const struct cfg *cfg)
{
	struct store st;
	struct error err;
	int rc = 0;

	if (store_prefix_hash_tagged(cfg->key_prefix))
		return 0;
	if (store_open(cfg, cfg->redis_url, &st) < 0)
		return -1;
	if (store_check_layout(&st, &err) < 0) {
		if (err.code == STORE_ECONFIG) {
			log_error("%s", err.text);
			rc = -1;
		} else
			log_info("cluster check postponed, Redis not reachable "
			    "yet error=\"%s\"", err.text);
	}
	store_close(&st);
	return rc;
}

void
store_set_breaker(struct store *st, long retry_ms)
{
	conn_set_breaker(st->conn, retry_ms);
}

int
store_breaker_failed(const struct store *st)
{
	return conn_breaker_failed(st->conn);
}

unsigned long
store_generation(const struct store *st)
{
	return conn_generation(st->conn);
}

long long
store_wait_replicas(struct store *st, int n, long ms, struct error *err)
{
	long long got = conn_wait_replicas(st->conn, n, ms);

	if (got < 0)
		error_set(err, STORE_EREDIS, "%s", conn_error(st->conn));
	return got;
}
