/*
 * Unit tests of the history document: the hours asked for, the rows
 * (every hour, nulls, counts), rendering, and the check of a cached one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "history.h"
#include "jsonw.h"
#include "testlib.h"

#define H0 INT64_C(1625666400000)	/* 2021-07-07T14:00:00Z */
#define HOUR FMT_HOUR_MS

static void
add(struct store_buckets *h, int series, int64_t start, double avg,
    size_t count)
{
	struct store_bucket *b = &h->b[series][h->n[series]++];

	b->start_ms = start;
	b->avg = avg;
	b->count = count;
}

static void
test_hours(void)
{
	static const char *const bad[] = { "0", "25", "abc", "1.5", "-1",
	    "+3", "024", "3 ", " 3", "99", "1e1" };
	int h = -1;

	CHECK(history_hours(NULL, 0, &h) == 0 && h == 24,
	    "hours: not asked for: 24");
	CHECK(history_hours("", 0, &h) == 0 && h == 24,
	    "hours= (empty): the default, as not asked");
	CHECK(history_hours("1", 1, &h) == 0 && h == 1, "hours=1");
	CHECK(history_hours("24", 2, &h) == 0 && h == 24, "hours=24");
	CHECK(history_hours("3&x", 1, &h) == 0 && h == 3,
	    "hours: only the value's length is read");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(history_hours(bad[i], strlen(bad[i]), &h) == -1,
		    "hours=%s refused", bad[i]);
}

static void
test_build_render(void)
{
	struct store_bucket buf[STORE_NSERIES * 24];
	struct store_buckets h;
	struct history hs;
	char *doc, *pretty, *indented;
	size_t len, plen, ilen;

	store_buckets_init(&h, buf, 24);
	/* T in hour H0 + 2h; price has H0 and H0 + 2h, sentiment H0 + 1h */
	add(&h, STORE_PRICE, H0 - 5 * HOUR, 1, 1);	/* before the window */
	add(&h, STORE_PRICE, H0, 33995.4955, 120);
	add(&h, STORE_PRICE, H0 + 2 * HOUR, 0.1 + 0.2, 7);
	add(&h, STORE_SENTIMENT, H0 + HOUR, -0.25, 119);

	history_build(H0 + 2 * HOUR + 1234567, 3, FMT_HOUR_MS, &h, &hs);
	CHECK_INT(hs.n, 3, "three rows");
	CHECK_INT(hs.rows[0].start_ms, H0, "oldest first");
	CHECK_INT(hs.rows[2].start_ms, H0 + 2 * HOUR, "the last row is H");
	doc = history_render(&hs, 0, &len);
	CHECK_STR(doc, "{\"hours\":3,\"hourly\":["
	    "{\"time\":\"2021-07-07T14:00:00+00:00\",\"price\":33995.4955,"
	    "\"sentiment\":null,\"price_samples\":120,\"sentiment_samples\":0},"
	    "{\"time\":\"2021-07-07T15:00:00+00:00\",\"price\":null,"
	    "\"sentiment\":-0.25,\"price_samples\":0,\"sentiment_samples\":119},"
	    "{\"time\":\"2021-07-07T16:00:00+00:00\",\"price\":"
	    "0.30000000000000004,\"sentiment\":null,\"price_samples\":7,"
	    "\"sentiment_samples\":0}],"
	    "\"as_of\":\"2021-07-07T16:20:34+00:00\"}",
	    "rows with nulls and counts, compact");
	CHECK(doc != NULL && strlen(doc) == len, "and its length");
	CHECK(doc != NULL && history_valid(doc, len, 3, FMT_HOUR_MS),
	    "history_valid: the rendered document");
	CHECK(doc != NULL && !history_valid(doc, len, 2, FMT_HOUR_MS) &&
	    !history_valid(doc, len, 4, FMT_HOUR_MS), "history_valid: another N refused");
	pretty = history_render(&hs, 1, &plen);
	indented = doc ? jw_indent(doc, len, &ilen) : NULL;
	CHECK(pretty != NULL && indented != NULL &&
	    strcmp(pretty, indented) == 0,
	    "indenting the compact form gives the pretty form");
	CHECK(pretty != NULL && !history_valid(pretty, plen, 3, FMT_HOUR_MS),
	    "history_valid: the indented form is not the cached form");
	for (size_t i = 0; doc != NULL && i < len; i++)
		if (history_valid(doc, i, 3, FMT_HOUR_MS)) {
			CHECK(0, "history_valid: truncated at %zu", i);
			break;
		}
	free(doc);
	free(pretty);
	free(indented);

	/* no bucket at all: every row null, 0 samples */
	h.n[0] = h.n[1] = 0;
	history_build(H0, 24, FMT_HOUR_MS, &h, &hs);
	doc = history_render(&hs, 0, &len);
	CHECK(doc != NULL && strstr(doc, "{\"hours\":24,\"hourly\":[{\"time\":"
	    "\"2021-07-06T15:00:00+00:00\",\"price\":null,\"sentiment\":null,"
	    "\"price_samples\":0,\"sentiment_samples\":0},") == doc,
	    "24 empty hours: from H - 23h, nulls and zeros");
	CHECK(doc != NULL && history_valid(doc, len, 24, FMT_HOUR_MS),
	    "history_valid: 24 empty rows");
	free(doc);

	/* 24 full rows of the longest numbers: within the size limits */
	for (int i = 0; i < 24; i++) {
		add(&h, STORE_PRICE, H0 - (23 - i) * HOUR,
		    -1.7976931348623157e308, 9007199254740992u);
		add(&h, STORE_SENTIMENT, H0 - (23 - i) * HOUR,
		    -2.2250738585072014e-308, 9007199254740992u);
	}
	history_build(H0, 24, FMT_HOUR_MS, &h, &hs);
	doc = history_render(&hs, 0, &len);
	CHECK(doc != NULL && history_valid(doc, len, 24, FMT_HOUR_MS) &&
	    len <= HISTORY_DOC_MAX, "history_valid: 24 rows of the longest "
	    "numbers (%zu bytes)", len);
	indented = doc ? jw_indent(doc, len, &ilen) : NULL;
	CHECK(indented != NULL, "and they indent within the limit");
	free(doc);
	free(indented);
}

