/*
 * The workers' confinement (sandbox.h), on the real kernel: children
 * confine themselves with the api and the refresh profile, as the
 * workers do, and then try what a compromised worker would: read
 * /etc/passwd, write a file, execute a program, fork, signal another
 * process, make memory executable.  Each is refused or kills the child
 * (SIGSYS).  What serving needs still works: the clock, connect() to
 * local listeners, a host name lookup, and for the refresh threads, its
 * file:// feed, the CA certificates and a TLS handshake that gets as far
 * as checking the peer.  Last, a pool whose worker breaks the filter:
 * its master logs the death and its cause.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/mount.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "feed.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "sandbox.h"
#ifdef SANDBOX_SANITIZERS
#include <sanitizer/common_interface_defs.h>
#endif
#include "testlib.h"

extern char **environ;

static struct cfg cfg;
static char dir[] = "/tmp/isbitcoinlit-sandbox-XXXXXX";
static char path_feed[100], path_out[100], path_sock[100];
static int unix_fd = -1, tcp_fd = -1, tcp_port, tls_port;

/* Run fn in a child confined with profile p.  Returns its wait status. */
static int
confined(enum sandbox_profile p, int (*fn)(void))
{
	int ws = 0;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (sandbox_enter(&cfg, p) < 0)
			_exit(200);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &ws, 0) < 0)
		return -1;
	return ws;
}

/*
 * In a sanitizer build the sandbox lets the sanitizers' runtime work
 * (sandbox.c): opening for writing is refused by Landlock alone, a new
 * process fails instead of killing, ptrace is allowed.
 */
#ifdef SANDBOX_SANITIZERS
#define SAN_REFUSED(ws, e) exited(ws, e)
#else
#define SAN_REFUSED(ws, e) 0
#endif

static int exited(int ws, int code);

static int
killed(int ws)
{
	return ws != -1 && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS;
}

static int
exited(int ws, int code)
{
	return ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == code;
}

static const char *
how(int ws)
{
	static char buf[64];

	if (ws == -1)
		return "not run";
	if (WIFSIGNALED(ws))
		snprintf(buf, sizeof(buf), "signal %d", WTERMSIG(ws));
	else
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(ws));
	return buf;
}

/* ---- what a compromised worker would try: 0 when it worked ---- */

static int
read_passwd(void)
{
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? errno : 0;
}

static int
create_file(void)
{
	int fd = open(path_out, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	return fd < 0 ? errno : 0;
}

static int
write_feed(void)
{
	int fd = open(path_feed, O_RDWR | O_CLOEXEC);

	return fd < 0 ? errno : 0;
}

static int
run_true(void)
{
	char *const argv[] = { (char *)"true", NULL };

	execve("/bin/true", argv, environ);
	return errno;
}

static int
do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return pid < 0 ? errno : 0;
}

static int
signal_parent(void)
{
	return kill(getppid(), 0) < 0 ? errno : 0;
}

static int
exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? errno : 0;
}

static int
make_executable(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 100;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0 ? errno : 0;
}

#ifndef SANDBOX_SANITIZERS
static int
trace_me(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 ? errno : 0;
}
#endif

static int
raw_socket(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	return fd < 0 ? errno : 0;
}

static int
read_ca(void)
{
	int fd = open("/etc/ssl/certs/ca-certificates.crt", O_RDONLY);

	return fd < 0 ? errno : 0;
}

/* ---- what serving needs: 0 when it worked ---- */

static int
clock_and_sleep(void)
{
	struct timespec a, b, d = { 0, 1000000 };

	if (clock_gettime(CLOCK_MONOTONIC, &a) < 0 ||
	    clock_gettime(CLOCK_REALTIME, &b) < 0 || nanosleep(&d, NULL) < 0)
		return errno;
	return time(NULL) > 0 ? 0 : 100;
}

/* connect() to the listeners made before the fork, and say "x" on each. */
static int
connect_both(void)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	struct sockaddr_in si = { .sin_family = AF_INET };
	int u, t;

	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path_sock);
	si.sin_port = htons((unsigned short)tcp_port);
	si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(u, (struct sockaddr *)&su, sizeof(su)) < 0 ||
	    write(u, "x", 1) != 1)
		return errno ? errno : 100;
	if ((t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    fcntl(t, F_SETFL, O_NONBLOCK) < 0 ||
	    (connect(t, (struct sockaddr *)&si, sizeof(si)) < 0 &&
	    errno != EINPROGRESS))
		return errno ? errno : 101;
	fcntl(t, F_SETFL, 0);
	if (write(t, "x", 1) != 1)
		return 102;
	close(u);
	close(t);
	return 0;
}

