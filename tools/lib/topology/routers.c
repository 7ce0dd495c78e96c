// SPDX-License-Identifier: Apache-2.0
/* Writes of routers: the router, its ports (with their port routes), links between ports
 * of two devices, routes, static ARP entries. Every change on a router rewrites the router
 * at its version, so the checks made against one snapshot (overlapping subnets, duplicate
 * routes, a route's port still there) hold when the multi commits. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "write.h"

struct router_args {
	const char *name, *router_id, *port_id, *peer_id, *route_id;
	const struct topo_router_port_opts *o;
	const struct topo_route *route;
	struct in_addr addr;
	const uint8_t *mac;
	char *id_out;
};

static const struct topo_router *router_of(const struct topology *t, const char *id, int *rc)
{
	const struct topo_router *r = topo_find_router_by_id(t, id);

	*rc = r ? 0 : topo_fail(-ENOENT, "no router %s", id);
	return r;
}

/* Rewrite the router at its version: orders this multi against every other change on it. */
static void touch_router(struct topo_txn *x, const struct topo_router *r)
{
	txn_set(x, r->version, topo_encode_router(r), P_ROUTER, r->id);
}

static int plan_router_create(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			      void *arg)
{
	struct router_args *a = arg;
	struct topo_router r = { 0 };
	int rc;

	(void)zh;
	rc = plan_named(t->routers, t->n_routers, sizeof(*t->routers),
			offsetof(struct topo_router, name), "router", "router", a->name, r.id);
	if (!rc)
		rc = plan_tunnel_key(t, x, &r.tunnel_key);
	if (rc)
		return rc;
	strcpy(r.name, a->name);
	txn_touch(x, t->routers_version, P_ROUTERS);
	txn_create(x, ZOO_PERSISTENT, topo_encode_router(&r), P_ROUTER, r.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_ROUTES, r.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_ARPS_STATIC, r.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_BGP_PEERS, r.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_BGP_NETWORKS, r.id);
	strcpy(a->id_out, r.id);
	return 0;
}

int topo_router_create(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN])
{
	struct router_args a = { .name = name, .id_out = id };
	int rc = check_name(name);

	return rc ? rc : topo_apply(zh, plan_router_create, &a);
}

/* The router's ports (unlinked, unbound), its routes, BGP peers and networks, its ARP
 * entries (static and learned: listed now, a child added meanwhile fails the multi), the
 * router at its version. */
static int plan_router_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			      void *arg)
{
	struct router_args *a = arg;
	const struct topo_router *r;
	const char *const below[] = { P_ROUTES, P_ARPS_STATIC, P_BGP_PEERS, P_BGP_NETWORKS,
				      P_ARPS /* before ACLs */ };
	char path[TOPO_PATH_MAX];
	size_t i;
	int rc;

	r = router_of(t, a->router_id, &rc);
	for (i = 0; !rc && i < t->n_ports; i++)
		if (!strcmp(t->ports[i].device_id, r->id))
			rc = plan_port_removal(zh, t, x, &t->ports[i], true);
	for (i = 0; !rc && i < sizeof(below) / sizeof(*below); i++) {
		snprintf(path, sizeof(path), below[i], r->id);
		rc = plan_delete_tree(zh, x, -1, path);
	}
	for (i = 0; !rc && i < t->n_arps; i++)
		if (t->arps[i].learned && !strcmp(t->arps[i].router_id, r->id))
			plan_learned_arp_delete(x, &t->arps[i]);
	if (!rc)
		txn_delete(x, r->version, P_ROUTER, r->id);
	return rc;
}

int topo_router_delete(zhandle_t *zh, const char *router_id)
{
	struct router_args a = { .router_id = router_id };

	return topo_apply(zh, plan_router_delete, &a);
}

/* The addresses of a new port: each a unicast address with a subnet length, neither the
 * network nor the broadcast address of a subnet wider than /31, no two subnets
 * overlapping, on this port or on another port of the router. */
