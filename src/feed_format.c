/*
 * The feed formats as a table (feed.h), auto's reading of a body's shape,
 * and what every format's parse shares (feed_impl.h).  Pure.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "feed_impl.h"

static int auto_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err);

const struct feed_format feed_formats[] = {
	{ "auto", FEED_BOTH, 0, 0, NULL, "any format", auto_parse },
	{ "senticrypt-v1", FEED_BOTH, INT64_C(30000), 0, "mean:30s",
	  "SentiCrypt v1", feed_v1_parse },
	{ "senticrypt-v2", FEED_BOTH, INT64_C(86400000), 1, "senticrypt-v2:1d",
	  "SentiCrypt v2", feed_v2_parse },
	{ "kraken-ohlc", FEED_PRICE, INT64_C(3600000), 1, "kraken-ohlc:1h",
	  "Kraken OHLC", feed_kraken_parse },
	{ "coinbase-candles", FEED_PRICE, INT64_C(3600000), 1,
	  "coinbase-candles:1h", "Coinbase candles", feed_coinbase_parse },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

const struct feed_format *
feed_format_find(const char *name)
{
	for (const struct feed_format *f = feed_formats; f->name != NULL; f++)
		if (name != NULL && strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* The series a mask lacks, for messages. */
static const char *
lacking(unsigned have, unsigned need)
{
	unsigned miss = need & ~have;

	return miss == FEED_BOTH ? "neither price nor sentiment" :
	    miss & FEED_SENTIMENT ? "no sentiment" : "no price";
}

const struct feed_format *
feed_format_for(const char *name, unsigned need, struct error *err)
{
	const struct feed_format *f = feed_format_find(name);
	char names[256] = "";

	if (f == NULL) {
		for (f = feed_formats; f->name != NULL; f++) {
			strncat(names, f->name, sizeof(names) - strlen(names) - 1);
			if (f[1].name != NULL)
				strncat(names, ", ", sizeof(names) -
				    strlen(names) - 1);
		}
		error_set(err, FEED_ESHAPE, "not one of %s: \"%.100s\"", names,
		    name != NULL ? name : "");
		return NULL;
	}
	if ((f->series & need) != need) {
		error_set(err, FEED_ESHAPE, "%s gives %s, and this feed "
		    "must give %s", f->name, lacking(f->series, need),
		    need == FEED_BOTH ? "price and sentiment" :
		    need == FEED_PRICE ? "the price" : "the sentiment");
		return NULL;
	}
	return f;
}

int
feed_parse_as(const char *name, const char *buf, size_t len,
    const struct feed_args *a, struct feed_result *out, struct error *err)
{
	const struct feed_format *f;

	memset(out, 0, sizeof(*out));
	if ((f = feed_format_for(name, a->want, err)) == NULL)
		return -1;
	if (f->parse(buf, len, a, out, err) < 0)
		return -1;
	if (out->format == NULL)
		out->format = f;
	return 0;
}

/*
 * Whether the object at the cursor (at depth) has a member named one of
 * names[0..n): the index of the first such member met, n if none, -1 if
 * the walk fails (not JSON).  Only the names are read.
 */
static int
member_among(struct jscan *s, int depth, const char *const *names, int n)
{
	struct jscan_iter it;
	json_error_t jerr;
	const char *key;
	int more, found = n;

	if (jscan_open(s, depth, &it, &jerr) < 0)
		return -1;
	while (found == n && (more = jscan_next(&it, &key, &jerr)) == 1)
		for (int i = 0; i < n; i++)
			if (strcmp(key, names[i]) == 0) {
				found = i;
				break;
			}
	jscan_close(&it);
	return found == n && more < 0 ? -1 : found;
}

/*
 * Auto: the format by the body's shape, reading no further than needed.
 * An object with "error" or "result" is Kraken's, one with "message"
 * Coinbase's error; an array whose first element is an array holds
 * candles (Coinbase); one whose first object has "date" but not v1's
 * timestamp field (a v1 feed may be configured to call it "date") is
 * SentiCrypt v2; anything else, a body that is not JSON included, is
 * read as v1, as before formats were told apart.  An empty array is no
 * format: NULL with err.
 */
static const struct feed_format *
detect(const char *buf, size_t len, const struct feed_args *a,
    struct error *err)
{
	static const char *const kraken[] = { "error", "result", "message" };
	const char *v2[] = { a->fields.timestamp, "date" };
	struct jscan s;
	struct jscan_iter it;
	json_error_t jerr;
	int c, i;

	jscan_init(&s, buf, len);
	c = jscan_peek(&s);
	if (c == '{') {
		i = member_among(&s, 1, kraken, 3);
		if (i == 0 || i == 1)
			return feed_format_find("kraken-ohlc");
		if (i == 2)
			return feed_format_find("coinbase-candles");
	} else if (c == '[' && jscan_open(&s, 1, &it, &jerr) == 0) {
		int more = jscan_next(&it, NULL, &jerr);

		c = jscan_peek(&s);
		jscan_close(&it);
		if (more == 0 && jscan_end(&s, &jerr) == 0) {
			error_set(err, FEED_EEMPTY, "no valid sample among 0 "
			    "(an empty array)");
			return NULL;
		}
		if (more == 1 && c == '[')
			return feed_format_find("coinbase-candles");
		if (more == 1 && c == '{' && member_among(&s, 2, v2, 2) == 1)
			return feed_format_find("senticrypt-v2");
	}
	return feed_format_find("senticrypt-v1");
}

