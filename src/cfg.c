/*
 * Configuration from one table: each ISBITCOINLIT_* variable, its option,
 * default, validation and help line.  Parsing is pure (the environment is
 * passed in) so that the tests call it directly.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"
#include "redis_url.h"

enum opt_type {
	OPT_STRING,	/* any non-empty text */
	OPT_SECRET,	/* text never echoed (help shows no default) */
	OPT_REDIS_URL,
	OPT_UPSTREAM_URL,
	OPT_INT,	/* in [min, max] */
	OPT_TIMESERIES,
	OPT_ANCHOR,
	OPT_BUCKET,
	OPT_LOGLEVEL,
	OPT_ONOFF,	/* on or off */
	OPT_FLAG	/* command line only, no value */
};

struct opt {
	const char *env;	/* NULL: command line only */
	const char *name;	/* long option without "--" */
	enum opt_type type;
	size_t offset;
	const char *def;	/* NULL: unset */
	long min, max;
	unsigned programs;
	const char *help;
};

#define OFF(f) offsetof(struct cfg, f)

static const struct opt opts[] = {
	{ "ISBITCOINLIT_REDIS_URL", "redis-url", OPT_REDIS_URL, OFF(redis_url),
	  "redis://127.0.0.1:6379/0", 0, 0, CFG_ALL,
	  "redis://[[user]:password@]host[:port][,host[:port]...][/db] (several: "
	  "Cluster seeds), unix:///path[?db=N] or "
	  "redis-sentinel://[[user]:password@][@[user]:password@]host:port,"
	  "host:port/<master>[/db] (the second password: the sentinels')" },
	{ "ISBITCOINLIT_REDIS_READ_URL", "redis-read-url", OPT_REDIS_URL,
	  OFF(redis_read_url), NULL, 0, 0, CFG_API,
	  "a replica for the API's reads (cache writes still go to the "
	  "REDIS_URL); unset: read from REDIS_URL" },
	{ "ISBITCOINLIT_REDIS_READ_RETRY_MS", "redis-read-retry-ms", OPT_INT,
	  OFF(redis_read_retry_ms), "5000", 1, 3600000, CFG_API,
	  "after a read on the replica failed, read from the master this long "
	  "before asking the replica again, milliseconds" },
	{ "ISBITCOINLIT_REDIS_TIMEOUT_MS", "redis-timeout-ms", OPT_INT,
	  OFF(redis_timeout_ms), "1000", 1, 600000, CFG_ALL,
	  "connect and command timeout for Redis, milliseconds" },
	{ "ISBITCOINLIT_KEY_PREFIX", "key-prefix", OPT_STRING, OFF(key_prefix),
	  "is-bitcoin-lit", 0, 0, CFG_ALL,
	  "prefix of every Redis key (hash-tag it for Redis Cluster)" },
	{ "ISBITCOINLIT_TIMESERIES", "timeseries", OPT_TIMESERIES,
	  OFF(timeseries), "auto", 0, 0, CFG_ALL,
	  "auto, redistimeseries or sortedset" },
	{ "ISBITCOINLIT_RETENTION_S", "retention-s", OPT_INT, OFF(retention_s),
	  NULL, 0, 100L * 365 * 86400, CFG_REFRESH,
	  "drop samples older than the newest minus this, seconds (0: keep all); "
	  "unset: 86400 with hour buckets, 2678400 (31 days) with day buckets" },
	{ "ISBITCOINLIT_MIN_REPLICAS", "min-replicas", OPT_INT,
	  OFF(min_replicas), "0", 0, 64, CFG_REFRESH,
	  "a refresh succeeds only once this many replicas have its writes "
	  "(WAIT)" },
	{ "ISBITCOINLIT_REPLICA_TIMEOUT_MS", "replica-timeout-ms", OPT_INT,
	  OFF(replica_timeout_ms), "1000", 1, 600000, CFG_REFRESH,
	  "how long a refresh waits for the replicas, milliseconds" },
	{ "ISBITCOINLIT_CACHE", "cache", OPT_ONOFF, OFF(cache), "on", 0, 0,
	  CFG_API, "off: the API computes every answer (no cache read or write)" },
	{ "ISBITCOINLIT_CACHE_TTL_S", "cache-ttl-s", OPT_INT, OFF(cache_ttl_s),
	  "120", 1, 365L * 86400, CFG_ALL,
	  "lifetime of the cached summary, seconds" },
	{ "ISBITCOINLIT_WINDOW_ANCHOR", "window-anchor", OPT_ANCHOR,
	  OFF(window_anchor), "newest", 0, 0, CFG_ALL,
	  "newest (the newest sample) or now (the clock) ends the window" },
	{ "ISBITCOINLIT_BUCKET", "bucket", OPT_BUCKET, OFF(bucket), "hour", 0, 0,
	  CFG_ALL, "hour or day: the UTC buckets of the summary's rows and of "
	  "/history (?hours=N, or ?days=N)" },
	{ "ISBITCOINLIT_WINDOW", "window", OPT_INT, OFF(window), "3", 2, 24,
	  CFG_ALL, "buckets in the verdict: the summary's window, from 2 (one "
	  "has no direction) to 24" },
	{ "ISBITCOINLIT_STALE_AFTER_S", "stale-after-s", OPT_INT,
	  OFF(stale_after_s), "3600", 1, 365L * 86400, CFG_API,
	  "/healthz calls a series stale when its newest sample is older than "
	  "this plus two of its feed's steps, seconds" },
	{ "ISBITCOINLIT_UPSTREAM_URL", "upstream-url", OPT_UPSTREAM_URL,
	  OFF(upstream_url), "https://api.senticrypt.com/v1/bitcoin.json", 0, 0,
	  CFG_REFRESH, "the feed: an http, https or file URL" },
	{ "ISBITCOINLIT_UPSTREAM_FORMAT", "upstream-format", OPT_STRING,
	  OFF(upstream_format), "auto", 0, 0, CFG_REFRESH,
	  "the feed's format: auto (by the body's shape), senticrypt-v1 or "
	  "senticrypt-v2 (price-only kraken-ohlc and coinbase-candles cannot "
	  "be the upstream)" },
	{ "ISBITCOINLIT_PRICE_URL", "price-url", OPT_UPSTREAM_URL,
	  OFF(price_url), NULL, 0, 0, CFG_REFRESH,
	  "a feed of the price alone (http, https or file URL); set, the "
	  "upstream gives only the sentiment (its price is ignored)" },
	{ "ISBITCOINLIT_PRICE_FORMAT", "price-format", OPT_STRING,
	  OFF(price_format), "auto", 0, 0, CFG_REFRESH,
	  "the price feed's format: auto (by the body's shape), "
	  "senticrypt-v1, senticrypt-v2, kraken-ohlc or coinbase-candles" },
	{ "ISBITCOINLIT_UPSTREAM_TIMEOUT_S", "upstream-timeout-s", OPT_INT,
	  OFF(upstream_timeout_s), "10", 1, 3600, CFG_REFRESH,
	  "total time allowed for the download, seconds" },
	{ "ISBITCOINLIT_UPSTREAM_MAX_BYTES", "upstream-max-bytes", OPT_INT,
	  OFF(upstream_max_bytes), "16777216", 1024, 1L << 30, CFG_REFRESH,
	  "largest feed body accepted, bytes" },
	{ "ISBITCOINLIT_MAX_FUTURE_S", "max-future-s", OPT_INT,
	  OFF(max_future_s), "300", 0, 86400, CFG_REFRESH,
	  "a sample dated further ahead of the clock is invalid, seconds" },
	{ "ISBITCOINLIT_FIELD_TIMESTAMP", "field-timestamp", OPT_STRING,
	  OFF(field_timestamp), "timestamp", 0, 0, CFG_REFRESH,
	  "feed field holding the sample time" },
	{ "ISBITCOINLIT_FIELD_PRICE", "field-price", OPT_STRING,
	  OFF(field_price), "btc_price", 0, 0, CFG_REFRESH,
	  "feed field holding the BTC price" },
	{ "ISBITCOINLIT_FIELD_SENTIMENT", "field-sentiment", OPT_STRING,
	  OFF(field_sentiment), "mean", 0, 0, CFG_REFRESH,
	  "feed field holding the sentiment" },
	{ "ISBITCOINLIT_REFRESH_TOKEN", "refresh-token", OPT_SECRET,
	  OFF(refresh_token), NULL, 0, 0, CFG_REFRESH,
	  "POST /refresh needs \"Authorization: Bearer <token>\"; the "
	  "responder does not start without one, unless REFRESH_OPEN is on" },
	{ "ISBITCOINLIT_REFRESH_OPEN", "refresh-open", OPT_ONOFF,
	  OFF(refresh_open), "off", 0, 0, CFG_REFRESH,
	  "on: POST /refresh needs no token (only behind a proxy that "
	  "authenticates)" },
	{ "ISBITCOINLIT_LISTEN", "listen", OPT_STRING, OFF(listen), NULL, 0, 0,
	  CFG_ALL, "PATH or HOST:PORT to bind (default: the socket on fd 0)" },
	{ "ISBITCOINLIT_WORKERS", "workers", OPT_INT, OFF(workers), "0", 0, 256,
	  CFG_ALL, "worker processes; 0: one per CPU with --listen, else 1" },
	{ "ISBITCOINLIT_LOG_LEVEL", "log-level", OPT_LOGLEVEL, OFF(log_level),
	  "info", 0, 0, CFG_ALL, "debug, info, warn or error" },
	{ "ISBITCOINLIT_SANDBOX", "sandbox", OPT_ONOFF, OFF(sandbox), "on", 0, 0,
	  CFG_ALL, "on: each worker confines itself after start-up (a system "
	  "call filter, and Landlock where the kernel has it); off: for "
	  "debugging, or under valgrind" },
	{ NULL, "once", OPT_FLAG, OFF(once), NULL, 0, 0, CFG_REFRESH,
	  "run one refresh, print the report and exit" },
	{ NULL, "every", OPT_INT, OFF(every_s), NULL, 1, 7L * 86400,
	  CFG_REFRESH, "refresh every SECONDS (+-10% jitter) until SIGTERM" },
	{ NULL, "help", OPT_FLAG, OFF(help), NULL, 0, 0, CFG_ALL,
	  "print this help and exit" },
	{ NULL, "version", OPT_FLAG, OFF(version), NULL, 0, 0, CFG_ALL,
	  "print the version and exit" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* ISBITCOINLIT_TIMESERIES: the names of enum cfg_timeseries, in its order. */
static const char *const timeseries_names[CFG_TS_COUNT] = {
	[CFG_TS_AUTO] = "auto",
	[CFG_TS_REDISTIMESERIES] = "redistimeseries",
	[CFG_TS_SORTEDSET] = "sortedset",
};

static int
cfg_fail(struct error *err, const struct opt *o, const char *what,
    const char *value)
{
	const char *name = o->env != NULL ? o->env : o->name;

	if (o->type == OPT_SECRET)
		return error_set(err, 0, "%s%s: %s", o->env ? "" : "--", name,
		    what);
	return error_set(err, 0, "%s%s: %s: \"%s\"", o->env ? "" : "--", name,
	    what, value);
}

static int
parse_long(const char *s, long *out)
{
	char *end;

	if (*s == '\0' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Validate value and store it into cfg.  Returns 0 or -1 with err. */
static int
opt_set(struct cfg *cfg, const struct opt *o, const char *value,
    struct error *err)
{
	void *field = (char *)cfg + o->offset;
	char why[300];
	long v;
	int i;

	switch (o->type) {
	case OPT_REDIS_URL: {
		struct redis_url url;
		struct error uerr;

		if (redis_url_parse(value, &url, &uerr) < 0) {
			/* the reason cut at sizeof(why), as for other options */
			error_set(err, 0, "%s: %.*s", o->env, (int)sizeof(why) - 1,
			    uerr.text);
			return -1;
		}
		redis_url_free(&url);
		goto string;
	}
	case OPT_UPSTREAM_URL:
		if (strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "https://", 8) != 0 &&
		    strncmp(value, "file://", 7) != 0)
			return cfg_fail(err, o, "not an http, https or file URL",
			    value);
		goto string;
	case OPT_STRING:
	case OPT_SECRET:
	string:
		if (*value == '\0')
			return cfg_fail(err, o, "must not be empty", value);
		free(*(char **)field);
		if ((*(char **)field = strdup(value)) == NULL)
			return cfg_fail(err, o, "out of memory", value);
		return 0;
	case OPT_INT:
		if (parse_long(value, &v) < 0 || v < o->min || v > o->max) {
			if (o->min == 1 && (parse_long(value, &v) < 0 || v < 1))
				snprintf(why, sizeof(why), "not a positive "
				    "integer");
			else if (o->min == 0 && (parse_long(value, &v) < 0 ||
			    v < 0))
				snprintf(why, sizeof(why), "not a non-negative "
				    "integer");
			else
				snprintf(why, sizeof(why), "not an integer from "
				    "%ld to %ld", o->min, o->max);
			return cfg_fail(err, o, why, value);
		}
		*(long *)field = v;
		return 0;
	case OPT_TIMESERIES:
		for (i = 0; i < CFG_TS_COUNT; i++)
			if (strcmp(value, timeseries_names[i]) == 0)
				break;
		if (i == CFG_TS_COUNT)
			return cfg_fail(err, o, "not one of auto, "
			    "redistimeseries, sortedset", value);
		*(enum cfg_timeseries *)field = (enum cfg_timeseries)i;
		return 0;
	case OPT_ANCHOR:
		if (strcmp(value, "newest") == 0)
			i = CFG_ANCHOR_NEWEST;
		else if (strcmp(value, "now") == 0)
			i = CFG_ANCHOR_NOW;
		else
			return cfg_fail(err, o, "not one of newest, now", value);
		*(enum cfg_anchor *)field = (enum cfg_anchor)i;
		return 0;
	case OPT_BUCKET:
		if (strcmp(value, "hour") == 0)
			i = CFG_BUCKET_HOUR;
		else if (strcmp(value, "day") == 0)
			i = CFG_BUCKET_DAY;
		else
			return cfg_fail(err, o, "not one of hour, day", value);
		*(enum cfg_bucket *)field = (enum cfg_bucket)i;
		return 0;
	case OPT_LOGLEVEL:
		if ((i = log_level_parse(value)) < 0)
			return cfg_fail(err, o, "not one of debug, info, warn, "
			    "error", value);
		*(int *)field = i;
		return 0;
	case OPT_ONOFF:
		if (strcmp(value, "on") == 0)
			*(int *)field = 1;
		else if (strcmp(value, "off") == 0)
			*(int *)field = 0;
		else
			return cfg_fail(err, o, "not on or off", value);
		return 0;
	case OPT_FLAG:
		*(int *)field = 1;
		return 0;
	}
	return -1;
}

static const struct opt *
find_option(const char *name, size_t len, unsigned mask)
{
	for (size_t i = 0; i < NOPTS; i++)
		if ((opts[i].programs & mask) && strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

void
cfg_free(struct cfg *cfg)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		char **p = (char **)((char *)cfg + o->offset);

		if (o->type == OPT_STRING || o->type == OPT_SECRET ||
		    o->type == OPT_REDIS_URL || o->type == OPT_UPSTREAM_URL) {
			if (*p != NULL && o->type == OPT_SECRET)
				explicit_bzero(*p, strlen(*p));
			free(*p);
			*p = NULL;
		}
	}
}

int
cfg_parse(struct cfg *cfg, unsigned mask, int argc, char *const argv[],
    char *const env[], struct error *err)
{
	memset(cfg, 0, sizeof(*cfg));
	err->text[0] = '\0';
	cfg->retention_s = -1;	/* unset: by the bucket, below */
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].def != NULL &&
		    opt_set(cfg, &opts[i], opts[i].def, err) < 0)
			goto fail;

	/* The environment; an empty value counts as unset. */
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');

		if (eq == NULL || strncmp(env[i], "ISBITCOINLIT_", 13) != 0 ||
		    eq[1] == '\0')
			continue;
		for (size_t j = 0; j < NOPTS; j++) {
			const struct opt *o = &opts[j];

			if (o->env == NULL || !(o->programs & mask) ||
			    strlen(o->env) != (size_t)(eq - env[i]) ||
			    strncmp(o->env, env[i], (size_t)(eq - env[i])) != 0)
				continue;
			if (opt_set(cfg, o, eq + 1, err) < 0)
				goto fail;
		}
	}

	/* The command line: --name value or --name=value. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *value;
		const struct opt *o;
		size_t len;

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			/* a URL given without its option may hold a password */
			char shown[512];

			redis_url_redact(a, shown, sizeof(shown));
			error_set(err, 0,
			    "unexpected argument: \"%s\" (see --help)", shown);
			goto fail;
		}
		name = a + 2;
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if ((o = find_option(name, len, mask)) == NULL) {
			error_set(err, 0,
			    "unknown option: --%.*s (see --help)", (int)len,
			    name);
			goto fail;
		}
		if (o->type == OPT_FLAG) {
			if (eq != NULL) {
				error_set(err, 0,
				    "--%s takes no value", o->name);
				goto fail;
			}
			value = "1";
		} else if (eq != NULL)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else {
			error_set(err, 0,
			    "--%s needs a value (see --help)", o->name);
			goto fail;
		}
		if (opt_set(cfg, o, value, err) < 0) {
			/* Name the option the user typed, not the variable. */
			if (o->env != NULL) {
				size_t n = strlen(o->env);
				char tmp[sizeof(err->text)];

				snprintf(tmp, sizeof(tmp), "--%s%s", o->name,
				    strncmp(err->text, o->env, n) == 0 ?
				    err->text + n : "");
				memcpy(err->text, tmp, sizeof(tmp));
			}
			goto fail;
		}
	}
	if (cfg->retention_s < 0)
		cfg->retention_s = cfg->bucket == CFG_BUCKET_DAY ?
		    CFG_RETENTION_DAY_S : CFG_RETENTION_HOUR_S;
	if (cfg->once && cfg->every_s > 0) {
		error_set(err, 0,
		    "--once and --every exclude each other");
		goto fail;
	}
	return 0;
