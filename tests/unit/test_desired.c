// SPDX-License-Identifier: Apache-2.0
/* The agent's computation of what the maps must hold, from topology snapshots built by
 * hand. The one kernel helper it asks (interface index by name) is mocked. */
#include <arpa/inet.h>
#include <string.h>

#include "agent/desired.h"
#include "loader/chain.h"
#include "tap.h"

#define ME "11111111-1111-4111-8111-111111111111"
#define PEER "22222222-2222-4222-8222-222222222222"
#define LONER "33333333-3333-4333-8333-333333333333"
#define ZONE "44444444-4444-4444-8444-444444444444"
#define BR1 "55555555-5555-4555-8555-555555555555"
#define BR2 "66666666-6666-4666-8666-666666666666"
#define P_LOCAL "aaaaaaaa-0000-4000-8000-000000000001"
#define P_REMOTE "aaaaaaaa-0000-4000-8000-000000000002"
#define P_FIXED "aaaaaaaa-0000-4000-8000-000000000003"
#define P_GONE_IF "aaaaaaaa-0000-4000-8000-000000000004"
#define P_LONER "aaaaaaaa-0000-4000-8000-000000000005"
#define P_OTHER_BR "aaaaaaaa-0000-4000-8000-000000000006"
#define P_BR_LINK "aaaaaaaa-0000-4000-8000-000000000007"
#define R1 "77777777-7777-4777-8777-777777777777"
#define RP_LINK "bbbbbbbb-0000-4000-8000-000000000001"
#define RP_UP "bbbbbbbb-0000-4000-8000-000000000002"
#define RP_UP2 "bbbbbbbb-0000-4000-8000-000000000003"

static int mock_ifindex(const char *ifname, void *ctx)
{
	(void)ctx;
	if (!strcmp(ifname, "vm1"))
		return 7;
	if (!strcmp(ifname, "vm2"))
		return 8;
	return 0;
}

static struct topo_member members[] = {
	{ .zone_id = ZONE, .host_id = ME },
	{ .zone_id = ZONE, .host_id = PEER },
};
static struct topo_bridge bridges[] = {
	{ .id = BR1, .name = "b1", .tunnel_key = 100 },
	{ .id = BR2, .name = "b2", .tunnel_key = 200 },
};
static struct topo_port ports[] = {
	{ .id = P_LOCAL, .device_id = BR1, .device_type = TOPO_DEVICE_BRIDGE, .tunnel_key = 101 },
	{ .id = P_REMOTE, .device_id = BR1, .device_type = TOPO_DEVICE_BRIDGE, .tunnel_key = 102 },
	{ .id = P_FIXED, .device_id = BR1, .device_type = TOPO_DEVICE_BRIDGE, .tunnel_key = 103,
	  .has_mac = true, .mac = { 0x02, 0, 0, 0, 0, 3 }, .has_addr = true },
	{ .id = P_GONE_IF, .device_id = BR1, .device_type = TOPO_DEVICE_BRIDGE, .tunnel_key = 104 },
	{ .id = P_LONER, .device_id = BR1, .device_type = TOPO_DEVICE_BRIDGE, .tunnel_key = 105 },
	{ .id = P_OTHER_BR, .device_id = BR2, .device_type = TOPO_DEVICE_BRIDGE, .tunnel_key = 201 },
	{ .id = P_BR_LINK, .device_id = BR1, .device_type = TOPO_DEVICE_BRIDGE, .tunnel_key = 106,
	  .peer_id = RP_LINK },
	{ .id = RP_LINK, .device_id = R1, .device_type = TOPO_DEVICE_ROUTER, .tunnel_key = 301,
	  .has_mac = true, .mac = { 0x02, 0xaa, 0, 0, 0, 1 }, .n_nets = 2, .peer_id = P_BR_LINK },
	{ .id = RP_UP, .device_id = R1, .device_type = TOPO_DEVICE_ROUTER, .tunnel_key = 302,
	  .has_mac = true, .mac = { 0x02, 0xaa, 0, 0, 0, 2 }, .n_nets = 1 },
	{ .id = RP_UP2, .device_id = R1, .device_type = TOPO_DEVICE_ROUTER, .tunnel_key = 303,
	  .has_mac = true, .mac = { 0x02, 0xaa, 0, 0, 0, 3 }, .n_nets = 1 },
};
static struct topo_router routers[] = {
	{ .id = R1, .name = "r1", .tunnel_key = 300 },
};
static struct topo_route routes[] = {
	{ .router_id = R1, .type = TOPO_ROUTE_NORMAL, .port_id = RP_UP, .has_gw = true,
	  .weight = 100 },
	{ .router_id = R1, .type = TOPO_ROUTE_NORMAL, .port_id = RP_UP2, .has_gw = true,
	  .weight = 50 },
	{ .router_id = R1, .type = TOPO_ROUTE_BLACKHOLE, .weight = 100 },
	{ .router_id = R1, .type = TOPO_ROUTE_REJECT, .weight = 100 },
	{ .router_id = R1, .type = TOPO_ROUTE_NORMAL, .port_id = RP_UP, .weight = 100 },
};
static struct topo_arp arps[] = {
	{ .router_id = R1, .mac = { 0x02, 0xee, 0, 0, 0, 1 } },
	{ .router_id = R1, .mac = { 0x02, 0xee, 0, 0, 0, 2 }, .learned = true, .port_id = RP_UP,
	  .host_id = PEER },
	{ .router_id = R1, .mac = { 0x02, 0xee, 0, 0, 0, 3 }, .learned = true, .port_id = RP_UP,
	  .host_id = ME },
};
static struct topo_binding bindings[] = {
	{ .host_id = ME, .interface = "vm1", .port_id = P_LOCAL },
	{ .host_id = PEER, .interface = "vmx", .port_id = P_REMOTE },
	{ .host_id = ME, .interface = "absent0", .port_id = P_GONE_IF },
	{ .host_id = LONER, .interface = "vmy", .port_id = P_LONER },
	{ .host_id = ME, .interface = "vm2", .port_id = P_OTHER_BR },
	{ .host_id = PEER, .interface = "up0", .port_id = RP_UP },
};
static struct topo_mac macs[] = {
	{ .bridge_id = BR1, .mac = { 0x02, 0, 0, 0, 0, 0x42 }, .port_id = P_REMOTE, .host_id = PEER },
	{ .bridge_id = BR1, .mac = { 0x02, 0, 0, 0, 0, 0x43 }, .port_id = P_LOCAL, .host_id = ME },
	{ .bridge_id = BR1, .mac = { 0x02, 0, 0, 0, 0, 0x44 }, .port_id = P_REMOTE, .host_id = PEER },
};