static void
test_valid(void)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"{}",
		"[]",
		"{\"hours\":1,\"hourly\":[],\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
		/* a null with samples, a number without */
		"{\"hours\":1,\"hourly\":[{\"time\":\"2021-07-07T14:00:00+00:00\","
		    "\"price\":null,\"sentiment\":1,\"price_samples\":3,"
		    "\"sentiment_samples\":3}],\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
		"{\"hours\":1,\"hourly\":[{\"time\":\"2021-07-07T14:00:00+00:00\","
		    "\"price\":1,\"sentiment\":1,\"price_samples\":3,"
		    "\"sentiment_samples\":0}],\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
		/* keys out of order, an extra key, a string price */
		"{\"hours\":1,\"hourly\":[{\"time\":\"2021-07-07T14:00:00+00:00\","
		    "\"sentiment\":1,\"price\":1,\"price_samples\":3,"
		    "\"sentiment_samples\":3}],\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
		"{\"hours\":1,\"hourly\":[{\"time\":\"2021-07-07T14:00:00+00:00\","
		    "\"price\":1,\"sentiment\":1,\"price_samples\":3,"
		    "\"sentiment_samples\":3}],\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\",\"x\":1}",
		"{\"hours\":1,\"hourly\":[{\"time\":\"2021-07-07T14:00:00+00:00\","
		    "\"price\":\"1\",\"sentiment\":1,\"price_samples\":3,"
		    "\"sentiment_samples\":3}],\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
		/* a count of 17 digits, a negative count */
		"{\"hours\":1,\"hourly\":[{\"time\":\"2021-07-07T14:00:00+00:00\","
		    "\"price\":1,\"sentiment\":1,\"price_samples\":"
		    "12345678901234567,\"sentiment_samples\":3}],\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
		"{\"hours\":1,\"hourly\":[{\"time\":\"2021-07-07T14:00:00+00:00\","
		    "\"price\":1,\"sentiment\":1,\"price_samples\":-3,"
		    "\"sentiment_samples\":3}],\"as_of\":"
		    "\"2021-07-07T14:00:00+00:00\"}",
	};
	const char *good = "{\"hours\":1,\"hourly\":[{\"time\":"
	    "\"2021-07-07T14:00:00+00:00\",\"price\":1,\"sentiment\":1,"
	    "\"price_samples\":3,\"sentiment_samples\":3}],\"as_of\":"
	    "\"2021-07-07T14:00:00+00:00\"}";
	char *big;
	size_t n = HISTORY_DOC_MAX + 1;

	CHECK(history_valid(good, strlen(good), 1, FMT_HOUR_MS), "history_valid: one row");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!history_valid(bad[i], strlen(bad[i]), 1, FMT_HOUR_MS),
		    "history_valid: refused: %.60s", bad[i]);
	CHECK(!history_valid(good, strlen(good), 0, FMT_HOUR_MS) &&
	    !history_valid(good, strlen(good), 25, FMT_HOUR_MS),
	    "history_valid: N out of range refused");
	if ((big = malloc(n)) == NULL)
		return;
	memset(big, '[', n);
	CHECK(!history_valid(big, 1000, 1, FMT_HOUR_MS), "history_valid: 1,000 [ refused");
	memcpy(big, "{\"hours\":1,\"hourly\":[{\"time\":", 29);
	CHECK(!history_valid(big, 1000, 1, FMT_HOUR_MS), "history_valid: nesting in a row "
	    "refused");
	/* a valid document padded past the limit with a long fraction */
	memset(big, '0', n);
	memcpy(big, good, strlen(good));
	CHECK(!history_valid(big, n, 1, FMT_HOUR_MS), "history_valid: %zu bytes refused",
	    n);
	free(big);
}

