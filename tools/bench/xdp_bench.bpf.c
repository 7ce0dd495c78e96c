// SPDX-License-Identifier: Apache-2.0
/* The benchmark's own XDP programs, none of them part of midox:
 *   xdp_gen       the traffic generator: every live frame BPF_PROG_RUN hands it is sent out
 *                 of the interface it runs on (XDP_TX), its headers first restored from
 *                 gen_hdr: a live-frames page is recycled without being reset, and the
 *                 receiving veth builds its skb on that very page, so a datapath that
 *                 rewrites the frame in place (a router: MACs, TTL, checksum) would otherwise
 *                 change every later frame sent from that page
 *   xdp_sink      the receiver's counter: count, then drop
 *   xdp_redirect  setup C, the ceiling: each hop of the overlay replaced by a do-nothing
 *                 redirect to one fixed interface (target_ifindex, set before load)
 *   xdp_pass      lets a veth receive redirected frames (its peer's ndo_xdp_xmit needs one) */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target_ifindex;
#define GEN_HDR_LEN 42 /* Ethernet, IPv4 without options, UDP */
__u8 gen_hdr[GEN_HDR_LEN]; /* set by mxbench before load */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	__u8 *data = (__u8 *)(long)ctx->data, *end = (__u8 *)(long)ctx->data_end;

	if (data + GEN_HDR_LEN > end)
		return XDP_DROP;
	__builtin_memcpy(data, gen_hdr, GEN_HDR_LEN);
	return XDP_TX;
}

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sink_count, &zero);

	(void)ctx;
	if (n)
		(*n)++;
	return XDP_DROP;
}

SEC("xdp")
int xdp_redirect(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_redirect(target_ifindex, 0);
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
