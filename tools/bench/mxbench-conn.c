// SPDX-License-Identifier: Apache-2.0
/* mxbench-conn: new TCP connections per second, the figure of a stateful firewall or a
 * SNAT in front of a server (tools/bench/run, section nat; docs/benchmarks.md).
 *
 *   mxbench-conn serve ADDR PORT
 *       accepts connections on ADDR:PORT and closes each at once (the server closes first,
 *       so the client keeps no TIME_WAIT and its ports come free at once); prints "ready"
 *       when listening and "accepted N" when SIGINT or SIGTERM ends it
 *   mxbench-conn connect ADDR PORT SECONDS|xCOUNT [PARALLEL]
 *       opens connections to ADDR:PORT, PARALLEL (default 8) at a time, for SECONDS or
 *       until COUNT have completed: each a full connection (handshake, then the server's FIN
 *       read as end of file, then its own close); prints "connections N failed F seconds S
 *       rate R" (R = N / S); a connection not done within CONN_TIMEOUT_S (5 s) counts as
 *       failed; exits 1 when none completed or any failed
 * A connection counts once the client has read the server's end of file: the server took it
 * from its queue, so the two counts agree when nothing is lost (the tests check that). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PARALLEL_MAX 256
#define CONN_TIMEOUT_S 5.0 /* a connection not done by then failed (a SYN retried for minutes) */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_in *sa)
{
	char *end;
	long p = strtol(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end || p < 1 || p > 65535 || inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "mxbench-conn: bad address %s:%s\n", addr, port);
		return -1;
	}
	sa->sin_port = htons((unsigned short)p);
	return 0;
}

static int serve(const struct sockaddr_in *sa)
{
	struct sigaction act = { .sa_handler = on_signal }; /* no SA_RESTART: accept returns */
	unsigned long long accepted = 0;
	int one = 1, fd;

	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) || listen(fd, 4096)) {
		perror("mxbench-conn: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("mxbench-conn: accept");
			break;
		}
		accepted++;
		close(c);
	}
	close(fd);
	printf("accepted %llu\n", accepted);
	return 0;
}

enum slot_state { SLOT_IDLE, SLOT_CONNECTING, SLOT_WAITING_EOF };

struct slot {
	int fd;
	enum slot_state state;
	double started;
};

/* A new non-blocking connection in s; -1 when the socket cannot be made. */
static int slot_open(struct slot *s, const struct sockaddr_in *sa)
{
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		return -1;
	if (connect(s->fd, (const struct sockaddr *)sa, sizeof(*sa)) && errno != EINPROGRESS) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	s->state = SLOT_CONNECTING;
	s->started = now_s();
	return 0;
}

/* Advance s on its poll events: 1 when its connection completed, -1 when it failed, 0 when
 * it is still under way. */
static int slot_step(struct slot *s, short revents)
{
	char buf[64];
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	if (s->state == SLOT_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
			return -1;
		s->state = SLOT_WAITING_EOF;
		if (!(revents & (POLLIN | POLLHUP)))
			return 0;
	}
	n = read(s->fd, buf, sizeof(buf));
	if (n == 0)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1; /* data (the server sends none) or an error */
}

static int connect_loop(const struct sockaddr_in *sa, double seconds, unsigned long long count,
			int parallel)
{
	struct slot slots[PARALLEL_MAX];
	struct pollfd pfd[PARALLEL_MAX];
	unsigned long long done = 0, failed = 0, attempts = 0;
	double t0 = now_s(), deadline = t0 + seconds, t;
	int active = 0;

	for (int i = 0; i < parallel; i++)
		slots[i] = (struct slot){ .fd = -1, .state = SLOT_IDLE };
	for (;;) {
		bool more = count ? attempts < count : now_s() < deadline;

		for (int i = 0; i < parallel && more; i++) {
			if (slots[i].state != SLOT_IDLE)
				continue;
			attempts++;
			if (slot_open(&slots[i], sa))
				failed++;
			else
				active++;
			more = !count || attempts < count;
		}
		if (!active)
			break;
		for (int i = 0; i < parallel; i++) {
			pfd[i].fd = slots[i].state == SLOT_IDLE ? -1 : slots[i].fd;
			pfd[i].events = slots[i].state == SLOT_CONNECTING ? POLLOUT : POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)parallel, 1000) < 0 && errno != EINTR) {
			perror("mxbench-conn: poll");
			return 1;
		}
		for (int i = 0; i < parallel; i++) {
			int r;

			if (slots[i].state == SLOT_IDLE || !pfd[i].revents)
				continue;
			r = slot_step(&slots[i], pfd[i].revents);
			if (!r)
				continue;
			if (r > 0)
				done++;
			else
				failed++;
			close(slots[i].fd);
			slots[i] = (struct slot){ .fd = -1, .state = SLOT_IDLE };
			active--;
		}
		t = now_s();
		for (int i = 0; i < parallel; i++)
			if (slots[i].state != SLOT_IDLE && t - slots[i].started > CONN_TIMEOUT_S) {
				close(slots[i].fd);
				slots[i] = (struct slot){ .fd = -1, .state = SLOT_IDLE };
				failed++;
				active--;
			}
		/* connections still open at the deadline are given 2 s more, then failed */
		if (!count && now_s() > deadline + 2)
			break;
	}
	for (int i = 0; i < parallel; i++)
		if (slots[i].state != SLOT_IDLE) {
			close(slots[i].fd);
			failed++;
		}
	t = now_s() - t0;
	printf("connections %llu failed %llu seconds %.3f rate %.0f\n", done, failed, t,
	       (double)done / t);
	return done && !failed ? 0 : 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: mxbench-conn serve ADDR PORT\n"
			"       mxbench-conn connect ADDR PORT SECONDS|xCOUNT [PARALLEL]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	double seconds = 0;
	unsigned long long count = 0;
	int parallel = 8;
	char *end;

	if (argc < 4 || parse_addr(argv[2], argv[3], &sa))
		return usage();
	if (!strcmp(argv[1], "serve") && argc == 4)
		return serve(&sa);
	if (strcmp(argv[1], "connect") || argc < 5 || argc > 6)
		return usage();
	if (argv[4][0] == 'x') {
		count = strtoull(argv[4] + 1, &end, 10);
		if (*end || !count) {
			fprintf(stderr, "mxbench-conn: bad count %s\n", argv[4]);
			return 2;
		}
	} else {
		seconds = strtod(argv[4], &end);
		if (*end || seconds <= 0 || seconds > 3600) {
			fprintf(stderr, "mxbench-conn: bad seconds %s\n", argv[4]);
			return 2;
		}
	}
	if (argc == 6) {
		parallel = (int)strtol(argv[5], &end, 10);
		if (*end || parallel < 1 || parallel > PARALLEL_MAX) {
			fprintf(stderr, "mxbench-conn: PARALLEL must be 1 to %d\n", PARALLEL_MAX);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	return connect_loop(&sa, seconds, count, parallel);
}
