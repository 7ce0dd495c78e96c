// SPDX-License-Identifier: Apache-2.0
/* trace from P dst A [src A] [proto icmp|tcp|udp|arp] [src-port N] [dst-port N]
 * [src-mac M] [dst-mac M] [ttl N]: the frame described, run once through the live program
 * attached to P's interface on this host (BPF_PROG_TEST_RUN, traced: the datapath writes no
 * state and records its steps in midox_trace), each step printed with names from ZooKeeper,
 * then the verdict (docs/cli.md, "Packet traces"; docs/datapath.md, "Packet traces"). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "loader/chain.h"
#include "loader/loader.h"
#include "cli.h"

#define NAME_LEN 80
#define FRAME_MAX 128
#define PAYLOAD_LEN 32
#define SPORT_DEFAULT 40000
#define DPORT_DEFAULT 80
#define TTL_DEFAULT 64

enum proto { PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ARP };
static const char *const protos[] = { "icmp", "tcp", "udp", "arp", NULL };

/* The frame the command describes. */
struct packet {
	enum proto proto;
	struct in_addr src, dst;
	uint8_t src_mac[6], dst_mac[6];
	uint16_t sport, dport;
	uint8_t ttl;
};

/* One trace being printed. */
struct tracer {
	struct cli *c;
	const struct topo_port *from;
	const struct topo_host *host; /* where from is bound: this host */
	const char *ifname;
	struct packet pk;
	char line[512];
	json_t *steps;
};

/* ---- names ---- */

static const char *port_name(struct tracer *t, __u32 key, char buf[NAME_LEN])
{
	const struct topo_port *p = topo_port_by_key(&t->c->t, key);

	if (!p) {
		snprintf(buf, NAME_LEN, "#%u", key);
		return buf;
	}
	return cli_alias(t->c, p->id, buf);
}

static const char *device_name(struct tracer *t, __u32 key, char buf[NAME_LEN])
{
	const struct topo_bridge *b = topo_bridge_by_key(&t->c->t, key);
	const struct topo_router *r = b ? NULL : topo_router_by_key(&t->c->t, key);
	const char *id = b ? b->id : r ? r->id : NULL, *name = b ? b->name : r ? r->name : "";

	if (!id)
		snprintf(buf, NAME_LEN, "#%u", key);
	else if (*name)
		snprintf(buf, NAME_LEN, "%s", name);
	else
		cli_alias(t->c, id, buf);
	return buf;
}

/* Whether host_id is a member of a tunnel zone this host (the trace's) is in. */
static bool shares_zone(struct tracer *t, const char *host_id)
{
	const struct topology *tp = &t->c->t;

	for (size_t i = 0; t->host && i < tp->n_members; i++)
		for (size_t j = 0; j < tp->n_members; j++)
			if (!strcmp(tp->members[i].host_id, t->host->id) &&
			    !strcmp(tp->members[j].host_id, host_id) &&
			    !strcmp(tp->members[i].zone_id, tp->members[j].zone_id))
				return true;
	return false;
}

/* The host whose tunnel address addr is in a zone shared with this host (else in any), or
 * the address itself. */
static const char *host_name(struct tracer *t, __be32 addr, char buf[NAME_LEN])
{
	const struct topology *tp = &t->c->t;
	const struct topo_host *h = NULL, *any = NULL;

	for (size_t i = 0; !h && i < tp->n_members; i++) {
		if (tp->members[i].addr.s_addr != addr)
			continue;
		if (shares_zone(t, tp->members[i].host_id))
			h = topo_find_host_by_id(tp, tp->members[i].host_id);
		else if (!any)
			any = topo_find_host_by_id(tp, tp->members[i].host_id);
	}
	h = h ? h : any;
	if (h)
		snprintf(buf, NAME_LEN, "%s", h->name);
	else
		inet_ntop(AF_INET, &addr, buf, NAME_LEN);
	return buf;
}

/* The host port_key is bound to, else the one at its host address addr. */
static const char *port_host_name(struct tracer *t, __u32 port_key, __be32 addr,
				  char buf[NAME_LEN])
{
	const struct topo_port *p = topo_port_by_key(&t->c->t, port_key);
	const struct topo_binding *b = p ? topo_find_port_binding(&t->c->t, p->id) : NULL;
	const struct topo_host *h = b ? topo_find_host_by_id(&t->c->t, b->host_id) : NULL;

	if (!h)
		return host_name(t, addr, buf);
	snprintf(buf, NAME_LEN, "%s", h->name);
	return buf;
}

