/* The api pool's counters in shared memory. */
#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "http.h"
#include "metrics.h"

/* Shared by processes: the counters must be lock-free, hence address-free. */
#if ATOMIC_LLONG_LOCK_FREE != 2
#error "64-bit atomics are not lock-free here: no counters in shared memory"
#endif

typedef _Atomic unsigned long long counter;

/* The numbers of struct metrics_counts, which holds nothing else. */
#define NCOUNTS (sizeof(struct metrics_counts) / sizeof(uint64_t))
_Static_assert(sizeof(struct metrics_counts) == NCOUNTS * sizeof(uint64_t),
    "struct metrics_counts holds only uint64_t");

/* The index in the region of the first number of a field. */
#define AT(field) (offsetof(struct metrics_counts, field) / sizeof(uint64_t))

/*
 * The region every process of the pool maps; zeroed by mmap.  c[i] is the
 * i-th number of struct metrics_counts.
 */
struct shared {
	counter c[NCOUNTS];
};

struct metrics {
	struct shared *sh;
	size_t nroutes;
	const char *route[METRICS_ROUTES_MAX];
};

const uint64_t metrics_bucket_us[METRICS_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};

struct metrics *
metrics_create(const struct http_route *routes, size_t n)
{
	struct metrics *m;
	void *p;

	if (n > METRICS_ROUTES_MAX || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		free(m);
		return NULL;
	}
	m->sh = p;
	m->nroutes = n;
	for (size_t i = 0; i < n; i++)
		m->route[i] = routes[i].path;
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	munmap(m->sh, sizeof(struct shared));
	free(m);
}

/* Counting needs no order with anything else: relaxed adds. */
static void
add(struct metrics *m, size_t at, unsigned long long v)
{
	atomic_fetch_add_explicit(&m->sh->c[at], v, memory_order_relaxed);
}

static void
set(struct metrics *m, size_t at, unsigned long long v)
{
	atomic_store_explicit(&m->sh->c[at], v, memory_order_relaxed);
}

void
metrics_request(struct metrics *m, int route, int status, uint64_t duration_us)
{
	size_t r, b = 0;

	if (m == NULL)
		return;
	r = route >= 0 && (size_t)route < m->nroutes ? (size_t)route :
	    m->nroutes;
	if (status < METRICS_STATUS_MIN ||
	    status >= METRICS_STATUS_MIN + METRICS_STATUS_N)
		status = METRICS_STATUS_MIN + METRICS_STATUS_N - 1;
	while (b < METRICS_BUCKETS && duration_us > metrics_bucket_us[b])
		b++;
	add(m, AT(requests) + r * METRICS_STATUS_N +
	    (size_t)(status - METRICS_STATUS_MIN), 1);
	add(m, AT(bucket) + r * (METRICS_BUCKETS + 1) + b, 1);
	add(m, AT(duration_sum_us) + r, duration_us);
}

void
metrics_cache(struct metrics *m, enum metrics_cache result)
{
	if (m != NULL && (unsigned)result < METRICS_NCACHE)
		add(m, AT(cache) + result, 1);
}

void
metrics_redis_error(struct metrics *m)
{
	if (m != NULL)
		add(m, AT(redis_errors), 1);
}

void
metrics_worker_started(struct metrics *m)
{
	if (m != NULL)
		add(m, AT(worker_starts), 1);
}

void
metrics_worker_crashed(struct metrics *m)
{
	if (m != NULL)
		add(m, AT(worker_crashes), 1);
}

void
metrics_pool_size(struct metrics *m, unsigned workers, unsigned running)
{
	if (m == NULL)
		return;
	set(m, AT(workers), workers);
	set(m, AT(workers_running), running);
}

void
metrics_snapshot(const struct metrics *m, struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	if (m == NULL)
		return;
	s->nroutes = m->nroutes;
	for (size_t r = 0; r < m->nroutes; r++)
		s->route[r] = m->route[r];
	for (size_t i = 0; i < NCOUNTS; i++) {
		uint64_t v = atomic_load_explicit(&m->sh->c[i],
		    memory_order_relaxed);

		memcpy((char *)&s->c + i * sizeof(v), &v, sizeof(v));
	}
}
