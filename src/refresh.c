/*
 * One refresh.  Single flight: SET <prefix>:refresh:lock <token> NX PX
 * <ttl> before anything else, released by compare-and-delete so that a
 * refresh whose lock expired never frees its successor's.  A worker that
 * dies holding the lock wedges nothing: the TTL ends it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cache.h"
#include "feed.h"
#include "fmt.h"
#include "jsonw.h"
#include "log.h"
#include "refresh.h"
#include "store_impl.h"
#include "summary.h"

static struct conn_script unlock_script = { .body =
"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
"  return redis.call('DEL', KEYS[1])\n"
"end\n"
"return 0\n"
};

const char *
refresh_strerror(enum refresh_status status)
{
	switch (status) {
	case REFRESH_OK: return "ok";
	case REFRESH_EUPSTREAM: return "upstream failed";
	case REFRESH_EREDIS: return "redis unavailable";
	case REFRESH_ELOCKED: return "refresh running";
	case REFRESH_EREPLICAS: return "not replicated";
	}
	return "internal error";
}

long
refresh_lock_ttl_ms(const struct cfg *cfg)
{
	/*
	 * The download, then about ten Redis round trips, each of which may
	 * be tried twice (reconnect), and a margin for parsing.
	 */
	return cfg->upstream_timeout_s * 1000 + 20 * cfg->redis_timeout_ms +
	    2000;
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

static int
refresh_fail(struct refresh_error *err, enum refresh_status status,
    const char *what, const char *detail)
{
	err->status = status;
	snprintf(err->text, sizeof(err->text), "%s%s%s", what,
	    what[0] ? ": " : "", detail);
	return -1;
}

/* Take the lock with a fresh random token.  Returns 1 taken, 0 held, -1. */
static int
lock_take(struct store *st, long ttl_ms, char token[33],
    struct store_error *err)
{
	unsigned char rnd[16];
	char ttl[24];
	const char *argv[] = { "SET", st->key_lock, token, "NX", "PX", ttl };
	redisReply *r;
	int rc;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return store_fail(err, STORE_EBACKEND, "getrandom failed");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
	r = conn_command(st->conn, 6, argv, NULL);
	if (store_check_reply(st, r, st->key_lock, err) < 0)
		rc = -1;
	else
		rc = r->type == REDIS_REPLY_STATUS ? 1 : 0;	/* OK or nil */
	freeReplyObject(r);
	return rc;
}

/* Release the lock if it is still ours; failures only cost the TTL. */
static void
lock_release(struct store *st, const char *token)
{
	const char *keys[] = { st->key_lock }, *args[] = { token };
	redisReply *r = conn_eval(st->conn, &unlock_script, 1, keys, 1, args,
	    NULL);

	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		log_warn("lock release failed, it expires by itself error=\"%s\"",
		    r ? r->str : conn_error(st->conn));
	freeReplyObject(r);
}

/*
 * Drop the points that the retention would drop anyway (older than the
 * newest stored or fetched timestamp minus the retention), so that they
 * are reported as expired rather than written and then trimmed.
 */
static size_t
drop_expired(const struct cfg *cfg, int64_t stored_newest, int found,
    struct store_point *pts, size_t n)
{
	int64_t newest = pts[n - 1].ts_ms, cutoff;
	size_t skip = 0;

	if (cfg->retention_s == 0)
		return 0;
	if (found && stored_newest > newest)
		newest = stored_newest;
	cutoff = newest - (int64_t)cfg->retention_s * 1000;
	while (skip < n && pts[skip].ts_ms < cutoff)
		skip++;
	return skip;
}

/*
 * Durability on a replicated Redis: every write of this refresh (series,
 * cache) must reach cfg->min_replicas replicas.  Returns 0 or -1.
 */
static int
wait_replicas(const struct cfg *cfg, struct store *st,
    struct refresh_report *report, struct refresh_error *err)
{
	char why[300];

	report->replicas = conn_wait_replicas(st->conn, (int)cfg->min_replicas,
	    cfg->replica_timeout_ms);
	if (report->replicas < 0)
		return refresh_fail(err, REFRESH_EREDIS, "",
		    conn_error(st->conn));
	if (report->replicas >= cfg->min_replicas)
		return 0;
	snprintf(why, sizeof(why), "written on the master, but %lld of the "
	    "%ld replicas asked for (ISBITCOINLIT_MIN_REPLICAS) acknowledged "
	    "it within %ld ms", report->replicas, cfg->min_replicas,
	    cfg->replica_timeout_ms);
	return refresh_fail(err, REFRESH_EREPLICAS, "", why);
}

