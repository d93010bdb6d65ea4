/* The api pool's counters in shared memory. */
#include "config.h"

#include <stdatomic.h>
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

/* The region every process of the pool maps; zeroed by mmap. */
struct shared {
	counter requests[METRICS_ROUTES_MAX + 1][METRICS_STATUS_N];
	counter bucket[METRICS_ROUTES_MAX + 1][METRICS_BUCKETS + 1];
	counter duration_sum_us[METRICS_ROUTES_MAX + 1];
	counter cache[METRICS_NCACHE];
	counter redis_errors;
	counter worker_starts, worker_crashes;
	counter workers, workers_running;
};

struct metrics {
	struct shared *sh;
	size_t nroutes;
	const char *route[METRICS_ROUTES_MAX];
};

/* Upper bounds of the finite buckets, in microseconds. */
static const uint64_t bucket_us[METRICS_BUCKETS] = {
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
add(counter *c, unsigned long long v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static uint64_t
get(const counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
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
	while (b < METRICS_BUCKETS && duration_us > bucket_us[b])
		b++;
	add(&m->sh->requests[r][status - METRICS_STATUS_MIN], 1);
	add(&m->sh->bucket[r][b], 1);
	add(&m->sh->duration_sum_us[r], duration_us);
}

void
metrics_cache(struct metrics *m, enum metrics_cache result)
{
	if (m != NULL && (unsigned)result < METRICS_NCACHE)
		add(&m->sh->cache[result], 1);
}

void
metrics_redis_error(struct metrics *m)
{
	if (m != NULL)
		add(&m->sh->redis_errors, 1);
}

void
metrics_worker_started(struct metrics *m)
{
	if (m != NULL)
		add(&m->sh->worker_starts, 1);
}

void
metrics_worker_crashed(struct metrics *m)
{
	if (m != NULL)
		add(&m->sh->worker_crashes, 1);
}

void
metrics_pool_size(struct metrics *m, unsigned workers, unsigned running)
{
	if (m == NULL)
		return;
	atomic_store_explicit(&m->sh->workers, workers, memory_order_relaxed);
	atomic_store_explicit(&m->sh->workers_running, running,
	    memory_order_relaxed);
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
	for (size_t r = 0; r <= m->nroutes; r++) {
		for (size_t i = 0; i < METRICS_STATUS_N; i++)
			s->requests[r][i] = get(&m->sh->requests[r][i]);
		for (size_t b = 0; b <= METRICS_BUCKETS; b++)
			s->bucket[r][b] = get(&m->sh->bucket[r][b]);
		s->duration_sum_us[r] = get(&m->sh->duration_sum_us[r]);
	}
	for (size_t i = 0; i < METRICS_NCACHE; i++)
		s->cache[i] = get(&m->sh->cache[i]);
	s->redis_errors = get(&m->sh->redis_errors);
	s->worker_starts = get(&m->sh->worker_starts);
	s->worker_crashes = get(&m->sh->worker_crashes);
	s->workers = get(&m->sh->workers);
	s->workers_running = get(&m->sh->workers_running);
}
