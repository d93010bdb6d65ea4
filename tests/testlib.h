/* Test helpers: TAP output and a private redis-server per test. */
#ifndef ISBITCOINLIT_TESTLIB_H
#define ISBITCOINLIT_TESTLIB_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

/* Record one TAP result; failures also print file:line and the message. */
int tl_check(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tl_skip(const char *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tl_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* How many results were recorded so far. */
int tl_count_results(void);
/* Print the plan; returns the exit status (1 if any check failed). */
int tl_done(void);

#define CHECK(cond, ...) tl_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_STR(got, want, ...) \
	tl_check_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_INT(got, want, ...) \
	tl_check_int((int64_t)(got), (int64_t)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)

int tl_check_str(const char *got, const char *want, const char *file,
    int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int tl_check_int(int64_t got, int64_t want, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The elements of an array. */
#define TL_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A number as text, and the value a reader must read from it. */
struct tl_read {
	const char *s;
	double want;
};

/*
 * A reader of numbers (what, e.g. "decimal"): each of good[0..ngood) read
 * exactly as its want ("WHAT \"S\" = WANT"), each of bad[0..nbad) refused
 * with -1 ("WHAT \"S\" refused"); one check each, in that order.
 */
void tl_check_reader(const char *what, int (*read)(const char *, double *),
    const struct tl_read *good, size_t ngood, const char *const *bad,
    size_t nbad);

/*
 * One element of a test feed as SentiCrypt v1 has it: a timestamp and
 * both series' values (the code under test takes a stream per series).
 */
struct tl_sample {
	int64_t ts_ms;
	double price;
	double sentiment;
};

/* A redis-server on a unix socket in its own temporary directory. */
struct tl_redis {
	pid_t pid;
	char dir[64];
	char sock[100];	/* fits sun_path */
	char url[256];		/* unix://<sock> */
};

/*
 * Start redis-server ($REDIS_SERVER, default "redis-server") with module
 * loaded when not NULL and the extra arguments (NULL-terminated) added.
 * Waits until it answers PING.  Returns 0 or -1.
 */
int tl_redis_start(struct tl_redis *r, const char *module, ...)
    __attribute__((sentinel));
/* Start it again in the same directory and socket (after tl_redis_kill). */
int tl_redis_restart(struct tl_redis *r, const char *module, ...)
    __attribute__((sentinel));
/* Stop the server (SIGKILL with hard, else SIGTERM) and keep the directory. */
void tl_redis_kill(struct tl_redis *r, int hard);
/* Stop the server and remove its directory. */
void tl_redis_stop(struct tl_redis *r);

/* An environment for a child: ours without ISBITCOINLIT_*, plus settings. */
struct tl_env {
	char *v[256];
	int n;
};

void tl_env_init(struct tl_env *e);
void tl_env_set(struct tl_env *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tl_env_free(struct tl_env *e);

/*
 * Start argv (argv[0] a path) with env, wrapped by $TEST_PREFIX when
 * prefixed is set, its stdout to a pipe when out_fd is not NULL.  Returns
 * the pid or -1.
 */
pid_t tl_spawn(const char *const argv[], const struct tl_env *env, int prefixed,
    int *out_fd);

/* tl_spawn() with its stderr appended to the file log_path. */
pid_t tl_spawn_log(const char *const argv[], const struct tl_env *env,
    int prefixed, const char *log_path);

/*
 * Run argv to its end; *out (caller frees) gets its stdout when out is not
 * NULL.  Returns the exit status, 128 + signal, or -1.
 */
int tl_run(const char *const argv[], const struct tl_env *env, int prefixed,
    char **out);

/* Wait for pid; returns the exit status, 128 + signal, or -1. */
int tl_wait(pid_t pid);

/*
 * 1 while the child pid runs; 0 once it has ended (it is then reaped:
 * tl_wait() on it returns -1).
 */
int tl_running(pid_t pid);

/* The whole of a file as a string (caller frees), or NULL. */
char *tl_read_file(const char *path);

/* Sleep ms milliseconds. */
void tl_msleep(long ms);

/*
 * FastCGI 1.0 protocol numbers, named as the specification, its fastcgi.h
 * and slowcgi name them (the same definitions, so either may come first).
 */
#define FCGI_HEADER_LEN		8
#define FCGI_VERSION_1		1
#define FCGI_BEGIN_REQUEST	1
#define FCGI_ABORT_REQUEST	2
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_STDERR		7
#define FCGI_RESPONDER		1
/* The request id the test client uses on every connection. */
#define TL_FCGI_ID		1

/*
 * The 8 bytes of a record header for request TL_FCGI_ID, for an array
 * initialiser: version, type, content length, padding length.
 */
#define TL_FCGI_HEADER(version, type, clen, padding) \
	(version), (type), 0, TL_FCGI_ID, ((clen) >> 8) & 0xff, (clen) & 0xff, \
	(padding), 0
/* The 8 bytes of a BEGIN_REQUEST body: a responder, connection closed after. */
#define TL_FCGI_BEGIN_BODY 0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0

/*
 * A FastCGI request to the unix socket sock: params a NULL-terminated list
 * of "NAME=value", an empty stdin.  Waits at most 2 s for each read.
 * Returns the response (stdout records, caller frees) or NULL when the
 * connection failed or ended early.
 */
char *tl_fcgi_request(const char *sock, const char *const params[]);

/* The same, waiting at most timeout_ms for each read (a slow handler). */
char *tl_fcgi_request_wait(const char *sock, const char *const params[],
    long timeout_ms);

/* Send raw bytes to sock, read until it closes (at most 2 s); -1 if refused. */
int tl_fcgi_raw(const char *sock, const void *bytes, size_t len);

struct conn;
struct redisReply;

/* A connection to url with timeout_ms (NULL, with a diagnostic, if bad). */
struct conn *tl_conn_open(const char *url, long timeout_ms);

/* Run the command a [b [c]] on c; the reply or NULL. */
struct redisReply *tl_cmd(struct conn *c, const char *a, const char *b,
    const char *d);

/* The RedisTimeSeries module from ISBITCOINLIT_TEST_TS_MODULE, or NULL. */
const char *tl_ts_module(void);

#endif
