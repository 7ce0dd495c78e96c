/* SPDX-License-Identifier: Apache-2.0 */
/* What the datapath tests share around the loader: entries put the way the agent puts them,
 * one BPF_PROG_TEST_RUN of a tc program as if the frame came in on an interface. */
#ifndef MIDOX_TEST_DP_FILL_H
#define MIDOX_TEST_DP_FILL_H

#include <stdint.h>
#include <string.h>

#include <bpf/bpf.h>

#include "loader/loader.h"

/* The counter slot the tests give port key (agent/slots.c assigns the agent's): one of its
 * own for every key below MX_TRAFFIC_SLOTS, as the tests' keys are. */
static inline __u32 dp_slot_of(__u32 key)
{
	return key % (MX_TRAFFIC_SLOTS - 1) + 1;
}

/* A MAC-table entry as the agent (and learning) writes it: with the port's counter slot as
 * the hint (dp_slot_of: the slot dp_put_port gives it). */
static inline int dp_put_fdb(struct mx_datapath *dp, __u32 bridge, const uint8_t *mac, __u32 port,
			     __u32 flags)
{
	struct mx_fdb_key k = { .bridge_key = bridge };
	struct mx_fdb_entry v = { .port_key = port, .flags = (__u16)flags,
				  .port_slot = (__u16)dp_slot_of(port) };

	memcpy(k.mac, mac, 6);
	return mx_fdb_update(dp, &k, &v);
}

/* Port key's entry as the agent writes it: in midox_port_v2 with a counter slot (p's own, or
 * dp_slot_of) and, when interior, its peer's slot as the hint (p's, or dp_slot_of), copied into midox_portslot at that slot and, for a port bound here
 * (MX_PORT_LOCAL), into its interface's midox_ifport_v3 entry. */
static inline int dp_put_port(struct mx_datapath *dp, __u32 key, const struct mx_port *p)
{
	struct mx_ifport v = { .port_key = key, .port = *p };
	int err;

	if (!v.port.stats_slot)
		v.port.stats_slot = dp_slot_of(key);
	if ((p->flags & MX_PORT_INTERIOR) && !v.port.peer_slot)
		v.port.peer_slot = dp_slot_of(p->peer_key);
	err = mx_port_update(dp, key, &v.port);
	if (!err)
		err = mx_port_slot_update(dp, v.port.stats_slot, key, &v.port);
	if (err || !(p->flags & MX_PORT_LOCAL))
		return err;
	return mx_ifport_update(dp, p->ifindex, &v);
}

/* Run program fd on in as received on ifindex: the output in out (*out_len: its size in,
 * the frame's length out), the program's verdict in *verdict. 0 or -errno. */
static inline int dp_test_run(int fd, int ifindex, const uint8_t *in, size_t in_len,
			      uint8_t *out, size_t *out_len, int *verdict)
{
	struct __sk_buff ctx = { .ifindex = ifindex, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = in_len,
		    .data_out = out, .data_size_out = *out_len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	int err = bpf_prog_test_run_opts(fd, &opts);

	*out_len = opts.data_size_out;
	*verdict = opts.retval;
	return err;
}

#endif
