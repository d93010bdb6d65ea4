/*
 * One refresh: take the single-flight lock before anything else, download
 * the feeds at once and validate each, write the series of those that
 * succeeded, compute every served document
 * (the summary and the histories, docs.h), write them to the cache,
 * release the lock.  A worker that dies holding the lock wedges nothing:
 * its TTL ends it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "docs.h"
#include "feed.h"
#include "fmt.h"
#include "jsonw.h"
#include "log.h"
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

/* Milliseconds since t0_ms (clock_mono_ms()). */
static long
elapsed_ms(int64_t t0_ms)
{
	return (long)(clock_mono_ms() - t0_ms);
}

/*
 * Drop the samples that the retention would drop anyway (older than the
 * series' own newest stored or fetched timestamp minus the retention: a
 * feed of hourly candles never expires another feed's days), so that they
 * are reported as expired rather than written and then trimmed.  in[] are
 * sorted by time; kept[i] is the tail of in[i] that stays (it borrows
 * in[i]'s points), skip[i] how many were dropped.
 */
static void
drop_expired(const struct cfg *cfg, const int64_t stored[STORE_NSERIES],
    const int found[STORE_NSERIES], const struct stream in[STORE_NSERIES],
    struct stream kept[STORE_NSERIES], size_t skip[STORE_NSERIES])
{
	for (int i = 0; i < STORE_NSERIES; i++) {
		int64_t newest = stored[i], cutoff;
		int any = found[i];

		kept[i] = in[i];
		skip[i] = 0;
		if (in[i].n > 0 && (!any ||
		    in[i].points[in[i].n - 1].ts_ms > newest)) {
			newest = in[i].points[in[i].n - 1].ts_ms;
			any = 1;
		}
		if (cfg->retention_s == 0 || !any)
			continue;
		cutoff = newest - (int64_t)cfg->retention_s * 1000;
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
	if (store_generation(st) != conn_at_write)
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
	run.end_ms = clock_now_ms();
	run.duration_ms = report->duration_ms;
	run.received = report->received;
	run.valid = report->valid;
	run.invalid = report->invalid;
	run.expired = report->expired;
	run.failed_feeds = rc == 0 ? 0 : report->failed_feeds;
	store_refresh_end(st, token, &run);
}

/* A feed of a refresh: where it is, its format, the series it gives. */
struct refresh_feed {
	const char *role;	/* "sentiment", "price", "price and sentiment" */
	const char *format;
	unsigned series;	/* bit 1 << series: what is taken from it */
	struct feed_result res;
	const struct feed_format *used;
	int failed;		/* 0, or the stage: 1 download, 2 validation */
	struct error err;	/* when failed: for the log */
};

/*
 * Validate the downloaded body of feed f: parse it as its format and keep
 * only the series it is read for (each must give a sample).  Returns 0,
 * or -1 with f->failed and f->err set (f->res empty).
 */
static int
feed_take(const struct cfg *cfg, struct refresh_feed *f,
    struct feed_download *d)
{
	/* only the series it is read for: the others' values need not be */
	struct feed_args args = { clock_now_ms(),
	    (int64_t)cfg->max_future_s * 1000, { cfg->field_timestamp,
	    cfg->field_price, cfg->field_sentiment }, f->series };

	f->failed = 2;
	if (feed_parse_as(f->format, d->body.data, d->body.len, &args,
	    &f->res, &f->err) < 0)
		return -1;
	f->used = f->res.format;
	for (int i = 0; i < STORE_NSERIES; i++) {
		if (f->series & (1u << i)) {
			if ((f->used->series & (1u << i)) &&
			    f->res.series[i].n > 0)
				continue;
			error_set(&f->err, FEED_EEMPTY, "the %s feed (format "
			    "%s) gives no %s sample", f->role, f->used->name,
			    store_series_name(i));
			feed_result_free(&f->res);
			return -1;
		}
		/* a series this feed is not read for: its values go */
		free(f->res.series[i].points);
		f->res.series[i].points = NULL;
		f->res.series[i].n = 0;
	}
	f->failed = 0;
	return 0;
}

/*
 * The public words for the failed feeds into report->detail: their role
 * and the kind of cause, and what was written; never a host or a path.
 */
static void
feeds_detail(const struct refresh_feed *f, size_t nf, int written,
    struct refresh_report *report)
{
	size_t len = 0;
	char *d = report->detail;

