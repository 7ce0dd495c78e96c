/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Rule chains (MidoNet's model): the maps the evaluator reads (bpf/lib/chain.h) and the
 * rule spec the compiler (loader/chain.c) turns into them. Not yet in the forwarding
 * pipeline: docs/chains-datapath.md. */
#ifndef MIDOX_CHAIN_H
#define MIDOX_CHAIN_H

#include "common.h"

/* A device or port without a chain names this one: the evaluator is never entered. */
#define MX_CHAIN_NONE 0u

/* Rules of one generation (all chains together); the rule map holds two generations. */
#define MX_CHAIN_RULES_MAX 16384
/* Per-rule counters: a rule keeps its slot across recompiles while its rule_id lives. */
#define MX_CHAIN_COUNTERS_MAX MX_CHAIN_RULES_MAX
#define MX_CHAIN_MAX_ENTRIES 4096     /* chains */
#define MX_CHAIN_SET_MAX_ENTRIES 262144 /* members of port lists, port and address groups */
/* Nested jumps: the top chain and at most MX_CHAIN_MAX_DEPTH - 1 below it (a power of 2). */
#define MX_CHAIN_MAX_DEPTH 8
/* Chains one evaluation enters, the top one included (a power of 2); a chain is entered at
 * most once (MidoNet's rule), so an evaluation looks at each rule at most once. */
#define MX_CHAIN_MAX_VISITED 16
/* Steps of one evaluation: each looks at one rule or more, or ends a chain, so a compiled
 * version never needs more; past it (never) the packet is dropped (MX_CHAIN_V_TOO_LONG). */
#define MX_CHAIN_MAX_STEPS (MX_CHAIN_RULES_MAX + MX_CHAIN_MAX_VISITED + 1)

/* __u32 0 -> struct mx_chain_gen: which half of midox_chrule and of each chain is live. */
#define MX_MAP_CHAIN_GEN "midox_chgen"
struct mx_chain_gen {
	__u32 gen; /* 0 or 1 */
	__u32 pad;
};
_Static_assert(sizeof(struct mx_chain_gen) == 8, "mx_chain_gen layout");

/* chain id (__u32, never MX_CHAIN_NONE) -> struct mx_chain: where its rules are, per half.
 * A per-CPU hash, every CPU's copy the same: the kernel rewrites a per-CPU hash's value in
 * place, where a plain hash replaces the element and may hand the freed one at once to the
 * next insert. An install then rewrote, under an evaluation still reading chain 1's old
 * element, that element as chain 2's (one evaluation in about 12 million, during installs,
 * accepted with no rule). In place, the live half's bytes are rewritten with themselves. */
#define MX_MAP_CHAIN "midox_chain_v2"
struct mx_chain_half {
	__u32 first; /* index in midox_chrule (the half's base included) */
	__u32 n;     /* rules */
};
struct mx_chain {
	struct mx_chain_half half[2];
};
_Static_assert(sizeof(struct mx_chain) == 16, "mx_chain layout");

/* Rule types, MidoNet's. */
enum mx_rule_type {
	MX_RULE_ACCEPT = 1,
	MX_RULE_DROP,
	MX_RULE_REJECT,   /* ICMP admin-prohibited, or a TCP RST for TCP */
	MX_RULE_CONTINUE,
	MX_RULE_JUMP,     /* to the chain target */
	MX_RULE_RETURN,   /* to the chain that jumped here; at the top, accept */
	MX_RULE_SNAT,     /* NAT: a verdict for the conntrack step; target is its targets' index */
	MX_RULE_DNAT,
	MX_RULE_REV_SNAT,
	MX_RULE_REV_DNAT,
	MX_RULE__MAX
};

/* Conditions: a rule tests the bits of its conds; each bit of inv inverts that test. The
 * fields are MidoNet's flow match's: a packet without addresses (neither IPv4 nor ARP)
 * fails an address test, so the inverted test passes; a missing protocol, TOS or port is
 * 0. */
enum mx_chain_cond {
	MX_COND_HW_SRC = 1 << 0,       /* (eth source & hw_src_mask) == hw_src */
	MX_COND_HW_DST = 1 << 1,
	MX_COND_ETHERTYPE = 1 << 2,
	MX_COND_SRC = 1 << 3,          /* IPv4 source (ARP: sender address) in src/src_len */
	MX_COND_DST = 1 << 4,
	MX_COND_PROTO = 1 << 5,        /* IPv4 protocol (ARP: the opcode) */
	MX_COND_TOS = 1 << 6,          /* the whole TOS byte */
	MX_COND_SRC_PORT = 1 << 7,     /* TCP/UDP source port in range; ICMP: the type */
	MX_COND_DST_PORT = 1 << 8,     /* ... destination port; ICMP: the code */
	MX_COND_IN_PORTS = 1 << 9,     /* the ingress port is a member of set in_ports */
	MX_COND_OUT_PORTS = 1 << 10,
	MX_COND_PORT_GROUP = 1 << 11,  /* the exterior port the packet entered by is in group
					* port_group (MidoNet's older port-group condition) */
	MX_COND_IN_PORT_GROUP = 1 << 12,
	MX_COND_OUT_PORT_GROUP = 1 << 13,
	MX_COND_IP_GROUP_SRC = 1 << 14, /* the IPv4 source is an address of set ip_group_src */
	MX_COND_IP_GROUP_DST = 1 << 15,
	MX_COND_FWD_FLOW = 1 << 16,    /* connection tracking says forward (an input for now) */
	MX_COND_RETURN_FLOW = 1 << 17, /* ... says return */
};
#define MX_COND__ALL ((1u << 18) - 1)
#define MX_COND__L4 (MX_COND_SRC_PORT | MX_COND_DST_PORT)

/* Which IPv4 fragments a rule applies to (MidoNet's FragmentPolicy); not invertible. */
enum mx_frag_policy {
	MX_FRAG_ANY = 0,         /* all packets */
	MX_FRAG_HEADER,          /* unfragmented ones and first fragments */
	MX_FRAG_NONHEADER,       /* fragments after the first */
	MX_FRAG_UNFRAGMENTED,    /* unfragmented ones */
	MX_FRAG__MAX,
	MX_FRAG_DEFAULT = 0xff,  /* spec only: MidoNet's default (loader/chain.c, rule_frag) */
};

/* rule index (__u32) -> struct mx_chain_rule. Half g holds indexes [g * MX_CHAIN_RULES_MAX,
 * (g + 1) * MX_CHAIN_RULES_MAX). */
#define MX_MAP_CHAIN_RULE "midox_chrule"
struct mx_chain_rule {
	__u32 rule_id;     /* the rule's stable identity (counters follow it) */
	__u32 counter;     /* its slot in midox_chcount */
	__u32 conds;       /* enum mx_chain_cond */
	__u32 inv;         /* inverted conditions, a subset of conds */
	__u8 type;         /* enum mx_rule_type */
	__u8 frag;         /* enum mx_frag_policy */
	__u8 nat_action;   /* NAT types: the type that follows the rewrite (accept, continue,
			    * return), for the conntrack step */
	__u8 proto;
	__u8 tos;
	__u8 src_len;
	__u8 dst_len;
	__u8 pad0;
	__be16 ethertype;
	__u16 sport_lo, sport_hi; /* inclusive, host order */
	__u16 dport_lo, dport_hi;
	__u16 pad1;
	__u8 hw_src[6], hw_src_mask[6];
	__u8 hw_dst[6], hw_dst_mask[6];
	__be32 src, dst;   /* host bits zero */
	__u32 target;      /* JUMP: the chain id (MX_CHAIN_NONE: missing); NAT: targets' index */
	/* Set ids in midox_chset (their generation in the top bit). */
	__u32 in_ports, out_ports;
	__u32 port_group, in_port_group, out_port_group;
	__u32 ip_group_src, ip_group_dst;
	__be32 nat_addr;   /* SNAT, DNAT to one address and no ports (static 1:1 NAT, a
			    * floating IP): the address, rewritten at the evaluation point
			    * (bpf/lib/nat.h); 0 for every other rule (an older compiler's pad) */
};
_Static_assert(sizeof(struct mx_chain_rule) == 104, "mx_chain_rule layout");

/* struct mx_chain_set_key -> __u32 (1): membership of a port key in a port list or port
 * group, of an IPv4 address (__be32) in an IP address group. */
#define MX_MAP_CHAIN_SET "midox_chset"
#define MX_CHAIN_SET_GEN_BIT 0x80000000u
struct mx_chain_set_key {
	__u32 set;
	__u32 member;
};
_Static_assert(sizeof(struct mx_chain_set_key) == 8, "mx_chain_set_key layout");

/* counter slot (__u32) -> struct mx_chain_counter, per CPU: packets that matched the rule. */
#define MX_MAP_CHAIN_COUNT "midox_chcount"
struct mx_chain_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct mx_chain_counter) == 16, "mx_chain_counter layout");

