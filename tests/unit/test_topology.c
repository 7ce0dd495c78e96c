// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the topology object model: parsing, validation, the JSON codec, finding
 * objects and their aliases. No ZooKeeper. TAP output. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "topology.h"

static int n_test, n_failed;

static void ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		n_failed++;
}

#define UUID1 "0b3c4d5e-0000-4000-8000-000000000001"
#define UUID2 "0b3c4d5e-0000-4000-8000-000000000002"
#define UUID3 "0b3c4d5e-0000-4000-8000-000000000003"

enum kind { HOST, ZONE, MEMBER, BRIDGE, PORT, BINDING, COUNTER };

struct decode_case {
	enum kind kind;
	const char *json;
	bool valid;
	const char *why; /* a word the error message must contain */
};

static const struct decode_case decode_cases[] = {
	{ HOST, "{\"schema\":1,\"name\":\"h1\"}", true, NULL },
	{ HOST, "{\"schema\":1,\"name\":\"h1\",\"future\":[1,2]}", true, NULL },
	{ HOST, "", false, "empty" },
	{ HOST, "{\"schema\":1,\"name\":\"h1\"", false, "JSON" },
	{ HOST, "[1,2]", false, "object" },
	{ HOST, "{\"name\":\"h1\"}", false, "schema" },
	{ HOST, "{\"schema\":\"1\",\"name\":\"h1\"}", false, "schema" },
	{ HOST, "{\"schema\":2,\"name\":\"h1\"}", false, "schema" },
	{ HOST, "{\"schema\":1}", false, "name" },
	{ HOST, "{\"schema\":1,\"name\":7}", false, "name" },
	{ HOST, "{\"schema\":1,\"name\":\"has space\"}", false, "name" },
	{ HOST, "{\"schema\":1,\"name\":\"h1\",\"name\":\"h2\"}", false, "JSON" },
	{ HOST, "{\"schema\":1,\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  false, "long" },
	{ HOST, "{\"schema\":1,\"name\":\"a\\u0000b\"}", false, "NUL" },
	{ ZONE, "{\"schema\":1,\"name\":\"z\",\"type\":\"vxlan\"}", true, NULL },
	{ ZONE, "{\"schema\":1,\"name\":\"z\",\"type\":\"gre\"}", false, "vxlan" },
	{ ZONE, "{\"schema\":1,\"name\":\"z\"}", false, "type" },
	{ MEMBER, "{\"schema\":1,\"address\":\"10.0.0.1\"}", true, NULL },
	{ MEMBER, "{\"schema\":1,\"address\":\"10.0.0\"}", false, "address" },
	{ MEMBER, "{\"schema\":1,\"address\":\"224.0.0.1\"}", false, "address" },
	{ MEMBER, "{\"schema\":1,\"address\":\"0.0.0.0\"}", false, "address" },
	{ MEMBER, "{\"schema\":1,\"address\":10}", false, "address" },
	{ MEMBER, "{\"schema\":1}", false, "address" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":5}", true, NULL },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":0}", false, "range" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":16777215}", false, "range" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":99999999999999999999}", false,
	  "JSON" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":-1}", false, "range" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":1.5}", false, "integer" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":\"5\"}", false, "integer" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\"}", false, "tunnel_key" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9}",
	  true, NULL },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"mac\":\"02:00:00:00:00:01\",\"address\":\"10.1.1.1\"}", true, NULL },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"router\",\"tunnel_key\":9}",
	  false, "bridge" },
	{ PORT, "{\"schema\":1,\"device\":\"nope\",\"device_type\":\"bridge\",\"tunnel_key\":9}",
	  false, "UUID" },
	{ PORT, "{\"schema\":1,\"device_type\":\"bridge\",\"tunnel_key\":9}", false, "device" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"mac\":\"01:00:00:00:00:01\"}", false, "mac" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"mac\":\"02:00:00:00:00\"}", false, "mac" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"address\":\"300.1.1.1\"}", false, "address" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"mac\":null}", false, "mac" },
	{ BINDING, "{\"schema\":1,\"port\":\"" UUID2 "\"}", true, NULL },
	{ BINDING, "{\"schema\":1,\"port\":\"" UUID2 "x\"}", false, "port" },
	{ BINDING, "{\"schema\":1}", false, "port" },
	{ COUNTER, "{\"schema\":1,\"next\":1}", true, NULL },
	{ COUNTER, "{\"schema\":1,\"next\":16777215}", true, NULL },
	{ COUNTER, "{\"schema\":1,\"next\":16777216}", false, "range" },
	{ COUNTER, "{\"schema\":1,\"next\":0}", false, "range" },
};

static const char *const kind_names[] = { "host", "zone", "member", "bridge", "port",
					  "binding", "key counter" };

