// SPDX-License-Identifier: Apache-2.0
/* Setup D of the benchmark, none of it part of midox: the tc path's ceiling. The same hops
 * as midox's A (tc ingress of the VM's host-side veth, the underlay, tc ingress of the other
 * host's ul0), each with midox's own encapsulation code (bpf/lib/vxlan.h: the outer headers
 * built per frame, the flow's source port, the IPv4 checksum, bpf_skb_adjust_room with the
 * encapsulation flags that keep GSO) and a redirect to one fixed interface: no parsing, no
 * lookup, no decision. What A costs beyond D is midox's simulation.
 *   tc_encap  every frame into VXLAN to the fixed peer, then out of target_ifindex
 *   tc_decap  VXLAN to the fixed port (4789) stripped and the inner frame out of
 *             target_ifindex; anything else passes to the stack */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/vxlan.h"

const volatile __u32 target_ifindex;
/* tc_encap's outer headers, set by mxbench before load */
const volatile __u8 outer_smac[ETH_ALEN], outer_dmac[ETH_ALEN];
const volatile __be32 outer_saddr, outer_daddr;
const volatile __u32 outer_vni;

#define VXLAN_PORT 4789

SEC("tc")
int tc_encap(struct __sk_buff *skb)
{
	struct mx_config cfg = { .tunnel_addr = outer_saddr, .vxlan_port = bpf_htons(VXLAN_PORT) };
	struct bpf_fib_lookup fib = { 0 };
	struct vxlan_outer o;

	for (int i = 0; i < ETH_ALEN; i++) {
		fib.smac[i] = outer_smac[i];
		fib.dmac[i] = outer_dmac[i];
	}
	vxlan_outer_init(&o, &cfg, outer_vni, vxlan_sport(skb), skb->len);
	vxlan_outer_to(&o, outer_daddr, &fib);
	if (vxlan_push(skb) || vxlan_write(skb, &o))
		return TC_ACT_SHOT;
	return bpf_redirect(target_ifindex, 0);
}

SEC("tc")
int tc_decap(struct __sk_buff *skb)
{
	struct vxlan_outer o;

	if (bpf_skb_load_bytes(skb, 0, &o, sizeof(o)) || o.eth.h_proto != bpf_htons(ETH_P_IP) ||
	    o.ip.protocol != IPPROTO_UDP || o.udp.dest != bpf_htons(VXLAN_PORT))
		return TC_ACT_OK;
	if (vxlan_pop(skb, MX_VXLAN_OVERHEAD))
		return TC_ACT_SHOT;
	return bpf_redirect(target_ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
