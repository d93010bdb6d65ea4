/*
 * The FastCGI worker pool: listening socket, pre-fork master, workers.
 * The master only forks, reaps and forwards SIGTERM; it waits in
 * sigsuspend() and its handlers only set flags.  A worker serves one
 * request at a time; SIGTERM sets a flag and FCGX_ShutdownPending(), so
 * the request in flight finishes and the accept loop ends.  The worker's
 * handler also puts a socket that listens to nothing in place of the
 * listening one: libfcgi checks its flag only before it calls accept(),
 * and a SIGTERM that lands between that check and the call would leave
 * the worker blocked in accept() for good; now that accept() fails at
 * once.  Other workers keep their own descriptor.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "clock.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"

/* The most workers one master runs; pool_serve() asks for no more. */
#define MAX_WORKERS 256
/* A worker that dies sooner than this after its start counts as a crash. */
#define CRASH_WINDOW_MS 2000
/*
 * The pause before a respawn: BACKOFF_START_MS after a worker that ran
 * longer than CRASH_WINDOW_MS, doubled after each crash up to
 * MAX_BACKOFF_MS.
 */
#define BACKOFF_START_MS 100
#define MAX_BACKOFF_MS 2000
/*
 * This many crashes in a row and the master gives up (its supervisor may
 * restart it): about 7 s of 100 ms, 200 ms, ... 2 s pauses.
 */
#define MAX_CRASHES 8
/* When fork() itself fails, try that slot again after this long. */
#define FORK_RETRY_MS 1000
/* Connections the kernel queues while every worker is busy. */
#define LISTEN_BACKLOG 1024
/* A unix socket is rw for its owner and group (nginx's), nothing else. */
#define SOCKET_MODE 0660
/* The umask while binding: the socket never exists with wider bits. */
#define SOCKET_UMASK 0117

static volatile sig_atomic_t got_term, got_chld, got_alarm;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
	FCGX_ShutdownPending();
}

/* The worker's listening descriptor and the socket that replaces it. */
static volatile sig_atomic_t term_listen_fd = -1, term_dead_fd = -1;

static void
on_worker_term(int sig)
{
	int saved = errno;

	on_term(sig);
	if (term_listen_fd >= 0 && term_dead_fd >= 0)
		(void)dup2(term_dead_fd, term_listen_fd);
	errno = saved;
}

static void on_chld(int sig) { (void)sig; got_chld = 1; }
static void on_alarm(int sig) { (void)sig; got_alarm = 1; }

static void
set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept() must see EINTR */
	sigaction(sig, &sa, NULL);
}

/* ---- workers ---- */

/* Answer one accepted request and count it in the pool's metrics. */
static void
count_request(FCGX_Request *raw, const struct pool_app *app)
{
	struct http_outcome o;
	int64_t t0_us = clock_mono_us(), us;

	http_dispatch(raw, app->routes, app->nroutes, app->ctx, &o);
	us = o.done_us - t0_us;
	metrics_request(app->metrics, o.route, o.status,
	    us > 0 ? (uint64_t)us : 0);
}

/* Serve requests on fd until SIGTERM.  Returns the exit status. */
static int
worker_main(int fd, const struct pool_app *app)
{
	FCGX_Request raw;
	sigset_t none;
	int rc = 0;

	term_listen_fd = fd;
	term_dead_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (term_dead_fd < 0)
		log_warn("no socket to stop accept() with, a SIGTERM just before "
		    "it may go unseen error=\"%s\"", strerror(errno));
	set_handler(SIGTERM, on_worker_term);
	set_handler(SIGINT, on_worker_term);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (app->worker_init != NULL && app->worker_init(app->ctx) < 0)
		return 1;
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&raw, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("FastCGI initialisation failed");
		rc = 1;
		goto out;
	}
	while (!got_term) {
		if (FCGX_Accept_r(&raw) < 0) {
			if (got_term)
				break;
			if (errno == EINTR)
				continue;
			log_error("accept failed error=\"%s\"", strerror(errno));
			rc = 1;
			break;
		}
		count_request(&raw, app);
		if (app->worker_done != NULL && app->worker_done(app->ctx))
			break;
	}
	FCGX_Free(&raw, 0);
out:
	if (app->worker_fini != NULL)
		app->worker_fini(app->ctx);
	return rc;
}

/* ---- the listening socket ---- */

