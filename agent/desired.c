// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desired.h"

static const size_t key_sizes[MX_MAP_ID__MAX] = {
	[MX_MAP_ID_IFPORT] = sizeof(__u32),
	[MX_MAP_ID_PORT] = sizeof(__u32),
	[MX_MAP_ID_BRIDGE] = sizeof(__u32),
	[MX_MAP_ID_FDB] = sizeof(struct mx_fdb_key),
	[MX_MAP_ID_ARP] = sizeof(struct mx_arp_key),
	[MX_MAP_ID_TUNPEER] = sizeof(__be32),
};

static const size_t value_sizes[MX_MAP_ID__MAX] = {
	[MX_MAP_ID_IFPORT] = sizeof(struct mx_ifport),
	[MX_MAP_ID_PORT] = sizeof(struct mx_port),
	[MX_MAP_ID_BRIDGE] = sizeof(struct mx_bridge),
	[MX_MAP_ID_FDB] = sizeof(struct mx_fdb_entry),
	[MX_MAP_ID_ARP] = sizeof(struct mx_arp_entry),
	[MX_MAP_ID_TUNPEER] = sizeof(struct mx_tunpeer),
};

/* Index of key in a, or -1: the arrays are small enough per reconcile that a scan is fine
 * only for the per-bridge flood sets; everything else is appended once. */
static long kv_find(const struct kv_array *a, const void *key)
{
	for (size_t i = 0; i < a->n; i++)
		if (!memcmp((const char *)a->keys + i * a->key_size, key, a->key_size))
			return (long)i;
	return -1;
}

static int kv_grow(struct kv_array *a)
{
	size_t cap = a->cap ? a->cap * 2 : 64;
	void *keys, *values;

	keys = realloc(a->keys, cap * a->key_size);
	if (!keys)
		return -ENOMEM;
	a->keys = keys;
	values = realloc(a->values, cap * a->value_size);
	if (!values)
		return -ENOMEM;
	a->values = values;
	a->cap = cap;
	return 0;
}

static int kv_push(struct kv_array *a, const void *key, const void *value)
{
	int err;

	if (a->n == a->cap) {
		err = kv_grow(a);
		if (err)
			return err;
	}
	memcpy((char *)a->keys + a->n * a->key_size, key, a->key_size);
	memcpy((char *)a->values + a->n * a->value_size, value, a->value_size);
	a->n++;
	return 0;
}

static void *kv_value(struct kv_array *a, size_t i)
{
	return (char *)a->values + i * a->value_size;
}

void desired_free(struct desired *d)
{
	for (int m = 0; m < MX_MAP_ID__MAX; m++) {
		free(d->maps[m].keys);
		free(d->maps[m].values);
	}
	memset(d, 0, sizeof(*d));
}

static void desired_init(struct desired *d)
{
	memset(d, 0, sizeof(*d));
	for (int m = 0; m < MX_MAP_ID__MAX; m++) {
		d->maps[m].key_size = key_sizes[m];
		d->maps[m].value_size = value_sizes[m];
	}
}

const struct topo_bridge *desired_bridge_by_key(const struct topology *t, __u32 key)
{
	for (size_t i = 0; i < t->n_bridges; i++)
		if (t->bridges[i].tunnel_key == key)
			return &t->bridges[i];
	return NULL;
}

const struct topo_port *desired_port_by_key(const struct topology *t, __u32 key)
{
	for (size_t i = 0; i < t->n_ports; i++)
		if (t->ports[i].tunnel_key == key)
			return &t->ports[i];
	return NULL;
}

static const struct topo_bridge *bridge_by_id(const struct topology *t, const char *id)
{
	for (size_t i = 0; i < t->n_bridges; i++)
		if (!strcmp(t->bridges[i].id, id))
			return &t->bridges[i];
	return NULL;
}

static const struct topo_binding *binding_of_port(const struct topology *t, const char *port_id)
{
	for (size_t i = 0; i < t->n_bindings; i++)
		if (!strcmp(t->bindings[i].port_id, port_id))
			return &t->bindings[i];
	return NULL;
}

