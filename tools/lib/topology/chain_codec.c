// SPDX-License-Identifier: Apache-2.0
/* Rule chains in words and in JSON: the names of types, actions, policies and conditions,
 * NAT targets and port ranges, MidoNet's checks of a rule (topo_rule_check), and the
 * codec of chains, rules, port groups and IP address groups (docs/zookeeper.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains.h"
#include "codec_impl.h"

static const char *const type_names[TOPO_RULE_TYPE__MAX] = {
	[TOPO_RULE_ACCEPT] = "accept",	   [TOPO_RULE_DROP] = "drop",
	[TOPO_RULE_REJECT] = "reject",	   [TOPO_RULE_CONTINUE] = "continue",
	[TOPO_RULE_JUMP] = "jump",	   [TOPO_RULE_RETURN] = "return",
	[TOPO_RULE_SNAT] = "snat",	   [TOPO_RULE_DNAT] = "dnat",
	[TOPO_RULE_REV_SNAT] = "rev_snat", [TOPO_RULE_REV_DNAT] = "rev_dnat",
};
static const char *const action_names[] = { "", "accept", "continue", "return" };
static const char *const frag_names[] = { "", "any", "header", "nonheader", "unfragmented" };
static const char *const flow_names[] = { "", "fwd-flow", "return-flow" };

static const struct {
	const char *word, *key;
} conds[TOPO_COND__MAX] = {
	[TOPO_COND_HW_SRC] = { "hw-src", "hw_src" },
	[TOPO_COND_HW_DST] = { "hw-dst", "hw_dst" },
	[TOPO_COND_ETHERTYPE] = { "ethertype", "ethertype" },
	[TOPO_COND_SRC] = { "src", "src" },
	[TOPO_COND_DST] = { "dst", "dst" },
	[TOPO_COND_PROTO] = { "proto", "proto" },
	[TOPO_COND_TOS] = { "tos", "tos" },
	[TOPO_COND_SRC_PORT] = { "src-port", "src_port" },
	[TOPO_COND_DST_PORT] = { "dst-port", "dst_port" },
	[TOPO_COND_IN_PORTS] = { "in-ports", "in_ports" },
	[TOPO_COND_OUT_PORTS] = { "out-ports", "out_ports" },
	[TOPO_COND_PORT_GROUP] = { "port-group", "port_group" },
	[TOPO_COND_IN_PORT_GROUP] = { "in-port-group", "in_port_group" },
	[TOPO_COND_OUT_PORT_GROUP] = { "out-port-group", "out_port_group" },
	[TOPO_COND_IPG_SRC] = { "ip-address-group-src", "ip_address_group_src" },
	[TOPO_COND_IPG_DST] = { "ip-address-group-dst", "ip_address_group_dst" },
};

static int parse_word(const char *s, const char *const *names, int n, int *out)
{
	for (int i = 1; i < n; i++)
		if (names[i] && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

#define NAME_OF(names, v) ((unsigned)(v) < sizeof(names) / sizeof(names[0]) && names[v] ? \
			   names[v] : "?")

const char *topo_rule_type_name(enum topo_rule_type t)
{
	return NAME_OF(type_names, t);
}

int topo_parse_rule_type(const char *s, enum topo_rule_type *t)
{
	int v, rc = parse_word(s, type_names, TOPO_RULE_TYPE__MAX, &v);

	if (!rc)
		*t = v;
	return rc;
}

const char *topo_rule_action_name(enum topo_rule_action a)
{
	return NAME_OF(action_names, a);
}

int topo_parse_rule_action(const char *s, enum topo_rule_action *a)
{
	int v, rc = parse_word(s, action_names, 4, &v);

	if (!rc)
		*a = v;
	return rc;
}

const char *topo_frag_policy_name(enum topo_frag_policy f)
{
	return NAME_OF(frag_names, f);
}

int topo_parse_frag_policy(const char *s, enum topo_frag_policy *f)
{
	int v, rc = parse_word(s, frag_names, 5, &v);

	if (!rc)
		*f = v;
	return rc;
}

const char *topo_flow_name(enum topo_flow_match f)
{
	return NAME_OF(flow_names, f);
}

int topo_parse_flow(const char *s, enum topo_flow_match *f)
{
	int v, rc = parse_word(s, flow_names, 3, &v);

	if (!rc)
		*f = v;
	return rc;
}

const char *topo_cond_word(enum topo_cond c)
{
	return (unsigned)c < TOPO_COND__MAX ? conds[c].word : "?";
}

const char *topo_cond_key(enum topo_cond c)
{
	return (unsigned)c < TOPO_COND__MAX ? conds[c].key : "?";
}

/* A decimal number lo..hi, the whole of s. */
static int parse_num(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || (s[0] == '0' && s[1]))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out < lo || *out > hi ? -EINVAL : 0;
}

