// SPDX-License-Identifier: Apache-2.0
/* TCP MD5 mismatches, from the kernel's counters of each speaker's namespace (auth.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

struct note {
	uint32_t port_key;
	struct bgp_md5_counts last;
	uint64_t not_found_ns, unexpected_ns, failure_ns; /* when each last grew (0: never) */
};

static struct note *notes;
static size_t n_notes;

int bgp_md5_counts_parse(const char *netstat, struct bgp_md5_counts *out)
{
	const char *names = strstr(netstat, "TcpExt:"), *values;
	int found = 0;

	if (!names || !(values = strstr(names + 1, "TcpExt:")))
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	names += 7;
	values += 7;
	/* Names and values line up, one word each. */
	while (*names && *names != '\n' && *values && *values != '\n') {
		char name[64] = "";
		unsigned long long v = 0;
		int nl = 0, vl = 0;

		if (sscanf(names, " %63s%n", name, &nl) != 1 || sscanf(values, " %llu%n", &v, &vl) != 1)
			break;
		names += nl;
		values += vl;
		if (!strcmp(name, "TCPMD5NotFound"))
			out->not_found = v, found++;
		else if (!strcmp(name, "TCPMD5Unexpected"))
			out->unexpected = v, found++;
		else if (!strcmp(name, "TCPMD5Failure"))
			out->failure = v, found++;
	}
	return found ? 0 : -ENOENT;
}

static struct note *find(uint32_t port_key)
{
	for (size_t i = 0; i < n_notes; i++)
		if (notes[i].port_key == port_key)
			return &notes[i];
	return NULL;
}

void bgp_md5_note(uint32_t port_key, const struct bgp_md5_counts *c, uint64_t now_ns)
{
	struct note *n = find(port_key), *grown;

	if (!n) {
		/* The first read is the baseline: what the namespace saw before is no news. */
		grown = realloc(notes, (n_notes + 1) * sizeof(*notes));
		if (!grown)
			return;
		notes = grown;
		n = &notes[n_notes++];
		memset(n, 0, sizeof(*n));
		n->port_key = port_key;
		n->last = *c;
		return;
	}
	if (c->not_found > n->last.not_found)
		n->not_found_ns = now_ns;
	if (c->unexpected > n->last.unexpected)
		n->unexpected_ns = now_ns;
	if (c->failure > n->last.failure)
		n->failure_ns = now_ns;
	n->last = *c;
}

void bgp_md5_settle(uint32_t port_key)
{
	struct note *n = find(port_key);

	if (n)
		n->not_found_ns = n->unexpected_ns = n->failure_ns = 0;
}

void bgp_md5_forget(uint32_t port_key)
{
	struct note *n = find(port_key);

	if (n)
		*n = notes[--n_notes];
}

static bool recent(uint64_t seen_ns, uint64_t now_ns)
{
	return seen_ns && now_ns - seen_ns <= BGP_MD5_RECENT_S * 1000000000ull;
}

const char *bgp_md5_hint(const struct bgp_want *w, const struct bgp_peer_conf *p,
			 uint64_t now_ns)
{
	const struct note *n = find(w->port_key);

	if (!n)
		return NULL;
	/* A peer with a password is told of unsigned and of wrongly signed segments; one
	 * without, of signed ones. The counters are the namespace's: with several peers of
	 * one kind down at once, each is named. */
	if (p->password[0] && recent(n->failure_ns, now_ns))
		return "TCP MD5: wrong signatures (the passwords differ)";
	if (p->password[0] && recent(n->not_found_ns, now_ns))
		return "TCP MD5: the peer does not sign (no password there)";
	if (!p->password[0] && recent(n->unexpected_ns, now_ns))
		return "TCP MD5: the peer signs (no password set here)";
	return NULL;
}

void bgp_md5_free(void)
{
	free(notes);
	notes = NULL;
	n_notes = 0;
}
