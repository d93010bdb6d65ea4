/*
 * The store against a real redis-server: the same cases on both backends,
 * then the summaries they give for the same data must be byte-identical.
 * The redistimeseries cases need ISBITCOINLIT_TEST_TS_MODULE and are
 * reported as skipped without it.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "fmt.h"
#include "history.h"
#include "store.h"
#include "summary.h"
#include "testlib.h"

#define H0 INT64_C(1625652000000)	/* 2021-07-07T10:00:00Z */
#define HOUR FMT_HOUR_MS
#define NPTS 480			/* four hours of 30-second samples */

static struct tl_sample pts[NPTS];

/* Samples every ~30 s from H0, with awkward doubles and hour edges. */
static void
make_points(void)
{
	unsigned x = 12345;

	for (int i = 0; i < NPTS; i++) {
		x = x * 1103515245u + 12345u;
		pts[i].ts_ms = H0 + (int64_t)i * 30000 + (x >> 16) % 29000;
		pts[i].price = 33000 + (double)((x >> 8) % 200000) / 100.0 +
		    1.0 / 3.0;
		pts[i].sentiment = (double)((int)((x >> 4) % 2001) - 1000) /
		    1000.0 * 0.7 + 1e-9 * i;
	}
	/* samples exactly at an hour start and at its last millisecond */
	pts[120].ts_ms = H0 + HOUR;
	pts[239].ts_ms = H0 + 2 * HOUR - 1;
	pts[240].ts_ms = H0 + 2 * HOUR;
}

/*
 * store_add() of rows: each row's price into the price stream and its
 * sentiment into the sentiment stream at the row's timestamp, in order.
 */
static int
add_rows(struct store *st, const struct tl_sample *rows, size_t n,
    struct store_counts counts[STORE_NSERIES], struct error *err)
{
	struct point *buf = calloc(2 * n + 1, sizeof(*buf));
	struct stream s[STORE_NSERIES];
	int rc;

	if (buf == NULL)
		return error_set(err, STORE_ENOMEM, "out of memory");
	for (int i = 0; i < STORE_NSERIES; i++) {
		s[i].points = buf + (size_t)i * n;
		s[i].n = n;
	}
	for (size_t j = 0; j < n; j++) {
		s[STORE_PRICE].points[j].ts_ms = rows[j].ts_ms;
		s[STORE_PRICE].points[j].value = rows[j].price;
		s[STORE_SENTIMENT].points[j].ts_ms = rows[j].ts_ms;
		s[STORE_SENTIMENT].points[j].value = rows[j].sentiment;
	}
	rc = store_add(st, s, counts, err);
	free(buf);
	return rc;
}

/*
 * Average and count per hour of the points with ts in [lo, hi], summed in
 * order.
 */
static size_t
expected_hourly(const struct tl_sample *p, size_t n, int series, int64_t lo,
    int64_t hi, struct store_bucket *out)
{
	size_t nb = 0, cnt = 0;
	double sum = 0;
	int64_t cur = INT64_MIN;

	for (size_t i = 0; i < n; i++) {
		int64_t b;

		if (p[i].ts_ms < lo || p[i].ts_ms > hi)
			continue;
		b = fmt_hour_floor(p[i].ts_ms);
		if (b != cur) {
			if (cnt > 0) {
				out[nb].start_ms = cur;
				out[nb].count = cnt;
				out[nb++].avg = sum / (double)cnt;
			}
			cur = b;
			sum = 0;
			cnt = 0;
		}
		sum += series == STORE_PRICE ? p[i].price : p[i].sentiment;
		cnt++;
	}
	if (cnt > 0) {
		out[nb].start_ms = cur;
		out[nb].count = cnt;
		out[nb++].avg = sum / (double)cnt;
	}
	return nb;
}

