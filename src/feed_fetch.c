/*
 * Download the feed with libcurl.  Every transfer has a connect timeout, a
 * total timeout and a low-speed abort; the body is capped in the write
 * callback, since CURLOPT_MAXFILESIZE cannot stop a chunked body.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "feed.h"

#define CONNECT_TIMEOUT_S 3L
#define MAX_REDIRECTS 3L
/* Abort a transfer slower than this many bytes/s over LOW_SPEED_TIME_S. */
#define LOW_SPEED_LIMIT 512L
#define LOW_SPEED_TIME_S 5L

struct sink {
	char *data;
	size_t len, cap, max;
	int too_big;
};

static size_t
sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (n > s->max - s->len) {
		s->too_big = 1;
		return 0;	/* CURLE_WRITE_ERROR stops the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 64 * 1024;
		char *p;

		while (cap < s->len + n + 1)
			cap *= 2;
		/* never more than the cap allows: 16 MiB, not the next 32 */
		if (cap > s->max + 1)
			cap = s->max + 1;
		if ((p = realloc(s->data, cap)) == NULL)
			return 0;
		s->data = p;
		s->cap = cap;
	}
	memcpy(s->data + s->len, ptr, n);
	s->len += n;
	s->data[s->len] = '\0';
	return n;
}

int
feed_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int
feed_fetch(const char *url, long timeout_s, long max_bytes,
    struct feed_body *body, struct error *err)
{
	char ua[64], curlerr[CURL_ERROR_SIZE] = "";
	struct sink s = { .max = (size_t)max_bytes };
	CURL *h = curl_easy_init();
	CURLcode cc;
	long code = 0;
	int rc = -1;

	memset(body, 0, sizeof(*body));
	if (h == NULL)
		return error_set(err, FEED_EFETCH, "curl_easy_init failed");
	snprintf(ua, sizeof(ua), "isbitcoinlit/%s", PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
	    timeout_s < LOW_SPEED_TIME_S ? timeout_s : LOW_SPEED_TIME_S);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");	/* all built in */
	curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curlerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);

	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		error_set(err, FEED_EFETCH, "body larger than %ld "
		    "bytes (ISBITCOINLIT_UPSTREAM_MAX_BYTES)", max_bytes);
		goto out;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		error_set(err, FEED_EFETCH, "timed out (%s)",
		    curlerr[0] ? curlerr : curl_easy_strerror(cc));
		goto out;
	}
	if (cc != CURLE_OK) {
		error_set(err, FEED_EFETCH, "%s%s%s",
		    curl_easy_strerror(cc), curlerr[0] ? ": " : "", curlerr);
		goto out;
	}
	/* file:// has no status; http(s) must be 2xx after redirects */
	if (code != 0 && (code < 200 || code > 299)) {
		error_set(err, FEED_EFETCH, "HTTP status %ld", code);
		goto out;
	}
	if (s.data == NULL && (s.data = calloc(1, 1)) == NULL) {
		error_set(err, FEED_ENOMEM, "out of memory");
		goto out;
	}
	body->data = s.data;
	body->len = s.len;
	s.data = NULL;
	error_set(err, FEED_OK, "%s", "");
	rc = 0;
out:
	free(s.data);
	curl_easy_cleanup(h);
	return rc;
}