int topo_parse_port_range(const char *s, struct topo_port_range *r)
{
	char a[16], *sep;
	unsigned long from, to;

	if (strlen(s) >= sizeof(a))
		return -EINVAL;
	strcpy(a, s);
	sep = strpbrk(a, ":-");
	if (sep)
		*sep++ = '\0';
	if (parse_num(a, 1, 65535, &from) || (sep && parse_num(sep, 1, 65535, &to)))
		return -EINVAL;
	if (!sep)
		to = from;
	if (from > to)
		return -EINVAL;
	r->from = (uint16_t)from;
	r->to = (uint16_t)to;
	return 0;
}

void topo_format_port_range(const struct topo_port_range *r, char buf[16])
{
	if (r->from == r->to)
		snprintf(buf, 16, "%u", r->from);
	else
		snprintf(buf, 16, "%u:%u", r->from, r->to);
}

int topo_parse_ethertype(const char *s, uint16_t *out)
{
	unsigned long v;
	char *end;

	if (!strncmp(s, "0x", 2) && s[2]) {
		errno = 0;
		v = strtoul(s + 2, &end, 16);
		if (errno || *end || strlen(s) > 6)
			return -EINVAL;
	} else if (parse_num(s, 0, 65535, &v)) {
		return -EINVAL;
	}
	if (v < 0x600 || v > 0xffff) /* below 0x600 it is a length, not a type */
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* A NAT target's address: any unicast IPv4 address. */
static int nat_addr(const char *s, struct in_addr *a)
{
	return topo_parse_ipv4(s, a) || !topo_valid_unicast_ipv4(*a) ? -EINVAL : 0;
}

int topo_parse_nat_target(const char *s, struct topo_nat_target *t)
{
	char a[64], *ports, *to;
	struct topo_port_range r = { 0, 0 };

	if (strlen(s) >= sizeof(a))
		return -EINVAL;
	strcpy(a, s);
	ports = strchr(a, ':');
	if (ports) {
		*ports++ = '\0';
		/* P1-P2 here: the ':' already separates the addresses from the ports. */
		if (strchr(ports, ':') || topo_parse_port_range(ports, &r))
			return -EINVAL;
	}
	to = strchr(a, '-');
	if (to)
		*to++ = '\0';
	if (nat_addr(a, &t->from) || (to && nat_addr(to, &t->to)))
		return -EINVAL;
	if (!to)
		t->to = t->from;
	if (ntohl(t->from.s_addr) > ntohl(t->to.s_addr))
		return -EINVAL;
	t->port_from = r.from;
	t->port_to = r.to;
	return 0;
}

void topo_format_nat_target(const struct topo_nat_target *t, char buf[64])
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t n;

	inet_ntop(AF_INET, &t->from, a, sizeof(a));
	inet_ntop(AF_INET, &t->to, b, sizeof(b));
	if (t->from.s_addr == t->to.s_addr)
		n = (size_t)snprintf(buf, 64, "%s", a);
	else
		n = (size_t)snprintf(buf, 64, "%s-%s", a, b);
	if (t->port_from && t->port_from == t->port_to)
		snprintf(buf + n, 64 - n, ":%u", t->port_from);
	else if (t->port_from)
		snprintf(buf + n, 64 - n, ":%u-%u", t->port_from, t->port_to);
}

static bool is_nat(enum topo_rule_type t)
{
	return t >= TOPO_RULE_SNAT && t <= TOPO_RULE_REV_DNAT;
}

/* Forward NAT other than a floating IP (one address, no ports) translates ports or picks
 * among addresses: only whole packets (MidoNet's ForwardNatRule). */
