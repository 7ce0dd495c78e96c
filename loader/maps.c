// SPDX-License-Identifier: Apache-2.0
/* Typed map access: one small wrapper per map and operation over three generic ones, each
 * reaching its map by id (map_table.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

static int map_update(struct mx_datapath *dp, enum mx_map_id id, const void *key, const void *val)
{
	int fd = dp_map_fd(dp, id);

	return fd < 0 ? fd : bpf_map_update_elem(fd, key, val, BPF_ANY);
}

static int map_lookup(struct mx_datapath *dp, enum mx_map_id id, const void *key, void *val)
{
	int fd = dp_map_fd(dp, id);

	return fd < 0 ? fd : bpf_map_lookup_elem(fd, key, val);
}

static int map_delete(struct mx_datapath *dp, enum mx_map_id id, const void *key)
{
	int fd = dp_map_fd(dp, id);

	return fd < 0 ? fd : bpf_map_delete_elem(fd, key);
}

static const __u32 config_index;

int mx_config_get(struct mx_datapath *dp, struct mx_config *cfg)
{
	return map_lookup(dp, MX_MAP_ID_CONFIG, &config_index, cfg);
}

int mx_config_set(struct mx_datapath *dp, const struct mx_config *cfg)
{
	return map_update(dp, MX_MAP_ID_CONFIG, &config_index, cfg);
}

int mx_ifport_update(struct mx_datapath *dp, __u32 ifindex, const struct mx_ifport *v)
{
	return map_update(dp, MX_MAP_ID_IFPORT, &ifindex, v);
}

int mx_ifport_lookup(struct mx_datapath *dp, __u32 ifindex, struct mx_ifport *v)
{
	return map_lookup(dp, MX_MAP_ID_IFPORT, &ifindex, v);
}

int mx_ifport_delete(struct mx_datapath *dp, __u32 ifindex)
{
	return map_delete(dp, MX_MAP_ID_IFPORT, &ifindex);
}

int mx_port_update(struct mx_datapath *dp, __u32 port_key, const struct mx_port *v)
{
	return map_update(dp, MX_MAP_ID_PORT, &port_key, v);
}

int mx_port_lookup(struct mx_datapath *dp, __u32 port_key, struct mx_port *v)
{
	return map_lookup(dp, MX_MAP_ID_PORT, &port_key, v);
}

int mx_port_delete(struct mx_datapath *dp, __u32 port_key)
{
	return map_delete(dp, MX_MAP_ID_PORT, &port_key);
}

int mx_bridge_update(struct mx_datapath *dp, __u32 bridge_key, const struct mx_bridge *v)
{
	return map_update(dp, MX_MAP_ID_BRIDGE, &bridge_key, v);
}

int mx_bridge_delete(struct mx_datapath *dp, __u32 bridge_key)
{
	return map_delete(dp, MX_MAP_ID_BRIDGE, &bridge_key);
}

int mx_fdb_update(struct mx_datapath *dp, const struct mx_fdb_key *k, const struct mx_fdb_entry *v)
{
	return map_update(dp, MX_MAP_ID_FDB, k, v);
}

int mx_fdb_lookup(struct mx_datapath *dp, const struct mx_fdb_key *k, struct mx_fdb_entry *v)
{
	return map_lookup(dp, MX_MAP_ID_FDB, k, v);
}

int mx_fdb_delete(struct mx_datapath *dp, const struct mx_fdb_key *k)
{
	return map_delete(dp, MX_MAP_ID_FDB, k);
}

/* The value holds its own key (midox/bridge.h): written from k, whatever v->key says. */
int mx_arp_update(struct mx_datapath *dp, const struct mx_arp_key *k, const struct mx_arp_entry *v)
{
	struct mx_arp_entry e = *v;

	e.key = *k;
	return map_update(dp, MX_MAP_ID_ARP, k, &e);
}

int mx_arp_delete(struct mx_datapath *dp, const struct mx_arp_key *k)
{
	return map_delete(dp, MX_MAP_ID_ARP, k);
}

int mx_bgp_update(struct mx_datapath *dp, const struct mx_bgp_key *k, const struct mx_bgp *v)
{
	return map_update(dp, MX_MAP_ID_BGP, k, v);
}

int mx_bgp_delete(struct mx_datapath *dp, const struct mx_bgp_key *k)
{
	return map_delete(dp, MX_MAP_ID_BGP, k);
}

int mx_rate_update(struct mx_datapath *dp, __u32 port_key, const struct mx_port_rate *v)
{
	return map_update(dp, MX_MAP_ID_RATE, &port_key, v);
}

