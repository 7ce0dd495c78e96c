// SPDX-License-Identifier: Apache-2.0
/* chain create name C | list | C show | C delete | C list rule
 * | C add rule [pos N] type T [action A] [jump-to C2] [target A[-B][:P1[-P2]]]
 *   [flow fwd-flow|return-flow] [fragment-policy P] [CONDITION [!]VALUE]...
 * | C rule R show | C rule R delete
 * port-group create name G [stateful true|false] | list | G show | G delete
 * | G add member port P | G list member | G delete member port P
 * ip-address-group create name A | list | A show | A delete
 * | A add ip address X | A list ip | A delete ip address X
 * and the filters: (bridge B | router R | ... port P) set infilter C | set outfilter C
 * | clear infilter | clear outfilter (docs/chains.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "loader/chain.h"
#include "topology/chains.h"

static const char *const rule_types[] = { "accept", "drop", "reject", "continue", "jump",
					  "return", "snat", "dnat", "rev_snat", "rev_dnat", NULL };
static const char *const rule_actions[] = { "accept", "continue", "return", NULL };
static const char *const frag_policies[] = { "any", "header", "nonheader", "unfragmented",
					     NULL };
static const char *const flows[] = { "fwd-flow", "return-flow", NULL };
static const char *const true_false[] = { "true", "false", NULL };

/* add rule's arguments: v[ARG_*], then the conditions at v[ARG_COND + enum topo_cond]. */
enum { ARG_POS, ARG_TYPE, ARG_ACTION, ARG_JUMP, ARG_TARGET, ARG_FLOW, ARG_FRAG, ARG_COND };

#define COND(word, m) { word, CLI_T_WORD, .meta = m }
static const struct cli_arg rule_args[] = {
	{ "pos", CLI_T_UINT, "N", .min = 1, .max = TOPO_CHAIN_MAX_RULES },
	{ "type", CLI_T_KEYWORD, .required = true, .what = "rule type", .choices = rule_types },
	{ "action", CLI_T_KEYWORD, .what = "action", .choices = rule_actions },
	{ "jump-to", CLI_T_REF, "C", .ref = &cli_obj_chain },
	{ "target", CLI_T_WORD, .meta = "A[-B][:P1[-P2]]" },
	{ "flow", CLI_T_KEYWORD, .what = "flow", .choices = flows },
	{ "fragment-policy", CLI_T_KEYWORD, .what = "fragment policy", .choices = frag_policies },
	/* In enum topo_cond's order. */
	COND("hw-src", "[!]MAC"),
	COND("hw-dst", "[!]MAC"),
	COND("ethertype", "[!]TYPE"),
	COND("src", "[!]A/len"),
	COND("dst", "[!]A/len"),
	COND("proto", "[!]N"),
	COND("tos", "[!]N"),
	COND("src-port", "[!]P[:P2]"),
	COND("dst-port", "[!]P[:P2]"),
	COND("in-ports", "[!]P[,P]"),
	COND("out-ports", "[!]P[,P]"),
	COND("port-group", "[!]G"),
	COND("in-port-group", "[!]G"),
	COND("out-port-group", "[!]G"),
	COND("ip-address-group-src", "[!]A"),
	COND("ip-address-group-dst", "[!]A"),
	{ 0 },
};

/* "!x" -> x, inverted. */
static const char *uninvert(const char *s, bool *inv)
{
	*inv = s[0] == '!';
	return *inv ? s + 1 : s;
}

static int small_uint(const char *what, const char *s, uint8_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 255 || *s == '-' || *s == '+')
		return cli_fail(-EINVAL, "bad %s '%s': 0 to 255", what, s);
	*out = (uint8_t)v;
	return 0;
}

