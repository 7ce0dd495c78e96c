/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* underlay_ingress: VXLAN from the other hosts, decapsulated and delivered to local ports.
 * Everything that is not VXLAN to our port belongs to the host and passes untouched. */
#ifndef MX_BPF_UNDERLAY_H
#define MX_BPF_UNDERLAY_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/config.h"
#include "lib/flood.h"
#include "lib/flowstate_import.h"
#include "lib/parse.h"
#include "lib/port.h"
#include "lib/stats.h"
#include "lib/tunnel.h"
#include "lib/vxlan.h"

/* Outer Ethernet, IPv4 with the longest options, UDP, VXLAN, inner Ethernet. */
#define UNDERLAY_PULL_LEN (14 + 60 + 8 + 8 + 14)

/* VNI = a local port: only that port (the sending host simulated its filters). VNI = a
 * bridge: every local port of that bridge, each copy through its port's outfilter, never
 * back into the overlay. inner_off: where the inner Ethernet frame starts. */
static __always_inline int underlay_deliver(struct __sk_buff *skb, __u32 vni, __u32 inner_off)
{
	const struct mx_port *port = port_lookup(vni);
	const struct mx_bridge *br;

	if (port && (port->flags & MX_PORT_LOCAL)) {
		/* The sending host drops this too; its agent may not have caught up yet. */
		if (port_down(port))
			return stats_drop(skb, vni, MX_DROP_ADMIN_DOWN);
		if (vxlan_pop(skb, inner_off))
			return stats_drop(skb, MX_STATS_HOST, MX_DROP_DECAP_FAILED);
		stats_tx(skb, vni, port->stats_slot, skb->len);
		trace_step(skb, MX_TRACE_DELIVER, vni, port->ifindex, 0, 0);
		return bpf_redirect(port->ifindex, 0);
	}
	br = bridge_lookup(vni);
	if (!br)
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_VXLAN_UNKNOWN_VNI);
	if (vxlan_pop(skb, inner_off))
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_DECAP_FAILED);
	flood_local(skb, br, vni, 0, MX_STATS_HOST, 0);
	return TC_ACT_STOLEN;
}

/* Checks on a frame to our VXLAN port, from the outer IPv4 header on. */
static __always_inline int underlay_vxlan(struct __sk_buff *skb, struct cursor *c,
					  const struct iphdr *ip, const struct mx_config *cfg)
{
	enum mx_drop_reason reason;
	struct vxlanhdr *vx;
	__u32 vni, inner_off;

	stats_rx(skb, MX_STATS_HOST, MX_TRAFFIC_HOST_SLOT, skb->len);
	if (ipv4_is_fragment(ip))
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_IP_FRAGMENT);
	if (!cfg->tunnel_addr || ip->daddr != cfg->tunnel_addr)
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_TUNNEL_NOT_LOCAL);
	if (!tunnel_is_member(ip->saddr))
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_TUNNEL_NOT_MEMBER);
	vx = parse_vxlan(c);
	if (!vx || !parse_eth(c))
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_VXLAN_TRUNCATED);
	if (!(vx->flags & bpf_htonl(VXLAN_FLAG_VNI)))
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_VXLAN_FLAGS);
	vni = bpf_ntohl(vx->vni) >> 8;
	inner_off = sizeof(struct ethhdr) + ip->ihl * 4 + sizeof(struct udphdr) +
		    sizeof(struct vxlanhdr);
	if (vni == MX_FS_VNI) { /* connection-tracking records first, then the real VNI */
		reason = flowstate_import(skb, inner_off, bpf_ktime_get_ns(), MX_STATS_HOST, &vni,
					  &inner_off);
		if (reason != MX_DROP_NONE)
			return stats_drop(skb, MX_STATS_HOST, reason);
	}
	return underlay_deliver(skb, vni, inner_off);
}

static __always_inline int underlay_ingress_run(struct __sk_buff *skb)
{
	const struct mx_config *cfg = config_get();
	struct udphdr *udp;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct cursor c;

	trace_begin(skb);
	pull_headers(skb, UNDERLAY_PULL_LEN);
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!cfg || !eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	switch (parse_ipv4(&c, &ip)) {
	case PARSE_IPV4_TRUNCATED:
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_IP_TRUNCATED);
	case PARSE_IPV4_BAD_IHL:
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_IP_BAD_IHL);
	default:
		break;
	}
	/* Later fragments carry no UDP header: the host's, as far as we can tell. */
	if (ip->protocol != IPPROTO_UDP || !ipv4_is_first_fragment(ip))
		return TC_ACT_OK;
	udp = parse_udp(&c);
	if (!udp)
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_UDP_TRUNCATED);
	if (!cfg->vxlan_port || udp->dest != cfg->vxlan_port)
		return TC_ACT_OK;
	return underlay_vxlan(skb, &c, ip, cfg);
}

#endif
