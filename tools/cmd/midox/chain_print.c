// SPDX-License-Identifier: Apache-2.0
/* Printing rule chains, rules, port groups, IP address groups and the filters of devices
 * and ports: "key value" words as midonet-cli prints them, or JSON. A rule listed with its
 * chain (chain C list rule) has its packets and bytes on this host when the datapath here
 * holds it (docs/chains.md). */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "topology/chains.h"

/* {"id": id, "alias": alias} */
static json_t *ref_json(const char *id, const char *alias)
{
	return json_pack("{s:s,s:s}", "id", id, "alias", alias);
}

void cli_out_filters(struct cli *c, char *line, size_t len, json_t *o,
		     const struct topo_filters *f)
{
	char a[64];

	if (f->in[0]) {
		cli_line_add(line, len, "infilter", cli_alias(c, f->in, a));
		if (o)
			json_object_set_new(o, "infilter", ref_json(f->in, a));
	}
	if (f->out[0]) {
		cli_line_add(line, len, "outfilter", cli_alias(c, f->out, a));
		if (o)
			json_object_set_new(o, "outfilter", ref_json(f->out, a));
	}
}

static size_t count_of(const char *parent, const void *arr, size_t n, size_t size, size_t off)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += !strcmp((const char *)arr + i * size + off, parent);
	return k;
}

static void out_chain(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_chain *ch = obj;
	size_t n = count_of(ch->id, c->t.rules, c->t.n_rules, sizeof(*c->t.rules),
			    offsetof(struct topo_rule, chain_id));
	char a[64], num[16], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, ch->id, a);
	snprintf(num, sizeof(num), "%zu", n);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:I}", "id", ch->id, "alias", a, "name", ch->name,
			      "rules", (json_int_t)n);
	cli_line_add(line, sizeof(line), "chain", a);
	if (show)
		cli_line_add(line, sizeof(line), "id", ch->id);
	cli_line_add(line, sizeof(line), "name", ch->name);
	cli_line_add(line, sizeof(line), "rules", num);
	cli_emit(c, arr, o, line);
}

/* A condition's value as the CLI takes it back ("!" first when inverted). */
static void cond_value(struct cli *c, const struct topo_rule_cond *k, enum topo_cond which,
		       char *buf, size_t len, json_t **jv)
{
	char s[TOPO_CIDR_STRLEN + 8], a[64];
	const char (*ports)[TOPO_ID_LEN] = NULL;
	const char *id = NULL;
	size_t n = 0, i;

	switch (which) {
	case TOPO_COND_HW_SRC: topo_format_mac(k->hw_src, s); break;
	case TOPO_COND_HW_DST: topo_format_mac(k->hw_dst, s); break;
	case TOPO_COND_ETHERTYPE: snprintf(s, sizeof(s), "0x%04x", k->ethertype); break;
	case TOPO_COND_SRC: topo_format_cidr(&k->src, s); break;
	case TOPO_COND_DST: topo_format_cidr(&k->dst, s); break;
	case TOPO_COND_PROTO: snprintf(s, sizeof(s), "%u", k->proto); break;
	case TOPO_COND_TOS: snprintf(s, sizeof(s), "%u", k->tos); break;
	case TOPO_COND_SRC_PORT: topo_format_port_range(&k->src_port, s); break;
	case TOPO_COND_DST_PORT: topo_format_port_range(&k->dst_port, s); break;
	case TOPO_COND_IN_PORTS: ports = k->in_ports; n = k->n_in_ports; break;
	case TOPO_COND_OUT_PORTS: ports = k->out_ports; n = k->n_out_ports; break;
	case TOPO_COND_PORT_GROUP: id = k->port_group; break;
	case TOPO_COND_IN_PORT_GROUP: id = k->in_port_group; break;
	case TOPO_COND_OUT_PORT_GROUP: id = k->out_port_group; break;
	case TOPO_COND_IPG_SRC: id = k->ipg_src; break;
	case TOPO_COND_IPG_DST: id = k->ipg_dst; break;
	default: s[0] = '\0'; break;
	}
	snprintf(buf, len, "%s", k->inv & (1u << which) ? "!" : "");
	if (ports) {
		*jv = json_array();
		for (i = 0; i < n; i++) {
			cli_alias(c, ports[i], a);
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "", a);
			json_array_append_new(*jv, ref_json(ports[i], a));
		}
	} else if (id) {
		cli_alias(c, id, a);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s", a);
		*jv = ref_json(id, a);
	} else {
		snprintf(buf + strlen(buf), len - strlen(buf), "%s", s);
		*jv = which == TOPO_COND_PROTO ? json_integer(k->proto) :
		      which == TOPO_COND_TOS ? json_integer(k->tos) : json_string(s);
	}
}

