/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A port's egress rate limit: what the VM or pod behind it may send, policed where its
 * frames enter the datapath (bpf/lib/ratelimit.h). */
#ifndef MIDOX_RATELIMIT_H
#define MIDOX_RATELIMIT_H

#include "common.h"

/* port tunnel key (__u32) -> struct mx_port_rate: the limits of this host's bound ports
 * that have one (the port also carries MX_PORT_RATE_LIMIT), each with its bucket. */
#define MX_MAP_RATE "midox_rate"
#define MX_RATE_MAX_ENTRIES 4096 /* as midox_ifport_v3: only ports bound here are limited */

struct mx_port_rate {
	/* The agent's: a sync compares and writes these only (MX_RATE_AGENT_BYTES). */
	__u64 rate_bps; /* bits per second, > 0 */
	__u64 burst_ns; /* the burst as the time it takes to send at rate_bps */
	/* The datapath's bucket (GCRA): the theoretical arrival time, when the port's debt is
	 * paid off; 0 (as the agent writes a new or changed limit): a full bucket. */
	__u64 tat_ns;
};
_Static_assert(sizeof(struct mx_port_rate) == 24, "mx_port_rate layout");
#define MX_RATE_AGENT_BYTES 16

#define MX_RATE_NS_PER_SEC 1000000000ull

#endif
