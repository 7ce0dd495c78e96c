// SPDX-License-Identifier: Apache-2.0
/* Deleting an object and saying what went with it: "deleted bridge bridge0 name blue:
 * 3 ports, 2 bindings, 1 link, 4 learned MACs" (kinds with none left out), or in JSON one
 * object with every count of the type. The counts come from the snapshot the command
 * resolved against: the same multi-op deletes what the library found there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

struct tally {
	const char *json, *one, *many;
	size_t n;
};

struct cascade {
	struct tally t[7];
	size_t n;
};

static void count(struct cascade *g, const char *json, const char *one, const char *many,
		  size_t n)
{
	g->t[g->n++] = (struct tally){ json, one, many, n };
}

/* Whether port id is on device dev (dev NULL: any), or is port self. */
static bool port_in(const struct topology *t, const char *id, const char *dev, const char *self)
{
	const struct topo_port *p;

	if (self)
		return !strcmp(id, self);
	p = topo_find_port_by_id(t, id);
	return p && !strcmp(p->device_id, dev);
}

/* The ports, bindings and links of a device (dev) or of one port (self). */
static void ports_of(const struct topology *t, const char *dev, const char *self,
		     struct cascade *g)
{
	size_t i, ports = 0, bindings = 0, links = 0;

	for (i = 0; i < t->n_ports; i++) {
		if (!port_in(t, t->ports[i].id, dev, self))
			continue;
		ports++;
		links += t->ports[i].peer_id[0] != '\0';
	}
	for (i = 0; i < t->n_bindings; i++)
		bindings += port_in(t, t->bindings[i].port_id, dev, self);
	if (!self)
		count(g, "ports", "port", "ports", ports);
	count(g, "bindings", "binding", "bindings", bindings);
	count(g, "links", "link", "links", links);
}

static void bridge_cascade(const struct topology *t, const char *id, struct cascade *g)
{
	size_t i, macs = 0;

	ports_of(t, id, NULL, g);
	for (i = 0; i < t->n_macs; i++)
		macs += !strcmp(t->macs[i].bridge_id, id);
	count(g, "learned_macs", "learned MAC", "learned MACs", macs);
}

static void router_cascade(const struct topology *t, const char *id, struct cascade *g)
{
	size_t i, routes = 0, arps = 0, peers = 0, nets = 0;

	ports_of(t, id, NULL, g);
	for (i = 0; i < t->n_routes; i++) /* learned ones go with their sessions */
		routes += !t->routes[i].learned && !strcmp(t->routes[i].router_id, id);
	for (i = 0; i < t->n_arps; i++)
		arps += !strcmp(t->arps[i].router_id, id);
	count(g, "routes", "route", "routes", routes);
	count(g, "arp_entries", "ARP entry", "ARP entries", arps);
	for (i = 0; i < t->n_bgp_peers; i++)
		peers += !strcmp(t->bgp_peers[i].router_id, id);
	count(g, "bgp_peers", "BGP peer", "BGP peers", peers);
	for (i = 0; i < t->n_bgp_networks; i++)
		nets += !strcmp(t->bgp_networks[i].router_id, id);
	count(g, "bgp_networks", "BGP network", "BGP networks", nets);
}

/* A bridge port: its learned MACs; a router port: its routes and learned ARP entries. */
static void port_cascade(const struct topology *t, const struct topo_port *p, struct cascade *g)
{
	size_t i, n = 0;

	ports_of(t, NULL, p->id, g);
	if (p->device_type == TOPO_DEVICE_BRIDGE) {
		for (i = 0; i < t->n_macs; i++)
			n += !strcmp(t->macs[i].port_id, p->id);
		count(g, "learned_macs", "learned MAC", "learned MACs", n);
		return;
	}
	for (i = 0; i < t->n_routes; i++)
		n += !t->routes[i].learned && !strcmp(t->routes[i].port_id, p->id);
	count(g, "routes", "route", "routes", n);
	for (n = 0, i = 0; i < t->n_arps; i++)
		n += t->arps[i].learned && !strcmp(t->arps[i].port_id, p->id);
	count(g, "arp_entries", "learned ARP entry", "learned ARP entries", n);
}

