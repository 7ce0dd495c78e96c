/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_stats: per-CPU counters per port (key 0: the host itself). */
#ifndef MX_BPF_STATS_H
#define MX_BPF_STATS_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "midox/stats.h"
#include "lib/monitor.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MX_STATS_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct mx_port_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_stats SEC(".maps");

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

static __always_inline void stats_rx(__u32 key, __u32 bytes)
{
	struct mx_port_stats *s = stats_get(key);

	if (s) {
		s->rx_packets++;
		s->rx_bytes += bytes;
	}
}

static __always_inline void stats_tx(__u32 key, __u32 bytes)
{
	struct mx_port_stats *s = stats_get(key);

	if (s) {
		s->tx_packets++;
		s->tx_bytes += bytes;
	}
}

/* Count a drop, tell a listening midox monitor (lib/monitor.h), and give the verdict that
 * drops. Called before the frame is rewritten (an ICMP error, an ARP request), so the event
 * shows the frame that was dropped. */
static __always_inline int stats_drop(struct __sk_buff *skb, __u32 key, enum mx_drop_reason reason)
{
	struct mx_port_stats *s = stats_get(key);

	if (s && reason < MX_DROP__MAX)
		s->drops[reason]++;
	monitor_drop(skb, key, reason);
	return TC_ACT_SHOT;
}

#endif
