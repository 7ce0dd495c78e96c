/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* VXLAN (RFC 7348) over IPv4: building the outer headers, pushing and popping them. */
#ifndef MX_BPF_VXLAN_H
#define MX_BPF_VXLAN_H

#include <stddef.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/common.h"
#include "midox/config.h"
#include "lib/csum.h"
#include "lib/flowhash.h"
#include "lib/parse.h"

#define VXLAN_TTL 64
#define VXLAN_SPORT_MIN 49152 /* outer source ports: 49152..65535 (RFC 7348 section 5) */
#define VXLAN_SPORT_MASK 0x3fff

/* Everything midox puts in front of the inner Ethernet frame. */
struct vxlan_outer {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	struct vxlanhdr vx;
} __attribute__((packed));
_Static_assert(sizeof(struct vxlan_outer) == MX_VXLAN_OVERHEAD, "VXLAN overhead");

/* The outer IPv4 total length for an inner frame of inner_len bytes. */
static __always_inline __u32 vxlan_ip_len(__u32 inner_len)
{
	return inner_len + MX_VXLAN_OVERHEAD - sizeof(struct ethhdr);
}

/* Outer UDP source port from the inner flow, so the underlay spreads flows (ECMP, RSS). */
static __always_inline __be16 vxlan_sport(struct __sk_buff *skb)
{
	return bpf_htons(VXLAN_SPORT_MIN | (frame_flow_hash(skb) & VXLAN_SPORT_MASK));
}

/* Headers for one inner frame of inner_len bytes; addresses are set by vxlan_outer_to(). */
static __always_inline void vxlan_outer_init(struct vxlan_outer *o, const struct mx_config *cfg,
					     __u32 vni, __be16 sport, __u32 inner_len)
{
	__builtin_memset(o, 0, sizeof(*o));
	o->eth.h_proto = bpf_htons(ETH_P_IP);
	o->ip.version = 4;
	o->ip.ihl = 5;
	o->ip.tot_len = bpf_htons(vxlan_ip_len(inner_len));
	o->ip.frag_off = bpf_htons(IP_DF);
	o->ip.ttl = VXLAN_TTL;
	o->ip.protocol = IPPROTO_UDP;
	o->ip.saddr = cfg->tunnel_addr;
	o->udp.source = sport;
	o->udp.dest = cfg->vxlan_port;
	o->udp.len = bpf_htons(vxlan_ip_len(inner_len) - sizeof(struct iphdr));
	o->udp.check = 0; /* allowed for UDP over IPv4 (RFC 768, RFC 7348 section 5) */
	o->vx.flags = bpf_htonl(VXLAN_FLAG_VNI);
	o->vx.vni = bpf_htonl(vni << 8);
}

/* Address the headers to dst along the route in fib. */
static __always_inline void vxlan_outer_to(struct vxlan_outer *o, __be32 dst,
					   const struct bpf_fib_lookup *fib)
{
	mac_copy(o->eth.h_dest, fib->dmac);
	mac_copy(o->eth.h_source, fib->smac);
	o->ip.daddr = dst;
	o->ip.check = 0;
	o->ip.check = ipv4_csum((const void *)o + offsetof(struct vxlan_outer, ip));
}

/* Make room bytes of room in front of the frame (MX_VXLAN_OVERHEAD, plus the flow-state
 * records a frame may carry, lib/flowstate.h), the inner Ethernet header moved behind it: 0,
 * or the failing helper's negative errno. IP frames go through bpf_skb_adjust_room with the
 * encap flags, which marks the skb as UDP-tunnelled so GSO keeps working (everything in the
 * room, records included, is the tunnel header each segment gets; gso_size shrinks by room);
 * the kernel refuses that for any other protocol (ARP...), which are never GSO and just get
 * bytes pushed in front. */
static __always_inline int vxlan_push_room(struct __sk_buff *skb, __u32 room)
{
	const __u64 flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
			    BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(ETH_HLEN);
	struct ethhdr inner;
	long err;

	if (skb->protocol != bpf_htons(ETH_P_IP) && skb->protocol != bpf_htons(ETH_P_IPV6))
		return (int)bpf_skb_change_head(skb, room, 0);
	err = bpf_skb_load_bytes(skb, 0, &inner, sizeof(inner));
	/* Room goes after the MAC header: [inner eth][room][inner L3] */
	if (!err)
		err = bpf_skb_adjust_room(skb, room, BPF_ADJ_ROOM_MAC, flags);
	if (!err)
		err = bpf_skb_store_bytes(skb, room, &inner, sizeof(inner), 0);
	return (int)err;
}

static __always_inline int vxlan_push(struct __sk_buff *skb)
{
	return vxlan_push_room(skb, MX_VXLAN_OVERHEAD);
}

static __always_inline int vxlan_write(struct __sk_buff *skb, const struct vxlan_outer *o)
{
	return bpf_skb_store_bytes(skb, 0, o, sizeof(*o), 0);
}

/* Strip everything in front of the inner Ethernet frame, which starts at inner_off: 0, or
 * the failing helper's negative errno. */
static __always_inline int vxlan_pop(struct __sk_buff *skb, __u32 inner_off)
{
	struct ethhdr inner;
	long err;

	err = bpf_skb_load_bytes(skb, inner_off, &inner, sizeof(inner));
	/* Removes [outer eth end, inner L3) and keeps the first ETH_HLEN bytes, which then
	 * take the inner Ethernet header. */
	if (!err)
		err = bpf_skb_adjust_room(skb, -(__s32)inner_off, BPF_ADJ_ROOM_MAC, 0);
	if (!err)
		err = bpf_skb_store_bytes(skb, 0, &inner, sizeof(inner), 0);
	return (int)err;
}

#endif
