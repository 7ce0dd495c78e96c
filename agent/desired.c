// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/log.h"
#include "bgp/plan.h"
#include "desired.h"
#include "loader/chain.h"

/* ---- packed, indexed arrays ---- */

static void kv_init(struct kv_array *a, size_t key_size, size_t value_size)
{
	memset(a, 0, sizeof(*a));
	a->key_size = key_size;
	a->value_size = value_size;
	index_init(&a->ix, NULL, key_size, 0, key_size, INDEX_BYTES);
}

static void kv_free(struct kv_array *a)
{
	free(a->keys);
	free(a->values);
	index_free(&a->ix);
}

static void *kv_value(const struct kv_array *a, size_t i)
{
	return (char *)a->values + i * a->value_size;
}

static void *kv_get(const struct kv_array *a, const void *key)
{
	long i = index_find(&a->ix, key);

	return i < 0 ? NULL : kv_value(a, (size_t)i);
}

static int kv_grow(struct kv_array *a)
{
	size_t cap = a->cap ? a->cap * 2 : 64;
	void *keys, *values;

	keys = realloc(a->keys, cap * a->key_size);
	if (!keys)
		return -ENOMEM;
	a->keys = keys;
	index_rebase(&a->ix, keys);
	values = realloc(a->values, cap * a->value_size);
	if (!values)
		return -ENOMEM;
	a->values = values;
	a->cap = cap;
	return 0;
}

/* Append key -> value unless key is there already (the first writer wins). */
static int kv_put_new(struct kv_array *a, const void *key, const void *value)
{
	int err;

	if (index_find(&a->ix, key) >= 0)
		return 0;
	if (a->n == a->cap) {
		err = kv_grow(a);
		if (err)
			return err;
	}
	memcpy((char *)a->keys + a->n * a->key_size, key, a->key_size);
	memcpy(kv_value(a, a->n), value, a->value_size);
	err = index_add(&a->ix, a->n);
	if (!err)
		a->n++;
	return err;
}

void desired_free(struct desired *d)
{
	for (int m = 0; m < MX_MAP_ID__MAX; m++)
		kv_free(&d->maps[m]);
	filters_free(&d->chains);
	memset(d, 0, sizeof(*d));
}

const void *desired_lookup(const struct desired *d, enum mx_map_id map, const void *key)
{
	return kv_get(&d->maps[map], key);
}

/* ---- the snapshot, and where this host reaches its peers ---- */

struct snapshot {
	const struct topology *t; /* indexed by id and key (topo_read, topo_index) */
	const struct local_view *v;
	struct kv_array peer_addr; /* host id -> __be32: where this host reaches it */
};

static void snapshot_free(struct snapshot *s)
{
	kv_free(&s->peer_addr);
}

/* An id as the fixed-size key peer_addr compares. */
static void id_key(char key[TOPO_ID_LEN], const char *id)
{
	size_t len = strnlen(id, TOPO_ID_LEN - 1);

	memset(key, 0, TOPO_ID_LEN);
	memcpy(key, id, len);
}

/* Tunnel key of a port's device, 0 if the device is gone; down: whether it is set down. */
static __u32 device_state(const struct snapshot *s, const struct topo_port *p, bool *down)
{
	const struct topo_bridge *b;
	const struct topo_router *r;

	*down = false;
	if (p->device_type == TOPO_DEVICE_BRIDGE) {
		b = topo_find_bridge_by_id(s->t, p->device_id);
		*down = b && b->down;
		return b ? b->tunnel_key : 0;
	}
	if (p->device_type == TOPO_DEVICE_ROUTER) {
		r = topo_find_router_by_id(s->t, p->device_id);
		*down = r && r->down;
		return r ? r->tunnel_key : 0;
	}
	return 0;
}

static __u32 device_key(const struct snapshot *s, const struct topo_port *p)
{
	bool down;

	return device_state(s, p, &down);
}

