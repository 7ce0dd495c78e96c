/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_neigh: what every router knows of its neighbours' MACs, and learning them. */
#ifndef MX_BPF_NEIGH_H
#define MX_BPF_NEIGH_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/router.h"
#include "lib/parse.h"

/* A learned entry is rewritten at most this often while it stays the same. */
#define NEIGH_REFRESH_NS 1000000000ull

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_NEIGH_MAX_ENTRIES);
	__type(key, struct mx_neigh_key);
	__type(value, struct mx_neigh_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_neigh SEC(".maps");

static __always_inline const struct mx_neigh_entry *neigh_lookup(__u32 router_key, __be32 addr)
{
	struct mx_neigh_key k = { .router_key = router_key, .addr = addr };

	return bpf_map_lookup_elem(&midox_neigh, &k);
}

/* Learn that addr has mac behind router port port_key (from an ARP packet seen there).
 * MX_NEIGH_STATIC entries are never overwritten; others (remote ones too) are, but an equal
 * local entry is refreshed at most once per NEIGH_REFRESH_NS. */
static __always_inline void neigh_learn(__u32 router_key, __be32 addr, const __u8 *mac,
				       __u32 port_key)
{
	struct mx_neigh_key k = { .router_key = router_key, .addr = addr };
	struct mx_neigh_entry v = { .flags = MX_NEIGH_LOCAL, .port_key = port_key };
	const struct mx_neigh_entry *e;
	__u64 now;

	if (!addr || mac_is_multicast(mac) || mac_is_zero(mac))
		return;
	e = bpf_map_lookup_elem(&midox_neigh, &k);
	if (e && (e->flags & MX_NEIGH_STATIC))
		return;
	now = bpf_ktime_get_ns(); /* only past a static entry, as fdb_learn */
	if (e && e->flags == MX_NEIGH_LOCAL && e->port_key == port_key && mac_equal(e->mac, mac) &&
	    now - e->seen_ns < NEIGH_REFRESH_NS)
		return;
	mac_copy(v.mac, mac);
	v.seen_ns = now;
	bpf_map_update_elem(&midox_neigh, &k, &v, BPF_ANY);
}

#endif
