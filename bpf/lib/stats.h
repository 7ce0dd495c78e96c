/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_stats: per-CPU counters per port (key 0: the host itself); midox_traffic: the rx/tx
 * counters of the ports with a slot, in a per-CPU array (include/midox/stats.h). */
#ifndef MX_BPF_STATS_H
#define MX_BPF_STATS_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "midox/stats.h"
#include "lib/monitor.h"
#include "lib/trace.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MX_STATS_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct mx_port_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MX_TRAFFIC_SLOTS);
	__type(key, __u32);
	__type(value, struct mx_traffic);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_traffic SEC(".maps");

/* The value a new counter entry starts from. In .rodata, not on the stack: the struct
 * (8 bytes per drop reason) is too large for the 512-byte BPF stack beside the rest. */
static const struct mx_port_stats stats_zero;

/* The counters of key on this CPU, created on first use. NULL only when the map is full. */
static __always_inline struct mx_port_stats *stats_get(__u32 key)
{
	struct mx_port_stats *s = bpf_map_lookup_elem(&midox_stats, &key);

	if (s)
		return s;
	bpf_map_update_elem(&midox_stats, &key, &stats_zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&midox_stats, &key);
}

_Static_assert(__builtin_offsetof(struct mx_traffic, rx_bytes) == 8 &&
	       __builtin_offsetof(struct mx_traffic, tx_packets) == 16 &&
	       __builtin_offsetof(struct mx_port_stats, rx_bytes) == 8 &&
	       __builtin_offsetof(struct mx_port_stats, tx_packets) == 16,
	       "packets then bytes, rx then tx, in both counter structs (stats_count)");

/* Where rx/tx of key go: its slot's row of midox_traffic (an array: no hash lookup) when it
 * has one (slot 0 is the host's, MX_STATS_HOST), else its midox_stats entry. */
static __always_inline __u64 *stats_traffic(__u32 key, __u32 slot, bool tx)
{
	struct mx_port_stats *s;
	struct mx_traffic *t;

	if (slot || key == MX_STATS_HOST) {
		t = bpf_map_lookup_elem(&midox_traffic, &slot);
		if (!t)
			return NULL;
		return tx ? &t->tx_packets : &t->rx_packets;
	}
	s = stats_get(key);
	if (!s)
		return NULL;
	return tx ? &s->tx_packets : &s->rx_packets;
}

/* Counters are the state a traced run (lib/trace.h) must not touch: it counts nothing.
 * slot: the port entry's stats_slot (0 for a key that has none). */
static __always_inline void stats_count(const struct __sk_buff *skb, __u32 key, __u32 slot,
					bool tx, __u32 bytes)
{
	__u64 *c;

	if (trace_on(skb))
		return;
	c = stats_traffic(key, slot, tx);
	if (c) {
		c[0]++; /* packets, then bytes: the same order in both structs */
		c[1] += bytes;
	}
}

static __always_inline void stats_rx(const struct __sk_buff *skb, __u32 key, __u32 slot,
				     __u32 bytes)
{
	stats_count(skb, key, slot, false, bytes);
}

static __always_inline void stats_tx(const struct __sk_buff *skb, __u32 key, __u32 slot,
				     __u32 bytes)
{
	stats_count(skb, key, slot, true, bytes);
}

/* A drop: counted, told to a listening midox monitor (lib/monitor.h), or in a traced run
 * recorded as a step instead (lib/trace.h). A subprogram: stats_drop is inlined at every
 * drop site of every program, and this body at each would make the programs half again
 * as large. */
static __noinline int stats_drop_note(struct __sk_buff *skb, __u32 key, __u32 reason)
{
	struct mx_port_stats *s;
	__u32 slot = reason;

	if (!skb)
		return 0;
	if (trace_on(skb)) {
		trace_record(MX_TRACE_DROP, reason, key, 0, 0);
		return 0;
	}
	s = stats_get(key);
	/* The mask is the bound the verifier sees when reason is unknown to it (a global
	 * subprogram's result): the compiler may test one copy of reason and index by
	 * another. The barrier keeps the compiler from dropping the mask as redundant. */
	asm volatile("" : "+r"(slot));
	if (s && reason < MX_DROP__MAX)
		s->drops[slot & (MX_DROP_SLOTS - 1)]++;
	monitor_drop(skb, key, (enum mx_drop_reason)reason);
	return 0;
}

/* Count a drop (stats_drop_note) and give the verdict that drops. Called before the frame
 * is rewritten (an ICMP error, an ARP request), so the event shows the frame that was
 * dropped. */
static __always_inline int stats_drop(struct __sk_buff *skb, __u32 key, enum mx_drop_reason reason)
{
	stats_drop_note(skb, key, reason);
	return TC_ACT_SHOT;
}

#endif
