/* SPDX-License-Identifier: Apache-2.0 */
/* The resolved rule chains (filters.h) stated as the chain compiler's program
 * (loader/chain.h): rule specs, lists for port lists, port groups and IP address groups,
 * jumps by chain index, ids derived from the topology's ids
 * (mx_chain_ids_assign) (docs/chains-datapath.md). A
 * rule the spec refuses becomes a drop of everything, logged by name: fail closed. */
#ifndef MIDOX_AGENT_CHAIN_COMPILE_H
#define MIDOX_AGENT_CHAIN_COMPILE_H

#include "filters.h"
#include "loader/chain.h"

/* A NAT rule's target, for the connection-tracking step to come: the rule spec's
 * nat_target is its index in cc_program.nat_targets. */
struct cc_nat_target {
	__be32 from, to;
	__u16 port_from, port_to; /* 0, 0: none (static NAT) */
};

struct cc_program {
	struct mx_chain_spec *chains;    /* one per df_chains chain, same order */
	struct mx_rule_spec *rules;      /* the chains' rules, chain by chain */
	struct mx_chain_list *lists;
	__u32 *members;                  /* the lists' members, list by list */
	struct cc_nat_target *nat_targets;
	size_t n_chains, n_rules, n_lists, n_members, n_nat_targets;
	size_t refused;                  /* rules the spec cannot state: installed as drops */
	const char **refused_why;        /* per rule: why it was refused, or NULL */
};

/* 0 or -ENOMEM (out freed). */
int chain_compile(const struct df_chains *c, struct cc_program *out);
void chain_compile_free(struct cc_program *p);
/* An error logged for each refused rule of p (compiled from c), naming chain, rule and
 * position: "chain <id> rule <id> (position 2): <why>; it drops every packet it sees
 * instead". */
void chain_compile_log_refused(const struct cc_program *p, const struct df_chains *c);
/* The compiler's input: a view of p. */
struct mx_chain_program chain_compile_program(const struct cc_program *p);
/* Whether a and b install the same thing (the agent installs only when they differ). */
bool chain_compile_equal(const struct cc_program *a, const struct cc_program *b);

#endif
