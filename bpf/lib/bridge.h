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
#include "lib/filter.h"
#include "lib/flood.h"
#include "lib/hop.h"
#include "lib/neigh.h"
#include "lib/parse.h"
#include "lib/port.h"
#include "lib/portsec.h"
#include "lib/stats.h"
#include "lib/trace.h"

/* All the bridge ever reads: Ethernet + Ethernet/IPv4 ARP, or (port security) Ethernet +
 * IPv4 with the longest options + UDP. */
#define BRIDGE_PULL_LEN (14 + 60 + 8)

/* The bridge answered a request for mac, the MAC of a station of bridge_key. When that
 * station is a router port (the agent's static MAC-table entry for it names the bridge's
 * interior port, whose peer is an up router port with that MAC), its router learns the
 * asker as router_arp would have, had the request reached it: the bridge's answer would
 * otherwise keep the router from ever seeing a VM's requests for its gateway, and its
 * entry for the VM would expire while the VM lives. A traced run records, writes nothing. */
static __always_inline void bridge_router_learn(const struct hop *h, __u32 bridge_key,
						const struct arp_eth_ipv4 *arp, const __u8 *mac)
{
	const struct mx_fdb_entry *fdb = fdb_lookup(bridge_key, mac);
	const struct mx_port *rp;
	struct mx_port bp;
	__u32 rp_key;

	if (!fdb || !(fdb->flags & MX_FDB_STATIC) ||
	    !port_read_slot(fdb->port_key, fdb->port_slot, &bp))
		return;
	if (bp.device_key != bridge_key || !(bp.flags & MX_PORT_INTERIOR))
		return;
	rp_key = bp.peer_key;
	rp = port_lookup(rp_key);
	if (!rp || !(rp->flags & MX_PORT_ROUTER) || port_down(rp) || !mac_equal(rp->mac, mac))
		return;
	if (h->trace)
		trace_record(MX_TRACE_ARP_LEARN, rp->device_key, arp->spa, 0, trace_mac(arp->sha));
	else
		neigh_learn(rp->device_key, arp->spa, arp->sha, rp_key);
}

/* An ARP request the bridge's table answers becomes the reply, in place. Whether it was
 * one (else the frame is untouched and forwarded as any other). */
static __always_inline bool bridge_arp_reply(const struct __sk_buff *skb, const struct hop *h,
					     struct cursor *c, struct ethhdr *eth,
					     __u32 bridge_key)
{
	struct arp_eth_ipv4 *arp = parse_arp(c);
	__u8 mac[ETH_ALEN];

	if (!arp || !arp_answer_for(arp, bridge_key, mac))
		return false;
	trace_step(skb, MX_TRACE_ARP_REPLY, bridge_key, arp->tpa, 0, trace_mac(mac));
	bridge_router_learn(h, bridge_key, arp, mac); /* before the request becomes the reply */
	arp_make_reply(eth, arp, mac);
	return true;
}

/* Known unicast: out of port out_key (out_slot: the MAC-table entry's hint of its counter
 * slot), or on into its peer when it is interior. */
static __always_inline struct step bridge_unicast(struct __sk_buff *skb, const struct hop *h,
						  __u32 bridge_key, __u32 out_key, __u32 out_slot)
{
	struct mx_port entry;
	const struct mx_port *out = &entry;
	int reason;

	if (!port_read_slot(out_key, out_slot, &entry))
		return step_done(stats_drop(skb, h->entry, MX_DROP_PORT_UNBOUND));
	if (out->device_key != bridge_key)
		return step_done(stats_drop(skb, h->entry, MX_DROP_CROSS_BRIDGE));
	if (out_key == h->entry)
		return step_done(stats_drop(skb, h->entry, MX_DROP_HAIRPIN));
	if (port_down(out))
		return step_done(stats_drop(skb, h->entry, MX_DROP_ADMIN_DOWN));
	reason = filters_leave(skb, h, bridge_key, out_key, out);
	if (reason != MX_DROP_NONE)
		return step_done(filter_refuse(skb, h, reason));
	if (out->flags & MX_PORT_INTERIOR)
		return step_next_slot(out->peer_key, out->peer_slot);
	return step_done(deliver_port(skb, h->entry, out_key, out));
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
		trace_step(skb, MX_TRACE_FLOOD, h.arg, br->n_local, br->n_remote, 0);
		flood_local(skb, br, h.arg, h.index ? 0 : skb->ifindex, h.entry, h.ingress);
		flood_remote(skb, br, h.arg, h.entry);
	}
	return TC_ACT_STOLEN;
}

