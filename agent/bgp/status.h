/* SPDX-License-Identifier: Apache-2.0 */
/* The state of each BGP session as its BIRD reports it ("show protocols"), published for
 * `midox router R list bgp-peer` and logged when it changes (docs/bgp.md). */
#ifndef MIDOX_AGENT_BGP_STATUS_H
#define MIDOX_AGENT_BGP_STATUS_H

#include <stddef.h>

#include "plan.h"

/* The row of BIRD's "show protocols" reply (its text, codes removed) for each peer of w,
 * into out[i] (peer i of w): state, since, information; a peer without a row gets state
 * "unknown". The information of a session not up also names a TCP MD5 mismatch seen on
 * w's speaker (auth.h), which are forgotten once all its sessions are up. */
void bgp_status_parse(const char *reply, const struct bgp_want *w, struct topo_bgp_status *out);

#endif
