/* The upstream feed: download (libcurl), parse and validate (jansson). */
#ifndef ISBITCOINLIT_FEED_H
#define ISBITCOINLIT_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "sample.h"

/* 2009-01-03T00:00:00Z, the genesis block: no sample is older. */
#define FEED_MIN_TS_MS INT64_C(1230940800000)
/*
 * No price or sentiment is larger in magnitude: an hour's sum of samples
 * stays finite on both backends (its average is never inf or null).
 */
#define FEED_MAX_VALUE 1e15

enum feed_status {
	FEED_OK,
	FEED_EFETCH,		/* DNS, connect, timeout, HTTP >= 400, TLS, size */
	FEED_EJSON,		/* not JSON */
	FEED_ESHAPE,		/* not the format's shape (or not its series) */
	FEED_EEMPTY,		/* no valid sample */
	FEED_ENOMEM,
	FEED_EREFUSED		/* the feed answered with an error of its own */
};

/* Masks of series (enum store_series): what a format gives, what is wanted. */
#define FEED_PRICE (1u << STORE_PRICE)
#define FEED_SENTIMENT (1u << STORE_SENTIMENT)
#define FEED_BOTH (FEED_PRICE | FEED_SENTIMENT)

struct feed_fields {
	const char *timestamp;
	const char *price;
	const char *sentiment;
};

/*
 * The valid samples of a feed, one stream per series, each sorted by time,
 * and what was skipped.
 */
struct feed_result {
	struct stream series[STORE_NSERIES];	/* owned; feed_result_free() */
	size_t valid;			/* elements that gave samples */
	size_t received;		/* elements of the array */
	size_t invalid;			/* skipped */
	const struct feed_format *format;	/* what the body was read as */
};

/*
 * Parse and validate a whole payload: it must be a JSON array; each
 * element is valid when its three fields are numbers or numeric strings
 * (the timestamp also an RFC 3339 or YYYY-MM-DD string) within
 * [FEED_MIN_TS_MS, now_ms + max_ahead_ms] (a sample from the future would
 * move the retention's cut-off and expire real data), and then gives one
 * sample to each stream, both at its timestamp.  Invalid elements are
 * counted and skipped.  Returns 0 with out filled (each stream sorted by
 * timestamp, stable: equal ones in feed order), or -1 with err filled and
 * out empty.  Pure.
 */
int feed_parse(const char *buf, size_t len, const struct feed_fields *fields,
    int64_t now_ms, int64_t max_ahead_ms, struct feed_result *out,
    struct error *err);
void feed_result_free(struct feed_result *out);

/* What every format's parse is given. */
struct feed_args {
	int64_t now_ms;
	int64_t max_ahead_ms;	/* a sample dated later than now + this: invalid */
	struct feed_fields fields;	/* senticrypt-v1's names (and auto's) */
	/*
	 * The series the caller needs (FEED_PRICE, FEED_SENTIMENT): only
	 * those are read and given, so an element needs no valid value of a
	 * series another feed supplies.
	 */
	unsigned want;
};

/*
 * A feed format: one row of feed_formats[], one file of code.
 * parse() has feed_parse()'s contract: 0 with out filled (one stream per
 * wanted series the format gives, each sorted by time), or -1 with err
 * filled and out empty.  Pure.
 */
struct feed_format {
	const char *name;	/* "senticrypt-v1", ...; "auto" */
	unsigned series;	/* the series it can give (FEED_PRICE, ...) */
	int64_t step_ms;	/* between two samples of a series */
	/*
	 * For a timestamp already stored, a later refresh's value: 0 keeps
	 * the first (v1: a sample never changes), 1 the last (today's v2
	 * object and the open candle change until they close).
	 */
	int keep_last;
	const char *tag;	/* source and step in the series' key names */
	const char *title;	/* for messages: "Kraken OHLC" */
	int (*parse)(const char *buf, size_t len, const struct feed_args *a,
	    struct feed_result *out, struct error *err);
};

/* The rows, "auto" first; a row with a NULL name ends it. */
extern const struct feed_format feed_formats[];

/* The row named name, or NULL. */
const struct feed_format *feed_format_find(const char *name);

/*
 * The row named name for a feed that must give the series in need: NULL
 * with err filled (code FEED_ESHAPE) when there is no such format or it
 * cannot give them ("auto" can: a body it reads otherwise is refused).
 * For start-up checks.
 */
const struct feed_format *feed_format_for(const char *name, unsigned need,
    struct error *err);

/*
 * Parse buf as the format named name ("auto": told by the body's shape,
 * see feed_format.c) for the series in a->want.  Returns 0 with out filled
 * and out->format the row it was read as, or -1 with err filled: an
 * unknown name, a body of another format's shape, a format that does not
 * give every wanted series, or the row's own refusal.
 */
int feed_parse_as(const char *name, const char *buf, size_t len,
    const struct feed_args *a, struct feed_result *out, struct error *err);

/* A decimal number, all of s: [-+]digits[.digits][e[-+]digits], finite. */
int feed_parse_decimal(const char *s, double *out);

/*
 * An RFC 3339 date-time ("2021-07-07T16:30:18.345Z", "... +02:00", a space
 * or 't' as separator) or a full date ("2021-07-07", midnight UTC), to ms
 * since the epoch (fractions beyond the ms truncated).  Returns 0 or -1.
 */
int feed_parse_time(const char *s, int64_t *ms);

/* A downloaded body. */
struct feed_body {
	char *data;		/* owned, NUL-terminated */
	size_t len;
};

/* curl_global_init(): once, at start-up, before any thread or fork. */
int feed_global_init(void);

/*
 * Download url (http, https or file; redirects only to http or https, at
 * most 3) within timeout_s seconds, at most max_bytes.  Returns 0 with
 * body filled (caller frees body->data), or -1 with err (FEED_EFETCH).
 */
int feed_fetch(const char *url, long timeout_s, long max_bytes,
    struct feed_body *body, struct error *err);

/* One download of feed_fetch_all(): the URL in, the body or error out. */
struct feed_download {
	const char *url;
	struct feed_body body;	/* on success; the caller frees data */
	struct error err;	/* on failure (FEED_EFETCH, FEED_ENOMEM) */
};

/*
 * Download the n URLs at once, each as feed_fetch() would, within one
 * deadline of timeout_s.  Each d[i] gets its body or its error: one
 * failing leaves the others whole.  Returns 0 when all succeeded, -1 when
 * any failed.
 */
int feed_fetch_all(struct feed_download *d, size_t n, long timeout_s,
    long max_bytes);

#endif
