/*
 * A worker's confinement after start-up, in the way of kcgi and OpenSSH
 * on Linux: no new privileges, then Landlock where the kernel has it,
 * then a seccomp filter written by hand (no libseccomp).
 *
 * The filter's default is to kill the process (SIGSYS; the kernel's audit
 * log names the call, the pool's master logs the death).  It allows the
 * calls of serving: I/O on descriptors, poll, a new socket and connect()
 * for a Redis reconnect, the clock, memory (never a mapping both writable
 * and executable, nor an anonymous executable one), signals to itself,
 * exit.  open() is allowed read-only: a host name lookup reads
 * /etc/hosts and /etc/resolv.conf, and may load an NSS module.
 *
 * Landlock then says which files those read-only opens may reach: the
 * files of name resolution and the system's libraries (NSS modules),
 * for the refresh also the CA certificates and the directory of a file://
 * feed.  Nothing may be written, created, removed or executed, no TCP
 * port bound, no process outside signalled.  A kernel without Landlock
 * (before 5.13, or with it off) leaves the filter alone: one warning.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "cfg.h"
#include "landlock.h"
#include "log.h"
#include "sandbox.h"

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

/*
 * A build with AddressSanitizer (SANDBOX_SANITIZERS, sandbox.h; for the
 * tests) keeps the sandbox, and lets the sanitizers' runtime do its work:
 * LeakSanitizer, at exit, stops the threads from a tracer it clones
 * (prctl, ptrace, wait4, /proc/self/task) and reads /proc/self/maps; a
 * report goes to the file of log_path, which Landlock alone then guards.
 */
#ifdef SECCOMP_ARCH

/* The low 32 bits of argument i of a system call (all we compare). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define KILL SECCOMP_RET_KILL_PROCESS
#define ALLOW SECCOMP_RET_ALLOW
#define FAIL(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/*
 * open() and openat() flags that would write: any of them kills.  A new
 * process kills.  In a sanitizer build, opening for writing is Landlock's
 * to refuse, and a new process fails (a report then does without its
 * external symbolizer: frames as module and offset).
 */
#ifdef SANDBOX_SANITIZERS
#define OPEN_WRITE 0
#define NEW_PROCESS FAIL(EPERM)
#else
#define OPEN_WRITE (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)
#define NEW_PROCESS KILL
#endif

/*
 * Allowed with any arguments: the I/O and the network calls of serving,
 * and calls that reach nothing beyond the process's own descriptors and
 * memory, or read what any process may read.
 */
static const int allowed[] = {
	/* I/O on descriptors the worker has */
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_lseek,
	SYS_close, SYS_fstat, SYS_newfstatat, SYS_statx, SYS_fcntl, SYS_dup,
	SYS_dup3, SYS_faccessat,
#ifdef SYS_faccessat2
	SYS_faccessat2,
#endif
	SYS_ppoll, SYS_pselect6, SYS_epoll_create1, SYS_epoll_ctl,
	SYS_epoll_pwait,
	/* sockets: FastCGI, Redis, the resolver's queries, a download */
	SYS_connect, SYS_accept, SYS_accept4, SYS_bind, SYS_sendto,
	SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg,
	SYS_shutdown, SYS_getsockopt, SYS_setsockopt, SYS_getsockname,
	SYS_getpeername,
	/* the clock */
	SYS_clock_gettime, SYS_clock_getres, SYS_gettimeofday,
	SYS_nanosleep, SYS_clock_nanosleep,
	/* memory (mmap and mprotect apart, below) */
	SYS_brk, SYS_munmap, SYS_mremap, SYS_madvise,
	/* signals, threads' bookkeeping, the end */
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn,
	SYS_rt_sigtimedwait, SYS_sigaltstack, SYS_restart_syscall,
	SYS_futex, SYS_set_robust_list,
#ifdef SYS_rseq
	SYS_rseq,
#endif
	SYS_exit, SYS_exit_group,
	/* what a process may know of itself */
	SYS_getpid, SYS_gettid, SYS_getppid, SYS_getuid, SYS_geteuid,
	SYS_getgid, SYS_getegid, SYS_getrandom, SYS_sched_yield,
	SYS_sched_getaffinity, SYS_uname, SYS_sysinfo,
#ifdef SYS_open	/* the calls aarch64 has only as the *at or p* form */
	SYS_stat, SYS_lstat, SYS_access, SYS_poll, SYS_select, SYS_dup2,
	SYS_epoll_wait, SYS_time,
#endif
};

