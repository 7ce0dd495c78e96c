// SPDX-License-Identifier: Apache-2.0
/* The one table of the datapath's maps (map_table.h): a row per map, and what is derived
 * from the rows. No libbpf call here, so tests of the agent's computation link it alone. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "map_table.h"
#include "midox/bgp.h"
#include "midox/bridge.h"
#include "midox/chain.h"
#include "midox/conntrack.h"
#include "midox/config.h"
#include "midox/conntrack.h"
#include "midox/flowstate.h"
#include "midox/natlease.h"
#include "midox/monitor.h"
#include "midox/ratelimit.h"
#include "midox/trace.h"
#include "midox/router.h"
#include "midox/stats.h"
#include "midox/tunnel.h"
#include "midox.skel.h"

/* ---- keys as an operator reads them ---- */

static __u32 key_u32(const void *key)
{
	__u32 v;

	memcpy(&v, key, sizeof(v));
	return v;
}

static const char *ip(__be32 a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void key_ifport(const void *key, char *out, size_t len)
{
	char ifname[IF_NAMESIZE];
	__u32 ifindex = key_u32(key);

	snprintf(out, len, "ifindex %u (%s)", ifindex,
		 if_indextoname(ifindex, ifname) ? ifname : "gone");
}

static void key_nat_address(const void *key, char *out, size_t len)
{
	char a[INET_ADDRSTRLEN];

	snprintf(out, len, "nat address %s", ip(key_u32(key), a));
}

static void key_port(const void *key, char *out, size_t len)
{
	snprintf(out, len, "port key %u", key_u32(key));
}

static void key_bridge(const void *key, char *out, size_t len)
{
	snprintf(out, len, "bridge key %u", key_u32(key));
}

static void key_fdb(const void *key, char *out, size_t len)
{
	const struct mx_fdb_key *k = key;
	const __u8 *m = k->mac;

	snprintf(out, len, "bridge key %u mac %02x:%02x:%02x:%02x:%02x:%02x", k->bridge_key,
		 m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void key_arp(const void *key, char *out, size_t len)
{
	const struct mx_arp_key *k = key;
	char a[INET_ADDRSTRLEN];

	snprintf(out, len, "bridge key %u address %s", k->bridge_key, ip(k->addr, a));
}

static void key_allowed(const void *key, char *out, size_t len)
{
	const struct mx_allowed_key *k = key;
	char a[INET_ADDRSTRLEN];

	snprintf(out, len, "port key %u allowed %s", k->port_key, ip(k->addr, a));
}

static void key_filter(const void *key, char *out, size_t len)
{
	snprintf(out, len, "port or device key %u", key_u32(key));
}

static void key_chain(const void *key, char *out, size_t len)
{
	snprintf(out, len, "chain id %u", key_u32(key));
}

static void key_chain_rule(const void *key, char *out, size_t len)
{
	snprintf(out, len, "rule index %u", key_u32(key));
}

static void key_chain_set(const void *key, char *out, size_t len)
{
	const struct mx_chain_set_key *k = key;

	snprintf(out, len, "set %u member %u", k->set, k->member);
}

static void key_tunpeer(const void *key, char *out, size_t len)
{
	char a[INET_ADDRSTRLEN];

	snprintf(out, len, "peer %s", ip((__be32)key_u32(key), a));
}

static void key_route(const void *key, char *out, size_t len)
{
	const struct mx_route_key *k = key;
	char a[INET_ADDRSTRLEN];

	snprintf(out, len, "router key %u dst %s/%u", k->router_key, ip(k->dst, a),
		 k->prefixlen - 32);
}

static void key_neigh(const void *key, char *out, size_t len)
{
	const struct mx_neigh_key *k = key;
	char a[INET_ADDRSTRLEN];

	snprintf(out, len, "router key %u address %s", k->router_key, ip(k->addr, a));
}

static void key_bgp(const void *key, char *out, size_t len)
{
	const struct mx_bgp_key *k = key;
	char ifname[IF_NAMESIZE], a[INET_ADDRSTRLEN];

	snprintf(out, len, "ifindex %u (%s) peer %s", k->ifindex,
		 if_indextoname(k->ifindex, ifname) ? ifname : "gone", ip(k->peer, a));
}

/* Arrays: the key is an index (midox_config, midox_icmprate: 0) or a tail-call slot. */
static void key_index(const void *key, char *out, size_t len)
{
	snprintf(out, len, "index %u", key_u32(key));
}

static void key_ct(const void *key, char *out, size_t len)
{
	const struct mx_ct_key *k = key;
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	snprintf(out, len, "device %u proto %u %s:%u -> %s:%u", k->device, k->proto,
		 ip(k->src, s), ntohs(k->sport), ip(k->dst, d), ntohs(k->dport));
}

/* ---- what the datapath learned itself ---- */

static bool fdb_learned(const void *key, const void *value, struct mx_learned_entry *out)
{
	const struct mx_fdb_key *k = key;
	const struct mx_fdb_entry *e = value;

	*out = (struct mx_learned_entry){ k->bridge_key, e->port_key, e->seen_ns };
	return e->flags & MX_FDB_LOCAL;
}

static bool neigh_learned(const void *key, const void *value, struct mx_learned_entry *out)
{
	const struct mx_neigh_key *k = key;
	const struct mx_neigh_entry *e = value;

	*out = (struct mx_learned_entry){ k->router_key, e->port_key, e->seen_ns };
	return e->flags & MX_NEIGH_LOCAL;
}

/* ---- the table ---- */

#define SKEL_MAP(field) offsetof(struct midox, maps.field)

const struct mx_map_desc mx_map_table[MX_MAP_ID__MAX] = {
	[MX_MAP_ID_TUNPEER] = {
		.name = MX_MAP_TUNPEER, .skel_off = SKEL_MAP(midox_tunpeer),
		.key_size = sizeof(__be32), .value_size = sizeof(struct mx_tunpeer),
		.owner = MX_MAP_OWN_AGENT, .sync_rank = 1, .format_key = key_tunpeer,
	},
	/* Before the ports: a port whose entry says it has a filter finds it. */
	[MX_MAP_ID_FILTER] = {
		.name = MX_MAP_FILTER, .skel_off = SKEL_MAP(midox_filter_v2),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_filter),
		.owner = MX_MAP_OWN_AGENT, .sync_rank = 2, .format_key = key_filter,
	},
	[MX_MAP_ID_PORT] = {
		.name = MX_MAP_PORT, .skel_off = SKEL_MAP(midox_port_v2),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_port),
		.owner = MX_MAP_OWN_AGENT, .sync_rank = 3, .format_key = key_port,
	},
	[MX_MAP_ID_BRIDGE] = {
		.name = MX_MAP_BRIDGE, .skel_off = SKEL_MAP(midox_bridge),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_bridge),
		.owner = MX_MAP_OWN_AGENT, .sync_rank = 4, .format_key = key_bridge,
	},
	/* Before the ports' interfaces: a locked port's pairs are there when it first sends. */
	[MX_MAP_ID_ALLOWED] = {
		.name = MX_MAP_ALLOWED, .skel_off = SKEL_MAP(midox_allow_v2),
		.key_size = sizeof(struct mx_allowed_key), .value_size = sizeof(struct mx_allowed),
		.owner = MX_MAP_OWN_AGENT, .sync_rank = 5, .format_key = key_allowed,
	},
	/* A MAC learned here stays while its port is a local port of that bridge. */
	[MX_MAP_ID_FDB] = {
		.name = MX_MAP_FDB, .skel_off = SKEL_MAP(midox_fdb),
		.key_size = sizeof(struct mx_fdb_key), .value_size = sizeof(struct mx_fdb_entry),
		.owner = MX_MAP_OWN_AGENT_LEARNED, .sync_rank = 6, .format_key = key_fdb,
		.learned = fdb_learned, .keep_port_flag = MX_PORT_LOCAL,
	},
	[MX_MAP_ID_ARP] = {
		.name = MX_MAP_ARP, .skel_off = SKEL_MAP(midox_arp_v2),
		.key_size = sizeof(struct mx_arp_key), .value_size = sizeof(struct mx_arp_entry),
		.owner = MX_MAP_OWN_AGENT, .sync_rank = 7, .format_key = key_arp,
	},
	/* A neighbour a router port learned here stays while that port is still the router's. */
	[MX_MAP_ID_NEIGH] = {
		.name = MX_MAP_NEIGH, .skel_off = SKEL_MAP(midox_neigh),
		.key_size = sizeof(struct mx_neigh_key), .value_size = sizeof(struct mx_neigh_entry),
		.owner = MX_MAP_OWN_AGENT_LEARNED, .sync_rank = 8, .format_key = key_neigh,
		.learned = neigh_learned, .keep_port_flag = MX_PORT_ROUTER,
	},
	[MX_MAP_ID_ROUTE] = {
		.name = MX_MAP_ROUTE, .skel_off = SKEL_MAP(midox_route),
		.key_size = sizeof(struct mx_route_key), .value_size = sizeof(struct mx_route),
		.lpm = true, .owner = MX_MAP_OWN_AGENT, .sync_rank = 9, .format_key = key_route,
	},
	[MX_MAP_ID_BGP] = {
		.name = MX_MAP_BGP, .skel_off = SKEL_MAP(midox_bgp),
		.key_size = sizeof(struct mx_bgp_key), .value_size = sizeof(struct mx_bgp),
		.owner = MX_MAP_OWN_AGENT, .sync_rank = 10, .format_key = key_bgp,
	},
	/* Before the ports' interfaces: a limited port is limited from its first frame. The
	 * limit is the agent's, the bucket after it the datapath's. */
	[MX_MAP_ID_RATE] = {
		.name = MX_MAP_RATE, .skel_off = SKEL_MAP(midox_rate),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_port_rate),
		.owner = MX_MAP_OWN_AGENT, .agent_bytes = MX_RATE_AGENT_BYTES, .sync_rank = 11,
		.format_key = key_port,
	},
	/* Last: a frame's ingress port appears when everything it may be sent to is there. */
	[MX_MAP_ID_IFPORT] = {
		.name = MX_MAP_IFPORT, .skel_off = SKEL_MAP(midox_ifport_v3),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_ifport),
		.owner = MX_MAP_OWN_AGENT, .sync_rank = 12, .format_key = key_ifport,
	},
	[MX_MAP_ID_CONFIG] = {
		.name = MX_MAP_CONFIG, .skel_off = SKEL_MAP(midox_config),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_config),
		.owner = MX_MAP_OWN_SETTINGS, .format_key = key_index,
	},
	[MX_MAP_ID_STATS] = { /* per CPU: value_size is one CPU's */
		.name = MX_MAP_STATS, .skel_off = SKEL_MAP(midox_stats),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_port_stats),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_port,
	},
	/* per CPU, by the slot in the port's entry: the agent zeroes a slot before it gives it to
	 * a port (agent/slots.c), and writes nothing else */
	[MX_MAP_ID_PORT_SLOT] = {
		.name = MX_MAP_PORT_SLOT, .skel_off = SKEL_MAP(midox_portslot),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_port_slot),
		.owner = MX_MAP_OWN_PORT_MIRROR, .format_key = key_index,
	},
	[MX_MAP_ID_TRAFFIC] = {
		.name = MX_MAP_TRAFFIC, .skel_off = SKEL_MAP(midox_traffic),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_traffic),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	[MX_MAP_ID_ICMP_RATE] = { /* per CPU */
		.name = MX_MAP_ICMP_RATE, .skel_off = SKEL_MAP(midox_icmprate),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_icmp_rate),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* Program fds in, program ids out; filled by the loader at every open. */
	[MX_MAP_ID_HOP] = {
		.name = MX_MAP_HOP, .skel_off = SKEL_MAP(midox_hop),
		.key_size = sizeof(__u32), .value_size = sizeof(__u32),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* The datapath's cache of the underlay's routes to the peers (bpf/lib/tunnel.h). */
	[MX_MAP_ID_UNDERLAY_NH] = {
		.name = MX_MAP_UNDERLAY_NH, .skel_off = SKEL_MAP(midox_ulnh),
		.key_size = sizeof(__be32), .value_size = sizeof(struct mx_underlay_nh),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_tunpeer,
	},
	/* per CPU: the port handed from one device's program to the next (bpf/lib/hop.h) */
	[MX_MAP_ID_HOP_PORT] = {
		.name = MX_MAP_HOP_PORT, .skel_off = SKEL_MAP(midox_handover),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_hop_port),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* midox monitor's mark and budget: the listener writes it, the agent never does. */
	[MX_MAP_ID_MONITOR] = {
		.name = MX_MAP_MONITOR, .skel_off = SKEL_MAP(midox_monitor),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_monitor),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	[MX_MAP_ID_MON_RATE] = { /* per CPU */
		.name = MX_MAP_MON_RATE, .skel_off = SKEL_MAP(midox_monrate),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_monitor_cpu),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* A ring buffer: no keys, no values, only records (struct mx_drop_event). */
	[MX_MAP_ID_EVENTS] = {
		.name = MX_MAP_EVENTS, .skel_off = SKEL_MAP(midox_events), .ring = true,
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* midox trace arms it (its token) and reads the steps a traced test run recorded. */
	[MX_MAP_ID_TRACE] = {
		.name = MX_MAP_TRACE, .skel_off = SKEL_MAP(midox_trace),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_trace),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* The rule chains (bpf/lib/chain.h): the installer's. Which half is live, */
	[MX_MAP_ID_CHAIN_GEN] = {
		.name = MX_MAP_CHAIN_GEN, .skel_off = SKEL_MAP(midox_chgen),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_chain_gen),
		.owner = MX_MAP_OWN_CHAINS, .format_key = key_index,
	},
	/* each chain's rules in both halves, */
	[MX_MAP_ID_CHAIN] = {
		.name = MX_MAP_CHAIN, .skel_off = SKEL_MAP(midox_chain_v2),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_chain),
		.owner = MX_MAP_OWN_CHAINS, .format_key = key_chain,
	},
	[MX_MAP_ID_CHAIN_RULE] = {
		.name = MX_MAP_CHAIN_RULE, .skel_off = SKEL_MAP(midox_chrule),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_chain_rule),
		.owner = MX_MAP_OWN_CHAINS, .format_key = key_chain_rule,
	},
	/* the members of port lists, port groups and IP address groups, */
	[MX_MAP_ID_CHAIN_SET] = {
		.name = MX_MAP_CHAIN_SET, .skel_off = SKEL_MAP(midox_chset),
		.key_size = sizeof(struct mx_chain_set_key), .value_size = sizeof(__u32),
		.owner = MX_MAP_OWN_CHAINS, .format_key = key_chain_set,
	},
	/* and each rule's counters: slots the installer gives out and zeroes, the datapath
	 * counts in (per CPU). */
	[MX_MAP_ID_CHAIN_COUNT] = {
		.name = MX_MAP_CHAIN_COUNT, .skel_off = SKEL_MAP(midox_chcount),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_chain_counter),
		.owner = MX_MAP_OWN_CHAINS, .format_key = key_index,
	},
	/* An evaluation's scratch state (per CPU): the datapath's alone. */
	[MX_MAP_ID_CHAIN_STATE] = {
		.name = MX_MAP_CHAIN_STATE, .skel_off = SKEL_MAP(midox_chstat_v2),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_chain_state),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* and the rewrite its static NAT rules decided (per CPU): the datapath's alone. */
	[MX_MAP_ID_CHAIN_NAT] = {
		.name = MX_MAP_CHAIN_NAT, .skel_off = SKEL_MAP(midox_chnat),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_chain_nat),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* the targets of the dynamic NAT rules, by rule index, written with the rules. */
	[MX_MAP_ID_CHAIN_NAT_TARGET] = {
		.name = MX_MAP_CHAIN_NAT_TARGET, .skel_off = SKEL_MAP(midox_chnatt),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_chain_nat_target),
		.owner = MX_MAP_OWN_CHAINS, .format_key = key_chain_rule,
	},
	/* Connection tracking (bpf/lib/conntrack.h): the connections are the datapath's (it
	 * writes them, and so do records from other hosts, bpf/lib/flowstate_import.h; the
	 * agent's sweep expires them; a restart keeps them); */
	[MX_MAP_ID_CT] = {
		.name = MX_MAP_CT, .skel_off = SKEL_MAP(midox_ct),
		.key_size = sizeof(struct mx_ct_key), .value_size = sizeof(struct mx_ct_entry),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_ct,
	},
	/* the timeouts are the agent's settings (agent.conf); */
	[MX_MAP_ID_CT_CONFIG] = {
		.name = MX_MAP_CT_CONFIG, .skel_off = SKEL_MAP(midox_ctcfg),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_ct_config),
		.owner = MX_MAP_OWN_SETTINGS, .format_key = key_index,
	},
	/* and a pass's writes that ride to the peer host (bpf/lib/flowstate.h; per CPU). */
	[MX_MAP_ID_FS_BUF] = {
		.name = MX_MAP_FS_BUF, .skel_off = SKEL_MAP(midox_fsbuf),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_fs_buf),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* what tracking found for the packet at the device it is passing (per CPU): the
	 * datapath's scratch, for dynamic NAT and the commit; */
	[MX_MAP_ID_CT_PASS] = {
		.name = MX_MAP_CT_PASS, .skel_off = SKEL_MAP(midox_ctpass_v2),
		.key_size = sizeof(__u32), .value_size = sizeof(struct mx_ct_pass),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_index,
	},
	/* and the host's port blocks per SNAT address (include/midox/natlease.h): written by
	 * the agent's leases, never synced (a restart keeps them). */
	[MX_MAP_ID_NAT_LEASE] = {
		.name = MX_MAP_NAT_LEASE, .skel_off = SKEL_MAP(midox_natlease),
		.key_size = sizeof(__be32), .value_size = sizeof(struct mx_nat_lease),
		.owner = MX_MAP_OWN_DATAPATH, .format_key = key_nat_address,
	},
};

