/*
 * The history: one row for each UTC bucket (hour, or day) of the last N
 * (1 to HISTORY_HOURS_MAX hours, or 1 to HISTORY_DAYS_MAX days) ending
 * with the anchor's bucket, as the summary's window, with both averages
 * (null where a series has no sample in the bucket) and their sample
 * counts; its JSON document, and the check of a cached one.
 */
#ifndef ISBITCOINLIT_HISTORY_H
#define ISBITCOINLIT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "store.h"

#define HISTORY_HOURS_MAX 24
#define HISTORY_HOURS_DEFAULT HISTORY_HOURS_MAX
#define HISTORY_DAYS_MAX 31
#define HISTORY_DAYS_DEFAULT HISTORY_DAYS_MAX
/* The most rows of either */
#define HISTORY_MAX HISTORY_DAYS_MAX

/* The most rows of a history of buckets of bucket_ms (hours or days). */
int history_max(int64_t bucket_ms);

struct history_row {
	int64_t start_ms;		/* start of the UTC bucket */
	double price;			/* when price_samples > 0 */
	double sentiment;		/* when sentiment_samples > 0 */
	size_t price_samples;
	size_t sentiment_samples;
};

struct history {
	int64_t as_of_ms;	/* T: the newest sample (or now) */
	int64_t bucket_ms;	/* FMT_HOUR_MS or FMT_DAY_MS */
	int n;			/* rows, all of them: 1..history_max() */
	struct history_row rows[HISTORY_MAX];
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

/* The same for ?days=: 1 to HISTORY_DAYS_MAX, HISTORY_DAYS_DEFAULT.  Pure. */
int history_days(const char *value, size_t len, int *days);

/*
 * Build the history of n buckets of bucket_ms for anchor T from buckets
 * that cover at least its window (a longer read does too): one row for
 * every bucket B-(n-1) to B, oldest first.  Pure.
 */
void history_build(int64_t t_ms, int n, int64_t bucket_ms,
    const struct store_buckets *h, struct history *out);

/*
 * The JSON document, compact (the cached, byte-exact form) or indented.
 * Returns a string the caller frees, its length in *len; NULL if out of
 * memory.
 */
char *history_render(const struct history *hs, int pretty, size_t *len);

/* The longest compact document history_valid() takes. */
#define HISTORY_DOC_MAX 12288

/*
 * Whether body[0..len) is a compact history document of n rows of buckets
 * of bucket_ms, of the shape history_render() writes ({"hours":n,
 * "hourly":[...]} or {"days":n,"daily":[...]}, at most HISTORY_DOC_MAX
 * bytes, keys in order, an average null exactly when its count is 0):
 * what may be served from the cache for that many buckets.  Pure.
 */
int history_valid(const char *body, size_t len, int n, int64_t bucket_ms);

#endif
