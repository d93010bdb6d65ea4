/*
 * Kraken OHLC (/0/public/OHLC?pair=XBTUSD&interval=60):
 * {"error":[],"result":{"XXBTZUSD":[[time s, "open", "high", "low",
 * "close", "vwap", "volume", count],...],"last":1688672160}}.  The pair's
 * key is its canonical name: the one member of "result" other than "last"
 * that holds an array.  The last row is the open interval, kept (its
 * series keeps the last value).  A failure is HTTP 200 with a non-empty
 * "error" array: the whole body is refused with its text.  Price only:
 * one sample per candle at its open time, the VWAP.  Pure; walked row by
 * row.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "feed_impl.h"

#define WHAT "a Kraken OHLC answer"
#define ROW_LEN 8		/* time, open, high, low, close, vwap, volume, count */
#define SHOWN_MAX 120		/* of an error or a pair name from the body */

/* The decimal string v (a price when positive), or -1 with why. */
static int
decimal_field(const json_t *v, const char *name, int positive, double *out,
    char *why, size_t whylen)
{
	if (!json_is_string(v) ||
	    feed_parse_decimal(json_string_value(v), out) < 0) {
		snprintf(why, whylen, "%s is not a decimal string", name);
		return -1;
	}
	if (positive)
		return feed_check_price(*out, name, why, whylen);
	if (*out < 0 || *out > FEED_MAX_VALUE) {
		snprintf(why, whylen, "%s is negative or above 1e15", name);
		return -1;
	}
	return 0;
}

/* Validate one row's values (NULL: a container).  0, or -1 with why. */
static int
check_row(json_t *const *v, size_t n, const struct feed_args *a,
    int64_t *ts_ms, double *vwap, char *why, size_t whylen)
{
	static const char *const names[ROW_LEN] = { "time", "open", "high",
	    "low", "close", "vwap", "volume", "count" };
	double t, x;

	if (n < ROW_LEN) {
		snprintf(why, whylen, "a row of %zu values, not %d", n, ROW_LEN);
		return -1;
	}
	if (!json_is_integer(v[0])) {
		snprintf(why, whylen, "time is not an integer");
		return -1;
	}
	t = (double)json_integer_value(v[0]);
	if (feed_check_seconds(t, a, ts_ms, why, whylen) < 0)
		return -1;
	for (int i = 1; i <= 5; i++)
		if (decimal_field(v[i], names[i], 1, i == 5 ? vwap : &x, why,
		    whylen) < 0)
			return -1;
	if (decimal_field(v[6], names[6], 0, &x, why, whylen) < 0)
		return -1;
	if (!json_is_integer(v[7]) || json_integer_value(v[7]) < 0) {
		snprintf(why, whylen, "count is not a non-negative integer");
		return -1;
	}
	return 0;
}

/* What was read of the body beside the rows. */
struct answer {
	size_t nerrors;
	char error[SHOWN_MAX + 1];	/* the first, printable */
	int has_result;
	int result_object;
	size_t npairs;
	char pairs[2][SHOWN_MAX / 2 + 1];	/* the first two names */
};

/* The "error" member at the cursor (depth 2).  0, or -1: not JSON. */
static int
read_errors(struct jscan *s, struct answer *ans, json_error_t *jerr)
{
	struct jscan_iter it;
	int more;

	if (jscan_peek(s) != '[') {
		if (jscan_skip(s, 2, jerr) < 0)
			return -1;
		ans->nerrors++;
		snprintf(ans->error, sizeof(ans->error), "(an \"error\" that "
		    "is not an array)");
		return 0;
	}
	if (jscan_open(s, 2, &it, jerr) < 0)
		return -1;
	while ((more = jscan_next(&it, NULL, jerr)) == 1) {
		json_t *v;

		if (feed_load_value(s, 3, &v, jerr) < 0) {
			jscan_close(&it);
			return -1;
		}
		if (ans->nerrors++ == 0)
			feed_printable(ans->error, json_is_string(v) ?
			    json_string_value(v) : "(not a string)", SHOWN_MAX);
		json_decref(v);
	}
	jscan_close(&it);
	return more < 0 ? -1 : 0;
}

