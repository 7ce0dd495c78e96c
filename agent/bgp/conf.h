/* SPDX-License-Identifier: Apache-2.0 */
/* BIRD 2's configuration for one speaker (docs/bgp.md, "The configuration"). Pure. */
#ifndef MIDOX_AGENT_BGP_CONF_H
#define MIDOX_AGENT_BGP_CONF_H

#include <stddef.h>

#include "plan.h"

/* The kernel routing table of the speaker's namespace that BIRD exports the routes it
 * learned to: the agent reads them from there (RTPROT_BIRD). Not the main table, so that
 * the namespace's own traffic (the sessions, pings of the port's address) never follows a
 * learned route. */
#define BGP_KERNEL_TABLE 100
/* BIRD's names for what the configuration makes. */
#define BGP_PROTO_NETWORKS "midox_networks"
#define BGP_PROTO_KERNEL "midox_learned"
#define BGP_PROTO_PEER_PREFIX "peer_"
/* A peer's protocol name: "peer_" and its UUID with '_' for '-' (stable across
 * reconfigurations, so that a peer's session survives a change to another). */
#define BGP_PROTO_NAME_LEN (sizeof(BGP_PROTO_PEER_PREFIX) + TOPO_ID_LEN)
void bgp_proto_name(const char *peer_id, char name[BGP_PROTO_NAME_LEN]);

/* The configuration text of w into buf: its length, or -ENOSPC if it does not fit. */
int bgp_conf_render(const struct bgp_want *w, char *buf, size_t len);

#endif
