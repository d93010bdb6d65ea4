/* Unit tests: configuration defaults, environment, options, errors. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"
#include "testlib.h"

/* Literals are const; cfg_parse() takes main()'s argv and environ. */
static int
parse(struct cfg *c, unsigned mask, const char *const *argv,
    const char *const *env, struct error *err)
{
	int argc = 0;

	while (argv != NULL && argv[argc] != NULL)
		argc++;
	return cfg_parse(c, mask, argc, (char *const *)argv,
	    (char *const *)env, err);
}

static void
bad_env(const char *var, const char *want)
{
	const char *env[] = { var, NULL };
	const char *argv[] = { "prog", NULL };
	struct cfg c;
	struct error err;

	CHECK(parse(&c, CFG_ALL, argv, env, &err) == -1, "refuses %s", var);
	CHECK_STR(err.text, want, "%s: message", var);
}

static void
bad_args(const char *const *argv, unsigned mask, const char *want)
{
	struct cfg c;
	struct error err;

	CHECK(parse(&c, mask, argv, NULL, &err) == -1, "refuses %s %s",
	    argv[1], argv[2] ? argv[2] : "");
	CHECK_STR(err.text, want, "%s: message", argv[1]);
}

/* 1 when a line of text is blanks and then ", default ..." */
static int
bare_default_line(const char *text)
{
	for (const char *l = text; *l != '\0'; ) {
		const char *p = l + strspn(l, " ");

		if (*p == ',')
			return 1;
		l = p + strcspn(p, "\n");
		if (*l == '\n')
			l++;
	}
	return 0;
}

