// SPDX-License-Identifier: Apache-2.0
/* Counter slots of the ports (slots.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desired.h"
#include "slots.h"

static int pair_cmp(const void *a, const void *b)
{
	const struct slot_pair *x = a, *y = b;

	return x->port_key < y->port_key ? -1 : x->port_key > y->port_key;
}

__u32 slots_lookup(const struct stats_slots *s, __u32 port_key)
{
	struct slot_pair k = { .port_key = port_key };
	const struct slot_pair *p = s->n ? bsearch(&k, s->pairs, s->n, sizeof(k), pair_cmp) : NULL;

	return p ? p->slot : 0;
}

struct pinned_read {
	struct stats_slots *s;
	size_t cap;
};

/* A pinned port's slot, unless out of range or already another's (then it gets a new one). */
static int pinned_port(const void *key, const void *value, void *ctx)
{
	const struct mx_port *p = value;
	struct pinned_read *r = ctx;
	struct stats_slots *s = r->s;
	struct slot_pair *grown;

	if (!p->stats_slot || p->stats_slot >= MX_TRAFFIC_SLOTS || s->used[p->stats_slot])
		return 0;
	if (s->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		grown = realloc(s->pairs, r->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->pairs = grown;
	}
	s->pairs[s->n].port_key = *(const __u32 *)key;
	s->pairs[s->n++].slot = p->stats_slot;
	s->used[p->stats_slot] = 1;
	return 0;
}

int slots_init(struct stats_slots *s, struct mx_datapath *dp)
{
	struct pinned_read r = { .s = s };
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->used = calloc(MX_TRAFFIC_SLOTS, 1);
	if (!s->used)
		return -ENOMEM;
	s->used[MX_TRAFFIC_HOST_SLOT] = 1;
	s->next = 1;
	if (dp)
		err = mx_map_walk(dp, MX_MAP_ID_PORT, pinned_port, &r);
	if (!err && s->n)
		qsort(s->pairs, s->n, sizeof(*s->pairs), pair_cmp);
	if (err)
		slots_free(s);
	return err;
}

void slots_free(struct stats_slots *s)
{
	free(s->pairs);
	free(s->used);
	free(s->released);
	memset(s, 0, sizeof(*s));
}

/* The next free slot, 0 when every one is taken. */
static __u32 slot_take(struct stats_slots *s)
{
	for (__u32 i = 0; i < MX_TRAFFIC_SLOTS - 1; i++) {
		__u32 slot = 1 + (s->next - 1 + i) % (MX_TRAFFIC_SLOTS - 1);

		if (!s->used[slot]) {
			s->used[slot] = 1;
			s->next = slot + 1 < MX_TRAFFIC_SLOTS ? slot + 1 : 1;
			return slot;
		}
	}
	return 0;
}

/* Ports that had no slot get one, those bound here (local) in the first round. */
static int slots_give(struct stats_slots *s, struct mx_datapath *dp, size_t n,
		      struct mx_port *ports, bool local)
{
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		struct mx_port *p = &ports[i];

		if (p->stats_slot || !(p->flags & MX_PORT_LOCAL) != !local)
			continue;
		p->stats_slot = slot_take(s);
		if (!p->stats_slot)
			return 0; /* all taken: the rest are counted in midox_stats */
		if (dp)
			err = mx_traffic_clear(dp, p->stats_slot);
	}
	return err;
}

int slots_assign(struct stats_slots *s, struct mx_datapath *dp, size_t n_ports,
		 const __u32 *port_keys, struct mx_port *ports, size_t n_ifports,
		 struct mx_ifport *ifports)
{
	struct slot_pair *pairs = calloc(n_ports ? n_ports : 1, sizeof(*pairs));
	__u32 *released = calloc(s->n + s->n_released + 1, sizeof(*released));
	size_t n_released = 0, j = 0;
	int err = pairs && released ? 0 : -ENOMEM;

	if (err)
		goto out;
	/* What the last pass freed is free now: its sync removed every entry naming it. Unless
	 * that sync failed: then it waits for one that succeeds. */
	for (size_t i = 0; i < s->n_released; i++) {
		if (s->hold)
			released[n_released++] = s->released[i];
		else
			s->used[s->released[i]] = 0;
	}
	s->hold = false;
	for (size_t i = 0; i < n_ports; i++)
		ports[i].stats_slot = slots_lookup(s, port_keys[i]);
	err = slots_give(s, dp, n_ports, ports, true);
	if (!err)
		err = slots_give(s, dp, n_ports, ports, false);
	if (err)
		goto out;
	for (size_t i = 0; i < n_ports; i++)
		pairs[i] = (struct slot_pair){ .port_key = port_keys[i], .slot = ports[i].stats_slot };
	if (n_ports)
		qsort(pairs, n_ports, sizeof(*pairs), pair_cmp);
	/* The old ports gone from the desired set release their slots (to the next pass). */
	for (size_t i = 0; i < s->n; i++) {
		while (j < n_ports && pairs[j].port_key < s->pairs[i].port_key)
			j++;
		if (s->pairs[i].slot &&
		    (j == n_ports || pairs[j].port_key != s->pairs[i].port_key))
			released[n_released++] = s->pairs[i].slot;
	}
	free(s->pairs);
	free(s->released);
	s->pairs = pairs;
	s->n = n_ports;
	s->released = released;
	s->n_released = n_released;
	pairs = NULL;
	released = NULL;
	for (size_t i = 0; i < n_ifports; i++)
		ifports[i].port.stats_slot = slots_lookup(s, ifports[i].port_key);
out:
	free(pairs);
	free(released);
	return err;
}

void slots_hold(struct stats_slots *s)
{
	s->hold = true;
}

/* The slot hint of p's peer: an interior port's, else 0. */
static __u32 peer_slot(const struct stats_slots *s, const struct mx_port *p)
{
	return p->flags & MX_PORT_INTERIOR ? slots_lookup(s, p->peer_key) : 0;
}

int slots_assign_desired(struct stats_slots *s, struct mx_datapath *dp, struct desired *d)
{
	struct kv_array *ports = &d->maps[MX_MAP_ID_PORT], *ifp = &d->maps[MX_MAP_ID_IFPORT];
	struct kv_array *fdb = &d->maps[MX_MAP_ID_FDB], *routes = &d->maps[MX_MAP_ID_ROUTE];
	struct mx_fdb_entry *fe = fdb->values;
	struct mx_ifport *ife = ifp->values;
	struct mx_port *pe = ports->values;
	struct mx_route *re = routes->values;
	int err = slots_assign(s, dp, ports->n, ports->keys, ports->values, ifp->n, ifp->values);

	if (err)
		return err;
	/* Hints that let the datapath read midox_portslot instead of the port hash: the
	 * MAC-table entries name their port's slot, interior ports their peer's, routes
	 * their egress port's. */
	for (size_t i = 0; i < fdb->n; i++)
		fe[i].port_slot = (__u16)slots_lookup(s, fe[i].port_key);
	for (size_t i = 0; i < ports->n; i++)
		pe[i].peer_slot = peer_slot(s, &pe[i]);
	for (size_t i = 0; i < ifp->n; i++)
		ife[i].port.peer_slot = peer_slot(s, &ife[i].port);
	for (size_t i = 0; i < routes->n; i++)
		for (__u32 j = 0; j < re[i].n && j < MX_ROUTE_MAX_NEXTHOPS; j++)
			re[i].nh[j].port_slot = re[i].nh[j].type == MX_ROUTE_NORMAL ?
				(__u16)slots_lookup(s, re[i].nh[j].port_key) : 0;
	return 0;
}
