/*
 * SentiCrypt v2 (/v2/all.json): an array of one object per UTC day,
 * {"date":"2023-04-17","price":29615.0,...,"mean":-0.0722,...}.  Each
 * gives one sample per series at the day's 00:00 UTC: the price from
 * "price", the sentiment from "mean".  The values must be JSON numbers and
 * the date exactly YYYY-MM-DD.  Pure; walked element by element.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "feed_impl.h"

enum { F_DATE, F_PRICE, F_MEAN, NFIELDS };
static const char *const names[NFIELDS] = { "date", "price", "mean" };

/*
 * Validate one day's fields (NULL: missing; JSON null: null or a
 * container) into its time and values, for the series in want.  Returns
 * 0, or -1 with why.
 */
static int
check_day(json_t *const v[NFIELDS], const struct feed_args *a,
    int64_t *ts_ms, double val[STORE_NSERIES], char *why, size_t whylen)
{
	const char *date;

	for (int i = 0; i < NFIELDS; i++) {
		if ((i == F_PRICE && !(a->want & FEED_PRICE)) ||
		    (i == F_MEAN && !(a->want & FEED_SENTIMENT)))
			continue;
		if (v[i] == NULL) {
			snprintf(why, whylen, "missing field \"%s\"", names[i]);
			return -1;
		}
	}
	date = json_string_value(v[F_DATE]);
	if (date == NULL || strlen(date) != 10 ||
	    feed_parse_time(date, ts_ms) < 0) {
		snprintf(why, whylen, "field \"date\" is not a YYYY-MM-DD date");
		return -1;
	}
	if (feed_check_time(*ts_ms, a, why, whylen) < 0)
		return -1;
	val[STORE_PRICE] = val[STORE_SENTIMENT] = 0;
	if (a->want & FEED_PRICE) {
		if (feed_json_number(v[F_PRICE], &val[STORE_PRICE]) < 0) {
			snprintf(why, whylen, "field \"price\" is not a finite "
			    "JSON number");
			return -1;
		}
		if (feed_check_price(val[STORE_PRICE], "field \"price\"", why,
		    whylen) < 0)
			return -1;
	}
	if (a->want & FEED_SENTIMENT) {
		if (feed_json_number(v[F_MEAN], &val[STORE_SENTIMENT]) < 0 ||
		    fabs(val[STORE_SENTIMENT]) > FEED_MAX_VALUE) {
			snprintf(why, whylen, "field \"mean\" is not a finite "
			    "JSON number of at most 1e15");
			return -1;
		}
	}
	return 0;
}

/*
 * Read the element at the cursor (depth 2) into acc as element idx.
 * Only the three fields are loaded; the last of a name given twice counts,
 * as in jansson.  Returns 0, or -1: not JSON (jerr) or out of memory (err).
 */
static int
read_day(struct jscan *s, size_t idx, const struct feed_args *a,
    struct feed_acc *acc, json_error_t *jerr, int *nomem, struct error *err)
{
	json_t *v[NFIELDS];
	char why[FEED_WHY_MAX];
	double val[STORE_NSERIES];
	int64_t ts_ms = 0;
	int rc = jscan_load_members(s, 2, names, NFIELDS, v, jerr);

	if (rc == 0)
		feed_acc_invalid(acc, idx, "not an object");
	else if (rc == 1) {
		rc = check_day(v, a, &ts_ms, val, why, sizeof(why));
		rc = feed_acc_checked(acc, idx, rc, ts_ms, val, why, nomem,
		    err);
	}
	for (int i = 0; i < NFIELDS; i++)
		json_decref(v[i]);
	return rc;
}

int
feed_v2_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err)
{
	struct feed_acc acc;
	struct jscan s;

	memset(out, 0, sizeof(*out));
	jscan_init(&s, buf, len);
	if (jscan_peek(&s) != '[')
		return feed_wrong_shape(buf, len, "a SentiCrypt v2 feed", err);
	feed_acc_init(&acc, a->want & FEED_BOTH, "element");
	return feed_read_array(&s, read_day, a, &acc, out, err);
}
