/*
 * GET /metrics: the Prometheus text exposition of the pool's counters and
 * of the numbers a scrape reads from Redis.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "prom.h"

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

/* Milliseconds as seconds, exactly: "1625679597.123". */
static void
put_ms(struct buf *o, int64_t ms)
{
	uint64_t a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;

	buf_printf(o, "%s%" PRIu64 ".%03u\n", ms < 0 ? "-" : "", a / 1000,
	    (unsigned)(a % 1000));
}

/* Microseconds as seconds, exactly. */
static void
put_us(struct buf *o, uint64_t us)
{
	buf_printf(o, "%" PRIu64 ".%06u\n", us / 1000000,
	    (unsigned)(us % 1000000));
}

static const char *
route_name(const struct metrics_snapshot *s, size_t r)
{
	return r < s->nroutes ? s->route[r] : "other";
}

/*
 * "le" of a bucket: its bound in seconds, exactly, with no trailing zero
 * ("0.0005", "2.5", "10").
 */
static const char *
bucket_le(uint64_t us, char buf[32])
{
	char *end;

	snprintf(buf, 32, "%" PRIu64 ".%06u", us / 1000000,
	    (unsigned)(us % 1000000));
	end = buf + strlen(buf);
	while (end[-1] == '0')
		*--end = '\0';
	if (end[-1] == '.')
		end[-1] = '\0';
	return buf;
}

static const char *
cache_name(size_t i)
{
	static const char *const names[METRICS_NCACHE] = { "hit", "miss",
	    "off" };

	return names[i];
}

static const char *
cause_name(size_t i)
{
	return store_refresh_cause_name((enum store_refresh_cause)i);
}

static const char *
role_name(size_t i)
{
	return store_series_name((enum store_series)i);
}

/* Where a family's numbers are, and so when it is shown. */
enum source {
	FROM_POOL,		/* the snapshot's counters: always */
	FROM_REDIS,		/* what the scrape read: always (whether it could) */
	FROM_NEWEST,		/* when Redis answered and holds a sample */
	FROM_STATS,		/* when Redis answered with the refresh's numbers */
};

/* What one scrape renders. */
struct scrape {
	const struct metrics_snapshot *s;
	const struct prom_redis *r;
};

/* A metric family: one row of the text, in the order written. */
struct family {
	const char *name;
	const char *type;
	const char *help;
	enum source from;
	/* its first number: offset in struct metrics_counts (FROM_POOL) or
	 * struct prom_redis */
	size_t at;
	/* the lines under HELP and TYPE */
	void (*samples)(struct buf *, const struct family *,
	    const struct scrape *);
	/* numbers [0, n) by this label, named by label_value(); or NULL */
	const char *label;
	size_t n;
	const char *(*label_value)(size_t);
	int unless_negative;	/* shown only when the number is >= 0 */
};

/* The bytes of number i of f in sc. */
static const char *
number(const struct family *f, const struct scrape *sc, size_t i)
{
	const char *base = f->from == FROM_POOL ? (const char *)&sc->s->c :
	    (const char *)sc->r;

	return base + f->at + i * sizeof(uint64_t);
}

static uint64_t
count(const struct family *f, const struct scrape *sc, size_t i)
{
	uint64_t v;

	memcpy(&v, number(f, sc, i), sizeof(v));
	return v;
}

static int64_t
ms(const struct family *f, const struct scrape *sc)
{
	int64_t v;

	memcpy(&v, number(f, sc, 0), sizeof(v));
	return v;
}

/* Counts: one, or one for each value of the label. */
static void
counts(struct buf *o, const struct family *f, const struct scrape *sc)
{
	if (f->label == NULL) {
		buf_printf(o, "%s %" PRIu64 "\n", f->name, count(f, sc, 0));
		return;
	}
	for (size_t i = 0; i < f->n; i++)
		buf_printf(o, "%s{%s=\"%s\"} %" PRIu64 "\n", f->name, f->label,
		    f->label_value(i), count(f, sc, i));
}

