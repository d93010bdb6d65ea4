/*
 * libFuzzer target: request handling without the socket: routing, the
 * query string, If-None-Match, and indenting the cached JSON.  The input
 * is METHOD \0 PATH \0 QUERY \0 IF-NONE-MATCH \0 BODY.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void handler(struct http_request *req, void *ctx) { (void)req; (void)ctx; }

static const struct http_route routes[] = {
	{ "/is-bitcoin-lit", "GET, HEAD", handler },
	{ "/healthz", "GET, HEAD", handler },
	{ "/refresh", "POST", handler },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *part[5] = { "", "", "", "", "" };
	const struct http_route *r, *other = NULL;
	char *s, *p, *out;
	size_t len;
	int status = 0, k = 0;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (p = s; k < 5 && p <= s + size; k++) {
		part[k] = p;
		p += strlen(p) + 1;
	}
	r = http_route_find(routes, 3, part[0], part[1], &status, &other);
	if (r == NULL && (status != 404 && status != 405))
		abort();
	if (status == 405 && other == NULL)
		abort();
	(void)http_query_flag(part[2], "pretty");
	(void)http_etag_match(part[3], "\"0123456789abcdef\"", 1);
	(void)http_etag_match(part[3], "\"0123456789abcdef\"", 0);
	if ((out = jw_indent(part[4], strlen(part[4]), &len)) != NULL) {
		if (len != strlen(out))
			abort();
		free(out);
	}
	free(s);
	return 0;
}
