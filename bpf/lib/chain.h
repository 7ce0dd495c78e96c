/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Rule chains, evaluated as MidoNet does: rules in order while the result is continue;
 * jump and return nest; a jump to a missing chain, or to one this evaluation entered before
 * (a loop, or a second jump to it), is a continue, and so is one past MX_CHAIN_MAX_DEPTH
 * chains deep or MX_CHAIN_MAX_VISITED chains entered; the end of the top chain, or a return
 * from it, accepts. A static NAT rule (SNAT or DNAT to one address, no ports: a floating
 * IP) records its rewrite in midox_chnat, handed to the caller (which applies it:
 * bpf/lib/nat.h), later rules see the rewritten address, and the rule's action (accept,
 * continue, return) goes on. A dynamic NAT rule (bpf/lib/natdyn.h) that goes on is decided
 * with the packet's connection before the next rule is looked at, and the rules after it
 * see its rewrite too; one that accepts ends the evaluation with a verdict naming the
 * rule; the caller writes them all.
 *
 * Maps (include/midox/chain.h): midox_chgen says which half of the rules is live, so that
 * the compiler (loader/chain.c) writes a whole new version beside the live one and switches
 * with one write; midox_chain_v2 gives each chain its rules in both halves; midox_chset holds
 * the members of port lists, port groups and IP address groups; midox_chcount counts, per
 * CPU, the packets and bytes each rule matched.
 *
 * Entry: chain_filter(skb, chain, in, nat). A device or port without a chain passes
 * MX_CHAIN_NONE, which costs one compare: nothing is parsed or looked up. Not yet wired into
 * the pipeline (docs/chains-datapath.md). */
#ifndef MX_BPF_CHAIN_H
#define MX_BPF_CHAIN_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/chain.h"
#include "lib/nat.h"
#include "lib/parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_chain_gen);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_chgen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH); /* updated in place: include/midox/chain.h */
	__uint(max_entries, MX_CHAIN_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* read-only to the datapath */
	__type(key, __u32);
	__type(value, struct mx_chain);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_chain_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * MX_CHAIN_RULES_MAX);
	__type(key, __u32);
	__type(value, struct mx_chain_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_chrule SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_CHAIN_SET_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mx_chain_set_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_chset SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MX_CHAIN_COUNTERS_MAX);
	__type(key, __u32);
	__type(value, struct mx_chain_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_chcount SEC(".maps");

/* What the evaluation needs besides the packet (0: no such port). Which ports a filter
 * knows is its caller's to say; MidoNet's: a port's inbound filter has the port as in_port
 * and no out_port, its outbound filter the port as out_port and no in_port. */
struct chain_input {
	__u32 in_port;      /* the port the packet entered the current device by */
	__u32 out_port;     /* the port it leaves the device by, once known */
	__u32 ingress_port; /* the exterior port it entered the virtual topology by: the
			     * port-group condition tests its groups, all the way (MidoNet) */
	__u32 flags;        /* enum mx_chain_input_flags */
};


enum chain_frag { CHAIN_FRAG_NONE, CHAIN_FRAG_FIRST, CHAIN_FRAG_LATER };

/* The fields conditions read, taken from the packet once per evaluation, as MidoNet's flow
 * match has them: an ARP packet's network source, destination and protocol are its sender
 * and target addresses and its opcode; ICMP's ports are its type and code; a field the
 * packet lacks is 0, except the addresses (has_nw). */
struct chain_pkt {
	__u8 eth_src[ETH_ALEN];
	__u8 eth_dst[ETH_ALEN];
	__be16 ethertype;
	__u8 has_nw;  /* src and dst are set: IPv4 or ARP */
	__u8 has_tcp; /* a TCP header was read (a RST can answer it) */
	__be32 src, dst;
	__u8 proto, tos, frag; /* enum chain_frag */
	__u8 pad;
	__u16 sport, dport; /* host order */
	__u32 len;
};

/* Ports of TCP and UDP, type and code of ICMP; nothing for a later fragment, nor for other
 * protocols (MidoNet's flow match reads no others). l4: the cursor after the IPv4 header. */
static __always_inline void chain_parse_l4(struct chain_pkt *p, struct cursor *l4)
{
	__u8 *b;

	if (p->frag == CHAIN_FRAG_LATER)
		return;
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		__be16 *ports = cursor_take(l4, 4);

		if (ports) {
			p->sport = bpf_ntohs(ports[0]);
			p->dport = bpf_ntohs(ports[1]);
			p->has_tcp = p->proto == IPPROTO_TCP;
		}
	} else if (p->proto == IPPROTO_ICMP) {
		b = cursor_take(l4, 2);
		if (b) {
			p->sport = b[0];
			p->dport = b[1];
		}
	}
}