/* in-ports, out-ports: port references separated by commas. */
static int port_list(struct cli *c, const char *what, const char *s,
		     char ports[][TOPO_ID_LEN], size_t *n)
{
	char buf[1024], *save = NULL, *tok;
	const void *p;
	int rc;

	snprintf(buf, sizeof(buf), "%s", s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == TOPO_RULE_MAX_PORTS)
			return cli_fail(-EINVAL, "%s names more than %d ports", what,
					TOPO_RULE_MAX_PORTS);
		rc = cli_find_port(c, NULL, tok, &p);
		if (rc)
			return rc;
		strcpy(ports[(*n)++], ((const struct topo_port *)p)->id);
	}
	return *n ? 0 : cli_fail(-EINVAL, "%s needs a port", what);
}

static int group_ref(struct cli *c, bool ip, const char *s, char id[TOPO_ID_LEN])
{
	const void *g;
	int rc = (ip ? cli_find_ip_group : cli_find_port_group)(c, NULL, s, &g);

	if (!rc)
		strcpy(id, ip ? ((const struct topo_ip_group *)g)->id
			      : ((const struct topo_port_group *)g)->id);
	return rc;
}

/* One condition's value s (without its "!") into r. */
static int cond_arg(struct cli *c, enum topo_cond k, const char *s, struct topo_rule_cond *r)
{
	const char *w = topo_cond_word(k);

	switch (k) {
	case TOPO_COND_HW_SRC:
	case TOPO_COND_HW_DST:
		/* Any MAC: a rule may match broadcast or multicast. */
		return topo_parse_mac(s, k == TOPO_COND_HW_SRC ? r->hw_src : r->hw_dst)
			       ? cli_fail(-EINVAL, "bad %s '%s': aa:bb:cc:dd:ee:ff", w, s) : 0;
	case TOPO_COND_ETHERTYPE:
		return topo_parse_ethertype(s, &r->ethertype)
			       ? cli_fail(-EINVAL, "bad ethertype '%s': 0x0600 to 0xffff (0x0800 "
					  "IPv4, 0x0806 ARP)", s) : 0;
	case TOPO_COND_SRC: return cli_cidr_arg(w, s, true, &r->src);
	case TOPO_COND_DST: return cli_cidr_arg(w, s, true, &r->dst);
	case TOPO_COND_PROTO: return small_uint("proto", s, &r->proto);
	case TOPO_COND_TOS: return small_uint("tos", s, &r->tos);
	case TOPO_COND_SRC_PORT:
	case TOPO_COND_DST_PORT:
		return topo_parse_port_range(s, k == TOPO_COND_SRC_PORT ? &r->src_port : &r->dst_port)
			       ? cli_fail(-EINVAL, "bad %s '%s': P or P1:P2, ports 1 to 65535, "
					  "P1 <= P2", w, s) : 0;
	case TOPO_COND_IN_PORTS: return port_list(c, w, s, r->in_ports, &r->n_in_ports);
	case TOPO_COND_OUT_PORTS: return port_list(c, w, s, r->out_ports, &r->n_out_ports);
	case TOPO_COND_PORT_GROUP: return group_ref(c, false, s, r->port_group);
	case TOPO_COND_IN_PORT_GROUP: return group_ref(c, false, s, r->in_port_group);
	case TOPO_COND_OUT_PORT_GROUP: return group_ref(c, false, s, r->out_port_group);
	case TOPO_COND_IPG_SRC: return group_ref(c, true, s, r->ipg_src);
	case TOPO_COND_IPG_DST: return group_ref(c, true, s, r->ipg_dst);
	default: return -EINVAL;
	}
}

static int rule_conds(struct cli *c, const struct cli_call *k, struct topo_rule *r)
{
	const char *s;
	bool inv;
	int i, rc;

	for (i = 0; i < TOPO_COND__MAX; i++) {
		if (!k->v[ARG_COND + i].s)
			continue;
		s = uninvert(k->v[ARG_COND + i].s, &inv);
		if (!*s)
			return cli_fail(-EINVAL, "%s needs a value after '!'", topo_cond_word(i));
		rc = cond_arg(c, i, s, &r->cond);
		if (rc)
			return rc;
		r->cond.has |= 1u << i;
		if (inv)
			r->cond.inv |= 1u << i;
	}
	return 0;
}