static int
auto_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err)
{
	const struct feed_format *f;

	memset(out, 0, sizeof(*out));
	if ((f = detect(buf, len, a, err)) == NULL)
		return -1;
	if ((f->series & a->want) != a->want) {
		struct jscan s;
		json_error_t jerr;

		/* a body that is not JSON is refused as such, as everywhere */
		jscan_init(&s, buf, len);
		if (jscan_skip(&s, 1, &jerr) < 0 || jscan_end(&s, &jerr) < 0)
			return feed_not_json(err, &jerr);
		return error_set(err, FEED_ESHAPE, "the body is %s (%s), which "
		    "gives %s", f->title, f->name, lacking(f->series, a->want));
	}
	if (f->parse(buf, len, a, out, err) < 0)
		return -1;
	out->format = f;
	return 0;
}

/* ---- shared by the formats' parsers ---- */

void
feed_acc_init(struct feed_acc *acc, unsigned series, const char *unit)
{
	memset(acc, 0, sizeof(*acc));
	acc->series = series;
	acc->unit = unit;
}

void
feed_acc_invalid(struct feed_acc *acc, size_t idx, const char *why)
{
	if (acc->invalid++ == 0)
		snprintf(acc->first_why, sizeof(acc->first_why), "%s %zu: %s",
		    acc->unit, idx, why);
}

int
feed_acc_push(struct feed_acc *acc, int64_t ts_ms,
    const double v[STORE_NSERIES], size_t idx, struct error *err)
{
	if (acc->n == acc->cap) {
		struct feed_rec *nv = buf_array_grow(acc->v, &acc->cap,
		    sizeof(*nv), 1024);

		if (nv == NULL)
			return error_set(err, FEED_ENOMEM, "out of memory for "
			    "%zu samples", acc->n + 1);
		acc->v = nv;
	}
	acc->v[acc->n].ts_ms = ts_ms;
	memcpy(acc->v[acc->n].v, v, sizeof(acc->v[acc->n].v));
	acc->v[acc->n++].idx = idx;
	return 0;
}

int
feed_acc_checked(struct feed_acc *acc, size_t idx, int checked,
    int64_t ts_ms, const double v[STORE_NSERIES], const char *why,
    int *nomem, struct error *err)
{
	if (checked < 0) {
		feed_acc_invalid(acc, idx, why);
		return 0;
	}
	if (feed_acc_push(acc, ts_ms, v, idx, err) < 0) {
		*nomem = 1;
		return -1;
	}
	return 0;
}

static int
cmp_recs(const void *a, const void *b)
{
	const struct feed_rec *x = a, *y = b;

	if (x->ts_ms != y->ts_ms)
		return x->ts_ms < y->ts_ms ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int
feed_acc_finish(struct feed_acc *acc, struct feed_result *out,
    struct error *err)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	out->received = acc->received;
	if (acc->n > 0)
		qsort(acc->v, acc->n, sizeof(*acc->v), cmp_recs);
	/* equal times: the first in the body stays, the others are invalid */
	for (size_t i = 0; i < acc->n; i++) {
		if (n > 0 && acc->v[i].ts_ms == acc->v[n - 1].ts_ms) {
			feed_acc_invalid(acc, acc->v[i].idx, "duplicate time");
			continue;
		}
		acc->v[n++] = acc->v[i];
	}
	out->invalid = acc->invalid;
	if (n == 0) {
		error_set(err, FEED_EEMPTY, "no valid sample among %zu%s%s%s",
		    acc->received, acc->first_why[0] ? " (first: " : "",
		    acc->first_why, acc->first_why[0] ? ")" : "");
		memset(out, 0, sizeof(*out));
		return -1;
	}
	for (int k = 0; k < STORE_NSERIES; k++) {
		struct stream *st = &out->series[k];

		if (!(acc->series & (1u << k)))
			continue;
		if ((st->points = calloc(n, sizeof(*st->points))) == NULL) {
			feed_result_free(out);
			return error_set(err, FEED_ENOMEM, "out of memory for "
			    "%zu samples", n);
		}
		for (size_t i = 0; i < n; i++) {
			st->points[i].ts_ms = acc->v[i].ts_ms;
			st->points[i].value = acc->v[i].v[k];
		}
		st->n = n;
	}
	out->valid = n;
	return 0;
}

void
feed_acc_free(struct feed_acc *acc)
{
	free(acc->v);
	acc->v = NULL;
	acc->n = acc->cap = 0;
}