static bool in_zone(const struct topology *t, const char *zone_id, const char *host_id)
{
	for (size_t i = 0; i < t->n_members; i++)
		if (!strcmp(t->members[i].host_id, host_id) && !strcmp(t->members[i].zone_id, zone_id))
			return true;
	return false;
}

/* Every host sharing a zone with this one, at its address in the first such zone (by
 * creation). Zones are few; members are walked once per zone this host is in. */
static int index_peers(struct snapshot *s)
{
	const struct topology *t = s->t;
	char key[TOPO_ID_LEN];
	int err = 0;

	kv_init(&s->peer_addr, TOPO_ID_LEN, sizeof(__be32));
	for (size_t i = 0; !err && i < t->n_members; i++) {
		const struct topo_member *m = &t->members[i];

		if (!strcmp(m->host_id, s->v->host_id) || !in_zone(t, m->zone_id, s->v->host_id))
			continue;
		id_key(key, m->host_id);
		err = kv_put_new(&s->peer_addr, key, &m->addr.s_addr);
	}
	return err;
}

static int snapshot_init(struct snapshot *s, const struct topology *t, const struct local_view *v)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->v = v;
	return index_peers(s);
}

static __be32 peer_addr(const struct snapshot *s, const char *host_id)
{
	char key[TOPO_ID_LEN];
	const __be32 *addr;

	id_key(key, host_id);
	addr = kv_get(&s->peer_addr, key);
	return addr ? *addr : 0;
}

/* ---- tunnel zone membership ---- */

static int add_tunnel(const struct snapshot *s, struct desired *d)
{
	const struct topology *t = s->t;
	struct mx_tunpeer peer = { 0 };
	int err = 0;

	d->config.underlay_ifindex = s->v->underlay_ifindex;
	d->config.vxlan_port = htons(s->v->vxlan_port);
	for (size_t i = 0; i < t->n_members; i++) {
		if (!strcmp(t->members[i].host_id, s->v->host_id)) {
			d->member = true;
			d->config.tunnel_addr = t->members[i].addr.s_addr;
			break;
		}
	}
	for (size_t i = 0; !err && i < s->peer_addr.n; i++)
		err = kv_put_new(&d->maps[MX_MAP_ID_TUNPEER], kv_value(&s->peer_addr, i), &peer);
	return err;
}

/* ---- ports, bridges, flood sets ---- */

/* Where a port lives, seen from this host. */
static void port_place(const struct snapshot *s, const struct topo_port *p, struct mx_port *out)
{
	const struct topo_binding *b = topo_find_port_binding(s->t, p->id);
	int ifindex;

	if (!b)
		return;
	if (!strcmp(b->host_id, s->v->host_id)) {
		ifindex = s->v->ifindex_of(b->interface, s->v->ctx);
		if (ifindex > 0) {
			out->flags |= MX_PORT_LOCAL;
			if (s->v->underlay_xdp)
				out->flags |= MX_PORT_XDP_RX;
			out->ifindex = (__u32)ifindex;
		}
		return;
	}
	out->host_addr = peer_addr(s, b->host_id);
	if (out->host_addr)
		out->flags |= MX_PORT_REMOTE;
}

static void flood_add(struct desired *d, __u32 bridge_key, const struct mx_port *p)
{
	struct mx_bridge *b = kv_get(&d->maps[MX_MAP_ID_BRIDGE], &bridge_key);

	if (!b)
		return;
	if (p->flags & MX_PORT_LOCAL) {
		if (b->n_local < MX_FLOOD_MAX_LOCAL)
			b->local_ifindex[b->n_local] = p->ifindex;
		b->n_local++; /* past the limit the datapath counts MX_DROP_FLOOD_LIMIT */
		return;
	}
	if (!(p->flags & MX_PORT_REMOTE))
		return;
	for (__u32 r = 0; r < b->n_remote && r < MX_FLOOD_MAX_REMOTE; r++)
		if (b->remote_addr[r] == p->host_addr)
			return;
	if (b->n_remote < MX_FLOOD_MAX_REMOTE)
		b->remote_addr[b->n_remote] = p->host_addr;
	b->n_remote++;
}

