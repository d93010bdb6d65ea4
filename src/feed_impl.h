/*
 * Private to the feed's parsers (feed_format.c and one file per format):
 * each format's parse, and what they share: the checks every sample
 * passes, and the accumulator that sorts a body's samples, keeps the
 * first of equal times and says why nothing was valid.
 */
#ifndef ISBITCOINLIT_FEED_IMPL_H
#define ISBITCOINLIT_FEED_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "feed.h"
#include "jscan.h"

/* The rows' parse functions, one file each. */
int feed_v1_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err);
int feed_v2_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err);
int feed_kraken_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err);
int feed_coinbase_parse(const char *buf, size_t len,
    const struct feed_args *a, struct feed_result *out, struct error *err);

/* Room for one element's cause. */
#define FEED_WHY_MAX 128

/* One valid element: its time and a value per series it gives. */
struct feed_rec {
	int64_t ts_ms;
	double v[STORE_NSERIES];
	size_t idx;		/* in the body: the first of equal times wins */
};

/* A body's valid elements as they are read, and its invalid ones counted. */
struct feed_acc {
	struct feed_rec *v;	/* owned */
	size_t n, cap;
	size_t received, invalid;
	unsigned series;	/* given for each element */
	const char *unit;	/* "element", "row": for causes */
	char first_why[FEED_WHY_MAX + 32];
};

void feed_acc_init(struct feed_acc *acc, unsigned series, const char *unit);

/* Count element idx invalid; the first one's cause is kept. */
void feed_acc_invalid(struct feed_acc *acc, size_t idx, const char *why);

/* Keep element idx.  Returns 0, or -1 with err (FEED_ENOMEM). */
int feed_acc_push(struct feed_acc *acc, int64_t ts_ms,
    const double v[STORE_NSERIES], size_t idx, struct error *err);

/*
 * Element idx as its check found it: kept when checked is 0, else invalid
 * with why.  Returns 0, or -1 with err and *nomem set (FEED_ENOMEM).
 */
int feed_acc_checked(struct feed_acc *acc, size_t idx, int checked,
    int64_t ts_ms, const double v[STORE_NSERIES], const char *why,
    int *nomem, struct error *err);

/*
 * Sort by time, keep the first (in the body) of equal times and count the
 * others invalid ("duplicate time"), and fill out's streams of acc->series.
 * Returns 0, or -1 with err: FEED_EEMPTY (none valid: the first cause
 * given) or FEED_ENOMEM.  acc is left to feed_acc_free.
 */
int feed_acc_finish(struct feed_acc *acc, struct feed_result *out,
    struct error *err);
void feed_acc_free(struct feed_acc *acc);

/*
 * A time in seconds (a JSON number's value) to ms, within
 * [FEED_MIN_TS_MS, now + max_ahead].  Returns 0, or -1 with why.
 */
int feed_check_seconds(double s, const struct feed_args *a, int64_t *ms,
    char *why, size_t whylen);
/* The same for a time already in ms. */
int feed_check_time(int64_t ms, const struct feed_args *a, char *why,
    size_t whylen);

/* A price: finite, above 0, at most FEED_MAX_VALUE.  0, or -1 with why. */
int feed_check_price(double v, const char *name, char *why, size_t whylen);

/* A JSON number's finite value (a string is no number).  0 or -1. */
int feed_json_number(const json_t *v, double *out);

/*
 * The scalar at the cursor, a value at depth, loaded; a container is
 * checked and skipped and gives *v = NULL.  Returns 0, or -1 with jerr
 * filled: not JSON.
 */
int feed_load_value(struct jscan *s, int depth, json_t **v,
    json_error_t *jerr);

/* The most values a row of an array-of-arrays format has (Kraken's 8). */
#define FEED_ROW_MAX 8

/*
 * A candle format's check of one row's first n values (NULL: a container;
 * at most its width are given): 0 with *ts_ms and the price in *value, or
 * -1 with why.
 */
typedef int (*feed_row_check)(json_t *const *v, size_t n,
    const struct feed_args *a, int64_t *ts_ms, double *value, char *why,
    size_t whylen);

/*
 * Read the row at the cursor (an array at depth, of width <= FEED_ROW_MAX
 * values; more are checked and skipped) into acc as row idx, a price
 * sample when check passes it, else an invalid row with its cause.
 * Returns 0, or -1: not JSON (jerr) or out of memory (err, *nomem set).
 */
int feed_read_price_row(struct jscan *s, int depth, size_t width,
    feed_row_check check, size_t idx, const struct feed_args *a,
    struct feed_acc *acc, json_error_t *jerr, int *nomem, struct error *err);

/*
 * A reader of element idx of a top-level array, at the cursor: as
 * feed_read_price_row() (0, or -1: not JSON, or out of memory).
 */
typedef int (*feed_elem_reader)(struct jscan *s, size_t idx,
    const struct feed_args *a, struct feed_acc *acc, json_error_t *jerr,
    int *nomem, struct error *err);

/*
 * Walk the top-level array at the cursor of s element by element with
 * reader into acc (initialised), then finish: the samples in out.  Frees
 * acc.  Returns 0, or -1 with err filled.
 */
int feed_read_array(struct jscan *s, feed_elem_reader reader,
    const struct feed_args *a, struct feed_acc *acc, struct feed_result *out,
    struct error *err);

/* "an object", "a string", ...: the value starting with byte c. */
const char *feed_shape_of(int c);

/*
 * The body's shape is not the format's: err says so ("not a Kraken OHLC
 * answer: a JSON array"), unless the body is not JSON at all (then that).
 * Returns -1.
 */
int feed_wrong_shape(const char *buf, size_t len, const char *what,
    struct error *err);

/* err for a body that is not JSON.  Returns -1. */
int feed_not_json(struct error *err, const json_error_t *jerr);

/*
 * Copy at most max bytes of text from the feed into dst (size > max),
 * every byte that is not printable ASCII as '?'.
 */
void feed_printable(char *dst, const char *src, size_t max);

#endif
