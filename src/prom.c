/*
 * GET /metrics: the Prometheus text exposition of the pool's counters and
 * of the numbers a scrape reads from Redis.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

/* The upper bounds of the histogram's finite buckets, as written. */
static const char *const bucket_le[METRICS_BUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10"
};

static const char *const cache_names[METRICS_NCACHE] = { "hit", "miss", "off" };

int
prom_read(struct store *st, struct prom_redis *r, struct error *err)
{
	int found = 0;

	memset(r, 0, sizeof(*r));
	if (store_series_load(st, err) < 0 ||
	    store_newest(st, &r->newest_ms, &found, err) < 0 ||
	    store_refresh_stats(st, &r->stats, err) < 0)
		return -1;
	r->up = 1;
	r->have_newest = found;
	r->have_stats = 1;
	return 0;
}

/* A growing text; failed sticks once out of memory. */
struct out {
	char *buf;
	size_t len, cap;
	int failed;
};

static void
put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->buf != NULL ? o->buf + o->len : NULL, room,
		    fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 8192;
		char *p;

		while (cap - o->len <= (size_t)n)
			cap *= 2;
		if ((p = realloc(o->buf, cap)) == NULL) {
			o->failed = 1;
			return;
		}
		o->buf = p;
		o->cap = cap;
	}
}

/* The HELP and TYPE lines of a metric family. */
static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Milliseconds as seconds, exactly: "1625679597.123". */
static void
put_ms(struct out *o, int64_t ms)
{
	uint64_t a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;

	put(o, "%s%" PRIu64 ".%03u\n", ms < 0 ? "-" : "", a / 1000,
	    (unsigned)(a % 1000));
}

/* Microseconds as seconds, exactly. */
static void
put_us(struct out *o, uint64_t us)
{
	put(o, "%" PRIu64 ".%06u\n", us / 1000000, (unsigned)(us % 1000000));
}

static const char *
route_name(const struct metrics_snapshot *s, size_t r)
{
	return r < s->nroutes ? s->route[r] : "other";
}

static void
render_pool(struct out *o, const struct metrics_snapshot *s)
{
	family(o, "isbitcoinlit_api_requests_total", "counter",
	    "Requests answered by the api pool, by route and status code.");
	for (size_t r = 0; r <= s->nroutes; r++)
		for (size_t i = 0; i < METRICS_STATUS_N; i++)
			/* every route's 200, then any code seen */
			if (s->requests[r][i] > 0 || (r < s->nroutes &&
			    i == 200 - METRICS_STATUS_MIN))
				put(o, "isbitcoinlit_api_requests_total{route=\"%s\","
				    "code=\"%zu\"} %" PRIu64 "\n",
				    route_name(s, r), i + METRICS_STATUS_MIN,
				    s->requests[r][i]);

	family(o, "isbitcoinlit_api_request_duration_seconds", "histogram",
	    "Time from a worker taking a request to its complete response, by "
	    "route.");
	for (size_t r = 0; r <= s->nroutes; r++) {
		uint64_t cum = 0;

		for (size_t b = 0; b < METRICS_BUCKETS; b++) {
			cum += s->bucket[r][b];
			put(o, "isbitcoinlit_api_request_duration_seconds_bucket"
			    "{route=\"%s\",le=\"%s\"} %" PRIu64 "\n",
			    route_name(s, r), bucket_le[b], cum);
		}
		cum += s->bucket[r][METRICS_BUCKETS];
		put(o, "isbitcoinlit_api_request_duration_seconds_bucket"
		    "{route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
		    route_name(s, r), cum);
		put(o, "isbitcoinlit_api_request_duration_seconds_sum"
		    "{route=\"%s\"} ", route_name(s, r));
		put_us(o, s->duration_sum_us[r]);
		put(o, "isbitcoinlit_api_request_duration_seconds_count"
		    "{route=\"%s\"} %" PRIu64 "\n", route_name(s, r), cum);
	}

	family(o, "isbitcoinlit_api_cache_lookups_total", "counter",
	    "Documents served from the cache (hit), computed after a miss "
	    "(miss), or computed with the cache off (off).");
	for (size_t i = 0; i < METRICS_NCACHE; i++)
		put(o, "isbitcoinlit_api_cache_lookups_total{result=\"%s\"} %"
		    PRIu64 "\n", cache_names[i], s->cache[i]);

	family(o, "isbitcoinlit_api_redis_errors_total", "counter",
	    "Redis commands of the api pool that failed (no answer, a "
	    "refusal, an unexpected reply).");
	put(o, "isbitcoinlit_api_redis_errors_total %" PRIu64 "\n",
	    s->redis_errors);

	family(o, "isbitcoinlit_api_worker_starts_total", "counter",
	    "Worker processes the pool started, the first ones included.");
	put(o, "isbitcoinlit_api_worker_starts_total %" PRIu64 "\n",
	    s->worker_starts);
	family(o, "isbitcoinlit_api_worker_crashes_total", "counter",
	    "Workers that died from a signal or exited with a failure.");
	put(o, "isbitcoinlit_api_worker_crashes_total %" PRIu64 "\n",
	    s->worker_crashes);
	family(o, "isbitcoinlit_api_workers", "gauge",
	    "Worker processes the pool is configured to run.");
	put(o, "isbitcoinlit_api_workers %" PRIu64 "\n", s->workers);
	family(o, "isbitcoinlit_api_workers_running", "gauge",
	    "Worker processes running now.");
	put(o, "isbitcoinlit_api_workers_running %" PRIu64 "\n",
	    s->workers_running);
}

