/* Unit tests: feed parsing and validation. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <jansson.h>

#include "buf.h"
#include "feed.h"
#include "jscan.h"
#include "testlib.h"

#define NOW INT64_C(1625700000000)	/* 2021-07-07T23:20:00Z */

static const struct feed_fields v1 = { "timestamp", "btc_price", "mean" };

static void
timestr(const char *s, int ok, int64_t want)
{
	int64_t v = 0;
	int rc = feed_parse_time(s, &v);

	if (ok)
		CHECK(rc == 0 && v == want, "time \"%s\" = %lld (got %lld)", s,
		    (long long)want, (long long)v);
	else
		CHECK(rc == -1, "time \"%s\" refused", s);
}

/*
 * The v1 parser gives each valid element one sample per stream at its
 * timestamp: the number of such pairs, or (size_t)-1 when the streams are
 * not paired so.  Sample i of each stream is then row i (TS, PRICE, SENT).
 */
static size_t
npoints(const struct feed_result *r)
{
	const struct stream *p = &r->series[STORE_PRICE];
	const struct stream *s = &r->series[STORE_SENTIMENT];

	if (p->n != r->valid || s->n != r->valid)
		return (size_t)-1;
	for (size_t i = 0; i < r->valid; i++)
		if (p->points[i].ts_ms != s->points[i].ts_ms)
			return (size_t)-1;
	return r->valid;
}

#define TS(r, i) ((r).series[STORE_PRICE].points[(i)].ts_ms)
#define PRICE(r, i) ((r).series[STORE_PRICE].points[(i)].value)
#define SENT(r, i) ((r).series[STORE_SENTIMENT].points[(i)].value)

/* Nothing left in r: no stream holds a sample or memory. */
static int
emptied(const struct feed_result *r)
{
	for (int i = 0; i < STORE_NSERIES; i++)
		if (r->series[i].points != NULL || r->series[i].n != 0)
			return 0;
	return r->valid == 0;
}

static int
parse(const char *json, const struct feed_fields *f, struct feed_result *out,
    struct error *err)
{
	return feed_parse(json, strlen(json), f, NOW, 86400000, out, err);
}

/*
 * The walk refuses what jansson refuses: feed_parse() says "not JSON" for
 * body if and only if json_loadb(JSON_DECODE_ANY) fails on it (bodies with
 * a NUL byte aside: see jscan.h).
 */
static void
same_as_jansson(const char *label, const char *body, size_t len)
{
	struct feed_result r;
	struct error err;
	json_error_t jerr;
	json_t *whole = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
	int rc = feed_parse(body, len, &v1, NOW, 86400000, &r, &err);
	int refused = rc < 0 && err.code == FEED_EJSON;

	CHECK(refused == (whole == NULL), "%s: %s, as jansson (%s)", label,
	    refused ? "not JSON" : "JSON", refused ? err.text :
	    whole == NULL ? jerr.text : "valid");
	if (rc == 0)
		feed_result_free(&r);
	json_decref(whole);
}

static void
same(const char *body)
{
	same_as_jansson(body, body, strlen(body));
}

/* n arrays nested, around inner ("" for none). */
static char *
nested(int n, const char *inner)
{
	size_t il = strlen(inner);
	char *s = malloc(2 * (size_t)n + il + 1);

	memset(s, '[', (size_t)n);
	memcpy(s + n, inner, il);
	memset(s + n + il, ']', (size_t)n);
	s[2 * (size_t)n + il] = '\0';
	return s;
}

/* ---- the formats table: payloads in each feed's public shape ---- */

#define HOUR_S INT64_C(3600)
#define DAY_MS INT64_C(86400000)

/* A body built in the test (out of memory ends the test). */
static const char *
text(const struct buf *b)
{
	if (b->failed || b->data == NULL)
		abort();
	return b->data;
}

static const struct feed_args args_both = { NOW, 300000,
    { "timestamp", "btc_price", "mean" }, FEED_BOTH };
static const struct feed_args args_price = { NOW, 300000,
    { "timestamp", "btc_price", "mean" }, FEED_PRICE };
static const struct feed_args args_sent = { NOW, 300000,
    { "timestamp", "btc_price", "mean" }, FEED_SENTIMENT };

static int
parse_as(const char *fmt, const char *body, const struct feed_args *a,
    struct feed_result *r, struct error *err)
{
	err->text[0] = '\0';
	err->code = 0;
	return feed_parse_as(fmt, body, strlen(body), a, r, err);
}

/*
 * The oracle: the expected stream of a body's rows, each (time, value,
 * ok) in body order: the valid ones, the first of equal times kept,
 * sorted by time.  Returns how many.
 */
struct row {
	int64_t ts_ms;
	double value;
	int ok;
};

static size_t
oracle(const struct row *rows, size_t n, struct point *want)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (!rows[i].ok)
			continue;
		for (j = 0; j < m && want[j].ts_ms != rows[i].ts_ms; j++)
			;
		if (j < m)
			continue;	/* a duplicate: the first stays */
		/* insertion sort: the oracle is not the code's qsort */
		for (j = m; j > 0 && want[j - 1].ts_ms > rows[i].ts_ms; j--)
			want[j] = want[j - 1];
		want[j].ts_ms = rows[i].ts_ms;
		want[j].value = rows[i].value;
		m++;
	}
	return m;
}