/*
 * The "result" member at the cursor (depth 2): its pair's rows into acc.
 * Returns 0, or -1: not JSON (jerr) or out of memory (*nomem).
 */
static int
read_result(struct jscan *s, const struct feed_args *a, struct answer *ans,
    struct feed_acc *acc, json_error_t *jerr, int *nomem, struct error *err)
{
	struct jscan_iter it, rows;
	const char *key;
	int more, rmore;

	ans->has_result = 1;
	if (jscan_peek(s) != '{')
		return jscan_skip(s, 2, jerr);
	ans->result_object = 1;
	if (jscan_open(s, 2, &it, jerr) < 0)
		return -1;
	while ((more = jscan_next(&it, &key, jerr)) == 1) {
		if (strcmp(key, "last") == 0 || jscan_peek(s) != '[')
			continue;
		if (ans->npairs < 2)
			feed_printable(ans->pairs[ans->npairs], key,
			    SHOWN_MAX / 2);
		/* a second pair's rows are not read: the body is refused */
		if (ans->npairs++ > 0)
			continue;
		if (jscan_open(s, 3, &rows, jerr) < 0)
			goto fail;
		while ((rmore = jscan_next(&rows, NULL, jerr)) == 1)
			if (feed_read_price_row(s, 4, ROW_LEN, check_row,
			    acc->received++, a, acc, jerr, nomem,
			    err) < 0) {
				jscan_close(&rows);
				goto fail;
			}
		jscan_close(&rows);
		if (rmore < 0)
			goto fail;
	}
	jscan_close(&it);
	return more < 0 ? -1 : 0;
fail:
	jscan_close(&it);
	return -1;
}

int
feed_kraken_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err)
{
	struct feed_acc acc;
	struct answer ans;
	struct jscan s;
	struct jscan_iter it;
	json_error_t jerr;
	const char *key;
	int rc = -1, more, nomem = 0;

	memset(out, 0, sizeof(*out));
	memset(&it, 0, sizeof(it));
	memset(&ans, 0, sizeof(ans));
	jscan_init(&s, buf, len);
	if (jscan_peek(&s) != '{')
		return feed_wrong_shape(buf, len, WHAT, err);
	feed_acc_init(&acc, FEED_PRICE, "row");
	if (jscan_open(&s, 1, &it, &jerr) < 0)
		goto not_json;
	while ((more = jscan_next(&it, &key, &jerr)) == 1) {
		int r = 0;

		if (strcmp(key, "error") == 0)
			r = read_errors(&s, &ans, &jerr);
		else if (strcmp(key, "result") == 0)
			r = read_result(&s, a, &ans, &acc, &jerr, &nomem, err);
		if (r < 0) {
			if (nomem)
				goto out;
			goto not_json;
		}
	}
	if (more < 0 || jscan_end(&s, &jerr) < 0)
		goto not_json;
	if (ans.nerrors > 0)
		error_set(err, FEED_EREFUSED, "Kraken answered with %zu "
		    "error%s: %s", ans.nerrors, ans.nerrors > 1 ? "s" : "",
		    ans.error);
	else if (!ans.has_result)
		error_set(err, FEED_ESHAPE, "not " WHAT ": no \"result\"");
	else if (!ans.result_object)
		error_set(err, FEED_ESHAPE, "not " WHAT ": its \"result\" is "
		    "not an object");
	else if (ans.npairs == 0)
		error_set(err, FEED_ESHAPE, "not " WHAT ": no pair's rows in "
		    "\"result\"");
	else if (ans.npairs > 1)
		error_set(err, FEED_ESHAPE, "not " WHAT ": %zu pairs in "
		    "\"result\" (\"%s\", \"%s\"), one expected", ans.npairs,
		    ans.pairs[0], ans.pairs[1]);
	else
		rc = feed_acc_finish(&acc, out, err);
	goto out;
not_json:
	feed_not_json(err, &jerr);
out:
	jscan_close(&it);
	feed_acc_free(&acc);
	return rc;
}