static const char *ip_str(__be32 addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

static const char *mac_str(__u64 x, char buf[18])
{
	uint8_t mac[6];

	memcpy(mac, &x, 6);
	topo_format_mac(mac, buf);
	return buf;
}

/* ---- one step: a text line and a JSON object built together ---- */

static void say(struct tracer *t, json_t *o, const char *key, const char *val)
{
	size_t n = strlen(t->line);

	snprintf(t->line + n, sizeof(t->line) - n, " %s %s", key, val);
	if (o)
		json_object_set_new(o, key, json_string(val));
}

static void say_uint(struct tracer *t, json_t *o, const char *key, unsigned long long val)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", val);
	say(t, o, key, buf);
	if (o)
		json_object_set_new(o, key, json_integer((json_int_t)val));
}

static void say_port(struct tracer *t, json_t *o, const char *key, __u32 port_key)
{
	char buf[NAME_LEN];

	say(t, o, key, port_name(t, port_key, buf));
}

static void say_device(struct tracer *t, json_t *o, __u32 key)
{
	char buf[NAME_LEN];
	bool router = topo_router_by_key(&t->c->t, key) != NULL;

	say(t, o, router ? "router" : "bridge", device_name(t, key, buf));
}

static void say_ip(struct tracer *t, json_t *o, const char *key, __be32 addr)
{
	char buf[INET_ADDRSTRLEN];

	say(t, o, key, ip_str(addr, buf));
}

static void say_ifindex(struct tracer *t, json_t *o, __u32 ifindex)
{
	char buf[IF_NAMESIZE];

	if (if_indextoname(ifindex, buf))
		say(t, o, "interface", buf);
	else
		say_uint(t, o, "ifindex", ifindex);
}

/* The longest prefix of router_key's routes that covers dst, from the pinned midox_route
 * (the table the step was taken from), as "a.b.c.d/len"; "" if none is found. */
struct route_find {
	__u32 router_key;
	__be32 dst;
	int best_len;
	char prefix[TOPO_CIDR_STRLEN];
};

static int route_cover(const void *key, const void *values, void *ctx)
{
	const struct mx_route_key *k = key;
	struct route_find *f = ctx;
	int len = (int)k->prefixlen - 32;
	__be32 mask = len <= 0 ? 0 : htonl(~0u << (32 - len));
	char a[INET_ADDRSTRLEN];

	(void)values;
	if (k->router_key != f->router_key || len < 0 || len > 32 || len <= f->best_len ||
	    (f->dst & mask) != k->dst)
		return 0;
	f->best_len = len;
	snprintf(f->prefix, sizeof(f->prefix), "%s/%d", ip_str(k->dst, a), len);
	return 0;
}

static void say_route_prefix(struct tracer *t, json_t *o, __u32 router_key)
{
	struct route_find f = { .router_key = router_key, .dst = t->pk.dst.s_addr, .best_len = -1 };
	struct mx_pinned_map m;

	if (!mx_pinned_open(t->c->pin_root, MX_MAP_ID_ROUTE, &m))
		mx_pinned_walk(&m, route_cover, &f);
	mx_pinned_close(&m);
	if (f.best_len >= 0)
		say(t, o, "dst", f.prefix);
}

static const char *icmp_name(__u32 type, __u32 code)
{
	if (type == 11)
		return "time-exceeded";
	if (type == 3 && code == 13)
		return "administratively-prohibited";
	if (type == 3)
		return "net-unreachable";
	return "other";
}

static const char *const kind_words[MX_TRACE__MAX] = {
	[MX_TRACE_ENTER] = "enter",
	[MX_TRACE_PORTSEC] = "port-security",
	[MX_TRACE_MAC_HIT] = "mac-hit",
	[MX_TRACE_FLOOD] = "flood",
	[MX_TRACE_FLOOD_LOCAL] = "flood-copy",
	[MX_TRACE_FLOOD_REMOTE] = "flood-copy",
	[MX_TRACE_ARP_REPLY] = "arp-reply",
	[MX_TRACE_ARP_LEARN] = "arp-learn",
	[MX_TRACE_ROUTE] = "route",
	[MX_TRACE_NEXT_HOP] = "next-hop",
	[MX_TRACE_ARP_REQUEST] = "arp-request",
	[MX_TRACE_ECHO_REPLY] = "echo-reply",
	[MX_TRACE_ICMP_ERROR] = "icmp-error",
	[MX_TRACE_DROP] = "drop",
	[MX_TRACE_DELIVER] = "deliver",
	[MX_TRACE_TUNNEL] = "tunnel",
	[MX_TRACE_BACK] = "reply",
	[MX_TRACE_CHAIN] = "chain",
};