/* ---- derived from the rows ---- */

const struct mx_map_desc *mx_map_desc(enum mx_map_id id)
{
	return (unsigned int)id < MX_MAP_ID__MAX ? &mx_map_table[id] : NULL;
}

size_t mx_map_compared_bytes(enum mx_map_id id)
{
	const struct mx_map_desc *d = mx_map_desc(id);

	if (!d)
		return 0;
	return d->agent_bytes ? d->agent_bytes : d->value_size;
}

const char *mx_map_name(enum mx_map_id id)
{
	const struct mx_map_desc *d = mx_map_desc(id);

	return d ? d->name : NULL;
}

struct bpf_map *mx_map_of(const struct midox *skel, enum mx_map_id id)
{
	return *(struct bpf_map *const *)((const char *)skel + mx_map_table[id].skel_off);
}

bool mx_map_reconciled(enum mx_map_id id)
{
	const struct mx_map_desc *d = mx_map_desc(id);

	return d && (d->owner == MX_MAP_OWN_AGENT || d->owner == MX_MAP_OWN_AGENT_LEARNED);
}

size_t mx_map_sync_order(enum mx_map_id order[MX_MAP_ID__MAX])
{
	size_t n = 0;

	for (unsigned int rank = 1; rank <= MX_MAP_ID__MAX; rank++)
		for (int id = 0; id < MX_MAP_ID__MAX; id++)
			if (mx_map_reconciled(id) && mx_map_table[id].sync_rank == rank)
				order[n++] = id;
	return n;
}

void mx_map_format_key(enum mx_map_id id, const void *key, char *out, size_t len)
{
	const struct mx_map_desc *d = mx_map_desc(id);

	if (d)
		d->format_key(key, out, len);
	else
		snprintf(out, len, "?");
}

bool mx_map_learned(enum mx_map_id id, const void *key, const void *value,
		    struct mx_learned_entry *out)
{
	const struct mx_map_desc *d = mx_map_desc(id);
	struct mx_learned_entry e;

	if (!d || d->owner != MX_MAP_OWN_AGENT_LEARNED || !d->learned(key, value, &e))
		return false;
	if (out)
		*out = e;
	return true;
}

bool mx_map_keep(enum mx_map_id id, const void *key, const void *value,
		 const struct mx_port *(*port_of)(__u32 port_key, void *ctx), void *ctx)
{
	const struct mx_port *p;
	struct mx_learned_entry e;

	if (!mx_map_learned(id, key, value, &e))
		return false;
	p = port_of(e.port_key, ctx);
	return p && (p->flags & mx_map_table[id].keep_port_flag) && p->device_key == e.device_key;
}
