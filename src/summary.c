/*
 * The summary engine.  Everything but summary_read() and summary_compute()
 * is pure.
 */
#include "config.h"

#include <string.h>

#include "doccheck.h"
#include "fmt.h"
#include "jsonw.h"
#include "summary.h"

void
summary_window(int64_t t_ms, int hours, int64_t *from_ms, int64_t *to_ms)
{
	int64_t h = fmt_hour_floor(t_ms);

	*from_ms = h - (int64_t)(hours - 1) * FMT_HOUR_MS;
	*to_ms = h + FMT_HOUR_MS - 1;
}

/* Find the bucket starting at hour in one series; NULL if none. */
static const struct store_bucket *
find_bucket(const struct store_hourly *h, int series, int64_t hour)
{
	for (size_t i = 0; i < h->n[series]; i++)
		if (h->b[series][i].start_ms == hour)
			return &h->b[series][i];
	return NULL;
}

static enum summary_direction
direction(double first, double last, size_t nrows)
{
	if (nrows < 2 || last == first)
		return SUMMARY_FLAT;
	return last > first ? SUMMARY_RISING : SUMMARY_FALLING;
}

void
summary_build(int64_t t_ms, const struct store_hourly *h, struct summary *out)
{
	int64_t from, to;

	memset(out, 0, sizeof(*out));
	out->as_of_ms = t_ms;
	summary_window(t_ms, SUMMARY_HOURS, &from, &to);
	for (int64_t hour = from; hour <= to; hour += FMT_HOUR_MS) {
		const struct store_bucket *p = find_bucket(h, STORE_PRICE, hour);
		const struct store_bucket *s = find_bucket(h, STORE_SENTIMENT,
		    hour);

		if (p == NULL || s == NULL)
			continue;
		out->rows[out->nrows].hour_ms = hour;
		out->rows[out->nrows].price = p->avg;
		out->rows[out->nrows].sentiment = s->avg;
		out->nrows++;
	}
	if (out->nrows > 0) {
		const struct summary_row *a = &out->rows[0];
		const struct summary_row *z = &out->rows[out->nrows - 1];

		out->price_direction = direction(a->price, z->price, out->nrows);
		out->sentiment_direction = direction(a->sentiment, z->sentiment,
		    out->nrows);
	}
	out->verdict = summary_verdict_of(out->price_direction,
	    out->sentiment_direction);
}

enum summary_verdict
summary_verdict_of(enum summary_direction price,
    enum summary_direction sentiment)
{
	if (price == SUMMARY_RISING && sentiment == SUMMARY_RISING)
		return SUMMARY_LIT;
	if (price == SUMMARY_FALLING && sentiment == SUMMARY_FALLING)
		return SUMMARY_NOT_LIT;
	return SUMMARY_MIXED;
}

const char *
summary_verdict_name(enum summary_verdict v)
{
	switch (v) {
	case SUMMARY_LIT: return "lit";
	case SUMMARY_NOT_LIT: return "not lit";
	case SUMMARY_MIXED: break;
	}
	return "mixed";
}

const char *
summary_direction_name(enum summary_direction d)
{
	switch (d) {
	case SUMMARY_RISING: return "rising";
	case SUMMARY_FALLING: return "falling";
	case SUMMARY_FLAT: break;
	}
	return "flat";
}

char *
summary_render(const struct summary *s, int pretty, size_t *len)
{
	char t[FMT_RFC3339_MAX];
	struct jw w;

	jw_init(&w, pretty);
	jw_object_begin(&w);
	jw_key(&w, "hourly_average_of_averages");
	jw_array_begin(&w);
	for (size_t i = 0; i < s->nrows; i++) {
		fmt_rfc3339(s->rows[i].hour_ms, 0, t);
		jw_object_begin(&w);
		jw_key(&w, "time");
		jw_string(&w, t);
		jw_key(&w, "price");
		jw_double(&w, s->rows[i].price);
		jw_key(&w, "sentiment");
		jw_double(&w, s->rows[i].sentiment);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_key(&w, "sentiment_direction");
	jw_string(&w, summary_direction_name(s->sentiment_direction));
	jw_key(&w, "price_direction");
	jw_string(&w, summary_direction_name(s->price_direction));
	jw_key(&w, "verdict");
	jw_string(&w, summary_verdict_name(s->verdict));
	fmt_rfc3339(s->as_of_ms, 0, t);
	jw_key(&w, "as_of");
	jw_string(&w, t);
	jw_object_end(&w);
	return jw_take(&w, len);
}

/* "lit", "not lit" or "mixed" with its quotes. */
static int
verdict_string(const char **p, const char *end)
{
	return dc_lit(p, end, "\"lit\"") || dc_lit(p, end, "\"not lit\"") ||
	    dc_lit(p, end, "\"mixed\"");
}

/* "rising", "falling" or "flat" with its quotes. */
static int
direction_string(const char **p, const char *end)
{
	return dc_lit(p, end, "\"rising\"") || dc_lit(p, end, "\"falling\"") ||
	    dc_lit(p, end, "\"flat\"");
}

int
summary_valid(const char *body, size_t len)
{
	const char *p = body, *end = body + len;

	if (len > SUMMARY_DOC_MAX ||
	    !dc_lit(&p, end, "{\"hourly_average_of_averages\":["))
		return 0;
	for (int i = 0; i < SUMMARY_HOURS && !dc_lit(&p, end, "]"); i++)
		if ((i > 0 && !dc_lit(&p, end, ",")) ||
		    !dc_lit(&p, end, "{\"time\":") || !dc_time(&p, end) ||
		    !dc_lit(&p, end, ",\"price\":") || !dc_number(&p, end) ||
		    !dc_lit(&p, end, ",\"sentiment\":") || !dc_number(&p, end) ||
		    !dc_lit(&p, end, "}") ||
		    (i == SUMMARY_HOURS - 1 && !dc_lit(&p, end, "]")))
			return 0;
	return dc_lit(&p, end, ",\"sentiment_direction\":") &&
	    direction_string(&p, end) &&
	    dc_lit(&p, end, ",\"price_direction\":") &&
	    direction_string(&p, end) && dc_lit(&p, end, ",\"verdict\":") &&
	    verdict_string(&p, end) && dc_lit(&p, end, ",\"as_of\":") &&
	    dc_time(&p, end) && dc_lit(&p, end, "}") && p == end;
}

int
summary_read(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    int hours, int64_t *t_ms, struct store_hourly *h, struct error *err)
{
	int64_t from, to;
	int found;

	if (store_newest(st, t_ms, &found, err) < 0)
		return -1;
	if (!found)
		return 0;
	if (anchor == CFG_ANCHOR_NOW)
		*t_ms = now_ms;
	summary_window(*t_ms, hours, &from, &to);
	if (store_hourly(st, from, to, h, err) < 0)
		return -1;
	return 1;
}

int
summary_compute(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    struct summary *out, struct error *err)
{
	struct store_bucket buf[STORE_NSERIES * SUMMARY_HOURS];
	struct store_hourly h;
	int64_t t;
	int rc;

	store_hourly_init(&h, buf, SUMMARY_HOURS);
	if ((rc = summary_read(st, anchor, now_ms, SUMMARY_HOURS, &t, &h,
	    err)) == 1)
		summary_build(t, &h, out);
	return rc;
}
