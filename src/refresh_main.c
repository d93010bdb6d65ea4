/*
 * isbitcoinlit-refresh: a FastCGI responder for POST /refresh, or one
 * refresh (--once), or a refresh every SECONDS (--every).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "feed.h"
#include "fmt.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "refresh.h"
#include "sandbox.h"
#include "start.h"
#include "store.h"

#define PROG "isbitcoinlit-refresh"
/* Longest pause between two tries of --every while failures go on. */
#define EVERY_MAX_BACKOFF_S 300
/* --every ends with this (sysexits EX_TEMPFAIL) when only a new process
 * can read what it must: its supervisor starts it again */
#define EXIT_RESTART 75

/* Parsed once before any fork; the connection is made in each process. */
static struct cfg cfg;

struct worker {
	struct store st;
};

/* Confined before it connects, as for every reconnect after. */
static int
worker_open(struct worker *w)
{
	if (sandbox_enter(&cfg, SANDBOX_REFRESH) < 0)
		return -1;
	return store_open(&cfg, cfg.redis_url, &w->st);
}

static void
worker_close(struct worker *w)
{
	store_close(&w->st);
}

static void
log_report(const struct refresh_report *r)
{
	char t[FMT_RFC3339_MAX];

	fmt_rfc3339(r->as_of_ms, 0, t);
	log_info("refresh ok received=%zu valid=%zu invalid=%zu expired=%zu "
	    "backend=%s duration_ms=%ld fetch_ms=%ld parse_ms=%ld write_ms=%ld "
	    "summary_ms=%ld as_of=%s", r->received, r->valid, r->invalid,
	    r->expired, r->backend, r->duration_ms, r->fetch_ms, r->parse_ms,
	    r->write_ms, r->summary_ms, t);
}

/* ---- FastCGI: POST /refresh ---- */

/* Compare in time that depends only on the length of want. */
static int
token_ok(const char *got, const char *want)
{
	size_t n = strlen(want), m = strlen(got);
	unsigned char diff = (unsigned char)(n != m);

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)want[i] ^
		    (unsigned char)(i < m ? got[i] : 0);
	return diff == 0;
}

static int
authorized(const struct http_request *req)
{
	const char *h;

	if (cfg.refresh_token == NULL)
		return cfg.refresh_open;
	h = http_param(req, "HTTP_AUTHORIZATION");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	return token_ok(h, cfg.refresh_token);
}

static void
handle_refresh(struct http_request *req, void *ctx)
{
	struct worker *w = ctx;
	struct refresh_report report;
	struct error err;
	char *body;
	size_t len;

	if (!authorized(req)) {
		http_error(req, 401, "WWW-Authenticate: Bearer "
		    "realm=\"isbitcoinlit\"\r\nCache-Control: no-store\r\n",
		    "unauthorized", "POST /refresh needs \"Authorization: "
		    "Bearer <token>\" with the configured token");
		return;
	}
	if (refresh_run(&cfg, &w->st, &report, &err) < 0) {
		int status = err.code == REFRESH_ELOCKED ? 409 :
		    err.code == REFRESH_EUPSTREAM ? 502 :
		    err.code == REFRESH_EINTERNAL ||
		    err.code == REFRESH_EPERM ? 500 : 503;

		log_warn("refresh failed error=\"%s\" detail=\"%s\"",
		    refresh_strerror(err.code), err.text);
		/* which Redis failed, where, and on which key, is for the log */
		http_error(req, status, status == 502 || status == 500 ?
		    "Cache-Control: no-store\r\n" :
		    "Retry-After: 5\r\nCache-Control: no-store\r\n",
		    refresh_strerror(err.code), err.code == REFRESH_EREDIS ?
		    "the data store is not answering; try again shortly" :
		    err.code == REFRESH_EPERM ? "the refresh's Redis user lacks "
		    "a right it needs; the log says which" :
		    err.code == REFRESH_EUPSTREAM && report.detail[0] ?
		    report.detail :
		    err.code == REFRESH_EUPSTREAM ? "the feed could not be "
		    "downloaded or held no valid sample; the log says why" :
		    err.text);
		return;
	}
	log_report(&report);
	if ((body = refresh_report_json(&report, &len)) == NULL) {
		http_error(req, 500, NULL, "internal error", "out of memory");
		return;
	}
	http_respond(req, 200, "Cache-Control: no-store\r\n", body, len);
	free(body);
}

static const struct http_route routes[] = {
	{ "/refresh", "POST", handle_refresh },
};

static int app_init(void *ctx) { return worker_open(ctx); }
static void app_fini(void *ctx) { worker_close(ctx); }
/* After each request: ends when its sandbox's view of /etc is stale. */
static int worker_done(void *ctx) { (void)ctx; return sandbox_outdated(); }

/* ---- --once and --every ---- */

