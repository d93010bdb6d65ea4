/* Unit tests: the window, pairing rows by hour, directions, rendering. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "jsonw.h"
#include "summary.h"
#include "testlib.h"

#define H0 INT64_C(1625666400000)	/* 2021-07-07T14:00:00Z */
#define HOUR FMT_HOUR_MS

static void
add(struct store_buckets *h, int series, int64_t start, double avg)
{
	h->b[series][h->n[series]].start_ms = start;
	h->b[series][h->n[series]].avg = avg;
	h->n[series]++;
}

static char *
render(const struct summary *s)
{
	size_t len;

	return summary_render(s, 0, &len);
}

/*
 * The verdict of every pair of three-hour series, against this test's own
 * rule: "lit" when both rise (last row above the first), "not lit" when
 * both fall, "mixed" otherwise; and the document carries it.
 */
static void
test_verdict(void)
{
	static const double first[] = { 1, 2, 3 };	/* last: 2 */
	struct store_bucket buf[STORE_NSERIES * 8];
	struct store_buckets h;
	struct summary s;
	int wrong = 0, lit = 0, notlit = 0;

	for (int p = 0; p < 3; p++)
		for (int q = 0; q < 3; q++) {
			const char *want, *got;
			char needle[64];
			char *json;
			size_t len;

			store_buckets_init(&h, buf, 8);
			add(&h, STORE_PRICE, H0, first[p]);
			add(&h, STORE_PRICE, H0 + HOUR, 7);
			add(&h, STORE_PRICE, H0 + 2 * HOUR, 2);
			add(&h, STORE_SENTIMENT, H0, first[q] / 10);
			add(&h, STORE_SENTIMENT, H0 + HOUR, -7);
			add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 0.2);
			summary_build(H0 + 2 * HOUR, &summary_hourly, &h, &s);
			/* first 1 < last 2: rising; 3 > 2: falling */
			want = p == 0 && q == 0 ? "lit" :
			    p == 2 && q == 2 ? "not lit" : "mixed";
			got = summary_verdict_name(s.verdict);
			lit += strcmp(got, "lit") == 0;
			notlit += strcmp(got, "not lit") == 0;
			json = summary_render(&s, 0, &len);
			snprintf(needle, sizeof(needle),
			    "\"price_direction\":\"%s\",\"verdict\":\"%s\",",
			    summary_direction_name(s.price_direction), want);
			if (strcmp(got, want) != 0 || json == NULL ||
			    strstr(json, needle) == NULL ||
			    !summary_valid(json, len, &summary_hourly))
				wrong++;
			free(json);
		}
	CHECK_INT(wrong, 0, "verdicts of 9 direction pairs as the rule says");
	CHECK(lit == 1 && notlit == 1, "one lit, one not lit, seven mixed");
	/* fewer than two rows: both flat, mixed */
	store_buckets_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0, 1);
	add(&h, STORE_SENTIMENT, H0, 1);
	summary_build(H0, &summary_hourly, &h, &s);
	CHECK_STR(summary_verdict_name(s.verdict), "mixed", "one row: mixed");
	/* a cached document without a verdict, or another word: refused */
	{
		static const char *const before =
		    "{\"hourly_average_of_averages\":[],"
		    "\"sentiment_direction\":\"flat\",\"price_direction\":"
		    "\"flat\",\"as_of\":\"2021-07-07T14:00:00+00:00\"}";
		static const char *const other =
		    "{\"hourly_average_of_averages\":[],"
		    "\"sentiment_direction\":\"flat\",\"price_direction\":"
		    "\"flat\",\"verdict\":\"meh\","
		    "\"as_of\":\"2021-07-07T14:00:00+00:00\"}";

		CHECK(!summary_valid(before, strlen(before), &summary_hourly),
		    "summary_valid: a document of before the verdict is refused");
		CHECK(!summary_valid(other, strlen(other), &summary_hourly),
		    "summary_valid: an unknown verdict is refused");
	}
}