/* The stream st is exactly want[0..n). */
static int
stream_is(const struct stream *st, const struct point *want, size_t n)
{
	if (st->n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (st->points[i].ts_ms != want[i].ts_ms ||
		    fabs(st->points[i].value - want[i].value) > 1e-9 *
		    fabs(want[i].value))
			return 0;
	return 1;
}

static void
v2_cases(void)
{
	struct feed_result r;
	struct error err;
	struct buf b;
	/* today at 00:00 UTC, and the 9 days before, in a shuffled order */
	int64_t today = NOW / DAY_MS * DAY_MS;
	static const int order[] = { 3, 0, 9, 1, 5, 2, 8, 4, 7, 6 };
	struct row prow[16], srow[16];
	struct point wp[16], ws[16];
	size_t n = 0, np, ns;

	buf_init(&b, 4096, BUF_NO_MAX);
	buf_printf(&b, "[");
	for (size_t i = 0; i < 10; i++) {
		int64_t day = today - order[i] * DAY_MS;
		time_t t = (time_t)(day / 1000);
		struct tm tm;
		char date[16];
		double price = 29000 + 10.5 * order[i], mean = -0.07 + 0.01 *
		    order[i];

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		buf_printf(&b, "%s{\"date\":\"%s\",\"price\":%.17g,\"volume\":2004.0,"
		    "\"score1\":-0.5078,\"count\":12,\"mean\":%.17g,\"sum\":-0.8}",
		    i ? "," : "", date, price, mean);
		prow[n] = (struct row){ day, price, 1 };
		srow[n++] = (struct row){ day, mean, 1 };
	}
	/* today again (a duplicate), then the malformed */
	{
		time_t t = (time_t)(today / 1000);
		struct tm tm;
		char date[16];

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		buf_printf(&b, ",{\"date\":\"%s\",\"price\":1,\"mean\":0.9}", date);
		prow[n] = (struct row){ today, 1, 1 };
		srow[n++] = (struct row){ today, 0.9, 1 };
	}
	buf_printf(&b, ",{\"date\":\"2023-04-17\",\"price\":\"29615.0\",\"mean\":0.1}"
	    ",{\"date\":\"2023-04-16\",\"mean\":0.1}"
	    ",{\"date\":\"2023-04-15T00:00:00Z\",\"price\":1,\"mean\":0.1}"
	    ",{\"date\":\"2023-4-14\",\"price\":1,\"mean\":0.1}"
	    ",{\"date\":\"2023-04-13\",\"price\":0,\"mean\":0.1}"
	    ",{\"date\":\"2023-04-12\",\"price\":-5,\"mean\":0.1}"
	    ",{\"date\":\"2023-04-11\",\"price\":1,\"mean\":\"0.1\"}"
	    ",{\"date\":\"2008-12-31\",\"price\":1,\"mean\":0.1}"
	    ",{\"date\":\"2099-01-01\",\"price\":1,\"mean\":0.1}"
	    ",{\"date\":\"2023-04-10\",\"price\":1e16,\"mean\":0.1}"
	    ",[1,2,3]]");
	np = oracle(prow, n, wp);
	ns = oracle(srow, n, ws);
	CHECK(parse_as("senticrypt-v2", text(&b), &args_both, &r, &err) == 0,
	    "v2: a body of ten days and eleven bad elements parses (%s)",
	    err.text);
	CHECK(r.received == 22 && r.valid == 10 && r.invalid == 12,
	    "v2: 22 received, 10 valid, 12 invalid (one a duplicate day) "
	    "(got %zu, %zu, %zu)", r.received, r.valid, r.invalid);
	CHECK(np == 10 && stream_is(&r.series[STORE_PRICE], wp, np),
	    "v2: one price per day at 00:00 UTC, sorted, the first of a "
	    "day kept");
	CHECK(ns == 10 && stream_is(&r.series[STORE_SENTIMENT], ws, ns),
	    "v2: one sentiment (\"mean\") per day at 00:00 UTC");
	CHECK(r.format == feed_format_find("senticrypt-v2"),
	    "v2: read as senticrypt-v2");
	feed_result_free(&r);
	CHECK(parse_as("auto", text(&b), &args_both, &r, &err) == 0 &&
	    r.format == feed_format_find("senticrypt-v2") &&
	    stream_is(&r.series[STORE_PRICE], wp, np),
	    "auto: an array of objects with \"date\" is SentiCrypt v2");
	feed_result_free(&r);
	buf_free(&b);

	/* each malformed element alone: its cause */
	{
		static const struct { const char *body, *cause; } bad[] = {
			{ "[{\"date\":\"2021-07-06\",\"price\":\"34000\","
			  "\"mean\":0.1}]", "element 0: field \"price\" is not "
			  "a finite JSON number" },
			{ "[{\"date\":\"2021-07-06\",\"mean\":0.1}]",
			  "element 0: missing field \"price\"" },
			{ "[{\"date\":\"2021-07-06\",\"price\":1,"
			  "\"mean\":\"0.1\"}]", "element 0: field \"mean\" is "
			  "not a finite JSON number" },
			{ "[{\"date\":\"2021-07-06T00:00:00Z\",\"price\":1,"
			  "\"mean\":0.1}]", "element 0: field \"date\" is not "
			  "a YYYY-MM-DD date" },
			{ "[{\"date\":20210706,\"price\":1,\"mean\":0.1}]",
			  "element 0: field \"date\" is not a YYYY-MM-DD date" },
			{ "[{\"date\":\"2021-07-06\",\"price\":0,\"mean\":0.1}]",
			  "element 0: field \"price\" is not a price above 0" },
			{ "[{\"date\":\"2021-07-06\",\"price\":1,\"mean\":[1]}]",
			  "element 0: field \"mean\" is not a finite JSON" },
			{ "[{\"date\":\"2021-07-09\",\"price\":1,\"mean\":0.1}]",
			  "element 0: time further ahead of the clock" },
			{ "[{\"date\":\"2009-01-02\",\"price\":1,\"mean\":0.1}]",
			  "element 0: time before 2009-01-03" },
			{ "[7]", "element 0: not an object" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK(parse_as("senticrypt-v2", bad[i].body, &args_both,
			    &r, &err) == -1 && err.code == FEED_EEMPTY &&
			    strstr(err.text, bad[i].cause) != NULL &&
			    emptied(&r), "v2: %s: %s", bad[i].body, err.text);
	}
	/* a sentiment-only caller needs no valid price */
	CHECK(parse_as("senticrypt-v2", "[{\"date\":\"2021-07-06\","
	    "\"price\":\"n/a\",\"mean\":0.25},{\"date\":\"2021-07-05\","
	    "\"mean\":-0.5}]", &args_sent, &r, &err) == 0 && r.valid == 2 &&
	    r.series[STORE_PRICE].n == 0 && r.series[STORE_SENTIMENT].n == 2 &&
	    r.series[STORE_SENTIMENT].points[0].ts_ms ==
	    INT64_C(1625443200000) &&
	    r.series[STORE_SENTIMENT].points[1].value == 0.25,
	    "v2 for the sentiment only: no price read, none given (%s)",
	    err.text);
	feed_result_free(&r);
	CHECK(parse_as("senticrypt-v1", "[{\"timestamp\":1625592626,"
	    "\"mean\":0.25}]", &args_sent, &r, &err) == 0 && r.valid == 1 &&
	    r.series[STORE_PRICE].n == 0 && r.series[STORE_SENTIMENT].n == 1,
	    "v1 for the sentiment only: an element needs no price (%s)",
	    err.text);
	feed_result_free(&r);
	CHECK(parse_as("senticrypt-v2", "{\"date\":\"2021-07-06\"}",
	    &args_both, &r, &err) == -1 && err.code == FEED_ESHAPE &&
	    strcmp(err.text, "not a SentiCrypt v2 feed: a JSON object") == 0,
	    "v2 refuses an object: %s", err.text);
	CHECK(parse_as("senticrypt-v2", "[]", &args_both, &r, &err) == -1 &&
	    err.code == FEED_EEMPTY, "v2: an empty array: %s", err.text);
}

/*
 * A price-only candle format fmt (label in the checks) on body, of rows
 * (what parses): received and valid as given, the rest invalid, the
 * prices want[0..nw) (how), no sentiment; and "auto" finds it (auto_is).
 */
static void
candles_parse(const char *fmt, const char *label, const char *body,
    const char *rows, size_t received, size_t valid, const struct point *want,
    size_t nw, const char *how, const char *auto_is)
{
	struct feed_result r;
	struct error err;

	CHECK(parse_as(fmt, body, &args_price, &r, &err) == 0,
	    "%s: %s parse (%s)", label, rows, err.text);
	CHECK(r.received == received && r.valid == valid &&
	    r.invalid == received - valid,
	    "%s: %zu received, %zu valid, %zu invalid (got %zu, %zu, %zu)",
	    label, received, valid, received - valid, r.received, r.valid,
	    r.invalid);
	CHECK(stream_is(&r.series[STORE_PRICE], want, nw) &&
	    r.series[STORE_SENTIMENT].n == 0, "%s: %s", label, how);
	feed_result_free(&r);
	CHECK(parse_as("auto", body, &args_price, &r, &err) == 0 &&
	    r.format == feed_format_find(fmt) &&
	    stream_is(&r.series[STORE_PRICE], want, nw), "auto: %s", auto_is);
	feed_result_free(&r);
}

/* Kraken's price text of a value, as it sends it: a decimal string. */
static void
kraken_cases(void)
{
	struct feed_result r;
	struct error err;
	struct buf b;
	int64_t open_s = NOW / 1000 / HOUR_S * HOUR_S;	/* the open hour */
	struct row rows[64];
	struct point want[64];
	size_t n = 0, nw;

	/* 24 hours oldest first, the last the open one; one hour missing */
	buf_init(&b, 4096, BUF_NO_MAX);
	buf_printf(&b, "{\"error\":[],\"result\":{\"XXBTZUSD\":[");
	for (int h = 23; h >= 0; h--) {
		int64_t t = open_s - h * HOUR_S;
		double vwap = 30000 + h * 3.25;

		if (h == 7)
			continue;	/* a gap: nothing is made up for it */
		buf_printf(&b, "%s[%lld,\"%.1f\",\"%.1f\",\"%.1f\",\"%.1f\","
		    "\"%.2f\",\"3.39243896\",23]", n ? "," : "", (long long)t,
		    vwap - 1, vwap + 2, vwap - 3, vwap + 1, vwap);
		rows[n++] = (struct row){ t * 1000, vwap, 1 };
	}
	/* out of order, a duplicate hour (kept: the first), the malformed */
	buf_printf(&b, ",[%lld,\"1\",\"1\",\"1\",\"1\",\"29999.5\",\"1\",1]",
	    (long long)(open_s - 30 * HOUR_S));
	rows[n++] = (struct row){ (open_s - 30 * HOUR_S) * 1000, 29999.5, 1 };
	buf_printf(&b, ",[%lld,\"1\",\"1\",\"1\",\"1\",\"5\",\"1\",1]",
	    (long long)(open_s - 3 * HOUR_S));
	rows[n++] = (struct row){ (open_s - 3 * HOUR_S) * 1000, 5, 1 };
	buf_printf(&b, ",[%lld,\"1\",\"1\",\"1\",\"1\",30000.5,\"1\",1]"
	    ",[%lld,\"1\",\"1\",\"1\",\"1\",\"0.0\",\"1\",1]"
	    ",[%lld,\"1\",\"1\",\"1\",\"1\",\"-3\",\"1\",1]"
	    ",[%lld,\"1\",\"1\",\"1\",\"1\",\"NaN\",\"1\",1]"
	    ",[%lld,\"1\",\"1\",\"1\",\"1\",\"1\",\"1\"]"
	    ",[\"%lld\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",1]"
	    ",[1230940799,\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",1]"
	    ",[%lld,\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",1]"
	    ",{\"time\":1}],\"last\":%lld}}",
	    (long long)(open_s - 40 * HOUR_S), (long long)(open_s - 41 * HOUR_S),
	    (long long)(open_s - 42 * HOUR_S), (long long)(open_s - 43 * HOUR_S),
	    (long long)(open_s - 44 * HOUR_S), (long long)(open_s - 45 * HOUR_S),
	    (long long)(open_s + 2 * HOUR_S), (long long)(open_s - HOUR_S));
	nw = oracle(rows, n, want);
	candles_parse("kraken-ohlc", "kraken", text(&b), "23 candles and 10 "
	    "bad rows", 34, 24, want, nw, "one price per candle at its open "
	    "time, the VWAP, sorted, the open hour kept, the first of a "
	    "duplicate hour kept, the gap left empty; no sentiment",
	    "an object with \"error\"/\"result\" is Kraken OHLC");
	CHECK(parse_as("auto", text(&b), &args_both, &r, &err) == -1 &&
	    err.code == FEED_ESHAPE && strstr(err.text, "Kraken OHLC "
	    "(kraken-ohlc), which gives no sentiment") != NULL,
	    "auto, both series wanted: a Kraken body is refused: %s",
	    err.text);
	buf_free(&b);

	CHECK(parse_as("kraken-ohlc", "{\"error\":[\"EGeneral:Too many "
	    "requests\"]}", &args_price, &r, &err) == -1 &&
	    err.code == FEED_EREFUSED && strcmp(err.text, "Kraken answered "
	    "with 1 error: EGeneral:Too many requests") == 0 && emptied(&r),
	    "kraken: an error array refuses the body, with its text: %s",
	    err.text);
	CHECK(parse_as("kraken-ohlc", "{\"result\":{\"XXBTZUSD\":[[1625692800,"
	    "\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",1]],\"last\":1},\"error\":"
	    "[\"EQuery:Unknown \\u0001asset pair xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"EGeneral:x\"]}",
	    &args_price, &r, &err) == -1 && err.code == FEED_EREFUSED &&
	    strstr(err.text, "2 errors: EQuery:Unknown ?asset pair") != NULL &&
	    strlen(err.text) < 160 && emptied(&r),
	    "kraken: an error after valid rows still refuses; its text "
	    "printable and bounded: %s", err.text);
	CHECK(parse_as("kraken-ohlc", "{\"error\":[],\"result\":{\"A\":[],"
	    "\"B\":[],\"last\":1}}", &args_price, &r, &err) == -1 &&
	    err.code == FEED_ESHAPE && strstr(err.text, "2 pairs") != NULL,
	    "kraken: two pairs are refused: %s", err.text);
	CHECK(parse_as("kraken-ohlc", "{\"error\":[],\"result\":{\"last\":1}}",
	    &args_price, &r, &err) == -1 && err.code == FEED_ESHAPE &&
	    strstr(err.text, "no pair") != NULL,
	    "kraken: no pair is refused: %s", err.text);
	CHECK(parse_as("kraken-ohlc", "{\"error\":[],\"result\":{\"XXBTZUSD\":"
	    "[],\"last\":1}}", &args_price, &r, &err) == -1 &&
	    err.code == FEED_EEMPTY && strcmp(err.text, "no valid sample "
	    "among 0") == 0, "kraken: no rows: %s", err.text);
	CHECK(parse_as("kraken-ohlc", "[[1625692800,1,1,1,1,1]]",
	    &args_price, &r, &err) == -1 && err.code == FEED_ESHAPE &&
	    strcmp(err.text, "not a Kraken OHLC answer: a JSON array") == 0,
	    "kraken refuses an array: %s", err.text);
	CHECK(parse_as("kraken-ohlc", "{\"error\":[],\"result\":{\"X\":[[",
	    &args_price, &r, &err) == -1 && err.code == FEED_EJSON,
	    "kraken: truncated: %s", err.text);
	CHECK(parse_as("kraken-ohlc", "{\"error\":[],\"result\":{\"X\":"
	    "[[1625692800,\"1\",\"1\"]]}}", &args_price, &r, &err) == -1 &&
	    strstr(err.text, "row 0: a row of 3 values, not 8") != NULL,
	    "kraken: a short row: %s", err.text);
}