/* One refresh, report on stdout.  Returns the refresh_status. */
static int
run_once(struct worker *w, int quiet_report)
{
	struct refresh_report report;
	struct error err;
	char *body;
	size_t len;

	if (refresh_run(&cfg, &w->st, &report, &err) < 0) {
		if (!quiet_report) {
			/* a feed of two: its role and cause, not its URL */
			body = http_error_body(refresh_strerror(err.code),
			    err.code == REFRESH_EUPSTREAM && report.detail[0] ?
			    report.detail : err.text, &len);
			if (body != NULL)
				printf("%s\n", body);
			free(body);
		}
		log_warn("refresh failed error=\"%s\" detail=\"%s\"",
		    refresh_strerror(err.code), err.text);
		return err.code;
	}
	if (!quiet_report && (body = refresh_report_json(&report, &len)) != NULL) {
		printf("%s\n", body);
		free(body);
	}
	log_report(&report);
	return REFRESH_OK;
}

/*
 * Refresh every cfg.every_s seconds (+-10% jitter) until SIGTERM/SIGINT.
 * Runs never overlap (one loop, and the lock across processes); failures
 * back off exponentially up to EVERY_MAX_BACKOFF_S.
 */
static int
run_every(struct worker *w)
{
	sigset_t stop;
	int failures = 0;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);	/* taken by sigtimedwait */
	srand48((long)time(NULL) ^ (long)getpid());
	log_info("refreshing every_s=%ld", cfg.every_s);
	for (;;) {
		int rc;
		double delay = (double)cfg.every_s;
		struct timespec ts;

		/* no way back to a new sandbox but a new process: its
		 * supervisor (systemd, spawn's cron line) starts one */
		if (sandbox_outdated())
			return EXIT_RESTART;
		rc = run_once(w, 1);

		if (rc == REFRESH_OK || rc == REFRESH_ELOCKED)
			failures = 0;
		else {
			double cap = cfg.every_s > EVERY_MAX_BACKOFF_S ?
			    (double)cfg.every_s : EVERY_MAX_BACKOFF_S;

			failures++;
			delay = ldexp(delay, failures > 20 ? 20 : failures - 1);
			if (delay > cap)
				delay = cap;
		}
		delay *= 0.9 + 0.2 * drand48();
		log_debug("next refresh in_s=%.1f", delay);
		ts.tv_sec = (time_t)delay;
		ts.tv_nsec = (long)((delay - (double)ts.tv_sec) * 1e9);
		for (;;) {
			int sig = sigtimedwait(&stop, NULL, &ts);

			if (sig == SIGTERM || sig == SIGINT) {
				log_info("stopping signal=%d", sig);
				return 0;
			}
			if (sig < 0 && errno == EINTR)
				continue;	/* another signal: wait again */
			break;			/* EAGAIN: time to refresh */
		}
	}
}

/*
 * The upstream feed gives both series, or the sentiment alone when a
 * price feed is set: a price-only format cannot be it.  The price feed's
 * format must give a price, and is checked without a price feed too: a
 * misspelt name fails now, not once a URL is set.
 */
static int
formats_ok(const struct cfg *c, const char *prog)
{
	struct error err;

	if (feed_format_for(c->upstream_format, c->price_url != NULL ?
	    FEED_SENTIMENT : FEED_BOTH, &err) == NULL) {
		fprintf(stderr, "%s: ISBITCOINLIT_UPSTREAM_FORMAT "
		    "(--upstream-format): %s\n", prog, err.text);
		return -1;
	}
	if (feed_format_for(c->price_format, FEED_PRICE, &err) == NULL) {
		fprintf(stderr, "%s: ISBITCOINLIT_PRICE_FORMAT "
		    "(--price-format): %s\n", prog, err.text);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct start how = { PROG, "refresh", CFG_REFRESH,
	    formats_ok };
	struct worker w;
	struct pool_app app = { PROG, routes, sizeof(routes) / sizeof(routes[0]),
	    app_init, app_fini, &w, NULL, worker_done };
	int rc;

	if ((rc = start_up(&cfg, &how, argc, argv)) != 0)
		return rc;
	/*
	 * Whoever reaches the socket (any process of nginx's group, every
	 * client of a proxy on this host) could refresh: a token is needed
	 * unless the operator says otherwise.
	 */
	if (!cfg.once && cfg.every_s == 0 && cfg.refresh_token == NULL &&
	    !cfg.refresh_open) {
		fprintf(stderr, "%s: ISBITCOINLIT_REFRESH_TOKEN is not set: "
		    "POST /refresh would be open to every client (set a token, "
		    "or ISBITCOINLIT_REFRESH_OPEN=on behind a proxy that "
		    "authenticates)\n", PROG);
		cfg_free(&cfg);
		return 2;
	}
	if (feed_global_init() < 0) {
		log_error("libcurl initialisation failed");
		return 1;
	}
	if (cfg.once || cfg.every_s > 0) {
		if (worker_open(&w) < 0)
			return 1;
		rc = cfg.once ? run_once(&w, 0) : run_every(&w);
		worker_close(&w);
	} else
		rc = pool_serve(cfg.listen, cfg.workers, &app);
	cfg_free(&cfg);
	return rc;
}
