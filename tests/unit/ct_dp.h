/* SPDX-License-Identifier: Apache-2.0 */
/* The connection-tracking test object (tests/unit/ct_test.bpf.c) loaded with private maps,
 * for test_conntrack and mxbench-ct. */
#ifndef MIDOX_TEST_CT_DP_H
#define MIDOX_TEST_CT_DP_H

#include <errno.h>

#include <bpf/libbpf.h>

#include "tests/ct_test.skel.h"

/* The test program's input (struct ct_test_in of ct_test.bpf.c). */
struct ct_dp_in {
	__u64 now_ns;
	__u32 device;
	__u32 commit;
	__u32 vary_src;
	__u32 src_base;
};

/* Open and load it, nothing pinned, its table of ct_entries entries. 0 or -errno. */
static inline int ct_dp_open(struct ct_test **skel, __u32 ct_entries)
{
	struct bpf_map *map;
	int err;

	*skel = ct_test__open();
	if (!*skel)
		return -errno;
	bpf_object__for_each_map(map, (*skel)->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	err = bpf_map__set_max_entries((*skel)->maps.midox_ct, ct_entries);
	if (err)
		return err;
	return ct_test__load(*skel);
}

#endif
