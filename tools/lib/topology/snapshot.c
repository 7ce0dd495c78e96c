// SPDX-License-Identifier: Apache-2.0
/* A snapshot as readers see it: objects in creation order, one owner per tunnel key,
 * every reference resolving (what dangles is left out), ordinals for aliases, indexes
 * for lookups. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "reader.h"

/* Creation order. What one multi created shares its czxid: then by the first field (the
 * id, or the parent's), so the order and the aliases stay the same from read to read. */
static int cmp_czxid(const void *a, const void *b, void *off)
{
	int64_t x = *(const int64_t *)((const char *)a + *(size_t *)off);
	int64_t y = *(const int64_t *)((const char *)b + *(size_t *)off);

	return x < y ? -1 : x > y ? 1 : strncmp(a, b, TOPO_ID_LEN);
}

static void sort_czxid(void *base, size_t n, size_t size, size_t off)
{
	if (n > 1)
		qsort_r(base, n, size, cmp_czxid, &off);
}

/* Hosts by name, then id: agents register in whatever order they start, and host aliases
 * (host0, ...) should not depend on that race. */
static int cmp_host(const void *a, const void *b)
{
	const struct topo_host *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->id, y->id);
}

/* The port routes of one port are made in one multi: by destination among themselves. */
static int cmp_route(const void *a, const void *b)
{
	const struct topo_route *x = a, *y = b;
	uint32_t dx = ntohl(x->dst.addr.s_addr), dy = ntohl(y->dst.addr.s_addr);

	if (x->czxid != y->czxid)
		return x->czxid < y->czxid ? -1 : 1;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	if (x->dst.len != y->dst.len)
		return x->dst.len < y->dst.len ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Log and count an object left out because what it refers to is not there. */
static void dangling(struct topology *t, const char *what, const char *id, const char *why)
{
	mx_warn("skipping %s %s: %s", what, id, why);
	t->n_skipped++;
}

static bool device_exists(const struct topology *t, const struct topo_port *p)
{
	return p->device_type == TOPO_DEVICE_ROUTER ? topo_find_router_by_id(t, p->device_id) != NULL
						    : topo_find_bridge_by_id(t, p->device_id) != NULL;
}

/* A port that is there: in the snapshot and not being left out. */
static const struct topo_port *live_port(const struct topology *t, const bool *gone,
					 const char *id)
{
	const struct topo_port *p = topo_find_port_by_id(t, id);

	return p && !gone[p - t->ports] ? p : NULL;
}

/* A port of router_id that is there, or NULL. */
static const struct topo_port *router_port(const struct topology *t, const bool *gone,
					   const char *router_id, const char *port_id)
{
	const struct topo_port *p = live_port(t, gone, port_id);

	return p && p->device_type == TOPO_DEVICE_ROUTER && !strcmp(p->device_id, router_id) ? p
													 : NULL;
}

/* ---- one object per tunnel key ---- */

struct key_owner {
	uint32_t key;
	int64_t czxid;
	char kind;    /* 'b'ridge, 'r'outer, 'p'ort */
	size_t index;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct key_owner *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->czxid != y->czxid)
		return x->czxid < y->czxid ? -1 : 1;
	return x->kind - y->kind;
}

static void owners_add(struct key_owner *o, size_t *n, uint32_t key, int64_t czxid, char kind,
		       size_t index)
{
	o[(*n)++] = (struct key_owner){ .key = key, .czxid = czxid, .kind = kind, .index = index };
}

/* Compact arr (n objects of size bytes), leaving out those whose drop flag is set. */
static size_t compact(void *arr, size_t n, size_t size, const bool *drop)
{
	char *p = arr;
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		if (!drop[i])
			memmove(p + kept++ * size, p + i * size, size);
	return kept;
}

/* A tunnel key names one object: a later bridge, router or port that claims the key of an
 * earlier one (written around the CLI) is logged and left out, the first keeps it. */
