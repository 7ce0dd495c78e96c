/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A port's egress rate limit: what the VM or pod behind it may send, policed where its
 * frames enter the datapath (bpf/lib/ratelimit.h). */
#ifndef MIDOX_RATELIMIT_H
#define MIDOX_RATELIMIT_H

#include "common.h"

/* port tunnel key (__u32) -> struct mx_port_rate: the limits of this host's bound ports
 * that have one (the port also carries MX_PORT_RATE_LIMIT). Written by the agent. */
#define MX_MAP_RATE "midox_rate"
#define MX_RATE_MAX_ENTRIES 4096 /* as midox_ifport: only ports bound here are limited */

struct mx_port_rate {
	__u64 rate_bps; /* bits per second, > 0 */
	__u64 burst_ns; /* the burst as the time it takes to send at rate_bps */
};
_Static_assert(sizeof(struct mx_port_rate) == 16, "mx_port_rate layout");

/* port tunnel key (__u32) -> struct mx_rate_state: the bucket, written by the datapath.
 * An LRU map: a port's entry goes by itself once the port sends no more; twice the ports
 * it can serve, so a port that sends is never the one evicted in practice (and if it
 * were, it would only start again with a full burst). */
#define MX_MAP_RATE_STATE "midox_ratestate"
#define MX_RATE_STATE_MAX_ENTRIES (2 * MX_RATE_MAX_ENTRIES)

struct mx_rate_state {
	__u64 tat_ns; /* theoretical arrival time (GCRA): when the port's debt is paid off */
};
_Static_assert(sizeof(struct mx_rate_state) == 8, "mx_rate_state layout");

#define MX_RATE_NS_PER_SEC 1000000000ull

#endif
