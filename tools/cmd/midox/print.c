// SPDX-License-Identifier: Apache-2.0
/* Printing objects: one line of "key value" words as midonet-cli prints them, or JSON.
 * Each out_* appends to arr when listing in JSON, prints one JSON object when arr is
 * NULL in JSON mode, else prints its line. "show" adds the id and the details. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

void cli_emit(struct cli *c, json_t *arr, json_t *obj, const char *line)
{
	if (!c->json)
		printf("%s\n", line);
	else if (arr)
		json_array_append_new(arr, obj);
	else
		cli_print_json(obj);
}

void cli_line_add(char *line, size_t len, const char *key, const char *val)
{
	size_t n = strlen(line);

	snprintf(line + n, len - n, "%s%s %s", n ? " " : "", key, val);
}

static const char *ip(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void out_zone(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_zone *z = obj;
	char a[64], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, z->id, a);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s}", "id", z->id, "alias", a, "name", z->name,
			      "type", z->type);
	cli_line_add(line, sizeof(line), "tzone", a);
	if (show)
		cli_line_add(line, sizeof(line), "id", z->id);
	cli_line_add(line, sizeof(line), "name", z->name);
	cli_line_add(line, sizeof(line), "type", z->type);
	cli_emit(c, arr, o, line);
}

void out_member(struct cli *c, json_t *arr, const void *obj, bool show)
{
	(void)show;
	out_member_state(c, arr, obj, NULL);
}

/* "... state S[: reason]" (JSON "state", "reason") when st is given. */
static void add_state(char *line, size_t len, json_t *o, const struct cli_state *st)
{
	char v[256];

	if (!st)
		return;
	snprintf(v, sizeof(v), "%s%s%s", st->state, st->reason ? ": " : "",
		 st->reason ? st->reason : "");
	cli_line_add(line, len, "state", v);
	if (o)
		json_object_set_new(o, "state", json_string(st->state));
	if (o && st->reason)
		json_object_set_new(o, "reason", json_string(st->reason));
}

void out_member_state(struct cli *c, json_t *arr, const struct topo_member *m,
		      const struct cli_state *st)
{
	char za[64], ha[64], addr[INET_ADDRSTRLEN], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, m->zone_id, za);
	cli_alias(c, m->host_id, ha);
	ip(m->addr, addr);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "zone", m->zone_id, "zone_alias", za,
			      "host", m->host_id, "host_alias", ha, "address", addr);
	cli_line_add(line, sizeof(line), "zone", za);
	cli_line_add(line, sizeof(line), "host", ha);
	cli_line_add(line, sizeof(line), "address", addr);
	add_state(line, sizeof(line), o, st);
	cli_emit(c, arr, o, line);
}

static void out_host(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_host *h = obj;
	char a[64], za[64], addr[INET_ADDRSTRLEN], line[1024] = "", addrs[512] = "";
	json_t *o = NULL, *zones = NULL;
	size_t i;

	cli_alias(c, h->id, a);
	if (c->json) {
		o = json_pack("{s:s,s:s,s:s,s:b}", "id", h->id, "alias", a, "name", h->name,
			      "alive", h->alive);
		if (show) {
			zones = json_array();
			json_object_set_new(o, "addresses", zones);
		}
	}
	for (i = 0; show && i < c->t.n_members; i++) {
		const struct topo_member *m = &c->t.members[i];
		size_t n = strlen(addrs);

		if (strcmp(m->host_id, h->id))
			continue;
		ip(m->addr, addr);
		cli_alias(c, m->zone_id, za);
		snprintf(addrs + n, sizeof(addrs) - n, "%s%s:%s", n ? "," : "", za, addr);
		if (zones)
			json_array_append_new(zones, json_pack("{s:s,s:s,s:s}", "zone", m->zone_id,
							       "zone_alias", za, "address",
							       addr));
	}
	cli_line_add(line, sizeof(line), "host", a);
	if (show)
		cli_line_add(line, sizeof(line), "id", h->id);
	cli_line_add(line, sizeof(line), "name", h->name);
	cli_line_add(line, sizeof(line), "alive", h->alive ? "true" : "false");
	if (*addrs)
		cli_line_add(line, sizeof(line), "addresses", addrs);
	cli_emit(c, arr, o, line);
}

