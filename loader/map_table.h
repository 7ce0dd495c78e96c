/* SPDX-License-Identifier: Apache-2.0 */
/* The one table of the datapath's maps, as user space sees them: for each map its pin name,
 * key and value size, how its key reads, who owns its entries and when a sync writes it.
 * Open, sync, walk, the typed accessors, the agent's reconcile and --verify all read it.
 * Adding a map: its BPF definition (bpf/lib), its ABI (include/midox), an id below and one
 * row in map_table.c (and, if the agent owns it, its entries in agent/desired.c). */
#ifndef MIDOX_LOADER_MAP_TABLE_H
#define MIDOX_LOADER_MAP_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "midox/port.h"

struct midox;
struct bpf_map;

/* The index of the table. The maps the agent reconciles come first (agent/desired.h keeps
 * one array of entries per id; verify reports them in this order). */
enum mx_map_id {
	MX_MAP_ID_IFPORT,
	MX_MAP_ID_PORT,
	MX_MAP_ID_BRIDGE,
	MX_MAP_ID_FDB,
	MX_MAP_ID_ARP,
	MX_MAP_ID_TUNPEER,
	MX_MAP_ID_ROUTE,
	MX_MAP_ID_NEIGH,
	MX_MAP_ID_ALLOWED,
	MX_MAP_ID_BGP,
	MX_MAP_ID_RATE,
	MX_MAP_ID_FILTER,
	MX_MAP_ID_CONFIG,
	MX_MAP_ID_STATS,
	MX_MAP_ID_TRAFFIC,
	MX_MAP_ID_ICMP_RATE,
	MX_MAP_ID_HOP,
	MX_MAP_ID_HOP_PORT,
	MX_MAP_ID_MONITOR,
	MX_MAP_ID_MON_RATE,
	MX_MAP_ID_EVENTS,
	MX_MAP_ID_TRACE,
	MX_MAP_ID_CHAIN_GEN,
	MX_MAP_ID_CHAIN,
	MX_MAP_ID_CHAIN_RULE,
	MX_MAP_ID_CHAIN_SET,
	MX_MAP_ID_CHAIN_COUNT,
	MX_MAP_ID_CHAIN_STATE,
	MX_MAP_ID_CHAIN_NAT,
	MX_MAP_ID_CHAIN_NAT_TARGET,
	MX_MAP_ID_CT,
	MX_MAP_ID_CT_CONFIG,
	MX_MAP_ID_FS_BUF,
	MX_MAP_ID_CT_PASS,
	MX_MAP_ID_NAT_LEASE,
	MX_MAP_ID_PORT_SLOT,
	MX_MAP_ID_UNDERLAY_NH,
	MX_MAP_ID__MAX
};

/* Who writes a map's entries. */
enum mx_map_owner {
	/* the datapath's own state (counters, rate limits, tail calls, drop events), and what
	 * midox monitor and midox trace write (mark, armed trace): never synced, never the
	 * agent's to prune */
	MX_MAP_OWN_DATAPATH,
	MX_MAP_OWN_SETTINGS, /* one value the agent writes whole, before any sync */
	MX_MAP_OWN_AGENT,    /* every entry: made equal to the desired set */
	/* the agent's, but for entries the datapath learned itself (learned() is true): those
	 * stay while their port is still a keep_port_flag port of the key's device */
	MX_MAP_OWN_AGENT_LEARNED,
	/* the rule chains: written whole by the agent's chain installer (mx_chain_install,
	 * loader/chain.c), a new version beside the live one; never synced, and --verify
	 * compares them its own way (agent/chains.c) */
	MX_MAP_OWN_CHAINS,
	/* midox_portslot: the ports' entries by counter slot, made to mirror midox_port_v2 by
	 * the agent right after each sync of it (mx_port_slots_sync); never synced itself */
	MX_MAP_OWN_PORT_MIRROR,
};

/* What the ownership rule reads of an entry the datapath learned. */
struct mx_learned_entry {
	__u32 device_key; /* the bridge or router of the key */
	__u32 port_key;   /* the port it was learned on */
	__u64 seen_ns;    /* bpf_ktime_get_ns() when last seen */
};

struct mx_map_desc {
	const char *name;                /* pin name and BPF map name (MX_MAP_*) */
	size_t skel_off;                 /* where the skeleton (struct midox) holds its bpf_map */
	size_t key_size, value_size;     /* checked against the BPF object at open */
	bool lpm;                        /* an LPM trie: lookups find covering prefixes too */
	bool ring;                       /* a ring buffer: records only, key and value size 0 */
	enum mx_map_owner owner;
	/* MX_MAP_OWN_AGENT: the leading bytes of a value that are the agent's, compared by a
	 * sync and --verify (a sync writes a changed value whole, the rest as desired: 0); the
	 * rest is state the datapath keeps in the entry (midox_rate's bucket). 0: all. */
	size_t agent_bytes;
	unsigned int sync_rank;          /* MX_MAP_OWN_AGENT*: 1 is synced first; else 0 */
	/* The key as an operator reads it: "port key 7", "peer 192.0.2.2". */
	void (*format_key)(const void *key, char *out, size_t len);
	/* MX_MAP_OWN_AGENT_LEARNED: whether the datapath learned value itself (its flag,
	 * MX_FDB_LOCAL or MX_NEIGH_LOCAL), with what the ownership rule reads of it. */
	bool (*learned)(const void *key, const void *value, struct mx_learned_entry *out);
	__u32 keep_port_flag;
};

extern const struct mx_map_desc mx_map_table[MX_MAP_ID__MAX];

/* The row of id, NULL for an id out of range. */
const struct mx_map_desc *mx_map_desc(enum mx_map_id id);
/* Its pin name (MX_MAP_*), NULL for an id out of range. */
const char *mx_map_name(enum mx_map_id id);
/* The skeleton's bpf_map of id. */
struct bpf_map *mx_map_of(const struct midox *skel, enum mx_map_id id);

/* Whether the agent makes the map equal to a desired set (mx_map_sync, verify). */
bool mx_map_reconciled(enum mx_map_id id);
/* The reconciled maps in the order a sync writes them: peers and ports first, the interface
 * index last, so a frame never finds its ingress port before everything it may be sent to is
 * in place. Returns how many were written to order. */
size_t mx_map_sync_order(enum mx_map_id order[MX_MAP_ID__MAX]);

void mx_map_format_key(enum mx_map_id id, const void *key, char *out, size_t len);
/* How many leading bytes of a value a sync and --verify compare (agent_bytes, or the whole
 * value); 0 for an id out of range. */
size_t mx_map_compared_bytes(enum mx_map_id id);

/* Whether the datapath learned this entry itself; out (may be NULL) gets what it reads. */
bool mx_map_learned(enum mx_map_id id, const void *key, const void *value,
		    struct mx_learned_entry *out);
/* The ownership rule: whether an entry absent from the desired set stays. port_of gives the
 * desired port of a port key (NULL: none). */
bool mx_map_keep(enum mx_map_id id, const void *key, const void *value,
		 const struct mx_port *(*port_of)(__u32 port_key, void *ctx), void *ctx);

#endif
