// SPDX-License-Identifier: Apache-2.0
/* The agent's HTTP server, its pure parts: which answer a request head gets (complete or
 * not), and which listen addresses the setting accepts. The server over real sockets is
 * tests/e2e/metrics.bats. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "agent/http.h"
#include "tap.h"

#define CAP 64

static int status_of(const char *req, size_t cap, bool *head_only)
{
	return http_request_status(req, strlen(req), cap, "/metrics", head_only);
}

static void requests(void)
{
	static const struct {
		const char *req;
		int want;
		bool head_only;
	} rows[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, false },
		{ "GET /metrics HTTP/1.0\r\n\r\n", 200, false },
		{ "GET /metrics?name=x HTTP/1.1\r\n\r\n", 200, false },
		{ "GET /metrics HTTP/1.1\n\n", 200, false },
		{ "HEAD /metrics HTTP/1.1\r\n\r\n", 200, true },
		{ "GET / HTTP/1.1\r\n\r\n", 404, false },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", 404, false },
		{ "POST /metrics HTTP/1.1\r\nContent-Length: 1\r\n\r\n", 405, false },
		{ "DELETE /other HTTP/1.1\r\n\r\n", 404, false },
		/* not yet complete */
		{ "", 0, false },
		{ "GET /metr", 0, false },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", 0, false },
		/* garbage */
		{ "GET /metrics HTTP/2.0\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.10\r\n\r\n", 400, false },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", 400, false },
		{ "GET /metrics  HTTP/1.1\r\n\r\n", 400, false },
		{ "GET /a b HTTP/1.1\r\n\r\n", 400, false },
		{ "get /metrics HTTP/1.1\r\n\r\n", 400, false },
		{ "GET metrics HTTP/1.1\r\n\r\n", 400, false },
		{ "GET /metrics\r\n\r\n", 400, false },
		{ "\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1\r\n: x\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1\r\nNo colon\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1\r\nBad name: x\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1\r\n folded: x\r\n\r\n", 400, false },
		{ "\x16\x03\x01", 400, false },            /* TLS: at the first byte */
		{ "GET /\xc3\xa9 HTTP/1.1", 400, false },  /* not ASCII, incomplete */
		{ "GET /metrics HTTP/1.1\r\nX: \x01\r\n\r\n", 400, false },
		/* a head that does not fit: CAP bytes without its end */
		{ "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400, false },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool head_only = !rows[i].head_only;
		int got = status_of(rows[i].req, CAP, &head_only);

		tap_ok(got == rows[i].want && (got != 200 || head_only == rows[i].head_only),
		       "request %zu answered %d (want %d)", i, got, rows[i].want);
	}
}

static void addresses(void)
{
	static const char *const good[] = { "127.0.0.1:9464", "0.0.0.0:1", "[::1]:9464",
					    "[::]:65535", "[fe80::1]:80" };
	static const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
					   "127.0.0.1:65536", "127.0.0.1:+80", "127.0.0.1:80x",
					   "localhost:9464", "1.2.3:80", "::1:9464", "[::1]9464",
					   "[::1]:", "[127.0.0.1]:80", ":9464", "127.0.0.1:0009464" };
	struct sockaddr_storage ss;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_ok(!http_address_parse(good[i], &ss), "address '%s' accepted", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(http_address_parse(bad[i], &ss) == -EINVAL, "address '%s' refused", bad[i]);
	http_address_parse("127.0.0.1:9464", &ss);
	tap_ok(ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_port == htons(9464) &&
	       ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	       "127.0.0.1:9464 is AF_INET, loopback, port 9464");
	http_address_parse("[::1]:80", &ss);
	tap_ok(ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&ss)->sin6_port == htons(80) &&
	       IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr),
	       "[::1]:80 is AF_INET6, loopback, port 80");
}

static void text(void)
{
	struct textbuf b = { 0 };

	for (int i = 0; i < 2000; i++)
		tb_printf(&b, "line %d\n", i);
	tap_ok(!b.failed && b.len == strlen(b.data) && !strncmp(b.data + b.len - 10, "line 1999\n", 10),
	       "a text buffer grows past its first allocation, NUL-terminated");
	tb_free(&b);
}

int main(void)
{
	requests();
	addresses();
	text();
	return tap_done();
}
