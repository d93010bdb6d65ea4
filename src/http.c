/*
 * HTTP over one FastCGI request: parameters, responses, error documents,
 * routing and dispatch of an accepted request, and the pure helpers that
 * read a request the way nginx reads it.  No sockets, no processes.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "hex.h"
#include "http.h"
#include "jsonw.h"
#include "log.h"

/* ---- responses ---- */

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Unknown";
}

const char *
http_param(const struct http_request *req, const char *name)
{
	return FCGX_GetParam(name, req->raw->envp);
}

/* The answer; a body of len > 0 followed by a newline when nl and it has
 * none. */
static void
respond(struct http_request *req, int status, const char *content_type,
    const char *headers, const char *body, size_t len, int nl)
{
	FCGX_Stream *out = req->raw->out;

	nl = nl && len > 0 && body[len - 1] != '\n';
	req->status = status;
	FCGX_FPrintF(out, "Status: %d %s\r\n", status, status_text(status));
	if (status != 304)
		FCGX_FPrintF(out, "Content-Type: %s\r\nContent-Length: %lu\r\n",
		    content_type, (unsigned long)(len + (size_t)nl));
	if (headers != NULL)
		FCGX_PutS(headers, out);
	FCGX_PutS("\r\n", out);
	if (!req->head && status != 304 && len > 0) {
		FCGX_PutStr(body, (int)len, out);
		if (nl)
			FCGX_PutChar('\n', out);
	}
}

/* A JSON document ends with a newline, as nginx's own answers do. */
void
http_respond(struct http_request *req, int status, const char *headers,
    const char *body, size_t len)
{
	respond(req, status, "application/json; charset=utf-8", headers, body,
	    len, 1);
}

void
http_respond_type(struct http_request *req, int status,
    const char *content_type, const char *headers, const char *body,
    size_t len)
{
	respond(req, status, content_type, headers, body, len, 0);
}

char *
http_error_body(const char *error, const char *detail, size_t *len)
{
	struct jw w;

	jw_init(&w, 0);
	jw_object_begin(&w);
	jw_key(&w, "error");
	jw_string(&w, error);
	jw_key(&w, "detail");
	jw_string(&w, detail);
	jw_object_end(&w);
	return jw_take(&w, len);
}

void
http_error(struct http_request *req, int status, const char *headers,
    const char *error, const char *detail)
{
	size_t len = 0;
	char *body = http_error_body(error, detail, &len);

	if (body == NULL) {
		static const char oom[] = "{\"error\":\"internal error\","
		    "\"detail\":\"out of memory\"}";

		http_respond(req, 500, NULL, oom, sizeof(oom) - 1);
		return;
	}
	http_respond(req, status, headers, body, len);
	free(body);
}

const char *
http_query_value(const char *query, const char *name, size_t *len)
{
	size_t n = strlen(name);

	*len = 0;
	for (const char *p = query; p != NULL && *p != '\0';) {
		size_t seg = strcspn(p, "&");

		if (seg > n && strncasecmp(p, name, n) == 0 && p[n] == '=') {
			*len = seg - n - 1;
			return p + n + 1;
		}
		p += seg;
		if (*p != '\0')
			p++;
	}
	return NULL;
}

