/* SPDX-License-Identifier: Apache-2.0 */
/* Complete IPv4 frames for the static NAT tests (test_chain.c): every checksum computed
 * here from scratch (RFC 791, 793, 768, 792; frames.h's RFC 1071 sum), independently of
 * the datapath's incremental updates, so that a frame the datapath rewrote can be compared
 * byte for byte with the one built with the translated addresses. */
#ifndef MIDOX_TEST_NAT_FRAMES_H
#define MIDOX_TEST_NAT_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "frames.h"

/* What to build: proto 6 TCP, 17 UDP, 1 ICMP (an echo request, or with err_type an ICMP
 * error quoting the packet inner describes). */
struct nat_pkt {
	uint8_t proto;
	uint32_t src, dst;      /* network order */
	uint16_t sport, dport;  /* TCP, UDP; ICMP echo: id in sport */
	uint16_t frag_off;      /* host order, as on the wire */
	bool udp_no_csum;       /* UDP: checksum 0 ("none") */
	uint8_t err_type, err_code;
	const struct nat_pkt *inner; /* ICMP error: the packet quoted */
	size_t quote_l4;        /* ICMP error: the quoted packet's L4 bytes (8, or 20 for TCP's
				 * checksum) */
	uint8_t tcp_flags;      /* TCP: 0 is PSH ACK */
	bool echo_reply;        /* ICMP echo: a reply (type 0), not a request */
};

#define NAT_PAYLOAD 24

/* The sum of the pseudo-header of p's addresses, protocol and L4 length, unfolded. */
static inline uint32_t nat_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t l4_len)
{
	uint8_t ph[12];

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	frames_put16(ph + 10, (uint16_t)l4_len);
	return (uint16_t)~frames_csum(ph, 12);
}

/* TCP or UDP checksum over the pseudo-header and len bytes at l4 (its field 0 on entry). */
static inline uint16_t nat_l4_csum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *l4,
				   size_t len)
{
	uint32_t sum = nat_pseudo_sum(src, dst, proto, len) + (uint16_t)~frames_csum(l4, len);

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The IPv4 packet (no Ethernet) of p at ip; its length. */
static inline size_t nat_ip_build(const struct nat_pkt *p, uint8_t *ip)
{
	uint8_t *l4 = ip + 20;
	size_t l4_len = 0;
	uint16_t c;

	switch (p->proto) {
	case 6:
		l4_len = 20 + NAT_PAYLOAD;
		memset(l4, 0, l4_len);
		frames_put16(l4, p->sport);
		frames_put16(l4 + 2, p->dport);
		frames_put32(l4 + 4, 0x01020304);
		frames_put32(l4 + 8, 0x0a0b0c0d);
		l4[12] = 0x50;
		l4[13] = p->tcp_flags ? p->tcp_flags : 0x18; /* PSH ACK */
		frames_put16(l4 + 14, 501);
		for (int i = 0; i < NAT_PAYLOAD; i++)
			l4[20 + i] = (uint8_t)(0x41 + i);
		break;
	case 17:
		l4_len = 8 + NAT_PAYLOAD;
		memset(l4, 0, l4_len);
		frames_put16(l4, p->sport);
		frames_put16(l4 + 2, p->dport);
		frames_put16(l4 + 4, (uint16_t)l4_len);
		for (int i = 0; i < NAT_PAYLOAD; i++)
			l4[8 + i] = (uint8_t)(0x61 + 3 * i);
		break;
	case 1:
		if (p->err_type) {
			uint8_t in[128];
			size_t in_len = nat_ip_build(p->inner, in), q = 20 + p->quote_l4;

			l4_len = 8 + (q < in_len ? q : in_len);
			memset(l4, 0, 8);
			l4[0] = p->err_type;
			l4[1] = p->err_code;
			memcpy(l4 + 8, in, l4_len - 8);
		} else {
			l4_len = 8 + NAT_PAYLOAD;
			memset(l4, 0, l4_len);
			l4[0] = p->echo_reply ? 0 : 8;
			frames_put16(l4 + 4, p->sport);
			frames_put16(l4 + 6, 7);
			for (int i = 0; i < NAT_PAYLOAD; i++)
				l4[8 + i] = (uint8_t)i;
		}
		frames_put16(l4 + 2, frames_csum(l4, l4_len));
		break;
	}
	frames_ipv4(ip, 5, p->proto, p->src, p->dst, p->frag_off, l4_len);
	if (p->proto == 6 || (p->proto == 17 && !p->udp_no_csum)) {
		c = nat_l4_csum(p->src, p->dst, p->proto, l4, l4_len);
		if (p->proto == 17 && !c)
			c = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
		frames_put16(l4 + (p->proto == 6 ? 16 : 6), c);
	}
	return 20 + l4_len;
}

/* The frame of p (Ethernet from src_mac to dst_mac) at buf; its length. */
static inline size_t nat_frame(const struct nat_pkt *p, const uint8_t *dst_mac,
			       const uint8_t *src_mac, uint8_t *buf)
{
	size_t n = frames_eth(buf, dst_mac, src_mac, 0x0800);

	return n + nat_ip_build(p, buf + n);
}

#endif
