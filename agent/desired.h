/* SPDX-License-Identifier: Apache-2.0 */
/* What the datapath of this host must hold, computed from a topology snapshot alone:
 * the agent's whole job is to make the pinned maps equal to this. */
#ifndef MIDOX_AGENT_DESIRED_H
#define MIDOX_AGENT_DESIRED_H

#include <stdbool.h>
#include <stddef.h>

#include "loader.h"
#include "topology.h"

/* A packed array of map entries, as mx_map_sync takes them. */
struct kv_array {
	void *keys;
	void *values;
	size_t n, cap;
	size_t key_size, value_size;
};

struct desired {
	struct mx_config config;
	bool member;                /* this host is in a tunnel zone */
	struct kv_array maps[MX_MAP_ID__MAX];
};

/* The local view the topology does not hold. */
struct local_view {
	const char *host_id;
	__u32 underlay_ifindex;
	__u16 vxlan_port;                      /* host order */
	int (*ifindex_of)(const char *ifname); /* 0 if the interface does not exist */
	/* An MX_FDB_LOCAL entry the datapath learned and still holds: it wins over the same
	 * MAC learned elsewhere (the VM moved here). NULL: none. */
	bool (*learned_here)(const struct mx_fdb_key *key, void *ctx);
	void *ctx;
};

int desired_compute(const struct topology *t, const struct local_view *view, struct desired *d);
void desired_free(struct desired *d);

/* The port/bridge of a tunnel key in the snapshot; NULL if none. */
const struct topo_port *desired_port_by_key(const struct topology *t, __u32 key);
const struct topo_bridge *desired_bridge_by_key(const struct topology *t, __u32 key);

#endif