/* Read what conditions test: Ethernet, then IPv4 (options skipped) and its ports, or ARP.
 * A header cut short is absent. false: not even an Ethernet header. */
static __always_inline bool chain_parse(struct __sk_buff *skb, struct chain_pkt *p)
{
	struct arp_eth_ipv4 *arp;
	struct cursor c;
	struct ethhdr *eth;
	struct iphdr *ip;

	pull_headers(skb, ETH_HLEN + 60 + 4);
	cursor_init(&c, skb);
	p->len = skb->len;
	eth = parse_eth(&c);
	if (!eth)
		return false;
	mac_copy(p->eth_src, eth->h_source);
	mac_copy(p->eth_dst, eth->h_dest);
	p->ethertype = eth->h_proto;
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		arp = parse_arp(&c);
		if (arp) {
			p->has_nw = 1;
			p->src = arp->spa;
			p->dst = arp->tpa;
			p->proto = (__u8)bpf_ntohs(arp->hdr.ar_op);
		}
		return true;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP) || parse_ipv4(&c, &ip) != PARSE_IPV4_OK)
		return true;
	p->has_nw = 1;
	p->src = ip->saddr;
	p->dst = ip->daddr;
	p->proto = ip->protocol;
	p->tos = ip->tos;
	p->frag = !ipv4_is_fragment(ip)      ? CHAIN_FRAG_NONE
		  : ipv4_is_first_fragment(ip) ? CHAIN_FRAG_FIRST
					       : CHAIN_FRAG_LATER;
	chain_parse_l4(p, &c);
	return true;
}

static __always_inline bool chain_mac_match(const __u8 *mac, const __u8 *want, const __u8 *mask)
{
	__u8 diff = 0;

#pragma clang loop unroll(full)
	for (int i = 0; i < ETH_ALEN; i++)
		diff |= (mac[i] ^ want[i]) & mask[i];
	return !diff;
}

static __always_inline bool chain_prefix_match(__be32 addr, __be32 net, __u8 len)
{
	if (len > 32)
		return false;
	return !len || !((addr ^ net) & bpf_htonl(~0u << (32 - len)));
}

static __always_inline bool chain_in_set(__u32 set, __u32 member)
{
	struct mx_chain_set_key k = { .set = set, .member = member };

	return bpf_map_lookup_elem(&midox_chset, &k) != NULL;
}

static __always_inline bool chain_frag_accepts(__u8 policy, __u8 frag)
{
	switch (policy) {
	case MX_FRAG_ANY:
		return true;
	case MX_FRAG_HEADER:
		return frag != CHAIN_FRAG_LATER;
	case MX_FRAG_NONHEADER:
		return frag == CHAIN_FRAG_LATER;
	case MX_FRAG_UNFRAGMENTED:
		return frag == CHAIN_FRAG_NONE;
	}
	return false;
}

/* One condition: the test's result m, inverted when the rule says so, must hold. */
static __always_inline bool chain_cond(const struct mx_chain_rule *r, __u32 bit, bool m)
{
	return m != !!(r->inv & bit);
}

