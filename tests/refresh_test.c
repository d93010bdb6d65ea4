/*
 * isbitcoinlit-refresh end to end: the real program, a real redis-server,
 * libcurl against a real HTTP server on loopback (feed_server).  The same
 * feed cases run on both backends; the redistimeseries ones need
 * ISBITCOINLIT_TEST_TS_MODULE and are skipped without it.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "conn.h"
#include "feed.h"
#include "clock.h"
#include "fmt.h"
#include "store.h"
#include "history.h"
#include "summary.h"
#include "testlib.h"

#define NFEED 2900
#define RETENTION_MS INT64_C(86400000)

static char dir[128], refresh_bin[512], server_bin[512];
static int port;
static struct tl_sample feed[NFEED];

/* ---- files ---- */

/* The file name in the test's directory, made anew for writing. */
static FILE *
create(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, "w");
}

static void
write_file(const char *name, const char *text)
{
	FILE *fp = create(name);

	fputs(text, fp);
	fclose(fp);
}

/* A 24 h SentiCrypt v1 feed, about one sample every 30 s. */
static void
make_feed(void)
{
	char path[512], cmd[1200];
	double t0 = 1625592626.3452034;
	unsigned x = 7;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/feed24.json", dir);
	fp = create("feed24.json");
	fputc('[', fp);
	for (int i = 0; i < NFEED; i++) {
		double ts, price, mean;

		x = x * 1103515245u + 12345u;
		ts = t0 + i * 30.0 + (double)((x >> 8) % 1000) / 1000.0;
		price = (double)(3300000 + (x >> 12) % 200000) / 100.0;
		mean = (double)((int)((x >> 4) % 1301) - 500) / 1000.0;
		fprintf(fp, "%s{\"count\":%d,\"timestamp\":%.7f,\"rate\":0.0,"
		    "\"last\":0.33,\"sum\":1425.82,\"mean\":%.3f,\"median\":0.23,"
		    "\"btc_price\":\"%.2f\"}", i ? "," : "", 7000 + i, ts, mean,
		    price);
		/* the values exactly as a reader of the file gets them */
		{
			char b[64];

			snprintf(b, sizeof(b), "%.7f", ts);
			feed[i].ts_ms = (int64_t)trunc(strtod(b, NULL) * 1000.0);
			snprintf(b, sizeof(b), "%.3f", mean);
			feed[i].sentiment = strtod(b, NULL);
			snprintf(b, sizeof(b), "%.2f", price);
			feed[i].price = strtod(b, NULL);
		}
	}
	fputs("]\n", fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "gzip -c %s > %s.gz", path, path);
	if (system(cmd) != 0)
		tl_diag("gzip failed");
	/* the first half: truncated JSON */
	snprintf(cmd, sizeof(cmd), "head -c 150000 %s > %s/truncated.json",
	    path, dir);
	if (system(cmd) != 0)
		tl_diag("head failed");
}

/*
 * The hourly buckets (averages, counts) of the `hours` hours ending with
 * the newest of pts (sorted by time) that a refresh keeps.
 */
static void
expected_hourly(const struct tl_sample *pts, size_t n, int hours,
    struct store_buckets *h)
{
	int64_t newest = pts[n - 1].ts_ms, from, to;

	summary_window(newest, hours, FMT_HOUR_MS, &from, &to);
	for (int series = 0; series < STORE_NSERIES; series++) {
		int64_t cur = INT64_MIN;
		double sum = 0;
		size_t cnt = 0;

		h->n[series] = 0;
		for (size_t i = 0; i <= n; i++) {
			int64_t b = i < n ? fmt_hour_floor(pts[i].ts_ms) : INT64_MAX;

			if (i < n && (pts[i].ts_ms < from || pts[i].ts_ms > to ||
			    pts[i].ts_ms < newest - RETENTION_MS))
				continue;
			if (b != cur && cnt > 0) {
				h->b[series][h->n[series]].start_ms = cur;
				h->b[series][h->n[series]].count = cnt;
				h->b[series][h->n[series]++].avg = sum / (double)cnt;
				sum = 0;
				cnt = 0;
			}
			if (i == n)
				break;
			cur = b;
			sum += series == STORE_PRICE ? pts[i].price :
			    pts[i].sentiment;
			cnt++;
		}
	}
}

/* The summary the cache must hold after ingesting pts (sorted by time). */
static char *
expected_summary(const struct tl_sample *pts, size_t n)
{
	struct store_bucket buf[STORE_NSERIES * SUMMARY_WINDOW_DEFAULT];
	struct store_buckets h;
	struct summary s;
	size_t len;

	store_buckets_init(&h, buf, SUMMARY_WINDOW_DEFAULT);
	expected_hourly(pts, n, SUMMARY_WINDOW_DEFAULT, &h);
	summary_build(pts[n - 1].ts_ms, &summary_hourly, &h, &s);
	return summary_render(&s, 0, &len);
}

/* The history of `hours` hours the cache must hold after the same. */
static char *
expected_history(const struct tl_sample *pts, size_t n, int hours)
{
	struct store_bucket buf[STORE_NSERIES * HISTORY_HOURS_MAX];
	struct store_buckets h;
	struct history hs;
	size_t len;

	store_buckets_init(&h, buf, HISTORY_HOURS_MAX);
	expected_hourly(pts, n, hours, &h);
	history_build(pts[n - 1].ts_ms, hours, FMT_HOUR_MS, &h, &hs);
	return history_render(&hs, 0, &len);
}

/* ---- Redis ---- */

/*
 * Every key with the prefix and its DUMP, sorted, but <prefix>:refresh:stats:
 * compare to see change.
 */
static char *
snapshot(struct conn *c, const char *prefix)
{
	char pattern[128], *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	redisReply *keys;

	snprintf(pattern, sizeof(pattern), "%s:*", prefix);
	keys = tl_cmd(c, "KEYS", pattern, NULL);
	if (keys == NULL || keys->type != REDIS_REPLY_ARRAY) {
		fclose(fp);
		free(out);
		freeReplyObject(keys);
		return strdup("(redis failed)");
	}
	for (size_t i = 0; i < keys->elements; i++)
		for (size_t j = i + 1; j < keys->elements; j++)
			if (strcmp(keys->element[i]->str,
			    keys->element[j]->str) > 0) {
				redisReply *t = keys->element[i];

				keys->element[i] = keys->element[j];
				keys->element[j] = t;
			}
	for (size_t i = 0; i < keys->elements; i++) {
		redisReply *d;
		const char *k = keys->element[i]->str;

		/* the refresh's numbers change on every run, by design */
		if (strlen(k) >= 14 && strcmp(k + strlen(k) - 14,
		    ":refresh:stats") == 0)
			continue;
		d = tl_cmd(c, "DUMP", keys->element[i]->str, NULL);

		fprintf(fp, "%s=", keys->element[i]->str);
		if (d != NULL && d->type == REDIS_REPLY_STRING)
			for (size_t b = 0; b < d->len; b++)
				fprintf(fp, "%02x", (unsigned char)d->str[b]);
		fputc('\n', fp);
		freeReplyObject(d);
	}
	freeReplyObject(keys);
	fclose(fp);
	return out;
}

static char *
get_string(struct conn *c, const char *key)
{
	redisReply *r = tl_cmd(c, "GET", key, NULL);
	char *s = r != NULL && r->type == REDIS_REPLY_STRING ? strdup(r->str) :
	    NULL;

	freeReplyObject(r);
	return s;
}

