/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Virtual ports: which interface is which port, and where every port lives. */
#ifndef MIDOX_PORT_H
#define MIDOX_PORT_H

#include "common.h"

/* port tunnel key (__u32) -> struct mx_port: every port of every bridge this host may send to.
 * midox_port_v2: the entry grew its counter slot (the earlier midox_port had none). */
#define MX_MAP_PORT "midox_port_v2"
#define MX_PORT_MAX_ENTRIES 262144 /* every port of the cloud; allocated as used */

enum mx_port_flags {
	MX_PORT_LOCAL = 1 << 0,     /* bound on this host: ifindex is valid */
	MX_PORT_REMOTE = 1 << 1,    /* bound on another host: host_addr is valid */
	MX_PORT_FIXED_MAC = 1 << 2, /* mac is the port's configured address */
	MX_PORT_FIXED_IP = 1 << 3,  /* addr is the port's configured address */
	MX_PORT_ROUTER = 1 << 4,    /* a router's port: mac, addr, prefix_len are its own */
	MX_PORT_INTERIOR = 1 << 5,  /* linked to peer_key, a port of another device */
	MX_PORT_ADMIN_DOWN = 1 << 6, /* the port is set down: it neither sends nor receives */
	MX_PORT_DEVICE_DOWN = 1 << 7, /* its bridge or router is set down: it forwards nothing */
	MX_PORT_BGP = 1 << 8,       /* an exterior router port with a BGP speaker (midox_bgp) */
	MX_PORT_RATE_LIMIT = 1 << 9, /* bound here with an egress rate limit (midox_rate) */
	MX_PORT_FILTERED = 1 << 10,  /* has an infilter or outfilter: midox_filter[its key] */
	MX_PORT_DEVICE_FILTERED = 1 << 11, /* its bridge or router has one: midox_filter[device] */
	MX_PORT_DEVICE_CT = 1 << 12, /* its bridge or router tracks connections (midox_ct) */
	MX_PORT_XDP_RX = 1 << 13,    /* bound here on an interface that takes XDP frames: the
				      * underlay's XDP program may deliver to it (underlay_xdp) */
};
/* Either: the datapath treats both alike (drop admin-down); two flags say which was set. */
#define MX_PORT_DOWN (MX_PORT_ADMIN_DOWN | MX_PORT_DEVICE_DOWN)

struct mx_port {
	__u32 device_key; /* tunnel key of the bridge or router the port belongs to */
	__u32 ifindex;    /* MX_PORT_LOCAL: the bound interface */
	__be32 host_addr; /* MX_PORT_REMOTE: tunnel address of the host it is bound on */
	__u32 flags;      /* enum mx_port_flags */
	__u8 mac[6];      /* bridge port: fixed MAC; router port: the port's MAC */
	__u8 prefix_len;  /* router port: length of its primary subnet */
	__u8 pad;
	__be32 addr;      /* bridge port: fixed address; router port: its primary address */
	__u32 peer_key;   /* MX_PORT_INTERIOR: the peer port's tunnel key */
	__u32 stats_slot; /* the port's row of midox_traffic (stats.h), 0 = none: the agent's */
	__u32 peer_slot;  /* MX_PORT_INTERIOR: the peer's stats_slot, where midox_portslot holds
			   * its copy (a hint, 0 = none: lib/port.h port_read_slot). Was reserved
			   * and 0: an older agent's entries give no hint, and are read as before */
};
_Static_assert(sizeof(struct mx_port) == 40, "mx_port layout");

/* counter slot (__u32, mx_port.stats_slot) -> struct mx_port_slot: a copy of the entry of
 * the port that has the slot, so that a lookup that knows the slot (a MAC-table entry's
 * port_slot) reads an array instead of the midox_port_v2 hash. The agent writes it in the
 * same pass as midox_port_v2, right after it; a slot no port holds has port_key 0. An array
 * is updated in place: a reader racing an update may see a mix of the old and the new entry
 * of the same port (never another port's: a slot released by one port is given to another
 * no earlier than the next pass, agent/slots.h), and the next frame sees the new one. */
#define MX_MAP_PORT_SLOT "midox_portslot"

struct mx_port_slot {
	__u32 port_key;      /* tunnel key of the port with the slot, 0 = none */
	__u32 reserved;      /* 0 */
	struct mx_port port; /* a copy of its midox_port_v2 entry */
};
_Static_assert(sizeof(struct mx_port_slot) == 8 + sizeof(struct mx_port), "mx_port_slot layout");

/* ifindex (__u32) -> struct mx_ifport: the ports bound on this host, each with its port's
 * entry, so that a frame entering from the interface costs one lookup for both. Each layout
 * change gets a new name (midox_ifport: port key only; _v2: the 32-byte port entry; _v3: the
 * entry with its counter slot): an upgraded agent never reads a map it misunderstands
 * (docs/architecture.md, "Map layouts"). */
#define MX_MAP_IFPORT "midox_ifport_v3"
#define MX_IFPORT_MAX_ENTRIES 4096

struct mx_ifport {
	__u32 port_key;      /* tunnel key of the port bound to this interface */
	__u32 flags;         /* reserved, 0 */
	struct mx_port port; /* a copy of the port's midox_port entry, written in the same pass */
};
_Static_assert(sizeof(struct mx_ifport) == 8 + sizeof(struct mx_port), "mx_ifport layout");

/* struct mx_allowed_key -> struct mx_allowed: a locked port's allowed address pairs, extra
 * IPv4 addresses (each with a MAC, or the port's) it may send as besides its fixed one.
 * midox_allowed before its value held the key ("midox_allowed_v2" would pass the 15
 * characters the kernel keeps of a map's name). */
#define MX_MAP_ALLOWED "midox_allow_v2"
#define MX_ALLOWED_MAX_ENTRIES 65536

struct mx_allowed_key {
	__u32 port_key;
	__be32 addr;
};
_Static_assert(sizeof(struct mx_allowed_key) == 8, "mx_allowed_key layout");

enum mx_allowed_flags {
	MX_ALLOWED_MAC = 1 << 0, /* mac is the pair's own; else the port's fixed MAC (or any) */
};

/* key: the entry's own key, read by the datapath after the MAC and flags; an entry of
 * another key (an element the kernel reused) is no pair (docs/datapath.md, "Map elements
 * under readers"). */
struct mx_allowed {
	struct mx_allowed_key key;
	__u8 mac[6];
	__u16 flags; /* enum mx_allowed_flags */
};
_Static_assert(sizeof(struct mx_allowed) == 16, "mx_allowed layout");

#endif
