/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_fdb: the MAC tables of all bridges, and learning on local ports. */
#ifndef MX_BPF_FDB_H
#define MX_BPF_FDB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/bridge.h"
#include "midox/port.h"
#include "lib/parse.h"

/* A learned entry is rewritten at most this often while its MAC stays on the same port. */
#define FDB_REFRESH_NS 1000000000ull

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_FDB_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* allocated as used: a cloud-sized table costs only what it holds */
	__type(key, struct mx_fdb_key);
	__type(value, struct mx_fdb_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_fdb SEC(".maps");

static __always_inline void fdb_key_init(struct mx_fdb_key *k, __u32 bridge_key, const __u8 *mac)
{
	k->bridge_key = bridge_key;
	mac_copy(k->mac, mac);
	k->pad[0] = 0;
	k->pad[1] = 0;
}

static __always_inline const struct mx_fdb_entry *fdb_lookup(__u32 bridge_key, const __u8 *mac)
{
	struct mx_fdb_key k;

	fdb_key_init(&k, bridge_key, mac);
	return bpf_map_lookup_elem(&midox_fdb, &k);
}

/* Whether an existing entry that is not static must be left as it is: a fresh learned
 * entry for the same port and slot, until FDB_REFRESH_NS has passed. */
static __always_inline bool fdb_keep(const struct mx_fdb_entry *e, __u32 port_key, __u32 slot,
				     __u64 now)
{
	return e->port_key == port_key && e->port_slot == slot && e->flags == MX_FDB_LOCAL &&
	       now - e->seen_ns < FDB_REFRESH_NS;
}

/* Whether mac is the MAC configured on bridge port port. The agent gives every such port a
 * static entry (bridge, MAC) in midox_fdb, so learning it would find that entry and write
 * nothing: the frame of a port with a fixed MAC, the common case, skips the lookup. mac is
 * never zero here (bridge_source_check drops that), so an unset port MAC never matches. */
static __always_inline bool fdb_port_station(const struct mx_port *port, const __u8 *mac)
{
	return mac_equal(mac, port->mac);
}

/* Learn that mac lives behind local port port_key (slot: its counter slot, which the entry
 * carries for known unicast to it, lib/port.h port_read_slot). A remote entry for the same
 * MAC is replaced: the frame in hand says the MAC is here now. The clock is read only past a static
 * entry (a port with a fixed MAC, the common case): a clock read costs as much as a lookup
 * on a virtual machine. */
static __always_inline void fdb_learn(__u32 bridge_key, const __u8 *mac, __u32 port_key,
				      __u32 slot)
{
	struct mx_fdb_entry v = { .port_key = port_key, .flags = MX_FDB_LOCAL,
				  .port_slot = (__u16)slot };
	const struct mx_fdb_entry *e;
	struct mx_fdb_key k;
	__u64 now;

	fdb_key_init(&k, bridge_key, mac);
	e = bpf_map_lookup_elem(&midox_fdb, &k);
	if (e && (e->flags & MX_FDB_STATIC))
		return;
	now = bpf_ktime_get_ns();
	if (e && fdb_keep(e, port_key, (__u16)slot, now))
		return;
	v.seen_ns = now;
	bpf_map_update_elem(&midox_fdb, &k, &v, BPF_ANY);
}

#endif
