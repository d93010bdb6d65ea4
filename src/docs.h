/*
 * The served documents, one row each in one table (docs.c): the summary
 * and the history.  A document is a row and n, the buckets of its window
 * (the summary's is fixed, the history's asked for).  A row names its
 * cache key, its window and bucket, how it is built and rendered from a
 * read of the series, and the strict check of a cached body: the API
 * serves it, the store caches it at its key, the refresh primes it.
 */
#ifndef ISBITCOINLIT_DOCS_H
#define ISBITCOINLIT_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "history.h"
#include "store.h"

enum docs_id { DOCS_SUMMARY, DOCS_HISTORY, DOCS_NKINDS };

struct doc_kind {
	const char *name;	/* "summary", "history": in the log */
	const char *key_suffix;	/* after the prefix: ":cache", ":history:" */
	int key_n;		/* n follows the suffix: <prefix>:history:<n> */
	int64_t bucket_ms;	/* a bucket of the window: one UTC hour */
	const char *unit;	/* the buckets in words: "hours" */
	int min_window;		/* n, in buckets: from min_window */
	int max_window;		/* to max_window (the summary: 3 to 3) */
	/*
	 * The document of n buckets for anchor T, from buckets that cover
	 * at least its window, compact (the cached, byte-exact form).
	 * Returns a string the caller frees, its length in *len; NULL if
	 * out of memory.  Pure.
	 */
	char *(*render)(int64_t t_ms, int n, const struct store_hourly *h,
	    size_t *len);
	/* Whether body[0..len) is such a document of n buckets.  Pure. */
	int (*valid)(const char *body, size_t len, int n);
};

extern const struct doc_kind docs_table[DOCS_NKINDS];

/* The longest window of any row: one read of it serves every document. */
#define DOCS_WINDOW_MAX HISTORY_HOURS_MAX

/* Every document of every row: the summary and 24 histories. */
#define DOCS_ALL (1 + HISTORY_HOURS_MAX)

/* A read of the series: the anchor T and the buckets of a window. */
struct docs_read {
	int64_t t_ms;
	struct store_hourly h;
	struct store_bucket buf[STORE_NSERIES * DOCS_WINDOW_MAX];
};

/*
 * The cache key of k's document of n buckets, from st's prefix; caller
 * frees.  NULL if out of memory.
 */
char *docs_key(const struct doc_kind *k, const struct store *st, int n);

/*
 * The document in words, for the log, into buf: "summary document",
 * "history document of 3 hours".
 */
void docs_describe(const struct doc_kind *k, int n, char *buf, size_t size);

/*
 * Read the anchor T (the newest sample, or now_ms with CFG_ANCHOR_NOW)
 * and the hourly buckets of the window of n hours ending with T's hour
 * (1 to DOCS_WINDOW_MAX) into rd.  Returns 1, 0 when the store holds no
 * sample at all, or -1 with err filled.
 */
int docs_read(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    int n, struct docs_read *rd, struct error *err);

/*
 * docs_read() of the window of k's document of n buckets, from the series'
 * keys that <prefix>:series names (store_series_load(): one HMGET): what
 * its render() takes.  Returns as docs_read(); -1 (STORE_ECONFIG) when k has
 * no such document.
 */
int docs_compute(const struct doc_kind *k, struct store *st,
    enum cfg_anchor anchor, int64_t now_ms, int n, struct docs_read *rd,
    struct error *err);

/* What a refresh writes: every document of every row, with its key. */
struct docs_set {
	size_t n;
	char *key[DOCS_ALL];
	char *body[DOCS_ALL];
	size_t len[DOCS_ALL];
	size_t end[DOCS_NKINDS];	/* row i's are [end[i - 1], end[i]) */
};

/*
 * Render every document of every row from rd (a read of DOCS_WINDOW_MAX
 * buckets) into set, which owns them (docs_set_free(), also on failure).
 * Returns 0, or -1 when out of memory.
 */
int docs_render_all(const struct store *st, const struct docs_read *rd,
    struct docs_set *set);

/*
 * Write them over whatever the cache holds (store_doc_put_all()), one
 * round trip per row, rows in table order.  Returns 0, or -1 with err
 * filled (the rows before are written).
 */
int docs_put_all(struct store *st, const struct docs_set *set, long ttl_s,
    struct error *err);

void docs_set_free(struct docs_set *set);

#endif
