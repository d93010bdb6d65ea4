/* The cached summary: <prefix>:cache, the exact compact JSON body. */
#ifndef ISBITCOINLIT_CACHE_H
#define ISBITCOINLIT_CACHE_H

#include <stddef.h>

#include "store.h"

/*
 * Fetch the cached body.  Returns 1 with *body (caller frees) and *len,
 * 0 on a miss, -1 with err filled when Redis failed.
 */
int cache_get(struct store *st, char **body, size_t *len,
    struct store_error *err);

/* SET <prefix>:cache body EX ttl_s.  Returns 0 or -1 with err filled. */
int cache_put(struct store *st, const char *body, size_t len, long ttl_s,
    struct store_error *err);

#endif
