/*
 * The summary engine.  Everything but summary_read_window() and
 * summary_compute() is pure.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "doccheck.h"
#include "fmt.h"
#include "jsonw.h"
#include "summary.h"

const struct summary_mode summary_hourly = {
	FMT_HOUR_MS, SUMMARY_WINDOW_DEFAULT
};

void
summary_mode_of(const struct cfg *cfg, struct summary_mode *mode)
{
	mode->bucket_ms = cfg->bucket == CFG_BUCKET_DAY ? FMT_DAY_MS :
	    FMT_HOUR_MS;
	mode->window = (int)cfg->window;
}

const char *
summary_rows_name(int64_t bucket_ms)
{
	return bucket_ms == FMT_DAY_MS ? "daily_average_of_averages" :
	    "hourly_average_of_averages";
}

void
summary_window(int64_t t_ms, int n, int64_t bucket_ms, int64_t *from_ms,
    int64_t *to_ms)
{
	int64_t b = fmt_bucket_floor(t_ms, bucket_ms);

	*from_ms = b - (int64_t)(n - 1) * bucket_ms;
	*to_ms = b + bucket_ms - 1;
}

static enum summary_direction
direction(double first, double last, size_t nrows)
{
	if (nrows < 2 || last == first)
		return SUMMARY_FLAT;
	return last > first ? SUMMARY_RISING : SUMMARY_FALLING;
}

void
summary_build(int64_t t_ms, const struct summary_mode *mode,
    const struct store_buckets *h, struct summary *out)
{
	int64_t from, to;
	int n = mode->window;

	memset(out, 0, sizeof(*out));
	out->as_of_ms = t_ms;
	out->bucket_ms = mode->bucket_ms;
	if (n > SUMMARY_WINDOW_MAX)
		n = SUMMARY_WINDOW_MAX;	/* rows[] holds no more */
	summary_window(t_ms, n, mode->bucket_ms, &from, &to);
	for (int i = 0; i < n; i++) {
		int64_t start = from + (int64_t)i * mode->bucket_ms;
		const struct store_bucket *p, *s;

		p = store_bucket_at(h, STORE_PRICE, start);
		s = store_bucket_at(h, STORE_SENTIMENT, start);

		if (p == NULL || s == NULL)
			continue;
		out->rows[out->nrows].start_ms = start;
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
	struct jw w;

	jw_init(&w, pretty);
	jw_object_begin(&w);
	jw_key(&w, summary_rows_name(s->bucket_ms));
	jw_array_begin(&w);
	for (size_t i = 0; i < s->nrows; i++) {
		jw_object_begin(&w);
		jw_key(&w, "time");
		jw_time(&w, s->rows[i].start_ms);
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
	jw_key(&w, "as_of");
	jw_time(&w, s->as_of_ms);
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

/*
 * The ms of a time dc_time() took at p ("YYYY-MM-DDTHH:MM:SS+00:00" with
 * its quotes): days from the civil date (Howard Hinnant's algorithm).
 */
static int64_t
time_ms(const char *p)
{
	int y = (p[1] - '0') * 1000 + (p[2] - '0') * 100 + (p[3] - '0') * 10 +
	    (p[4] - '0');
	int m = (p[6] - '0') * 10 + (p[7] - '0');
	int d = (p[9] - '0') * 10 + (p[10] - '0');
	int hh = (p[12] - '0') * 10 + (p[13] - '0');
	int mm = (p[15] - '0') * 10 + (p[16] - '0');
	int ss = (p[18] - '0') * 10 + (p[19] - '0');
	int64_t era, yoe, doy, doe, days;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	return ((days * 24 + hh) * 60 + mm) * 60000 + (int64_t)ss * 1000;
}

int
summary_valid(const char *body, size_t len, const struct summary_mode *mode)
{
	const char *p = body, *end = body + len, *t;
	int64_t start[SUMMARY_WINDOW_MAX], from, to;
	char head[64];
	int n = 0, window = mode->window;

	if (window < 1 || window > SUMMARY_WINDOW_MAX)
		return 0;
	snprintf(head, sizeof(head), "{\"%s\":[",
	    summary_rows_name(mode->bucket_ms));
	if (len > SUMMARY_DOC_MAX || !dc_lit(&p, end, head))
		return 0;
	for (int i = 0; i < window && !dc_lit(&p, end, "]"); i++) {
		if ((i > 0 && !dc_lit(&p, end, ",")) ||
		    !dc_lit(&p, end, "{\"time\":"))
			return 0;
		t = p;
		if (!dc_time(&p, end) ||
		    !dc_lit(&p, end, ",\"price\":") || !dc_number(&p, end) ||
		    !dc_lit(&p, end, ",\"sentiment\":") || !dc_number(&p, end) ||
		    !dc_lit(&p, end, "}") ||
		    (i == window - 1 && !dc_lit(&p, end, "]")))
			return 0;
		start[n++] = time_ms(t);
	}
	if (!(dc_lit(&p, end, ",\"sentiment_direction\":") &&
	    direction_string(&p, end) &&
	    dc_lit(&p, end, ",\"price_direction\":") &&
	    direction_string(&p, end) && dc_lit(&p, end, ",\"verdict\":") &&
	    verdict_string(&p, end) && dc_lit(&p, end, ",\"as_of\":")))
		return 0;
	t = p;
	if (!dc_time(&p, end) || !dc_lit(&p, end, "}") || p != end)
		return 0;
	/* the rows: bucket starts of the window ending with as_of's, in order */
	summary_window(time_ms(t), window, mode->bucket_ms, &from, &to);
	for (int i = 0; i < n; i++)
		if (start[i] < from || start[i] > to ||
		    fmt_bucket_floor(start[i], mode->bucket_ms) != start[i] ||
		    (i > 0 && start[i] <= start[i - 1]))
			return 0;
	return 1;
}

int
summary_read_window(struct store *st, enum cfg_anchor anchor,
    int64_t now_ms, int64_t bucket_ms, int n, int64_t *t_ms,
    struct store_buckets *h, struct error *err)
{
	int64_t from, to;
	int found;

	if (store_newest(st, t_ms, &found, err) < 0)
		return -1;
	if (!found)
		return 0;
	if (anchor == CFG_ANCHOR_NOW)
		*t_ms = now_ms;
	summary_window(*t_ms, n, bucket_ms, &from, &to);
	if (store_buckets(st, from, to, bucket_ms, h, err) < 0)
		return -1;
	return 1;
}

int
summary_compute(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    const struct summary_mode *mode, struct summary *out, struct error *err)
{
	struct store_bucket buf[STORE_NSERIES * SUMMARY_WINDOW_MAX];
	struct store_buckets h;
	int64_t t;
	int rc;

	if (mode->window < 1 || mode->window > SUMMARY_WINDOW_MAX)
		return error_set(err, STORE_ECONFIG, "a window of %d buckets",
		    mode->window);
	store_buckets_init(&h, buf, SUMMARY_WINDOW_MAX);
	if ((rc = summary_read_window(st, anchor, now_ms, mode->bucket_ms,
	    mode->window, &t, &h, err)) == 1)
		summary_build(t, mode, &h, out);
	return rc;
}
