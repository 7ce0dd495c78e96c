/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The simulation at the ingress host: device by device (bridge or router), each entered
 * through one of its ports, until the frame leaves by exactly one exterior port, floods on
 * a bridge, is answered or dropped. port_ingress runs a bridge itself (the common case
 * costs no tail call); a router, every further device and flooding are tail calls into
 * hop_router, hop_bridge and hop_flood (midox_hop) with the state in skb->cb (lib/hop.h),
 * so each program is verified once, whatever MX_MAX_DEVICE_HOPS is. */
#ifndef MX_BPF_PIPELINE_H
#define MX_BPF_PIPELINE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/router.h"
#include "lib/bgp.h"
#include "lib/bridge.h"
#include "lib/filter.h"
#include "lib/flowstate.h"
#include "lib/hop.h"
#include "lib/port.h"
#include "lib/ratelimit.h"
#include "lib/router.h"
#include "lib/stats.h"
#include "lib/trace.h"

static __always_inline __u32 device_slot(const struct mx_port *port)
{
	return port->flags & MX_PORT_ROUTER ? MX_HOP_SLOT_ROUTER : MX_HOP_SLOT_BRIDGE;
}

/* After a device step: its verdict, or into the next device through port s.next, at most
 * MX_MAX_DEVICE_HOPS devices a pass. Drops are counted on the port the frame entered the
 * last device by. */
static __always_inline int pipeline_next(struct __sk_buff *skb, struct hop *h, struct step s)
{
	__u32 from = h->entry;
	const struct mx_port *next;

	if (s.kind == STEP_DONE)
		return s.verdict;
	if (h->index + 1 >= MX_MAX_DEVICE_HOPS)
		return stats_drop(skb, from, MX_DROP_HOP_LIMIT);
	next = s.port ? s.port : hop_port_pass_read(s.next, s.slot);
	if (!next)
		return stats_drop(skb, from, MX_DROP_PORT_UNBOUND);
	h->index++;
	h->entry = s.next;
	return hop_tail(skb, h, device_slot(next), from);
}

/* port_ingress: a frame from the interface of a bound port (a VM's, or an exterior router
 * port's such as an uplink). rx is counted on that port. */
static __always_inline int pipeline_ingress(struct __sk_buff *skb)
{
	const struct mx_ifport *ifp = ifport_lookup(skb->ifindex);
	const struct mx_port *port;
	struct hop h = { 0 };
	int reason;

	h.trace = trace_begin(skb);
	flowstate_begin(); /* this pass's connection-tracking writes, for a tunnelled frame */
	if (!ifp)
		return stats_drop(skb, MX_STATS_HOST, MX_DROP_NO_PORT);
	h.ingress = ifp->port_key;
	h.entry = ifp->port_key;
	stats_rx(skb, h.ingress, ifp->port.stats_slot, skb->len);
	port = &ifp->port; /* the port's entry travels with the interface's: no second lookup */
	/* A router port's device is entered in hop_router, which says so. */
	if (trace_on(skb) && !(port->flags & MX_PORT_ROUTER))
		trace_record(MX_TRACE_ENTER, h.entry, port->device_key, 0, 0);
	if (port_down(port))
		return stats_drop(skb, h.entry, MX_DROP_ADMIN_DOWN);
	if (rate_limit_exceeded(skb, h.entry, port->flags))
		return stats_drop(skb, h.entry, MX_DROP_RATE_LIMIT);
	/* Fails only for a frame shorter than Ethernet, which the device step drops. */
	bpf_skb_load_bytes(skb, ETH_ALEN, h.src_mac, ETH_ALEN);
	if (port->flags & MX_PORT_ROUTER) { /* its filters in hop_router */
		int bgp = port->flags & MX_PORT_BGP ? bgp_steer(skb) : BGP_PASS;

		if (bgp != BGP_PASS)
			return bgp;
		hop_port_pass(h.entry, port);
		return hop_tail(skb, &h, MX_HOP_SLOT_ROUTER, h.entry);
	}
	reason = filters_enter(skb, &h, port);
	if (reason != MX_DROP_NONE)
		return filter_refuse(skb, &h, reason);
	return pipeline_next(skb, &h, bridge_step(skb, &h, port));
}

/* hop_bridge and hop_router: the device the frame enters through port cb->entry. */
static __always_inline int pipeline_hop(struct __sk_buff *skb, bool router)
{
	const struct mx_port *port;
	struct hop h;
	int reason;

	hop_load(skb, &h);
	port = hop_port_take(h.entry);
	if (!port)
		return stats_drop(skb, h.entry, MX_DROP_NO_PORT);
	trace_step(skb, MX_TRACE_ENTER, h.entry, port->device_key, router, 0);
	if (port_down(port))
		return stats_drop(skb, h.entry, MX_DROP_ADMIN_DOWN);
	/* The first router port entered: the MAC the sender addressed the frame to, which a
	 * reject's answer comes from (filter_reject_answer). */
	if (router && !h.arg)
		h.arg = h.entry;
	/* The port's infilter, then its device's: a router's before routing. */
	reason = filters_enter(skb, &h, port);
	if (reason != MX_DROP_NONE)
		return filter_refuse(skb, &h, reason);
	if (router)
		return pipeline_next(skb, &h, router_step(skb, &h, port));
	return pipeline_next(skb, &h, bridge_step(skb, &h, port));
}

#endif
