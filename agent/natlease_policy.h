/* SPDX-License-Identifier: Apache-2.0 */
/* The lease policy of dynamic SNAT's port blocks (docs/nat.md, "Port blocks"), as pure
 * functions of what the agent counted: which block to try, when to lease another, when a
 * block is given back. agent/natlease.c does the ZooKeeper and map I/O around them. */
#ifndef MIDOX_AGENT_NATLEASE_POLICY_H
#define MIDOX_AGENT_NATLEASE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "midox/natlease.h"

/* The blocks a port range may lease: every block wholly or partly inside lo..hi. */
struct nlp_span {
	unsigned int first, last; /* block numbers, first <= last */
};
struct nlp_span nlp_span_of(uint16_t port_lo, uint16_t port_hi);
static inline unsigned int nlp_span_size(struct nlp_span s)
{
	return s.last - s.first + 1;
}

/* Where host_id starts looking for free blocks of addr (a __be32) in span: a hash of both,
 * so that hosts start at different points and seldom contend for one block. */
unsigned int nlp_start(const char *host_id, uint32_t addr, struct nlp_span span);
/* The k-th block tried from start (k = 0, 1, ...), wrapping around the span. */
unsigned int nlp_candidate(struct nlp_span span, unsigned int start, unsigned int k);

/* Another block is leased when one destination uses more than 3/4 of the ports held (the
 * datapath picks ports per destination), or when the datapath refused new connections for
 * want of a port (exhausted: its nat-exhausted drops rose) while the address is in use, up
 * to MX_NAT_LEASE_BLOCKS_MAX. An address with no block gets its first. */
bool nlp_should_grow(unsigned int max_dest_ports, unsigned int blocks_published,
		     bool exhausted);

/* How many blocks to lease when nlp_should_grow says so: the first one; one more ahead of
 * need (a destination over 3/4); as many again as are published when the datapath already
 * refused connections for want of a port (a burst: one a tick held new connections to one
 * block's worth a second), up to MX_NAT_LEASE_BLOCKS_MAX. */
unsigned int nlp_grow_count(unsigned int blocks_published, bool exhausted);

/* One leased block as the release rule sees it. */
struct nlp_block {
	uint64_t used_ns;        /* when a connection used it last (or it was leased) */
	uint64_t unpublished_ns; /* when it left the map (0: it is in the map) */
	unsigned int conns;      /* connections using it at the last count */
};

enum nlp_step {
	NLP_KEEP,      /* nothing to do */
	NLP_UNPUBLISH, /* take it out of the map: the datapath picks no new port from it */
	NLP_REPUBLISH, /* out of the map, but a connection came meanwhile: back in */
	NLP_DROP,      /* out of the map for the grace time, unused: delete its node */
};

/* What to do with b at now_ns. may_unpublish: the address keeps another block in the map,
 * or no rule needs it any more (the last block of a needed address is kept). */
enum nlp_step nlp_block_step(const struct nlp_block *b, uint64_t now_ns, uint64_t idle_ns,
			     bool may_unpublish);

#endif