int
feed_check_time(int64_t ms, const struct feed_args *a, char *why,
    size_t whylen)
{
	if (ms < FEED_MIN_TS_MS) {
		snprintf(why, whylen, "time before 2009-01-03");
		return -1;
	}
	if (ms > a->now_ms + a->max_ahead_ms) {
		snprintf(why, whylen, "time further ahead of the clock than "
		    "ISBITCOINLIT_MAX_FUTURE_S allows");
		return -1;
	}
	return 0;
}

int
feed_check_seconds(double s, const struct feed_args *a, int64_t *ms,
    char *why, size_t whylen)
{
	double m = trunc(s * 1000.0);

	if (!(m > -9.2e18 && m < 9.2e18)) {
		snprintf(why, whylen, "time out of range");
		return -1;
	}
	*ms = (int64_t)m;
	return feed_check_time(*ms, a, why, whylen);
}

int
feed_check_price(double v, const char *name, char *why, size_t whylen)
{
	if (!(v > 0 && v <= FEED_MAX_VALUE)) {
		snprintf(why, whylen, "%s is not a price above 0 and at most "
		    "1e15", name);
		return -1;
	}
	return 0;
}

int
feed_json_number(const json_t *v, double *out)
{
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return isfinite(*out) ? 0 : -1;
}

int
feed_load_value(struct jscan *s, int depth, json_t **v, json_error_t *jerr)
{
	int c = jscan_peek(s);

	*v = NULL;
	if (c == '[' || c == '{')
		return jscan_skip(s, depth, jerr);
	return (*v = jscan_load_scalar(s, jerr)) == NULL ? -1 : 0;
}

const char *
feed_shape_of(int c)
{
	return c == '{' ? "an object" : c == '[' ? "an array" : c == '"' ?
	    "a string" : c == '-' || (c >= '0' && c <= '9') ? "a number" :
	    "a literal";
}

int
feed_read_array(struct jscan *s, feed_elem_reader reader,
    const struct feed_args *a, struct feed_acc *acc, struct feed_result *out,
    struct error *err)
{
	struct jscan_iter it;
	json_error_t jerr;
	int rc = -1, more, nomem = 0;

	memset(&it, 0, sizeof(it));
	if (jscan_open(s, 1, &it, &jerr) < 0)
		goto not_json;
	while ((more = jscan_next(&it, NULL, &jerr)) == 1)
		if (reader(s, acc->received++, a, acc, &jerr, &nomem, err) < 0) {
			if (nomem)
				goto out;
			goto not_json;
		}
	if (more < 0 || jscan_end(s, &jerr) < 0)
		goto not_json;
	rc = feed_acc_finish(acc, out, err);
	goto out;
not_json:
	feed_not_json(err, &jerr);
out:
	jscan_close(&it);
	feed_acc_free(acc);
	return rc;
}

int
feed_not_json(struct error *err, const json_error_t *jerr)
{
	return error_set(err, FEED_EJSON, "not JSON: %s at line %d column %d",
	    jerr->text, jerr->line, jerr->column);
}

int
feed_wrong_shape(const char *buf, size_t len, const char *what,
    struct error *err)
{
	struct jscan s;
	json_error_t jerr;
	int c;

	jscan_init(&s, buf, len);
	c = jscan_peek(&s);
	if (jscan_skip(&s, 1, &jerr) < 0 || jscan_end(&s, &jerr) < 0)
		return feed_not_json(err, &jerr);
	return error_set(err, FEED_ESHAPE, "not %s: a JSON %s", what,
	    c == '{' ? "object" : c == '[' ? "array" : c == '"' ? "string" :
	    c == '-' || (c >= '0' && c <= '9') ? "number" : "literal");
}

void
feed_printable(char *dst, const char *src, size_t max)
{
	size_t i;

	for (i = 0; i < max && src[i] != '\0'; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

int
feed_read_price_row(struct jscan *s, int depth, size_t width,
    feed_row_check check, size_t idx, const struct feed_args *a,
    struct feed_acc *acc, json_error_t *jerr, int *nomem, struct error *err)
{
	json_t *v[FEED_ROW_MAX] = { NULL };
	struct jscan_iter it;
	char why[FEED_WHY_MAX];
	double val[STORE_NSERIES] = { 0, 0 };
	int64_t ts_ms = 0;
	size_t n = 0;
	int rc = -1, more;

	if (width > FEED_ROW_MAX)
		width = FEED_ROW_MAX;
	if (jscan_peek(s) != '[') {
		if (jscan_skip(s, depth, jerr) < 0)
			return -1;
		feed_acc_invalid(acc, idx, "not an array");
		return 0;
	}
	if (jscan_open(s, depth, &it, jerr) < 0)
		return -1;
	while ((more = jscan_next(&it, NULL, jerr)) == 1) {
		if (n < width && feed_load_value(s, depth + 1, &v[n], jerr) < 0)
			goto out;
		n++;		/* values past the width: checked and skipped */
	}
	if (more < 0)
		goto out;
	rc = check(v, n, a, &ts_ms, &val[STORE_PRICE], why, sizeof(why));
	rc = feed_acc_checked(acc, idx, rc, ts_ms, val, why, nomem, err);
out:
	jscan_close(&it);
	for (size_t i = 0; i < width; i++)
		json_decref(v[i]);
	return rc;
}