static void cidr(struct topo_cidr *c, const char *addr, uint8_t len)
{
	inet_pton(AF_INET, addr, &c->addr);
	c->len = len;
}

static struct topology topo(void)
{
	struct topology t = {
		.members = members, .n_members = 2,
		.bridges = bridges, .n_bridges = 2,
		.ports = ports, .n_ports = 10,
		.bindings = bindings, .n_bindings = 6,
		.macs = macs, .n_macs = 3,
		.routers = routers, .n_routers = 1,
		.routes = routes, .n_routes = 5,
		.arps = arps, .n_arps = 3,
	};
	struct topo_cidr any = { .len = 0 };

	cidr(&ports[7].nets[0], "10.0.0.1", 24);
	cidr(&ports[7].nets[1], "10.0.9.1", 24);
	cidr(&ports[8].nets[0], "198.51.100.1", 30);
	cidr(&ports[9].nets[0], "198.51.101.1", 30);
	routes[0].dst = any;
	routes[1].dst = any;
	inet_pton(AF_INET, "198.51.100.2", &routes[0].gw);
	inet_pton(AF_INET, "198.51.101.2", &routes[1].gw);
	cidr(&routes[2].dst, "203.0.113.0", 24);
	cidr(&routes[3].dst, "203.0.114.7", 24); /* host bits set: the key is masked */
	cidr(&routes[4].dst, "10.0.0.1", 32);   /* shadowed by the port's own address */
	inet_pton(AF_INET, "198.51.100.9", &arps[0].addr);
	inet_pton(AF_INET, "198.51.100.2", &arps[1].addr);
	inet_pton(AF_INET, "198.51.100.3", &arps[2].addr);
	inet_pton(AF_INET, "192.0.2.1", &members[0].addr);
	inet_pton(AF_INET, "192.0.2.2", &members[1].addr);
	inet_pton(AF_INET, "10.0.0.3", &ports[2].addr);
	return t;
}

static const void *lookup(const struct desired *d, enum mx_map_id m, const void *key)
{
	return desired_lookup(d, m, key);
}

/* The datapath here learned 02:..:44 itself: the VM moved to this host. */
static bool moved_here(enum mx_map_id map, const void *key, void *ctx)
{
	const struct mx_fdb_key *k = key;

	(void)ctx;
	return map == MX_MAP_ID_FDB && k->mac[5] == 0x44;
}

static void test_ports(const struct desired *d)
{
	__u32 k = 101;
	const struct mx_port *p = lookup(d, MX_MAP_ID_PORT, &k);

	tap_ok(p && p->flags == MX_PORT_LOCAL && p->ifindex == 7 && p->device_key == 100,
	       "a port bound here is local, on its interface, in its bridge");
	k = 102;
	p = lookup(d, MX_MAP_ID_PORT, &k);
	tap_ok(p && p->flags == MX_PORT_REMOTE && p->host_addr == members[1].addr.s_addr,
	       "a port bound on a zone peer is remote at the peer's tunnel address");
	k = 103;
	p = lookup(d, MX_MAP_ID_PORT, &k);
	tap_ok(p && p->flags == (MX_PORT_FIXED_MAC | MX_PORT_FIXED_IP) && p->mac[5] == 3,
	       "an unbound port keeps its fixed addresses and no place");
	k = 104;
	p = lookup(d, MX_MAP_ID_PORT, &k);
	tap_ok(p && !(p->flags & MX_PORT_LOCAL), "a binding to a missing interface is not local");
	k = 105;
	p = lookup(d, MX_MAP_ID_PORT, &k);
	tap_ok(p && !(p->flags & MX_PORT_REMOTE),
	       "a port on a host sharing no tunnel zone is unreachable");
}

/* Whether the entry of interface ifindex carries its port's entry, byte for byte. */
static bool ifport_carries_port(const struct desired *d, __u32 ifindex)
{
	const struct mx_ifport *ifp = lookup(d, MX_MAP_ID_IFPORT, &ifindex);
	const struct mx_port *p = ifp ? lookup(d, MX_MAP_ID_PORT, &ifp->port_key) : NULL;

	return p && !memcmp(&ifp->port, p, sizeof(*p));
}

static void test_ifport_and_flood(const struct desired *d)
{
	__u32 k = 7;
	const struct mx_ifport *ifp = lookup(d, MX_MAP_ID_IFPORT, &k);
	const struct mx_bridge *b;

	tap_ok(ifp && ifp->port_key == 101, "the bound interface maps to its port");
	tap_ok(d->maps[MX_MAP_ID_IFPORT].n == 2, "only existing local interfaces are mapped");
	tap_ok(ifport_carries_port(d, 7) && ifport_carries_port(d, 8),
	       "each interface's entry carries its port's entry");
	k = 100;
	b = lookup(d, MX_MAP_ID_BRIDGE, &k);
	tap_ok(b && b->n_local == 1 && b->local_ifindex[0] == 7 && b->n_remote == 1 &&
		       b->remote_addr[0] == members[1].addr.s_addr,
	       "flood set: the local port and one copy per remote host");
	k = 200;
	b = lookup(d, MX_MAP_ID_BRIDGE, &k);
	tap_ok(b && b->n_local == 1 && b->local_ifindex[0] == 8 && b->n_remote == 0,
	       "the other bridge floods only to its own port");
}

