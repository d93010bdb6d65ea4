/* TAP output and private redis-server processes for the tests. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
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
tl_check_reader(const char *what, int (*read)(const char *, double *),
    const struct tl_read *good, size_t ngood, const char *const *bad,
    size_t nbad)
{
	for (size_t i = 0; i < ngood; i++) {
		double v = 0;
		int rc = read(good[i].s, &v);

		CHECK(rc == 0 && v == good[i].want, "%s \"%s\" = %.17g", what,
		    good[i].s, good[i].want);
	}
	for (size_t i = 0; i < nbad; i++) {
		double v = 0;

		CHECK(read(bad[i], &v) == -1, "%s \"%s\" refused", what, bad[i]);
	}
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

/*
 * Memory errors of the programs a test starts are reports in one
 * directory, made with the first child: AddressSanitizer's and UBSan's
 * (log_path) and valgrind's (--log-file, for children under TEST_PREFIX).
 * tl_done() fails the test when one holds anything.
 */
static char reports_dir[64];

static const char *
reports(void)
{
	if (reports_dir[0] == '\0') {
		snprintf(reports_dir, sizeof(reports_dir),
		    "/tmp/isbitcoinlit-reports.XXXXXX");
		if (mkdtemp(reports_dir) == NULL)
			reports_dir[0] = '\0';
		else
			chmod(reports_dir, 0777);
	}
	return reports_dir;
}

/* Check that no report holds anything, then remove them. */
static void
reports_check(void)
{
	char path[512], buf[4096];
	struct dirent *d;
	DIR *dir;
	int bad = 0;

	if (reports_dir[0] == '\0' || (dir = opendir(reports_dir)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		FILE *fp;
		size_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", reports_dir, d->d_name);
		if ((fp = fopen(path, "r")) != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, fp);
			buf[n] = '\0';
			fclose(fp);
			if (n > 0) {
				bad = 1;
				tl_diag("%s:\n%s", d->d_name, buf);
			}
		}
		unlink(path);
	}
	closedir(dir);
	rmdir(reports_dir);
	CHECK(!bad, "no memory error in a program this test started");
}

int
tl_done(void)
{
	reports_check();
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
tl_redis_spawn(struct tl_redis *r, const char *module, va_list ap)
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
	rc = tl_redis_spawn(r, module, ap);
	va_end(ap);
	return rc;
}

int
tl_redis_restart(struct tl_redis *r, const char *module, ...)
{
	va_list ap;
	int rc;

	va_start(ap, module);
	rc = tl_redis_spawn(r, module, ap);
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

/* ---- child processes ---- */

extern char **environ;

void
tl_env_init(struct tl_env *e)
{
	e->n = 0;
	for (char **p = environ; *p != NULL && e->n < 200; p++) {
		if (strncmp(*p, "ISBITCOINLIT_", 13) == 0)
			continue;
		/* a sanitizer's report goes to the reports, not stderr */
		if (strncmp(*p, "ASAN_OPTIONS=", 13) == 0 ||
		    strncmp(*p, "UBSAN_OPTIONS=", 14) == 0) {
			char *v = NULL;

			if (asprintf(&v, "%s:log_path=%s/%.4s", *p, reports(),
			    *p[0] == 'A' ? "asan" : "ubsan") >= 0)
				e->v[e->n++] = v;
			continue;
		}
		e->v[e->n++] = strdup(*p);
	}
	e->v[e->n] = NULL;
	/* valgrind cannot run a program that installs a seccomp filter */
	if (getenv("TEST_PREFIX") != NULL &&
	    strstr(getenv("TEST_PREFIX"), "valgrind") != NULL)
		tl_env_set(e, "ISBITCOINLIT_SANDBOX=off");
}

void
tl_env_set(struct tl_env *e, const char *fmt, ...)
{
	char *s = NULL;
	size_t klen;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	klen = strcspn(s, "=") + 1;
	for (int i = 0; i < e->n; i++)
		if (strncmp(e->v[i], s, klen) == 0) {
			free(e->v[i]);
			e->v[i] = s;
			return;
		}
	if (e->n < 254) {
		e->v[e->n++] = s;
		e->v[e->n] = NULL;
	} else
		free(s);
}

void
tl_env_free(struct tl_env *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->v[i]);
	e->n = 0;
	e->v[0] = NULL;
}

