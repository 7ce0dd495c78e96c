// SPDX-License-Identifier: Apache-2.0
/* The session and the snapshot a command reads; references to objects. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "topology/chains.h"

int cli_refresh(struct cli *c)
{
	int rc;

	if (!c->zh) {
		rc = cli_connect(c);
		if (rc)
			return rc;
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

/* How one type is looked up in the snapshot: by id, and by the library's UUID, name or
 * creation-order alias (top-level types) or UUID or "portN" on a device (ports, routes). */
struct finder {
	const char *what;
	ptrdiff_t name_off;	/* -1: no name */
	const void *(*by_id)(const struct topology *t, const char *id);
	const void *(*by_ref)(const struct topology *t, const char *ref);
	const void *(*on_device)(const struct topology *t, const char *dev, const char *ref);
	bool routers_only;	/* a full reference's device is a router */
};

#define BY(type) \
	static const void *type##_by_id(const struct topology *t, const char *id) \
	{ return topo_find_##type##_by_id(t, id); } \
	static const void *type##_by_ref(const struct topology *t, const char *ref) \
	{ return topo_find_##type(t, ref); }
BY(zone)
BY(host)
BY(bridge)
BY(router)
BY(port)
BY(route)
BY(bgp_peer)
BY(bgp_network)
BY(chain)
BY(port_group)
BY(ip_group)
BY(rule)

static const void *rule_on(const struct topology *t, const char *chain, const char *ref)
{
	return topo_find_chain_rule(t, chain, ref);
}

static const void *port_on(const struct topology *t, const char *dev, const char *ref)
{
	return topo_find_device_port(t, dev, ref);
}

static const void *route_on(const struct topology *t, const char *dev, const char *ref)
{
	return topo_find_router_route(t, dev, ref);
}

static const void *bgp_peer_on(const struct topology *t, const char *dev, const char *ref)
{
	return topo_find_router_bgp_peer(t, dev, ref);
}

static const void *bgp_network_on(const struct topology *t, const char *dev, const char *ref)
{
	return topo_find_router_bgp_network(t, dev, ref);
}

#define NAMED(type) .name_off = offsetof(struct topo_##type, name), \
	.by_id = type##_by_id, .by_ref = type##_by_ref
static const struct finder f_zone = { "tunnel zone", NAMED(zone) };
static const struct finder f_host = { "host", NAMED(host) };
static const struct finder f_bridge = { "bridge", NAMED(bridge) };
static const struct finder f_router = { "router", NAMED(router) };
static const struct finder f_port = { "port", -1, port_by_id, port_by_ref, port_on, false };
static const struct finder f_route = { "route", -1, route_by_id, route_by_ref, route_on, true };
static const struct finder f_bgp_peer = { "bgp-peer", -1, bgp_peer_by_id, bgp_peer_by_ref,
					  bgp_peer_on, true };
static const struct finder f_chain = { "chain", NAMED(chain) };
static const struct finder f_port_group = { "port-group", NAMED(port_group) };
static const struct finder f_ip_group = { "ip-address-group", NAMED(ip_group) };
static const struct finder f_rule = { "rule", -1, rule_by_id, rule_by_ref, rule_on, false };
static const struct finder f_bgp_network = { "bgp-network", -1, bgp_network_by_id,
					     bgp_network_by_ref, bgp_network_on, true };

/* key as this session printed it: 0 with its object, the object gone (an error), or 1 if
 * the session never printed key. */
static int printed(struct cli *c, const struct finder *f, const char *key, const char *ref,
		   const void **out)
{
	const char *id;

	if (!cli_alias_lookup(c, key, &id))
		return 1;
	*out = f->by_id(&c->t, id);
	return *out ? 0 : cli_alias_gone(c, f->what, ref, id);
}

/* The session's alias first (it keeps naming what it named), then the snapshot. 0 found,
 * 1 not found (nothing printed), or an error printed. Objects begin with their id. */
static int resolve(struct cli *c, const struct finder *f, const char *ref, const void **out)
{
	int rc = printed(c, f, ref, ref, out);

	if (rc <= 0)
		return rc;
	*out = f->by_ref(&c->t, ref);
	if (!*out)
		return 1;
	return cli_alias_check(c, f->what, ref, *out,
			       f->name_off < 0 ? NULL : cli_kind_str(*out, f->name_off));
}

/* ref (no ':') among the objects of device dev: "portN" as this session printed it with
 * the device's alias, else by the snapshot. */
static int resolve_on(struct cli *c, const struct finder *f, const char *dev, const char *ref,
		      const void **out)
{
	const char *da = cli_alias_printed(c, dev);
	char full[128];
	int rc;

	*out = NULL;
	if (strchr(ref, ':'))
		return 1;
	snprintf(full, sizeof(full), "%s:%s", da ? da : "", ref);
	rc = da ? printed(c, f, full, ref, out) : 1;
	if (rc <= 0)
		return rc;
	*out = f->on_device(&c->t, dev, ref);
	return *out ? cli_alias_check(c, f->what, ref, *out, NULL) : 1;
}

/* The device of a full reference "DEV:REST": a bridge or (f->routers_only) a router, as
 * this session printed it or by the snapshot. 1 if none, or if DEV names a bridge and a
 * router alike. */
static int device_of(struct cli *c, const struct finder *f, const char *dev, const char **id)
{
	const void *b = NULL, *r;
	const struct finder *df;

	if (cli_alias_lookup(c, dev, id)) {
		if ((!f->routers_only && topo_find_bridge_by_id(&c->t, *id)) ||
		    topo_find_router_by_id(&c->t, *id))
			return 0;
		return cli_alias_gone(c, f->routers_only ? "router" : "device", dev, *id);
	}
	if (!f->routers_only)
		b = topo_find_bridge(&c->t, dev);
	r = topo_find_router(&c->t, dev);
	if ((b && r) || (!b && !r))
		return 1;
	df = b ? &f_bridge : &f_router;
	*id = b ? b : r;
	return cli_alias_check(c, df->what, dev, *id, cli_kind_str(*id, df->name_off));
}

/* A port or route by UUID or full reference "DEV:portN" (DEV: a name or an alias). */
static int resolve_full(struct cli *c, const struct finder *f, const char *ref, const void **out)
{
	char dev[TOPO_NAME_MAX];
	const char *colon = strchr(ref, ':'), *dev_id;
	int rc;

	/* A UUID; a full reference's device part may be a name, which the snapshot's
	 * lookup would take for granted without asking the session. */
	if (!colon)
		return resolve(c, f, ref, out);
	rc = printed(c, f, ref, ref, out);
	if (rc <= 0 || (size_t)(colon - ref) >= sizeof(dev))
		return rc;
	snprintf(dev, sizeof(dev), "%.*s", (int)(colon - ref), ref);
	rc = device_of(c, f, dev, &dev_id);
	return rc ? rc : resolve_on(c, f, dev_id, colon + 1, out);
}

/* A lookup's result, or "unknown <what> '<ref>'". */
static int found(int rc, const char *what, const char *ref)
{
	return rc > 0 ? cli_fail(-ENOENT, "unknown %s '%s'", what, ref) : rc;
}

int cli_find_zone(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(resolve(c, &f_zone, ref, out), "tunnel zone", ref);
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
	int rc = resolve(c, &f_host, ref, out);

	(void)scope_id;
	if (rc <= 0)
		return rc;
	if (hosts_named(&c->t, ref) > 1)
		return cli_fail(-ENOENT, "%zu hosts are named '%s': use an alias or the id",
				hosts_named(&c->t, ref), ref);
	return cli_fail(-ENOENT, "unknown host '%s'", ref);
}

int cli_find_bridge(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(resolve(c, &f_bridge, ref, out), "bridge", ref);
}

int cli_find_port(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(resolve_full(c, &f_port, ref, out), "port", ref);
}

int cli_find_router(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(resolve(c, &f_router, ref, out), "router", ref);
}

/* On device dev: a short alias or UUID, else a full reference; *out NULL if none or if
 * it names nothing (the caller checks that it is dev's). */
static int resolve_scoped(struct cli *c, const struct finder *f, const char *dev,
			  const char *ref, const void **out)
{
	int rc = resolve_on(c, f, dev, ref, out);

	if (rc > 0)
		rc = resolve_full(c, f, ref, out);
	if (rc > 0)
		*out = NULL;
	return rc < 0 ? rc : 0;
}

/* On a device: "portN", the port's UUID, or a full reference to one of its ports. A port
 * of another device is refused by name. */
int cli_find_device_port(struct cli *c, const char *device_id, const char *ref,
			 const void **out)
{
	const char *type = topo_find_router_by_id(&c->t, device_id) ? "router" : "bridge";
	const struct topo_port *p;
	char da[64], pa[64];
	int rc = resolve_scoped(c, &f_port, device_id, ref, out);

	if (rc)
		return rc;
	p = *out;
	if (p && strcmp(p->device_id, device_id))
		return cli_fail(-EINVAL, "port %s is not a port of %s %s", cli_alias(c, p->id, pa),
				type, cli_alias(c, device_id, da));
	return p ? 0 : cli_fail(-ENOENT, "unknown port '%s' on %s %s", ref, type,
				cli_alias(c, device_id, da));
}

/* On a router: "routeN", the route's UUID, or its full alias. */
int cli_find_route(struct cli *c, const char *router_id, const char *ref, const void **out)
{
	const struct topo_route *rt;
	char ra[64];
	int rc = resolve_scoped(c, &f_route, router_id, ref, out);

	if (rc)
		return rc;
	rt = *out;
	if (rt && strcmp(rt->router_id, router_id))
		*out = rt = NULL;
	return rt ? 0 : cli_fail(-ENOENT, "unknown route '%s' on router %s", ref,
				 cli_alias(c, router_id, ra));
}

/* On a router: "peerN", the peer's UUID, or a full reference to one of its peers. */
int cli_find_bgp_peer(struct cli *c, const char *router_id, const char *ref, const void **out)
{
	const struct topo_bgp_peer *p;
	char ra[64];
	int rc = resolve_scoped(c, &f_bgp_peer, router_id, ref, out);

	if (rc)
		return rc;
	p = *out;
	if (p && strcmp(p->router_id, router_id))
		*out = p = NULL;
	return p ? 0 : cli_fail(-ENOENT, "unknown bgp-peer '%s' on router %s", ref,
				cli_alias(c, router_id, ra));
}

/* On a router: "netN", the network's UUID, or a full reference to one of its networks. */
int cli_find_bgp_network(struct cli *c, const char *router_id, const char *ref,
			 const void **out)
{
	const struct topo_bgp_network *n;
	char ra[64];
	int rc = resolve_scoped(c, &f_bgp_network, router_id, ref, out);

	if (rc)
		return rc;
	n = *out;
	if (n && strcmp(n->router_id, router_id))
		*out = n = NULL;
	return n ? 0 : cli_fail(-ENOENT, "unknown bgp-network '%s' on router %s", ref,
				cli_alias(c, router_id, ra));
}

int cli_find_chain(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(resolve(c, &f_chain, ref, out), "chain", ref);
}

int cli_find_port_group(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(resolve(c, &f_port_group, ref, out), "port-group", ref);
}

int cli_find_ip_group(struct cli *c, const char *scope_id, const char *ref, const void **out)
{
	(void)scope_id;
	return found(resolve(c, &f_ip_group, ref, out), "ip-address-group", ref);
}

/* In a chain: "ruleN" (its creation order in the chain), the rule's UUID, or
 * "<chain>:ruleN" naming that chain. */
int cli_find_rule(struct cli *c, const char *chain_id, const char *ref, const void **out)
{
	const struct topo_rule *r;
	const void *ch = NULL;
	char chain[TOPO_NAME_MAX + 32], ca[64];
	const char *colon = strchr(ref, ':');
	int rc;

	if (colon && (size_t)(colon - ref) < sizeof(chain)) {
		snprintf(chain, sizeof(chain), "%.*s", (int)(colon - ref), ref);
		rc = cli_find_chain(c, NULL, chain, &ch);
		if (rc)
			return rc;
		if (strcmp(((const struct topo_chain *)ch)->id, chain_id))
			return cli_fail(-EINVAL, "rule %s is not a rule of chain %s", ref,
					cli_alias(c, chain_id, ca));
		ref = colon + 1;
	}
	rc = resolve_on(c, &f_rule, chain_id, ref, out);
	if (rc > 0 && !colon)
		rc = resolve(c, &f_rule, ref, out);
	if (rc < 0)
		return rc;
	r = rc ? NULL : *out;
	if (r && strcmp(r->chain_id, chain_id))
		r = NULL;
	*out = r;
	return r ? 0 : cli_fail(-ENOENT, "unknown rule '%s' in chain %s", ref,
				cli_alias(c, chain_id, ca));
}