static void out_conds(struct cli *c, const struct topo_rule *r, char *line, size_t len,
		      json_t *o)
{
	json_t *conds = o ? json_object() : NULL, *jv;
	char v[8 * 72];
	int k;

	for (k = 0; k < TOPO_COND__MAX; k++) {
		if (!(r->cond.has & (1u << k)))
			continue;
		jv = NULL;
		cond_value(c, &r->cond, k, v, sizeof(v), &jv);
		cli_line_add(line, len, topo_cond_word(k), v);
		if (conds)
			json_object_set_new(conds, topo_cond_key(k),
					    json_pack("{s:o,s:b}", "value", jv, "invert",
						      (r->cond.inv & (1u << k)) != 0));
		else
			json_decref(jv);
	}
	if (o)
		json_object_set_new(o, "conditions", conds);
}

/* Listing with this host's counters: "packets N bytes N", or "counters not-installed" for a
 * rule the datapath here does not hold (yet). Nothing when there are no counters to read. */
static void out_counters(struct cli *c, const struct topo_rule *r, char *line, size_t len,
			 json_t *o)
{
	struct mx_chain_counter k;
	char num[24];

	if (!c->rule_counters)
		return;
	if (!cli_rule_counter(c, r, &k)) {
		cli_line_add(line, len, "counters", "not-installed");
		if (o)
			json_object_set_new(o, "counters", json_null());
		return;
	}
	snprintf(num, sizeof(num), "%llu", (unsigned long long)k.packets);
	cli_line_add(line, len, "packets", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)k.bytes);
	cli_line_add(line, len, "bytes", num);
	if (o)
		json_object_set_new(o, "counters", json_pack("{s:I,s:I}", "packets",
							     (json_int_t)k.packets, "bytes",
							     (json_int_t)k.bytes));
}

static void out_rule(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_rule *r = obj;
	char a[64], ca[64], ja[64], pos[16], t[64], line[2048] = "";
	const char *frag = topo_frag_policy_name(r->cond.frag);
	json_t *o = NULL;

	cli_alias(c, r->id, a);
	cli_alias(c, r->chain_id, ca);
	snprintf(pos, sizeof(pos), "%u", r->pos);
	if (r->jump_id[0])
		cli_alias(c, r->jump_id, ja);
	if (r->has_target)
		topo_format_nat_target(&r->target, t);
	if (c->json) {
		o = json_pack("{s:s,s:s,s:o,s:I,s:s,s:s}", "id", r->id, "alias", a, "chain",
			      ref_json(r->chain_id, ca), "pos", (json_int_t)r->pos, "type",
			      topo_rule_type_name(r->type), "fragment_policy", frag);
		if (r->action)
			json_object_set_new(o, "action",
					    json_string(topo_rule_action_name(r->action)));
		if (r->jump_id[0])
			json_object_set_new(o, "jump_to", ref_json(r->jump_id, ja));
		if (r->has_target)
			json_object_set_new(o, "target", json_string(t));
		if (r->cond.flow)
			json_object_set_new(o, "flow", json_string(topo_flow_name(r->cond.flow)));
	}
	cli_line_add(line, sizeof(line), "rule", strchr(a, ':') ? strchr(a, ':') + 1 : a);
	if (show) {
		cli_line_add(line, sizeof(line), "id", r->id);
		cli_line_add(line, sizeof(line), "chain", ca);
	}
	cli_line_add(line, sizeof(line), "pos", pos);
	cli_line_add(line, sizeof(line), "type", topo_rule_type_name(r->type));
	if (r->action)
		cli_line_add(line, sizeof(line), "action", topo_rule_action_name(r->action));
	if (r->jump_id[0])
		cli_line_add(line, sizeof(line), "jump-to", ja);
	if (r->has_target)
		cli_line_add(line, sizeof(line), "target", t);
	out_conds(c, r, line, sizeof(line), o);
	if (r->cond.flow)
		cli_line_add(line, sizeof(line), "flow", topo_flow_name(r->cond.flow));
	cli_line_add(line, sizeof(line), "fragment-policy", frag);
	out_counters(c, r, line, sizeof(line), o);
	cli_emit(c, arr, o, line);
}