/* tl_spawn(), with stderr to the file log_path when it is not NULL. */
static pid_t
spawn(const char *const argv[], const struct tl_env *env, int prefixed,
    int *out_fd, const char *log_path)
{
	char *args[128], *prefix = NULL, vglog[128];
	int n = 0, p[2] = { -1, -1 };
	const char *tp = getenv("TEST_PREFIX");
	pid_t pid;

	if (prefixed && tp != NULL && *tp != '\0') {
		prefix = strdup(tp);
		for (char *tok = strtok(prefix, " \t"); tok != NULL && n < 60;
		    tok = strtok(NULL, " \t"))
			args[n++] = tok;
		if (n > 0 && strstr(args[0], "valgrind") != NULL) {
			snprintf(vglog, sizeof(vglog),
			    "--log-file=%s/valgrind.%%p", reports());
			args[n++] = vglog;
		}
	}
	for (int i = 0; argv[i] != NULL && n < 126; i++)
		args[n++] = (char *)argv[i];
	args[n] = NULL;
	if (out_fd != NULL && pipe(p) < 0) {
		free(prefix);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0) {
			dup2(null, 0);
			close(null);
		}
		if (p[1] >= 0) {
			dup2(p[1], 1);
			close(p[0]);
			close(p[1]);
		}
		if (log_path != NULL) {
			int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND,
			    0644);

			if (fd >= 0) {
				dup2(fd, 2);
				close(fd);
			}
		}
		execvpe(args[0], args, env->v);
		_exit(127);
	}
	free(prefix);
	if (p[1] >= 0)
		close(p[1]);
	if (out_fd != NULL)
		*out_fd = p[0];
	return pid;
}

pid_t
tl_spawn(const char *const argv[], const struct tl_env *env, int prefixed,
    int *out_fd)
{
	return spawn(argv, env, prefixed, out_fd, NULL);
}

pid_t
tl_spawn_log(const char *const argv[], const struct tl_env *env,
    int prefixed, const char *log_path)
{
	return spawn(argv, env, prefixed, NULL, log_path);
}

int
tl_wait(pid_t pid)
{
	int ws;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	return 128 + WTERMSIG(ws);
}

int
tl_running(pid_t pid)
{
	int ws;

	/* kill(pid, 0) would succeed on a zombie: ask waitpid instead */
	return waitpid(pid, &ws, WNOHANG) == 0;
}

int
tl_run(const char *const argv[], const struct tl_env *env, int prefixed,
    char **out)
{
	int fd = -1;
	pid_t pid = tl_spawn(argv, env, prefixed, out ? &fd : NULL);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t r;

	if (pid < 0)
		return -1;
	if (out != NULL) {
		for (;;) {
			if (len + 4096 + 1 > cap) {
				cap = cap ? cap * 2 : 8192;
				buf = realloc(buf, cap);
			}
			r = read(fd, buf + len, cap - len - 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			len += (size_t)r;
		}
		close(fd);
		buf[len] = '\0';
		*out = buf;
	}
	return tl_wait(pid);
}

char *
tl_read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (fp == NULL)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (nb == NULL) {
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
	} while (n > 0);
	fclose(fp);
	buf[len] = '\0';
	return buf;
}

void
tl_msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- a minimal FastCGI client ---- */

/* How long a read or write waits unless the caller says otherwise. */
#define TL_FCGI_TIMEOUT_MS 2000

