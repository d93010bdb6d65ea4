/*
 * The FastCGI worker pool: the listening socket (unix or TCP, or the one
 * inherited as fd 0), the pre-fork master that spawns, respawns with
 * backoff and drains its workers, and each worker's accept loop.  What a
 * request means is http.h's business; the pool only hands each accepted
 * request to http_dispatch().
 */
#ifndef ISBITCOINLIT_POOL_H
#define ISBITCOINLIT_POOL_H

#include <stddef.h>

struct http_route;
struct metrics;

/*
 * What a program gives the pool.  It lives here, not in http.h, because
 * only the pool reads it as a whole: the routes and ctx are passed on to
 * http_dispatch(), the hooks run in each worker process.  The caller owns
 * everything it points to, for as long as pool_serve() runs.
 */
struct pool_app {
	const char *name;			/* for logs */
	const struct http_route *routes;
	size_t nroutes;
	/* Run in each worker after fork; returns 0 or -1 (the worker exits). */
	int (*worker_init)(void *ctx);
	/* Run in each worker before it exits, after a successful init. */
	void (*worker_fini)(void *ctx);
	void *ctx;				/* given to the hooks and handlers */
	/*
	 * Counters shared by the master and its workers (metrics.h), or
	 * NULL: the pool counts each request (route, status, duration),
	 * worker starts and crashes, and its size there.
	 */
	struct metrics *metrics;
	/*
	 * Run in each worker after each request, or NULL: nonzero and the
	 * worker ends (status 0), to be started anew by the master.
	 */
	int (*worker_done)(void *ctx);
};

/*
 * Serve until SIGTERM: on addr (a path, made with mode 0660 and removed at
 * the end, or HOST:PORT / [V6]:PORT on a specific address; never all
 * interfaces), or when addr is NULL on the socket inherited as fd 0.
 * workers is the number of worker processes: 0 for one per CPU with addr
 * (one without), at most 256.  With more than one worker, or with addr, a
 * master pre-forks them, respawns any that dies (with backoff, giving up
 * if they keep crashing) and on SIGTERM lets in-flight requests finish.
 * Returns the exit status: 0, 1 on a failure (cannot listen, a worker
 * that cannot start, workers crashing), 2 when addr is NULL and fd 0 is
 * not a socket.
 */
int pool_serve(const char *addr, long workers, const struct pool_app *app);

#endif
