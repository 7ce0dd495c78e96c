/* SPDX-License-Identifier: Apache-2.0 */
/* The rule chains this host's datapath is to evaluate, resolved from a snapshot for the
 * chain compiler (docs/chains.md): every reference turned into an index or a tunnel key,
 * what dangles resolved as MidoNet does. Part of the desired state; chain_compile.c states
 * it for the chain maps (the pipeline does not evaluate chains yet). */
#ifndef MIDOX_AGENT_FILTERS_H
#define MIDOX_AGENT_FILTERS_H

#include <stddef.h>

#include <linux/types.h>

#include "topology/chains.h"

#define DF_NONE (-1L)    /* no reference */
#define DF_MISSING (-2L) /* a reference to what is not there: a jump continues, a group holds
			  * no packet */

struct df_rule {
	struct topo_rule r;	/* as read and checked (chain order) */
	long jump;		/* index in df_chains.chains, or DF_NONE / DF_MISSING */
	/* in-ports, out-ports as tunnel keys; 0 for a port not there (matches no packet) */
	__u32 in_ports[TOPO_RULE_MAX_PORTS], out_ports[TOPO_RULE_MAX_PORTS];
	/* indexes in df_chains.port_groups / ip_groups, or DF_NONE / DF_MISSING */
	long port_group, in_port_group, out_port_group, ipg_src, ipg_dst;
};

struct df_chain {
	char id[TOPO_ID_LEN];
	size_t first, n;	/* its rules: rules[first .. first + n) */
};

struct df_port_group {
	char id[TOPO_ID_LEN];
	bool stateful;
	__u32 *ports;	/* members' tunnel keys */
	size_t n;
};

struct df_ip_group {
	char id[TOPO_ID_LEN];
	__be32 *addrs;
	size_t n;
};

enum df_owner { DF_BRIDGE = 1, DF_ROUTER, DF_PORT };

/* A bridge, router or port with a filter: its tunnel key and the chains' indexes. */
struct df_filter {
	enum df_owner owner;
	__u32 key;
	long in, out;	/* index in chains, or DF_NONE */
};

struct df_chains {
	struct df_chain *chains;
	size_t n_chains;
	struct df_rule *rules;
	size_t n_rules;
	struct df_port_group *port_groups;
	size_t n_port_groups;
	struct df_ip_group *ip_groups;
	size_t n_ip_groups;
	struct df_filter *filters;
	size_t n_filters;
};

/* 0 or -ENOMEM (out freed). */
int filters_resolve(const struct topology *t, struct df_chains *out);
void filters_free(struct df_chains *c);
/* Whether chain (an index in c->chains, or DF_NONE) or a chain it jumps to has a rule
 * that needs connection tracking (a flow condition). */
bool filters_chain_tracks(const struct df_chains *c, long chain);
/* Whether rule r is dynamic NAT (snat, dnat to a range or with ports; rev_snat, rev_dnat),
 * which needs its device to track connections. */
bool filters_rule_nat_dynamic(const struct topo_rule *r);
/* The filters of the bridge, router or port holding tunnel key key, or NULL. */
const struct df_filter *filters_of(const struct df_chains *c, enum df_owner owner, __u32 key);

#endif
