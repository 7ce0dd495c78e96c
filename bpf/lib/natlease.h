/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The port blocks this host leased for each dynamic SNAT address (include/midox/natlease.h):
 * written by the agent (agent/natlease.c), read when the datapath picks a port. */
#ifndef MIDOX_BPF_NATLEASE_H
#define MIDOX_BPF_NATLEASE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/natlease.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH); /* rewritten in place: see natlease.h */
	__uint(max_entries, MX_NAT_LEASE_MAX_ENTRIES);
	__type(key, __be32);
	__type(value, struct mx_nat_lease);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_natlease SEC(".maps");

/* The blocks leased for addr, NULL when none: n_blocks is read once and capped. */
static __always_inline const struct mx_nat_lease *natlease_lookup(__be32 addr)
{
	return bpf_map_lookup_elem(&midox_natlease, &addr);
}

#endif