static int add_bridges(const struct topology *t, struct desired *d)
{
	struct mx_bridge empty = { 0 };
	int err = 0;

	for (size_t i = 0; !err && i < t->n_bridges; i++)
		err = kv_put_new(&d->maps[MX_MAP_ID_BRIDGE], &t->bridges[i].tunnel_key, &empty);
	return err;
}

/* The bridge answers ARP for, and switches to, a MAC at port_key. */
static int add_station(struct desired *d, __u32 bridge_key, const uint8_t mac[6],
		       const struct in_addr *addrs, size_t n_addrs, __u32 port_key)
{
	struct mx_fdb_key fk = { .bridge_key = bridge_key };
	struct mx_fdb_entry fe = { .port_key = port_key, .flags = MX_FDB_STATIC };
	struct mx_arp_key ak = { .bridge_key = bridge_key };
	struct mx_arp_entry ae = { 0 };
	int err;

	memcpy(fk.mac, mac, 6);
	memcpy(ae.mac, mac, 6);
	err = kv_put_new(&d->maps[MX_MAP_ID_FDB], &fk, &fe);
	for (size_t i = 0; !err && i < n_addrs; i++) {
		ak.addr = addrs[i].s_addr;
		ae.key = ak; /* the datapath checks it after its read */
		err = kv_put_new(&d->maps[MX_MAP_ID_ARP], &ak, &ae);
	}
	return err;
}

/* A bridge port linked to a router port: the router's MAC and addresses are reached
 * through it. */
static int add_router_station(const struct snapshot *s, struct desired *d, __u32 bridge_key,
			      const struct topo_port *bp)
{
	const struct topo_port *rp = topo_find_port_by_id(s->t, bp->peer_id);
	struct in_addr addrs[TOPO_PORT_MAX_NETS];

	if (!rp || rp->device_type != TOPO_DEVICE_ROUTER || !rp->has_mac)
		return 0;
	for (size_t i = 0; i < rp->n_nets; i++)
		addrs[i] = rp->nets[i].addr;
	return add_station(d, bridge_key, rp->mac, addrs, rp->n_nets, bp->tunnel_key);
}

static void port_fill_router(const struct topo_port *p, struct mx_port *mp)
{
	mp->flags |= MX_PORT_ROUTER;
	if (p->has_mac)
		memcpy(mp->mac, p->mac, 6);
	if (p->n_nets) {
		mp->addr = p->nets[0].addr.s_addr;
		mp->prefix_len = p->nets[0].len;
	}
}

/* Port security off: the fixed MAC and address stay (bpftool shows them) but lock nothing. */
static void port_fill_bridge(const struct topo_port *p, struct mx_port *mp)
{
	__u32 lock = p->no_port_security ? 0 : ~0u;

	if (p->has_mac) {
		mp->flags |= MX_PORT_FIXED_MAC & lock;
		memcpy(mp->mac, p->mac, 6);
	}
	if (p->has_addr) {
		mp->flags |= MX_PORT_FIXED_IP & lock;
		mp->addr = p->addr.s_addr;
	}
}

/* The allowed address pairs of a locked port (an unlocked one is not checked at all). */
static int add_allowed(struct desired *d, const struct topo_port *p, const struct mx_port *mp)
{
	struct mx_allowed_key k = { .port_key = p->tunnel_key };
	struct mx_allowed v;
	int err = 0;

	if (!(mp->flags & (MX_PORT_FIXED_MAC | MX_PORT_FIXED_IP)))
		return 0;
	for (size_t i = 0; !err && i < p->n_allowed; i++) {
		memset(&v, 0, sizeof(v));
		k.addr = p->allowed[i].addr.s_addr;
		v.key = k; /* the datapath checks it after its read */
		if (p->allowed[i].has_mac) {
			v.flags = MX_ALLOWED_MAC;
			memcpy(v.mac, p->allowed[i].mac, 6);
		}
		err = kv_put_new(&d->maps[MX_MAP_ID_ALLOWED], &k, &v);
	}
	return err;
}

