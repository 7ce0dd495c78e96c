// SPDX-License-Identifier: Apache-2.0
/* Finding objects by reference and naming them by alias, as midonet-cli does: a
 * reference is a UUID, else an exact name, else an alias (host0, tzone0, bridge0,
 * bridge0:port0, router0, router0:port1, router0:route2, router0:peer0, router0:net0), where
 * N is the index in creation order (of ports, routes, peers, networks: on their device). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chains.h"
#include "topo_impl.h"

/* "<prefix>N" -> N; -1 if ref is not that alias. */
static long alias_index(const char *ref, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *d = ref + n;
	char *end;
	long i;

	if (strncmp(ref, prefix, n) || !isdigit((unsigned char)*d) || (d[0] == '0' && d[1]))
		return -1;
	i = strtol(d, &end, 10);
	return *end || i < 0 || i > 0xFFFFFF ? -1 : i;
}

/* Walk an array of objects that start with their id and then their name: the id, else
 * the one object with that exact name, else the alias index. */
static const void *find(const void *arr, size_t n, size_t size, size_t name_off,
			const char *prefix, const char *ref)
{
	const char *p = arr, *hit = NULL;
	size_t i, hits = 0;
	long idx;

	if (!ref)
		return NULL;
	for (i = 0; i < n; i++)
		if (!strcasecmp(p + i * size, ref))
			return p + i * size;
	for (i = 0; i < n; i++) {
		if (!strcmp(p + i * size + name_off, ref)) {
			hit = p + i * size;
			hits++;
		}
	}
	if (hits == 1)
		return hit;
	if (hits > 1)
		return NULL; /* ambiguous: only host names may repeat */
	idx = alias_index(ref, prefix);
	return idx >= 0 && (size_t)idx < n ? p + (size_t)idx * size : NULL;
}

const struct topo_host *topo_find_host(const struct topology *t, const char *ref)
{
	return find(t->hosts, t->n_hosts, sizeof(*t->hosts), offsetof(struct topo_host, name),
		    "host", ref);
}

const struct topo_zone *topo_find_zone(const struct topology *t, const char *ref)
{
	return find(t->zones, t->n_zones, sizeof(*t->zones), offsetof(struct topo_zone, name),
		    "tzone", ref);
}

const struct topo_bridge *topo_find_bridge(const struct topology *t, const char *ref)
{
	return find(t->bridges, t->n_bridges, sizeof(*t->bridges),
		    offsetof(struct topo_bridge, name), "bridge", ref);
}

const struct topo_router *topo_find_router(const struct topology *t, const char *ref)
{
	return find(t->routers, t->n_routers, sizeof(*t->routers),
		    offsetof(struct topo_router, name), "router", ref);
}

const struct topo_arp *topo_find_arp_static(const struct topology *t, const char *router_id,
					    struct in_addr addr)
{
	size_t i;

	for (i = 0; i < t->n_arps; i++) {
		const struct topo_arp *a = &t->arps[i];

		if (!a->learned && a->addr.s_addr == addr.s_addr && !strcmp(a->router_id, router_id))
			return a;
	}
	return NULL;
}

/* An object of one device (ports, routes: objects that start with their id, with their
 * device's id at dev_off) by its UUID or "<prefix>N", N its index among the device's. */
static const void *find_on_device(const void *arr, size_t n, size_t size, size_t dev_off,
				  const char *device_id, const char *prefix, const char *ref)
{
	long idx = ref ? alias_index(ref, prefix) : -1;
	const char *p = arr;
	size_t i;

	for (i = 0; ref && i < n; i++, p += size) {
		if (strcmp(p + dev_off, device_id))
			continue;
		if (!strcasecmp(p, ref) || idx-- == 0)
			return p;
	}
	return NULL;
}

const struct topo_port *topo_find_device_port(const struct topology *t, const char *device_id,
					      const char *ref)
{
	return find_on_device(t->ports, t->n_ports, sizeof(*t->ports),
			      offsetof(struct topo_port, device_id), device_id, "port", ref);
}

const struct topo_route *topo_find_router_route(const struct topology *t, const char *router_id,
						const char *ref)
{
	return find_on_device(t->routes, t->n_routes, sizeof(*t->routes),
			      offsetof(struct topo_route, router_id), router_id, "route", ref);
}

/* "<device ref>:<rest>": the device's id (bridge or router), NULL if none or if the
 * reference names both a bridge and a router. */
static const char *device_of(const struct topology *t, const char *ref, const char **rest,
			     enum topo_device_type *type)
{
	const struct topo_bridge *b;
	const struct topo_router *r;
	char dev[TOPO_NAME_MAX];
	const char *colon = strchr(ref, ':');

	if (!colon || (size_t)(colon - ref) >= sizeof(dev))
		return NULL;
	memcpy(dev, ref, (size_t)(colon - ref));
	dev[colon - ref] = '\0';
	*rest = colon + 1;
	b = topo_find_bridge(t, dev);
	r = topo_find_router(t, dev);
	if (b && r)
		return NULL;
	*type = b ? TOPO_DEVICE_BRIDGE : TOPO_DEVICE_ROUTER;
	return b ? b->id : r ? r->id : NULL;
}