static void
render_redis(struct out *o, const struct prom_redis *r)
{
	const struct store_refresh_stats *st = &r->stats;

	family(o, "isbitcoinlit_redis_up", "gauge",
	    "1 when this scrape could read Redis, else 0 (and the numbers "
	    "kept in Redis are left out).");
	put(o, "isbitcoinlit_redis_up %d\n", r->up ? 1 : 0);
	if (!r->up)
		return;
	if (r->have_newest) {
		family(o, "isbitcoinlit_newest_sample_timestamp_seconds",
		    "gauge", "Time of the newest stored sample, Unix seconds.");
		put(o, "isbitcoinlit_newest_sample_timestamp_seconds ");
		put_ms(o, r->newest_ms);
	}
	if (!r->have_stats)
		return;
	if (st->last_success_ms >= 0) {
		family(o, "isbitcoinlit_refresh_last_success_timestamp_seconds",
		    "gauge", "When the last successful refresh ended, Unix "
		    "seconds.");
		put(o, "isbitcoinlit_refresh_last_success_timestamp_seconds ");
		put_ms(o, st->last_success_ms);
	}
	if (st->last_duration_ms >= 0) {
		family(o, "isbitcoinlit_refresh_last_duration_seconds", "gauge",
		    "How long the last successful refresh took.");
		put(o, "isbitcoinlit_refresh_last_duration_seconds ");
		put_ms(o, st->last_duration_ms);
	}
	family(o, "isbitcoinlit_refresh_successes_total", "counter",
	    "Refreshes that succeeded, on every refresh host.");
	put(o, "isbitcoinlit_refresh_successes_total %" PRIu64 "\n",
	    st->successes);
	family(o, "isbitcoinlit_refresh_failures_total", "counter",
	    "Refreshes that failed, by cause.");
	for (int c = 0; c < STORE_REFRESH_NCAUSES; c++)
		put(o, "isbitcoinlit_refresh_failures_total{cause=\"%s\"} %"
		    PRIu64 "\n", store_refresh_cause_name(c), st->failures[c]);
	family(o, "isbitcoinlit_refresh_feed_failures_total", "counter",
	    "Refreshes in which the feed of a series failed (download or "
	    "validation), by the feed's role.");
	for (int i = 0; i < STORE_NSERIES; i++)
		put(o, "isbitcoinlit_refresh_feed_failures_total{role=\"%s\"} %"
		    PRIu64 "\n", store_series_name(i), st->feed_failures[i]);
	family(o, "isbitcoinlit_refresh_samples_received_total", "counter",
	    "Feed elements received by successful refreshes.");
	put(o, "isbitcoinlit_refresh_samples_received_total %" PRIu64 "\n",
	    st->received);
	family(o, "isbitcoinlit_refresh_samples_valid_total", "counter",
	    "Valid samples among them.");
	put(o, "isbitcoinlit_refresh_samples_valid_total %" PRIu64 "\n",
	    st->valid);
	family(o, "isbitcoinlit_refresh_samples_invalid_total", "counter",
	    "Invalid feed elements among them, skipped.");
	put(o, "isbitcoinlit_refresh_samples_invalid_total %" PRIu64 "\n",
	    st->invalid);
	family(o, "isbitcoinlit_refresh_samples_expired_total", "counter",
	    "Valid samples older than the retention, dropped.");
	put(o, "isbitcoinlit_refresh_samples_expired_total %" PRIu64 "\n",
	    st->expired);
}

char *
prom_render(const struct metrics_snapshot *s,
    const struct prom_redis *r, size_t *len)
{
	struct out o = { NULL, 0, 0, 0 };

	render_pool(&o, s);
	render_redis(&o, r);
	if (o.failed || o.buf == NULL) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