static const char *chain_verdict_word(__u32 kind)
{
	static const char *const words[] = {
		[MX_CHAIN_V_ACCEPT] = "accept", [MX_CHAIN_V_DROP] = "drop",
		[MX_CHAIN_V_REJECT] = "reject", [MX_CHAIN_V_SNAT] = "snat",
		[MX_CHAIN_V_DNAT] = "dnat", [MX_CHAIN_V_REV_SNAT] = "rev_snat",
		[MX_CHAIN_V_REV_DNAT] = "rev_dnat", [MX_CHAIN_V_TOO_LONG] = "too-long",
	};

	return kind < sizeof(words) / sizeof(words[0]) ? words[kind] : "unknown";
}

/* The index in the snapshot's array (n items, stride apart, ids first) of the one the
 * agent gives datapath id id (mx_chain_ids_assign, as the agent), or -1. */
static long chain_item_by_id(const char *ids, size_t n, size_t stride, __u32 id)
{
	__u32 *all = calloc(n + 1, sizeof(*all));
	long found = -1;

	if (all && n && !mx_chain_ids_assign(ids, n, stride, all))
		for (size_t i = 0; i < n && found < 0; i++)
			if (all[i] == id)
				found = (long)i;
	free(all);
	return found;
}

/* A filter's chain: where (a port or a device), which chain, in or out, its verdict and
 * the deciding rule (its position in its chain and its id); the chain's end decided none. */
static void say_chain(struct tracer *t, json_t *o, const struct mx_trace_step *s)
{
	const struct topology *tp = &t->c->t;
	long ci = chain_item_by_id(tp->n_chains ? tp->chains[0].id : "", tp->n_chains,
				   sizeof(*tp->chains), s->b);
	long ri = s->x ? chain_item_by_id(tp->n_rules ? tp->rules[0].id : "", tp->n_rules,
					  sizeof(*tp->rules), (__u32)s->x) : -1;
	char buf[32];

	if (topo_port_by_key(tp, s->a))
		say_port(t, o, "port", s->a);
	else
		say_device(t, o, s->a);
	snprintf(buf, sizeof(buf), "#%u", s->b);
	say(t, o, "chain", ci >= 0 ? tp->chains[ci].name : buf);
	say(t, o, "filter", s->c & (1u << 8) ? "outfilter" : "infilter");
	say(t, o, "verdict", chain_verdict_word(s->c & 0xff));
	if (ri >= 0) {
		say_uint(t, o, "rule", tp->rules[ri].pos);
		say(t, o, "rule-id", tp->rules[ri].id);
	} else if (s->x) {
		say_uint(t, o, "rule-id", (__u32)s->x);
	} else {
		say(t, o, "rule", "none");
	}
}