static void out_port_group(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_port_group *g = obj;
	size_t n = count_of(g->id, c->t.pg_members, c->t.n_pg_members, sizeof(*c->t.pg_members),
			    offsetof(struct topo_pg_member, group_id));
	char a[64], num[16], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, g->id, a);
	snprintf(num, sizeof(num), "%zu", n);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:b,s:I}", "id", g->id, "alias", a, "name", g->name,
			      "stateful", g->stateful, "members", (json_int_t)n);
	cli_line_add(line, sizeof(line), "port-group", a);
	if (show)
		cli_line_add(line, sizeof(line), "id", g->id);
	cli_line_add(line, sizeof(line), "name", g->name);
	cli_line_add(line, sizeof(line), "stateful", g->stateful ? "true" : "false");
	cli_line_add(line, sizeof(line), "members", num);
	cli_emit(c, arr, o, line);
}

static void out_pg_member(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_pg_member *m = obj;
	char ga[64], pa[64], line[256] = "";
	json_t *o = NULL;

	(void)show;
	cli_alias(c, m->group_id, ga);
	cli_alias(c, m->port_id, pa);
	if (c->json)
		o = json_pack("{s:o,s:o}", "port_group", ref_json(m->group_id, ga), "port",
			      ref_json(m->port_id, pa));
	cli_line_add(line, sizeof(line), "port-group", ga);
	cli_line_add(line, sizeof(line), "port", pa);
	cli_emit(c, arr, o, line);
}

static void out_ip_group(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_ip_group *g = obj;
	size_t n = count_of(g->id, c->t.ip_group_addrs, c->t.n_ip_group_addrs,
			    sizeof(*c->t.ip_group_addrs),
			    offsetof(struct topo_ip_group_addr, group_id));
	char a[64], num[16], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, g->id, a);
	snprintf(num, sizeof(num), "%zu", n);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:I}", "id", g->id, "alias", a, "name", g->name,
			      "addresses", (json_int_t)n);
	cli_line_add(line, sizeof(line), "ip-address-group", a);
	if (show)
		cli_line_add(line, sizeof(line), "id", g->id);
	cli_line_add(line, sizeof(line), "name", g->name);
	cli_line_add(line, sizeof(line), "addresses", num);
	cli_emit(c, arr, o, line);
}

static void out_ip_group_addr(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_ip_group_addr *x = obj;
	char ga[64], s[INET_ADDRSTRLEN], line[256] = "";
	json_t *o = NULL;

	(void)show;
	cli_alias(c, x->group_id, ga);
	inet_ntop(AF_INET, &x->addr, s, sizeof(s));
	if (c->json)
		o = json_pack("{s:o,s:s}", "ip_address_group", ref_json(x->group_id, ga),
			      "address", s);
	cli_line_add(line, sizeof(line), "ip-address-group", ga);
	cli_line_add(line, sizeof(line), "address", s);
	cli_emit(c, arr, o, line);
}

#define ID(T) offsetof(T, id)
#define NAME(T) offsetof(T, name)

const struct cli_kind kind_chain = { CLI_KIND_AT(chains, struct topo_chain),
	.id_off = ID(struct topo_chain), .name_off = NAME(struct topo_chain),
	.parent_off = -1, .print = out_chain };
const struct cli_kind kind_rule = { CLI_KIND_AT(rules, struct topo_rule),
	.id_off = ID(struct topo_rule), .name_off = -1,
	.parent_off = offsetof(struct topo_rule, chain_id), .print = out_rule };
const struct cli_kind kind_port_group = { CLI_KIND_AT(port_groups, struct topo_port_group),
	.id_off = ID(struct topo_port_group), .name_off = NAME(struct topo_port_group),
	.parent_off = -1, .print = out_port_group };
const struct cli_kind kind_pg_member = { CLI_KIND_AT(pg_members, struct topo_pg_member),
	.id_off = -1, .name_off = -1,
	.parent_off = offsetof(struct topo_pg_member, group_id), .print = out_pg_member };
const struct cli_kind kind_ip_group = { CLI_KIND_AT(ip_groups, struct topo_ip_group),
	.id_off = ID(struct topo_ip_group), .name_off = NAME(struct topo_ip_group),
	.parent_off = -1, .print = out_ip_group };
const struct cli_kind kind_ip_group_addr = {
	CLI_KIND_AT(ip_group_addrs, struct topo_ip_group_addr), .id_off = -1, .name_off = -1,
	.parent_off = offsetof(struct topo_ip_group_addr, group_id),
	.print = out_ip_group_addr };
