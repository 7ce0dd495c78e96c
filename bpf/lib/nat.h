/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Static 1:1 NAT (MidoNet's floating IPs): a SNAT or DNAT rule whose target is one address
 * and no ports rewrites the source or destination at the evaluation point, statelessly
 * (no connection tracking: the reverse direction has a rule of its own). Every checksum
 * stays right: the IPv4 header's, TCP's and UDP's pseudo-header part (a UDP checksum of 0,
 * "none", stays 0), and an ICMP error's quote: the quoted header's address that the
 * rewritten one answers for, the quoted header's checksum, the quoted TCP or UDP checksum
 * as far as the quote holds it, and the ICMP checksum over them. An ICMP echo has no
 * pseudo-header: its checksum does not change. docs/nat.md. */
#ifndef MX_BPF_NAT_H
#define MX_BPF_NAT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/chain.h"
#include "lib/csum.h"
#include "lib/icmp.h"
#include "lib/parse.h"

/* The evaluation's record of its static rewrite (include/midox/chain.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_chain_nat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_chnat SEC(".maps");

static __always_inline struct mx_chain_nat *nat_record(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&midox_chnat, &zero);
}

#define NAT_TCP_CSUM_OFF 16
#define NAT_UDP_CSUM_OFF 6
/* Ethernet, IPv4 with options, ICMP, the quoted IPv4 with options and TCP up to its
 * checksum. */
#define NAT_PULL_LEN (ETH_HLEN + 60 + 8 + 60 + NAT_TCP_CSUM_OFF + 2)

static __always_inline bool nat_icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* Where the L4 checksum of a packet of protocol proto is, whose L4 header starts at c and
 * has at most avail bytes (what the IPv4 length leaves: not the Ethernet padding): NULL
 * when it has none or it is cut off. *udp: a UDP checksum (0 means none). */
static __always_inline __sum16 *nat_l4_csum(struct cursor *c, __u8 proto, __s32 avail,
					    bool *udp)
{
	__u8 *l4;

	*udp = proto == IPPROTO_UDP;
	if (proto == IPPROTO_TCP) {
		if (avail < NAT_TCP_CSUM_OFF + 2)
			return NULL;
		l4 = cursor_take(c, NAT_TCP_CSUM_OFF + 2);
		return l4 ? (__sum16 *)(l4 + NAT_TCP_CSUM_OFF) : NULL;
	}
	if (proto == IPPROTO_UDP) {
		if (avail < NAT_UDP_CSUM_OFF + 2)
			return NULL;
		l4 = cursor_take(c, NAT_UDP_CSUM_OFF + 2);
		return l4 ? (__sum16 *)(l4 + NAT_UDP_CSUM_OFF) : NULL;
	}
	return NULL;
}

/* One address of the quoted header at addr becomes new: its header checksum, its L4
 * checksum (l4sum, if quoted; a UDP 0 stays 0) and the ICMP checksum follow. */
static __always_inline void nat_quote_addr(__be32 *addr, __be32 new, struct iphdr *in,
					   __sum16 *l4sum, bool udp, struct icmphdr *icmp)
{
	__be32 old = *addr;
	__sum16 old_check = in->check, old_l4;

	*addr = new;
	csum_replace4(&in->check, old, new);
	csum_replace4(&icmp->checksum, old, new);
	csum_replace2(&icmp->checksum, old_check, in->check);
	if (l4sum && !(udp && !*l4sum)) {
		old_l4 = *l4sum;
		csum_replace4(l4sum, old, new);
		csum_replace2(&icmp->checksum, old_l4, *l4sum);
	}
}

/* The quote of an ICMP error (at c, avail bytes of it) is a packet that went the other
 * way: the quoted source is the address this packet is sent to, the quoted destination the
 * one it comes from. Where the outer destination old_dst becomes dst, a quoted source
 * old_dst becomes dst too; likewise old_src and the quoted destination. */