static const struct topo_member *member_of(const struct topology *t, const char *zone_id,
					   const char *host_id)
{
	for (size_t i = 0; i < t->n_members; i++)
		if (!strcmp(t->members[i].host_id, host_id) &&
		    (!zone_id || !strcmp(t->members[i].zone_id, zone_id)))
			return &t->members[i];
	return NULL;
}

/* The address at which this host reaches host_id: its address in the first zone (by
 * creation) both are members of. 0 if they share none. */
static __be32 peer_addr(const struct topology *t, const char *self, const char *host_id)
{
	for (size_t i = 0; i < t->n_members; i++) {
		const struct topo_member *m = &t->members[i];

		if (strcmp(m->host_id, host_id))
			continue;
		if (member_of(t, m->zone_id, self))
			return m->addr.s_addr;
	}
	return 0;
}

static int add_tunnel(const struct topology *t, const struct local_view *v, struct desired *d)
{
	const struct topo_member *self = member_of(t, NULL, v->host_id);
	struct mx_tunpeer peer = { 0 };
	int err;

	d->config.underlay_ifindex = v->underlay_ifindex;
	d->config.vxlan_port = htons(v->vxlan_port);
	if (!self)
		return 0;
	d->member = true;
	d->config.tunnel_addr = self->addr.s_addr;
	for (size_t i = 0; i < t->n_members; i++) {
		const struct topo_member *m = &t->members[i];

		if (!strcmp(m->host_id, v->host_id) || !member_of(t, m->zone_id, v->host_id))
			continue;
		if (kv_find(&d->maps[MX_MAP_ID_TUNPEER], &m->addr.s_addr) >= 0)
			continue;
		err = kv_push(&d->maps[MX_MAP_ID_TUNPEER], &m->addr.s_addr, &peer);
		if (err)
			return err;
	}
	return 0;
}

/* Where a port lives, seen from this host. */
static void port_place(const struct topology *t, const struct local_view *v,
		       const struct topo_port *p, struct mx_port *out)
{
	const struct topo_binding *b = binding_of_port(t, p->id);
	int ifindex;

	if (!b)
		return;
	if (!strcmp(b->host_id, v->host_id)) {
		ifindex = v->ifindex_of(b->interface);
		if (ifindex > 0) {
			out->flags |= MX_PORT_LOCAL;
			out->ifindex = (__u32)ifindex;
		}
		return;
	}
	out->host_addr = peer_addr(t, v->host_id, b->host_id);
	if (out->host_addr)
		out->flags |= MX_PORT_REMOTE;
}

static int flood_add(struct desired *d, __u32 bridge_key, const struct mx_port *p)
{
	struct kv_array *a = &d->maps[MX_MAP_ID_BRIDGE];
	struct mx_bridge *b;
	long i = kv_find(a, &bridge_key);

	if (i < 0)
		return 0;
	b = kv_value(a, (size_t)i);
	if (p->flags & MX_PORT_LOCAL) {
		if (b->n_local < MX_FLOOD_MAX_LOCAL)
			b->local_ifindex[b->n_local] = p->ifindex;
		b->n_local++; /* past the limit the datapath counts MX_DROP_FLOOD_LIMIT */
		return 0;
	}
	if (!(p->flags & MX_PORT_REMOTE))
		return 0;
	for (__u32 r = 0; r < b->n_remote && r < MX_FLOOD_MAX_REMOTE; r++)
		if (b->remote_addr[r] == p->host_addr)
			return 0;
	if (b->n_remote < MX_FLOOD_MAX_REMOTE)
		b->remote_addr[b->n_remote] = p->host_addr;
	b->n_remote++;
	return 0;
}

static int add_bridges(const struct topology *t, struct desired *d)
{
	struct mx_bridge empty = { 0 };
	int err;

	for (size_t i = 0; i < t->n_bridges; i++) {
		err = kv_push(&d->maps[MX_MAP_ID_BRIDGE], &t->bridges[i].tunnel_key, &empty);
		if (err)
			return err;
	}
	return 0;
}

