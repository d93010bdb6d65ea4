/* Configuration: one table of ISBITCOINLIT_* variables and their options. */
#ifndef ISBITCOINLIT_CFG_H
#define ISBITCOINLIT_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "errors.h"

/* Which program an option belongs to (a bit mask). */
#define CFG_API     0x1
#define CFG_REFRESH 0x2
#define CFG_ALL     (CFG_API | CFG_REFRESH)

enum cfg_timeseries {
	CFG_TS_AUTO, CFG_TS_REDISTIMESERIES, CFG_TS_SORTEDSET, CFG_TS_COUNT
};
enum cfg_anchor { CFG_ANCHOR_NEWEST, CFG_ANCHOR_NOW };
enum cfg_bucket { CFG_BUCKET_HOUR, CFG_BUCKET_DAY };

/* ISBITCOINLIT_RETENTION_S when unset: a day of hours, 31 days of days. */
#define CFG_RETENTION_HOUR_S 86400L
#define CFG_RETENTION_DAY_S (31L * 86400)

struct cfg {
	/* Redis */
	char *redis_url;
	char *redis_read_url;	/* NULL: the API reads from redis_url */
	long redis_read_retry_ms;	/* the replica's breaker (conn.h) */
	long redis_timeout_ms;
	char *key_prefix;
	enum cfg_timeseries timeseries;
	long retention_s;	/* unset: by the bucket (CFG_RETENTION_*) */
	long min_replicas;	/* WAIT for this many after a refresh */
	long replica_timeout_ms;
	/* API */
	int cache;		/* 0: never read or write the cache */
	long cache_ttl_s;
	enum cfg_anchor window_anchor;
	enum cfg_bucket bucket;	/* the documents' buckets: hours or days */
	long window;		/* buckets in the verdict */
	long stale_after_s;	/* /healthz: data older than this is stale */
	/* upstream feed */
	char *upstream_url;
	char *upstream_format;	/* a feed_formats[] name; checked at start-up */
	char *price_url;	/* NULL: the upstream gives the price too */
	char *price_format;
	long upstream_timeout_s;
	long upstream_max_bytes;
	long max_future_s;	/* a sample ahead of the clock by more: invalid */
	char *field_timestamp;
	char *field_price;
	char *field_sentiment;
	char *refresh_token;
	int refresh_open;	/* POST /refresh without a token */
	/* processes */
	char *listen;
	long workers;
	int log_level;
	int sandbox;		/* confine each worker (sandbox.h) */
	/* modes: command line only */
	int once;
	long every_s;
	int help;
	int version;
};

/*
 * Fill cfg from defaults, then env (NULL-terminated "NAME=value" strings),
 * then argv (options win over the environment).  Only the options of the
 * programs in mask are accepted.  Returns 0, or -1 with err filled.  The
 * strings in cfg are owned by cfg: release them with cfg_free().
 */
int cfg_parse(struct cfg *cfg, unsigned mask, int argc, char *const argv[],
    char *const env[], struct error *err);
void cfg_free(struct cfg *cfg);

/* Print the --help text of the programs in mask, generated from the table. */
void cfg_usage(FILE *fp, const char *prog, unsigned mask);

/*
 * Start-up helper for a program's main(): parse, handle --help and
 * --version (exit 0), print the one-line error and exit 2 on a bad value,
 * then scrub secrets from argv so that ps shows none.
 */
void cfg_load_or_exit(struct cfg *cfg, const char *prog, unsigned mask,
    int argc, char *argv[]);

/* Overwrite passwords in --redis-url values and --refresh-token in argv. */
void cfg_scrub_argv(int argc, char *argv[]);

/* The setting's name of ts: "auto", "redistimeseries" or "sortedset". */
const char *cfg_timeseries_name(enum cfg_timeseries ts);

#endif