/* ?days= and the day-mode document: 1 to 31 rows of UTC days. */
static void
test_days(void)
{
	static const char *const bad[] = { "0", "32", "99", "024", "1.5", "-1",
	    "+3", "abc" };
	struct store_bucket buf[STORE_NSERIES * 31];
	struct store_buckets h;
	struct history hs;
	char *json;
	size_t len;
	int d;
	const int64_t day = FMT_DAY_MS;
	const int64_t d0 = INT64_C(1625616000000);	/* 2021-07-07 */

	CHECK(history_days(NULL, 0, &d) == 0 && d == 31, "days: not asked: 31");
	CHECK(history_days("", 0, &d) == 0 && d == 31, "days=: 31");
	CHECK(history_days("1", 1, &d) == 0 && d == 1, "days=1");
	CHECK(history_days("31", 2, &d) == 0 && d == 31, "days=31");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(history_days(bad[i], strlen(bad[i]), &d) == -1,
		    "days=%s refused", bad[i]);
	CHECK(history_hours("31", 2, &d) == -1, "hours=31 still refused");

	store_buckets_init(&h, buf, 31);
	add(&h, STORE_PRICE, d0 - 2 * day, 10, 24);
	add(&h, STORE_PRICE, d0, 12.5, 3);
	add(&h, STORE_SENTIMENT, d0 - day, -0.25, 5);
	history_build(d0 + 1000, 3, day, &h, &hs);
	json = history_render(&hs, 0, &len);
	CHECK_STR(json, "{\"days\":3,\"daily\":["
	    "{\"time\":\"2021-07-05T00:00:00+00:00\",\"price\":10,\"sentiment\":null,\"price_samples\":24,\"sentiment_samples\":0},"
	    "{\"time\":\"2021-07-06T00:00:00+00:00\",\"price\":null,\"sentiment\":-0.25,\"price_samples\":0,\"sentiment_samples\":5},"
	    "{\"time\":\"2021-07-07T00:00:00+00:00\",\"price\":12.5,\"sentiment\":null,\"price_samples\":3,\"sentiment_samples\":0}],"
	    "\"as_of\":\"2021-07-07T00:00:01+00:00\"}",
	    "a history of 3 days: the days ending with T's, nulls and counts");
	CHECK(json != NULL && history_valid(json, len, 3, day) &&
	    !history_valid(json, len, 3, FMT_HOUR_MS) &&
	    !history_valid(json, len, 4, day),
	    "history_valid: a day document, of its N, in day mode only");
	free(json);
	history_build(d0, 31, day, &h, &hs);
	json = history_render(&hs, 0, &len);
	CHECK(json != NULL && hs.n == 31 && hs.rows[0].start_ms == d0 - 30 * day &&
	    history_valid(json, len, 31, day) && len <= HISTORY_DOC_MAX,
	    "31 days: from T's day - 30");
	free(json);
	history_build(d0, 24, FMT_HOUR_MS, &h, &hs);
	json = history_render(&hs, 0, &len);
	CHECK(json != NULL && !history_valid(json, len, 24, day) &&
	    history_valid(json, len, 24, FMT_HOUR_MS),
	    "history_valid: an hour document refused in day mode");
	free(json);
	history_build(d0, 25, FMT_HOUR_MS, &h, &hs);
	CHECK(hs.n == 0, "25 hours is no history");
}

int
main(void)
{
	test_hours();
	test_build_render();
	test_valid();
	test_days();
	return tl_done();
}
