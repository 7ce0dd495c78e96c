/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BGP uplinks: which packets of an exterior router port belong to its BGP speaker, the BIRD
 * in a namespace of its own behind a veth pair (docs/bgp.md), and the way back out. */
#ifndef MIDOX_BGP_H
#define MIDOX_BGP_H

#include "common.h"

/* struct mx_bgp_key -> struct mx_bgp, both directions in one map:
 *   { exterior interface, peer } -> MX_BGP_TO_SPEAKER: TCP 179 and ICMP from the peer to
 *     the port's address `local`, ARP between them, go to the speaker's veth to_ifindex;
 *   { speaker's veth (host side), peer } -> MX_BGP_TO_WIRE: what the speaker sends the
 *     peer (IPv4 to it, ARP for it) goes out of the exterior interface to_ifindex. */
#define MX_MAP_BGP "midox_bgp"
#define MX_BGP_MAX_ENTRIES 4096
#define MX_BGP_PORT 179

enum mx_bgp_flags {
	MX_BGP_TO_SPEAKER = 1 << 0,
	MX_BGP_TO_WIRE = 1 << 1,
};

struct mx_bgp_key {
	__u32 ifindex;
	__be32 peer;
};
_Static_assert(sizeof(struct mx_bgp_key) == 8, "mx_bgp_key layout");

struct mx_bgp {
	__u32 to_ifindex;
	__be32 local;     /* the router port's address on the peer's subnet */
	__u32 port_key;   /* the exterior router port: drops are counted on it */
	__u32 flags;      /* enum mx_bgp_flags */
};
_Static_assert(sizeof(struct mx_bgp) == 16, "mx_bgp layout");

#endif
