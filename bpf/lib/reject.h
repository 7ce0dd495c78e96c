/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The answer to a TCP packet a reject rule refused (bpf/lib/chain.h, MX_CHAIN_VF_TCP_RST): a
 * RST as RFC 793 makes it. Other packets are answered with an ICMP unreachable,
 * administratively prohibited: bpf/lib/icmp.h's icmp_error with ICMP_PKT_FILTERED, as a
 * router's other errors (router_icmp_error). The pipeline sends either back to the sender
 * (filter_reject_answer in lib/filter.h, docs/chains-datapath.md). */
#ifndef MX_BPF_REJECT_H
#define MX_BPF_REJECT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/csum.h"
#include "lib/parse.h"

#define REJECT_TTL 64

/* The RST: Ethernet, IPv4 without options, TCP without options. */
struct reject_rst {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

/* What the TCP checksum covers: the pseudo-header and the header (no payload). */
struct reject_tcp_sum {
	__be32 saddr, daddr;
	__u8 zero, proto;
	__be16 len;
	struct tcphdr tcp;
};

/* Turn the TCP segment in skb into the RST that answers it, from its destination (address
 * and port) and from_mac to its sender (to_mac, or the segment's source MAC when NULL): with the segment's acknowledgment number as sequence
 * number if it has one, else sequence 0 and an ACK of all it occupied (data, SYN, FIN).
 * false: nothing to answer (not a whole TCP header, a RST itself, a GSO super-packet) or the
 * skb could not be reshaped; the caller drops it. */
static __noinline bool reject_tcp_rst(struct __sk_buff *skb, const __u8 *from_mac,
					   const __u8 *to_mac)
{
	struct reject_rst r = { 0 };
	struct reject_tcp_sum sum = { 0 };
	struct cursor c;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct tcphdr *th;
	__u32 seg_len;

	if (skb->gso_size)
		return false;
	pull_headers(skb, ETH_HLEN + 60 + sizeof(*th));
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP) || parse_ipv4(&c, &ip) != PARSE_IPV4_OK ||
	    ip->protocol != IPPROTO_TCP || !ipv4_is_first_fragment(ip))
		return false;
	th = cursor_take(&c, sizeof(*th));
	if (!th || th->rst || th->doff < 5)
		return false;
	seg_len = bpf_ntohs(ip->tot_len);
	if (seg_len < ip->ihl * 4 + th->doff * 4)
		return false;
	seg_len -= ip->ihl * 4 + th->doff * 4;
	mac_copy(r.eth.h_dest, to_mac ? to_mac : eth->h_source);
	mac_copy(r.eth.h_source, from_mac);
	r.eth.h_proto = bpf_htons(ETH_P_IP);
	r.ip.version = 4;
	r.ip.ihl = 5;
	r.ip.tot_len = bpf_htons(sizeof(r.ip) + sizeof(r.tcp));
	r.ip.frag_off = bpf_htons(IP_DF);
	r.ip.ttl = REJECT_TTL;
	r.ip.protocol = IPPROTO_TCP;
	r.ip.saddr = ip->daddr;
	r.ip.daddr = ip->saddr;
	r.ip.check = ipv4_csum(&r.ip);
	r.tcp.source = th->dest;
	r.tcp.dest = th->source;
	r.tcp.doff = 5;
	r.tcp.rst = 1;
	if (th->ack) {
		r.tcp.seq = th->ack_seq;
	} else {
		r.tcp.ack = 1;
		r.tcp.ack_seq = bpf_htonl(bpf_ntohl(th->seq) + seg_len + th->syn + th->fin);
	}
	sum.saddr = r.ip.saddr;
	sum.daddr = r.ip.daddr;
	sum.proto = IPPROTO_TCP;
	sum.len = bpf_htons(sizeof(r.tcp));
	sum.tcp = r.tcp;
	r.tcp.check = csum_fold32(csum_words(&sum, sizeof(sum)));
	/* Packet pointers die here. */
	if (bpf_skb_change_tail(skb, sizeof(r), 0))
		return false;
	return !bpf_skb_store_bytes(skb, 0, &r, sizeof(r), 0);
}

#endif