/* What the step says, after its kind's word. */
static void step_describe(struct tracer *t, json_t *o, const struct mx_trace_step *s)
{
	char m[18], h[NAME_LEN];

	switch (s->kind) {
	case MX_TRACE_ENTER:
		say_device(t, o, s->b);
		say_port(t, o, "port", s->a);
		break;
	case MX_TRACE_PORTSEC:
		say_port(t, o, "port", s->a);
		say(t, o, "result", "passed");
		break;
	case MX_TRACE_MAC_HIT:
		say_device(t, o, s->a);
		say_port(t, o, "port", s->b);
		break;
	case MX_TRACE_FLOOD:
		say_device(t, o, s->a);
		say_uint(t, o, "local", s->b);
		say_uint(t, o, "remote", s->c);
		break;
	case MX_TRACE_FLOOD_LOCAL:
		say_port(t, o, "port", s->a);
		say_ifindex(t, o, s->b);
		break;
	case MX_TRACE_FLOOD_REMOTE:
		say(t, o, "host", host_name(t, s->a, h));
		say_uint(t, o, "vni", s->b);
		break;
	case MX_TRACE_ARP_REPLY:
	case MX_TRACE_ARP_LEARN:
		say_device(t, o, s->a);
		say_ip(t, o, "address", s->b);
		say(t, o, "mac", mac_str(s->x, m));
		break;
	case MX_TRACE_ROUTE:
		say_device(t, o, s->a);
		say_route_prefix(t, o, s->a);
		say_port(t, o, "port", (__u32)s->x);
		if (s->x >> 32)
			say_ip(t, o, "gw", (__be32)(s->x >> 32));
		say_uint(t, o, "member", s->b);
		say_uint(t, o, "of", s->c);
		break;
	case MX_TRACE_NEXT_HOP:
		say_device(t, o, s->a);
		say_ip(t, o, "address", s->b);
		say(t, o, "mac", mac_str(s->x, m));
		break;
	case MX_TRACE_ARP_REQUEST:
		say_port(t, o, "port", s->a);
		say_ip(t, o, "for", s->b);
		break;
	case MX_TRACE_ECHO_REPLY:
		say_port(t, o, "port", s->a);
		say_ip(t, o, "address", s->b);
		break;
	case MX_TRACE_ICMP_ERROR:
		say_port(t, o, "port", s->a);
		say(t, o, "error", icmp_name(s->b, s->c));
		say_uint(t, o, "type", s->b);
		say_uint(t, o, "code", s->c);
		break;
	case MX_TRACE_DROP:
		say(t, o, "reason", mx_drop_reason_name(s->a));
		if (s->b)
			say_port(t, o, "port", s->b);
		break;
	case MX_TRACE_DELIVER:
		say_port(t, o, "port", s->a);
		say(t, o, "host", t->host->name);
		say_ifindex(t, o, s->b);
		break;
	case MX_TRACE_TUNNEL:
		say_port(t, o, "port", s->a);
		say(t, o, "host", port_host_name(t, s->a, s->b, h));
		say_ip(t, o, "address", s->b);
		say_uint(t, o, "vni", s->a);
		break;
	case MX_TRACE_BACK:
		say_port(t, o, "port", s->a);
		say_ifindex(t, o, s->b);
		break;
	case MX_TRACE_CHAIN:
		say_chain(t, o, s);
		break;
	default:
		say_uint(t, o, "kind", s->kind);
	}
}

static void step_print(struct tracer *t, unsigned int i, const struct mx_trace_step *s)
{
	json_t *o = t->c->json ? json_object() : NULL;
	const char *word = s->kind < MX_TRACE__MAX && kind_words[s->kind] ? kind_words[s->kind] :
									    "unknown";

	snprintf(t->line, sizeof(t->line), "step %u %s", i + 1, word);
	if (o) {
		json_object_set_new(o, "step", json_integer(i + 1));
		json_object_set_new(o, "kind", json_string(word));
	}
	step_describe(t, o, s);
	if (o)
		json_array_append_new(t->steps, o);
	else
		printf("%s\n", t->line);
}

/* ---- the verdict: the last step that ends a path, read with the program's verdict ---- */

static bool step_final(__u32 kind)
{
	return kind == MX_TRACE_DELIVER || kind == MX_TRACE_TUNNEL || kind == MX_TRACE_BACK ||
	       kind == MX_TRACE_FLOOD || kind == MX_TRACE_FLOOD_LOCAL ||
	       kind == MX_TRACE_FLOOD_REMOTE || kind == MX_TRACE_DROP || kind == MX_TRACE_ARP_LEARN;
}

static const char *verdict_action(const struct mx_trace_step *last, int verdict)
{
	if (!last)
		return "unknown";
	switch (last->kind) {
	case MX_TRACE_DELIVER:
		return "delivered";
	case MX_TRACE_TUNNEL:
		return "tunneled";
	case MX_TRACE_BACK:
		return "answered";
	case MX_TRACE_FLOOD:
	case MX_TRACE_FLOOD_LOCAL:
	case MX_TRACE_FLOOD_REMOTE:
		return "flooded";
	case MX_TRACE_ARP_LEARN:
		return "consumed";
	default:
		return verdict == TC_ACT_SHOT ? "dropped" : "unknown";
	}
}