static int decode(enum kind k, const char *json)
{
	struct topo_host h = { 0 };
	struct topo_zone z = { 0 };
	struct topo_member m = { 0 };
	struct topo_bridge b = { 0 };
	struct topo_port p = { 0 };
	struct topo_binding bd = { 0 };
	size_t len = strlen(json);
	uint32_t next;

	switch (k) {
	case HOST:
		return topo_decode_host(json, len, &h);
	case ZONE:
		return topo_decode_zone(json, len, &z);
	case MEMBER:
		return topo_decode_member(json, len, &m);
	case BRIDGE:
		return topo_decode_bridge(json, len, &b);
	case PORT:
		return topo_decode_port(json, len, &p);
	case BINDING:
		return topo_decode_binding(json, len, &bd);
	default:
		return topo_decode_key_counter(json, len, &next);
	}
}

static void test_decode(void)
{
	size_t i;

	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *c = &decode_cases[i];
		int rc = decode(c->kind, c->json);

		if (c->valid)
			ok(rc == 0, "%s %s decodes (%s)", kind_names[c->kind], c->json,
			   rc ? topo_errmsg() : "ok");
		else
			ok(rc < 0 && strstr(topo_errmsg(), c->why), "%s %s rejected: %s",
			   kind_names[c->kind], c->json, topo_errmsg());
	}
}

