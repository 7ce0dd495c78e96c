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
/* BIRD's wait after a session error before it tries again: from MIN, doubling with each
 * error that follows the last within FORGET seconds, up to MAX (BIRD's defaults: 60, 300,
 * 300). Apart from the peer's connect-retry, which paces connection attempts nobody
 * answered, not sessions that failed. */
#define BGP_ERROR_WAIT_MIN_S 5
#define BGP_ERROR_WAIT_MAX_S 30
#define BGP_ERROR_FORGET_S 120
/* A peer's protocol name: "peer_" and its UUID with '_' for '-' (stable across
 * reconfigurations, so that a peer's session survives a change to another). */
#define BGP_PROTO_NAME_LEN (sizeof(BGP_PROTO_PEER_PREFIX) + TOPO_ID_LEN)
void bgp_proto_name(const char *peer_id, char name[BGP_PROTO_NAME_LEN]);

/* The configuration text of w into buf: its length, or -ENOSPC if it does not fit. */
int bgp_conf_render(const struct bgp_want *w, char *buf, size_t len);

#endif
