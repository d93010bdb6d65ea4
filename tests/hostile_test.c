/*
 * Hostile FastCGI peers straight at the api's socket: garbage, bad
 * versions, absurd lengths, requests cut short, huge parameters.  A worker
 * may die on some (libfcgi 2.4.2 aborts on a few); the pool must respawn
 * it and keep answering.  Also nginx's side: odd requests through HTTP are
 * covered by e2e.sh.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

/* No record type has this number (the last is FCGI_UNKNOWN_TYPE, 11). */
#define NO_SUCH_TYPE 99

static char sock[256];

static int
healthy(void)
{
	static const char *const p[] = { "REQUEST_METHOD=GET",
	    "DOCUMENT_URI=/healthz", NULL };
	char *out = NULL;
	int ok = 0;

	/* a dead worker is respawned within a few hundred ms */
	for (int i = 0; i < 40 && !ok; i++) {
		out = tl_fcgi_request(sock, p);
		ok = out != NULL && strstr(out, "Status: 200") != NULL;
		free(out);
		if (!ok)
			tl_msleep(50);
	}
	return ok;
}

static void
raw(const char *what, const void *bytes, size_t len)
{
	tl_fcgi_raw(sock, bytes, len);
	CHECK(healthy(), "after %s: the pool answers", what);
}

int
main(void)
{
	struct tl_redis r;
	struct tl_env e;
	char bin[512], log[300];
	const char *top = getenv("top_builddir");
	const char *argv[] = { bin, "--listen", sock, "--workers", "2", NULL };
	unsigned char buf[70000];
	pid_t pid;
	struct stat st;

	snprintf(bin, sizeof(bin), "%s/src/isbitcoinlit-api", top ? top : ".");
	if (tl_redis_start(&r, NULL, (char *)NULL) < 0) {
		CHECK(0, "start redis-server");
		return tl_done();
	}
	snprintf(sock, sizeof(sock), "%s/api.sock", r.dir);
	tl_env_init(&e);
	tl_env_set(&e, "ISBITCOINLIT_REDIS_URL=%s", r.url);
	tl_env_set(&e, "ISBITCOINLIT_LOG_LEVEL=warn");
	snprintf(log, sizeof(log), "%s/api.log", r.dir);
	pid = tl_spawn_log(argv, &e, 1, log);
	for (int i = 0; i < 200 && stat(sock, &st) != 0; i++)
		tl_msleep(25);
	CHECK(healthy(), "the pool answers a proper request");

	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rand();
	raw("64 kB of random bytes", buf, sizeof(buf));

	{	/* version 2 */
		unsigned char v2[16] = {
		    TL_FCGI_HEADER(2, FCGI_BEGIN_REQUEST, 8, 0),
		    TL_FCGI_BEGIN_BODY };
		raw("a record of version 2", v2, sizeof(v2));
	}
	{	/* a BEGIN_REQUEST announcing 65535 bytes, then hanging up */
		unsigned char b[12] = {
		    TL_FCGI_HEADER(FCGI_VERSION_1, FCGI_BEGIN_REQUEST, 0xffff,
		    0xff), 0, FCGI_RESPONDER };
		raw("an absurd content length", b, sizeof(b));
	}
	{	/* PARAMS whose name claims 2 GB */
		unsigned char b[64] = {
		    TL_FCGI_HEADER(FCGI_VERSION_1, FCGI_BEGIN_REQUEST, 8, 0),
		    TL_FCGI_BEGIN_BODY,
		    TL_FCGI_HEADER(FCGI_VERSION_1, FCGI_PARAMS, 16, 0),
		    0xff, 0xff, 0xff, 0xff, 1, 'x' };
		raw("a parameter length of 2 GB", b, 40);
	}
	{	/* an unknown record type */
		unsigned char b[16] = {
		    TL_FCGI_HEADER(FCGI_VERSION_1, NO_SUCH_TYPE, 8, 0) };
		raw("an unknown record type", b, sizeof(b));
	}
	{	/* a request cut short: BEGIN and half of PARAMS */
		unsigned char b[24] = {
		    TL_FCGI_HEADER(FCGI_VERSION_1, FCGI_BEGIN_REQUEST, 8, 0),
		    TL_FCGI_BEGIN_BODY,
		    TL_FCGI_HEADER(FCGI_VERSION_1, FCGI_PARAMS, 100, 0) };
		raw("a request cut short", b, sizeof(b));
	}
	raw("an empty connection", "", 0);
	{	/* 1,000 parameters and a 60 kB value */
		static const char *p[1100];
		static char names[1000][24];
		char *big = malloc(60001);
		char *out;
		int k = 0;

		p[k++] = "REQUEST_METHOD=GET";
		p[k++] = "DOCUMENT_URI=/healthz";
		for (int i = 0; i < 1000; i++) {
			snprintf(names[i], sizeof(names[i]), "HTTP_X_%d=v", i);
			p[k++] = names[i];
		}
		memset(big, 'a', 60000);
		memcpy(big, "HTTP_X_BIG=", 11);
		big[60000] = '\0';
		p[k++] = big;
		p[k] = NULL;
		out = tl_fcgi_request(sock, p);
		CHECK(out != NULL && strstr(out, "Status: 200") != NULL,
		    "1,000 parameters and a 60 kB one: answered");
		free(out);
		free(big);
	}
	{	/* no parameters at all */
		static const char *const p[] = { NULL };
		char *out = tl_fcgi_request(sock, p);

		CHECK(out != NULL && strstr(out, "Status: 404") != NULL,
		    "no parameters: 404");
		free(out);
	}
	CHECK(tl_running(pid), "the master is still running");
	kill(pid, SIGTERM);
	CHECK_INT(tl_wait(pid), 0, "and exits 0 on SIGTERM");
	{	/* the pool respawns a worker that dies: it must not have had to */
		char *text = tl_read_file(log);

		CHECK(text != NULL && strstr(text, "worker died") == NULL &&
		    strstr(text, "worker exited") == NULL,
		    "no worker died or exited on any of these inputs%s%s",
		    text != NULL ? ": " : "", text != NULL ? text : "");
		free(text);
	}
	tl_env_free(&e);
	tl_redis_stop(&r);
	return tl_done();
}
