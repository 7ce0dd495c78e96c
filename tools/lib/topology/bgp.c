// SPDX-License-Identifier: Apache-2.0
/* Writes of a router's BGP peers and networks (docs/bgp.md). Each rewrites the router at
 * its version, so the checks made against one snapshot (a duplicate address or prefix, the
 * peer on a port's subnet) hold when the multi commits. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "write.h"

struct bgp_args {
	const struct topo_bgp_peer *peer;
	const char *router_id, *id;
	const struct topo_cidr *net;
	char *id_out;
};

/* The router's container dir (a format on its id), created in the multi if a router made
 * before BGP lacks it: a concurrent creator fails the multi, which is then planned again. */
static int plan_container(zhandle_t *zh, struct topo_txn *x, const char *fmt, const char *id)
{
	char path[TOPO_PATH_MAX];
	struct Stat st;
	int rc;

	snprintf(path, sizeof(path), fmt, id);
	rc = zoo_exists(zh, path, 0, &st);
	if (rc == ZNONODE)
		txn_create(x, ZOO_PERSISTENT, NULL, "%s", path);
	else if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
	return 0;
}

static const struct topo_router *router_of(const struct topology *t, const char *id, int *rc)
{
	const struct topo_router *r = topo_find_router_by_id(t, id);

	*rc = r ? 0 : topo_fail(-ENOENT, "no router %s", id);
	return r;
}

/* The port of r whose subnet holds addr; NULL with *rc set when none does or addr is the
 * router's own. The error lists every subnet of the router, what a user needs to pick an
 * address. */
static const struct topo_port *peer_port(const struct topology *t, const struct topo_router *r,
					 struct in_addr addr, int *rc)
{
	char nets[512] = "", s[TOPO_CIDR_STRLEN], a[INET_ADDRSTRLEN], ra[64];
	const struct topo_port *hit = NULL;
	size_t i, k;

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	*rc = 0;
	for (i = 0; i < t->n_ports; i++) {
		const struct topo_port *p = &t->ports[i];

		if (strcmp(p->device_id, r->id))
			continue;
		for (k = 0; k < p->n_nets; k++) {
			struct topo_cidr n = { topo_cidr_network(&p->nets[k]), p->nets[k].len };

			if (p->nets[k].addr.s_addr == addr.s_addr) {
				*rc = topo_fail(-EINVAL, "peer address %s is router %s's own", a,
						alias_of(t, r->id, ra));
				return NULL;
			}
			if (!hit && topo_cidr_contains(&p->nets[k], addr))
				hit = p;
			topo_format_cidr(&n, s);
			snprintf(nets + strlen(nets), sizeof(nets) - strlen(nets), "%s%s",
				 *nets ? ", " : "", s);
		}
	}
	if (hit)
		return hit;
	if (!*nets)
		*rc = topo_fail(-EINVAL, "peer address %s: router %s has no ports (add the port "
				"that reaches the peer first)", a, alias_of(t, r->id, ra));
	else
		*rc = topo_fail(-EINVAL, "peer address %s is in no subnet of router %s's ports "
				"(%s)", a, alias_of(t, r->id, ra), nets);
	return NULL;
}

static int plan_peer_add(zhandle_t *zh, const struct topology *t, struct topo_txn *x, void *arg)
{
	struct bgp_args *a = arg;
	struct topo_bgp_peer p = *a->peer;
	const struct topo_router *r;
	char addr[INET_ADDRSTRLEN], ra[64], pa[64];
	size_t i;
	int rc;

	r = router_of(t, p.router_id, &rc);
	if (!rc)
		peer_port(t, r, p.addr, &rc);
	for (i = 0; !rc && i < t->n_bgp_peers; i++) {
		const struct topo_bgp_peer *o = &t->bgp_peers[i];

		if (strcmp(o->router_id, r->id) || o->addr.s_addr != p.addr.s_addr)
			continue;
		inet_ntop(AF_INET, &p.addr, addr, sizeof(addr));
		rc = topo_fail(-EEXIST, "router %s has a BGP peer at %s already: %s",
			       alias_of(t, r->id, ra), addr, alias_of(t, o->id, pa));
	}
	if (!rc)
		rc = plan_container(zh, x, P_BGP_PEERS, r->id);
	if (!rc)
		rc = topo_new_uuid(p.id);
	if (rc)
		return rc;
	txn_set(x, r->version, topo_encode_router(r), P_ROUTER, r->id);
	txn_create(x, ZOO_PERSISTENT, topo_encode_bgp_peer(&p), P_BGP_PEER, r->id, p.id);
	strcpy(a->id_out, p.id);
	return 0;
}