/* A port bound here with an egress limit: its midox_rate entry and MX_PORT_RATE_LIMIT. Only
 * here: frames enter the datapath from a port on the host it is bound on. */
static int add_rate(struct desired *d, const struct topo_port *p, struct mx_port *mp)
{
	struct mx_port_rate r = { .rate_bps = p->egress_rate };

	if (!p->egress_rate || !(mp->flags & MX_PORT_LOCAL))
		return 0;
	/* At most 10^12 bits * 10^9 / 1000: 10^18 ns, within 64 bits; the product is not. */
	r.burst_ns = (__u64)((unsigned __int128)p->egress_burst * MX_RATE_NS_PER_SEC /
			     p->egress_rate);
	mp->flags |= MX_PORT_RATE_LIMIT;
	return kv_put_new(&d->maps[MX_MAP_ID_RATE], &p->tunnel_key, &r);
}

static int add_port(const struct snapshot *s, struct desired *d, const struct topo_port *p)
{
	const struct topo_port *peer = p->peer_id[0] ? topo_find_port_by_id(s->t, p->peer_id) : NULL;
	struct mx_ifport ifp = { .port_key = p->tunnel_key };
	struct mx_port mp = { 0 };
	bool dev_down;
	int err;

	mp.device_key = device_state(s, p, &dev_down);
	if (!mp.device_key)
		return 0;
	if (p->device_type == TOPO_DEVICE_ROUTER)
		port_fill_router(p, &mp);
	else
		port_fill_bridge(p, &mp);
	mp.flags |= (p->down ? MX_PORT_ADMIN_DOWN : 0) | (dev_down ? MX_PORT_DEVICE_DOWN : 0);
	if (peer && device_key(s, peer)) {
		mp.flags |= MX_PORT_INTERIOR;
		mp.peer_key = peer->tunnel_key;
	} else {
		port_place(s, p, &mp);
	}
	err = add_rate(d, p, &mp);
	if (!err)
		err = kv_put_new(&d->maps[MX_MAP_ID_PORT], &p->tunnel_key, &mp);
	if (!err && (mp.flags & MX_PORT_LOCAL))
		err = kv_put_new(&d->maps[MX_MAP_ID_IFPORT], &mp.ifindex, &ifp);
	if (err || p->device_type != TOPO_DEVICE_BRIDGE)
		return err;
	err = add_allowed(d, p, &mp);
	if (err)
		return err;
	/* A down port gets no flooded copy; a down bridge is stopped where frames enter it. */
	if (!(mp.flags & MX_PORT_DOWN))
		flood_add(d, mp.device_key, &mp);
	if (peer)
		return add_router_station(s, d, mp.device_key, p);
	if (p->has_mac)
		return add_station(d, mp.device_key, p->mac, &p->addr, p->has_addr ? 1 : 0,
				   p->tunnel_key);
	return 0;
}

/* ---- routes ---- */

static int route_add_hop(struct desired *d, __u32 router_key, struct topo_cidr dst,
			 const struct mx_nexthop *hop)
{
	struct mx_route_key k = {
		.prefixlen = 32 + dst.len,
		.router_key = router_key,
		.dst = dst.addr.s_addr & htonl(mx_prefix_mask(dst.len)),
	};
	struct kv_array *a = &d->maps[MX_MAP_ID_ROUTE];
	struct mx_route empty = { 0 }, *r;
	int err;

	err = kv_put_new(a, &k, &empty);
	if (err)
		return err;
	r = kv_get(a, &k);
	if (r->n && r->nh[0].type == MX_ROUTE_LOCAL)
		return 0; /* a router's own address is never routed elsewhere */
	if (hop->type == MX_ROUTE_LOCAL)
		r->n = 0;
	if (r->n == MX_ROUTE_MAX_NEXTHOPS) {
		mx_warn("router %u: more than %d routes to one prefix; the rest are ignored",
			router_key, MX_ROUTE_MAX_NEXTHOPS);
		return 0;
	}
	r->nh[r->n++] = *hop;
	return 0;
}

