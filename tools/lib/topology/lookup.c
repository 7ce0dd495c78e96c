// SPDX-License-Identifier: Apache-2.0
/* Lookups in a snapshot by id and by tunnel key, through hash indexes built once per
 * snapshot (topo_index, which topo_read calls): what keeps the agent's computation linear
 * and the CLI's aliases cheap in a large topology. A snapshot without them (built by
 * hand, never indexed) is searched linearly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/index.h"
#include "topo_impl.h"

struct topo_index {
	struct index host, zone, bridge, router, port, route; /* by id */
	struct index binding;				       /* by port id */
	struct index bridge_key, router_key, port_key;	       /* by tunnel key */
};

/* Every index of the snapshot, in one list for building and freeing. */
#define EACH_INDEX(x) &x->host, &x->zone, &x->bridge, &x->router, &x->port, &x->route, \
	&x->binding, &x->bridge_key, &x->router_key, &x->port_key

/* Index n records of arr by the field at off; the first of equal keys wins, empty ids are
 * left out. */
static int build(struct index *ix, const void *arr, size_t n, size_t size, size_t off,
		 size_t key_size, enum index_keys keys)
{
	const char *p = arr;
	int err = 0;

	index_init(ix, arr, size, off, key_size, keys);
	for (size_t i = 0; !err && i < n; i++) {
		const char *key = p + i * size + off;

		if ((keys == INDEX_STRING && !key[0]) || index_find(ix, key) >= 0)
			continue;
		err = index_add(ix, i);
	}
	return err;
}

#define BY_ID(ix, A, T, field) \
	build(ix, t->A, t->n_##A, sizeof(*t->A), offsetof(T, field), TOPO_ID_LEN, INDEX_STRING)
#define BY_KEY(ix, A, T) \
	build(ix, t->A, t->n_##A, sizeof(*t->A), offsetof(T, tunnel_key), sizeof(uint32_t), \
	      INDEX_BYTES)

static int build_all(struct topology *t, struct topo_index *x)
{
	int err = BY_ID(&x->host, hosts, struct topo_host, id);

	if (!err)
		err = BY_ID(&x->zone, zones, struct topo_zone, id);
	if (!err)
		err = BY_ID(&x->bridge, bridges, struct topo_bridge, id);
	if (!err)
		err = BY_ID(&x->router, routers, struct topo_router, id);
	if (!err)
		err = BY_ID(&x->port, ports, struct topo_port, id);
	if (!err)
		err = BY_ID(&x->route, routes, struct topo_route, id);
	if (!err)
		err = BY_ID(&x->binding, bindings, struct topo_binding, port_id);
	if (!err)
		err = BY_KEY(&x->bridge_key, bridges, struct topo_bridge);
	if (!err)
		err = BY_KEY(&x->router_key, routers, struct topo_router);
	if (!err)
		err = BY_KEY(&x->port_key, ports, struct topo_port);
	return err;
}

/* x is not NULL: the members' addresses of a NULL pointer are undefined (UBSan says so). */
static void index_free_each(struct topo_index *x)
{
	struct index *all[] = { EACH_INDEX(x) };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		index_free(all[i]);
}

void topo_index_free(struct topology *t)
{
	struct topo_index *x = t->ix;

	if (!x)
		return;
	index_free_each(x);
	free(x);
	t->ix = NULL;
}

int topo_index_build(struct topology *t)
{
	int err;

	topo_index_free(t);
	t->ix = calloc(1, sizeof(*t->ix));
	if (!t->ix)
		return -ENOMEM;
	err = build_all(t, t->ix);
	if (err)
		topo_index_free(t);
	return err;
}

/* The record of n in arr whose field at off holds key: through ix, or a scan without one. */
static const void *lookup(const struct index *ix, const void *arr, size_t n, size_t size,
			  size_t off, const void *key, enum index_keys keys)
{
	const char *p = arr;
	long pos;

	if (!key || (keys == INDEX_STRING && !*(const char *)key))
		return NULL;
	if (ix) {
		pos = index_find(ix, key);
		return pos < 0 ? NULL : p + (size_t)pos * size;
	}
	for (size_t i = 0; i < n; i++, p += size)
		if (keys == INDEX_STRING ? !strcmp(p + off, key) : !memcmp(p + off, key, sizeof(uint32_t)))
			return p;
	return NULL;
}

#define FIND_ID(which, A, T, field, id) \
	lookup(t->ix ? &t->ix->which : NULL, t->A, t->n_##A, sizeof(*t->A), offsetof(T, field), \
	       id, INDEX_STRING)
#define FIND_KEY(which, A, T, key) \
	lookup(t->ix ? &t->ix->which : NULL, t->A, t->n_##A, sizeof(*t->A), \
	       offsetof(T, tunnel_key), &key, INDEX_BYTES)

const struct topo_host *topo_find_host_by_id(const struct topology *t, const char *id)
{
	return FIND_ID(host, hosts, struct topo_host, id, id);
}

const struct topo_zone *topo_find_zone_by_id(const struct topology *t, const char *id)
{
	return FIND_ID(zone, zones, struct topo_zone, id, id);
}

const struct topo_bridge *topo_find_bridge_by_id(const struct topology *t, const char *id)
{
	return FIND_ID(bridge, bridges, struct topo_bridge, id, id);
}

const struct topo_router *topo_find_router_by_id(const struct topology *t, const char *id)
{
	return FIND_ID(router, routers, struct topo_router, id, id);
}

const struct topo_port *topo_find_port_by_id(const struct topology *t, const char *id)
{
	return FIND_ID(port, ports, struct topo_port, id, id);
}

const struct topo_route *topo_find_route_by_id(const struct topology *t, const char *id)
{
	return FIND_ID(route, routes, struct topo_route, id, id);
}

const struct topo_binding *topo_find_port_binding(const struct topology *t, const char *port_id)
{
	return FIND_ID(binding, bindings, struct topo_binding, port_id, port_id);
}

const struct topo_bridge *topo_bridge_by_key(const struct topology *t, uint32_t key)
{
	return FIND_KEY(bridge_key, bridges, struct topo_bridge, key);
}

const struct topo_router *topo_router_by_key(const struct topology *t, uint32_t key)
{
	return FIND_KEY(router_key, routers, struct topo_router, key);
}

const struct topo_port *topo_port_by_key(const struct topology *t, uint32_t key)
{
	return FIND_KEY(port_key, ports, struct topo_port, key);
}