static int check_port_nets(const struct topology *t, const struct topo_router *r,
			   const struct topo_router_port_opts *o)
{
	char s[TOPO_CIDR_STRLEN], s2[TOPO_CIDR_STRLEN], pa[64];
	size_t i, j, k;

	for (i = 0; i < o->n_nets; i++) {
		const struct topo_cidr *c = &o->nets[i];
		uint32_t host = ntohl(c->addr.s_addr) & ~mx_prefix_mask(c->len);

		topo_format_cidr(c, s);
		if (c->len == 0 || !topo_valid_unicast_ipv4(c->addr))
			return topo_fail(-EINVAL, "bad port address %s: a unicast address with a "
					 "subnet length 1..32", s);
		if (c->len <= 30 && (host == 0 || host == ~mx_prefix_mask(c->len)))
			return topo_fail(-EINVAL, "bad port address %s: the %s address of its "
					 "subnet", s, host ? "broadcast" : "network");
		for (j = 0; j < i; j++) {
			if (topo_cidr_overlap(c, &o->nets[j])) {
				topo_format_cidr(&o->nets[j], s2);
				return topo_fail(-EINVAL, "port addresses %s and %s overlap", s2, s);
			}
		}
		for (j = 0; j < t->n_ports; j++) {
			const struct topo_port *p = &t->ports[j];

			if (strcmp(p->device_id, r->id))
				continue;
			for (k = 0; k < p->n_nets; k++) {
				if (!topo_cidr_overlap(c, &p->nets[k]))
					continue;
				topo_format_cidr(&p->nets[k], s2);
				return topo_fail(-EEXIST, "address %s: its subnet overlaps port %s's %s", s,
						 alias_of(t, p->id, pa), s2);
			}
		}
	}
	return 0;
}

/* A router port's MAC: locally administered unicast 02:6d:78 ("mx") and its tunnel key,
 * unique as the key is. */
static void port_mac(uint32_t key, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x6d;
	mac[2] = 0x78;
	mac[3] = (uint8_t)(key >> 16);
	mac[4] = (uint8_t)(key >> 8);
	mac[5] = (uint8_t)key;
}

static int check_router_mac_free(const struct topology *t, const struct topo_router *r,
				 const uint8_t mac[6])
{
	char m[18], pa[64];
	size_t i;

	for (i = 0; i < t->n_ports; i++) {
		const struct topo_port *p = &t->ports[i];

		if (!strcmp(p->device_id, r->id) && !memcmp(p->mac, mac, 6)) {
			topo_format_mac(mac, m);
			return topo_fail(-EEXIST, "MAC %s is already port %s's", m,
					 alias_of(t, p->id, pa));
		}
	}
	return 0;
}

static int plan_router_port_create(zhandle_t *zh, const struct topology *t,
				   struct topo_txn *x, void *arg)
{
	struct router_args *a = arg;
	struct topo_port p = { .device_type = TOPO_DEVICE_ROUTER, .has_mac = true };
	struct topo_route pr = { .type = TOPO_ROUTE_NORMAL, .weight = TOPO_WEIGHT_DEFAULT,
				 .port_route = true };
	const struct topo_router *r;
	size_t i;
	int rc;

	(void)zh;
	r = router_of(t, a->router_id, &rc);
	if (!rc)
		rc = check_port_nets(t, r, a->o);
	if (!rc && a->o->has_mac)
		rc = check_router_mac_free(t, r, a->o->mac);
	if (!rc)
		rc = topo_new_uuid(p.id);
	if (!rc)
		rc = plan_tunnel_key(t, x, &p.tunnel_key);
	if (rc)
		return rc;
	strcpy(p.device_id, r->id);
	if (a->o->has_mac)
		memcpy(p.mac, a->o->mac, 6);
	else
		port_mac(p.tunnel_key, p.mac);
	memcpy(p.nets, a->o->nets, sizeof(p.nets));
	p.n_nets = a->o->n_nets;
	touch_router(x, r);
	txn_create(x, ZOO_PERSISTENT, topo_encode_port(&p), P_PORT, p.id);
	/* Its port routes: to each of its subnets, out of it, as MidoNet makes them. */
	strcpy(pr.port_id, p.id);
	for (i = 0; i < p.n_nets; i++) {
		pr.dst.addr = topo_cidr_network(&p.nets[i]);
		pr.dst.len = p.nets[i].len;
		rc = topo_new_uuid(pr.id);
		if (rc)
			return rc;
		txn_create(x, ZOO_PERSISTENT, topo_encode_route(&pr), P_ROUTE, r->id, pr.id);
	}
	strcpy(a->id_out, p.id);
	return 0;
}

int topo_router_port_create(zhandle_t *zh, const char *router_id,
			    const struct topo_router_port_opts *o, char id[TOPO_ID_LEN])
{
	struct router_args a = { .router_id = router_id, .o = o, .id_out = id };
	char m[18];

	if (o->n_nets < 1 || o->n_nets > TOPO_PORT_MAX_NETS)
		return topo_fail(-EINVAL, "a router port has 1 to %d addresses",
				 TOPO_PORT_MAX_NETS);
	if (o->has_mac && !topo_valid_unicast_mac(o->mac)) {
		topo_format_mac(o->mac, m);
		return topo_fail(-EINVAL, "bad MAC %s: a port's MAC must be unicast and not zero", m);
	}
	return topo_apply(zh, plan_router_port_create, &a);
}