/* A field of <prefix>:refresh:stats as a number (0 when absent). */
static long long
stat_of(struct conn *c, const char *prefix, const char *field)
{
	char key[64];
	redisReply *r;
	long long v = -1;

	snprintf(key, sizeof(key), "%s:refresh:stats", prefix);
	r = tl_cmd(c, "HGET", key, field);
	if (r != NULL && r->type == REDIS_REPLY_NIL)
		v = 0;
	else if (r != NULL && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return v;
}

/* The TTL of key in seconds (-2: none such, -1: none set). */
static long long
ttl_of(struct conn *c, const char *key)
{
	redisReply *r = tl_cmd(c, "TTL", key, NULL);
	long long t = r != NULL && r->type == REDIS_REPLY_INTEGER ?
	    r->integer : -3;

	freeReplyObject(r);
	return t;
}

static long long
count_samples(struct conn *c, int module, const char *key)
{
	const char *range[] = { "TS.RANGE", key, "-", "+" };
	const char *zcard[] = { "ZCARD", key };
	redisReply *r = module ? conn_command(c, 4, range, NULL) :
	    conn_command(c, 2, zcard, NULL);
	long long n = -1;

	if (r != NULL && r->type == REDIS_REPLY_ARRAY)
		n = (long long)r->elements;
	else if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	freeReplyObject(r);
	return n;
}

/* ---- running the program ---- */

struct run {
	int status;
	char *out;
	json_t *doc;	/* stdout as JSON, or NULL */
};

static void
run_free(struct run *r)
{
	free(r->out);
	json_decref(r->doc);
	memset(r, 0, sizeof(*r));
}

static void
base_env(struct tl_env *e, const char *redis_url, const char *prefix,
    const char *upstream)
{
	tl_env_init(e);
	tl_env_set(e, "ISBITCOINLIT_REDIS_URL=%s", redis_url);
	tl_env_set(e, "ISBITCOINLIT_KEY_PREFIX=%s", prefix);
	if (strncmp(upstream, "/", 1) == 0)
		tl_env_set(e, "ISBITCOINLIT_UPSTREAM_URL=http://127.0.0.1:%d%s",
		    port, upstream);
	else
		tl_env_set(e, "ISBITCOINLIT_UPSTREAM_URL=%s", upstream);
	tl_env_set(e, "ISBITCOINLIT_UPSTREAM_TIMEOUT_S=2");
	tl_env_set(e, "ISBITCOINLIT_LOG_LEVEL=warn");
}

static void
run_once(const struct tl_env *e, struct run *r)
{
	const char *argv[] = { refresh_bin, "--once", NULL };
	json_error_t jerr;

	memset(r, 0, sizeof(*r));
	r->status = tl_run(argv, e, 1, &r->out);
	r->doc = r->out ? json_loads(r->out, 0, &jerr) : NULL;
}

static long long
jint(const struct run *r, const char *key)
{
	json_t *v = r->doc ? json_object_get(r->doc, key) : NULL;

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *
jstr(const struct run *r, const char *key)
{
	json_t *v = r->doc ? json_object_get(r->doc, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : "";
}

/* ---- the cases ---- */

/* A refresh from from, the whole 24 h feed: it succeeds, every sample valid. */
static void
whole_feed(const char *label, const char *url, const char *from,
    const char *what)
{
	struct tl_env e;
	struct run r;

	base_env(&e, url, "f", from);
	run_once(&e, &r);
	CHECK(r.status == 0 && jint(&r, "valid") == NFEED, "%s: %s", label,
	    what);
	run_free(&r);
	tl_env_free(&e);
}

/* A failing refresh: exit status 1, the upstream error, nothing changed. */
static void
upstream_fails(const char *label, const char *url, struct conn *c,
    const char *what, const char *upstream, const char *extra_env,
    const char *want_detail)
{
	struct tl_env e;
	struct run r;
	char *before = snapshot(c, "f"), *after;
	long long failed = stat_of(c, "f", "failures_upstream");

	base_env(&e, url, "f", upstream);
	if (extra_env != NULL)
		tl_env_set(&e, "%s", extra_env);
	run_once(&e, &r);
	after = snapshot(c, "f");
	CHECK_INT(stat_of(c, "f", "failures_upstream"), failed + 1,
	    "%s: %s: counted in <prefix>:refresh:stats", label, what);
	CHECK(r.status == 1 && strcmp(jstr(&r, "error"), "upstream failed") == 0
	    && strstr(jstr(&r, "detail"), want_detail) != NULL,
	    "%s: %s: exit 1, upstream failed (%s)", label, what,
	    jstr(&r, "detail"));
	CHECK_STR(after, before, "%s: %s: Redis unchanged", label, what);
	free(before);
	free(after);
	run_free(&r);
	tl_env_free(&e);
}

/*
 * A v1-shaped feed of n samples, one every step_s seconds, the last at
 * end_s: value i of the field that counts is base + i (price) or
 * base + (i % 7) / 10 (sentiment); the other field holds junk the refresh must
 * ignore.  ts[] gets each sample's time in ms.
 */
static void
write_role_feed(const char *name, int price, int n, int step_s,
    int64_t end_s, double base, int64_t *ts)
{
	FILE *fp = create(name);

	fputc('[', fp);
	for (int i = 0; i < n; i++) {
		int64_t t = end_s - (int64_t)(n - 1 - i) * step_s;

		ts[i] = t * 1000;
		fprintf(fp, "%s{\"timestamp\":%lld,\"btc_price\":\"%.2f\","
		    "\"mean\":%.1f}", i ? "," : "", (long long)t,
		    price ? base + i : 99999.0, price ? -0.9 :
		    base + (i % 7) / 10.0);
	}
	fputs("]\n", fp);
	fclose(fp);
}

/*
 * The oracle: the summary of a price series and a sentiment series with
 * their own timestamps (T the newest of both, whole hours, rows where
 * both have samples).
 */
static char *
expected_split(const int64_t *pt, const double *pv, int np,
    const int64_t *stt, const double *sv, int ns)
{
	struct store_bucket buf[STORE_NSERIES * 3];
	struct store_buckets h;
	struct summary sm;
	int64_t t = pt[np - 1] > stt[ns - 1] ? pt[np - 1] : stt[ns - 1];
	int64_t from = (t / 3600000 - 2) * 3600000;
	size_t len;

	store_buckets_init(&h, buf, 3);
	for (int series = 0; series < STORE_NSERIES; series++) {
		const int64_t *ts = series == STORE_PRICE ? pt : stt;
		const double *v = series == STORE_PRICE ? pv : sv;
		int n = series == STORE_PRICE ? np : ns;

		for (int64_t hr = from; hr <= t; hr += 3600000) {
			double sum = 0;
			size_t cnt = 0;

			for (int i = 0; i < n; i++)
				if (ts[i] >= hr && ts[i] < hr + 3600000) {
					sum += v[i];
					cnt++;
				}
			if (cnt == 0)
				continue;
			h.b[series][h.n[series]].start_ms = hr;
			h.b[series][h.n[series]].count = cnt;
			h.b[series][h.n[series]++].avg = sum / (double)cnt;
		}
	}
	summary_build(t, &summary_hourly, &h, &sm);
	return summary_render(&sm, 0, &len);
}

/* The DUMP of key, hex, to compare before and after. */
static char *
dump_of(struct conn *c, const char *key)
{
	redisReply *r = tl_cmd(c, "DUMP", key, NULL);
	char *out = NULL;

	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		out = malloc(2 * r->len + 1);
		for (size_t b = 0; b < r->len; b++)
			sprintf(out + 2 * b, "%02x", (unsigned char)r->str[b]);
	}
	freeReplyObject(r);
	return out != NULL ? out : strdup("(none)");
}

#define NPF 30
#define NCANDLE 6

/*
 * Kraken OHLC of NCANDLE hourly candles, the last one the open hour of
 * now_s, VWAP v[i] (the price it gives); ts[] their open times in ms.
 */
static void
write_kraken(const char *name, int64_t now_s, const double *v, int64_t *ts)
{
	FILE *fp = create(name);
	int64_t h = now_s / 3600 * 3600;

	fputs("{\"error\":[],\"result\":{\"XXBTZUSD\":[", fp);
	for (int i = 0; i < NCANDLE; i++) {
		int64_t t = h - (int64_t)(NCANDLE - 1 - i) * 3600;

		ts[i] = t * 1000;
		fprintf(fp, "%s[%lld,\"%.1f\",\"%.1f\",\"%.1f\",\"%.1f\","
		    "\"%.1f\",\"12.5\",%d]", i ? "," : "", (long long)t,
		    v[i] - 5, v[i] + 10, v[i] - 20, v[i] + 3, v[i], 40 + i);
	}
	fprintf(fp, "],\"last\":%lld}}\n", (long long)(h - 3600));
	fclose(fp);
}

/*
 * Coinbase candles of NCANDLE hours, newest first, whose mean of open,
 * high, low and close is v[i].
 */
static void
write_coinbase(const char *name, int64_t now_s, const double *v, int64_t *ts)
{
	FILE *fp = create(name);
	int64_t h = now_s / 3600 * 3600;

	fputc('[', fp);
	for (int i = NCANDLE - 1; i >= 0; i--) {
		int64_t t = h - (int64_t)(NCANDLE - 1 - i) * 3600;

		ts[i] = t * 1000;
		/* time, low, high, open, close, volume */
		fprintf(fp, "%s[%lld,%.1f,%.1f,%.1f,%.1f,3.5]",
		    i == NCANDLE - 1 ? "" : ",", (long long)t, v[i] - 3,
		    v[i] + 2, v[i] - 1, v[i] + 2);
	}
	fputs("]\n", fp);
	fclose(fp);
}

/* The value stored at ts_ms in key, or -1. */
static double
stored_value(struct conn *c, int module, const char *key, int64_t ts_ms)
{
	char t[24];
	const char *range[] = { "TS.RANGE", key, t, t };
	const char *zr[] = { "ZRANGEBYSCORE", key, t, t };
	redisReply *r;
	double v = -1;

	snprintf(t, sizeof(t), "%lld", (long long)ts_ms);
	r = conn_command(c, 4, module ? range : zr, NULL);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
		if (module)
			v = strtod(r->element[0]->element[1]->str, NULL);
		else
			v = strtod(strchr(r->element[0]->str, ':') + 1, NULL);
	}
	freeReplyObject(r);
	return v;
}

/*
 * A price feed apart from the sentiment feed: each series from its own
 * feed, at its own key; a failing price feed leaves the price series as
 * it was while the sentiment moves, and says so (502 upstream failed,
 * naming the role, exit 1, counted for role price).
 */
static void
price_cases(const char *label, const char *url, int module)
{
	struct conn *c = tl_conn_open(url, 2000);
	struct tl_env e;
	struct run r;
	int64_t pt[NPF], stt[NPF + 2];
	double pv[NPF], sv[NPF + 2];
	char *want, *got, *before, *after;
	redisReply *m;

	int64_t now_s = clock_now_ms() / 1000;

	/* hourly Kraken candles (VWAP); v1 sentiment every 2 min */
	for (int i = 0; i < NPF + 2; i++) {
		if (i < NCANDLE)
			pv[i] = 40000 + 100 * i + 0.5;
		sv[i] = (i % 7) / 10.0;
	}
	write_kraken("pf-price.json", now_s, pv, pt);
	write_role_feed("pf-sent.json", 0, NPF, 120, now_s - 400, 0, stt);
	base_env(&e, url, "pf", "/file/pf-sent.json");
	tl_env_set(&e, "ISBITCOINLIT_PRICE_URL=http://127.0.0.1:%d/file/pf-price.json",
	    port);
	run_once(&e, &r);
	CHECK(r.status == 0 && strcmp(jstr(&r, "status"), "ok") == 0,
	    "%s: price feed and sentiment feed: ok (%s)", label, r.out);
	run_free(&r);
	CHECK(count_samples(c, module, "pf:price:kraken-ohlc:1h") == NCANDLE &&
	    count_samples(c, module, "pf:sentiment:mean:30s") == NPF &&
	    count_samples(c, module, "pf:price:mean:30s") < 1,
	    "%s: each series at its source's key, from its own feed", label);
	m = tl_cmd(c, "HGET", "pf:series", "price");
	CHECK(m != NULL && m->type == REDIS_REPLY_STRING &&
	    strcmp(m->str, "pf:price:kraken-ohlc:1h") == 0,
	    "%s: the map names the price key", label);
	freeReplyObject(m);
	want = expected_split(pt, pv, NCANDLE, stt, sv, NPF);
	got = get_string(c, "pf:cache");
	CHECK_STR(got, want, "%s: the summary is the oracle's (the upstream's "
	    "price and the price feed's sentiment ignored)", label);
	free(want);
	free(got);

	/*
	 * The price feed fails (404, then Kraken's error body) while the
	 * sentiment feed gains a sample each time.
	 */
	write_file("pf-kraken.json",
	    "{\"error\":[\"EGeneral:Too many requests\"],\"result\":{}}");
	for (int k = 0; k < 2; k++) {
		const char *path = k == 0 ? "/file/pf-missing.json" : "/file/pf-kraken.json";
		long long fp = stat_of(c, "pf", "failures_price");
		long long fs = stat_of(c, "pf", "failures_sentiment");

		write_role_feed("pf-sent.json", 0, NPF + 1 + k, 120,
		    now_s - 400 + 120 * (k + 1), 0, stt);
		before = dump_of(c, "pf:price:kraken-ohlc:1h");
		tl_env_free(&e);
		base_env(&e, url, "pf", "/file/pf-sent.json");
		tl_env_set(&e, "ISBITCOINLIT_PRICE_URL=http://127.0.0.1:%d%s",
		    port, path);
		run_once(&e, &r);
		after = dump_of(c, "pf:price:kraken-ohlc:1h");
		CHECK(r.status == 1 &&
		    strcmp(jstr(&r, "error"), "upstream failed") == 0 &&
		    strstr(jstr(&r, "detail"), "price feed failed") != NULL &&
		    strstr(jstr(&r, "detail"), k == 0 ? "download" :
		    "validation") != NULL &&
		    strstr(jstr(&r, "detail"), "127.0.0.1") == NULL &&
		    strstr(jstr(&r, "detail"), ".json") == NULL,
		    "%s: a failing price feed (%s): exit 1, upstream failed, "
		    "naming the role and the cause, no host (%s)", label,
		    path, r.out);
		CHECK_STR(after, before, "%s: %s: the price series is left as "
		    "it was", label, path);
		CHECK(count_samples(c, module, "pf:price:kraken-ohlc:1h") ==
		    NCANDLE &&
		    count_samples(c, module, "pf:sentiment:mean:30s") ==
		    NPF + 1 + k, "%s: %s: the sentiment series moved", label,
		    path);
		CHECK(stat_of(c, "pf", "failures_price") == fp + 1 &&
		    stat_of(c, "pf", "failures_sentiment") == fs,
		    "%s: %s: counted for role price only", label, path);
		/* the documents follow what the store then holds */
		want = expected_split(pt, pv, NCANDLE, stt, sv, NPF + 1 + k);
		got = get_string(c, "pf:cache");
		CHECK_STR(got, want, "%s: %s: the summary is recomputed from "
		    "the stored price and the new sentiment", label, path);
		free(want);
		free(got);
		run_free(&r);
		free(before);
		free(after);
	}

	/*
	 * The open candle moves: the price series keeps the last value
	 * (Kraken: keep-last) while the v1 sentiment keeps the first, though
	 * its feed now says otherwise for every stored timestamp.
	 */
	pv[NCANDLE - 1] = 47777.5;
	write_kraken("pf-price.json", now_s, pv, pt);
	write_role_feed("pf-sent.json", 0, NPF + 2, 120, now_s - 400 + 240,
	    0.05, stt);
	tl_env_free(&e);
	base_env(&e, url, "pf", "/file/pf-sent.json");
	tl_env_set(&e, "ISBITCOINLIT_PRICE_URL=http://127.0.0.1:%d/file/"
	    "pf-price.json", port);
	run_once(&e, &r);
	CHECK(r.status == 0, "%s: the open candle moved: ok (%s)", label,
	    r.out);
	run_free(&r);
	CHECK(stored_value(c, module, "pf:price:kraken-ohlc:1h",
	    pt[NCANDLE - 1]) == 47777.5 &&
	    count_samples(c, module, "pf:price:kraken-ohlc:1h") == NCANDLE,
	    "%s: the open candle's stored price follows its new VWAP (%g)",
	    label, stored_value(c, module, "pf:price:kraken-ohlc:1h",
	    pt[NCANDLE - 1]));
	CHECK(stored_value(c, module, "pf:sentiment:mean:30s", stt[1]) ==
	    sv[1], "%s: the v1 sentiment keeps its first value (%g)", label,
	    stored_value(c, module, "pf:sentiment:mean:30s", stt[1]));
	want = expected_split(pt, pv, NCANDLE, stt, sv, NPF + 2);
	got = get_string(c, "pf:cache");
	CHECK_STR(got, want, "%s: the summary follows the open candle", label);
	free(want);
	free(got);

	/* another price source: a new key, the old one untouched */
	before = dump_of(c, "pf:price:kraken-ohlc:1h");
	for (int i = 0; i < NCANDLE; i++)
		pv[i] = 30000 + 10 * i;
	write_coinbase("pf-cb.json", now_s, pv, pt);
	tl_env_free(&e);
	base_env(&e, url, "pf", "/file/pf-sent.json");
	tl_env_set(&e, "ISBITCOINLIT_PRICE_URL=http://127.0.0.1:%d/file/"
	    "pf-cb.json", port);
	run_once(&e, &r);
	CHECK(r.status == 0, "%s: switched to Coinbase candles: ok (%s)",
	    label, r.out);
	run_free(&r);
	after = dump_of(c, "pf:price:kraken-ohlc:1h");
	CHECK_STR(after, before, "%s: the old source's series is left as it "
	    "was", label);
	CHECK(count_samples(c, module, "pf:price:coinbase-candles:1h") ==
	    NCANDLE, "%s: the new source has its own key", label);
	m = tl_cmd(c, "HGET", "pf:series", "price");
	CHECK(m != NULL && m->type == REDIS_REPLY_STRING &&
	    strcmp(m->str, "pf:price:coinbase-candles:1h") == 0,
	    "%s: the map names the new key", label);
	freeReplyObject(m);
	want = expected_split(pt, pv, NCANDLE, stt, sv, NPF + 2);
	got = get_string(c, "pf:cache");
	CHECK_STR(got, want, "%s: the summary is the new source's alone",
	    label);
	free(want);
	free(got);
	free(before);
	free(after);
	tl_env_free(&e);
	conn_free(c);
}

static void
feed_cases(const char *label, const char *url, int module)
{
	struct conn *c = tl_conn_open(url, 2000);
	struct tl_env e;
	struct run r;
	char *want, *cache, *snap1, *snap2;
	long long expired = 0;

	for (int i = 0; i < NFEED; i++)
		if (feed[i].ts_ms < feed[NFEED - 1].ts_ms - RETENTION_MS)
			expired++;
	want = expected_summary(feed, NFEED);

	/* a 24 h feed over HTTP */
	base_env(&e, url, "f", "/file/feed24.json");
	run_once(&e, &r);
	CHECK(stat_of(c, "f", "successes") == 1 &&
	    stat_of(c, "f", "samples_received") == NFEED &&
	    stat_of(c, "f", "samples_valid") == NFEED &&
	    stat_of(c, "f", "samples_invalid") == 0 &&
	    stat_of(c, "f", "samples_expired") == expired &&
	    stat_of(c, "f", "last_duration_ms") == jint(&r, "duration_ms") &&
	    stat_of(c, "f", "last_success_ms") > 1600000000000LL,
	    "%s: <prefix>:refresh:stats holds the run's report", label);
	CHECK(r.status == 0 && r.doc != NULL, "%s: --once exits 0 with a "
	    "report", label);
	CHECK(jint(&r, "received") == NFEED && jint(&r, "valid") == NFEED &&
	    jint(&r, "invalid") == 0, "%s: received, valid, invalid", label);
	CHECK_INT(jint(&r, "expired"), expired,
	    "%s: samples older than 24 h counted as expired", label);
	CHECK_STR(jstr(&r, "backend"), label, "%s: backend reported", label);
	CHECK_STR(jstr(&r, "status"), "ok", "%s: status ok", label);
	CHECK(count_samples(c, module, "f:price:mean:30s") == NFEED - expired &&
	    count_samples(c, module, "f:sentiment:mean:30s") == NFEED - expired,
	    "%s: every kept sample is stored", label);
	cache = get_string(c, "f:cache");
	CHECK_STR(cache, want, "%s: the cache holds the summary of the feed",
	    label);
	free(cache);
	{
		int all = 1;

		for (int i = 1; i <= HISTORY_HOURS_MAX; i++) {
			char key[32], *doc, *exp = expected_history(feed, NFEED, i);

			snprintf(key, sizeof(key), "f:history:%d", i);
			doc = get_string(c, key);
			if (doc == NULL || exp == NULL || strcmp(doc, exp) != 0) {
				tl_diag("%s: %s", key, doc ? doc : "(none)");
				all = 0;
			}
			free(doc);
			free(exp);
		}
		CHECK(all, "%s: history:1 to :24 hold the histories of the feed",
		    label);
		cache = get_string(c, "f:history:24");
		CHECK(cache != NULL && history_valid(cache, strlen(cache), 24, FMT_HOUR_MS) &&
		    ttl_of(c, "f:history:24") > 100,
		    "%s: history:24 is a valid 24-hour document, with a TTL",
		    label);
		free(cache);
	}
	run_free(&r);

	/* again: nothing changes */
	snap1 = snapshot(c, "f");
	run_once(&e, &r);
	snap2 = snapshot(c, "f");
	CHECK(r.status == 0 && jint(&r, "valid") == NFEED,
	    "%s: a second run succeeds", label);
	CHECK_STR(snap2, snap1, "%s: a second run changes nothing", label);
	free(snap1);
	free(snap2);
	run_free(&r);
	tl_env_free(&e);

	/* gzip, redirects */
	whole_feed(label, url, "/file/feed24.json.gz",
	    "a gzip-encoded feed is accepted");
	whole_feed(label, url, "/redirect/2/feed24.json",
	    "three redirects are followed");
	{
		char furl[300];

		snprintf(furl, sizeof(furl), "file://%s/feed24.json", dir);
		whole_feed(label, url, furl, "a file:// feed");
	}

	/* failures leave everything as it was */
	upstream_fails(label, url, c, "HTTP 500", "/status/500", NULL,
	    "HTTP status 500");
	upstream_fails(label, url, c, "HTTP 404", "/status/404", NULL,
	    "HTTP status 404");
	upstream_fails(label, url, c, "a stalled server", "/stall",
	    "ISBITCOINLIT_UPSTREAM_TIMEOUT_S=1", "timed out");
	upstream_fails(label, url, c, "a trickling server", "/trickle",
	    "ISBITCOINLIT_UPSTREAM_TIMEOUT_S=2", "timed out");
	upstream_fails(label, url, c, "an oversized chunked body",
	    "/chunked-huge", "ISBITCOINLIT_UPSTREAM_MAX_BYTES=200000",
	    "larger than 200000 bytes");
	upstream_fails(label, url, c, "a body over the cap",
	    "/file/feed24.json", "ISBITCOINLIT_UPSTREAM_MAX_BYTES=100000",
	    "larger than 100000 bytes");
	upstream_fails(label, url, c, "truncated JSON", "/file/truncated.json",
	    NULL, "not JSON");
	upstream_fails(label, url, c, "an object, not an array",
	    "/file/object.json", NULL, "not a JSON array but an object");
	upstream_fails(label, url, c, "an all-invalid feed", "/file/invalid.json",
	    NULL, "no valid sample among 4 (first: element 0: missing field "
	    "\"btc_price\")");
	upstream_fails(label, url, c, "an empty array", "/file/empty.json",
	    NULL, "no valid sample among 0");
	upstream_fails(label, url, c, "an unreachable host",
	    "http://127.0.0.1:1/feed.json", NULL, "Couldn't connect");
	upstream_fails(label, url, c, "a reset connection", "/reset", NULL,
	    "Connection reset");
	upstream_fails(label, url, c, "four redirects", "/redirect/3/feed24.json",
	    NULL, "redirect");
	/* refused before it is followed: file:///etc/hostname is never read */
	upstream_fails(label, url, c, "a redirect to file://", "/redirect-file",
	    NULL, "Protocol \"file\" not supported");
	/*
	 * ftp is followed by default: our rule (http and https only) must
	 * refuse it before any connection ("Couldn't connect" would mean
	 * it was followed to the closed port)
	 */
	upstream_fails(label, url, c, "a redirect to ftp://", "/redirect-ftp",
	    NULL, "Protocol \"ftp\" not supported");

	/* a partly invalid feed */
	base_env(&e, url, "p", "/file/partial.json");
	run_once(&e, &r);
	CHECK(r.status == 0 && jint(&r, "received") == 9 &&
	    jint(&r, "valid") == 3 && jint(&r, "invalid") == 6,
	    "%s: a partly invalid feed: 3 valid, 6 invalid", label);
	CHECK(count_samples(c, module, "p:price:mean:30s") == 3,
	    "%s: only the valid samples are stored", label);
	run_free(&r);
	tl_env_free(&e);

	/*
	 * A live feed with one sample dated 23 h ahead: it is invalid, so it
	 * neither expires the real samples (retention runs from the newest)
	 * nor moves the window onto its hour.
	 */
	{
		enum { NLIVE = 480 };
		static struct tl_sample live[NLIVE];
		int64_t now_s = clock_now_ms() / 1000;
		char *want_live;
		FILE *fp;

		fp = create("future.json");
		fputc('[', fp);
		for (int i = 0; i < NLIVE; i++) {
			live[i].ts_ms = (now_s - 60 - 30 * (NLIVE - 1 - i)) * 1000;
			live[i].price = 40000 + i;
			live[i].sentiment = (double)(i % 100) / 100.0;
			fprintf(fp, "{\"timestamp\":%lld,\"btc_price\":%.0f,"
			    "\"mean\":%.2f},", (long long)live[i].ts_ms / 1000,
			    live[i].price, live[i].sentiment);
		}
		fprintf(fp, "{\"timestamp\":%lld,\"btc_price\":1,\"mean\":0.5}]\n",
		    (long long)(now_s + 23 * 3600));
		fclose(fp);
		want_live = expected_summary(live, NLIVE);
		base_env(&e, url, "fu", "/file/future.json");
		run_once(&e, &r);
		CHECK(r.status == 0 && jint(&r, "valid") == NLIVE &&
		    jint(&r, "invalid") == 1 && jint(&r, "expired") == 0,
		    "%s: a sample 23 h ahead is invalid, no real one expires "
		    "(valid %lld, invalid %lld, expired %lld)", label,
		    jint(&r, "valid"), jint(&r, "invalid"), jint(&r, "expired"));
		CHECK(count_samples(c, module, "fu:price:mean:30s") == NLIVE,
		    "%s: every real sample is stored", label);
		cache = get_string(c, "fu:cache");
		CHECK_STR(cache, want_live, "%s: the summary is of the real "
		    "samples' last hours", label);
		free(cache);
		free(want_live);
		run_free(&r);
		tl_env_free(&e);
	}

	/* renamed fields, numeric strings, RFC 3339 and dates */
	base_env(&e, url, "r", "/file/renamed.json");
	tl_env_set(&e, "ISBITCOINLIT_FIELD_TIMESTAMP=date");
	tl_env_set(&e, "ISBITCOINLIT_FIELD_PRICE=p");
	tl_env_set(&e, "ISBITCOINLIT_FIELD_SENTIMENT=s");
	run_once(&e, &r);
	CHECK(r.status == 0 && jint(&r, "valid") == 4 && jint(&r, "invalid") == 0,
	    "%s: renamed fields with strings, RFC 3339 and dates", label);
	cache = get_string(c, "r:cache");
	CHECK_STR(cache, "{\"hourly_average_of_averages\":["
	    "{\"time\":\"2021-07-07T14:00:00+00:00\",\"price\":34000.5,\"sentiment\":0.25},"
	    "{\"time\":\"2021-07-07T16:00:00+00:00\",\"price\":35000,\"sentiment\":-0.125}],"
	    "\"sentiment_direction\":\"falling\",\"price_direction\":\"rising\","
	    "\"verdict\":\"mixed\",\"as_of\":\"2021-07-07T16:30:00+00:00\"}",
	    "%s: the summary of the renamed feed", label);
	free(cache);
	run_free(&r);
	tl_env_free(&e);

	free(want);
	conn_free(c);
}

/* Processes: single flight, SIGKILL, --every, FastCGI (one backend). */
static void
process_cases(const char *url)
{
	struct conn *c = tl_conn_open(url, 2000);
	struct tl_env e;
	struct run r;
	const char *argv[] = { refresh_bin, "--once", NULL };

	/* two at once: exactly one runs */
	{
		pid_t a, b;
		int sa, sb;

		base_env(&e, url, "c", "/slow/1500/feed24.json");
		a = tl_spawn(argv, &e, 1, NULL);
		tl_msleep(300);
		b = tl_spawn(argv, &e, 1, NULL);
		sb = tl_wait(b);
		sa = tl_wait(a);
		/* which one takes the lock is the scheduler's choice (under
		 * valgrind on a busy machine the second may start first) */
		CHECK((sa == 0 && sb == 4) || (sa == 4 && sb == 0),
		    "two concurrent refreshes: one runs, the other finds the "
		    "lock (exits %d and %d)", sa, sb);
		CHECK(stat_of(c, "c", "successes") == 1 &&
		    stat_of(c, "c", "failures_lock_busy") == 1,
		    "counted: one success, one failure for the lock");
		tl_env_free(&e);
	}

	/* a worker killed while it holds the lock */
	{
		pid_t a;
		redisReply *x = NULL;
		int i, held = 0;

		base_env(&e, url, "k", "/stall");
		tl_env_set(&e, "ISBITCOINLIT_UPSTREAM_TIMEOUT_S=1");
		tl_env_set(&e, "ISBITCOINLIT_REDIS_TIMEOUT_MS=100");
		a = tl_spawn(argv, &e, 1, NULL);
		for (i = 0; i < 100 && !held; i++) {
			x = tl_cmd(c, "EXISTS", "k:refresh:lock", NULL);
			held = x != NULL && x->integer == 1;
			freeReplyObject(x);
			if (!held)
				tl_msleep(20);
		}
		kill(a, SIGKILL);
		tl_wait(a);
		CHECK(held, "the refresh took the lock");
		tl_env_set(&e, "ISBITCOINLIT_UPSTREAM_URL="
		    "http://127.0.0.1:%d/file/feed24.json", port);
		run_once(&e, &r);
		CHECK_INT(r.status, 4, "while the dead worker's lock lives: "
		    "exit 4");
		CHECK_STR(jstr(&r, "error"), "refresh running", "error text");
		run_free(&r);
		for (i = 0; i < 200; i++) {
			x = tl_cmd(c, "EXISTS", "k:refresh:lock", NULL);
			held = x != NULL && x->integer == 1;
			freeReplyObject(x);
			if (!held)
				break;
			tl_msleep(50);
		}
		CHECK(!held, "the lock expires by itself");
		run_once(&e, &r);
		CHECK(r.status == 0 && jint(&r, "valid") == NFEED,
		    "after the lock expired the next refresh succeeds");
		run_free(&r);
		tl_env_free(&e);
	}

	/* --every survives a failing upstream and stops on SIGTERM */
	{
		const char *ev[] = { refresh_bin, "--every", "1", NULL };
		pid_t a;
		int st;

		base_env(&e, url, "e", "/status/503");
		a = tl_spawn(ev, &e, 1, NULL);
		tl_msleep(1500);
		CHECK(tl_running(a), "--every keeps running while the "
		    "upstream fails");
		kill(a, SIGTERM);
		st = tl_wait(a);
		CHECK_INT(st, 0, "--every exits 0 on SIGTERM");
		tl_env_free(&e);

		base_env(&e, url, "e", "/file/feed24.json");
		a = tl_spawn(ev, &e, 1, NULL);
		for (int i = 0; i < 100; i++) {
			char *s = get_string(c, "e:cache");

			free(s);
			if (s != NULL)
				break;
			tl_msleep(50);
		}
		kill(a, SIGTERM);
		st = tl_wait(a);
		{
			char *s = get_string(c, "e:cache");

			CHECK(s != NULL && st == 0, "--every refreshes, then "
			    "stops on SIGTERM");
			free(s);
		}
		tl_env_free(&e);
	}

	/* --every survives Redis being away, and carries on when it is back */
	{
		const char *ev[] = { refresh_bin, "--every", "1", NULL };
		struct tl_redis late;
		struct conn *lc;
		char *s = NULL;
		pid_t a;
		int i;

		/* a server started and stopped, for its directory and socket */
		if (tl_redis_start(&late, NULL, (char *)NULL) < 0) {
			CHECK(0, "start a second redis-server");
		} else {
			tl_redis_kill(&late, 0);
			base_env(&e, late.url, "o", "/file/feed24.json");
			tl_env_set(&e, "ISBITCOINLIT_REDIS_TIMEOUT_MS=200");
			a = tl_spawn(ev, &e, 1, NULL);
			tl_msleep(1500);
			CHECK(tl_running(a), "--every keeps running while Redis "
			    "is away");
			tl_redis_restart(&late, NULL, (char *)NULL);
			lc = tl_conn_open(late.url, 2000);
			for (i = 0; i < 100 && s == NULL; i++) {
				s = get_string(lc, "o:cache");
				if (s == NULL)
					tl_msleep(100);
			}
			CHECK(s != NULL, "--every refreshes once Redis is back");
			free(s);
			kill(a, SIGTERM);
			CHECK_INT(tl_wait(a), 0, "and exits 0 on SIGTERM");
			conn_free(lc);
			tl_redis_stop(&late);
			tl_env_free(&e);
		}
	}

	/* usage errors */
	{
		const char *bad[] = { refresh_bin, "--once", "--every", "5", NULL };

		tl_env_init(&e);
		CHECK_INT(tl_run(bad, &e, 1, NULL), 2, "--once with --every: "
		    "exit 2");
		tl_env_set(&e, "ISBITCOINLIT_UPSTREAM_URL=ftp://x/y");
		CHECK_INT(tl_run(argv, &e, 1, NULL), 2, "an ftp URL: exit 2");
		tl_env_free(&e);
	}
	conn_free(c);
}

/*
 * A FastCGI request without a body, with an Authorization header when auth
 * is not NULL.  Returns the response (caller frees) or NULL.  A refresh
 * takes seconds under valgrind: wait up to FCGI_WAIT_MS for it.
 */
#define FCGI_WAIT_MS 30000

static char *
fcgi_request(const char *sock, const char *method, const char *uri,
    const char *auth)
{
	char m[64], d[300], r[300], a[300];
	const char *params[] = { m, d, r, "CONTENT_LENGTH=0",
	    auth != NULL ? a : NULL, NULL };

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(d, sizeof(d), "DOCUMENT_URI=%s", uri);
	snprintf(r, sizeof(r), "REQUEST_URI=%s", uri);
	if (auth != NULL)
		snprintf(a, sizeof(a), "HTTP_AUTHORIZATION=%s", auth);
	return tl_fcgi_request_wait(sock, params, FCGI_WAIT_MS);
}

static void
fastcgi_cases(const char *url)
{
	char sock[256], *out;
	const char *argv[] = { refresh_bin, "--listen", sock, "--workers", "2", NULL };
	struct tl_env e;
	struct stat st;
	pid_t pid;
	int i, status;

	snprintf(sock, sizeof(sock), "%s/refresh.sock", dir);
	base_env(&e, url, "g", "/file/feed24.json");
	tl_env_set(&e, "ISBITCOINLIT_REFRESH_TOKEN=s3cret-token");
	pid = tl_spawn(argv, &e, 1, NULL);
	for (i = 0; i < 200 && stat(sock, &st) != 0; i++)
		tl_msleep(25);
	CHECK(i < 200 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0660,
	    "--listen makes a unix socket with mode 0660");

	out = fcgi_request(sock, "POST", "/refresh", "Bearer s3cret-token");
	CHECK(out && strstr(out, "Status: 200 OK") &&
	    strstr(out, "Content-Type: application/json; charset=utf-8") &&
	    strstr(out, "\"status\":\"ok\",\"received\":2900"),
	    "POST /refresh with the token: 200 and the report");
	free(out);
	out = fcgi_request(sock, "POST", "/refresh", NULL);
	CHECK(out && strstr(out, "Status: 401") &&
	    strstr(out, "WWW-Authenticate: Bearer") &&
	    strstr(out, "\"error\":\"unauthorized\""),
	    "POST /refresh without the token: 401");
	free(out);
	out = fcgi_request(sock, "POST", "/refresh", "Bearer s3cret-tokem");
	CHECK(out && strstr(out, "Status: 401"), "a wrong token: 401");
	free(out);
	out = fcgi_request(sock, "POST", "/refresh", "Bearer s3cret-token-and-more");
	CHECK(out && strstr(out, "Status: 401"), "a longer token: 401");
	free(out);
	out = fcgi_request(sock, "GET", "/refresh", NULL);
	CHECK(out && strstr(out, "Status: 405") && strstr(out, "Allow: POST\r\n")
	    && strstr(out, "\"error\":\"method not allowed\""),
	    "GET /refresh: 405 with Allow: POST");
	free(out);
	out = fcgi_request(sock, "POST", "/elsewhere", NULL);
	CHECK(out && strstr(out, "Status: 404") &&
	    strstr(out, "\"error\":\"not found\""), "another path: 404 JSON");
	free(out);

	kill(pid, SIGTERM);
	status = tl_wait(pid);
	CHECK_INT(status, 0, "the pool exits 0 on SIGTERM");
	CHECK(access(sock, F_OK) != 0, "and removes its socket");
	tl_env_free(&e);

	/* standard input that is not a socket */
	{
		const char *one[] = { refresh_bin, NULL };

		tl_env_init(&e);
		CHECK_INT(tl_run(one, &e, 1, NULL), 2,
		    "no --listen and no socket on fd 0: exit 2");
		tl_env_free(&e);
	}

	/* no token: the responder refuses to start, unless told to be open */
	base_env(&e, url, "g", "/file/feed24.json");
	CHECK_INT(tl_run(argv, &e, 1, NULL), 2,
	    "no ISBITCOINLIT_REFRESH_TOKEN: the responder does not start (exit 2)");
	CHECK(access(sock, F_OK) != 0, "and makes no socket");
	tl_env_set(&e, "ISBITCOINLIT_REFRESH_OPEN=on");
	pid = tl_spawn(argv, &e, 1, NULL);
	for (i = 0; i < 200 && stat(sock, &st) != 0; i++)
		tl_msleep(25);
	out = fcgi_request(sock, "POST", "/refresh", NULL);
	CHECK(out && strstr(out, "Status: 200 OK"),
	    "ISBITCOINLIT_REFRESH_OPEN=on: POST /refresh without a token: 200");
	free(out);
	kill(pid, SIGTERM);
	CHECK_INT(tl_wait(pid), 0, "the open pool exits 0 on SIGTERM");
	tl_env_free(&e);
}

static void
write_fixtures(void)
{
	write_file("object.json", "{\"data\":[{\"timestamp\":1625592626.3,"
	    "\"btc_price\":\"1\",\"mean\":0.1}]}");
	write_file("invalid.json", "[{\"timestamp\":1625592626.3,\"mean\":0.1},"
	    "{\"timestamp\":\"soon\",\"btc_price\":\"1\",\"mean\":0.1},"
	    "{\"timestamp\":1625592626.3,\"btc_price\":\"NaN\",\"mean\":0.1},"
	    "[1,2,3]]");
	write_file("empty.json", "[]");
	write_file("partial.json", "["
	    "{\"timestamp\":1625666400.5,\"btc_price\":\"34000\",\"mean\":0.1},"
	    "{\"timestamp\":1625666430,\"btc_price\":34001,\"mean\":\"0.2\"},"
	    "{\"timestamp\":\"1625666460.9\",\"btc_price\":\"34002.5\",\"mean\":-0.3},"
	    "{\"timestamp\":1625666490,\"btc_price\":\"\",\"mean\":0.1},"
	    "{\"timestamp\":1625666520,\"btc_price\":\"1e999\",\"mean\":0.1},"
	    "{\"timestamp\":1230940799,\"btc_price\":\"1\",\"mean\":0.1},"
	    "{\"timestamp\":99999999999,\"btc_price\":\"1\",\"mean\":0.1},"
	    "{\"timestamp\":1625666550,\"btc_price\":\"0x10\",\"mean\":0.1},"
	    "\"just a string\"]");
	write_file("renamed.json", "["
	    "{\"date\":\"2021-07-07T14:10:00Z\",\"p\":\"34000.5\",\"s\":\"0.25\"},"
	    "{\"date\":\"2021-07-07T18:20:00+02:00\",\"p\":34999,\"s\":-0.25},"
	    "{\"date\":\"2021-07-07T16:30:00.999Z\",\"p\":\"35001\",\"s\":0},"
	    "{\"date\":\"2021-07-07\",\"p\":1,\"s\":1}]");
}

/*
 * The worker's memory does not grow with what the feed holds: a body of
 * 16 MiB of empty objects (5.6 million elements, each invalid) is refused
 * as "no valid sample" within an address space of a few times the body.
 * Built as one jansson tree it took 1.3 GB.  ASan and valgrind reserve
 * far more address space than that for themselves: skipped under them.
 */
#define HOSTILE_BYTES (16L * 1024 * 1024)
/* the program alone needs about 24 MiB (measured with prlimit --as) */
#define HOSTILE_AS_LIMIT (HOSTILE_BYTES * 6)

static int
under_sanitizer_or_valgrind(void)
{
	const char *tp = getenv("TEST_PREFIX");

#if defined(__SANITIZE_ADDRESS__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 1;
#endif
#endif
	return getenv("ASAN_OPTIONS") != NULL || (tp != NULL && *tp != '\0');
}

static void
memory_cases(const char *url)
{
	struct conn *c = tl_conn_open(url, 2000);
	char limit[64], *before, *after;
	const char *argv[] = { "prlimit", limit, refresh_bin, "--once", NULL };
	long n = (HOSTILE_BYTES - 4) / 3;
	struct tl_env e;
	struct run r;
	json_error_t jerr;
	FILE *fp;

	if (under_sanitizer_or_valgrind() || system("prlimit --version "
	    ">/dev/null 2>&1") != 0) {
		tl_skip("ASan, valgrind or no prlimit", "a 16 MiB feed of empty "
		    "objects within %ld MiB of address space",
		    HOSTILE_AS_LIMIT >> 20);
		tl_skip("ASan, valgrind or no prlimit", "and a real feed "
		    "within the same limit");
		conn_free(c);
		return;
	}
	snprintf(limit, sizeof(limit), "--as=%ld", HOSTILE_AS_LIMIT);
	fp = create("hostile.json");
	/* "[{}" + n times ",{}" + "]": exactly 16 MiB, n + 1 elements */
	fputs("[{}", fp);
	for (long i = 0; i < n; i++)
		fputs(",{}", fp);
	fputs("]", fp);
	fclose(fp);

	/* the limit leaves room for a real refresh */
	base_env(&e, url, "mem", "/file/feed24.json");
	memset(&r, 0, sizeof(r));
	r.status = tl_run(argv, &e, 0, &r.out);
	CHECK(r.status == 0, "a real feed within %ld MiB of address space "
	    "(exit %d)", HOSTILE_AS_LIMIT >> 20, r.status);
	run_free(&r);
	tl_env_free(&e);

	before = snapshot(c, "mem");
	base_env(&e, url, "mem", "/file/hostile.json");
	r.status = tl_run(argv, &e, 0, &r.out);
	r.doc = r.out ? json_loads(r.out, 0, &jerr) : NULL;
	after = snapshot(c, "mem");
	CHECK(r.status == 1 &&
	    strcmp(jstr(&r, "error"), "upstream failed") == 0 &&
	    strstr(jstr(&r, "detail"), "no valid sample among 5592405") != NULL,
	    "a 16 MiB feed of empty objects within %ld MiB of address space: "
	    "exit 1, upstream failed, no valid sample (exit %d: %s)",
	    HOSTILE_AS_LIMIT >> 20, r.status, r.out ? r.out : "(no output)");
	CHECK_STR(after, before, "and Redis unchanged");
	free(before);
	free(after);
	run_free(&r);
	tl_env_free(&e);
	conn_free(c);
}

/*
 * A Redis user without the refresh's rights (the API's, say): the refresh
 * fails as a permission error, exit 7, and writes nothing; not as an
 * outage.
 */
static void
perm_cases(const struct tl_redis *rs)
{
	struct conn *c = tl_conn_open(rs->url, 2000);
	redisReply *r;
	struct tl_env e;
	struct run run;
	char url[300], *before, *after;
	const char *setuser[] = { "ACL", "SETUSER", "reader", "on", ">pw",
	    "resetkeys", "%R~f:*", "~f:cache", "-@all", "+ping", "+select",
	    "+get", "+set", "+type", "+command|info", "+cluster|info",
	    "+zrange", "+zrangebyscore" };

	r = conn_command(c, (int)(sizeof(setuser) / sizeof(setuser[0])),
	    setuser, NULL);
	CHECK(r != NULL && r->type == REDIS_REPLY_STATUS, "ACL SETUSER reader");
	freeReplyObject(r);
	snprintf(url, sizeof(url), "unix://reader:pw@%s", rs->sock);
	before = snapshot(c, "f");
	base_env(&e, url, "f", "/file/feed24.json");
	run_once(&e, &run);
	after = snapshot(c, "f");
	CHECK(run.status == 7 &&
	    strcmp(jstr(&run, "error"), "redis permission denied") == 0 &&
	    strstr(jstr(&run, "detail"), "NOPERM") != NULL,
	    "a user without the rights: exit 7, redis permission denied (%d "
	    "%s: %s)", run.status, jstr(&run, "error"), jstr(&run, "detail"));
	CHECK_STR(after, before, "a user without the rights: Redis unchanged");
	free(before);
	free(after);
	run_free(&run);
	tl_env_free(&e);
	conn_free(c);
}

/*
 * feed_fetch_all(): the downloads of one refresh at once, within one
 * deadline, each with its own result: one failing (an HTTP error, a
 * stall past the deadline) leaves the others whole; a server that wants a
 * User-Agent gets one.
 */
static void
fetch_cases(void)
{
	char path[512], url[4][256];
	struct feed_download d[3];
	char *want;
	int rc;

	snprintf(path, sizeof(path), "%s/feed24.json", dir);
	want = tl_read_file(path);
	snprintf(url[0], sizeof(url[0]), "http://127.0.0.1:%d/file/feed24.json",
	    port);
	snprintf(url[1], sizeof(url[1]), "http://127.0.0.1:%d/status/404", port);
	snprintf(url[2], sizeof(url[2]),
	    "http://127.0.0.1:%d/need-ua/feed24.json", port);
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 3; i++)
		d[i].url = url[i];
	rc = feed_fetch_all(d, 3, 10, 16L << 20);
	CHECK(rc == -1, "fetch_all: one of three failed: -1");
	CHECK(want != NULL && d[0].body.data != NULL &&
	    d[0].body.len == strlen(want) &&
	    memcmp(d[0].body.data, want, d[0].body.len) == 0,
	    "fetch_all: the first body whole");
	CHECK(d[1].body.data == NULL && strstr(d[1].err.text,
	    "HTTP status 404") != NULL, "fetch_all: the second its own error "
	    "(%s)", d[1].err.text);
	CHECK(want != NULL && d[2].body.data != NULL &&
	    d[2].body.len == strlen(want), "fetch_all: the third sent a "
	    "User-Agent and got its body (%s)", d[2].err.text);
	for (int i = 0; i < 3; i++)
		free(d[i].body.data);

	snprintf(url[3], sizeof(url[3]), "http://127.0.0.1:%d/stall", port);
	snprintf(url[0], sizeof(url[0]),
	    "http://127.0.0.1:%d/slow/300/feed24.json", port);
	memset(d, 0, sizeof(d));
	d[0].url = url[3];
	d[1].url = url[0];
	rc = feed_fetch_all(d, 2, 2, 16L << 20);
	CHECK(rc == -1 && d[0].body.data == NULL &&
	    strstr(d[0].err.text, "timed out") != NULL,
	    "fetch_all: a stalled feed times out at the deadline (%s)",
	    d[0].err.text);
	CHECK(want != NULL && d[1].body.data != NULL &&
	    d[1].body.len == strlen(want), "fetch_all: the other arrives "
	    "whole meanwhile (%s)", d[1].err.text);
	for (int i = 0; i < 2; i++)
		free(d[i].body.data);
	free(want);
}