static void test_roundtrip(void)
{
	struct topo_port p = { .tunnel_key = 77, .has_mac = true,
			       .mac = { 2, 0, 0, 0xab, 0xcd, 0xef }, .has_addr = true };
	struct topo_port q = { 0 };
	struct topo_bridge b = { .name = "blue", .tunnel_key = TOPO_KEY_MAX }, b2 = { 0 };
	struct topo_member m = { 0 }, m2 = { 0 };
	char *s;

	strcpy(p.device_id, UUID1);
	inet_pton(AF_INET, "192.168.7.9", &p.addr);
	s = topo_encode_port(&p);
	ok(s && !topo_decode_port(s, strlen(s), &q) && q.tunnel_key == 77 && q.has_mac &&
		   !memcmp(q.mac, p.mac, 6) && q.has_addr && q.addr.s_addr == p.addr.s_addr &&
		   !strcmp(q.device_id, UUID1) && strstr(s, "\"schema\":1"),
	   "port encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	s = topo_encode_bridge(&b);
	ok(s && !topo_decode_bridge(s, strlen(s), &b2) && b2.tunnel_key == TOPO_KEY_MAX &&
		   !strcmp(b2.name, "blue"),
	   "bridge encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	inet_pton(AF_INET, "10.9.8.7", &m.addr);
	s = topo_encode_member(&m);
	ok(s && !topo_decode_member(s, strlen(s), &m2) && m2.addr.s_addr == m.addr.s_addr,
	   "member encodes and decodes back: %s", s ? s : "(null)");
	free(s);
}

static void test_mac_node(void)
{
	struct topo_mac m = { 0 };
	const char *data = "{\"schema\":1,\"host\":\"" UUID3 "\"}";

	ok(!topo_decode_mac("02:00:00:00:00:0a," UUID2, data, strlen(data), &m) &&
		   m.mac[5] == 0x0a && !strcmp(m.port_id, UUID2) && !strcmp(m.host_id, UUID3),
	   "learned MAC node name and data decode");
	ok(topo_decode_mac("02:00:00:00:00:0a;" UUID2, data, strlen(data), &m) < 0,
	   "learned MAC node with a bad separator rejected: %s", topo_errmsg());
	ok(topo_decode_mac("ff:ff:ff:ff:ff:ff," UUID2, data, strlen(data), &m) < 0,
	   "learned broadcast MAC rejected: %s", topo_errmsg());
}

static void test_parse(void)
{
	static const char *const good_macs[] = { "02:00:00:00:00:01", "AA:bb:CC:dd:EE:fe" };
	static const char *const bad_macs[] = { "", "02:00:00:00:00", "02:00:00:00:00:01:02",
						"02-00-00-00-00-01", "0g:00:00:00:00:01",
						"02:00:00:00:00:1", " 02:00:00:00:00:01" };
	static const char *const bad_addrs[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1",
						 "01.2.3.4", "1.2.3.4 ", "0x1.2.3.4", "::1" };
	static const char *const bad_names[] = { "", "-a", ".a", "a b", "a/b", "a:b", "ä",
						 UUID1 };
	static const char *const bad_ifnames[] = { "", ".", "..", "a/b", "a:b", "a b",
						   "0123456789abcdef" };
	uint8_t mac[6];
	struct in_addr a;
	char buf[18];
	size_t i;

	for (i = 0; i < sizeof(good_macs) / sizeof(*good_macs); i++)
		ok(!topo_parse_mac(good_macs[i], mac), "MAC '%s' parses", good_macs[i]);
	topo_parse_mac("AA:bb:CC:dd:EE:fe", mac);
	topo_format_mac(mac, buf);
	ok(!strcmp(buf, "aa:bb:cc:dd:ee:fe"), "MAC formats lower case: %s", buf);
	for (i = 0; i < sizeof(bad_macs) / sizeof(*bad_macs); i++)
		ok(topo_parse_mac(bad_macs[i], mac) < 0, "MAC '%s' rejected", bad_macs[i]);
	topo_parse_mac("01:00:5e:00:00:01", mac);
	ok(!topo_valid_unicast_mac(mac), "multicast MAC is not unicast");
	topo_parse_mac("00:00:00:00:00:00", mac);
	ok(!topo_valid_unicast_mac(mac), "zero MAC is not unicast");
	topo_parse_mac("02:00:00:00:00:00", mac);
	ok(topo_valid_unicast_mac(mac), "02:00:00:00:00:00 is unicast");

	ok(!topo_parse_ipv4("10.0.0.1", &a) && topo_valid_unicast_ipv4(a), "10.0.0.1 parses");
	for (i = 0; i < sizeof(bad_addrs) / sizeof(*bad_addrs); i++)
		ok(topo_parse_ipv4(bad_addrs[i], &a) < 0, "address '%s' rejected", bad_addrs[i]);
	topo_parse_ipv4("255.255.255.255", &a);
	ok(!topo_valid_unicast_ipv4(a), "broadcast address is not unicast");
	topo_parse_ipv4("239.1.1.1", &a);
	ok(!topo_valid_unicast_ipv4(a), "multicast address is not unicast");

	ok(topo_valid_name("blue-net_1.a"), "name blue-net_1.a is valid");
	for (i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++)
		ok(!topo_valid_name(bad_names[i]), "name '%s' rejected", bad_names[i]);
	ok(!topo_valid_name("a123456789012345678901234567890123456789012345678901234567890123"),
	   "64-character name rejected");
	ok(topo_valid_ifname("veth-vm1.10"), "interface veth-vm1.10 is valid");
	for (i = 0; i < sizeof(bad_ifnames) / sizeof(*bad_ifnames); i++)
		ok(!topo_valid_ifname(bad_ifnames[i]), "interface '%s' rejected", bad_ifnames[i]);
	ok(topo_valid_uuid(UUID1), "UUID valid");
	ok(!topo_valid_uuid("0B3C4D5E-0000-4000-8000-000000000001"), "upper-case UUID rejected");
	ok(!topo_valid_uuid("0b3c4d5e00000-4000-8000-000000000001"), "misplaced dash rejected");
}

static void test_uuid(void)
{
	char a[TOPO_ID_LEN], b[TOPO_ID_LEN];

	ok(!topo_new_uuid(a) && !topo_new_uuid(b) && topo_valid_uuid(a) && strcmp(a, b),
	   "new UUIDs are valid and differ");
}

static void test_find(void)
{
	struct topo_host hosts[2] = { { .id = UUID1, .name = "alpha" },
				      { .id = UUID2, .name = "bridge0" } };
	struct topo_bridge bridges[2] = { { .id = UUID2, .name = "blue" },
					  { .id = UUID3, .name = "host0" } };
	struct topo_port ports[3] = { { .id = "0b3c4d5e-0000-4000-8000-00000000000a" },
				      { .id = "0b3c4d5e-0000-4000-8000-00000000000b" },
				      { .id = "0b3c4d5e-0000-4000-8000-00000000000c" } };
	struct topology t = { .hosts = hosts, .n_hosts = 2, .bridges = bridges,
			      .n_bridges = 2, .ports = ports, .n_ports = 3 };
	char buf[64];

	strcpy(ports[0].device_id, UUID3);
	strcpy(ports[1].device_id, UUID2);
	strcpy(ports[2].device_id, UUID3);
	ok(topo_find_host(&t, "host1") == &hosts[1], "host1 is the second host");
	ok(topo_find_host(&t, "alpha") == &hosts[0], "host found by name");
	ok(topo_find_host(&t, UUID2) == &hosts[1], "host found by UUID");
	ok(topo_find_bridge(&t, "host0") == &bridges[1], "a name beats an alias of its type");
	ok(topo_find_host(&t, "host2") == NULL, "host2 does not exist");
	ok(topo_find_host(&t, "host01") == NULL, "host01 is not an alias");
	ok(topo_find_bridge(&t, "bridge1") == &bridges[1], "bridge1 by alias");
	ok(topo_find_port(&t, "bridge1:port1") == &ports[2], "bridge1:port1 counts its own ports");
	ok(topo_find_port(&t, "blue:port0") == &ports[1], "a port by bridge name and index");
	ok(topo_find_port(&t, "bridge0:port1") == NULL, "bridge0 has one port");
	ok(topo_find_port(&t, "port0") == NULL, "a port alias needs its bridge");
	ok(topo_find_device_port(&t, UUID3, "port1") == &ports[2], "port1 on a device");
	ok(!topo_alias(&t, ports[2].id, buf, sizeof(buf)) && !strcmp(buf, "bridge1:port1"),
	   "alias of a port: %s", buf);
	ok(!topo_alias(&t, UUID1, buf, sizeof(buf)) && !strcmp(buf, "host0"),
	   "alias of a host: %s", buf);
	ok(topo_alias(&t, "0b3c4d5e-0000-4000-8000-0000000000ff", buf, sizeof(buf)) < 0,
	   "no alias for an unknown id");
}

int main(void)
{
	mx_log_init("test_topology", MX_LOG_ERROR);
	test_decode();
	test_roundtrip();
	test_mac_node();
	test_parse();
	test_uuid();
	test_find();
	printf("1..%d\n", n_test);
	return n_failed ? 1 : 0;
}
