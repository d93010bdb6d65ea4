/*
 * The store's front: key names, the one table of backends and the choice
 * among them, dispatch.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "log.h"
#include "store_impl.h"

/* Every backend; with "auto" the TYPE of existing keys picks one. */
static const struct store_ops *const backends[] = {
	&store_rts_ops,
	&store_zset_ops,
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

static const struct store_ops *
backend_by_id(enum cfg_timeseries id)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (backends[i]->id == id)
			return backends[i];
	return NULL;
}

static const struct store_ops *
backend_by_type(const char *type_reply)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (strcmp(backends[i]->type_reply, type_reply) == 0)
			return backends[i];
	return NULL;
}

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
	st->key[STORE_PRICE] = key_join(prefix, ":price:" STORE_TAG_DEFAULT);
	st->key[STORE_SENTIMENT] = key_join(prefix,
	    ":sentiment:" STORE_TAG_DEFAULT);
	st->key_series = key_join(prefix, ":series");
	st->key_lock = key_join(prefix, ":refresh:lock");
	st->key_stats = key_join(prefix, ":refresh:stats");
	st->prefix = key_join(prefix, "");
	st->layout_ok = store_prefix_hash_tagged(prefix);
	if (!st->key[0] || !st->key[1] || !st->key_lock || !st->key_stats ||
	    !st->key_series || !st->prefix) {
		store_fini(st);
		return -1;
	}
	st->ops = backend_by_id(wanted);	/* NULL for auto */
	return 0;
}

static const char *const series_names[STORE_NSERIES] = {
	"price", "sentiment"
};

const char *
store_series_name(enum store_series s)
{
	return (unsigned)s < STORE_NSERIES ? series_names[s] : "?";
}

/*
 * Whether key (len bytes) may be series s's: "<prefix>:<name>:" and a
 * tag, at most STORE_SERIES_KEY_MAX bytes, printable ASCII.
 */
static int
series_key_ok(const struct store *st, enum store_series s, const char *key,
    size_t len)
{
	size_t np = strlen(st->prefix), nn = strlen(series_names[s]);

	if (len > STORE_SERIES_KEY_MAX || len <= np + nn + 2)
		return 0;
	if (memcmp(key, st->prefix, np) != 0 || key[np] != ':' ||
	    memcmp(key + np + 1, series_names[s], nn) != 0 ||
	    key[np + 1 + nn] != ':')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (key[i] < 0x20 || key[i] > 0x7e)
			return 0;
	return 1;
}

/* Point series s at key (len bytes), copied.  Returns 0 or -1. */
static int
series_point(struct store *st, enum store_series s, const char *key,
    size_t len)
{
	char *k = malloc(len + 1);

	if (k == NULL)
		return -1;
	memcpy(k, key, len);
	k[len] = '\0';
	free(st->key[s]);
	st->key[s] = k;
	return 0;
}

int
store_series_set(struct store *st, enum store_series s, const char *tag,
    int keep_last, struct error *err)
{
	char key[STORE_SERIES_KEY_MAX + 1];
	int n;

	n = snprintf(key, sizeof(key), "%s:%s:%s", st->prefix,
	    series_names[s], tag);
	if (n < 0 || (size_t)n >= sizeof(key) ||
	    !series_key_ok(st, s, key, (size_t)n))
		return error_set(err, STORE_ECONFIG, "no key for the %s "
		    "series with the tag \"%s\"", series_names[s], tag);
	if (series_point(st, s, key, (size_t)n) < 0)
		return error_set(err, STORE_ENOMEM, "out of memory");
	st->keep_last[s] = keep_last;
	return 0;
}

