/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The state of one pass through the virtual topology, and the tail calls that carry it (in
 * skb->cb) from one device's program to the next (lib/pipeline.h). */
#ifndef MX_BPF_HOP_H
#define MX_BPF_HOP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#include "midox/router.h"
#include "lib/port.h"
#include "lib/stats.h"
#include "lib/trace.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, MX_HOP_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_hop SEC(".maps");

/* midox_handover (include/midox/router.h): the next device's entry port, handed over. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_hop_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_handover SEC(".maps");

/* This CPU's entry of midox_handover. */
static __always_inline struct mx_hop_port *hop_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&midox_handover, &zero);
}

/* Hand port (key port_key) to the next program. */
static __always_inline void hop_port_pass(__u32 port_key, const struct mx_port *port)
{
	struct mx_hop_port *hp = hop_scratch();

	if (!hp)
		return;
	hp->port_key = port_key;
	hp->port = *port;
}

/* Hand port port_key to the next program, its entry read where it is handed over (from
 * midox_portslot at slot, a hint, else midox_port_v2: port_read_slot), not on the stack.
 * The entry, or NULL when the port has none (nothing handed over). */
static __always_inline const struct mx_port *hop_port_pass_read(__u32 port_key, __u32 slot)
{
	struct mx_hop_port *hp = hop_scratch();

	if (!hp)
		return NULL;
	hp->port_key = MX_TUNNEL_KEY_NONE;
	if (!port_read_slot(port_key, slot, &hp->port))
		return NULL;
	hp->port_key = port_key;
	return &hp->port;
}

/* The entry port handed over for port_key, else its midox_port_v2 entry. A handed-over
 * entry lives in midox_handover: the step's own hand-over of the next port (router_peer,
 * pipeline_next) writes over it, so a step reads what it needs of its entry port first. */
static __always_inline const struct mx_port *hop_port_take(__u32 port_key)
{
	struct mx_hop_port *hp = hop_scratch();

	if (hp && hp->port_key == port_key) {
		hp->port_key = MX_TUNNEL_KEY_NONE; /* taken once */
		return &hp->port;
	}
	return port_lookup(port_key);
}

struct hop {
	__u32 ingress;           /* port the frame entered the host by (rx counted there) */
	__u32 entry;             /* port the frame enters the current device through */
	__u32 arg;               /* the first router port entered (0: none yet), whose MAC a
				  * reject's answer comes from; then, for hop_flood, the bridge
				  * to flood (no answer is made after that) */
	__u8 src_mac[ETH_ALEN];  /* the frame's source MAC as it entered the host */
	__u8 index;              /* devices passed before this one: 0 = the ingress port's */
	__u8 trace;              /* a traced run (lib/trace.h) */
};

/* skb->cb layout (5 x 32 bits): [0] ingress, [1] entry, [2] src_mac[0..3],
 * [3] src_mac[4..5] | index << 16 | trace << TRACE_CB_SHIFT, [4] arg (within a device's
 * run, between entry and exit, connection tracking's verdict: lib/track.h). */
static __always_inline void hop_save(struct __sk_buff *skb, const struct hop *h)
{
	__u32 w0 = 0, w1 = 0;

	__builtin_memcpy(&w0, h->src_mac, 4);
	__builtin_memcpy(&w1, h->src_mac + 4, 2);
	skb->cb[0] = h->ingress;
	skb->cb[1] = h->entry;
	skb->cb[2] = w0;
	skb->cb[3] = w1 | (__u32)h->index << 16 | (__u32)h->trace << TRACE_CB_SHIFT;
	skb->cb[4] = h->arg;
}

static __always_inline void hop_load(const struct __sk_buff *skb, struct hop *h)
{
	__u32 w0 = skb->cb[2], w1 = skb->cb[3];

	h->ingress = skb->cb[0];
	h->entry = skb->cb[1];
	h->arg = skb->cb[4];
	__builtin_memcpy(h->src_mac, &w0, 4);
	__builtin_memcpy(h->src_mac + 4, &w1, 2);
	h->index = w1 >> 16;
	h->trace = w1 >> TRACE_CB_SHIFT;
}

/* What a device step did with the frame: finished it (STEP_DONE, with the tc verdict) or
 * sends it on into the device behind port next (STEP_NEXT). A type of its own, apart from
 * TC_ACT_*: no verdict can be taken for "go on", nor "go on" returned as a verdict. */
enum step_kind {
	STEP_DONE,
	STEP_NEXT,
};

struct step {
	enum step_kind kind;
	int verdict; /* STEP_DONE: TC_ACT_* */
	__u32 next;  /* STEP_NEXT: the port to enter next */
	__u32 slot;  /* STEP_NEXT: next's counter slot, a hint where midox_portslot holds its
		      * entry (0 = none: lib/port.h port_read_slot) */
	const struct mx_port *port; /* STEP_NEXT: next's entry when the step has handed it
				     * over already (hop_port_pass_read), else NULL */
};

static __always_inline struct step step_done(int verdict)
{
	return (struct step){ .kind = STEP_DONE, .verdict = verdict };
}

static __always_inline struct step step_next(__u32 port_key)
{
	return (struct step){ .kind = STEP_NEXT, .next = port_key };
}

/* The same with the hint of port_key's counter slot (an interior port's peer_slot, a
 * route's port_slot), so that pipeline_next reads the port's entry from an array. */
static __always_inline struct step step_next_slot(__u32 port_key, __u32 slot)
{
	return (struct step){ .kind = STEP_NEXT, .next = port_key, .slot = slot };
}

/* The same when the step has handed port_key's entry over already (port: what
 * hop_port_pass_read returned; NULL: there is none). */
static __always_inline struct step step_next_passed(__u32 port_key, const struct mx_port *port)
{
	return (struct step){ .kind = STEP_NEXT, .next = port_key, .port = port };
}

/* Continue in the program of slot with state h. Returns only when the slot is empty (the
 * loader fills every slot) or the kernel's tail-call limit is reached: the frame is dropped
 * as MX_DROP_HOP_LIMIT on port drop_key. One call site per slot, each with its slot as a
 * constant: the JIT then patches a direct jump into the slot's program, where a slot known
 * only at run time is an indirect jump, behind a retpoline on a mitigated kernel
 * (docs/benchmarks.md, "Levers of the per-packet cost"). */
static __always_inline int hop_tail(struct __sk_buff *skb, const struct hop *h, __u32 slot,
				    __u32 drop_key)
{
	hop_save(skb, h);
	if (slot == MX_HOP_SLOT_ROUTER)
		bpf_tail_call_static(skb, &midox_hop, MX_HOP_SLOT_ROUTER);
	else if (slot == MX_HOP_SLOT_BRIDGE)
		bpf_tail_call_static(skb, &midox_hop, MX_HOP_SLOT_BRIDGE);
	else if (slot == MX_HOP_SLOT_FLOOD)
		bpf_tail_call_static(skb, &midox_hop, MX_HOP_SLOT_FLOOD);
	return stats_drop(skb, drop_key, MX_DROP_HOP_LIMIT);
}

#endif
