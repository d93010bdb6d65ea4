/*
 * Unit tests of the metrics: the rendering of a snapshot and of the
 * numbers read from Redis (exact lines), the histogram's buckets, and the
 * counters shared across fork().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"
#include "prom.h"
#include "testlib.h"

static void handler(struct http_request *req, void *ctx) { (void)req; (void)ctx; }

static const struct http_route routes[] = {
	{ "/is-bitcoin-lit", "GET, HEAD", handler },
	{ "/metrics", "GET, HEAD", handler },
};

/* Whether text holds line as a whole line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define LINE(text, line) CHECK(has_line((text), (line)), "has %s", (line))
#define NO_LINE(text, line) CHECK(!has_line((text), (line)), "no %s", (line))

/* The text of m's snapshot and r; caller frees. */
static char *
render(const struct metrics *m, const struct prom_redis *r)
{
	struct metrics_snapshot *s = malloc(sizeof(*s));
	char *text;
	size_t len = 0;

	metrics_snapshot(m, s);
	text = prom_render(s, r, &len);
	free(s);
	CHECK(text != NULL && strlen(text) == len, "rendered, length right");
	return text;
}

static void
pool_counters(void)
{
	struct metrics *m = metrics_create(routes, 2);
	struct prom_redis r;
	char *t;

	CHECK(m != NULL, "metrics_create");
	if (m == NULL)
		return;
	memset(&r, 0, sizeof(r));
	metrics_request(m, 0, 200, 500);	/* on the 0.5 ms bound */
	metrics_request(m, 0, 200, 501);	/* just over it */
	metrics_request(m, 0, 503, 20000000);	/* over the last bound */
	metrics_request(m, -1, 404, 10);
	metrics_request(m, 7, 404, 10);		/* no such route: other */
	metrics_request(m, 1, 42, 10);		/* no such status: 599 */
	metrics_cache(m, METRICS_CACHE_HIT);
	metrics_cache(m, METRICS_CACHE_HIT);
	metrics_cache(m, METRICS_CACHE_OFF);
	metrics_redis_error(m);
	metrics_worker_started(m);
	metrics_worker_started(m);
	metrics_worker_crashed(m);
	metrics_pool_size(m, 4, 3);
	t = render(m, &r);
	LINE(t, "# TYPE isbitcoinlit_api_requests_total counter");
	LINE(t, "isbitcoinlit_api_requests_total{route=\"/is-bitcoin-lit\",code=\"200\"} 2");
	LINE(t, "isbitcoinlit_api_requests_total{route=\"/is-bitcoin-lit\",code=\"503\"} 1");
	LINE(t, "isbitcoinlit_api_requests_total{route=\"/metrics\",code=\"200\"} 0");
	LINE(t, "isbitcoinlit_api_requests_total{route=\"/metrics\",code=\"599\"} 1");
	LINE(t, "isbitcoinlit_api_requests_total{route=\"other\",code=\"404\"} 2");
	NO_LINE(t, "isbitcoinlit_api_requests_total{route=\"other\",code=\"200\"} 0");
	NO_LINE(t, "isbitcoinlit_api_requests_total{route=\"/is-bitcoin-lit\",code=\"404\"} 0");
	LINE(t, "# TYPE isbitcoinlit_api_request_duration_seconds histogram");
	LINE(t, "isbitcoinlit_api_request_duration_seconds_bucket{route=\"/is-bitcoin-lit\",le=\"0.0005\"} 1");
	LINE(t, "isbitcoinlit_api_request_duration_seconds_bucket{route=\"/is-bitcoin-lit\",le=\"0.001\"} 2");
	LINE(t, "isbitcoinlit_api_request_duration_seconds_bucket{route=\"/is-bitcoin-lit\",le=\"10\"} 2");
	LINE(t, "isbitcoinlit_api_request_duration_seconds_bucket{route=\"/is-bitcoin-lit\",le=\"+Inf\"} 3");
	LINE(t, "isbitcoinlit_api_request_duration_seconds_sum{route=\"/is-bitcoin-lit\"} 20.001001");
	LINE(t, "isbitcoinlit_api_request_duration_seconds_count{route=\"/is-bitcoin-lit\"} 3");
	LINE(t, "isbitcoinlit_api_request_duration_seconds_bucket{route=\"other\",le=\"0.0005\"} 2");
	LINE(t, "isbitcoinlit_api_request_duration_seconds_sum{route=\"other\"} 0.000020");
	LINE(t, "isbitcoinlit_api_cache_lookups_total{result=\"hit\"} 2");
	LINE(t, "isbitcoinlit_api_cache_lookups_total{result=\"miss\"} 0");
	LINE(t, "isbitcoinlit_api_cache_lookups_total{result=\"off\"} 1");
	LINE(t, "isbitcoinlit_api_redis_errors_total 1");
	LINE(t, "isbitcoinlit_api_worker_starts_total 2");
	LINE(t, "isbitcoinlit_api_worker_crashes_total 1");
	LINE(t, "isbitcoinlit_api_workers 4");
	LINE(t, "isbitcoinlit_api_workers_running 3");
	/* Redis did not answer: only that is said of it */
	LINE(t, "isbitcoinlit_redis_up 0");
	CHECK(strstr(t, "isbitcoinlit_refresh_") == NULL &&
	    strstr(t, "isbitcoinlit_newest_sample") == NULL,
	    "without Redis, nothing kept in Redis is shown");
	free(t);
	metrics_free(m);
}

