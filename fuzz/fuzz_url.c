/* libFuzzer target: Redis URL parsing and redaction, and the option table. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn_url url;
	struct cfg cfg;
	struct error cerr;
	char err[512], red[512], *s, *env[2], *argv[3];

	if ((s = malloc(size + 32)) == NULL)
		return 0;
	memcpy(s, "ISBITCOINLIT_REDIS_URL=", 23);
	memcpy(s + 23, data, size);
	s[23 + size] = '\0';
	if (conn_url_parse(s + 23, &url, err, sizeof(err)) == 0)
		conn_url_free(&url);
	conn_url_redact(s + 23, red, sizeof(red));
	/* the same text through the environment and the command line */
	env[0] = s;
	env[1] = NULL;
	argv[0] = "prog";
	argv[1] = s + 23;
	argv[2] = NULL;
	if (cfg_parse(&cfg, CFG_ALL, 1, argv, env, &cerr) == 0)
		cfg_free(&cfg);
	if (cfg_parse(&cfg, CFG_ALL, 2, argv, NULL, &cerr) == 0)
		cfg_free(&cfg);
	free(s);
	return 0;
}
