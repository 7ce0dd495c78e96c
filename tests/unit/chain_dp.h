/* SPDX-License-Identifier: Apache-2.0 */
/* The chain evaluator's test object (tests/unit/chain_test.bpf.c) loaded with private maps,
 * for test_chain and mxbench-chain. */
#ifndef MIDOX_TEST_CHAIN_DP_H
#define MIDOX_TEST_CHAIN_DP_H

#include <errno.h>

#include <bpf/libbpf.h>

#include "loader/chain.h"
#include "tests/chain_test.skel.h"

/* Open and load it, nothing pinned; its chain maps' fds into *maps. 0 or -errno. */
static inline int chain_dp_open(struct chain_test **skel, struct mx_chain_maps *maps)
{
	struct bpf_map *map;
	int err;

	*skel = chain_test__open();
	if (!*skel)
		return -errno;
	bpf_object__for_each_map(map, (*skel)->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	err = chain_test__load(*skel);
	if (err)
		return err;
	*maps = (struct mx_chain_maps){ .gen = bpf_map__fd((*skel)->maps.midox_chgen),
					.chain = bpf_map__fd((*skel)->maps.midox_chain_v2),
					.rule = bpf_map__fd((*skel)->maps.midox_chrule),
					.set = bpf_map__fd((*skel)->maps.midox_chset),
					.count = bpf_map__fd((*skel)->maps.midox_chcount),
					.target = bpf_map__fd((*skel)->maps.midox_chnatt) };
	return 0;
}

#endif
