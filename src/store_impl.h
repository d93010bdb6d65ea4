/* What a store backend implements, and helpers the backends share. */
#ifndef ISBITCOINLIT_STORE_IMPL_H
#define ISBITCOINLIT_STORE_IMPL_H

#include <hiredis/hiredis.h>

#include "store.h"

struct store_ops {
	const char *name;
	int (*add)(struct store *, const struct store_point *, size_t,
	    struct store_counts *, struct store_error *);
	/* newest timestamp of each series; found[i] = 0 for an empty one */
	int (*newest)(struct store *, int64_t ts[STORE_NSERIES],
	    int found[STORE_NSERIES], struct store_error *);
	int (*hourly)(struct store *, int64_t, int64_t, struct store_hourly *,
	    struct store_error *);
};

extern const struct store_ops store_rts_ops;
extern const struct store_ops store_zset_ops;

/* Fill err and return -1. */
int store_fail(struct store_error *err, enum store_status status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Turn a NULL reply (connection failure) or an error reply into err, naming
 * the key when there is one.  Returns -1, or 0 when r is a usable reply.
 */
int store_check_reply(struct store *st, const redisReply *r, const char *key,
    struct store_error *err);

/* Parse a reply holding a number (integer, string or status). */
int store_reply_double(const redisReply *r, double *out);
int store_reply_int64(const redisReply *r, int64_t *out);

#endif
