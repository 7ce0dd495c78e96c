// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the ZooKeeper object decoders (tools/lib/topology/codec.c, and
 * natlease.c's lease data). The first byte picks the decoder; for those whose node name
 * carries data (MACs, ARP entries), the name runs up to the first newline and the data
 * follows. The data is not NUL-terminated, as a znode's is not.
 * Beyond not crashing: whatever a decoder accepts must encode to text that decodes again
 * and encodes to the same text (what the agent reads back is what the CLI wrote). A host's
 * binding index (binding_index.c) is the last kind. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/chains.h"
#include "topology/codec.h"
#include "topology/natlease.h"
#include "base/log.h"

/* New kinds go last: the first byte of every committed seed keeps its decoder. */
enum kind { HOST, ZONE, MEMBER, BRIDGE, ROUTER, PORT, ROUTE, BINDING, KEY, MAC, ARP, ARP_LEARNED,
	    IFACE, BINDING_STATUS, BGP_PEER, BGP_NETWORK, ROUTE_LEARNED, BGP_STATUS, CHAIN, RULE,
	    PORT_GROUP, IP_GROUP, NAT_LEASE, BINDING_INDEX, KIND__MAX };

union object {
	struct topo_host host;
	struct topo_zone zone;
	struct topo_member member;
	struct topo_bridge bridge;
	struct topo_router router;
	struct topo_port port;
	struct topo_route route;
	struct topo_binding binding;
	uint32_t key;
	struct topo_mac mac;
	struct topo_arp arp;
	struct topo_iface iface;
	struct topo_binding_status binding_status;
	struct topo_bgp_peer bgp_peer;
	struct topo_bgp_network bgp_network;
	struct topo_bgp_status bgp_status;
	struct topo_chain chain;
	struct topo_rule rule;
	struct topo_port_group port_group;
	struct topo_ip_group ip_group;
	char nat_host[TOPO_ID_LEN]; /* a NAT port block's lease (natlease.h) */
};

static int decode(enum kind k, const char *name, const char *buf, size_t len, union object *o)
{
	switch (k) {
	case HOST: return topo_decode_host(buf, len, NULL, &o->host);
	case ZONE: return topo_decode_zone(buf, len, NULL, &o->zone);
	case MEMBER: return topo_decode_member(buf, len, NULL, &o->member);
	case BRIDGE: return topo_decode_bridge(buf, len, NULL, &o->bridge);
	case ROUTER: return topo_decode_router(buf, len, NULL, &o->router);
	case PORT: return topo_decode_port(buf, len, NULL, &o->port);
	case ROUTE: return topo_decode_route(buf, len, NULL, &o->route);
	case BINDING: return topo_decode_binding(buf, len, NULL, &o->binding);
	case KEY: return topo_decode_key_counter(buf, len, NULL, &o->key);
	case MAC: return topo_decode_mac(buf, len, name, &o->mac);
	case ARP: return topo_decode_arp_static(buf, len, name, &o->arp);
	case ARP_LEARNED: return topo_decode_arp_learned(buf, len, name, &o->arp);
	case IFACE: return topo_decode_iface(buf, len, NULL, &o->iface);
	case BGP_PEER: return topo_decode_bgp_peer(buf, len, NULL, &o->bgp_peer);
	case BGP_NETWORK: return topo_decode_bgp_network(buf, len, NULL, &o->bgp_network);
	case ROUTE_LEARNED: return topo_decode_route_learned(buf, len, NULL, &o->route);
	case BGP_STATUS: return topo_decode_bgp_status(buf, len, NULL, &o->bgp_status);
	case CHAIN: return topo_decode_chain(buf, len, NULL, &o->chain);
	case RULE: return topo_decode_rule(buf, len, NULL, &o->rule);
	case PORT_GROUP: return topo_decode_port_group(buf, len, NULL, &o->port_group);
	case IP_GROUP: return topo_decode_ip_group(buf, len, NULL, &o->ip_group);
	case NAT_LEASE: return topo_nat_lease_decode(buf, len, o->nat_host);
	default: return topo_decode_binding_status(buf, len, NULL, &o->binding_status);
	}
}