int
main(void)
{
	struct cfg c;
	struct error err;

	{
		const char *argv[] = { "prog", NULL };

		CHECK(parse(&c, CFG_ALL, argv, NULL, &err) == 0, "defaults");
		CHECK_STR(c.redis_url, "redis://127.0.0.1:6379/0", "default URL");
		CHECK_INT(c.redis_timeout_ms, 1000, "default timeout");
		CHECK_STR(c.key_prefix, "is-bitcoin-lit", "default prefix");
		CHECK_INT(c.timeseries, CFG_TS_AUTO, "default backend auto");
		CHECK_INT(c.retention_s, 86400, "default retention 24 h");
		CHECK_INT(c.bucket, CFG_BUCKET_HOUR, "default bucket: the hour");
		CHECK_INT(c.window, 3, "default window: three buckets");
		CHECK_INT(c.cache_ttl_s, 120, "default cache TTL");
		CHECK_INT(c.cache, 1, "the cache is on by default");
		CHECK_INT(c.sandbox, 1, "the sandbox is on by default");
		CHECK_INT(c.window_anchor, CFG_ANCHOR_NEWEST, "default anchor");
		CHECK_STR(c.upstream_url,
		    "https://api.senticrypt.com/v1/bitcoin.json", "default feed");
		CHECK_INT(c.upstream_timeout_s, 10, "default upstream timeout");
		CHECK_INT(c.upstream_max_bytes, 16777216, "default size cap");
		CHECK_STR(c.field_timestamp, "timestamp", "default field");
		CHECK_STR(c.field_price, "btc_price", "default price field");
		CHECK_STR(c.field_sentiment, "mean", "default sentiment field");
		CHECK(c.refresh_token == NULL, "no token by default");
		CHECK(c.listen == NULL, "fd 0 by default");
		CHECK_INT(c.log_level, LOGL_INFO, "default log level");
		CHECK(c.redis_read_url == NULL, "no read replica by default");
		CHECK_INT(c.min_replicas, 0, "no WAIT by default");
		CHECK_INT(c.replica_timeout_ms, 1000, "default WAIT timeout");
		cfg_free(&c);
	}
	{
		const char *env[] = { "ISBITCOINLIT_CACHE_TTL_S=30",
		    "ISBITCOINLIT_TIMESERIES=sortedset",
		    "ISBITCOINLIT_KEY_PREFIX={is-bitcoin-lit}",
		    "ISBITCOINLIT_WINDOW_ANCHOR=now",
		    "ISBITCOINLIT_REFRESH_TOKEN=", /* empty: unset */
		    "ISBITCOINLIT_LOG_LEVEL=debug",
		    "ISBITCOINLIT_CACHE=off",
		    "ISBITCOINLIT_SANDBOX=off",
		    "ISBITCOINLIT_STATE_DIR=/x",	/* not ours: ignored */
		    "PATH=/bin", NULL };
		const char *argv[] = { "prog", "--cache-ttl-s", "45",
		    "--redis-url=unix:///tmp/r.sock?db=2", "--once", NULL };

		CHECK(parse(&c, CFG_ALL, argv, env, &err) == 0,
		    "environment and options");
		CHECK_INT(c.cache_ttl_s, 45, "the option wins over the variable");
		CHECK_INT(c.timeseries, CFG_TS_SORTEDSET, "backend from env");
		CHECK_STR(c.key_prefix, "{is-bitcoin-lit}", "prefix from env");
		CHECK_INT(c.window_anchor, CFG_ANCHOR_NOW, "anchor from env");
		CHECK(c.refresh_token == NULL, "an empty variable is unset");
		CHECK_INT(c.log_level, LOGL_DEBUG, "log level from env");
		CHECK_INT(c.cache, 0, "cache off from env");
		CHECK_INT(c.sandbox, 0, "sandbox off from env");
		CHECK_STR(c.redis_url, "unix:///tmp/r.sock?db=2", "--name=value");
		CHECK_INT(c.once, 1, "flag");
		cfg_free(&c);
	}
	{
		const char *env[] = {
		    "ISBITCOINLIT_REDIS_URL=redis-sentinel://:pw@s1,s2:26380/lit",
		    "ISBITCOINLIT_MIN_REPLICAS=2",
		    "ISBITCOINLIT_REPLICA_TIMEOUT_MS=250", NULL };
		const char *argv[] = { "prog", NULL };

		CHECK(parse(&c, CFG_REFRESH, argv, env, &err) == 0 &&
		    c.min_replicas == 2 && c.replica_timeout_ms == 250 &&
		    strcmp(c.redis_url, "redis-sentinel://:pw@s1,s2:26380/lit") ==
		    0, "a Sentinel URL and WAIT settings for the refresh worker");
		cfg_free(&c);
	}
	{
		const char *env[] = {
		    "ISBITCOINLIT_REDIS_READ_URL=redis://10.0.0.2:6379", NULL };
		const char *argv[] = { "prog", NULL };

		CHECK(parse(&c, CFG_API, argv, env, &err) == 0 &&
		    c.redis_read_url != NULL &&
		    strcmp(c.redis_read_url, "redis://10.0.0.2:6379") == 0,
		    "a read replica for the api");
		cfg_free(&c);
	}
	{
		const char *env[] = { "ISBITCOINLIT_UPSTREAM_URL=file:///tmp/feed.json",
		    NULL };
		const char *argv[] = { "prog", NULL };

		CHECK(parse(&c, CFG_API, argv, env, &err) == 0 &&
		    strcmp(c.upstream_url,
		    "https://api.senticrypt.com/v1/bitcoin.json") == 0,
		    "the api ignores the refresh worker's variables");
		cfg_free(&c);
	}

	bad_env("ISBITCOINLIT_CACHE_TTL_S=abc",
	    "ISBITCOINLIT_CACHE_TTL_S: not a positive integer: \"abc\"");
	bad_env("ISBITCOINLIT_CACHE_TTL_S=0",
	    "ISBITCOINLIT_CACHE_TTL_S: not a positive integer: \"0\"");
	bad_env("ISBITCOINLIT_CACHE_TTL_S=12x",
	    "ISBITCOINLIT_CACHE_TTL_S: not a positive integer: \"12x\"");
	bad_env("ISBITCOINLIT_CACHE_TTL_S=99999999999999999999",
	    "ISBITCOINLIT_CACHE_TTL_S: not a positive integer: "
	    "\"99999999999999999999\"");
	bad_env("ISBITCOINLIT_REDIS_TIMEOUT_MS=700000",
	    "ISBITCOINLIT_REDIS_TIMEOUT_MS: not an integer from 1 to 600000: "
	    "\"700000\"");
	{
		/* day buckets: 31 days of retention unless it is set */
		const char *env[] = { "ISBITCOINLIT_BUCKET=day",
		    "ISBITCOINLIT_WINDOW=7", NULL };
		const char *argv[] = { "prog", NULL };
		const char *opt[] = { "prog", "--bucket", "day", "--window=24",
		    NULL };
		const char *env2[] = { "ISBITCOINLIT_BUCKET=day",
		    "ISBITCOINLIT_RETENTION_S=86400", NULL };
		const char *env3[] = { "ISBITCOINLIT_RETENTION_S=0", NULL };
		const char *opt3[] = { "prog", "--bucket", "day", NULL };

		CHECK(parse(&c, CFG_ALL, argv, env, &err) == 0 &&
		    c.bucket == CFG_BUCKET_DAY && c.window == 7 &&
		    c.retention_s == 2678400, "bucket and window from env; "
		    "day buckets keep 31 days");
		cfg_free(&c);
		CHECK(parse(&c, CFG_ALL, opt, NULL, &err) == 0 &&
		    c.bucket == CFG_BUCKET_DAY && c.window == 24 &&
		    c.retention_s == 2678400, "--bucket day --window=24");
		cfg_free(&c);
		CHECK(parse(&c, CFG_ALL, argv, env2, &err) == 0 &&
		    c.retention_s == 86400, "a retention set is kept with day "
		    "buckets");
		cfg_free(&c);
		CHECK(parse(&c, CFG_ALL, opt3, env3, &err) == 0 &&
		    c.retention_s == 0 && c.bucket == CFG_BUCKET_DAY,
		    "a retention of 0 (keep all) is kept too");
		cfg_free(&c);
		CHECK(parse(&c, CFG_API, opt, NULL, &err) == 0 &&
		    c.bucket == CFG_BUCKET_DAY && c.window == 24,
		    "the api takes --bucket and --window (it serves them)");
		cfg_free(&c);
	}
	bad_env("ISBITCOINLIT_BUCKET=week",
	    "ISBITCOINLIT_BUCKET: not one of hour, day: \"week\"");
	bad_env("ISBITCOINLIT_BUCKET=Day",
	    "ISBITCOINLIT_BUCKET: not one of hour, day: \"Day\"");
	bad_env("ISBITCOINLIT_WINDOW=1",
	    "ISBITCOINLIT_WINDOW: not an integer from 2 to 24: \"1\"");
	bad_env("ISBITCOINLIT_WINDOW=25",
	    "ISBITCOINLIT_WINDOW: not an integer from 2 to 24: \"25\"");
	bad_env("ISBITCOINLIT_WINDOW=0",
	    "ISBITCOINLIT_WINDOW: not an integer from 2 to 24: \"0\"");
	bad_env("ISBITCOINLIT_WINDOW=3.5",
	    "ISBITCOINLIT_WINDOW: not an integer from 2 to 24: \"3.5\"");
	bad_env("ISBITCOINLIT_RETENTION_S=-5",
	    "ISBITCOINLIT_RETENTION_S: not a non-negative integer: \"-5\"");
	bad_env("ISBITCOINLIT_TIMESERIES=influx",
	    "ISBITCOINLIT_TIMESERIES: not one of auto, redistimeseries, "
	    "sortedset: \"influx\"");
	bad_env("ISBITCOINLIT_WINDOW_ANCHOR=later",
	    "ISBITCOINLIT_WINDOW_ANCHOR: not one of newest, now: \"later\"");
	bad_env("ISBITCOINLIT_LOG_LEVEL=loud",
	    "ISBITCOINLIT_LOG_LEVEL: not one of debug, info, warn, error: "
	    "\"loud\"");
	bad_env("ISBITCOINLIT_UPSTREAM_URL=ftp://x/y",
	    "ISBITCOINLIT_UPSTREAM_URL: not an http, https or file URL: "
	    "\"ftp://x/y\"");
	bad_env("ISBITCOINLIT_REDIS_URL=redis://:hunter2@h:99999",
	    "ISBITCOINLIT_REDIS_URL: bad port (1-65535): "
	    "\"redis://:***@h:99999\"");
	bad_env("ISBITCOINLIT_REDIS_URL=localhost:6379",
	    "ISBITCOINLIT_REDIS_URL: not a redis://, redis-sentinel:// or "
	    "unix:// URL: \"localhost:6379\"");
	bad_env("ISBITCOINLIT_CACHE=maybe",
	    "ISBITCOINLIT_CACHE: not on or off: \"maybe\"");
	bad_env("ISBITCOINLIT_SANDBOX=no",
	    "ISBITCOINLIT_SANDBOX: not on or off: \"no\"");
	bad_env("ISBITCOINLIT_WORKERS=-1",
	    "ISBITCOINLIT_WORKERS: not a non-negative integer: \"-1\"");
	bad_env("ISBITCOINLIT_MIN_REPLICAS=65",
	    "ISBITCOINLIT_MIN_REPLICAS: not an integer from 0 to 64: \"65\"");
	bad_env("ISBITCOINLIT_REPLICA_TIMEOUT_MS=0",
	    "ISBITCOINLIT_REPLICA_TIMEOUT_MS: not a positive integer: \"0\"");
	bad_env("ISBITCOINLIT_REDIS_READ_URL=redis://:pw@h:0",
	    "ISBITCOINLIT_REDIS_READ_URL: bad port (1-65535): "
	    "\"redis://:***@h:0\"");
	bad_env("ISBITCOINLIT_WORKERS=999",
	    "ISBITCOINLIT_WORKERS: not an integer from 0 to 256: \"999\"");

	{
		const char *a1[] = { "prog", "--cache-ttl-s", "abc", NULL };
		const char *a2[] = { "prog", "--bogus", NULL };
		const char *a3[] = { "prog", "stray", NULL };
		const char *a4[] = { "prog", "--cache-ttl-s", NULL };
		const char *a5[] = { "prog", "--once=1", NULL };
		const char *a6[] = { "prog", "--once", "--every", "60", NULL };
		const char *a7[] = { "prog", "--upstream-url", "file:///x", NULL };
		const char *a8[] = { "prog", "--redis-url", "redis://u:pw@h:1:2", NULL };

		bad_args(a1, CFG_ALL, "--cache-ttl-s: not a positive integer: "
		    "\"abc\"");
		bad_args(a2, CFG_ALL, "unknown option: --bogus (see --help)");
		bad_args(a3, CFG_ALL, "unexpected argument: \"stray\" "
		    "(see --help)");
		bad_args(a4, CFG_ALL, "--cache-ttl-s needs a value (see --help)");
		bad_args(a5, CFG_ALL, "--once takes no value");
		bad_args(a6, CFG_REFRESH, "--once and --every exclude each "
		    "other");
		bad_args(a7, CFG_API, "unknown option: --upstream-url (see "
		    "--help)");
		bad_args(a8, CFG_ALL, "--redis-url: bad port (1-65535): "
		    "\"redis://u:***@h:1:2\"");
	}
	{
		char a0[] = "prog", a1[] = "--redis-url",
		    a2[] = "redis://app:hunter2@h/1", a3[] = "--refresh-token=tok",
		    a4[] = "--cache-ttl-s", a5[] = "5",
		    a6[] = "--redis-read-url=redis://:s3@r:1";
		char *argv[] = { a0, a1, a2, a3, a4, a5, a6, NULL };

		cfg_scrub_argv(7, argv);
		CHECK_STR(argv[6], "--redis-read-url=redis://:xx@r:1",
		    "the read URL's password is scrubbed too");
		CHECK_STR(argv[2], "redis://app:xxxxxxx@h/1",
		    "the password is scrubbed from argv");
		CHECK_STR(argv[3], "--refresh-token=xxx", "the token too");
		CHECK_STR(argv[5], "5", "other arguments stay");
	}
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);

		cfg_usage(fp, "isbitcoinlit-refresh", CFG_REFRESH);
		fclose(fp);
		CHECK(strstr(buf, "--upstream-url VALUE") != NULL &&
		    strstr(buf, "env ISBITCOINLIT_UPSTREAM_URL, default "
		    "https://api.senticrypt.com/v1/bitcoin.json") != NULL,
		    "help lists options with variable and default");
		CHECK(strstr(buf, "--every SECONDS") != NULL, "help lists modes");
		CHECK(!bare_default_line(buf),
		    "no line of the help is a bare default");
		CHECK(strlen(buf) > 66 && strcmp(buf + strlen(buf) - 66,
		    "\nThe manual: man 8 isbitcoinlit-refresh (and man 7 "
		    "isbitcoinlit).\n") == 0,
		    "help ends with a line pointing to the manual page");
		free(buf);
		buf = NULL;
		fp = open_memstream(&buf, &len);
		cfg_usage(fp, "isbitcoinlit-api", CFG_API);
		fclose(fp);
		CHECK(strstr(buf, "--upstream-url") == NULL &&
		    strstr(buf, "--cache-ttl-s") != NULL,
		    "the api's help lists only its options");
		CHECK(strstr(buf, "\nThe manual: man 8 isbitcoinlit-api (and "
		    "man 7 isbitcoinlit).\n") != NULL, "and points to its page");
		free(buf);
	}
	return tl_done();
}
