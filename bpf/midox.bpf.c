/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox's BPF datapath: the programs, wired to their logic in lib/. All run at tc ingress
 * (cls_bpf, direct action) but underlay_xdp; docs/datapath.md says why. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/bgp.h"
#include "lib/pipeline.h"
#include "lib/underlay.h"
#include "lib/underlay_xdp.h"

/* On the host side of every bound interface: VMs' and exterior router ports' (uplinks). */
SEC("tc")
int port_ingress(struct __sk_buff *skb)
{
	return pipeline_ingress(skb);
}

/* Never attached: reached by tail call (midox_hop) from port_ingress and from each other. */
SEC("tc")
int hop_bridge(struct __sk_buff *skb)
{
	return pipeline_hop(skb, false);
}

SEC("tc")
int hop_router(struct __sk_buff *skb)
{
	return pipeline_hop(skb, true);
}

SEC("tc")
int hop_flood(struct __sk_buff *skb)
{
	return bridge_flood_run(skb);
}

/* On the host side of a BGP speaker's veth (lib/bgp.h). */
SEC("tc")
int bgp_speaker_ingress(struct __sk_buff *skb)
{
	return bgp_from_speaker(skb);
}

/* On the interface that carries VXLAN between hosts. */
SEC("tc")
int underlay_ingress(struct __sk_buff *skb)
{
	return underlay_ingress_run(skb);
}

/* On the same interface at XDP, when the agent is configured so (underlay_xdp): VXLAN to a
 * local port delivered from XDP, everything else passed on to underlay_ingress. */
SEC("xdp")
int underlay_xdp(struct xdp_md *ctx)
{
	return underlay_xdp_run(ctx);
}

/* bpf_fib_lookup is a GPL-only helper: the kernel refuses the object unless its license
 * string is one it knows as GPL-compatible ("Apache-2.0" is not; checked). */
char LICENSE[] SEC("license") = "Dual BSD/GPL";
