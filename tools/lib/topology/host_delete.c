// SPDX-License-Identifier: Apache-2.0
/* Deleting a host whose agent is gone for good: hosts are made by their agents, so only a
 * dead one (no live session: no "alive" node) may go, with what refers to it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "topo_impl.h"
#include "write.h"

/* Every child of the host node with what it holds (bindings, learned entries, reports;
 * a live agent's "alive" appearing meanwhile fails the multi: not empty, retried). */
static int plan_host_tree(zhandle_t *zh, struct topo_txn *x, const struct topo_host *h)
{
	struct String_vector sv = { 0 };
	char path[TOPO_PATH_MAX], child[TOPO_PATH_MAX + 64];
	int32_t i;
	int rc;

	snprintf(path, sizeof(path), P_HOST, h->id);
	rc = zoo_get_children(zh, path, 0, &sv);
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", path, zerror(rc));
	for (i = 0, rc = 0; !rc && i < sv.count; i++) {
		snprintf(child, sizeof(child), "%s/%s", path, sv.data[i]);
		rc = plan_delete_tree(zh, x, -1, child);
	}
	deallocate_String_vector(&sv);
	if (!rc)
		txn_delete(x, h->version, P_HOST, h->id);
	return rc;
}

static int plan_host_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	const struct topo_host *h = topo_find_host_by_id(t, arg);
	char a[64], path[TOPO_PATH_MAX];
	size_t i;
	int rc = 0;

	if (!h)
		return topo_fail(-ENOENT, "no host %s", (const char *)arg);
	if (h->alive)
		return topo_fail(-EBUSY, "host %s (%s) is alive: its agent holds a session; stop "
				 "the agent and wait for its session to expire", alias_of(t, h->id, a),
				 h->name);
	for (i = 0; i < t->n_members; i++)
		if (!strcmp(t->members[i].host_id, h->id))
			txn_delete(x, t->members[i].version, P_MEMBER, t->members[i].zone_id, h->id);
	for (i = 0; !rc && i < t->n_bindings; i++) {
		if (strcmp(t->bindings[i].host_id, h->id))
			continue;
		snprintf(path, sizeof(path), P_PORT_BINDING, t->bindings[i].port_id);
		rc = plan_delete_if_present(zh, x, path);
	}
	return rc ? rc : plan_host_tree(zh, x, h);
}

int topo_host_delete(zhandle_t *zh, const char *host_id)
{
	return topo_apply(zh, plan_host_delete, (void *)host_id);
}
