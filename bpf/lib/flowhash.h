/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow hashes from a frame's headers: ECMP's choice among a route's next hops (lib/route.h)
 * and the outer UDP source port of VXLAN (lib/vxlan.h). */
#ifndef MX_BPF_FLOWHASH_H
#define MX_BPF_FLOWHASH_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/parse.h"

static __always_inline __u32 hash_mix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* The flow hash for ECMP: addresses, protocol and, for TCP, UDP and SCTP packets that are
 * not fragments, the ports. Every fragment of a datagram (the first too) hashes on L3 only,
 * so that all of them take the same path. l4: the cursor after the IPv4 header. */
static __always_inline __u32 flow_hash(const struct iphdr *ip, const struct cursor *l4)
{
	struct cursor c = *l4;
	__u32 h = hash_mix(ip->saddr) ^ ip->daddr;
	__u32 *ports;

	h = hash_mix(h ^ ip->protocol);
	if (ipv4_is_fragment(ip) || (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP &&
				     ip->protocol != IPPROTO_SCTP))
		return h;
	ports = cursor_take(&c, sizeof(*ports));
	return ports ? hash_mix(h ^ *ports) : h;
}

/* The flow hash of the frame at the start of skb: the kernel's when the skb has one (a local
 * socket's, the receiving NIC's), else flow_hash of an IPv4 packet, else one of its MACs and
 * EtherType (ARP, IPv6 and the rest: one flow a pair of stations), read from what the
 * program has pulled already; the kernel's flow dissector (bpf_get_hash_recalc), which cost
 * a remote frame some 90 ns (docs/benchmarks.md), only when the headers are not in the
 * linear data. A global function: verified once on its own, not in every state of its
 * callers. */
__noinline __u32 frame_flow_hash(struct __sk_buff *skb)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct cursor c;
	__u32 a, b;

	if (skb->hash)
		return skb->hash;
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth)
		return bpf_get_hash_recalc(skb);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		if (parse_ipv4(&c, &ip) == PARSE_IPV4_OK)
			return flow_hash(ip, &c);
		return bpf_get_hash_recalc(skb);
	}
	__builtin_memcpy(&a, eth->h_dest + 2, sizeof(a));
	__builtin_memcpy(&b, eth->h_source + 2, sizeof(b));
	return hash_mix(hash_mix(a ^ eth->h_proto) ^ b);
}

#endif
