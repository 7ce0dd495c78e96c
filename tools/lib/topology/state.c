// SPDX-License-Identifier: Apache-2.0
/* The admin state of a bridge or a router, and a router's BGP AS number: each a rewrite
 * of the device's node at its version. The agent puts MX_PORT_DEVICE_DOWN on every port of
 * a down device. */
#include <errno.h>

#include "write.h"

struct state_args {
	const char *id;
	bool down;
	const struct topo_router_opts *o;
};

/* Rewritten at the device's version: ordered against every other change of it. */
static int plan_bridge_state(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			     void *arg)
{
	const struct state_args *a = arg;
	const struct topo_bridge *b = topo_find_bridge_by_id(t, a->id);
	struct topo_bridge n;

	(void)zh;
	if (!b)
		return topo_fail(-ENOENT, "no bridge %s", a->id);
	n = *b;
	n.down = a->down;
	txn_set(x, b->version, topo_encode_bridge(&n), P_BRIDGE, b->id);
	return 0;
}

static int plan_router_update(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			      void *arg)
{
	const struct state_args *a = arg;
	const struct topo_router *r = topo_find_router_by_id(t, a->id);
	struct topo_router n;

	(void)zh;
	if (!r)
		return topo_fail(-ENOENT, "no router %s", a->id);
	n = *r;
	if (a->o->has_state)
		n.down = a->o->down;
	if (a->o->has_asn)
		n.asn = a->o->asn;
	txn_set(x, r->version, topo_encode_router(&n), P_ROUTER, r->id);
	return 0;
}

int topo_bridge_set_state(zhandle_t *zh, const char *bridge_id, bool down)
{
	struct state_args a = { .id = bridge_id, .down = down };

	return topo_apply(zh, plan_bridge_state, &a);
}

int topo_router_update(zhandle_t *zh, const char *router_id, const struct topo_router_opts *o)
{
	struct state_args a = { .id = router_id, .o = o };

	if (!o->has_state && !o->has_asn)
		return topo_fail(-EINVAL, "nothing to set");
	if (o->has_asn && o->asn < 1)
		return topo_fail(-EINVAL, "bad asn %u: 1 to %u", o->asn, TOPO_ASN_MAX);
	return topo_apply(zh, plan_router_update, &a);
}

int topo_router_set_state(zhandle_t *zh, const char *router_id, bool down)
{
	struct topo_router_opts o = { .has_state = true, .down = down };

	return topo_router_update(zh, router_id, &o);
}
