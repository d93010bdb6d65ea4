/*
 * The RedisTimeSeries backend: TS.CREATE/TS.ALTER, TS.MADD, TS.GET,
 * TS.RANGE ... AGGREGATION avg and count.  RedisTimeSeries 1.12 answers values as
 * status replies in shortest round-trip form ("1E-1"); strtod reads them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "store_impl.h"

static const char *const series_label[STORE_NSERIES] = { "price", "sentiment" };

/* TS.CREATE of a series that exists: another process made it first. */
static int
rts_exists(const redisReply *r)
{
	return strstr(r->str, "key already exists") != NULL;
}

/* A missing key is an empty series, not an error. */
static int
rts_missing(const redisReply *r)
{
	return strstr(r->str, "key does not exist") != NULL;
}

/*
 * Make both series exist with the configured retention and policy FIRST.
 * An existing series gets TS.ALTER so that a changed retention applies.
 */
static int
rts_ensure(struct store *st, struct error *err)
{
	char ret[24];
	const char *type[] = { "TYPE", "key" };
	redisReply *r[STORE_NSERIES], *cr[STORE_NSERIES] = { NULL, NULL };
	const char *cargv[STORE_NSERIES][12];
	const char **cargvs[STORE_NSERIES];
	int cargc[STORE_NSERIES];
	int rc = -1;

	snprintf(ret, sizeof(ret), "%" PRId64, st->retention_ms);
	if (store_per_series(st, 2, type, r, NULL, err) < 0)
		return -1;
	for (int i = 0; i < STORE_NSERIES; i++) {
		const char **a = cargv[i];

		if (r[i]->type == REDIS_REPLY_STATUS &&
		    strcmp(r[i]->str, "none") == 0) {
			const char *c[] = { "TS.CREATE", st->key[i], "RETENTION",
			    ret, "DUPLICATE_POLICY", "FIRST", "LABELS", "app",
			    "isbitcoinlit", "series", series_label[i] };
			memcpy(a, c, sizeof(c));
			cargc[i] = 11;
		} else if (r[i]->type == REDIS_REPLY_STATUS &&
		    strcmp(r[i]->str, store_rts_ops.type_reply) == 0) {
			const char *c[] = { "TS.ALTER", st->key[i], "RETENTION",
			    ret, "DUPLICATE_POLICY", "FIRST" };
			memcpy(a, c, sizeof(c));
			cargc[i] = 6;
		} else {
			error_set(err, STORE_ETYPE, "key %s holds a %s, not a "
			    "RedisTimeSeries series", st->key[i],
			    r[i]->type == REDIS_REPLY_STATUS ? r[i]->str : "?");
			goto out;
		}
		cargvs[i] = a;
	}
	/* A concurrent creator may win the race: that is fine. */
	if (store_pipeline(st, STORE_NSERIES, cargc, cargvs,
	    (const char *const *)st->key, cr, rts_exists, err) < 0)
		goto out;
	rc = 0;
out:
	store_replies_free(r, STORE_NSERIES);
	store_replies_free(cr, STORE_NSERIES);
	return rc;
}

/*
 * Set keep[2 * j + i] when point j is new to series i: its timestamp is
 * neither stored (one TS.RANGE per series over the batch's range) nor
 * repeated earlier in the batch.  Writing only those keeps a re-ingest
 * cheap (the module rewrites a compressed chunk for every duplicate) and
 * counts duplicates exactly.  Returns 0, 1 when pts are not sorted (all
 * kept, duplicates unknown), or -1 with err filled.
 */
static int
rts_new_points(struct store *st, const struct sample *pts, size_t n,
    unsigned char *keep, struct error *err)
{
	char from[24], to[24];
	const char *range[] = { "TS.RANGE", "key", from, to };
	redisReply *r[STORE_NSERIES];
	int rc = -1;

	memset(keep, 1, 2 * n);
	for (size_t j = 1; j < n; j++)
		if (pts[j].ts_ms < pts[j - 1].ts_ms)
			return 1;
	snprintf(from, sizeof(from), "%" PRId64, pts[0].ts_ms);
	snprintf(to, sizeof(to), "%" PRId64, pts[n - 1].ts_ms);
	if (store_per_series(st, (int)(sizeof(range) / sizeof(range[0])),
	    range, r, rts_missing, err) < 0)
		return -1;
	for (int i = 0; i < STORE_NSERIES; i++) {
		size_t e = 0, ne;

		if (r[i] == NULL)
			continue;	/* no series yet */
		if (r[i]->type != REDIS_REPLY_ARRAY) {
			error_set(err, STORE_EBACKEND, "TS.RANGE: unexpected "
			    "reply");
			goto out;
		}
		ne = r[i]->elements;
		for (size_t j = 0; j < n; j++) {
			int64_t have = INT64_MAX;

			if (j > 0 && pts[j].ts_ms == pts[j - 1].ts_ms) {
				keep[2 * j + i] = 0;
				continue;
			}
			for (; e < ne; e++) {
				const redisReply *s = r[i]->element[e];

				if (s->type != REDIS_REPLY_ARRAY ||
				    s->elements != 2 ||
				    store_reply_int64(s->element[0], &have) < 0) {
					error_set(err, STORE_EBACKEND,
					    "TS.RANGE: unexpected reply");
					goto out;
				}
				if (have >= pts[j].ts_ms)
					break;
			}
			if (e < ne && have == pts[j].ts_ms)
				keep[2 * j + i] = 0;
		}
	}
	rc = 0;
out:
	store_replies_free(r, STORE_NSERIES);
	return rc;
}