static int
lookup_localhost(void)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo("localhost", "6379", &hints, &res)) != 0)
		return 100 + (rc < 0 ? -rc : rc) % 100;
	freeaddrinfo(res);
	return 0;
}

/*
 * A name /etc/hosts does not have goes to the DNS server of
 * /etc/resolv.conf (RES_OPTIONS: one short try): any answer will do, or
 * none; the child must not be killed.
 */
static int
lookup_dns(void)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
	if (getaddrinfo("isbitcoinlit-test.invalid", "6379", &hints, &res) == 0)
		freeaddrinfo(res);
	return 0;
}

/* An NSS module is loaded the way this one is: mapped from its file. */
static int
load_library(void)
{
	void *h = dlopen("libnss_compat.so.2", RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		fprintf(stderr, "# dlopen: %s\n", dlerror());
		return 100;
	}
	return 0;
}

static int
read_hosts(void)
{
	char buf[64];
	int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	return read(fd, buf, sizeof(buf)) > 0 ? 0 : 100;
}

static int
print_stdout(void)
{
	printf("# printed inside the sandbox\n");
	return fflush(stdout) == 0 ? 0 : 100;
}

static void *
thread_fn(void *arg)
{
	return arg;
}

static int
thread(void)
{
	pthread_t t;
	void *r = NULL;

	static int mark;

	if (pthread_create(&t, NULL, thread_fn, &mark) != 0 ||
	    pthread_join(t, &r) != 0)
		return 100;
	return r == &mark ? 0 : 101;
}

static int
fetch_feed(void)
{
	struct feed_body body;
	struct error err;
	char url[400];

	snprintf(url, sizeof(url), "file://%s", path_feed);
	if (feed_fetch(url, 5, 1 << 20, &body, &err) < 0) {
		fprintf(stderr, "fetch: %s\n", err.text);
		return 100;
	}
	return body.len == 2 && memcmp(body.data, "[]", 2) == 0 ? 0 : 101;
}

/*
 * HTTPS to a server whose certificate no CA signed: the handshake gets to
 * the peer check (the CA certificates were read) and fails there.
 */
static int
fetch_tls(void)
{
	struct feed_body body;
	struct error err;
	char url[100];

	snprintf(url, sizeof(url), "https://localhost:%d/", tls_port);
	if (feed_fetch(url, 5, 1 << 20, &body, &err) == 0)
		return 100;
	return strstr(err.text, "certificate problem") != NULL ? 0 : 101;
}

/* ---- set-up ---- */

static int
listen_unix(void)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path_sock);
	if (fd < 0 || bind(fd, (struct sockaddr *)&su, sizeof(su)) < 0 ||
	    listen(fd, 8) < 0)
		return -1;
	return fd;
}

static int
listen_tcp(int *port)
{
	struct sockaddr_in si = { .sin_family = AF_INET };
	socklen_t len = sizeof(si);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&si, sizeof(si)) < 0 ||
	    listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&si, &len) < 0)
		return -1;
	*port = ntohs(si.sin_port);
	return fd;
}

/* One byte from the next connection on fd: the child said "x". */
static int
heard_x(int fd)
{
	char c = 0;
	int a = accept(fd, NULL, NULL);

	if (a < 0)
		return 0;
	if (read(a, &c, 1) != 1)
		c = 0;
	close(a);
	return c == 'x';
}

/* openssl s_server with a self-signed certificate; its pid or -1. */
static pid_t
start_tls_server(void)
{
	char cmd[1024], key[320], crt[320];
	pid_t pid;

	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(crt, sizeof(crt), "%s/crt.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-days 1 -subj /CN=localhost -keyout %s -out %s >/dev/null 2>&1",
	    key, crt);
	if (system(cmd) != 0)
		return -1;
	close(listen_tcp(&tls_port));	/* a free port, most likely */
	if ((pid = fork()) == 0) {
		char port[16];
		int null = open("/dev/null", O_RDWR);

		snprintf(port, sizeof(port), "%d", tls_port);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("openssl", "openssl", "s_server", "-quiet", "-www",
		    "-accept", port, "-key", key, "-cert", crt, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && pid > 0; i++) {
		struct sockaddr_in si = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_STREAM, 0), up;

		si.sin_port = htons((unsigned short)tls_port);
		si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		up = connect(fd, (struct sockaddr *)&si, sizeof(si)) == 0;
		close(fd);
		if (up)
			return pid;
		tl_msleep(50);
	}
	return pid;
}