/* Ports, routes, BGP peers and networks by UUID, or "<device ref>:<prefix>N" (or
 * ":<UUID>"); all but ports only on routers. */
static const void *find_member(const struct topology *t, const void *arr, size_t n,
			       size_t size, size_t dev_off, const char *prefix, const char *ref)
{
	enum topo_device_type type;
	const char *p = arr, *dev, *rest;
	size_t i;

	if (!ref)
		return NULL;
	for (i = 0; i < n; i++)
		if (!strcasecmp(p + i * size, ref))
			return p + i * size;
	dev = device_of(t, ref, &rest, &type);
	if (!dev || (strcmp(prefix, "port") && type != TOPO_DEVICE_ROUTER))
		return NULL;
	return find_on_device(arr, n, size, dev_off, dev, prefix, rest);
}

const struct topo_port *topo_find_port(const struct topology *t, const char *ref)
{
	return find_member(t, t->ports, t->n_ports, sizeof(*t->ports),
			   offsetof(struct topo_port, device_id), "port", ref);
}

const struct topo_route *topo_find_route(const struct topology *t, const char *ref)
{
	return find_member(t, t->routes, t->n_routes, sizeof(*t->routes),
			   offsetof(struct topo_route, router_id), "route", ref);
}

const struct topo_bgp_peer *topo_find_bgp_peer(const struct topology *t, const char *ref)
{
	return find_member(t, t->bgp_peers, t->n_bgp_peers, sizeof(*t->bgp_peers),
			   offsetof(struct topo_bgp_peer, router_id), "peer", ref);
}

const struct topo_bgp_peer *topo_find_router_bgp_peer(const struct topology *t,
						       const char *router_id, const char *ref)
{
	return find_on_device(t->bgp_peers, t->n_bgp_peers, sizeof(*t->bgp_peers),
			      offsetof(struct topo_bgp_peer, router_id), router_id, "peer", ref);
}

const struct topo_bgp_peer *topo_find_bgp_peer_by_id(const struct topology *t, const char *id)
{
	for (size_t i = 0; id && i < t->n_bgp_peers; i++)
		if (!strcasecmp(t->bgp_peers[i].id, id))
			return &t->bgp_peers[i];
	return NULL;
}

const struct topo_bgp_network *topo_find_bgp_network(const struct topology *t, const char *ref)
{
	return find_member(t, t->bgp_networks, t->n_bgp_networks, sizeof(*t->bgp_networks),
			   offsetof(struct topo_bgp_network, router_id), "net", ref);
}

const struct topo_bgp_network *topo_find_router_bgp_network(const struct topology *t,
							     const char *router_id,
							     const char *ref)
{
	return find_on_device(t->bgp_networks, t->n_bgp_networks, sizeof(*t->bgp_networks),
			      offsetof(struct topo_bgp_network, router_id), router_id, "net", ref);
}

const struct topo_bgp_network *topo_find_bgp_network_by_id(const struct topology *t,
							    const char *id)
{
	for (size_t i = 0; id && i < t->n_bgp_networks; i++)
		if (!strcasecmp(t->bgp_networks[i].id, id))
			return &t->bgp_networks[i];
	return NULL;
}

const struct topo_binding *topo_find_binding(const struct topology *t, const char *host_id,
					     const char *ifname)
{
	size_t i;

	for (i = 0; i < t->n_bindings; i++)
		if (!strcmp(t->bindings[i].host_id, host_id) &&
		    !strcmp(t->bindings[i].interface, ifname))
			return &t->bindings[i];
	return NULL;
}

/* "<device alias>:<kind>N": n is the object's place among its device's (its ordinal). */
static void member_alias(const struct topology *t, const char *device_id, size_t n,
			 const char *kind, char *buf, size_t len)
{
	char dev[64];

	if (topo_alias(t, device_id, dev, sizeof(dev)))
		snprintf(dev, sizeof(dev), "%s", device_id);
	snprintf(buf, len, "%s:%s%zu", dev, kind, n);
}

/* The place of obj (NULL: none) in arr: the N of its alias. */
static long place(const void *obj, const void *arr, size_t size)
{
	return obj ? (long)(((const char *)obj - (const char *)arr) / (ptrdiff_t)size) : -1;
}

#define PLACE(obj, arr) place(obj, arr, sizeof(*(arr)))

/* Chains, their rules and the groups: "chain0", "chain0:rule1", "pgroup0",
 * "ip-address-group0" (midonet-cli's). false if id is none of them. */
