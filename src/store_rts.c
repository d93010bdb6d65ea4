/*
 * The RedisTimeSeries backend: TS.CREATE/TS.ALTER, TS.MADD, TS.GET,
 * TS.RANGE ... AGGREGATION avg and count.  RedisTimeSeries 1.12 answers values as
 * status replies in shortest round-trip form ("1E-1"); strtod reads them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "store_impl.h"


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
 * Make the series in mask exist with the configured retention and their
 * duplicate policy (LAST for keep-last series, else FIRST).  An existing
 * series gets TS.ALTER so that a changed retention or policy applies.
 */
static int
rts_ensure(struct store *st, unsigned mask, struct error *err)
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
		const char *policy = st->keep_last[i] ? "LAST" : "FIRST";

		if (!(mask & (1u << i))) {
			/* not written: an always-true read in its place */
			const char *c[] = { "TYPE", st->key[i] };
			memcpy(a, c, sizeof(c));
			cargc[i] = 2;
		} else if (r[i]->type == REDIS_REPLY_STATUS &&
		    strcmp(r[i]->str, "none") == 0) {
			const char *c[] = { "TS.CREATE", st->key[i], "RETENTION",
			    ret, "DUPLICATE_POLICY", policy, "LABELS", "app",
			    "isbitcoinlit", "series", store_series_name(i) };
			memcpy(a, c, sizeof(c));
			cargc[i] = 11;
		} else if (r[i]->type == REDIS_REPLY_STATUS &&
		    strcmp(r[i]->str, store_rts_ops.type_reply) == 0) {
			const char *c[] = { "TS.ALTER", st->key[i], "RETENTION",
			    ret, "DUPLICATE_POLICY", policy };
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
 * Mark which samples of the sorted stream s are new to its series: keep[j]
 * stays 1 unless sample j's timestamp is stored (r: the series' TS.RANGE
 * over the stream's range, NULL for a missing series, which keeps all) or
 * repeated earlier in s.  Returns 0, or -1 with err filled.
 */
static int
rts_mark_new(const redisReply *r, const struct stream *s, unsigned char *keep,
    struct error *err)
{
	size_t e = 0, ne;

	if (r == NULL)
		return 0;	/* no series yet */
	if (r->type != REDIS_REPLY_ARRAY)
		return error_set(err, STORE_EBACKEND, "TS.RANGE: unexpected "
		    "reply");
	ne = r->elements;
	for (size_t j = 0; j < s->n; j++) {
		int64_t have = INT64_MAX, ts = s->points[j].ts_ms;

		if (j > 0 && ts == s->points[j - 1].ts_ms) {
			keep[j] = 0;
			continue;
		}
		for (; e < ne; e++) {
			const redisReply *x = r->element[e];

			if (x->type != REDIS_REPLY_ARRAY || x->elements != 2 ||
			    store_reply_int64(x->element[0], &have) < 0)
				return error_set(err, STORE_EBACKEND,
				    "TS.RANGE: unexpected reply");
			if (have >= ts)
				break;
		}
		if (e < ne && have == ts)
			keep[j] = 0;
	}
	return 0;
}

/*
 * Set keep[i][j] when sample j of series i is new to it (rts_mark_new;
 * one TS.RANGE per sorted stream over its range, in one round trip).
 * Writing only those keeps a re-ingest cheap (the module rewrites a
 * compressed chunk for every duplicate) and counts duplicates exactly:
 * known[i] = 1.  A stream that is not sorted is kept whole, its
 * duplicates unknown (known[i] = 0); so is a keep-last series' (the module
 * replaces a stored value under its policy LAST).  A series not in mask
 * keeps nothing.  Returns 0, or -1 with err filled.
 */
static int
rts_new_points(struct store *st, const struct stream pts[STORE_NSERIES],
    unsigned mask, unsigned char *const keep[STORE_NSERIES],
    int known[STORE_NSERIES], struct error *err)
{
	char from[STORE_NSERIES][24], to[STORE_NSERIES][24];
	const char *words[STORE_NSERIES][4], **argvs[STORE_NSERIES];
	const char *keys[STORE_NSERIES];
	int argcs[STORE_NSERIES], series[STORE_NSERIES];
	redisReply *r[STORE_NSERIES];
	size_t nq = 0;
	int rc = -1;

	for (int i = 0; i < STORE_NSERIES; i++) {
		const struct stream *s = &pts[i];

		memset(keep[i], mask & (1u << i) ? 1 : 0, s->n);
		known[i] = 1;
		/* LAST: every sample goes to the module, which replaces */
		if (!(mask & (1u << i)) || st->keep_last[i]) {
			known[i] = !(mask & (1u << i));
			continue;
		}
		for (size_t j = 1; j < s->n && known[i]; j++)
			known[i] = s->points[j].ts_ms >= s->points[j - 1].ts_ms;
		if (!known[i] || s->n == 0)
			continue;
		snprintf(from[nq], sizeof(from[nq]), "%" PRId64,
		    s->points[0].ts_ms);
		snprintf(to[nq], sizeof(to[nq]), "%" PRId64,
		    s->points[s->n - 1].ts_ms);
		words[nq][0] = "TS.RANGE";
		words[nq][1] = keys[nq] = st->key[i];
		words[nq][2] = from[nq];
		words[nq][3] = to[nq];
		argvs[nq] = words[nq];
		argcs[nq] = 4;
		series[nq++] = i;
	}
	if (nq == 0)
		return 0;
	if (store_pipeline(st, nq, argcs, argvs, keys, r, rts_missing,
	    err) < 0)
		return -1;
	for (size_t q = 0; q < nq; q++)
		if (rts_mark_new(r[q], &pts[series[q]], keep[series[q]],
		    err) < 0)
			goto out;
	rc = 0;
out:
	store_replies_free(r, nq);
	return rc;
}

/*
 * Record the keys of the series in mask in the map <prefix>:series, right
 * after their samples (the module's TS.MADD cannot share a script or a
 * transaction with it).  Returns 0, or -1 with err filled.
 */
static int
rts_map(struct store *st, unsigned mask, struct error *err)
{
	const char *argv[2 + 2 * STORE_NSERIES] = { "HSET", st->key_series };
	int argc = 2;
	redisReply *r;
	int rc;

	for (int i = 0; i < STORE_NSERIES; i++)
		if (mask & (1u << i)) {
			argv[argc++] = store_series_name(i);
			argv[argc++] = st->key[i];
		}
	if (argc == 2)
		return 0;
	r = conn_command(st->conn, argc, argv, NULL);
	rc = store_check_reply(st, r, st->key_series, err);
	freeReplyObject(r);
	return rc;
}

/*
 * One TS.MADD for the new samples of every series: one atomic command.
 * The module applies it in argument order, and only the order within a
 * series matters: the streams go in interleaved by index (paired streams
 * as rows, price then sentiment).
 */
static int
rts_add(struct store *st, const struct stream pts[STORE_NSERIES],
    unsigned mask, struct store_counts *counts, struct error *err)
{
	size_t n = store_stream_total(pts), longest = 0, argc = 1, nsent = 0;
	size_t cell = FMT_DOUBLE_MAX, at[STORE_NSERIES];
	const char **argv = NULL;
	char *text = NULL;
	unsigned char *keepbuf = NULL, *keep[STORE_NSERIES];
	int *series = NULL, known[STORE_NSERIES];
	redisReply *r = NULL;
	int rc = -1;

	if (rts_ensure(st, mask, err) < 0)
		return -1;
	if (n == 0)
		return rts_map(st, mask, err);
	if (n > SIZE_MAX / 3 - 1)	/* 1 + 3 n arguments, 2 n cells */
		return error_set(err, STORE_ENOMEM, "%zu points: too many", n);
	argv = calloc(1 + 3 * n, sizeof(*argv));
	text = calloc(2 * n, cell);
	keepbuf = calloc(n, 1);
	series = calloc(n, sizeof(*series));
	if (argv == NULL || text == NULL || keepbuf == NULL || series == NULL) {
		error_set(err, STORE_ENOMEM, "out of memory for %zu points", n);
		goto out;
	}
	/* stream i's samples are at[i] onwards in keepbuf and text */
	for (int i = 0; i < STORE_NSERIES; i++) {
		at[i] = i == 0 ? 0 : at[i - 1] + pts[i - 1].n;
		keep[i] = keepbuf + at[i];
		if (pts[i].n > longest)
			longest = pts[i].n;
	}
	if (rts_new_points(st, pts, mask, keep, known, err) < 0)
		goto out;
	argv[0] = "TS.MADD";
	for (size_t j = 0; j < longest; j++)
		for (int i = 0; i < STORE_NSERIES; i++) {
			char *ts, *val;

			if (j >= pts[i].n)
				continue;
			ts = text + 2 * (at[i] + j) * cell;
			val = ts + cell;
			snprintf(ts, cell, "%" PRId64, pts[i].points[j].ts_ms);
			fmt_double(pts[i].points[j].value, val);
			if (!keep[i][j]) {
				if (mask & (1u << i))
					counts[i].duplicate++;
				continue;
			}
			argv[argc++] = st->key[i];
			argv[argc++] = ts;
			argv[argc++] = val;
			series[nsent++] = i;
		}
	for (int i = 0; i < STORE_NSERIES; i++)
		counts[i].duplicate_known = known[i];
	if (nsent == 0) {
		rc = rts_map(st, mask, err);
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
	rc = rts_map(st, mask, err);
out:
	freeReplyObject(r);
	free(argv);
	free(text);
	free(keepbuf);
	free(series);
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
 * written in between may land in the counts only (a bucket the averages
 * lack is left out; one the counts lack has a count of 1 at least, as
 * every bucket holds a sample), never a failed request.  The module's
 * buckets start at multiples of bucket_ms from the epoch (ALIGN 0, its
 * default): UTC hours and days.
 */
static int
rts_buckets_read(struct store *st, int64_t from_ms, int64_t to_ms,
    int64_t bucket_ms, struct store_buckets *out, struct error *err)
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
	snprintf(bucket, sizeof(bucket), "%" PRId64, bucket_ms);
	for (int i = 0; i < 2 * STORE_NSERIES; i++) {
		memcpy(words[i], i < STORE_NSERIES ? avg : cnt, sizeof(avg));
		words[i][1] = keys[i] = st->key[i % STORE_NSERIES];
		argvs[i] = words[i];
		argcs[i] = 7;
	}
	if ((c = reallocarray(NULL, out->cap, sizeof(*c))) == NULL)
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
	.newest_argv = { "TS.GET", "key" },
	.newest_argc = 2,
	.newest_benign = rts_missing,
	.newest_ts = 0,		/* [ts, value] */
	.buckets = rts_buckets_read,
};
