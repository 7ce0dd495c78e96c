/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_rarp: what every router knows of its neighbours' MACs, and learning them. */
#ifndef MX_BPF_RARP_H
#define MX_BPF_RARP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/router.h"
#include "lib/parse.h"

/* A learned entry is rewritten at most this often while it stays the same. */
#define RARP_REFRESH_NS 1000000000ull

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_RARP_MAX_ENTRIES);
	__type(key, struct mx_rarp_key);
	__type(value, struct mx_rarp_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_rarp SEC(".maps");

static __always_inline const struct mx_rarp_entry *rarp_lookup(__u32 router_key, __be32 addr)
{
	struct mx_rarp_key k = { .router_key = router_key, .addr = addr };

	return bpf_map_lookup_elem(&midox_rarp, &k);
}

/* Learn that addr has mac behind router port port_key (from an ARP packet seen there).
 * MX_RARP_STATIC entries are never overwritten; others (remote ones too) are, but an equal
 * local entry is refreshed at most once per RARP_REFRESH_NS. */
static __always_inline void rarp_learn(__u32 router_key, __be32 addr, const __u8 *mac,
				       __u32 port_key)
{
	struct mx_rarp_key k = { .router_key = router_key, .addr = addr };
	struct mx_rarp_entry v = { .flags = MX_RARP_LOCAL, .port_key = port_key };
	const struct mx_rarp_entry *e;
	__u64 now = bpf_ktime_get_ns();

	if (!addr || mac_is_multicast(mac) || mac_is_zero(mac))
		return;
	e = bpf_map_lookup_elem(&midox_rarp, &k);
	if (e && (e->flags & MX_RARP_STATIC))
		return;
	if (e && e->flags == MX_RARP_LOCAL && e->port_key == port_key && mac_equal(e->mac, mac) &&
	    now - e->seen_ns < RARP_REFRESH_NS)
		return;
	mac_copy(v.mac, mac);
	v.seen_ns = now;
	bpf_map_update_elem(&midox_rarp, &k, &v, BPF_ANY);
}

#endif
