/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Tunnel zones: which underlay addresses this host accepts VXLAN from. */
#ifndef MIDOX_TUNNEL_H
#define MIDOX_TUNNEL_H

#include "common.h"

/* tunnel address (__be32) -> struct mx_tunpeer: members of the zones this host is in. */
#define MX_MAP_TUNPEER "midox_tunpeer"
#define MX_TUNPEER_MAX_ENTRIES 4096

struct mx_tunpeer {
	__u32 flags; /* reserved, 0 */
};
_Static_assert(sizeof(struct mx_tunpeer) == 4, "mx_tunpeer layout");

/* underlay peer address (__be32) -> struct mx_underlay_nh: the datapath's own cache of what
 * bpf_fib_lookup answered for a peer (bpf/lib/tunnel.h), so that a frame to a peer looked up
 * less than MX_UNDERLAY_NH_FRESH_NS ago takes no lookup. LRU: bounded, the peer sent to
 * least recently goes first. */
#define MX_MAP_UNDERLAY_NH "midox_ulnh"
#define MX_UNDERLAY_NH_MAX_ENTRIES MX_TUNPEER_MAX_ENTRIES
/* How long an answer is used: a route or neighbour change is followed within this. */
#define MX_UNDERLAY_NH_FRESH_NS 1000000000ULL

struct mx_underlay_nh {
	__be32 addr;         /* the entry's own key, checked after its read (bpf/lib/elem.h) */
	__be32 src;          /* the tunnel address it was looked up from */
	__u32 from_ifindex;  /* the underlay interface it was looked up from */
	__u32 ifindex;       /* egress interface */
	__u64 seen_ns;       /* bpf_ktime_get_coarse_ns() at the lookup */
	__u16 mtu;           /* the route's MTU, as the lookup checks it */
	__u8 smac[6];        /* outer source MAC */
	__u8 dmac[6];        /* outer destination MAC: the next hop's */
	__u16 reserved;      /* 0 */
};
_Static_assert(sizeof(struct mx_underlay_nh) == 40, "mx_underlay_nh layout");

#endif