	d[0] = '\0';
	for (size_t k = 0; k < nf; k++) {
		if (!f[k].failed)
			continue;
		len += (size_t)snprintf(d + len, sizeof(report->detail) - len,
		    "%sthe %s feed failed (%s)", len ? "; " : "", f[k].role,
		    f[k].failed == 1 ? "download" : "validation");
		if (len >= sizeof(report->detail))
			return;
	}
	snprintf(d + len, sizeof(report->detail) - len, written ?
	    ": its series were left as they were, the others written; the "
	    "log says why" : ": nothing was written; the log says why");
}

int
refresh_run(const struct cfg *cfg, struct store *st,
    struct refresh_report *report, struct error *err)
{
	struct refresh_feed feeds[2];
	struct feed_download dl[2];
	struct error serr;
	struct store_counts counts[STORE_NSERIES];
	struct docs table;
	struct docs_read rd;
	struct docs_set docs = { .n = 0 };
	struct stream pts[STORE_NSERIES], kept[STORE_NSERIES];
	int64_t t0;
	char token[STORE_TOKEN_MAX];
	size_t skip[STORE_NSERIES], nf;
	long lap;
	int64_t stored_newest[STORE_NSERIES];
	unsigned long conn_at_write = 0;
	unsigned ok_mask = 0;
	int found[STORE_NSERIES], locked = 0, rc = -1, n, feed_stage = 0;

	t0 = clock_mono_ms();
	memset(report, 0, sizeof(*report));
	memset(feeds, 0, sizeof(feeds));
	memset(dl, 0, sizeof(dl));
	memset(pts, 0, sizeof(pts));
	report->replicas = -1;

	/* the upstream; with a price feed, it gives the sentiment only */
	feeds[0].role = cfg->price_url != NULL ? "sentiment" :
	    "price and sentiment";
	feeds[0].format = cfg->upstream_format;
	feeds[0].series = cfg->price_url != NULL ? 1u << STORE_SENTIMENT :
	    (1u << STORE_PRICE) | (1u << STORE_SENTIMENT);
	dl[0].url = cfg->upstream_url;
	nf = 1;
	if (cfg->price_url != NULL) {
		feeds[1].role = "price";
		feeds[1].format = cfg->price_format;
		feeds[1].series = 1u << STORE_PRICE;
		dl[1].url = cfg->price_url;
		nf = 2;
	}

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

	lap = elapsed_ms(t0);
	feed_stage = 1;
	feed_fetch_all(dl, nf, cfg->upstream_timeout_s,
	    cfg->upstream_max_bytes);
	report->fetch_ms = elapsed_ms(t0) - lap;
	lap += report->fetch_ms;
	for (size_t k = 0; k < nf; k++) {
		if (dl[k].body.data == NULL) {
			feeds[k].failed = 1;
			feeds[k].err = dl[k].err;
		} else if (feed_take(cfg, &feeds[k], &dl[k]) == 0)
			ok_mask |= feeds[k].series;
		free(dl[k].body.data);
		dl[k].body.data = NULL;
		if (feeds[k].failed && feeds[k].err.code == FEED_ENOMEM) {
			feed_failed(err, &feeds[k].err);
			goto out;
		}
		if (feeds[k].failed) {
			report->failed_feeds |= feeds[k].series;
			log_warn("feed failed role=%s stage=%s error=\"%s\"",
			    feeds[k].role, feeds[k].failed == 1 ? "download" :
			    "validation", feeds[k].err.text);
		}
	}
	report->parse_ms = elapsed_ms(t0) - lap;
	lap += report->parse_ms;
	if (ok_mask == 0) {
		/* nothing to write: as one feed failing always did */
		for (size_t k = 0; k < nf; k++)
			if (feeds[k].failed) {
				feed_stage = feeds[k].failed;
				feed_failed(err, &feeds[k].err);
				break;
			}
		if (nf > 1)
			feeds_detail(feeds, nf, 0, report);
		goto out;
	}

