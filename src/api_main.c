/*
 * isbitcoinlit-api: the FastCGI responder for GET|HEAD /is-bitcoin-lit,
 * /history, /healthz and /metrics.  A cache hit is one GET; a miss
 * computes the document from the series, answers, and writes the cache
 * only after the response is done.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "clock.h"
#include "docs.h"
#include "fmt.h"
#include "history.h"
#include "http.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "prom.h"
#include "sandbox.h"
#include "start.h"
#include "store.h"

#define PROG "isbitcoinlit-api"
#define RETRY_REDIS_S "1"
#define RETRY_NO_DATA_S "30"
/* How long a cache may serve a document past its max-age while it asks. */
#define STALE_S "30"

/* Parsed once before any fork; the connection is made in each worker. */
static struct cfg cfg;
/* The documents of the settings' mode, made from cfg with it. */
static struct docs docs;

struct worker {
	struct store st;	/* REDIS_URL: cache writes, fallback reads */
	struct store rst;	/* REDIS_READ_URL, when replica */
	int replica;		/* rst is open */
	int64_t empty_warned_ms;	/* when an empty replica was last logged */
	struct metrics *metrics;	/* the pool's counters (shared) */
};

/* How often an empty read replica is logged, at most. */
#define EMPTY_WARN_MS INT64_C(60000)

/* A document to write to the cache after the response (owned). */
struct pending_cache {
	struct worker *w;
	char *key;
	char *body;
	size_t len;
	int replace;	/* the cache held no such document: overwrite it */
};

static int
worker_open(void *ctx)
{
	struct worker *w = ctx;

	w->replica = 0;
	w->empty_warned_ms = 0;
	/* confined before it connects, as for every reconnect after */
	if (sandbox_enter(&cfg, SANDBOX_API) < 0)
		return -1;
	if (store_open(&cfg, cfg.redis_url, &w->st) < 0)
		return -1;
	if (cfg.redis_read_url != NULL) {
		if (store_open(&cfg, cfg.redis_read_url, &w->rst) < 0) {
			store_close(&w->st);
			return -1;
		}
		w->replica = 1;
		store_set_breaker(&w->rst, cfg.redis_read_retry_ms);
	}
	return 0;
}

/* After each request: ends when its sandbox's view of /etc is stale. */
static int worker_done(void *ctx) { (void)ctx; return sandbox_outdated(); }

static void
worker_close(void *ctx)
{
	struct worker *w = ctx;

	if (w->replica)
		store_close(&w->rst);
	store_close(&w->st);
}

/*
 * The stores to read from, in order: the replica (REDIS_READ_URL) first
 * when there is one, then the master.  Returns how many.
 */
static int
readers(struct worker *w, struct store *from[2])
{
	int n = 0;

	if (w->replica)
		from[n++] = &w->rst;
	from[n++] = &w->st;
	return n;
}

/* The replica's breaker logs its own failures, once (store.h). */
static void
reader_failed(struct worker *w, int i, int n, const struct error *err)
{
	if (err->code != STORE_ENOMEM)
		metrics_redis_error(w->metrics);
	if (i + 1 < n && !store_breaker_failed(&w->rst))
		log_warn("replica read failed, reading from the master "
		    "error=\"%s\"", err->text);
}

/*
 * The replica holds no sample (an initial sync, a wrong database): the
 * master is asked as after a failure; said in the log once a minute.
 */
static void
reader_empty(struct worker *w, int i, int n)
{
	int64_t now = clock_now_ms();

	if (i + 1 < n && now - w->empty_warned_ms >= EMPTY_WARN_MS) {
		w->empty_warned_ms = now;
		log_warn("replica holds no sample, reading from the master");
	}
}

static void
write_cache(void *arg)
{
	struct pending_cache *p = arg;
	struct error err;

	/*
	 * NX: a refresh may have written a newer document meanwhile.  Only
	 * what is not such a document at all is overwritten.
	 */
	if ((p->replace ? store_doc_put(&p->w->st, p->key, p->body, p->len,
	    cfg.cache_ttl_s, &err) : store_doc_fill(&p->w->st, p->key, p->body,
	    p->len, cfg.cache_ttl_s, &err)) < 0) {
		metrics_redis_error(p->w->metrics);
		log_warn("cache write failed error=\"%s\"", err.text);
	}
	free(p->key);
	free(p->body);
	free(p);
}