void out_binding(struct cli *c, json_t *arr, const void *obj, bool show)
{
	(void)show;
	out_binding_state(c, arr, obj, NULL);
}

void out_binding_state(struct cli *c, json_t *arr, const struct topo_binding *b,
		       const struct cli_state *st)
{
	char ha[64], pa[64], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, b->host_id, ha);
	cli_alias(c, b->port_id, pa);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "host", b->host_id, "host_alias", ha,
			      "interface", b->interface, "port", b->port_id, "port_alias", pa);
	cli_line_add(line, sizeof(line), "host", ha);
	cli_line_add(line, sizeof(line), "interface", b->interface);
	cli_line_add(line, sizeof(line), "port", pa);
	add_state(line, sizeof(line), o, st);
	cli_emit(c, arr, o, line);
}

/* A bridge or a router: "<type> <alias> [id UUID] name N state up [asn A] [tunnel-key K]"
 * (asn: a router's, when set; 0 none). */
static void out_device(struct cli *c, json_t *arr, const char *type, const char *id,
		       const char *name, uint32_t tunnel_key, bool down, uint32_t asn,
		       const struct topo_filters *f, bool show)
{
	const char *state = down ? "down" : "up";
	char a[64], key[16], as[16], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, id, a);
	snprintf(key, sizeof(key), "%u", tunnel_key);
	snprintf(as, sizeof(as), "%u", asn);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "id", id, "alias", a, "name", name,
			      "state", state, "tunnel_key", (json_int_t)tunnel_key);
	if (o && asn)
		json_object_set_new(o, "asn", json_integer((json_int_t)asn));
	cli_line_add(line, sizeof(line), type, a);
	if (show)
		cli_line_add(line, sizeof(line), "id", id);
	cli_line_add(line, sizeof(line), "name", name);
	cli_line_add(line, sizeof(line), "state", state);
	if (asn)
		cli_line_add(line, sizeof(line), "asn", as);
	if (show)
		cli_line_add(line, sizeof(line), "tunnel-key", key);
	cli_out_filters(c, line, sizeof(line), o, f);
	cli_emit(c, arr, o, line);
}

static void out_bridge(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_bridge *b = obj;

	out_device(c, arr, "bridge", b->id, b->name, b->tunnel_key, b->down, 0, &b->filters, show);
}

static void out_router(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_router *r = obj;

	out_device(c, arr, "router", r->id, r->name, r->tunnel_key, r->down, r->asn, &r->filters,
		   show);
}

/* "portN" or "routeN" of a full alias "device:portN", as a device lists its own. */
static const char *short_alias(const char *a)
{
	return strchr(a, ':') ? strchr(a, ':') + 1 : a;
}

/* A router port's addresses: "address A net N" for the primary, and every one as
 * "addresses A/len,..." when it has several; JSON "address", "net", "addresses". */
static void out_nets(char *line, size_t len, json_t *o, const struct topo_port *p)
{
	char addr[INET_ADDRSTRLEN], net[TOPO_CIDR_STRLEN], all[4 * TOPO_CIDR_STRLEN] = "";
	struct topo_cidr n = { topo_cidr_network(&p->nets[0]), p->nets[0].len };
	json_t *arr = json_array();
	size_t i;

	ip(p->nets[0].addr, addr);
	topo_format_cidr(&n, net);
	for (i = 0; i < p->n_nets; i++) {
		char s[TOPO_CIDR_STRLEN];

		topo_format_cidr(&p->nets[i], s);
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", i ? "," : "", s);
		json_array_append_new(arr, json_string(s));
	}
	cli_line_add(line, len, "address", addr);
	cli_line_add(line, len, "net", net);
	if (p->n_nets > 1)
		cli_line_add(line, len, "addresses", all);
	if (o) {
		json_object_set_new(o, "address", json_string(addr));
		json_object_set_new(o, "net", json_string(net));
		json_object_set_new(o, "addresses", arr);
	} else {
		json_decref(arr);
	}
}