static void test_addresses(const struct desired *d)
{
	struct mx_fdb_key fk = { .bridge_key = 100, .mac = { 0x02, 0, 0, 0, 0, 3 } };
	struct mx_arp_key ak = { .bridge_key = 100, .addr = ports[2].addr.s_addr };
	const struct mx_fdb_entry *fe = lookup(d, MX_MAP_ID_FDB, &fk);
	const struct mx_arp_entry *ae = lookup(d, MX_MAP_ID_ARP, &ak);

	tap_ok(fe && fe->flags == MX_FDB_STATIC && fe->port_key == 103,
	       "a fixed MAC is a static MAC table entry");
	tap_ok(ae && ae->mac[5] == 3, "a fixed MAC and address answer ARP");
	fk.mac[5] = 0x42;
	fe = lookup(d, MX_MAP_ID_FDB, &fk);
	tap_ok(fe && fe->flags == MX_FDB_REMOTE && fe->port_key == 102,
	       "a MAC another host learned points at its port");
	fk.mac[5] = 0x43;
	tap_ok(!lookup(d, MX_MAP_ID_FDB, &fk), "this host's own published MACs are not re-added");
	fk.mac[5] = 0x44;
	tap_ok(!lookup(d, MX_MAP_ID_FDB, &fk), "a MAC learned here wins over the same one elsewhere");
	fk.bridge_key = 200;
	fk.mac[5] = 0x42;
	tap_ok(!lookup(d, MX_MAP_ID_FDB, &fk), "a learned MAC stays in its own bridge");
}

static void test_tunnel(const struct desired *d)
{
	tap_ok(d->member && d->config.tunnel_addr == members[0].addr.s_addr &&
		       d->config.vxlan_port == htons(4789) && d->config.underlay_ifindex == 3,
	       "config: own tunnel address, VXLAN port, underlay");
	tap_ok(d->maps[MX_MAP_ID_TUNPEER].n == 1 &&
		       *(__be32 *)d->maps[MX_MAP_ID_TUNPEER].keys == members[1].addr.s_addr,
	       "tunnel peers: the other zone member only");
}

static const struct mx_route *route(const struct desired *d, const char *dst, __u32 len)
{
	struct mx_route_key k = { .prefixlen = 32 + len, .router_key = 300 };

	inet_pton(AF_INET, dst, &k.dst);
	return lookup(d, MX_MAP_ID_ROUTE, &k);
}

static void test_router_ports(const struct desired *d)
{
	__u32 k = 301;
	const struct mx_port *p = lookup(d, MX_MAP_ID_PORT, &k);
	const struct mx_bridge *b;

	tap_ok(p && p->flags == (MX_PORT_ROUTER | MX_PORT_INTERIOR) && p->peer_key == 106 &&
		       p->device_key == 300 && p->prefix_len == 24 && p->mac[5] == 1 &&
		       p->addr == ports[7].nets[0].addr.s_addr,
	       "a linked router port: its MAC, primary address, subnet, peer");
	k = 106;
	p = lookup(d, MX_MAP_ID_PORT, &k);
	tap_ok(p && p->flags == MX_PORT_INTERIOR && p->peer_key == 301 && p->device_key == 100,
	       "the bridge side of the link is interior, peered back");
	k = 302;
	p = lookup(d, MX_MAP_ID_PORT, &k);
	tap_ok(p && p->flags == (MX_PORT_ROUTER | MX_PORT_REMOTE) &&
		       p->host_addr == members[1].addr.s_addr,
	       "an exterior router port bound on a peer is remote");
	k = 100;
	b = lookup(d, MX_MAP_ID_BRIDGE, &k);
	tap_ok(b && b->n_local == 1 && b->n_remote == 1, "an interior port is in no flood set");
}

static void test_router_stations(const struct desired *d)
{
	struct mx_fdb_key fk = { .bridge_key = 100, .mac = { 0x02, 0xaa, 0, 0, 0, 1 } };
	struct mx_arp_key ak = { .bridge_key = 100, .addr = ports[7].nets[1].addr.s_addr };
	const struct mx_fdb_entry *fe = lookup(d, MX_MAP_ID_FDB, &fk);
	const struct mx_arp_entry *ae = lookup(d, MX_MAP_ID_ARP, &ak);

	tap_ok(fe && fe->flags == MX_FDB_STATIC && fe->port_key == 106,
	       "the bridge switches the router's MAC to the linked port");
	tap_ok(ae && ae->mac[1] == 0xaa && ae->mac[5] == 1,
	       "the bridge answers ARP for every address of the router port");
}

static void test_routes(const struct desired *d)
{
	const struct mx_route *r = route(d, "0.0.0.0", 0);

	tap_ok(r && r->n == 2 && r->nh[0].type == MX_ROUTE_NORMAL && r->nh[0].port_key == 302 &&
		       r->nh[0].gw == routes[0].gw.s_addr && r->nh[0].weight == 100 &&
		       r->nh[1].port_key == 303 && r->nh[1].weight == 50,
	       "two default routes form one weighted set");
	r = route(d, "203.0.113.0", 24);
	tap_ok(r && r->n == 1 && r->nh[0].type == MX_ROUTE_BLACKHOLE, "a blackhole route");
	r = route(d, "203.0.114.0", 24);
	tap_ok(r && r->n == 1 && r->nh[0].type == MX_ROUTE_REJECT,
	       "a reject route, its key masked to the prefix");
	r = route(d, "10.0.9.1", 32);
	tap_ok(r && r->n == 1 && r->nh[0].type == MX_ROUTE_LOCAL && r->nh[0].port_key == 301,
	       "every address of a router port is a local /32");
	r = route(d, "10.0.0.1", 32);
	tap_ok(r && r->n == 1 && r->nh[0].type == MX_ROUTE_LOCAL,
	       "a route cannot take a router's own address away");
}