static int drop_duplicate_keys(struct topology *t)
{
	size_t total = t->n_bridges + t->n_routers + t->n_ports, n = 0;
	struct key_owner *o = malloc((total ? total : 1) * sizeof(*o));
	bool *drop = calloc(total ? total : 1, sizeof(*drop));
	bool *drop_b, *drop_r, *drop_p;

	if (!o || !drop) {
		free(o);
		free(drop);
		return -ENOMEM;
	}
	drop_b = drop;
	drop_r = drop + t->n_bridges;
	drop_p = drop_r + t->n_routers;
	for (size_t i = 0; i < t->n_bridges; i++)
		owners_add(o, &n, t->bridges[i].tunnel_key, t->bridges[i].czxid, 'b', i);
	for (size_t i = 0; i < t->n_routers; i++)
		owners_add(o, &n, t->routers[i].tunnel_key, t->routers[i].czxid, 'r', i);
	for (size_t i = 0; i < t->n_ports; i++)
		owners_add(o, &n, t->ports[i].tunnel_key, t->ports[i].czxid, 'p', i);
	qsort(o, n, sizeof(*o), cmp_owner);
	for (size_t i = 1; i < n; i++) {
		const struct key_owner *d = &o[i];

		if (d->key != o[i - 1].key)
			continue;
		mx_warn("skipping %s %s: its tunnel key %u belongs to an earlier object",
			d->kind == 'b' ? "bridge" : d->kind == 'r' ? "router" : "port",
			d->kind == 'b' ? t->bridges[d->index].id :
			d->kind == 'r' ? t->routers[d->index].id : t->ports[d->index].id, d->key);
		t->n_skipped++;
		(d->kind == 'b' ? drop_b : d->kind == 'r' ? drop_r : drop_p)[d->index] = true;
	}
	t->n_bridges = compact(t->bridges, t->n_bridges, sizeof(*t->bridges), drop_b);
	t->n_routers = compact(t->routers, t->n_routers, sizeof(*t->routers), drop_r);
	t->n_ports = compact(t->ports, t->n_ports, sizeof(*t->ports), drop_p);
	free(o);
	free(drop);
	return 0;
}

/* Ports whose device is not there: flagged in gone (logged), left in place so that the
 * lookups built before stay valid until everything is decided. */
static void mark_orphan_ports(struct topology *t, bool *gone)
{
	for (size_t i = 0; i < t->n_ports; i++) {
		gone[i] = !device_exists(t, &t->ports[i]);
		if (gone[i])
			dangling(t, "port", t->ports[i].id, "its device is not there");
	}
}

/* A link holds when both ends name each other; a half link is ignored. */
static void clear_half_links(struct topology *t, const bool *gone)
{
	for (size_t i = 0; i < t->n_ports; i++) {
		struct topo_port *p = &t->ports[i];
		const struct topo_port *q;

		if (gone[i] || !p->peer_id[0])
			continue;
		q = live_port(t, gone, p->peer_id);
		if (!q || strcmp(q->peer_id, p->id) || !strcmp(q->device_id, p->device_id)) {
			mx_warn("port %s: ignoring its link to %s, which does not link back",
				p->id, p->peer_id);
			p->peer_id[0] = '\0';
		}
	}
}

/* Leave out what refers to an object that is not there (or was skipped), so that every
 * reference in a snapshot resolves. Lookups through the indexes built before; arrays
 * compacted after. */
