/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Virtual routers: the route table of every router and the ARP table of its ports. */
#ifndef MIDOX_ROUTER_H
#define MIDOX_ROUTER_H

#include "common.h"
#include "port.h"

/* Devices one pass may cross (bridge -> router -> bridge -> router ...). */
#define MX_MAX_DEVICE_HOPS 6

/* Program array of the per-device programs, filled by the loader: a frame that crosses an
 * interior port continues in its peer's device by tail call, its state in skb->cb.
 * Pinned like every map: the kernel empties a program array when its last user reference
 * goes, which would stop every tail call when the agent exits. The cb layout
 * (bpf/lib/hop.h) and the slots are part of this ABI: changing them needs a new name. */
#define MX_MAP_HOP "midox_hop"
enum mx_hop_slot {
	MX_HOP_SLOT_BRIDGE = 0, /* hop_bridge: the frame enters a bridge */
	MX_HOP_SLOT_ROUTER = 1, /* hop_router: the frame enters a router */
	MX_HOP_SLOT_FLOOD = 2,  /* hop_flood: a bridge floods the frame */
	MX_HOP_SLOTS
};

/* Per CPU, one entry: the port a frame enters the next device through, with its
 * midox_port_v2 entry, handed from the program that looked it up to the one it tail-calls
 * (bpf/lib/hop.h): the next device costs no second lookup of its entry port. Also where
 * hop_router reads its egress port's entry, which its stack has no room for.
 * midox_handover: the entry grew the egress port (the earlier midox_hopport had none; a
 * kernel map name is at most 15 characters, so not midox_hopport_v2). */
#define MX_MAP_HOP_PORT "midox_handover"

struct mx_hop_port {
	__u32 port_key;        /* MX_TUNNEL_KEY_NONE: nothing handed over */
	__u32 pad;
	struct mx_port port;   /* port_key's entry */
	struct mx_port egress; /* within one run of hop_router: its egress port's entry */
};
_Static_assert(sizeof(struct mx_hop_port) == 8 + 2 * sizeof(struct mx_port), "mx_hop_port layout");

/* LPM trie: struct mx_route_key -> struct mx_route. All routes of one router with the same
 * destination prefix form one entry; longest prefix wins. */
#define MX_MAP_ROUTE "midox_route"
#define MX_ROUTE_MAX_ENTRIES 1048576
#define MX_ROUTE_MAX_NEXTHOPS 8

struct mx_route_key {
	__u32 prefixlen;  /* 32 (router_key, always whole) + destination prefix length */
	__u32 router_key; /* tunnel key of the router */
	__be32 dst;
};
_Static_assert(sizeof(struct mx_route_key) == 12, "mx_route_key layout");

enum mx_route_type {
	MX_ROUTE_NORMAL = 1,    /* forward out of port_key, to gw or to the destination itself */
	MX_ROUTE_BLACKHOLE = 2, /* drop silently */
	MX_ROUTE_REJECT = 3,    /* drop, answer ICMP unreachable (administratively prohibited) */
	MX_ROUTE_LOCAL = 4,     /* an address of the router's port port_key: for the router */
};

struct mx_nexthop {
	__u32 type;      /* enum mx_route_type */
	__u32 port_key;  /* egress router port (NORMAL), owning port (LOCAL) */
	__be32 gw;       /* 0: the destination is on the port's link */
	__u32 weight;    /* share of flows among the usable next hops of the entry */
	__be32 src;      /* source prefix the route applies to; 0/0 for any */
	__u8 src_len;
	__u8 pad;
	__u16 port_slot; /* port_key's stats_slot, where midox_portslot holds its copy (a hint,
			  * 0 = none: lib/port.h port_read_slot). Was padding and 0: an older
			  * agent's routes give no hint, and are read as before */
};
_Static_assert(sizeof(struct mx_nexthop) == 24, "mx_nexthop layout");

struct mx_route {
	__u32 n; /* used entries of nh */
	__u32 pad;
	struct mx_nexthop nh[MX_ROUTE_MAX_NEXTHOPS];
};
_Static_assert(sizeof(struct mx_route) == 8 + 24 * MX_ROUTE_MAX_NEXTHOPS, "mx_route layout");

/* struct mx_neigh_key -> struct mx_neigh_entry: what a router knows of its neighbours. */
#define MX_MAP_NEIGH "midox_neigh"
#define MX_NEIGH_MAX_ENTRIES 65536

struct mx_neigh_key {
	__u32 router_key;
	__be32 addr;
};
_Static_assert(sizeof(struct mx_neigh_key) == 8, "mx_neigh_key layout");

enum mx_neigh_flags {
	MX_NEIGH_STATIC = 1 << 0, /* set from the CLI */
	MX_NEIGH_LOCAL = 1 << 1,  /* learned by this host's datapath from an ARP reply or request */
	MX_NEIGH_REMOTE = 1 << 2, /* learned by another host, delivered through ZooKeeper */
};

struct mx_neigh_entry {
	__u8 mac[6];
	__u16 flags;     /* enum mx_neigh_flags */
	__u32 port_key;  /* router port it was learned on (or set for) */
	__u64 seen_ns;   /* MX_NEIGH_LOCAL: bpf_ktime_get_ns() when last confirmed */
};
_Static_assert(sizeof(struct mx_neigh_entry) == 24, "mx_neigh_entry layout");

/* Per-CPU token bucket for the ICMP errors the routers send (array of one). */
#define MX_MAP_ICMP_RATE "midox_icmprate"
#define MX_ICMP_RATE_PER_SEC 100 /* per CPU */
#define MX_ICMP_RATE_BURST 50

struct mx_icmp_rate {
	__u64 tokens;  /* credit in ns: an error costs 1e9 / MX_ICMP_RATE_PER_SEC */
	__u64 last_ns; /* when credit was last computed; 0: never (a full burst) */
};
_Static_assert(sizeof(struct mx_icmp_rate) == 16, "mx_icmp_rate layout");

#endif
