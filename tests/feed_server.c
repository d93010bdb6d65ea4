/*
 * Test helper: a small HTTP/1.1 server on 127.0.0.1 that serves feed files
 * and misbehaves on request.  Usage: feed_server DIR PORTFILE.  It binds
 * an ephemeral port, writes it to PORTFILE and serves until killed, one
 * forked child per connection.  Paths:
 *   /file/NAME        DIR/NAME (Content-Encoding: gzip if NAME ends in .gz)
 *   /slow/MS/NAME     the same after MS milliseconds
 *   /status/CODE      an empty JSON body with that status
 *   /stall            headers never come
 *   /trickle          headers, then one byte a second
 *   /chunked-huge     an endless chunked body, as fast as it goes
 *   /reset            the connection is closed at once
 *   /redirect/N/NAME  N redirects, then /file/NAME
 *   /redirect-file    a redirect to file:///etc/hostname
 *   /redirect-ftp     a redirect to ftp://127.0.0.1:1/feed.json (a protocol
 *                     libcurl follows by default; nothing listens there)
 *   /need-ua/NAME     /file/NAME, or 400 with a JSON message when the
 *                     request has no User-Agent (as an exchange does)
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dir;

static void
put(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			_exit(0);
		s += w;
		n -= (size_t)w;
	}
}

static void
puts_fd(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

static void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
serve_file(int fd, const char *name)
{
	char path[1024], hdr[256];
	struct stat st;
	char *buf;
	int in;
	size_t len = strlen(name);
	int gz = len > 3 && strcmp(name + len - 3, ".gz") == 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (strstr(name, "..") != NULL || (in = open(path, O_RDONLY)) < 0) {
		puts_fd(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
		return;
	}
	fstat(in, &st);
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL || read(in, buf, (size_t)st.st_size) != st.st_size)
		_exit(1);
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/json\r\n%sContent-Length: %lld\r\nConnection: close"
	    "\r\n\r\n", gz ? "Content-Encoding: gzip\r\n" : "",
	    (long long)st.st_size);
	puts_fd(fd, hdr);
	put(fd, buf, (size_t)st.st_size);
	free(buf);
	close(in);
}

static void
handle(int fd)
{
	char req[4096], path[1024], hdr[1400];
	ssize_t n = 0, r;

	/* read the request head */
	while (n < (ssize_t)sizeof(req) - 1 &&
	    (r = read(fd, req + n, sizeof(req) - 1 - (size_t)n)) > 0) {
		n += r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[n] = '\0';
	if (sscanf(req, "GET %1023s", path) != 1)
		return;

	if (strncmp(path, "/file/", 6) == 0)
		serve_file(fd, path + 6);
	else if (strncmp(path, "/slow/", 6) == 0) {
		char *name = strchr(path + 6, '/');

		msleep(atol(path + 6));
		if (name != NULL)
			serve_file(fd, name + 1);
	} else if (strncmp(path, "/need-ua/", 9) == 0) {
		if (strstr(req, "\r\nUser-Agent: ") != NULL)	/* curl's spelling */
			serve_file(fd, path + 9);
		else
			puts_fd(fd, "HTTP/1.1 400 Bad Request\r\nContent-Type: "
			    "application/json\r\nContent-Length: 43\r\n"
			    "Connection: close\r\n\r\n"
			    "{\"message\":\"User-Agent header is required\"}");
	} else if (strncmp(path, "/status/", 8) == 0) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d Oops\r\nContent-Type: "
		    "application/json\r\nContent-Length: 2\r\nConnection: close"
		    "\r\n\r\n{}", atoi(path + 8));
		puts_fd(fd, hdr);
	} else if (strcmp(path, "/stall") == 0)
		msleep(600000);
	else if (strcmp(path, "/trickle") == 0) {
		puts_fd(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json"
		    "\r\nContent-Length: 1000000\r\n\r\n[");
		for (int i = 0; i < 600; i++) {
			msleep(1000);
			puts_fd(fd, " ");
		}
	} else if (strcmp(path, "/chunked-huge") == 0) {
		static char chunk[65536];

		memset(chunk, ' ', sizeof(chunk));
		chunk[0] = '[';
		puts_fd(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json"
		    "\r\nTransfer-Encoding: chunked\r\n\r\n");
		for (int i = 0; i < 4096; i++) {	/* up to 256 MiB */
			puts_fd(fd, "10000\r\n");
			put(fd, chunk, sizeof(chunk));
			puts_fd(fd, "\r\n");
			chunk[0] = ' ';
		}
		puts_fd(fd, "0\r\n\r\n");
	} else if (strcmp(path, "/reset") == 0) {
		struct linger lg = { 1, 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else if (strncmp(path, "/redirect/", 10) == 0) {
		int left = atoi(path + 10);
		const char *name = strchr(path + 10, '/');

		if (name == NULL)
			return;
		if (left > 0)
			snprintf(hdr, sizeof(hdr), "HTTP/1.1 302 Found\r\n"
			    "Location: /redirect/%d%s\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n", left - 1, name);
		else
			snprintf(hdr, sizeof(hdr), "HTTP/1.1 302 Found\r\n"
			    "Location: /file%s\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n", name);
		puts_fd(fd, hdr);
	} else if (strcmp(path, "/redirect-file") == 0)
		puts_fd(fd, "HTTP/1.1 302 Found\r\nLocation: "
		    "file:///etc/hostname\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
	else if (strcmp(path, "/redirect-ftp") == 0)
		puts_fd(fd, "HTTP/1.1 302 Found\r\nLocation: "
		    "ftp://127.0.0.1:1/feed.json\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
	else
		puts_fd(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	FILE *fp;
	int lfd, one = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: feed_server DIR PORTFILE\n");
		return 2;
	}
	dir = argv[1];
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 64) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		perror("feed_server");
		return 1;
	}
	{
		char tmp[1024];

		snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
		if ((fp = fopen(tmp, "w")) == NULL)
			return 1;
		fprintf(fp, "%d\n", ntohs(sa.sin_port));
		fclose(fp);
		rename(tmp, argv[2]);	/* readers see it whole */
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			handle(fd);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
