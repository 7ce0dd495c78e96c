/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Virtual bridges: where a flooded frame goes, and the bridge's MAC and ARP tables. */
#ifndef MIDOX_BRIDGE_H
#define MIDOX_BRIDGE_H

#include "common.h"
#include "stats.h"

/* bridge tunnel key (__u32) -> struct mx_bridge: the flood set. */
#define MX_MAP_BRIDGE "midox_bridge"
#define MX_BRIDGE_MAX_ENTRIES 4096

#define MX_FLOOD_MAX_LOCAL 64  /* local ports of one bridge on one host */
#define MX_FLOOD_MAX_REMOTE 64 /* other hosts with ports of one bridge */

struct mx_bridge {
	__u32 n_local;  /* used entries of local_ifindex */
	__u32 n_remote; /* used entries of remote_addr */
	__u32 local_ifindex[MX_FLOOD_MAX_LOCAL];
	__be32 remote_addr[MX_FLOOD_MAX_REMOTE]; /* tunnel addresses, one per host */
};
_Static_assert(sizeof(struct mx_bridge) == 8 + 4 * (MX_FLOOD_MAX_LOCAL + MX_FLOOD_MAX_REMOTE),
	       "mx_bridge layout");

/* struct mx_fdb_key -> struct mx_fdb_entry: the MAC table of every bridge. */
#define MX_MAP_FDB "midox_fdb"
#define MX_FDB_MAX_ENTRIES 262144

struct mx_fdb_key {
	__u32 bridge_key;
	__u8 mac[6];
	__u8 pad[2]; /* always 0: part of the hash key */
};
_Static_assert(sizeof(struct mx_fdb_key) == 12, "mx_fdb_key layout");

enum mx_fdb_flags {
	MX_FDB_STATIC = 1 << 0,  /* a port's configured MAC, written by the agent */
	MX_FDB_LOCAL = 1 << 1,   /* learned by this host's datapath on a local port */
	MX_FDB_REMOTE = 1 << 2,  /* learned by another host, delivered through ZooKeeper */
};

/* port_slot was the upper half of a 32-bit flags field, always 0 before: an entry of either
 * tree reads right in the other, a missing slot (0) meaning "look the port up by key"
 * (docs/architecture.md, "Map layouts"). */
struct mx_fdb_entry {
	__u32 port_key;
	__u16 flags;     /* enum mx_fdb_flags */
	/* port_key's counter slot (mx_port.stats_slot), 0 = none: where midox_portslot holds a
	 * copy of its entry, so known unicast reads an array, not the port hash. A hint only:
	 * the datapath takes the copy when its key is port_key, else looks the port up. */
	__u16 port_slot;
	__u64 seen_ns;   /* MX_FDB_LOCAL: bpf_ktime_get_ns() when last seen, for ageing */
};
_Static_assert(sizeof(struct mx_fdb_entry) == 16, "mx_fdb_entry layout");
_Static_assert(MX_TRAFFIC_SLOTS <= 65536, "a counter slot fits mx_fdb_entry.port_slot");

/* struct mx_arp_key -> struct mx_arp_entry: addresses a bridge answers ARP for. */
#define MX_MAP_ARP "midox_arp_v2"
#define MX_ARP_MAX_ENTRIES 262144

struct mx_arp_key {
	__u32 bridge_key;
	__be32 addr;
};
_Static_assert(sizeof(struct mx_arp_key) == 8, "mx_arp_key layout");

/* key: the entry's own key, read by the datapath after the MAC it copied; an entry of
 * another key (an element the kernel reused) is no entry (docs/datapath.md, "Map elements
 * under readers"). */
struct mx_arp_entry {
	struct mx_arp_key key;
	__u8 mac[6];
	__u16 flags; /* reserved, 0 */
};
_Static_assert(sizeof(struct mx_arp_entry) == 16, "mx_arp_entry layout");

#endif
