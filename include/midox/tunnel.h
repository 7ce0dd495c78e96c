/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Tunnel zones: which underlay addresses this host accepts VXLAN from. */
#ifndef MIDOX_TUNNEL_H
#define MIDOX_TUNNEL_H

#include "common.h"

/* tunnel address (__be32) -> struct mx_tunpeer: members of the zones this host is in. */
#define MX_MAP_TUNPEER "midox_tunpeer"
#define MX_TUNPEER_MAX_ENTRIES 4096

struct mx_tunpeer {
	__u32 flags; /* reserved, 0 */
};
_Static_assert(sizeof(struct mx_tunpeer) == 4, "mx_tunpeer layout");

#endif
