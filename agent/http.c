// SPDX-License-Identifier: Apache-2.0
/* The agent's HTTP server (http.h): a handful of connections, each read, answered once and
 * closed, all driven by the main loop's poll. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "http.h"

#define HTTP_ACCEPTS_PER_WAKE (2 * HTTP_MAX_CONNS)
#define MS_NS 1000000ull

const int http_slot_code[HTTP_SLOT__MAX] = { 200, 400, 404, 405, 500 };

/* ---- text buffer ---- */

static bool tb_reserve(struct textbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->failed)
		return false;
	while (cap - b->len <= more)
		cap *= 2;
	if (cap == b->cap)
		return true;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void tb_printf(struct textbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !tb_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void tb_append(struct textbuf *b, const char *data, size_t len)
{
	if (!len || !tb_reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void tb_free(struct textbuf *b)
{
	free(b->data);
	*b = (struct textbuf){ 0 };
}

/* ---- addresses ---- */

static int parse_port(const char *s, in_port_t *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*out = htons((uint16_t)v);
	return 0;
}

int http_address_parse(const char *s, struct sockaddr_storage *out)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *end;
	size_t n;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':' || (n = (size_t)(end - s - 1)) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		in6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1 ||
		    parse_port(end + 2, &in6->sin6_port))
			return -EINVAL;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (n = (size_t)(colon - s)) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, n);
		host[n] = '\0';
		in4->sin_family = AF_INET;
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1 ||
		    parse_port(colon + 1, &in4->sin_port))
			return -EINVAL;
	}
	if (out)
		*out = ss;
	return 0;
}

/* ---- requests ---- */

/* What a request head may hold: printable ASCII, tab, CR, LF. */
static bool head_byte_ok(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r' || c == '\n';
}

/* The end of the head (after its empty line), or NULL while it is incomplete. */
static const char *head_end(const char *req, size_t len)
{
	for (size_t i = 1; i < len; i++) {
		if (req[i] != '\n')
			continue;
		if (req[i - 1] == '\n')
			return req + i + 1;
		if (i >= 2 && req[i - 1] == '\r' && req[i - 2] == '\n')
			return req + i + 1;
	}
	return NULL;
}

/* The length of the line at p (without CR LF); *next is the line after it. */
static size_t line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)(nl - p);

	*next = nl + 1;
	return n && p[n - 1] == '\r' ? n - 1 : n;
}

static bool method_ok(const char *m, size_t n)
{
	if (n < 1 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return false;
	return true;
}

/* Every header line is "name: value", a name without blanks; no folded lines. */
static bool headers_ok(const char *p, const char *end)
{
	const char *next, *colon;
	size_t n;

	while (p < end && (n = line_len(p, end, &next)) > 0) {
		colon = memchr(p, ':', n);
		if (!colon || colon == p || memchr(p, ' ', (size_t)(colon - p)) ||
		    memchr(p, '\t', (size_t)(colon - p)))
			return false;
		p = next;
	}
	return true;
}

static bool target_is(const char *t, size_t n, const char *path)
{
	const char *q = memchr(t, '?', n);
	size_t plen = q ? (size_t)(q - t) : n;

	return plen == strlen(path) && !memcmp(t, path, plen);
}

int http_request_status(const char *req, size_t len, size_t cap, const char *path,
			bool *head_only)
{
	const char *end, *sp1, *sp2, *next;
	size_t n;

	*head_only = false;
	for (size_t i = 0; i < len; i++)
		if (!head_byte_ok((unsigned char)req[i]))
			return 400;
	end = head_end(req, len);
	if (!end)
		return len >= cap ? 400 : 0;
	/* "METHOD SP target SP HTTP/1.x", single spaces */
	n = line_len(req, end, &next);
	sp1 = memchr(req, ' ', n);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - req)) : NULL;
	if (!sp2 || !method_ok(req, (size_t)(sp1 - req)) || sp1[1] != '/' ||
	    (size_t)(req + n - sp2 - 1) != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.0", 8) && memcmp(sp2 + 1, "HTTP/1.1", 8)) ||
	    !headers_ok(next, end))
		return 400;
	if (!target_is(sp1 + 1, (size_t)(sp2 - sp1 - 1), path))
		return 404;
	if ((size_t)(sp1 - req) == 3 && !memcmp(req, "GET", 3))
		return 200;
	if ((size_t)(sp1 - req) == 4 && !memcmp(req, "HEAD", 4)) {
		*head_only = true;
		return 200;
	}
	return 405;
}

/* ---- connections ---- */

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	default: return "Internal Server Error";
	}
}

static void count_response(struct http_server *h, int code)
{
	for (int i = 0; i < HTTP_SLOT__MAX; i++)
		if (http_slot_code[i] == code)
			h->responses[i]++;
}

static void conn_close(struct http_conn *c)
{
	close(c->fd);
	tb_free(&c->out);
	c->fd = -1;
	c->state = HTTP_FREE;
	c->slot = -1;
}

