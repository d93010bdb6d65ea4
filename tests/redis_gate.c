/*
 * A gate in front of a real Redis, for the tests that need a client
 * stopped at one exact command: it relays every connection on a unix
 * socket to Redis's unix socket, byte for byte, until a client sends a
 * command holding TRIGGER (the Nth time it does, with -n N).  HELD_FILE is
 * then created, and:
 *   - by default the bytes are held back (Redis does not see them) until
 *     SIGUSR1, then go on as if nothing happened;
 *   - with -k KILL_PID_FILE they are held back and the pid in the file is
 *     sent SIGKILL at once (the client dies between its previous command
 *     and this one);
 *   - with -c they go to Redis, and Redis's reply is dropped with the
 *     client's connection (the command ran; its reply was lost).
 *
 *   redis_gate [-n N] [-k KILL_PID_FILE | -c] LISTEN_SOCK REDIS_SOCK
 *       TRIGGER HELD_FILE
 *
 * One process, poll(2); it ends on SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONNS 32
#define HELD_MAX 65536

struct pair {
	int client, redis;	/* -1: unused */
	char held[HELD_MAX];	/* the client's bytes held back */
	size_t nheld;
	int cut;		/* drop Redis's next reply and the client */
};

static volatile sig_atomic_t released, stop;

static void on_usr1(int sig) { (void)sig; released = 1; }
static void on_term(int sig) { (void)sig; stop = 1; }

static int
unix_fd(const char *path, int listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (listening) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(fd, 16) < 0) {
			close(fd);
			return -1;
		}
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
pair_close(struct pair *p)
{
	if (p->client >= 0)
		close(p->client);
	if (p->redis >= 0)
		close(p->redis);
	p->client = p->redis = -1;
	p->nheld = 0;
	p->cut = 0;
}

/* The trigger was seen: say so, and kill the client if asked to. */
static void
trip(const char *held_file, const char *kill_file)
{
	FILE *fp = fopen(held_file, "w");
	long pid = 0;

	if (fp != NULL)
		fclose(fp);
	if (kill_file != NULL && (fp = fopen(kill_file, "r")) != NULL) {
		if (fscanf(fp, "%ld", &pid) == 1 && pid > 0)
			kill((pid_t)pid, SIGKILL);
		fclose(fp);
	}
}

int
main(int argc, char *argv[])
{
	static struct pair pairs[MAX_CONNS];
	const char *trigger, *held_file, *kill_file = NULL, *listen_path;
	const char *redis_path;
	struct sigaction sa;
	int lfd, tripped = 0, cut = 0, nth = 1, seen = 0, opt;

	while ((opt = getopt(argc, argv, "n:k:c")) != -1) {
		switch (opt) {
		case 'n': nth = atoi(optarg); break;
		case 'k': kill_file = optarg; break;
		case 'c': cut = 1; break;
		default: goto usage;
		}
	}
	if (argc - optind != 4 || nth < 1) {
usage:
		fprintf(stderr, "usage: redis_gate [-n N] [-k KILL_PID_FILE | -c] "
		    "LISTEN_SOCK REDIS_SOCK TRIGGER HELD_FILE\n");
		return 2;
	}
	listen_path = argv[optind];
	redis_path = argv[optind + 1];
	trigger = argv[optind + 2];
	held_file = argv[optind + 3];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = unix_fd(listen_path, 1)) < 0) {
		perror(listen_path);
		return 1;
	}
	for (int i = 0; i < MAX_CONNS; i++)
		pairs[i].client = pairs[i].redis = -1;

	while (!stop) {
		struct pollfd pfd[1 + 2 * MAX_CONNS];
		int n = 0;

		if (released) {
			for (int i = 0; i < MAX_CONNS; i++)
				if (pairs[i].nheld > 0) {
					if (write_all(pairs[i].redis,
					    pairs[i].held, pairs[i].nheld) < 0)
						pair_close(&pairs[i]);
					pairs[i].nheld = 0;
				}
			released = 0;
			tripped = 0;
		}
		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		for (int i = 0; i < MAX_CONNS; i++) {
			pfd[n].fd = pairs[i].client;
			pfd[n++].events = pairs[i].nheld > 0 ? 0 : POLLIN;
			pfd[n].fd = pairs[i].redis;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, 200) < 0)
			continue;	/* EINTR: a signal */
		if (pfd[0].revents & POLLIN) {
			int c = accept(lfd, NULL, NULL), r, i;

			for (i = 0; i < MAX_CONNS && pairs[i].client >= 0; i++)
				;
			if (c >= 0 && (i == MAX_CONNS ||
			    (r = unix_fd(redis_path, 0)) < 0))
				close(c);
			else if (c >= 0) {
				pairs[i].client = c;
				pairs[i].redis = r;
			}
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			struct pair *p = &pairs[i];
			short cev = pfd[1 + 2 * i].revents;
			short rev = pfd[2 + 2 * i].revents;
			char buf[HELD_MAX];
			ssize_t got;

			if (p->client < 0)
				continue;
			if (rev & (POLLIN | POLLHUP | POLLERR)) {
				got = read(p->redis, buf, sizeof(buf));
				if (got <= 0 || p->cut || write_all(p->client,
				    buf, (size_t)got) < 0) {
					pair_close(p);	/* with -c: the reply lost */
					continue;
				}
			}
			if (cev & (POLLIN | POLLHUP | POLLERR)) {
				got = read(p->client, buf, sizeof(buf));
				if (got <= 0) {
					pair_close(p);
					continue;
				}
				if (!tripped && memmem(buf, (size_t)got, trigger,
				    strlen(trigger)) != NULL && ++seen == nth) {
					tripped = 1;
					trip(held_file, kill_file);
					if (cut) {
						p->cut = 1;
						if (write_all(p->redis, buf,
						    (size_t)got) < 0)
							pair_close(p);
						continue;
					}
					memcpy(p->held, buf, (size_t)got);
					p->nheld = (size_t)got;
				} else if (write_all(p->redis, buf,
				    (size_t)got) < 0)
					pair_close(p);
			}
		}
	}
	for (int i = 0; i < MAX_CONNS; i++)
		pair_close(&pairs[i]);
	close(lfd);
	unlink(listen_path);
	return 0;
}
