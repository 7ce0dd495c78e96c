/* SPDX-License-Identifier: Apache-2.0 */
/* Connection tracking's user-space side: the sweep that expires idle connections
 * (include/midox/conntrack.h, bpf/lib/conntrack.h). Returns 0 or a negative errno. The
 * agent runs it on a timer (agent/conntrack.c): docs/conntrack.md. */
#ifndef MIDOX_LOADER_CONNTRACK_H
#define MIDOX_LOADER_CONNTRACK_H

#include <stddef.h>

#include "midox/conntrack.h"

struct mx_ct_sweep_stats {
	__u32 seen;    /* connections looked at (NAT index entries not counted) */
	__u32 removed; /* idle past their timeout, deleted */
};

/* Delete every entry of the table ct_fd idle past its state's timeout at now_ns (cfg: the
 * timeouts, NULL for the defaults; the clock is CLOCK_MONOTONIC, bpf_ktime_get_ns's). An
 * entry is read again just before its delete: one the datapath refreshed meanwhile stays. */
int mx_ct_sweep(int ct_fd, const struct mx_ct_config *cfg, __u64 now_ns,
		struct mx_ct_sweep_stats *stats);

/* Every entry of the table ct_fd, read in batches (a few system calls for the whole table),
 * into two malloc'd arrays of *n the caller frees; an entry changed meanwhile may be seen
 * either way. */
int mx_ct_entries(int ct_fd, struct mx_ct_key **keys, struct mx_ct_entry **entries, size_t *n);

#endif
