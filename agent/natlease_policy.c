// SPDX-License-Identifier: Apache-2.0
#include "natlease_policy.h"

struct nlp_span nlp_span_of(uint16_t port_lo, uint16_t port_hi)
{
	struct nlp_span s = { port_lo / MX_NAT_BLOCK_PORTS, port_hi / MX_NAT_BLOCK_PORTS };

	if (s.last < s.first)
		s.last = s.first;
	return s;
}

/* FNV-1a over the host id and the address. */
unsigned int nlp_start(const char *host_id, uint32_t addr, struct nlp_span span)
{
	uint32_t h = 2166136261u;

	for (const char *p = host_id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((addr >> (8 * i)) & 0xff)) * 16777619u;
	return span.first + h % nlp_span_size(span);
}

unsigned int nlp_candidate(struct nlp_span span, unsigned int start, unsigned int k)
{
	return span.first + (start - span.first + k) % nlp_span_size(span);
}

bool nlp_should_grow(unsigned int max_dest_ports, unsigned int blocks_published,
		     bool exhausted)
{
	if (!blocks_published)
		return true;
	if (blocks_published >= MX_NAT_LEASE_BLOCKS_MAX)
		return false;
	if (exhausted && max_dest_ports)
		return true;
	return (uint64_t)max_dest_ports * 4 > (uint64_t)blocks_published * MX_NAT_BLOCK_PORTS * 3;
}

unsigned int nlp_grow_count(unsigned int blocks_published, bool exhausted)
{
	unsigned int room = blocks_published < MX_NAT_LEASE_BLOCKS_MAX ?
				    MX_NAT_LEASE_BLOCKS_MAX - blocks_published : 0;
	unsigned int want = exhausted && blocks_published ? blocks_published : 1;

	return want < room ? want : room;
}

enum nlp_step nlp_block_step(const struct nlp_block *b, uint64_t now_ns, uint64_t idle_ns,
			     bool may_unpublish)
{
	uint64_t grace_ns = (uint64_t)MX_NAT_LEASE_GRACE_MS * 1000000ull;

	if (b->unpublished_ns) {
		/* A port picked from it just before it left the map: it stays ours. */
		if (b->conns)
			return NLP_REPUBLISH;
		return now_ns - b->unpublished_ns >= grace_ns ? NLP_DROP : NLP_KEEP;
	}
	if (b->conns || !may_unpublish || now_ns - b->used_ns < idle_ns)
		return NLP_KEEP;
	return NLP_UNPUBLISH;
}
