// SPDX-License-Identifier: Apache-2.0
/* Reading the whole tree into a snapshot: which kinds of object there are and where (the
 * table below drives fetch.c), read containers first, then normalised (snapshot.c); made
 * again while a change tears it (the mirror). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chains.h"
#include "reader.h"

#define ARRAY(name) offsetof(struct topology, name), offsetof(struct topology, n_##name)
#define DIR_VERSION(name) offsetof(struct topology, name##_version)
#define NONE SIZE_MAX

/* A kind of object, in struct T, kept in the snapshot's array A. */
#define KIND(dir, decode, T, parent, A, dir_version, below)                                   \
	{ dir, decode, sizeof(struct T), parent, offsetof(struct T, czxid),                     \
	  offsetof(struct T, version), ARRAY(A), dir_version, below }

static const struct kind k_binding =
	KIND(P_BINDINGS, topo_decode_binding, topo_binding, offsetof(struct topo_binding, host_id),
	     bindings, NONE, NULL);
static const struct kind k_member =
	KIND(P_MEMBERS, topo_decode_member, topo_member, offsetof(struct topo_member, zone_id),
	     members, NONE, NULL);
/* Learned MACs: their bridge is their port's (set once the ports are read); no version
 * kept (only their agent changes them). */
static const struct kind k_mac = {
	P_HOST_MACS, topo_decode_mac, sizeof(struct topo_mac), offsetof(struct topo_mac, host_id),
	offsetof(struct topo_mac, czxid), NONE, ARRAY(macs), NONE, NULL,
};
static const struct kind k_route =
	KIND(P_ROUTES, topo_decode_route, topo_route, offsetof(struct topo_route, router_id),
	     routes, NONE, NULL);
static const struct kind k_arp_static =
	KIND(P_ARPS_STATIC, topo_decode_arp_static, topo_arp, offsetof(struct topo_arp, router_id),
	     arps, NONE, NULL);
static const struct kind k_bgp_peer =
	KIND(P_BGP_PEERS, topo_decode_bgp_peer, topo_bgp_peer,
	     offsetof(struct topo_bgp_peer, router_id), bgp_peers, NONE, NULL);
static const struct kind k_bgp_network =
	KIND(P_BGP_NETWORKS, topo_decode_bgp_network, topo_bgp_network,
	     offsetof(struct topo_bgp_network, router_id), bgp_networks, NONE, NULL);
/* Learned from a BGP peer, under the host whose agent published it. */
static const struct kind k_route_learned =
	KIND(P_HOST_BGP_ROUTES, topo_decode_route_learned, topo_route,
	     offsetof(struct topo_route, host_id), routes, NONE, NULL);
/* Under the host that learned it; the router is in the node's name. */
static const struct kind k_arp_learned =
	KIND(P_HOST_ARPS, topo_decode_arp_learned, topo_arp, offsetof(struct topo_arp, host_id),
	     arps, NONE, NULL);

/* Rule chains' rules, port groups' members, IP address groups' addresses. */
static const struct kind k_rule =
	KIND(P_RULES, topo_decode_rule, topo_rule, offsetof(struct topo_rule, chain_id), rules,
	     NONE, NULL);
static const struct kind k_pg_member =
	KIND(P_PG_MEMBERS, topo_decode_pg_member, topo_pg_member,
	     offsetof(struct topo_pg_member, group_id), pg_members, NONE, NULL);
static const struct kind k_ip_group_addr =
	KIND(P_IP_GROUP_ADDRS, topo_decode_ip_group_addr, topo_ip_group_addr,
	     offsetof(struct topo_ip_group_addr, group_id), ip_group_addrs, NONE, NULL);

static int below_chain(struct reader *r, void *obj)
{
	return fetch_kind(r, &k_rule, ((struct topo_chain *)obj)->id);
}

static int below_port_group(struct reader *r, void *obj)
{
	return fetch_kind(r, &k_pg_member, ((struct topo_port_group *)obj)->id);
}

static int below_ip_group(struct reader *r, void *obj)
{
	return fetch_kind(r, &k_ip_group_addr, ((struct topo_ip_group *)obj)->id);
}

/* Below a host: whether its agent is alive (watched even while absent), its bindings, what
 * its agent learned. */
static int below_host(struct reader *r, void *obj)
{
	struct topo_host *h = obj;
	int rc;

	rpath(r, P_ALIVE, h->id);
	rc = fetch_exists(r, &h->alive);
	if (!rc)
		rc = fetch_bindings(r, &k_binding, h);
	if (!rc)
		rc = fetch_kind(r, &k_mac, h->id);
	if (!rc)
		rc = fetch_kind(r, &k_arp_learned, h->id);
	if (!rc)
		rc = fetch_kind(r, &k_route_learned, h->id);
	return rc;
}

