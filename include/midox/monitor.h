/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Drop events for `midox monitor`: a ring buffer the datapath writes one event per drop to,
 * only while a listener has marked itself present, at most a budget a second per CPU. */
#ifndef MIDOX_MONITOR_H
#define MIDOX_MONITOR_H

#include "common.h"

/* Array of one entry, index 0: struct mx_monitor, written by the listener (midox monitor),
 * never by the agent. */
#define MX_MAP_MONITOR "midox_monitor"
/* Per-CPU array of one entry: struct mx_monitor_cpu, the datapath's bucket and counts. */
#define MX_MAP_MON_RATE "midox_monrate"
/* Ring buffer of struct mx_drop_event. */
#define MX_MAP_EVENTS "midox_events"
#define MX_EVENTS_RING_BYTES (256 * 1024) /* a power of 2 and of the page size */

/* Bytes of the frame an event carries. */
#define MX_EVENT_FRAME_BYTES 64
/* The listener's default budget: events a second per CPU (a burst of as many). */
#define MX_MONITOR_RATE_DEFAULT 1000
/* How long a listener's mark lasts unless it refreshes it (it does every second): one that
 * dies without clearing it costs the datapath events only this long. */
#define MX_MONITOR_LEASE_NS (3 * 1000000000ull)

struct mx_monitor {
	__u64 listen_until_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) up to which events are
				* written; 0: nobody listens (the drop path reads only this) */
	__u64 event_cost_ns;   /* an event costs this much credit: 1e9 / events a second */
	__u64 burst_ns;        /* the most credit a CPU's bucket holds */
	__u32 owner_pid;       /* the listener, so a second one can name it */
	__u32 pad;
};
_Static_assert(sizeof(struct mx_monitor) == 32, "mx_monitor layout");

struct mx_monitor_cpu {
	__u64 tokens;     /* credit in ns */
	__u64 last_ns;    /* when credit was last computed; 0: never (a full burst) */
	__u64 suppressed; /* events the budget held back */
	__u64 lost;       /* events the ring had no room for (the listener is too slow) */
};
_Static_assert(sizeof(struct mx_monitor_cpu) == 32, "mx_monitor_cpu layout");

struct mx_drop_event {
	__u64 time_ns;   /* bpf_ktime_get_ns() */
	__u32 reason;    /* enum mx_drop_reason */
	__u32 port_key;  /* the counters' key the drop was counted on (0: the host) */
	__u32 ifindex;   /* the interface the frame came in on */
	__u32 frame_len; /* the frame's whole length */
	__u16 cap_len;   /* bytes of it in frame[] */
	__u16 pad[3];
	__u8 frame[MX_EVENT_FRAME_BYTES];
};
_Static_assert(sizeof(struct mx_drop_event) == 32 + MX_EVENT_FRAME_BYTES, "mx_drop_event layout");

#endif
