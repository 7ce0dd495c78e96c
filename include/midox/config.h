/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Host-wide datapath settings, written by the agent, read on every packet. */
#ifndef MIDOX_CONFIG_H
#define MIDOX_CONFIG_H

#include "common.h"

#define MX_MAP_CONFIG "midox_config"

/* Array of one entry, index 0. */
struct mx_config {
	__be32 tunnel_addr;     /* this host's address in its tunnel zones; 0: not a member yet */
	__u32 underlay_ifindex; /* interface that carries VXLAN */
	__be16 vxlan_port;      /* UDP destination port of VXLAN, network order */
	__u16 flags;            /* reserved, 0 */
	__u32 pad;
};
_Static_assert(sizeof(struct mx_config) == 16, "mx_config layout");

#endif
