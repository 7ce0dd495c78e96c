// SPDX-License-Identifier: Apache-2.0
/* The rule chains' maps as pinned by a running agent's datapath, opened read only (midox
 * chain C list rule, midox-agent --verify): each pin checked against the map table. No
 * BPF object here, so the CLI links this without the datapath. */
#include <unistd.h>

#include "loader/chain.h"
#include "loader/loader.h"

int mx_chain_maps_open_pinned(const char *pin_root, struct mx_chain_maps *m)
{
	const enum mx_map_id ids[] = { MX_MAP_ID_CHAIN_GEN, MX_MAP_ID_CHAIN, MX_MAP_ID_CHAIN_RULE,
				       MX_MAP_ID_CHAIN_SET, MX_MAP_ID_CHAIN_COUNT };
	int *fds[] = { &m->gen, &m->chain, &m->rule, &m->set, &m->count };

	/* Listing reads no target: not opened (-1). */
	struct mx_pinned_map pm;
	int err = 0;

	*m = (struct mx_chain_maps){ -1, -1, -1, -1, -1, -1 };
	for (size_t i = 0; !err && i < sizeof(ids) / sizeof(ids[0]); i++) {
		err = mx_pinned_open(pin_root, ids[i], &pm);
		if (err)
			mx_pinned_close(&pm);
		else
			*fds[i] = pm.fd;
	}
	if (err)
		mx_chain_maps_close_fds(m);
	return err;
}

void mx_chain_maps_close_fds(struct mx_chain_maps *m)
{
	int *fds[] = { &m->gen, &m->chain, &m->rule, &m->set, &m->count, &m->target };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