/* summary_valid(, &summary_hourly): what this product writes, and nothing else. */
static void
test_valid(void)
{
	static const double odd[] = { 34599.076210526335, -0.5, 1e-7, 1e21,
	    -1.7976931348623157e308, 5e-324, 0, 0.30000000000000004, NAN,
	    123456789012345680000.0, -0.000001 };
	static const char *const bad[] = {
		"",
		"garbage",
		"{}",
		"[]",
		"{\"hourly_average_of_averages\":[]}",
		"{\"hourly_average_of_averages\":[],\"sentiment_direction\":"
		    "\"flat\",\"price_direction\":\"flat\",\"verdict\":\"mixed\",\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\",\"x\":1}",
		"{\"hourly_average_of_averages\":[],\"sentiment_direction\":"
		    "\"up\",\"price_direction\":\"flat\",\"verdict\":\"mixed\",\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
		"{\"hourly_average_of_averages\":[],\"price_direction\":"
		    "\"flat\",\"sentiment_direction\":\"flat\",\"verdict\":\"mixed\",\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
		"{\"hourly_average_of_averages\":[],\"sentiment_direction\":"
		    "\"flat\",\"price_direction\":\"flat\",\"verdict\":\"mixed\",\"as_of\":"
		    "\"2021-07-07 14:00:00+00:00\"}",
		"{\"hourly_average_of_averages\":[{\"time\":\"2021-07-07T14:00:"
		    "00+00:00\",\"price\":\"1\",\"sentiment\":0.2}],"
		    "\"sentiment_direction\":\"flat\",\"price_direction\":\"flat\","
		    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T14:00:00+00:00\"}",
		"{\"hourly_average_of_averages\":[{\"time\":\"2021-07-07T14:00:"
		    "00+00:00\",\"price\":01,\"sentiment\":0.2}],"
		    "\"sentiment_direction\":\"flat\",\"price_direction\":\"flat\","
		    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T14:00:00+00:00\"}",
		"{\"hourly_average_of_averages\":[{\"time\":\"2021-07-07T14:00:"
		    "00+00:00\",\"price\":1.,\"sentiment\":0.2}],"
		    "\"sentiment_direction\":\"flat\",\"price_direction\":\"flat\","
		    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T14:00:00+00:00\"}",
		"{\"hourly_average_of_averages\":[{\"time\":\"2021-07-07T14:00:"
		    "00+00:00\",\"price\":[1],\"sentiment\":0.2}],"
		    "\"sentiment_direction\":\"flat\",\"price_direction\":\"flat\","
		    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T14:00:00+00:00\"}",
	};
	struct summary s;
	struct store_bucket buf[STORE_NSERIES * 8];
	struct store_buckets h;
	char *json, *big;
	size_t len, i;
	int bad_ok = 0, prefix_ok = 0;

	for (size_t rows = 0; rows <= SUMMARY_WINDOW_DEFAULT; rows++) {
		store_buckets_init(&h, buf, 8);
		for (size_t r = 0; r < rows; r++) {
			add(&h, STORE_PRICE, H0 + (int64_t)r * HOUR, odd[r * 3]);
			add(&h, STORE_SENTIMENT, H0 + (int64_t)r * HOUR,
			    odd[r * 3 + 1]);
		}
		summary_build(H0 + 2 * HOUR + 5, &summary_hourly, &h, &s);
		json = summary_render(&s, 0, &len);
		CHECK(json != NULL && summary_valid(json, len, &summary_hourly),
		    "summary_valid: a rendered document of %zu rows", rows);
		/* every prefix of it is truncated, so refused */
		for (i = 0; json != NULL && i < len; i++)
			prefix_ok += summary_valid(json, i, &summary_hourly);
		free(json);
		json = summary_render(&s, 1, &len);
		CHECK(json != NULL && !summary_valid(json, len, &summary_hourly),
		    "summary_valid: the indented form is not the cached form");
		free(json);
	}
	CHECK_INT(prefix_ok, 0, "summary_valid: no truncated document");
	/* the odd numbers fmt_double writes */
	s.nrows = SUMMARY_WINDOW_DEFAULT;
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		s.rows[i % SUMMARY_WINDOW_DEFAULT].price = odd[i];
		s.rows[(i + 1) % SUMMARY_WINDOW_DEFAULT].sentiment = odd[i];
		json = summary_render(&s, 0, &len);
		CHECK(json != NULL && summary_valid(json, len, &summary_hourly),
		    "summary_valid: a document with %.17g", odd[i]);
		free(json);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad_ok += summary_valid(bad[i], strlen(bad[i]), &summary_hourly);
	CHECK_INT(bad_ok, 0, "summary_valid: garbage and other shapes refused");
	/* four rows, nesting, huge */
	s.nrows = SUMMARY_WINDOW_DEFAULT;
	json = summary_render(&s, 0, &len);
	big = malloc(2 * SUMMARY_DOC_MAX);
	{
		const char *row = strchr(json, '[') + 1;
		size_t head = (size_t)(row - json);
		size_t rowlen = (size_t)(strchr(row, '}') - row) + 1;

		memcpy(big, json, head);
		memcpy(big + head, row, rowlen);
		big[head + rowlen] = ',';
		memcpy(big + head + rowlen + 1, row, len - head);
		CHECK(!summary_valid(big, len + rowlen + 1, &summary_hourly),
		    "summary_valid: %d rows refused", SUMMARY_WINDOW_DEFAULT + 1);
	}
	memset(big, '[', 1000);
	CHECK(!summary_valid(big, 1000, &summary_hourly), "summary_valid: 1,000 [ refused");
	memcpy(big, "{\"hourly_average_of_averages\":[", 31);
	CHECK(!summary_valid(big, 1000, &summary_hourly), "summary_valid: nesting in the rows "
	    "refused");
	memcpy(big, json, len - 1);
	memset(big + len - 1, ' ', 2 * SUMMARY_DOC_MAX - len);
	big[2 * SUMMARY_DOC_MAX - 1] = '}';
	CHECK(!summary_valid(big, 2 * SUMMARY_DOC_MAX, &summary_hourly),
	    "summary_valid: %d bytes refused", 2 * SUMMARY_DOC_MAX);
	free(big);
	free(json);
}