/* Whether a router port can take a routed packet out: it and its router are up and, if it
 * is interior, so are its peer and the peer's device. */
static bool port_forwards(const struct snapshot *s, const struct topo_port *p)
{
	const struct topo_port *peer = p->peer_id[0] ? topo_find_port_by_id(s->t, p->peer_id) : NULL;
	bool down;

	if (p->down || !device_state(s, p, &down) || down)
		return false;
	return !peer || (!peer->down && device_state(s, peer, &down) && !down);
}

/* A route set holding only hops out of down ports: the set a down hop may still join. */
static bool route_all_down(const struct snapshot *s, const struct desired *d,
			   __u32 router_key, struct topo_cidr dst)
{
	struct mx_route_key k = {
		.prefixlen = 32 + dst.len,
		.router_key = router_key,
		.dst = dst.addr.s_addr & htonl(mx_prefix_mask(dst.len)),
	};
	const struct mx_route *r = kv_get(&d->maps[MX_MAP_ID_ROUTE], &k);
	const struct topo_port *p;

	if (!r || !r->n)
		return true;
	if (r->nh[0].type != MX_ROUTE_NORMAL)
		return false;
	p = topo_port_by_key(s->t, r->nh[0].port_key);
	return p && !port_forwards(s, p);
}

static const __u32 route_types[] = {
	[TOPO_ROUTE_NORMAL] = MX_ROUTE_NORMAL,
	[TOPO_ROUTE_BLACKHOLE] = MX_ROUTE_BLACKHOLE,
	[TOPO_ROUTE_REJECT] = MX_ROUTE_REJECT,
};

/* up_pass: add the hops out of ports that forward (and blackhole, reject); otherwise the
 * hops out of down ports, to a set that has no other (ECMP skips a down hop; a route
 * whose every hop is down stays, and drops admin-down, rather than yield to a shorter
 * prefix). */
static int add_route(const struct snapshot *s, struct desired *d, const struct topo_route *rt,
		     bool up_pass)
{
	const struct topo_router *r = topo_find_router_by_id(s->t, rt->router_id);
	const struct topo_port *p = rt->port_id[0] ? topo_find_port_by_id(s->t, rt->port_id) : NULL;
	struct mx_nexthop hop = {
		.gw = rt->has_gw ? rt->gw.s_addr : 0,
		.weight = rt->weight ? rt->weight : 1,
		.src = rt->src.addr.s_addr & htonl(mx_prefix_mask(rt->src.len)),
		.src_len = rt->src.len,
	};

	if (!r || rt->type < TOPO_ROUTE_NORMAL || rt->type > TOPO_ROUTE_REJECT)
		return 0;
	hop.type = route_types[rt->type];
	if (hop.type == MX_ROUTE_NORMAL) {
		if (!p || strcmp(p->device_id, r->id))
			return 0; /* its port is gone: the route is unusable */
		hop.port_key = p->tunnel_key;
		if (port_forwards(s, p) != up_pass)
			return 0;
		if (!up_pass && !route_all_down(s, d, r->tunnel_key, rt->dst))
			return 0;
	} else if (!up_pass) {
		return 0;
	}
	return route_add_hop(d, r->tunnel_key, rt->dst, &hop);
}