/* Whether the packet meets every condition of rule r (fragment policy included). */
static __always_inline bool chain_rule_matches(const struct mx_chain_rule *r,
					       const struct chain_pkt *p,
					       const struct chain_input *in)
{
	__u32 c = r->conds;

	if (!chain_frag_accepts(r->frag, p->frag))
		return false;
	if (!c)
		return true;
	if ((c & MX_COND_HW_SRC) &&
	    !chain_cond(r, MX_COND_HW_SRC, chain_mac_match(p->eth_src, r->hw_src, r->hw_src_mask)))
		return false;
	if ((c & MX_COND_HW_DST) &&
	    !chain_cond(r, MX_COND_HW_DST, chain_mac_match(p->eth_dst, r->hw_dst, r->hw_dst_mask)))
		return false;
	if ((c & MX_COND_ETHERTYPE) &&
	    !chain_cond(r, MX_COND_ETHERTYPE, p->ethertype == r->ethertype))
		return false;
	if ((c & MX_COND_SRC) &&
	    !chain_cond(r, MX_COND_SRC, p->has_nw && chain_prefix_match(p->src, r->src, r->src_len)))
		return false;
	if ((c & MX_COND_DST) &&
	    !chain_cond(r, MX_COND_DST, p->has_nw && chain_prefix_match(p->dst, r->dst, r->dst_len)))
		return false;
	if ((c & MX_COND_PROTO) && !chain_cond(r, MX_COND_PROTO, p->proto == r->proto))
		return false;
	if ((c & MX_COND_TOS) && !chain_cond(r, MX_COND_TOS, p->tos == r->tos))
		return false;
	if ((c & MX_COND_SRC_PORT) &&
	    !chain_cond(r, MX_COND_SRC_PORT,
			p->sport >= r->sport_lo && p->sport <= r->sport_hi))
		return false;
	if ((c & MX_COND_DST_PORT) &&
	    !chain_cond(r, MX_COND_DST_PORT,
			p->dport >= r->dport_lo && p->dport <= r->dport_hi))
		return false;
	if ((c & MX_COND_FWD_FLOW) &&
	    !chain_cond(r, MX_COND_FWD_FLOW, in->flags & MX_CHAIN_IN_FWD_FLOW))
		return false;
	if ((c & MX_COND_RETURN_FLOW) &&
	    !chain_cond(r, MX_COND_RETURN_FLOW, !(in->flags & MX_CHAIN_IN_FWD_FLOW)))
		return false;
	/* The map lookups last: a rule that fails on a header field costs none. */
	if ((c & MX_COND_IN_PORTS) &&
	    !chain_cond(r, MX_COND_IN_PORTS, in->in_port && chain_in_set(r->in_ports, in->in_port)))
		return false;
	if ((c & MX_COND_OUT_PORTS) &&
	    !chain_cond(r, MX_COND_OUT_PORTS,
			in->out_port && chain_in_set(r->out_ports, in->out_port)))
		return false;
	if ((c & MX_COND_PORT_GROUP) &&
	    !chain_cond(r, MX_COND_PORT_GROUP,
			in->ingress_port && chain_in_set(r->port_group, in->ingress_port)))
		return false;
	if ((c & MX_COND_IN_PORT_GROUP) &&
	    !chain_cond(r, MX_COND_IN_PORT_GROUP,
			in->in_port && chain_in_set(r->in_port_group, in->in_port)))
		return false;
	if ((c & MX_COND_OUT_PORT_GROUP) &&
	    !chain_cond(r, MX_COND_OUT_PORT_GROUP,
			in->out_port && chain_in_set(r->out_port_group, in->out_port)))
		return false;
	if ((c & MX_COND_IP_GROUP_SRC) &&
	    !chain_cond(r, MX_COND_IP_GROUP_SRC, p->has_nw && chain_in_set(r->ip_group_src, p->src)))
		return false;
	if ((c & MX_COND_IP_GROUP_DST) &&
	    !chain_cond(r, MX_COND_IP_GROUP_DST, p->has_nw && chain_in_set(r->ip_group_dst, p->dst)))
		return false;
	return true;
}