static int add_static_addresses(struct desired *d, const struct topo_port *p, __u32 bridge_key)
{
	struct mx_fdb_key fk = { .bridge_key = bridge_key };
	struct mx_fdb_entry fe = { .port_key = p->tunnel_key, .flags = MX_FDB_STATIC };
	struct mx_arp_key ak = { .bridge_key = bridge_key, .addr = p->addr.s_addr };
	struct mx_arp_entry ae = { 0 };
	int err;

	if (!p->has_mac)
		return 0;
	memcpy(fk.mac, p->mac, 6);
	if (kv_find(&d->maps[MX_MAP_ID_FDB], &fk) < 0) {
		err = kv_push(&d->maps[MX_MAP_ID_FDB], &fk, &fe);
		if (err)
			return err;
	}
	if (!p->has_addr || kv_find(&d->maps[MX_MAP_ID_ARP], &ak) >= 0)
		return 0;
	memcpy(ae.mac, p->mac, 6);
	return kv_push(&d->maps[MX_MAP_ID_ARP], &ak, &ae);
}

static int add_port(const struct topology *t, const struct local_view *v, struct desired *d,
		    const struct topo_port *p)
{
	const struct topo_bridge *br = bridge_by_id(t, p->device_id);
	struct mx_port mp = { 0 };
	struct mx_ifport ifp = { .port_key = p->tunnel_key };
	int err;

	if (!br || p->device_type != TOPO_DEVICE_BRIDGE)
		return 0;
	mp.device_key = br->tunnel_key;
	if (p->has_mac) {
		mp.flags |= MX_PORT_FIXED_MAC;
		memcpy(mp.mac, p->mac, 6);
	}
	if (p->has_addr) {
		mp.flags |= MX_PORT_FIXED_IP;
		mp.addr = p->addr.s_addr;
	}
	port_place(t, v, p, &mp);
	err = kv_push(&d->maps[MX_MAP_ID_PORT], &p->tunnel_key, &mp);
	if (!err && (mp.flags & MX_PORT_LOCAL))
		err = kv_push(&d->maps[MX_MAP_ID_IFPORT], &mp.ifindex, &ifp);
	if (!err)
		err = flood_add(d, br->tunnel_key, &mp);
	if (!err)
		err = add_static_addresses(d, p, br->tunnel_key);
	return err;
}

/* MACs other hosts learned, unless this host's own port claims the MAC (static) or the
 * datapath here learned it itself and still holds it. */
static int add_learned_elsewhere(const struct topology *t, const struct local_view *v,
				 struct desired *d)
{
	struct mx_fdb_entry fe = { .flags = MX_FDB_REMOTE };
	struct mx_fdb_key fk = { 0 };
	int err;

	for (size_t i = 0; i < t->n_macs; i++) {
		const struct topo_mac *m = &t->macs[i];
		const struct topo_bridge *br = bridge_by_id(t, m->bridge_id);
		const struct topo_port *p = topo_find_port_by_id(t, m->port_id);

		if (!br || !p || strcmp(p->device_id, br->id) || !strcmp(m->host_id, v->host_id))
			continue;
		fk.bridge_key = br->tunnel_key;
		memcpy(fk.mac, m->mac, 6);
		if (kv_find(&d->maps[MX_MAP_ID_FDB], &fk) >= 0)
			continue;
		if (v->learned_here && v->learned_here(&fk, v->ctx))
			continue;
		fe.port_key = p->tunnel_key;
		err = kv_push(&d->maps[MX_MAP_ID_FDB], &fk, &fe);
		if (err)
			return err;
	}
	return 0;
}

int desired_compute(const struct topology *t, const struct local_view *v, struct desired *d)
{
	int err;

	desired_init(d);
	err = add_tunnel(t, v, d);
	if (!err)
		err = add_bridges(t, d);
	for (size_t i = 0; !err && i < t->n_ports; i++)
		err = add_port(t, v, d, &t->ports[i]);
	if (!err)
		err = add_learned_elsewhere(t, v, d);
	if (err)
		desired_free(d);
	return err;
}