/* ---- a name of /etc replaced after confinement ---- */

/* The IPv4 address host resolves to (0: none). */
static uint32_t
resolve4(const char *host)
{
	struct addrinfo hints = { .ai_family = AF_INET }, *res;
	uint32_t a;

	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	a = ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
	freeaddrinfo(res);
	return a;
}

/* Write text to path, through a new file renamed over it. */
static int
replace_file(const char *path, const char *text)
{
	char tmp[400];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

/*
 * In the child: a mount namespace of its own whose /etc is a copy (in
 * dir) of what name resolution reads, /etc/hosts naming lit-sandbox-test
 * 127.0.0.9; a helper that renames a new /etc/hosts (127.0.0.10) over it
 * when told; the api profile.  Exit status bits: 1 the name resolved
 * before, 2 sandbox_outdated() said 0 then, 4 it said 1 after the
 * rename; 0 when all three held.
 */
static int
hosts_child(void)
{
	static const char *const keep[] = { "resolv.conf", "nsswitch.conf",
	    "ld.so.cache", "host.conf", "gai.conf", "services" };
	char etc[200], path[400], cmd[1200];
	int go[2], done[2], bad = 0;
	pid_t helper;

	snprintf(etc, sizeof(etc), "%s/etc", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cd /etc && cp -p", etc);
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		snprintf(path, sizeof(path), "/etc/%s", keep[i]);
		if (access(path, F_OK) == 0) {
			strncat(cmd, " ", sizeof(cmd) - strlen(cmd) - 1);
			strncat(cmd, keep[i], sizeof(cmd) - strlen(cmd) - 1);
		}
	}
	strncat(cmd, " ", sizeof(cmd) - strlen(cmd) - 1);
	strncat(cmd, etc, sizeof(cmd) - strlen(cmd) - 1);
	snprintf(path, sizeof(path), "%s/hosts", etc);
	if (system(cmd) != 0 ||
	    replace_file(path, "127.0.0.9 lit-sandbox-test\n") < 0 ||
	    unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(etc, "/etc", NULL, MS_BIND, NULL) < 0 ||
	    pipe(go) < 0 || pipe(done) < 0)
		return 100;
	if ((helper = fork()) == 0) {
		char c;

		if (read(go[0], &c, 1) == 1 &&
		    replace_file("/etc/hosts", "127.0.0.10 lit-sandbox-test\n") == 0)
			(void)!write(done[1], "y", 1);
		_exit(0);
	}
	if (helper < 0 || sandbox_enter(&cfg, SANDBOX_API) < 0)
		return 101;
	if (resolve4("lit-sandbox-test") != 0x7f000009)
		bad |= 1;
	tl_msleep(1100);
	if (sandbox_outdated() != 0)
		bad |= 2;
	{
		char c;

		if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1)
			return 102;
	}
	tl_msleep(1100);
	if (sandbox_outdated() != 1)
		bad |= 4;
	return bad;
}

static void
hosts_replaced(int landlock)
{
	pid_t pid;
	int ws = -1;

	if (!landlock) {
		tl_skip("the kernel has no Landlock", "/etc/hosts replaced");
		return;
	}
	if (geteuid() != 0) {
		tl_skip("not root: no mount namespace", "/etc/hosts replaced");
		return;
	}
	if ((pid = fork()) == 0)
		_exit(hosts_child());
	if (pid > 0)
		waitpid(pid, &ws, 0);
	CHECK(exited(ws, 0), "/etc/hosts replaced by a rename after the worker "
	    "was confined: sandbox_outdated() says so, not before (%s)",
	    how(ws));
}

/* ---- a kernel that cannot ---- */

/*
 * Make the kernel look as if it lacked Landlock (its calls fail with
 * ENOSYS) or seccomp filters (PR_SET_SECCOMP fails with EINVAL), with a
 * filter of our own that allows everything else.
 */
