/*
 * libFuzzer target: Redis URL parsing, redaction and scrubbing, and the
 * option table.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redis_url url;
	struct cfg cfg;
	struct error cerr;
	struct error err;
	char red[512], prog[] = "prog", *s, *env[2], *argv[3];

	if ((s = malloc(size + 32)) == NULL)
		return 0;
	memcpy(s, "ISBITCOINLIT_REDIS_URL=", 23);
	memcpy(s + 23, data, size);
	s[23 + size] = '\0';
	if (redis_url_parse(s + 23, &url, &err) == 0)
		redis_url_free(&url);
	redis_url_redact(s + 23, red, sizeof(red));
	/* the argv scrub, on a copy */
	snprintf(red, sizeof(red), "%s", s + 23);
	redis_url_scrub(red);
	/* the same text through the environment and the command line */
	env[0] = s;
	env[1] = NULL;
	argv[0] = prog;
	argv[1] = s + 23;
	argv[2] = NULL;
	if (cfg_parse(&cfg, CFG_ALL, 1, argv, env, &cerr) == 0)
		cfg_free(&cfg);
	if (cfg_parse(&cfg, CFG_ALL, 2, argv, NULL, &cerr) == 0)
		cfg_free(&cfg);
	free(s);
	return 0;
}