/*
 * Answer with the compact document body, or its indented form with
 * ?pretty=1, with an ETag; 412 when an If-Match names none of it (compared
 * strongly), else 304 when the client has that one.  A document has no
 * modification date: If-Unmodified-Since is ignored (RFC 9110 13.1.4).
 * Any cache may keep it max_age_s (no longer than the cache holds it; -1:
 * ask each time), then serve it for STALE_S more while it asks again.
 */
static void
send_document(struct http_request *req, const char *body, size_t len,
    const char *cache_state, long max_age_s)
{
	int pretty = http_query_flag(req->query, "pretty");
	char etag[40], headers[256], *indented;

	http_etag(body, len, pretty, etag);
	if (max_age_s < 0)
		snprintf(headers, sizeof(headers), "ETag: %s\r\nCache-Control: "
		    "no-cache\r\nX-Cache: %s\r\n", etag, cache_state);
	else
		snprintf(headers, sizeof(headers), "ETag: %s\r\nCache-Control: "
		    "public, max-age=%ld, stale-while-revalidate=" STALE_S
		    "\r\nX-Cache: %s\r\n", etag, max_age_s, cache_state);
	if (http_param(req, "HTTP_IF_MATCH") != NULL &&
	    !http_etag_match(http_param(req, "HTTP_IF_MATCH"), etag, 0))
		http_error(req, 412, NULL, "precondition failed",
		    "If-Match does not hold");
	else if (http_etag_match(http_param(req, "HTTP_IF_NONE_MATCH"), etag,
	    1))
		http_respond(req, 304, headers, NULL, 0);
	else if (!pretty)
		http_respond(req, 200, headers, body, len);
	else if ((indented = jw_indent(body, len, &len)) == NULL)
		http_error(req, 500, NULL, "internal error", "out of memory");
	else {
		http_respond(req, 200, headers, indented, len);
		free(indented);
	}
}

/*
 * What a client is told of a store failure: words it can act on.  The
 * error's own text names addresses, sockets and hosts: it goes to the log.
 */
static const char *
public_detail(const struct error *err)
{
	return err->code == STORE_EREDIS ? "the data store is not answering; "
	    "try again shortly" : "the stored data could not be read; the "
	    "operator has been told";
}

/*
 * The detail of 503 no data, into buf: why nothing is stored yet, from the
 * refresh's numbers in st (one HGETALL, on this rare path only).  A failed
 * last refresh is told by its time and stage, never its host or path
 * (those are in the refresh's log).
 */
static void
no_data_detail(struct store *st, char *buf, size_t len)
{
	static const char *const why[STORE_FAILED_NSTAGES] = {
		"", "the feed could not be downloaded",
		"the feed held no valid sample",
		"Redis failed or refused the write", "an internal error"
	};
	struct store_refresh_stats rs;
	struct error err;
	char t[FMT_RFC3339_MAX];

	if (st != NULL && store_refresh_stats(st, &rs, &err) == 0 &&
	    rs.last_failure_stage != STORE_FAILED_NONE &&
	    rs.last_failure_ms > rs.last_success_ms) {
		fmt_rfc3339(rs.last_failure_ms, 0, t);
		snprintf(buf, len, "no sample is stored yet: the last refresh "
		    "failed at %s (%s: %s); its log has the cause", t,
		    store_failed_stage_name(rs.last_failure_stage),
		    why[rs.last_failure_stage]);
		return;
	}
	snprintf(buf, len, "no sample is stored yet: the refresh worker has "
	    "not run (POST /refresh)");
}

/*
 * Answer a read that found nothing (rc 0: 503 no data, told why from st's
 * refresh numbers) or failed (rc -1: 503, or 500 when out of memory).
 */
static void
answer_failure(struct http_request *req, int rc, const struct error *err,
    struct store *st)
{
	char detail[256];

