/*
 * The api pool's counters for GET /metrics (prom.h writes them out).  The
 * counters live in one region of shared memory that the master maps
 * before it forks: every worker adds to it with C11 atomics (no lock, no
 * Redis round trip), so any worker answers for the whole pool.
 */
#ifndef ISBITCOINLIT_METRICS_H
#define ISBITCOINLIT_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct http_route;

/* Routes counted by name; requests to any other path count as "other". */
#define METRICS_ROUTES_MAX 8
/* Status codes counted one by one: 100 to 599; others count as 599. */
#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_N 500
/* The finite buckets of the duration histogram (0.5 ms to 10 s). */
#define METRICS_BUCKETS 14

enum metrics_cache { METRICS_CACHE_HIT, METRICS_CACHE_MISS, METRICS_CACHE_OFF,
	METRICS_NCACHE };

/* The counters: a process-local handle on the shared region. */
struct metrics;

/*
 * Map the shared counters for a pool serving routes (at most
 * METRICS_ROUTES_MAX; their paths are kept by pointer, so the table must
 * outlive the pool).  Call before forking: the workers inherit the
 * mapping.  Returns the handle, or NULL (out of memory, mmap failed).
 */
struct metrics *metrics_create(const struct http_route *routes, size_t n);
void metrics_free(struct metrics *m);

/*
 * Count one request: route is an index into the routes given to
 * metrics_create() or -1 for no route, status the one answered,
 * duration_us from the worker taking it to its response being complete.
 * m may be NULL (nothing counted); the same for every function below.
 */
void metrics_request(struct metrics *m, int route, int status,
    uint64_t duration_us);
void metrics_cache(struct metrics *m, enum metrics_cache result);
void metrics_redis_error(struct metrics *m);

/* The master: a worker started; one ended by a signal or a failure. */
void metrics_worker_started(struct metrics *m);
void metrics_worker_crashed(struct metrics *m);
/* The pool's size (workers configured) and how many run now. */
void metrics_pool_size(struct metrics *m, unsigned workers, unsigned running);

/*
 * The counters as plain numbers, all uint64_t: a snapshot's, and (as
 * atomics, one for each number in the same order) the shared region's.
 * prom.c's table names each field's family in the text.
 */
struct metrics_counts {
	/* [nroutes] is "other"; status s at [s - METRICS_STATUS_MIN] */
	uint64_t requests[METRICS_ROUTES_MAX + 1][METRICS_STATUS_N];
	/* per bucket, not cumulative; [METRICS_BUCKETS] is over the last */
	uint64_t bucket[METRICS_ROUTES_MAX + 1][METRICS_BUCKETS + 1];
	uint64_t duration_sum_us[METRICS_ROUTES_MAX + 1];
	uint64_t cache[METRICS_NCACHE];
	uint64_t redis_errors;
	uint64_t worker_starts, worker_crashes;
	uint64_t workers, workers_running;	/* set, not added */
};

/* The upper bounds of the finite buckets, in microseconds. */
extern const uint64_t metrics_bucket_us[METRICS_BUCKETS];

/* A copy of the counters at one moment. */
struct metrics_snapshot {
	size_t nroutes;				/* named ones */
	const char *route[METRICS_ROUTES_MAX];
	struct metrics_counts c;
};

/* Fill s from m (all zero when m is NULL). */
void metrics_snapshot(const struct metrics *m, struct metrics_snapshot *s);

#endif
