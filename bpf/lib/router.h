/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The virtual router: one device step of the pipeline (lib/pipeline.h). ARP for its port
 * addresses, ICMP echo, TTL, longest-prefix routes with weighted ECMP, MAC rewrite, ARP
 * requests for unknown next hops, ICMP errors. */
#ifndef MX_BPF_ROUTER_H
#define MX_BPF_ROUTER_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/port.h"
#include "midox/router.h"
#include "lib/arp.h"
#include "lib/csum.h"
#include "lib/deliver.h"
#include "lib/filter.h"
#include "lib/hop.h"
#include "lib/icmp.h"
#include "lib/parse.h"
#include "lib/port.h"
#include "lib/neigh.h"
#include "lib/route.h"
#include "lib/stats.h"
#include "lib/trace.h"

/* Ethernet, IPv4 with the longest options, the first 8 bytes of L4 (ports, ICMP header). */
#define ROUTER_PULL_LEN (ETH_HLEN + 60 + 8)

/* The ARP request that replaces a packet whose next hop's MAC is unknown, padded to the
 * Ethernet minimum: the kernel will not cut a CHECKSUM_PARTIAL TCP packet (sent by a local
 * VM) shorter than its TCP checksum field, 52 bytes in. */
struct arp_request_frame {
	struct ethhdr eth;
	struct arp_eth_ipv4 arp;
	__u8 pad[18];
} __attribute__((packed));
_Static_assert(sizeof(struct arp_request_frame) == 60, "ARP request padded to 60 bytes");

/* Leave the router by port e_key (e: its entry; peer: its peer's entry, handed over by
 * router_peer, NULL for none): on into the peer device when interior, else out of the
 * exterior port, here or on its host. */
static __always_inline struct step router_out(struct __sk_buff *skb, const struct hop *h,
					      __u32 e_key, const struct mx_port *e,
					      const struct mx_port *peer)
{
	if (e->flags & MX_PORT_INTERIOR)
		return step_next_passed(e->peer_key, peer);
	return step_done(deliver_port(skb, h->entry, e_key, e));
}

/* Answer the packet with an ICMP error from router port p, back out of the ingress
 * interface; the caller has counted why. None is sent for GSO packets (the quote would
 * need the segmented packet), nor where RFC 1812 forbids one; at most as fast as the rate
 * limit allows (MX_DROP_ICMP_RATE counted when suppressed). One call site: the verifier
 * then walks this code once, not once per reason. */
static __always_inline int router_icmp_error(struct __sk_buff *skb, const struct hop *h,
					     const struct mx_port *p, const struct iphdr *ip,
					     const struct cursor *l4, __u8 type, __u8 code)
{
	struct icmp_error_to t;

	if (skb->gso_size || !icmp_error_allowed(ip, l4))
		return TC_ACT_SHOT;
	/* A traced run takes nothing from the budget (state): it shows the error as sent. */
	if (!h->trace && !icmp_rate_take())
		return stats_drop(skb, h->entry, MX_DROP_ICMP_RATE);
	trace_step(skb, MX_TRACE_ICMP_ERROR, h->entry, type, code, 0);
	t.from = p->addr;
	t.to = ip->saddr;
	mac_copy(t.from_mac, p->mac);
	mac_copy(t.to_mac, h->src_mac);
	t.ip_hlen = ip->ihl * 4;
	t.ip_len = bpf_ntohs(ip->tot_len);
	/* What its infilters translated (a floating IP's DNAT) is quoted as it arrived. */
	if (p->flags & FILTER_ANY)
		t.to = nat_router_undo(skb, h->entry, ip->saddr, ip->daddr);
	if (icmp_error(skb, &t, type, code) < 0)
		return TC_ACT_SHOT;
	return filter_send_answer(skb, h, p->flags);
}

/* A packet to an address of the router: echo requests are answered, the rest dropped. */
static __always_inline int router_local(struct __sk_buff *skb, const struct hop *h,
					const struct mx_port *p, struct ethhdr *eth,
					struct iphdr *ip, const struct cursor *l4)
{
	struct cursor c = *l4;
	struct icmphdr *icmp;

