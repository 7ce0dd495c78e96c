/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Connection tracking in the pipeline (docs/conntrack.md, "In the pipeline"): a device whose
 * ports say so (MX_PORT_DEVICE_CT, set by the agent on every port of a device when a chain
 * evaluated for the device or one of its ports has a flow condition) looks the packet up
 * where the packet enters it, which gives its chains' flow input, and commits a new
 * connection once its outfilters have let the packet leave it. A packet that meets no
 * tracking device pays a flag test: no parse, no clock read.
 *
 * A device's entry and exit are in one program run; the verdict is kept in between in
 * skb->cb[TRACK_CB] (hop.h's arg word, which is only written again when the run hands the
 * frame on), tagged so that a word left by anything else never reads as a verdict. Not on
 * the stack: a verdict there multiplies the verifier's states of every path after it (the
 * router's program went past the verifier's million instructions). */
#ifndef MX_BPF_TRACK_H
#define MX_BPF_TRACK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/conntrack.h"
#include "midox/port.h"
#include "midox/stats.h"
#include "lib/conntrack.h"
#include "lib/trace.h"

#define TRACK_CB 4
#define TRACK_TAG 0x43540000u /* "CT" */
#define TRACK_TAG_MASK 0xffff0000u

/* The packet's verdict on device, tagged (a subprogram: its ct_pkt lives in its own frame,
 * not in the stack of every pipeline program). Packet pointers the caller holds are dead
 * after it (ct_parse pulls headers). */
__noinline __u32 track_lookup(struct __sk_buff *skb, __u32 device)
{
	struct mx_ct_pass *s = ct_pass();
	struct ct_pkt p;
	struct ct_result r;

	ct_parse(skb, device, &p);
	if (s) {
		__builtin_memset(s, 0, sizeof(*s));
		s->tin = p.key;
		s->kind = p.kind;
		s->verdict = MX_CT_V_UNTRACKED;
		s->valid = 1;
	}
	if (p.kind == CT_PKT_NONE)
		return TRACK_TAG | MX_CT_V_UNTRACKED; /* no clock read, no lookup */
	r = ct_lookup_bind(&p, bpf_ktime_get_ns(), s);
	if (s)
		s->verdict = r.verdict;
	return TRACK_TAG | r.verdict;
}

/* The packet enters device by a port whose flags are port_flags: when the device tracks,
 * its verdict. A traced run (midox trace) leaves the table alone (ct_lookup moves a
 * connection's state on, which a crafted frame must not do): its chains see a forward
 * flow. */
static __always_inline void track_enter(struct __sk_buff *skb, __u32 port_flags, __u32 device)
{
	if (!(port_flags & MX_PORT_DEVICE_CT))
		return;
	if (trace_on(skb)) {
		struct mx_ct_pass *s = ct_pass();

		if (s)
			s->valid = 0;
		skb->cb[TRACK_CB] = TRACK_TAG | MX_CT_V_UNTRACKED;
		return;
	}
	skb->cb[TRACK_CB] = track_lookup(skb, device);
}

/* The verdict of the device being passed (port_flags: a port of it), MX_CT_V_UNTRACKED
 * when it does not track. */
static __always_inline __u32 track_verdict(const struct __sk_buff *skb, __u32 port_flags)
{
	__u32 w;

	if (!(port_flags & MX_PORT_DEVICE_CT))
		return MX_CT_V_UNTRACKED;
	w = skb->cb[TRACK_CB];
	return (w & TRACK_TAG_MASK) == TRACK_TAG ? w & ~TRACK_TAG_MASK : MX_CT_V_UNTRACKED;
}

/* Whether the chains of the device being passed see the packet as a return flow. */
static __always_inline bool track_is_return(const struct __sk_buff *skb, __u32 port_flags)
{
	return mx_ct_is_return(track_verdict(skb, port_flags));
}

/* Commit the connection the packet opens on device: MX_DROP_NONE, or MX_DROP_CT_FULL when
 * the table has no room. Packet pointers the caller holds are dead after it. */
__noinline int track_commit_run(struct __sk_buff *skb, __u32 device)
{
	struct mx_ct_pass *s = ct_pass();
	struct ct_pkt p;
	struct ct_result r;

	/* The tuple the packet entered the device with, as the lookup read it: NAT may have
	 * rewritten the packet since. */
	if (s && s->valid && s->tin.device == device && s->verdict == MX_CT_V_NEW) {
		__builtin_memset(&p, 0, sizeof(p));
		p.key = s->tin;
		p.kind = s->kind;
		r = s->pending ? ct_commit_nat(&p, bpf_ktime_get_ns(), &s->nat)
			       : ct_commit(&p, bpf_ktime_get_ns());
	} else {
		ct_parse(skb, device, &p);
		r = ct_commit(&p, bpf_ktime_get_ns());
	}
	if (r.verdict == MX_CT_V_FULL)
		return MX_DROP_CT_FULL;
	return r.verdict == MX_CT_V_TAKEN ? MX_DROP_NAT_EXHAUSTED : MX_DROP_NONE;
}

/* The packet leaves device by a port whose flags are port_flags, its outfilters passed: the
 * connection it opens is committed. Why it is dropped (ct-full), or MX_DROP_NONE. */
static __always_inline int track_leave(struct __sk_buff *skb, __u32 port_flags, __u32 device)
{
	if (track_verdict(skb, port_flags) != MX_CT_V_NEW)
		return MX_DROP_NONE;
	return track_commit_run(skb, device);
}

#endif