static void test_neighbours(const struct desired *d)
{
	struct mx_neigh_key k = { .router_key = 300, .addr = arps[0].addr.s_addr };
	const struct mx_neigh_entry *e = lookup(d, MX_MAP_ID_NEIGH, &k);

	tap_ok(e && e->flags == MX_NEIGH_STATIC && e->mac[5] == 1, "a static ARP entry");
	k.addr = arps[1].addr.s_addr;
	e = lookup(d, MX_MAP_ID_NEIGH, &k);
	tap_ok(e && e->flags == MX_NEIGH_REMOTE && e->port_key == 302,
	       "a neighbour another host learned");
	k.addr = arps[2].addr.s_addr;
	tap_ok(!lookup(d, MX_MAP_ID_NEIGH, &k), "this host's own learned neighbours are its own");
}

static void test_no_zone(void)
{
	struct topology t = topo();
	struct local_view v = { .host_id = LONER, .underlay_ifindex = 3, .vxlan_port = 4789,
				.ifindex_of = mock_ifindex };
	struct desired d;
	__u32 k = 102;
	const struct mx_port *p;

	tap_ok(!topo_index(&t) && !desired_compute(&t, &v, &d), "computes for a host in no zone");
	p = lookup(&d, MX_MAP_ID_PORT, &k);
	tap_ok(!d.member && d.config.tunnel_addr == 0 && d.maps[MX_MAP_ID_TUNPEER].n == 0 &&
		       p && !(p->flags & MX_PORT_REMOTE),
	       "a host in no tunnel zone has no address, no peers, no remote ports");
	desired_free(&d);
	topo_index_free(&t);
}

/* The topology of main, computed for this host with its changes; false if it failed. */
static bool compute(struct topology *t, struct desired *d)
{
	struct local_view v = { .host_id = ME, .underlay_ifindex = 3, .vxlan_port = 4789,
				.ifindex_of = mock_ifindex };

	*t = topo();
	return !topo_index(t) && !desired_compute(t, &v, d);
}

static void computed_free(struct topology *t, struct desired *d)
{
	desired_free(d);
	topo_index_free(t);
}

static __u32 port_flags(const struct desired *d, __u32 key)
{
	const struct mx_port *p = lookup(d, MX_MAP_ID_PORT, &key);

	return p ? p->flags : ~0u;
}

/* A port set down: flagged, and out of its bridge's flood set. */
static void test_port_down(void)
{
	struct topology t;
	struct desired d;
	const struct mx_bridge *b;
	__u32 k = 100;
	bool ok;

	ports[0].down = true;
	ok = compute(&t, &d);
	ports[0].down = false;
	if (!tap_ok(ok, "computes with a port set down"))
		return;
	tap_ok(port_flags(&d, 101) == (MX_PORT_LOCAL | MX_PORT_ADMIN_DOWN),
	       "a port set down: MX_PORT_ADMIN_DOWN, still local on its interface");
	b = lookup(&d, MX_MAP_ID_BRIDGE, &k);
	tap_ok(b && b->n_local == 0 && b->n_remote == 1,
	       "a port set down gets no flooded copy (the remote host still does)");
	k = 7;
	tap_ok(lookup(&d, MX_MAP_ID_IFPORT, &k) != NULL,
	       "a port set down keeps its interface (its frames are counted as admin-down)");
	tap_ok(port_flags(&d, 102) == MX_PORT_REMOTE, "the other ports stay up");
	computed_free(&t, &d);
}

/* A bridge and a router set down: every port of theirs MX_PORT_DEVICE_DOWN, the bridge's
 * flood set empty; the ports of other devices untouched. */
static void test_device_down(void)
{
	static const __u32 r1_ports[] = { 301, 302, 303 };
	struct topology t;
	struct desired d;
	const struct mx_bridge *b;
	__u32 k = 200;
	bool ok, all = true;

	bridges[1].down = true;
	routers[0].down = true;
	ok = compute(&t, &d);
	bridges[1].down = false;
	routers[0].down = false;
	if (!tap_ok(ok, "computes with a bridge and a router set down"))
		return;
	tap_ok(port_flags(&d, 201) == (MX_PORT_LOCAL | MX_PORT_DEVICE_DOWN),
	       "a port of a bridge set down: MX_PORT_DEVICE_DOWN, not MX_PORT_ADMIN_DOWN");
	b = lookup(&d, MX_MAP_ID_BRIDGE, &k);
	tap_ok(b && b->n_local == 0 && b->n_remote == 0,
	       "a bridge set down floods to nobody");
	for (size_t i = 0; i < sizeof(r1_ports) / sizeof(r1_ports[0]); i++)
		all &= (port_flags(&d, r1_ports[i]) & (MX_PORT_DEVICE_DOWN | MX_PORT_ADMIN_DOWN |
						       MX_PORT_ROUTER)) ==
		       (MX_PORT_DEVICE_DOWN | MX_PORT_ROUTER);
	tap_ok(all, "every port of a router set down: MX_PORT_DEVICE_DOWN");
	tap_ok(port_flags(&d, 106) == MX_PORT_INTERIOR && port_flags(&d, 101) == MX_PORT_LOCAL,
	       "the bridge linked to a down router stays up (the router drops what enters it)");
	k = 100;
	b = lookup(&d, MX_MAP_ID_BRIDGE, &k);
	tap_ok(b && b->n_local == 1 && b->n_remote == 1, "and floods as before");
	computed_free(&t, &d);
}

/* The default route's hops (two, weighted) with `down` set on the ports listed. */
static const struct mx_route *route_with_down(struct topology *t, struct desired *d,
					      struct topo_port *const *down, size_t n)
{
	bool ok;