#define DAY FMT_DAY_MS
#define D0 INT64_C(1625616000000)	/* 2021-07-07T00:00:00Z */

/* This test's own rule for a direction: last row against the first. */
static const char *
oracle_direction(const double *v, int n)
{
	if (n < 2 || v[n - 1] == v[0])
		return "flat";
	return v[n - 1] > v[0] ? "rising" : "falling";
}

/*
 * Day buckets and windows of 2 to 24: the window's days by date
 * literals, then random days present in one, both or neither series
 * against this test's own pairing, directions and verdict.
 */
static void
test_days(void)
{
	struct summary_mode day3 = { DAY, 3 }, day5 = { DAY, 5 }, day4 = { DAY, 4 };
	struct store_bucket buf[STORE_NSERIES * 32];
	struct store_buckets h;
	struct summary s;
	int64_t from, to;
	char *json;
	size_t len;
	int wrong = 0;
	unsigned seed = 7;

	/* 2021-07-07T17:30:18Z: the window is 07-05 00:00 to 07-07 23:59:59.999 */
	summary_window(INT64_C(1625679018000), 3, DAY, &from, &to);
	CHECK(from == INT64_C(1625443200000) && to == INT64_C(1625702399999),
	    "a window of 3 days: 2021-07-05T00:00Z to the last ms of 07-07");
	summary_window(D0, 1, DAY, &from, &to);
	CHECK(from == D0 && to == D0 + 86399999, "midnight opens its day");
	summary_window(-1, 2, DAY, &from, &to);
	CHECK(from == -2 * 86400000LL && to == -1,
	    "before the epoch: 1969-12-30 and 12-31");
	CHECK(fmt_bucket_floor(D0 + 86399999, DAY) == D0 &&
	    fmt_bucket_floor(D0 + 86400000, DAY) == D0 + 86400000 &&
	    fmt_bucket_floor(-86400001, DAY) == -172800000,
	    "fmt_bucket_floor of days");

	/* five days, one missing in the sentiment, one before the window */
	store_buckets_init(&h, buf, 32);
	add(&h, STORE_PRICE, D0 - 5 * DAY, 100);
	add(&h, STORE_SENTIMENT, D0 - 5 * DAY, 0.9);
	for (int d = 4; d >= 0; d--) {
		add(&h, STORE_PRICE, D0 - d * DAY, 200 - d);
		if (d != 2)
			add(&h, STORE_SENTIMENT, D0 - d * DAY, 0.1 * d);
	}
	summary_build(D0 + 3600000, &day5, &h, &s);
	json = render(&s);
	CHECK_STR(json, "{\"daily_average_of_averages\":["
	    "{\"time\":\"2021-07-03T00:00:00+00:00\",\"price\":196,\"sentiment\":0.4},"
	    "{\"time\":\"2021-07-04T00:00:00+00:00\",\"price\":197,\"sentiment\":0.30000000000000004},"
	    "{\"time\":\"2021-07-06T00:00:00+00:00\",\"price\":199,\"sentiment\":0.1},"
	    "{\"time\":\"2021-07-07T00:00:00+00:00\",\"price\":200,\"sentiment\":0}],"
	    "\"sentiment_direction\":\"falling\",\"price_direction\":\"rising\","
	    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T01:00:00+00:00\"}",
	    "day mode: the days of the window where both series have samples");
	len = json != NULL ? strlen(json) : 0;
	CHECK(json != NULL && summary_valid(json, len, &day5),
	    "summary_valid: the day document of its mode");
	CHECK(json != NULL && !summary_valid(json, len, &summary_hourly),
	    "summary_valid: a day document refused in hour mode");
	CHECK(json != NULL && !summary_valid(json, len, &day3),
	    "summary_valid: four rows refused for a window of 3");
	CHECK(json != NULL && !summary_valid(json, len, &day4),
	    "summary_valid: a row before a window of 4 days refused");
	free(json);
	summary_build(D0 + 3600000, &day3, &h, &s);
	json = render(&s);
	len = json != NULL ? strlen(json) : 0;
	CHECK(json != NULL && summary_valid(json, len, &day3) &&
	    !summary_valid(json, len, &summary_hourly) && s.nrows == 2,
	    "a window of 3 days: two rows, valid in its mode only");
	free(json);
	{
		struct summary_mode hour5 = { FMT_HOUR_MS, 5 };

		summary_build(D0, &summary_hourly, &h, &s);
		json = render(&s);
		len = json != NULL ? strlen(json) : 0;
		CHECK(json != NULL && summary_valid(json, len, &summary_hourly) &&
		    !summary_valid(json, len, &day3) &&
		    summary_valid(json, len, &hour5),
		    "an hour document: refused in day mode");
		free(json);
	}

	/* random days against the rule, windows 2 to 24 */
	for (int round = 0; round < 2000; round++) {
		struct summary_mode m = { DAY, 2 + (int)(round % 23) };
		double pv[24], sv[24];
		int64_t t = D0 + (int64_t)(round % 86400) * 1000;
		int n = 0;
		char want[256], got[256];

		store_buckets_init(&h, buf, 32);
		/* days from 26 before T's day to T's day */
		for (int d = 26; d >= 0; d--) {
			int r = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;
			double p = (double)((seed >> 8) % 50), q = (double)((seed >> 4) % 7) / 4;

			if (r & 1)
				add(&h, STORE_PRICE, D0 - d * DAY, p);
			if (r & 2)
				add(&h, STORE_SENTIMENT, D0 - d * DAY, q);
			if (r == 3 && d < m.window) {
				pv[n] = p;
				sv[n] = q;
				n++;
			}
		}
		summary_build(t, &m, &h, &s);
		snprintf(want, sizeof(want), "%d %s %s %s", n,
		    oracle_direction(pv, n), oracle_direction(sv, n),
		    strcmp(oracle_direction(pv, n), oracle_direction(sv, n)) == 0 &&
		    strcmp(oracle_direction(pv, n), "flat") != 0 ?
		    (strcmp(oracle_direction(pv, n), "rising") == 0 ? "lit" :
		    "not lit") : "mixed");
		snprintf(got, sizeof(got), "%zu %s %s %s", s.nrows,
		    summary_direction_name(s.price_direction),
		    summary_direction_name(s.sentiment_direction),
		    summary_verdict_name(s.verdict));
		for (size_t i = 0; i < s.nrows && (int)i < n; i++)
			if (s.rows[i].price != pv[i] || s.rows[i].sentiment != sv[i] ||
			    s.rows[i].start_ms % DAY != 0)
				wrong++;
		if (strcmp(want, got) != 0) {
			if (wrong++ == 0)
				tl_diag("round %d window %d: want %s, got %s", round,
				    m.window, want, got);
		}
		json = render(&s);
		if (json == NULL || !summary_valid(json, strlen(json), &m))
			wrong++;
		free(json);
	}
	CHECK_INT(wrong, 0, "2000 random day windows of 2 to 24 as the rule says");
}

