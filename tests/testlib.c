/* TAP output and private redis-server processes for the tests. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

static int tl_count, tl_failed;

static void
tl_vresult(int ok, const char *file, int line, const char *fmt, va_list ap)
{
	printf("%s %d - ", ok ? "ok" : "not ok", ++tl_count);
	vprintf(fmt, ap);
	printf("\n");
	if (!ok) {
		tl_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

int
tl_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tl_vresult(ok, file, line, fmt, ap);
	va_end(ap);
	return ok;
}

int
tl_check_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	int ok = got != NULL && want != NULL ? strcmp(got, want) == 0 :
	    got == want;
	va_list ap;

	va_start(ap, fmt);
	tl_vresult(ok, file, line, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n",
		    got ? got : "(null)", want ? want : "(null)");
	return ok;
}

int
tl_check_int(int64_t got, int64_t want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tl_vresult(got == want, file, line, fmt, ap);
	va_end(ap);
	if (got != want)
		printf("#   got:  %" PRId64 "\n#   want: %" PRId64 "\n", got,
		    want);
	return got == want;
}

void
tl_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - ", ++tl_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

void
tl_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int
tl_count_results(void)
{
	return tl_count;
}

int
tl_done(void)
{
	printf("1..%d\n", tl_count);
	return tl_failed ? 1 : 0;
}

const char *
tl_ts_module(void)
{
	const char *m = getenv("ISBITCOINLIT_TEST_TS_MODULE");

	return m != NULL && *m != '\0' ? m : NULL;
}

/* ---- redis-server ---- */

static int
tl_ping(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[16];
	int fd, ok = 0;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof(buf)) > 0)
		ok = strncmp(buf, "+PONG", 5) == 0 || strncmp(buf, "-NOAUTH", 7) == 0;
	close(fd);
	return ok;
}

static int
tl_spawn(struct tl_redis *r, const char *module, va_list ap)
{
	const char *argv[64];
	char log[256];
	int argc = 0;
	const char *server = getenv("REDIS_SERVER");

	if (server == NULL || *server == '\0')
		server = "redis-server";
	snprintf(log, sizeof(log), "%s/redis.log", r->dir);
	argv[argc++] = server;
	argv[argc++] = "--port";
	argv[argc++] = "0";
	argv[argc++] = "--unixsocket";
	argv[argc++] = r->sock;
	argv[argc++] = "--unixsocketperm";
	argv[argc++] = "700";
	argv[argc++] = "--dir";
	argv[argc++] = r->dir;
	argv[argc++] = "--logfile";
	argv[argc++] = log;
	argv[argc++] = "--save";
	argv[argc++] = "";
	argv[argc++] = "--daemonize";
	argv[argc++] = "no";
	if (module != NULL) {
		argv[argc++] = "--loadmodule";
		argv[argc++] = module;
	}
	for (const char *a; argc < 62 && (a = va_arg(ap, const char *)) != NULL;)
		argv[argc++] = a;
	argv[argc] = NULL;

	if ((r->pid = fork()) < 0)
		return -1;
	if (r->pid == 0) {
		/* Never outlive a test that crashed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(server, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {	/* up to 5 s */
		int status;
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (tl_ping(r->sock))
			return 0;
		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			fprintf(stderr, "redis-server exited at start; see %s\n",
			    log);
			r->pid = -1;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	tl_redis_kill(r, 1);
	return -1;
}

int
tl_redis_start(struct tl_redis *r, const char *module, ...)
{
	va_list ap;
	int rc;

	memset(r, 0, sizeof(*r));
	r->pid = -1;
	snprintf(r->dir, sizeof(r->dir), "/tmp/isbitcoinlit-test.XXXXXX");
	if (mkdtemp(r->dir) == NULL)
		return -1;
	snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
	snprintf(r->url, sizeof(r->url), "unix://%s", r->sock);
	va_start(ap, module);
	rc = tl_spawn(r, module, ap);
	va_end(ap);
	return rc;
}

int
tl_redis_restart(struct tl_redis *r, const char *module, ...)
{
	va_list ap;
	int rc;

	va_start(ap, module);
	rc = tl_spawn(r, module, ap);
	va_end(ap);
	return rc;
}

void
tl_redis_kill(struct tl_redis *r, int hard)
{
	if (r->pid > 0) {
		kill(r->pid, hard ? SIGKILL : SIGTERM);
		waitpid(r->pid, NULL, 0);
	}
	r->pid = -1;
	unlink(r->sock);
}

void
tl_redis_stop(struct tl_redis *r)
{
	char path[256];

	tl_redis_kill(r, 0);
	if (r->dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/redis.log", r->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dump.rdb", r->dir);
	unlink(path);
	rmdir(r->dir);
	r->dir[0] = '\0';
}
