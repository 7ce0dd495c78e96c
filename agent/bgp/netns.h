/* SPDX-License-Identifier: Apache-2.0 */
/* A speaker's network namespace: its own, named after the host and the port's tunnel key,
 * holding the router port's MAC and addresses on "bgp0", one end of a veth pair whose
 * other end (bgp_speaker_if) stays in the agent's namespace (docs/bgp.md). */
#ifndef MIDOX_AGENT_BGP_NETNS_H
#define MIDOX_AGENT_BGP_NETNS_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

#define BGP_NETNS_IF "bgp0"
#define BGP_NETNS_NAME_LEN 32

struct bgp_tools {
	char ip[256];   /* iproute2's ip */
	char bird[256];
};

/* "mxbgp-<first 8 of the host id>-<key, 6 hex digits>": unique on a machine shared by
 * several hosts (test namespaces). */
void bgp_netns_name(const char *host_id, uint32_t port_key, char name[BGP_NETNS_NAME_LEN]);
/* Make the namespace and the pair if missing, and put w's MAC and addresses on bgp0 (what
 * is there already is set again: a changed MAC or address is corrected). */
int bgp_netns_ensure(const struct bgp_tools *x, const char *name, const struct bgp_want *w);
/* Remove the pair and the namespace (what is already gone is fine). */
void bgp_netns_remove(const struct bgp_tools *x, const char *name, uint32_t port_key);

#endif
