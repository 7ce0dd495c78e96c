// SPDX-License-Identifier: Apache-2.0
/* The agent's computation of what the maps must hold, from topology snapshots built by
 * hand. The one kernel helper it asks (interface index by name) is mocked. */
#include <arpa/inet.h>
#include <string.h>

#include "../../agent/desired.h"
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

static int mock_ifindex(const char *ifname)
{
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
};
static struct topo_binding bindings[] = {
	{ .host_id = ME, .interface = "vm1", .port_id = P_LOCAL },
	{ .host_id = PEER, .interface = "vmx", .port_id = P_REMOTE },
	{ .host_id = ME, .interface = "absent0", .port_id = P_GONE_IF },
	{ .host_id = LONER, .interface = "vmy", .port_id = P_LONER },
	{ .host_id = ME, .interface = "vm2", .port_id = P_OTHER_BR },
};
static struct topo_mac macs[] = {
	{ .bridge_id = BR1, .mac = { 0x02, 0, 0, 0, 0, 0x42 }, .port_id = P_REMOTE, .host_id = PEER },
	{ .bridge_id = BR1, .mac = { 0x02, 0, 0, 0, 0, 0x43 }, .port_id = P_LOCAL, .host_id = ME },
	{ .bridge_id = BR1, .mac = { 0x02, 0, 0, 0, 0, 0x44 }, .port_id = P_REMOTE, .host_id = PEER },
};

static struct topology topo(void)
{
	struct topology t = {
		.members = members, .n_members = 2,
		.bridges = bridges, .n_bridges = 2,
		.ports = ports, .n_ports = 6,
		.bindings = bindings, .n_bindings = 5,
		.macs = macs, .n_macs = 3,
	};
	inet_pton(AF_INET, "192.0.2.1", &members[0].addr);
	inet_pton(AF_INET, "192.0.2.2", &members[1].addr);
	inet_pton(AF_INET, "10.0.0.3", &ports[2].addr);
	return t;
}

static const void *lookup(const struct desired *d, enum mx_map_id m, const void *key)
{
	const struct kv_array *a = &d->maps[m];

	for (size_t i = 0; i < a->n; i++)
		if (!memcmp((const char *)a->keys + i * a->key_size, key, a->key_size))
			return (const char *)a->values + i * a->value_size;
	return NULL;
}

/* The datapath here learned 02:..:44 itself: the VM moved to this host. */
static bool moved_here(const struct mx_fdb_key *key, void *ctx)
{
	(void)ctx;
	return key->mac[5] == 0x44;
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

static void test_ifport_and_flood(const struct desired *d)
{
	__u32 k = 7;
	const struct mx_ifport *ifp = lookup(d, MX_MAP_ID_IFPORT, &k);
	const struct mx_bridge *b;

	tap_ok(ifp && ifp->port_key == 101, "the bound interface maps to its port");
	tap_ok(d->maps[MX_MAP_ID_IFPORT].n == 2, "only existing local interfaces are mapped");
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

static void test_no_zone(void)
{
	struct topology t = topo();
	struct local_view v = { .host_id = LONER, .underlay_ifindex = 3, .vxlan_port = 4789,
				.ifindex_of = mock_ifindex };
	struct desired d;
	__u32 k = 102;
	const struct mx_port *p;

	tap_ok(!desired_compute(&t, &v, &d), "computes for a host in no zone");
	p = lookup(&d, MX_MAP_ID_PORT, &k);
	tap_ok(!d.member && d.config.tunnel_addr == 0 && d.maps[MX_MAP_ID_TUNPEER].n == 0 &&
		       p && !(p->flags & MX_PORT_REMOTE),
	       "a host in no tunnel zone has no address, no peers, no remote ports");
	desired_free(&d);
}

int main(void)
{
	struct topology t = topo();
	struct local_view v = { .host_id = ME, .underlay_ifindex = 3, .vxlan_port = 4789,
				.ifindex_of = mock_ifindex, .learned_here = moved_here };
	struct desired d;

	if (!tap_ok(!desired_compute(&t, &v, &d), "computes the desired maps"))
		return tap_done();
	test_ports(&d);
	test_ifport_and_flood(&d);
	test_addresses(&d);
	test_tunnel(&d);
	desired_free(&d);
	test_no_zone();
	return tap_done();
}