	/*
	 * Where each series lives: the map's key for a series whose feed
	 * failed (the documents are read from what the store holds), its
	 * format's for the others.
	 */
	if (store_series_load(st, &serr) < 0)
		goto redis_failed;
	for (size_t k = 0; k < nf; k++)
		for (int i = 0; i < STORE_NSERIES && !feeds[k].failed; i++)
			if (feeds[k].series & (1u << i)) {
				if (store_series_set(st, i, feeds[k].used->tag,
				    feeds[k].used->keep_last, &serr) < 0)
					goto store_error;
				pts[i] = feeds[k].res.series[i];
			}

	if (lock_keep(cfg, st, token, "the series were written", err) < 0)
		goto out;
	conn_at_write = store_generation(st);
	if (store_newest_each(st, stored_newest, found, &serr) < 0)
		goto redis_failed;
	drop_expired(cfg, stored_newest, found, pts, kept, skip);
	if (store_add_some(st, kept, ok_mask, counts, &serr) < 0)
		goto redis_failed;
	report->write_ms = elapsed_ms(t0) - lap;
	lap += report->write_ms;

	/*
	 * Every served document from one read of the longest window, then
	 * the cache: the API serves them from now on.
	 */
	docs_init(&table, cfg);
	if ((n = docs_read_all(&table, st, cfg->window_anchor, clock_now_ms(),
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
	report->summary_ms = elapsed_ms(t0) - lap;
	if (cfg->min_replicas > 0 && wait_replicas(cfg, st, conn_at_write,
	    report, err) < 0)
		goto out;

	for (size_t k = 0; k < nf; k++) {
		report->received += feeds[k].res.received;
		report->valid += feeds[k].res.valid;
		report->invalid += feeds[k].res.invalid;
	}
	/* one feed: its rows, counted by the price; two: every sample */
	for (int i = 0; i < STORE_NSERIES; i++)
		if ((ok_mask & (1u << i)) && (nf > 1 || i == STORE_PRICE))
			report->expired += skip[i] + counts[i].expired;
	report->backend = store_backend_name(st);
	report->as_of_ms = rd.t_ms;
	if (report->failed_feeds != 0) {
		/* the other feed's series are written: the refresh failed */
		for (size_t k = 0; k < nf; k++)
			if (feeds[k].failed) {
				feed_stage = feeds[k].failed;
				error_set(err, REFRESH_EUPSTREAM, "the %s feed "
				    "failed (%s): %s; the other series were "
				    "written", feeds[k].role, feed_stage == 1 ?
				    "download" : "validation",
				    feeds[k].err.text);
				break;
			}
		feeds_detail(feeds, nf, 1, report);
		goto out;
	}
	rc = 0;
	goto out;

no_memory:
	error_set(err, REFRESH_EINTERNAL, "out of memory");
	goto out;
store_error:
redis_failed:
	store_failed(err, &serr);
out:
	report->duration_ms = elapsed_ms(t0);
	record_end(st, locked ? token : NULL, rc, err,
	    rc == 0 ? STORE_FAILED_NONE : stage_of(err, feed_stage), report);
	docs_set_free(&docs);
	for (size_t k = 0; k < nf; k++) {
		free(dl[k].body.data);
		feed_result_free(&feeds[k].res);
	}
	return rc;
}

char *
refresh_report_json(const struct refresh_report *r, size_t *len)
{
	struct jw w;

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
	jw_time(&w, r->as_of_ms);
	jw_object_end(&w);
	return jw_take(&w, len);
}
