/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A port's egress rate limit (midox_rate): a policer on what a VM or pod sends, checked
 * once where its frame enters the datapath (lib/pipeline.h). No qdisc is involved: midox
 * redirects every frame, so a shaper on the interface would never see it.
 *
 * The bucket is GCRA (the virtual-scheduling form of a token bucket): one timestamp per
 * port, tat, kept in the limit's own entry (the agent's sync leaves it alone), the time at
 * which everything the port sent so far has been paid for at its rate. A frame passes while
 * the debt (tat - now) is at most the burst, and adds its own cost (its length at the rate)
 * to tat. A frame is never too large to pass: a 64 KB GSO packet from an idle port passes
 * and puts the port in debt, so TCP's super-packets are limited like anything else and the
 * long-run rate holds. Two CPUs may both pass a frame on the same debt: the add is atomic,
 * so nothing is lost, and the overshoot is at most one frame per CPU. */
#ifndef MX_BPF_RATELIMIT_H
#define MX_BPF_RATELIMIT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/port.h"
#include "midox/ratelimit.h"
#include "lib/trace.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_RATE_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct mx_port_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_rate SEC(".maps");

/* Whether the frame from port port_key (with its midox_port_v2 flags) is over the port's
 * limit and must be dropped. A port without MX_PORT_RATE_LIMIT costs one flag test. */
static __always_inline bool rate_limit_exceeded(struct __sk_buff *skb, __u32 port_key,
						__u32 port_flags)
{
	struct mx_port_rate *r;
	__u64 now, tat;

	if (!(port_flags & MX_PORT_RATE_LIMIT))
		return false;
	r = bpf_map_lookup_elem(&midox_rate, &port_key);
	/* The flag comes with the entry; without one (between two writes of a sync), no limit. */
	if (!r || !r->rate_bps)
		return false;
	now = bpf_ktime_get_ns();
	tat = *(volatile __u64 *)&r->tat_ns;
	if (tat < now) { /* idle long enough: the bucket is full */
		tat = now;
		if (!trace_on(skb))
			r->tat_ns = now;
	}
	if (tat - now > r->burst_ns)
		return true;
	if (!trace_on(skb))
		__sync_fetch_and_add(&r->tat_ns, (__u64)skb->len * 8 * MX_RATE_NS_PER_SEC /
					       r->rate_bps);
	return false;
}

#endif
