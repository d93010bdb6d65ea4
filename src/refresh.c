/*
 * One refresh: take the single-flight lock before anything else, download
 * and validate the feed, write both series, compute every served document
 * (the summary and the histories, docs.h), write them to the cache,
 * release the lock.  A worker that dies holding the lock wedges nothing:
 * its TTL ends it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docs.h"
#include "feed.h"
#include "fmt.h"
#include "jsonw.h"
#include "refresh.h"

const char *
refresh_strerror(enum refresh_status status)
{
	switch (status) {
	case REFRESH_OK: return "ok";
	case REFRESH_EUPSTREAM: return "upstream failed";
	case REFRESH_EREDIS: return "redis unavailable";
	case REFRESH_ELOCKED: return "refresh running";
	case REFRESH_EREPLICAS: return "not replicated";
	case REFRESH_EPERM: return "redis permission denied";
	case REFRESH_EINTERNAL: break;
	}
	return "internal error";
}

long
refresh_lock_ttl_ms(const struct cfg *cfg)
{
	/*
	 * One stretch between two checks of the lock: the download, or
	 * about ten Redis round trips, each of which may be tried twice
	 * (reconnect), then WAIT; and a margin for parsing.  A stretch that
	 * runs longer (Sentinel lookups timing out, cluster redirections)
	 * finds the lock gone at the next check and writes nothing more.
	 */
	return cfg->upstream_timeout_s * 1000 + 20 * cfg->redis_timeout_ms +
	    cfg->replica_timeout_ms + 2000;
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/*
 * Drop the samples that the retention would drop anyway (older than the
 * newest stored or fetched timestamp of any series minus the retention),
 * so that they are reported as expired rather than written and then
 * trimmed.  in[] are sorted by time; kept[i] is the tail of in[i] that
 * stays (it borrows in[i]'s points), skip[i] how many were dropped.
 */
static void
drop_expired(const struct cfg *cfg, int64_t stored_newest, int found,
    const struct stream in[STORE_NSERIES], struct stream kept[STORE_NSERIES],
    size_t skip[STORE_NSERIES])
{
	int64_t newest = stored_newest, cutoff;
	int any = found;

	for (int i = 0; i < STORE_NSERIES; i++) {
		kept[i] = in[i];
		skip[i] = 0;
		if (in[i].n > 0 && (!any ||
		    in[i].points[in[i].n - 1].ts_ms > newest)) {
			newest = in[i].points[in[i].n - 1].ts_ms;
			any = 1;
		}
	}
	if (cfg->retention_s == 0 || !any)
		return;
	cutoff = newest - (int64_t)cfg->retention_s * 1000;
	for (int i = 0; i < STORE_NSERIES; i++) {
		while (skip[i] < in[i].n && in[i].points[skip[i]].ts_ms < cutoff)
			skip[i]++;
		kept[i].points += skip[i];
		kept[i].n -= skip[i];
	}
}

/*
 * The refresh's status for a store failure: out of memory is ours, a
 * right the ACL does not give is the settings'.
 */
static int
store_failed(struct error *err, const struct error *serr)
{
	return error_set(err, serr->code == STORE_ENOMEM ? REFRESH_EINTERNAL :
	    serr->code == STORE_EPERM ? REFRESH_EPERM : REFRESH_EREDIS, "%s",
	    serr->text);
}

/* The same for the feed: anything but out of memory is the upstream's. */
static int
feed_failed(struct error *err, const struct error *ferr)
{
	return error_set(err, ferr->code == FEED_ENOMEM ? REFRESH_EINTERNAL :
	    REFRESH_EUPSTREAM, "%s", ferr->text);
}

/*
 * Before each write: the lock must still be ours, and it is extended for
 * the next stretch.  A refresh that outlived its lock (another may hold it
 * now) stops before it writes.  Returns 0, or -1 with err filled.
 */
static int
lock_keep(const struct cfg *cfg, struct store *st, const char *token,
    const char *before, struct error *err)
{
	struct error serr;

	switch (store_lock_extend(st, token, refresh_lock_ttl_ms(cfg), &serr)) {
	case 1:
		return 0;
	case 0:
		return error_set(err, REFRESH_ELOCKED, "the refresh lock expired "
		    "before %s (another refresh may hold it now): stopped there",
		    before);
	}
	return store_failed(err, &serr);
}

/*
 * Durability on a replicated Redis: every write of this refresh (series,
 * cache) must reach cfg->min_replicas replicas.  Returns 0 or -1.
 */
static int
wait_replicas(const struct cfg *cfg, struct store *st,
    unsigned long conn_at_write, struct refresh_report *report,
    struct error *err)
{
	struct error serr;