	for (size_t i = 0; i < n; i++)
		down[i]->down = true;
	ok = compute(t, d);
	for (size_t i = 0; i < n; i++)
		down[i]->down = false;
	return ok ? route(d, "0.0.0.0", 0) : NULL;
}

/* A hop out of a down port leaves its ECMP set; a set whose every hop is down stays whole
 * (the datapath drops admin-down rather than a shorter prefix taking the traffic). */
static void test_route_down(void)
{
	struct topo_port *up2[] = { &ports[9] }, *both[] = { &ports[8], &ports[9] };
	struct topo_port *peer[] = { &ports[6] };
	const struct mx_route *r;
	struct topology t;
	struct desired d;

	r = route_with_down(&t, &d, up2, 1);
	tap_ok(r && r->n == 1 && r->nh[0].port_key == 302 && r->nh[0].weight == 100,
	       "a hop out of a down router port leaves its ECMP set");
	computed_free(&t, &d);
	r = route_with_down(&t, &d, both, 2);
	tap_ok(r && r->n == 2 && r->nh[0].port_key == 302 && r->nh[1].port_key == 303,
	       "a set whose every hop is down keeps them all");
	computed_free(&t, &d);
	/* out of an interior port whose peer (a bridge port) is down */
	memcpy(routes[1].port_id, RP_LINK, sizeof(RP_LINK));
	r = route_with_down(&t, &d, peer, 1);
	memcpy(routes[1].port_id, RP_UP2, sizeof(RP_UP2));
	tap_ok(r && r->n == 1 && r->nh[0].port_key == 302,
	       "a hop out of an interior port whose peer is down leaves its set");
	computed_free(&t, &d);
}

static const struct mx_allowed *allowed(const struct desired *d, __u32 port, const char *addr)
{
	struct mx_allowed_key k = { .port_key = port };

	inet_pton(AF_INET, addr, &k.addr);
	return lookup(d, MX_MAP_ID_ALLOWED, &k);
}

/* Port security off: the fixed MAC and address stay in the entry (bpftool shows them), and
 * the fixed MAC stays a static MAC table entry. */
static void check_unlocked_kept(const struct desired *d)
{
	struct mx_fdb_key fk = { .bridge_key = 100, .mac = { 0x02, 0, 0, 0, 0, 3 } };
	__u32 k = 103;
	const struct mx_port *p = lookup(d, MX_MAP_ID_PORT, &k);
	const struct mx_fdb_entry *fe = lookup(d, MX_MAP_ID_FDB, &fk);

	tap_ok(p && p->mac[5] == 3 && p->addr == ports[2].addr.s_addr && fe &&
		       fe->flags == MX_FDB_STATIC,
	       "port security off: MAC and address kept, the MAC still static");
}

/* Allowed address pairs: entries for a locked port only; port security off unlocks. */
static void test_port_security(void)
{
	struct topology t;
	struct desired d;
	const struct mx_allowed *a;
	bool ok;

	inet_pton(AF_INET, "10.0.0.50", &ports[2].allowed[0].addr);
	inet_pton(AF_INET, "10.0.0.51", &ports[2].allowed[1].addr);
	ports[2].allowed[0].has_mac = true;
	memcpy(ports[2].allowed[0].mac, (uint8_t[]){ 0x02, 0, 0, 0, 0, 0x50 }, 6);
	ports[2].n_allowed = 2;
	ports[0].allowed[0] = ports[2].allowed[1];
	ports[0].n_allowed = 1;
	ok = compute(&t, &d);
	if (tap_ok(ok, "computes with allowed address pairs")) {
		a = allowed(&d, 103, "10.0.0.50");
		tap_ok(a && a->flags == MX_ALLOWED_MAC && a->mac[5] == 0x50,
		       "an allowed address with a MAC: MX_ALLOWED_MAC and the MAC");
		a = allowed(&d, 103, "10.0.0.51");
		tap_ok(a && a->flags == 0, "an allowed address without one: no flag (the port's MAC)");
		tap_ok(d.maps[MX_MAP_ID_ALLOWED].n == 2,
		       "no entry for a port with no fixed address (it is not checked at all)");
		computed_free(&t, &d);
	}
	ports[2].no_port_security = true;
	ok = compute(&t, &d);
	ports[2].no_port_security = false;
	ports[2].n_allowed = 0;
	ports[0].n_allowed = 0;
	if (!tap_ok(ok, "computes with port security off"))
		return;
	tap_ok(port_flags(&d, 103) == 0, "port security off: no MX_PORT_FIXED_MAC nor _IP");
	check_unlocked_kept(&d);
	tap_ok(d.maps[MX_MAP_ID_ALLOWED].n == 0, "port security off: no allowed address entries");
	computed_free(&t, &d);
}

/* An egress limit on a port bound here: its midox_rate entry (the burst as time at the
 * rate) and MX_PORT_RATE_LIMIT; on a port bound elsewhere, nothing (its frames enter the
 * datapath on its own host). */
static void test_egress_limit(void)
{
	const struct mx_port_rate *r;
	struct topology t;
	struct desired d;
	__u32 local = 101, remote = 102;
	bool ok;

	ports[0].egress_rate = ports[1].egress_rate = 10000000;     /* 10 Mbit/s */
	ports[0].egress_burst = ports[1].egress_burst = 1000000000000; /* the largest burst */
	ok = compute(&t, &d);
	ports[0].egress_rate = ports[1].egress_rate = 0;
	ports[0].egress_burst = ports[1].egress_burst = 0;
	if (!tap_ok(ok, "computes with egress limits"))
		return;
	r = lookup(&d, MX_MAP_ID_RATE, &local);
	tap_ok(r && r->rate_bps == 10000000 && r->burst_ns == 100000000000000ull &&
		       (port_flags(&d, 101) & MX_PORT_RATE_LIMIT),
	       "a limited port bound here: its rate, 10^12 bits at 10 Mbit/s as 10^14 ns, the flag");
	tap_ok(!lookup(&d, MX_MAP_ID_RATE, &remote) && !(port_flags(&d, 102) & MX_PORT_RATE_LIMIT),
	       "a limited port bound on another host: no entry, no flag");
	tap_ok(d.maps[MX_MAP_ID_RATE].n == 1, "no entry for a port without a limit");
	computed_free(&t, &d);
}

