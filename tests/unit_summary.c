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
add(struct store_hourly *h, int series, int64_t start, double avg)
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
	struct store_hourly h;
	struct summary s;
	int wrong = 0, lit = 0, notlit = 0;

	for (int p = 0; p < 3; p++)
		for (int q = 0; q < 3; q++) {
			const char *want, *got;
			char needle[64];
			char *json;
			size_t len;

			store_hourly_init(&h, buf, 8);
			add(&h, STORE_PRICE, H0, first[p]);
			add(&h, STORE_PRICE, H0 + HOUR, 7);
			add(&h, STORE_PRICE, H0 + 2 * HOUR, 2);
			add(&h, STORE_SENTIMENT, H0, first[q] / 10);
			add(&h, STORE_SENTIMENT, H0 + HOUR, -7);
			add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 0.2);
			summary_build(H0 + 2 * HOUR, &h, &s);
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
			    !summary_valid(json, len))
				wrong++;
			free(json);
		}
	CHECK_INT(wrong, 0, "verdicts of 9 direction pairs as the rule says");
	CHECK(lit == 1 && notlit == 1, "one lit, one not lit, seven mixed");
	/* fewer than two rows: both flat, mixed */
	store_hourly_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0, 1);
	add(&h, STORE_SENTIMENT, H0, 1);
	summary_build(H0, &h, &s);
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

		CHECK(!summary_valid(before, strlen(before)),
		    "summary_valid: a document of before the verdict is refused");
		CHECK(!summary_valid(other, strlen(other)),
		    "summary_valid: an unknown verdict is refused");
	}
}

/* summary_valid(): what this product writes, and nothing else. */
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
	struct store_hourly h;
	char *json, *big;
	size_t len, i;
	int bad_ok = 0, prefix_ok = 0;

	for (size_t rows = 0; rows <= SUMMARY_HOURS; rows++) {
		store_hourly_init(&h, buf, 8);
		for (size_t r = 0; r < rows; r++) {
			add(&h, STORE_PRICE, H0 + (int64_t)r * HOUR, odd[r * 3]);
			add(&h, STORE_SENTIMENT, H0 + (int64_t)r * HOUR,
			    odd[r * 3 + 1]);
		}
		summary_build(H0 + 2 * HOUR + 5, &h, &s);
		json = summary_render(&s, 0, &len);
		CHECK(json != NULL && summary_valid(json, len),
		    "summary_valid: a rendered document of %zu rows", rows);
		/* every prefix of it is truncated, so refused */
		for (i = 0; json != NULL && i < len; i++)
			prefix_ok += summary_valid(json, i);
		free(json);
		json = summary_render(&s, 1, &len);
		CHECK(json != NULL && !summary_valid(json, len),
		    "summary_valid: the indented form is not the cached form");
		free(json);
	}
	CHECK_INT(prefix_ok, 0, "summary_valid: no truncated document");
	/* the odd numbers fmt_double writes */
	s.nrows = SUMMARY_HOURS;
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		s.rows[i % SUMMARY_HOURS].price = odd[i];
		s.rows[(i + 1) % SUMMARY_HOURS].sentiment = odd[i];
		json = summary_render(&s, 0, &len);
		CHECK(json != NULL && summary_valid(json, len),
		    "summary_valid: a document with %.17g", odd[i]);
		free(json);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad_ok += summary_valid(bad[i], strlen(bad[i]));
	CHECK_INT(bad_ok, 0, "summary_valid: garbage and other shapes refused");
	/* four rows, nesting, huge */
	s.nrows = SUMMARY_HOURS;
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
		CHECK(!summary_valid(big, len + rowlen + 1),
		    "summary_valid: %d rows refused", SUMMARY_HOURS + 1);
	}
	memset(big, '[', 1000);
	CHECK(!summary_valid(big, 1000), "summary_valid: 1,000 [ refused");
	memcpy(big, "{\"hourly_average_of_averages\":[", 31);
	CHECK(!summary_valid(big, 1000), "summary_valid: nesting in the rows "
	    "refused");
	memcpy(big, json, len - 1);
	memset(big + len - 1, ' ', 2 * SUMMARY_DOC_MAX - len);
	big[2 * SUMMARY_DOC_MAX - 1] = '}';
	CHECK(!summary_valid(big, 2 * SUMMARY_DOC_MAX),
	    "summary_valid: %d bytes refused", 2 * SUMMARY_DOC_MAX);
	free(big);
	free(json);
}

