/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Packet parsing with a cursor: every header is bounds-checked against data_end before it
 * is read. Each parser returns a pointer to its header (and advances the cursor) or NULL. */
#ifndef MX_BPF_PARSE_H
#define MX_BPF_PARSE_H

#include <stdbool.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct cursor {
	void *pos;
	void *end;
};

/* Ethernet/IPv4 ARP (RFC 826). linux/if_arp.h drags libc in, so the few names are here. */
#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

struct arp_eth_ipv4 {
	struct {
		__be16 ar_hrd;
		__be16 ar_pro;
		__u8 ar_hln;
		__u8 ar_pln;
		__be16 ar_op;
	} hdr;
	__u8 sha[ETH_ALEN];
	__be32 spa;
	__u8 tha[ETH_ALEN];
	__be32 tpa;
} __attribute__((packed));

struct vxlanhdr {
	__be32 flags; /* VXLAN_FLAG_VNI in the first byte, the rest reserved */
	__be32 vni;   /* VNI in the upper 24 bits */
};

#define IP_MF 0x2000     /* more fragments (linux/ip.h has it only in the kernel) */
#define IP_DF 0x4000     /* don't fragment */
#define IP_OFFSET 0x1fff /* fragment offset */

#define VXLAN_FLAG_VNI 0x08000000u /* the I flag, host order of the first word */

/* Make sure the first want bytes (or the whole packet, if shorter) are in the linear part,
 * where direct packet access can read them. */
static __always_inline void pull_headers(struct __sk_buff *skb, __u32 want)
{
	__u32 len = skb->len < want ? skb->len : want;

	if ((long)skb->data + len > (long)skb->data_end)
		bpf_skb_pull_data(skb, len);
}

static __always_inline void cursor_init(struct cursor *c, struct __sk_buff *skb)
{
	c->pos = (void *)(long)skb->data;
	c->end = (void *)(long)skb->data_end;
}

/* Take len bytes at the cursor: NULL when the packet is shorter. */
static __always_inline void *cursor_take(struct cursor *c, __u32 len)
{
	void *p = c->pos;

	if (p + len > c->end)
		return NULL;
	c->pos = p + len;
	return p;
}

static __always_inline struct ethhdr *parse_eth(struct cursor *c)
{
	return cursor_take(c, sizeof(struct ethhdr));
}

enum parse_ipv4_result { PARSE_IPV4_OK, PARSE_IPV4_TRUNCATED, PARSE_IPV4_BAD_IHL };

/* IPv4 header including options; the cursor ends after the options. */
static __always_inline enum parse_ipv4_result parse_ipv4(struct cursor *c, struct iphdr **out)
{
	struct iphdr *ip = cursor_take(c, sizeof(*ip));
	__u32 opt_len;

	if (!ip)
		return PARSE_IPV4_TRUNCATED;
	if (ip->ihl < 5)
		return PARSE_IPV4_BAD_IHL;
	opt_len = (ip->ihl - 5) * 4;
	if (opt_len && !cursor_take(c, opt_len))
		return PARSE_IPV4_BAD_IHL;
	*out = ip;
	return PARSE_IPV4_OK;
}

static __always_inline bool ipv4_is_fragment(const struct iphdr *ip)
{
	return ip->frag_off & bpf_htons(IP_MF | IP_OFFSET);
}

static __always_inline bool ipv4_is_first_fragment(const struct iphdr *ip)
{
	return !(ip->frag_off & bpf_htons(IP_OFFSET));
}

/* 255.255.255.255 or 224.0.0.0/4: an address that names no single host. */
static __always_inline bool ipv4_is_multicast_or_bcast(__be32 addr)
{
	return addr == 0xffffffffu || (bpf_ntohl(addr) >> 28) == 0xe;
}

static __always_inline struct udphdr *parse_udp(struct cursor *c)
{
	return cursor_take(c, sizeof(struct udphdr));
}

static __always_inline struct vxlanhdr *parse_vxlan(struct cursor *c)
{
	return cursor_take(c, sizeof(struct vxlanhdr));
}

/* Ethernet/IPv4 ARP only; anything else is NULL. */
static __always_inline struct arp_eth_ipv4 *parse_arp(struct cursor *c)
{
	struct arp_eth_ipv4 *arp = cursor_take(c, sizeof(*arp));

	if (!arp || arp->hdr.ar_hrd != bpf_htons(ARPHRD_ETHER) ||
	    arp->hdr.ar_pro != bpf_htons(ETH_P_IP) || arp->hdr.ar_hln != ETH_ALEN ||
	    arp->hdr.ar_pln != 4)
		return NULL;
	return arp;
}

static __always_inline bool mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;
}

static __always_inline bool mac_is_broadcast(const __u8 *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

static __always_inline bool mac_is_zero(const __u8 *mac)
{
	return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

static __always_inline bool mac_equal(const __u8 *a, const __u8 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
		 (a[5] ^ b[5]));
}

static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, ETH_ALEN);
}

#endif