static int
same_buckets(const struct store_buckets *got, int series,
    const struct store_bucket *want, size_t n)
{
	if (got->n[series] != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (got->b[series][i].start_ms != want[i].start_ms ||
		    got->b[series][i].avg != want[i].avg ||
		    got->b[series][i].count != want[i].count) {
			tl_diag("bucket %zu: got %lld %.17g %zu want %lld %.17g "
			    "%zu", i, (long long)got->b[series][i].start_ms,
			    got->b[series][i].avg, got->b[series][i].count,
			    (long long)want[i].start_ms, want[i].avg,
			    want[i].count);
			return 0;
		}
	return 1;
}

/*
 * Run every case on one server with one backend; leave the compact summary
 * of the main data set in *json, its 24-hour history in *history.
 */
/* The value stored at ts_ms in key (either backend), or NAN. */
static double
value_at(struct conn *c, const char *key, int64_t ts_ms)
{
	char t[24];
	const char *range[] = { "TS.RANGE", key, t, t };
	const char *zr[] = { "ZRANGEBYSCORE", key, t, t };
	redisReply *r, *typ = tl_cmd(c, "TYPE", key, NULL);
	double v = NAN;
	int module = typ != NULL && typ->type == REDIS_REPLY_STATUS &&
	    strcmp(typ->str, "TSDB-TYPE") == 0;

	freeReplyObject(typ);
	snprintf(t, sizeof(t), "%lld", (long long)ts_ms);
	r = conn_command(c, 4, module ? range : zr, NULL);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
		if (module && r->element[0]->elements == 2)
			v = strtod(r->element[0]->element[1]->str, NULL);
		else if (!module)
			v = strtod(strchr(r->element[0]->str, ':') + 1, NULL);
	}
	freeReplyObject(r);
	return v;
}

/* How many samples key holds (either backend). */
static long long
samples_in(struct conn *c, const char *key)
{
	redisReply *r = tl_cmd(c, "ZCARD", key, NULL);
	long long n = -1;

	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	else {
		const char *range[] = { "TS.RANGE", key, "-", "+" };

		freeReplyObject(r);
		r = conn_command(c, 4, range, NULL);
		if (r != NULL && r->type == REDIS_REPLY_ARRAY)
			n = (long long)r->elements;
	}
	freeReplyObject(r);
	return n;
}

/*
 * Keys named for their source, the map <prefix>:series, and the duplicate
 * policy per series: a keep-last series (an open candle) follows a
 * timestamp's new value, a first series keeps the first.
 */