static void
coinbase_cases(void)
{
	struct feed_result r;
	struct error err;
	struct buf b;
	int64_t open_s = NOW / 1000 / HOUR_S * HOUR_S;
	struct row rows[64];
	struct point want[64];
	size_t n = 0, nw;

	/* 12 hours newest first, two without trades (no row) */
	buf_init(&b, 4096, BUF_NO_MAX);
	buf_printf(&b, "[");
	for (int h = 0; h < 12; h++) {
		int64_t t = open_s - h * HOUR_S;
		double lo = 30000 + h, hi = lo + 40, op = lo + 10, cl = lo + 25;

		if (h == 4 || h == 5)
			continue;
		buf_printf(&b, "%s[%lld,%.17g,%.17g,%.17g,%.17g,12.5]", n ? "," : "",
		    (long long)t, lo, hi, op, cl);
		rows[n++] = (struct row){ t * 1000, (op + hi + lo + cl) / 4, 1 };
	}
	buf_printf(&b, ",[%lld,1,2,1.5,1.5,1]", (long long)(open_s - HOUR_S));
	rows[n++] = (struct row){ (open_s - HOUR_S) * 1000, 1.5, 1 };
	buf_printf(&b, ",[%lld,1,2,\"1.5\",1.5,1],[%lld,1,2,1.5,1.5]"
	    ",[%lld,0,2,1.5,1.5,1],[%lld,3,2,2.5,2.5,1],[%lld,1,2,1.5,1.5,-1]"
	    ",[%lld,1,2,1.5,1.5,1],[%lld,1,2,null,1.5,1],{\"time\":1}]",
	    (long long)(open_s - 20 * HOUR_S), (long long)(open_s - 21 * HOUR_S),
	    (long long)(open_s - 22 * HOUR_S), (long long)(open_s - 23 * HOUR_S),
	    (long long)(open_s - 24 * HOUR_S), (long long)(open_s + HOUR_S),
	    (long long)(open_s - 25 * HOUR_S));
	nw = oracle(rows, n, want);
	candles_parse("coinbase-candles", "coinbase", text(&b), "10 candles "
	    "and 9 bad rows", 19, 10, want, nw, "newest first becomes oldest "
	    "first; one price per candle at its open time, the mean of OHLC; "
	    "the gap left empty", "an array of arrays is Coinbase candles");
	buf_free(&b);

	CHECK(parse_as("coinbase-candles", "{\"message\":\"NotFound\"}",
	    &args_price, &r, &err) == -1 && err.code == FEED_EREFUSED &&
	    strcmp(err.text, "Coinbase answered with an error: NotFound") == 0,
	    "coinbase: an error object refuses the body, with its message: %s",
	    err.text);
	CHECK(parse_as("auto", "{\"message\":\"Unauthorized.\"}",
	    &args_price, &r, &err) == -1 && err.code == FEED_EREFUSED &&
	    strstr(err.text, "Unauthorized.") != NULL,
	    "auto: an object with \"message\" is Coinbase's error: %s",
	    err.text);
	CHECK(parse_as("coinbase-candles", "{\"data\":[]}", &args_price, &r,
	    &err) == -1 && err.code == FEED_ESHAPE && strcmp(err.text,
	    "not Coinbase candles: a JSON object") == 0,
	    "coinbase refuses another object: %s", err.text);
	CHECK(parse_as("coinbase-candles", "[]", &args_price, &r, &err) == -1 &&
	    err.code == FEED_EEMPTY, "coinbase: an empty array: %s", err.text);
	CHECK(parse_as("coinbase-candles", "[[1625692800,1,2,1.5,1e999,1]]",
	    &args_price, &r, &err) == -1 && err.code == FEED_EJSON,
	    "coinbase: a number JSON cannot hold is not JSON: %s", err.text);
	CHECK(parse_as("coinbase-candles", "[[1625692800,1,2,1.5,1.5]]",
	    &args_price, &r, &err) == -1 && err.code == FEED_EEMPTY &&
	    strstr(err.text, "(first: row 0: a row of 5 values, not 6)"),
	    "coinbase: a short row, the cause given: %s", err.text);
}

