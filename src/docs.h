/*
 * The served documents, one row each in one table (docs_init(), from the
 * settings): the summary and the history.  A document is a row and n, the
 * buckets of its window (the summary's is the setting's, the history's
 * asked for).  A row names its cache key, its window and bucket (an hour,
 * or a day), how it is built and rendered from a read of the series, and
 * the strict check of a cached body: the API serves it, the store caches
 * it at its key, the refresh primes it.
 */
#ifndef ISBITCOINLIT_DOCS_H
#define ISBITCOINLIT_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "history.h"
#include "store.h"
#include "summary.h"

enum docs_id { DOCS_SUMMARY, DOCS_HISTORY, DOCS_NKINDS };

struct doc_kind {
	const char *name;	/* "summary", "history": in the log */
	/*
	 * After the prefix: ":cache" (either bucket: the strict check
	 * refuses the other's), ":history:" (hours), ":history:d:" (days).
	 */
	const char *key_suffix;
	int key_n;		/* n follows the suffix: <prefix>:history:<n> */
	int64_t bucket_ms;	/* a bucket of the window: a UTC hour or day */
	const char *unit;	/* the buckets in words: "hours", "days" */
	int min_window;		/* n, in buckets: from min_window */
	int max_window;		/* to max_window (the summary: the window's) */
	/*
	 * k's document of n buckets for anchor T, from buckets that cover
	 * at least its window, compact (the cached, byte-exact form).
	 * Returns a string the caller frees, its length in *len; NULL if
	 * out of memory.  Pure.
	 */
	char *(*render)(const struct doc_kind *k, int64_t t_ms, int n,
	    const struct store_buckets *h, size_t *len);
	/* Whether body[0..len) is such a document of n buckets.  Pure. */
	int (*valid)(const struct doc_kind *k, const char *body, size_t len,
	    int n);
};

/* The table of one mode: hours or days, and the summary's window. */
struct docs {
	struct doc_kind kind[DOCS_NKINDS];
	int read_n;	/* the longest window of a row: one read serves all */
};

/* The table of the settings' mode (cfg->bucket, cfg->window). */
void docs_init(struct docs *d, const struct cfg *cfg);

/* The longest window of any row of any mode (31 days). */
#define DOCS_WINDOW_MAX (SUMMARY_WINDOW_MAX > HISTORY_MAX ? \
	SUMMARY_WINDOW_MAX : HISTORY_MAX)

/* Every document of every row: the summary and up to 31 histories. */
#define DOCS_ALL (1 + HISTORY_MAX)

/* A read of the series: the anchor T and the buckets of a window. */
struct docs_read {
	int64_t t_ms;
	struct store_buckets h;
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
 * and the buckets of bucket_ms of the window of n buckets ending with T's
 * (1 to DOCS_WINDOW_MAX) into rd.  Returns 1, 0 when the store holds no
 * sample at all, or -1 with err filled.
 */
int docs_read(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    int64_t bucket_ms, int n, struct docs_read *rd, struct error *err);

/* docs_read() of d's longest window: what docs_render_all() takes. */
int docs_read_all(const struct docs *d, struct store *st,
    enum cfg_anchor anchor, int64_t now_ms, struct docs_read *rd,
    struct error *err);

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
 * Render every document of every row of d from rd (docs_read_all()) into
 * set, which owns them (docs_set_free(), also on failure).  Returns 0, or
 * -1 when out of memory.
 */
int docs_render_all(const struct docs *d, const struct store *st,
    const struct docs_read *rd, struct docs_set *set);

/*
 * Write them over whatever the cache holds (store_doc_put_all()), one
 * round trip per row, rows in table order.  Returns 0, or -1 with err
 * filled (the rows before are written).
 */
int docs_put_all(struct store *st, const struct docs_set *set, long ttl_s,
    struct error *err);

void docs_set_free(struct docs_set *set);

#endif