static void
series_cases(const char *label, struct conn *c, enum cfg_timeseries ts)
{
	struct store st, api;
	struct store_counts counts[STORE_NSERIES];
	struct error err = { 0 };
	struct point p1[3], p2[3], s1[3];
	struct stream in[STORE_NSERIES];
	struct store_bucket hbuf[STORE_NSERIES * 4];
	struct store_buckets h;
	int64_t hour = INT64_C(1700000000000) / 3600000 * 3600000;
	redisReply *r;

	for (int i = 0; i < 3; i++) {
		p1[i].ts_ms = s1[i].ts_ms = p2[i].ts_ms = hour + i * 600000;
		p1[i].value = 100 + i;
		s1[i].value = 0.25 * (i + 1);
		p2[i].value = 100 + i;
	}
	p2[2].value = 250;	/* the open candle moved */

	store_init(&st, c, ts, "sk", 0);
	CHECK(store_series_set(&st, STORE_PRICE, "kraken-ohlc:1h", 1, &err) == 0
	    && strcmp(st.key[STORE_PRICE], "sk:price:kraken-ohlc:1h") == 0,
	    "%s: the price key says its source and step", label);
	in[STORE_PRICE] = (struct stream){ p1, 3 };
	in[STORE_SENTIMENT] = (struct stream){ s1, 3 };
	CHECK(store_add(&st, in, counts, &err) == 0 &&
	    counts[STORE_PRICE].written == 3, "%s: keep-last add (%s)", label,
	    err.text);
	/* the same timestamps again, the last one with a new value */
	s1[2].value = 0.9;	/* a v1 series keeps 0.75 */
	in[STORE_PRICE] = (struct stream){ p2, 3 };
	CHECK(store_add(&st, in, counts, &err) == 0, "%s: add again (%s)",
	    label, err.text);
	CHECK(value_at(c, "sk:price:kraken-ohlc:1h", p1[2].ts_ms) == 250 &&
	    samples_in(c, "sk:price:kraken-ohlc:1h") == 3,
	    "%s: keep-last: the open candle's new value replaced the old one "
	    "(%g, %lld samples)", label,
	    value_at(c, "sk:price:kraken-ohlc:1h", p1[2].ts_ms),
	    samples_in(c, "sk:price:kraken-ohlc:1h"));
	CHECK(value_at(c, "sk:sentiment:mean:30s", s1[2].ts_ms) == 0.75 &&
	    samples_in(c, "sk:sentiment:mean:30s") == 3,
	    "%s: keep-first: the v1 series kept its first value", label);
	if (ts == CFG_TS_SORTEDSET)
		CHECK(counts[STORE_PRICE].replaced == 1 &&
		    counts[STORE_PRICE].duplicate == 2 &&
		    counts[STORE_PRICE].written == 0,
		    "%s: one replaced, two unchanged (%zu %zu %zu)", label,
		    counts[STORE_PRICE].replaced, counts[STORE_PRICE].duplicate,
		    counts[STORE_PRICE].written);
	store_buckets_init(&h, hbuf, 4);
	CHECK(store_buckets(&st, hour, hour + 3599999, 3600000, &h, &err) == 0 &&
	    h.n[STORE_PRICE] == 1 && h.b[STORE_PRICE][0].avg ==
	    (100.0 + 101.0 + 250.0) / 3 && h.n[STORE_SENTIMENT] == 1 &&
	    h.b[STORE_SENTIMENT][0].avg == (0.25 + 0.5 + 0.75) / 3,
	    "%s: the hour's averages follow the new candle, not the old "
	    "sentiment", label);
	r = tl_cmd(c, "HGET", "sk:series", "price");
	CHECK(r != NULL && r->type == REDIS_REPLY_STRING &&
	    strcmp(r->str, "sk:price:kraken-ohlc:1h") == 0,
	    "%s: the map names the price key", label);
	freeReplyObject(r);

	/* the API's view follows the map */
	store_init(&api, c, ts, "sk", 0);
	CHECK(store_series_load(&api, &err) == 0 &&
	    strcmp(api.key[STORE_PRICE], "sk:price:kraken-ohlc:1h") == 0 &&
	    strcmp(api.key[STORE_SENTIMENT], "sk:sentiment:mean:30s") == 0,
	    "%s: the API reads the keys from the map", label);

	/* another source: a new key, the old one left as it was */
	CHECK(store_series_set(&st, STORE_PRICE, "coinbase-candles:1h", 1,
	    &err) == 0, "%s: switch the price source", label);
	p1[0].value = 7;
	in[STORE_PRICE] = (struct stream){ p1, 1 };
	CHECK(store_add_some(&st, in, 1u << STORE_PRICE, counts, &err) == 0,
	    "%s: add from the new source (%s)", label, err.text);
	CHECK(samples_in(c, "sk:price:coinbase-candles:1h") == 1 &&
	    samples_in(c, "sk:price:kraken-ohlc:1h") == 3 &&
	    value_at(c, "sk:price:kraken-ohlc:1h", p1[0].ts_ms) == 100,
	    "%s: a new source never mixes its samples into the old series",
	    label);
	store_buckets_init(&h, hbuf, 4);
	CHECK(store_series_load(&api, &err) == 0 &&
	    store_buckets(&api, hour, hour + 3599999, 3600000, &h, &err) == 0 &&
	    h.n[STORE_PRICE] == 1 && h.b[STORE_PRICE][0].avg == 7 &&
	    h.b[STORE_PRICE][0].count == 1,
	    "%s: the API follows the map to the new source", label);

	/* what the map holds is input */
	{
		const char *hset[] = { "HSET", "sk:series", "price",
		    "other:price:mean:30s" };

		freeReplyObject(conn_command(c, 4, hset, NULL));
	}
	r = NULL;
	CHECK(store_series_load(&api, &err) == -1 &&
	    strcmp(api.key[STORE_PRICE], "sk:price:coinbase-candles:1h") == 0,
	    "%s: a map naming a key outside the prefix is refused", label);
	freeReplyObject(tl_cmd(c, "DEL", "sk:series", NULL));
	CHECK(store_series_load(&api, &err) == 0 &&
	    strcmp(api.key[STORE_PRICE], "sk:price:mean:30s") == 0,
	    "%s: no map: today's keys", label);
	store_fini(&api);
	store_fini(&st);
}

