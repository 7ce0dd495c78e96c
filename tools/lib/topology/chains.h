/* SPDX-License-Identifier: Apache-2.0 */
/* Rule chains, port groups and IP address groups: the words of a rule, its validation, the
 * finders and the writes (docs/chains.md, docs/zookeeper.md). The structs are in
 * chain_model.h. Every write is one multi-op, as in topology.h. */
#ifndef MIDOX_TOPOLOGY_CHAINS_H
#define MIDOX_TOPOLOGY_CHAINS_H

#include "topology.h"

/* Words: "accept", "rev_snat"; "accept"/"continue"/"return"; "any", "header", "nonheader",
 * "unfragmented"; "fwd-flow", "return-flow". Parsers: 0 or -EINVAL. */
const char *topo_rule_type_name(enum topo_rule_type t);
int topo_parse_rule_type(const char *s, enum topo_rule_type *t);
const char *topo_rule_action_name(enum topo_rule_action a);
int topo_parse_rule_action(const char *s, enum topo_rule_action *a);
const char *topo_frag_policy_name(enum topo_frag_policy f);
int topo_parse_frag_policy(const char *s, enum topo_frag_policy *f);
const char *topo_flow_name(enum topo_flow_match f);
int topo_parse_flow(const char *s, enum topo_flow_match *f);
/* A condition's word in the CLI ("hw-src", "ip-address-group-src") and its JSON key
 * ("hw_src", "ip_address_group_src"). */
const char *topo_cond_word(enum topo_cond c);
const char *topo_cond_key(enum topo_cond c);
/* "A[-B][:P1[-P2]]", and back. */
int topo_parse_nat_target(const char *s, struct topo_nat_target *t);
void topo_format_nat_target(const struct topo_nat_target *t, char buf[64]);
/* "P" or "P1:P2" (also "P1-P2"), ports 1..65535, P1 <= P2; formatted "P" or "P1:P2". */
int topo_parse_port_range(const char *s, struct topo_port_range *r);
void topo_format_port_range(const struct topo_port_range *r, char buf[16]);
/* An ethertype: decimal or 0x hex, 0x0600..0xffff. */
int topo_parse_ethertype(const char *s, uint16_t *out);

/* A rule's fields that do not depend on the rest of the tree, as MidoNet checks them, with
 * the fragment policy's default filled in when frag is 0 (resolve_defaults; the decoder
 * passes false: a stored rule has one): a jump rule has a jump_id and no other rule one; a
 * NAT rule an action (default accept) and other rules none; snat and dnat a target and no
 * other rule one; the fragment policy fits the rule (L4 ports: header or unfragmented;
 * forward NAT other than a single-address target without ports: unfragmented). -EINVAL
 * with the reason in topo_errmsg(). */
int topo_rule_check(struct topo_rule *r, bool resolve_defaults);

/* Finders: by UUID, name or alias (chain0, pgroup0, ipgroup0); a rule by UUID or
 * "<chain ref>:ruleN", within a chain also "ruleN". NULL if none. */
const struct topo_chain *topo_find_chain(const struct topology *t, const char *ref);
const struct topo_chain *topo_find_chain_by_id(const struct topology *t, const char *id);
const struct topo_rule *topo_find_rule(const struct topology *t, const char *ref);
const struct topo_rule *topo_find_chain_rule(const struct topology *t, const char *chain_id,
					      const char *ref);
const struct topo_rule *topo_find_rule_by_id(const struct topology *t, const char *id);
const struct topo_port_group *topo_find_port_group(const struct topology *t, const char *ref);
const struct topo_port_group *topo_find_port_group_by_id(const struct topology *t,
							 const char *id);
const struct topo_ip_group *topo_find_ip_group(const struct topology *t, const char *ref);
const struct topo_ip_group *topo_find_ip_group_by_id(const struct topology *t, const char *id);
/* What uses object id (a chain, port group, IP address group or port) as a reference: its
 * alias and how ("router router0 infilter", "rule chain1:rule0 jump-to"), into buf; false
 * when nothing does. */
bool topo_find_user(const struct topology *t, const char *id, char *buf, size_t len);

/* Writes. A rule's references (jump_id, ports, groups) must exist; each rewrites what it
 * names at its version, so that a concurrent delete of it fails and is refused on retry. */
int topo_chain_create(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN]);
/* Refused (-EBUSY) while attached or jumped to, naming the user; takes its rules. */
int topo_chain_delete(zhandle_t *zh, const char *chain_id);
/* pos 0: append; else 1..n+1 (the rules from pos on move down one). */
int topo_rule_add(zhandle_t *zh, const struct topo_rule *r, char id[TOPO_ID_LEN]);
int topo_rule_delete(zhandle_t *zh, const char *rule_id);
int topo_port_group_create(zhandle_t *zh, const char *name, bool stateful,
			   char id[TOPO_ID_LEN]);
/* Refused while a rule names it; takes its memberships. */
int topo_port_group_delete(zhandle_t *zh, const char *group_id);
int topo_port_group_member_add(zhandle_t *zh, const char *group_id, const char *port_id);
int topo_port_group_member_delete(zhandle_t *zh, const char *group_id, const char *port_id);
int topo_ip_group_create(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN]);
int topo_ip_group_delete(zhandle_t *zh, const char *group_id);
int topo_ip_group_addr_add(zhandle_t *zh, const char *group_id, struct in_addr addr);
int topo_ip_group_addr_delete(zhandle_t *zh, const char *group_id, struct in_addr addr);
/* The filters of a bridge, router or port (device_id names any of the three), both in one
 * write: in and out each NULL to keep, "" to clear, or a chain's id to attach. */
int topo_filter_set(zhandle_t *zh, const char *device_id, const char *in, const char *out);

#endif