int
refresh_run(const struct cfg *cfg, struct store *st,
    struct refresh_report *report, struct refresh_error *err)
{
	struct feed_fields fields = { cfg->field_timestamp, cfg->field_price,
	    cfg->field_sentiment };
	struct feed_body body = { NULL, 0 };
	struct feed_result feed = { NULL, 0, 0, 0 };
	struct feed_error ferr;
	struct store_error serr;
	struct store_counts counts[STORE_NSERIES];
	struct summary sum;
	struct timespec t0;
	char token[33];
	char *json = NULL;
	size_t skip, jlen;
	long lap;
	int64_t stored_newest;
	int found, locked = 0, rc = -1, n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(report, 0, sizeof(*report));
	report->replicas = -1;

	switch (lock_take(st, refresh_lock_ttl_ms(cfg), token, &serr)) {
	case 1:
		locked = 1;
		break;
	case 0:
		refresh_fail(err, REFRESH_ELOCKED, "", "another refresh is "
		    "running; try again when it is done");
		goto out;
	default:
		refresh_fail(err, REFRESH_EREDIS, "", serr.text);
		goto out;
	}

	lap = elapsed_ms(&t0);
	if (feed_fetch(cfg->upstream_url, cfg->upstream_timeout_s,
	    cfg->upstream_max_bytes, &body, &ferr) < 0) {
		refresh_fail(err, REFRESH_EUPSTREAM, "", ferr.text);
		goto out;
	}
	report->fetch_ms = elapsed_ms(&t0) - lap;
	lap += report->fetch_ms;
	if (feed_parse(body.data, body.len, &fields, fmt_now_ms(), &feed,
	    &ferr) < 0) {
		refresh_fail(err, REFRESH_EUPSTREAM, "", ferr.text);
		goto out;
	}
	free(body.data);
	body.data = NULL;
	report->parse_ms = elapsed_ms(&t0) - lap;
	lap += report->parse_ms;

	if (store_newest(st, &stored_newest, &found, &serr) < 0)
		goto redis_failed;
	skip = drop_expired(cfg, stored_newest, found, feed.points,
	    feed.npoints);
	if (store_add(st, feed.points + skip, feed.npoints - skip, counts,
	    &serr) < 0)
		goto redis_failed;
	report->write_ms = elapsed_ms(&t0) - lap;
	lap += report->write_ms;

	/* The summary, then the cache: the API serves it from now on. */
	if ((n = summary_compute(st, cfg->window_anchor, fmt_now_ms(), &sum,
	    &serr)) < 0)
		goto redis_failed;
	if (n == 0) {
		/* everything was older than the retention: nothing to serve */
		refresh_fail(err, REFRESH_EUPSTREAM, "", "every sample is older "
		    "than the retention (ISBITCOINLIT_RETENTION_S)");
		goto out;
	}
	if ((json = summary_render(&sum, 0, &jlen)) == NULL) {
		refresh_fail(err, REFRESH_EREDIS, "", "out of memory");
		goto out;
	}
	if (cache_put(st, json, jlen, cfg->cache_ttl_s, &serr) < 0)
		goto redis_failed;
	report->summary_ms = elapsed_ms(&t0) - lap;
	if (cfg->min_replicas > 0 && wait_replicas(cfg, st, report, err) < 0)
		goto out;

	report->received = feed.received;
	report->valid = feed.npoints;
	report->invalid = feed.invalid;
	report->expired = skip + counts[STORE_PRICE].expired;
	report->backend = store_backend_name(st);
	report->as_of_ms = sum.as_of_ms;
	rc = 0;
	goto out;

redis_failed:
	refresh_fail(err, REFRESH_EREDIS, "", serr.text);
out:
	if (locked)
		lock_release(st, token);
	report->duration_ms = elapsed_ms(&t0);
	free(json);
	free(body.data);
	feed_result_free(&feed);
	return rc;
}

char *
refresh_report_json(const struct refresh_report *r, size_t *len)
{
	char t[FMT_RFC3339_MAX];
	struct jw w;

	fmt_rfc3339(r->as_of_ms, t);
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