static int drop_dangling(struct topology *t)
{
	bool *gone = calloc(t->n_ports + 1, sizeof(*gone));
	size_t i, n;

	if (!gone)
		return -ENOMEM;
	mark_orphan_ports(t, gone);
	clear_half_links(t, gone);
	for (i = n = 0; i < t->n_bindings; i++) {
		if (live_port(t, gone, t->bindings[i].port_id))
			t->bindings[n++] = t->bindings[i];
		else
			dangling(t, "binding of interface", t->bindings[i].interface,
				 "its port is not there");
	}
	t->n_bindings = n;
	for (i = n = 0; i < t->n_members; i++) {
		if (topo_find_host_by_id(t, t->members[i].host_id))
			t->members[n++] = t->members[i];
		else
			dangling(t, "tunnel zone member", t->members[i].host_id, "no such host");
	}
	t->n_members = n;
	/* A learned MAC of a port that went away is stale, not broken: drop it quietly. Its
	 * bridge is its port's. */
	for (i = n = 0; i < t->n_macs; i++) {
		const struct topo_port *p = live_port(t, gone, t->macs[i].port_id);

		if (p && p->device_type == TOPO_DEVICE_BRIDGE) {
			strcpy(t->macs[i].bridge_id, p->device_id);
			t->macs[n++] = t->macs[i];
		}
	}
	t->n_macs = n;
	for (i = n = 0; i < t->n_routes; i++) {
		const struct topo_route *r = &t->routes[i];
		bool port_ok = !r->port_id[0] || router_port(t, gone, r->router_id, r->port_id);

		/* A learned route of a port or peer that went is stale, not broken: its
		 * agent withdraws it; left out quietly meanwhile. */
		if (r->learned && (!port_ok || !topo_find_bgp_peer_by_id(t, r->peer_id)))
			continue;
		if (port_ok)
			t->routes[n++] = *r;
		else
			dangling(t, "route", r->id, "its port is not a port of its router");
	}
	t->n_routes = n;
	/* So are ARP entries learned on a port that went away. */
	for (i = n = 0; i < t->n_arps; i++) {
		const struct topo_arp *a = &t->arps[i];

		if (!a->learned || router_port(t, gone, a->router_id, a->port_id))
			t->arps[n++] = *a;
	}
	t->n_arps = n;
	/* BGP peers and networks are read under their router: one left out (its tunnel key
	 * claimed) leaves them without one. */
	for (i = n = 0; i < t->n_bgp_peers; i++) {
		if (topo_find_router_by_id(t, t->bgp_peers[i].router_id))
			t->bgp_peers[n++] = t->bgp_peers[i];
		else
			dangling(t, "bgp peer", t->bgp_peers[i].id, "its router is not there");
	}
	t->n_bgp_peers = n;
	for (i = n = 0; i < t->n_bgp_networks; i++) {
		if (topo_find_router_by_id(t, t->bgp_networks[i].router_id))
			t->bgp_networks[n++] = t->bgp_networks[i];
		else
			dangling(t, "bgp network", t->bgp_networks[i].id, "its router is not there");
	}
	t->n_bgp_networks = n;
	t->n_ports = compact(t->ports, t->n_ports, sizeof(*t->ports), gone);
	free(gone);
	return 0;
}

/* Count one more member of the device at position pos of an array of n (n: none, the
 * device is not there) in counts (n + 1 of them). */
static size_t next_ordinal(size_t *counts, const void *dev, const void *arr, size_t size, size_t n)
{
	size_t pos = dev ? (size_t)((const char *)dev - (const char *)arr) / size : n;

	return counts[pos]++;
}

/* The N of each port's, route's, BGP peer's and network's alias, in creation order within its device, once per
 * snapshot: aliases cost O(log n) each, not a scan (listing 1M routes is not quadratic).
 * Routes of a router left out share one count, as before the router was dropped. */
