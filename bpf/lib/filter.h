/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The rule chains at MidoNet's evaluation points on the packet path (lib/pipeline.h,
 * docs/chains-datapath.md): entering a device by a port, the port's infilter then the
 * device's (a router's before routing); leaving it by a port, the device's outfilter (the
 * egress port known) then the port's outfilter. Which ports and devices have filters their
 * port entries say (MX_PORT_FILTERED, MX_PORT_DEVICE_FILTERED); midox_filter_v2 holds the
 * chains. A frame that meets no filter pays one flag test at each point. A reject is
 * answered (filter_refuse); the answers the datapath makes pass the outfilters of the ports
 * they leave by (filters_answer); a flooded copy its port's outfilter (flood_copy_refused). */
#ifndef MX_BPF_FILTER_H
#define MX_BPF_FILTER_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/chain.h"
#include "midox/port.h"
#include "midox/stats.h"
#include "midox/trace.h"
#include "lib/chain.h"
#include "lib/deliver.h"
#include "lib/elem.h"
#include "lib/hop.h"
#include "lib/icmp.h"
#include "lib/nat.h"
#include "lib/natdyn.h"
#include "lib/parse.h"
#include "lib/port.h"
#include "lib/reject.h"
#include "lib/stats.h"
#include "lib/trace.h"
#include "lib/track.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_FILTER_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* read-only to the datapath */
	__type(key, __u32);
	__type(value, struct mx_filter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_filter_v2 SEC(".maps");

#define FILTER_ANY (MX_PORT_FILTERED | MX_PORT_DEVICE_FILTERED)
/* In MX_TRACE_CHAIN's c: the evaluation was an outfilter's. */
#define FILTER_OUT (1u << 8)
/* Beside MX_DROP_CHAIN_REJECT in what the evaluation points return: the reject's answer is
 * a TCP RST (else an ICMP admin-prohibited). Never counted: filter_refuse takes it off. */
#define FILTER_REJECT_RST (1u << 16)
/* What filter_eval returns for a dynamic NAT rule that matched (its index in the low bits):
 * filter_apply applies it (bpf/lib/natdyn.h) and returns why the packet is dropped, or
 * MX_DROP_NONE; never further. */
#define FILTER_DYN_NAT (1u << 30)
#define FILTER_DYN_RULE 0xffffu
_Static_assert(2 * MX_CHAIN_RULES_MAX - 1 <= FILTER_DYN_RULE, "a rule index fits");

/* owner's in or outfilter (where: 0 or FILTER_OUT), MX_CHAIN_NONE for none: the chain id is
 * copied, then the entry's owner checked (lib/elem.h): an entry the kernel reused for
 * another owner while it was read is none, not that owner's chain. */
static __always_inline __u32 filter_chain(__u32 owner, __u32 where)
{
	const struct mx_filter *f = bpf_map_lookup_elem(&midox_filter_v2, &owner);
	__u32 chain;

	if (!f)
		return MX_CHAIN_NONE;
	chain = where ? f->out_chain : f->in_chain;
	elem_key_after_copy();
	return f->owner == owner ? chain : MX_CHAIN_NONE;
}

/* The id of the rule at index idx of midox_chrule, 0 for none. */
static __always_inline __u32 filter_rule_id(__u32 idx)
{
	const struct mx_chain_rule *r;

	if (idx == MX_CHAIN_RULE_NONE)
		return 0;
	r = bpf_map_lookup_elem(&midox_chrule, &idx);
	return r ? r->rule_id : 0;
}

/* Evaluate chain for owner (a port or device key; where: 0 or FILTER_OUT): why the frame
 * is dropped, or MX_DROP_NONE to go on. Accept goes on, and so do the NAT verdicts: what
 * static NAT rules decided is rewritten here (bpf/lib/nat.h), before the pipeline reads the
 * packet again (a router's infilter before routing); dynamic NAT (ranges, ports, the
 * reverse rules) rewrites nothing before connection tracking does. A reject is
 * MX_DROP_CHAIN_REJECT, with FILTER_REJECT_RST when a RST answers it. A traced run counts
 * nothing (rule counters are state). A subprogram: every point calls the same code. Packet
 * pointers the caller holds are dead after it (the evaluation may pull headers). */
static __always_inline int filter_eval_run(struct __sk_buff *skb, __u32 owner, __u32 chain,
					   __u32 where, const struct chain_input *in, const bool dyn)
{
	const struct mx_chain_nat *nat;
	struct mx_chain_verdict v;

	v = dyn ? chain_filter(skb, chain, in, NULL) : chain_filter_untracked(skb, chain, in, NULL);
	if (trace_on(skb))
		trace_record(MX_TRACE_CHAIN, owner, chain, v.kind | where, filter_rule_id(v.rule));
	switch (v.kind) {
	case MX_CHAIN_V_DROP:
	case MX_CHAIN_V_TOO_LONG:
		return MX_DROP_CHAIN_DROP;
	case MX_CHAIN_V_REJECT:
		return MX_DROP_CHAIN_REJECT |
		       (v.flags & MX_CHAIN_VF_TCP_RST ? FILTER_REJECT_RST : 0);
	default:
		/* The helper fails only on an skb it cannot write (never once the pipeline has
		 * written to it): dropped as the chain's. */
		nat = v.flags & MX_CHAIN_VF_NAT_RECORD ? nat_record() : NULL;
		if (nat && nat_static_apply(skb, nat))
			return MX_DROP_CHAIN_DROP;
		if (!(v.flags & MX_CHAIN_VF_DYN_NAT))
			return MX_DROP_NONE;
		/* Applied by the caller (filter_apply), a frame less deep. */
		return FILTER_DYN_NAT | (v.rule & FILTER_DYN_RULE);
	}
}

static __noinline int filter_eval(struct __sk_buff *skb, __u32 owner, __u32 chain, __u32 where,
				  const struct chain_input *in)
{
	return filter_eval_run(skb, owner, chain, where, in, true);
}

/* filter_eval where nothing is tracked (answers, flooded copies): its steps call no
 * dynamic rule's decision, which keeps the frames under filters_answer in 512 bytes. */
static __noinline int filter_eval_untracked(struct __sk_buff *skb, __u32 owner, __u32 chain,
					    __u32 where, const struct chain_input *in)
{
	return filter_eval_run(skb, owner, chain, where, in, false);
}

/* What every evaluation of this pass knows. The flow is connection tracking's answer on a
 * tracking device (lib/track.h); elsewhere every packet is a forward flow (MidoNet's answer
 * for a packet no connection knows). */
static __always_inline void filter_input(struct __sk_buff *skb, const struct hop *h,
					 __u32 port_flags, struct chain_input *in)
{
	in->ingress_port = h->ingress;
	/* A traced run is never tracked (lib/track.h): said here too, so that the verifier
	 * walks the evaluations with three inputs, not four. */
	if (trace_on(skb))
		in->flags = MX_CHAIN_IN_FWD_FLOW | MX_CHAIN_IN_NO_COUNT;
	else
		in->flags = track_is_return(skb, port_flags) ? 0 : MX_CHAIN_IN_FWD_FLOW;
}

/* owner's (a port or device key) in or outfilter (where: 0 or FILTER_OUT), if it has
 * one: why the frame is dropped, or MX_DROP_NONE. */
static __always_inline int filter_apply(struct __sk_buff *skb, __u32 owner, __u32 where,
					const struct chain_input *in, const bool tracked)
{
	__u32 chain = filter_chain(owner, where);
	int reason;

	if (chain == MX_CHAIN_NONE)
		return MX_DROP_NONE;
	reason = tracked ? filter_eval(skb, owner, chain, where, in)
			 : filter_eval_untracked(skb, owner, chain, where, in);
	/* natdyn_apply_global's result is any number to the verifier: its reasons are below
	 * MX_DROP_SLOTS, and one bounded unknown is one state, not three. */
	if (reason & FILTER_DYN_NAT)
		return natdyn_apply_global(skb, reason & FILTER_DYN_RULE) & (MX_DROP_SLOTS - 1);
	return reason;
}

/* The frame enters port h->entry (port: its entry) of port->device_key: connection
 * tracking's lookup when the device tracks, then the port's infilter and the device's,
 * each with the port as in_port. */
static __always_inline int filters_enter(struct __sk_buff *skb, const struct hop *h,
					 const struct mx_port *port)
{
	struct chain_input in = { .in_port = h->entry };
	__u32 flags = port->flags, device = port->device_key;
	int reason;

	track_enter(skb, flags, device);
	if (!(flags & FILTER_ANY))
		return MX_DROP_NONE;
	if (!(flags & MX_PORT_DEVICE_CT))
		natdyn_untracked(); /* the last tracking device's results are not this one's */
	if (flags & MX_PORT_ROUTER)
		nat_router_note(skb, h->entry);
	filter_input(skb, h, flags, &in);
	if (flags & MX_PORT_FILTERED) {
		reason = filter_apply(skb, h->entry, 0, &in, true);
		if (reason != MX_DROP_NONE)
			return reason;
	}
	if (flags & MX_PORT_DEVICE_FILTERED)
		return filter_apply(skb, device, 0, &in, true);
	return MX_DROP_NONE;
}

/* The frame leaves device by port out_key (out: its entry): the device's outfilter with
 * in_port and out_port, then the port's with out_port only; accepted, the connection it
 * opens on a tracking device is committed (ct-full when there is no room). */
static __always_inline int filters_leave(struct __sk_buff *skb, const struct hop *h,
					 __u32 device, __u32 out_key, const struct mx_port *out)
{
	struct chain_input in = { .in_port = h->entry, .out_port = out_key };
	__u32 flags = out->flags;
	int reason;

	if (!(flags & FILTER_ANY))
		return track_leave(skb, flags, device);
	filter_input(skb, h, flags, &in);
	if (flags & MX_PORT_DEVICE_FILTERED) {
		reason = filter_apply(skb, device, FILTER_OUT, &in, true);
		if (reason != MX_DROP_NONE)
			return reason;
	}
	in.in_port = 0;
	if (flags & MX_PORT_FILTERED) {
		reason = filter_apply(skb, out_key, FILTER_OUT, &in, true);
		if (reason != MX_DROP_NONE)
			return reason;
	}
	return track_leave(skb, flags, device);
}

/* A frame a bridge floods (port: the entry port's entry) leaves by no one port yet: the
 * bridge's outfilter with no out_port, then the commit of a new connection. Each copy then
 * passes its port's outfilter (flood_copy_refused). */
static __always_inline int filters_leave_flood(struct __sk_buff *skb, const struct hop *h,
					       const struct mx_port *port)
{
	struct chain_input in = { .in_port = h->entry };
	int reason;

	if (!(port->flags & MX_PORT_DEVICE_FILTERED))
		return track_leave(skb, port->flags, port->device_key);
	filter_input(skb, h, port->flags, &in);
	reason = filter_apply(skb, port->device_key, FILTER_OUT, &in, true);
	if (reason != MX_DROP_NONE)
		return reason;
	return track_leave(skb, port->flags, port->device_key);
}

/* A flooded copy leaves by port port_key (with MX_PORT_FILTERED), on the port's host: why its
 * outfilter drops it (a reject is not answered: the frame is still needed by the other
 * copies, and was sent to an address no one port owns), or MX_DROP_NONE. ingress: the port
 * the frame entered the topology by, 0 for a flood that came by the tunnel. The flow is a
 * forward one (a flood is never looked up in connection tracking). A global function: the
 * verifier checks it once, not once for every turn of the flood's loops. */
__noinline int flood_copy_refused(struct __sk_buff *skb, __u32 port_key, __u32 ingress)
{
	struct chain_input in = { .out_port = port_key, .ingress_port = ingress,
				  .flags = MX_CHAIN_IN_FWD_FLOW };

	if (!skb)
		return MX_DROP_NONE;
	if (trace_on(skb))
		in.flags |= MX_CHAIN_IN_NO_COUNT;
	natdyn_untracked(); /* the connection is committed: a copy's NAT would bind nothing */
	return filter_apply(skb, port_key, FILTER_OUT, &in, false) & ~FILTER_REJECT_RST;
}

/* An answer the datapath makes (a router's ARP and echo replies and ICMP errors, a bridge's
 * ARP reply, a reject's answer) leaves the device by the port the frame entered it by
 * (entry, flags: its entry's) and the topology by the ingress port: their outfilters, as
 * MidoNet simulates a generated packet from the port it is emitted on. The devices between
 * (a router behind a bridge) are not filtered again. A reject there is a drop: an answer is
 * never answered. Why the answer is dropped, or MX_DROP_NONE. A global function: the
 * verifier checks it once, not at each of the answers' call sites. */
__noinline int filters_answer(struct __sk_buff *skb, __u32 entry, __u32 ingress, __u32 flags)
{
	struct chain_input in = { .out_port = entry, .ingress_port = ingress,
				  .flags = MX_CHAIN_IN_FWD_FLOW };
	const struct mx_port *port;
	int reason;

	if (!skb)
		return MX_DROP_NONE;
	if (trace_on(skb))
		in.flags |= MX_CHAIN_IN_NO_COUNT;
	natdyn_untracked(); /* an answer is never tracked */
	if (flags & MX_PORT_FILTERED) {
		reason = filter_apply(skb, entry, FILTER_OUT, &in, false);
		if (reason != MX_DROP_NONE)
			return reason & ~FILTER_REJECT_RST;
	}
	if (entry == ingress)
		return MX_DROP_NONE;
	port = port_lookup(ingress);
	if (!port || !(port->flags & MX_PORT_FILTERED))
		return MX_DROP_NONE;
	in.out_port = ingress;
	return filter_apply(skb, ingress, FILTER_OUT, &in, false) & ~FILTER_REJECT_RST;
}

/* Send the answer the datapath made (flags: h->entry's port flags) back out of the ingress
 * interface, unless an outfilter on its way drops it (counted on h->entry). */
static __always_inline int filter_send_answer(struct __sk_buff *skb, const struct hop *h,
					      __u32 flags)
{
	int reason = filters_answer(skb, h->entry, h->ingress, flags);

	/* A global function's result is any number to the verifier: the reason counted is
	 * one of the two it can be. */
	if (reason != MX_DROP_NONE)
		return stats_drop(skb, h->entry, reason == MX_DROP_CHAIN_REJECT ?
					     MX_DROP_CHAIN_REJECT : MX_DROP_CHAIN_DROP);
	return deliver_back(skb, h->ingress, 0); /* counted by key: answers have no slot */
}

/* Turn the rejected frame into its answer to the sender (rst: a TCP RST, else an ICMP
 * unreachable, administratively prohibited), which goes back out of the ingress interface:
 * the sender is on this host (only the ingress host simulates). From whom: a router (the
 * frame entered a router port) answers as MidoNet's RouterPort.reject, the ICMP from the
 * address of the port the frame entered the router by; a bridge answers from the frame's
 * destination address, as the kernel's bridge reject (nft_reject_bridge) does; a RST always
 * comes from the destination's address and port (it must match the connection). The
 * Ethernet source is the MAC the sender addressed the frame to (the first router port it
 * entered, h->arg, else the frame's destination MAC): what its neighbour table expects.
 * None for what the kernel's REJECT never answers: a non-IPv4 frame, a broadcast or
 * multicast, a fragment other than the first, an ICMP error, a RST, a source that names no
 * single host, a bad IPv4 header checksum (the kernel drops those before any hook); nor for
 * a GSO packet, nor in a router for a frame not sent to its port's MAC. ICMP answers take
 * from the routers' ICMP budget (midox_icmprate, as the kernel's icmp_ratelimit limits
 * REJECT's ICMP); RSTs do not (the kernel does not limit nf_send_reset either). Whether
 * the answer was made; the caller sends it (filter_send_answer: apart, so that the
 * evaluation's frames do not stack on this one's buffers). A global function, checked
 * once. */
__noinline int filter_reject_answer(struct __sk_buff *skb, const struct hop *h, __u32 rst)
{
	const struct mx_port *entry, *first;
	struct icmp_error_to t;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct cursor c;

	if (!skb || !h)
		return 0;
	entry = port_lookup(h->entry);
	first = h->arg ? port_lookup(h->arg) : NULL;
	if (!entry || skb->gso_size)
		return 0;
	pull_headers(skb, ETH_HLEN + 60 + 8);
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP) || mac_is_multicast(eth->h_dest) ||
	    mac_is_multicast(h->src_mac) || parse_ipv4(&c, &ip) != PARSE_IPV4_OK ||
	    ipv4_is_multicast_or_bcast(ip->daddr) || !icmp_error_allowed(ip, &c) ||
	    !ipv4_csum_valid(ip, c.end))
		return 0;
	/* A router's filters run before it looks at the MAC: it answers only what was sent to
	 * it, as a router's interface hears only that. */
	if ((entry->flags & MX_PORT_ROUTER) && !mac_equal(eth->h_dest, entry->mac))
		return 0;
	mac_copy(t.from_mac, first ? first->mac : eth->h_dest);
	mac_copy(t.to_mac, h->src_mac);
	if (rst)
		return reject_tcp_rst(skb, t.from_mac, t.to_mac);
	/* A traced run takes nothing from the budget (state): it shows the answer as sent. */
	if (!h->trace && !icmp_rate_take()) {
		stats_drop(skb, h->entry, MX_DROP_ICMP_RATE);
		return 0;
	}
	t.from = entry->flags & MX_PORT_ROUTER ? entry->addr : ip->daddr;
	t.to = ip->saddr;
	t.ip_hlen = ip->ihl * 4;
	t.ip_len = bpf_ntohs(ip->tot_len);
	trace_step(skb, MX_TRACE_ICMP_ERROR, h->entry, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, 0);
	return icmp_error(skb, &t, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED) == 0;
}

/* A frame an evaluation point refused (reason, as the points return it): counted on
 * h->entry, and a reject answered (filter_reject_answer). The tc verdict. */
static __always_inline int filter_refuse(struct __sk_buff *skb, const struct hop *h, int reason)
{
	const struct mx_port *entry;

	if ((reason & ~FILTER_REJECT_RST) != MX_DROP_CHAIN_REJECT)
		return stats_drop(skb, h->entry, reason);
	stats_drop(skb, h->entry, MX_DROP_CHAIN_REJECT);
	if (!filter_reject_answer(skb, h, reason & FILTER_REJECT_RST))
		return TC_ACT_SHOT;
	entry = port_lookup(h->entry);
	return filter_send_answer(skb, h, entry ? entry->flags : 0);
}

#endif