static void
run_cases(const char *label, const char *url, enum cfg_timeseries ts,
    char **json, char **history)
{
	struct redis_url u;
	struct conn *c;
	struct store st, ret, bad;
	struct store_counts counts[STORE_NSERIES];
	struct error err = { 0 };
	struct store_bucket hbuf[STORE_NSERIES * 24], want[24];
	struct store_buckets h;
	struct summary sum;
	int64_t newest, from, to;
	int found;
	size_t n, len;
	redisReply *r;

	if (redis_url_parse(url, &u, NULL) < 0 ||
	    (c = conn_new(&u, 2000)) == NULL) {
		CHECK(0, "%s: connect", label);
		return;
	}
	redis_url_free(&u);
	store_buckets_init(&h, hbuf, 24);
	store_init(&st, c, ts, "t1", 86400);

	/* empty */
	CHECK(store_newest(&st, &newest, &found, &err) == 0 && !found,
	    "%s: an empty store has no newest sample", label);
	CHECK(store_buckets(&st, H0, H0 + 3 * HOUR, HOUR, &h, &err) == 0 &&
	    h.n[0] == 0 && h.n[1] == 0, "%s: an empty store has no buckets",
	    label);
	CHECK_INT(summary_compute(&st, CFG_ANCHOR_NEWEST, 0, &summary_hourly, &sum, &err), 0,
	    "%s: summary of an empty store says no data", label);

	/* ingest */
	CHECK(add_rows(&st, pts, NPTS, counts, &err) == 0,
	    "%s: add %d points (%s)", label, NPTS, err.text);
	CHECK(counts[0].written == NPTS && counts[1].written == NPTS &&
	    counts[0].expired == 0 && counts[1].expired == 0 &&
	    counts[0].duplicate == 0,
	    "%s: every point written to both series", label);
	CHECK_STR(store_backend_name(&st), label, "%s: backend in use", label);

	CHECK(store_newest(&st, &newest, &found, &err) == 0 && found,
	    "%s: newest found", label);
	CHECK_INT(newest, pts[NPTS - 1].ts_ms, "%s: newest timestamp", label);

	/* hourly averages over the whole range, then the summary window */
	CHECK(store_buckets(&st, H0, H0 + 5 * HOUR, HOUR, &h, &err) == 0,
	    "%s: hourly over all (%s)", label, err.text);
	n = expected_hourly(pts, NPTS, STORE_PRICE, H0, H0 + 5 * HOUR, want);
	CHECK(n == 4 && same_buckets(&h, STORE_PRICE, want, n),
	    "%s: price hourly averages are exact", label);
	n = expected_hourly(pts, NPTS, STORE_SENTIMENT, H0, H0 + 5 * HOUR, want);
	CHECK(same_buckets(&h, STORE_SENTIMENT, want, n),
	    "%s: sentiment hourly averages are exact", label);

	summary_window(newest, SUMMARY_WINDOW_DEFAULT, FMT_HOUR_MS, &from, &to);
	CHECK(store_buckets(&st, from + 1800000, to, HOUR, &h, &err) == 0,
	    "%s: hourly over a partial range", label);
	n = expected_hourly(pts, NPTS, STORE_PRICE, from + 1800000, to, want);
	CHECK(same_buckets(&h, STORE_PRICE, want, n),
	    "%s: a range reads only its samples", label);

	CHECK_INT(summary_compute(&st, CFG_ANCHOR_NEWEST, 0, &summary_hourly, &sum, &err), 1,
	    "%s: summary computed", label);
	CHECK_INT(sum.nrows, 3, "%s: three rows", label);
	*json = summary_render(&sum, 0, &len);
	CHECK(summary_compute(&st, CFG_ANCHOR_NOW, H0 + 4 * HOUR + 5, &summary_hourly, &sum,
	    &err) == 1 && sum.nrows == 2 && sum.as_of_ms == H0 + 4 * HOUR + 5,
	    "%s: anchored on now, the window moves with the clock", label);

	/* duplicates: policy FIRST, a second run changes nothing */
	CHECK(add_rows(&st, pts, NPTS, counts, &err) == 0,
	    "%s: add the same points again", label);
	CHECK(counts[0].duplicate_known && counts[0].duplicate == NPTS &&
	    counts[0].written == 0 && counts[1].duplicate == NPTS &&
	    counts[1].written == 0, "%s: every point counted as a duplicate",
	    label);
	{
		struct tl_sample p = pts[10];

		p.price += 1000;
		p.sentiment = -1;
		CHECK(add_rows(&st, &p, 1, counts, &err) == 0 &&
		    counts[0].duplicate == 1 && counts[0].written == 0,
		    "%s: a new value at an existing timestamp is a duplicate",
		    label);
	}
	CHECK(store_buckets(&st, H0, H0 + 5 * HOUR, HOUR, &h, &err) == 0,
	    "%s: hourly after duplicates", label);
	n = expected_hourly(pts, NPTS, STORE_PRICE, H0, H0 + 5 * HOUR, want);
	CHECK(same_buckets(&h, STORE_PRICE, want, n),
	    "%s: the first value of a timestamp stays", label);
	{
		size_t len2;
		char *again;

		summary_compute(&st, CFG_ANCHOR_NEWEST, 0, &summary_hourly, &sum, &err);
		again = summary_render(&sum, 0, &len2);
		CHECK_STR(again, *json, "%s: summary unchanged by re-ingest",
		    label);
		free(again);
	}

	/* the window is a parameter: 24 hours, and a capacity too small */
	{
		struct store_bucket small[STORE_NSERIES * 3];
		struct store_buckets h3;
		int64_t t;

		CHECK(summary_read_window(&st, CFG_ANCHOR_NEWEST, 0, FMT_HOUR_MS,
		    24, &t, &h, &err) == 1 && t == newest, "%s: a 24-hour read (%s)", label, err.text);
		n = expected_hourly(pts, NPTS, STORE_PRICE,
		    fmt_hour_floor(newest) - 23 * HOUR, newest, want);
		CHECK(n == 4 && same_buckets(&h, STORE_PRICE, want, n),
		    "%s: a 24-hour read has every hour of the data", label);
		n = expected_hourly(pts, NPTS, STORE_SENTIMENT,
		    fmt_hour_floor(newest) - 23 * HOUR, newest, want);
		CHECK(n == 4 && same_buckets(&h, STORE_SENTIMENT, want, n),
		    "%s: and its sentiment averages and counts", label);
		{
			struct history hs;

			history_build(t, 24, FMT_HOUR_MS, &h, &hs);
			*history = history_render(&hs, 0, &len);
			CHECK(*history != NULL && strstr(*history,
			    "\"price_samples\":120,\"sentiment_samples\":120")
			    != NULL && history_valid(*history, len, 24, FMT_HOUR_MS),
			    "%s: the 24-hour history of the read", label);
		}
		store_buckets_init(&h3, small, 3);
		CHECK(store_buckets(&st, H0, H0 + 5 * HOUR, HOUR, &h3, &err) == -1 &&
		    err.code == STORE_ECONFIG &&
		    strstr(err.text, "6 hours") != NULL,
		    "%s: a range longer than the buckets given is refused: %s",
		    label, err.text);
	}
	{
		struct tl_sample day[30];
		struct store st5;
		int64_t t;
		int exact = 1;

		for (int i = 0; i < 30; i++) {
			day[i].ts_ms = H0 + i * HOUR + 1000;
			day[i].price = 30000 + i;
			day[i].sentiment = i / 100.0;
		}
		store_init(&st5, c, ts, "t5", 86400 * 2);
		CHECK(add_rows(&st5, day, 30, counts, &err) == 0,
		    "%s: add 30 hourly samples (%s)", label, err.text);
		CHECK(summary_read_window(&st5, CFG_ANCHOR_NEWEST, 0, FMT_HOUR_MS,
		    24, &t, &h, &err) == 1 && h.n[0] == 24 && h.n[1] == 24,
		    "%s: 24 buckets in a 24-hour read (%s)", label, err.text);
		for (size_t i = 0; i < h.n[0]; i++)
			exact &= h.b[0][i].start_ms == H0 + (int64_t)(i + 6) * HOUR &&
			    h.b[0][i].avg == 30006 + (double)i &&
			    h.b[1][i].avg == (double)(i + 6) / 100.0;
		CHECK(exact, "%s: the 24 buckets are the last 24 hours, oldest "
		    "first", label);
		store_fini(&st5);
	}

	/* an unsorted batch with a repeated timestamp, on a fresh series */
	{
		struct store st4;
		struct tl_sample mix[4] = { pts[5], pts[3], pts[5], pts[4] };

		mix[2].price = -1;	/* a repeat: the first value stays */
		store_init(&st4, c, ts, "t4", 86400);
		CHECK(add_rows(&st4, mix, 4, counts, &err) == 0 &&
		    counts[0].expired == 0 && (counts[0].duplicate_known ?
		    counts[0].written == 3 && counts[0].duplicate == 1 :
		    counts[0].written == 4),
		    "%s: an unsorted batch with a repeat", label);
		/* averages sum in time order, whatever the write order */
		CHECK(store_buckets(&st4, H0, H0 + HOUR, HOUR, &h, &err) == 0 &&
		    h.n[0] == 1 && h.b[0][0].avg ==
		    (pts[3].price + pts[4].price + pts[5].price) / 3,
		    "%s: the repeat is ignored", label);
		store_fini(&st4);
	}

	/* a price-only batch: the sentiment series gets nothing */
	{
		struct store st6;
		struct point only[3];
		struct stream s[STORE_NSERIES] = {
			[STORE_PRICE] = { only, 3 },
			[STORE_SENTIMENT] = { NULL, 0 },
		};

		for (int i = 0; i < 3; i++) {
			only[i].ts_ms = pts[i].ts_ms;
			only[i].value = pts[i].price;
		}
		store_init(&st6, c, ts, "t6", 86400);
		CHECK(store_add(&st6, s, counts, &err) == 0 &&
		    counts[STORE_PRICE].written == 3 &&
		    counts[STORE_SENTIMENT].written == 0 &&
		    counts[STORE_SENTIMENT].duplicate == 0 &&
		    counts[STORE_SENTIMENT].expired == 0,
		    "%s: a price-only batch (%s)", label, err.text);
		CHECK(store_buckets(&st6, H0, H0 + HOUR, HOUR, &h, &err) == 0 &&
		    h.n[STORE_PRICE] == 1 && h.b[STORE_PRICE][0].count == 3 &&
		    h.b[STORE_PRICE][0].avg == (pts[0].price + pts[1].price +
		    pts[2].price) / 3 && h.n[STORE_SENTIMENT] == 0,
		    "%s: its hour of price, none of sentiment", label);
		store_fini(&st6);
	}

	/* retention: one hour */
	store_init(&ret, c, ts, "t2", 3600);
	CHECK(add_rows(&ret, pts, NPTS, counts, &err) == 0 &&
	    counts[0].expired == 0, "%s: add with a one-hour retention", label);
	CHECK(store_buckets(&ret, H0, H0 + 5 * HOUR, HOUR, &h, &err) == 0,
	    "%s: hourly after retention", label);
	n = expected_hourly(pts, NPTS, STORE_PRICE,
	    pts[NPTS - 1].ts_ms - HOUR, H0 + 5 * HOUR, want);
	CHECK(same_buckets(&h, STORE_PRICE, want, n),
	    "%s: samples older than newest - retention are gone", label);
	{
		struct tl_sample old[2] = { pts[0], pts[NPTS - 1] };

		old[0].ts_ms = pts[NPTS - 1].ts_ms - HOUR - 1;
		old[1].ts_ms = pts[NPTS - 1].ts_ms - HOUR;
		CHECK(add_rows(&ret, old, 2, counts, &err) == 0,
		    "%s: add samples at the retention edge", label);
		CHECK(counts[0].expired == 1 && counts[1].expired == 1,
		    "%s: one ms past the retention is expired", label);
		CHECK(counts[0].written == 1 && counts[1].written == 1,
		    "%s: exactly newest - retention is kept", label);
	}

	/* wrong key types */
	r = tl_cmd(c, "SET", "t3:price:mean:30s", "not a series");
	freeReplyObject(r);
	store_init(&bad, c, ts, "t3", 86400);
	CHECK(add_rows(&bad, pts, 3, counts, &err) == -1 &&
	    err.code == STORE_ETYPE && strstr(err.text, "t3:price:mean:30s"),
	    "%s: add to a string key is a clear error: %s", label, err.text);
	r = tl_cmd(c, "EXISTS", "t3:sentiment:mean:30s", NULL);
	CHECK(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 0,
	    "%s: a failed add writes nothing", label);
	freeReplyObject(r);
	CHECK(store_newest(&bad, &newest, &found, &err) == -1 &&
	    err.code == STORE_ETYPE, "%s: newest on a string key: %s", label,
	    err.text);
	CHECK(store_buckets(&bad, H0, H0 + HOUR, HOUR, &h, &err) == -1 &&
	    err.code == STORE_ETYPE, "%s: hourly on a string key: %s", label,
	    err.text);
	store_fini(&bad);
	store_init(&bad, c, CFG_TS_AUTO, "t3", 86400);
	CHECK(store_resolve(&bad, &err) == -1 && err.code == STORE_ETYPE &&
	    strstr(err.text, "holds a string"),
	    "%s: auto refuses a string key: %s", label, err.text);
	store_fini(&bad);

	/* members are input: a timestamp of 30 digits, one past INT64_MAX */
	if (ts == CFG_TS_SORTEDSET) {
		/* and values the writer never writes (fmt_double's decimals) */
		static const char *const members[] = {
			"123456789012345678901234567890:1.5",
			"9223372036854775808:1.5",
			"1625652000000:nan",
			"1625652000000:-inf",
			"1625652000000:infinity",
			"1625652000000:1e400",
			"1625652000000:0x10",
			"1625652000000:0x1p3",
			"1625652000000: 1.5",
			"1625652000000:+1.5",
			"1625652000000:1.5e",
			"1625652000000:",
		};

		for (size_t i = 0; i < sizeof(members) / sizeof(members[0]);
		    i++) {
			char prefix[8], key[40];
			const char *zadd[] = { "ZADD", key, "1625652000000",
			    members[i] };

			snprintf(prefix, sizeof(prefix), "t6%zu", i);
			snprintf(key, sizeof(key), "%s:price:mean:30s", prefix);
			freeReplyObject(conn_command(c, 4, zadd, NULL));
			store_init(&bad, c, ts, prefix, 86400);
			CHECK(store_buckets(&bad, H0, H0 + HOUR, HOUR, &h, &err) == -1 &&
			    err.code == STORE_EBACKEND &&
			    strstr(err.text, "unexpected reply") != NULL,
			    "%s: a member \"%s\" is an unexpected reply: %s",
			    label, members[i], err.text);
			store_fini(&bad);
		}
	}

	/* a sample stamped near INT64_MAX: no window around it is an int64 */
	if (ts == CFG_TS_REDISTIMESERIES) {
		const char *tsadd[] = { "TS.ADD", "t7:price:mean:30s",
		    "9223372036854775000", "1" };

		freeReplyObject(conn_command(c, 4, tsadd, NULL));
		store_init(&bad, c, ts, "t7", 0);
		CHECK(store_newest(&bad, &newest, &found, &err) == -1 &&
		    err.code == STORE_EBACKEND &&
		    strstr(err.text, "unexpected reply") != NULL,
		    "%s: a timestamp past 2^53 is an unexpected reply: %s",
		    label, err.text);
		store_fini(&bad);
	}

	/* auto keeps the backend the existing keys use */
	store_init(&bad, c, CFG_TS_AUTO, "t1", 86400);
	CHECK(store_resolve(&bad, &err) == 0 &&
	    strcmp(store_backend_name(&bad), label) == 0,
	    "%s: auto follows the existing keys", label);
	store_fini(&bad);

	series_cases(label, c, ts);
	store_fini(&ret);
	store_fini(&st);
	conn_free(c);
}

