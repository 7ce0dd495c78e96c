/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ICMP from the virtual routers: echo replies, and errors (rate-limited by midox_icmprate)
 * that quote the packet they answer. */
#ifndef MX_BPF_ICMP_H
#define MX_BPF_ICMP_H

#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/router.h"
#include "lib/csum.h"
#include "lib/parse.h"

/* ICMP (RFC 792). linux/icmp.h drags libc in, so the few names are here. */
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_NET_UNREACH 0  /* code of ICMP_DEST_UNREACH */
#define ICMP_PKT_FILTERED 13 /* code of ICMP_DEST_UNREACH: administratively prohibited */
#define ICMP_EXC_TTL 0      /* code of ICMP_TIME_EXCEEDED */

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest; /* echo: id and sequence; errors: unused, 0 */
};

#define ICMP_TTL 64
#define ICMP_TOS_INTERNETCONTROL 0xc0 /* what Linux gives its ICMP errors */
/* The quoted original: its IPv4 header and the first 8 bytes after it (RFC 792), or 20
 * (see icmp_error) when the kernel refuses to cut the packet that short. */
#define ICMP_QUOTE_L4 8
#define ICMP_QUOTE_L4_LONG 20
#define ICMP_QUOTE_MAX (60 + ICMP_QUOTE_L4_LONG)

/* One error costs this much credit (ns); credit accrues with time up to the burst. */
#define ICMP_RATE_COST_NS (1000000000ull / MX_ICMP_RATE_PER_SEC)
#define ICMP_RATE_BURST_NS (ICMP_RATE_COST_NS * MX_ICMP_RATE_BURST)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_icmp_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_icmprate SEC(".maps");

/* Take one error's worth from this CPU's bucket; false when it is empty. */
static __always_inline bool icmp_rate_take(void)
{
	__u32 zero = 0;
	struct mx_icmp_rate *r = bpf_map_lookup_elem(&midox_icmprate, &zero);
	__u64 now = bpf_ktime_get_ns(), credit;

	if (!r)
		return false;
	credit = r->last_ns ? r->tokens + (now - r->last_ns) : ICMP_RATE_BURST_NS;
	if (credit > ICMP_RATE_BURST_NS)
		credit = ICMP_RATE_BURST_NS;
	r->last_ns = now;
	if (credit < ICMP_RATE_COST_NS) {
		r->tokens = credit;
		return false;
	}
	r->tokens = credit - ICMP_RATE_COST_NS;
	return true;
}

static __always_inline bool icmp_type_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* Whether an error may answer this packet (RFC 1812 4.3.2.7): not for a fragment other
 * than the first, a source that names no single host, or an ICMP error. l4: the cursor
 * after the IPv4 header. */
static __always_inline bool icmp_error_allowed(const struct iphdr *ip, const struct cursor *l4)
{
	struct cursor c = *l4;
	__u8 *type;

	if (!ipv4_is_first_fragment(ip) || !ip->saddr || ipv4_is_multicast_or_bcast(ip->saddr))
		return false;
	if (ip->protocol != IPPROTO_ICMP)
		return true;
	type = cursor_take(&c, 1);
	return !type || !icmp_type_is_error(*type);
}

/* Turn an echo request into its reply in place: addresses swapped, TTL reset, checksums
 * updated incrementally (options, if any, stay as they are). */
static __always_inline void icmp_echo_reply(struct ethhdr *eth, struct iphdr *ip,
					    struct icmphdr *icmp, const __u8 *src_mac,
					    const __u8 *dst_mac)
{
	__be32 addr = ip->saddr;
	__be16 old = ((__be16 *)ip)[4]; /* ttl, protocol */

	ip->saddr = ip->daddr;
	ip->daddr = addr;
	ip->ttl = ICMP_TTL;
	csum_replace2(&ip->check, old, ((__be16 *)ip)[4]);
	old = *(__be16 *)icmp; /* type, code */
	icmp->type = ICMP_ECHOREPLY;
	csum_replace2(&icmp->checksum, old, *(__be16 *)icmp);
	mac_copy(eth->h_dest, dst_mac);
	mac_copy(eth->h_source, src_mac);
}

