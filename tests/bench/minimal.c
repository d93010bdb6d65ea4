/*
 * The ceiling of this architecture, for tests/bench/run: a FastCGI
 * responder that answers every request with one Redis GET of a key and
 * nothing else (no routing, no config, no ETag).  Usage, on fd 0 (as
 * spawn-fcgi starts it): minimal REDIS_SOCKET KEY
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <hiredis/hiredis.h>

int
main(int argc, char *argv[])
{
	FCGX_Request req;
	redisContext *c;

	if (argc != 3) {
		fprintf(stderr, "usage: minimal REDIS_SOCKET KEY\n");
		return 2;
	}
	if ((c = redisConnectUnix(argv[1])) == NULL || c->err) {
		fprintf(stderr, "minimal: cannot connect to %s\n", argv[1]);
		return 1;
	}
	FCGX_Init();
	FCGX_InitRequest(&req, 0, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		redisReply *r = redisCommand(c, "GET %s", argv[2]);

		if (r != NULL && r->type == REDIS_REPLY_STRING) {
			FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: "
			    "application/json; charset=utf-8\r\nContent-Length: "
			    "%lu\r\n\r\n", (unsigned long)r->len);
			FCGX_PutStr(r->str, (int)r->len, req.out);
		} else
			FCGX_PutS("Status: 503 Service Unavailable\r\n\r\n", req.out);
		freeReplyObject(r);
		FCGX_Finish_r(&req);
	}
	redisFree(c);
	return 0;
}
