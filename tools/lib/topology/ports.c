// SPDX-License-Identifier: Apache-2.0
/* Writes of ports and of their bindings to interfaces on hosts. A binding is two nodes
 * written together: /midox/hosts/<host>/bindings/<interface> (what the agent reads; its
 * path makes an interface bound once per host) and /midox/ports/<port>/binding (its path
 * makes a port bound once in the whole topology). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "write.h"

struct port_args {
	const char *bridge_id, *port_id, *host_id, *ifname;
	const struct topo_port_opts *o;
	char *id_out;
};

static int check_opts(const struct topo_port_opts *o)
{
	char s[18];

	if (o->has_mac && !topo_valid_unicast_mac(o->mac)) {
		topo_format_mac(o->mac, s);
		return topo_fail(-EINVAL, "bad MAC %s: a port's MAC must be unicast and not zero", s);
	}
	if (o->has_addr && !topo_valid_unicast_ipv4(o->addr))
		return topo_fail(-EINVAL, "bad address %s: not a unicast IPv4 address",
				 inet_ntoa(o->addr));
	if ((o->has_mac && o->clear_mac) || (o->has_addr && o->clear_addr) ||
	    (o->has_egress_limit && o->clear_egress_limit))
		return topo_fail(-EINVAL, "a field cannot be set and cleared at once");
	if (o->has_egress_limit && (o->egress_rate < TOPO_RATE_MIN ||
				    o->egress_rate > TOPO_RATE_MAX))
		return topo_fail(-EINVAL, "bad egress rate %llu bit/s: not within %llu..%llu",
				 (unsigned long long)o->egress_rate, TOPO_RATE_MIN, TOPO_RATE_MAX);
	if (o->has_egress_limit && (o->egress_burst < 1 || o->egress_burst > TOPO_BURST_MAX))
		return topo_fail(-EINVAL, "bad egress burst %llu bit: not within 1..%llu",
				 (unsigned long long)o->egress_burst, TOPO_BURST_MAX);
	return 0;
}

/* What a router port's update may change: its state and its egress limit only (its MAC and
 * addresses are made with it; port security is a bridge port's). */
static bool router_port_opts(const struct topo_port_opts *o)
{
	return !o->has_mac && !o->has_addr && !o->clear_mac && !o->clear_addr &&
	       !o->has_port_security;
}

/* A fixed MAC is unique on its bridge. */
static int check_mac_free(const struct topology *t, const char *bridge_id, const char *self,
			  const struct topo_port_opts *o)
{
	char m[18], pa[64];
	size_t i;

	for (i = 0; o->has_mac && i < t->n_ports; i++) {
		const struct topo_port *p = &t->ports[i];

		if (!strcmp(p->device_id, bridge_id) && strcmp(p->id, self) && p->has_mac &&
		    !memcmp(p->mac, o->mac, 6)) {
			topo_format_mac(o->mac, m);
			return topo_fail(-EEXIST, "MAC %s is already port %s's", m,
					 alias_of(t, p->id, pa));
		}
	}
	return 0;
}

static void apply_opts(struct topo_port *p, const struct topo_port_opts *o)
{
	if (o->has_mac) {
		p->has_mac = true;
		memcpy(p->mac, o->mac, 6);
	}
	if (o->has_addr) {
		p->has_addr = true;
		p->addr = o->addr;
	}
	if (o->clear_mac)
		p->has_mac = false;
	if (o->clear_addr)
		p->has_addr = false;
	if (o->has_state)
		p->down = o->down;
	if (o->has_port_security)
		p->no_port_security = !o->port_security;
	if (o->has_egress_limit) {
		p->egress_rate = o->egress_rate;
		p->egress_burst = o->egress_burst;
	}
	if (o->clear_egress_limit)
		p->egress_rate = p->egress_burst = 0;
}

