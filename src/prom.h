/*
 * GET /metrics in the Prometheus text exposition format (version 0.0.4):
 * the pool's counters (metrics.h) and what Redis holds (the newest
 * sample, the refresh's numbers).  Reading Redis is the one I/O here; the
 * rendering is pure: a snapshot and what was read go in, text comes out.
 */
#ifndef ISBITCOINLIT_PROM_H
#define ISBITCOINLIT_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "metrics.h"
#include "store.h"

/* The Content-Type of the rendering. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What one scrape read from Redis. */
struct prom_redis {
	int up;			/* Redis answered: the rest is known */
	int have_newest;	/* a sample is stored */
	int64_t newest_ms;
	int have_stats;		/* the refresh's numbers were read */
	struct store_refresh_stats stats;
};

/*
 * Read the newest sample and the refresh's numbers from st into *r
 * (zeroed first).  Returns 0 with r->up set, or -1 with err filled (r
 * then says Redis is down).
 */
int prom_read(struct store *st, struct prom_redis *r, struct error *err);

/*
 * The exposition text of s and r: a NUL-terminated string (caller frees)
 * and its length in *len, or NULL when out of memory.  Pure.
 */
char *prom_render(const struct metrics_snapshot *s,
    const struct prom_redis *r, size_t *len);

#endif