static json_t *verdict_print(struct tracer *t, const struct mx_trace *tr, unsigned int n,
			     int verdict)
{
	json_t *o = t->c->json ? json_object() : NULL;
	const struct mx_trace_step *last = NULL, *answer = NULL;
	unsigned int local = 0, remote = 0;
	bool arp_instead = false;
	const char *action;

	for (unsigned int i = 0; i < n; i++) {
		const struct mx_trace_step *s = &tr->steps[i];

		if (step_final(s->kind))
			last = s;
		if (s->kind == MX_TRACE_ARP_REPLY || s->kind == MX_TRACE_ECHO_REPLY ||
		    s->kind == MX_TRACE_ICMP_ERROR)
			answer = s;
		arp_instead |= s->kind == MX_TRACE_ARP_REQUEST;
		local += s->kind == MX_TRACE_FLOOD_LOCAL;
		remote += s->kind == MX_TRACE_FLOOD_REMOTE;
	}
	action = verdict_action(last, verdict);
	snprintf(t->line, sizeof(t->line), "verdict %s", action);
	if (o)
		json_object_set_new(o, "action", json_string(action));
	if (!strcmp(action, "flooded")) {
		say_uint(t, o, "local", local);
		say_uint(t, o, "remote", remote);
	} else if (!strcmp(action, "answered") && answer) {
		say(t, o, "with", kind_words[answer->kind]);
		step_describe(t, o, last);
	} else if (last && strcmp(action, "unknown")) {
		step_describe(t, o, last);
	}
	if (arp_instead && strcmp(action, "dropped"))
		say(t, o, "instead", "arp-request");
	if (o)
		json_object_set_new(o, "tc_verdict", json_integer(verdict));
	else
		printf("%s\n", t->line);
	return o;
}

/* ---- the frame ---- */

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __u32 csum_add(__u32 sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (__u32)(p[len - 1] << 8);
	return sum;
}

static void put16(uint8_t *p, __u16 v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t frame_arp(const struct packet *pk, uint8_t *f)
{
	put16(f + 12, 0x0806);
	put16(f + 14, 1);      /* Ethernet */
	put16(f + 16, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);      /* request */
	memcpy(f + 22, pk->src_mac, 6);
	memcpy(f + 28, &pk->src, 4);
	memcpy(f + 38, &pk->dst, 4);
	return 60;
}

/* The L4 header and payload at l4; its length. */
static size_t frame_l4(const struct packet *pk, uint8_t *l4)
{
	uint8_t pseudo[12];
	size_t len;

	if (pk->proto == PROTO_ICMP) {
		l4[0] = 8; /* echo request */
		put16(l4 + 4, 1);
		put16(l4 + 6, 1);
		len = 8 + PAYLOAD_LEN;
		put16(l4 + 2, csum_fold(csum_add(0, l4, len)));
		return len;
	}
	put16(l4, pk->sport);
	put16(l4 + 2, pk->dport);
	if (pk->proto == PROTO_UDP) {
		len = 8 + PAYLOAD_LEN;
		put16(l4 + 4, (__u16)len); /* checksum 0: none (IPv4 UDP) */
		return len;
	}
	len = 20;
	l4[12] = 5 << 4;
	l4[13] = 0x02; /* SYN */
	put16(l4 + 14, 64240);
	memcpy(pseudo, &pk->src, 4);
	memcpy(pseudo + 4, &pk->dst, 4);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, (__u16)len);
	put16(l4 + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), l4, len)));
	return len;
}