static bool nat_unfragmented_only(const struct topo_rule *r, bool l4)
{
	const struct topo_nat_target *t = &r->target;

	if (r->type != TOPO_RULE_SNAT && r->type != TOPO_RULE_DNAT)
		return false;
	return l4 || t->from.s_addr != t->to.s_addr || t->port_from;
}

static int check_frag(struct topo_rule *r, bool resolve_defaults)
{
	const struct topo_rule_cond *c = &r->cond;
	bool l4 = c->has & (1u << TOPO_COND_SRC_PORT | 1u << TOPO_COND_DST_PORT);
	bool whole = nat_unfragmented_only(r, l4);
	const char *name;

	if (!r->cond.frag && resolve_defaults) {
		r->cond.frag = whole ? TOPO_FRAG_UNFRAGMENTED : l4 ? TOPO_FRAG_HEADER : TOPO_FRAG_ANY;
		return 0;
	}
	if (r->cond.frag < TOPO_FRAG_ANY || r->cond.frag > TOPO_FRAG_UNFRAGMENTED)
		return topo_fail(-EINVAL, "no fragment policy");
	name = topo_frag_policy_name(r->cond.frag);
	if (whole && r->cond.frag != TOPO_FRAG_UNFRAGMENTED)
		return topo_fail(-EINVAL, "fragment-policy %s: a %s rule translating ports or an "
				 "address range matches unfragmented packets only", name,
				 topo_rule_type_name(r->type));
	if (l4 && (r->cond.frag == TOPO_FRAG_ANY || r->cond.frag == TOPO_FRAG_NONHEADER))
		return topo_fail(-EINVAL, "fragment-policy %s: a rule with src-port or dst-port "
				 "takes header or unfragmented (later fragments have no ports)",
				 name);
	return 0;
}

int topo_rule_check(struct topo_rule *r, bool resolve_defaults)
{
	const char *type = topo_rule_type_name(r->type);
	const struct topo_nat_target *t = &r->target;

	if (r->type < TOPO_RULE_ACCEPT || r->type >= TOPO_RULE_TYPE__MAX)
		return topo_fail(-EINVAL, "no rule type");
	if ((r->type == TOPO_RULE_JUMP) != (r->jump_id[0] != '\0'))
		return topo_fail(-EINVAL, r->type == TOPO_RULE_JUMP ?
				 "a jump rule needs jump-to" : "jump-to is for jump rules, not %s",
				 type);
	if (is_nat(r->type) && !r->action && resolve_defaults)
		r->action = TOPO_ACTION_ACCEPT;
	if (is_nat(r->type) != (r->action != TOPO_ACTION_NONE))
		return topo_fail(-EINVAL, is_nat(r->type) ? "a %s rule needs an action" :
				 "action is for NAT rules, not %s", type);
	if (r->action > TOPO_ACTION_RETURN)
		return topo_fail(-EINVAL, "bad action");
	if ((r->type == TOPO_RULE_SNAT || r->type == TOPO_RULE_DNAT) != r->has_target)
		return topo_fail(-EINVAL, r->has_target ? "target is for snat and dnat rules, not %s"
				 : "a %s rule needs a target", type);
	if (r->has_target && (ntohl(t->from.s_addr) > ntohl(t->to.s_addr) ||
			      t->port_from > t->port_to || (!t->port_from != !t->port_to)))
		return topo_fail(-EINVAL, "bad target range");
	if ((r->cond.has & (1u << TOPO_COND_SRC_PORT) &&
	     (!r->cond.src_port.from || r->cond.src_port.from > r->cond.src_port.to)) ||
	    (r->cond.has & (1u << TOPO_COND_DST_PORT) &&
	     (!r->cond.dst_port.from || r->cond.dst_port.from > r->cond.dst_port.to)))
		return topo_fail(-EINVAL, "bad port range");
	if (!(r->cond.has & (1u << TOPO_COND_IN_PORTS)) != !r->cond.n_in_ports ||
	    !(r->cond.has & (1u << TOPO_COND_OUT_PORTS)) != !r->cond.n_out_ports)
		return topo_fail(-EINVAL, "in-ports and out-ports name 1 to %d ports",
				 TOPO_RULE_MAX_PORTS);
	if (r->cond.inv & ~r->cond.has)
		return topo_fail(-EINVAL, "an inverted condition that is not there");
	if (r->cond.flow > TOPO_FLOW_RETURN)
		return topo_fail(-EINVAL, "bad flow");
	return check_frag(r, resolve_defaults);
}