static void zone_cascade(const struct topology *t, const char *id, struct cascade *g)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_members; i++)
		n += !strcmp(t->members[i].zone_id, id);
	count(g, "members", "member", "members", n);
}

static void count_children(const struct cli *c, const struct cli_kind *d, const char *id,
			   struct cascade *g, const char *json, const char *one, const char *many)
{
	size_t i, n = 0;

	for (i = 0; i < cli_kind_count(c, d); i++)
		n += !strcmp(cli_kind_str(cli_kind_item(c, d, i), d->parent_off), id);
	count(g, json, one, many, n);
}

/* What the row's kind says goes with the object; its type's word. */
static const char *cascade_of(struct cli *c, const struct cli_call *k, struct cascade *g)
{
	const struct cli_kind *d = k->cmd->kind;

	if (d == &kind_bridge)
		bridge_cascade(&c->t, k->id, g);
	else if (d == &kind_router)
		router_cascade(&c->t, k->id, g);
	else if (d == &kind_port)
		port_cascade(&c->t, k->obj, g);
	else if (d == &kind_zone)
		zone_cascade(&c->t, k->id, g);
	else if (d == &kind_chain)
		count_children(c, &kind_rule, k->id, g, "rules", "rule", "rules");
	else if (d == &kind_port_group)
		count_children(c, &kind_pg_member, k->id, g, "members", "member", "members");
	else if (d == &kind_ip_group)
		count_children(c, &kind_ip_group_addr, k->id, g, "addresses", "address",
			       "addresses");
	if (d == &kind_chain || d == &kind_rule)
		return d == &kind_chain ? "chain" : "rule";
	if (d == &kind_port_group || d == &kind_ip_group)
		return d == &kind_port_group ? "port-group" : "ip-address-group";
	return d == &kind_bridge ? "bridge" : d == &kind_router ? "router" :
	       d == &kind_port ? "port" : d == &kind_zone ? "tunnel-zone" :
	       d == &kind_bgp_peer ? "bgp-peer" : d == &kind_bgp_network ? "bgp-network" : "route";
}

static void report(struct cli *c, const char *type, const char *alias, const char *id,
		   const char *name, const struct cascade *g)
{
	const char *sep = ": ";
	char line[512];
	size_t i, at;
	json_t *o;

	if (c->json) {
		o = json_pack("{s:s,s:s,s:s}", "deleted", type, "id", id, "alias", alias);
		if (name)
			json_object_set_new(o, "name", json_string(name));
		for (i = 0; i < g->n; i++)
			json_object_set_new(o, g->t[i].json, json_integer((json_int_t)g->t[i].n));
		cli_print_json(o);
		return;
	}
	at = (size_t)snprintf(line, sizeof(line), "deleted %s %s%s%s", type, alias,
			      name ? " name " : "", name ? name : "");
	for (i = 0; i < g->n && at < sizeof(line); i++) {
		if (!g->t[i].n)
			continue;
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%zu %s", sep, g->t[i].n,
				       g->t[i].n == 1 ? g->t[i].one : g->t[i].many);
		sep = ", ";
	}
	printf("%s\n", line);
}

int cli_cmd_delete(struct cli *c, const struct cli_call *k)
{
	const struct cli_kind *d = k->cmd->kind;
	char alias[64], id[TOPO_ID_LEN], name[TOPO_NAME_MAX] = "";
	struct cascade g = { 0 };
	const char *type = cascade_of(c, k, &g);
	int rc;

	cli_alias(c, k->id, alias);
	snprintf(id, sizeof(id), "%s", k->id);
	if (d->name_off >= 0)
		snprintf(name, sizeof(name), "%s", cli_kind_str(k->obj, d->name_off));
	rc = k->cmd->op(c->zh, id);
	if (rc)
		return cli_lib_fail(rc);
	report(c, type, alias, id, *name ? name : NULL, &g);
	return 0;
}
