/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_tunpeer (who may send us VXLAN) and the route to a peer over the underlay
 * (midox_ulnh, its cache). */
#ifndef MX_BPF_TUNNEL_H
#define MX_BPF_TUNNEL_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "midox/config.h"
#include "midox/stats.h"
#include "midox/tunnel.h"
#include "lib/elem.h"
#include "lib/parse.h"
#include "lib/trace.h"

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

/* The datapath's cache of the underlay routes (include/midox/tunnel.h): the lookup's answer
 * for each peer, used for MX_UNDERLAY_NH_FRESH_NS and then looked up again, so that a
 * route or neighbour change is followed within that time. Only successes are kept: a peer
 * without route or neighbour is looked up on every frame, and its frames are dropped for the
 * reason the lookup gives. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MX_UNDERLAY_NH_MAX_ENTRIES);
	__type(key, __be32);
	__type(value, struct mx_underlay_nh);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_ulnh SEC(".maps");

/* The MTU check the lookup would make: ip_len 0 (GSO) is checked by the kernel at
 * segmentation. */
static __always_inline enum mx_drop_reason underlay_mtu_check(__u16 ip_len, __u16 mtu)
{
	return ip_len > mtu ? MX_DROP_UNDERLAY_MTU : MX_DROP_NONE;
}

/* dst's cached route into fib, if there is one, fresh at now and looked up with this
 * config; *reason: the MTU check's. What is used is copied first, then the entry's key
 * checked (lib/elem.h): an element the kernel reused for another peer is a miss. */
static __always_inline bool underlay_cached(const struct mx_config *cfg, __be32 dst,
					    __u16 ip_len, __u64 now, struct bpf_fib_lookup *fib,
					    enum mx_drop_reason *reason)
{
	const struct mx_underlay_nh *e = bpf_map_lookup_elem(&midox_ulnh, &dst);
	__u32 ifindex, from_ifindex;
	__u64 seen_ns;
	__be32 src;
	__u16 mtu;

	if (!e)
		return false;
	ifindex = e->ifindex;
	from_ifindex = e->from_ifindex;
	src = e->src;
	seen_ns = e->seen_ns;
	mtu = e->mtu;
	mac_copy(fib->smac, e->smac);
	mac_copy(fib->dmac, e->dmac);
	elem_key_after_copy();
	if (e->addr != dst || now - seen_ns >= MX_UNDERLAY_NH_FRESH_NS ||
	    from_ifindex != cfg->underlay_ifindex || src != cfg->tunnel_addr)
		return false;
	fib->ifindex = ifindex;
	*reason = underlay_mtu_check(ip_len, mtu);
	return true;
}

/* Keep a successful lookup's answer for dst (fib->mtu_result: the route's MTU, which the
 * kernel sets on success when it was given a length to check). */
static __always_inline void underlay_remember(const struct mx_config *cfg, __be32 dst,
					      __u64 now, const struct bpf_fib_lookup *fib)
{
	struct mx_underlay_nh e = {
		.addr = dst,
		.src = cfg->tunnel_addr,
		.from_ifindex = cfg->underlay_ifindex,
		.ifindex = fib->ifindex,
		.seen_ns = now,
		.mtu = fib->mtu_result,
	};

	mac_copy(e.smac, fib->smac);
	mac_copy(e.dmac, fib->dmac);
	bpf_map_update_elem(&midox_ulnh, &dst, &e, BPF_ANY);
}

/* Route dst over the underlay: egress ifindex and MACs land in fib (only those: callers read
 * nothing else). ip_len is the outer IPv4 total length, checked against the route MTU; 0
 * (GSO packets) leaves the check to the kernel, which lets GSO packets pass and segments
 * them at the device. The answer of a lookup is kept (midox_ulnh) and used for
 * MX_UNDERLAY_NH_FRESH_NS, its MTU checked against each frame's length.
 * Returns MX_DROP_NONE or the reason to drop. */
static __always_inline enum mx_drop_reason underlay_route_how(struct __sk_buff *skb,
							      const struct mx_config *cfg,
							      __be32 dst, __u16 ip_len,
							      struct bpf_fib_lookup *fib,
							      const bool cache)
{
	__u64 now = cache ? bpf_ktime_get_coarse_ns() : 0;
	enum mx_drop_reason reason;
	long rc;

	if (cache && underlay_cached(cfg, dst, ip_len, now, fib, &reason))
		return reason;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = MX_AF_INET;
	fib->l4_protocol = IPPROTO_UDP;
	/* A GSO frame's length is the kernel's to check (segments), so any length passes: 1
	 * makes the lookup check one that fits and tell the route's MTU, for the cache. */
	fib->tot_len = ip_len ? ip_len : 1;
	fib->ipv4_src = cfg->tunnel_addr;
	fib->ipv4_dst = dst;
	fib->ifindex = cfg->underlay_ifindex;
	rc = bpf_fib_lookup(skb, fib, sizeof(*fib), BPF_FIB_LOOKUP_OUTPUT);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		if (cache && !trace_on(skb)) /* a traced run changes no map */
			underlay_remember(cfg, dst, now, fib);
		return MX_DROP_NONE;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return MX_DROP_UNDERLAY_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return MX_DROP_UNDERLAY_MTU;
	default:
		return MX_DROP_UNDERLAY_ROUTE;
	}
}

static __always_inline enum mx_drop_reason underlay_route(struct __sk_buff *skb,
							  const struct mx_config *cfg, __be32 dst,
							  __u16 ip_len, struct bpf_fib_lookup *fib)
{
	return underlay_route_how(skb, cfg, dst, ip_len, fib, true);
}

/* The same without the cache, for a flood's copies: inside hop_flood's bounded loop of
 * remote hosts the cache's branches cost the verifier 683k instructions against 226k (its
 * load time with them), and a flood's copy pays clone_redirect's transmit, some 1.4 us,
 * beside which the lookup is small (docs/benchmarks.md). */
static __always_inline enum mx_drop_reason underlay_route_uncached(struct __sk_buff *skb,
								   const struct mx_config *cfg,
								   __be32 dst, __u16 ip_len,
								   struct bpf_fib_lookup *fib)
{
	return underlay_route_how(skb, cfg, dst, ip_len, fib, false);
}

#endif
