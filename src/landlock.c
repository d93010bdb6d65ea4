/*
 * The Landlock half of a worker's confinement (sandbox.c has the whole):
 * a ruleset that lets the read-only opens the system call filter allows
 * reach the files of name resolution and the system's libraries (NSS
 * modules), for the refresh also the CA certificates and the directory of
 * a file:// feed, and nothing be written, created, removed or executed,
 * no TCP port bound, no process outside signalled.  The kernel's ABI by
 * system call numbers: glibc has no wrapper.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cfg.h"
#include "clock.h"
#include "hex.h"
#include "landlock.h"
#include "log.h"

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_WRITE_FILE (UINT64_C(1) << 1)
#define LL_FS_READ_FILE (UINT64_C(1) << 2)
#define LL_FS_READ_DIR (UINT64_C(1) << 3)
#define LL_FS_MAKE_REG (UINT64_C(1) << 8)
#define LL_FS_TRUNCATE (UINT64_C(1) << 14)
/* the rights that apply to a file (not a directory) */
#define LL_FS_FILE (UINT64_C(1) << 0 | LL_FS_WRITE_FILE | LL_FS_READ_FILE | \
    LL_FS_TRUNCATE | UINT64_C(1) << 15)
#define LL_NET_BIND_TCP (UINT64_C(1) << 0)
#define LL_SCOPE_ABSTRACT_UNIX (UINT64_C(1) << 0)
#define LL_SCOPE_SIGNAL (UINT64_C(1) << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* What every profile reads: name resolution, and NSS modules it loads. */
static const char *const read_common[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf",
	"/etc/host.conf", "/etc/gai.conf", "/etc/services",
	"/etc/ld.so.cache", "/run/systemd/resolve", "/run/resolvconf",
	"/lib", "/lib64", "/usr/lib", "/usr/lib64",
};

/*
 * A Landlock rule holds a file, not its name: once /etc/resolv.conf or
 * /etc/hosts is replaced by a rename (a DHCP client, an editor, a
 * package), the name is another file the worker may not read, and name
 * resolution quietly falls back to its defaults.  So the worker notes
 * what each of these names was when it was confined, and
 * sandbox_outdated() tells when one has moved.
 */
#define NPINNED (sizeof(read_common) / sizeof(read_common[0]))
static struct {
	dev_t dev;
	ino_t ino;
	int present;
} pinned[NPINNED];
static int pinned_on;
static int64_t pinned_checked_ms;

/* What each name of read_common is now, into pinned[] (or compared). */
static const char *
pinned_scan(int record)
{
	for (size_t i = 0; i < NPINNED; i++) {
		struct stat st;
		int present = stat(read_common[i], &st) == 0;

		if (record) {
			pinned[i].present = present;
			pinned[i].dev = present ? st.st_dev : 0;
			pinned[i].ino = present ? st.st_ino : 0;
		} else if (present != pinned[i].present || (present &&
		    (st.st_dev != pinned[i].dev || st.st_ino != pinned[i].ino)))
			return read_common[i];
	}
	return NULL;
}

int
landlock_outdated(void)
{
	int64_t now = clock_mono_ms();
	const char *moved;

	if (!pinned_on || now - pinned_checked_ms < 1000)
		return 0;
	pinned_checked_ms = now;
	if ((moved = pinned_scan(0)) == NULL)
		return 0;
	log_info("sandbox: %s is another file since the worker was confined; "
	    "it ends, to be confined anew", moved);
	return 1;
}

/* The refresh's too: CA certificates (and OpenSSL's settings). */
static const char *const read_refresh[] = {
	"/etc/ssl", "/etc/pki", "/usr/share/ca-certificates",
	"/usr/local/share/ca-certificates",
};

/*
 * Grant access (of those handled) on path: a file, or a directory and
 * what is beneath it.  A path that does not exist is no error.  Returns 0
 * or -1.
 */
static int
ll_allow(int ruleset, const char *path, uint64_t access)
{
	struct ll_path_beneath pb;
	struct stat st;
	int fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ?
		    0 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	pb.allowed_access = S_ISDIR(st.st_mode) ? access : access & LL_FS_FILE;
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH,
	    &pb, 0);
	close(fd);
	return rc < 0 ? -1 : 0;
}