	if (rc < 0 && err->code == STORE_ENOMEM) {
		log_error("out of memory error=\"%s\"", err->text);
		http_error(req, 500, NULL, "internal error", "out of memory");
	} else if (rc < 0 && err->code == STORE_EPERM) {
		/* the settings are wrong: no retry helps, the log says which */
		log_error("redis refused a right error=\"%s\"", err->text);
		http_error(req, 500, "Cache-Control: no-store\r\n",
		    "redis permission denied", "the service's Redis user lacks "
		    "a right it needs; the log says which");
	} else if (rc < 0) {
		if (err->code == STORE_EREDIS)
			log_warn("redis failed error=\"%s\"", err->text);
		else
			log_error("stored data unreadable error=\"%s\"",
			    err->text);
		http_error(req, 503, "Retry-After: " RETRY_REDIS_S "\r\n"
		    "Cache-Control: no-store\r\n", err->code == STORE_EREDIS ?
		    "redis unavailable" : "storage error", public_detail(err));
	} else {
		no_data_detail(st, detail, sizeof(detail));
		http_error(req, 503, "Retry-After: " RETRY_NO_DATA_S "\r\n"
		    "Cache-Control: no-store\r\n", "no data", detail);
	}
}

/*
 * Write body (taken) to the cache at key (taken) once the client has its
 * answer; replace when the cache held no such document.  With the cache
 * off they are freed.
 */
static void
cache_after(struct http_request *req, struct worker *w, char *key,
    char *body, size_t len, int replace)
{
	struct pending_cache *p;

	if (!cfg.cache || (p = malloc(sizeof(*p))) == NULL) {
		free(key);
		free(body);
		return;
	}
	p->w = w;
	p->key = key;
	p->body = body;
	p->len = len;
	p->replace = replace;
	req->after = write_cache;
	req->after_arg = p;
}

/*
 * Answer k's document of n buckets: from the cache, or computed,
 * answered, and cached after.  The replica first; its failure or
 * emptiness sends us to the master.
 */
static void
serve_doc(struct http_request *req, struct worker *w,
    const struct doc_kind *k, int n)
{
	struct error err;
	struct docs_read rd;
	struct store *from[2];
	char *key, *body = NULL, what[64];
	size_t len;
	int64_t ttl_ms = -1;
	int rc = -1, nr = readers(w, from), replace = 0;

	if ((key = docs_key(k, &w->st, n)) == NULL) {
		http_error(req, 500, NULL, "internal error", "out of memory");
		return;
	}
	for (int i = 0; i < nr && rc != 1; i++) {
		rc = cfg.cache ? store_doc_get(from[i], key, &body, &len,
		    &ttl_ms, &err) : 0;
		if (rc == 1 && !k->valid(k, body, len, n)) {
			docs_describe(k, n, what, sizeof(what));
			log_warn("the cache holds no %s, recomputing bytes=%zu",
			    what, len);
			free(body);
			body = NULL;
			rc = 0;
			/* overwritten only where it was read: a lagging
			 * replica's bad value may be gone from the master */
			replace = from[i] == &w->st;
		}
		if (rc == 1) {
			metrics_cache(w->metrics, METRICS_CACHE_HIT);
			/* its time left (0 when the key has no expiry) */
			send_document(req, body, len, "hit", ttl_ms < 0 ? 0 :
			    ttl_ms / 1000 < cfg.cache_ttl_s ? (long)(ttl_ms /
			    1000) : cfg.cache_ttl_s);
			goto out;
		}
		if (rc == 0)
			rc = docs_compute(k, from[i], cfg.window_anchor,
			    clock_now_ms(), n, &rd, &err);
		if (rc < 0)
			reader_failed(w, i, nr, &err);
		else if (rc == 0)
			reader_empty(w, i, nr);
	}
	if (rc < 1) {
		answer_failure(req, rc, &err, nr > 0 ? from[nr - 1] : NULL);
		goto out;
	}
	if ((body = k->render(k, rd.t_ms, n, &rd.h, &len)) == NULL) {
		http_error(req, 500, NULL, "internal error", "out of memory");
		goto out;
	}
	metrics_cache(w->metrics, cfg.cache ? METRICS_CACHE_MISS :
	    METRICS_CACHE_OFF);
	send_document(req, body, len, cfg.cache ? "miss" : "off", cfg.cache ?
	    cfg.cache_ttl_s : -1);
	cache_after(req, w, key, body, len, replace);
	key = body = NULL;	/* taken */
out:
	free(body);
	free(key);
}

