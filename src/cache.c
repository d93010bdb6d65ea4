/* Read and write the cached summary. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "store_impl.h"

int
cache_get(struct store *st, char **body, size_t *len, struct store_error *err)
{
	const char *argv[] = { "GET", st->key_cache };
	redisReply *r = conn_command(st->conn, 2, argv, NULL);
	int rc = -1;

	*body = NULL;
	*len = 0;
	if (store_check_reply(st, r, st->key_cache, err) < 0)
		goto out;
	if (r->type == REDIS_REPLY_NIL) {
		rc = 0;
		goto out;
	}
	if (r->type != REDIS_REPLY_STRING) {
		store_fail(err, STORE_EBACKEND, "GET %s: unexpected reply",
		    st->key_cache);
		goto out;
	}
	/* Take hiredis' buffer rather than copying it. */
	*body = r->str;
	*len = r->len;
	r->str = NULL;
	r->type = REDIS_REPLY_NIL;
	rc = 1;
out:
	freeReplyObject(r);
	return rc;
}

int
cache_put(struct store *st, const char *body, size_t len, long ttl_s,
    struct store_error *err)
{
	char ttl[24];
	const char *argv[] = { "SET", st->key_cache, body, "EX", ttl };
	size_t lens[] = { 3, strlen(st->key_cache), len, 2, 0 };
	redisReply *r;
	int rc;

	lens[4] = (size_t)snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
	r = conn_command(st->conn, 5, argv, lens);
	rc = store_check_reply(st, r, st->key_cache, err);
	freeReplyObject(r);
	return rc;
}