static int
listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat stt;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: \"%s\"", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (lstat(path, &stt) == 0) {
		/* A live server answers; a stale socket file is replaced. */
		if (!S_ISSOCK(stt.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
			    path);
			close(fd);
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			snprintf(err, errlen, "%s is in use by a running "
			    "server", path);
			close(fd);
			return -1;
		}
		close(fd);
		unlink(path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
	}
	old = umask(SOCKET_UMASK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(path, SOCKET_MODE) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Whether sa is the wildcard address of its family (v4-mapped too). */
static int
addr_is_any(const struct sockaddr *sa)
{
	static const unsigned char mapped_any[16] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0 };

	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		return IN6_IS_ADDR_UNSPECIFIED(a) ||
		    memcmp(a->s6_addr, mapped_any, sizeof(mapped_any)) == 0;
	}
	return 0;
}

static int
listen_tcp(const char *spec, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(spec, ':'), *h = spec;
	size_t hlen;
	struct addrinfo hints, *res = NULL;
	int fd = -1, one = 1, gai;

	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen, "not PATH or HOST:PORT: \"%s\"", spec);
		return -1;
	}
	hlen = (size_t)(colon - spec);
	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		h = spec + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "host too long: \"%s\"", spec);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (hlen == 0 ||
	    (gai = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", spec, hlen == 0 ?
		    "no address" : gai_strerror(gai));
		return -1;
	}
	/*
	 * FastCGI has no authentication: never on every interface, however
	 * the address is spelt ("0", "0x0", "[::0]", "[::ffff:0.0.0.0]").
	 */
	if (addr_is_any(res->ai_addr)) {
		snprintf(err, errlen, "refusing to listen on all interfaces: "
		    "\"%s\" (give an address such as 127.0.0.1:9000, or a "
		    "unix socket path)", spec);
		freeaddrinfo(res);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * Bind and listen on spec: an absolute path (unix socket, SOCKET_MODE) or
 * HOST:PORT / [V6]:PORT on a specific address.  Returns the fd, or -1 with
 * a one-line reason in err.
 */
static int
listen_on(const char *spec, char *err, size_t errlen)
{
	if (spec[0] == '/')
		return listen_unix(spec, err, errlen);
	return listen_tcp(spec, err, errlen);
}

/* ---- the master ---- */

struct slot {
	pid_t pid;		/* 0: not running */
	int64_t started_ms;
	int64_t respawn_at_ms;	/* when pid is 0 */
};

static pid_t
spawn(int fd, const struct pool_app *app, const sigset_t *orig)
{
	pid_t pid = fork();

	if (pid == 0) {
		int rc;

		/* Never outlive the master. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		sigprocmask(SIG_SETMASK, orig, NULL);
		rc = worker_main(fd, app);
		/*
		 * exit(), not _exit(): a worker's end is where LeakSanitizer
		 * and valgrind check it.  The master buffers nothing in stdio
		 * that the child could write out twice.
		 */
		exit(rc);
	}
	if (pid < 0)
		log_error("fork failed error=\"%s\"", strerror(errno));
	return pid;
}

/* Arm the timer for the earliest pending respawn. */
static void
arm_timer(const struct slot *slots, int n, int64_t now)
{
	int64_t next = -1;
	struct itimerval it;

	for (int i = 0; i < n; i++)
		if (slots[i].pid == 0 && (next < 0 ||
		    slots[i].respawn_at_ms < next))
			next = slots[i].respawn_at_ms;
	memset(&it, 0, sizeof(it));
	if (next >= 0) {
		int64_t d = next - now;

		if (d < 1)
			d = 1;
		it.it_value.tv_sec = d / 1000;
		it.it_value.tv_usec = (d % 1000) * 1000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * Say how a worker ended, and when it is respawned (backoff ms; -1: it is
 * not, the pool stops).  SIGSYS is its sandbox's kill (sandbox.h): a
 * system call the filter does not allow, which the kernel's audit log
 * names; an error, for it will happen again.
 */
static void
log_end(pid_t pid, int ws, long backoff)
{
	char respawn[40] = "";

	if (backoff >= 0)
		snprintf(respawn, sizeof(respawn), " respawn_ms=%ld", backoff);
	if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS)
		log_error("worker died pid=%d signal=%d%s cause=\"a system call "
		    "its sandbox does not allow; the kernel's audit log "
		    "(type=1326) names it\"", (int)pid, WTERMSIG(ws), respawn);
	else if (WIFSIGNALED(ws))
		log_warn("worker died pid=%d signal=%d%s", (int)pid,
		    WTERMSIG(ws), respawn);
	else
		log_warn("worker exited pid=%d status=%d%s", (int)pid,
		    WEXITSTATUS(ws), respawn);
}

static int
master(int fd, int nworkers, const struct pool_app *app)
{
	struct slot slots[MAX_WORKERS];
	sigset_t block, orig, none;
	int crashes = 0, status = 0, alive = 0;
	long backoff = BACKOFF_START_MS;

	memset(slots, 0, sizeof(slots));
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	set_handler(SIGTERM, on_term);
	set_handler(SIGINT, on_term);
	set_handler(SIGCHLD, on_chld);
	set_handler(SIGALRM, on_alarm);
	sigemptyset(&none);

	log_info("%s started workers=%d", app->name, nworkers);
	for (int i = 0; i < nworkers; i++) {
		slots[i].respawn_at_ms = 0;
		slots[i].pid = 0;
	}
	got_alarm = 1;		/* spawn them all on the first pass */

	while (!got_term) {
		int64_t now = clock_mono_ms();

		if (got_chld) {
			pid_t pid;
			int ws;

			got_chld = 0;
			while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
				for (int i = 0; i < nworkers; i++) {
					if (slots[i].pid != pid)
						continue;
					slots[i].pid = 0;
					alive--;
					if (now - slots[i].started_ms <
					    CRASH_WINDOW_MS) {
						crashes++;
						backoff = backoff * 2 >
						    MAX_BACKOFF_MS ?
						    MAX_BACKOFF_MS : backoff * 2;
					} else {
						crashes = 0;
						backoff = BACKOFF_START_MS;
					}
					slots[i].respawn_at_ms = now + backoff;
					if (WIFSIGNALED(ws) ||
					    WEXITSTATUS(ws) != 0)
						metrics_worker_crashed(
						    app->metrics);
					log_end(pid, ws, backoff);
				}
			}
			if (crashes >= MAX_CRASHES) {
				log_error("workers keep crashing, giving up "
				    "crashes=%d", crashes);
				status = 1;
				break;
			}
			arm_timer(slots, nworkers, now);
		}
		if (got_alarm) {
			got_alarm = 0;
			for (int i = 0; i < nworkers; i++) {
				if (slots[i].pid != 0 ||
				    slots[i].respawn_at_ms > now)
					continue;
				if ((slots[i].pid = spawn(fd, app, &orig)) < 0) {
					slots[i].pid = 0;
					slots[i].respawn_at_ms = now + FORK_RETRY_MS;
					continue;
				}
				slots[i].started_ms = now;
				alive++;
				metrics_worker_started(app->metrics);
			}
			arm_timer(slots, nworkers, now);
		}
		metrics_pool_size(app->metrics, (unsigned)nworkers,
		    (unsigned)alive);
		if (!got_term && !got_chld && !got_alarm)
			sigsuspend(&none);
	}

	/* Drain: every worker finishes its request, then exits. */
	log_info("%s stopping workers=%d", app->name, alive);
	for (int i = 0; i < nworkers; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGTERM);
	for (int i = 0; i < nworkers; i++) {
		int ws = 0;
		pid_t r;

		if (slots[i].pid <= 0)
			continue;
		while ((r = waitpid(slots[i].pid, &ws, 0)) < 0 && errno == EINTR)
			;
		/* SIGTERM's own end is silent; one at exit (a filter's
		 * kill, a sanitizer's abort) is not */
		if (r > 0 && WIFSIGNALED(ws) && WTERMSIG(ws) != SIGTERM)
			log_end(slots[i].pid, ws, -1);
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return status;
}

static long
cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : n;
}

int
pool_serve(const char *addr, long workers, const struct pool_app *app)
{
	char err[512];
	struct stat st;
	int fd = 0, rc;
	long n = workers;

	if (addr != NULL) {
		if ((fd = listen_on(addr, err, sizeof(err))) < 0) {
			log_error("cannot listen: %s", err);
			return 1;
		}
		log_info("%s listening on %s", app->name, addr);
	} else if (fstat(0, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		log_error("standard input is not a socket: run under spawn-fcgi "
		    "or systemd socket activation, or give --listen");
		return 2;
	}
	if (n == 0)
		n = addr != NULL ? cpu_count() : 1;
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	if (n == 1 && addr == NULL) {
		metrics_worker_started(app->metrics);
		metrics_pool_size(app->metrics, 1, 1);
		rc = worker_main(fd, app);
	}
	else
		rc = master(fd, (int)n, app);
	if (addr != NULL) {
		if (addr[0] == '/')
			unlink(addr);
		close(fd);
	}
	return rc;
}
