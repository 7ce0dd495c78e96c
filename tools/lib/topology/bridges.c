// SPDX-License-Identifier: Apache-2.0
/* Writes of bridges. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "write.h"

struct bridge_args {
	const char *name, *bridge_id;
	char *id_out;
};

static int plan_bridge_create(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			      void *arg)
{
	struct bridge_args *a = arg;
	struct topo_bridge b = { 0 };
	int rc;

	(void)zh;
	rc = plan_named(t->bridges, t->n_bridges, sizeof(*t->bridges),
			offsetof(struct topo_bridge, name), "bridge", "bridge", a->name, b.id);
	if (!rc)
		rc = plan_tunnel_key(t, x, &b.tunnel_key);
	if (rc)
		return rc;
	strcpy(b.name, a->name);
	txn_touch(x, t->bridges_version, P_BRIDGES);
	txn_create(x, ZOO_PERSISTENT, topo_encode_bridge(&b), P_BRIDGE, b.id);
	strcpy(a->id_out, b.id);
	return 0;
}

int topo_bridge_create(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN])
{
	struct bridge_args a = { .name = name, .id_out = id };
	int rc = check_name(name);

	return rc ? rc : topo_apply(zh, plan_bridge_create, &a);
}

/* The bridge, its ports with their bindings, and every MAC learned on it. Adding a port
 * rewrites the bridge, so a port added meanwhile fails the version check here. */
static int plan_bridge_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			      void *arg)
{
	const char *id = ((struct bridge_args *)arg)->bridge_id;
	const struct topo_bridge *b = topo_find_bridge_by_id(t, id);
	char path[TOPO_PATH_MAX];
	size_t i;
	int rc = 0;

	if (!b)
		return topo_fail(-ENOENT, "no bridge %s", id);
	snprintf(path, sizeof(path), P_MACS, b->id); /* a tree made before access control */
	rc = plan_delete_tree(zh, x, -1, path);
	for (i = 0; i < t->n_macs; i++)
		if (!strcmp(t->macs[i].bridge_id, b->id))
			plan_learned_mac_delete(x, &t->macs[i]);
	for (i = 0; !rc && i < t->n_ports; i++)
		if (!strcmp(t->ports[i].device_id, b->id))
			rc = plan_port_removal(zh, t, x, &t->ports[i], true);
	txn_delete(x, b->version, P_BRIDGE, b->id);
	return rc;
}

int topo_bridge_delete(zhandle_t *zh, const char *bridge_id)
{
	struct bridge_args a = { .bridge_id = bridge_id };

	return topo_apply(zh, plan_bridge_delete, &a);
}
