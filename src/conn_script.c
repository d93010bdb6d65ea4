/*
 * Lua scripts (conn.h): run by EVALSHA, loaded with SCRIPT LOAD on first
 * use, and sent whole with EVAL after NOSCRIPT.  Each command goes through
 * conn_command(), so a script is retried and redirected like any command.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "conn_net.h"

/* Load s->body with SCRIPT LOAD and remember its SHA1.  Returns 0 or -1. */
static int
conn_script_load(struct conn *c, struct conn_script *s)
{
	const char *argv[3] = { "SCRIPT", "LOAD", s->body };
	redisReply *r = conn_command(c, 3, argv, NULL);

	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING || r->len != CONN_SHA1_HEX) {
		error_set(&c->err, 0, "SCRIPT LOAD: %s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	memcpy(s->sha, r->str, CONN_SHA1_HEX);
	s->sha[CONN_SHA1_HEX] = '\0';
	freeReplyObject(r);
	return 0;
}

redisReply *
conn_eval(struct conn *c, struct conn_script *s, int nkeys, const char **keys,
    int nargs, const char **args, const size_t *arglens)
{
	int argc = 3 + nkeys + nargs;
	const char **argv = calloc((size_t)argc, sizeof(*argv));
	size_t *lens = calloc((size_t)argc, sizeof(*lens));
	char nk[16];
	redisReply *r = NULL;

	if (argv == NULL || lens == NULL) {
		error_set(&c->err, 0, "out of memory");
		goto out;
	}
	snprintf(nk, sizeof(nk), "%d", nkeys);
	argv[2] = nk;
	lens[2] = strlen(nk);
	for (int i = 0; i < nkeys; i++) {
		argv[3 + i] = keys[i];
		lens[3 + i] = strlen(keys[i]);
	}
	for (int i = 0; i < nargs; i++) {
		argv[3 + nkeys + i] = args[i];
		lens[3 + nkeys + i] = arglens ? arglens[i] : strlen(args[i]);
	}

	/*
	 * EVALSHA; after NOSCRIPT (a restarted server, or another cluster
	 * node) EVAL with the body, which also caches it where it ran.
	 */
	if (s->sha[0] == '\0' && conn_script_load(c, s) < 0)
		goto out;
	argv[0] = "EVALSHA";
	lens[0] = strlen(argv[0]);
	argv[1] = s->sha;
	lens[1] = CONN_SHA1_HEX;
	r = conn_command(c, argc, argv, lens);
	if (conn_reply_is_error(r, "NOSCRIPT")) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		lens[0] = strlen(argv[0]);
		argv[1] = s->body;
		lens[1] = strlen(s->body);
		r = conn_command(c, argc, argv, lens);
	}
out:
	free(argv);
	free(lens);
	return r;
}