/* A connection to sock whose reads and writes give up after timeout_ms. */
static int
tl_unix_connect(const char *sock, long timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Append one record (type, content) to buf at *len. */
static void
tl_fcgi_record(unsigned char *buf, size_t *len, int type, const void *c,
    size_t clen)
{
	unsigned char *h = buf + *len;

	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = 0;
	h[3] = TL_FCGI_ID;
	h[4] = (unsigned char)(clen >> 8);
	h[5] = (unsigned char)clen;
	h[6] = 0;		/* padding */
	h[7] = 0;
	memcpy(h + FCGI_HEADER_LEN, c, clen);
	*len += FCGI_HEADER_LEN + clen;
}

char *
tl_fcgi_request(const char *sock, const char *const params[])
{
	return tl_fcgi_request_wait(sock, params, TL_FCGI_TIMEOUT_MS);
}

char *
tl_fcgi_request_wait(const char *sock, const char *const params[],
    long timeout_ms)
{
	static const unsigned char begin[] = { TL_FCGI_BEGIN_BODY };
	unsigned char *buf = malloc(1 << 20), *p, *out = NULL;
	unsigned char hdr[FCGI_HEADER_LEN];
	size_t len = 0, plen = 0, olen = 0;
	int fd, done = 0;

	if (buf == NULL || (fd = tl_unix_connect(sock, timeout_ms)) < 0) {
		free(buf);
		return NULL;
	}
	tl_fcgi_record(buf, &len, FCGI_BEGIN_REQUEST, begin, sizeof(begin));
	p = malloc(1 << 19);
	for (int i = 0; params[i] != NULL; i++) {
		const char *eq = strchr(params[i], '=');
		size_t nl = (size_t)(eq - params[i]), vl = strlen(eq + 1);
		unsigned char *q = p + plen;

		if (nl < 128)
			*q++ = (unsigned char)nl;
		else {
			*q++ = (unsigned char)(0x80 | (nl >> 24));
			*q++ = (unsigned char)(nl >> 16);
			*q++ = (unsigned char)(nl >> 8);
			*q++ = (unsigned char)nl;
		}
		if (vl < 128)
			*q++ = (unsigned char)vl;
		else {
			*q++ = (unsigned char)(0x80 | (vl >> 24));
			*q++ = (unsigned char)(vl >> 16);
			*q++ = (unsigned char)(vl >> 8);
			*q++ = (unsigned char)vl;
		}
		memcpy(q, params[i], nl);
		memcpy(q + nl, eq + 1, vl);
		plen = (size_t)(q + nl + vl - p);
	}
	for (size_t off = 0; off < plen; off += 65535)
		tl_fcgi_record(buf, &len, FCGI_PARAMS, p + off,
		    plen - off > 65535 ? 65535 : plen - off);
	tl_fcgi_record(buf, &len, FCGI_PARAMS, "", 0);
	tl_fcgi_record(buf, &len, FCGI_STDIN, "", 0);
	free(p);
	if (write(fd, buf, len) != (ssize_t)len)
		goto out;
	while (!done) {
		size_t clen, padding;
		ssize_t r;

		if (read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
			break;
		clen = (size_t)hdr[4] << 8 | hdr[5];
		padding = hdr[6];
		for (size_t got = 0; got < clen + padding; got += (size_t)r)
			if ((r = read(fd, buf + got, clen + padding - got)) <= 0)
				goto out;
		if (hdr[1] == FCGI_STDOUT) {
			out = realloc(out, olen + clen + 1);
			memcpy(out + olen, buf, clen);
			olen += clen;
			out[olen] = '\0';
		} else if (hdr[1] == FCGI_END_REQUEST)
			done = 1;
	}
out:
	close(fd);
	free(buf);
	if (!done) {
		free(out);
		return NULL;
	}
	return out ? (char *)out : strdup("");
}

int
tl_fcgi_raw(const char *sock, const void *bytes, size_t len)
{
	char buf[4096];
	int fd = tl_unix_connect(sock, TL_FCGI_TIMEOUT_MS);

	if (fd < 0)
		return -1;
	(void)!write(fd, bytes, len);
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}

/* ---- Redis ---- */

struct conn *
tl_conn_open(const char *url, long timeout_ms)
{
	struct redis_url u;
	struct conn *c;
	struct error err;

	if (redis_url_parse(url, &u, &err) < 0) {
		tl_diag("%s", err.text);
		return NULL;
	}
	c = conn_new(&u, timeout_ms);
	redis_url_free(&u);
	return c;
}

struct redisReply *
tl_cmd(struct conn *c, const char *a, const char *b, const char *d)
{
	const char *argv[3] = { a, b, d };

	return conn_command(c, d ? 3 : b ? 2 : 1, argv, NULL);
}