/* The source of a frame entering from exterior port port, checked before it is learned or
 * answered (port security first, so that nothing spoofed is): why it is dropped, or
 * MX_DROP_NONE. */
static __always_inline enum mx_drop_reason bridge_source_check(const struct __sk_buff *skb,
							       struct cursor *c,
							       const struct ethhdr *eth,
							       const struct mx_port *port,
							       __u32 port_key)
{
	enum mx_drop_reason reason;

	if (mac_is_multicast(eth->h_source) || mac_is_zero(eth->h_source))
		return MX_DROP_SRC_MAC_INVALID;
	/* A VM port is an access port. The kernel has moved a tag into skb metadata, where it
	 * would survive encapsulation and put the VM's tunnel traffic on a VLAN of its choosing
	 * on the underlay: tagged frames stop here. */
	if (skb->vlan_present || eth->h_proto == bpf_htons(ETH_P_8021Q) ||
	    eth->h_proto == bpf_htons(ETH_P_8021AD))
		return MX_DROP_VLAN_TAGGED;
	if (!portsec_locked(port))
		return MX_DROP_NONE;
	reason = portsec_check(c, eth, port, port_key);
	if (reason == MX_DROP_NONE)
		trace_step(skb, MX_TRACE_PORTSEC, port_key, 0, 0, 0);
	return reason;
}

/* The frame enters the bridge of port (its device_key) through it, port h->entry. Source
 * checks, learning and ARP suppression happen only on the first hop, from an exterior port:
 * frames that come through an interior port were sent by a router, whose MACs the agent
 * installs as static entries. */
static __always_inline struct step bridge_step(struct __sk_buff *skb, struct hop *h,
					       const struct mx_port *port)
{
	__u32 bridge_key = port->device_key;
	const struct mx_fdb_entry *fdb;
	enum mx_drop_reason reason;
	struct ethhdr *eth;
	struct cursor c;

	pull_headers(skb, BRIDGE_PULL_LEN);
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth)
		return step_done(stats_drop(skb, h->entry, MX_DROP_ETH_TRUNCATED));
	if (!h->index) {
		reason = bridge_source_check(skb, &c, eth, port, h->entry);
		if (reason != MX_DROP_NONE)
			return step_done(stats_drop(skb, h->entry, reason));
		if (!h->trace && !fdb_port_station(port, eth->h_source))
			fdb_learn(bridge_key, eth->h_source, h->entry, port->stats_slot);
		if (eth->h_proto == bpf_htons(ETH_P_ARP) && bridge_arp_reply(skb, h, &c, eth, bridge_key))
			return step_done(filter_send_answer(skb, h, port->flags));
	}
	if (!mac_is_multicast(eth->h_dest)) {
		fdb = fdb_lookup(bridge_key, eth->h_dest);
		if (fdb) {
			trace_step(skb, MX_TRACE_MAC_HIT, bridge_key, fdb->port_key, 0, 0);
			return bridge_unicast(skb, h, bridge_key, fdb->port_key, fdb->port_slot);
		}
	}
	reason = filters_leave_flood(skb, h, port);
	if (reason != MX_DROP_NONE)
		return step_done(filter_refuse(skb, h, reason));
	return step_done(bridge_flood(skb, h, bridge_key));
}

#endif