/* The refresh's too: libcurl's resolver threads and their wake-ups. */
static const int allowed_refresh[] = {
	SYS_socketpair, SYS_pipe2, SYS_eventfd2,
#ifdef SYS_pipe
	SYS_pipe,
#endif
};

/* The longest filter: well above what filter_build() writes. */
#define MAX_INSNS 400

struct filter {
	struct sock_filter insn[MAX_INSNS];
	unsigned short n;
};

static void
put(struct filter *f, unsigned short code, unsigned char jt,
    unsigned char jf, uint32_t k)
{
	struct sock_filter i = BPF_JUMP(code, k, jt, jf);

	if (f->n < MAX_INSNS)
		f->insn[f->n] = i;
	f->n++;		/* past MAX_INSNS: filter_build() fails */
}

#define RET(f, v) put(f, BPF_RET | BPF_K, 0, 0, (v))
#define LOAD(f, off) put(f, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(off))
/* Unless the call is nr, skip the next n instructions. */
#define IF_NR(f, nr, n) put(f, BPF_JMP | BPF_JEQ | BPF_K, 0, (n), \
    (uint32_t)(nr))

static void
allow(struct filter *f, int nr)
{
	IF_NR(f, nr, 1);
	RET(f, ALLOW);
}

/* nr fails with e: a call libc probes and does without. */
static void
refuse(struct filter *f, int nr, int e)
{
	IF_NR(f, nr, 1);
	RET(f, FAIL(e));
}

/*
 * nr is allowed when argument arg has none of the bits of mask (set 0) or
 * has them (set 1, a mask of one bit); else other.
 */
static void
allow_bits(struct filter *f, int nr, int arg, uint32_t mask, int set,
    uint32_t other)
{
	IF_NR(f, nr, 4);
	LOAD(f, ARG_LO(arg));
	put(f, BPF_JMP | BPF_JSET | BPF_K, set ? 1 : 0, set ? 0 : 1, mask);
	RET(f, other);
	RET(f, ALLOW);
}

/* nr is allowed when argument arg is one of v[0..n-1]; else other. */
static void
allow_values(struct filter *f, int nr, int arg, const uint32_t *v,
    unsigned char n, uint32_t other)
{
	IF_NR(f, nr, n + 3);
	LOAD(f, ARG_LO(arg));
	for (unsigned char j = 0; j < n; j++)
		put(f, BPF_JMP | BPF_JEQ | BPF_K, n - j, 0, v[j]);
	RET(f, other);
	RET(f, ALLOW);
}

/*
 * mmap: an executable mapping only of a file (a library the dynamic
 * loader maps for an NSS module), and never writable at once.
 */
static void
allow_mmap(struct filter *f)
{
	IF_NR(f, SYS_mmap, 7);
	LOAD(f, ARG_LO(2));
	put(f, BPF_JMP | BPF_JSET | BPF_K, 0, 4, PROT_EXEC);
	put(f, BPF_JMP | BPF_JSET | BPF_K, 2, 0, PROT_WRITE);
	LOAD(f, ARG_LO(3));
	put(f, BPF_JMP | BPF_JSET | BPF_K, 0, 1, MAP_ANONYMOUS);
	RET(f, KILL);
	RET(f, ALLOW);
}

/* What the sanitizers' runtime needs (SANDBOX_SANITIZERS above); else nothing. */
static void
allow_sanitizers(struct filter *f)
{
#ifdef SANDBOX_SANITIZERS
	static const uint32_t prctls[] = { PR_GET_DUMPABLE, PR_SET_DUMPABLE,
	    PR_SET_PTRACER, PR_SET_PDEATHSIG };

	allow_values(f, SYS_prctl, 0, prctls, 4, KILL);
	/* LeakSanitizer's tracer: a process sharing the memory */
	IF_NR(f, SYS_clone, 4);
	LOAD(f, ARG_LO(0));
	put(f, BPF_JMP | BPF_JEQ | BPF_K, 0, 1,
	    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED);
	RET(f, ALLOW);
	LOAD(f, offsetof(struct seccomp_data, nr));
	allow(f, SYS_ptrace);
	allow(f, SYS_wait4);
	allow(f, SYS_getdents64);
#ifdef SYS_getdents
	allow(f, SYS_getdents);
#endif
	allow(f, SYS_readlinkat);
#ifdef SYS_readlink
	allow(f, SYS_readlink);
#endif
	refuse(f, SYS_execve, EPERM);
#ifdef SYS_fork
	refuse(f, SYS_fork, EPERM);
	refuse(f, SYS_vfork, EPERM);
#endif
#else
	(void)f;
#endif
}