static int number_members(struct topology *t)
{
	size_t *bridge_n = calloc(t->n_bridges + 1, sizeof(size_t));
	size_t *router_n = calloc(t->n_routers + 1, sizeof(size_t));
	size_t *route_n = calloc(t->n_routers + 1, sizeof(size_t));
	size_t i;

	if (!bridge_n || !router_n || !route_n) {
		free(bridge_n);
		free(router_n);
		free(route_n);
		return -ENOMEM;
	}
	for (i = 0; i < t->n_ports; i++) {
		struct topo_port *p = &t->ports[i];

		if (p->device_type == TOPO_DEVICE_ROUTER)
			p->ordinal = next_ordinal(router_n, topo_find_router_by_id(t, p->device_id),
						  t->routers, sizeof(*t->routers), t->n_routers);
		else
			p->ordinal = next_ordinal(bridge_n, topo_find_bridge_by_id(t, p->device_id),
						  t->bridges, sizeof(*t->bridges), t->n_bridges);
	}
	for (i = 0; i < t->n_routes; i++)
		t->routes[i].ordinal = next_ordinal(route_n,
						    topo_find_router_by_id(t, t->routes[i].router_id),
						    t->routers, sizeof(*t->routers), t->n_routers);
	memset(route_n, 0, (t->n_routers + 1) * sizeof(size_t));
	for (i = 0; i < t->n_bgp_peers; i++)
		t->bgp_peers[i].ordinal =
			next_ordinal(route_n, topo_find_router_by_id(t, t->bgp_peers[i].router_id),
				     t->routers, sizeof(*t->routers), t->n_routers);
	memset(route_n, 0, (t->n_routers + 1) * sizeof(size_t));
	for (i = 0; i < t->n_bgp_networks; i++)
		t->bgp_networks[i].ordinal =
			next_ordinal(route_n, topo_find_router_by_id(t, t->bgp_networks[i].router_id),
				     t->routers, sizeof(*t->routers), t->n_routers);
	free(bridge_n);
	free(router_n);
	free(route_n);
	return 0;
}

int topo_index(struct topology *t)
{
	int rc = topo_index_build(t);

	return rc ? rc : number_members(t);
}

/* Creation order, one owner per tunnel key, references that resolve, ordinals, indexes. */
int topo_normalise(struct topology *t)
{
	int rc;

	if (t->n_hosts > 1)
		qsort(t->hosts, t->n_hosts, sizeof(*t->hosts), cmp_host);
	sort_czxid(t->zones, t->n_zones, sizeof(*t->zones), offsetof(struct topo_zone, czxid));
	sort_czxid(t->members, t->n_members, sizeof(*t->members),
		   offsetof(struct topo_member, czxid));
	sort_czxid(t->bridges, t->n_bridges, sizeof(*t->bridges),
		   offsetof(struct topo_bridge, czxid));
	sort_czxid(t->ports, t->n_ports, sizeof(*t->ports), offsetof(struct topo_port, czxid));
	sort_czxid(t->bindings, t->n_bindings, sizeof(*t->bindings),
		   offsetof(struct topo_binding, czxid));
	sort_czxid(t->macs, t->n_macs, sizeof(*t->macs), offsetof(struct topo_mac, czxid));
	sort_czxid(t->routers, t->n_routers, sizeof(*t->routers),
		   offsetof(struct topo_router, czxid));
	if (t->n_routes > 1)
		qsort(t->routes, t->n_routes, sizeof(*t->routes), cmp_route);
	sort_czxid(t->arps, t->n_arps, sizeof(*t->arps), offsetof(struct topo_arp, czxid));
	sort_czxid(t->bgp_peers, t->n_bgp_peers, sizeof(*t->bgp_peers),
		   offsetof(struct topo_bgp_peer, czxid));
	sort_czxid(t->bgp_networks, t->n_bgp_networks, sizeof(*t->bgp_networks),
		   offsetof(struct topo_bgp_network, czxid));
	rc = drop_duplicate_keys(t);
	if (!rc)
		rc = topo_index_build(t);
	if (!rc)
		rc = drop_dangling(t);
	if (!rc)
		rc = topo_index(t);
	if (!rc)
		rc = chain_normalise(t);
	if (rc) {
		topo_free(t);
		return topo_fail(rc, "out of memory");
	}
	return 0;
}

void topo_free(struct topology *t)
{
	topo_index_free(t);
	free(t->hosts);
	free(t->zones);
	free(t->members);
	free(t->bridges);
	free(t->ports);
	free(t->bindings);
	free(t->macs);
	free(t->routers);
	free(t->routes);
	free(t->arps);
	free(t->bgp_peers);
	free(t->bgp_networks);
	chain_free(t);
	memset(t, 0, sizeof(*t));
}
