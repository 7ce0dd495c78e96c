/* SPDX-License-Identifier: Apache-2.0 */
/* Test frames for the datapath, built from a short description: an inner Ethernet frame
 * (IPv4 UDP/TCP, ARP or IPv6), optionally wrapped in outer IPv4/UDP/VXLAN, optionally cut. */
#ifndef MIDOX_TEST_FRAMES_H
#define MIDOX_TEST_FRAMES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FRAMES_MAX 2048
#define FRAMES_ETH_HLEN 14
#define FRAMES_VXLAN_OVERHEAD 50

enum frames_kind { FRAMES_IPV4, FRAMES_ARP, FRAMES_IPV6 };

struct frames_spec {
	enum frames_kind kind;
	const uint8_t *dst, *src;  /* inner Ethernet */
	uint8_t ip_proto;          /* FRAMES_IPV4: 0 = UDP; 1 = ICMP echo (icmp_type); 6 = TCP */
	uint8_t icmp_type;         /* ip_proto 1: 8 = echo request, 0 = echo reply */
	bool icmp_zero_id;         /* ip_proto 1: id and sequence 0 instead of 1 */
	uint16_t ttl;              /* inner (or only) IPv4 TTL: 0 = 64, FRAMES_TTL_ZERO = 0 */
	uint16_t sport;            /* UDP (TCP) source port, 0 = 40000 */
	uint8_t tcp_flags;         /* ip_proto 6: the flags byte (FIN 1, SYN 2, RST 4, ACK 16) */
	uint32_t tcp_seq, tcp_ack; /* ip_proto 6: sequence and acknowledgment numbers */
	uint16_t arp_op;           /* FRAMES_ARP: 0 = request */
	const char *sip, *tip;     /* IPv4 or ARP addresses, dotted quad */
	uint16_t payload;          /* bytes of zero payload after the L3/L4 header */
	/* Outer VXLAN, when vni or vx_flags or osrc is set. */
	bool vxlan;
	const char *osrc, *odst;
	uint32_t vni;
	uint16_t dport;            /* 0 = 4789; no vxlan: the UDP or TCP dport, 0 = 5000 */
	uint32_t vx_flags;         /* 0 = I flag only; use FRAMES_VX_NO_I for none */
	uint16_t frag_off;         /* outer IPv4 frag_off, host order */
	uint8_t ihl;               /* outer (or only) IPv4 IHL, 0 = 5 */
	bool bad_check;            /* inner (or only) IPv4 header checksum off by one bit */
	size_t cut;                /* truncate the whole frame to this length, 0 = no */
};

#define FRAMES_VX_NO_I 0xffffffffu
#define FRAMES_TTL_ZERO 256

static inline uint32_t frames_addr(const char *s)
{
	struct in_addr a = { 0 };

	if (s)
		inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static inline void frames_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void frames_put32(uint8_t *p, uint32_t v)
{
	frames_put16(p, v >> 16);
	frames_put16(p + 2, v & 0xffff);
}

/* The Internet checksum of len bytes (RFC 1071), written independently of the BPF side. */
static inline uint16_t frames_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline size_t frames_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	frames_put16(p + 12, type);
	return FRAMES_ETH_HLEN;
}

/* IPv4 header of ihl words (options: NOPs, so that they count in the checksum) carrying
 * l4_len bytes, checksummed. */
static inline size_t frames_ipv4(uint8_t *p, uint8_t ihl, uint8_t proto, uint32_t src, uint32_t dst,
				 uint16_t frag_off, size_t l4_len)
{
	size_t hlen = (ihl ? ihl : 5) * 4;

	memset(p, 0, hlen < 20 ? 20 : hlen);
	if (hlen > 20)
		memset(p + 20, 1, hlen - 20); /* IPOPT_NOOP */
	p[0] = 0x40 | (ihl ? ihl : 5);
	frames_put16(p + 2, hlen + l4_len);
	frames_put16(p + 6, frag_off);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	if (hlen >= 20)
		frames_put16(p + 10, frames_csum(p, hlen));
	return hlen < 20 ? 20 : hlen;
}

