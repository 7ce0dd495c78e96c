/* SPDX-License-Identifier: Apache-2.0 */
/* Dynamic NAT rules the router tests and the frame fuzzer both install: a port forward
 * with its reverse SNAT, as MidoNet's recipe writes them. */
#ifndef MIDOX_TEST_NAT_RULES_H
#define MIDOX_TEST_NAT_RULES_H

#include <arpa/inet.h>

#include "midox/chain.h"

/* Fill in (the infilter's first two rules, their ids and types set by the caller:
 * rev_snat, dnat) and out (the outfilter's first rule: rev_dnat): rev_snat of what comes
 * to snat_addr; TCP to dnat_addr:8080 goes to vm:80; rev_dnat of TCP from vm:80. */
static inline void nat_rules_forward(struct mx_rule_spec in[2], struct mx_rule_spec *out,
				     __be32 snat_addr, __be32 dnat_addr, __be32 vm)
{
	in[0].conds = MX_COND_DST;
	in[0].dst = snat_addr;
	in[0].dst_len = 32;
	in[1].conds = MX_COND_DST | MX_COND_PROTO | MX_COND_DST_PORT;
	in[1].dst = dnat_addr;
	in[1].dst_len = 32;
	in[1].proto = 6;
	in[1].dport_lo = in[1].dport_hi = 8080;
	in[1].nat_lo = in[1].nat_hi = vm;
	in[1].nat_port_lo = in[1].nat_port_hi = 80;
	in[1].nat_ports = 1;
	out->conds = MX_COND_SRC | MX_COND_PROTO | MX_COND_SRC_PORT;
	out->src = vm;
	out->src_len = 32;
	out->proto = 6;
	out->sport_lo = out->sport_hi = 80;
}

#endif