/* ---- decoding ---- */

static int get_word(json_t *o, const char *key, int (*parse)(const char *, void *), void *out,
		    bool required)
{
	char s[64]; /* the longest word: a NAT target "a.b.c.d-a.b.c.d:ppppp-ppppp" */
	int rc = codec_get_str(o, key, s, sizeof(s), required);

	if (rc <= 0)
		return rc;
	if (parse(s, out))
		return topo_fail(-EINVAL, "\"%s\" '%s' is not valid", key, s);
	return 1;
}

static int parse_mac_v(const char *s, void *out)
{
	return topo_parse_mac(s, out);
}

static int parse_net_v(const char *s, void *out)
{
	struct topo_cidr *c = out;

	return topo_parse_cidr(s, c) || !topo_cidr_is_network(c) ? -EINVAL : 0;
}

static int parse_range_v(const char *s, void *out)
{
	return topo_parse_port_range(s, out);
}

static int parse_target_v(const char *s, void *out)
{
	return topo_parse_nat_target(s, out);
}

static int parse_type_v(const char *s, void *out)
{
	return topo_parse_rule_type(s, out);
}

static int parse_action_v(const char *s, void *out)
{
	return topo_parse_rule_action(s, out);
}

static int parse_frag_v(const char *s, void *out)
{
	return topo_parse_frag_policy(s, out);
}

static int parse_flow_v(const char *s, void *out)
{
	return topo_parse_flow(s, out);
}

static int get_ports(json_t *o, const char *key, char ports[][TOPO_ID_LEN], size_t *n)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) < 1 ||
	    json_array_size(a) > TOPO_RULE_MAX_PORTS)
		return topo_fail(-EINVAL, "\"%s\" is not an array of 1 to %d port ids", key,
				 TOPO_RULE_MAX_PORTS);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !topo_valid_uuid(json_string_value(v)))
			return topo_fail(-EINVAL, "\"%s\" holds something not a UUID", key);
		strcpy(ports[i], json_string_value(v));
	}
	*n = json_array_size(a);
	return 1;
}

static int get_small(json_t *o, const char *key, uint32_t max, uint32_t *out)
{
	return codec_get_uint(o, key, 0, max, out) ? -EINVAL : 1;
}

/* One condition from its key, if present: 1 when it is, 0 when not. */
static int get_cond(json_t *o, enum topo_cond k, struct topo_rule_cond *c)
{
	const char *key = conds[k].key;
	uint32_t v = 0;
	int rc;

	if (!json_object_get(o, key))
		return 0;
	switch (k) {
	case TOPO_COND_HW_SRC: return get_word(o, key, parse_mac_v, c->hw_src, true);
	case TOPO_COND_HW_DST: return get_word(o, key, parse_mac_v, c->hw_dst, true);
	case TOPO_COND_ETHERTYPE:
		rc = codec_get_uint(o, key, 0x600, 0xffff, &v);
		c->ethertype = (uint16_t)v;
		return rc ? rc : 1;
	case TOPO_COND_SRC: return get_word(o, key, parse_net_v, &c->src, true);
	case TOPO_COND_DST: return get_word(o, key, parse_net_v, &c->dst, true);
	case TOPO_COND_PROTO:
		rc = get_small(o, key, 255, &v);
		c->proto = (uint8_t)v;
		return rc;
	case TOPO_COND_TOS:
		rc = get_small(o, key, 255, &v);
		c->tos = (uint8_t)v;
		return rc;
	case TOPO_COND_SRC_PORT: return get_word(o, key, parse_range_v, &c->src_port, true);
	case TOPO_COND_DST_PORT: return get_word(o, key, parse_range_v, &c->dst_port, true);
	case TOPO_COND_IN_PORTS: return get_ports(o, key, c->in_ports, &c->n_in_ports);
	case TOPO_COND_OUT_PORTS: return get_ports(o, key, c->out_ports, &c->n_out_ports);
	case TOPO_COND_PORT_GROUP: return codec_get_uuid(o, key, c->port_group) ? -EINVAL : 1;
	case TOPO_COND_IN_PORT_GROUP:
		return codec_get_uuid(o, key, c->in_port_group) ? -EINVAL : 1;
	case TOPO_COND_OUT_PORT_GROUP:
		return codec_get_uuid(o, key, c->out_port_group) ? -EINVAL : 1;
	case TOPO_COND_IPG_SRC: return codec_get_uuid(o, key, c->ipg_src) ? -EINVAL : 1;
	case TOPO_COND_IPG_DST: return codec_get_uuid(o, key, c->ipg_dst) ? -EINVAL : 1;
	default: return 0;
	}
}