/* What an evaluation decided (bpf/lib/chain.h, chain_filter). */
enum mx_chain_verdict_kind {
	MX_CHAIN_V_ACCEPT = 0,
	MX_CHAIN_V_DROP,
	MX_CHAIN_V_REJECT,    /* flags: MX_CHAIN_VF_TCP_RST or an ICMP admin-prohibited */
	MX_CHAIN_V_SNAT,      /* a NAT rule matched: rule is its index in midox_chrule */
	MX_CHAIN_V_DNAT,
	MX_CHAIN_V_REV_SNAT,
	MX_CHAIN_V_REV_DNAT,
	MX_CHAIN_V_TOO_LONG,  /* MX_CHAIN_MAX_STEPS ran out (no compiled version can): drop */
};

/* The verdict's rule when no rule decided (the end of a chain, no chain). */
#define MX_CHAIN_RULE_NONE 0xffffffffu

enum mx_chain_verdict_flags {
	MX_CHAIN_VF_TCP_RST = 1 << 0, /* reject a TCP packet with a RST */
	MX_CHAIN_VF_STATIC_NAT = 1 << 1, /* a SNAT or DNAT verdict of a static rule: the
					  * rewrite is done (struct chain_nat), no state */
	MX_CHAIN_VF_DYN_NAT = 1 << 2,    /* a dynamic NAT rule matched (rule is its index):
					  * the caller applies it with the connection's
					  * binding (bpf/lib/natdyn.h) */
	MX_CHAIN_VF_NAT_RECORD = 1 << 3, /* static rules rewrote the packet's fields: what
					  * they decided is in midox_chnat (set for a caller
					  * that takes no copy of it: the pipeline's) */
};

