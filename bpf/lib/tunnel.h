/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_tunpeer (who may send us VXLAN) and the route to a peer over the underlay. */
#ifndef MX_BPF_TUNNEL_H
#define MX_BPF_TUNNEL_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "midox/config.h"
#include "midox/stats.h"
#include "midox/tunnel.h"

#define MX_AF_INET 2 /* AF_INET, which no uapi header of the BPF side defines */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_TUNPEER_MAX_ENTRIES);
	__type(key, __be32);
	__type(value, struct mx_tunpeer);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_tunpeer SEC(".maps");

static __always_inline bool tunnel_is_member(__be32 addr)
{
	return bpf_map_lookup_elem(&midox_tunpeer, &addr) != NULL;
}

/* Route dst over the underlay: egress ifindex and MACs land in fib. ip_len is the outer
 * IPv4 total length, checked against the route MTU; 0 (GSO packets) leaves the check to
 * the kernel, which lets GSO packets pass and segments them at the device.
 * Returns MX_DROP_NONE or the reason to drop. */
static __always_inline enum mx_drop_reason underlay_route(struct __sk_buff *skb,
							  const struct mx_config *cfg, __be32 dst,
							  __u16 ip_len, struct bpf_fib_lookup *fib)
{
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = MX_AF_INET;
	fib->l4_protocol = IPPROTO_UDP;
	fib->tot_len = ip_len;
	fib->ipv4_src = cfg->tunnel_addr;
	fib->ipv4_dst = dst;
	fib->ifindex = cfg->underlay_ifindex;
	rc = bpf_fib_lookup(skb, fib, sizeof(*fib), BPF_FIB_LOOKUP_OUTPUT);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		return MX_DROP_NONE;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return MX_DROP_UNDERLAY_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return MX_DROP_UNDERLAY_MTU;
	default:
		return MX_DROP_UNDERLAY_ROUTE;
	}
}

#endif
