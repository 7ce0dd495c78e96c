/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Connection tracking (bpf/lib/conntrack.h) on its own, for tests/unit/test_conntrack.c
 * and tools/bench/mxbench-ct.c: the device, the clock and whether to commit a new
 * connection come from ct_test_in; ct_lookup's result (ct_commit's for a new one) goes to ct_test_out, the verdict is the run's return value. With vary_src set, each
 * run takes the next source address from src_base (the benchmark's stream of new
 * connections). */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/conntrack.h"

struct ct_test_in {
	__u64 now_ns;
	__u32 device;
	__u32 commit;   /* call ct_commit for a MX_CT_V_NEW verdict */
	__u32 vary_src; /* the source address is src_base + the run's number */
	__u32 src_base; /* host order */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_test_in);
} ct_test_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_result);
} ct_test_out SEC(".maps");

__u32 ct_test_runs;

SEC("tc")
int ct_test(struct __sk_buff *skb)
{
	__u32 zero = 0;
	const struct ct_test_in *t = bpf_map_lookup_elem(&ct_test_in, &zero);
	struct ct_result r, *out;
	struct ct_pkt p;

	if (!t)
		return -1;
	ct_parse(skb, t->device, &p);
	if (t->vary_src)
		p.key.src = bpf_htonl(t->src_base + ct_test_runs++);
	r = ct_lookup(&p, t->now_ns);
	if (r.verdict == MX_CT_V_NEW && t->commit)
		r = ct_commit(&p, t->now_ns);
	out = bpf_map_lookup_elem(&ct_test_out, &zero);
	if (out)
		*out = r;
	return r.verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