/* Every address of every router port is the router's own (/32, LOCAL). */
static int add_local_routes(const struct snapshot *s, struct desired *d, const struct topo_port *p)
{
	const struct topo_router *r = topo_find_router_by_id(s->t, p->device_id);
	struct mx_nexthop hop = { .type = MX_ROUTE_LOCAL, .port_key = p->tunnel_key, .weight = 1 };
	int err = 0;

	if (!r)
		return 0;
	for (size_t i = 0; !err && i < p->n_nets; i++) {
		struct topo_cidr host = { .addr = p->nets[i].addr, .len = 32 };

		err = route_add_hop(d, r->tunnel_key, host, &hop);
	}
	return err;
}

static int add_routes(const struct snapshot *s, struct desired *d)
{
	const struct topology *t = s->t;
	int err = 0;

	for (size_t i = 0; !err && i < t->n_ports; i++)
		if (t->ports[i].device_type == TOPO_DEVICE_ROUTER)
			err = add_local_routes(s, d, &t->ports[i]);
	for (size_t i = 0; !err && i < t->n_routes; i++)
		err = add_route(s, d, &t->routes[i], true);
	for (size_t i = 0; !err && i < t->n_routes; i++)
		err = add_route(s, d, &t->routes[i], false);
	return err;
}

/* ---- what other hosts learned ---- */

static bool learned_here(const struct snapshot *s, enum mx_map_id map, const void *key)
{
	return s->v->learned_here && s->v->learned_here(map, key, s->v->ctx);
}

/* MACs other hosts learned, unless this host's own port claims the MAC (static) or the
 * datapath here learned it itself and still holds it. Newest first: a MAC that moved
 * between ports may briefly be published twice, and the latest sighting wins. */
static int add_macs(const struct snapshot *s, struct desired *d)
{
	const struct topology *t = s->t;
	struct mx_fdb_entry fe = { .flags = MX_FDB_REMOTE };
	struct mx_fdb_key fk = { 0 };
	int err = 0;

	for (size_t i = t->n_macs; !err && i-- > 0;) {
		const struct topo_mac *m = &t->macs[i];
		const struct topo_bridge *br = topo_find_bridge_by_id(s->t, m->bridge_id);
		const struct topo_port *p = topo_find_port_by_id(s->t, m->port_id);

		if (!br || !p || strcmp(p->device_id, br->id) || !strcmp(m->host_id, s->v->host_id))
			continue;
		fk.bridge_key = br->tunnel_key;
		memcpy(fk.mac, m->mac, 6);
		if (learned_here(s, MX_MAP_ID_FDB, &fk))
			continue;
		fe.port_key = p->tunnel_key;
		err = kv_put_new(&d->maps[MX_MAP_ID_FDB], &fk, &fe);
	}
	return err;
}

/* Static ARP entries first (they win), then those learned on other hosts, newest first
 * (a neighbour whose MAC changed may briefly be published twice). */
static int add_arps(const struct snapshot *s, struct desired *d, bool learned)
{
	const struct topology *t = s->t;
	int err = 0;

	for (size_t i = t->n_arps; !err && i-- > 0;) {
		const struct topo_arp *a = &t->arps[i];
		const struct topo_router *r = topo_find_router_by_id(s->t, a->router_id);
		const struct topo_port *p = a->port_id[0] ? topo_find_port_by_id(s->t, a->port_id) : NULL;
		struct mx_neigh_key k = { .addr = a->addr.s_addr };
		struct mx_neigh_entry e = { .flags = learned ? MX_NEIGH_REMOTE : MX_NEIGH_STATIC };

		if (!r || a->learned != learned || (learned && !strcmp(a->host_id, s->v->host_id)))
			continue;
		k.router_key = r->tunnel_key;
		if (learned && learned_here(s, MX_MAP_ID_NEIGH, &k))
			continue;
		memcpy(e.mac, a->mac, 6);
		e.port_key = p ? p->tunnel_key : 0;
		err = kv_put_new(&d->maps[MX_MAP_ID_NEIGH], &k, &e);
	}
	return err;
}