static void
redis_numbers(void)
{
	struct prom_redis r;
	char *t;

	memset(&r, 0, sizeof(r));
	r.up = 1;
	r.have_newest = 1;
	r.newest_ms = 1625679597123;
	r.have_stats = 1;
	r.stats.last_success_ms = 1795716000005;
	r.stats.last_duration_ms = 41;
	r.stats.successes = 3;
	r.stats.received = 8700;
	r.stats.valid = 8699;
	r.stats.invalid = 1;
	r.stats.expired = 60;
	r.stats.failures[STORE_REFRESH_UPSTREAM] = 2;
	r.stats.failures[STORE_REFRESH_LOCK_BUSY] = 5;
	t = render(NULL, &r);
	LINE(t, "isbitcoinlit_redis_up 1");
	LINE(t, "isbitcoinlit_newest_sample_timestamp_seconds 1625679597.123");
	LINE(t, "isbitcoinlit_refresh_last_success_timestamp_seconds 1795716000.005");
	LINE(t, "isbitcoinlit_refresh_last_duration_seconds 0.041");
	LINE(t, "isbitcoinlit_refresh_successes_total 3");
	LINE(t, "# TYPE isbitcoinlit_refresh_failures_total counter");
	LINE(t, "isbitcoinlit_refresh_failures_total{cause=\"upstream\"} 2");
	LINE(t, "isbitcoinlit_refresh_failures_total{cause=\"redis\"} 0");
	LINE(t, "isbitcoinlit_refresh_failures_total{cause=\"lock_busy\"} 5");
	LINE(t, "isbitcoinlit_refresh_failures_total{cause=\"not_replicated\"} 0");
	LINE(t, "isbitcoinlit_refresh_failures_total{cause=\"internal\"} 0");
	LINE(t, "isbitcoinlit_refresh_failures_total{cause=\"permission\"} 0");
	LINE(t, "isbitcoinlit_refresh_samples_received_total 8700");
	LINE(t, "isbitcoinlit_refresh_samples_valid_total 8699");
	LINE(t, "isbitcoinlit_refresh_samples_invalid_total 1");
	LINE(t, "isbitcoinlit_refresh_samples_expired_total 60");
	/* no pool: zeros, no route but other */
	LINE(t, "isbitcoinlit_api_workers 0");
	free(t);

	/* before any sample and any success; a time before 1970 stays exact */
	r.have_newest = 0;
	r.stats.last_success_ms = r.stats.last_duration_ms = -1;
	t = render(NULL, &r);
	CHECK(strstr(t, "isbitcoinlit_newest_sample") == NULL,
	    "no sample: no newest sample time");
	CHECK(strstr(t, "isbitcoinlit_refresh_last_") == NULL,
	    "no success: no last success or duration");
	LINE(t, "isbitcoinlit_refresh_successes_total 3");
	free(t);
	r.have_newest = 1;
	r.newest_ms = -1500;
	t = render(NULL, &r);
	LINE(t, "isbitcoinlit_newest_sample_timestamp_seconds -1.500");
	free(t);
}

/* A forked worker counts where its master reads. */
static void
shared_across_fork(void)
{
	struct metrics *m = metrics_create(routes, 2);
	struct metrics_snapshot *s = malloc(sizeof(*s));
	pid_t pid;
	int ws = -1;

	if (m == NULL || s == NULL) {
		CHECK(0, "metrics_create");
		free(s);
		metrics_free(m);
		return;
	}
	metrics_request(m, 1, 200, 100);
	if ((pid = fork()) == 0) {
		for (int i = 0; i < 1000; i++)
			metrics_request(m, 1, 200, 100);
		metrics_worker_crashed(m);
		_exit(0);
	}
	for (int i = 0; i < 1000; i++)
		metrics_request(m, 1, 200, 100);
	waitpid(pid, &ws, 0);
	metrics_snapshot(m, s);
	CHECK_INT(s->c.requests[1][200 - METRICS_STATUS_MIN], 2001,
	    "the child's and the parent's requests, none lost");
	CHECK_INT(s->c.duration_sum_us[1], 200100, "their durations");
	CHECK_INT(s->c.worker_crashes, 1, "the child's crash count");
	free(s);
	metrics_free(m);
}

int
main(void)
{
	struct metrics_snapshot *s = malloc(sizeof(*s));

	pool_counters();
	redis_numbers();
	shared_across_fork();
	CHECK(metrics_create(routes, METRICS_ROUTES_MAX + 1) == NULL,
	    "more routes than METRICS_ROUTES_MAX: refused");
	metrics_snapshot(NULL, s);
	CHECK(s->nroutes == 0 && s->c.worker_starts == 0, "a NULL snapshot is zero");
	free(s);
	return tl_done();
}