static void
handle_lit(struct http_request *req, void *ctx)
{
	const struct doc_kind *k = &docs.kind[DOCS_SUMMARY];

	serve_doc(req, ctx, k, k->min_window);
}

/*
 * The history of ?hours=N hours, or with day buckets of ?days=N days (the
 * first such parameter of the query, found as nginx finds $arg_hours and
 * $arg_days, its value percent-decoded): as the summary, from <prefix>:history:<N> (hours) or
 * <prefix>:history:d:<N> (days), or computed.  The other mode's
 * parameter, with a value, is refused: it asks for buckets this service
 * does not make.
 */
static void
handle_history(struct http_request *req, void *ctx)
{
	const struct doc_kind *k = &docs.kind[DOCS_HISTORY];
	const char *other;
	char value[8];
	size_t vlen = 0, olen = 0;
	int day = k->bucket_ms == FMT_DAY_MS, n, got;

	got = http_query_text(req->query, day ? "days" : "hours", value,
	    sizeof(value), &vlen);
	other = http_query_value(req->query, day ? "hours" : "days", &olen);
	if (other != NULL && olen > 0) {
		http_error(req, 400, NULL, "bad request", day ?
		    "this service's buckets are days: ask for ?days=N, a whole "
		    "number from 1 to 31" : "this service's buckets are hours: "
		    "ask for ?hours=N, a whole number from 1 to 24");
		return;
	}
	if (got < 0 || (day ? history_days(value, vlen, &n) :
	    history_hours(value, vlen, &n)) < 0) {
		http_error(req, 400, NULL, "bad request", day ?
		    "days must be a whole number from 1 to 31" :
		    "hours must be a whole number from 1 to 24");
		return;
	}
	serve_doc(req, ctx, k, n);
}

/* "as_of" and "age_s" of a newest sample at ts_ms (found), else nulls. */
static void
health_age(struct jw *j, int found, int64_t ts_ms, int64_t now_ms)
{
	int64_t age = (now_ms - ts_ms) / 1000;

	jw_key(j, "as_of");
	if (found)
		jw_time(j, ts_ms);
	else
		jw_null(j);
	/* a sample ahead of the clock is 0 s old */
	jw_key(j, "age_s");
	if (found)
		jw_int(j, age > 0 ? age : 0);
	else
		jw_null(j);
}

