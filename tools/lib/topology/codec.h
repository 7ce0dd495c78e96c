/* SPDX-License-Identifier: Apache-2.0 */
/* The encoding of each znode (JSON, "schema": 1; docs/zookeeper.md), for the library's
 * reader and writers, the tests, the fuzz targets and the benchmark's writer. */
#ifndef MIDOX_TOPOLOGY_CODEC_H
#define MIDOX_TOPOLOGY_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "topology.h"
#include "status.h"

/* Every decoder has this signature, so that one table of object kinds drives the reader.
 * json/len: the node's data (not NUL-terminated). name: the node's name, which carries the
 * object's identity: a UUID (hosts, zones, bridges, routers, ports, routes, BGP peers and networks; a member's
 * host), an interface name (a binding), "<mac>,<port id>" (a learned MAC), "<a.b.c.d>" (a
 * static ARP entry), "<a.b.c.d>,<mac>,<router id>" (a learned one). It is validated and
 * stored in out; NULL leaves the identity to the caller (not for MACs and ARP entries,
 * whose name is their data). What lives higher in the path (a binding's host, a route's
 * router) is the caller's too. out: the object, zeroed by the caller. Fails with -EINVAL,
 * topo_errmsg() saying why: bad JSON, a different schema, wrong types, missing fields,
 * values out of range. Unknown fields are accepted (a newer writer may add some). */
typedef int topo_decode_fn(const char *json, size_t len, const char *name, void *out);

topo_decode_fn topo_decode_host;	/* struct topo_host */
topo_decode_fn topo_decode_zone;	/* struct topo_zone */
topo_decode_fn topo_decode_member;	/* struct topo_member */
topo_decode_fn topo_decode_bridge;	/* struct topo_bridge */
topo_decode_fn topo_decode_router;	/* struct topo_router */
topo_decode_fn topo_decode_port;	/* struct topo_port */
topo_decode_fn topo_decode_route;	/* struct topo_route */
topo_decode_fn topo_decode_binding;	/* struct topo_binding */
topo_decode_fn topo_decode_mac;		/* struct topo_mac */
topo_decode_fn topo_decode_arp_static;	/* struct topo_arp */
topo_decode_fn topo_decode_arp_learned;	/* struct topo_arp */
topo_decode_fn topo_decode_bgp_peer;	/* struct topo_bgp_peer */
topo_decode_fn topo_decode_bgp_network;	/* struct topo_bgp_network */
topo_decode_fn topo_decode_route_learned;	/* struct topo_route, learned from BGP */
topo_decode_fn topo_decode_bgp_status;	/* struct topo_bgp_status (named by its peer) */
topo_decode_fn topo_decode_key_counter;	/* uint32_t: the next tunnel key */
topo_decode_fn topo_decode_iface;	/* struct topo_iface (status.h) */
topo_decode_fn topo_decode_binding_status;	/* struct topo_binding_status */
/* Rule chains (chain_codec.c): a rule is named by its UUID, its chain is its path's; a port
 * group member is named by its port's UUID; an IP address group's address by the address. */
topo_decode_fn topo_decode_chain;	/* struct topo_chain */
topo_decode_fn topo_decode_rule;	/* struct topo_rule */
topo_decode_fn topo_decode_port_group;	/* struct topo_port_group */
topo_decode_fn topo_decode_pg_member;	/* struct topo_pg_member */
topo_decode_fn topo_decode_ip_group;	/* struct topo_ip_group */
topo_decode_fn topo_decode_ip_group_addr;	/* struct topo_ip_group_addr */

/* Encoders: compact JSON with sorted keys, malloc'd; NULL only when out of memory. The
 * identity (in the path) is not encoded. */
char *topo_encode_host(const struct topo_host *h);
char *topo_encode_zone(const struct topo_zone *z);
char *topo_encode_member(const struct topo_member *m);
/* A bridge's node {"name", "tunnel_key", "state"}; a router's is the same with its "asn". */
char *topo_encode_device(const char *name, uint32_t tunnel_key, bool down);
char *topo_encode_bridge(const struct topo_bridge *b);
char *topo_encode_router(const struct topo_router *r);
char *topo_encode_port(const struct topo_port *p);
char *topo_encode_route(const struct topo_route *r);
char *topo_encode_binding(const struct topo_binding *b);
char *topo_encode_arp(const struct topo_arp *a);
char *topo_encode_bgp_peer(const struct topo_bgp_peer *p);
char *topo_encode_bgp_network(const struct topo_bgp_network *n);
/* A learned route's data: {"router","dst","port","gw","peer","weight"}. */
char *topo_encode_route_learned(const struct topo_route *r);
char *topo_encode_bgp_status(const struct topo_bgp_status *s);
char *topo_encode_key_counter(uint32_t next);
/* /midox/ports/<id>/binding: the port's side of its binding, {"host","interface"}. */
char *topo_encode_port_guard(const char *host_id, const char *ifname);
/* A host's binding index (binding_index.c): the data of its bindings directory. Decoded
 * sorted by interface, czxid 0 taken as mzxid (the index's own write); the host is the
 * caller's. *out is the caller's to free. 0, or -EINVAL (the reason set) / -ENOMEM. */
int topo_decode_binding_index(const char *buf, size_t len, int64_t mzxid, int32_t *synced,
			      struct topo_binding **out, size_t *n);
char *topo_encode_binding_index(const struct topo_binding *b, size_t n, int32_t synced);
/* A learned MAC's data: the host that learned it. */
char *topo_encode_mac_owner(const char *host_id);
char *topo_encode_alive(void);
/* What an agent reports of its host (status.h). */
char *topo_encode_iface(const struct topo_iface *f);
char *topo_encode_binding_status(const struct topo_binding_status *b);
char *topo_encode_chain(const struct topo_chain *c);
char *topo_encode_rule(const struct topo_rule *r);
char *topo_encode_port_group(const struct topo_port_group *g);
char *topo_encode_ip_group(const struct topo_ip_group *g);

#endif