static const struct topo_port *port_of(const struct topology *t, const char *id, int *rc)
{
	const struct topo_port *p = topo_find_port_by_id(t, id);

	*rc = p ? 0 : topo_fail(-ENOENT, "no port %s", id);
	return p;
}

/* A port that can be linked: not linked already, not bound. */
static int check_linkable(const struct topology *t, const struct topo_port *p)
{
	const struct topo_binding *bd = topo_find_port_binding(t, p->id);
	char pa[64], qa[64], ha[64];

	if (p->peer_id[0])
		return topo_fail(-EEXIST, "port %s is already linked to port %s (delete peer "
				 "first)", alias_of(t, p->id, pa), alias_of(t, p->peer_id, qa));
	if (bd)
		return topo_fail(-EEXIST, "port %s is bound to interface %s on host %s: an "
				 "exterior port cannot be linked", alias_of(t, p->id, pa),
				 bd->interface, alias_of(t, bd->host_id, ha));
	return 0;
}

/* Set p's peer to peer_id ("" to clear) at p's version. */
static void set_peer(struct topo_txn *x, const struct topo_port *p, const char *peer_id)
{
	struct topo_port q = *p;

	snprintf(q.peer_id, sizeof(q.peer_id), "%s", peer_id);
	txn_set(x, q.version, topo_encode_port(&q), P_PORT, q.id);
}

/* Both ends rewritten at their versions: a binding (which rewrites its port) or another
 * link made meanwhile fails the multi. */
static int plan_port_link(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			  void *arg)
{
	struct router_args *a = arg;
	const struct topo_port *p, *q;
	char pa[64], qa[64], da[64];
	int rc;

	(void)zh;
	p = port_of(t, a->port_id, &rc);
	q = rc ? NULL : port_of(t, a->peer_id, &rc);
	if (rc)
		return rc;
	if (!strcmp(p->device_id, q->device_id))
		return topo_fail(-EINVAL, "ports %s and %s are both on %s: link ports of two "
				 "devices", alias_of(t, p->id, pa), alias_of(t, q->id, qa),
				 alias_of(t, p->device_id, da));
	if (p->device_type == TOPO_DEVICE_BRIDGE && q->device_type == TOPO_DEVICE_BRIDGE)
		return topo_fail(-EINVAL, "ports %s and %s are both bridge ports: link a bridge "
				 "to a router", alias_of(t, p->id, pa), alias_of(t, q->id, qa));
	rc = check_linkable(t, p);
	if (!rc)
		rc = check_linkable(t, q);
	if (!rc)
		rc = check_link_addrs(t, p, q);
	if (rc)
		return rc;
	set_peer(x, p, q->id);
	set_peer(x, q, p->id);
	return 0;
}

int topo_port_link(zhandle_t *zh, const char *port_id, const char *peer_id)
{
	struct router_args a = { .port_id = port_id, .peer_id = peer_id };

	return topo_apply(zh, plan_port_link, &a);
}

static int plan_port_unlink(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	struct router_args *a = arg;
	const struct topo_port *p, *q;
	char pa[64];
	int rc;

	(void)zh;
	p = port_of(t, a->port_id, &rc);
	if (rc)
		return rc;
	q = topo_find_port_by_id(t, p->peer_id);
	if (!q)
		return topo_fail(-ENOENT, "port %s is not linked", alias_of(t, p->id, pa));
	set_peer(x, p, "");
	set_peer(x, q, "");
	return 0;
}

int topo_port_unlink(zhandle_t *zh, const char *port_id)
{
	struct router_args a = { .port_id = port_id };

	return topo_apply(zh, plan_port_unlink, &a);
}

/* addr is one of the router's own port addresses: the port, else NULL. */
static const struct topo_port *own_address(const struct topology *t, const char *router_id,
					   struct in_addr addr)
{
	size_t i, k;

	for (i = 0; i < t->n_ports; i++)
		for (k = 0; k < t->ports[i].n_nets; k++)
			if (!strcmp(t->ports[i].device_id, router_id) &&
			    t->ports[i].nets[k].addr.s_addr == addr.s_addr)
				return &t->ports[i];
	return NULL;
}

