/*
 * The in-process confinement of a worker after its start-up: a seccomp
 * filter that allows the system calls serving needs and kills the process
 * on any other, and, where the kernel has Landlock, a ruleset that lets
 * it read only the files name resolution (and for the refresh, TLS and a
 * file:// feed) need and write, create or execute none.
 */
#ifndef ISBITCOINLIT_SANDBOX_H
#define ISBITCOINLIT_SANDBOX_H

struct cfg;

/* Set in a build with AddressSanitizer (configure --enable-sanitizers). */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZERS 1
#endif
#endif

/* What the confined process must still be able to do. */
enum sandbox_profile {
	/* FastCGI on its socket, Redis (reconnect, host name lookup) */
	SANDBOX_API,
	/* the same, and libcurl: resolver threads, TLS, file:// feeds */
	SANDBOX_REFRESH
};

/*
 * Confine the calling process for good, with what profile p allows (the
 * files of cfg's file:// feeds among them).  Call it once start-up is
 * done: sockets open, settings read, libraries initialised.  Nothing when
 * cfg->sandbox is off.  Returns 0 (confined, or off); 0 after one warning
 * when the kernel has no Landlock (the filter alone then); -1 after a
 * logged error when the filter cannot be installed (the caller exits:
 * ISBITCOINLIT_SANDBOX=off runs unconfined).
 */
int sandbox_enter(const struct cfg *cfg, enum sandbox_profile p);

/*
 * Whether a file of name resolution the worker was let read
 * (/etc/resolv.conf, /etc/hosts, ...) has since been replaced: Landlock's
 * rule holds the old file, so the worker should end and be started (and
 * confined) anew.  Looks at most once a second; 0 when not confined by
 * Landlock.  Logs which name moved.
 */
int sandbox_outdated(void);

#endif
