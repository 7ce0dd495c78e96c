// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the topology object model: parsing, validation, the JSON codec, finding
 * objects and their aliases. No ZooKeeper. TAP output. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "base/addr.h"
#include "base/index.h"
#include "base/log.h"
#include "topology/chains.h"
#include "topology/codec.h"
#include "topology/layout.h"
#include "topology/status.h"

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

enum kind { HOST, ZONE, MEMBER, BRIDGE, PORT, BINDING, COUNTER, ROUTER, ROUTE, IFACE, BSTATUS,
	     BGP_PEER, BGP_NET };

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
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"switch\",\"tunnel_key\":9}",
	  false, "bridge or router" },
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
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":5,\"state\":\"down\"}", true, NULL },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":5,\"state\":\"off\"}", false, "state" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":5,\"state\":false}", false, "state" },
	{ ROUTER, "{\"schema\":1,\"name\":\"r\",\"tunnel_key\":5,\"state\":\"Down\"}", false, "state" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"state\":\"sideways\"}", false, "not up or down" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"port_security\":\"off\"}", false, "port_security" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"allowed_addresses\":{}}", false, "allowed_addresses" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"allowed_addresses\":[\"10.0.0.5\"]}", false, "allowed_addresses" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"allowed_addresses\":[{\"mac\":\"02:00:00:00:00:05\"}]}", false, "address" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"allowed_addresses\":[{\"address\":\"10.0.0.5\",\"mac\":\"01:00:00:00:00:05\"}]}",
	  false, "mac" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"allowed_addresses\":[{},{},{},{},{},{},{},{},{}]}", false, "at most" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"egress_limit\":{\"rate\":1000,\"burst\":1}}", true, NULL },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"router\",\"tunnel_key\":9,"
		"\"mac\":\"02:00:00:00:00:01\",\"addresses\":[\"10.0.0.1/24\"],"
		"\"egress_limit\":{\"rate\":10000000000000,\"burst\":1000000000000}}", true, NULL },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"egress_limit\":{\"rate\":999,\"burst\":1}}", false, "rate 999 is out of range" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"egress_limit\":{\"rate\":10000000000001,\"burst\":1}}", false, "out of range" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"egress_limit\":{\"rate\":1000,\"burst\":0}}", false, "burst 0 is out of range" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"egress_limit\":{\"rate\":1000}}", false, "egress_limit" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"egress_limit\":[1000,1]}", false, "egress_limit" },
	{ PORT, "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"bridge\",\"tunnel_key\":9,"
		"\"egress_limit\":{\"rate\":\"1m\",\"burst\":1}}", false, "egress_limit" },
	{ BINDING, "{\"schema\":1,\"port\":\"" UUID2 "\"}", true, NULL },
	{ BINDING, "{\"schema\":1,\"port\":\"" UUID2 "x\"}", false, "port" },
	{ BINDING, "{\"schema\":1}", false, "port" },
	{ COUNTER, "{\"schema\":1,\"next\":1}", true, NULL },
	{ COUNTER, "{\"schema\":1,\"next\":16777215}", true, NULL },
	{ COUNTER, "{\"schema\":1,\"next\":16777216}", false, "range" },
	{ COUNTER, "{\"schema\":1,\"next\":0}", false, "range" },
	{ ROUTER, "{\"schema\":1,\"name\":\"r\",\"tunnel_key\":5}", true, NULL },
	{ ROUTER, "{\"schema\":1,\"name\":\"r\"}", false, "tunnel_key" },
	{ ROUTER, "{\"schema\":1,\"name\":\"r r\",\"tunnel_key\":5}", false, "name" },
	{ ROUTER, "{\"schema\":2,\"name\":\"r\",\"tunnel_key\":5}", false, "schema" },
	{ ROUTER, "{\"schema\":1,\"name\":\"r\",\"tunnel_key\":5,\"asn\":4294967295}", true, NULL },
	{ ROUTER, "{\"schema\":1,\"name\":\"r\",\"tunnel_key\":5,\"asn\":0}", false, "range" },
	{ ROUTER, "{\"schema\":1,\"name\":\"r\",\"tunnel_key\":5,\"asn\":4294967296}", false,
	  "range" },
	{ ROUTER, "{\"schema\":1,\"name\":\"r\",\"tunnel_key\":5,\"asn\":\"100\"}", false,
	  "integer" },
	{ BRIDGE, "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":5,\"asn\":\"x\"}", true, NULL },
#define PEER_ "{\"schema\":1,\"address\":\"198.51.100.2\","
#define TIMERS_ "\"keep_alive\":60,\"hold_time\":180,\"connect_retry\":120"
	{ BGP_PEER, PEER_ "\"asn\":3," TIMERS_ "}", true, NULL },
	{ BGP_PEER, PEER_ "\"asn\":3," TIMERS_ ",\"password\":\"k\"}", true, NULL },
	{ BGP_PEER, PEER_ TIMERS_ "}", false, "asn" },
	{ BGP_PEER, PEER_ "\"asn\":0," TIMERS_ "}", false, "range" },
	{ BGP_PEER, "{\"schema\":1,\"asn\":3," TIMERS_ "}", false, "address" },
	{ BGP_PEER, "{\"schema\":1,\"address\":\"224.0.0.5\",\"asn\":3," TIMERS_ "}", false,
	  "unicast" },
	{ BGP_PEER, PEER_ "\"asn\":3,\"keep_alive\":60,\"hold_time\":180}", false,
	  "connect_retry" },
	{ BGP_PEER, PEER_ "\"asn\":3,\"keep_alive\":60,\"hold_time\":2,\"connect_retry\":1}",
	  false, "range" },
	{ BGP_PEER, PEER_ "\"asn\":3,\"keep_alive\":90,\"hold_time\":30,\"connect_retry\":1}",
	  false, "longer" },
	{ BGP_PEER, PEER_ "\"asn\":3," TIMERS_ ",\"password\":\"\"}", false, "password" },
	{ BGP_PEER, PEER_ "\"asn\":3," TIMERS_ ",\"password\":\"a\\\"b\"}", false, "password" },
	{ BGP_PEER, PEER_ "\"asn\":3," TIMERS_ ",\"password\":7}", false, "password" },
	{ BGP_NET, "{\"schema\":1,\"net\":\"10.0.0.0/24\"}", true, NULL },
	{ BGP_NET, "{\"schema\":1,\"net\":\"0.0.0.0/0\"}", true, NULL },
	{ BGP_NET, "{\"schema\":1,\"net\":\"10.0.0.1/24\"}", false, "host bits" },
	{ BGP_NET, "{\"schema\":1,\"net\":\"10.0.0.0/33\"}", false, "prefix" },
	{ BGP_NET, "{\"schema\":1}", false, "net" },
