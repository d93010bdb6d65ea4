/*
 * The history document.  Pure.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "doccheck.h"
#include "fmt.h"
#include "history.h"
#include "jsonw.h"
#include "summary.h"

int
history_hours(const char *value, size_t len, int *hours)
{
	int n = 0;

	if (value == NULL || len == 0) {
		*hours = HISTORY_HOURS_DEFAULT;
		return 0;
	}
	if (len < 1 || len > 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		n = n * 10 + (value[i] - '0');
	}
	if (n < 1 || n > HISTORY_HOURS_MAX)
		return -1;
	*hours = n;
	return 0;
}

/* The bucket starting at hour in one series; NULL if none. */
static const struct store_bucket *
bucket_at(const struct store_hourly *h, int series, int64_t hour)
{
	for (size_t i = 0; i < h->n[series]; i++)
		if (h->b[series][i].start_ms == hour)
			return &h->b[series][i];
	return NULL;
}

void
history_build(int64_t t_ms, int hours, const struct store_hourly *h,
    struct history *out)
{
	int64_t from, to;

	memset(out, 0, sizeof(*out));
	if (hours < 1 || hours > HISTORY_HOURS_MAX)
		return;
	out->as_of_ms = t_ms;
	out->hours = hours;
	summary_window(t_ms, hours, &from, &to);
	for (int i = 0; i < hours; i++) {
		struct history_row *r = &out->rows[i];
		const struct store_bucket *p, *s;

		r->hour_ms = from + (int64_t)i * FMT_HOUR_MS;
		if ((p = bucket_at(h, STORE_PRICE, r->hour_ms)) != NULL) {
			r->price = p->avg;
			r->price_samples = p->count;
		}
		if ((s = bucket_at(h, STORE_SENTIMENT, r->hour_ms)) != NULL) {
			r->sentiment = s->avg;
			r->sentiment_samples = s->count;
		}
	}
}

char *
history_render(const struct history *hs, int pretty, size_t *len)
{
	char t[FMT_RFC3339_MAX];
	struct jw w;

	jw_init(&w, pretty);
	jw_object_begin(&w);
	jw_key(&w, "hours");
	jw_int(&w, hs->hours);
	jw_key(&w, "hourly");
	jw_array_begin(&w);
	for (int i = 0; i < hs->hours; i++) {
		const struct history_row *r = &hs->rows[i];

		fmt_rfc3339(r->hour_ms, 0, t);
		jw_object_begin(&w);
		jw_key(&w, "time");
		jw_string(&w, t);
		jw_key(&w, "price");
		if (r->price_samples > 0)
			jw_double(&w, r->price);
		else
			jw_null(&w);
		jw_key(&w, "sentiment");
		if (r->sentiment_samples > 0)
			jw_double(&w, r->sentiment);
		else
			jw_null(&w);
		jw_key(&w, "price_samples");
		jw_int(&w, (int64_t)r->price_samples);
		jw_key(&w, "sentiment_samples");
		jw_int(&w, (int64_t)r->sentiment_samples);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	fmt_rfc3339(hs->as_of_ms, 0, t);
	jw_key(&w, "as_of");
	jw_string(&w, t);
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
history_valid(const char *body, size_t len, int hours)
{
	const char *p = body, *end = body + len;
	char head[40];

	if (len > HISTORY_DOC_MAX || hours < 1 || hours > HISTORY_HOURS_MAX)
		return 0;
	snprintf(head, sizeof(head), "{\"hours\":%d,\"hourly\":[", hours);
	if (!dc_lit(&p, end, head))
		return 0;
	for (int i = 0; i < hours; i++) {
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