static int
pretend_no(int landlock)
{
	struct sock_filter landlock_off[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset,
		    0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter seccomp_off[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_SECCOMP, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog;

	prog.filter = landlock ? landlock_off : seccomp_off;
	prog.len = landlock ? sizeof(landlock_off) / sizeof(landlock_off[0]) :
	    sizeof(seccomp_off) / sizeof(seccomp_off[0]);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ?
	    -1 : 0;
}

/*
 * Confine a child on a kernel without Landlock (landlock) or without
 * seccomp filters, then run fn; its wait status, and its log in log.
 */
static int
confined_lacking(int landlock, int (*fn)(void), char *log, size_t len)
{
	char path[200];
	int fd, ws = -1;
	ssize_t n = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/lacking.log", dir);
	log[0] = '\0';
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(fd, 2);
		if (pretend_no(landlock) < 0)
			_exit(201);
		if (sandbox_enter(&cfg, SANDBOX_API) < 0)
			_exit(200);
		_exit(fn());
	}
	if (pid > 0)
		waitpid(pid, &ws, 0);
	if (lseek(fd, 0, SEEK_SET) == 0 && (n = read(fd, log, len - 1)) < 0)
		n = 0;
	log[n] = '\0';
	log[strcspn(log, "\n")] = '\0';
	close(fd);
	return ws;
}

static void
kernel_lacking(void)
{
	char log[2048];
	int ws;

	ws = confined_lacking(1, read_passwd, log, sizeof(log));
	CHECK(exited(ws, 0) && strstr(log, "the kernel has no Landlock") !=
	    NULL, "without Landlock: one warning, files readable (%s): %s",
	    how(ws), log);
	ws = confined_lacking(1, run_true, log, sizeof(log));
	CHECK(killed(ws) || SAN_REFUSED(ws, EPERM), "without Landlock: the "
	    "filter holds, execve kills (%s)", how(ws));
	ws = confined_lacking(0, read_passwd, log, sizeof(log));
	CHECK(exited(ws, 200) && strstr(log, "the kernel refused the system "
	    "call filter") != NULL && strstr(log, "ISBITCOINLIT_SANDBOX=off") !=
	    NULL, "without seccomp filters: the worker stops, saying why and "
	    "how to run unconfined (%s): %s", how(ws), log);
}

/* ---- the sanitizers inside (a build with --enable-sanitizers) ---- */

#ifdef SANDBOX_SANITIZERS
static void *volatile sink;

static int
leak(void)
{
	sink = malloc(99);
	sink = NULL;
	exit(0);	/* LeakSanitizer looks now */
}

static char *volatile freed;

static int
use_after_free(void)
{
	freed = malloc(8);
	free(freed);
	freed[0] = 1;	/* read back from a volatile: no compiler sees it */
	return 0;
}

/*
 * Run fn confined with the api profile, the sanitizers' report to a file;
 * say whether the child ended otherwise than by the filter and its
 * report holds want and a stack frame.
 */
static void
sanitizer_report(int (*fn)(void), const char *want, const char *what)
{
	char path[200], buf[8192];
	ssize_t n = 0;
	int fd, ws = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/report", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0) {
		CHECK(0, "a file for the report");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		__sanitizer_set_report_fd((void *)(intptr_t)fd);
		if (sandbox_enter(&cfg, SANDBOX_API) < 0)
			_exit(200);
		_exit(fn());
	}
	if (pid > 0)
		waitpid(pid, &ws, 0);
	if (lseek(fd, 0, SEEK_SET) == 0 && (n = read(fd, buf, sizeof(buf) - 1))
	    < 0)
		n = 0;
	buf[n] = '\0';
	close(fd);
	CHECK(ws != -1 && !killed(ws) && strstr(buf, want) != NULL &&
	    strstr(buf, "#1 ") != NULL, "sanitizers: %s is reported from "
	    "inside the sandbox (%s)", what, how(ws));
}
#endif

/* ---- a pool whose worker breaks the filter ---- */

static int
worker_breaks(void *ctx)
{
	(void)ctx;
	if (sandbox_enter(&cfg, SANDBOX_API) < 0)
		return -1;
	signal_parent();
	return -1;
}

/* A worker that breaks the filter only as it ends, after SIGTERM. */
static int
worker_confined(void *ctx)
{
	(void)ctx;
	return sandbox_enter(&cfg, SANDBOX_API);
}

static void
worker_ends_badly(void *ctx)
{
	(void)ctx;
	signal_parent();
}

/*
 * The line of the master's log that says a worker died, or "": a pool of
 * one worker with the hooks init and fini, stopped with SIGTERM once that
 * line is there or, with stop_early, once the worker waits in accept().
 */