static inline size_t frames_udp(uint8_t *p, uint16_t sport, uint16_t dport, size_t payload)
{
	frames_put16(p, sport);
	frames_put16(p + 2, dport);
	frames_put16(p + 4, 8 + payload);
	frames_put16(p + 6, 0);
	memset(p + 8, 0, payload);
	return 8 + payload;
}

static inline size_t frames_arp(uint8_t *p, uint16_t op, const uint8_t *sha, uint32_t spa,
				const uint8_t *tha, uint32_t tpa)
{
	frames_put16(p, 1);
	frames_put16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	frames_put16(p + 6, op);
	memcpy(p + 8, sha, 6);
	memcpy(p + 14, &spa, 4);
	memcpy(p + 18, tha, 6);
	memcpy(p + 24, &tpa, 4);
	return 28;
}

/* ICMP echo header (id and sequence 1, or 0) over l4_len bytes at p, checksummed. */
static inline void frames_icmp_echo(uint8_t *p, uint8_t type, size_t l4_len, bool zero_id)
{
	memset(p, 0, l4_len);
	p[0] = type;
	frames_put16(p + 4, zero_id ? 0 : 1);
	frames_put16(p + 6, zero_id ? 0 : 1);
	frames_put16(p + 2, frames_csum(p, l4_len));
}

/* A TCP header without options (ports 40000 or sport -> 5000 or dport, as UDP's, s's flags,
 * sequence and acknowledgment numbers, window 0) and zero payload over l4_len bytes at p;
 * its checksum is left 0 (nothing on the path reads it). */
static inline void frames_tcp(uint8_t *p, const struct frames_spec *s, size_t l4_len)
{
	memset(p, 0, l4_len);
	frames_put16(p, s->sport ? s->sport : 40000);
	frames_put16(p + 2, s->vxlan || !s->dport ? 5000 : s->dport);
	frames_put32(p + 4, s->tcp_seq);
	frames_put32(p + 8, s->tcp_ack);
	p[12] = 5 << 4;
	p[13] = s->tcp_flags;
}

/* Give the IPv4 header at ip TTL ttl (a frames_spec ttl), checksum recomputed. */
static inline void frames_set_ttl(uint8_t *ip, uint16_t ttl)
{
	if (!ttl)
		return;
	ip[8] = ttl == FRAMES_TTL_ZERO ? 0 : ttl;
	frames_put16(ip + 10, 0);
	frames_put16(ip + 10, frames_csum(ip, (ip[0] & 0xf) * 4));
}

static inline size_t frames_inner(const struct frames_spec *s, uint8_t *p)
{
	static const uint8_t zero_mac[6];
	size_t n;

	switch (s->kind) {
	case FRAMES_ARP:
		n = frames_eth(p, s->dst, s->src, 0x0806);
		return n + frames_arp(p + n, s->arp_op ? s->arp_op : 1, s->src, frames_addr(s->sip),
				      zero_mac, frames_addr(s->tip));
	case FRAMES_IPV6:
		n = frames_eth(p, s->dst, s->src, 0x86dd);
		memset(p + n, 0, 40 + s->payload);
		p[n] = 0x60;
		return n + 40 + s->payload;
	default:
		n = frames_eth(p, s->dst, s->src, 0x0800);
		if (s->ip_proto && s->ip_proto != 17) {
			size_t l4 = (s->ip_proto == 1 ? 8 : 20) + s->payload;

			n += frames_ipv4(p + n, s->vxlan ? 0 : s->ihl, s->ip_proto, frames_addr(s->sip),
					 frames_addr(s->tip), s->vxlan ? 0 : s->frag_off, l4);
			frames_set_ttl(p + FRAMES_ETH_HLEN, s->ttl);
			p[FRAMES_ETH_HLEN + 11] ^= s->bad_check;
			if (s->ip_proto == 1)
				frames_icmp_echo(p + n, s->icmp_type, l4, s->icmp_zero_id);
			else if (s->ip_proto == 6)
				frames_tcp(p + n, s, l4);
			else
				memset(p + n, 0, l4);
			return n + l4;
		}
		n += frames_ipv4(p + n, s->vxlan ? 0 : s->ihl, 17, frames_addr(s->sip),
				 frames_addr(s->tip), s->vxlan ? 0 : s->frag_off, 8 + s->payload);
		frames_set_ttl(p + FRAMES_ETH_HLEN, s->ttl);
		p[FRAMES_ETH_HLEN + 11] ^= s->bad_check;
		return n + frames_udp(p + n, s->sport ? s->sport : 40000,
				      s->vxlan || !s->dport ? 5000 : s->dport, s->payload);
	}
}

