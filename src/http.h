/*
 * HTTP over one FastCGI request: the per-request state, parameters,
 * responses and error documents, the route table, and the pure helpers
 * (query flags, If-None-Match).  It knows nothing of sockets or processes;
 * the pool (pool.h) accepts a request and hands it to http_dispatch().
 */
#ifndef ISBITCOINLIT_HTTP_H
#define ISBITCOINLIT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>

/* Per-request state, zeroed for every request. */
struct http_request {
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

/* A handler answers req; ctx is the one given to http_dispatch(). */
typedef void (*http_handler)(struct http_request *req, void *ctx);

/* A route: an exact path, the methods it takes ("GET, HEAD"), a handler. */
struct http_route {
	const char *path;
	const char *allow;
	http_handler handler;
};

/*
 * A FastCGI parameter of req, or NULL.  The string belongs to the request
 * and is void once the response is finished.
 */
const char *http_param(const struct http_request *req, const char *name);

/*
 * Send status, headers (each "Name: value\r\n", may be NULL) and a JSON
 * body followed by a newline (omitted for HEAD; Content-Length always, the
 * newline counted).  The caller keeps headers and body.
 */
void http_respond(struct http_request *req, int status, const char *headers,
    const char *body, size_t len);

/* The same with a body of another Content-Type, sent as it is. */
void http_respond_type(struct http_request *req, int status,
    const char *content_type, const char *headers, const char *body,
    size_t len);

/*
 * Send {"error": error, "detail": detail} with status and headers (a 500
 * of its own when out of memory).
 */
void http_error(struct http_request *req, int status, const char *headers,
    const char *error, const char *detail);

/*
 * The error document {"error": ..., "detail": ...} and its length in
 * *len; NULL when out of memory.  The caller frees it.
 */
char *http_error_body(const char *error, const char *detail, size_t *len);

/*
 * Find the route of path for method: the route (an element of routes), or
 * NULL with *status 404 (no such path) or 405 (the path takes other
 * methods; the route is then in *allowed).  Pure.
 */
const struct http_route *http_route_find(const struct http_route *routes,
    size_t n, const char *method, const char *path, int *status,
    const struct http_route **allowed);

/* What http_dispatch() did with a request, for the pool's counters. */
struct http_outcome {
	int route;		/* index of the route of its path, or -1 */
	int status;		/* what was answered */
	int64_t done_us;	/* clock_mono_us() when the response was complete */
};

/*
 * Answer one accepted request: route it, call its handler with ctx (or
 * answer 404/405), finish the FastCGI request, fill *out (when not NULL),
 * then run the handler's after hook.  raw stays the caller's, ready for
 * the next accept.
 */
void http_dispatch(FCGX_Request *raw, const struct http_route *routes,
    size_t nroutes, void *ctx, struct http_outcome *out);

/*
 * The query string is read as nginx reads $arg_NAME, so that the microcache
 * key and the responder see the same request: split on '&' only, the first
 * argument whose name equals name in any case and is followed by '=', its
 * value as sent (not percent-decoded) or, by http_query_text(), decoded.
 */

/*
 * Whether name's value is 1, true or yes (in any case).  "name" alone,
 * "name=%31" and "x=1;name=1" are off.  Pure.
 */
int http_query_flag(const char *query, const char *name);

/*
 * The value of the first "name=" of the query: a pointer into query and its
 * length in *len; NULL when there is none.  Pure.
 */
const char *http_query_value(const char *query, const char *name,
    size_t *len);

/*
 * The value of the first "name=" of the query (the argument nginx's
 * $arg_NAME names; the name itself is compared as sent, never decoded),
 * percent-decoded as a form value is: "%XX" is the byte XX, '+' a space,
 * decoded once ("%2533" is "%33").  Into buf of size bytes (at least 1),
 * NUL-terminated, the length in *len (a decoded "%00" stays in it, so a
 * caller that wants digits sees it).  Returns 1, 0 when there is no such
 * argument (*len 0, buf ""), -1 when the value has a malformed escape ("%",
 * "%3", "%zz") or its decoded bytes do not fit.  Since the value as sent
 * decides the result, a cache keyed on $arg_NAME never mixes two answers;
 * it only keeps "3" and "%33" apart.  Pure.
 */
int http_query_text(const char *query, const char *name, char *buf,
    size_t size, size_t *len);

/*
 * A strong ETag of a document's compact body (FNV-1a 64, quoted; "-p" for
 * its ?pretty=1 form) into out.
 */
void http_etag(const char *body, size_t len, int pretty, char out[40]);

/*
 * Whether an If-None-Match or If-Match header value (list) matches etag (a
 * quoted strong tag): "*", or a list of tags compared weakly (weak: W/
 * ignored, as If-None-Match does) or strongly (a W/ tag never matches, as
 * If-Match does).  Pure.
 */
int http_etag_match(const char *list, const char *etag, int weak);

#endif
