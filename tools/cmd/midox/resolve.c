// SPDX-License-Identifier: Apache-2.0
/* The session and the snapshot a command reads; references to objects. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define CONNECT_TIMEOUT_MS 3000

int cli_refresh(struct cli *c)
{
	int rc;

	if (!c->zh) {
		rc = topo_connect(c->servers, CONNECT_TIMEOUT_MS, NULL, NULL, &c->zh);
		if (rc)
			return cli_fail(rc, "cannot reach ZooKeeper at %s (waited %d s)", c->servers,
					CONNECT_TIMEOUT_MS / 1000);
		/* Each command reads the topology (a write twice more): after the first
		 * read, only what changed is asked for. */
		rc = topo_mirror_attach(c->zh, NULL, NULL);
		if (rc)
			return cli_lib_fail(rc);
		if (c->credentials) {
			rc = topo_auth_add(c->zh, &c->cred);
			if (rc)
				return cli_lib_fail(rc);
		}
	}
	if (c->have_t)
		topo_free(&c->t);
	c->have_t = false;
	rc = topo_read(c->zh, &c->t);
	if (rc)
		return cli_lib_fail(rc);
	c->have_t = true;
	return 0;
}

/* A lookup's result, or "unknown <what> '<ref>'". */
static int found(const void *obj, const void **out, const char *what, const char *ref)
{
	*out = obj;
	return obj ? 0 : cli_fail(-ENOENT, "unknown %s '%s'", what, ref);
}

int cli_find_zone(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(topo_find_zone(&c->t, ref), out, "tunnel zone", ref);
}

static size_t hosts_named(const struct topology *t, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_hosts; i++)
		n += !strcmp(t->hosts[i].name, name);
	return n;
}

int cli_find_host(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	*out = topo_find_host(&c->t, ref);
	if (*out)
		return 0;
	if (hosts_named(&c->t, ref) > 1)
		return cli_fail(-ENOENT, "%zu hosts are named '%s': use an alias or the id",
				hosts_named(&c->t, ref), ref);
	return cli_fail(-ENOENT, "unknown host '%s'", ref);
}

int cli_find_bridge(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(topo_find_bridge(&c->t, ref), out, "bridge", ref);
}

int cli_find_port(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(topo_find_port(&c->t, ref), out, "port", ref);
}

int cli_find_router(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(topo_find_router(&c->t, ref), out, "router", ref);
}

/* On a device: "portN", the port's UUID, or a full reference to one of its ports. A port
 * of another device is refused by name. */
int cli_find_device_port(struct cli *c, const char *device_id, const char *ref,
			 const void **out)
{
	const struct topo_port *p = topo_find_device_port(&c->t, device_id, ref);
	const char *type = topo_find_router_by_id(&c->t, device_id) ? "router" : "bridge";
	char da[64], pa[64];

	if (!p)
		p = topo_find_port(&c->t, ref);
	*out = p;
	if (p && strcmp(p->device_id, device_id))
		return cli_fail(-EINVAL, "port %s is not a port of %s %s", cli_alias(c, p->id, pa),
				type, cli_alias(c, device_id, da));
	return p ? 0 : cli_fail(-ENOENT, "unknown port '%s' on %s %s", ref, type,
				cli_alias(c, device_id, da));
}

/* On a router: "routeN", the route's UUID, or its full alias. */
int cli_find_route(struct cli *c, const char *router_id, const char *ref, const void **out)
{
	const struct topo_route *rt = topo_find_router_route(&c->t, router_id, ref);
	char ra[64];

	if (!rt) {
		rt = topo_find_route(&c->t, ref);
		if (rt && strcmp(rt->router_id, router_id))
			rt = NULL;
	}
	*out = rt;
	return rt ? 0 : cli_fail(-ENOENT, "unknown route '%s' on router %s", ref,
				 cli_alias(c, router_id, ra));
}