#define RPORT "{\"schema\":1,\"device\":\"" UUID1 "\",\"device_type\":\"router\",\"tunnel_key\":9,"
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[\"10.0.0.1/24\"]}", true, NULL },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[\"10.0.0.1/24\",\"10.1.0.1/16\"],"
		"\"peer\":\"" UUID2 "\"}", true, NULL },
	{ PORT, RPORT "\"addresses\":[\"10.0.0.1/24\"]}", false, "mac" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\"}", false, "addresses" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[]}", false, "addresses" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":\"10.0.0.1/24\"}", false,
	  "addresses" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[\"10.0.0.1\"]}", false,
	  "prefix" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[\"10.0.0.1/33\"]}", false,
	  "prefix" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[\"10.0.0.1/0\"]}", false,
	  "1..32" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[\"224.0.0.1/24\"]}", false,
	  "unicast" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[\"1.1.1.1/8\",\"2.1.1.1/8\","
		"\"3.1.1.1/8\",\"4.1.1.1/8\",\"5.1.1.1/8\"]}", false, "1 to 4" },
	{ PORT, RPORT "\"mac\":\"02:6d:78:00:00:09\",\"addresses\":[\"10.0.0.1/24\"],"
		"\"peer\":\"x\"}", false, "peer" },
#define ROUTE_ "{\"schema\":1,\"src\":\"0.0.0.0/0\",\"dst\":\"10.0.0.0/8\","
	{ ROUTE, ROUTE_ "\"type\":\"normal\",\"port\":\"" UUID1 "\",\"weight\":100}", true, NULL },
	{ ROUTE, ROUTE_ "\"type\":\"normal\",\"port\":\"" UUID1 "\",\"gw\":\"10.0.0.1\","
		"\"weight\":1,\"port_route\":false}", true, NULL },
	{ ROUTE, ROUTE_ "\"type\":\"blackhole\",\"weight\":65535}", true, NULL },
	{ ROUTE, ROUTE_ "\"type\":\"reject\",\"weight\":7,\"port_route\":true}", true, NULL },
	{ ROUTE, ROUTE_ "\"type\":\"normal\",\"weight\":100}", false, "port" },
	{ ROUTE, ROUTE_ "\"type\":\"drop\",\"weight\":100}", false, "type" },
	{ ROUTE, ROUTE_ "\"type\":\"blackhole\",\"weight\":0}", false, "range" },
	{ ROUTE, ROUTE_ "\"type\":\"blackhole\",\"weight\":65536}", false, "range" },
	{ ROUTE, ROUTE_ "\"type\":\"blackhole\"}", false, "weight" },
	{ ROUTE, ROUTE_ "\"type\":\"blackhole\",\"gw\":\"10.0.0.1\",\"weight\":1}", false, "gw" },
	{ ROUTE, ROUTE_ "\"type\":\"blackhole\",\"weight\":1,\"port_route\":1}", false,
	  "port_route" },
	{ ROUTE, "{\"schema\":1,\"src\":\"0.0.0.0/0\",\"dst\":\"10.0.0.1/8\",\"type\":\"blackhole\","
		"\"weight\":1}", false, "host bits" },
	{ ROUTE, "{\"schema\":1,\"dst\":\"10.0.0.0/8\",\"type\":\"blackhole\",\"weight\":1}", false,
	  "src" },
	{ ROUTE, "{\"schema\":1,\"src\":\"0.0.0.0\",\"dst\":\"10.0.0.0/8\",\"type\":\"blackhole\","
		"\"weight\":1}", false, "prefix" },
#define IF_ "{\"schema\":1,\"up\":true,\"carrier\":true,\"mtu\":1500,"
	{ IFACE, IF_ "\"addresses\":[]}", true, NULL },
	{ IFACE, "{\"schema\":1,\"up\":false,\"carrier\":false,\"mtu\":0,\"addresses\":[]}", true,
	  NULL },
	{ IFACE, IF_ "\"mac\":\"02:00:00:00:00:01\",\"addresses\":[\"10.0.0.1/24\","
		"\"fe80::1/64\",\"0.0.0.0/0\"],\"future\":1}", true, NULL },
	{ IFACE, IF_ "\"mac\":\"01:00:5e:00:00:01\",\"addresses\":[]}", true, NULL },
	{ IFACE, IF_ "\"mac\":\"00:00:00:00:00:00\",\"addresses\":[]}", true, NULL },
	{ IFACE, "{\"schema\":2,\"up\":true,\"carrier\":true,\"mtu\":1500,\"addresses\":[]}", false,
	  "schema" },
	{ IFACE, "{\"up\":true,\"carrier\":true,\"mtu\":1500,\"addresses\":[]}", false, "schema" },
	{ IFACE, "{\"schema\":1,\"carrier\":true,\"mtu\":1500,\"addresses\":[]}", false, "up" },
	{ IFACE, "{\"schema\":1,\"up\":1,\"carrier\":true,\"mtu\":1500,\"addresses\":[]}", false,
	  "boolean" },
	{ IFACE, "{\"schema\":1,\"up\":true,\"mtu\":1500,\"addresses\":[]}", false, "carrier" },
	{ IFACE, "{\"schema\":1,\"up\":true,\"carrier\":\"yes\",\"mtu\":1500,\"addresses\":[]}",
	  false, "carrier" },
	{ IFACE, "{\"schema\":1,\"up\":true,\"carrier\":true,\"addresses\":[]}", false, "mtu" },
	{ IFACE, "{\"schema\":1,\"up\":true,\"carrier\":true,\"mtu\":-1,\"addresses\":[]}", false,
	  "range" },
	{ IFACE, "{\"schema\":1,\"up\":true,\"carrier\":true,\"mtu\":\"1500\",\"addresses\":[]}",
	  false, "integer" },
	{ IFACE, IF_ "\"mac\":\"02:00:00:00:00\",\"addresses\":[]}", false, "mac" },
	{ IFACE, IF_ "\"mac\":5,\"addresses\":[]}", false, "mac" },
	{ IFACE, IF_ "\"mac\":\"02:00:00:00:00:01\"}", false, "addresses" },
	{ IFACE, IF_ "\"addresses\":\"10.0.0.1/24\"}", false, "addresses" },
	{ IFACE, IF_ "\"addresses\":[\"10.0.0.1\"]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[\"10.0.0.1/33\"]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[\"10.0.0.1/\"]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[\"10.0.0.1/2x\"]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[\"10.0.0.1/+24\"]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[\"10.0.0.1/ 24\"]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[\"fe80::1/129\"]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[\"host/24\"]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[24]}", false, "bad address" },
	{ IFACE, IF_ "\"addresses\":[\"1111:2222:3333:4444:5555:6666:7777:8888/128xxxxxxxxxxxxxxxx\"]}",
	  false, "bad address" },
#define BS_ "{\"schema\":1,\"port\":\"" UUID2 "\","
	{ BSTATUS, BS_ "\"state\":\"active\"}", true, NULL },
	{ BSTATUS, BS_ "\"state\":\"inactive\",\"reason\":\"interface missing\"}", true, NULL },
	{ BSTATUS, BS_ "\"state\":\"inactive\"}", true, NULL },
	{ BSTATUS, "{\"schema\":2,\"port\":\"" UUID2 "\",\"state\":\"active\"}", false, "schema" },
	{ BSTATUS, "{\"port\":\"" UUID2 "\",\"state\":\"active\"}", false, "schema" },
	{ BSTATUS, "{\"schema\":1,\"state\":\"active\"}", false, "port" },
	{ BSTATUS, "{\"schema\":1,\"port\":\"veth0\",\"state\":\"active\"}", false, "UUID" },
	{ BSTATUS, BS_ "\"reason\":\"x\"}", false, "state" },
	{ BSTATUS, BS_ "\"state\":\"up\"}", false, "neither active nor inactive" },
	{ BSTATUS, BS_ "\"state\":true}", false, "state" },
	{ BSTATUS, BS_ "\"state\":\"inactive\",\"reason\":7}", false, "reason" },
	{ BSTATUS, BS_ "\"state\":\"inactive\",\"reason\":\"" /* 130 characters */
		"0123456789012345678901234567890123456789012345678901234567890123456789"
		"012345678901234567890123456789012345678901234567890123456789\"}", false, "long" },
};

static const char *const kind_names[] = { "host", "zone", "member", "bridge", "port",
					  "binding", "key counter", "router", "route",
					  "interface", "binding status", "bgp peer",
					  "bgp network" };

static int decode(enum kind k, const char *json)
{
	struct topo_host h = { 0 };
	struct topo_zone z = { 0 };
	struct topo_member m = { 0 };
	struct topo_bridge b = { 0 };
	struct topo_port p = { 0 };
	struct topo_binding bd = { 0 };
	struct topo_router r = { 0 };
	struct topo_route rt = { 0 };
	struct topo_iface f = { 0 };
	struct topo_binding_status bs = { 0 };
	struct topo_bgp_peer bp = { 0 };
	struct topo_bgp_network bn = { 0 };
	size_t len = strlen(json);
	uint32_t next;

	switch (k) {
	case HOST:
		return topo_decode_host(json, len, NULL, &h);
	case ZONE:
		return topo_decode_zone(json, len, NULL, &z);
	case MEMBER:
		return topo_decode_member(json, len, NULL, &m);
	case BRIDGE:
		return topo_decode_bridge(json, len, NULL, &b);
	case PORT:
		return topo_decode_port(json, len, NULL, &p);
	case BINDING:
		return topo_decode_binding(json, len, NULL, &bd);
	case ROUTER:
		return topo_decode_router(json, len, NULL, &r);
	case ROUTE:
		return topo_decode_route(json, len, NULL, &rt);
	case IFACE:
		return topo_decode_iface(json, len, NULL, &f);
	case BSTATUS:
		return topo_decode_binding_status(json, len, NULL, &bs);
	case BGP_PEER:
		return topo_decode_bgp_peer(json, len, NULL, &bp);
	case BGP_NET:
		return topo_decode_bgp_network(json, len, NULL, &bn);
	default:
		return topo_decode_key_counter(json, len, NULL, &next);
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
	ok(s && !topo_decode_port(s, strlen(s), NULL, &q) && q.tunnel_key == 77 && q.has_mac &&
		   !memcmp(q.mac, p.mac, 6) && q.has_addr && q.addr.s_addr == p.addr.s_addr &&
		   !strcmp(q.device_id, UUID1) && strstr(s, "\"schema\":1"),
	   "port encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	s = topo_encode_bridge(&b);
	ok(s && !topo_decode_bridge(s, strlen(s), NULL, &b2) && b2.tunnel_key == TOPO_KEY_MAX &&
		   !strcmp(b2.name, "blue"),
	   "bridge encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	inet_pton(AF_INET, "10.9.8.7", &m.addr);
	s = topo_encode_member(&m);
	ok(s && !topo_decode_member(s, strlen(s), NULL, &m2) && m2.addr.s_addr == m.addr.s_addr,
	   "member encodes and decodes back: %s", s ? s : "(null)");
	free(s);
}

/* Nodes written before admin state and port security: state up, port security on, no
 * allowed addresses, whatever the struct held before (the mirror decodes into old ones). */
static void test_admin_defaults(void)
{
	static const char old_port[] = "{\"schema\":1,\"device\":\"" UUID1 "\","
		"\"device_type\":\"bridge\",\"tunnel_key\":9,\"mac\":\"02:00:00:00:00:01\"}";
	static const char old_rport[] = "{\"schema\":1,\"device\":\"" UUID1 "\","
		"\"device_type\":\"router\",\"tunnel_key\":9,\"mac\":\"02:00:00:00:00:01\","
		"\"addresses\":[\"10.0.0.1/24\"]}";
	static const char old_bridge[] = "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":5}";
	struct topo_port p;
	struct topo_bridge b;
	struct topo_router r;

	memset(&p, 0xff, sizeof(p));
	p.down = p.no_port_security = true;
	ok(!topo_decode_port(old_port, strlen(old_port), NULL, &p) && !p.down &&
		   !p.no_port_security && p.n_allowed == 0 && !p.egress_rate && !p.egress_burst,
	   "an old bridge port node: state up, port security on, no allowed addresses, no "
	   "egress limit");
	memset(&p, 0xff, sizeof(p));
	p.down = p.no_port_security = true;
	ok(!topo_decode_port(old_rport, strlen(old_rport), NULL, &p) && !p.down &&
		   !p.no_port_security && p.n_allowed == 0,
	   "an old router port node: state up, no port security fields");
	b.down = true;
	ok(!topo_decode_bridge(old_bridge, strlen(old_bridge), NULL, &b) && !b.down,
	   "an old bridge node: state up");
	r.down = true;
	ok(!topo_decode_router(old_bridge, strlen(old_bridge), NULL, &r) && !r.down,
	   "an old router node: state up");
}

/* The new fields through encode and decode; at their defaults they are not written, so an
 * up, locked port without pairs encodes as before they existed. */
static void test_admin_roundtrip(void)
{
	struct topo_port p = { .tunnel_key = 7, .down = true, .no_port_security = true,
			       .n_allowed = 2 }, q = { 0 };
	struct topo_bridge b = { .name = "b", .tunnel_key = 5, .down = true }, b2 = { 0 };
	struct topo_router r = { .name = "r", .tunnel_key = 6, .down = true }, r2 = { 0 };
	char *s;

	strcpy(p.device_id, UUID1);
	inet_pton(AF_INET, "10.0.0.50", &p.allowed[0].addr);
	inet_pton(AF_INET, "10.0.0.51", &p.allowed[1].addr);
	p.allowed[0].has_mac = true;
	memcpy(p.allowed[0].mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x50 }, 6);
	s = topo_encode_port(&p);
	ok(s && !topo_decode_port(s, strlen(s), NULL, &q) && q.down && q.no_port_security &&
		   q.n_allowed == 2 && q.allowed[0].has_mac && q.allowed[0].mac[5] == 0x50 &&
		   q.allowed[0].addr.s_addr == p.allowed[0].addr.s_addr && !q.allowed[1].has_mac &&
		   q.allowed[1].addr.s_addr == p.allowed[1].addr.s_addr,
	   "a port's state, port security and allowed addresses encode and decode back: %s",
	   s ? s : "(null)");
	free(s);
	p.egress_rate = 10000000000000ull;
	p.egress_burst = 1000000000000ull;
	s = topo_encode_port(&p);
	ok(s && !topo_decode_port(s, strlen(s), NULL, &q) && q.egress_rate == p.egress_rate &&
		   q.egress_burst == p.egress_burst,
	   "the largest egress limit encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	p.down = p.no_port_security = false;
	p.n_allowed = 0;
	p.egress_rate = p.egress_burst = 0;
	s = topo_encode_port(&p);
	ok(s && !strstr(s, "state") && !strstr(s, "port_security") && !strstr(s, "allowed") &&
		   !strstr(s, "egress"),
	   "an up port with port security on, no pairs and no limit writes none of them: %s",
	   s ? s : "(null)");
	free(s);
	s = topo_encode_bridge(&b);
	ok(s && !topo_decode_bridge(s, strlen(s), NULL, &b2) && b2.down &&
		   strstr(s, "\"state\":\"down\""),
	   "a bridge set down encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	s = topo_encode_router(&r);
	ok(s && !topo_decode_router(s, strlen(s), NULL, &r2) && r2.down,
	   "a router set down encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	r.down = false;
	s = topo_encode_router(&r);
	ok(s && !strstr(s, "state"), "an up router writes no state: %s", s ? s : "(null)");
	free(s);
}

/* A router's AS number, a BGP peer and network: encoded and decoded back unchanged; no
 * "asn" written while none is set; a password of 80 characters but not 81. */
static void test_bgp_roundtrip(void)
{
	struct topo_router r = { .name = "edge", .tunnel_key = 9, .asn = 4200000000u }, r2 = { 0 };
	struct topo_bgp_peer p = { .asn = 65001, .keep_alive = 10, .hold_time = 30,
				   .connect_retry = 5, .password = "s3cret" }, p2 = { 0 };
	struct topo_bgp_network n = { .net = { .len = 25 } }, n2 = { 0 };
	char pw[TOPO_BGP_PASSWORD_MAX + 1], *s;

	s = topo_encode_router(&r);
	ok(s && !topo_decode_router(s, strlen(s), UUID1, &r2) && r2.asn == r.asn &&
		   !strcmp(r2.name, "edge") && r2.tunnel_key == 9,
	   "a router's asn encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	r.asn = 0;
	s = topo_encode_router(&r);
	ok(s && !strstr(s, "asn"), "a router without an asn writes none: %s", s ? s : "(null)");
	free(s);
	inet_pton(AF_INET, "198.51.100.3", &p.addr);
	s = topo_encode_bgp_peer(&p);
	ok(s && !topo_decode_bgp_peer(s, strlen(s), UUID2, &p2) && !strcmp(p2.id, UUID2) &&
		   p2.asn == 65001 && p2.addr.s_addr == p.addr.s_addr && p2.keep_alive == 10 &&
		   p2.hold_time == 30 && p2.connect_retry == 5 && !strcmp(p2.password, "s3cret"),
	   "a BGP peer encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	p.password[0] = '\0';
	s = topo_encode_bgp_peer(&p);
	ok(s && !strstr(s, "password"), "a peer without a password writes none: %s",
	   s ? s : "(null)");
	free(s);
	inet_pton(AF_INET, "192.0.2.0", &n.net.addr);
	s = topo_encode_bgp_network(&n);
	ok(s && !topo_decode_bgp_network(s, strlen(s), UUID3, &n2) &&
		   n2.net.addr.s_addr == n.net.addr.s_addr && n2.net.len == 25,
	   "a BGP network encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	ok(topo_decode_bgp_network("{\"schema\":1,\"net\":\"10.0.0.0/8\"}", 31, "peer0", &n2) < 0,
	   "a BGP network's node name must be a UUID");
	{
		struct topo_route lr = { .router_id = UUID1, .port_id = UUID2, .peer_id = UUID3,
					 .weight = 100, .dst = { .len = 24 } }, lr2 = { 0 };

		inet_pton(AF_INET, "203.0.113.0", &lr.dst.addr);
		inet_pton(AF_INET, "198.51.100.2", &lr.gw);
		s = topo_encode_route_learned(&lr);
		ok(s && !topo_decode_route_learned(s, strlen(s), UUID1, &lr2) && lr2.learned &&
			   lr2.type == TOPO_ROUTE_NORMAL && lr2.has_gw && lr2.gw.s_addr == lr.gw.s_addr &&
			   lr2.dst.addr.s_addr == lr.dst.addr.s_addr && lr2.dst.len == 24 &&
			   !strcmp(lr2.peer_id, UUID3) && !strcmp(lr2.port_id, UUID2) &&
			   !strcmp(lr2.router_id, UUID1) && lr2.weight == 100,
		   "a learned route encodes and decodes back: %s", s ? s : "(null)");
		free(s);
		const char *bad = "{\"schema\":1,\"router\":\"" UUID1 "\",\"dst\":\"10.0.0.1/24\","
				  "\"port\":\"" UUID2 "\",\"peer\":\"" UUID3 "\",\"gw\":"
				  "\"10.0.0.9\",\"weight\":1}";

		ok(topo_decode_route_learned(bad, strlen(bad), UUID1, &lr2) < 0 &&
			   strstr(topo_errmsg(), "host bits"),
		   "a learned route with host bits set is refused: %s", topo_errmsg());
	}
	memset(pw, 'x', sizeof(pw));
	pw[TOPO_BGP_PASSWORD_MAX - 1] = '\0';
	ok(topo_valid_bgp_password(pw), "an 80-character password is valid");
	pw[TOPO_BGP_PASSWORD_MAX - 1] = 'x';
	pw[TOPO_BGP_PASSWORD_MAX] = '\0';
	ok(!topo_valid_bgp_password(pw), "an 81-character password is not");
	ok(!topo_valid_bgp_password("tab\there") && !topo_valid_bgp_password("back\\slash") &&
		   !topo_valid_bgp_password(""),
	   "control characters, backslashes and the empty password are refused");
}

/* Peers and networks by alias on their router, by full reference, by UUID; their aliases. */
static void test_find_bgp(void)
{
	struct topo_router routers[2] = { { .id = UUID1, .name = "edge" },
					  { .id = UUID2, .name = "core" } };
	struct topo_bgp_peer peers[3] = {
		{ .id = "0b3c4d5e-0000-4000-8000-0000000000b1", .router_id = UUID2 },
		{ .id = "0b3c4d5e-0000-4000-8000-0000000000b2", .router_id = UUID1 },
		{ .id = "0b3c4d5e-0000-4000-8000-0000000000b3", .router_id = UUID2 },
	};
	struct topo_bgp_network nets[2] = {
		{ .id = "0b3c4d5e-0000-4000-8000-0000000000c1", .router_id = UUID2 },
		{ .id = "0b3c4d5e-0000-4000-8000-0000000000c2", .router_id = UUID2 },
	};
	struct topology t = { .routers = routers, .n_routers = 2, .bgp_peers = peers,
			      .n_bgp_peers = 3, .bgp_networks = nets, .n_bgp_networks = 2 };
	char buf[64];

	topo_index(&t);
	ok(topo_find_router_bgp_peer(&t, UUID2, "peer1") == &peers[2], "peer1 on its router");
	ok(topo_find_router_bgp_peer(&t, UUID1, "peer1") == NULL, "router0 has one peer");
	ok(topo_find_bgp_peer(&t, "router1:peer0") == &peers[0], "a peer by full alias");
	ok(topo_find_bgp_peer(&t, "core:peer1") == &peers[2], "a peer by router name");
	ok(topo_find_bgp_peer(&t, peers[1].id) == &peers[1], "a peer by UUID");
	ok(!topo_alias(&t, peers[2].id, buf, sizeof(buf)) && !strcmp(buf, "router1:peer1"),
	   "alias of a peer: %s", buf);
	ok(topo_find_router_bgp_network(&t, UUID2, "net1") == &nets[1], "net1 on its router");
	ok(topo_find_bgp_network(&t, "router0:net0") == NULL, "router0 has no networks");
	ok(!topo_alias(&t, nets[1].id, buf, sizeof(buf)) && !strcmp(buf, "router1:net1"),
	   "alias of a network: %s", buf);
	ok(topo_find_bgp_network_by_id(&t, peers[0].id) == NULL,
	   "a peer's id is no network's");
	topo_index_free(&t);
}

/* What an agent reports: the encoders' output decodes back to the same report. */
static void test_status_roundtrip(void)
{
	struct topo_iface f = { .name = "eth0", .up = true, .carrier = false, .mtu = 9000,
				.has_mac = true, .mac = { 2, 0, 0, 0xab, 0xcd, 0xef },
				.addrs = { "192.0.2.1/24", "2001:db8::1/64" }, .n_addrs = 2 };
	struct topo_iface g = { 0 };
	struct topo_binding_status b = { .active = false, .reason = "interface down" };
	struct topo_binding_status b2 = { 0 };
	char *s;

	s = topo_encode_iface(&f);
	ok(s && !topo_decode_iface(s, strlen(s), "eth0", &g) && !strcmp(g.name, "eth0") && g.up &&
		   !g.carrier && g.mtu == 9000 && g.has_mac && !memcmp(g.mac, f.mac, 6) &&
		   g.n_addrs == 2 && !strcmp(g.addrs[0], "192.0.2.1/24") &&
		   !strcmp(g.addrs[1], "2001:db8::1/64") && strstr(s, "\"schema\":1"),
	   "interface encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	f.has_mac = false;
	f.n_addrs = 0;
	memset(&g, 0, sizeof(g));
	s = topo_encode_iface(&f);
	ok(s && !strstr(s, "mac") && strstr(s, "\"addresses\":[]") &&
		   !topo_decode_iface(s, strlen(s), NULL, &g) && !g.has_mac && !g.n_addrs,
	   "interface without a MAC or addresses: %s", s ? s : "(null)");
	free(s);

	strcpy(b.port_id, UUID2);
	s = topo_encode_binding_status(&b);
	ok(s && !topo_decode_binding_status(s, strlen(s), "eth0", &b2) && !b2.active &&
		   !strcmp(b2.reason, "interface down") && !strcmp(b2.port_id, UUID2) &&
		   !strcmp(b2.interface, "eth0"),
	   "inactive binding status encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	b.active = true; /* a stale reason is not written for an active binding */
	memset(&b2, 0, sizeof(b2));
	s = topo_encode_binding_status(&b);
	ok(s && !strstr(s, "reason") && !topo_decode_binding_status(s, strlen(s), NULL, &b2) &&
		   b2.active && !b2.reason[0],
	   "active binding status, no reason: %s", s ? s : "(null)");
	free(s);
}

/* More addresses than a report keeps: the first TOPO_IF_ADDRS_MAX, the node still valid. */
static void test_iface_many_addrs(void)
{
	char json[2048] = "{\"schema\":1,\"up\":true,\"carrier\":true,\"mtu\":1500,\"addresses\":[";
	struct topo_iface f = { 0 };
	size_t n;
	int rc;

	for (int i = 0; i <= TOPO_IF_ADDRS_MAX; i++) {
		n = strlen(json);
		snprintf(json + n, sizeof(json) - n, "%s\"10.0.0.%d/24\"", i ? "," : "", i + 1);
	}
	strcat(json, "]}");
	rc = topo_decode_iface(json, strlen(json), "eth0", &f);
	ok(!rc && f.n_addrs == TOPO_IF_ADDRS_MAX &&
		   !strcmp(f.addrs[TOPO_IF_ADDRS_MAX - 1], "10.0.0.16/24"),
	   "an interface with %d addresses keeps %zu", TOPO_IF_ADDRS_MAX + 1, f.n_addrs);
}

static void test_router_roundtrip(void)
{
	struct topo_port p = { .device_type = TOPO_DEVICE_ROUTER, .tunnel_key = 12,
			       .has_mac = true, .mac = { 2, 0x6d, 0x78, 0, 0, 12 }, .n_nets = 2 };
	struct topo_route r = { .type = TOPO_ROUTE_NORMAL, .has_gw = true, .weight = 42,
				.port_route = true };
	struct topo_router rt = { .name = "edge", .tunnel_key = 3 }, rt2 = { 0 };
	struct topo_port q = { 0 };
	struct topo_route r2 = { 0 };
	char *s;

	strcpy(p.device_id, UUID1);
	strcpy(p.peer_id, UUID3);
	topo_parse_cidr("10.0.0.1/24", &p.nets[0]);
	topo_parse_cidr("192.168.9.254/30", &p.nets[1]);
	s = topo_encode_port(&p);
	ok(s && !topo_decode_port(s, strlen(s), NULL, &q) && q.device_type == TOPO_DEVICE_ROUTER &&
		   q.n_nets == 2 && q.nets[1].len == 30 &&
		   q.nets[1].addr.s_addr == p.nets[1].addr.s_addr && q.has_mac && !q.has_addr &&
		   !memcmp(q.mac, p.mac, 6) && !strcmp(q.peer_id, UUID3),
	   "router port encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	strcpy(r.port_id, UUID2);
	topo_parse_cidr("0.0.0.0/0", &r.src);
	topo_parse_cidr("172.16.0.0/12", &r.dst);
	inet_pton(AF_INET, "10.0.0.254", &r.gw);
	s = topo_encode_route(&r);
	ok(s && !topo_decode_route(s, strlen(s), NULL, &r2) && r2.type == TOPO_ROUTE_NORMAL &&
		   r2.dst.len == 12 && r2.dst.addr.s_addr == r.dst.addr.s_addr && r2.src.len == 0 &&
		   r2.has_gw && r2.gw.s_addr == r.gw.s_addr && r2.weight == 42 && r2.port_route &&
		   !strcmp(r2.port_id, UUID2),
	   "route encodes and decodes back: %s", s ? s : "(null)");
	free(s);
	s = topo_encode_router(&rt);
	ok(s && !topo_decode_router(s, strlen(s), NULL, &rt2) && rt2.tunnel_key == 3 &&
		   !strcmp(rt2.name, "edge"),
	   "router encodes and decodes back: %s", s ? s : "(null)");
	free(s);
}

static void test_arp_node(void)
{
	struct topo_arp a = { 0 }, b = { .learned = true };
	const char *learned = "{\"schema\":1,\"host\":\"" UUID3 "\",\"port\":\"" UUID2 "\"}";
	const char *fixed = "{\"schema\":1,\"mac\":\"02:00:00:00:00:0b\"}";
	char *s;

	ok(!topo_decode_arp_learned(learned, strlen(learned), "10.0.0.7,02:00:00:00:00:0a," UUID1,
				    &a) &&
		   a.learned && a.mac[5] == 0x0a && ntohl(a.addr.s_addr) == 0x0a000007 &&
		   !strcmp(a.port_id, UUID2) && !strcmp(a.host_id, UUID3) &&
		   !strcmp(a.router_id, UUID1),
	   "learned ARP node name (address, MAC, router) and data decode");
	ok(topo_decode_arp_learned(learned, strlen(learned), "10.0.0.7,02:00:00:00:00:0a", &a) < 0,
	   "learned ARP node without its router in its name rejected: %s", topo_errmsg());
	memset(&a, 0, sizeof(a));
	ok(!topo_decode_arp_static(fixed, strlen(fixed), "10.0.0.8", &a) && !a.learned &&
		   a.mac[5] == 0x0b && ntohl(a.addr.s_addr) == 0x0a000008,
	   "static ARP node name and data decode");
	ok(topo_decode_arp_learned(learned, strlen(learned), "10.0.0.8," UUID1, &a) < 0,
	   "learned ARP node without a MAC in its name rejected: %s", topo_errmsg());
	ok(topo_decode_arp_static(fixed, strlen(fixed), "10.0.0.8,02:00:00:00:00:0a", &a) < 0,
	   "static ARP node with a MAC in its name rejected: %s", topo_errmsg());
	ok(topo_decode_arp_static(fixed, strlen(fixed), "10.0.0.300", &a) < 0,
	   "ARP node with a bad address rejected: %s", topo_errmsg());
	ok(topo_decode_arp_learned(learned, strlen(learned), "10.0.0.8,ff:ff:ff:ff:ff:ff," UUID1,
				   &a) < 0,
	   "learned broadcast MAC rejected: %s", topo_errmsg());
	ok(topo_decode_arp_static("{\"schema\":1}", 12, "10.0.0.8", &a) < 0 &&
		   strstr(topo_errmsg(), "mac"),
	   "static ARP node without a MAC rejected: %s", topo_errmsg());
	ok(topo_decode_arp_learned("{\"schema\":1,\"host\":\"" UUID3 "\"}",
				   strlen("{\"schema\":1,\"host\":\"" UUID3 "\"}"),
				   "10.0.0.8,02:00:00:00:00:0a," UUID1, &a) < 0 &&
		   strstr(topo_errmsg(), "port"),
	   "learned ARP node without a port rejected: %s", topo_errmsg());
	strcpy(b.host_id, UUID1);
	strcpy(b.port_id, UUID2);
	s = topo_encode_arp(&b);
	ok(s && strstr(s, UUID1) && strstr(s, UUID2) && !strstr(s, "mac"),
	   "learned ARP data names host and port: %s", s ? s : "(null)");
	free(s);
	memcpy(a.mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0xc }, 6);
	a.learned = false;
	s = topo_encode_arp(&a);
	ok(s && strstr(s, "\"mac\":\"02:00:00:00:00:0c\""), "static ARP data holds its MAC: %s",
	   s ? s : "(null)");
	free(s);
}

static void test_cidr(void)
{
	static const char *const bad[] = { "", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33",
					   "10.0.0.0/-1", "10.0.0.0/024", "10.0.0/8", "/8",
					   "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/8 ", "a/8",
					   "10.0.0.0/100" };
	struct topo_cidr c, d;
	char buf[TOPO_CIDR_STRLEN];
	enum topo_route_type type;
	size_t i;

	ok(!topo_parse_cidr("10.1.2.3/24", &c) && c.len == 24 &&
		   ntohl(c.addr.s_addr) == 0x0a010203, "10.1.2.3/24 parses, keeping host bits");
	ok(!topo_cidr_is_network(&c) && ntohl(topo_cidr_network(&c).s_addr) == 0x0a010200,
	   "10.1.2.3/24 has host bits; its network is 10.1.2.0");
	topo_format_cidr(&c, buf);
	ok(!strcmp(buf, "10.1.2.3/24"), "formats back: %s", buf);
	ok(!topo_parse_cidr("0.0.0.0/0", &c) && c.len == 0 && topo_cidr_is_network(&c),
	   "0.0.0.0/0 parses");
	ok(!topo_parse_cidr("10.0.0.9/32", &c) && topo_cidr_is_network(&c), "a /32 is a network");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ok(topo_parse_cidr(bad[i], &c) < 0, "prefix '%s' rejected", bad[i]);
	ok(mx_prefix_mask(0) == 0 && mx_prefix_mask(1) == 0x80000000u &&
		   mx_prefix_mask(24) == 0xffffff00u && mx_prefix_mask(32) == 0xffffffffu,
	   "prefix masks");
	topo_parse_cidr("10.0.0.0/8", &c);
	topo_parse_cidr("10.200.0.0/16", &d);
	ok(topo_cidr_overlap(&c, &d) && topo_cidr_overlap(&d, &c), "10/8 and 10.200/16 overlap");
	topo_parse_cidr("11.0.0.0/16", &d);
	ok(!topo_cidr_overlap(&c, &d), "10/8 and 11.0/16 do not");
	ok(topo_cidr_contains(&c, d.addr) == false && topo_cidr_contains(&d, d.addr),
	   "containment");
	topo_parse_cidr("0.0.0.0/0", &d);
	ok(topo_cidr_contains(&d, c.addr) && topo_cidr_overlap(&c, &d), "0/0 holds everything");
	ok(!topo_parse_route_type("reject", &type) && type == TOPO_ROUTE_REJECT &&
		   !strcmp(topo_route_type_name(TOPO_ROUTE_BLACKHOLE), "blackhole"),
	   "route types parse and print");
	ok(topo_parse_route_type("Normal", &type) < 0 && topo_parse_route_type("", &type) < 0,
	   "route types are exact");
}

static void test_find_router(void)
{
	struct topo_bridge bridges[1] = { { .id = UUID1, .name = "blue" } };
	struct topo_router routers[2] = { { .id = UUID2, .name = "edge" },
					  { .id = UUID3, .name = "core" } };
	struct topo_port ports[3] = {
		{ .id = "0b3c4d5e-0000-4000-8000-00000000000a", .device_id = UUID1 },
		{ .id = "0b3c4d5e-0000-4000-8000-00000000000b", .device_id = UUID3,
		  .device_type = TOPO_DEVICE_ROUTER },
		{ .id = "0b3c4d5e-0000-4000-8000-00000000000c", .device_id = UUID3,
		  .device_type = TOPO_DEVICE_ROUTER },
	};
	struct topo_route routes[3] = {
		{ .id = "0b3c4d5e-0000-4000-8000-0000000000a1", .router_id = UUID3 },
		{ .id = "0b3c4d5e-0000-4000-8000-0000000000a2", .router_id = UUID2 },
		{ .id = "0b3c4d5e-0000-4000-8000-0000000000a3", .router_id = UUID3 },
	};
	struct topo_arp arps[2] = { { .router_id = UUID3, .learned = true },
				    { .router_id = UUID3 } };
	struct topology t = { .bridges = bridges, .n_bridges = 1, .routers = routers,
			      .n_routers = 2, .ports = ports, .n_ports = 3, .routes = routes,
			      .n_routes = 3, .arps = arps, .n_arps = 2 };
	char buf[64];

	inet_pton(AF_INET, "10.0.0.5", &arps[0].addr);
	inet_pton(AF_INET, "10.0.0.5", &arps[1].addr);
	topo_index(&t);
	ok(topo_find_router(&t, "router1") == &routers[1], "router1 by alias");
	ok(topo_find_router(&t, "edge") == &routers[0], "router by name");
	ok(topo_find_router(&t, "bridge0") == NULL, "a bridge alias is not a router");
	ok(topo_find_port(&t, "router1:port1") == &ports[2], "router1:port1");
	ok(topo_find_port(&t, "core:port0") == &ports[1], "a router port by router name");
	ok(topo_find_port(&t, "router0:port0") == NULL, "router0 has no ports");
	ok(topo_find_port(&t, "bridge0:port0") == &ports[0], "bridge ports still found");
	ok(!topo_alias(&t, ports[2].id, buf, sizeof(buf)) && !strcmp(buf, "router1:port1"),
	   "alias of a router port: %s", buf);
	ok(!topo_alias(&t, routes[2].id, buf, sizeof(buf)) && !strcmp(buf, "router1:route1"),
	   "alias of a route: %s", buf);
	ok(topo_find_route(&t, "router1:route1") == &routes[2], "route by full alias");
	ok(topo_find_route(&t, "router0:route0") == &routes[1], "route of router0");
	ok(topo_find_route(&t, "bridge0:route0") == NULL, "bridges have no routes");
	ok(topo_find_router_route(&t, UUID3, "route0") == &routes[0], "route0 on a router");
	ok(topo_find_router_route(&t, UUID3, routes[1].id) == NULL,
	   "another router's route is not this one's");
	ok(topo_find_arp_static(&t, UUID3, arps[0].addr) == &arps[1],
	   "the static ARP entry, not the learned one");
	ok(topo_find_arp_static(&t, UUID2, arps[0].addr) == NULL, "no static entry on router0");
	topo_index_free(&t);
}

static void test_mac_node(void)
{
	struct topo_mac m = { 0 };
	const char *data = "{\"schema\":1,\"host\":\"" UUID3 "\"}";

	ok(!topo_decode_mac(data, strlen(data), "02:00:00:00:00:0a," UUID2, &m) &&
		   m.mac[5] == 0x0a && !strcmp(m.port_id, UUID2) && !strcmp(m.host_id, UUID3),
	   "learned MAC node name and data decode");
	ok(topo_decode_mac(data, strlen(data), "02:00:00:00:00:0a;" UUID2, &m) < 0,
	   "learned MAC node with a bad separator rejected: %s", topo_errmsg());
	ok(topo_decode_mac(data, strlen(data), "ff:ff:ff:ff:ff:ff," UUID2, &m) < 0,
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
	topo_index(&t);
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
	topo_index_free(&t);
}

/* Every decoder through the one signature: the node's name is the object's identity,
 * validated and stored; a bad name is refused before the data is looked at. */
struct named_case {
	const char *what;
	topo_decode_fn *decode;
	const char *name, *json;
	size_t size, id_off; /* the object; where the name must land */
};

#define NAMED(what, fn, T, field, name, json) \
	{ what, fn, name, json, sizeof(struct T), offsetof(struct T, field) }

static const struct named_case named_cases[] = {
	NAMED("host", topo_decode_host, topo_host, id, UUID1, "{\"schema\":1,\"name\":\"h\"}"),
	NAMED("zone", topo_decode_zone, topo_zone, id, UUID1,
	      "{\"schema\":1,\"name\":\"z\",\"type\":\"vxlan\"}"),
	NAMED("member", topo_decode_member, topo_member, host_id, UUID1,
	      "{\"schema\":1,\"address\":\"10.0.0.1\"}"),
	NAMED("bridge", topo_decode_bridge, topo_bridge, id, UUID1,
	      "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":5}"),
	NAMED("router", topo_decode_router, topo_router, id, UUID1,
	      "{\"schema\":1,\"name\":\"r\",\"tunnel_key\":5}"),
	NAMED("port", topo_decode_port, topo_port, id, UUID1,
	      "{\"schema\":1,\"device\":\"" UUID2 "\",\"device_type\":\"bridge\",\"tunnel_key\":9}"),
	NAMED("route", topo_decode_route, topo_route, id, UUID1,
	      "{\"schema\":1,\"src\":\"0.0.0.0/0\",\"dst\":\"10.0.0.0/8\",\"type\":\"blackhole\","
	      "\"weight\":1}"),
	NAMED("binding", topo_decode_binding, topo_binding, interface, "veth0",
	      "{\"schema\":1,\"port\":\"" UUID2 "\"}"),
	NAMED("learned MAC", topo_decode_mac, topo_mac, port_id, "02:00:00:00:00:0a," UUID1,
	      "{\"schema\":1,\"host\":\"" UUID3 "\"}"),
	NAMED("learned ARP entry", topo_decode_arp_learned, topo_arp, router_id,
	      "10.0.0.7,02:00:00:00:00:0a," UUID1,
	      "{\"schema\":1,\"host\":\"" UUID3 "\",\"port\":\"" UUID2 "\"}"),
	NAMED("interface", topo_decode_iface, topo_iface, name, "veth0",
	      "{\"schema\":1,\"up\":true,\"carrier\":true,\"mtu\":1500,\"addresses\":[]}"),
	NAMED("binding status", topo_decode_binding_status, topo_binding_status, interface, "veth0",
	      "{\"schema\":1,\"port\":\"" UUID2 "\",\"state\":\"active\"}"),
};

static void test_decode_named(void)
{
	_Alignas(max_align_t) char obj[sizeof(struct topo_port) + sizeof(struct topo_route) +
				       sizeof(struct topo_iface)];
	const char *expect;

	for (size_t i = 0; i < sizeof(named_cases) / sizeof(named_cases[0]); i++) {
		const struct named_case *c = &named_cases[i];

		if (c->size > sizeof(obj)) {
			ok(false, "%s: object larger than the test's buffer", c->what);
			continue;
		}

		memset(obj, 0, sizeof(obj));
		expect = strrchr(c->name, ',') ? strrchr(c->name, ',') + 1 : c->name;
		ok(!c->decode(c->json, strlen(c->json), c->name, obj) &&
		   !strcmp(obj + c->id_off, expect),
		   "%s: decoded with its identity from the node name (%s)", c->what,
		   obj + c->id_off);
		memset(obj, 0, sizeof(obj));
		ok(c->decode(c->json, strlen(c->json), "not an id,x", obj) == -EINVAL &&
		   !obj[c->id_off], "%s: a bad node name refused: %s", c->what, topo_errmsg());
	}
	memset(obj, 0, sizeof(obj));
	ok(!topo_decode_host(named_cases[0].json, strlen(named_cases[0].json), NULL, obj) &&
	   !((struct topo_host *)obj)->id[0] && !strcmp(((struct topo_host *)obj)->name, "h"),
	   "no name: the identity is left to the caller");
	ok(topo_decode_mac(named_cases[8].json, strlen(named_cases[8].json), NULL, obj) < 0,
	   "a learned MAC needs its name");
}

/* A snapshot built by hand as topo_read fetches it (malloc'd arrays, any order), then
 * normalised: what is dropped is gone from the lookups, what stays is found by id and key. */
#define ID(n) "0b3c4d5e-0000-4000-8000-0000000000" #n

/* A malloc'd copy of a hand-made array, as topo_read's are. */
#define COPY(t, A, ...)                                                                      \
	do {                                                                                 \
		const __typeof__(*(t)->A) src[] = { __VA_ARGS__ };                          \
		(t)->n_##A = sizeof(src) / sizeof(src[0]);                                   \
		(t)->A = malloc(sizeof(src));                                                \
		memcpy((t)->A, src, sizeof(src));                                            \
	} while (0)

/* bridge 10 claims bridge 11's key later; port 31 is on bridge 10; port 32 is linked to
 * 30, which does not link back; port 33 claims router 20's key later. */
static void build_snapshot(struct topology *t)
{
	memset(t, 0, sizeof(*t));
	COPY(t, hosts, { .id = ID(01), .name = "h" });
	COPY(t, bridges, { .id = ID(10), .name = "late", .tunnel_key = 100, .czxid = 9 },
	     { .id = ID(11), .name = "early", .tunnel_key = 100, .czxid = 2 });
	COPY(t, routers, { .id = ID(20), .name = "r", .tunnel_key = 200, .czxid = 3 });
	COPY(t, ports,
	     { .id = ID(30), .device_id = ID(11), .device_type = TOPO_DEVICE_BRIDGE,
	       .tunnel_key = 101, .czxid = 4 },
	     { .id = ID(31), .device_id = ID(10), .device_type = TOPO_DEVICE_BRIDGE,
	       .tunnel_key = 102, .czxid = 10 },
	     { .id = ID(32), .device_id = ID(20), .device_type = TOPO_DEVICE_ROUTER,
	       .tunnel_key = 201, .czxid = 5, .peer_id = ID(30) },
	     { .id = ID(33), .device_id = ID(11), .device_type = TOPO_DEVICE_BRIDGE,
	       .tunnel_key = 200, .czxid = 11 });
	COPY(t, bindings, { .host_id = ID(01), .interface = "v30", .port_id = ID(30) },
	     { .host_id = ID(01), .interface = "v31", .port_id = ID(31) });
}

static void test_normalise(void)
{
	struct topology t;
	const struct topo_port *p;

	build_snapshot(&t);
	if (topo_normalise(&t)) {
		ok(false, "a snapshot built by hand normalises: %s", topo_errmsg());
		return;
	}
	ok(t.n_bridges == 1 && !strcmp(t.bridges[0].id, ID(11)) && t.n_ports == 2 &&
	   t.n_bindings == 1 && t.n_skipped == 4,
	   "left out: the later owner of a key (bridge, port), a port of it, its binding "
	   "(%zu skipped)", t.n_skipped);
	ok(topo_bridge_by_key(&t, 100) == &t.bridges[0] && !topo_find_bridge_by_id(&t, ID(10)),
	   "a tunnel key finds its first owner; the later one is gone by id too");
	ok(topo_router_by_key(&t, 200) == &t.routers[0] && !topo_port_by_key(&t, 200),
	   "a port claiming a router's key is not found by it");
	p = topo_port_by_key(&t, 201);
	ok(p && p == topo_find_port_by_id(&t, ID(32)) && !p->peer_id[0],
	   "a port by key and by id is the same object; its half link cleared");
	ok(!topo_port_by_key(&t, 102) && !topo_find_port_by_id(&t, ID(31)),
	   "a port whose device was left out is found neither by key nor by id");
	ok(topo_find_port_binding(&t, ID(30)) == &t.bindings[0] &&
	   !topo_find_port_binding(&t, ID(31)), "bindings by port: only of ports that are there");
	ok(topo_find_host_by_id(&t, ID(01)) == &t.hosts[0] && !topo_find_host_by_id(&t, "") &&
	   !topo_find_host_by_id(&t, NULL) && !topo_bridge_by_key(&t, 7),
	   "no match: empty or NULL ids, unknown keys");
	ok(topo_find_port(&t, "bridge0:port0") == topo_find_port_by_id(&t, ID(30)) &&
	   t.ports[1].ordinal == 0, "ordinals after what was left out");
	topo_free(&t);
}

/* Without topo_index the lookups scan; with it they answer the same. */
static void test_lookup_unindexed(void)
{
	struct topo_port ports[2] = { { .id = ID(40), .tunnel_key = 7 },
				      { .id = ID(41), .tunnel_key = 8 } };
	struct topology t = { .ports = ports, .n_ports = 2 };

	ok(topo_port_by_key(&t, 8) == &ports[1] && topo_find_port_by_id(&t, ID(40)) == &ports[0],
	   "a snapshot never indexed is searched linearly");
	ok(!topo_index(&t) && topo_port_by_key(&t, 8) == &ports[1] &&
	   topo_find_port_by_id(&t, ID(40)) == &ports[0] && !topo_port_by_key(&t, 9),
	   "indexed, the same answers");
	topo_index_free(&t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Access control: credential files, host secrets, and which ACL a path gets. */
static void test_acl(void)
{
	char dir[] = "/tmp/test_topology.XXXXXX", path[256], secret[256];
	struct topo_cred c, h, again;
	const struct ACL_vector *v;

	if (!mkdtemp(dir)) {
		ok(false, "a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/cred", dir);
	snprintf(secret, sizeof(secret), "%s/host.secret", dir);
	write_file(path, "admin:s3cret:with:colons\n");
	ok(!topo_cred_load(path, &c) && !strcmp(c.user, "admin") &&
	   !strcmp(c.password, "s3cret:with:colons"), "credential: user, then the rest");
	write_file(path, "no colon\n");
	ok(topo_cred_load(path, &c) == -EINVAL, "credential without ':' refused");
	write_file(path, ":nouser\n");
	ok(topo_cred_load(path, &c) == -EINVAL, "credential without a user refused");
	write_file(path, "admin:\n");
	ok(topo_cred_load(path, &c) == -EINVAL, "credential without a password refused");
	ok(topo_cred_load("/nonexistent/cred", &c) == -ENOENT, "missing credential file");
	write_file(path, "admin:pw\n");
	topo_cred_load(path, &c);
	ok(!topo_host_cred_load(secret, UUID1, &h) && !strcmp(h.user, "host-" UUID1) &&
	   strlen(h.password) == 64, "host secret made: host-<id>, 64 hex digits");
	ok(!topo_host_cred_load(secret, UUID1, &again) && !strcmp(again.password, h.password),
	   "host secret kept");
	ok(topo_host_cred_load(secret, UUID2, &again) == -EINVAL,
	   "another host's secret refused");
	ok(access(secret, R_OK) == 0 && unlink(secret) == 0, "host secret file");

	topo_acl_setup(NULL, NULL, NULL);
	ok(!topo_acl_enabled() && topo_acl_for(P_ROOT) == &ZOO_OPEN_ACL_UNSAFE,
	   "no credential: open ACLs");
	topo_acl_setup(&c, NULL, NULL);
	v = topo_acl_for(P_ROOT "/bridges/" UUID2);
	ok(topo_acl_enabled() && v->count == 2 && v->data[0].perms == ZOO_PERM_ALL &&
	   !strcmp(v->data[0].id.scheme, "digest") &&
	   !strcmp(v->data[0].id.id, "admin:HyfYpDg4zqvjWwhkAYRiLwvklpU=") &&
	   v->data[1].perms == ZOO_PERM_READ && !strcmp(v->data[1].id.id, "anyone"),
	   "cluster: digest admin all (sha1 base64), world read");
	topo_acl_setup(&c, &h, UUID1);
	ok(topo_acl_for(P_ROOT "/hosts/" UUID1)->count == 3, "own host node: host identity too");
	ok(topo_acl_for(P_ROOT "/hosts/" UUID1 "/macs/02:00:00:00:00:01," UUID2)->count == 3,
	   "own learned MAC: host identity too");
	ok(topo_acl_for(P_ROOT "/hosts/" UUID1 "/alive")->data[1].perms ==
	   (ZOO_PERM_READ | ZOO_PERM_WRITE | ZOO_PERM_CREATE | ZOO_PERM_DELETE),
	   "own liveness: read, write, create, delete, no admin");
	ok(topo_acl_for(P_ROOT "/hosts/" UUID1 "/bindings")->count == 2 &&
	   topo_acl_for(P_ROOT "/hosts/" UUID1 "/bindings/eth0")->count == 2,
	   "own bindings: the cluster's alone");
	ok(topo_acl_for(P_ROOT "/hosts/" UUID2)->count == 2 &&
	   topo_acl_for(P_ROOT "/hosts/" UUID1 "x")->count == 2 &&
	   topo_acl_for(P_ROOT "/hosts")->count == 2, "another host, the hosts container: cluster's");
	{
		struct topo_cred g1, g2, other = c;
		const struct ACL_vector *nat = topo_acl_for(P_ROOT "/nat");
		const char *gd = "midox-agents:"; /* the digest's user part */

		strcpy(other.password, "pw2");
		ok(!topo_agents_cred(&c, &g1) && !topo_agents_cred(&c, &g2) &&
		   !strcmp(g1.user, "midox-agents") && strlen(g1.password) == 64 &&
		   !strcmp(g1.password, g2.password) && !topo_agents_cred(&other, &g2) &&
		   strcmp(g1.password, g2.password),
		   "agents' group: derived from the cluster credential, 64 hex digits, "
		   "another cluster password another group password");
		ok(nat->count == 3 && nat->data[0].perms == ZOO_PERM_ALL &&
		   nat->data[1].perms == (ZOO_PERM_CREATE | ZOO_PERM_DELETE) &&
		   !strncmp(nat->data[1].id.id, gd, strlen(gd)) &&
		   nat->data[2].perms == ZOO_PERM_READ,
		   "/midox/nat: cluster all, the agents' group create and delete, world read");
		ok(topo_acl_for(P_ROOT "/nat/203.0.113.7") == nat,
		   "an address's node: the same, so any agent takes and gives back its blocks");
		v = topo_acl_for(P_ROOT "/nat/203.0.113.7/17");
		ok(v->count == 3 && v->data[1].perms == (ZOO_PERM_READ | ZOO_PERM_WRITE |
							  ZOO_PERM_CREATE | ZOO_PERM_DELETE) &&
		   !strncmp(v->data[1].id.id, "host-" UUID1 ":", 6 + strlen(UUID1)),
		   "a lease: its host's");
		ok(topo_acl_for(P_ROOT "/natx")->count == 2 &&
		   topo_acl_for(P_ROOT "/bridges/" UUID2)->count == 2,
		   "a name that only begins like /midox/nat: the cluster's");
		topo_acl_setup(&c, NULL, NULL);
		ok(topo_acl_for(P_ROOT "/nat/203.0.113.7/17")->count == 2,
		   "a lease made without a host identity (the CLI): the cluster's");
	}
	topo_acl_setup(NULL, NULL, NULL);
	unlink(path);
	rmdir(dir);
}


/* ---- rule chains ---- */

static struct topo_rule decoded_rule(const char *json, int *rc)
{
	struct topo_rule r;

	memset(&r, 0, sizeof(r));
	*rc = topo_decode_rule(json, strlen(json), UUID1, &r);
	return r;
}

static void test_rule_roundtrip(void)
{
	struct topo_rule r = { .type = TOPO_RULE_DROP, .pos = 3 }, d;
	char *s;
	int rc;

	r.cond.has = ~0u & ((1u << TOPO_COND__MAX) - 1);
	r.cond.inv = 1u << TOPO_COND_SRC | 1u << TOPO_COND_IN_PORTS | 1u << TOPO_COND_IPG_DST;
	topo_parse_mac("02:00:00:00:00:01", r.cond.hw_src);
	topo_parse_mac("ff:ff:ff:ff:ff:ff", r.cond.hw_dst);
	r.cond.ethertype = 0x0800;
	topo_parse_cidr("10.0.0.0/8", &r.cond.src);
	topo_parse_cidr("0.0.0.0/0", &r.cond.dst);
	r.cond.proto = 17;
	r.cond.tos = 255;
	r.cond.src_port = (struct topo_port_range){ 1024, 65535 };
	r.cond.dst_port = (struct topo_port_range){ 53, 53 };
	strcpy(r.cond.in_ports[0], UUID1);
	strcpy(r.cond.in_ports[1], UUID2);
	r.cond.n_in_ports = 2;
	strcpy(r.cond.out_ports[0], UUID3);
	r.cond.n_out_ports = 1;
	strcpy(r.cond.port_group, UUID1);
	strcpy(r.cond.in_port_group, UUID2);
	strcpy(r.cond.out_port_group, UUID3);
	strcpy(r.cond.ipg_src, UUID1);
	strcpy(r.cond.ipg_dst, UUID2);
	r.cond.flow = TOPO_FLOW_RETURN;
	ok(topo_rule_check(&r, true) == 0 && r.cond.frag == TOPO_FRAG_HEADER,
	   "a rule with every condition checks; L4 ports default to header");
	s = topo_encode_rule(&r);
	d = decoded_rule(s ? s : "", &rc);
	strcpy(r.id, UUID1);
	ok(s && rc == 0 && !memcmp(&d, &r, sizeof(r)), "rule with every condition round trips: %s",
	   s ? s : "(null)");
	free(s);

	memset(&r, 0, sizeof(r));
	r.type = TOPO_RULE_SNAT;
	r.pos = 1;
	r.has_target = true;
	topo_parse_nat_target("192.0.2.1-192.0.2.9:1024-2047", &r.target);
	ok(topo_rule_check(&r, true) == 0 && r.action == TOPO_ACTION_ACCEPT &&
	   r.cond.frag == TOPO_FRAG_UNFRAGMENTED,
	   "snat over a range: action accept and fragment-policy unfragmented by default");
	s = topo_encode_rule(&r);
	d = decoded_rule(s ? s : "", &rc);
	strcpy(r.id, UUID1);
	ok(s && rc == 0 && !memcmp(&d, &r, sizeof(r)) &&
	   strstr(s, "\"target\":\"192.0.2.1-192.0.2.9:1024-2047\""), "NAT rule round trips: %s",
	   s ? s : "(null)");
	free(s);
	/* The longest target there is: two addresses of 15 characters and 5-digit ports. */
	topo_parse_nat_target("198.151.100.115-198.151.100.116:65000-65535", &r.target);
	s = topo_encode_rule(&r);
	d = decoded_rule(s ? s : "", &rc);
	ok(s && rc == 0 && !memcmp(&d.target, &r.target, sizeof(r.target)),
	   "the longest NAT target round trips: %s", s ? s : "(null)");
	free(s);

	memset(&r, 0, sizeof(r));
	r.type = TOPO_RULE_JUMP;
	r.pos = 2;
	strcpy(r.jump_id, UUID3);
	ok(topo_rule_check(&r, true) == 0 && r.cond.frag == TOPO_FRAG_ANY && !r.action,
	   "a jump rule: fragment-policy any, no action");
	s = topo_encode_rule(&r);
	ok(s && !strcmp(s, "{\"fragment_policy\":\"any\",\"jump_to\":\"" UUID3 "\",\"pos\":2,"
			"\"schema\":1,\"type\":\"jump\"}"), "jump rule's node: %s", s ? s : "(null)");
	free(s);
}

struct rule_case {
	const char *json;
	bool valid;
	const char *why;
};

#define RULE(x) "{\"schema\":1," x "}"
static const struct rule_case rule_cases[] = {
	{ RULE("\"pos\":1,\"type\":\"accept\",\"fragment_policy\":\"any\""), true, NULL },
	{ RULE("\"pos\":1,\"type\":\"accept\",\"fragment_policy\":\"any\",\"new\":1"), true, NULL },
	{ RULE("\"type\":\"accept\",\"fragment_policy\":\"any\""), false, "pos" },
	{ RULE("\"pos\":0,\"type\":\"accept\",\"fragment_policy\":\"any\""), false, "pos" },
	{ RULE("\"pos\":1,\"type\":\"allow\",\"fragment_policy\":\"any\""), false, "type" },
	{ RULE("\"pos\":1,\"type\":\"accept\""), false, "fragment_policy" },
	{ RULE("\"pos\":1,\"type\":\"accept\",\"fragment_policy\":\"some\""), false,
	  "fragment_policy" },
	{ RULE("\"pos\":1,\"type\":\"jump\",\"fragment_policy\":\"any\""), false, "jump-to" },
	{ RULE("\"pos\":1,\"type\":\"jump\",\"jump_to\":\"x\",\"fragment_policy\":\"any\""), false,
	  "jump_to" },
	{ RULE("\"pos\":1,\"type\":\"accept\",\"jump_to\":\"" UUID1 "\",\"fragment_policy\":"
	       "\"any\""), false, "jump rules" },
	{ RULE("\"pos\":1,\"type\":\"snat\",\"fragment_policy\":\"any\",\"action\":\"accept\""),
	  false, "target" },
	{ RULE("\"pos\":1,\"type\":\"snat\",\"fragment_policy\":\"any\",\"target\":\"1.2.3.4\""),
	  false, "action" },
	{ RULE("\"pos\":1,\"type\":\"dnat\",\"fragment_policy\":\"any\",\"action\":\"accept\","
	       "\"target\":\"1.2.3.4:80\""), false, "unfragmented" },
	{ RULE("\"pos\":1,\"type\":\"dnat\",\"fragment_policy\":\"unfragmented\",\"action\":"
	       "\"accept\",\"target\":\"1.2.3.9-1.2.3.4\""), false, "target" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"dst_port\":\"80\""),
	  false, "header or unfragmented" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"header\",\"dst_port\":\"0\""),
	  false, "dst_port" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"src\":\"10.0.0.1/8\""),
	  false, "src" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"proto\":300"), false,
	  "proto" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"ethertype\":100"), false,
	  "ethertype" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"in_ports\":[]"), false,
	  "in_ports" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"in_ports\":[\"x\"]"), false,
	  "in_ports" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"invert\":[\"src\"]"), false,
	  "invert" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"src\":\"10.0.0.0/8\","
	       "\"invert\":\"src\""), false, "invert" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"flow\":\"both\""), false,
	  "flow" },
	{ RULE("\"pos\":1,\"type\":\"drop\",\"fragment_policy\":\"any\",\"port_group\":7"), false,
	  "port_group" },
	{ "{\"schema\":2,\"pos\":1,\"type\":\"accept\",\"fragment_policy\":\"any\"}", false,
	  "schema" },
};

static void test_rule_decode(void)
{
	for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const struct rule_case *c = &rule_cases[i];
		int rc;

		decoded_rule(c->json, &rc);
		ok((rc == 0) == c->valid && (c->valid || strstr(topo_errmsg(), c->why)),
		   "rule %s: %s (%s)", c->json, c->valid ? "valid" : "refused", topo_errmsg());
	}
}

static void test_rule_words(void)
{
	struct topo_nat_target t;
	struct topo_port_range r;
	uint16_t et;
	char buf[64];

	ok(!topo_parse_nat_target("10.0.0.1", &t) && t.from.s_addr == t.to.s_addr &&
	   !t.port_from, "target A: one address, no ports");
	topo_format_nat_target(&t, buf);
	ok(!strcmp(buf, "10.0.0.1"), "formatted back: %s", buf);
	ok(!topo_parse_nat_target("10.0.0.1-10.0.0.3:80", &t) && t.port_from == 80 &&
	   t.port_to == 80, "target A-B:P");
	topo_format_nat_target(&t, buf);
	ok(!strcmp(buf, "10.0.0.1-10.0.0.3:80"), "formatted back: %s", buf);
	ok(topo_parse_nat_target("10.0.0.3-10.0.0.1", &t) && topo_parse_nat_target("10.0.0.1:", &t) &&
	   topo_parse_nat_target("10.0.0.1:0", &t) && topo_parse_nat_target("10.0.0.1:9-8", &t) &&
	   topo_parse_nat_target("10.0.0.1:1:2", &t) && topo_parse_nat_target("0.0.0.0", &t) &&
	   topo_parse_nat_target("10.0.0.1-", &t), "bad targets refused");
	ok(!topo_parse_port_range("80", &r) && r.from == 80 && r.to == 80 &&
	   !topo_parse_port_range("1:65535", &r) && r.to == 65535 &&
	   !topo_parse_port_range("5-6", &r) && r.from == 5, "port ranges P, P1:P2, P1-P2");
	ok(topo_parse_port_range("0", &r) && topo_parse_port_range("65536", &r) &&
	   topo_parse_port_range("9:8", &r) && topo_parse_port_range("", &r) &&
	   topo_parse_port_range("08", &r) && topo_parse_port_range("1:", &r),
	   "bad port ranges refused");
	ok(!topo_parse_ethertype("0x0800", &et) && et == 0x800 && !topo_parse_ethertype("2054", &et) &&
	   et == 0x806 && topo_parse_ethertype("1500", &et) && topo_parse_ethertype("0x10000", &et) &&
	   topo_parse_ethertype("0x", &et), "ethertypes: hex or decimal, 0x0600 and up");
}

static void test_chain_nodes(void)
{
	struct topo_chain c = { .name = "fw" }, dc = { 0 };
	struct topo_port_group g = { .name = "web", .stateful = true }, dg = { 0 };
	struct topo_ip_group_addr a = { 0 };
	struct topo_pg_member m = { 0 };
	struct topo_bridge b = { .name = "b", .tunnel_key = 5 }, db = { 0 };
	char *s;

	s = topo_encode_chain(&c);
	ok(s && !topo_decode_chain(s, strlen(s), UUID1, &dc) && !strcmp(dc.name, "fw") &&
	   !strcmp(dc.id, UUID1), "chain round trips: %s", s ? s : "(null)");
	free(s);
	s = topo_encode_port_group(&g);
	ok(s && !topo_decode_port_group(s, strlen(s), UUID2, &dg) && dg.stateful &&
	   !strcmp(dg.name, "web"), "stateful port group round trips: %s", s ? s : "(null)");
	free(s);
	ok(!topo_decode_pg_member("{\"schema\":1}", 12, UUID3, &m) && !strcmp(m.port_id, UUID3) &&
	   topo_decode_pg_member("{\"schema\":1}", 12, "port0", &m),
	   "a member is named by its port's UUID");
	ok(!topo_decode_ip_group_addr("{\"schema\":1}", 12, "192.0.2.7", &a) &&
	   a.addr.s_addr == htonl(0xc0000207) &&
	   topo_decode_ip_group_addr("{\"schema\":1}", 12, "192.0.2", &a),
	   "an address is named by itself");
	strcpy(b.filters.in, UUID1);
	s = topo_encode_bridge(&b);
	ok(s && strstr(s, "\"infilter\":\"" UUID1 "\"") && !strstr(s, "outfilter") &&
	   !topo_decode_bridge(s, strlen(s), UUID2, &db) && !strcmp(db.filters.in, UUID1) &&
	   !db.filters.out[0], "a bridge's infilter round trips, no outfilter written");
	free(s);
	s = "{\"schema\":1,\"name\":\"b\",\"tunnel_key\":5,\"outfilter\":\"x\"}";
	ok(topo_decode_bridge(s, strlen(s), UUID2, &db) != 0 && strstr(topo_errmsg(), "outfilter"),
	   "a filter that is not a UUID is refused: %s", topo_errmsg());
}

/* A snapshot with chains built by hand: rules ordered by chain and position, numbered by
 * creation; a filter naming a missing chain cleared; members of missing ports left out. */
static void test_chain_snapshot(void)
{
	struct topology t = { 0 };
	struct topo_rule *r;
	char alias[64], user[160];

	t.chains = calloc(2, sizeof(*t.chains));
	t.rules = calloc(4, sizeof(*t.rules));
	t.routers = calloc(1, sizeof(*t.routers));
	t.pg_members = calloc(1, sizeof(*t.pg_members));
	t.port_groups = calloc(1, sizeof(*t.port_groups));
	if (!t.chains || !t.rules || !t.routers || !t.pg_members || !t.port_groups) {
		ok(false, "out of memory");
		return;
	}
	t.n_chains = 2;
	strcpy(t.chains[0].id, ID(50));
	strcpy(t.chains[0].name, "fw");
	t.chains[0].czxid = 1;
	strcpy(t.chains[1].id, ID(51));
	strcpy(t.chains[1].name, "sub");
	t.chains[1].czxid = 2;
	t.n_rules = 4;
	for (int i = 0; i < 4; i++) {
		r = &t.rules[i];
		snprintf(r->id, sizeof(r->id), ID(6%d), i);
		strcpy(r->chain_id, i == 3 ? ID(51) : ID(50));
		r->type = TOPO_RULE_ACCEPT;
		r->czxid = 10 + i;
	}
	/* Created 0, 1, 2 in fw; 1 then inserted first. */
	t.rules[0].pos = 2;
	t.rules[1].pos = 1;
	t.rules[2].pos = 3;
	t.rules[3].pos = 1;
	t.rules[3].type = TOPO_RULE_JUMP;
	strcpy(t.rules[3].jump_id, ID(50));
	t.n_routers = 1;
	strcpy(t.routers[0].id, ID(20));
	strcpy(t.routers[0].name, "r");
	t.routers[0].tunnel_key = 9;
	strcpy(t.routers[0].filters.in, ID(51));
	strcpy(t.routers[0].filters.out, ID(59)); /* no such chain */
	t.n_port_groups = 1;
	strcpy(t.port_groups[0].id, ID(70));
	strcpy(t.port_groups[0].name, "web");
	t.n_pg_members = 1;
	strcpy(t.pg_members[0].group_id, ID(70));
	strcpy(t.pg_members[0].port_id, ID(99)); /* no such port */
	if (topo_normalise(&t)) {
		ok(false, "normalises: %s", topo_errmsg());
		return;
	}
	ok(t.n_rules == 4 && !strcmp(t.rules[0].id, ID(61)) && !strcmp(t.rules[1].id, ID(60)) &&
	   !strcmp(t.rules[2].id, ID(62)) && !strcmp(t.rules[3].id, ID(63)),
	   "rules in chain order: by chain, then position");
	ok(t.rules[0].ordinal == 1 && t.rules[1].ordinal == 0 && t.rules[3].ordinal == 0,
	   "rule aliases number by creation within the chain");
	ok(!topo_alias(&t, ID(61), alias, sizeof(alias)) && !strcmp(alias, "chain0:rule1"),
	   "a rule's alias: %s", alias);
	ok(topo_find_rule(&t, "fw:rule1") == &t.rules[0] &&
	   topo_find_chain_rule(&t, ID(51), "rule0") == &t.rules[3] &&
	   !topo_find_chain_rule(&t, ID(51), "rule1") && topo_find_chain(&t, "chain1") ==
	   &t.chains[1], "rules found by chain and alias");
	ok(!strcmp(t.routers[0].filters.in, ID(51)) && !t.routers[0].filters.out[0],
	   "a filter naming a missing chain is cleared, the other kept");
	ok(t.n_pg_members == 0 && t.n_skipped == 1, "a member of a missing port left out");
	ok(topo_find_user(&t, ID(51), user, sizeof(user)) &&
	   !strcmp(user, "router router0 infilter"), "a chain's user: %s", user);
	ok(topo_find_user(&t, ID(50), user, sizeof(user)) &&
	   !strcmp(user, "rule chain1:rule0 jump-to"), "a jump's target is used: %s", user);
	ok(!topo_find_user(&t, ID(70), user, sizeof(user)), "an unused port group has no user");
	ok(!topo_alias(&t, ID(70), alias, sizeof(alias)) && !strcmp(alias, "pgroup0"),
	   "a port group's alias: %s", alias);
	topo_free(&t);
}

/* ---- base/index.h: the growing, indexed array ---- */

static void test_index_append(void)
{
	struct rec {
		uint32_t key, value;
	} *items = NULL;
	struct index ix;
	size_t n = 0, cap = 0;
	bool all = true;
	int rc = 0;

	index_init(&ix, items, sizeof(*items), 0, sizeof(uint32_t), INDEX_BYTES);
	for (uint32_t k = 0; !rc && k < 200; k++) {
		struct rec r = { .key = k * 7 + 1, .value = k };

		rc = index_append(&ix, &items, &n, &cap, &r);
	}
	ok(!rc && n == 200 && cap == 256, "index_append: 200 records, grown 64 -> 128 -> 256");
	for (uint32_t k = 0; k < 200; k++) {
		uint32_t key = k * 7 + 1;
		long i = index_find(&ix, &key);

		all = all && i == (long)k && items[i].value == k;
	}
	ok(all, "index_append: every key found at its position, through the growths");
	ok(index_find(&ix, &(uint32_t){ 2 }) == -1, "index_append: a key never added is not found");
	index_free(&ix);
	free(items);
}

int main(void)
{
	mx_log_init("test_topology", MX_LOG_ERROR);
	test_decode();
	test_index_append();
	test_roundtrip();
	test_mac_node();
	test_router_roundtrip();
	test_admin_defaults();
	test_admin_roundtrip();
	test_status_roundtrip();
	test_iface_many_addrs();
	test_arp_node();
	test_cidr();
	test_find_router();
	test_bgp_roundtrip();
	test_find_bgp();
	test_parse();
	test_uuid();
	test_find();
	test_decode_named();
	test_normalise();
	test_lookup_unindexed();
	test_acl();
	test_rule_roundtrip();
	test_rule_decode();
	test_rule_words();
	test_chain_nodes();
	test_chain_snapshot();
	printf("1..%d\n", n_test);
	return n_failed ? 1 : 0;
}
