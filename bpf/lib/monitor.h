/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Drop events for midox monitor: one into midox_events per drop, only while a listener's
 * mark in midox_monitor is fresh, at most its budget a second per CPU (midox_monrate). When
 * nobody listens a drop costs one array read (the mark is 0). */
#ifndef MX_BPF_MONITOR_H
#define MX_BPF_MONITOR_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/monitor.h"
#include "midox/stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_monitor);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_monitor SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_monitor_cpu);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_monrate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MX_EVENTS_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_events SEC(".maps");

/* Take one event's credit from this CPU's bucket; counts a suppressed event when empty. */
static __always_inline bool monitor_budget(const struct mx_monitor *m,
					   struct mx_monitor_cpu *r, __u64 now)
{
	__u64 credit = r->last_ns ? r->tokens + (now - r->last_ns) : m->burst_ns;

	if (credit > m->burst_ns)
		credit = m->burst_ns;
	r->last_ns = now;
	if (credit < m->event_cost_ns) {
		r->tokens = credit;
		r->suppressed++;
		return false;
	}
	r->tokens = credit - m->event_cost_ns;
	return true;
}

/* The drop event: where and why, and the frame's first bytes as the drop found them. */
static __always_inline void monitor_event(struct __sk_buff *skb, struct mx_monitor_cpu *r,
					  __u32 key, enum mx_drop_reason reason, __u64 now)
{
	struct mx_drop_event *ev = bpf_ringbuf_reserve(&midox_events, sizeof(*ev), 0);
	__u64 len = skb->len;

	if (!ev) {
		r->lost++;
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->time_ns = now;
	ev->reason = reason;
	ev->port_key = key;
	ev->ifindex = skb->ifindex;
	ev->frame_len = skb->len;
	if (len > MX_EVENT_FRAME_BYTES)
		len = MX_EVENT_FRAME_BYTES;
	/* The compiler may test a copy of len; the barrier makes it test the one passed on. */
	asm volatile("" : "+r"(len));
	if (len >= 1 && len <= MX_EVENT_FRAME_BYTES && !bpf_skb_load_bytes(skb, 0, ev->frame, len))
		ev->cap_len = (__u16)len;
	bpf_ringbuf_submit(ev, 0);
}

/* A listener's drop: the clock, the budget, the event. A subprogram, not inlined: stats_drop
 * is inlined at every drop site, and this body at each would double the programs' size. */
static __noinline int monitor_record(struct __sk_buff *skb, __u32 key, __u32 reason)
{
	__u32 zero = 0;
	const struct mx_monitor *m = bpf_map_lookup_elem(&midox_monitor, &zero);
	struct mx_monitor_cpu *r;
	__u64 now;

	if (!m || !skb)
		return 0;
	now = bpf_ktime_get_ns();
	if (now > m->listen_until_ns)
		return 0;
	r = bpf_map_lookup_elem(&midox_monrate, &zero);
	if (r && monitor_budget(m, r, now))
		monitor_event(skb, r, key, (enum mx_drop_reason)reason, now);
	return 0;
}

/* Called on every drop (stats_drop). Nobody listening: one read of the mark. */
static __always_inline void monitor_drop(struct __sk_buff *skb, __u32 key,
					 enum mx_drop_reason reason)
{
	__u32 zero = 0;
	const struct mx_monitor *m = bpf_map_lookup_elem(&midox_monitor, &zero);

	if (m && m->listen_until_ns)
		monitor_record(skb, key, reason);
}

#endif
