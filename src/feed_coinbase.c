/*
 * Coinbase Exchange candles (/products/BTC-USD/candles?granularity=3600):
 * [[time s, low, high, open, close, volume],...] as JSON numbers, newest
 * first; an hour without trades has no row.  An error is an object
 * {"message":"..."} (with a 4xx, which the download refuses; with a 200
 * it is refused here with its message).  Price only: one sample per candle
 * at its open time, the mean of open, high, low and close.  Pure; walked
 * row by row.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "feed_impl.h"

#define WHAT "Coinbase candles"
#define ROW_LEN 6		/* time, low, high, open, close, volume */
#define SHOWN_MAX 200		/* of the message */

/* Validate one row's values (NULL: a container).  0, or -1 with why. */
static int
check_row(json_t *const *v, size_t n, const struct feed_args *a,
    int64_t *ts_ms, double *mean, char *why, size_t whylen)
{
	static const char *const names[ROW_LEN] = { "time", "low", "high",
	    "open", "close", "volume" };
	double x[ROW_LEN];

	if (n < ROW_LEN) {
		snprintf(why, whylen, "a row of %zu values, not %d", n, ROW_LEN);
		return -1;
	}
	for (int i = 0; i < ROW_LEN; i++)
		if (feed_json_number(v[i], &x[i]) < 0) {
			snprintf(why, whylen, "%s is not a finite JSON number",
			    names[i]);
			return -1;
		}
	if (feed_check_seconds(x[0], a, ts_ms, why, whylen) < 0)
		return -1;
	for (int i = 1; i <= 4; i++)
		if (feed_check_price(x[i], names[i], why, whylen) < 0)
			return -1;
	if (x[1] > x[2]) {
		snprintf(why, whylen, "low above high");
		return -1;
	}
	if (x[5] < 0 || x[5] > FEED_MAX_VALUE) {
		snprintf(why, whylen, "volume is negative or above 1e15");
		return -1;
	}
	*mean = (x[1] + x[2] + x[3] + x[4]) / 4;
	return 0;
}

/*
 * A top-level object: Coinbase's error, refused with its message; any
 * other object is not this format.  Returns -1 with err.
 */
static int
refuse_object(const char *buf, size_t len, struct error *err)
{
	struct jscan s;
	struct jscan_iter it;
	json_error_t jerr;
	const char *key;
	char shown[SHOWN_MAX + 1] = "";
	int more, found = 0;

	jscan_init(&s, buf, len);
	if (jscan_open(&s, 1, &it, &jerr) < 0)
		return feed_not_json(err, &jerr);
	while ((more = jscan_next(&it, &key, &jerr)) == 1) {
		json_t *v;

		if (strcmp(key, "message") != 0)
			continue;
		if (feed_load_value(&s, 2, &v, &jerr) < 0) {
			more = -1;
			break;
		}
		found = 1;
		feed_printable(shown, json_is_string(v) ? json_string_value(v) :
		    "(not a string)", SHOWN_MAX);
		json_decref(v);
	}
	jscan_close(&it);
	if (more < 0 || jscan_end(&s, &jerr) < 0)
		return feed_not_json(err, &jerr);
	if (!found)
		return error_set(err, FEED_ESHAPE, "not " WHAT ": a JSON object");
	return error_set(err, FEED_EREFUSED, "Coinbase answered with an "
	    "error: %s", shown);
}

/* One row: [time, low, high, open, close, volume], at depth 2. */
static int
read_row(struct jscan *s, size_t idx, const struct feed_args *a,
    struct feed_acc *acc, json_error_t *jerr, int *nomem, struct error *err)
{
	return feed_read_price_row(s, 2, ROW_LEN, check_row, idx, a, acc, jerr,
	    nomem, err);
}

int
feed_coinbase_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err)
{
	struct feed_acc acc;
	struct jscan s;
	int c;

	memset(out, 0, sizeof(*out));
	jscan_init(&s, buf, len);
	if ((c = jscan_peek(&s)) == '{')
		return refuse_object(buf, len, err);
	if (c != '[')
		return feed_wrong_shape(buf, len, WHAT, err);
	feed_acc_init(&acc, FEED_PRICE, "row");
	return feed_read_array(&s, read_row, a, &acc, out, err);
}