fail:
	cfg_free(cfg);
	return -1;
}

void
cfg_usage(FILE *fp, const char *prog, unsigned mask)
{
	fprintf(fp, "Usage: %s [OPTION]...\n\n"
	    "Every option can also be set by the environment variable named "
	    "beside it;\nan option on the command line wins.\n\n", prog);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		char left[64];

		if (!(o->programs & mask))
			continue;
		snprintf(left, sizeof(left), "--%s%s", o->name,
		    o->type == OPT_FLAG ? "" : o->env == NULL ? " SECONDS" :
		    " VALUE");
		fprintf(fp, "  %-26s %s\n", left, o->help);
		/* a mode (--once, --every) has no variable and no default */
		if (o->env == NULL)
			continue;
		fprintf(fp, "  %-26s   env %s, default %s\n", "", o->env,
		    o->def != NULL && o->type != OPT_SECRET ? o->def : "unset");
	}
	fprintf(fp, "\nThe manual: man 8 %s (and man 7 isbitcoinlit).\n", prog);
}

void
cfg_scrub_argv(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *value = NULL;
		int secret;

		if (strncmp(a, "--redis-url", 11) == 0 ||
		    strncmp(a, "--redis-read-url", 16) == 0)
			secret = 0;
		else if (strncmp(a, "--refresh-token", 15) == 0)
			secret = 1;
		else
			continue;
		if (strchr(a, '=') != NULL)
			value = strchr(a, '=') + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		if (value == NULL)
			continue;
		if (secret)
			memset(value, 'x', strlen(value));
		else
			redis_url_scrub(value);
	}
}

const char *
cfg_timeseries_name(enum cfg_timeseries ts)
{
	return (unsigned)ts < CFG_TS_COUNT ? timeseries_names[ts] : "auto";
}

extern char **environ;

void
cfg_load_or_exit(struct cfg *cfg, const char *prog, unsigned mask, int argc,
    char *argv[])
{
	struct error err;

	if (cfg_parse(cfg, mask, argc, argv, environ, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.text);
		exit(2);
	}
	cfg_scrub_argv(argc, argv);
	if (cfg->help) {
		cfg_usage(stdout, prog, mask);
		cfg_free(cfg);
		exit(0);
	}
	if (cfg->version) {
		printf("%s %s\n", prog, PACKAGE_VERSION);
		cfg_free(cfg);
		exit(0);
	}
}
