/*
 * Download the feed with libcurl.  Every transfer has a connect timeout, a
 * total timeout and a low-speed abort; the body is capped in the write
 * callback, since CURLOPT_MAXFILESIZE cannot stop a chunked body.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "feed.h"

#define CONNECT_TIMEOUT_S 3L
#define MAX_REDIRECTS 3L
/* Abort a transfer slower than this many bytes/s over LOW_SPEED_TIME_S. */
#define LOW_SPEED_LIMIT 512L
#define LOW_SPEED_TIME_S 5L

/* The body as it arrives, within the cap: curl's write callback. */
static size_t
sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;

	if (nmemb != 0 && size > SIZE_MAX / nmemb) {
		b->failed = b->full = 1;
		return 0;
	}
	/* 0, less than asked, is CURLE_WRITE_ERROR: it stops the transfer */
	return buf_add(b, ptr, size * nmemb) < 0 ? 0 : size * nmemb;
}

int
feed_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* One transfer of feed_fetch_all(): its handle, sink and error text. */
struct transfer {
	CURL *h;
	struct buf sink;
	char curlerr[CURL_ERROR_SIZE];
	CURLcode cc;
	int done;
};

/* Set up t->h to download url; the sink caps the body at max_bytes. */
static int
transfer_init(struct transfer *t, const char *url, long timeout_s,
    long max_bytes, const char *ua)
{
	CURL *h;

	memset(t, 0, sizeof(*t));
	buf_init(&t->sink, 64 * 1024, (size_t)max_bytes);
	t->cc = CURLE_OK;
	if ((h = t->h = curl_easy_init()) == NULL)
		return -1;
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
	/* some exchanges refuse a request without one */
	curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->curlerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &t->sink);
	return 0;
}

/*
 * What a finished transfer gave: 0 with body filled (the sink's buffer,
 * now the caller's), or -1 with err filled.
 */
static int
transfer_result(struct transfer *t, long max_bytes, struct feed_body *body,
    struct error *err)
{
	struct buf *s = &t->sink;
	long code = 0;

	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &code);
	if (s->full || t->cc == CURLE_FILESIZE_EXCEEDED)
		return error_set(err, FEED_EFETCH, "body larger than %ld "
		    "bytes (ISBITCOINLIT_UPSTREAM_MAX_BYTES)", max_bytes);
	if (t->cc == CURLE_OPERATION_TIMEDOUT)
		return error_set(err, FEED_EFETCH, "timed out (%s)",
		    t->curlerr[0] ? t->curlerr : curl_easy_strerror(t->cc));
	if (t->cc != CURLE_OK)
		return error_set(err, FEED_EFETCH, "%s%s%s",
		    curl_easy_strerror(t->cc), t->curlerr[0] ? ": " : "",
		    t->curlerr);
	/* file:// has no status; http(s) must be 2xx after redirects */
	if (code != 0 && (code < 200 || code > 299))
		return error_set(err, FEED_EFETCH, "HTTP status %ld", code);
	if ((body->data = buf_take(s, &body->len)) == NULL)
		return error_set(err, FEED_ENOMEM, "out of memory");
	error_set(err, FEED_OK, "%s", "");
	return 0;
}

int
feed_fetch_all(struct feed_download *d, size_t n, long timeout_s,
    long max_bytes)
{
	char ua[64];
	struct transfer *t;
	CURLM *m = NULL;
	CURLMsg *msg;
	int running = 0, left, failed = 0;

	snprintf(ua, sizeof(ua), "isbitcoinlit/%s", PACKAGE_VERSION);
	for (size_t i = 0; i < n; i++)
		memset(&d[i].body, 0, sizeof(d[i].body));
	if ((t = calloc(n ? n : 1, sizeof(*t))) == NULL ||
	    (m = curl_multi_init()) == NULL) {
		for (size_t i = 0; i < n; i++)
			error_set(&d[i].err, FEED_ENOMEM, "out of memory");
		free(t);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (transfer_init(&t[i], d[i].url, timeout_s, max_bytes,
		    ua) < 0 || curl_multi_add_handle(m, t[i].h) != CURLM_OK) {
			t[i].cc = CURLE_FAILED_INIT;
			t[i].done = 1;
		}
	/*
	 * All at once, one deadline: each transfer has the same total
	 * timeout from now, so the slowest ends within timeout_s.
	 */
	do {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left)) != NULL)
			for (size_t i = 0; msg->msg == CURLMSG_DONE && i < n; i++)
				if (t[i].h == msg->easy_handle) {
					t[i].cc = msg->data.result;
					t[i].done = 1;
				}
		if (running > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) !=
		    CURLM_OK)
			break;
	} while (running > 0);
	for (size_t i = 0; i < n; i++) {
		if (!t[i].done)
			t[i].cc = CURLE_OPERATION_TIMEDOUT;
		if (t[i].h == NULL) {
			error_set(&d[i].err, FEED_EFETCH, "curl_easy_init failed");
			failed++;
			continue;
		}
		if (transfer_result(&t[i], max_bytes, &d[i].body, &d[i].err) < 0)
			failed++;
		curl_multi_remove_handle(m, t[i].h);
		curl_easy_cleanup(t[i].h);
		buf_free(&t[i].sink);
	}
	curl_multi_cleanup(m);
	free(t);
	return failed ? -1 : 0;
}

int
feed_fetch(const char *url, long timeout_s, long max_bytes,
    struct feed_body *body, struct error *err)
{
	struct feed_download d = { .url = url };
	int rc = feed_fetch_all(&d, 1, timeout_s, max_bytes);

	*body = d.body;
	*err = d.err;
	return rc;
}