/* ---- the whole computation ---- */

static void desired_init(struct desired *d)
{
	memset(d, 0, sizeof(*d));
	for (int m = 0; m < MX_MAP_ID__MAX; m++)
		kv_init(&d->maps[m], mx_map_table[m].key_size, mx_map_table[m].value_size);
}

/* ---- BGP speakers ---- */

/* Each speaker of this host whose veth exists (docs/bgp.md): both directions of each peer
 * in midox_bgp, and MX_PORT_BGP on its port so that its frames are looked at. A speaker
 * whose veth the agent has not made yet has no entries: the link appearing reconciles. */
static int add_bgp_speaker(const struct snapshot *s, struct desired *d, const struct bgp_want *w)
{
	struct kv_array *a = &d->maps[MX_MAP_ID_BGP];
	struct mx_port *mp = kv_get(&d->maps[MX_MAP_ID_PORT], &w->port_key);
	char veth_name[16];
	__u32 ext, veth;
	int err = 0;

	bgp_speaker_if(w->port_key, veth_name);
	ext = (__u32)s->v->ifindex_of(w->ifname, s->v->ctx);
	veth = (__u32)s->v->ifindex_of(veth_name, s->v->ctx);
	if (!ext || !veth || !mp || !(mp->flags & MX_PORT_LOCAL) || mp->ifindex != ext)
		return 0;
	mp->flags |= MX_PORT_BGP;
	for (size_t i = 0; !err && i < w->n_peers; i++) {
		struct mx_bgp_key in = { .ifindex = ext, .peer = w->peers[i].addr.s_addr };
		struct mx_bgp_key out = { .ifindex = veth, .peer = w->peers[i].addr.s_addr };
		struct mx_bgp to_speaker = { .to_ifindex = veth, .local = w->peers[i].local.s_addr,
					     .port_key = w->port_key, .flags = MX_BGP_TO_SPEAKER };
		struct mx_bgp to_wire = { .to_ifindex = ext, .local = w->peers[i].local.s_addr,
					  .port_key = w->port_key, .flags = MX_BGP_TO_WIRE };

		err = kv_put_new(a, &in, &to_speaker);
		if (!err)
			err = kv_put_new(a, &out, &to_wire);
	}
	return err;
}

static int add_bgp(const struct snapshot *s, struct desired *d)
{
	struct bgp_want *w = NULL;
	size_t n = 0;
	int err = bgp_plan(s->t, s->v->host_id, &w, &n);

	for (size_t i = 0; !err && i < n; i++)
		err = add_bgp_speaker(s, d, &w[i]);
	free(w);
	return err;
}

/* Each interface's entry gets its port's entry, as final (a BGP speaker adds MX_PORT_BGP
 * after the ports): the datapath reads the port from the interface's entry alone. */
/* ---- rule-chain filters ---- */

static __u32 filter_chain(const __u32 *ids, long index)
{
	return index == DF_NONE ? MX_CHAIN_NONE : ids[index];
}

/* midox_filter_v2: each port's and device's chains by the ids the chain compiler gives them
 * (mx_chain_ids_assign over the resolved chains, as agent/chain_compile.c); and on every
 * port's entry whether it has filters (MX_PORT_FILTERED) and whether its device has
 * (MX_PORT_DEVICE_FILTERED), so that the datapath looks only where there are some.
 * Tunnel keys are one space: ports' and devices' never collide. */
/* Whether filter f's chains need connection tracking. */
static bool filter_tracks(const struct df_chains *c, const struct df_filter *f)
{
	return filters_chain_tracks(c, f->in) || filters_chain_tracks(c, f->out);
}

/* MX_PORT_DEVICE_CT on every port of a device that tracks connections: one whose own
 * filters, or one of whose ports' filters, have a chain that needs it (a flow condition,
 * through jumps too). The datapath tracks a packet on a device only when the port it enters
 * by says so (bpf/lib/track.h, docs/conntrack.md). */