/* Outer headers in front of an inner frame of inner_len bytes already at p + 50 (+ options). */
static inline size_t frames_vxlan(const struct frames_spec *s, uint8_t *p, const uint8_t *odst_mac,
				  const uint8_t *osrc_mac, size_t inner_len)
{
	size_t n = frames_eth(p, odst_mac, osrc_mac, 0x0800);
	uint32_t flags = s->vx_flags == FRAMES_VX_NO_I ? 0 : s->vx_flags ? s->vx_flags : 0x08000000;

	n += frames_ipv4(p + n, s->ihl, 17, frames_addr(s->osrc), frames_addr(s->odst), s->frag_off,
			 8 + 8 + inner_len);
	n += frames_udp(p + n, 50000, s->dport ? s->dport : 4789, 0);
	frames_put16(p + n - 4, 8 + 8 + inner_len);
	frames_put32(p + n, flags);
	frames_put32(p + n + 4, s->vni << 8);
	return n + 8;
}

/* The VXLAN encapsulation midox makes of inner (outer IPv4 without options, DF, TTL 64, UDP
 * checksum 0), into exp; the UDP source port is a flow hash, so it is taken from sport.
 * Returns its length. */
static inline size_t frames_encap(uint8_t *exp, const uint8_t *dmac, const uint8_t *smac,
				  uint32_t src, uint32_t dst, const uint8_t *sport, uint32_t vni,
				  const uint8_t *inner, size_t inner_len)
{
	size_t n = frames_eth(exp, dmac, smac, 0x0800);

	n += frames_ipv4(exp + n, 5, 17, src, dst, 0x4000, 16 + inner_len);
	memcpy(exp + n, sport, 2);
	frames_put16(exp + n + 2, 4789);
	frames_put16(exp + n + 4, 16 + inner_len);
	frames_put16(exp + n + 6, 0);
	frames_put32(exp + n + 8, 0x08000000);
	frames_put32(exp + n + 12, vni << 8);
	memcpy(exp + n + 16, inner, inner_len);
	return n + 16 + inner_len;
}

/* Whether out is exactly exp; else why, in diag. */
static inline bool frames_same(const uint8_t *exp, size_t exp_len, const uint8_t *out,
			       size_t out_len, char *diag, size_t len)
{
	if (exp_len != out_len) {
		snprintf(diag, len, "output %zu bytes, want %zu", out_len, exp_len);
		return false;
	}
	for (size_t i = 0; i < exp_len; i++) {
		if (exp[i] != out[i]) {
			snprintf(diag, len, "output byte %zu is %#04x, want %#04x", i, out[i], exp[i]);
			return false;
		}
	}
	return true;
}

/* Build the frame; the outer MACs of a VXLAN frame are given. Returns its length. */
static inline size_t frames_build(const struct frames_spec *s, uint8_t *buf, const uint8_t *odst_mac,
				  const uint8_t *osrc_mac)
{
	uint8_t inner[FRAMES_MAX];
	size_t len = frames_inner(s, inner), off = 0;

	if (s->vxlan) {
		off = frames_vxlan(s, buf, odst_mac, osrc_mac, len);
	}
	memcpy(buf + off, inner, len);
	len += off;
	return s->cut && s->cut < len ? s->cut : len;
}

#endif