int mx_rate_lookup(struct mx_datapath *dp, __u32 port_key, struct mx_port_rate *v)
{
	return map_lookup(dp, MX_MAP_ID_RATE, &port_key, v);
}

/* The value holds its own key (midox/port.h): written from k, whatever v->key says. */
int mx_allowed_update(struct mx_datapath *dp, const struct mx_allowed_key *k, const struct mx_allowed *v)
{
	struct mx_allowed a = *v;

	a.key = *k;
	return map_update(dp, MX_MAP_ID_ALLOWED, k, &a);
}

int mx_allowed_delete(struct mx_datapath *dp, const struct mx_allowed_key *k)
{
	return map_delete(dp, MX_MAP_ID_ALLOWED, k);
}

int mx_tunpeer_update(struct mx_datapath *dp, __be32 addr, const struct mx_tunpeer *v)
{
	return map_update(dp, MX_MAP_ID_TUNPEER, &addr, v);
}

int mx_tunpeer_delete(struct mx_datapath *dp, __be32 addr)
{
	return map_delete(dp, MX_MAP_ID_TUNPEER, &addr);
}

int mx_route_update(struct mx_datapath *dp, const struct mx_route_key *k, const struct mx_route *v)
{
	return map_update(dp, MX_MAP_ID_ROUTE, k, v);
}

int mx_route_lookup(struct mx_datapath *dp, const struct mx_route_key *k, struct mx_route *v)
{
	return map_lookup(dp, MX_MAP_ID_ROUTE, k, v);
}

int mx_route_delete(struct mx_datapath *dp, const struct mx_route_key *k)
{
	return map_delete(dp, MX_MAP_ID_ROUTE, k);
}

static bool map_is_array(enum bpf_map_type type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PROG_ARRAY;
}

int mx_map_fill(struct mx_datapath *dp, enum mx_map_id map, __u32 *entries, __u32 *max_entries)
{
	const struct mx_map_desc *d = mx_map_desc(map);
	int fd = dp_map_fd(dp, map);
	struct bpf_map *m;
	char *keys;
	__u32 count = 0;

	if (fd < 0)
		return fd;
	if (d->ring)
		return -EOPNOTSUPP; /* records, not entries: its size is bytes */
	m = dp_map(dp, map);
	*max_entries = bpf_map__max_entries(m);
	if (map_is_array(bpf_map__type(m))) {
		*entries = *max_entries;
		return 0;
	}
	keys = malloc(2 * d->key_size);
	if (!keys)
		return -ENOMEM;
	/* Counted without holding the keys; bounded, as a hash walk may restart when entries
	 * go meanwhile. */
	for (char *prev = NULL, *next = keys; count < *max_entries; count++) {
		if (bpf_map_get_next_key(fd, prev, next))
			break;
		prev = next;
		next = next == keys ? keys + d->key_size : keys;
	}
	free(keys);
	*entries = count;
	return 0;
}

int mx_neigh_update(struct mx_datapath *dp, const struct mx_neigh_key *k, const struct mx_neigh_entry *v)
{
	return map_update(dp, MX_MAP_ID_NEIGH, k, v);
}

int mx_neigh_lookup(struct mx_datapath *dp, const struct mx_neigh_key *k, struct mx_neigh_entry *v)
{
	return map_lookup(dp, MX_MAP_ID_NEIGH, k, v);
}

int mx_neigh_delete(struct mx_datapath *dp, const struct mx_neigh_key *k)
{
	return map_delete(dp, MX_MAP_ID_NEIGH, k);
}

int mx_icmp_rate_set(struct mx_datapath *dp, const struct mx_icmp_rate *v)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mx_icmp_rate *percpu;
	const __u32 zero = 0;
	int err;

	if (ncpu < 0)
		return ncpu;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (int cpu = 0; cpu < ncpu; cpu++)
		percpu[cpu] = *v;
	err = map_update(dp, MX_MAP_ID_ICMP_RATE, &zero, percpu);
	free(percpu);
	return err;
}

bool mx_map_learned_here(struct mx_datapath *dp, enum mx_map_id map, const void *key,
			 struct mx_learned_entry *out)
{
	const struct mx_map_desc *d = mx_map_desc(map);
	void *value = d && d->owner == MX_MAP_OWN_AGENT_LEARNED ? malloc(d->value_size) : NULL;
	bool learned = value && !map_lookup(dp, map, key, value) &&
		       mx_map_learned(map, key, value, out);

	free(value);
	return learned;
}