static int rule_add(struct cli *c, const struct cli_call *k)
{
	struct topo_rule r = { .pos = k->v[ARG_POS].s ? k->v[ARG_POS].u : 0 };
	char id[TOPO_ID_LEN];
	int rc;

	strcpy(r.chain_id, k->id);
	topo_parse_rule_type(k->v[ARG_TYPE].s, &r.type);
	if (k->v[ARG_ACTION].s)
		topo_parse_rule_action(k->v[ARG_ACTION].s, &r.action);
	if (k->v[ARG_JUMP].s)
		strcpy(r.jump_id, ((const struct topo_chain *)k->v[ARG_JUMP].obj)->id);
	if (k->v[ARG_TARGET].s) {
		if (topo_parse_nat_target(k->v[ARG_TARGET].s, &r.target))
			return cli_fail(-EINVAL, "bad target '%s': A[-B][:P1[-P2]], unicast "
					"addresses A <= B, ports 1 to 65535, P1 <= P2",
					k->v[ARG_TARGET].s);
		r.has_target = true;
	}
	if (k->v[ARG_FLOW].s)
		topo_parse_flow(k->v[ARG_FLOW].s, &r.cond.flow);
	if (k->v[ARG_FRAG].s)
		topo_parse_frag_policy(k->v[ARG_FRAG].s, &r.cond.frag);
	rc = rule_conds(c, k, &r);
	if (rc)
		return rc;
	rc = topo_rule_add(c->zh, &r, id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

static const struct cli_cmd chain_type_cmds[] = {
	{ "create", cli_cmd_create, "a rule chain (-> chain0)", .create = topo_chain_create,
	  .args = (const struct cli_arg[]){
		  { "name", CLI_T_NAME, "C", .required = true, .needs = "a name" }, { 0 } } },
	{ "list", cli_cmd_list, "every chain", .kind = &kind_chain },
	{ 0 },
};

/* ---- a rule's counters, from this host's datapath ---- */

struct counter_walk {
	__u32 *ids;
	struct mx_chain_counter *c;
	size_t n, cap;
};

static int counter_keep(__u32 rule_id, const struct mx_chain_counter *c, void *ctx)
{
	struct counter_walk *w = ctx;

	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		__u32 *ids = realloc(w->ids, cap * sizeof(*ids));
		struct mx_chain_counter *cs = ids ? realloc(w->c, cap * sizeof(*cs)) : NULL;

		if (ids)
			w->ids = ids;
		if (!cs)
			return -ENOMEM;
		w->c = cs;
		w->cap = cap;
	}
	w->ids[w->n] = rule_id;
	w->c[w->n++] = *c;
	return 0;
}

bool cli_rule_counter(const struct cli *c, const struct topo_rule *r,
		      struct mx_chain_counter *out)
{
	const struct cli_rule_counters *rc = c->rule_counters;
	size_t i = (size_t)(r - c->t.rules);

	if (!rc || i >= c->t.n_rules)
		return false;
	for (size_t k = 0; k < rc->n_live; k++)
		if (rc->live_ids[k] == rc->ids[i]) {
			*out = rc->live[k];
			return true;
		}
	return false;
}

/* The live rules' counters of the maps pinned under the pin root, or why not (printed). */
static int counters_read(struct cli *c, struct counter_walk *w)
{
	struct mx_chain_maps m;
	int err = mx_chain_maps_open_pinned(c->pin_root, &m);

	if (err) {
		fprintf(stderr, "midox: no rule counters: %s %s (run it as root on a midox host, "
			"--pin-root DIR or MIDOX_PIN_ROOT naming its agent's pin root)\n",
			err == -EPROTO ? "the chain maps have another layout in"
				       : "no chain maps pinned in", c->pin_root);
		return err;
	}
	err = mx_chain_counters_walk(&m, counter_keep, w);
	mx_chain_maps_close_fds(&m);
	if (err)
		fprintf(stderr, "midox: no rule counters: reading %s: %s\n", c->pin_root,
			strerror(-err));
	return err;
}

/* chain C list rule: the rules, each with its packets and bytes on this host when its
 * datapath holds them; without a datapath here, the rules alone and a note saying so. */
static int rule_list(struct cli *c, const struct cli_call *k)
{
	struct counter_walk w = { 0 };
	__u32 *ids = calloc(c->t.n_rules + 1, sizeof(*ids));
	struct cli_rule_counters rc;
	int rc_err;

	if (!ids)
		return cli_fail(-ENOMEM, "out of memory");
	/* The agent's ids: over the snapshot's rules in its order (loader/chain.h). */
	if (!mx_chain_ids_assign(c->t.n_rules ? c->t.rules[0].id : "", c->t.n_rules,
				 sizeof(*c->t.rules), ids) &&
	    !counters_read(c, &w)) {
		rc = (struct cli_rule_counters){ ids, w.ids, w.c, w.n };
		c->rule_counters = &rc;
	}
	rc_err = cli_cmd_list(c, k);
	c->rule_counters = NULL;
	free(w.ids);
	free(w.c);
	free(ids);
	return rc_err;
}

static const struct cli_cmd chain_cmds[] = {
	{ "show", cli_cmd_show, "the chain with its id", .kind = &kind_chain },
	{ "delete", cli_cmd_delete, "the chain and its rules (not while attached or jumped to)",
	  .op = topo_chain_delete, .kind = &kind_chain },
	{ "add rule", rule_add, "a rule, last or at pos N (-> chain0:rule0)", .args = rule_args,
	  .usage = "[pos N] type T [action A] [jump-to C] [target A[-B][:P1[-P2]]] [flow F] "
		   "[fragment-policy P] [CONDITION [!]VALUE]..." },
	{ "list rule", rule_list, "the chain's rules in order, with this host's counters",
	  .kind = &kind_rule },
	{ 0 },
};

static const struct cli_obj chain_rule = {
	.word = "rule", .title = "rule", .meta = "R", .find = cli_find_rule,
	.cmds = (const struct cli_cmd[]){
		{ "show", cli_cmd_show, "the rule with its id", .kind = &kind_rule },
		{ "delete", cli_cmd_delete, "the rule (those after it move up)",
		  .op = topo_rule_delete, .kind = &kind_rule },
		{ 0 } },
	.kind = &kind_rule, .scoped = true,
};

const struct cli_obj cli_obj_chain = {
	.word = "chain", .title = "chain", .meta = "C", .find = cli_find_chain,
	.type_cmds = chain_type_cmds, .cmds = chain_cmds,
	.subs = (const struct cli_obj *const[]){ &chain_rule, NULL },
	.kind = &kind_chain,
};

/* ---- port groups ---- */

static int pg_create(struct cli *c, const struct cli_call *k)
{
	bool stateful = k->v[1].s && !strcmp(k->v[1].s, "true");
	char id[TOPO_ID_LEN];
	int rc = topo_port_group_create(c->zh, k->v[0].s, stateful, id);

	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

/* "add member port P", "delete member port P". */
static int pg_member(struct cli *c, const struct cli_call *k)
{
	const struct topo_port *p = k->v[0].obj;
	char gid[TOPO_ID_LEN];
	int rc;

	strcpy(gid, k->id);
	if (!strncmp(k->cmd->words, "add", 3))
		rc = topo_port_group_member_add(c->zh, gid, p->id);
	else
		rc = topo_port_group_member_delete(c->zh, gid, p->id);
	return rc ? cli_lib_fail(rc) : 0;
}

static const struct cli_arg member_args[] = {
	{ "port", CLI_T_REF, "P", .required = true, .needs = "a port", .ref = &cli_port_ref },
	{ 0 },
};

const struct cli_obj cli_obj_port_group = {
	.word = "port-group", .title = "port-group", .meta = "G", .find = cli_find_port_group,
	.type_cmds = (const struct cli_cmd[]){
		{ "create", pg_create, "a port group (-> pgroup0)",
		  .args = (const struct cli_arg[]){
			  { "name", CLI_T_NAME, "G", .required = true, .needs = "a name" },
			  { "stateful", CLI_T_KEYWORD, .what = "stateful", .choices = true_false },
			  { 0 } } },
		{ "list", cli_cmd_list, "every port group", .kind = &kind_port_group },
		{ 0 } },
	.cmds = (const struct cli_cmd[]){
		{ "show", cli_cmd_show, "the port group with its id", .kind = &kind_port_group },
		{ "delete", cli_cmd_delete, "the port group (not while a rule names it)",
		  .op = topo_port_group_delete, .kind = &kind_port_group },
		{ "add member", pg_member, "a port", .args = member_args },
		{ "list member", cli_cmd_list, "its ports", .kind = &kind_pg_member },
		{ "delete member", pg_member, "a port", .args = member_args },
		{ 0 } },
	.kind = &kind_port_group,
};

/* ---- IP address groups ---- */

/* "add ip address X", "delete ip address X". */
static int ipg_addr(struct cli *c, const struct cli_call *k)
{
	char gid[TOPO_ID_LEN];
	int rc;

	strcpy(gid, k->id);
	if (!strncmp(k->cmd->words, "add", 3))
		rc = topo_ip_group_addr_add(c->zh, gid, k->v[0].ip);
	else
		rc = topo_ip_group_addr_delete(c->zh, gid, k->v[0].ip);
	return rc ? cli_lib_fail(rc) : 0;
}

static const struct cli_arg ipg_addr_args[] = {
	{ "address", CLI_T_IPV4, "X", .required = true, .needs = "an address" },
	{ 0 },
};

const struct cli_obj cli_obj_ip_group = {
	.word = "ip-address-group", .title = "ip-address-group", .meta = "A",
	.find = cli_find_ip_group,
	.type_cmds = (const struct cli_cmd[]){
		{ "create", cli_cmd_create, "an IP address group (-> ip-address-group0)",
		  .create = topo_ip_group_create,
		  .args = (const struct cli_arg[]){
			  { "name", CLI_T_NAME, "A", .required = true, .needs = "a name" },
			  { 0 } } },
		{ "list", cli_cmd_list, "every IP address group", .kind = &kind_ip_group },
		{ 0 } },
	.cmds = (const struct cli_cmd[]){
		{ "show", cli_cmd_show, "the IP address group with its id", .kind = &kind_ip_group },
		{ "delete", cli_cmd_delete, "the IP address group (not while a rule names it)",
		  .op = topo_ip_group_delete, .kind = &kind_ip_group },
		{ "add ip", ipg_addr, "an address", .args = ipg_addr_args },
		{ "list ip", cli_cmd_list, "its addresses", .kind = &kind_ip_group_addr },
		{ "delete ip", ipg_addr, "an address", .args = ipg_addr_args },
		{ 0 } },
	.kind = &kind_ip_group,
};

/* ---- filters ---- */

int cli_filters_set(struct cli *c, const char *id, const struct cli_val *in,
		    const struct cli_val *out)
{
	char did[TOPO_ID_LEN];
	int rc;

	snprintf(did, sizeof(did), "%s", id);
	rc = topo_filter_set(c->zh, did,
			     in->s ? ((const struct topo_chain *)in->obj)->id : NULL,
			     out->s ? ((const struct topo_chain *)out->obj)->id : NULL);
	return rc ? cli_lib_fail(rc) : 0;
}

/* "clear infilter", "clear outfilter". */
int cli_filter_clear(struct cli *c, const struct cli_call *k)
{
	bool in = !strcmp(k->cmd->words, "clear infilter");
	char did[TOPO_ID_LEN];
	int rc;

	snprintf(did, sizeof(did), "%s", k->id);
	rc = topo_filter_set(c->zh, did, in ? "" : NULL, in ? NULL : "");
	return rc ? cli_lib_fail(rc) : 0;
}
