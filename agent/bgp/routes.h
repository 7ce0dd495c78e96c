/* SPDX-License-Identifier: Apache-2.0 */
/* What a speaker's BIRD learned: the routes it exported to the kernel table of its
 * namespace (BGP_KERNEL_TABLE, protocol RTPROT_BIRD), read over rtnetlink (docs/bgp.md). */
#ifndef MIDOX_AGENT_BGP_ROUTES_H
#define MIDOX_AGENT_BGP_ROUTES_H

#include <netinet/in.h>
#include <stddef.h>

#include "topology/topology.h"

/* One next hop of a learned prefix (an ECMP route gives one per gateway). */
struct bgp_rib_entry {
	struct topo_cidr dst;
	struct in_addr gw;
};

/* An rtnetlink socket opened in the namespace at netns_path (it stays bound to that
 * namespace). The fd, or a negative errno. */
int bgp_routes_open(const char *netns_path);
/* Every route of the table, one entry per gateway, into *out (malloc'd, *n of them). */
int bgp_routes_dump(int fd, struct bgp_rib_entry **out, size_t *n);

#endif
