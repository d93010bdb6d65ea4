/*
 * The history document.  Pure.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "doccheck.h"
#include "fmt.h"
#include "history.h"
#include "jsonw.h"
#include "summary.h"

int
history_max(int64_t bucket_ms)
{
	return bucket_ms == FMT_DAY_MS ? HISTORY_DAYS_MAX : HISTORY_HOURS_MAX;
}

/* A count of 1 to max, def when not asked: see history_hours(). */
static int
history_count(const char *value, size_t len, int max, int def, int *out)
{
	int n = 0;

	if (value == NULL || len == 0) {
		*out = def;
		return 0;
	}
	if (len < 1 || len > 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		n = n * 10 + (value[i] - '0');
	}
	if (n < 1 || n > max)
		return -1;
	*out = n;
	return 0;
}

int
history_hours(const char *value, size_t len, int *hours)
{
	return history_count(value, len, HISTORY_HOURS_MAX,
	    HISTORY_HOURS_DEFAULT, hours);
}

int
history_days(const char *value, size_t len, int *days)
{
	return history_count(value, len, HISTORY_DAYS_MAX,
	    HISTORY_DAYS_DEFAULT, days);
}

void
history_build(int64_t t_ms, int n, int64_t bucket_ms,
    const struct store_buckets *h, struct history *out)
{
	int64_t from, to;

	memset(out, 0, sizeof(*out));
	out->bucket_ms = bucket_ms;
	if (n < 1 || n > history_max(bucket_ms))
		return;
	out->as_of_ms = t_ms;
	out->n = n;
	summary_window(t_ms, n, bucket_ms, &from, &to);
	for (int i = 0; i < n; i++) {
		struct history_row *r = &out->rows[i];
		const struct store_bucket *p, *s;

		r->start_ms = from + (int64_t)i * bucket_ms;
		p = store_bucket_at(h, STORE_PRICE, r->start_ms);
		s = store_bucket_at(h, STORE_SENTIMENT, r->start_ms);
		if (p != NULL) {
			r->price = p->avg;
			r->price_samples = p->count;
		}
		if (s != NULL) {
			r->sentiment = s->avg;
			r->sentiment_samples = s->count;
		}
	}
}

char *
history_render(const struct history *hs, int pretty, size_t *len)
{
	struct jw w;

	jw_init(&w, pretty);
	jw_object_begin(&w);
	jw_key(&w, hs->bucket_ms == FMT_DAY_MS ? "days" : "hours");
	jw_int(&w, hs->n);
	jw_key(&w, hs->bucket_ms == FMT_DAY_MS ? "daily" : "hourly");
	jw_array_begin(&w);
	for (int i = 0; i < hs->n; i++) {
		const struct history_row *r = &hs->rows[i];

		jw_object_begin(&w);
		jw_key(&w, "time");
		jw_time(&w, r->start_ms);
		/* no sample: null (jw_double() writes NaN as null) */
		jw_key(&w, "price");
		jw_double(&w, r->price_samples > 0 ? r->price : NAN);
		jw_key(&w, "sentiment");
		jw_double(&w, r->sentiment_samples > 0 ? r->sentiment : NAN);
		jw_key(&w, "price_samples");
		jw_int(&w, (int64_t)r->price_samples);
		jw_key(&w, "sentiment_samples");
		jw_int(&w, (int64_t)r->sentiment_samples);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_key(&w, "as_of");
	jw_time(&w, hs->as_of_ms);
	jw_object_end(&w);
	return jw_take(&w, len);
}

/* An average: a number, or null (then *null is set). */
static int
average(const char **p, const char *end, int *null)
{
	*null = *p < end && **p == 'n';
	return dc_number(p, end);
}

/* A sample count: at most 2^53 (16 digits), as the store reads them. */
static int
count(const char **p, const char *end, int *zero)
{
	const char *c = *p;

	if (!dc_digits(p, end, 1, 16))
		return 0;
	*zero = *p - c == 1 && *c == '0';
	return 1;
}

int
history_valid(const char *body, size_t len, int n, int64_t bucket_ms)
{
	const char *p = body, *end = body + len;
	char head[40];

	if (len > HISTORY_DOC_MAX || n < 1 || n > history_max(bucket_ms))
		return 0;
	if (bucket_ms == FMT_DAY_MS)
		snprintf(head, sizeof(head), "{\"days\":%d,\"daily\":[", n);
	else
		snprintf(head, sizeof(head), "{\"hours\":%d,\"hourly\":[", n);
	if (!dc_lit(&p, end, head))
		return 0;
	for (int i = 0; i < n; i++) {
		int pnull, snull, pzero, szero;

		if ((i > 0 && !dc_lit(&p, end, ",")) ||
		    !dc_lit(&p, end, "{\"time\":") || !dc_time(&p, end) ||
		    !dc_lit(&p, end, ",\"price\":") ||
		    !average(&p, end, &pnull) ||
		    !dc_lit(&p, end, ",\"sentiment\":") ||
		    !average(&p, end, &snull) ||
		    !dc_lit(&p, end, ",\"price_samples\":") ||
		    !count(&p, end, &pzero) ||
		    !dc_lit(&p, end, ",\"sentiment_samples\":") ||
		    !count(&p, end, &szero) || !dc_lit(&p, end, "}") ||
		    pnull != pzero || snull != szero)
			return 0;
	}
	return dc_lit(&p, end, "],\"as_of\":") && dc_time(&p, end) &&
	    dc_lit(&p, end, "}") && p == end;
}
