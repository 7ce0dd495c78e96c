/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The virtual bridge: one device step of the pipeline (lib/pipeline.h). */
#ifndef MX_BPF_BRIDGE_H
#define MX_BPF_BRIDGE_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/arp.h"
#include "lib/deliver.h"
#include "lib/fdb.h"
#include "lib/flood.h"
#include "lib/hop.h"
#include "lib/parse.h"
#include "lib/port.h"
#include "lib/portsec.h"
#include "lib/stats.h"

/* All the bridge ever reads: Ethernet + Ethernet/IPv4 ARP, or (port security) Ethernet +
 * IPv4 with the longest options + UDP. */
#define BRIDGE_PULL_LEN (14 + 60 + 8)

/* Answer an ARP request from the bridge's table, out of the interface it came in on.
 * Returns the verdict, or -1 when the frame is not one to answer. */
static __always_inline int bridge_arp(struct __sk_buff *skb, struct cursor *c, struct ethhdr *eth,
				      const struct hop *h, __u32 bridge_key)
{
	struct arp_eth_ipv4 *arp = parse_arp(c);
	const struct mx_arp_entry *e;

	if (!arp)
		return -1;
	e = arp_answer_for(arp, bridge_key);
	if (!e)
		return -1;
	arp_make_reply(eth, arp, e->mac);
	return deliver_back(skb, h->ingress);
}

/* Known unicast: out of port out_key, or on into its peer when it is interior. */
static __always_inline int bridge_unicast(struct __sk_buff *skb, struct hop *h, __u32 bridge_key,
					  __u32 out_key)
{
	const struct mx_port *out = port_lookup(out_key);

	if (!out)
		return stats_drop(h->entry, MX_DROP_PORT_UNBOUND);
	if (out->device_key != bridge_key)
		return stats_drop(h->entry, MX_DROP_CROSS_BRIDGE);
	if (out_key == h->entry)
		return stats_drop(h->entry, MX_DROP_HAIRPIN);
	if (out->flags & MX_PORT_INTERIOR) {
		h->next = out->peer_key;
		return STEP_NEXT;
	}
	return deliver_port(skb, h->entry, out_key, out);
}

/* Broadcast, multicast, unknown unicast: flooded by hop_flood (a program of its own: its
 * bounded loops are the most expensive code to verify, so they are verified once). */
static __always_inline int bridge_flood(struct __sk_buff *skb, struct hop *h, __u32 bridge_key)
{
	h->arg = bridge_key;
	return hop_tail(skb, h, MX_HOP_SLOT_FLOOD, h->entry);
}

/* hop_flood: every copy is sent by clone, so the original is consumed (TC_ACT_STOLEN: not a
 * drop). The ingress interface gets no copy of its own frame; a frame that reached the
 * bridge through an interior port came from no local port of it. */
static __always_inline int bridge_flood_run(struct __sk_buff *skb)
{
	const struct mx_bridge *br;
	struct hop h;

	hop_load(skb, &h);
	br = bridge_lookup(h.arg);
	if (br) {
		flood_local(skb, br, h.index ? 0 : skb->ifindex, h.entry);
		flood_remote(skb, br, h.arg, h.entry);
	}
	return TC_ACT_STOLEN;
}

/* The first device of a pass, entered from exterior port port: the source is checked
 * (port security first, so that nothing spoofed is learned or answered), then learned, and
 * an ARP request the bridge can answer is answered. Returns the verdict, or -1 to go on. */
static __always_inline int bridge_ingress(struct __sk_buff *skb, struct cursor *c,
					  struct ethhdr *eth, const struct hop *h,
					  const struct mx_port *port)
{
	__u32 bridge_key = port->device_key;
	enum mx_drop_reason reason;

	if (mac_is_multicast(eth->h_source) || mac_is_zero(eth->h_source))
		return stats_drop(h->entry, MX_DROP_SRC_MAC_INVALID);
	/* A VM port is an access port. The kernel has moved a tag into skb metadata, where it
	 * would survive encapsulation and put the VM's tunnel traffic on a VLAN of its choosing
	 * on the underlay: tagged frames stop here. */
	if (skb->vlan_present || eth->h_proto == bpf_htons(ETH_P_8021Q) ||
	    eth->h_proto == bpf_htons(ETH_P_8021AD))
		return stats_drop(h->entry, MX_DROP_VLAN_TAGGED);
	if (portsec_locked(port)) {
		reason = portsec_check(c, eth, port);
		if (reason != MX_DROP_NONE)
			return stats_drop(h->entry, reason);
	}
	fdb_learn(bridge_key, eth->h_source, h->entry);
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return bridge_arp(skb, c, eth, h, bridge_key);
	return -1;
}

/* The frame enters the bridge of port (its device_key) through it, port h->entry. Source
 * checks, learning and ARP suppression happen only on the first hop, from an exterior port:
 * frames that come through an interior port were sent by a router, whose MACs the agent
 * installs as static entries. */
static __always_inline int bridge_step(struct __sk_buff *skb, struct hop *h,
				       const struct mx_port *port)
{
	__u32 bridge_key = port->device_key;
	const struct mx_fdb_entry *fdb;
	struct ethhdr *eth;
	struct cursor c;
	int verdict;

	pull_headers(skb, BRIDGE_PULL_LEN);
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth)
		return stats_drop(h->entry, MX_DROP_ETH_TRUNCATED);
	if (!h->index) {
		verdict = bridge_ingress(skb, &c, eth, h, port);
		if (verdict >= 0)
			return verdict;
	}
	if (!mac_is_multicast(eth->h_dest)) {
		fdb = fdb_lookup(bridge_key, eth->h_dest);
		if (fdb)
			return bridge_unicast(skb, h, bridge_key, fdb->port_key);
	}
	return bridge_flood(skb, h, bridge_key);
}

#endif