static int plan_port_create(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	struct port_args *a = arg;
	const struct topo_bridge *b = topo_find_bridge_by_id(t, a->bridge_id);
	struct topo_port p = { .device_type = TOPO_DEVICE_BRIDGE };
	int rc;

	(void)zh;
	if (!b)
		return topo_fail(-ENOENT, "no bridge %s", a->bridge_id);
	rc = check_mac_free(t, b->id, "", a->o);
	if (!rc)
		rc = check_addr_free(t, b->id, "", a->o->has_addr, a->o->addr);
	if (!rc)
		rc = topo_new_uuid(p.id);
	if (!rc)
		rc = plan_tunnel_key(t, x, &p.tunnel_key);
	if (rc)
		return rc;
	strcpy(p.device_id, b->id);
	apply_opts(&p, a->o);
	/* Rewriting the bridge orders this against its deletion and other port changes. */
	txn_set(x, b->version, topo_encode_bridge(b), P_BRIDGE, b->id);
	txn_create(x, ZOO_PERSISTENT, topo_encode_port(&p), P_PORT, p.id);
	strcpy(a->id_out, p.id);
	return 0;
}

int topo_port_create(zhandle_t *zh, const char *bridge_id, const struct topo_port_opts *o,
		     char id[TOPO_ID_LEN])
{
	static const struct topo_port_opts none;
	struct port_args a = { .bridge_id = bridge_id, .o = o ? o : &none, .id_out = id };
	int rc = check_opts(a.o);

	return rc ? rc : topo_apply(zh, plan_port_create, &a);
}

/* A new port and its binding in one multi: a CNI ADD that fails between the two never
 * leaves an unbound port behind. */
static int plan_port_create_bound(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
				  void *arg)
{
	struct port_args *a = arg;
	const struct topo_host *h = topo_find_host_by_id(t, a->host_id);
	const struct topo_binding *bd;
	struct topo_binding nb = { 0 };
	char ha[64], pa[64];
	int rc;

	if (!h)
		return topo_fail(-ENOENT, "no host %s", a->host_id);
	bd = topo_find_binding(t, h->id, a->ifname);
	if (bd)
		return topo_fail(-EEXIST, "interface %s on host %s is already bound to port %s",
				 a->ifname, alias_of(t, h->id, ha), alias_of(t, bd->port_id, pa));
	rc = plan_port_create(zh, t, x, arg);
	if (rc)
		return rc;
	strcpy(nb.port_id, a->id_out);
	txn_check(x, h->version, P_HOST, h->id);
	txn_create(x, ZOO_PERSISTENT, topo_encode_binding(&nb), P_BINDING, h->id, a->ifname);
	txn_create(x, ZOO_PERSISTENT, topo_encode_port_guard(h->id, a->ifname), P_PORT_BINDING,
		   a->id_out);
	return 0;
}

int topo_port_create_bound(zhandle_t *zh, const char *bridge_id, const struct topo_port_opts *o,
			   const char *host_id, const char *ifname, char id[TOPO_ID_LEN])
{
	static const struct topo_port_opts none;
	struct port_args a = { .bridge_id = bridge_id, .o = o ? o : &none, .id_out = id,
			       .host_id = host_id, .ifname = ifname };
	int rc = check_opts(a.o);

	if (!rc && !topo_valid_ifname(ifname))
		rc = topo_fail(-EINVAL, "bad interface name '%s'", ifname ? ifname : "");
	return rc ? rc : topo_apply(zh, plan_port_create_bound, &a);
}

int plan_port_change(const struct topology *t, struct topo_txn *x, const char *port_id,
		     port_change_fn change, const void *arg)
{
	const struct topo_port *old = topo_find_port_by_id(t, port_id);
	struct topo_port p;
	int rc;

	if (!old)
		return topo_fail(-ENOENT, "no port %s", port_id);
	p = *old;
	rc = change(t, x, &p, arg);
	if (!rc)
		txn_set(x, p.version, topo_encode_port(&p), P_PORT, p.id);
	return rc;
}

/* A bridge port takes every option (its bridge rewritten too: a fixed MAC is unique on it,
 * checked against the bridge's version); a router port its state and egress limit only. */