/*
 * The directory of a file:// URL's file, into dir (read beneath it: a
 * feed rewritten by rename is another file of the same directory).
 * Returns 0, or -1 when url is no file URL or its path does not fit.
 */
static int
file_url_dir(const char *url, char *dir, size_t len)
{
	const char *p;
	size_t n = 0;
	char *slash;

	if (url == NULL || strncmp(url, "file://", 7) != 0 ||
	    (p = strchr(url + 7, '/')) == NULL)
		return -1;
	for (; *p != '\0' && *p != '?' && *p != '#'; p++) {
		int hi, lo;

		if (n + 1 >= len)
			return -1;	/* longer than a path: no rule */
		if (p[0] == '%' && (hi = hex_digit((unsigned char)p[1])) >= 0 &&
		    (lo = hex_digit((unsigned char)p[2])) >= 0) {
			dir[n++] = (char)(hi << 4 | lo);
			p += 2;
		} else
			dir[n++] = *p;
	}
	dir[n] = '\0';
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir] = '\0';
	if (strcmp(dir, "/") == 0)
		log_warn("sandbox: the feed %s is a file of /: the whole file "
		    "system stays readable; put it in a directory of its own",
		    url);
	return 0;
}

/*
 * Let the sanitizers' runtime read /proc and write its reports in the
 * directory of each log_path (SANDBOX_SANITIZERS above).  Returns 0 or -1.
 */
static int
ll_allow_sanitizers(int ruleset, uint64_t handled)
{
#ifdef SANDBOX_SANITIZERS
	static const char *const vars[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
	    "LSAN_OPTIONS" };
	char dir[4096], *slash;
	const char *v, *lp;

	if (ll_allow(ruleset, "/proc", LL_FS_READ_FILE | LL_FS_READ_DIR) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if ((v = getenv(vars[i])) == NULL ||
		    (lp = strstr(v, "log_path=")) == NULL)
			continue;
		lp += 9;
		snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(lp, ":"), lp);
		if ((slash = strrchr(dir, '/')) == NULL)
			continue;
		slash[slash == dir] = '\0';
		if (ll_allow(ruleset, dir, handled & (LL_FS_READ_FILE |
		    LL_FS_READ_DIR | LL_FS_WRITE_FILE | LL_FS_MAKE_REG |
		    LL_FS_TRUNCATE)) < 0)
			return -1;
	}
#else
	(void)ruleset;
	(void)handled;
#endif
	return 0;
}

int
landlock_enter(const struct cfg *cfg, enum sandbox_profile p, int *abi_out)
{
	struct ll_ruleset_attr attr;
	const char *urls[2] = { cfg->upstream_url, cfg->price_url };
	const uint64_t rd = LL_FS_READ_FILE | LL_FS_READ_DIR;
	char dir[4096];
	size_t size;
	long abi;
	int fd, rc = 0;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	*abi_out = (int)abi;
	if (abi < 1)
		return 1;
	memset(&attr, 0, sizeof(attr));
	/* every right this ABI knows is handled: those not granted are off */
	attr.handled_access_fs = (UINT64_C(1) << 13) - 1;
	if (abi >= 2)
		attr.handled_access_fs |= UINT64_C(1) << 13;	/* refer */
	if (abi >= 3)
		attr.handled_access_fs |= UINT64_C(1) << 14;	/* truncate */
	if (abi >= 5)
		attr.handled_access_fs |= UINT64_C(1) << 15;	/* ioctl_dev */
	size = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0)) < 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < sizeof(read_common) /
	    sizeof(read_common[0]); i++)
		rc = ll_allow(fd, read_common[i], rd);
	for (size_t i = 0; rc == 0 && p == SANDBOX_REFRESH &&
	    i < sizeof(read_refresh) / sizeof(read_refresh[0]); i++)
		rc = ll_allow(fd, read_refresh[i], rd);
	for (size_t i = 0; rc == 0 && p == SANDBOX_REFRESH && i < 2; i++)
		if (file_url_dir(urls[i], dir, sizeof(dir)) == 0)
			rc = ll_allow(fd, dir, rd);
	if (rc == 0)
		rc = ll_allow_sanitizers(fd, attr.handled_access_fs);
	if (rc == 0)
		rc = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	close(fd);
	if (rc < 0)
		return -1;
	(void)pinned_scan(1);
	pinned_on = 1;
	pinned_checked_ms = clock_mono_ms();
	return 0;
}

