// SPDX-License-Identifier: Apache-2.0
/* The datapath's ids of chains and rules, derived from the topology's ids (loader/chain.h):
 * the agent that installs and a tool that reads the counters compute the same ones. */
#include <errno.h>
#include <stdlib.h>

#include "loader/chain.h"

__u32 mx_chain_id_hash(const char *topo_id)
{
	__u32 h = 2166136261u; /* FNV-1a, 32 bits */

	for (; *topo_id; topo_id++)
		h = (h ^ (unsigned char)*topo_id) * 16777619u;
	return h ? h : 1;
}

int mx_chain_ids_assign(const char *ids, size_t n, size_t stride, __u32 *out)
{
	size_t cap = 16, mask;
	__u32 *slots;

	while (cap < 2 * n)
		cap *= 2;
	mask = cap - 1;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		__u32 id = mx_chain_id_hash(ids + k * stride);

		for (;;) { /* an open-addressed set of the ids given so far */
			size_t i = id & mask;

			while (slots[i] && slots[i] != id)
				i = (i + 1) & mask;
			if (!slots[i]) {
				slots[i] = id;
				break;
			}
			id = id + 1 ? id + 1 : 1; /* taken: the next free value */
		}
		out[k] = id;
	}
	free(slots);
	return 0;
}
