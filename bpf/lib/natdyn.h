/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Dynamic NAT (MidoNet's): snat and dnat to an address range, with or without a port range,
 * and rev_snat, rev_dnat, bound in the connection of the device that tracks the packet
 * (docs/nat.md, "Dynamic NAT"; docs/conntrack.md, "NAT bindings").
 *
 * The device's lookup (lib/track.h) leaves in midox_ctpass_v2 the packet's tuple entering the
 * device (T_in), its verdict and, for a NATed connection, the binding: the connection's key
 * and the tuple it leaves the device with (T_out). A rule that matched (decided by the
 * evaluation's next step when it goes on, natdyn_seen_global, so that the rules after it
 * see its rewrite; by natdyn_apply_global when it ended the evaluation, which then writes
 * what every dynamic rule of the evaluation decided):
 * - snat, dnat on a NEW connection choose their half of T_out (dnat: an address of the
 *   range by a hash of T_in, a port of its port range or the packet's own; snat: an address
 *   by the same hash and a port from the host's leased blocks, midox_natlease, free for the
 *   destination: no live connection holds the translated tuple) and rewrite the packet; the
 *   commit (track_leave) writes the connection with its binding and the index entry;
 * - on a FWD packet of a NATed connection, they apply the binding's half;
 * - rev_snat, rev_dnat on a RETURN packet of a NATed connection give back the destination
 *   (T_in's source) or the source (T_in's destination).
 * Anything else (an untracked packet: ARP, a later fragment; a connection without a
 * binding) passes unrewritten. Every checksum follows (lib/nat.h for the addresses, the
 * kernel's helper for the ports and the ICMP echo id). */
#ifndef MX_BPF_NATDYN_H
#define MX_BPF_NATDYN_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/chain.h"
#include "midox/conntrack.h"
#include "midox/natlease.h"
#include "midox/stats.h"
#include "lib/chain.h"
#include "lib/conntrack.h"
#include "lib/nat.h"
#include "lib/parse.h"

/* The targets of the dynamic rules, by rule index (include/midox/chain.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * MX_CHAIN_RULES_MAX);
	__type(key, __u32);
	__type(value, struct mx_chain_nat_target);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_chnatt SEC(".maps");

/* The host's port blocks per NAT address (include/midox/natlease.h): the agent's. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MX_NAT_LEASE_MAX_ENTRIES);
	__type(key, __be32);
	__type(value, struct mx_nat_lease);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_natlease SEC(".maps");

/* Candidate ports a new SNAT connection tries before it is refused (nat-exhausted). */
#define NATDYN_TRIES 16
/* A SNAT target without a port range picks its ports here (MidoNet's Neutron default). */
#define NATDYN_PORT_LO 1024
#define NATDYN_PORT_HI 65535

/* A clear verdict of a device that does not track (or of a traced run): dynamic rules
 * there pass the packet unrewritten. */
static __always_inline void natdyn_untracked(void)
{
	struct mx_ct_pass *s = ct_pass();

	if (s && s->valid)
		s->valid = 0;
}

/* A hash of T_in (the choice of address and port is the same for the same tuple). */
static __always_inline __u32 natdyn_hash(const struct mx_ct_key *k)
{
	__u32 h = k->src * 0x9e3779b1u;

	h ^= k->dst + 0x7f4a7c15u + (h << 6) + (h >> 2);
	h ^= (((__u32)k->sport << 16) | k->dport) + 0x165667b1u + (h << 6) + (h >> 2);
	h ^= (__u32)k->proto + k->device;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

/* An address of t's range, by hash h. */
static __always_inline __be32 natdyn_addr(const struct mx_chain_nat_target *t, __u32 h)
{
	__u32 lo = bpf_ntohl(t->addr_lo), hi = bpf_ntohl(t->addr_hi);

	if (hi <= lo)
		return t->addr_lo;
	return bpf_htonl(lo + h % (hi - lo + 1));
}

/* What a candidate tuple is to a new connection of s (natdyn_probe). */
enum natdyn_probe_state {
	NATDYN_FREE,     /* no live connection holds it */
	NATDYN_REUSABLE, /* a closed TCP connection holds it (ct_tuple_reusable): the commit
			  * takes it over (ct_tuple_claim) */
	NATDYN_TAKEN,    /* a live connection holds it */
};

/* What the candidate tuple s->probe of the pass's scratch is at now (enum
 * natdyn_probe_state): held by a connection's own key, or by a NATed connection's
 * translated tuple (its index entry), live or closed. The keys are the scratch's, not the
 * stack's: this runs three frames deep under the router's program. An element that turns
 * out another key's (ct_elem_is, after the reads) was replaced or deleted under us: taken,
 * to be safe, and the next candidate is tried. A global function: the verifier checks it
 * once, not in each of the port search's rounds. */
__noinline int natdyn_probe_global(__u64 now)
{
	const struct mx_ct_config *cfg = ct_config();
	struct mx_ct_pass *s = ct_pass();
	const struct mx_ct_key *key;
	enum natdyn_probe_state st;
	struct mx_ct_entry *e;

	if (!s)
		return NATDYN_TAKEN;
	key = &s->probe;
	e = bpf_map_lookup_elem(&midox_ct, key);
	if (!e)
		return NATDYN_FREE;
	if (e->flags & MX_CT_F_NAT_INDEX) {
		s->probe_main.device = s->probe.device;
		s->probe_main.proto = s->probe.proto;
		s->probe_main.src = e->nat.src;
		s->probe_main.dst = e->nat.dst;
		s->probe_main.sport = e->nat.sport;
		s->probe_main.dport = e->nat.dport;
		if (!ct_elem_is(e, &s->probe))
			return NATDYN_TAKEN;
		e = bpf_map_lookup_elem(&midox_ct, &s->probe_main);
		if (!e)
			return NATDYN_FREE;
		key = &s->probe_main;
		if (!ct_nat_is(e, &s->probe)) {
			st = NATDYN_FREE;
			goto check;
		}
	}
	if ((e->flags & MX_CT_F_NAT_INDEX) || mx_ct_expired(cfg, e, now))
		st = NATDYN_FREE;
	else
		st = ct_tuple_reusable(e, s->kind) ? NATDYN_REUSABLE : NATDYN_TAKEN;
check:
	return ct_elem_is(e, key) ? st : NATDYN_TAKEN;
}

/* A source port for the new connection of s to SNAT to addr (target t, hash h): from the
 * host's blocks for addr, inside t's port range, on a translated tuple (addr, port, the
 * destination, its port, the protocol) no live connection holds: up to NATDYN_TRIES
 * consecutive ports of the blocks from h on, the first free one, else the first a closed
 * TCP connection holds (its TIME_WAIT ends early, as a SYN ends it on the connection's own
 * tuple). 0 and *out, or -1: none (no lease, or every candidate taken). A global function,
 * of the pass's scratch (ct_pass): verified once on its own, not in both callers of
 * natdyn_decide nor in each of their states (docs/datapath.md, "What the verifier pays"). */
__noinline int natdyn_snat_port_global(__be32 addr, const struct mx_chain_nat_target *t, __u32 h,
				       __be16 *out)
{
	const struct mx_nat_lease *l = bpf_map_lookup_elem(&midox_natlease, &addr);
	struct mx_ct_pass *s = ct_pass();
	__be16 reuse = 0;
	__u32 lo, hi, n, total, j;
	__u64 now;

	if (!l || !s || !t || !out)
		return -1;
	lo = t->port_lo ? t->port_lo : NATDYN_PORT_LO;
	hi = t->port_lo ? t->port_hi : NATDYN_PORT_HI;
	now = bpf_ktime_get_ns();
	n = l->n_blocks;
	if (!n || n > MX_NAT_LEASE_BLOCKS_MAX)
		return -1;
	total = n * MX_NAT_BLOCK_PORTS;
	__builtin_memset(&s->probe, 0, sizeof(s->probe));
	__builtin_memset(&s->probe_main, 0, sizeof(s->probe_main));
	s->probe.device = s->tin.device;
	s->probe.proto = s->tin.proto;
	s->probe.src = addr;
	s->probe.dst = s->nat.dst;
	s->probe.dport = s->nat.dport;
	j = h % total;
	for (__u32 i = 0; i < NATDYN_TRIES; i++, j++) {
		__u32 b, port;
		int st;

		if (j >= total)
			j = 0;
		/* j < total <= 128 blocks of ports: the mask is the bound the verifier sees. */
		b = (j / MX_NAT_BLOCK_PORTS) & (MX_NAT_LEASE_BLOCKS_MAX - 1);
		port = (__u32)l->block[b] * MX_NAT_BLOCK_PORTS + j % MX_NAT_BLOCK_PORTS;
		if (!port || port < lo || port > hi)
			continue;
		s->probe.sport = bpf_htons((__u16)port);
		if (s->kind == CT_PKT_ECHO)
			s->probe.dport = s->probe.sport; /* the echo id is both "ports" */
		st = natdyn_probe_global(now);
		if (st == NATDYN_FREE) {
			*out = s->probe.sport;
			return 0;
		}
		if (st == NATDYN_REUSABLE && !reuse)
			reuse = s->probe.sport;
	}
	if (!reuse)
		return -1;
	*out = reuse;
	return 0;
}

/* The packet's source port (dst false) or destination port (TCP, UDP; an ICMP echo's id)
 * becomes port, its checksum with it (the kernel's helper: right for a checksum the NIC is
 * still to finish too; a UDP 0, none, stays 0). 0, or a negative errno (drop it). Packet
 * pointers are dead after it. */
static __always_inline int natdyn_port_write(struct __sk_buff *skb, bool dst, __be16 port)
{
	__u32 port_off = 0, csum_off = 0;
	__u64 mangled = 0;
	struct iphdr *ip;
	struct cursor c;
	__be16 old = 0;
	void *start;
	__u8 *l4;
	int err;

	pull_headers(skb, NAT_PULL_LEN);
	cursor_init(&c, skb);
	start = c.pos;
	ip = nat_ipv4(&c);
	if (!ip)
		return 0;
	/* Tracking read the ports from the frame (ct_parse); when the IPv4 header says they
	 * are not there (a total length short of 8 bytes of L4), or the frame ends before 8,
	 * the port cannot be written: the packet would leave with the new address and its
	 * old port, a port outside the lease that the binding does not name. Drop it. */
	l4 = nat_l4_avail(ip) >= 8 ? cursor_take(&c, 8) : NULL;
	if (!l4)
		return ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP ||
		       ip->protocol == IPPROTO_ICMP ? -22 /* EINVAL */ : 0;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		port_off = (__u32)((void *)l4 - start) + (dst ? 2 : 0);
		__builtin_memcpy(&old, l4 + (dst ? 2 : 0), 2);
		csum_off = (__u32)((void *)l4 - start) +
			   (ip->protocol == IPPROTO_TCP ? NAT_TCP_CSUM_OFF : NAT_UDP_CSUM_OFF);
		if (ip->protocol == IPPROTO_UDP)
			mangled = BPF_F_MARK_MANGLED_0;
	} else if (ip->protocol == IPPROTO_ICMP &&
		   (l4[0] == CT_ICMP_ECHO || l4[0] == CT_ICMP_ECHOREPLY)) {
		port_off = (__u32)((void *)l4 - start) + 4;
		__builtin_memcpy(&old, l4 + 4, 2);
		csum_off = (__u32)((void *)l4 - start) + 2;
	}
	if (!port_off || old == port)
		return 0;
	err = (int)bpf_l4_csum_replace(skb, csum_off, old, port, sizeof(port) | mangled);
	if (err)
		return err;
	return (int)bpf_skb_store_bytes(skb, port_off, &port, sizeof(port), 0);
}

/* What is to be written: side dst of the packet becomes addr:port. */
static __always_inline int natdyn_will(struct mx_ct_pass *s, bool dst, __be32 addr, __be16 port)
{
	s->w_on = 1;
	s->w_dst = dst;
	s->w_addr = addr;
	s->w_port = port;
	s->w_icmp = 0;
	return MX_DROP_NONE;
}

/* An ICMP error related to the connection of s (RELATED, bound), which the rule translates
 * when the quote is the way round it works on (quote_out: the quote is T_out, the error
 * goes the return way: the reverse rules; else the forward rules): outer side dst, the
 * quote's other side (address old) becomes addr:port. */
static __always_inline int natdyn_will_icmp(struct mx_ct_pass *s, bool quote_out, bool dst,
					    __be32 old, __be32 addr, __be16 port)
{
	if (s->quote_out != quote_out)
		return MX_DROP_NONE;
	natdyn_will(s, dst, addr, port);
	s->w_icmp = 1;
	s->w_old = old;
	return MX_DROP_NONE;
}

/* snat (dnat: true) of rule idx for the packet of s. Why the packet is dropped, or
 * MX_DROP_NONE. */
static __always_inline int natdyn_forward(struct mx_ct_pass *s, bool dnat, __u32 idx)
{
	const struct mx_chain_nat_target *t;
	__u8 half = dnat ? MX_NAT_DST : MX_NAT_SRC;
	__be16 port = 0;
	__be32 addr;
	__u32 h;

	if (s->verdict == MX_CT_V_NEW && !(s->pending & half)) {
		t = bpf_map_lookup_elem(&midox_chnatt, &idx);
		if (!t || !t->addr_lo)
			return MX_DROP_NONE;
		if (!s->bound) {
			s->conn = s->tin;
			s->nat.src = s->tin.src;
			s->nat.dst = s->tin.dst;
			s->nat.sport = s->tin.sport;
			s->nat.dport = s->tin.dport;
			s->bound = 1;
		}
		h = natdyn_hash(&s->tin);
		addr = natdyn_addr(t, h);
		if (dnat) {
			s->nat.dst = addr;
			if (t->port_lo && s->kind != CT_PKT_ECHO && t->port_hi >= t->port_lo)
				s->nat.dport = bpf_htons((__u16)(t->port_lo +
						 (h >> 8) % ((__u32)t->port_hi - t->port_lo + 1)));
		} else {
			if (natdyn_snat_port_global(addr, t, h, &port))
				return MX_DROP_NAT_EXHAUSTED;
			s->nat.src = addr;
			s->nat.sport = port;
			if (s->kind == CT_PKT_ECHO)
				s->nat.dport = port;
		}
		s->pending |= half;
	} else if (s->verdict == MX_CT_V_RELATED && s->bound) {
		/* An error about a reply, going the forward way: its quote's destination
		 * (snat) or source (dnat) is T_in's, and becomes T_out's. */
		if (dnat)
			return natdyn_will_icmp(s, false, true, s->conn.dst, s->nat.dst,
						s->nat.dport);
		return natdyn_will_icmp(s, false, false, s->conn.src, s->nat.src, s->nat.sport);
	} else if (s->verdict != MX_CT_V_NEW && (s->verdict != MX_CT_V_FWD || !s->bound)) {
		return MX_DROP_NONE;
	}
	if (dnat)
		return natdyn_will(s, true, s->nat.dst, s->nat.dport);
	return natdyn_will(s, false, s->nat.src, s->nat.sport);
}

/* rev_snat (rev_dnat: true) for the packet of s. */
static __always_inline int natdyn_reverse(struct mx_ct_pass *s, bool rev_dnat)
{
	if (s->verdict == MX_CT_V_RELATED && s->bound) {
		/* An error about a forward packet as it left (T_out), going the return way. */
		if (rev_dnat)
			return natdyn_will_icmp(s, true, false, s->nat.dst, s->conn.dst,
						s->conn.dport);
		return natdyn_will_icmp(s, true, true, s->nat.src, s->conn.src, s->conn.sport);
	}
	if (s->verdict != MX_CT_V_RETURN || !s->bound)
		return MX_DROP_NONE;
	if (rev_dnat)
		return natdyn_will(s, false, s->conn.dst, s->conn.dport);
	return natdyn_will(s, true, s->conn.src, s->conn.sport);
}

/* The decision of the rule just decided (w_on) joins the evaluation's (w_sides, w): a
 * rule after it on the same side decides from what it made. */
static __always_inline void natdyn_note(struct mx_ct_pass *s)
{
	if (!s->w_on)
		return;
	if (s->w_dst) {
		s->w.dst = s->w_addr;
		s->w.dport = s->w_port;
		s->w_sides |= MX_NAT_DST;
	} else {
		s->w.src = s->w_addr;
		s->w.sport = s->w_port;
		s->w_sides |= MX_NAT_SRC;
	}
}

/* The dynamic NAT rule at index idx of midox_chrule matched the packet: what it makes of
 * the packet is decided with the packet's connection (above), left in the scratch (w_on and
 * the w_ fields: this rule's; w_sides and w: the evaluation's, written by
 * natdyn_apply_global when it ends). MX_DROP_NONE, or MX_DROP_NAT_EXHAUSTED (no port for a
 * new SNAT connection). Called by the evaluation for a rule that goes on (continue, return:
 * the rules after it see its rewrite, bpf/lib/chain.h) and by natdyn_apply_global for the
 * one that ended it; deciding a rule twice decides the same. A global function (and
 * inline in natdyn_seen_global, one frame less under the evaluation's step): the verifier
 * checks it once, on its own (the programs call it four and five frames deep, in 512 bytes
 * for all). */
static __always_inline int natdyn_decide(__u32 idx)
{
	const struct mx_chain_rule *r = bpf_map_lookup_elem(&midox_chrule, &idx);
	struct mx_ct_pass *s = ct_pass();
	int why = MX_DROP_NONE;

	if (!r || !s || !s->valid)
		return MX_DROP_NONE;
	s->w_on = 0;
	switch (r->type) {
	case MX_RULE_SNAT:
		why = natdyn_forward(s, false, idx);
		break;
	case MX_RULE_DNAT:
		why = natdyn_forward(s, true, idx);
		break;
	case MX_RULE_REV_SNAT:
		why = natdyn_reverse(s, false);
		break;
	case MX_RULE_REV_DNAT:
		why = natdyn_reverse(s, true);
		break;
	}
	natdyn_note(s);
	return why;
}

__noinline int natdyn_decide_global(__u32 idx)
{
	return natdyn_decide(idx);
}

/* The dynamic NAT rule at index idx matched and goes on (continue, return): decided now,
 * and the rules after it see its rewrite in p, as they see a static rule's: the address,
 * and the port of TCP and UDP (an echo's id is no field of theirs); an ICMP error's outer
 * address where the rewrite changes it (it is the quote's old one). 0, or 1: the packet
 * is dropped (a new SNAT connection with no port free). A global function: the verifier
 * checks it once, and the evaluation's step only calls it. */
__noinline int natdyn_seen_global(struct chain_pkt *p, __u32 idx)
{
	const struct mx_ct_pass *s;
	bool ports;

	if (natdyn_decide(idx) != MX_DROP_NONE)
		return 1;
	s = ct_pass();
	if (!p || !s || !s->valid || !s->w_on)
		return 0;
	ports = !s->w_icmp && (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP);
	if (s->w_dst) {
		if (!s->w_icmp || p->dst == s->w_old)
			p->dst = s->w_addr;
		if (ports)
			p->dport = bpf_ntohs(s->w_port);
	} else {
		if (!s->w_icmp || p->src == s->w_old)
			p->src = s->w_addr;
		if (ports)
			p->sport = bpf_ntohs(s->w_port);
	}
	return 0;
}

/* The port halves of the evaluation's rewrite (its caller writes the addresses with
 * nat_outer_global first): 0, or a negative errno (the packet is half-written: drop it).
 * Packet pointers are dead after it. */
__noinline int natdyn_port_global(struct __sk_buff *skb, __u32 sides)
{
	struct mx_ct_pass *s = ct_pass();
	int err = 0;

	if (!skb || !s || !s->valid)
		return 0;
	if (sides & MX_NAT_SRC)
		err = natdyn_port_write(skb, false, s->w.sport);
	if (!err && (sides & MX_NAT_DST))
		err = natdyn_port_write(skb, true, s->w.dport);
	return err;
}

/* The ICMP error in skb (an error of a NATed connection: s->w_icmp): its quote's side
 * other than s->w_dst becomes s->w_addr and its port (TCP, UDP; a quoted echo's id)
 * s->w_port, with the quoted IPv4 header's checksum, the quoted L4 checksum as far as the
 * quote holds it (a UDP 0 stays 0) and the ICMP checksum; the outer side s->w_dst becomes
 * s->w_addr where it is the quote's old address (an error from the far end itself). 0, or
 * a negative errno (drop it). Packet pointers are dead after it. */
__noinline int natdyn_icmp_global(struct __sk_buff *skb, __u32 side)
{
	struct mx_ct_pass *s = ct_pass();
	struct icmphdr *icmp;
	struct iphdr *ip, *in;
	__sum16 *l4sum = NULL;
	__be16 *qport = NULL, old;
	__be32 *qaddr, old_addr;
	struct cursor c;
	bool udp = false, outer;
	__s32 avail;
	__u8 *l4;

	if (!skb || !s || !(side & (MX_NAT_SRC | MX_NAT_DST)))
		return 0;
	/* This side's rewrite, as natdyn_will_icmp left it. */
	s->w_dst = side == MX_NAT_DST;
	s->w_addr = s->w_dst ? s->w.dst : s->w.src;
	s->w_port = s->w_dst ? s->w.dport : s->w.sport;
	pull_headers(skb, NAT_PULL_LEN);
	cursor_init(&c, skb);
	ip = nat_ipv4(&c);
	if (!ip || ip->protocol != IPPROTO_ICMP || ipv4_is_fragment(ip))
		return 0;
	avail = nat_l4_avail(ip) - (__s32)sizeof(*icmp);
	icmp = cursor_take(&c, sizeof(*icmp));
	if (avail < (__s32)sizeof(*in) || !icmp || !nat_icmp_is_error(icmp->type) ||
	    parse_ipv4(&c, &in) != PARSE_IPV4_OK)
		return 0;
	avail -= in->ihl * 4;
	if (avail < 8 || ipv4_is_fragment(in))
		return 0;
	l4 = cursor_take(&c, 8);
	if (!l4)
		return 0;
	if (in->protocol == IPPROTO_TCP || in->protocol == IPPROTO_UDP) {
		qport = (__be16 *)(l4 + (s->w_dst ? 0 : 2));
		c.pos = l4;
		l4sum = nat_l4_csum(&c, in->protocol, avail, &udp);
	} else if (in->protocol == IPPROTO_ICMP) {
		qport = (__be16 *)(l4 + 4);
		l4sum = (__sum16 *)(l4 + 2); /* the quoted echo's checksum, always quoted */
	}
	qaddr = s->w_dst ? &in->saddr : &in->daddr;
	old_addr = *qaddr;
	if (old_addr != s->w_addr)
		nat_quote_addr(qaddr, s->w_addr, in, in->protocol == IPPROTO_ICMP ? NULL : l4sum,
			       udp, icmp);
	if (qport && *qport != s->w_port) {
		old = *qport;
		*qport = s->w_port;
		csum_replace2(&icmp->checksum, old, s->w_port);
		if (l4sum && !(udp && !*l4sum)) {
			__sum16 old_sum = *l4sum;

			csum_replace2(l4sum, old, s->w_port);
			csum_replace2(&icmp->checksum, old_sum, *l4sum);
		}
	}
	outer = (s->w_dst ? ip->daddr : ip->saddr) == old_addr && old_addr != s->w_addr;
	if (!outer)
		return 0;
	return nat_static_outer(skb, s->w_dst ? MX_NAT_DST : MX_NAT_SRC, s->w_addr, s->w_addr);
}

/* What the dynamic NAT rules of an evaluation make of the packet in skb: the one at index
 * idx, which ended it or was the last to match, is decided (again: the same decision),
 * then every side they decided is written. Why the packet is dropped
 * (MX_DROP_NAT_EXHAUSTED, or MX_DROP_CHAIN_DROP when it could not be written), or
 * MX_DROP_NONE (rewritten, or left alone). A global function, so that the verifier checks
 * it once rather than at every evaluation point, and the caller's states do not multiply
 * by its branches. Packet pointers are dead after it. */
__noinline int natdyn_apply_global(struct __sk_buff *skb, __u32 idx)
{
	struct mx_ct_pass *s;
	__u32 sides;

	if (!skb)
		return MX_DROP_NONE;
	/* A global function's result is any number to the verifier. */
	if (natdyn_decide_global(idx) != MX_DROP_NONE)
		return MX_DROP_NAT_EXHAUSTED;
	s = ct_pass();
	if (!s || !s->valid || !s->w_sides)
		return MX_DROP_NONE;
	sides = s->w_sides;
	s->w_sides = 0; /* written once: the next evaluation decides its own */
	if (s->w_icmp) {
		if (natdyn_icmp_global(skb, sides & MX_NAT_SRC) ||
		    natdyn_icmp_global(skb, sides & MX_NAT_DST))
			return MX_DROP_CHAIN_DROP;
		return MX_DROP_NONE;
	}
	if (nat_outer_global(skb, sides, s->w.src, s->w.dst))
		return MX_DROP_CHAIN_DROP;
	return natdyn_port_global(skb, sides) ? MX_DROP_CHAIN_DROP : MX_DROP_NONE;
}

#endif
