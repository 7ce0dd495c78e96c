/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow state across hosts (bpf/lib/flowstate.h, bpf/lib/flowstate_import.h) for
 * tests/unit/test_flowstate.c, which loads this object twice: two hosts, each with tables of
 * its own. fs_encap is one device's part of a pass on the sending host as the pipeline runs
 * it: the pass begins (flowstate_begin), connection tracking on the frame (ct_parse,
 * ct_lookup, ct_commit for a new connection when asked), then the remote delivery's
 * encapsulation (deliver_encap, with the outer addresses and MACs from fs_test_in instead of
 * a fib lookup); fs_remote is the same pass ending in the real deliver_remote (fib lookup
 * in the test's network namespace, the MTU rule, the redirect). fs_decap is the real
 * underlay_ingress. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/conntrack.h"
#include "lib/deliver.h"
#include "lib/underlay.h"

struct fs_test_in {
	__u64 now_ns;
	__u32 device;
	__u32 commit;      /* call ct_commit for a MX_CT_V_NEW verdict */
	__u32 out_key;     /* the egress port's key: the VNI */
	__be32 tunnel_addr; /* this host's */
	__be32 host_addr;  /* the egress port's host */
	__u8 smac[6], dmac[6]; /* the underlay's, as the fib lookup would give them */
	__u32 drop_key;    /* fs_remote: the ingress port, which counts its drops */
	__u32 notes;       /* fs_encap: this many more records of made-up connections (the
			    * benchmark's frames with 1 or 6 records), 0 in the tests */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fs_test_in);
} fs_test_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_result);
} fs_test_out SEC(".maps");

/* The pass's start and its device's connection tracking, as the pipeline will run them. */
static __always_inline void fs_track(struct __sk_buff *skb, const struct fs_test_in *t)
{
	__u32 zero = 0;
	struct ct_result r, *out;
	struct ct_pkt p;

	flowstate_begin();
	ct_parse(skb, t->device, &p);
	r = ct_lookup(&p, t->now_ns);
	if (r.verdict == MX_CT_V_NEW && t->commit)
		r = ct_commit(&p, t->now_ns);
	out = bpf_map_lookup_elem(&fs_test_out, &zero);
	if (out)
		*out = r;
}

SEC("tc")
int fs_encap(struct __sk_buff *skb)
{
	__u32 zero = 0;
	const struct fs_test_in *t = bpf_map_lookup_elem(&fs_test_in, &zero);
	struct mx_config cfg = { 0 };
	struct bpf_fib_lookup fib = { 0 };
	struct mx_fs_buf *fs;

	if (!t)
		return TC_ACT_SHOT;
	fs_track(skb, t);
	for (__u32 i = 0; i < MX_FS_REC_MAX; i++) {
		struct mx_ct_key k = { .device = t->device, .src = i, .proto = IPPROTO_UDP };
		struct mx_ct_entry e = { .state = MX_CT_UDP };

		if (i >= t->notes)
			break;
		flowstate_note(MX_FS_OP_UPDATE, &k, &e);
	}
	cfg.tunnel_addr = t->tunnel_addr;
	cfg.vxlan_port = bpf_htons(4789);
	__builtin_memcpy(fib.smac, t->smac, 6);
	__builtin_memcpy(fib.dmac, t->dmac, 6);
	fs = flowstate_pending();
	if (deliver_encap(skb, &cfg, t->out_key, t->host_addr, &fib, fs,
			  fs ? flowstate_len(fs) : 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("tc")
int fs_remote(struct __sk_buff *skb)
{
	__u32 zero = 0;
	const struct fs_test_in *t = bpf_map_lookup_elem(&fs_test_in, &zero);

	if (!t)
		return TC_ACT_SHOT;
	fs_track(skb, t);
	return deliver_remote(skb, t->drop_key, t->out_key, 0, t->host_addr);
}

SEC("tc")
int fs_decap(struct __sk_buff *skb)
{
	return underlay_ingress_run(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