	if (ip->protocol == IPPROTO_ICMP && !ipv4_is_fragment(ip)) {
		icmp = cursor_take(&c, sizeof(*icmp));
		if (icmp && icmp->type == ICMP_ECHO && !icmp->code) {
			trace_step(skb, MX_TRACE_ECHO_REPLY, h->entry, ip->daddr, 0, 0);
			icmp_echo_reply(eth, ip, icmp, p->mac, h->src_mac);
			return filter_send_answer(skb, h, p->flags);
		}
	}
	return stats_drop(skb, h->entry, MX_DROP_ROUTER_LOCAL);
}

/* Whether the MAC of next on the link of egress port e is known, copied into mac: the
 * router's ARP table, else (interior port: peer is its peer's entry, NULL for none or an
 * exterior e) the peer bridge's known addresses, or the peer's own MAC when it is a router
 * port. */
static __always_inline bool router_neigh(__u32 router_key, __be32 next,
					 const struct mx_port *peer, __u8 *mac)
{
	const struct mx_neigh_entry *r = neigh_lookup(router_key, next);

	if (r) {
		mac_copy(mac, r->mac);
		return true;
	}
	if (!peer)
		return false;
	if (peer->flags & MX_PORT_ROUTER) {
		mac_copy(mac, peer->mac);
		return true;
	}
	return arp_lookup(peer->device_key, next, mac);
}

/* The next hop's MAC is unknown: the packet becomes an ARP request for it from egress port
 * e, to be sent where e leads (flooded on a peer bridge, out of an exterior port); the
 * packet itself is counted as dropped. 0, or the helper's negative errno when the skb could
 * not be reshaped. */
static __always_inline int router_arp_request(struct __sk_buff *skb, const struct hop *h,
					      const struct mx_port *e, __be32 next)
{
	struct arp_request_frame f = { 0 };
	long err;

	__builtin_memset(f.eth.h_dest, 0xff, ETH_ALEN);
	mac_copy(f.eth.h_source, e->mac);
	f.eth.h_proto = bpf_htons(ETH_P_ARP);
	f.arp.hdr.ar_hrd = bpf_htons(ARPHRD_ETHER);
	f.arp.hdr.ar_pro = bpf_htons(ETH_P_IP);
	f.arp.hdr.ar_hln = ETH_ALEN;
	f.arp.hdr.ar_pln = 4;
	f.arp.hdr.ar_op = bpf_htons(ARPOP_REQUEST);
	mac_copy(f.arp.sha, e->mac);
	f.arp.spa = e->addr;
	f.arp.tpa = next;
	stats_drop(skb, h->entry, MX_DROP_ARP_MISS);
	err = bpf_skb_change_tail(skb, sizeof(f), 0);
	if (!err)
		err = bpf_skb_store_bytes(skb, 0, &f, sizeof(f), 0);
	return (int)err;
}

/* The entry of e's peer when e is an interior port (NULL for none, or an exterior e): read
 * once, where it is handed over to the next device (lib/hop.h: off the stack, which
 * hop_router has little of), for the link's state, the next hop's MAC and the next device
 * (router_out). */
static __always_inline const struct mx_port *router_peer(const struct mx_port *e)
{
	if (!(e->flags & MX_PORT_INTERIOR))
		return NULL;
	return hop_port_pass_read(e->peer_key, e->peer_slot);
}

/* The router's outfilter and egress port e's (key e_key), after routing and before the
 * rewrite, and the commit of a new connection; then the headers again (the evaluation may
 * have moved them). false: dropped, counted (*verdict). */
static __always_inline bool router_filters_leave(struct __sk_buff *skb, const struct hop *h,
						 __u32 router_key, __u32 e_key,
						 const struct mx_port *e, struct ethhdr **eth,
						 struct iphdr **ip, int *verdict)
{
	int reason = filters_leave(skb, h, router_key, e_key, e);
	struct cursor c;