static void
table_cases(void)
{
	struct feed_result r;
	struct error err;
	static const char v1body[] = "[{\"timestamp\":1625592626,"
	    "\"btc_price\":\"33885.23\",\"mean\":0.2,\"date\":\"2021-07-06\"}]";

	CHECK(feed_format_find("senticrypt-v1") != NULL &&
	    strcmp(feed_format_find("senticrypt-v1")->tag, "mean:30s") == 0 &&
	    feed_format_find("senticrypt-v1")->keep_last == 0 &&
	    feed_format_find("senticrypt-v2")->keep_last == 1 &&
	    feed_format_find("kraken-ohlc")->series == FEED_PRICE &&
	    feed_format_find("coinbase-candles")->step_ms == 3600000 &&
	    feed_format_find("nope") == NULL,
	    "the table: v1 keeps today's tag and the first value; the others "
	    "keep the last; candles give the price alone");
	CHECK(feed_format_for("kraken-ohlc", FEED_BOTH, &err) == NULL &&
	    strcmp(err.text, "kraken-ohlc gives no sentiment, and this feed "
	    "must give price and sentiment") == 0,
	    "a price-only format cannot give both series: %s", err.text);
	CHECK(feed_format_for("coinbase-candles", FEED_PRICE, &err) != NULL &&
	    feed_format_for("auto", FEED_BOTH, &err) != NULL,
	    "but can give the price; auto can give both");
	CHECK(feed_format_for("csv", FEED_BOTH, &err) == NULL &&
	    strstr(err.text, "not one of auto, senticrypt-v1, senticrypt-v2, "
	    "kraken-ohlc, coinbase-candles: \"csv\"") != NULL,
	    "an unknown format: %s", err.text);
	CHECK(parse_as("auto", v1body, &args_both, &r, &err) == 0 &&
	    r.format == feed_format_find("senticrypt-v1") && npoints(&r) == 1 &&
	    PRICE(r, 0) == 33885.23,
	    "auto: objects with v1's timestamp field are v1, \"date\" or not");
	feed_result_free(&r);
	CHECK(parse_as("auto", "[]", &args_both, &r, &err) == -1 &&
	    err.code == FEED_EEMPTY && strcmp(err.text, "no valid sample "
	    "among 0 (an empty array)") == 0,
	    "auto: an empty array: %s", err.text);
	CHECK(parse_as("auto", "{\"a\":1}", &args_both, &r, &err) == -1 &&
	    strcmp(err.text, "not a JSON array but an object") == 0,
	    "auto: another object is read as v1, as before: %s", err.text);
	CHECK(parse_as("auto", "[{\"timestamp\":1", &args_both, &r, &err) ==
	    -1 && err.code == FEED_EJSON, "auto: not JSON: %s", err.text);
	CHECK(parse_as("auto", "[[1625692800,1 [", &args_both, &r, &err) ==
	    -1 && err.code == FEED_EJSON,
	    "auto, both series wanted: broken candles are not JSON first: %s",
	    err.text);
	CHECK(parse_as("senticrypt-v1", "[[1625692800,1,2,1.5,1.5,1]]",
	    &args_both, &r, &err) == -1 && err.code == FEED_EEMPTY &&
	    strstr(err.text, "not an object"),
	    "v1 named: candles are not objects: %s", err.text);
}