	/* WAIT vouches for one connection's writes: were they all on it? */
	if (store_connection(st) != conn_at_write)
		return error_set(err, REFRESH_EREPLICAS, "written, but over "
		    "more than one Redis connection (a reconnect or a cluster "
		    "redirection): WAIT cannot confirm that %ld replicas have "
		    "every write", cfg->min_replicas);
	report->replicas = store_wait_replicas(st, (int)cfg->min_replicas,
	    cfg->replica_timeout_ms, &serr);
	if (report->replicas < 0)
		return store_failed(err, &serr);
	if (report->replicas >= cfg->min_replicas)
		return 0;
	return error_set(err, REFRESH_EREPLICAS, "written on the master, but "
	    "%lld of the %ld replicas asked for (ISBITCOINLIT_MIN_REPLICAS) "
	    "acknowledged it within %ld ms", report->replicas,
	    cfg->min_replicas, cfg->replica_timeout_ms);
}

/* The cause a failed refresh is counted under. */
static enum store_refresh_cause
cause_of(const struct error *err)
{
	switch ((enum refresh_status)err->code) {
	case REFRESH_EUPSTREAM: return STORE_REFRESH_UPSTREAM;
	case REFRESH_EREDIS: return STORE_REFRESH_REDIS;
	case REFRESH_ELOCKED: return STORE_REFRESH_LOCK_BUSY;
	case REFRESH_EREPLICAS: return STORE_REFRESH_NOT_REPLICATED;
	case REFRESH_EPERM: return STORE_REFRESH_PERMISSION;
	case REFRESH_OK:
	case REFRESH_EINTERNAL: break;
	}
	return STORE_REFRESH_INTERNAL;
}

/*
 * The stage a failure is shown under (GET /is-bitcoin-lit's 503 no data):
 * the feed's failures by where they happened, download or validation.
 */
static enum store_failed_stage
stage_of(const struct error *err, int feed_stage)
{
	switch ((enum refresh_status)err->code) {
	case REFRESH_EUPSTREAM:
		return feed_stage == 1 ? STORE_FAILED_DOWNLOAD :
		    STORE_FAILED_VALIDATION;
	case REFRESH_EREDIS:
	case REFRESH_EREPLICAS:
	case REFRESH_EPERM:
		return STORE_FAILED_REDIS;
	case REFRESH_EINTERNAL:
		return STORE_FAILED_INTERNAL;
	case REFRESH_OK:
	case REFRESH_ELOCKED:
		break;
	}
	return STORE_FAILED_NONE;
}

/*
 * The refresh's last round trip: release the lock (token, or NULL when it
 * was not taken) and add the outcome to <prefix>:refresh:stats.  A refresh
 * that could not take the lock because Redis failed sends nothing more to
 * it: that failure is in its own answer and log only.
 */
static void
record_end(struct store *st, const char *token, int rc,
    const struct error *err, enum store_failed_stage stage,
    const struct refresh_report *report)
{
	struct store_refresh_run run;

	if (token == NULL && rc < 0 && err->code != REFRESH_ELOCKED)
		return;
	memset(&run, 0, sizeof(run));
	run.ok = rc == 0;
	run.cause = rc == 0 ? STORE_REFRESH_INTERNAL : cause_of(err);
	run.stage = rc == 0 ? STORE_FAILED_NONE : stage;
	run.end_ms = fmt_now_ms();
	run.duration_ms = report->duration_ms;
	run.received = report->received;
	run.valid = report->valid;
	run.invalid = report->invalid;
	run.expired = report->expired;
	store_refresh_end(st, token, &run);
}

int
refresh_run(const struct cfg *cfg, struct store *st,
    struct refresh_report *report, struct error *err)
{
	struct feed_args args = { 0, (int64_t)cfg->max_future_s * 1000,
	    { cfg->field_timestamp, cfg->field_price, cfg->field_sentiment },
	    FEED_BOTH };
	struct feed_body body = { NULL, 0 };
	struct feed_result feed = { 0 };
	struct error ferr, serr;
	struct store_counts counts[STORE_NSERIES];
	struct docs table;
	struct docs_read rd;
	struct docs_set docs = { .n = 0 };
	struct stream kept[STORE_NSERIES];
	struct timespec t0;
	char token[STORE_TOKEN_MAX];
	size_t skip[STORE_NSERIES];
	long lap;
	int64_t stored_newest;
	unsigned long conn_at_write = 0;
	int found, locked = 0, rc = -1, n, feed_stage = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(report, 0, sizeof(*report));
	report->replicas = -1;