/* The port of router_id with a subnet holding addr (port_id "" for any), else NULL. */
static const struct topo_port *port_on_link(const struct topology *t, const char *router_id,
					    const char *port_id, struct in_addr addr)
{
	size_t i, k;

	for (i = 0; i < t->n_ports; i++) {
		const struct topo_port *p = &t->ports[i];

		if (strcmp(p->device_id, router_id) || (*port_id && strcmp(p->id, port_id)))
			continue;
		for (k = 0; k < p->n_nets; k++)
			if (topo_cidr_contains(&p->nets[k], addr))
				return p;
	}
	return NULL;
}

static bool same_route(const struct topo_route *a, const struct topo_route *b)
{
	return a->src.addr.s_addr == b->src.addr.s_addr && a->src.len == b->src.len &&
	       a->dst.addr.s_addr == b->dst.addr.s_addr && a->dst.len == b->dst.len &&
	       a->type == b->type && !strcmp(a->port_id, b->port_id) && a->has_gw == b->has_gw &&
	       (!a->has_gw || a->gw.s_addr == b->gw.s_addr);
}

/* A route's next hop: a port of its router (required for normal routes), and a gateway
 * (normal routes only) in a subnet of that port that is not the router's own address. */
static int check_route(const struct topology *t, const struct topo_router *r,
		       const struct topo_route *n)
{
	const struct topo_port *p = NULL;
	char pa[64], ra[64], gw[INET_ADDRSTRLEN];
	size_t i;

	if (n->port_id[0]) {
		p = topo_find_port_by_id(t, n->port_id);
		if (!p)
			return topo_fail(-ENOENT, "no port %s", n->port_id);
		if (strcmp(p->device_id, r->id))
			return topo_fail(-EINVAL, "port %s is not a port of router %s",
					 alias_of(t, p->id, pa), alias_of(t, r->id, ra));
	}
	if (!n->has_gw)
		return 0;
	inet_ntop(AF_INET, &n->gw, gw, sizeof(gw));
	if (own_address(t, r->id, n->gw))
		return topo_fail(-EINVAL, "gw %s is an address of router %s itself", gw,
				 alias_of(t, r->id, ra));
	if (p && !port_on_link(t, r->id, p->id, n->gw)) {
		char nets[4 * TOPO_CIDR_STRLEN + 8] = "", s[TOPO_CIDR_STRLEN];

		for (i = 0; i < p->n_nets; i++) {
			topo_format_cidr(&p->nets[i], s);
			snprintf(nets + strlen(nets), sizeof(nets) - strlen(nets), "%s%s",
				 i ? ", " : "", s);
		}
		return topo_fail(-EINVAL, "gw %s is not in a subnet of port %s (%s)", gw,
				 alias_of(t, p->id, pa), nets);
	}
	return 0;
}

static int plan_route_add(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			  void *arg)
{
	struct router_args *a = arg;
	struct topo_route n = *a->route;
	const struct topo_router *r;
	char ra[64];
	size_t i;
	int rc;

	(void)zh;
	r = router_of(t, n.router_id, &rc);
	if (!rc)
		rc = check_route(t, r, &n);
	for (i = 0; !rc && i < t->n_routes; i++)
		if (!t->routes[i].learned && !strcmp(t->routes[i].router_id, r->id) &&
		    same_route(&t->routes[i], &n))
			rc = topo_fail(-EEXIST, "the same route exists: %s",
				       alias_of(t, t->routes[i].id, ra));
	if (!rc)
		rc = topo_new_uuid(n.id);
	if (rc)
		return rc;
	n.port_route = false;
	touch_router(x, r);
	txn_create(x, ZOO_PERSISTENT, topo_encode_route(&n), P_ROUTE, r->id, n.id);
	strcpy(a->id_out, n.id);
	return 0;
}

int topo_route_add(zhandle_t *zh, const struct topo_route *r, char id[TOPO_ID_LEN])
{
	struct router_args a = { .route = r, .id_out = id };
	char s[TOPO_CIDR_STRLEN];

	if (!topo_cidr_is_network(&r->src) || !topo_cidr_is_network(&r->dst)) {
		topo_format_cidr(topo_cidr_is_network(&r->src) ? &r->dst : &r->src, s);
		return topo_fail(-EINVAL, "bad prefix %s: host bits set", s);
	}
	if (r->type != TOPO_ROUTE_NORMAL && r->type != TOPO_ROUTE_BLACKHOLE &&
	    r->type != TOPO_ROUTE_REJECT)
		return topo_fail(-EINVAL, "bad route type %d", (int)r->type);
	if (r->type == TOPO_ROUTE_NORMAL && !r->port_id[0])
		return topo_fail(-EINVAL, "a normal route needs a port");
	if (r->has_gw && r->type != TOPO_ROUTE_NORMAL)
		return topo_fail(-EINVAL, "a %s route has no gw", topo_route_type_name(r->type));
	if (r->has_gw && !topo_valid_unicast_ipv4(r->gw))
		return topo_fail(-EINVAL, "bad gw %s: not a unicast IPv4 address",
				 inet_ntoa(r->gw));
	if (r->weight < 1 || r->weight > TOPO_WEIGHT_MAX)
		return topo_fail(-EINVAL, "bad weight %u: 1 to %u", r->weight, TOPO_WEIGHT_MAX);
	return topo_apply(zh, plan_route_add, &a);
}