/* A bridge port's port security: "port-security off" when off, and its allowed addresses
 * "allowed-address A[/M],...": JSON "port_security" and "allowed_addresses". */
static void out_port_security(char *line, size_t len, json_t *o, const struct topo_port *p)
{
	char all[TOPO_PORT_MAX_ALLOWED * 40] = "", a[INET_ADDRSTRLEN], m[18];
	json_t *arr = json_array();

	for (size_t i = 0; i < p->n_allowed; i++) {
		json_t *e = json_pack("{s:s}", "address", ip(p->allowed[i].addr, a));

		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", i ? "," : "", a);
		if (p->allowed[i].has_mac) {
			topo_format_mac(p->allowed[i].mac, m);
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "/%s", m);
			json_object_set_new(e, "mac", json_string(m));
		}
		json_array_append_new(arr, e);
	}
	if (p->no_port_security)
		cli_line_add(line, len, "port-security", "off");
	if (p->n_allowed)
		cli_line_add(line, len, "allowed-address", all);
	if (o) {
		json_object_set_new(o, "port_security", json_boolean(!p->no_port_security));
		json_object_set_new(o, "allowed_addresses", arr);
	} else {
		json_decref(arr);
	}
}

static void out_port(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_port *p = obj;
	const struct topo_binding *b = topo_find_port_binding(&c->t, p->id);
	bool router = p->device_type == TOPO_DEVICE_ROUTER;
	char a[64], da[64], ha[64], pa[64], mac[18], addr[INET_ADDRSTRLEN], key[16];
	char line[1024] = "";
	json_t *o = NULL;

	cli_alias(c, p->id, a);
	cli_alias(c, p->device_id, da);
	snprintf(key, sizeof(key), "%u", p->tunnel_key);
	if (p->has_mac)
		topo_format_mac(p->mac, mac);
	if (p->has_addr)
		ip(p->addr, addr);
	if (b)
		cli_alias(c, b->host_id, ha);
	if (p->peer_id[0])
		cli_alias(c, p->peer_id, pa);
	if (c->json) {
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", p->id, "alias", a, "device",
			      p->device_id, "device_alias", da, "device_type",
			      router ? "router" : "bridge", "state", p->down ? "down" : "up",
			      "tunnel_key", (json_int_t)p->tunnel_key);
		if (p->has_mac)
			json_object_set_new(o, "mac", json_string(mac));
		if (p->has_addr)
			json_object_set_new(o, "address", json_string(addr));
		if (p->peer_id[0])
			json_object_set_new(o, "peer", json_pack("{s:s,s:s}", "id", p->peer_id,
								 "alias", pa));
		if (b)
			json_object_set_new(o, "binding",
					    json_pack("{s:s,s:s,s:s}", "host", b->host_id,
						      "host_alias", ha, "interface",
						      b->interface));
	}
	/* In text, "port portN" as on its device; the full alias is bridgeN:portN. */
	cli_line_add(line, sizeof(line), "port", short_alias(a));
	if (show)
		cli_line_add(line, sizeof(line), "id", p->id);
	cli_line_add(line, sizeof(line), "device", da);
	cli_line_add(line, sizeof(line), "state", p->down ? "down" : "up");
	if (show)
		cli_line_add(line, sizeof(line), "tunnel-key", key);
	if (p->has_mac)
		cli_line_add(line, sizeof(line), "mac", mac);
	if (p->has_addr)
		cli_line_add(line, sizeof(line), "address", addr);
	if (router && p->n_nets)
		out_nets(line, sizeof(line), o, p);
	if (!router)
		out_port_security(line, sizeof(line), o, p);
	if (p->egress_rate) {
		char rate[32], burst[32];

		cli_format_bits(p->egress_rate, rate, sizeof(rate));
		cli_format_bits(p->egress_burst, burst, sizeof(burst));
		cli_line_add(line, sizeof(line), "egress-rate", rate);
		cli_line_add(line, sizeof(line), "egress-burst", burst);
		if (o)
			json_object_set_new(o, "egress_limit",
					    json_pack("{s:I,s:I}", "rate",
						      (json_int_t)p->egress_rate, "burst",
						      (json_int_t)p->egress_burst));
	}
	if (p->peer_id[0])
		cli_line_add(line, sizeof(line), "peer", pa);
	cli_out_filters(c, line, sizeof(line), o, &p->filters);
	if (show && b) {
		cli_line_add(line, sizeof(line), "host", ha);
		cli_line_add(line, sizeof(line), "interface", b->interface);
	}
	cli_emit(c, arr, o, line);
}