/* The uplink bound here with its speaker's veth made or not (bgp_mock_veth). */
static bool bgp_mock_veth;

static int mock_ifindex_bgp(const char *ifname, void *ctx)
{
	if (!strcmp(ifname, "up0"))
		return 9;
	if (!strcmp(ifname, "mxb00012e")) /* the veth of port key 302 */
		return bgp_mock_veth ? 10 : 0;
	return mock_ifindex(ifname, ctx);
}

static struct topo_bgp_peer bgp_peers[2] = {
	{ .id = "cccccccc-0000-4000-8000-000000000001", .router_id = R1, .asn = 3,
	  .keep_alive = 60, .hold_time = 180, .connect_retry = 120 },
	{ .id = "cccccccc-0000-4000-8000-000000000002", .router_id = R1, .asn = 3,
	  .keep_alive = 60, .hold_time = 180, .connect_retry = 120 }, /* off the subnet */
};

/* main's topology with the uplink (port key 302) bound here, its router's AS number asn,
 * and the peers above. */
static bool compute_bgp(struct topology *t, struct desired *d, uint32_t asn)
{
	struct local_view v = { .host_id = ME, .underlay_ifindex = 3, .vxlan_port = 4789,
				.ifindex_of = mock_ifindex_bgp };
	bool ok;

	*t = topo();
	inet_pton(AF_INET, "198.51.100.2", &bgp_peers[0].addr);
	inet_pton(AF_INET, "203.0.113.2", &bgp_peers[1].addr);
	t->bgp_peers = bgp_peers;
	t->n_bgp_peers = 2;
	strcpy(bindings[5].host_id, ME);
	routers[0].asn = asn;
	ok = !topo_index(t) && !desired_compute(t, &v, d);
	strcpy(bindings[5].host_id, PEER);
	routers[0].asn = 0;
	return ok;
}

/* An exterior router port with a BGP speaker: both directions of each peer on its subnet,
 * MX_PORT_BGP on the port; nothing before the veth exists, nor without an AS number. */
static void test_bgp(void)
{
	struct mx_bgp_key in = { .ifindex = 9 }, out = { .ifindex = 10 };
	const struct mx_bgp *vi, *vo;
	struct topology t;
	struct desired d;

	bgp_mock_veth = true;
	if (tap_ok(compute_bgp(&t, &d, 100), "computes with a BGP speaker on the uplink bound here")) {
		in.peer = out.peer = bgp_peers[0].addr.s_addr;
		vi = lookup(&d, MX_MAP_ID_BGP, &in);
		vo = lookup(&d, MX_MAP_ID_BGP, &out);
		tap_ok(d.maps[MX_MAP_ID_BGP].n == 2 && vi && vo, "one peer on the subnet: two entries");
		tap_ok(vi && vi->to_ifindex == 10 && vi->flags == MX_BGP_TO_SPEAKER &&
			       vi->port_key == 302 && vi->local == ports[8].nets[0].addr.s_addr,
		       "from the peer on the uplink: to the speaker's veth, with the port's address");
		tap_ok(vo && vo->to_ifindex == 9 && vo->flags == MX_BGP_TO_WIRE,
		       "from the speaker to the peer: out of the uplink");
		tap_ok(port_flags(&d, 302) == (MX_PORT_ROUTER | MX_PORT_LOCAL | MX_PORT_BGP),
		       "the uplink is flagged MX_PORT_BGP");
		tap_ok(ifport_carries_port(&d, 9), "the uplink's interface entry carries the flag too");
		computed_free(&t, &d);
	}
	bgp_mock_veth = false;
	if (tap_ok(compute_bgp(&t, &d, 100), "computes before the speaker's veth exists")) {
		tap_ok(d.maps[MX_MAP_ID_BGP].n == 0 &&
			       port_flags(&d, 302) == (MX_PORT_ROUTER | MX_PORT_LOCAL),
		       "before the speaker's veth exists: no entries, no flag");
		computed_free(&t, &d);
	}
	bgp_mock_veth = true;
	if (tap_ok(compute_bgp(&t, &d, 0), "computes without an AS number")) {
		tap_ok(d.maps[MX_MAP_ID_BGP].n == 0, "a router without an AS number: no entries");
		computed_free(&t, &d);
	}
	bgp_mock_veth = false;
}


/* Rule chains resolved for the compiler: chain order, references as indexes and tunnel
 * keys, what dangles as MidoNet means it (a jump to a missing chain: DF_MISSING, continue;
 * a port gone: key 0), filters by owner and key; the filters in midox_filter by chain id,
 * and the ports flagged. */
#define CH_FW "cccccccc-0000-4000-8000-000000000001"
#define CH_SUB "cccccccc-0000-4000-8000-000000000002"
#define CH_GONE "cccccccc-0000-4000-8000-000000000009"
#define PG_WEB "dddddddd-0000-4000-8000-000000000001"
#define IPG_EXT "eeeeeeee-0000-4000-8000-000000000001"
#define P_NONE "aaaaaaaa-0000-4000-8000-0000000000ff"