/* One TS.MADD for the new samples of both series: one atomic command. */
static int
rts_add(struct store *st, const struct sample *pts, size_t n,
    struct store_counts *counts, struct error *err)
{
	size_t argc = 1, cell = FMT_DOUBLE_MAX, nsent = 0;
	const char **argv = NULL;
	char *text = NULL;
	unsigned char *keep = NULL;
	int *series = NULL;
	redisReply *r = NULL;
	int rc = -1, sorted;

	if (rts_ensure(st, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	argv = malloc((1 + 6 * n) * sizeof(*argv));
	text = malloc(3 * n * cell);
	keep = malloc(2 * n);
	series = malloc(2 * n * sizeof(*series));
	if (argv == NULL || text == NULL || keep == NULL || series == NULL) {
		error_set(err, STORE_ENOMEM, "out of memory for %zu points", n);
		goto out;
	}
	if ((sorted = rts_new_points(st, pts, n, keep, err)) < 0)
		goto out;
	argv[0] = "TS.MADD";
	for (size_t j = 0; j < n; j++) {
		char *ts = text + 3 * j * cell, *val[STORE_NSERIES];

		val[STORE_PRICE] = ts + cell;
		val[STORE_SENTIMENT] = ts + 2 * cell;
		snprintf(ts, cell, "%" PRId64, pts[j].ts_ms);
		fmt_double(pts[j].price, val[STORE_PRICE]);
		fmt_double(pts[j].sentiment, val[STORE_SENTIMENT]);
		for (int i = 0; i < STORE_NSERIES; i++) {
			if (!keep[2 * j + i]) {
				counts[i].duplicate++;
				continue;
			}
			argv[argc++] = st->key[i];
			argv[argc++] = ts;
			argv[argc++] = val[i];
			series[nsent++] = i;
		}
	}
	for (int i = 0; i < STORE_NSERIES; i++)
		counts[i].duplicate_known = sorted == 0;
	if (nsent == 0) {
		rc = 0;
		goto out;
	}
	r = conn_command(st->conn, (int)argc, argv, NULL);
	if (store_check_reply(st, r, st->key[STORE_PRICE], err) < 0)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != nsent) {
		error_set(err, STORE_EBACKEND, "TS.MADD: unexpected reply");
		goto out;
	}
	for (size_t j = 0; j < nsent; j++) {
		const redisReply *e = r->element[j];
		struct store_counts *c = &counts[series[j]];

		if (e->type == REDIS_REPLY_INTEGER)
			c->written++;
		else if (e->type == REDIS_REPLY_ERROR &&
		    strstr(e->str, "older than retention") != NULL)
			c->expired++;
		else {
			/* Values were validated: anything else is a surprise. */
			error_set(err, STORE_EBACKEND, "TS.MADD sample %zu: %s",
			    j, e->type == REDIS_REPLY_ERROR ? e->str :
			    "unexpected reply");
			goto out;
		}
	}
	rc = 0;
out:
	freeReplyObject(r);
	free(argv);
	free(text);
	free(keep);
	free(series);
	return rc;
}


static int
rts_newest(struct store *st, int64_t ts[STORE_NSERIES],
    int found[STORE_NSERIES], struct error *err)
{
	const char *get[] = { "TS.GET", "key" };
	redisReply *r[STORE_NSERIES];
	int rc = -1;

	if (store_per_series(st, 2, get, r, rts_missing, err) < 0)
		return -1;
	for (int i = 0; i < STORE_NSERIES; i++) {
		if (r[i] == NULL ||
		    (r[i]->type == REDIS_REPLY_ARRAY && r[i]->elements == 0))
			continue;	/* no series yet, or an empty one */
		if (r[i]->type != REDIS_REPLY_ARRAY || r[i]->elements != 2 ||
		    store_reply_int64(r[i]->element[0], &ts[i]) < 0) {
			error_set(err, STORE_EBACKEND, "TS.GET %s: unexpected "
			    "reply", st->key[i]);
			goto out;
		}
		found[i] = 1;
	}
	rc = 0;
out:
	store_replies_free(r, STORE_NSERIES);
	return rc;
}

/*
 * Parse one TS.RANGE ... AGGREGATION reply into b (at most cap buckets):
 * the value as a double (avg) or a count.  Returns the number of buckets,
 * or -1 on an unexpected reply.  A NULL reply is a missing series.
 */
static long
rts_buckets(const redisReply *r, int counts, struct store_bucket *b,
    size_t cap)
{
	if (r == NULL)
		return 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements > cap)
		return -1;
	for (size_t j = 0; j < r->elements; j++) {
		const redisReply *e = r->element[j];
		int64_t n;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    store_reply_int64(e->element[0], &b[j].start_ms) < 0)
			return -1;
		if (!counts) {
			if (store_reply_double(e->element[1], &b[j].avg) < 0)
				return -1;
		} else if (store_reply_int64(e->element[1], &n) < 0 || n < 1)
			return -1;
		else
			b[j].count = (size_t)n;
	}
	return (long)r->elements;
}

