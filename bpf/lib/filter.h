/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The rule chains at MidoNet's evaluation points on the packet path (lib/pipeline.h,
 * docs/chains-datapath.md): entering a device by a port, the port's infilter then the
 * device's (a router's before routing); leaving it by a port, the device's outfilter (the
 * egress port known) then the port's outfilter. Which ports and devices have filters their
 * port entries say (MX_PORT_FILTERED, MX_PORT_DEVICE_FILTERED); midox_filter holds the
 * chains. A frame that meets no filter pays one flag test at each point. */
#ifndef MX_BPF_FILTER_H
#define MX_BPF_FILTER_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/chain.h"
#include "midox/port.h"
#include "midox/stats.h"
#include "midox/trace.h"
#include "lib/chain.h"
#include "lib/hop.h"
#include "lib/trace.h"
#include "lib/track.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_FILTER_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* read-only to the datapath */
	__type(key, __u32);
	__type(value, struct mx_filter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_filter SEC(".maps");

#define FILTER_ANY (MX_PORT_FILTERED | MX_PORT_DEVICE_FILTERED)
/* In MX_TRACE_CHAIN's c: the evaluation was an outfilter's. */
#define FILTER_OUT (1u << 8)

static __always_inline const struct mx_filter *filter_lookup(__u32 key)
{
	return bpf_map_lookup_elem(&midox_filter, &key);
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
 * is dropped, or MX_DROP_NONE to go on. Accept goes on, and so do the NAT verdicts: nothing
 * is rewritten before connection tracking exists. A reject is dropped, counted as such:
 * its answer (ICMP, TCP RST) is not sent yet. A traced run counts nothing (rule counters
 * are state). A subprogram: every point calls the same code. Packet pointers the caller
 * holds are dead after it (the evaluation may pull headers). */
static __noinline int filter_eval(struct __sk_buff *skb, __u32 owner, __u32 chain, __u32 where,
				  const struct chain_input *in)
{
	struct mx_chain_verdict v;

	v = chain_filter(skb, chain, in);
	if (trace_on(skb))
		trace_record(MX_TRACE_CHAIN, owner, chain, v.kind | where, filter_rule_id(v.rule));
	switch (v.kind) {
	case MX_CHAIN_V_DROP:
	case MX_CHAIN_V_TOO_LONG:
		return MX_DROP_CHAIN_DROP;
	case MX_CHAIN_V_REJECT:
		return MX_DROP_CHAIN_REJECT;
	default:
		return MX_DROP_NONE;
	}
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
					const struct chain_input *in)
{
	const struct mx_filter *f = filter_lookup(owner);
	__u32 chain = !f ? MX_CHAIN_NONE : where ? f->out_chain : f->in_chain;

	if (chain == MX_CHAIN_NONE)
		return MX_DROP_NONE;
	return filter_eval(skb, owner, chain, where, in);
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
	filter_input(skb, h, flags, &in);
	if (flags & MX_PORT_FILTERED) {
		reason = filter_apply(skb, h->entry, 0, &in);
		if (reason != MX_DROP_NONE)
			return reason;
	}
	if (flags & MX_PORT_DEVICE_FILTERED)
		return filter_apply(skb, device, 0, &in);
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
		reason = filter_apply(skb, device, FILTER_OUT, &in);
		if (reason != MX_DROP_NONE)
			return reason;
	}
	in.in_port = 0;
	if (flags & MX_PORT_FILTERED) {
		reason = filter_apply(skb, out_key, FILTER_OUT, &in);
		if (reason != MX_DROP_NONE)
			return reason;
	}
	return track_leave(skb, flags, device);
}

/* A frame a bridge floods (port: the entry port's entry) leaves by no one port: the
 * bridge's outfilter with no out_port, then the commit of a new connection. The flooded
 * copies pass no port's outfilter. */
static __always_inline int filters_leave_flood(struct __sk_buff *skb, const struct hop *h,
					       const struct mx_port *port)
{
	struct chain_input in = { .in_port = h->entry };
	int reason;

	if (!(port->flags & MX_PORT_DEVICE_FILTERED))
		return track_leave(skb, port->flags, port->device_key);
	filter_input(skb, h, port->flags, &in);
	reason = filter_apply(skb, port->device_key, FILTER_OUT, &in);
	if (reason != MX_DROP_NONE)
		return reason;
	return track_leave(skb, port->flags, port->device_key);
}

#endif
