/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* port_ingress: the virtual bridge, run on every frame a VM sends. */
#ifndef MX_BPF_BRIDGE_H
#define MX_BPF_BRIDGE_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/arp.h"
#include "lib/config.h"
#include "lib/fdb.h"
#include "lib/flood.h"
#include "lib/parse.h"
#include "lib/port.h"
#include "lib/stats.h"
#include "lib/tunnel.h"
#include "lib/vxlan.h"

/* Ethernet + Ethernet/IPv4 ARP: all port_ingress ever reads. */
#define BRIDGE_PULL_LEN 64

/* The frame's origin: the interface, its port and the port's bridge. */
struct ingress {
	__u32 ifindex;
	__u32 port_key;
	__u32 bridge_key;
};

/* Answer an ARP request from the bridge's table, out of the interface it came in on.
 * Returns the verdict, or -1 when the frame is not one to answer. */
static __always_inline int bridge_arp(struct __sk_buff *skb, struct cursor *c, struct ethhdr *eth,
				      const struct ingress *in)
{
	struct arp_eth_ipv4 *arp = parse_arp(c);
	const struct mx_arp_entry *e;

	if (!arp)
		return -1;
	e = arp_answer_for(arp, in->bridge_key);
	if (!e)
		return -1;
	arp_make_reply(eth, arp, e->mac);
	stats_tx(in->port_key, skb->len);
	return bpf_redirect(in->ifindex, 0);
}

/* Tunnel the frame to the host of remote port out_key, VNI = out_key. */
static __always_inline int bridge_to_remote(struct __sk_buff *skb, const struct ingress *in,
					    __u32 out_key, __be32 host_addr)
{
	const struct mx_config *cfg = config_get();
	__u16 ip_len = skb->gso_size ? 0 : vxlan_ip_len(skb->len);
	struct bpf_fib_lookup fib;
	enum mx_drop_reason reason;
	struct vxlan_outer o;

	if (!cfg || !cfg->tunnel_addr)
		return stats_drop(in->port_key, MX_DROP_NO_TUNNEL_ADDR);
	reason = underlay_route(skb, cfg, host_addr, ip_len, &fib);
	if (reason)
		return stats_drop(in->port_key, reason);
	vxlan_outer_init(&o, cfg, out_key, vxlan_sport(skb), skb->len);
	vxlan_outer_to(&o, host_addr, &fib);
	if (vxlan_push(skb) || vxlan_write(skb, &o))
		return stats_drop(in->port_key, MX_DROP_ENCAP_FAILED);
	stats_tx(out_key, skb->len);
	return bpf_redirect(fib.ifindex, 0);
}

/* Known unicast: deliver to port out_key, here or on its host. */
static __always_inline int bridge_unicast(struct __sk_buff *skb, const struct ingress *in,
					  __u32 out_key)
{
	const struct mx_port *out = port_lookup(out_key);

	if (!out)
		return stats_drop(in->port_key, MX_DROP_PORT_UNBOUND);
	if (out->device_key != in->bridge_key)
		return stats_drop(in->port_key, MX_DROP_CROSS_BRIDGE);
	if (out_key == in->port_key)
		return stats_drop(in->port_key, MX_DROP_HAIRPIN);
	if (out->flags & MX_PORT_LOCAL) {
		stats_tx(out_key, skb->len);
		return bpf_redirect(out->ifindex, 0);
	}
	if (out->flags & MX_PORT_REMOTE)
		return bridge_to_remote(skb, in, out_key, out->host_addr);
	return stats_drop(in->port_key, MX_DROP_PORT_UNBOUND);
}

/* Broadcast, multicast, unknown unicast: every copy is sent by clone, so the original is
 * consumed (TC_ACT_STOLEN: not a drop). */
static __always_inline int bridge_flood(struct __sk_buff *skb, const struct ingress *in)
{
	const struct mx_bridge *br = bridge_lookup(in->bridge_key);

	if (br) {
		flood_local(skb, br, in->ifindex, in->port_key);
		flood_remote(skb, br, in->bridge_key, in->port_key);
	}
	return TC_ACT_STOLEN;
}

/* Which port the frame came in on: 0 with in filled, or the verdict that drops it. */
static __always_inline int bridge_ingress_port(struct __sk_buff *skb, struct ingress *in)
{
	const struct mx_ifport *ifp = ifport_lookup(skb->ifindex);
	const struct mx_port *port;

	if (!ifp)
		return stats_drop(MX_STATS_HOST, MX_DROP_NO_PORT);
	in->ifindex = skb->ifindex;
	in->port_key = ifp->port_key;
	stats_rx(in->port_key, skb->len);
	port = port_lookup(in->port_key);
	if (!port)
		return stats_drop(in->port_key, MX_DROP_NO_PORT);
	in->bridge_key = port->device_key;
	return 0;
}

static __always_inline int bridge_ingress(struct __sk_buff *skb)
{
	const struct mx_fdb_entry *fdb;
	struct ingress in;
	struct ethhdr *eth;
	struct cursor c;
	int verdict;

	verdict = bridge_ingress_port(skb, &in);
	if (verdict)
		return verdict;
	pull_headers(skb, BRIDGE_PULL_LEN);
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth)
		return stats_drop(in.port_key, MX_DROP_ETH_TRUNCATED);
	if (mac_is_multicast(eth->h_source) || mac_is_zero(eth->h_source))
		return stats_drop(in.port_key, MX_DROP_SRC_MAC_INVALID);
	fdb_learn(in.bridge_key, eth->h_source, in.port_key);
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		verdict = bridge_arp(skb, &c, eth, &in);
		if (verdict >= 0)
			return verdict;
	}
	if (!mac_is_multicast(eth->h_dest)) {
		fdb = fdb_lookup(in.bridge_key, eth->h_dest);
		if (fdb)
			return bridge_unicast(skb, &in, fdb->port_key);
	}
	return bridge_flood(skb, &in);
}

#endif