/*
 * Averages and counts of both series in one round trip: four TS.RANGE,
 * avg then count per series.  They are not one atomic read: a sample
 * written in between may land in the counts only (an hour the averages
 * lack is left out; one the counts lack has a count of 1 at least, as
 * every bucket holds a sample), never a failed request.
 */
static int
rts_hourly(struct store *st, int64_t from_ms, int64_t to_ms,
    struct store_hourly *out, struct error *err)
{
	char from[24], to[24], bucket[24];
	const char *avg[] = { "TS.RANGE", "key", from, to, "AGGREGATION",
	    "avg", bucket };
	const char *cnt[] = { "TS.RANGE", "key", from, to, "AGGREGATION",
	    "count", bucket };
	const char *words[2 * STORE_NSERIES][7];
	const char **argvs[2 * STORE_NSERIES], *keys[2 * STORE_NSERIES];
	int argcs[2 * STORE_NSERIES];
	struct store_bucket *c = NULL;
	redisReply *r[2 * STORE_NSERIES];
	int rc = -1;

	snprintf(from, sizeof(from), "%" PRId64, from_ms);
	snprintf(to, sizeof(to), "%" PRId64, to_ms);
	snprintf(bucket, sizeof(bucket), "%" PRId64, FMT_HOUR_MS);
	for (int i = 0; i < 2 * STORE_NSERIES; i++) {
		memcpy(words[i], i < STORE_NSERIES ? avg : cnt, sizeof(avg));
		words[i][1] = keys[i] = st->key[i % STORE_NSERIES];
		argvs[i] = words[i];
		argcs[i] = 7;
	}
	if ((c = malloc(out->cap * sizeof(*c))) == NULL)
		return error_set(err, STORE_ENOMEM, "out of memory");
	if (store_pipeline(st, 2 * STORE_NSERIES, argcs, argvs, keys, r,
	    rts_missing, err) < 0) {
		free(c);
		return -1;
	}
	for (int i = 0; i < STORE_NSERIES; i++) {
		long na = rts_buckets(r[i], 0, out->b[i], out->cap);
		long nc = rts_buckets(r[STORE_NSERIES + i], 1, c, out->cap);
		long k = 0;

		if (na < 0 || nc < 0)
			goto bad;
		for (long j = 0; j < na; j++) {
			while (k < nc && c[k].start_ms < out->b[i][j].start_ms)
				k++;
			out->b[i][j].count = k < nc &&
			    c[k].start_ms == out->b[i][j].start_ms ?
			    c[k].count : 1;
		}
		out->n[i] = (size_t)na;
	}
	rc = 0;
	goto out;
bad:
	error_set(err, STORE_EBACKEND, "TS.RANGE: unexpected reply");
out:
	store_replies_free(r, 2 * STORE_NSERIES);
	free(c);
	return rc;
}

const struct store_ops store_rts_ops = {
	.id = CFG_TS_REDISTIMESERIES,
	.type_reply = "TSDB-TYPE",
	.add = rts_add,
	.newest = rts_newest,
	.hourly = rts_hourly,
};
