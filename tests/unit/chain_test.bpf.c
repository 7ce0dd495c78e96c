/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The chain evaluator (bpf/lib/chain.h) on its own, for tests/unit/test_chain.c and
 * tools/bench/mxbench-chain.c: the chain and the evaluation's inputs come from
 * chain_test_in, the verdict goes to chain_test_out and is the run's return value. With
 * answer set, a reject verdict with the RST flag is answered (bpf/lib/reject.h) and the run
 * returns TC_ACT_OK with the answer, or TC_ACT_SHOT when there is none. What static NAT
 * rules decided goes to chain_test_nat and, unless the verdict drops, is applied to the
 * packet (bpf/lib/nat.h) as the pipeline's filter_eval does. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <linux/pkt_cls.h>

#include "lib/chain.h"
#include "lib/natdyn.h" /* midox_chnatt, which an install writes for dynamic rules */
#include "lib/reject.h"

struct chain_test_in {
	__u32 chain;
	struct chain_input in;
	__u8 answer_mac[ETH_ALEN]; /* the answer's source MAC */
	__u16 answer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct chain_test_in);
} chain_test_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_chain_verdict);
} chain_test_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_chain_nat);
} chain_test_nat SEC(".maps");

SEC("tc")
int chain_test(struct __sk_buff *skb)
{
	__u32 zero = 0;
	const struct chain_test_in *t = bpf_map_lookup_elem(&chain_test_in, &zero);
	struct mx_chain_nat nat = { 0 }, *nat_out;
	struct mx_chain_verdict v, *out;

	if (!t)
		return -1;
	v = chain_filter(skb, t->chain, &t->in, &nat);
	out = bpf_map_lookup_elem(&chain_test_out, &zero);
	if (out)
		*out = v;
	nat_out = bpf_map_lookup_elem(&chain_test_nat, &zero);
	if (nat_out)
		*nat_out = nat;
	if (v.kind != MX_CHAIN_V_DROP && v.kind != MX_CHAIN_V_REJECT &&
	    v.kind != MX_CHAIN_V_TOO_LONG && nat_static_apply(skb, &nat))
		return -2;
	if (t->answer && v.kind == MX_CHAIN_V_REJECT && (v.flags & MX_CHAIN_VF_TCP_RST))
		return reject_tcp_rst(skb, t->answer_mac, NULL) ? TC_ACT_OK : TC_ACT_SHOT;
	return v.kind;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