/* What an evaluation decided (bpf/lib/chain.h, chain_filter). */
struct mx_chain_verdict {
	__u8 kind;  /* enum mx_chain_verdict_kind */
	__u8 flags; /* enum mx_chain_verdict_flags */
	__u16 pad;
	__u32 rule; /* the deciding rule's index in midox_chrule (NAT: its target, its action),
		     * MX_CHAIN_RULE_NONE when no rule decided */
};
_Static_assert(sizeof(struct mx_chain_verdict) == 8, "mx_chain_verdict layout");

_Static_assert((MX_CHAIN_MAX_DEPTH & (MX_CHAIN_MAX_DEPTH - 1)) == 0, "depth is a power of 2");
_Static_assert((MX_CHAIN_MAX_VISITED & (MX_CHAIN_MAX_VISITED - 1)) == 0,
	       "visited chains are a power of 2");

/* One chain being evaluated: the next rule and the end of its rules. */
struct mx_chain_frame {
	__u32 pos;
	__u32 end;
};

/* __u32 0 -> struct mx_chain_state, per CPU: what an evaluation changes as it goes, the
 * datapath's scratch (user space never writes it). */
#define MX_MAP_CHAIN_STATE "midox_chstat_v2"
#define MX_CHAIN_EVAL_WORDS 16
struct mx_chain_state {
	struct mx_chain_verdict v;
	__u32 depth;     /* the frame being evaluated */
	__u32 n_visited;
	__u32 done;
	__u32 nat_rule;  /* 1 + the index of a dynamic NAT rule that matched with action
			  * continue or return (0: none); it applies unless the verdict drops */
	struct mx_chain_frame stack[MX_CHAIN_MAX_DEPTH];
	__u32 visited[MX_CHAIN_MAX_VISITED]; /* every chain entered, the top one first */
	__u32 eval[MX_CHAIN_EVAL_WORDS]; /* bpf/lib/chain.h's struct chain_eval: the packet's
					  * fields the rules read (a NAT rule changes them for
					  * the rules after it) and the evaluation's inputs;
					  * here, not on the stack, for the stack's sake */
};
_Static_assert(sizeof(struct mx_chain_state) == 24 + 8 * MX_CHAIN_MAX_DEPTH +
						    4 * MX_CHAIN_MAX_VISITED +
						    4 * MX_CHAIN_EVAL_WORDS,
	       "mx_chain_state layout");

/* rule index (__u32, as midox_chrule's) -> struct mx_chain_nat_target: the target of a
 * dynamic SNAT or DNAT rule (bpf/lib/natdyn.h), written by the installer beside the rule,
 * in the same half, before the switch: a rule and its target change together. */
#define MX_MAP_CHAIN_NAT_TARGET "midox_chnatt"
struct mx_chain_nat_target {
	__be32 addr_lo, addr_hi;  /* the address range, inclusive (network order) */
	__u16 port_lo, port_hi;   /* the port range, inclusive, host order; 0, 0: none given */
	__u32 pad;
};
_Static_assert(sizeof(struct mx_chain_nat_target) == 16, "mx_chain_nat_target layout");

