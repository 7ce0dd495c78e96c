/* SPDX-License-Identifier: Apache-2.0 */
/* Rule chains: the compiler from rule specs (include/midox/chain.h) into the evaluator's
 * maps (bpf/lib/chain.h), and the rules' counters. Every function returns 0 or a negative
 * errno. The agent installs its chains with it
 * (agent/chain_compile.c): docs/chains-datapath.md. */
#ifndef MIDOX_LOADER_CHAIN_H
#define MIDOX_LOADER_CHAIN_H

#include <stdbool.h>

#include "midox/chain.h"

/* The chain maps' fds (midox_chgen, midox_chain_v2, midox_chrule, midox_chset, midox_chcount,
 * midox_chnatt: the dynamic NAT rules' targets, written only for such rules). */
struct mx_chain_maps {
	int gen, chain, rule, set, count, target;
};

/* The chain maps are the datapath's (bpf/midox.bpf.c includes bpf/lib/chain.h): pinned by
 * name with the others, so the version a previous agent installed keeps evaluating until
 * an install switches. The agent takes their fds from its datapath (mx_datapath_chain_maps,
 * loader.h). */
/* Read-only use of what is pinned (midox chain C list rule): nothing created. -ENOENT when
 * a map is not pinned there, -EPROTO when its sizes are not this ABI's; fds -1 then. */
int mx_chain_maps_open_pinned(const char *pin_root, struct mx_chain_maps *maps);
void mx_chain_maps_close_fds(struct mx_chain_maps *maps);

/* midox_chain_v2's entry for chain id (every CPU holds the same; the first's is read):
 * 0, or a negative errno (-ENOENT: no such chain). */
int mx_chain_entry_read(int chain_fd, __u32 id, struct mx_chain *out);

/* A set of __u32: port keys (port lists and groups) or IPv4 addresses (__be32, address
 * groups). Rules name a list by its index. */
struct mx_chain_list {
	const __u32 *members;
	__u32 n;
};

struct mx_chain_spec {
	__u32 id; /* the key devices name the chain by: not MX_CHAIN_NONE, unique */
	const struct mx_rule_spec *rules;
	__u32 n_rules;
};

/* Everything: a rule's jump_to is an index in chains, its list references in lists. */
struct mx_chain_program {
	const struct mx_chain_spec *chains;
	__u32 n_chains;
	const struct mx_chain_list *lists;
	__u32 n_lists;
};

/* Make the maps hold exactly program p: checked whole first (-EINVAL for a bad spec, with
 * a message naming the chain and rule; -ENOSPC past the maps' sizes), written beside the
 * live version, then made live with one write, then the old version's leftovers removed.
 * On any error before the switch the live version is untouched. A rule whose rule_id was
 * live keeps its counters; a new one starts from zero. */
int mx_chain_install(const struct mx_chain_maps *m, const struct mx_chain_program *p);

/* The ids of chains and rules (chain_ids.c): FNV-1a of the topology's id (a UUID string),
 * never 0. mx_chain_ids_assign gives out[k] to the string at ids + k * stride, in that
 * order; one whose hash an earlier one took gets the next free value. The agent assigns
 * chain ids over the snapshot's chains and rule ids over its rules, in snapshot order;
 * whoever reads the counters by rule does the same over the same snapshot. */
__u32 mx_chain_id_hash(const char *topo_id);
int mx_chain_ids_assign(const char *ids, size_t n, size_t stride, __u32 *out);

/* What makes rule s refused by mx_chain_install on its own (type, conditions, inversion,
 * prefixes, port ranges, fragment policy, NAT action; not its list or jump references),
 * or NULL when it is fine: for a caller that leaves such a rule out rather than the
 * whole program. */
const char *mx_rule_spec_check(const struct mx_rule_spec *s);

/* The counters of the live rule rule_id, summed over CPUs; -ENOENT when there is none. */
int mx_chain_counter_read(const struct mx_chain_maps *m, __u32 rule_id,
			  struct mx_chain_counter *out);

/* fn for every live rule, chain by chain, with its counters summed over CPUs (one pass, for
 * listing a chain's rules); a non-zero return of fn stops the walk and is returned. */
int mx_chain_counters_walk(const struct mx_chain_maps *m,
			   int (*fn)(__u32 rule_id, const struct mx_chain_counter *c, void *ctx),
			   void *ctx);

#endif
