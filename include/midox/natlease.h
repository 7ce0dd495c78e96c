/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Dynamic SNAT's port blocks: the ports a host may give out for a NAT address. MidoNet's
 * scheme: the ports of an address are cut into blocks of MX_NAT_BLOCK_PORTS; a host leases
 * blocks in ZooKeeper (ephemeral nodes of its session, so a host's death frees them) and
 * picks ports only from its own blocks, so two hosts that SNAT to one address never pick
 * the same port. Within its blocks a host picks a port per destination: a port is taken
 * only for the (address, port, destination, destination port, protocol) it is bound to.
 *
 * The agent writes the map (agent/natlease.c); the datapath reads it when it chooses a
 * port (bpf/lib/natdyn.h). A per-CPU hash, every CPU's copy the same, so that the agent's
 * update of a present key rewrites the value in place: a plain hash would replace the
 * element and may hand the old one at once to the next insert, under a reader. The agent
 * only appends blocks to a live value; a block is released by removing it from the value,
 * waiting MX_NAT_LEASE_GRACE_MS (longer than any program run) and checking that no
 * connection uses it before its ZooKeeper node is deleted. */
#ifndef MIDOX_NATLEASE_H
#define MIDOX_NATLEASE_H

#include "common.h"

#define MX_MAP_NAT_LEASE "midox_natlease"
#define MX_NAT_LEASE_MAX_ENTRIES 4096 /* NAT addresses a host picks ports for */
#define MX_NAT_BLOCK_PORTS 64         /* ports per block: block b holds b*64 .. b*64+63 */
#define MX_NAT_BLOCKS 1024            /* 65536 / MX_NAT_BLOCK_PORTS */
#define MX_NAT_LEASE_BLOCKS_MAX 128   /* blocks one host holds for one address */
#define MX_NAT_LEASE_GRACE_MS 1000

/* __be32 NAT address -> struct mx_nat_lease, per CPU. */
struct mx_nat_lease {
	__u32 n_blocks;                         /* valid entries of block[] */
	__u32 pad;
	__u16 block[MX_NAT_LEASE_BLOCKS_MAX];   /* leased block numbers, each < MX_NAT_BLOCKS */
};
_Static_assert(sizeof(struct mx_nat_lease) == 8 + 2 * MX_NAT_LEASE_BLOCKS_MAX,
	       "mx_nat_lease layout");

#endif