static int below_zone(struct reader *r, void *obj)
{
	return fetch_kind(r, &k_member, ((struct topo_zone *)obj)->id);
}

static int below_router(struct reader *r, void *obj)
{
	const char *id = ((struct topo_router *)obj)->id;
	int rc = fetch_kind(r, &k_route, id);

	if (!rc)
		rc = fetch_kind(r, &k_arp_static, id);
	/* A router made before BGP has neither container: read as none. */
	if (!rc)
		rc = fetch_kind(r, &k_bgp_peer, id);
	if (!rc)
		rc = fetch_kind(r, &k_bgp_network, id);
	return rc;
}

/* The top level, containers before their contents: a container version read here
 * covers everything read after it. */
static const struct kind k_top[] = {
	KIND(P_HOSTS, topo_decode_host, topo_host, NONE, hosts, DIR_VERSION(hosts), below_host),
	KIND(P_ZONES, topo_decode_zone, topo_zone, NONE, zones, DIR_VERSION(zones), below_zone),
	KIND(P_BRIDGES, topo_decode_bridge, topo_bridge, NONE, bridges, DIR_VERSION(bridges),
	     NULL),
	KIND(P_ROUTERS, topo_decode_router, topo_router, NONE, routers, DIR_VERSION(routers),
	     below_router),
	KIND(P_PORTS, topo_decode_port, topo_port, NONE, ports, DIR_VERSION(ports), NULL),
	/* A tree made before chains has none of these: read as empty. */
	KIND(P_CHAINS, topo_decode_chain, topo_chain, NONE, chains, DIR_VERSION(chains),
	     below_chain),
	KIND(P_PORT_GROUPS, topo_decode_port_group, topo_port_group, NONE, port_groups,
	     DIR_VERSION(port_groups), below_port_group),
	KIND(P_IP_GROUPS, topo_decode_ip_group, topo_ip_group, NONE, ip_groups,
	     DIR_VERSION(ip_groups), below_ip_group),
};

static int read_key_counter(struct reader *r)
{
	int rc;

	rpath(r, P_KEY);
	rc = fetch_data(r);
	r->t->key_version = -1;
	if (rc)
		return rc < 0 ? rc : 0;
	if (topo_decode_key_counter(r->buf, (size_t)r->len, NULL, &r->t->next_key)) {
		skip(r, topo_errmsg());
		return 0;
	}
	r->t->key_version = r->st.version;
	return 0;
}

/* Every object of the tree into t (arrays in listing order), through m if not NULL. */
static int walk(zhandle_t *zh, struct topo_mirror *m, struct topology *t)
{
	struct reader *r;
	size_t i;
	int rc;

	memset(t, 0, sizeof(*t));
	t->hosts_version = t->zones_version = t->bridges_version = t->ports_version = -1;
	t->routers_version = t->chains_version = t->port_groups_version = -1;
	t->ip_groups_version = -1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return topo_fail(-ENOMEM, "out of memory");
	r->zh = zh;
	r->t = t;
	r->m = m;
	r->watcher = m ? mirror_watch_fn() : NULL;
	rc = read_key_counter(r);
	for (i = 0; !rc && i < sizeof(k_top) / sizeof(k_top[0]); i++)
		rc = fetch_kind(r, &k_top[i], "");
	free(r);
	if (rc)
		topo_free(t);
	return rc;
}

/* Reads through the mirror until one sees nothing change while it ran (see mirror_end).
 * After that many torn ones, a reader that only looks takes the last (the changes have
 * woken it to read again); a writer, whose version checks need a consistent snapshot,
 * reads directly, containers first. */
#define MIRROR_ATTEMPTS 5

static int read_snapshot(zhandle_t *zh, struct topology *t, bool consistent, bool for_write)
{
	struct topo_mirror *m;
	int i, rc;

	for (i = 0; i < MIRROR_ATTEMPTS && (m = mirror_begin(zh, for_write && i == 0)); i++) {
		rc = walk(zh, m, t);
		if (!mirror_end(m, rc == 0) || rc || (!consistent && i == MIRROR_ATTEMPTS - 1))
			return rc ? rc : topo_normalise(t);
		topo_free(t);
	}
	rc = walk(zh, NULL, t);
	return rc ? rc : topo_normalise(t);
}

int topo_read(zhandle_t *zh, struct topology *t)
{
	return read_snapshot(zh, t, false, false);
}

int topo_read_consistent(zhandle_t *zh, struct topology *t)
{
	return read_snapshot(zh, t, true, false);
}

int topo_read_for_write(zhandle_t *zh, struct topology *t)
{
	return read_snapshot(zh, t, true, true);
}