/* "invert": the keys of the inverted conditions, each present in the rule. */
static int get_invert(json_t *o, struct topo_rule_cond *c)
{
	json_t *a = json_object_get(o, "invert"), *v;
	size_t i;
	int k;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return topo_fail(-EINVAL, "\"invert\" is not an array");
	json_array_foreach(a, i, v) {
		for (k = 0; k < TOPO_COND__MAX; k++)
			if (json_is_string(v) && !strcmp(json_string_value(v), conds[k].key))
				break;
		if (k == TOPO_COND__MAX || !(c->has & (1u << k)))
			return topo_fail(-EINVAL, "\"invert\" names no condition of the rule");
		c->inv |= 1u << k;
	}
	return 0;
}

static int get_conds(json_t *o, struct topo_rule_cond *c)
{
	int k, rc;

	for (k = 0; k < TOPO_COND__MAX; k++) {
		rc = get_cond(o, k, c);
		if (rc < 0)
			return rc;
		if (rc)
			c->has |= 1u << k;
	}
	rc = get_invert(o, c);
	if (!rc)
		rc = get_word(o, "fragment_policy", parse_frag_v, &c->frag, true);
	if (rc >= 0)
		rc = get_word(o, "flow", parse_flow_v, &c->flow, false);
	return rc < 0 ? rc : 0;
}