static int add_tracking(struct desired *d)
{
	const struct df_chains *c = &d->chains;
	struct kv_array *ports = &d->maps[MX_MAP_ID_PORT];
	__u32 *devices = calloc(c->n_filters + 1, sizeof(*devices));
	size_t n = 0;

	if (!devices)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_filters; i++) {
		const struct df_filter *f = &c->filters[i];
		const struct mx_port *p;

		if (!filter_tracks(c, f))
			continue;
		if (f->owner != DF_PORT) {
			devices[n++] = f->key;
			continue;
		}
		p = kv_get(ports, &f->key);
		if (p)
			devices[n++] = p->device_key;
	}
	for (size_t i = 0; n && i < ports->n; i++) {
		struct mx_port *p = kv_value(ports, i);

		for (size_t k = 0; k < n; k++)
			if (devices[k] == p->device_key)
				p->flags |= MX_PORT_DEVICE_CT;
	}
	free(devices);
	return 0;
}

static int add_filters(struct desired *d)
{
	const struct df_chains *c = &d->chains;
	struct kv_array *ports = &d->maps[MX_MAP_ID_PORT], *filters = &d->maps[MX_MAP_ID_FILTER];
	__u32 *ids = calloc(c->n_chains + 1, sizeof(*ids));
	int err = ids ? 0 : -ENOMEM;

	if (!err && c->n_chains)
		err = mx_chain_ids_assign(c->chains[0].id, c->n_chains, sizeof(*c->chains), ids);
	for (size_t i = 0; !err && i < c->n_filters; i++) {
		const struct df_filter *f = &c->filters[i];
		struct mx_filter v = { .owner = f->key, .in_chain = filter_chain(ids, f->in),
				       .out_chain = filter_chain(ids, f->out) };

		err = kv_put_new(filters, &f->key, &v);
	}
	for (size_t i = 0; !err && i < ports->n; i++) {
		const __u32 *key = (const __u32 *)((const char *)ports->keys + i * ports->key_size);
		struct mx_port *p = kv_value(ports, i);

		if (kv_get(filters, key))
			p->flags |= MX_PORT_FILTERED;
		if (kv_get(filters, &p->device_key))
			p->flags |= MX_PORT_DEVICE_FILTERED;
	}
	free(ids);
	if (!err)
		err = add_tracking(d);
	return err;
}

static void ifport_copy_ports(struct desired *d)
{
	const struct kv_array *ifp = &d->maps[MX_MAP_ID_IFPORT];

	for (size_t i = 0; i < ifp->n; i++) {
		struct mx_ifport *e = kv_value(ifp, i);
		const struct mx_port *p = kv_get(&d->maps[MX_MAP_ID_PORT], &e->port_key);

		if (p)
			e->port = *p;
	}
}

int desired_compute(const struct topology *t, const struct local_view *v, struct desired *d)
{
	struct snapshot s;
	int err;

	desired_init(d);
	err = snapshot_init(&s, t, v);
	if (!err)
		err = add_tunnel(&s, d);
	if (!err)
		err = add_bridges(t, d);
	for (size_t i = 0; !err && i < t->n_ports; i++)
		err = add_port(&s, d, &t->ports[i]);
	if (!err)
		err = add_bgp(&s, d);
	if (!err)
		err = add_macs(&s, d);
	if (!err)
		err = add_routes(&s, d);
	if (!err)
		err = add_arps(&s, d, false);
	if (!err)
		err = add_arps(&s, d, true);
	if (!err)
		err = filters_resolve(t, &d->chains);
	if (!err)
		err = add_filters(d);
	if (!err)
		ifport_copy_ports(d); /* last: every flag of the port's entry is set by now */
	snapshot_free(&s);
	if (err)
		desired_free(d);
	return err;
}