/* What add_filters wrote for the router's infilter (fw) and P_LOCAL's outfilter (sub). */
static void test_filter_entries(const struct desired *d)
{
	__u32 ids[2], r1 = 300, p_local = 101, key, flags, want;
	const struct mx_filter *fr = lookup(d, MX_MAP_ID_FILTER, &r1);
	const struct mx_filter *fp = lookup(d, MX_MAP_ID_FILTER, &p_local);
	const struct kv_array *ports = &d->maps[MX_MAP_ID_PORT];
	bool flagged = ports->n > 0;

	tap_ok(!mx_chain_ids_assign(d->chains.chains[0].id, 2, sizeof(*d->chains.chains), ids) &&
		       fr && fr->in_chain == ids[0] && fr->out_chain == MX_CHAIN_NONE && fp &&
		       fp->in_chain == MX_CHAIN_NONE && fp->out_chain == ids[1],
	       "midox_filter: the router's infilter and the port's outfilter by the chains' ids");
	for (size_t i = 0; i < ports->n; i++) {
		const struct mx_port *p = (const void *)((const char *)ports->values +
							 i * ports->value_size);

		memcpy(&key, (const char *)ports->keys + i * ports->key_size, sizeof(key));
		flags = p->flags & (MX_PORT_FILTERED | MX_PORT_DEVICE_FILTERED);
		want = (key == p_local ? MX_PORT_FILTERED : 0) |
		       (p->device_key == r1 ? MX_PORT_DEVICE_FILTERED : 0);
		if (flags != want) {
			tap_diag("port key %u: filter flags %#x, want %#x", key, flags, want);
			flagged = false;
		}
	}
	tap_ok(flagged, "the filtered port, and every port of the filtered router, say so; no other");
	tap_ok(ifport_carries_port(d, 7), "the bound port's interface entry carries its flag");
}

static __u32 port_device(const struct desired *d, __u32 key)
{
	const struct mx_port *p = lookup(d, MX_MAP_ID_PORT, &key);

	return p ? p->device_key : 0;
}

/* Whether exactly the ports of devices a and b (0: none) carry MX_PORT_DEVICE_CT. */
static bool ports_with_ct(const struct desired *d, __u32 a, __u32 b)
{
	const struct kv_array *ports = &d->maps[MX_MAP_ID_PORT];
	bool ok = true;

	for (size_t i = 0; i < ports->n; i++) {
		const struct mx_port *p = (const void *)((const char *)ports->values +
							 i * ports->value_size);
		bool want = p->device_key && (p->device_key == a || p->device_key == b);

		if (!!(p->flags & MX_PORT_DEVICE_CT) != want) {
			tap_diag("port of device %u: device-ct %d, want %d", p->device_key,
				 !!(p->flags & MX_PORT_DEVICE_CT), want);
			ok = false;
		}
	}
	return ok;
}