/* What an error is made of: the headers in front of the quote. */
struct icmp_error_hdr {
	struct ethhdr eth;
	struct iphdr ip;
	struct icmphdr icmp;
} __attribute__((packed));

/* What the error needs to know of the packet it answers (packet pointers die on the way). */
struct icmp_error_to {
	__be32 from;            /* the router port's address */
	__be32 to;              /* the packet's source */
	__u8 from_mac[ETH_ALEN];
	__u8 to_mac[ETH_ALEN];
	__u16 ip_hlen;          /* the packet's IPv4 header length */
	__u16 ip_len;           /* its total length */
};

/* Cut the packet to ETH_HLEN + the quote: its IPv4 header + ICMP_QUOTE_L4 bytes. The kernel
 * refuses to cut a CHECKSUM_PARTIAL packet (locally sent TCP, say) before the L4 checksum
 * field; such a packet is quoted with ICMP_QUOTE_L4_LONG bytes of L4, which covers it (RFC
 * 1812 allows more than 8). Returns the quote's length, 0 on failure. */
static __always_inline __u32 icmp_quote_cut(struct __sk_buff *skb, const struct icmp_error_to *t)
{
	__u32 avail = skb->len - ETH_HLEN, q;

	if (avail > t->ip_len)
		avail = t->ip_len;
	q = t->ip_hlen + ICMP_QUOTE_L4;
	if (q > avail)
		q = avail;
	if (!bpf_skb_change_tail(skb, ETH_HLEN + q, 0))
		return q;
	q = t->ip_hlen + ICMP_QUOTE_L4_LONG;
	if (q > avail)
		q = avail;
	return bpf_skb_change_tail(skb, ETH_HLEN + q, 0) ? 0 : q;
}

/* Turn the packet into ICMP error type/code to its source: Ethernet + IPv4 + ICMP in front
 * of the quoted original, both checksums computed. 0, or a negative errno when the skb
 * could not be reshaped (then it must be dropped). A subprogram: its buffers then live in a
 * frame of their own, not in the caller's beside the rule chains' evaluation. (Unused in
 * an object that includes this header for its names only, such as lib/nat.h's.) */
static __noinline __attribute__((unused)) int icmp_error(struct __sk_buff *skb,
							 const struct icmp_error_to *t,
							 __u8 type, __u8 code)
{
	__u8 quote[ICMP_QUOTE_MAX] = { 0 };
	struct icmp_error_hdr e = { 0 };
	__u64 q = icmp_quote_cut(skb, t);
	long err;

	/* The compiler may test a copy of q; the barrier makes it test the one passed on. */
	asm volatile("" : "+r"(q));
	if (q < sizeof(struct iphdr) || q > ICMP_QUOTE_MAX)
		return -EINVAL;
	err = bpf_skb_load_bytes(skb, ETH_HLEN, quote, q);
	if (!err)
		err = bpf_skb_adjust_room(skb, sizeof(e.ip) + sizeof(e.icmp), BPF_ADJ_ROOM_MAC, 0);
	if (err)
		return (int)err;
	mac_copy(e.eth.h_dest, t->to_mac);
	mac_copy(e.eth.h_source, t->from_mac);
	e.eth.h_proto = bpf_htons(ETH_P_IP);
	e.ip.version = 4;
	e.ip.ihl = 5;
	e.ip.tos = ICMP_TOS_INTERNETCONTROL;
	e.ip.tot_len = bpf_htons(sizeof(e.ip) + sizeof(e.icmp) + q);
	e.ip.ttl = ICMP_TTL;
	e.ip.protocol = IPPROTO_ICMP;
	e.ip.saddr = t->from;
	e.ip.daddr = t->to;
	e.ip.check = ipv4_csum(&e.ip);
	e.icmp.type = type;
	e.icmp.code = code;
	/* The quote buffer is zero beyond q: an odd length is padded as RFC 1071 says. */
	e.icmp.checksum =
		csum_fold32(csum_words(&e.icmp, sizeof(e.icmp)) + csum_words(quote, sizeof(quote)));
	return (int)bpf_skb_store_bytes(skb, 0, &e, sizeof(e), 0);
}

#endif