static size_t frame_build(const struct packet *pk, uint8_t f[FRAME_MAX])
{
	uint8_t *ip = f + 14;
	size_t l4_len;

	memset(f, 0, FRAME_MAX);
	memcpy(f, pk->dst_mac, 6);
	memcpy(f + 6, pk->src_mac, 6);
	if (pk->proto == PROTO_ARP)
		return frame_arp(pk, f);
	put16(f + 12, 0x0800);
	l4_len = frame_l4(pk, ip + 20);
	ip[0] = 0x45;
	put16(ip + 2, (__u16)(20 + l4_len));
	ip[8] = pk->ttl;
	ip[9] = pk->proto == PROTO_ICMP ? 1 : pk->proto == PROTO_TCP ? 6 : 17;
	memcpy(ip + 12, &pk->src, 4);
	memcpy(ip + 16, &pk->dst, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	return 14 + 20 + l4_len;
}

/* ---- defaults from the topology ---- */

static bool in_subnet(const struct topo_cidr *n, struct in_addr a)
{
	__be32 mask = n->len ? htonl(~0u << (32 - n->len)) : 0;

	return (n->addr.s_addr & mask) == (a.s_addr & mask);
}

/* A router port linked to a port of bridge_id whose subnet holds addr (the gateway of a VM
 * at addr), or NULL. */
static const struct topo_port *bridge_gateway(struct tracer *t, const char *bridge_id,
					      struct in_addr addr)
{
	for (size_t i = 0; i < t->c->t.n_ports; i++) {
		const struct topo_port *q = &t->c->t.ports[i], *r;

		if (strcmp(q->device_id, bridge_id) || !*q->peer_id)
			continue;
		r = topo_find_port_by_id(&t->c->t, q->peer_id);
		for (size_t j = 0; r && r->has_mac && j < r->n_nets; j++)
			if (in_subnet(&r->nets[j], addr))
				return r;
	}
	return NULL;
}

/* The MAC a VM on from's bridge sends to for dst: the port on the bridge with that address,
 * else its gateway. */
static int dst_mac_default(struct tracer *t, uint8_t mac[6])
{
	const struct topo_port *from = t->from, *gw;
	char a[INET_ADDRSTRLEN];

	if (t->pk.proto == PROTO_ARP) {
		memset(mac, 0xff, 6);
		return 0;
	}
	if (from->device_type == TOPO_DEVICE_ROUTER) {
		memcpy(mac, from->mac, 6);
		return 0;
	}
	for (size_t i = 0; i < t->c->t.n_ports; i++) {
		const struct topo_port *q = &t->c->t.ports[i];

		if (!strcmp(q->device_id, from->device_id) && q->has_addr && q->has_mac &&
		    q->addr.s_addr == t->pk.dst.s_addr) {
			memcpy(mac, q->mac, 6);
			return 0;
		}
	}
	gw = bridge_gateway(t, from->device_id, t->pk.src);
	if (gw) {
		memcpy(mac, gw->mac, 6);
		return 0;
	}
	return cli_fail(-EINVAL, "no port on the bridge has address %s and no router port is its "
			"gateway: give dst-mac", ip_str(t->pk.dst.s_addr, a));
}

static int packet_args(struct tracer *t, const struct cli_call *k)
{
	const struct topo_port *p = t->from;
	char name[NAME_LEN];

	/* k->v: from, dst, src, proto, src-port, dst-port, src-mac, dst-mac, ttl */
	t->pk.dst = k->v[1].ip;
	t->pk.proto = k->v[3].s ? (enum proto)k->v[3].u : PROTO_ICMP;
	t->pk.sport = k->v[4].s ? (uint16_t)k->v[4].u : SPORT_DEFAULT;
	t->pk.dport = k->v[5].s ? (uint16_t)k->v[5].u : DPORT_DEFAULT;
	t->pk.ttl = k->v[8].s ? (uint8_t)k->v[8].u : TTL_DEFAULT;
	cli_alias(t->c, p->id, name);
	if (p->device_type == TOPO_DEVICE_ROUTER && (!k->v[2].s || !k->v[6].s))
		return cli_fail(-EINVAL, "port %s is a router port, whose sender is outside: give src "
				"and src-mac", name);
	if (k->v[2].s)
		t->pk.src = k->v[2].ip;
	else if (p->has_addr)
		t->pk.src = p->addr;
	else
		return cli_fail(-EINVAL, "port %s has no fixed address: give src", name);
	if (k->v[6].s)
		memcpy(t->pk.src_mac, k->v[6].mac, 6);
	else if (p->has_mac)
		memcpy(t->pk.src_mac, p->mac, 6);
	else
		return cli_fail(-EINVAL, "port %s has no fixed MAC: give src-mac", name);
	if (k->v[7].s) {
		memcpy(t->pk.dst_mac, k->v[7].mac, 6);
		return 0;
	}
	return dst_mac_default(t, t->pk.dst_mac);
}

/* ---- where: this host's interface of the port, its pins and its live program ---- */

static int where(struct tracer *t, int *ifindex)
{
	const struct topo_binding *b = topo_find_port_binding(&t->c->t, t->from->id);
	char name[NAME_LEN];

	cli_alias(t->c, t->from->id, name);
	if (!b)
		return cli_fail(-ENOENT, "port %s is bound to no interface: there is no datapath "
				"to trace it in", name);
	t->host = topo_find_host_by_id(&t->c->t, b->host_id);
	t->ifname = b->interface;
	*ifindex = (int)if_nametoindex(b->interface);
	if (!*ifindex)
		return cli_fail(-ENOENT, "port %s is bound to interface %s on host %s, which is not "
				"in this network namespace: run midox trace there", name,
				b->interface, t->host ? t->host->name : b->host_id);
	return 0;
}

/* The pinned map of id, with the errors datapath and monitor give. */
static int pin_open(struct tracer *t, enum mx_map_id id, struct mx_pinned_map *m)
{
	int rc = mx_pinned_open(t->c->pin_root, id, m);

	if (rc == -ENOENT)
		return cli_fail(rc, "no map %s in %s: is a midox-agent of this version running on "
				"this host with that pin root?", mx_map_name(id), t->c->pin_root);
	if (rc == -EPROTO)
		return cli_fail(-EINVAL, "map %s/%s has another layout than this midox's: is the "
				"agent of another version?", t->c->pin_root, mx_map_name(id));
	if (rc)
		return cli_fail(rc == -EPERM ? -EACCES : rc, "cannot open %s/%s: %s",
				t->c->pin_root, mx_map_name(id), strerror(-rc));
	return 0;
}

/* The agent behind this pin root maps the interface to the port: else the trace would run
 * in another datapath than the port's. */
static int ifport_check(struct tracer *t, int ifindex)
{
	struct mx_pinned_map m;
	struct mx_ifport v;
	__u32 key = (__u32)ifindex;
	char name[NAME_LEN];
	int rc = pin_open(t, MX_MAP_ID_IFPORT, &m);

	if (!rc && (bpf_map_lookup_elem(m.fd, &key, &v) || v.port_key != t->from->tunnel_key))
		rc = cli_fail(-ENOENT, "the datapath pinned in %s does not hold port %s on "
			      "interface %s (yet): is this its agent's pin root?", t->c->pin_root,
			      cli_alias(t->c, t->from->id, name), t->ifname);
	mx_pinned_close(&m);
	return rc;
}

/* One trace a pin root at a time: the map has one entry. */
static int pin_root_lock(struct tracer *t)
{
	int fd = open(t->c->pin_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return cli_fail(errno == ENOENT ? -ENOENT : -errno, "cannot open pin root %s: %s",
				t->c->pin_root, strerror(errno));
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return cli_fail(-errno, "cannot lock pin root %s: %s", t->c->pin_root,
				strerror(errno));
	}
	return fd;
}

static int trace_once(struct tracer *t, int ifindex, struct mx_trace *tr, int *verdict)
{
	uint8_t frame[FRAME_MAX];
	size_t len = frame_build(&t->pk, frame);
	struct mx_pinned_map m;
	int prog_fd, lock_fd, rc = ifport_check(t, ifindex);

	if (rc)
		return rc;
	prog_fd = mx_attached_prog_fd(ifindex);
	if (prog_fd < 0)
		return cli_fail(prog_fd == -ENOENT ? -ENOENT : prog_fd, "no midox program attached "
				"to interface %s: %s", t->ifname, strerror(-prog_fd));
	rc = pin_open(t, MX_MAP_ID_TRACE, &m);
	lock_fd = rc ? -1 : pin_root_lock(t);
	if (!rc && lock_fd < 0)
		rc = lock_fd;
	if (!rc) {
		rc = mx_trace_run(prog_fd, m.fd, ifindex, frame, len, tr, verdict);
		if (rc == -EBADMSG)
			rc = cli_fail(-ENOENT, "the program on %s recorded no trace in %s: is it "
				      "this pin root's, and of this version?", t->ifname,
				      t->c->pin_root);
		else if (rc)
			rc = cli_fail(rc, "running the trace: %s", strerror(-rc));
	}
	if (lock_fd >= 0)
		close(lock_fd);
	mx_pinned_close(&m);
	close(prog_fd);
	return rc;
}

static json_t *packet_json(const struct packet *pk)
{
	json_t *o = json_object();
	char a[INET_ADDRSTRLEN], m[18];

	json_object_set_new(o, "proto", json_string(protos[pk->proto]));
	json_object_set_new(o, "src", json_string(ip_str(pk->src.s_addr, a)));
	json_object_set_new(o, "dst", json_string(ip_str(pk->dst.s_addr, a)));
	topo_format_mac(pk->src_mac, m);
	json_object_set_new(o, "src_mac", json_string(m));
	topo_format_mac(pk->dst_mac, m);
	json_object_set_new(o, "dst_mac", json_string(m));
	if (pk->proto == PROTO_TCP || pk->proto == PROTO_UDP) {
		json_object_set_new(o, "src_port", json_integer(pk->sport));
		json_object_set_new(o, "dst_port", json_integer(pk->dport));
	}
	if (pk->proto != PROTO_ARP)
		json_object_set_new(o, "ttl", json_integer(pk->ttl));
	return o;
}

static void header_print(struct tracer *t)
{
	char name[NAME_LEN], s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN], sm[18], dm[18];

	topo_format_mac(t->pk.src_mac, sm);
	topo_format_mac(t->pk.dst_mac, dm);
	printf("trace from %s host %s interface %s: %s %s > %s", cli_alias(t->c, t->from->id, name),
	       t->host ? t->host->name : "?", t->ifname, protos[t->pk.proto],
	       ip_str(t->pk.src.s_addr, s), ip_str(t->pk.dst.s_addr, d));
	if (t->pk.proto == PROTO_TCP || t->pk.proto == PROTO_UDP)
		printf(" ports %u > %u", t->pk.sport, t->pk.dport);
	if (t->pk.proto != PROTO_ARP)
		printf(" ttl %u", t->pk.ttl);
	printf(", mac %s > %s\n", sm, dm);
}

