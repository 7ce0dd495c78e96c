/* SPDX-License-Identifier: Apache-2.0 */
/* A small HTTP/1.x server for the agent's own poll loop: non-blocking, one request per
 * connection, no threads. It serves one path (GET or HEAD); the body is made only when that
 * path is asked for. A client that sends nothing, sends too much or reads slowly is cut off
 * by a deadline and a cap on connections, so it never holds up the loop's other work. */
#ifndef MIDOX_AGENT_HTTP_H
#define MIDOX_AGENT_HTTP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTP_MAX_CONNS 16          /* more at once are accepted and closed at once */
#define HTTP_MAX_REQUEST 8192      /* request line and headers; more is a 400 */
#define HTTP_DEADLINE_MS 5000      /* from accept to the last byte of the response */
#define HTTP_LINGER_MS 1000        /* after the response: what the client still sends is read
				      and dropped, so that closing does not reset the answer */

/* A growing text buffer; after a failed allocation it stays as it was and says so. */
struct textbuf {
	char *data;
	size_t len, cap;
	bool failed;
};

void tb_printf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tb_free(struct textbuf *b);

/* The status codes answered, in the order of the server's counters. */
enum http_code_slot { HTTP_SLOT_200, HTTP_SLOT_400, HTTP_SLOT_404, HTTP_SLOT_405,
		      HTTP_SLOT_500, HTTP_SLOT__MAX };
extern const int http_slot_code[HTTP_SLOT__MAX];

enum http_conn_state { HTTP_FREE, HTTP_READING, HTTP_WRITING, HTTP_LINGERING };

struct http_conn {
	int fd;
	enum http_conn_state state;
	uint64_t deadline_ns;
	int slot;                 /* its pollfd in the last http_server_pollfds, -1: none */
	char req[HTTP_MAX_REQUEST];
	size_t req_len;
	struct textbuf out;       /* the response, head and body */
	size_t out_off;
};

/* Writes the body for the served path into out. */
typedef void (*http_render_fn)(void *ctx, struct textbuf *out);

struct http_server {
	int listen_fd;            /* -1: off */
	const char *path;         /* the one path served, e.g. "/metrics" */
	const char *content_type;
	http_render_fn render;
	void *ctx;
	struct http_conn conns[HTTP_MAX_CONNS];
	/* What it answered and refused, for the metrics themselves. */
	uint64_t responses[HTTP_SLOT__MAX];
	uint64_t rejected;        /* connections over HTTP_MAX_CONNS */
	uint64_t timed_out;       /* connections closed at their deadline */
};

/* "127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464": numeric addresses only, port 1-65535.
 * out (may be NULL) gets the socket address. -EINVAL for anything else. */
int http_address_parse(const char *s, struct sockaddr_storage *out);

/* Listen on address (non-blocking). The caller's fields path, content_type, render, ctx are
 * set before. A negative errno, logged with the address, when it cannot listen. */
int http_server_open(struct http_server *h, const char *address);
/* The server's pollfds (the listening socket, then each connection) into fds, at most max
 * (1 + HTTP_MAX_CONNS is enough); returns how many. */
size_t http_server_pollfds(struct http_server *h, struct pollfd *fds, size_t max);
/* After poll: accept, read, answer, write, and close what is done or past its deadline. */
void http_server_handle(struct http_server *h, const struct pollfd *fds, size_t n);
void http_server_close(struct http_server *h);

/* The answer to a complete or partial request head: 0 while more is needed, else the status
 * code (200 for GET or HEAD of path; 404, 405, 400). *head_only is set for HEAD. */
int http_request_status(const char *req, size_t len, size_t cap, const char *path,
			bool *head_only);

#endif