static int plan_route_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			     void *arg)
{
	struct router_args *a = arg;
	const struct topo_route *r = topo_find_route_by_id(t, a->route_id);
	char ra[64], pa[64];

	(void)zh;
	if (!r)
		return topo_fail(-ENOENT, "no route %s", a->route_id);
	if (r->port_route)
		return topo_fail(-EINVAL, "route %s is port %s's own route: it goes with the port",
				 alias_of(t, r->id, ra), alias_of(t, r->port_id, pa));
	if (r->learned)
		return topo_fail(-EINVAL, "route %s is learned from BGP peer %s: it goes when the "
				 "peer withdraws it or its session ends", alias_of(t, r->id, ra),
				 alias_of(t, r->peer_id, pa));
	txn_delete(x, r->version, P_ROUTE, r->router_id, r->id);
	return 0;
}

int topo_route_delete(zhandle_t *zh, const char *route_id)
{
	struct router_args a = { .route_id = route_id };

	return topo_apply(zh, plan_route_delete, &a);
}

/* A static entry for a neighbour: on the link of one of the router's ports, not one of
 * its own addresses, one per address. */
static int plan_arp_static_add(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			       void *arg)
{
	struct router_args *a = arg;
	const struct topo_router *r;
	const struct topo_arp *old;
	struct topo_arp e = { .addr = a->addr };
	char addr[INET_ADDRSTRLEN], ra[64], m[18];
	int rc;

	(void)zh;
	r = router_of(t, a->router_id, &rc);
	if (rc)
		return rc;
	inet_ntop(AF_INET, &a->addr, addr, sizeof(addr));
	alias_of(t, r->id, ra);
	if (own_address(t, r->id, a->addr))
		return topo_fail(-EINVAL, "%s is an address of router %s itself", addr, ra);
	if (!port_on_link(t, r->id, "", a->addr))
		return topo_fail(-EINVAL, "%s is not in a subnet of any port of router %s", addr,
				 ra);
	old = topo_find_arp_static(t, r->id, a->addr);
	if (old) {
		topo_format_mac(old->mac, m);
		return topo_fail(-EEXIST, "router %s has a static ARP entry for %s (%s): delete "
				 "it first", ra, addr, m);
	}
	memcpy(e.mac, a->mac, 6);
	touch_router(x, r);
	txn_create(x, ZOO_PERSISTENT, topo_encode_arp(&e), P_ARP_STATIC, r->id, addr);
	return 0;
}

int topo_arp_static_add(zhandle_t *zh, const char *router_id, struct in_addr addr,
			const uint8_t mac[6])
{
	struct router_args a = { .router_id = router_id, .addr = addr, .mac = mac };
	char m[18];

	if (!topo_valid_unicast_ipv4(addr))
		return topo_fail(-EINVAL, "bad address %s: not a unicast IPv4 address",
				 inet_ntoa(addr));
	if (!topo_valid_unicast_mac(mac)) {
		topo_format_mac(mac, m);
		return topo_fail(-EINVAL, "bad MAC %s: must be unicast and not zero", m);
	}
	return topo_apply(zh, plan_arp_static_add, &a);
}

static int plan_arp_static_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
				  void *arg)
{
	struct router_args *a = arg;
	const struct topo_router *r;
	const struct topo_arp *e;
	char addr[INET_ADDRSTRLEN], ra[64];
	int rc;

	(void)zh;
	r = router_of(t, a->router_id, &rc);
	if (rc)
		return rc;
	inet_ntop(AF_INET, &a->addr, addr, sizeof(addr));
	e = topo_find_arp_static(t, r->id, a->addr);
	if (!e)
		return topo_fail(-ENOENT, "router %s has no static ARP entry for %s",
				 alias_of(t, r->id, ra), addr);
	txn_delete(x, e->version, P_ARP_STATIC, r->id, addr);
	return 0;
}

int topo_arp_static_delete(zhandle_t *zh, const char *router_id, struct in_addr addr)
{
	struct router_args a = { .router_id = router_id, .addr = addr };

	return topo_apply(zh, plan_arp_static_delete, &a);
}