static int port_update_change(const struct topology *t, struct topo_txn *x, struct topo_port *p,
			      const void *arg)
{
	const struct topo_port_opts *o = arg;
	const struct topo_bridge *b = topo_find_bridge_by_id(t, p->device_id);
	char pa[64];
	int rc;

	if (!b && p->device_type == TOPO_DEVICE_ROUTER && router_port_opts(o)) {
		apply_opts(p, o);
		return 0;
	}
	if (!b)
		return topo_fail(-EINVAL, "port %s is a router port: only its state and egress "
				 "limit can be set",
				 alias_of(t, p->id, pa));
	rc = check_mac_free(t, b->id, p->id, o);
	if (!rc)
		rc = check_addr_free(t, b->id, p->id, o->has_addr, o->addr);
	if (rc)
		return rc;
	apply_opts(p, o);
	txn_set(x, b->version, topo_encode_bridge(b), P_BRIDGE, b->id);
	return 0;
}

static int plan_port_update(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	struct port_args *a = arg;

	(void)zh;
	return plan_port_change(t, x, a->port_id, port_update_change, a->o);
}

int topo_port_update(zhandle_t *zh, const char *port_id, const struct topo_port_opts *o)
{
	struct port_args a = { .port_id = port_id, .o = o };
	int rc = check_opts(o);

	return rc ? rc : topo_apply(zh, plan_port_update, &a);
}

void plan_learned_mac_delete(struct topo_txn *x, const struct topo_mac *m)
{
	char s[18];

	topo_format_mac(m->mac, s);
	txn_delete(x, -1, P_MAC, m->host_id, s, m->port_id);
}

void plan_learned_arp_delete(struct topo_txn *x, const struct topo_arp *e)
{
	char a[INET_ADDRSTRLEN], m[18];

	inet_ntop(AF_INET, &e->addr, a, sizeof(a));
	topo_format_mac(e->mac, m);
	txn_delete(x, -1, P_ARP, e->host_id, a, m, e->router_id);
}

/* Learned MACs of a bridge port, as the snapshot has them (one learned since is left to
 * its agent: a reader drops a learned MAC of a port that is gone). */
static void plan_port_macs(const struct topology *t, struct topo_txn *x,
			   const struct topo_port *p)
{
	for (size_t i = 0; i < t->n_macs; i++)
		if (!strcmp(t->macs[i].port_id, p->id))
			plan_learned_mac_delete(x, &t->macs[i]);
}

/* What hangs on a router port: its routes, the ARP entries learned on it; and the router
 * rewritten, which orders this against route changes on it. */
static void plan_router_port_routes(const struct topology *t, struct topo_txn *x,
				    const struct topo_port *p)
{
	const struct topo_router *r = topo_find_router_by_id(t, p->device_id);
	size_t i;

	for (i = 0; i < t->n_routes; i++)
		if (!t->routes[i].learned && !strcmp(t->routes[i].port_id, p->id))
			txn_delete(x, t->routes[i].version, P_ROUTE, r->id, t->routes[i].id);
	for (i = 0; i < t->n_arps; i++) {
		const struct topo_arp *e = &t->arps[i];

		if (e->learned && !strcmp(e->port_id, p->id))
			plan_learned_arp_delete(x, e);
	}
	txn_set(x, r->version, topo_encode_router(r), P_ROUTER, r->id);
}

int plan_port_removal(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
		      const struct topo_port *p, bool with_device)
{
	const struct topo_binding *bd = topo_find_port_binding(t, p->id);
	const struct topo_port *peer = topo_find_port_by_id(t, p->peer_id);
	char path[TOPO_PATH_MAX];
	int rc = plan_port_chain_refs(t, x, p);

	if (rc)
		return rc;
	if (bd)
		txn_delete(x, bd->version, P_BINDING, bd->host_id, bd->interface);
	snprintf(path, sizeof(path), P_PORT_BINDING, p->id);
	rc = plan_delete_if_present(zh, x, path);
	if (rc)
		return rc;
	if (peer) {
		struct topo_port q = *peer;

		q.peer_id[0] = '\0';
		txn_set(x, q.version, topo_encode_port(&q), P_PORT, q.id);
	}
	if (!with_device && p->device_type == TOPO_DEVICE_BRIDGE)
		plan_port_macs(t, x, p);
	if (!with_device && p->device_type == TOPO_DEVICE_ROUTER)
		plan_router_port_routes(t, x, p);
	txn_delete(x, p->version, P_PORT, p->id);
	return rc;
}