int topo_decode_rule(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_rule *r = out;
	json_t *o = codec_load_id(buf, len, name, r->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = codec_get_uint(o, "pos", 1, TOPO_CHAIN_MAX_RULES, &r->pos);
	if (!rc)
		rc = get_word(o, "type", parse_type_v, &r->type, true);
	if (rc >= 0)
		rc = get_word(o, "action", parse_action_v, &r->action, false);
	if (rc >= 0 && json_object_get(o, "jump_to"))
		rc = codec_get_uuid(o, "jump_to", r->jump_id);
	if (rc >= 0)
		rc = get_word(o, "target", parse_target_v, &r->target, false);
	r->has_target = rc > 0;
	if (rc >= 0)
		rc = get_conds(o, &r->cond);
	json_decref(o);
	return rc < 0 ? rc : topo_rule_check(r, false);
}

int topo_decode_chain(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_chain *c = out;
	json_t *o = codec_load_id(buf, len, name, c->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = codec_get_name(o, c->name);
	json_decref(o);
	return rc;
}

int topo_decode_port_group(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_port_group *g = out;
	json_t *o = codec_load_id(buf, len, name, g->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = codec_get_name(o, g->name);
	if (!rc && json_object_get(o, "stateful"))
		rc = codec_get_bool(o, "stateful", &g->stateful);
	json_decref(o);
	return rc;
}

int topo_decode_pg_member(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_pg_member *m = out;
	json_t *o;

	if (name && (!topo_valid_uuid(name) || strlen(name) >= TOPO_ID_LEN))
		return topo_fail(-EINVAL, "the name is not a port id");
	if (name)
		strcpy(m->port_id, name);
	o = codec_load(buf, len);
	json_decref(o);
	return o ? 0 : -EINVAL;
}

int topo_decode_ip_group(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_ip_group *g = out;
	json_t *o = codec_load_id(buf, len, name, g->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = codec_get_name(o, g->name);
	json_decref(o);
	return rc;
}

/* Named by the address itself; any IPv4 address a packet may carry as its source or
 * destination (0.0.0.0 and broadcast too: a group may hold them). */
int topo_decode_ip_group_addr(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_ip_group_addr *a = out;
	json_t *o;

	if (!name || topo_parse_ipv4(name, &a->addr))
		return topo_fail(-EINVAL, "the name is not an IPv4 address");
	o = codec_load(buf, len);
	json_decref(o);
	return o ? 0 : -EINVAL;
}

/* ---- encoding ---- */

char *topo_encode_chain(const struct topo_chain *c)
{
	return codec_dump(json_pack("{s:s}", "name", c->name));
}

char *topo_encode_port_group(const struct topo_port_group *g)
{
	json_t *o = json_pack("{s:s}", "name", g->name);

	if (o && g->stateful)
		json_object_set_new(o, "stateful", json_true());
	return codec_dump(o);
}

char *topo_encode_ip_group(const struct topo_ip_group *g)
{
	return codec_dump(json_pack("{s:s}", "name", g->name));
}

static json_t *ports_json(const char ports[][TOPO_ID_LEN], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(ports[i]));
	return a;
}

static void set_str(json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, json_string(s));
}

static void set_cond(json_t *o, enum topo_cond k, const struct topo_rule_cond *c)
{
	const char *key = conds[k].key;
	char s[TOPO_CIDR_STRLEN];

	switch (k) {
	case TOPO_COND_HW_SRC: topo_format_mac(c->hw_src, s); set_str(o, key, s); break;
	case TOPO_COND_HW_DST: topo_format_mac(c->hw_dst, s); set_str(o, key, s); break;
	case TOPO_COND_ETHERTYPE: json_object_set_new(o, key, json_integer(c->ethertype)); break;
	case TOPO_COND_SRC: topo_format_cidr(&c->src, s); set_str(o, key, s); break;
	case TOPO_COND_DST: topo_format_cidr(&c->dst, s); set_str(o, key, s); break;
	case TOPO_COND_PROTO: json_object_set_new(o, key, json_integer(c->proto)); break;
	case TOPO_COND_TOS: json_object_set_new(o, key, json_integer(c->tos)); break;
	case TOPO_COND_SRC_PORT: topo_format_port_range(&c->src_port, s); set_str(o, key, s); break;
	case TOPO_COND_DST_PORT: topo_format_port_range(&c->dst_port, s); set_str(o, key, s); break;
	case TOPO_COND_IN_PORTS:
		json_object_set_new(o, key, ports_json(c->in_ports, c->n_in_ports));
		break;
	case TOPO_COND_OUT_PORTS:
		json_object_set_new(o, key, ports_json(c->out_ports, c->n_out_ports));
		break;
	case TOPO_COND_PORT_GROUP: set_str(o, key, c->port_group); break;
	case TOPO_COND_IN_PORT_GROUP: set_str(o, key, c->in_port_group); break;
	case TOPO_COND_OUT_PORT_GROUP: set_str(o, key, c->out_port_group); break;
	case TOPO_COND_IPG_SRC: set_str(o, key, c->ipg_src); break;
	case TOPO_COND_IPG_DST: set_str(o, key, c->ipg_dst); break;
	default: break;
	}
}

char *topo_encode_rule(const struct topo_rule *r)
{
	json_t *o = json_pack("{s:I,s:s,s:s}", "pos", (json_int_t)r->pos, "type",
			      topo_rule_type_name(r->type), "fragment_policy",
			      topo_frag_policy_name(r->cond.frag));
	json_t *inv = NULL;
	char t[64];
	int k;

	if (!o)
		return NULL;
	if (r->action)
		set_str(o, "action", topo_rule_action_name(r->action));
	if (r->jump_id[0])
		set_str(o, "jump_to", r->jump_id);
	if (r->has_target) {
		topo_format_nat_target(&r->target, t);
		set_str(o, "target", t);
	}
	if (r->cond.flow)
		set_str(o, "flow", topo_flow_name(r->cond.flow));
	for (k = 0; k < TOPO_COND__MAX; k++) {
		if (!(r->cond.has & (1u << k)))
			continue;
		set_cond(o, k, &r->cond);
		if (!(r->cond.inv & (1u << k)))
			continue;
		if (!inv)
			inv = json_array();
		json_array_append_new(inv, json_string(conds[k].key));
	}
	if (inv)
		json_object_set_new(o, "invert", inv);
	return codec_dump(o);
}