static bool chain_alias(const struct topology *t, const char *id, char *buf, size_t len)
{
	const struct topo_rule *r;
	long idx;

	if ((idx = PLACE(topo_find_chain_by_id(t, id), t->chains)) >= 0)
		snprintf(buf, len, "chain%ld", idx);
	else if ((r = topo_find_rule_by_id(t, id)))
		member_alias(t, r->chain_id, r->ordinal, "rule", buf, len);
	else if ((idx = PLACE(topo_find_port_group_by_id(t, id), t->port_groups)) >= 0)
		snprintf(buf, len, "pgroup%ld", idx);
	else if ((idx = PLACE(topo_find_ip_group_by_id(t, id), t->ip_groups)) >= 0)
		snprintf(buf, len, "ip-address-group%ld", idx);
	else
		return false;
	return true;
}

int topo_alias(const struct topology *t, const char *id, char *buf, size_t len)
{
	const struct topo_bgp_network *bn;
	const struct topo_bgp_peer *bp;
	const struct topo_port *p;
	const struct topo_route *r;
	long idx;

	if ((idx = PLACE(topo_find_host_by_id(t, id), t->hosts)) >= 0)
		snprintf(buf, len, "host%ld", idx);
	else if ((idx = PLACE(topo_find_zone_by_id(t, id), t->zones)) >= 0)
		snprintf(buf, len, "tzone%ld", idx);
	else if ((idx = PLACE(topo_find_bridge_by_id(t, id), t->bridges)) >= 0)
		snprintf(buf, len, "bridge%ld", idx);
	else if ((idx = PLACE(topo_find_router_by_id(t, id), t->routers)) >= 0)
		snprintf(buf, len, "router%ld", idx);
	else if ((p = topo_find_port_by_id(t, id)))
		member_alias(t, p->device_id, p->ordinal, "port", buf, len);
	else if ((r = topo_find_route_by_id(t, id)))
		member_alias(t, r->router_id, r->ordinal, "route", buf, len);
	else if ((bp = topo_find_bgp_peer_by_id(t, id)))
		member_alias(t, bp->router_id, bp->ordinal, "peer", buf, len);
	else if ((bn = topo_find_bgp_network_by_id(t, id)))
		member_alias(t, bn->router_id, bn->ordinal, "net", buf, len);
	else if (chain_alias(t, id, buf, len))
		return 0;
	else
		return topo_fail(-ENOENT, "no object with id %s", id ? id : "(null)");
	return 0;
}

/* ---- chains, rules, groups (chains.h): few, looked through linearly ---- */

#define BY_ID(fn, type, arr)                                                  \
	const struct type *fn(const struct topology *t, const char *id)       \
	{                                                                     \
		for (size_t i = 0; id && i < t->n_##arr; i++)                \
			if (!strcasecmp(t->arr[i].id, id))                    \
				return &t->arr[i];                            \
		return NULL;                                                  \
	}

BY_ID(topo_find_chain_by_id, topo_chain, chains)
BY_ID(topo_find_rule_by_id, topo_rule, rules)
BY_ID(topo_find_port_group_by_id, topo_port_group, port_groups)
BY_ID(topo_find_ip_group_by_id, topo_ip_group, ip_groups)

const struct topo_chain *topo_find_chain(const struct topology *t, const char *ref)
{
	return find(t->chains, t->n_chains, sizeof(*t->chains), offsetof(struct topo_chain, name),
		    "chain", ref);
}

const struct topo_port_group *topo_find_port_group(const struct topology *t, const char *ref)
{
	return find(t->port_groups, t->n_port_groups, sizeof(*t->port_groups),
		    offsetof(struct topo_port_group, name), "pgroup", ref);
}

const struct topo_ip_group *topo_find_ip_group(const struct topology *t, const char *ref)
{
	return find(t->ip_groups, t->n_ip_groups, sizeof(*t->ip_groups),
		    offsetof(struct topo_ip_group, name), "ip-address-group", ref);
}

/* Rules are kept in chain order: their alias is their creation order (ordinal). */
const struct topo_rule *topo_find_chain_rule(const struct topology *t, const char *chain_id,
					      const char *ref)
{
	long idx = ref ? alias_index(ref, "rule") : -1;

	for (size_t i = 0; ref && i < t->n_rules; i++) {
		const struct topo_rule *r = &t->rules[i];

		if (strcmp(r->chain_id, chain_id))
			continue;
		if (!strcasecmp(r->id, ref) || (idx >= 0 && r->ordinal == (size_t)idx))
			return r;
	}
	return NULL;
}

/* By UUID or "<chain ref>:ruleN" (or ":<UUID>"). */
const struct topo_rule *topo_find_rule(const struct topology *t, const char *ref)
{
	const struct topo_chain *c;
	const struct topo_rule *r = topo_find_rule_by_id(t, ref);
	char chain[TOPO_NAME_MAX];
	const char *colon = ref ? strchr(ref, ':') : NULL;

	if (r || !colon || (size_t)(colon - ref) >= sizeof(chain))
		return r;
	memcpy(chain, ref, (size_t)(colon - ref));
	chain[colon - ref] = '\0';
	c = topo_find_chain(t, chain);
	return c ? topo_find_chain_rule(t, c->id, colon + 1) : NULL;
}