/* A time or an interval in milliseconds, as seconds. */
static void
seconds(struct buf *o, const struct family *f, const struct scrape *sc)
{
	buf_printf(o, "%s ", f->name);
	put_ms(o, ms(f, sc));
}

static void
redis_up(struct buf *o, const struct family *f, const struct scrape *sc)
{
	buf_printf(o, "%s %d\n", f->name, sc->r->up ? 1 : 0);
}

/* By route and status: every route's 200, then any code seen. */
static void
requests(struct buf *o, const struct family *f, const struct scrape *sc)
{
	const struct metrics_snapshot *s = sc->s;

	for (size_t r = 0; r <= s->nroutes; r++)
		for (size_t i = 0; i < METRICS_STATUS_N; i++)
			if (s->c.requests[r][i] > 0 || (r < s->nroutes &&
			    i == 200 - METRICS_STATUS_MIN))
				buf_printf(o, "%s{route=\"%s\",code=\"%zu\"} "
				    "%" PRIu64 "\n", f->name, route_name(s, r),
				    i + METRICS_STATUS_MIN, s->c.requests[r][i]);
}

/* The histogram of each route: cumulative buckets, sum, count. */
static void
durations(struct buf *o, const struct family *f, const struct scrape *sc)
{
	const struct metrics_snapshot *s = sc->s;
	char le[32];

	for (size_t r = 0; r <= s->nroutes; r++) {
		const char *route = route_name(s, r);
		uint64_t cum = 0;

		for (size_t b = 0; b < METRICS_BUCKETS; b++) {
			cum += s->c.bucket[r][b];
			buf_printf(o, "%s_bucket{route=\"%s\",le=\"%s\"} "
			    "%" PRIu64 "\n", f->name, route,
			    bucket_le(metrics_bucket_us[b], le), cum);
		}
		cum += s->c.bucket[r][METRICS_BUCKETS];
		buf_printf(o, "%s_bucket{route=\"%s\",le=\"+Inf\"} "
		    "%" PRIu64 "\n", f->name, route, cum);
		buf_printf(o, "%s_sum{route=\"%s\"} ", f->name, route);
		put_us(o, s->c.duration_sum_us[r]);
		buf_printf(o, "%s_count{route=\"%s\"} %" PRIu64 "\n", f->name,
		    route, cum);
	}
}

/* Where a row's numbers are: in the pool's counters, or in what was read. */
#define POOL(field) .from = FROM_POOL, \
	.at = offsetof(struct metrics_counts, field)
#define READ(when, field) .from = (when), \
	.at = offsetof(struct prom_redis, field)