static void conn_respond(struct http_server *h, struct http_conn *c, int code, bool head_only)
{
	struct textbuf body = { 0 };

	if (code == 200)
		h->render(h->ctx, &body);
	if (body.failed)
		code = 500;
	if (code != 200) {
		tb_free(&body);
		tb_printf(&body, "%s\n", reason_phrase(code));
	}
	tb_printf(&c->out,
		  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		  "Connection: close\r\n\r\n",
		  code, reason_phrase(code), code == 200 ? h->content_type : "text/plain",
		  body.len, code == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head_only)
		tb_append(&c->out, body.data, body.len);
	tb_free(&body);
	count_response(h, code);
	c->state = HTTP_WRITING;
	c->out_off = 0;
}

static void conn_read(struct http_server *h, struct http_conn *c)
{
	ssize_t n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);
	bool head_only;
	int code;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c); /* gone before asking anything complete */
		return;
	}
	if (n < 0)
		return;
	c->req_len += (size_t)n;
	code = http_request_status(c->req, c->req_len, sizeof(c->req), h->path, &head_only);
	if (code)
		conn_respond(h, c, code, head_only);
}

static void conn_write(struct http_conn *c)
{
	ssize_t n;

	if (c->out.failed) {
		conn_close(c);
		return;
	}
	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/* All sent: what the client still sends is read and dropped until it closes. */
	shutdown(c->fd, SHUT_WR);
	tb_free(&c->out);
	c->state = HTTP_LINGERING;
	c->deadline_ns = mx_now_ns() + HTTP_LINGER_MS * MS_NS;
}

static void conn_linger(struct http_conn *c)
{
	char scratch[4096];
	ssize_t n;

	do
		n = recv(c->fd, scratch, sizeof(scratch), 0);
	while (n > 0);
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(c);
}

static void conn_step(struct http_server *h, struct http_conn *c, short revents)
{
	if (!revents)
		return;
	if (c->state == HTTP_READING)
		conn_read(h, c);
	else if (c->state == HTTP_LINGERING)
		conn_linger(c);
	/* A response just made is sent at once: the socket is most likely writable. */
	if (c->state == HTTP_WRITING)
		conn_write(c);
}

static void accept_all(struct http_server *h)
{
	uint64_t deadline = mx_now_ns() + HTTP_DEADLINE_MS * MS_NS;

	for (int i = 0; i < HTTP_ACCEPTS_PER_WAKE; i++) {
		int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct http_conn *c = NULL;

		if (fd < 0)
			return;
		for (int k = 0; k < HTTP_MAX_CONNS && !c; k++)
			if (h->conns[k].state == HTTP_FREE)
				c = &h->conns[k];
		if (!c) {
			close(fd);
			h->rejected++;
			continue;
		}
		*c = (struct http_conn){ .fd = fd, .state = HTTP_READING, .deadline_ns = deadline,
					 .slot = -1 };
	}
}

/* ---- the server ---- */

int http_server_open(struct http_server *h, const char *address)
{
	struct sockaddr_storage ss;
	int one = 1, err;

	for (int i = 0; i < HTTP_MAX_CONNS; i++)
		h->conns[i] = (struct http_conn){ .fd = -1, .slot = -1 };
	h->listen_fd = -1;
	err = http_address_parse(address, &ss);
	if (err) {
		mx_err("cannot listen for metrics on '%s': not IPv4:PORT or [IPv6]:PORT", address);
		return err;
	}
	h->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0 ||
	    setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(h->listen_fd, (struct sockaddr *)&ss,
		 ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0 ||
	    listen(h->listen_fd, HTTP_MAX_CONNS) < 0) {
		err = -errno;
		mx_err("cannot listen for metrics on %s: %s", address, strerror(errno));
		http_server_close(h);
		return err;
	}
	mx_info("metrics on http://%s%s", address, h->path);
	return 0;
}

size_t http_server_pollfds(struct http_server *h, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	if (h->listen_fd < 0 || max < 1)
		return 0;
	fds[n++] = (struct pollfd){ .fd = h->listen_fd, .events = POLLIN };
	for (int i = 0; i < HTTP_MAX_CONNS; i++) {
		struct http_conn *c = &h->conns[i];

		c->slot = -1;
		if (c->state == HTTP_FREE || n >= max)
			continue;
		c->slot = (int)n;
		fds[n++] = (struct pollfd){
			.fd = c->fd, .events = c->state == HTTP_WRITING ? POLLOUT : POLLIN };
	}
	return n;
}

void http_server_handle(struct http_server *h, const struct pollfd *fds, size_t n)
{
	uint64_t now;

	if (h->listen_fd < 0 || n < 1)
		return;
	for (int i = 0; i < HTTP_MAX_CONNS; i++) {
		struct http_conn *c = &h->conns[i];

		if (c->state != HTTP_FREE && c->slot >= 0 && (size_t)c->slot < n)
			conn_step(h, c, fds[c->slot].revents);
	}
	if (fds[0].revents & POLLIN)
		accept_all(h);
	now = mx_now_ns();
	for (int i = 0; i < HTTP_MAX_CONNS; i++) {
		struct http_conn *c = &h->conns[i];

		if (c->state == HTTP_FREE || now < c->deadline_ns)
			continue;
		if (c->state != HTTP_LINGERING)
			h->timed_out++;
		conn_close(c);
	}
}

void http_server_close(struct http_server *h)
{
	for (int i = 0; i < HTTP_MAX_CONNS; i++)
		if (h->conns[i].state != HTTP_FREE)
			conn_close(&h->conns[i]);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	h->listen_fd = -1;
}