static void
pool_death(int (*init)(void *), void (*fini)(void *), int stop_early,
    char *line, size_t len)
{
	struct pool_app app = { "sandbox_test", NULL, 0, init, fini, NULL,
	    NULL, NULL };
	char log[320], pool_sock[320], buf[4096];
	pid_t pid;
	int ws;

	line[0] = '\0';
	snprintf(log, sizeof(log), "%s/pool.log", dir);
	snprintf(pool_sock, sizeof(pool_sock), "%s/pool.sock", dir);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 2);
		log_init("sandbox_test", log_level_parse("info"));
		_exit(pool_serve(pool_sock, 1, &app));
	}
	for (int i = 0; i < 200 && pid > 0 && line[0] == '\0'; i++) {
		FILE *fp;

		tl_msleep(50);
		if (stop_early && i == 10)
			kill(pid, SIGTERM);
		fp = fopen(log, "r");
		while (fp != NULL && fgets(buf, sizeof(buf), fp) != NULL)
			if (strstr(buf, "worker died") != NULL) {
				buf[strcspn(buf, "\n")] = '\0';
				snprintf(line, len, "%.*s", (int)len - 1, buf);
				break;
			}
		if (fp != NULL)
			fclose(fp);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &ws, 0);
	}
}

static void
profile(enum sandbox_profile p, int landlock, pid_t tls)
{
	const char *name = p == SANDBOX_API ? "api" : "refresh";
	int ws;

	ws = confined(p, read_passwd);
	if (landlock)
		CHECK(exited(ws, EACCES), "%s: open(\"/etc/passwd\", O_RDONLY) "
		    "is refused with EACCES (%s)", name, how(ws));
	else
		tl_skip("the kernel has no Landlock", "%s: /etc/passwd", name);
	ws = confined(p, create_file);
	CHECK((killed(ws) || SAN_REFUSED(ws, EACCES)) &&
	    access(path_out, F_OK) < 0, "%s: creating a file "
	    "kills (%s), and there is no file", name, how(ws));
	ws = confined(p, write_feed);
	CHECK(killed(ws) || SAN_REFUSED(ws, EACCES), "%s: opening a file for writing kills (%s)", name,
	    how(ws));
	ws = confined(p, run_true);
	CHECK(killed(ws) || SAN_REFUSED(ws, EPERM), "%s: execve(\"/bin/true\") kills (%s)", name,
	    how(ws));
	ws = confined(p, do_fork);
	CHECK(killed(ws) || SAN_REFUSED(ws, EPERM), "%s: fork() kills (%s)", name, how(ws));
	ws = confined(p, signal_parent);
	CHECK(killed(ws), "%s: kill() of another process kills (%s)", name,
	    how(ws));
#ifdef SANDBOX_SANITIZERS
	tl_skip("LeakSanitizer needs ptrace", "%s: ptrace()", name);
#else
	ws = confined(p, trace_me);
	CHECK(killed(ws), "%s: ptrace() kills (%s)", name, how(ws));
#endif
	ws = confined(p, exec_memory);
	CHECK(killed(ws), "%s: anonymous executable memory kills (%s)", name,
	    how(ws));
	ws = confined(p, make_executable);
	CHECK(killed(ws), "%s: mprotect(PROT_EXEC) kills (%s)", name, how(ws));
	ws = confined(p, raw_socket);
	CHECK(exited(ws, EAFNOSUPPORT), "%s: a packet socket is refused "
	    "(%s)", name, how(ws));

	ws = confined(p, clock_and_sleep);
	CHECK(exited(ws, 0), "%s: the clock and a sleep work (%s)", name,
	    how(ws));
	ws = confined(p, connect_both);
	CHECK(exited(ws, 0) && heard_x(unix_fd) && heard_x(tcp_fd),
	    "%s: connect() and write() to a unix and a TCP listener (%s)",
	    name, how(ws));
	ws = confined(p, lookup_localhost);
	CHECK(exited(ws, 0), "%s: getaddrinfo(\"localhost\") works (%s)",
	    name, how(ws));
	ws = confined(p, lookup_dns);
	CHECK(exited(ws, 0), "%s: a DNS lookup is not killed (%s)", name,
	    how(ws));
	ws = confined(p, load_library);
	CHECK(exited(ws, 0), "%s: a library is loaded, as an NSS module would "
	    "be (%s)", name, how(ws));
	ws = confined(p, read_hosts);
	CHECK(exited(ws, 0), "%s: /etc/hosts is readable (%s)", name, how(ws));
	ws = confined(p, print_stdout);
	CHECK(exited(ws, 0), "%s: stdout works (%s)", name, how(ws));
	ws = confined(p, thread);
	if (p == SANDBOX_API)
		CHECK(killed(ws), "api: a thread kills: the api makes none (%s)",
		    how(ws));
	else
		CHECK(exited(ws, 0), "refresh: a thread works (%s)", how(ws));
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) < 0)
		tl_skip("no /etc/ssl/certs/ca-certificates.crt", "%s: the CA "
		    "certificates", name);
	else if (p == SANDBOX_REFRESH || landlock) {
		ws = confined(p, read_ca);
		CHECK(exited(ws, p == SANDBOX_API ? EACCES : 0), "%s: the CA "
		    "certificates are %s (%s)", name, p == SANDBOX_API ?
		    "not readable" : "readable", how(ws));
	}
	if (p == SANDBOX_API)
		return;
	ws = confined(p, fetch_feed);
	CHECK(exited(ws, 0), "refresh: libcurl reads the file:// feed (%s)",
	    how(ws));
	if (tls < 0) {
		tl_skip("openssl cannot serve", "refresh: a TLS handshake");
		return;
	}
	ws = confined(p, fetch_tls);
	CHECK(exited(ws, 0), "refresh: libcurl resolves localhost and checks "
	    "a TLS peer against the CA certificates (%s)", how(ws));
}