/*
 * Every format walks a hostile body element by element: 16 MiB of empty
 * rows is parsed (refused: no valid sample) in a child whose address
 * space is what it has when it starts plus two bodies, which a whole
 * jansson tree of the same body does not fit in (checked alongside, so
 * that the limit is known to bite).  Skipped under ASan and valgrind.
 */
#define HOSTILE (16L * 1024 * 1024)

static int
vm_bytes(long *out)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];

	*out = -1;
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmSize: %ld kB", out) == 1)
			break;
	if (fp != NULL)
		fclose(fp);
	*out *= 1024;
	return *out > 0 ? 0 : -1;
}

/* In a child under the limit: 0 the walk refused it, 1 jansson loaded it. */
static int
limited(const char *fmt, const char *body, size_t len, int whole)
{
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct rlimit rl;
		struct feed_result r;
		struct error err;
		json_error_t jerr;
		long vm;

		if (vm_bytes(&vm) < 0)
			_exit(3);
		rl.rlim_cur = rl.rlim_max = (rlim_t)(vm + 2 * HOSTILE);
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			_exit(3);
		if (whole)
			_exit(json_loadb(body, len, 0, &jerr) != NULL ? 1 : 2);
		_exit(feed_parse_as(fmt, body, len, &args_price, &r, &err) ==
		    -1 && err.code == FEED_EEMPTY ? 0 : 2);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void
memory_cases(void)
{
	static const struct { const char *fmt, *head, *first, *rest, *tail; }
	    hostile[] = {
		{ "coinbase-candles", "", "[[]", ",[]", "]" },
		{ "kraken-ohlc", "", "{\"error\":[],\"result\":{\"X\":[[]",
		  ",[]", "]}}" },
		{ "senticrypt-v2", "", "[{}", ",{}", "]" },
	};
	const char *tp = getenv("TEST_PREFIX");
	int sanitized = getenv("ASAN_OPTIONS") != NULL ||
	    (tp != NULL && *tp != '\0');

#if defined(__SANITIZE_ADDRESS__)
	sanitized = 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	sanitized = 1;
#endif
#endif
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		size_t fl = strlen(hostile[i].first), rl = strlen(hostile[i].rest);
		size_t tl = strlen(hostile[i].tail), len = 0;
		char *body;

		if (sanitized) {
			tl_skip("ASan or valgrind", "%s: a 16 MiB hostile body "
			    "within two bodies of address space", hostile[i].fmt);
			continue;
		}
		if ((body = malloc(HOSTILE + 1)) == NULL)
			abort();
		memcpy(body, hostile[i].first, fl);
		len = fl;
		while (len + rl + tl <= HOSTILE) {
			memcpy(body + len, hostile[i].rest, rl);
			len += rl;
		}
		memcpy(body + len, hostile[i].tail, tl);
		len += tl;
		CHECK(limited(hostile[i].fmt, body, len, 1) == 2,
		    "%s: a jansson tree of the 16 MiB body does not fit in "
		    "two bodies of address space", hostile[i].fmt);
		CHECK(limited(hostile[i].fmt, body, len, 0) == 0,
		    "%s: the walk refuses the 16 MiB body (no valid sample) "
		    "within them", hostile[i].fmt);
		free(body);
	}
}

