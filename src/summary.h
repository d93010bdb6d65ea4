/*
 * The summary: a window of whole UTC buckets (hours, or days) ending with
 * the anchor's bucket, its rows, the directions, and the JSON document.
 * The mode (bucket and window) is a setting: by default three hours.
 */
#ifndef ISBITCOINLIT_SUMMARY_H
#define ISBITCOINLIT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "store.h"

/*
 * The window, in buckets: by default three (H-2h, H-1h and H); from 2
 * (one bucket has no direction) to SUMMARY_WINDOW_MAX (a day of hours).
 */
#define SUMMARY_WINDOW_DEFAULT 3
#define SUMMARY_WINDOW_MIN 2
#define SUMMARY_WINDOW_MAX 24

/* The documents' buckets: their length and the summary's window. */
struct summary_mode {
	int64_t bucket_ms;	/* FMT_HOUR_MS or FMT_DAY_MS */
	int window;		/* SUMMARY_WINDOW_MIN..SUMMARY_WINDOW_MAX */
};

/* The default: hours, a window of three (the seed's summary). */
extern const struct summary_mode summary_hourly;

/* The mode of the settings (cfg->bucket, cfg->window). */
void summary_mode_of(const struct cfg *cfg, struct summary_mode *mode);

enum summary_direction { SUMMARY_FLAT, SUMMARY_RISING, SUMMARY_FALLING };

/*
 * The answer to "is Bitcoin lit?": lit when both series rise over the
 * window, not lit when both fall, mixed otherwise (one rises and the other
 * falls, either is flat, or fewer than two rows).
 */
enum summary_verdict { SUMMARY_MIXED, SUMMARY_LIT, SUMMARY_NOT_LIT };

struct summary_row {
	int64_t start_ms;	/* start of the UTC bucket */
	double price;
	double sentiment;
};

struct summary {
	int64_t as_of_ms;	/* T: the newest sample (or now) */
	int64_t bucket_ms;	/* the rows': the field's name says which */
	size_t nrows;
	struct summary_row rows[SUMMARY_WINDOW_MAX];
	enum summary_direction price_direction;
	enum summary_direction sentiment_direction;
	enum summary_verdict verdict;
};

/*
 * The range [*from_ms, *to_ms] of n whole buckets of bucket_ms that end
 * with B, the bucket holding T: B-(n-1) buckets to the last ms of B.
 * Pure.
 */
void summary_window(int64_t t_ms, int n, int64_t bucket_ms, int64_t *from_ms,
    int64_t *to_ms);

/*
 * Build the summary for anchor T from the averages by mode's bucket: one
 * row for each of the mode->window buckets of the window in which both
 * series have a bucket, oldest first, then the directions (last row
 * against the first) and the verdict.  Pure.
 */
void summary_build(int64_t t_ms, const struct summary_mode *mode,
    const struct store_buckets *h, struct summary *out);

/* The rows' field: "hourly_average_of_averages", "daily_...".  Pure. */
const char *summary_rows_name(int64_t bucket_ms);

const char *summary_direction_name(enum summary_direction d);

/* The verdict of two directions (see enum summary_verdict).  Pure. */
enum summary_verdict summary_verdict_of(enum summary_direction price,
    enum summary_direction sentiment);

/* "lit", "not lit" or "mixed": the document's words. */
const char *summary_verdict_name(enum summary_verdict v);

/*
 * The JSON document, compact (the cached, byte-exact form) or indented.
 * Returns a string the caller frees, its length in *len; NULL if out of
 * memory.
 */
char *summary_render(const struct summary *s, int pretty, size_t *len);

/* The longest compact document summary_valid() takes. */
#define SUMMARY_DOC_MAX 4096

/*
 * Whether body[0..len) is a compact summary document of mode's shape as
 * summary_render() writes it (at most SUMMARY_DOC_MAX bytes, keys in
 * order, the rows' field of mode's bucket, at most mode->window rows,
 * each at a bucket start of the window ending with as_of's bucket, oldest
 * first): what may be served from the cache.  A document of another mode
 * or window is refused.  Pure.
 */
int summary_valid(const char *body, size_t len,
    const struct summary_mode *mode);

/*
 * Read the averages by buckets of bucket_ms of the window of n buckets
 * ending with the anchor's bucket: T is the newest sample, or now_ms with
 * CFG_ANCHOR_NOW.  h is the caller's (store_buckets_init(), cap >= n).
 * Returns 1 with *t_ms and h filled, 0 when the store holds no sample at
 * all, -1 with err filled.
 */
int summary_read_window(struct store *st, enum cfg_anchor anchor,
    int64_t now_ms, int64_t bucket_ms, int n, int64_t *t_ms,
    struct store_buckets *h, struct error *err);

/*
 * Read the store and build the summary of mode (summary_read_window() of
 * its window, then summary_build()).  Returns 1 with out filled, 0 when the
 * store holds no sample at all, -1 with err filled.
 */
int summary_compute(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    const struct summary_mode *mode, struct summary *out, struct error *err);

#endif
