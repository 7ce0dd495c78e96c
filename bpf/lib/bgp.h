/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BGP uplinks (docs/bgp.md): midox_bgp and the two steps that use it. On an exterior router
 * port, bgp_steer hands the speaker what is its (TCP 179 and ICMP between a peer and the
 * port's address; a copy of the peer's ARP replies to that address, which the router still
 * takes, so that it learns the peer's MAC as usual) before the router sees the frame;
 * everything else goes on to the router as before. On the speaker's veth, bgp_from_speaker
 * sends what the speaker addresses to a peer out of the exterior interface, and drops the
 * rest. */
#ifndef MX_BPF_BGP_H
#define MX_BPF_BGP_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/bgp.h"
#include "lib/parse.h"
#include "lib/stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_BGP_MAX_ENTRIES);
	__type(key, struct mx_bgp_key);
	__type(value, struct mx_bgp);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_bgp SEC(".maps");

/* Not the speaker's: go on with the router. */
#define BGP_PASS (-1)

static __always_inline const struct mx_bgp *bgp_lookup(__u32 ifindex, __be32 peer, __u32 flag)
{
	struct mx_bgp_key k = { .ifindex = ifindex, .peer = peer };
	const struct mx_bgp *v = bpf_map_lookup_elem(&midox_bgp, &k);

	return v && (v->flags & flag) ? v : NULL;
}

/* TCP with port 179 on either side, or ICMP: a BGP session's packets and a ping. */
static __always_inline bool bgp_l4_ours(struct cursor *c, const struct iphdr *ip)
{
	struct tcphdr *tcp;

	if (ip->protocol == IPPROTO_ICMP)
		return true;
	if (ip->protocol != IPPROTO_TCP || !ipv4_is_first_fragment(ip))
		return false;
	tcp = cursor_take(c, sizeof(*tcp));
	return tcp && (tcp->source == bpf_htons(MX_BGP_PORT) || tcp->dest == bpf_htons(MX_BGP_PORT));
}

/* A frame from the exterior interface of a router port that has a speaker: TC_ACT_REDIRECT
 * (or a drop) when it is the speaker's, BGP_PASS when the router takes it. */
static __always_inline int bgp_steer(struct __sk_buff *skb)
{
	struct arp_eth_ipv4 *arp;
	const struct mx_bgp *v;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct cursor c;

	pull_headers(skb, sizeof(*eth) + 60 + sizeof(struct tcphdr));
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth)
		return BGP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		arp = parse_arp(&c);
		if (!arp)
			return BGP_PASS;
		v = bgp_lookup(skb->ifindex, arp->spa, MX_BGP_TO_SPEAKER);
		/* The peer's replies to the port's address: a copy to the speaker (that is
		 * how it resolves the peer), and the router takes them as always (it learns
		 * the peer's MAC). The peer's requests are the router's alone: it answers them
		 * with the port's MAC, the speaker's too; a copy would make the speaker answer
		 * as well, and the peer get every reply twice. */
		if (v && arp->tpa == v->local && arp->hdr.ar_op == bpf_htons(ARPOP_REPLY))
			bpf_clone_redirect(skb, v->to_ifindex, 0);
		return BGP_PASS;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP) || parse_ipv4(&c, &ip) != PARSE_IPV4_OK)
		return BGP_PASS;
	v = bgp_lookup(skb->ifindex, ip->saddr, MX_BGP_TO_SPEAKER);
	if (!v || ip->daddr != v->local || !bgp_l4_ours(&c, ip))
		return BGP_PASS;
	return bpf_redirect(v->to_ifindex, 0);
}

/* A frame the speaker sent (ingress of its veth's host side): out of the exterior
 * interface when it is for a peer (IPv4 to it, ARP asking or answering it), else dropped. */
static __always_inline int bgp_from_speaker(struct __sk_buff *skb)
{
	const struct mx_bgp *v = NULL;
	struct arp_eth_ipv4 *arp;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct cursor c;

	pull_headers(skb, sizeof(*eth) + sizeof(*arp));
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth)
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_ETH_TRUNCATED);
	if (eth->h_proto == bpf_htons(ETH_P_ARP) && (arp = parse_arp(&c)))
		v = bgp_lookup(skb->ifindex, arp->tpa, MX_BGP_TO_WIRE);
	else if (eth->h_proto == bpf_htons(ETH_P_IP) && parse_ipv4(&c, &ip) == PARSE_IPV4_OK)
		v = bgp_lookup(skb->ifindex, ip->daddr, MX_BGP_TO_WIRE);
	if (!v)
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_BGP_NOT_PEER);
	stats_tx(skb, v->port_key, 0, skb->len);
	return bpf_redirect(v->to_ifindex, 0);
}

#endif