static __always_inline void nat_icmp_quote(struct cursor *c, __s32 avail, struct icmphdr *icmp,
					   __be32 old_src, __be32 old_dst, __u32 flags,
					   __be32 src, __be32 dst)
{
	__sum16 *l4sum = NULL;
	struct iphdr *in;
	bool udp = false;

	if (avail < (__s32)sizeof(*in) || parse_ipv4(c, &in) != PARSE_IPV4_OK)
		return;
	avail -= in->ihl * 4;
	if (avail < 0)
		return;
	if (!ipv4_is_fragment(in) || ipv4_is_first_fragment(in))
		l4sum = nat_l4_csum(c, in->protocol, avail, &udp);
	if ((flags & MX_NAT_DST) && in->saddr == old_dst)
		nat_quote_addr(&in->saddr, dst, in, l4sum, udp, icmp);
	if ((flags & MX_NAT_SRC) && in->daddr == old_src)
		nat_quote_addr(&in->daddr, src, in, l4sum, udp, icmp);
}

/* One's complement sum of two 32-bit words (a checksum difference, unfolded). */
static __always_inline __u32 nat_csum_add(__u32 a, __u32 b)
{
	__u32 r = a + b;

	return r + (r < a);
}

/* The IPv4 header in skb (after pull_headers), NULL when the frame is not IPv4. */
static __always_inline struct iphdr *nat_ipv4(struct cursor *c)
{
	struct ethhdr *eth = parse_eth(c);
	struct iphdr *ip;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP) || parse_ipv4(c, &ip) != PARSE_IPV4_OK)
		return NULL;
	return ip;
}

/* The bytes after the IPv4 header at ip that its length counts, when they hold the L4
 * header (not a later fragment); 0 else. */
static __always_inline __s32 nat_l4_avail(const struct iphdr *ip)
{
	__s32 avail = (__s32)bpf_ntohs(ip->tot_len) - ip->ihl * 4;

	if (ipv4_is_fragment(ip) && !ipv4_is_first_fragment(ip))
		return 0;
	return avail > 0 ? avail : 0;
}

/* The inside of an ICMP error in skb, before its outer addresses change (flags, src, dst
 * as nat_static_outer's). A fragmented error's checksum covers bytes not here: left
 * alone. */
static __always_inline void nat_static_quote(struct __sk_buff *skb, __u32 flags, __be32 src,
					     __be32 dst)
{
	struct icmphdr *icmp;
	struct iphdr *ip;
	struct cursor c;
	__s32 avail;

	pull_headers(skb, NAT_PULL_LEN);
	cursor_init(&c, skb);
	ip = nat_ipv4(&c);
	if (!ip || ip->protocol != IPPROTO_ICMP || ipv4_is_fragment(ip))
		return;
	avail = nat_l4_avail(ip) - (__s32)sizeof(*icmp);
	if (avail < 0)
		return;
	icmp = cursor_take(&c, sizeof(*icmp));
	if (icmp && nat_icmp_is_error(icmp->type))
		nat_icmp_quote(&c, avail, icmp, ip->saddr, ip->daddr, flags, src, dst);
}

/* The IPv4 packet in skb: its source becomes src (flags MX_NAT_SRC), its destination dst
 * (MX_NAT_DST). Anything but IPv4 (ARP) is left alone; so is the L4 of a later fragment (the
 * first one's checksum covers the pseudo-header once). The TCP or UDP checksum covers the
 * pseudo-header: it is updated by the kernel's helper, once for both addresses, which also
 * keeps right a checksum the NIC is still to finish (CHECKSUM_PARTIAL, as a VM's veth
 * sends TCP) and the skb's CHECKSUM_COMPLETE sum. 0, or the helper's negative errno (the
 * packet is half-rewritten: drop it). */