	if (reason == MX_DROP_NONE) {
		cursor_init(&c, skb);
		*eth = parse_eth(&c);
		if (*eth && parse_ipv4(&c, ip) == PARSE_IPV4_OK)
			return true;
		*verdict = stats_drop(skb, h->entry, MX_DROP_IP_TRUNCATED); /* never: read before */
		return false;
	}
	*verdict = filter_refuse(skb, h, reason);
	return false;
}

/* Forward by next hop nh: the outfilters, TTL and MACs rewritten (or the packet replaced by
 * an ARP request for the next hop), then out of its port. */
static __always_inline struct step router_forward(struct __sk_buff *skb, const struct hop *h,
						  __u32 router_key, const struct mx_nexthop *nh,
						  struct ethhdr *eth, struct iphdr *ip)
{
	struct mx_hop_port *scratch = hop_scratch();
	const struct mx_port *e, *peer;
	__u32 e_key = nh->port_key;
	__u8 dmac[ETH_ALEN];
	__be32 next;
	int verdict;
	__be16 old;

	/* The egress port's entry, read off the stack (lib/hop.h): from midox_portslot when
	 * the route names its slot. */
	if (!scratch || !port_read_slot(e_key, nh->port_slot, &scratch->egress))
		return step_done(stats_drop(skb, h->entry, MX_DROP_PORT_UNBOUND));
	e = &scratch->egress;
	if (!(e->flags & MX_PORT_ROUTER) || e->device_key != router_key)
		return step_done(stats_drop(skb, h->entry, MX_DROP_PORT_UNBOUND));
	peer = router_peer(e);
	/* e down, or interior and its link's other end down (its bridge set down): what e
	 * sends would be dropped entering there, and an ARP request made first would count
	 * the packet twice (arp-miss, then admin-down). */
	if (port_down(e) || (peer && port_down(peer)))
		return step_done(stats_drop(skb, h->entry, MX_DROP_ADMIN_DOWN));
	if ((e->flags & (FILTER_ANY | MX_PORT_DEVICE_CT)) &&
	    !router_filters_leave(skb, h, router_key, e_key, e, &eth, &ip, &verdict))
		return step_done(verdict);
	/* After the outfilters: a DNAT there changes the destination a direct route
	 * resolves. */
	next = nh->gw ? nh->gw : ip->daddr;
	if (router_neigh(router_key, next, peer, dmac)) {
		trace_step(skb, MX_TRACE_NEXT_HOP, router_key, next, 0, trace_mac(dmac));
		old = ((__be16 *)ip)[4]; /* ttl, protocol */
		ip->ttl--;
		csum_replace2(&ip->check, old, ((__be16 *)ip)[4]);
		mac_copy(eth->h_dest, dmac);
		mac_copy(eth->h_source, e->mac);
	} else {
		trace_step(skb, MX_TRACE_ARP_REQUEST, e_key, next, 0, 0);
		if (router_arp_request(skb, h, e, next) < 0)
			return step_done(TC_ACT_SHOT);
	}
	return router_out(skb, h, e_key, e, peer);
}

static __always_inline struct step router_ipv4(struct __sk_buff *skb, const struct hop *h,
					       const struct mx_port *p, struct ethhdr *eth,
					       struct cursor *c)
{
	__u32 router_key = p->device_key;
	struct mx_nexthop hop = {}, *nh = NULL;
	const struct mx_route *rt;
	__u32 member = 0;
	struct iphdr *ip;