/* Every family, in the order of the text. */
static const struct family families[] = {
	{ "isbitcoinlit_api_requests_total", "counter",
	    "Requests answered by the api pool, by route and status code.",
	    POOL(requests), .samples = requests },
	{ "isbitcoinlit_api_request_duration_seconds", "histogram",
	    "Time from a worker taking a request to its complete response, by "
	    "route.",
	    POOL(bucket), .samples = durations },
	{ "isbitcoinlit_api_cache_lookups_total", "counter",
	    "Documents served from the cache (hit), computed after a miss "
	    "(miss), or computed with the cache off (off).",
	    POOL(cache), .samples = counts,
	    .label = "result", .n = METRICS_NCACHE, .label_value = cache_name },
	{ "isbitcoinlit_api_redis_errors_total", "counter",
	    "Redis commands of the api pool that failed (no answer, a "
	    "refusal, an unexpected reply).",
	    POOL(redis_errors), .samples = counts },
	{ "isbitcoinlit_api_worker_starts_total", "counter",
	    "Worker processes the pool started, the first ones included.",
	    POOL(worker_starts), .samples = counts },
	{ "isbitcoinlit_api_worker_crashes_total", "counter",
	    "Workers that died from a signal or exited with a failure.",
	    POOL(worker_crashes), .samples = counts },
	{ "isbitcoinlit_api_workers", "gauge",
	    "Worker processes the pool is configured to run.",
	    POOL(workers), .samples = counts },
	{ "isbitcoinlit_api_workers_running", "gauge",
	    "Worker processes running now.",
	    POOL(workers_running), .samples = counts },
	{ "isbitcoinlit_redis_up", "gauge",
	    "1 when this scrape could read Redis, else 0 (and the numbers "
	    "kept in Redis are left out).",
	    READ(FROM_REDIS, up), .samples = redis_up },
	{ "isbitcoinlit_newest_sample_timestamp_seconds", "gauge",
	    "Time of the newest stored sample, Unix seconds.",
	    READ(FROM_NEWEST, newest_ms), .samples = seconds },
	{ "isbitcoinlit_refresh_last_success_timestamp_seconds", "gauge",
	    "When the last successful refresh ended, Unix seconds.",
	    READ(FROM_STATS, stats.last_success_ms), .samples = seconds,
	    .unless_negative = 1 },
	{ "isbitcoinlit_refresh_last_duration_seconds", "gauge",
	    "How long the last successful refresh took.",
	    READ(FROM_STATS, stats.last_duration_ms), .samples = seconds,
	    .unless_negative = 1 },
	{ "isbitcoinlit_refresh_successes_total", "counter",
	    "Refreshes that succeeded, on every refresh host.",
	    READ(FROM_STATS, stats.successes), .samples = counts },
	{ "isbitcoinlit_refresh_failures_total", "counter",
	    "Refreshes that failed, by cause.",
	    READ(FROM_STATS, stats.failures), .samples = counts,
	    .label = "cause", .n = STORE_REFRESH_NCAUSES,
	    .label_value = cause_name },
	{ "isbitcoinlit_refresh_feed_failures_total", "counter",
	    "Refreshes in which the feed of a series failed (download or "
	    "validation), by the feed's role.",
	    READ(FROM_STATS, stats.feed_failures), .samples = counts,
	    .label = "role", .n = STORE_NSERIES, .label_value = role_name },
	{ "isbitcoinlit_refresh_samples_received_total", "counter",
	    "Feed elements received by successful refreshes.",
	    READ(FROM_STATS, stats.received), .samples = counts },
	{ "isbitcoinlit_refresh_samples_valid_total", "counter",
	    "Valid samples among them.",
	    READ(FROM_STATS, stats.valid), .samples = counts },
	{ "isbitcoinlit_refresh_samples_invalid_total", "counter",
	    "Invalid feed elements among them, skipped.",
	    READ(FROM_STATS, stats.invalid), .samples = counts },
	{ "isbitcoinlit_refresh_samples_expired_total", "counter",
	    "Valid samples older than the retention, dropped.",
	    READ(FROM_STATS, stats.expired), .samples = counts },
};

/* Whether f is in the text of this scrape. */
static int
shown(const struct family *f, const struct scrape *sc)
{
	switch (f->from) {
	case FROM_POOL:
	case FROM_REDIS:
		return 1;
	case FROM_NEWEST:
		return sc->r->up && sc->r->have_newest;
	case FROM_STATS:
		return sc->r->up && sc->r->have_stats &&
		    (!f->unless_negative || ms(f, sc) >= 0);
	}
	return 0;
}

char *
prom_render(const struct metrics_snapshot *s,
    const struct prom_redis *r, size_t *len)
{
	struct buf o;
	struct scrape sc = { s, r };

	buf_init(&o, 8192, BUF_NO_MAX);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const struct family *f = &families[i];

		if (!shown(f, &sc))
			continue;
		buf_printf(&o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		    f->name, f->type);
		f->samples(&o, f, &sc);
	}
	return buf_take(&o, len);
}