static void trace_print(struct tracer *t, const struct mx_trace *tr, int verdict)
{
	unsigned int n = tr->n_steps < MX_TRACE_MAX_STEPS ? tr->n_steps : MX_TRACE_MAX_STEPS;
	json_t *all = NULL, *v;
	char name[NAME_LEN];

	if (t->c->json) {
		all = json_object();
		t->steps = json_array();
		json_object_set_new(all, "from", json_string(cli_alias(t->c, t->from->id, name)));
		json_object_set_new(all, "host", json_string(t->host ? t->host->name : ""));
		json_object_set_new(all, "interface", json_string(t->ifname));
		json_object_set_new(all, "packet", packet_json(&t->pk));
	} else {
		header_print(t);
	}
	for (unsigned int i = 0; i < n; i++)
		step_print(t, i, &tr->steps[i]);
	if (tr->n_steps > n && !all)
		printf("(%u more steps not recorded)\n", tr->n_steps - n);
	v = verdict_print(t, tr, n, verdict);
	if (!all)
		return;
	json_object_set_new(all, "steps", t->steps);
	if (tr->n_steps > n)
		json_object_set_new(all, "steps_not_recorded", json_integer(tr->n_steps - n));
	json_object_set_new(all, "verdict", v);
	cli_print_json(all);
}