int
main(void)
{
	struct store_bucket buf[STORE_NSERIES * 8];
	struct store_hourly h;
	struct summary s;
	int64_t from, to;
	char *json;

	summary_window(H0 + 2 * HOUR + 1800000, SUMMARY_HOURS, &from, &to);
	CHECK_INT(from, H0, "window starts two hours before T's hour");
	CHECK_INT(to, H0 + 3 * HOUR - 1, "window ends at the last ms of T's hour");
	summary_window(H0 + 2 * HOUR, SUMMARY_HOURS, &from, &to);
	CHECK_INT(from, H0, "T exactly at an hour start opens that hour");
	summary_window(H0 + 3 * HOUR - 1, SUMMARY_HOURS, &from, &to);
	CHECK_INT(from, H0, "T at h + 3599999 is still in hour h");
	summary_window(H0 + 23 * HOUR + 1800000, 24, &from, &to);
	CHECK_INT(from, H0, "a 24-hour window starts 23 hours before T's hour");
	CHECK_INT(to, H0 + 24 * HOUR - 1, "and ends at the last ms of T's hour");
	summary_window(H0 + 1800000, 1, &from, &to);
	CHECK(from == H0 && to == H0 + HOUR - 1, "a 1-hour window is T's hour");

	/* no data at all */
	store_hourly_init(&h, buf, 8);
	summary_build(H0, &h, &s);
	CHECK_INT(s.nrows, 0, "no buckets: no rows");
	json = render(&s);
	CHECK_STR(json, "{\"hourly_average_of_averages\":[],"
	    "\"sentiment_direction\":\"flat\",\"price_direction\":\"flat\","
	    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T14:00:00+00:00\"}", "empty summary JSON");
	free(json);

	/* one row: flat */
	store_hourly_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 100);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 0.5);
	summary_build(H0 + 2 * HOUR + 18345, &h, &s);
	CHECK_INT(s.nrows, 1, "one hour: one row");
	CHECK_INT(s.price_direction, SUMMARY_FLAT, "one row is flat (price)");
	CHECK_INT(s.sentiment_direction, SUMMARY_FLAT,
	    "one row is flat (sentiment)");

	/* three hours, falling price, rising sentiment */
	store_hourly_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0, 34599.076210526335);
	add(&h, STORE_PRICE, H0 + HOUR, 34500);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 34000.5);
	add(&h, STORE_SENTIMENT, H0, 0.2);
	add(&h, STORE_SENTIMENT, H0 + HOUR, 0.1);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 1e-7 + 0.3);
	summary_build(H0 + 2 * HOUR + 1818345, &h, &s);
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
	store_hourly_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0, 10);
	add(&h, STORE_PRICE, H0 + HOUR, 20);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 30);
	add(&h, STORE_SENTIMENT, H0, 0.3);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 0.1);
	summary_build(H0 + 2 * HOUR, &h, &s);
	CHECK_INT(s.nrows, 2, "an hour missing in one series drops that row");
	CHECK_INT(s.rows[0].hour_ms, H0, "first row is the oldest hour");
	CHECK_INT(s.rows[1].hour_ms, H0 + 2 * HOUR, "second row is hour H");
	CHECK(s.rows[1].price == 30 && s.rows[1].sentiment == 0.1,
	    "values paired by hour, not by position");
	CHECK_INT(s.price_direction, SUMMARY_RISING, "price rising");
	CHECK_INT(s.sentiment_direction, SUMMARY_FALLING, "sentiment falling");

	/* equal first and last: flat */
	store_hourly_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0, 10);
	add(&h, STORE_PRICE, H0 + HOUR, 99);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 10);
	add(&h, STORE_SENTIMENT, H0, -0.5);
	add(&h, STORE_SENTIMENT, H0 + HOUR, 0.5);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, -0.5);
	summary_build(H0 + 2 * HOUR, &h, &s);
	CHECK_INT(s.price_direction, SUMMARY_FLAT, "equal first/last: flat");
	CHECK_INT(s.sentiment_direction, SUMMARY_FLAT,
	    "equal first/last negative: flat");

	/* buckets outside the window are ignored */
	store_hourly_init(&h, buf, 8);
	add(&h, STORE_PRICE, H0 - HOUR, 1);
	add(&h, STORE_SENTIMENT, H0 - HOUR, 1);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 2);
	add(&h, STORE_SENTIMENT, H0 + 2 * HOUR, 2);
	summary_build(H0 + 2 * HOUR, &h, &s);
	CHECK_INT(s.nrows, 1, "a bucket before the window is not a row");
	CHECK_STR(summary_direction_name(SUMMARY_RISING), "rising", "names");
	test_verdict();
	test_valid();
	return tl_done();
}