int
main(void)
{
	struct store_bucket buf[STORE_NSERIES * 8];
	struct store_buckets h;
	struct summary s;
	int64_t from, to;
	char *json;

	summary_window(H0 + 2 * HOUR + 1800000, SUMMARY_WINDOW_DEFAULT, FMT_HOUR_MS, &from, &to);
	CHECK_INT(from, H0, "window starts two hours before T's hour");
	CHECK_INT(to, H0 + 3 * HOUR - 1, "window ends at the last ms of T's hour");
	summary_window(H0 + 2 * HOUR, SUMMARY_WINDOW_DEFAULT, FMT_HOUR_MS, &from, &to);
	CHECK_INT(from, H0, "T exactly at an hour start opens that hour");
	summary_window(H0 + 3 * HOUR - 1, SUMMARY_WINDOW_DEFAULT, FMT_HOUR_MS, &from, &to);
	CHECK_INT(from, H0, "T at h + 3599999 is still in hour h");
	summary_window(H0 + 23 * HOUR + 1800000, 24, FMT_HOUR_MS, &from, &to);
	CHECK_INT(from, H0, "a 24-hour window starts 23 hours before T's hour");
	CHECK_INT(to, H0 + 24 * HOUR - 1, "and ends at the last ms of T's hour");
	summary_window(H0 + 1800000, 1, FMT_HOUR_MS, &from, &to);
	CHECK(from == H0 && to == H0 + HOUR - 1, "a 1-hour window is T's hour");

	/* no data at all */
	store_buckets_init(&h, buf, 8);
	summary_build(H0, &summary_hourly, &h, &s);
	CHECK_INT(s.nrows, 0, "no buckets: no rows");
	json = render(&s);
	CHECK_STR(json, "{\"hourly_average_of_averages\":[],"
	    "\"sentiment_direction\":\"flat\",\"price_direction\":\"flat\","
	    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T14:00:00+00:00\"}", "empty summary JSON");
	free(json);

	/* one row: flat */
	store_buckets_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 100);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 0.5);
	summary_build(H0 + 2 * HOUR + 18345, &summary_hourly, &h, &s);
	CHECK_INT(s.nrows, 1, "one hour: one row");
	CHECK_INT(s.price_direction, SUMMARY_FLAT, "one row is flat (price)");
	CHECK_INT(s.sentiment_direction, SUMMARY_FLAT,
	    "one row is flat (sentiment)");

	/* three hours, falling price, rising sentiment */
	store_buckets_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0, 34599.076210526335);
	add(&h, STORE_PRICE, H0 + HOUR, 34500);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 34000.5);
	add(&h, STORE_SENTIMENT, H0, 0.2);
	add(&h, STORE_SENTIMENT, H0 + HOUR, 0.1);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 1e-7 + 0.3);
	summary_build(H0 + 2 * HOUR + 1818345, &summary_hourly, &h, &s);
	CHECK_INT(s.nrows, 3, "three hours: three rows");
	CHECK_INT(s.price_direction, SUMMARY_FALLING, "price falling");
	CHECK_INT(s.sentiment_direction, SUMMARY_RISING, "sentiment rising");
	json = render(&s);
	CHECK_STR(json, "{\"hourly_average_of_averages\":["
	    "{\"time\":\"2021-07-07T14:00:00+00:00\",\"price\":34599.076210526335,\"sentiment\":0.2},"
	    "{\"time\":\"2021-07-07T15:00:00+00:00\",\"price\":34500,\"sentiment\":0.1},"
	    "{\"time\":\"2021-07-07T16:00:00+00:00\",\"price\":34000.5,\"sentiment\":0.3000001}],"
	    "\"sentiment_direction\":\"rising\",\"price_direction\":\"falling\","
	    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T16:30:18+00:00\"}", "summary JSON, compact");
	free(json);
	{
		size_t len;

		char *compact, *indented;
		size_t clen, ilen;

		json = summary_render(&s, 1, &len);
		CHECK(json != NULL && strncmp(json, "{\n  \"hourly_average_of_"
		    "averages\": [\n    {\n      \"time\": \"2021-07-07T14:00:00"
		    "+00:00\",\n", 70) == 0 && json[len - 1] == '\n',
		    "summary JSON, pretty");
		compact = summary_render(&s, 0, &clen);
		indented = jw_indent(compact, clen, &ilen);
		CHECK_STR(indented, json, "indenting the compact form gives the "
		    "pretty form");
		CHECK_INT(ilen, len, "and its length");
		free(indented);
		free(compact);
		free(json);
		s.nrows = 0;
		compact = summary_render(&s, 0, &clen);
		json = summary_render(&s, 1, &len);
		indented = jw_indent(compact, clen, &ilen);
		CHECK_STR(indented, json, "also with no rows (an empty array)");
		free(indented);
		free(compact);
		free(json);
		indented = jw_indent("{\"a\":\"x,{}[]:\\\"\",\"b\":[]}", 24,
		    &ilen);
		CHECK_STR(indented, "{\n  \"a\": \"x,{}[]:\\\"\",\n  \"b\": []\n}\n",
		    "strings are copied as they are");
		free(indented);
	}

	/* an hour missing in one series: rows are paired by hour */
	store_buckets_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0, 10);
	add(&h, STORE_PRICE, H0 + HOUR, 20);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 30);
	add(&h, STORE_SENTIMENT, H0, 0.3);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 0.1);
	summary_build(H0 + 2 * HOUR, &summary_hourly, &h, &s);
	CHECK_INT(s.nrows, 2, "an hour missing in one series drops that row");
	CHECK_INT(s.rows[0].start_ms, H0, "first row is the oldest hour");
	CHECK_INT(s.rows[1].start_ms, H0 + 2 * HOUR, "second row is hour H");
	CHECK(s.rows[1].price == 30 && s.rows[1].sentiment == 0.1,
	    "values paired by hour, not by position");
	CHECK_INT(s.price_direction, SUMMARY_RISING, "price rising");
	CHECK_INT(s.sentiment_direction, SUMMARY_FALLING, "sentiment falling");

	/* equal first and last: flat */
	store_buckets_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0, 10);
	add(&h, STORE_PRICE, H0 + HOUR, 99);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 10);
	add(&h, STORE_SENTIMENT, H0, -0.5);
	add(&h, STORE_SENTIMENT, H0 + HOUR, 0.5);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, -0.5);
	summary_build(H0 + 2 * HOUR, &summary_hourly, &h, &s);
	CHECK_INT(s.price_direction, SUMMARY_FLAT, "equal first/last: flat");
	CHECK_INT(s.sentiment_direction, SUMMARY_FLAT,
	    "equal first/last negative: flat");

	/* buckets outside the window are ignored */
	store_buckets_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0 - HOUR, 1);
	add(&h, STORE_SENTIMENT, H0 - HOUR, 1);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 2);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 2);
	summary_build(H0 + 2 * HOUR, &summary_hourly, &h, &s);
	CHECK_INT(s.nrows, 1, "a bucket before the window is not a row");
	CHECK_STR(summary_direction_name(SUMMARY_RISING), "rising", "names");
	test_verdict();
	test_valid();
	test_days();
	return tl_done();
}
