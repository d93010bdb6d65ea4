/* The store front: key names, backend choice, dispatch, reply helpers. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_impl.h"

static char *
key_join(const char *prefix, const char *suffix)
{
	size_t a = strlen(prefix), b = strlen(suffix);
	char *k = malloc(a + b + 1);

	if (k != NULL) {
		memcpy(k, prefix, a);
		memcpy(k + a, suffix, b + 1);
	}
	return k;
}

int
store_init(struct store *st, struct conn *conn, enum cfg_timeseries wanted,
    const char *prefix, long retention_s)
{
	memset(st, 0, sizeof(*st));
	st->conn = conn;
	st->wanted = wanted;
	st->retention_ms = (int64_t)retention_s * 1000;
	st->key[STORE_PRICE] = key_join(prefix, ":price:mean:30s");
	st->key[STORE_SENTIMENT] = key_join(prefix, ":sentiment:mean:30s");
	st->key_cache = key_join(prefix, ":cache");
	st->key_lock = key_join(prefix, ":refresh:lock");
	st->prefix = key_join(prefix, "");
	st->layout_ok = store_prefix_hash_tagged(prefix);
	if (!st->key[0] || !st->key[1] || !st->key_cache || !st->key_lock ||
	    !st->prefix) {
		store_fini(st);
		return -1;
	}
	if (wanted == CFG_TS_REDISTIMESERIES)
		st->ops = &store_rts_ops;
	else if (wanted == CFG_TS_SORTEDSET)
		st->ops = &store_zset_ops;
	return 0;
}

int
store_open(const struct cfg *cfg, const char *text, struct conn **conn,
    struct store *st)
{
	struct redis_url url;
	struct error err;

	memset(st, 0, sizeof(*st));
	*conn = NULL;
	if (redis_url_parse(text, &url, &err) < 0) {
		log_error("%s", err.text);	/* validated at start-up already */
		return -1;
	}
	*conn = conn_new(&url, cfg->redis_timeout_ms);
	redis_url_free(&url);
	if (*conn == NULL || store_init(st, *conn, cfg->timeseries,
	    cfg->key_prefix, cfg->retention_s) < 0) {
		log_error("out of memory");
		conn_free(*conn);
		*conn = NULL;
		return -1;
	}
	return 0;
}

void
store_close(struct conn **conn, struct store *st)
{
	store_fini(st);
	conn_free(*conn);
	*conn = NULL;
}

void
store_fini(struct store *st)
{
	for (int i = 0; i < STORE_NSERIES; i++)
		free(st->key[i]);
	free(st->key_cache);
	free(st->key_lock);
	free(st->prefix);
	memset(st, 0, sizeof(*st));
}

int
store_prefix_hash_tagged(const char *prefix)
{
	const char *open = strchr(prefix, '{'), *close;

	if (open == NULL || (close = strchr(open + 1, '}')) == NULL)
		return 0;
	return close > open + 1;
}

int
store_check_layout(struct store *st, struct store_error *err)
{
	const char *argv[] = { "CLUSTER", "INFO" };
	redisReply *r;
	int cluster;

	if (st->layout_ok)
		return 0;
	if ((r = conn_command(st->conn, 2, argv, NULL)) == NULL)
		return store_fail(err, STORE_EREDIS, "%s", conn_error(st->conn));
	/* A plain server answers "ERR This instance has cluster support
	 * disabled"; a user without the right to ask cannot tell. */
	cluster = r->type == REDIS_REPLY_STRING;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOPERM", 6) == 0)
		log_warn("cannot tell whether Redis is a cluster: the ACL user "
		    "lacks +cluster|info");
	freeReplyObject(r);
	if (cluster)
		return store_fail(err, STORE_ECONFIG, "Redis is a cluster and "
		    "ISBITCOINLIT_KEY_PREFIX \"%s\" has no hash tag: its keys "
		    "would be spread over slots; use a prefix such as \"{%s}\"",
		    st->prefix, st->prefix);
	st->layout_ok = 1;
	return 0;
}

int
store_startup_check(const struct cfg *cfg)
{
	struct conn *conn;
	struct store st;
	struct store_error err;
	int rc = 0;

	if (store_prefix_hash_tagged(cfg->key_prefix))
		return 0;
	if (store_open(cfg, cfg->redis_url, &conn, &st) < 0)
		return -1;
	if (store_check_layout(&st, &err) < 0) {
		if (err.status == STORE_ECONFIG) {
			log_error("%s", err.text);
			rc = -1;
		} else
			log_info("cluster check postponed, Redis not reachable "
			    "yet error=\"%s\"", err.text);
	}
	store_close(&conn, &st);
	return rc;
}

const char *
store_backend_name(const struct store *st)
{
	return st->ops != NULL ? st->ops->name : "auto";
}

int
store_fail(struct store_error *err, enum store_status status, const char *fmt,
    ...)
{
	va_list ap;

	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -1;
}