/* Decimals as the feeds write them... */
static const struct tl_read decimals[] = {
	{ "33885.23", 33885.23 }, { "-0.5", -0.5 }, { "+2", 2 },
	{ "1e-7", 1e-7 }, { "1E+3", 1000 }, { ".5", 0.5 }, { "5.", 5 },
	{ "007", 7 }
};
/* ...and what is none. */
static const char *const not_decimals[] = {
	"", " 1", "1 ", "1,5", "0x10", "inf", "NaN", "1e999", "1e", "-",
	"."
};

int
main(void)
{
	struct feed_result r;
	struct error err;

	tl_check_reader("decimal", feed_parse_decimal, decimals,
	    TL_NELEM(decimals), not_decimals, TL_NELEM(not_decimals));

	timestr("2021-07-07T16:30:18Z", 1, INT64_C(1625675418000));
	timestr("2021-07-07T16:30:18.345Z", 1, INT64_C(1625675418345));
	timestr("2021-07-07T16:30:18.3456789z", 1, INT64_C(1625675418345));
	timestr("2021-07-07t16:30:18.3Z", 1, INT64_C(1625675418300));
	timestr("2021-07-07 16:30:18+00:00", 1, INT64_C(1625675418000));
	timestr("2021-07-07T18:30:18+02:00", 1, INT64_C(1625675418000));
	timestr("2021-07-07T12:00:18-04:30", 1, INT64_C(1625675418000));
	timestr("2021-07-07", 1, INT64_C(1625616000000));
	timestr("2020-02-29", 1, INT64_C(1582934400000));
	timestr("2016-12-31T23:59:60Z", 1, INT64_C(1483228800000));
	timestr("2021-02-29", 0, 0);
	timestr("2021-13-01", 0, 0);
	timestr("2021-07-07T16:30:18", 0, 0);	/* no offset */
	timestr("2021-07-07T24:00:00Z", 0, 0);
	timestr("2021-07-07T16:30Z", 0, 0);
	timestr("2021-07-07T16:30:18.Z", 0, 0);
	timestr("2021-07-07T16:30:18+0200", 0, 0);
	timestr("2021-7-7", 0, 0);
	timestr("2021-07-07Z", 0, 0);
	timestr("2021-07-07T16:30:18Zjunk", 0, 0);
	timestr("yesterday", 0, 0);

	/* the element-by-element walk against jansson's whole-body parse */
	same("[]");
	same(" [ ] ");
	same("[");
	same("]");
	same("[,]");
	same("[1,]");
	same("[,1]");
	same("[1 2]");
	same("[1,,2]");
	same("[1] x");
	same("[1]]");
	same("[}");
	same("[{]");
	same("[{}]");
	same("[{},{}]");
	same("[{\"a\":}]");
	same("[{\"a\" 1}]");
	same("[{\"a\":1,}]");
	same("[{1:1}]");
	same("[{\"a\":1 \"b\":2}]");
	same("[{\"a\":[1,{\"b\":[]}]}]");
	same("[{\"a\":[1,{\"b\":[}]}]");
	same("[\"]\"]");
	same("[\"\\\"]\"]");
	same("[\"\\\\\"]");
	same("[\"\\\\\",\"]");
	same("[{\"x]\":\"}{\"}]");
	same("[\"\\u0000\"]");
	same("[{\"\\u0000\":1}]");
	same("[\"\\x\"]");
	same("[\"a\tb\"]");
	same("[tru]");
	same("[true,false,null]");
	same("[nul]");
	same("[01]");
	same("[-]");
	same("[1.]");
	same("[1e400]");
	same("[99999999999999999999999]");
	same("[1.5e3,-0.0,2E-2]");
	same("[\"\xff\"]");
	same("[\"\xc3\xa9\"]");
	same("{\"a\":[{},{}]}");
	same("{\"a\":[{},{]}");
	same("{\"a\":1} 2");
	same("1");
	same("1 2");
	same("\"text");
	same("");
	same("   ");
	same("[{\"timestamp\":1625592626,\"btc_price\":1,\"mean\":0.1}]");
	same("[{\"timestamp\":1625592626,\"btc_price\":1,\"mean\":0.1}");
	same("[{\"timestamp\":1625592626,\"btc_price\":[1,],\"mean\":0.1}]");
	same("[{\"timestamp\":1625592626,\"btc_price\":1,\"mean\":0.1]");
	same_as_jansson("NUL between elements", "[1,\0 2]", 7);
	same_as_jansson("NUL in a string", "[\"a\0\"]", 7);
	/* stricter than jansson, which skips a NUL after a number */
	CHECK(feed_parse("[1\0]", 4, &v1, NOW, 86400000, &r, &err) == -1 &&
	    err.code == FEED_EJSON, "a NUL after a number: %s", err.text);
	/* jansson's depth limit counts every value, the top one as 1 */
	{
		char *s;

		s = nested(JSON_PARSER_MAX_DEPTH, "");
		same_as_jansson("2048 arrays nested", s, strlen(s));
		free(s);
		s = nested(JSON_PARSER_MAX_DEPTH + 1, "");
		same_as_jansson("2049 arrays nested", s, strlen(s));
		free(s);
		s = nested(JSON_PARSER_MAX_DEPTH, "1");
		same_as_jansson("a number in 2048 arrays", s, strlen(s));
		free(s);
		s = nested(JSON_PARSER_MAX_DEPTH - 1, "{\"a\":1}");
		same_as_jansson("a member in 2048 containers", s, strlen(s));
		free(s);
		s = nested(JSON_PARSER_MAX_DEPTH - 1, "{}");
		same_as_jansson("an empty object in 2047 arrays", s, strlen(s));
		free(s);
	}

	/* only the three fields are read; the last of a name given twice */
	CHECK(parse("[{\"timestamp\":1,\"x\":[{\"timestamp\":2}],"
	    "\"btc_price\":{\"a\":1},\"btc_price\":\"5\",\"mean\":0.5,"
	    "\"timestamp\":1625592626}]", &v1, &r, &err) == 0 &&
	    npoints(&r) == 1 && TS(r, 0) == INT64_C(1625592626000) &&
	    PRICE(r, 0) == 5 && SENT(r, 0) == 0.5,
	    "a field given twice: the last counts; nested ones are not fields");
	feed_result_free(&r);
	CHECK(parse("[{\"timestamp\":1625592626,\"btc_price\":[5],"
	    "\"mean\":0.5}]", &v1, &r, &err) == -1 && err.code == FEED_EEMPTY &&
	    strstr(err.text, "field \"btc_price\" is not a finite number"),
	    "a field that is an array is no number: %s", err.text);
	{
		const struct feed_fields same_name = { "timestamp", "v", "v" };

		CHECK(parse("[{\"timestamp\":1625592626,\"v\":2}]", &same_name,
		    &r, &err) == 0 && npoints(&r) == 1 && PRICE(r, 0) == 2 &&
		    SENT(r, 0) == 2,
		    "one member may be two fields");
		feed_result_free(&r);
	}
	CHECK(parse("[{\"time\\u0073tamp\":1625592626,\"btc_price\":1,"
	    "\"mean\":0.1}]", &v1, &r, &err) == 0 && npoints(&r) == 1,
	    "member names are unescaped before they are compared");
	feed_result_free(&r);
	CHECK(parse("[{},\n{\"a\":1},\n[1,]]", &v1, &r, &err) == -1 &&
	    err.code == FEED_EJSON && strstr(err.text, "at line 3 column"),
	    "an error's line is the body's: %s", err.text);

	/* the walk on its own: the members of an object, then the end */
	{
		static const char doc[] = " {\"a\" : [1, {\"b\":2}], \"c\":\"d\"} ";
		struct jscan s;
		struct jscan_iter it;
		json_error_t jerr;
		const char *key;
		json_t *v;
		int n = 0;

		jscan_init(&s, doc, strlen(doc));
		CHECK(jscan_open(&s, 1, &it, &jerr) == 0, "open an object");
		while (jscan_next(&it, &key, &jerr) == 1) {
			n++;
			if (strcmp(key, "c") == 0) {
				v = jscan_load_scalar(&s, &jerr);
				CHECK(v != NULL && strcmp(json_string_value(v),
				    "d") == 0, "member c is \"d\"");
				json_decref(v);
			}
		}
		CHECK(n == 2 && jscan_end(&s, &jerr) == 0,
		    "two members, then only whitespace");
		jscan_close(&it);
	}

	/* a SentiCrypt v1 sample, numbers and numeric strings */
	CHECK(parse("[{\"count\":7259,\"timestamp\":1625592626.3452034,"
	    "\"rate\":0.0,\"last\":0.33,\"sum\":1425.82,\"mean\":0.2,"
	    "\"median\":0.23,\"btc_price\":\"33885.23\"}]", &v1, &r, &err) == 0,
	    "a SentiCrypt v1 sample parses");
	CHECK(npoints(&r) == 1 && r.received == 1 && r.invalid == 0,
	    "one valid sample");
	CHECK_INT(TS(r, 0), INT64_C(1625592626345),
	    "fractional seconds truncated to ms");
	CHECK(PRICE(r, 0) == 33885.23 && SENT(r, 0) == 0.2,
	    "price from a string, sentiment from a number");
	feed_result_free(&r);

	/* ordering, duplicates kept in feed order, invalid counted */
	CHECK(parse("[{\"timestamp\":1625600000,\"btc_price\":3,\"mean\":0.3},"
	    "{\"timestamp\":1625500000,\"btc_price\":1,\"mean\":0.1},"
	    "{\"timestamp\":1625600000,\"btc_price\":4,\"mean\":0.4},"
	    "{\"timestamp\":1625550000,\"mean\":0.1},"
	    "{\"timestamp\":1625550000,\"btc_price\":null,\"mean\":0.1},"
	    "{\"timestamp\":1625550000,\"btc_price\":true,\"mean\":0.1},"
	    "{\"timestamp\":1625550000,\"btc_price\":1,\"mean\":[0.1]},"
	    "{\"timestamp\":1230940800,\"btc_price\":2,\"mean\":0.2},"
	    "{\"timestamp\":1230940799.999,\"btc_price\":2,\"mean\":0.2},"
	    "{\"timestamp\":1625786400,\"btc_price\":2,\"mean\":0.2},"
	    "{\"timestamp\":1625786400.01,\"btc_price\":2,\"mean\":0.2},"
	    "{\"timestamp\":-5,\"btc_price\":2,\"mean\":0.2},"
	    "{\"timestamp\":1e300,\"btc_price\":2,\"mean\":0.2},"
	    "null, 3]", &v1, &r, &err) == 0, "a mixed feed parses");
	CHECK(r.received == 15 && npoints(&r) == 5 && r.invalid == 10,
	    "5 valid, 10 invalid of 15 (got %zu, %zu)", npoints(&r), r.invalid);
	CHECK(npoints(&r) == 5 && TS(r, 0) == INT64_C(1230940800000) &&
	    TS(r, 1) == INT64_C(1625500000000) &&
	    PRICE(r, 2) == 3 && PRICE(r, 3) == 4 &&
	    TS(r, 4) == NOW + 86400000,
	    "sorted by time; equal times keep feed order; the edges included");
	feed_result_free(&r);

	/* values so large that an hour's sum would overflow: invalid */
	CHECK(parse("[{\"timestamp\":1625550000,\"btc_price\":1e308,"
	    "\"mean\":0.1},{\"timestamp\":1625550001,\"btc_price\":1,"
	    "\"mean\":\"-2e15\"},{\"timestamp\":1625550002,"
	    "\"btc_price\":1e15,\"mean\":-1e15}]", &v1, &r, &err) == 0 &&
	    npoints(&r) == 1 && r.invalid == 2 && PRICE(r, 0) == 1e15,
	    "a price of 1e308 or a sentiment of -2e15 is invalid, 1e15 is not");
	feed_result_free(&r);

	/* the future: a clock-skew allowance, then invalid */
	{
		char json[512];

		snprintf(json, sizeof(json), "[{\"timestamp\":%.3f,"
		    "\"btc_price\":1,\"mean\":0.1},{\"timestamp\":%.3f,"
		    "\"btc_price\":2,\"mean\":0.2},{\"timestamp\":%.3f,"
		    "\"btc_price\":3,\"mean\":0.3}]", (NOW + 300000) / 1000.0,
		    (NOW + 300001) / 1000.0, (NOW + 23 * 3600000) / 1000.0);
		CHECK(feed_parse(json, strlen(json), &v1, NOW, 300000, &r,
		    &err) == 0 && npoints(&r) == 1 && r.invalid == 2 &&
		    TS(r, 0) == NOW + 300000,
		    "300 s ahead is valid; 1 ms more, or 23 h, is invalid");
		feed_result_free(&r);
		snprintf(json, sizeof(json), "[{\"timestamp\":%.3f,"
		    "\"btc_price\":1,\"mean\":0.1}]", (NOW + 3600000) / 1000.0);
		CHECK(feed_parse(json, strlen(json), &v1, NOW, 300000, &r,
		    &err) == -1 && strstr(err.text, "ISBITCOINLIT_MAX_FUTURE_S"),
		    "a future sample alone: no valid sample, and why: %s",
		    err.text);
		feed_result_free(&r);
	}

	/* renamed fields, v2-style dates */
	{
		const struct feed_fields v2 = { "date", "price", "sentiment" };

		CHECK(parse("[{\"date\":\"2021-07-06\",\"price\":34000,"
		    "\"sentiment\":\"-0.1\"},{\"date\":\"2021-07-07T00:00:00Z\","
		    "\"price\":\"1.5e4\",\"sentiment\":0}]", &v2, &r, &err) == 0 &&
		    npoints(&r) == 2 && TS(r, 0) == INT64_C(1625529600000) &&
		    PRICE(r, 1) == 15000 && SENT(r, 0) == -0.1,
		    "renamed fields with dates and numeric strings");
		feed_result_free(&r);
		CHECK(parse("[{\"timestamp\":1625592626,\"btc_price\":1,"
		    "\"mean\":0.1}]", &v2, &r, &err) == -1 &&
		    err.code == FEED_EEMPTY &&
		    strcmp(err.text, "no valid sample among 1 (first: element 0: "
		    "missing field \"date\")") == 0,
		    "wrong field names: no valid sample, the first reason given: %s",
		    err.text);
	}

	/* the whole payload */
	CHECK(parse("{\"a\":1}", &v1, &r, &err) == -1 &&
	    err.code == FEED_ESHAPE &&
	    strcmp(err.text, "not a JSON array but an object") == 0,
	    "an object: %s", err.text);
	CHECK(parse("[{\"timestamp\":1625592626", &v1, &r, &err) == -1 &&
	    err.code == FEED_EJSON && strncmp(err.text, "not JSON: ", 10) == 0,
	    "truncated: %s", err.text);
	CHECK(parse("", &v1, &r, &err) == -1 && err.code == FEED_EJSON,
	    "empty body: %s", err.text);
	CHECK(parse("\"text\"", &v1, &r, &err) == -1 &&
	    err.code == FEED_ESHAPE, "a string: %s", err.text);
	CHECK(parse("[]", &v1, &r, &err) == -1 && err.code == FEED_EEMPTY &&
	    strcmp(err.text, "no valid sample among 0") == 0,
	    "an empty array: %s", err.text);
	CHECK(emptied(&r), "a failed parse leaves "
	    "nothing to free");
	{
		static const char nul[] = "[{\"timestamp\":1625592626,"
		    "\"btc_price\":1,\"mean\":0.1}]\0junk";

		CHECK(feed_parse(nul, sizeof(nul) - 1, &v1, NOW, 86400000, &r,
		    &err) == -1 &&
		    err.code == FEED_EJSON, "NUL inside the body: %s",
		    err.text);
	}

	v2_cases();
	kraken_cases();
	coinbase_cases();
	table_cases();
	memory_cases();
	return tl_done();
}
