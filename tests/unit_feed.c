/* Unit tests: feed parsing and validation. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed.h"
#include "jscan.h"
#include "testlib.h"

#define NOW INT64_C(1625700000000)	/* 2021-07-07T23:20:00Z */

static const struct feed_fields v1 = { "timestamp", "btc_price", "mean" };

static void
decimal(const char *s, int ok, double want)
{
	double v = 0;
	int rc = feed_parse_decimal(s, &v);

	if (ok)
		CHECK(rc == 0 && v == want, "decimal \"%s\" = %.17g", s, want);
	else
		CHECK(rc == -1, "decimal \"%s\" refused", s);
}

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

int
main(void)
{
	struct feed_result r;
	struct error err;

	decimal("33885.23", 1, 33885.23);
	decimal("-0.5", 1, -0.5);
	decimal("+2", 1, 2);
	decimal("1e-7", 1, 1e-7);
	decimal("1E+3", 1, 1000);
	decimal(".5", 1, 0.5);
	decimal("5.", 1, 5);
	decimal("007", 1, 7);
	decimal("", 0, 0);
	decimal(" 1", 0, 0);
	decimal("1 ", 0, 0);
	decimal("1,5", 0, 0);
	decimal("0x10", 0, 0);
	decimal("inf", 0, 0);
	decimal("NaN", 0, 0);
	decimal("1e999", 0, 0);
	decimal("1e", 0, 0);
	decimal("-", 0, 0);
	decimal(".", 0, 0);

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
	return tl_done();
}