int
store_check_reply(struct store *st, const redisReply *r, const char *key,
    struct store_error *err)
{
	if (r == NULL)
		return store_fail(err, STORE_EREDIS, "%s", conn_error(st->conn));
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	if (strncmp(r->str, "WRONGTYPE key ", 14) == 0)	/* our scripts' own */
		return store_fail(err, STORE_ETYPE, "%s", r->str + 10);
	if (strstr(r->str, "WRONGTYPE") != NULL ||
	    strstr(r->str, "not a TSDB key") != NULL)
		return store_fail(err, STORE_ETYPE, "key %s is not a %s series "
		    "(%s)", key ? key : "of the series", store_backend_name(st),
		    r->str);
	if (strstr(r->str, "unknown command") != NULL)
		return store_fail(err, STORE_EBACKEND, "the server has no "
		    "RedisTimeSeries module (%s); load it or set "
		    "ISBITCOINLIT_TIMESERIES=sortedset", r->str);
	/* LOADING, BUSY, OOM, NOPERM, READONLY...: the server refused. */
	return store_fail(err, STORE_EREDIS, "%s%s%s", key ? key : "",
	    key ? ": " : "", r->str);
}

int
store_reply_double(const redisReply *r, double *out)
{
	char *end;

	if (r->type == REDIS_REPLY_INTEGER) {
		*out = (double)r->integer;
		return 0;
	}
	if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
		return -1;
	errno = 0;
	*out = strtod(r->str, &end);
	if (end == r->str || *end != '\0' || !isfinite(*out))
		return -1;
	return 0;
}

int
store_reply_int64(const redisReply *r, int64_t *out)
{
	double d;

	if (r->type == REDIS_REPLY_INTEGER) {
		*out = r->integer;
		return 0;
	}
	if (store_reply_double(r, &d) < 0 || d != floor(d) ||
	    fabs(d) > 9007199254740992.0)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/*
 * With "auto": an existing key decides (a deployment keeps its backend),
 * else the module when COMMAND INFO knows TS.RANGE.  One round trip.
 */
int
store_resolve(struct store *st, struct store_error *err)
{
	const char *t0[] = { "TYPE", st->key[0] }, *t1[] = { "TYPE", st->key[1] };
	const char *ci[] = { "COMMAND", "INFO", "TS.RANGE" };
	const char **argvs[] = { t0, t1, ci };
	const int argcs[] = { 2, 2, 3 };
	redisReply *r[3];
	const struct store_ops *seen = NULL;
	int rc = -1;

	if (store_check_layout(st, err) < 0)
		return -1;
	if (st->ops != NULL)
		return 0;
	if (conn_pipeline(st->conn, 3, argcs, argvs, NULL, r) < 0)
		return store_fail(err, STORE_EREDIS, "%s",
		    conn_error(st->conn));
	for (int i = 0; i < 3; i++)
		if (store_check_reply(st, r[i], i < 2 ? st->key[i] : NULL,
		    err) < 0)
			goto out;
	for (int i = 0; i < 2; i++) {
		const struct store_ops *ops;

		if (r[i]->type != REDIS_REPLY_STATUS) {
			store_fail(err, STORE_EBACKEND, "TYPE %s: unexpected reply",
			    st->key[i]);
			goto out;
		}
		if (strcmp(r[i]->str, "none") == 0)
			continue;
		if (strcmp(r[i]->str, "TSDB-TYPE") == 0)
			ops = &store_rts_ops;
		else if (strcmp(r[i]->str, "zset") == 0)
			ops = &store_zset_ops;
		else {
			store_fail(err, STORE_ETYPE, "key %s holds a %s, not a "
			    "time series", st->key[i], r[i]->str);
			goto out;
		}
		if (seen != NULL && seen != ops) {
			store_fail(err, STORE_ETYPE, "keys %s and %s use "
			    "different backends", st->key[0], st->key[1]);
			goto out;
		}
		seen = ops;
	}
	if (seen == NULL)
		seen = r[2]->type == REDIS_REPLY_ARRAY && r[2]->elements == 1 &&
		    r[2]->element[0]->type == REDIS_REPLY_ARRAY ?
		    &store_rts_ops : &store_zset_ops;
	st->ops = seen;
	rc = 0;
out:
	for (int i = 0; i < 3; i++)
		freeReplyObject(r[i]);
	return rc;
}

int
store_add(struct store *st, const struct store_point *pts, size_t n,
    struct store_counts counts[STORE_NSERIES], struct store_error *err)
{
	memset(counts, 0, STORE_NSERIES * sizeof(*counts));
	if (store_resolve(st, err) < 0)
		return -1;
	return st->ops->add(st, pts, n, counts, err);
}

int
store_newest(struct store *st, int64_t *ts_ms, int *found,
    struct store_error *err)
{
	int64_t ts[STORE_NSERIES];
	int has[STORE_NSERIES] = { 0, 0 };

	*found = 0;
	*ts_ms = 0;
	if (store_resolve(st, err) < 0 || st->ops->newest(st, ts, has, err) < 0)
		return -1;
	for (int i = 0; i < STORE_NSERIES; i++)
		if (has[i] && (!*found || ts[i] > *ts_ms)) {
			*ts_ms = ts[i];
			*found = 1;
		}
	return 0;
}

int
store_hourly(struct store *st, int64_t from_ms, int64_t to_ms,
    struct store_hourly *out, struct store_error *err)
{
	memset(out, 0, sizeof(*out));
	if (store_resolve(st, err) < 0)
		return -1;
	return st->ops->hourly(st, from_ms, to_ms, out, err);
}