int
main(void)
{
	const char *tp = getenv("TEST_PREFIX"), *sb = getenv("ISBITCOINLIT_SANDBOX");
	char feed_env[400], sb_env[64], line[1024];
	char *env[3] = { feed_env, NULL, NULL };
	struct error err;
	pid_t tls;
	int fd, landlock;

	if (tp != NULL && strstr(tp, "valgrind") != NULL) {
		printf("1..0 # SKIP valgrind cannot run a program that installs "
		    "a seccomp filter\n");
		return 0;
	}
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "make a temporary directory");
		return tl_done();
	}
	snprintf(path_feed, sizeof(path_feed), "%s/feed.json", dir);
	snprintf(path_out, sizeof(path_out), "%s/out", dir);
	snprintf(path_sock, sizeof(path_sock), "%s/s.sock", dir);
	snprintf(feed_env, sizeof(feed_env), "ISBITCOINLIT_UPSTREAM_URL=file://%s",
	    path_feed);
	/* ISBITCOINLIT_SANDBOX=off shows every refusal above fail */
	if (sb != NULL) {
		snprintf(sb_env, sizeof(sb_env), "ISBITCOINLIT_SANDBOX=%s", sb);
		env[1] = sb_env;
	}
	if ((fd = open(path_feed, O_WRONLY | O_CREAT, 0600)) < 0 ||
	    write(fd, "[]", 2) != 2 || close(fd) < 0 ||
	    cfg_parse(&cfg, CFG_ALL, 0, NULL, env, &err) < 0 ||
	    (unix_fd = listen_unix()) < 0 || (tcp_fd = listen_tcp(&tcp_port)) < 0 ||
	    feed_global_init() < 0) {
		CHECK(0, "set up: a feed, the settings, two listeners, libcurl");
		return tl_done();
	}
	log_init("sandbox_test", log_level_parse("warn"));
	landlock = syscall(SYS_landlock_create_ruleset, NULL, 0, 1) >= 1;
	tls = start_tls_server();

	profile(SANDBOX_API, landlock, tls);
	profile(SANDBOX_REFRESH, landlock, tls);

	hosts_replaced(landlock);
	kernel_lacking();
#ifdef SANDBOX_SANITIZERS
	sanitizer_report(leak, "detected memory leaks", "a leak at exit");
	sanitizer_report(use_after_free, "heap-use-after-free",
	    "a use after free");
#endif
	pool_death(worker_breaks, NULL, 0, line, sizeof(line));
	CHECK(strstr(line, "signal=31 respawn_ms=") != NULL && strstr(line,
	    "cause=\"a system call its sandbox does not allow") != NULL,
	    "the pool logs a worker the filter killed, and why: %s", line);
	pool_death(worker_confined, worker_ends_badly, 1, line, sizeof(line));
	CHECK(strstr(line, "signal=31 cause=\"a system call its sandbox does "
	    "not allow") != NULL, "and one it killed as the pool stopped: %s",
	    line);

	if (tls > 0) {
		kill(tls, SIGTERM);
		waitpid(tls, NULL, 0);
	}
	cfg_free(&cfg);
	close(unix_fd);
	close(tcp_fd);
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)!system(cmd);
	}
	return tl_done();
}