static int trace_run(struct cli *c, const struct cli_call *k)
{
	struct tracer t = { .c = c };
	struct mx_trace tr;
	int ifindex = 0, verdict = 0;
	int rc = cli_find_port(c, NULL, k->v[0].s, (const void **)&t.from);

	if (!rc)
		rc = packet_args(&t, k);
	if (!rc)
		rc = where(&t, &ifindex);
	if (!rc)
		rc = trace_once(&t, ifindex, &tr, &verdict);
	if (!rc)
		trace_print(&t, &tr, verdict);
	return rc;
}

static const struct cli_arg trace_args[] = {
	{ "from", CLI_T_WORD, "P", .required = true, .what = "port" },
	{ "dst", CLI_T_IPV4, "A", .required = true, .what = "destination address" },
	{ "src", CLI_T_IPV4, "A", .what = "source address" },
	{ "proto", CLI_T_KEYWORD, "icmp|tcp|udp|arp", .what = "protocol", .choices = protos },
	{ "src-port", CLI_T_UINT, "N", .what = "source port", .min = 1, .max = 65535 },
	{ "dst-port", CLI_T_UINT, "N", .what = "destination port", .min = 1, .max = 65535 },
	{ "src-mac", CLI_T_MAC, "M", .what = "source MAC" },
	{ "dst-mac", CLI_T_MAC, "M", .what = "destination MAC" },
	{ "ttl", CLI_T_UINT, "N", .what = "TTL", .min = 0, .max = 255 },
	{ 0 },
};

static const struct cli_cmd trace_type_cmds[] = {
	{ "packet", trace_run, "run a described packet through this host's live datapath, "
	  "writing no state, and print each step ('packet' may be left out)", .args = trace_args },
	{ 0 },
};

const struct cli_obj cli_obj_trace = {
	.word = "trace", .title = "trace", .type_cmds = trace_type_cmds, .bare = "packet",
	.bare_args = true,
};
