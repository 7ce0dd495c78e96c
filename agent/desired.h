/* SPDX-License-Identifier: Apache-2.0 */
/* What the datapath of this host must hold, computed from a topology snapshot alone:
 * the agent's whole job is to make the pinned maps equal to this. Linear in the size of
 * the topology: objects are looked up through the snapshot's indexes (topo_index), the
 * entries through hash indexes of their own. */
#ifndef MIDOX_AGENT_DESIRED_H
#define MIDOX_AGENT_DESIRED_H

#include <stdbool.h>
#include <stddef.h>

#include "base/index.h"
#include "filters.h"
#include "loader/loader.h"
#include "topology/topology.h"

/* A packed array of map entries, as mx_map_sync takes them, indexed by key. */
struct kv_array {
	void *keys;
	void *values;
	size_t n, cap;
	size_t key_size, value_size;
	struct index ix;
};

struct desired {
	struct mx_config config;
	bool member; /* this host is in a tunnel zone */
	struct kv_array maps[MX_MAP_ID__MAX];
	/* The rule chains resolved (filters.h): compiled and installed into the chain maps by
	 * the agent (chain_compile.h, chains.c), not through maps[]. */
	struct df_chains chains;
};

/* The local view the topology does not hold. */
struct local_view {
	const char *host_id;
	__u32 underlay_ifindex;
	__u16 vxlan_port;                      /* host order */
	bool underlay_xdp; /* local ports get MX_PORT_XDP_RX: underlay_xdp delivers to them */
	int (*ifindex_of)(const char *ifname, void *ctx); /* 0: no such interface */
	/* Whether the datapath here learned this MX_MAP_ID_FDB / MX_MAP_ID_NEIGH key itself
	 * and still holds it fresh: then it wins over the same key learned elsewhere (the VM
	 * or neighbour moved here). NULL: never. */
	bool (*learned_here)(enum mx_map_id map, const void *key, void *ctx);
	void *ctx;
};

int desired_compute(const struct topology *t, const struct local_view *view, struct desired *d);
void desired_free(struct desired *d);

/* The value desired for key in map, or NULL. */
const void *desired_lookup(const struct desired *d, enum mx_map_id map, const void *key);

#endif