int
main(void)
{
	struct tl_redis plain, mod;
	const char *module = tl_ts_module();
	const char *top = getenv("top_builddir");
	char portfile[256];
	const char *sargv[4];
	struct tl_env e;
	pid_t server;
	int before, ncases;
	FILE *fp;

	if (top == NULL)
		top = ".";
	snprintf(refresh_bin, sizeof(refresh_bin), "%s/src/isbitcoinlit-refresh",
	    top);
	snprintf(server_bin, sizeof(server_bin), "%s/tests/feed_server", top);
	snprintf(dir, sizeof(dir), "/tmp/isbitcoinlit-feed.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return tl_done();
	}
	make_feed();
	write_fixtures();

	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	sargv[0] = server_bin;
	sargv[1] = dir;
	sargv[2] = portfile;
	sargv[3] = NULL;
	tl_env_init(&e);
	server = tl_spawn(sargv, &e, 0, NULL);
	tl_env_free(&e);
	for (int i = 0; i < 200 && (fp = fopen(portfile, "r")) == NULL; i++)
		tl_msleep(10);
	if (fp == NULL || fscanf(fp, "%d", &port) != 1) {
		CHECK(0, "start the feed server");
		return tl_done();
	}
	fclose(fp);

	if (tl_redis_start(&plain, NULL, (char *)NULL) < 0) {
		CHECK(0, "start redis-server");
		return tl_done();
	}
	before = tl_count_results();
	if (feed_global_init() < 0)
		CHECK(0, "curl_global_init");
	fetch_cases();
	feed_cases("sortedset", plain.url, 0);
	price_cases("sortedset", plain.url, 0);
	ncases = tl_count_results() - before;
	process_cases(plain.url);
	memory_cases(plain.url);
	fastcgi_cases(plain.url);
	perm_cases(&plain);
	tl_redis_stop(&plain);

	if (module == NULL) {
		for (int i = 0; i < ncases; i++)
			tl_skip("ISBITCOINLIT_TEST_TS_MODULE not set",
			    "redistimeseries feed case %d", i + 1);
	} else if (tl_redis_start(&mod, module, (char *)NULL) < 0) {
		CHECK(0, "start redis-server with %s", module);
	} else {
		feed_cases("redistimeseries", mod.url, 1);
		price_cases("redistimeseries", mod.url, 1);
		tl_redis_stop(&mod);
	}

	kill(server, SIGKILL);
	tl_wait(server);
	{
		char c[300];

		snprintf(c, sizeof(c), "rm -rf %s", dir);
		if (system(c) != 0)
			tl_diag("could not remove %s", dir);
	}
	return tl_done();
}
