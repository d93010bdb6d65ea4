/*
 * The store's private header: what a backend implements and the helpers
 * the store's files share.  Included only by src/store*.c.
 */
#ifndef ISBITCOINLIT_STORE_IMPL_H
#define ISBITCOINLIT_STORE_IMPL_H

#include <hiredis/hiredis.h>

#include "conn.h"
#include "store.h"

/* Words a command of store_per_series() may have. */
#define STORE_MAX_ARGC 8

/*
 * A backend, and its row in the one table of backends (store.c): the
 * setting that asks for it, the TYPE that Redis answers for its keys, and
 * its operations.  Its name is the setting's (cfg_timeseries_name()).
 */
struct store_ops {
	enum cfg_timeseries id;
	const char *type_reply;
	/*
	 * each series in the mask from its own stream, by its duplicate
	 * policy, and its key recorded in the map; counts zeroed by
	 * store_add_some
	 */
	int (*add)(struct store *, const struct stream[STORE_NSERIES],
	    unsigned, struct store_counts *, struct error *);
	/*
	 * the newest sample of a series: this command of newest_argc words
	 * (the second stands for the series' key), answered by [] for an
	 * empty series, else a pair with the time at newest_ts (0 or 1); an
	 * error reply that newest_benign() holds (if set) means no series
	 */
	const char *newest_argv[STORE_MAX_ARGC];
	int newest_argc;
	int (*newest_benign)(const redisReply *r);
	size_t newest_ts;
	/* by buckets of bucket_ms; out->cap is enough (store_buckets()) */
	int (*buckets)(struct store *, int64_t from_ms, int64_t to_ms,
	    int64_t bucket_ms, struct store_buckets *out, struct error *);
};

extern const struct store_ops store_rts_ops;
extern const struct store_ops store_zset_ops;

/*
 * Turn a NULL reply (connection failure) or an error reply into err, naming
 * the key when there is one.  Returns -1, or 0 when r is a usable reply.
 */
int store_check_reply(struct store *st, const redisReply *r, const char *key,
    struct error *err);

/* An error reply that a caller takes as an answer (e.g. "no such key"). */
typedef int (*store_benign_fn)(const redisReply *r);

/*
 * Send n commands in one round trip and check every reply: keys[i] names
 * command i's key in errors (or NULL).  An error reply for which benign()
 * holds is freed and left NULL in r[i]; any other error fails the call.
 * Returns 0 with r[0..n-1] (NULL or a usable reply; free with
 * store_replies_free), or -1 with err filled and every r[i] freed.
 */
int store_pipeline(struct store *st, size_t n, const int *argcs,
    const char **const *argvs, const char *const *keys, redisReply **r,
    store_benign_fn benign, struct error *err);
void store_replies_free(redisReply **r, size_t n);

/*
 * Run one command per series in one round trip, as store_pipeline():
 * argv (argc words) with argv[1] standing for the key, replaced by each
 * series' key.
 */
int store_per_series(struct store *st, int argc, const char *const *argv,
    redisReply *r[STORE_NSERIES], store_benign_fn benign, struct error *err);


/*
 * The samples of all streams together.  Each stream is an array in
 * memory, so the total is below SIZE_MAX / 8: a few words per sample do
 * not overflow a size_t.
 */
size_t store_stream_total(const struct stream pts[STORE_NSERIES]);

/* The largest magnitude store_reply_int64() takes: 2^53. */
#define STORE_INT_MAX INT64_C(9007199254740992)

/*
 * Parse a reply holding a number (integer, string or status): a finite
 * double; an integer of magnitude at most STORE_INT_MAX.  Returns 0 or -1.
 */
int store_reply_double(const redisReply *r, double *out);
int store_reply_int64(const redisReply *r, int64_t *out);

#endif
