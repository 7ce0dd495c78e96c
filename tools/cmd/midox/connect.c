// SPDX-License-Identifier: Apache-2.0
/* Connecting to ZooKeeper with an honest error: a server name that does not resolve is
 * said so at once (the client gives up without waiting), a timeout says how long it
 * waited. Both are "unreachable" (exit 3). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define CONNECT_TIMEOUT_MS 3000

/* The first "host:port" of servers whose host does not resolve: its host in host, and
 * getaddrinfo's reason; NULL if every one resolves. */
static const char *unresolved(const char *servers, char *host, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	const char *s = servers;
	int rc;

	while (*s) {
		size_t n = strcspn(s, ","), h = n;

		/* The port follows the last ':' ("[::1]:2181" keeps its brackets' colons). */
		while (h > 0 && s[h - 1] != ':')
			h--;
		h = h ? h - 1 : n;
		snprintf(host, len, "%.*s", (int)h, s);
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		rc = getaddrinfo(host, NULL, &hints, &ai);
		if (rc)
			return gai_strerror(rc);
		freeaddrinfo(ai);
		s += n + (s[n] == ',');
	}
	return NULL;
}

int cli_connect(struct cli *c)
{
	char host[256];
	const char *why;
	int rc = topo_connect(c->servers, CONNECT_TIMEOUT_MS, NULL, NULL, &c->zh);

	if (!rc)
		return 0;
	c->zh = NULL;
	if (rc == -ETIMEDOUT || rc == -ESTALE)
		return cli_fail(rc, "cannot reach ZooKeeper at %s (waited %d s)", c->servers,
				CONNECT_TIMEOUT_MS / 1000);
	why = unresolved(c->servers, host, sizeof(host));
	if (why)
		return cli_fail(-EHOSTUNREACH, "cannot reach ZooKeeper at %s: the name '%s' does "
				"not resolve (%s)", c->servers, host, why);
	return cli_fail(-EHOSTUNREACH, "cannot reach ZooKeeper at %s: %s", c->servers,
			topo_errmsg());
}