static void
handle_health(struct http_request *req, void *ctx)
{
	struct worker *w = ctx;
	struct error err;
	struct jw j;
	char *body;
	struct store *from[2], *used = NULL;
	int64_t newest = 0, now = clock_now_ms(), each[STORE_NSERIES] = { 0 };
	int found = 0, ok = 0, n = readers(w, from), has[STORE_NSERIES] = { 0 };
	int stale[STORE_NSERIES] = { 0 }, any_stale = 0;
	char source[STORE_NSERIES][64];
	long step[STORE_NSERIES] = { 0 };
	size_t len;

	/* as for the summary: an empty or failing replica sends us on */
	for (int i = 0; i < n && !(ok && found); i++) {
		used = from[i];
		found = 0;
		ok = store_series_load(used, &err) == 0 &&
		    store_newest_each(used, each, has, &err) == 0;
		for (int s = 0; ok && s < STORE_NSERIES; s++)
			if (has[s] && (!found || each[s] > newest)) {
				newest = each[s];
				found = 1;
			}
		if (!ok)
			reader_failed(w, i, n, &err);
		else if (!found)
			reader_empty(w, i, n);
	}
	jw_init(&j, 0);
	jw_object_begin(&j);
	jw_key(&j, "status");
	jw_string(&j, ok ? "ok" : "error");
	jw_key(&j, "redis");
	jw_string(&j, ok || err.code != STORE_EREDIS ? "ok" : "unavailable");
	jw_key(&j, "timeseries");
	jw_string(&j, ok || err.code == STORE_EREDIS ?
	    store_backend_name(used) : "error");
	/*
	 * How old the data is, apart from the status: the service is fine
	 * on a frozen feed.  Each series is judged by its own feed's step.
	 */
	for (int s = 0; ok && s < STORE_NSERIES; s++) {
		(void)store_series_source(used, s, source[s], sizeof(source[s]),
		    &step[s]);
		stale[s] = has[s] && (now - each[s]) / 1000 >
		    cfg.stale_after_s + 2 * step[s];
		any_stale |= stale[s];
	}
	health_age(&j, found, newest, now);
	jw_key(&j, "data");
	jw_string(&j, !found ? "none" : any_stale ? "stale" : "fresh");
	/* each series apart: one feed may stall while the other moves */
	jw_key(&j, "series");
	jw_object_begin(&j);
	for (int s = 0; s < STORE_NSERIES; s++) {
		jw_key(&j, store_series_name(s));
		jw_object_begin(&j);
		health_age(&j, ok && has[s], each[s], now);
		jw_key(&j, "data");
		jw_string(&j, !(ok && has[s]) ? "none" : stale[s] ? "stale" :
		    "fresh");
		jw_key(&j, "source");
		if (ok)
			jw_string(&j, source[s]);
		else
			jw_null(&j);
		jw_key(&j, "step_s");
		if (ok && step[s] > 0)
			jw_int(&j, step[s]);
		else
			jw_null(&j);
		jw_object_end(&j);
	}
	jw_object_end(&j);
	if (!ok) {
		log_warn("health check failed error=\"%s\"", err.text);
		jw_key(&j, "detail");
		jw_string(&j, public_detail(&err));
	}
	jw_object_end(&j);
	if ((body = jw_take(&j, &len)) == NULL) {
		http_error(req, 500, NULL, "internal error", "out of memory");
		return;
	}
	http_respond(req, ok ? 200 : 503, ok ? "Cache-Control: no-store\r\n" :
	    "Retry-After: " RETRY_REDIS_S "\r\nCache-Control: no-store\r\n",
	    body, len);
	free(body);
}

/*
 * The pool's counters and what Redis holds about the data and the
 * refreshes, in the Prometheus text format.  Always 200: without Redis
 * the pool's counters are all the more worth having
 * (isbitcoinlit_redis_up 0 says the rest is missing).
 */
static void
handle_metrics(struct http_request *req, void *ctx)
{
	struct worker *w = ctx;
	struct metrics_snapshot *snap;
	struct prom_redis r;
	struct error err;
	char *body = NULL;
	size_t len;

	if (prom_read(&w->st, &r, &err) < 0) {
		if (err.code != STORE_ENOMEM)
			metrics_redis_error(w->metrics);
		log_warn("metrics without Redis error=\"%s\"", err.text);
	}
	if ((snap = malloc(sizeof(*snap))) != NULL) {
		metrics_snapshot(w->metrics, snap);
		body = prom_render(snap, &r, &len);
		free(snap);
	}
	if (body == NULL) {
		http_error(req, 500, NULL, "internal error", "out of memory");
		return;
	}
	http_respond_type(req, 200, PROM_CONTENT_TYPE,
	    "Cache-Control: no-store\r\n", body, len);
	free(body);
}

static const struct http_route routes[] = {
	{ "/is-bitcoin-lit", "GET, HEAD", handle_lit },
	{ "/history", "GET, HEAD", handle_history },
	{ "/healthz", "GET, HEAD", handle_health },
	{ "/metrics", "GET, HEAD", handle_metrics },
};

int
main(int argc, char *argv[])
{
	static const struct start how = { PROG, "api", CFG_API, NULL };
	struct worker w;
	struct pool_app app = { PROG, routes, sizeof(routes) / sizeof(routes[0]),
	    worker_open, worker_close, &w, NULL, worker_done };
	int rc;

	if ((rc = start_up(&cfg, &how, argc, argv)) != 0)
		return rc;
	docs_init(&docs, &cfg);
	/* before the pool forks: every worker counts in the same place */
	if ((app.metrics = metrics_create(routes, app.nroutes)) == NULL) {
		log_error("cannot map the metrics' shared memory");
		cfg_free(&cfg);
		return 1;
	}
	w.metrics = app.metrics;
	rc = pool_serve(cfg.listen, cfg.workers, &app);
	metrics_free(app.metrics);
	cfg_free(&cfg);
	return rc;
}
