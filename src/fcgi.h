/*
 * FastCGI plumbing shared by both programs: the listening socket, the
 * pre-forked worker pool, routing, and response helpers.
 */
#ifndef ISBITCOINLIT_FCGI_H
#define ISBITCOINLIT_FCGI_H

#include <stddef.h>
#include <sys/types.h>

#include <fcgiapp.h>

#include "cfg.h"

/* Per-request state, zeroed for every request. */
struct fcgi_request {
	FCGX_Request *raw;
	const char *method;	/* REQUEST_METHOD */
	const char *path;	/* DOCUMENT_URI, or REQUEST_URI without query */
	const char *query;	/* QUERY_STRING, "" if none */
	int head;		/* HEAD: send headers only */
	int status;		/* what was answered, for the log */
	/*
	 * Work to do once the response is complete and the client gone
	 * (FCGX_Finish_r); the parameters above are void by then.
	 */
	void (*after)(void *arg);
	void *after_arg;
	char methodbuf[16];
	char pathbuf[512];
};

typedef void (*fcgi_handler)(struct fcgi_request *req, void *app);

/* A route: an exact path, the methods it takes ("GET, HEAD"), a handler. */
struct fcgi_route {
	const char *path;
	const char *allow;
	fcgi_handler handler;
};

/* What a program gives the pool. */
struct fcgi_app {
	const char *name;			/* for logs */
	const struct fcgi_route *routes;
	size_t nroutes;
	/* Run in each worker after fork; returns 0 or -1 (the worker exits). */
	int (*worker_init)(void *app);
	void (*worker_fini)(void *app);
	void *ctx;
};

/*
 * Serve until SIGTERM: on cfg->listen (a path, or HOST:PORT on a specific
 * address), else on the socket inherited as fd 0.  With more than one
 * worker a master pre-forks them, respawns any that dies (with backoff,
 * giving up if they keep crashing) and on SIGTERM lets in-flight requests
 * finish.  Returns the exit status.
 */
int fcgi_serve(const struct cfg *cfg, const struct fcgi_app *app);

/*
 * Bind and listen on spec: an absolute path (unix socket, mode 0660) or
 * HOST:PORT / [V6]:PORT on a specific address.  Returns the fd, or -1 with
 * a one-line reason in err.
 */
int fcgi_listen(const char *spec, char *err, size_t errlen);

/* A FastCGI parameter, or NULL. */
const char *fcgi_param(const struct fcgi_request *req, const char *name);

/*
 * Send status, headers (each "Name: value\r\n", may be NULL) and a JSON
 * body (omitted for HEAD; Content-Length always).
 */
void fcgi_respond(struct fcgi_request *req, int status, const char *headers,
    const char *body, size_t len);

/* Send {"error": error, "detail": detail} with status and headers. */
void fcgi_error(struct fcgi_request *req, int status, const char *headers,
    const char *error, const char *detail);

/* The error document {"error": ..., "detail": ...}; caller frees. */
char *fcgi_error_body(const char *error, const char *detail, size_t *len);

/*
 * Find the route of path for method: the route, or NULL with *status 404
 * (no such path) or 405 (the path takes other methods; the route is then
 * in *allowed).  Pure.
 */
const struct fcgi_route *fcgi_route_find(const struct fcgi_route *routes,
    size_t n, const char *method, const char *path, int *status,
    const struct fcgi_route **allowed);

/*
 * Whether the query string has name set to a true value: "name",
 * "name=1", "name=true" or "name=yes".  Pure.
 */
int fcgi_query_flag(const char *query, const char *name);

/*
 * Whether an If-None-Match header value matches etag (a quoted strong
 * tag): "*", or a list of tags compared weakly (W/ ignored).  Pure.
 */
int fcgi_etag_match(const char *if_none_match, const char *etag);


#endif