static void out_route(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_route *r = obj;
	char a[64], pa[64], src[TOPO_CIDR_STRLEN], dst[TOPO_CIDR_STRLEN];
	char gw[INET_ADDRSTRLEN], weight[16], peer[64], line[1024] = "";
	const char *type = topo_route_type_name(r->type);
	json_t *o = NULL;

	cli_alias(c, r->id, a);
	topo_format_cidr(&r->src, src);
	topo_format_cidr(&r->dst, dst);
	if (r->has_gw)
		ip(r->gw, gw);
	if (r->port_id[0])
		cli_alias(c, r->port_id, pa);
	snprintf(weight, sizeof(weight), "%u", r->weight);
	if (c->json) {
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:b}", "id", r->id, "alias", a,
			      "router", r->router_id, "type", type, "src", src, "dst", dst,
			      "weight", (json_int_t)r->weight, "port_route", r->port_route);
		if (r->has_gw)
			json_object_set_new(o, "gw", json_string(gw));
		if (r->port_id[0]) {
			json_object_set_new(o, "port", json_string(r->port_id));
			json_object_set_new(o, "port_alias", json_string(pa));
		}
		json_object_set_new(o, "learned", json_boolean(r->learned));
		if (r->learned)
			json_object_update_new(o, json_pack("{s:s,s:s,s:s}", "peer", r->peer_id,
							    "peer_alias", cli_alias(c, r->peer_id, peer),
							    "host", r->host_id));
	}
	cli_line_add(line, sizeof(line), "route", short_alias(a));
	if (show)
		cli_line_add(line, sizeof(line), "id", r->id);
	cli_line_add(line, sizeof(line), "type", type);
	cli_line_add(line, sizeof(line), "src", src);
	cli_line_add(line, sizeof(line), "dst", dst);
	if (r->has_gw)
		cli_line_add(line, sizeof(line), "gw", gw);
	if (r->port_id[0])
		cli_line_add(line, sizeof(line), "port", short_alias(pa));
	cli_line_add(line, sizeof(line), "weight", weight);
	if (r->learned) {
		cli_line_add(line, sizeof(line), "learned", "true");
		cli_line_add(line, sizeof(line), "peer", short_alias(cli_alias(c, r->peer_id, peer)));
	}
	if (show)
		cli_line_add(line, sizeof(line), "port-route", r->port_route ? "true" : "false");
	cli_emit(c, arr, o, line);
}

/* "arp-entry address A mac M type static" or "... type learned port portN host hostN". */
static void out_arp(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_arp *e = obj;

	(void)show;	char addr[INET_ADDRSTRLEN], mac[18], pa[64], ha[64], line[512] = "";
	const char *type = e->learned ? "learned" : "static";
	json_t *o = NULL;

	ip(e->addr, addr);
	topo_format_mac(e->mac, mac);
	if (e->learned) {
		cli_alias(c, e->port_id, pa);
		cli_alias(c, e->host_id, ha);
	}
	if (c->json) {
		o = json_pack("{s:s,s:s,s:s,s:s}", "router", e->router_id, "address", addr, "mac",
			      mac, "type", type);
		if (e->learned)
			json_object_update_new(o, json_pack("{s:s,s:s,s:s,s:s}", "port", e->port_id,
							    "port_alias", pa, "host", e->host_id,
							    "host_alias", ha));
	}
	cli_line_add(line, sizeof(line), "arp-entry address", addr);
	cli_line_add(line, sizeof(line), "mac", mac);
	cli_line_add(line, sizeof(line), "type", type);
	if (e->learned) {
		cli_line_add(line, sizeof(line), "port", short_alias(pa));
		cli_line_add(line, sizeof(line), "host", ha);
	}
	cli_emit(c, arr, o, line);
}

