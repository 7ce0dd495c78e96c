// SPDX-License-Identifier: Apache-2.0
/* BIRD 2's configuration for one speaker: the port's primary address as router id, the
 * router's AS number, one eBGP session per peer with its timers and password, the router's
 * bgp-networks as static blackhole routes exported to the peers and nothing else (no
 * transit: what one peer advertises never goes to another), and what the peers advertise
 * exported to a kernel table of the namespace for the agent. eBGP in BIRD 2 needs explicit
 * import and export filters (RFC 8212); the kernel protocol installs ECMP only with
 * "merge paths". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

struct out {
	char *buf;
	size_t len, at;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->at, o->len - o->at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->at)
		o->full = true;
	else
		o->at += (size_t)n;
}

void bgp_proto_name(const char *peer_id, char name[BGP_PROTO_NAME_LEN])
{
	char *c;

	snprintf(name, BGP_PROTO_NAME_LEN, "%s%s", BGP_PROTO_PEER_PREFIX, peer_id);
	for (c = name; *c; c++)
		if (*c == '-')
			*c = '_';
}

static void put_peer(struct out *o, const struct bgp_peer_conf *p, uint32_t local_as)
{
	char name[BGP_PROTO_NAME_LEN], addr[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN];

	bgp_proto_name(p->id, name);
	inet_ntop(AF_INET, &p->addr, addr, sizeof(addr));
	inet_ntop(AF_INET, &p->local, local, sizeof(local));
	put(o, "\nprotocol bgp %s {\n", name);
	put(o, "\tlocal %s as %u;\n", local, local_as);
	put(o, "\tneighbor %s as %u;\n", addr, p->asn);
	put(o, "\thold time %u;\n\tkeepalive time %u;\n\tconnect retry time %u;\n",
	    p->hold_time, p->keep_alive, p->connect_retry);
	/* The password was checked by the topology library: no '"' nor '\\'. */
	if (p->password[0])
		put(o, "\tpassword \"%s\";\n", p->password);
	/* After a session error BIRD waits before it tries again: by default 60 s, doubling
	 * to 300, so a mistake fixed at the peer (its AS number, its password) came back
	 * only a minute or more later. 5 s, doubling to 30 while errors follow each other within
	 * 2 minutes: a fixed mistake recovers within 30 s, a broken peer costs one attempt
	 * every 30 s. */
	put(o, "\terror wait time %u, %u;\n\terror forget time %u;\n", BGP_ERROR_WAIT_MIN_S,
	    BGP_ERROR_WAIT_MAX_S, BGP_ERROR_FORGET_S);
	put(o, "\tipv4 {\n\t\timport all;\n\t\texport where proto = \"%s\";\n\t};\n}\n",
	    BGP_PROTO_NETWORKS);
}

int bgp_conf_render(const struct bgp_want *w, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	char id[INET_ADDRSTRLEN], net[TOPO_CIDR_STRLEN];
	size_t i;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	inet_ntop(AF_INET, &w->nets[0].addr, id, sizeof(id));
	put(&o, "# midox-agent: the BGP speaker of router port %s. Generated: edits are lost.\n",
	    w->port_id);
	/* "show protocols" gives the date with the time (agent/bgp/status.c reads it). */
	put(&o, "log stderr all;\ntimeformat protocol iso long;\nrouter id %s;\n\n"
	    "protocol device {\n}\n", id);
	put(&o, "\n# The router's bgp-networks: what the peers learn from it, and nothing else.\n");
	put(&o, "protocol static %s {\n\tipv4;\n", BGP_PROTO_NETWORKS);
	for (i = 0; i < w->n_networks; i++) {
		topo_format_cidr(&w->networks[i], net);
		put(&o, "\troute %s blackhole;\n", net);
	}
	put(&o, "}\n\n# What the peers advertise, for the agent to read (table %d).\n",
	    BGP_KERNEL_TABLE);
	put(&o, "protocol kernel %s {\n\tkernel table %d;\n\tmerge paths on;\n"
	    "\tipv4 {\n\t\timport none;\n\t\texport where source = RTS_BGP;\n\t};\n}\n",
	    BGP_PROTO_KERNEL, BGP_KERNEL_TABLE);
	for (i = 0; i < w->n_peers; i++)
		put_peer(&o, &w->peers[i], w->local_as);
	return o.full ? -ENOSPC : (int)o.at;
}