/* The evaluation's changing state lives in a per-CPU map value, not on the stack: the
 * verifier knows stack values exactly, and would check the bpf_loop step once for every
 * depth and count of chains entered; a map value's fields it takes as unknown, so it checks
 * the step once. (An evaluation runs to its end on one CPU, never interleaved.) */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_chain_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_chstat_v2 SEC(".maps");


/* Decides the dynamic NAT rule at index idx for the packet, and changes p as the rewrite
 * will (bpf/lib/natdyn.h, which every program evaluating chains includes): 0, or 1 when it
 * drops the packet (nat-exhausted). */
int natdyn_seen_global(struct chain_pkt *p, __u32 idx);

/* Handed to each bpf_loop step: the packet's fields (a NAT rule changes them for the rules
 * after it) and the inputs. In the state's map value (its eval words), not on the caller's
 * stack: a dynamic NAT rule's decision runs under the step, and the frames above it, the
 * router's program's among them, must fit 512 bytes. */
struct chain_eval {
	struct chain_pkt pkt;
	struct chain_input in;
	__u32 gen;
};
_Static_assert(sizeof(struct chain_eval) <= sizeof(((struct mx_chain_state *)0)->eval),
	       "chain_eval fits the state's eval words");

static __always_inline struct mx_chain_state *chain_state_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&midox_chstat_v2, &zero);
}

static __always_inline const struct mx_chain_half *chain_half(__u32 chain, __u32 gen)
{
	const struct mx_chain *ch = bpf_map_lookup_elem(&midox_chain_v2, &chain);

	return ch ? &ch->half[gen & 1] : NULL;
}

/* Whether this evaluation has entered chain already. The slots not used yet are 0, which
 * names no chain (a jump to MX_CHAIN_NONE is to a missing chain: a continue either way). */
static __always_inline bool chain_visited(const struct mx_chain_state *st, __u32 chain)
{
	__u32 found = 0;

#pragma clang loop unroll(full)
	for (__u32 i = 0; i < MX_CHAIN_MAX_VISITED; i++)
		found |= st->visited[i] == chain;
	return found;
}

/* A jump: into target's rules, as MidoNet does unless target is missing or was entered
 * before in this evaluation (a loop, or a second jump to it); besides, unless
 * MX_CHAIN_MAX_VISITED chains were entered or it would be MX_CHAIN_MAX_DEPTH + 1 deep. Each
 * of those is a continue. */
static __always_inline void chain_jump(struct chain_eval *e, struct mx_chain_state *st,
				       __u32 target)
{
	const struct mx_chain_half *h;
	__u32 d = st->depth + 1, n = st->n_visited;

	if (d >= MX_CHAIN_MAX_DEPTH || n >= MX_CHAIN_MAX_VISITED || chain_visited(st, target))
		return;
	h = chain_half(target, e->gen);
	if (!h)
		return;
	/* Hidden from the compiler, which would drop the masks the verifier needs. */
	asm volatile("" : "+r"(n));
	st->visited[n & (MX_CHAIN_MAX_VISITED - 1)] = target;
	st->n_visited = n + 1;
	if (!h->n)
		return;
	asm volatile("" : "+r"(d));
	d &= MX_CHAIN_MAX_DEPTH - 1;
	st->stack[d].pos = h->first;
	st->stack[d].end = h->first + h->n;
	st->depth = d;
}

