/*
 * Test helper: load the configuration as a program does (environment,
 * options, exit status 2 on a bad value) and print what it resolved to.
 */
#include "config.h"

#include <stdio.h>

#include "cfg.h"
#include "log.h"
#include "redis_url.h"

int
main(int argc, char *argv[])
{
	struct cfg cfg;
	char url[512];

	cfg_load_or_exit(&cfg, "cfg_dump", CFG_ALL, argc, argv);
	redis_url_redact(cfg.redis_url, url, sizeof(url));
	printf("redis_url=%s\n", url);
	printf("cache_ttl_s=%ld\n", cfg.cache_ttl_s);
	printf("timeseries=%s\n", cfg_timeseries_name(cfg.timeseries));
	printf("log_level=%s\n", log_level_name(cfg.log_level));
	printf("bucket=%s\n", cfg.bucket == CFG_BUCKET_DAY ? "day" : "hour");
	printf("window=%ld\n", cfg.window);
	printf("retention_s=%ld\n", cfg.retention_s);
	cfg_free(&cfg);
	return 0;
}