/* The session with p as the agent of its port's host reports it (0), or why there is
 * nothing to report. */
static int peer_session(struct cli *c, const struct topo_bgp_peer *p, struct topo_bgp_status *st,
			const char **why)
{
	const struct topo_binding *b = NULL;
	const struct topo_port *port = NULL;

	for (size_t i = 0; i < c->t.n_ports && !port; i++) {
		const struct topo_port *q = &c->t.ports[i];

		for (size_t k = 0; k < q->n_nets && !port; k++)
			if (!strcmp(q->device_id, p->router_id) && topo_cidr_contains(&q->nets[k], p->addr))
				port = q;
	}
	if (!port) {
		*why = "no port of the router reaches it";
		return -ENOENT;
	}
	b = topo_find_port_binding(&c->t, port->id);
	if (!b) {
		*why = "its port is not bound";
		return -ENOENT;
	}
	if (topo_bgp_status_read(c->zh, b->host_id, p->id, st)) {
		*why = "not reported (no speaker runs for it)";
		return -ENOENT;
	}
	return 0;
}

/* "bgp-peer peerN [id UUID] asn A address X keep-alive S hold-time S connect-retry S
 * [password set] state S [since T] [routes N]": the password itself is not printed; the
 * state is BIRD's (its information, "Established", "Active", "Error: Bad peer AS"...). */
static void out_bgp_peer(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_bgp_peer *p = obj;
	char a[64], addr[INET_ADDRSTRLEN], n[4][16], line[768] = "", state[160], routes[16];
	struct topo_bgp_status st = { 0 };
	const char *why = NULL;
	bool known = !peer_session(c, p, &st, &why);
	json_t *o = NULL;

	cli_alias(c, p->id, a);
	ip(p->addr, addr);
	snprintf(n[0], sizeof(n[0]), "%u", p->asn);
	snprintf(n[1], sizeof(n[1]), "%u", p->keep_alive);
	snprintf(n[2], sizeof(n[2]), "%u", p->hold_time);
	snprintf(n[3], sizeof(n[3]), "%u", p->connect_retry);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:b}", "id", p->id, "alias", a,
			      "router", p->router_id, "asn", (json_int_t)p->asn, "address", addr,
			      "keep_alive", (json_int_t)p->keep_alive, "hold_time",
			      (json_int_t)p->hold_time, "connect_retry",
			      (json_int_t)p->connect_retry, "password", p->password[0] != '\0');
	cli_line_add(line, sizeof(line), "bgp-peer", short_alias(a));
	if (show)
		cli_line_add(line, sizeof(line), "id", p->id);
	cli_line_add(line, sizeof(line), "asn", n[0]);
	cli_line_add(line, sizeof(line), "address", addr);
	cli_line_add(line, sizeof(line), "keep-alive", n[1]);
	cli_line_add(line, sizeof(line), "hold-time", n[2]);
	cli_line_add(line, sizeof(line), "connect-retry", n[3]);
	if (p->password[0])
		cli_line_add(line, sizeof(line), "password", "set");
	if (known) {
		snprintf(state, sizeof(state), "%s", st.info[0] ? st.info : st.state);
		snprintf(routes, sizeof(routes), "%u", st.routes);
		cli_line_add(line, sizeof(line), "state", state);
		if (st.since[0])
			cli_line_add(line, sizeof(line), "since", st.since);
		cli_line_add(line, sizeof(line), "routes", routes);
	} else {
		snprintf(state, sizeof(state), "unknown: %s", why);
		cli_line_add(line, sizeof(line), "state", state);
	}
	if (o && known)
		json_object_set_new(o, "session", json_pack("{s:s,s:s,s:s,s:I}", "state", st.state,
							    "info", st.info, "since", st.since,
							    "routes", (json_int_t)st.routes));
	else if (o)
		json_object_set_new(o, "session", json_pack("{s:s,s:s}", "state", "unknown",
							    "reason", why));
	cli_emit(c, arr, o, line);
}

