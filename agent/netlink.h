/* SPDX-License-Identifier: Apache-2.0 */
/* The two things the agent asks of rtnetlink: tell me when links change, and resolve the
 * underlay neighbour of a tunnel peer before a flooded frame needs it. */
#ifndef MIDOX_AGENT_NETLINK_H
#define MIDOX_AGENT_NETLINK_H

#include <linux/types.h>

/* A socket that becomes readable when any link is added, removed or changes, and when an
 * address is added or removed (the host's interface report, status.c). */
int link_events_open(void);
/* Read and discard what is pending; returns 1 if anything was there (or was lost: the
 * socket overflowed). */
int link_events_drain(int fd);

/* Ask the kernel to resolve addr on ifindex as if traffic used it (NTF_USE). */
int neigh_use(int ifindex, __be32 addr);

#endif