/* The whole program for profile p; -1 when it does not fit. */
static int
filter_build(struct filter *f, enum sandbox_profile p)
{
	static const uint32_t families[] = { AF_UNIX, AF_INET, AF_INET6,
	    AF_NETLINK };
	static const uint32_t ioctls[] = { TCGETS, FIONBIO, FIONREAD };
	uint32_t self = (uint32_t)getpid();

	f->n = 0;
	LOAD(f, offsetof(struct seccomp_data, arch));
	put(f, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SECCOMP_ARCH);
	RET(f, KILL);
	LOAD(f, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* the x32 calls carry this bit and the same arch: none allowed */
	put(f, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000);
	RET(f, KILL);
#endif
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		allow(f, allowed[i]);
	allow_bits(f, SYS_openat, 2, OPEN_WRITE, 0, KILL);
#ifdef SYS_open
	allow_bits(f, SYS_open, 1, OPEN_WRITE, 0, KILL);
#endif
	allow_mmap(f);
	allow_bits(f, SYS_mprotect, 2, PROT_EXEC, 0, KILL);
	/* AF_NETLINK: glibc asks the kernel for the host's addresses */
	allow_values(f, SYS_socket, 0, families, 4, FAIL(EAFNOSUPPORT));
	/* stdio asks whether stdout is a terminal; non-blocking sockets */
	allow_values(f, SYS_ioctl, 1, ioctls, 3, KILL);
	/* raise() and abort(): to this process only */
	allow_values(f, SYS_tgkill, 0, &self, 1, KILL);
	allow_values(f, SYS_kill, 0, &self, 1, KILL);
	/* openat2 is tried by nothing we link; a clear "no" if it is */
	refuse(f, SYS_openat2, ENOSYS);
	allow_sanitizers(f);
	if (p == SANDBOX_REFRESH) {
		for (size_t i = 0; i < sizeof(allowed_refresh) /
		    sizeof(allowed_refresh[0]); i++)
			allow(f, allowed_refresh[i]);
		/* threads only, never a new process; glibc falls back from
		 * clone3 (whose flags a filter cannot read) to clone */
		allow_bits(f, SYS_clone, 0, CLONE_THREAD, 1, NEW_PROCESS);
		refuse(f, SYS_clone3, ENOSYS);
	}
#ifdef SANDBOX_SANITIZERS
	refuse(f, SYS_clone, EPERM);
#endif
	RET(f, KILL);
	return f->n <= MAX_INSNS ? 0 : -1;
}

/* Install the filter of profile p.  Returns 0, or -1 (errno). */
static int
filter_enter(enum sandbox_profile p, unsigned *ninsns)
{
	struct filter f;
	struct sock_fprog prog;

	if (filter_build(&f, p) < 0) {
		errno = E2BIG;
		return -1;
	}
	*ninsns = f.n;
	prog.len = f.n;
	prog.filter = f.insn;
	/* one thread yet: every later one inherits the filter */
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
#else
/* No filter written for this architecture: Landlock alone. */
static int
filter_enter(enum sandbox_profile p, unsigned *ninsns)
{
	(void)p;
	*ninsns = 0;
	log_warn("sandbox: no system call filter for this architecture");
	return 0;
}
#endif

/* ---- both ---- */

int
sandbox_enter(const struct cfg *cfg, enum sandbox_profile p)
{
	const char *name = p == SANDBOX_API ? "api" : "refresh";
	unsigned ninsns = 0;
	int ll, abi = 0;

	if (!cfg->sandbox)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_error("sandbox: cannot set no_new_privs error=\"%s\" (set "
		    "ISBITCOINLIT_SANDBOX=off to run unconfined)",
		    strerror(errno));
		return -1;
	}
	if ((ll = landlock_enter(cfg, p, &abi)) < 0) {
		log_error("sandbox: Landlock failed error=\"%s\" (set "
		    "ISBITCOINLIT_SANDBOX=off to run unconfined)",
		    strerror(errno));
		return -1;
	}
	if (ll > 0)
		log_warn("sandbox: the kernel has no Landlock, files stay "
		    "readable as the user's (the system call filter holds)");
	if (filter_enter(p, &ninsns) < 0) {
		log_error("sandbox: the kernel refused the system call filter "
		    "error=\"%s\" (set ISBITCOINLIT_SANDBOX=off to run "
		    "unconfined)", strerror(errno));
		return -1;
	}
	log_debug("sandbox on profile=%s filter_insns=%u landlock_abi=%d",
	    name, ninsns, ll == 0 ? abi : 0);
	return 0;
}

int
sandbox_outdated(void)
{
	return landlock_outdated();
}