static __always_inline int nat_static_outer(struct __sk_buff *skb, __u32 flags, __be32 src,
					    __be32 dst)
{
	__sum16 *l4sum = NULL;
	__u64 mangled = 0;
	struct iphdr *ip;
	struct cursor c;
	bool udp = false;
	__u32 diff = 0;
	void *start;

	pull_headers(skb, NAT_PULL_LEN);
	cursor_init(&c, skb);
	start = c.pos;
	ip = nat_ipv4(&c);
	if (!ip)
		return 0;
	if (ip->protocol != IPPROTO_ICMP)
		l4sum = nat_l4_csum(&c, ip->protocol, nat_l4_avail(ip), &udp);
	if (flags & MX_NAT_SRC) {
		diff = nat_csum_add(~ip->saddr, src);
		csum_replace4(&ip->check, ip->saddr, src);
		ip->saddr = src;
	}
	if (flags & MX_NAT_DST) {
		diff = nat_csum_add(nat_csum_add(diff, ~ip->daddr), dst);
		csum_replace4(&ip->check, ip->daddr, dst);
		ip->daddr = dst;
	}
	if (!l4sum)
		return 0;
	if (udp)
		mangled = BPF_F_MARK_MANGLED_0; /* a UDP checksum of 0 (none) stays 0 */
	/* Size 0: "to" is a checksum difference. */
	return (int)bpf_l4_csum_replace(skb, (__u32)((void *)l4sum - start), 0, diff,
					BPF_F_PSEUDO_HDR | mangled);
}

/* The rewrite as two global functions, called one after the other: the verifier checks
 * each once, on its own, rather than at every evaluation point of every program with the
 * states the evaluation left (past its limit of a million instructions), and neither adds
 * much to the stack of the deepest program (hop_router, 512 bytes for all its frames).
 * Not static: every object has one copy. */
__noinline int nat_quote_global(struct __sk_buff *skb, __u32 flags, __be32 src, __be32 dst)
{
	if (skb && (flags & (MX_NAT_SRC | MX_NAT_DST)))
		nat_static_quote(skb, flags, src, dst);
	return 0;
}

__noinline int nat_outer_global(struct __sk_buff *skb, __u32 flags, __be32 src, __be32 dst)
{
	if (!skb || !(flags & (MX_NAT_SRC | MX_NAT_DST)))
		return 0;
	return nat_static_outer(skb, flags, src, dst);
}

/* Apply what an evaluation's static NAT rules decided (n: nothing when none did): an ICMP
 * error's inside first (it is matched against the addresses before the rewrite), then the
 * headers. 0, or a negative errno when the packet could not be written (drop it). */
static __always_inline int nat_static_apply(struct __sk_buff *skb, const struct mx_chain_nat *n)
{
	if (!(n->flags & (MX_NAT_SRC | MX_NAT_DST)))
		return 0;
	nat_quote_global(skb, n->flags, n->src, n->dst);
	return nat_outer_global(skb, n->flags, n->src, n->dst);
}

/* A router with filters is entered by port entry: the packet's addresses before its
 * infilters, for the router's own ICMP errors (nat_router_undo). Not IPv4: nothing noted. */
static __always_inline void nat_router_note(struct __sk_buff *skb, __u32 entry)
{
	struct mx_chain_nat *n = nat_record();
	__be32 addrs[2];
	__be16 proto;

	if (!n)
		return;
	n->orig_entry = 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN - 2, &proto, sizeof(proto)) ||
	    proto != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + __builtin_offsetof(struct iphdr, saddr), addrs, sizeof(addrs)))
		return;
	n->orig_src = addrs[0];
	n->orig_dst = addrs[1];
	n->orig_entry = entry;
}

/* The router entered by port entry answers the packet in skb (source src now) with an
 * ICMP error: if its infilters translated the packet, it is translated back first, so that
 * the error quotes it as it arrived and goes to its sender (MidoNet quoted the packet as it
 * arrived). The address to send the error to. Packet pointers are dead after it. */
static __always_inline __be32 nat_router_undo(struct __sk_buff *skb, __u32 entry, __be32 src,
					      __be32 dst)
{
	struct mx_chain_nat *n = nat_record();
	__u32 flags;

	if (!n || n->orig_entry != entry)
		return src;
	flags = (n->orig_src != src ? MX_NAT_SRC : 0) | (n->orig_dst != dst ? MX_NAT_DST : 0);
	if (flags && nat_outer_global(skb, flags, n->orig_src, n->orig_dst))
		return src;
	return n->orig_src;
}

#endif
