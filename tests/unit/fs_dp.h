/* SPDX-License-Identifier: Apache-2.0 */
/* The flow-state test object (tests/unit/fs_test.bpf.c) loaded as one host, nothing pinned,
 * for test_flowstate and mxbench-fs. */
#ifndef MIDOX_TEST_FS_DP_H
#define MIDOX_TEST_FS_DP_H

#include <errno.h>

#include <bpf/libbpf.h>

#include "midox/config.h"
#include "midox/port.h"
#include "midox/tunnel.h"
#include "tests/fs_test.skel.h"

/* struct fs_test_in of fs_test.bpf.c */
struct fs_dp_in {
	__u64 now_ns;
	__u32 device, commit, out_key;
	__be32 tunnel_addr, host_addr;
	__u8 smac[6], dmac[6];
	__u32 drop_key;
	__u32 notes;
};

/* What one host is: its tunnel address, the one peer it accepts VXLAN from, the port bound
 * here (on device, delivered to ifindex 1), the underlay interface of its fib lookups. */
struct fs_dp_host {
	__be32 addr, peer;
	__u32 device, local_port;
	int underlay_ifindex;
};

static inline int fs_dp_put(struct bpf_map *m, const void *k, const void *v)
{
	return bpf_map__update_elem(m, k, bpf_map__key_size(m), v, bpf_map__value_size(m), 0);
}

/* Open and load it with a table of ct_entries entries, its maps filled as h says. 0 or
 * -errno. */
static inline int fs_dp_open(struct fs_test **skel, __u32 ct_entries, const struct fs_dp_host *h)
{
	struct mx_config cfg = { .tunnel_addr = h->addr, .vxlan_port = __builtin_bswap16(4789),
				 .underlay_ifindex = (__u32)h->underlay_ifindex };
	struct mx_port port = { .device_key = h->device, .ifindex = 1, .flags = MX_PORT_LOCAL };
	struct mx_tunpeer peer = { 0 };
	struct bpf_map *map;
	__u32 zero = 0;
	int err;

	*skel = fs_test__open();
	if (!*skel)
		return -errno;
	bpf_object__for_each_map(map, (*skel)->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	err = bpf_map__set_max_entries((*skel)->maps.midox_ct, ct_entries);
	if (!err)
		err = fs_test__load(*skel);
	if (!err)
		err = fs_dp_put((*skel)->maps.midox_config, &zero, &cfg);
	if (!err)
		err = fs_dp_put((*skel)->maps.midox_tunpeer, &h->peer, &peer);
	if (!err)
		err = fs_dp_put((*skel)->maps.midox_port_v2, &h->local_port, &port);
	return err;
}

#endif
