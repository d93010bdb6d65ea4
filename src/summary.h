/*
 * The summary: a window of whole UTC hours ending with the anchor's hour,
 * its hourly rows, the directions, and the JSON document.  The service's
 * summary is the three-hour window; the reads take any number of hours.
 */
#ifndef ISBITCOINLIT_SUMMARY_H
#define ISBITCOINLIT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "store.h"

/* The summary's window: the hours H-2h, H-1h and H. */
#define SUMMARY_HOURS 3

enum summary_direction { SUMMARY_FLAT, SUMMARY_RISING, SUMMARY_FALLING };

/*
 * The answer to "is Bitcoin lit?": lit when both series rise over the
 * window, not lit when both fall, mixed otherwise (one rises and the other
 * falls, either is flat, or fewer than two rows).
 */
enum summary_verdict { SUMMARY_MIXED, SUMMARY_LIT, SUMMARY_NOT_LIT };

struct summary_row {
	int64_t hour_ms;	/* start of the UTC hour */
	double price;
	double sentiment;
};

struct summary {
	int64_t as_of_ms;	/* T: the newest sample (or now) */
	size_t nrows;
	struct summary_row rows[SUMMARY_HOURS];
	enum summary_direction price_direction;
	enum summary_direction sentiment_direction;
	enum summary_verdict verdict;
};

/*
 * The range [*from_ms, *to_ms] of `hours` whole UTC hours that end with
 * H, the hour holding T: H-(hours-1)h to the last ms of H.  Pure.
 */
void summary_window(int64_t t_ms, int hours, int64_t *from_ms, int64_t *to_ms);

/*
 * Build the summary for anchor T from hourly averages: one row for each
 * of the SUMMARY_HOURS window hours in which both series have a bucket, oldest first, then the
 * directions (last row against the first) and the verdict.  Pure.
 */
void summary_build(int64_t t_ms, const struct store_hourly *h,
    struct summary *out);

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
 * Whether body[0..len) is a compact summary document of the shape
 * summary_render() writes (at most SUMMARY_DOC_MAX bytes, keys in order,
 * at most SUMMARY_HOURS rows): what may be served from the cache.  Pure.
 */
int summary_valid(const char *body, size_t len);

/*
 * Read the hourly averages of the window of hours ending with the anchor's
 * hour: T is the newest sample, or now_ms with CFG_ANCHOR_NOW.  h is the
 * caller's (store_hourly_init(), cap >= hours).  Returns 1 with *t_ms and h
 * filled, 0 when the store holds no sample at all, -1 with err filled.
 */
int summary_read(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    int hours, int64_t *t_ms, struct store_hourly *h, struct error *err);

/*
 * Read the store and build the summary (summary_read() of SUMMARY_HOURS,
 * then summary_build()).  Returns 1 with out filled, 0 when the store
 * holds no sample at all, -1 with err filled.
 */
int summary_compute(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    struct summary *out, struct error *err);

#endif
