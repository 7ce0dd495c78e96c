// SPDX-License-Identifier: Apache-2.0
/* The admin state of a bridge or a router: one plan for both, their nodes being alike
 * (topo_encode_device). The agent puts MX_PORT_DEVICE_DOWN on every port of a down device. */
#include <errno.h>

#include "write.h"

struct state_args {
	bool router;
	const char *id;
	bool down;
};

/* Rewritten at the device's version: ordered against every other change of it. */
static int plan_device_state(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			     void *arg)
{
	const struct state_args *a = arg;
	const struct topo_bridge *b = a->router ? NULL : topo_find_bridge_by_id(t, a->id);
	const struct topo_router *r = a->router ? topo_find_router_by_id(t, a->id) : NULL;

	(void)zh;
	if (b)
		txn_set(x, b->version, topo_encode_device(b->name, b->tunnel_key, a->down),
			P_BRIDGE, b->id);
	else if (r)
		txn_set(x, r->version, topo_encode_device(r->name, r->tunnel_key, a->down),
			P_ROUTER, r->id);
	else
		return topo_fail(-ENOENT, "no %s %s", a->router ? "router" : "bridge", a->id);
	return 0;
}

int topo_bridge_set_state(zhandle_t *zh, const char *bridge_id, bool down)
{
	struct state_args a = { .router = false, .id = bridge_id, .down = down };

	return topo_apply(zh, plan_device_state, &a);
}

int topo_router_set_state(zhandle_t *zh, const char *router_id, bool down)
{
	struct state_args a = { .router = true, .id = router_id, .down = down };

	return topo_apply(zh, plan_device_state, &a);
}