	switch (store_lock_take(st, refresh_lock_ttl_ms(cfg), token, &serr)) {
	case 1:
		locked = 1;
		break;
	case 0:
		error_set(err, REFRESH_ELOCKED, "another refresh is running; "
		    "try again when it is done");
		goto out;
	default:
		goto redis_failed;
	}

	lap = elapsed_ms(&t0);
	feed_stage = 1;
	if (feed_fetch(cfg->upstream_url, cfg->upstream_timeout_s,
	    cfg->upstream_max_bytes, &body, &ferr) < 0) {
		feed_failed(err, &ferr);
		goto out;
	}
	feed_stage = 2;
	report->fetch_ms = elapsed_ms(&t0) - lap;
	lap += report->fetch_ms;
	args.now_ms = fmt_now_ms();
	if (feed_parse_as(cfg->upstream_format, body.data, body.len, &args,
	    &feed, &ferr) < 0) {
		feed_failed(err, &ferr);
		goto out;
	}
	free(body.data);
	body.data = NULL;
	report->parse_ms = elapsed_ms(&t0) - lap;
	lap += report->parse_ms;

	if (lock_keep(cfg, st, token, "the series were written", err) < 0)
		goto out;
	conn_at_write = store_connection(st);
	if (store_newest(st, &stored_newest, &found, &serr) < 0)
		goto redis_failed;
	drop_expired(cfg, stored_newest, found, feed.series, kept, skip);
	if (store_add(st, kept, counts, &serr) < 0)
		goto redis_failed;
	report->write_ms = elapsed_ms(&t0) - lap;
	lap += report->write_ms;

	/*
	 * Every served document from one read of the longest window, then
	 * the cache: the API serves them from now on.
	 */
	docs_init(&table, cfg);
	if ((n = docs_read_all(&table, st, cfg->window_anchor, fmt_now_ms(),
	    &rd, &serr)) < 0)
		goto redis_failed;
	if (n == 0) {
		/* everything was older than the retention: nothing to serve */
		error_set(err, REFRESH_EUPSTREAM, "every sample is older than "
		    "the retention (ISBITCOINLIT_RETENTION_S)");
		goto out;
	}
	if (docs_render_all(&table, st, &rd, &docs) < 0)
		goto no_memory;
	if (lock_keep(cfg, st, token, "the cache was written (the series "
	    "were)", err) < 0)
		goto out;
	if (docs_put_all(st, &docs, cfg->cache_ttl_s, &serr) < 0)
		goto redis_failed;
	report->summary_ms = elapsed_ms(&t0) - lap;
	if (cfg->min_replicas > 0 && wait_replicas(cfg, st, conn_at_write,
	    report, err) < 0)
		goto out;

	report->received = feed.received;
	report->valid = feed.valid;
	report->invalid = feed.invalid;
	report->expired = skip[STORE_PRICE] + counts[STORE_PRICE].expired;
	report->backend = store_backend_name(st);
	report->as_of_ms = rd.t_ms;
	rc = 0;
	goto out;

no_memory:
	error_set(err, REFRESH_EINTERNAL, "out of memory");
	goto out;
redis_failed:
	store_failed(err, &serr);
out:
	report->duration_ms = elapsed_ms(&t0);
	record_end(st, locked ? token : NULL, rc, err,
	    rc == 0 ? STORE_FAILED_NONE : stage_of(err, feed_stage), report);
	docs_set_free(&docs);
	free(body.data);
	feed_result_free(&feed);
	return rc;
}

char *
refresh_report_json(const struct refresh_report *r, size_t *len)
{
	char t[FMT_RFC3339_MAX];
	struct jw w;

	fmt_rfc3339(r->as_of_ms, 0, t);
	jw_init(&w, 0);
	jw_object_begin(&w);
	jw_key(&w, "status");
	jw_string(&w, "ok");
	jw_key(&w, "received");
	jw_int(&w, (int64_t)r->received);
	jw_key(&w, "valid");
	jw_int(&w, (int64_t)r->valid);
	jw_key(&w, "invalid");
	jw_int(&w, (int64_t)r->invalid);
	jw_key(&w, "expired");
	jw_int(&w, (int64_t)r->expired);
	jw_key(&w, "backend");
	jw_string(&w, r->backend);
	jw_key(&w, "duration_ms");
	jw_int(&w, r->duration_ms);
	if (r->replicas >= 0) {
		jw_key(&w, "replicas");
		jw_int(&w, r->replicas);
	}
	jw_key(&w, "as_of");
	jw_string(&w, t);
	jw_object_end(&w);
	return jw_take(&w, len);
}