/* Which prefixes keep every key in one Redis Cluster slot. */
static void
test_hash_tags(void)
{
	static const struct { const char *prefix; int tagged; } cases[] = {
		{ "{is-bitcoin-lit}", 1 }, { "app:{btc}", 1 }, { "{a}{b}", 1 },
		{ "is-bitcoin-lit", 0 }, { "{}is-bitcoin-lit", 0 },
		{ "{is-bitcoin-lit", 0 }, { "}x{", 0 }, { "x{}{y}", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(store_prefix_hash_tagged(cases[i].prefix),
		    cases[i].tagged, "hash tag in \"%s\"", cases[i].prefix);
}

int
main(void)
{
	struct tl_redis plain, mod;
	const char *module = tl_ts_module();
	char *json_zset = NULL, *json_rts = NULL;
	char *hist_zset = NULL, *hist_rts = NULL;
	int ncases;

	test_hash_tags();
	make_points();
	if (tl_redis_start(&plain, NULL, (char *)NULL) < 0) {
		CHECK(0, "start redis-server");
		return tl_done();
	}
	ncases = tl_count_results();
	run_cases("sortedset", plain.url, CFG_TS_SORTEDSET, &json_zset,
	    &hist_zset);
	ncases = tl_count_results() - ncases;
	{
		struct redis_url u;
		struct conn *c;
		struct store st;
		struct error err;

		redis_url_parse(plain.url, &u, NULL);
		c = conn_new(&u, 1000);
		redis_url_free(&u);
		store_init(&st, c, CFG_TS_AUTO, "fresh", 86400);
		CHECK(store_resolve(&st, &err) == 0 &&
		    strcmp(store_backend_name(&st), "sortedset") == 0,
		    "auto without the module picks sortedset");
		store_fini(&st);
		store_init(&st, c, CFG_TS_REDISTIMESERIES, "fresh", 86400);
		CHECK(store_newest(&st, (int64_t[]){ 0 }, (int[]){ 0 }, &err) ==
		    -1 && err.code == STORE_EBACKEND &&
		    strstr(err.text, "no RedisTimeSeries module") != NULL,
		    "redistimeseries without the module: %s", err.text);
		store_fini(&st);
		conn_free(c);
	}
	tl_redis_stop(&plain);

	if (module == NULL) {
		for (int i = 0; i < ncases + 4; i++)
			tl_skip("ISBITCOINLIT_TEST_TS_MODULE not set",
			    "redistimeseries case %d", i + 1);
	} else if (tl_redis_start(&mod, module, (char *)NULL) < 0) {
		CHECK(0, "start redis-server with %s", module);
	} else {
		run_cases("redistimeseries", mod.url, CFG_TS_REDISTIMESERIES,
		    &json_rts, &hist_rts);
		CHECK(json_zset != NULL && json_rts != NULL &&
		    strcmp(json_zset, json_rts) == 0,
		    "both backends give the same summary, byte for byte");
		tl_diag("summary: %s", json_rts ? json_rts : "(none)");
		CHECK(hist_zset != NULL && hist_rts != NULL &&
		    strcmp(hist_zset, hist_rts) == 0,
		    "both backends give the same 24-hour history (averages "
		    "and counts), byte for byte");
		{
			struct redis_url u;
			struct conn *c;
			struct store st;
			struct store_counts counts[STORE_NSERIES];
			struct error err;

			redis_url_parse(mod.url, &u, NULL);
			c = conn_new(&u, 1000);
			redis_url_free(&u);
			store_init(&st, c, CFG_TS_AUTO, "fresh", 86400);
			CHECK(store_resolve(&st, &err) == 0 &&
			    strcmp(store_backend_name(&st),
			    "redistimeseries") == 0,
			    "auto with the module picks redistimeseries");
			store_fini(&st);
			/* sorted sets work on a module server too */
			store_init(&st, c, CFG_TS_SORTEDSET, "zs", 86400);
			add_rows(&st, pts, 10, counts, &err);
			store_fini(&st);
			store_init(&st, c, CFG_TS_AUTO, "zs", 86400);
			CHECK(store_resolve(&st, &err) == 0 &&
			    strcmp(store_backend_name(&st), "sortedset") == 0,
			    "auto keeps existing sorted sets despite the module");
			store_fini(&st);
			conn_free(c);
		}
		tl_redis_stop(&mod);
	}
	free(json_zset);
	free(json_rts);
	free(hist_zset);
	free(hist_rts);
	return tl_done();
}
