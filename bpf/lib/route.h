/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_route: every router's table, longest prefix first, and the choice of one next hop
 * among equal-prefix routes by flow hash and weight. */
#ifndef MX_BPF_ROUTE_H
#define MX_BPF_ROUTE_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/router.h"
#include "lib/flowhash.h"
#include "lib/parse.h"

/* A weight above this counts as this much, so that the sum over a set cannot overflow. */
#define ROUTE_WEIGHT_MAX 0xffffu

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MX_ROUTE_MAX_ENTRIES);
	__type(key, struct mx_route_key);
	__type(value, struct mx_route);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required of LPM tries */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_route SEC(".maps");

/* The most specific route set of router_key that covers dst, or NULL. */
static __always_inline const struct mx_route *route_lookup(__u32 router_key, __be32 dst)
{
	struct mx_route_key k = { .prefixlen = 32 + 32, .router_key = router_key, .dst = dst };

	return bpf_map_lookup_elem(&midox_route, &k);
}

/* Whether rt is an address of the router: the agent installs every port address as a /32
 * set holding one MX_ROUTE_LOCAL next hop. */
static __always_inline bool route_is_local(const struct mx_route *rt)
{
	return rt->n && rt->nh[0].type == MX_ROUTE_LOCAL;
}

/* Whether addr is an address of router port port_key. */
static __always_inline bool route_owns(__u32 router_key, __be32 addr, __u32 port_key)
{
	const struct mx_route *rt = route_lookup(router_key, addr);

	return rt && route_is_local(rt) && rt->nh[0].port_key == port_key;
}

static __always_inline bool nexthop_usable(const struct mx_nexthop *nh, __be32 saddr)
{
	__u32 len = nh->src_len;

	if (!len)
		return true;
	if (len > 32)
		return false;
	return (saddr & bpf_htonl(~0u << (32 - len))) == nh->src;
}

static __always_inline __u32 nexthop_weight(const struct mx_nexthop *nh)
{
	__u32 w = nh->weight;

	return !w ? 1 : w > ROUTE_WEIGHT_MAX ? ROUTE_WEIGHT_MAX : w;
}

/* The next hop of rt for a packet from saddr with flow hash hash, copied to out (its index
 * in the set to *member): among the hops whose source prefix covers saddr, hash picks one
 * in proportion to weight. 0: none usable (or a NULL argument). A global function: verified
 * once on its own, where inlined its unrolled choice among eight hops was verified again in
 * every state of the router that reaches it, more than half of hop_router's verification
 * (docs/datapath.md, "What the verifier pays"). Its caller sees *out and *member as unknown
 * values when it returns 1, and reads them as such. */
__noinline int route_select(const struct mx_route *rt, __be32 saddr, __u32 hash,
			    struct mx_nexthop *out, __u32 *member)
{
	__u32 n, total = 0, pick, w[MX_ROUTE_MAX_NEXTHOPS];

	if (!rt || !out || !member)
		return 0;
	n = rt->n;
	/* Each hop's share for this source, read once (0: not usable). */
#pragma clang loop unroll(full)
	for (__u32 i = 0; i < MX_ROUTE_MAX_NEXTHOPS; i++) {
		w[i] = i < n && nexthop_usable(&rt->nh[i], saddr) ? nexthop_weight(&rt->nh[i]) : 0;
		total += w[i];
	}
	if (!total)
		return 0;
	pick = hash % total;
#pragma clang loop unroll(full)
	for (__u32 i = 0; i < MX_ROUTE_MAX_NEXTHOPS; i++) {
		if (pick < w[i]) {
			*out = rt->nh[i];
			*member = i;
			return 1;
		}
		pick -= w[i];
	}
	return 0;
}

/* The next hop of rt for the IPv4 packet ip (l4: the cursor after its header), as
 * route_select chooses it. A set of one hop, nearly every route, is decided here: that hop
 * if its source prefix covers the packet, with no flow hash computed (route_select would
 * take that hop whatever the hash). */
static __always_inline bool route_choose(const struct mx_route *rt, const struct iphdr *ip,
					 const struct cursor *l4, struct mx_nexthop *out,
					 __u32 *member)
{
	if (rt->n == 1) {
		if (!nexthop_usable(&rt->nh[0], ip->saddr))
			return false;
		*out = rt->nh[0];
		*member = 0;
		return true;
	}
	return route_select(rt, ip->saddr, flow_hash(ip, l4), out, member);
}

#endif