static void test_chains(void)
{
	struct topo_chain chains[] = { { .id = CH_FW, .name = "fw" }, { .id = CH_SUB, .name = "sub" } };
	struct topo_rule rules[3] = { 0 };
	struct topo_port_group pgs[] = { { .id = PG_WEB, .name = "web", .stateful = true } };
	struct topo_pg_member pgm[] = { { .group_id = PG_WEB, .port_id = P_LOCAL } };
	struct topo_ip_group ipgs[] = { { .id = IPG_EXT, .name = "ext" } };
	struct topo_ip_group_addr ipa[] = { { .group_id = IPG_EXT } };
	struct topology t;
	struct desired d;
	struct local_view v = { .host_id = ME, .underlay_ifindex = 3, .vxlan_port = 4789,
				.ifindex_of = mock_ifindex };
	const struct df_filter *f;
	size_t maps_before = 0, maps_after = 0;

	t = topo();
	if (!tap_ok(!topo_index(&t) && !desired_compute(&t, &v, &d), "computes without chains"))
		return;
	for (int m = 0; m < MX_MAP_ID__MAX; m++)
		maps_before += d.maps[m].n;
	tap_ok(d.chains.n_chains == 0 && d.chains.n_filters == 0, "no chains, no filters");
	computed_free(&t, &d);

	inet_pton(AF_INET, "192.0.2.77", &ipa[0].addr);
	/* fw: 1 jump to sub, 2 drop from in-ports (one there, one gone) in port group web and
	 * from ip group ext; sub: 1 jump to a chain that is not there. */
	strcpy(rules[0].chain_id, CH_FW);
	rules[0].pos = 1;
	rules[0].type = TOPO_RULE_JUMP;
	strcpy(rules[0].jump_id, CH_SUB);
	strcpy(rules[1].chain_id, CH_FW);
	rules[1].pos = 2;
	rules[1].type = TOPO_RULE_DROP;
	rules[1].cond.has = 1u << TOPO_COND_IN_PORTS | 1u << TOPO_COND_PORT_GROUP |
			    1u << TOPO_COND_IPG_SRC;
	rules[1].cond.inv = 1u << TOPO_COND_IPG_SRC;
	strcpy(rules[1].cond.in_ports[0], P_LOCAL);
	strcpy(rules[1].cond.in_ports[1], P_NONE);
	rules[1].cond.n_in_ports = 2;
	strcpy(rules[1].cond.port_group, PG_WEB);
	strcpy(rules[1].cond.ipg_src, IPG_EXT);
	strcpy(rules[2].chain_id, CH_SUB);
	rules[2].pos = 1;
	rules[2].type = TOPO_RULE_JUMP;
	strcpy(rules[2].jump_id, CH_GONE);
	t = topo();
	t.chains = chains;
	t.n_chains = 2;
	t.rules = rules;
	t.n_rules = 3;
	t.port_groups = pgs;
	t.n_port_groups = 1;
	t.pg_members = pgm;
	t.n_pg_members = 1;
	t.ip_groups = ipgs;
	t.n_ip_groups = 1;
	t.ip_group_addrs = ipa;
	t.n_ip_group_addrs = 1;
	strcpy(routers[0].filters.in, CH_FW);
	strcpy(ports[0].filters.out, CH_SUB);
	if (!tap_ok(!topo_index(&t) && !desired_compute(&t, &v, &d), "computes with chains"))
		goto out;
	for (int m = 0; m < MX_MAP_ID__MAX; m++)
		maps_after += d.maps[m].n;
	tap_ok(maps_after == maps_before + 2 && d.maps[MX_MAP_ID_FILTER].n == 2,
	       "chains add one midox_filter entry per filtered port or device (%zu, %zu)",
	       maps_before, maps_after);
	test_filter_entries(&d);
	tap_ok(d.chains.n_chains == 2 && d.chains.chains[0].first == 0 &&
	       d.chains.chains[0].n == 2 && d.chains.chains[1].first == 2 &&
	       d.chains.chains[1].n == 1, "chains hold their rules in order");
	tap_ok(d.chains.rules[0].jump == 1 && d.chains.rules[2].jump == DF_MISSING &&
	       d.chains.rules[1].jump == DF_NONE,
	       "a jump resolves to its chain; to a missing one: DF_MISSING (continue)");
	tap_ok(d.chains.rules[1].in_ports[0] == 101 && d.chains.rules[1].in_ports[1] == 0,
	       "in-ports as tunnel keys; a port not there is 0 (matches nothing)");
	tap_ok(d.chains.rules[1].port_group == 0 && d.chains.rules[1].ipg_src == 0 &&
	       d.chains.rules[1].in_port_group == DF_NONE &&
	       d.chains.rules[1].r.cond.inv == 1u << TOPO_COND_IPG_SRC,
	       "groups as indexes, the inversion kept");
	tap_ok(d.chains.n_port_groups == 1 && d.chains.port_groups[0].stateful &&
	       d.chains.port_groups[0].n == 1 && d.chains.port_groups[0].ports[0] == 101,
	       "a port group's members as tunnel keys");
	tap_ok(d.chains.n_ip_groups == 1 && d.chains.ip_groups[0].n == 1 &&
	       d.chains.ip_groups[0].addrs[0] == ipa[0].addr.s_addr, "an IP group's addresses");
	f = filters_of(&d.chains, DF_ROUTER, 300);
	tap_ok(f && f->in == 0 && f->out == DF_NONE, "the router's infilter by its key");
	f = filters_of(&d.chains, DF_PORT, 101);
	tap_ok(f && f->in == DF_NONE && f->out == 1, "a port's outfilter by its key");
	tap_ok(!filters_of(&d.chains, DF_BRIDGE, 100) && !filters_of(&d.chains, DF_PORT, 300),
	       "no filter where none is set, nor under another owner");
	tap_ok(ports_with_ct(&d, 0, 0), "no flow condition: no device tracks connections");
	computed_free(&t, &d);
	/* A flow condition in sub, which the router's fw jumps to and the port's outfilter is:
	 * the router tracks, and so does the port's device. */
	rules[2].cond.flow = TOPO_FLOW_RETURN;
	if (tap_ok(!topo_index(&t) && !desired_compute(&t, &v, &d), "computes with a flow rule")) {
		tap_ok(ports_with_ct(&d, 300, port_device(&d, 101)),
		       "a flow condition (through a jump, or in a port's chain): every port of the "
		       "router and of the port's device says MX_PORT_DEVICE_CT; no other");
		computed_free(&t, &d);
	}
	rules[2].cond.flow = TOPO_FLOW_ANY;
	/* Dynamic NAT in sub needs tracking there as a flow condition does; static NAT (one
	 * address, no ports: a floating IP) does not. */
	rules[2].type = TOPO_RULE_SNAT;
	rules[2].has_target = true;
	inet_pton(AF_INET, "203.0.113.10", &rules[2].target.from);
	rules[2].target.to = rules[2].target.from;
	rules[2].target.port_from = 1024;
	rules[2].target.port_to = 2047;
	if (tap_ok(!topo_index(&t) && !desired_compute(&t, &v, &d), "computes with a SNAT rule")) {
		tap_ok(ports_with_ct(&d, 300, port_device(&d, 101)),
		       "a dynamic SNAT (ports): the devices whose chains reach it track connections");
		computed_free(&t, &d);
	}
	rules[2].target.port_from = rules[2].target.port_to = 0;
	if (tap_ok(!topo_index(&t) && !desired_compute(&t, &v, &d), "computes with a static SNAT")) {
		tap_ok(ports_with_ct(&d, 0, 0), "a static SNAT (one address, no ports): no tracking");
		computed_free(&t, &d);
	}
	rules[2].type = TOPO_RULE_REV_DNAT;
	rules[2].has_target = false;
	if (tap_ok(!topo_index(&t) && !desired_compute(&t, &v, &d), "computes with a rev_dnat")) {
		tap_ok(ports_with_ct(&d, 300, port_device(&d, 101)), "a rev_dnat: tracking");
		computed_free(&t, &d);
	}
	rules[2].type = TOPO_RULE_JUMP;
	memset(&rules[2].target, 0, sizeof(rules[2].target));
out:
	routers[0].filters.in[0] = '\0';
	ports[0].filters.out[0] = '\0';
}

int main(void)
{
	struct topology t = topo();
	struct local_view v = { .host_id = ME, .underlay_ifindex = 3, .vxlan_port = 4789,
				.ifindex_of = mock_ifindex, .learned_here = moved_here };
	struct desired d;

	if (!tap_ok(!topo_index(&t) && !desired_compute(&t, &v, &d), "computes the desired maps"))
		return tap_done();
	test_ports(&d);
	test_ifport_and_flood(&d);
	test_addresses(&d);
	test_tunnel(&d);
	test_router_ports(&d);
	test_router_stations(&d);
	test_routes(&d);
	test_neighbours(&d);
	desired_free(&d);
	topo_index_free(&t);
	test_no_zone();
	test_port_down();
	test_device_down();
	test_route_down();
	test_port_security();
	test_egress_limit();
	test_bgp();
	test_chains();
	return tap_done();
}