static int plan_port_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	struct port_args *a = arg;
	const struct topo_port *p = topo_find_port_by_id(t, a->port_id);

	if (!p)
		return topo_fail(-ENOENT, "no port %s", a->port_id);
	return plan_port_removal(zh, t, x, p, false);
}

int topo_port_delete(zhandle_t *zh, const char *port_id)
{
	struct port_args a = { .port_id = port_id };

	return topo_apply(zh, plan_port_delete, &a);
}

static int plan_binding_add(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	struct port_args *a = arg;
	const struct topo_host *h = topo_find_host_by_id(t, a->host_id);
	const struct topo_port *p = topo_find_port_by_id(t, a->port_id);
	const struct topo_binding *bd;
	struct topo_binding nb = { 0 };
	char ha[64], pa[64];

	(void)zh;
	if (!h)
		return topo_fail(-ENOENT, "no host %s", a->host_id);
	if (!p)
		return topo_fail(-ENOENT, "no port %s", a->port_id);
	bd = topo_find_binding(t, h->id, a->ifname);
	if (bd)
		return topo_fail(-EEXIST, "interface %s on host %s is already bound to port %s",
				 a->ifname, alias_of(t, h->id, ha), alias_of(t, bd->port_id, pa));
	bd = topo_find_port_binding(t, p->id);
	if (bd)
		return topo_fail(-EEXIST, "port %s is already bound to interface %s on host %s",
				 alias_of(t, p->id, pa), bd->interface,
				 alias_of(t, bd->host_id, ha));
	if (p->peer_id[0])
		return topo_fail(-EEXIST, "port %s is linked to port %s: an interior port cannot "
				 "be bound", alias_of(t, p->id, pa), alias_of(t, p->peer_id, ha));
	strcpy(nb.port_id, p->id);
	txn_check(x, h->version, P_HOST, h->id);
	/* Rewriting the port orders this against linking it. */
	txn_set(x, p->version, topo_encode_port(p), P_PORT, p->id);
	txn_create(x, ZOO_PERSISTENT, topo_encode_binding(&nb), P_BINDING, h->id, a->ifname);
	txn_create(x, ZOO_PERSISTENT, topo_encode_port_guard(h->id, a->ifname), P_PORT_BINDING,
		   p->id);
	return 0;
}

int topo_binding_add(zhandle_t *zh, const char *host_id, const char *ifname,
		     const char *port_id)
{
	struct port_args a = { .host_id = host_id, .ifname = ifname, .port_id = port_id };

	if (!topo_valid_ifname(ifname))
		return topo_fail(-EINVAL, "bad interface name '%s'", ifname ? ifname : "");
	return topo_apply(zh, plan_binding_add, &a);
}

static int plan_binding_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			       void *arg)
{
	struct port_args *a = arg;
	const struct topo_binding *bd = topo_find_binding(t, a->host_id, a->ifname);
	char path[TOPO_PATH_MAX], ha[64];

	if (!bd)
		return topo_fail(-ENOENT, "interface %s on host %s is not bound", a->ifname,
				 alias_of(t, a->host_id, ha));
	txn_delete(x, bd->version, P_BINDING, bd->host_id, bd->interface);
	snprintf(path, sizeof(path), P_PORT_BINDING, bd->port_id);
	return plan_delete_if_present(zh, x, path);
}

int topo_binding_delete(zhandle_t *zh, const char *host_id, const char *ifname)
{
	struct port_args a = { .host_id = host_id, .ifname = ifname };

	return topo_apply(zh, plan_binding_delete, &a);
}