/* __u32 0 -> struct mx_chain_nat, per CPU: the rewrite the static NAT rules of one
 * evaluation decided (bpf/lib/chain.h), applied by its caller (bpf/lib/nat.h). The
 * datapath's scratch, beside midox_chstat_v2: in a map value, which the verifier takes as
 * unknown, rather than on the stack, where it would check the evaluation's steps once for
 * each combination of values. */
#define MX_MAP_CHAIN_NAT "midox_chnat"
enum mx_chain_nat_flags {
	MX_NAT_SRC = 1 << 0, /* the source becomes src */
	MX_NAT_DST = 1 << 1, /* the destination becomes dst */
};
struct mx_chain_nat {
	__be32 src, dst;
	__u32 flags; /* enum mx_chain_nat_flags */
	/* The addresses a packet had entering a router with filters by port orig_entry, before
	 * its infilters: the router's own ICMP errors quote it so (bpf/lib/nat.h). */
	__u32 orig_entry;
	__be32 orig_src, orig_dst;
};
_Static_assert(sizeof(struct mx_chain_nat) == 24, "mx_chain_nat layout");

/* tunnel key (__u32) of a port, bridge or router with a filter -> struct mx_filter: the
 * chains the pipeline evaluates there (bpf/lib/filter.h). Looked up only for a port whose
 * entry says so (MX_PORT_FILTERED, MX_PORT_DEVICE_FILTERED): a frame through ports and
 * devices without filters pays a flag test. The agent's (agent/desired.c). */
#define MX_MAP_FILTER "midox_filter_v2"
#define MX_FILTER_MAX_ENTRIES 65536
struct mx_filter {
	/* the entry's own key: the datapath reads it after the chain it uses, and takes an
	 * entry of another owner (an element the kernel reused) for none (docs/datapath.md,
	 * "Map elements under readers"). First: the kernel's copy of a value stores it first. */
	__u32 owner;
	__u32 in_chain;  /* chain id, MX_CHAIN_NONE: no infilter */
	__u32 out_chain; /* chain id, MX_CHAIN_NONE: no outfilter */
};
_Static_assert(sizeof(struct mx_filter) == 12, "mx_filter layout");

/* The evaluation's inputs besides the packet. */
enum mx_chain_input_flags {
	MX_CHAIN_IN_FWD_FLOW = 1 << 0, /* connection tracking: a forward flow (else return) */
	MX_CHAIN_IN_NO_COUNT = 1 << 1, /* a traced run: the rules' counters are left alone */
};

/* ---- the compiler's input (loader/chain.h): one rule as the agent states it ---- */

/* jump_to of a rule whose target chain does not exist: the jump is a continue. */
#define MX_CHAIN_SPEC_MISSING 0xffffffffu
/* A list reference that is not used. */
#define MX_CHAIN_SPEC_NO_LIST 0xffffffffu

struct mx_rule_spec {
	__u32 rule_id;       /* non-zero, unique among all chains */
	__u8 type;           /* enum mx_rule_type */
	__u8 frag;           /* enum mx_frag_policy, or MX_FRAG_DEFAULT (loader/chain.c,
			      * rule_frag: MidoNet's defaults and checks) */
	__u8 nat_action;     /* NAT types: MX_RULE_ACCEPT (0 means it), _CONTINUE or _RETURN */
	__u8 nat_ports;      /* snat, dnat: the targets have port ranges (dynamic NAT) */
	__u8 proto, tos, src_len, dst_len;
	__u32 conds, inv;
	__be16 ethertype;
	__u16 sport_lo, sport_hi, dport_lo, dport_hi;
	__u8 hw_src[6], hw_src_mask[6]; /* a zero mask: all 48 bits */
	__u8 hw_dst[6], hw_dst_mask[6];
	__be32 src, dst;
	__u32 jump_to;       /* JUMP: index of the target in the compiler's chains, or
			      * MX_CHAIN_SPEC_MISSING */
	__u32 nat_target;    /* NAT: passed through to the verdict's rule */
	__be32 nat_addr;     /* SNAT, DNAT: the one address of a static target (one address,
			      * no ports), else 0 */
	/* Indexes in the compiler's lists (MX_CHAIN_SPEC_NO_LIST when the condition is unset):
	 * port keys for the port conditions, IPv4 addresses for the address groups. */
	__u32 in_ports, out_ports;
	__u32 port_group, in_port_group, out_port_group;
	__u32 ip_group_src, ip_group_dst;
	/* SNAT, DNAT with a target that is not static (nat_addr 0): the target, for
	 * midox_chnatt. nat_lo 0: no target (the rule is refused). */
	__be32 nat_lo, nat_hi;
	__u16 nat_port_lo, nat_port_hi;
};

#endif