int
store_series_load(struct store *st, struct error *err)
{
	const char *argv[] = { "HMGET", st->key_series, series_names[0],
	    series_names[1] };
	char def[STORE_SERIES_KEY_MAX + 1];
	const char *key[STORE_NSERIES];
	size_t len[STORE_NSERIES];
	redisReply *r = conn_command(st->conn, 4, argv, NULL);
	int rc = -1;

	if (store_check_reply(st, r, st->key_series, err) < 0)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != STORE_NSERIES) {
		error_set(err, STORE_EBACKEND, "HMGET %s: unexpected reply",
		    st->key_series);
		goto out;
	}
	for (int i = 0; i < STORE_NSERIES; i++) {
		const redisReply *e = r->element[i];

		if (e->type == REDIS_REPLY_NIL) {
			key[i] = NULL;
			continue;
		}
		if (e->type != REDIS_REPLY_STRING ||
		    !series_key_ok(st, i, e->str, e->len)) {
			error_set(err, STORE_EBACKEND, "%s: the field %s names "
			    "no %s series key of this prefix", st->key_series,
			    series_names[i], series_names[i]);
			goto out;
		}
		key[i] = e->str;
		len[i] = e->len;
	}
	for (int i = 0; i < STORE_NSERIES; i++) {
		if (key[i] == NULL) {
			snprintf(def, sizeof(def), "%s:%s:" STORE_TAG_DEFAULT,
			    st->prefix, series_names[i]);
			key[i] = def;
			len[i] = strlen(def);
		}
		if (series_point(st, i, key[i], len[i]) < 0) {
			error_set(err, STORE_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	freeReplyObject(r);
	return rc;
}

int
store_series_source(const struct store *st, enum store_series s,
    char *name, size_t size, long *step_s)
{
	const char *tag = st->key[s] + strlen(st->prefix) + 1 +
	    strlen(series_names[s]) + 1, *colon = strrchr(tag, ':');
	static const struct { char unit; long s; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char *end;
	long n;

	*step_s = 0;
	snprintf(name, size, "unknown");
	if (strcmp(tag, STORE_TAG_DEFAULT) == 0) {
		snprintf(name, size, "senticrypt-v1");
		*step_s = 30;
		return 0;
	}
	if (colon == NULL || colon == tag || colon[1] < '1' || colon[1] > '9')
		return -1;
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (errno != 0 || n > 366 || end[0] == '\0' || end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (end[0] == units[i].unit) {
			snprintf(name, size, "%.*s", (int)(colon - tag), tag);
			*step_s = n * units[i].s;
			return 0;
		}
	return -1;
}

char *
store_key(const struct store *st, const char *suffix)
{
	return key_join(st->prefix, suffix);
}

void
store_fini(struct store *st)
{
	for (int i = 0; i < STORE_NSERIES; i++)
		free(st->key[i]);
	free(st->key_series);
	free(st->key_lock);
	free(st->key_stats);
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
store_check_layout(struct store *st, struct error *err)
{
	const char *argv[] = { "CLUSTER", "INFO" };
	redisReply *r;
	int cluster;

	if (st->layout_ok)
		return 0;
	if ((r = conn_command(st->conn, 2, argv, NULL)) == NULL)
		return error_set(err, STORE_EREDIS, "%s", conn_error(st->conn));
	/* A plain server answers "ERR This instance has cluster support
	 * disabled"; a user without the right to ask cannot tell. */
	cluster = r->type == REDIS_REPLY_STRING;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOPERM", 6) == 0)
		log_warn("cannot tell whether Redis is a cluster: the ACL user "
		    "lacks +cluster|info");
	freeReplyObject(r);
	if (cluster)
		return error_set(err, STORE_ECONFIG, "Redis is a cluster and "
		    "ISBITCOINLIT_KEY_PREFIX \"%s\" has no hash tag: its keys "
		    "would be spread over slots; use a prefix such as \"{%s}\"",
		    st->prefix, st->prefix);
	st->layout_ok = 1;
	return 0;
}

const char *
store_backend_name(const struct store *st)
{
	return cfg_timeseries_name(st->ops != NULL ? st->ops->id : CFG_TS_AUTO);
}

/* The newest sample of each series, as the backend reads it. */
static int
newest_each(struct store *st, int64_t ts[STORE_NSERIES],
    int found[STORE_NSERIES], struct error *err)
{
	const struct store_ops *o = st->ops;
	redisReply *r[STORE_NSERIES];
	int rc = 0;

	if (store_per_series(st, o->newest_argc, o->newest_argv, r,
	    o->newest_benign, err) < 0)
		return -1;
	for (int i = 0; i < STORE_NSERIES && rc == 0; i++) {
		if (r[i] == NULL || (r[i]->type == REDIS_REPLY_ARRAY &&
		    r[i]->elements == 0))
			continue;	/* no series yet, or an empty one */
		if (r[i]->type != REDIS_REPLY_ARRAY || r[i]->elements != 2 ||
		    store_reply_int64(r[i]->element[o->newest_ts], &ts[i]) < 0)
			rc = error_set(err, STORE_EBACKEND, "%s %s: unexpected "
			    "reply", o->newest_argv[0], st->key[i]);
		else
			found[i] = 1;
	}
	store_replies_free(r, STORE_NSERIES);
	return rc;
}

/*
 * With "auto": an existing key decides (a deployment keeps its backend),
 * else the module when COMMAND INFO knows TS.RANGE.  One round trip.
 */
int
store_resolve(struct store *st, struct error *err)
{
	const char *t0[] = { "TYPE", st->key[0] }, *t1[] = { "TYPE", st->key[1] };
	const char *ci[] = { "COMMAND", "INFO", "TS.RANGE" };
	const char **argvs[] = { t0, t1, ci };
	const char *keys[] = { st->key[0], st->key[1], NULL };
	const int argcs[] = { 2, 2, 3 };
	redisReply *r[3];
	const struct store_ops *seen = NULL;
	int rc = -1;

	if (store_check_layout(st, err) < 0)
		return -1;
	if (st->ops != NULL)
		return 0;
	if (store_pipeline(st, 3, argcs, argvs, keys, r, NULL, err) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		const struct store_ops *ops;

		if (r[i]->type != REDIS_REPLY_STATUS) {
			error_set(err, STORE_EBACKEND, "TYPE %s: unexpected reply",
			    st->key[i]);
			goto out;
		}
		if (strcmp(r[i]->str, "none") == 0)
			continue;
		if ((ops = backend_by_type(r[i]->str)) == NULL) {
			error_set(err, STORE_ETYPE, "key %s holds a %s, not a "
			    "time series", st->key[i], r[i]->str);
			goto out;
		}
		if (seen != NULL && seen != ops) {
			error_set(err, STORE_ETYPE, "keys %s and %s use "
			    "different backends", st->key[0], st->key[1]);
			goto out;
		}
		seen = ops;
	}
	if (seen == NULL)
		seen = backend_by_id(r[2]->type == REDIS_REPLY_ARRAY &&
		    r[2]->elements == 1 &&
		    r[2]->element[0]->type == REDIS_REPLY_ARRAY ?
		    CFG_TS_REDISTIMESERIES : CFG_TS_SORTEDSET);
	st->ops = seen;
	rc = 0;
out:
	store_replies_free(r, 3);
	return rc;
}

int
store_add(struct store *st, const struct stream pts[STORE_NSERIES],
    struct store_counts counts[STORE_NSERIES], struct error *err)
{
	return store_add_some(st, pts, (1u << STORE_NSERIES) - 1, counts, err);
}

int
store_add_some(struct store *st, const struct stream pts[STORE_NSERIES],
    unsigned mask, struct store_counts counts[STORE_NSERIES],
    struct error *err)
{
	memset(counts, 0, STORE_NSERIES * sizeof(*counts));
	mask &= (1u << STORE_NSERIES) - 1;
	if (mask == 0)
		return 0;
	if (store_resolve(st, err) < 0)
		return -1;
	return st->ops->add(st, pts, mask, counts, err);
}

int
store_newest_each(struct store *st, int64_t ts[STORE_NSERIES],
    int found[STORE_NSERIES], struct error *err)
{
	for (int i = 0; i < STORE_NSERIES; i++) {
		ts[i] = 0;
		found[i] = 0;
	}
	if (store_resolve(st, err) < 0)
		return -1;
	return newest_each(st, ts, found, err);
}

size_t
store_stream_total(const struct stream pts[STORE_NSERIES])
{
	size_t n = 0;

	for (int i = 0; i < STORE_NSERIES; i++)
		n += pts[i].n;
	return n;
}

int
store_newest(struct store *st, int64_t *ts_ms, int *found,
    struct error *err)
{
	int64_t ts[STORE_NSERIES];
	int has[STORE_NSERIES] = { 0, 0 };

	*found = 0;
	*ts_ms = 0;
	if (store_resolve(st, err) < 0 || newest_each(st, ts, has, err) < 0)
		return -1;
	for (int i = 0; i < STORE_NSERIES; i++)
		if (has[i] && (!*found || ts[i] > *ts_ms)) {
			*ts_ms = ts[i];
			*found = 1;
		}
	return 0;
}

void
store_buckets_init(struct store_buckets *h, struct store_bucket *buf, size_t cap)
{
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < STORE_NSERIES; i++)
		h->b[i] = buf + (size_t)i * cap;
	h->cap = cap;
}

const struct store_bucket *
store_bucket_at(const struct store_buckets *h, int series,
    int64_t start_ms)
{
	for (size_t i = 0; i < h->n[series]; i++)
		if (h->b[series][i].start_ms == start_ms)
			return &h->b[series][i];
	return NULL;
}

int
store_buckets(struct store *st, int64_t from_ms, int64_t to_ms,
    int64_t bucket_ms, struct store_buckets *out, struct error *err)
{
	int64_t n;

	for (int i = 0; i < STORE_NSERIES; i++)
		out->n[i] = 0;
	if (bucket_ms != FMT_HOUR_MS && bucket_ms != FMT_DAY_MS)
		return error_set(err, STORE_ECONFIG, "buckets of %lld ms",
		    (long long)bucket_ms);
	if (from_ms > to_ms)
		return 0;
	/* the whole buckets the range touches, computed without overflow */
	n = fmt_bucket_floor(to_ms, bucket_ms) / bucket_ms -
	    fmt_bucket_floor(from_ms, bucket_ms) / bucket_ms + 1;
	if (n < 1 || (uint64_t)n > out->cap)
		return error_set(err, STORE_ECONFIG, "a range of %lld %s "
		    "needs more than the %zu buckets given", (long long)n,
		    bucket_ms == FMT_DAY_MS ? "days" : "hours", out->cap);
	if (store_resolve(st, err) < 0)
		return -1;
	return st->ops->buckets(st, from_ms, to_ms, bucket_ms, out, err);
}