/* The encoding of a decoded object; NULL for the key counter and learned MACs (their
 * encoders take a number or the owner alone, not the object). */
static char *encode(enum kind k, const union object *o)
{
	switch (k) {
	case HOST: return topo_encode_host(&o->host);
	case ZONE: return topo_encode_zone(&o->zone);
	case MEMBER: return topo_encode_member(&o->member);
	case BRIDGE: return topo_encode_bridge(&o->bridge);
	case ROUTER: return topo_encode_router(&o->router);
	case PORT: return topo_encode_port(&o->port);
	case ROUTE: return topo_encode_route(&o->route);
	case BINDING: return topo_encode_binding(&o->binding);
	case ARP:
	case ARP_LEARNED: return topo_encode_arp(&o->arp);
	case IFACE: return topo_encode_iface(&o->iface);
	case BINDING_STATUS: return topo_encode_binding_status(&o->binding_status);
	case BGP_PEER: return topo_encode_bgp_peer(&o->bgp_peer);
	case BGP_NETWORK: return topo_encode_bgp_network(&o->bgp_network);
	case ROUTE_LEARNED: return topo_encode_route_learned(&o->route);
	case BGP_STATUS: return topo_encode_bgp_status(&o->bgp_status);
	case CHAIN: return topo_encode_chain(&o->chain);
	case RULE: return topo_encode_rule(&o->rule);
	case PORT_GROUP: return topo_encode_port_group(&o->port_group);
	case IP_GROUP: return topo_encode_ip_group(&o->ip_group);
	case NAT_LEASE: return topo_nat_lease_encode(o->nat_host);
	default: return NULL;
	}
}

static void differs(const char *first, const char *second)
{
	fprintf(stderr, "round trip differs:\n  %s\n  %s\n", first ? first : "(none)",
		second ? second : "(not decoded again)");
	abort();
}

/* A host's binding index (binding_index.c): an array, not one object. */
static void roundtrip_index(const char *buf, size_t len)
{
	struct topo_binding *a = NULL, *b = NULL;
	char *first, *second = NULL;
	size_t n, m;
	int32_t synced, again;

	if (topo_decode_binding_index(buf, len, 0, &synced, &a, &n))
		return;
	first = topo_encode_binding_index(a, n, synced);
	if (first && !topo_decode_binding_index(first, strlen(first), 0, &again, &b, &m))
		second = topo_encode_binding_index(b, m, again);
	if (!first || !second || strcmp(first, second))
		differs(first, second);
	free(a);
	free(b);
	free(first);
	free(second);
}

/* Decode; if accepted, the encoding must decode again and encode to the same text. */
static void roundtrip(enum kind k, const char *name, const char *buf, size_t len)
{
	union object a = { 0 }, b = { 0 };
	char *first, *second = NULL;

	if (k == BINDING_INDEX) {
		roundtrip_index(buf, len);
		return;
	}
	if (decode(k, name, buf, len, &a) || k == KEY || k == MAC)
		return;
	first = encode(k, &a);
	if (first && !decode(k, name, first, strlen(first), &b))
		second = encode(k, &b);
	if (!first || !second || strcmp(first, second))
		differs(first, second);
	free(first);
	free(second);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mx_log_init("fuzz_codec", MX_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum kind k;
	const uint8_t *nl;
	char *name, *buf;
	size_t n, rest;

	if (size < 1)
		return 0;
	k = (enum kind)(data[0] % KIND__MAX);
	data++;
	size--;
	/* The name (MAC and ARP nodes only) up to the first newline, the data after it. */
	nl = k >= MAC && k <= ARP_LEARNED ? memchr(data, '\n', size) : NULL;
	n = nl ? (size_t)(nl - data) : 0;
	rest = nl ? size - n - 1 : size;
	name = strndup((const char *)data, n);
	/* A copy of exactly rest bytes, so that reading past the data is caught. */
	buf = malloc(rest ? rest : 1);
	if (name && buf) {
		memcpy(buf, nl ? nl + 1 : data, rest);
		roundtrip(k, name, buf, rest);
	}
	free(name);
	free(buf);
	return 0;
}