/* "bgp-network netN [id UUID] net P". */
static void out_bgp_network(struct cli *c, json_t *arr, const void *obj, bool show)
{
	const struct topo_bgp_network *n = obj;
	char a[64], net[TOPO_CIDR_STRLEN], line[256] = "";
	json_t *o = NULL;

	cli_alias(c, n->id, a);
	topo_format_cidr(&n->net, net);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s}", "id", n->id, "alias", a, "router", n->router_id,
			      "net", net);
	cli_line_add(line, sizeof(line), "bgp-network", short_alias(a));
	if (show)
		cli_line_add(line, sizeof(line), "id", n->id);
	cli_line_add(line, sizeof(line), "net", net);
	cli_emit(c, arr, o, line);
}

/* Where each type lives in the snapshot and how it prints: the generic lister, show and
 * name completion read these. */
#define ID(type) offsetof(type, id)
#define NAME(type) offsetof(type, name)
const struct cli_kind kind_zone = { CLI_KIND_AT(zones, struct topo_zone),
	.id_off = ID(struct topo_zone), .name_off = NAME(struct topo_zone), .parent_off = -1,
	.print = out_zone };
const struct cli_kind kind_member = { CLI_KIND_AT(members, struct topo_member),
	.id_off = -1, .name_off = -1, .parent_off = offsetof(struct topo_member, zone_id),
	.print = out_member };
const struct cli_kind kind_host = { CLI_KIND_AT(hosts, struct topo_host),
	.id_off = ID(struct topo_host), .name_off = NAME(struct topo_host), .parent_off = -1,
	.print = out_host };
const struct cli_kind kind_binding = { CLI_KIND_AT(bindings, struct topo_binding),
	.id_off = -1, .name_off = -1, .parent_off = offsetof(struct topo_binding, host_id),
	.print = out_binding };
const struct cli_kind kind_bridge = { CLI_KIND_AT(bridges, struct topo_bridge),
	.id_off = ID(struct topo_bridge), .name_off = NAME(struct topo_bridge),
	.parent_off = -1, .print = out_bridge };
const struct cli_kind kind_port = { CLI_KIND_AT(ports, struct topo_port),
	.id_off = ID(struct topo_port), .name_off = -1,
	.parent_off = offsetof(struct topo_port, device_id), .print = out_port };
const struct cli_kind kind_router = { CLI_KIND_AT(routers, struct topo_router),
	.id_off = ID(struct topo_router), .name_off = NAME(struct topo_router),
	.parent_off = -1, .print = out_router };
const struct cli_kind kind_route = { CLI_KIND_AT(routes, struct topo_route),
	.id_off = ID(struct topo_route), .name_off = -1,
	.parent_off = offsetof(struct topo_route, router_id), .print = out_route };
const struct cli_kind kind_arp = { CLI_KIND_AT(arps, struct topo_arp),
	.id_off = -1, .name_off = -1, .parent_off = offsetof(struct topo_arp, router_id),
	.print = out_arp };
const struct cli_kind kind_bgp_peer = { CLI_KIND_AT(bgp_peers, struct topo_bgp_peer),
	.id_off = ID(struct topo_bgp_peer), .name_off = -1,
	.parent_off = offsetof(struct topo_bgp_peer, router_id), .print = out_bgp_peer };
const struct cli_kind kind_bgp_network = { CLI_KIND_AT(bgp_networks, struct topo_bgp_network),
	.id_off = ID(struct topo_bgp_network), .name_off = -1,
	.parent_off = offsetof(struct topo_bgp_network, router_id), .print = out_bgp_network };