static __always_inline void chain_count(const struct mx_chain_rule *r, __u32 len)
{
	__u32 slot = r->counter;
	struct mx_chain_counter *c = bpf_map_lookup_elem(&midox_chcount, &slot);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void chain_end(struct mx_chain_state *st, __u8 kind, __u32 rule)
{
	st->v.kind = kind;
	st->v.rule = rule;
	st->done = 1;
}

/* Rules one step looks at before it hands back to bpf_loop: fewer calls per rule. */
#define CHAIN_BATCH 4

/* The end of the current chain: back to the chain that jumped, or at the top, accept. */
static __always_inline long chain_pop(struct mx_chain_state *st, __u32 rule)
{
	if (!st->depth) {
		chain_end(st, MX_CHAIN_V_ACCEPT, rule);
		return 1;
	}
	st->depth--;
	return 0;
}

/* A static NAT rule r (index idx) matched: the rewrite of an IPv4 packet is recorded (and
 * seen by the rules after it; ARP is not rewritten), then the rule's action: accept ends
 * the evaluation with the NAT verdict (flagged static), continue goes on to the next rule,
 * return leaves the chain. 1 ends the evaluation. */
static __always_inline long chain_static_nat(struct chain_eval *e, struct mx_chain_state *st,
					     const struct mx_chain_rule *r, __u32 idx)
{
	bool dnat = r->type == MX_RULE_DNAT;
	struct mx_chain_nat *n = nat_record();

	if (n && e->pkt.ethertype == bpf_htons(ETH_P_IP) && e->pkt.has_nw) {
		if (dnat) {
			n->dst = r->nat_addr;
			n->flags |= MX_NAT_DST;
			e->pkt.dst = r->nat_addr;
		} else {
			n->src = r->nat_addr;
			n->flags |= MX_NAT_SRC;
			e->pkt.src = r->nat_addr;
		}
	}
	switch (r->nat_action) {
	case MX_RULE_CONTINUE:
		return 0;
	case MX_RULE_RETURN:
		return chain_pop(st, idx);
	}
	chain_end(st, dnat ? MX_CHAIN_V_DNAT : MX_CHAIN_V_SNAT, idx);
	st->v.flags = MX_CHAIN_VF_STATIC_NAT;
	return 1;
}

/* In mx_chain_state's nat_rule: the rule is still to be decided (chain_dyn_decide). */
#define CHAIN_DYN_UNDECIDED (1u << 31)

/* A dynamic NAT rule r (index idx) matched: its rewrite needs the connection. The rule's
 * action as a static rule's: accept ends the evaluation with the NAT verdict, decided and
 * written by the caller (filter_apply); continue and return end the step, and the next
 * step decides it before its first rule (chain_dyn_decide), so that the rules after it
 * see its rewrite. 1 ends the evaluation. */
static __always_inline long chain_dyn_nat(struct mx_chain_state *st,
					  const struct mx_chain_rule *r, __u32 idx, __u8 kind)
{
	switch (r->nat_action) {
	case MX_RULE_CONTINUE:
		st->nat_rule = (idx + 1) | CHAIN_DYN_UNDECIDED;
		return 0;
	case MX_RULE_RETURN:
		st->nat_rule = (idx + 1) | CHAIN_DYN_UNDECIDED;
		return chain_pop(st, idx);
	}
	chain_end(st, kind, idx);
	st->v.flags = MX_CHAIN_VF_DYN_NAT;
	return 1;
}

/* A dynamic rule that went on is decided (natdyn_seen_global: the packet's connection,
 * the port search of a new SNAT) and its rewrite goes into the fields the rules after it
 * read. Here, at a step's start, not where the rule matched: a global function called
 * from inside the step's unrolled rules made the verifier walk the step over and over
 * (past a million instructions). 1: no port for a new SNAT connection, which ends the
 * evaluation with the rule's verdict (the caller drops it, nat-exhausted). */
static __always_inline long chain_dyn_decide(struct chain_eval *e, struct mx_chain_state *st)
{
	__u32 idx = (st->nat_rule & ~CHAIN_DYN_UNDECIDED) - 1;

	st->nat_rule &= ~CHAIN_DYN_UNDECIDED;
	if (!natdyn_seen_global(&e->pkt, idx))
		return 0;
	chain_end(st, MX_CHAIN_V_SNAT, idx);
	st->v.flags = MX_CHAIN_VF_DYN_NAT;
	return 1;
}

/* What matched rule r (index idx) does, but continue: 1 ends the evaluation. */
static __always_inline long chain_act(struct chain_eval *e, struct mx_chain_state *st,
				      const struct mx_chain_rule *r, __u32 idx)
{
	switch (r->type) {
	case MX_RULE_ACCEPT:
		chain_end(st, MX_CHAIN_V_ACCEPT, idx);
		return 1;
	case MX_RULE_DROP:
		chain_end(st, MX_CHAIN_V_DROP, idx);
		return 1;
	case MX_RULE_REJECT:
		chain_end(st, MX_CHAIN_V_REJECT, idx);
		/* A later fragment has no TCP header to answer: ICMP. */
		if (e->pkt.has_tcp)
			st->v.flags = MX_CHAIN_VF_TCP_RST;
		return 1;
	case MX_RULE_JUMP:
		chain_jump(e, st, r->target);
		return 0;
	case MX_RULE_RETURN:
		return chain_pop(st, idx);
	case MX_RULE_SNAT:
		if (r->nat_addr)
			return chain_static_nat(e, st, r, idx);
		return chain_dyn_nat(st, r, idx, MX_CHAIN_V_SNAT);
	case MX_RULE_DNAT:
		if (r->nat_addr)
			return chain_static_nat(e, st, r, idx);
		return chain_dyn_nat(st, r, idx, MX_CHAIN_V_DNAT);
	case MX_RULE_REV_SNAT:
		return chain_dyn_nat(st, r, idx, MX_CHAIN_V_REV_SNAT);
	case MX_RULE_REV_DNAT:
		return chain_dyn_nat(st, r, idx, MX_CHAIN_V_REV_DNAT);
	}
	return 0;
}

/* One step of the evaluation (a bpf_loop callback): up to CHAIN_BATCH rules of the current
 * chain until one that matched does more than continue, or the chain's end. 1 stops the
 * loop: a verdict. dyn: a dynamic rule that went on is decided first (chain_dyn_decide);
 * false where nothing is tracked (an answer, a flooded copy), whose evaluations then need
 * no frame for the decision. */
static __always_inline long chain_step_run(const bool dyn)
{
	struct mx_chain_state *st = chain_state_get();
	struct mx_chain_frame *f;
	struct chain_eval *e;

	if (!st)
		return 1; /* never: index 0 of an array; not done, so the packet is dropped */
	e = (struct chain_eval *)st->eval;
	if (dyn && (st->nat_rule & CHAIN_DYN_UNDECIDED) && chain_dyn_decide(e, st))
		return 1;
	f = &st->stack[st->depth & (MX_CHAIN_MAX_DEPTH - 1)];
#pragma clang loop unroll(full)
	for (int k = 0; k < CHAIN_BATCH; k++) {
		const struct mx_chain_rule *r;
		__u32 idx = f->pos;

		if (idx >= f->end)
			return chain_pop(st, MX_CHAIN_RULE_NONE);
		f->pos = idx + 1;
		r = bpf_map_lookup_elem(&midox_chrule, &idx);
		if (!r) { /* an index past the map: the compiler never writes one */
			chain_end(st, MX_CHAIN_V_DROP, idx);
			return 1;
		}
		if (!chain_rule_matches(r, &e->pkt, &e->in))
			continue;
		if (!(e->in.flags & MX_CHAIN_IN_NO_COUNT))
			chain_count(r, e->pkt.len);
		if (r->type != MX_RULE_CONTINUE)
			return chain_act(e, st, r, idx);
	}
	return 0;
}

static long chain_step(__u32 i, void *ctx)
{
	(void)i;
	(void)ctx;
	return chain_step_run(true);
}

static long chain_step_untracked(__u32 i, void *ctx)
{
	(void)i;
	(void)ctx;
	return chain_step_run(false);
}

/* Evaluate chain (not MX_CHAIN_NONE) on the packet. A chain the map does not hold accepts,
 * as a device whose filter was deleted. *nat: what static NAT rules rewrote (the caller
 * applies it unless the verdict drops); flags 0 when none did. nat NULL: no copy, the
 * verdict is flagged MX_CHAIN_VF_NAT_RECORD when there is a rewrite (in midox_chnat),
 * which saves the pipeline's evaluation frame the copy's stack. */
static __always_inline struct mx_chain_verdict chain_eval(struct __sk_buff *skb, __u32 chain,
						       const struct chain_input *in,
						       struct mx_chain_nat *nat, const bool dyn)
{
	const struct mx_chain_verdict accept = { .kind = MX_CHAIN_V_ACCEPT,
					      .rule = MX_CHAIN_RULE_NONE };
	struct mx_chain_verdict drop = { .kind = MX_CHAIN_V_DROP, .rule = MX_CHAIN_RULE_NONE };
	const struct mx_chain_half *h;
	const struct mx_chain_gen *g;
	struct mx_chain_state *st;
	struct mx_chain_nat *n;
	struct chain_eval *e;
	__u32 zero = 0, gen;

	g = bpf_map_lookup_elem(&midox_chgen, &zero);
	if (!g)
		return accept;
	gen = g->gen & 1;
	h = chain_half(chain, gen);
	if (!h || !h->n)
		return accept;
	st = chain_state_get();
	if (!st)
		return drop;
	/* Only now: an empty chain costs no clearing of the state. */
	__builtin_memset(st, 0, sizeof(*st));
	e = (struct chain_eval *)st->eval;
	e->in = *in;
	e->gen = gen;
	if (!chain_parse(skb, &e->pkt))
		return drop;
	st->v.rule = MX_CHAIN_RULE_NONE;
	n = nat_record();
	if (!n)
		return drop;
	n->flags = 0;
	st->visited[0] = chain;
	st->n_visited = 1;
	st->stack[0].pos = h->first;
	st->stack[0].end = h->first + h->n;
	/* The steps find e in the state: bpf_loop's context must be the stack's. */
	bpf_loop(MX_CHAIN_MAX_STEPS, dyn ? chain_step : chain_step_untracked, &zero, 0);
	if (!st->done) {
		drop.kind = MX_CHAIN_V_TOO_LONG;
		return drop;
	}
	/* The dynamic rules that went on (continue, return) are written unless the verdict
	 * drops (the caller decides the last of them again: the same); one that ended the
	 * evaluation is the verdict's own. */
	if (st->nat_rule && !(st->v.flags & MX_CHAIN_VF_DYN_NAT) &&
	    st->v.kind != MX_CHAIN_V_DROP && st->v.kind != MX_CHAIN_V_REJECT) {
		st->v.flags |= MX_CHAIN_VF_DYN_NAT;
		st->v.rule = (st->nat_rule & ~CHAIN_DYN_UNDECIDED) - 1;
	}
	if (nat)
		*nat = *n;
	else if (n->flags)
		st->v.flags |= MX_CHAIN_VF_NAT_RECORD;
	return st->v;
}

/* The entry: a device or port with no chain (MX_CHAIN_NONE) costs this one compare. With
 * a chain it may pull headers into the linear part: packet pointers the caller holds must
 * be taken again afterwards. */
static __always_inline struct mx_chain_verdict chain_filter(struct __sk_buff *skb, __u32 chain,
							 const struct chain_input *in,
							 struct mx_chain_nat *nat)
{
	if (chain == MX_CHAIN_NONE)
		return (struct mx_chain_verdict){ .kind = MX_CHAIN_V_ACCEPT,
					       .rule = MX_CHAIN_RULE_NONE };
	return chain_eval(skb, chain, in, nat, true);
}

/* chain_filter where nothing is tracked (the answers the datapath makes, a flooded copy):
 * a dynamic NAT rule decides nothing there. */
static __always_inline struct mx_chain_verdict
chain_filter_untracked(struct __sk_buff *skb, __u32 chain, const struct chain_input *in,
		       struct mx_chain_nat *nat)
{
	if (chain == MX_CHAIN_NONE)
		return (struct mx_chain_verdict){ .kind = MX_CHAIN_V_ACCEPT,
					       .rule = MX_CHAIN_RULE_NONE };
	return chain_eval(skb, chain, in, nat, false);
}

#endif