	switch (parse_ipv4(c, &ip)) {
	case PARSE_IPV4_TRUNCATED:
		return step_done(stats_drop(skb, h->entry, MX_DROP_IP_TRUNCATED));
	case PARSE_IPV4_BAD_IHL:
		return step_done(stats_drop(skb, h->entry, MX_DROP_IP_BAD_IHL));
	default:
		break;
	}
	/* RFC 1812 5.2.2: a router verifies the header checksum before it forwards, answers
	 * or sends an error about a packet. */
	if (!ipv4_csum_valid(ip, c->end))
		return step_done(stats_drop(skb, h->entry, MX_DROP_IP_CHECKSUM));
	if (ipv4_is_multicast_or_bcast(ip->daddr))
		return step_done(stats_drop(skb, h->entry, MX_DROP_ROUTER_NOT_OURS));
	rt = route_lookup(router_key, ip->daddr);
	if (rt && route_is_local(rt))
		return step_done(router_local(skb, h, p, eth, ip, c));
	if (ip->ttl <= 1) {
		stats_drop(skb, h->entry, MX_DROP_TTL_EXCEEDED);
		return step_done(router_icmp_error(skb, h, p, ip, c, ICMP_TIME_EXCEEDED,
						   ICMP_EXC_TTL));
	}
	if (rt && route_choose(rt, ip, c, &hop, &member)) {
		nh = &hop;
		trace_step(skb, MX_TRACE_ROUTE, router_key, member, rt->n,
			   (__u64)hop.gw << 32 | hop.port_key);
	}
	if (nh && nh->type == MX_ROUTE_NORMAL)
		return router_forward(skb, h, router_key, nh, eth, ip);
	if (nh && nh->type == MX_ROUTE_BLACKHOLE)
		return step_done(stats_drop(skb, h->entry, MX_DROP_BLACKHOLE));
	/* A LOCAL hop not alone in its set (the agent never makes one) counts as no route. */
	stats_drop(skb, h->entry, nh && nh->type == MX_ROUTE_REJECT ? MX_DROP_REJECT : MX_DROP_NO_ROUTE);
	return step_done(router_icmp_error(skb, h, p, ip, c, ICMP_DEST_UNREACH,
					   nh && nh->type == MX_ROUTE_REJECT ? ICMP_PKT_FILTERED :
									       ICMP_NET_UNREACH));
}

/* ARP on a router port: requests for the port's addresses are answered (and the asker
 * learned), replies are learned and consumed. */
static __always_inline int router_arp(struct __sk_buff *skb, const struct hop *h,
				      const struct mx_port *p, struct ethhdr *eth,
				      struct cursor *c)
{
	struct arp_eth_ipv4 *arp = parse_arp(c);
	__u32 router_key = p->device_key;

	if (!arp)
		return stats_drop(skb, h->entry, MX_DROP_NOT_IPV4);
	if (arp->hdr.ar_op == bpf_htons(ARPOP_REPLY)) {
		if (h->trace)
			trace_record(MX_TRACE_ARP_LEARN, router_key, arp->spa, 0, trace_mac(arp->sha));
		else
			neigh_learn(router_key, arp->spa, arp->sha, h->entry);
		return TC_ACT_STOLEN;
	}
	if (arp->hdr.ar_op != bpf_htons(ARPOP_REQUEST) ||
	    !route_owns(router_key, arp->tpa, h->entry))
		return stats_drop(skb, h->entry, MX_DROP_ROUTER_NOT_OURS);
	if (h->trace)
		trace_record(MX_TRACE_ARP_REPLY, router_key, arp->tpa, 0, trace_mac(p->mac));
	else
		neigh_learn(router_key, arp->spa, arp->sha, h->entry);
	arp_make_reply(eth, arp, p->mac);
	return filter_send_answer(skb, h, p->flags);
}

/* The frame enters router p->device_key through its port p (key h->entry). It must be
 * addressed to the port's MAC, or be a broadcast ARP. */
static __always_inline struct step router_step(struct __sk_buff *skb, const struct hop *h,
					       const struct mx_port *p)
{
	struct ethhdr *eth;
	struct cursor c;

	pull_headers(skb, ROUTER_PULL_LEN);
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth)
		return step_done(stats_drop(skb, h->entry, MX_DROP_ETH_TRUNCATED));
	if (eth->h_proto == bpf_htons(ETH_P_ARP) && mac_is_broadcast(eth->h_dest))
		return step_done(router_arp(skb, h, p, eth, &c));
	if (!mac_equal(eth->h_dest, p->mac))
		return step_done(stats_drop(skb, h->entry, MX_DROP_ROUTER_NOT_OURS));
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return step_done(router_arp(skb, h, p, eth, &c));
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return step_done(stats_drop(skb, h->entry, MX_DROP_NOT_IPV4));
	return router_ipv4(skb, h, p, eth, &c);
}

#endif
