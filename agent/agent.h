/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's state, shared by its parts: main loop, reconcile, learning. */
#ifndef MIDOX_AGENT_H
#define MIDOX_AGENT_H

#include <stdbool.h>

#include "config.h"
#include "loader.h"
#include "session.h"
#include "topology.h"

/* A MAC this host's datapath learned and the agent published in ZooKeeper. */
struct learned_mac {
	struct mx_fdb_key key;
	__u32 port_key;
};

struct learned_set {
	struct learned_mac *items;
	size_t n, cap;
};

struct agent {
	struct agent_config cfg;
	char host_id[TOPO_ID_LEN];
	struct session zk;
	struct mx_datapath *dp;
	int link_fd;
	struct topology topo;   /* the last snapshot that was applied */
	bool have_topo;
	bool registered;        /* host and liveness written in this session */
	bool programs_replaced; /* every attachment renewed since start (upgrade) */
	__be32 *peers;          /* tunnel peers, for neighbour priming */
	size_t n_peers;
	struct learned_set published;
};

/* Read the topology, compute what the maps must hold, make them so. Nothing is changed
 * when the topology cannot be read. */
int agent_reconcile(struct agent *a);
/* Publish MACs learned on local ports, withdraw those aged out or gone. */
int agent_learn_tick(struct agent *a);
/* After a session expiry nothing is published any more. */
void agent_learn_forget(struct agent *a);
/* Resolve the underlay neighbours of every tunnel peer. */
void agent_prime_neighbours(struct agent *a);

#endif
