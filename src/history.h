/*
 * The history: one row for each UTC hour of the last N hours (1 to
 * HISTORY_HOURS_MAX) ending with the anchor's hour, as the summary's
 * window, with both hourly averages (null where a series has no sample
 * in the hour) and their sample counts; its JSON document, and the check
 * of a cached one.
 */
#ifndef ISBITCOINLIT_HISTORY_H
#define ISBITCOINLIT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "store.h"

#define HISTORY_HOURS_MAX 24
#define HISTORY_HOURS_DEFAULT HISTORY_HOURS_MAX

struct history_row {
	int64_t hour_ms;		/* start of the UTC hour */
	double price;			/* when price_samples > 0 */
	double sentiment;		/* when sentiment_samples > 0 */
	size_t price_samples;
	size_t sentiment_samples;
};

struct history {
	int64_t as_of_ms;	/* T: the newest sample (or now) */
	int hours;		/* rows, all of them: 1..HISTORY_HOURS_MAX */
	struct history_row rows[HISTORY_HOURS_MAX];
};

/*
 * The number of hours asked for: value[0..len) is a whole number from 1
 * to HISTORY_HOURS_MAX in decimal (at most two digits), or value is NULL
 * or empty (not asked, or "hours=": HISTORY_HOURS_DEFAULT, as nginx's
 * $arg_hours, the microcache's key, cannot tell these apart).  Returns 0
 * with *hours, or -1.
 * Pure.
 */
int history_hours(const char *value, size_t len, int *hours);

/*
 * Build the history of `hours` hours for anchor T from hourly buckets that
 * cover at least its window (a longer read does too): one row for every
 * hour H-(hours-1)h to H, oldest first.  Pure.
 */
void history_build(int64_t t_ms, int hours, const struct store_hourly *h,
    struct history *out);

/*
 * The JSON document, compact (the cached, byte-exact form) or indented.
 * Returns a string the caller frees, its length in *len; NULL if out of
 * memory.
 */
char *history_render(const struct history *hs, int pretty, size_t *len);

/* The longest compact document history_valid() takes. */
#define HISTORY_DOC_MAX 8192

/*
 * Whether body[0..len) is a compact history document of `hours` rows of
 * the shape history_render() writes (at most HISTORY_DOC_MAX bytes, keys
 * in order, an average null exactly when its count is 0): what may be
 * served from the cache for that many hours.  Pure.
 */
int history_valid(const char *body, size_t len, int hours);

#endif