/* Timers 0 take the defaults; each in its range, the keepalive within the hold time. */
static int check_timers(struct topo_bgp_peer *p)
{
	if (!p->keep_alive)
		p->keep_alive = TOPO_BGP_KEEP_ALIVE_DEFAULT;
	if (!p->hold_time)
		p->hold_time = TOPO_BGP_HOLD_TIME_DEFAULT;
	if (!p->connect_retry)
		p->connect_retry = TOPO_BGP_CONNECT_RETRY_DEFAULT;
	if (p->keep_alive > TOPO_BGP_TIMER_MAX)
		return topo_fail(-EINVAL, "bad keep-alive %u: 1 to %u s", p->keep_alive,
				 TOPO_BGP_TIMER_MAX);
	if (p->hold_time < TOPO_BGP_HOLD_TIME_MIN || p->hold_time > TOPO_BGP_TIMER_MAX)
		return topo_fail(-EINVAL, "bad hold-time %u: %u to %u s", p->hold_time,
				 TOPO_BGP_HOLD_TIME_MIN, TOPO_BGP_TIMER_MAX);
	if (p->connect_retry > TOPO_BGP_TIMER_MAX)
		return topo_fail(-EINVAL, "bad connect-retry %u: 1 to %u s", p->connect_retry,
				 TOPO_BGP_TIMER_MAX);
	if (p->keep_alive > p->hold_time)
		return topo_fail(-EINVAL, "keep-alive %u s is longer than hold-time %u s",
				 p->keep_alive, p->hold_time);
	return 0;
}

int topo_bgp_peer_add(zhandle_t *zh, const struct topo_bgp_peer *peer, char id[TOPO_ID_LEN])
{
	struct topo_bgp_peer p = *peer;
	struct bgp_args a = { .peer = &p, .id_out = id };
	int rc;

	if (p.asn < 1)
		return topo_fail(-EINVAL, "bad asn %u: 1 to %u", p.asn, TOPO_ASN_MAX);
	if (!topo_valid_unicast_ipv4(p.addr))
		return topo_fail(-EINVAL, "bad peer address %s: not a unicast IPv4 address",
				 inet_ntoa(p.addr));
	if (p.password[0] && !topo_valid_bgp_password(p.password))
		return topo_fail(-EINVAL, "bad password: 1 to %d printable characters without "
				 "'\"' or '\\'", TOPO_BGP_PASSWORD_MAX - 1);
	rc = check_timers(&p);
	return rc ? rc : topo_apply(zh, plan_peer_add, &a);
}

static int plan_peer_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	struct bgp_args *a = arg;
	const struct topo_bgp_peer *p = topo_find_bgp_peer_by_id(t, a->id);

	(void)zh;
	if (!p)
		return topo_fail(-ENOENT, "no BGP peer %s", a->id);
	txn_delete(x, p->version, P_BGP_PEER, p->router_id, p->id);
	return 0;
}

int topo_bgp_peer_delete(zhandle_t *zh, const char *peer_id)
{
	struct bgp_args a = { .id = peer_id };

	return topo_apply(zh, plan_peer_delete, &a);
}

static int plan_network_add(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	struct bgp_args *a = arg;
	struct topo_bgp_network n = { .net = *a->net };
	const struct topo_router *r;
	char s[TOPO_CIDR_STRLEN], ra[64], na[64];
	size_t i;
	int rc;

	r = router_of(t, a->router_id, &rc);
	for (i = 0; !rc && i < t->n_bgp_networks; i++) {
		const struct topo_bgp_network *o = &t->bgp_networks[i];

		if (strcmp(o->router_id, r->id) || o->net.addr.s_addr != n.net.addr.s_addr ||
		    o->net.len != n.net.len)
			continue;
		topo_format_cidr(&n.net, s);
		rc = topo_fail(-EEXIST, "router %s advertises %s already: %s",
			       alias_of(t, r->id, ra), s, alias_of(t, o->id, na));
	}
	if (!rc)
		rc = plan_container(zh, x, P_BGP_NETWORKS, r->id);
	if (!rc)
		rc = topo_new_uuid(n.id);
	if (rc)
		return rc;
	txn_set(x, r->version, topo_encode_router(r), P_ROUTER, r->id);
	txn_create(x, ZOO_PERSISTENT, topo_encode_bgp_network(&n), P_BGP_NETWORK, r->id, n.id);
	strcpy(a->id_out, n.id);
	return 0;
}

int topo_bgp_network_add(zhandle_t *zh, const char *router_id, const struct topo_cidr *net,
			 char id[TOPO_ID_LEN])
{
	struct bgp_args a = { .router_id = router_id, .net = net, .id_out = id };
	char s[TOPO_CIDR_STRLEN];

	if (net->len > 32 || !topo_cidr_is_network(net)) {
		topo_format_cidr(net, s);
		return topo_fail(-EINVAL, "bad prefix %s: host bits set", s);
	}
	return topo_apply(zh, plan_network_add, &a);
}

static int plan_network_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			       void *arg)
{
	struct bgp_args *a = arg;
	const struct topo_bgp_network *n = topo_find_bgp_network_by_id(t, a->id);

	(void)zh;
	if (!n)
		return topo_fail(-ENOENT, "no BGP network %s", a->id);
	txn_delete(x, n->version, P_BGP_NETWORK, n->router_id, n->id);
	return 0;
}

int topo_bgp_network_delete(zhandle_t *zh, const char *network_id)
{
	struct bgp_args a = { .id = network_id };

	return topo_apply(zh, plan_network_delete, &a);
}
