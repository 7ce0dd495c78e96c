/* SPDX-License-Identifier: Apache-2.0 */
/* Router neighbours kept confirmed while they live: the agent asks an ageing one by unicast
 * ARP, whose reply the datapath learns (docs/architecture.md, "Router neighbours"). */
#ifndef MIDOX_AGENT_NEIGH_PROBE_H
#define MIDOX_AGENT_NEIGH_PROBE_H

#include <stdint.h>

#include "base/index.h"
#include "midox/router.h"

/* A neighbour probed, and when. */
struct neigh_probed {
	struct mx_neigh_key key;
	uint64_t probed_ns; /* mx_now_ns() */
};

struct neigh_probed_set {
	struct neigh_probed *items;
	size_t n, cap;
	struct index ix; /* by key */
};

struct agent_neigh_probe {
	int fd;                      /* AF_PACKET socket; -1 until the first probe */
	struct neigh_probed_set set; /* the ageing neighbours, each with its last probe */
	uint64_t sent, errors;       /* probes sent, probes that could not be */
};

struct agent;

/* Once a second: every neighbour learned here (MX_NEIGH_LOCAL) older than half of
 * mac_age_seconds and not probed within the retry interval gets an ARP request for its
 * address, unicast to its MAC, from its router port, out of the interface of this host it
 * is reached by. Nothing it meets is fatal: failures are logged and counted. */
void agent_neigh_probe_tick(struct agent *a);
/* At exit: the socket and the memory. */
void agent_neigh_probe_free(struct agent *a);

#endif