int
http_query_text(const char *query, const char *name, char *buf, size_t size,
    size_t *len)
{
	size_t vlen, n = 0;
	const char *v = http_query_value(query, name, &vlen);

	*len = 0;
	buf[0] = '\0';
	if (v == NULL)
		return 0;
	for (size_t i = 0; i < vlen; i++) {
		int hi, lo;
		char c = v[i];

		if (c == '%') {
			if (vlen - i < 3)
				return -1;
			if ((hi = hex_digit((unsigned char)v[i + 1])) < 0 ||
			    (lo = hex_digit((unsigned char)v[i + 2])) < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+')
			c = ' ';
		if (n + 1 >= size)
			return -1;
		buf[n++] = c;
	}
	buf[n] = '\0';
	*len = n;
	return 1;
}

int
http_query_flag(const char *query, const char *name)
{
	size_t len;
	const char *v = http_query_value(query, name, &len);

	return v != NULL && ((len == 1 && *v == '1') ||
	    (len == 4 && strncasecmp(v, "true", 4) == 0) ||
	    (len == 3 && strncasecmp(v, "yes", 3) == 0));
}

int
http_etag_match(const char *list, const char *etag, int weak)
{
	size_t n = strlen(etag);

	if (list == NULL)
		return 0;
	for (const char *p = list; *p != '\0';) {
		size_t len;
		int is_weak = 0;

		p += strspn(p, " \t,");
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0) {
			p += 2;
			is_weak = 1;
		}
		if (*p != '"')
			break;		/* not an entity tag: no match */
		len = strcspn(p + 1, "\"") + 2;
		if (p[len - 1] != '"')
			break;
		if (len == n && strncmp(p, etag, n) == 0 && (weak || !is_weak))
			return 1;
		p += len;
	}
	return 0;
}

void
http_etag(const char *body, size_t len, int pretty, char out[40])
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)body[i];
		h *= UINT64_C(1099511628211);
	}
	snprintf(out, 40, "\"%016" PRIx64 "%s\"", h, pretty ? "-p" : "");
}

/* ---- routing ---- */

/* Whether method is one of the comma-separated tokens of allow. */
static int
method_allowed(const char *allow, const char *method)
{
	size_t n = strlen(method);

	for (const char *p = allow; *p;) {
		size_t len;

		p += strspn(p, ", ");
		len = strcspn(p, ", ");
		if (len == n && len > 0 && strncmp(p, method, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

const struct http_route *
http_route_find(const struct http_route *routes, size_t n, const char *method,
    const char *path, int *status, const struct http_route **allowed)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		if (method_allowed(routes[i].allow, method))
			return &routes[i];
		*allowed = &routes[i];
		*status = 405;
		return NULL;
	}
	*status = 404;
	return NULL;
}

void
http_dispatch(FCGX_Request *raw, const struct http_route *routes,
    size_t nroutes, void *ctx, struct http_outcome *out)
{
	struct http_request req;
	const struct http_route *route, *other = NULL;
	const char *uri;
	char allow[128];
	int status;

	memset(&req, 0, sizeof(req));
	req.raw = raw;
	req.method = http_param(&req, "REQUEST_METHOD");
	req.query = http_param(&req, "QUERY_STRING");
	snprintf(req.methodbuf, sizeof(req.methodbuf), "%s",
	    req.method != NULL ? req.method : "");
	req.method = req.methodbuf;
	if (req.query == NULL)
		req.query = "";
	if ((uri = http_param(&req, "DOCUMENT_URI")) == NULL &&
	    (uri = http_param(&req, "REQUEST_URI")) == NULL &&
	    (uri = http_param(&req, "SCRIPT_NAME")) == NULL)
		uri = "";
	snprintf(req.pathbuf, sizeof(req.pathbuf), "%.*s",
	    (int)strcspn(uri, "?"), uri);
	req.path = req.pathbuf;
	req.head = strcmp(req.method, "HEAD") == 0;

	route = http_route_find(routes, nroutes, req.method, req.path, &status,
	    &other);
	if (route != NULL)
		route->handler(&req, ctx);
	else if (status == 405) {
		snprintf(allow, sizeof(allow), "Allow: %s\r\n", other->allow);
		http_error(&req, 405, allow, "method not allowed",
		    "this resource answers only these methods (see Allow)");
	} else
		http_error(&req, 404, NULL, "not found", "no such resource");
	FCGX_Finish_r(raw);
	if (out != NULL) {
		out->done_us = clock_mono_us();
		out->status = req.status;
		out->route = route != NULL ? (int)(route - routes) :
		    other != NULL ? (int)(other - routes) : -1;
	}
	req.query = NULL;	/* freed with the request's parameters */
	log_debug("request method=%s path=%.128s status=%d", req.method,
	    req.path, req.status);
	if (req.after != NULL)
		req.after(req.after_arg);
}
