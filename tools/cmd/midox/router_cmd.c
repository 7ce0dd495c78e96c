// SPDX-License-Identifier: Apache-2.0
/* router create name R | list | R show | R delete
 * | R add port (address A net N | addresses A/len[,A/len]...) [mac M] | R list port
 * | R port P ... (port_cmd.c)
 * | R add route [src S] dst D [type normal|blackhole|reject] [port P] [gw G] [weight W]
 * | R list route | R route X show | R route X delete
 * | R add arp-entry address A mac M | R list arp | R arp-entry A delete
 * | R add floating-ip address F target A port P | R list floating-ip
 * | R floating-ip F delete (floating_cmd.c)
 * | R set asn N | R add bgp-peer asn A address X [keep-alive S] [hold-time S]
 *   [connect-retry S] [password P] | R list bgp-peer | R bgp-peer P delete
 * | R delete bgp-peer P | R add bgp-network net N | R list bgp-network
 * | R bgp-network N delete | R delete bgp-network N */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

/* v: address, net, addresses, mac (router_port_args). One address with its net, or a list
 * of addresses with their subnets. */
static int router_port_nets(const struct cli_call *k, struct topo_router_port_opts *o)
{
	struct topo_cidr n = k->v[1].cidr;

	if (k->v[2].s && (k->v[0].s || k->v[1].s))
		return cli_fail(-EINVAL, "add port takes address and net, or addresses, not both");
	if (k->v[2].s) {
		o->n_nets = k->v[2].cidrs.n;
		memcpy(o->nets, k->v[2].cidrs.nets, sizeof(o->nets));
		return 0;
	}
	if (!k->v[0].s || !k->v[1].s)
		return cli_fail(-EINVAL, "add port needs address A net N, or addresses A/len");
	if (!topo_cidr_contains(&n, k->v[0].ip))
		return cli_fail(-EINVAL, "address %s is not in net %s", k->v[0].s, k->v[1].s);
	o->nets[0].addr = k->v[0].ip;
	o->nets[0].len = n.len;
	o->n_nets = 1;
	return 0;
}

static int router_port_add(struct cli *c, const struct cli_call *k)
{
	struct topo_router_port_opts o = { 0 };
	char id[TOPO_ID_LEN];
	int rc = router_port_nets(k, &o);

	if (rc)
		return rc;
	o.has_mac = k->v[3].s != NULL;
	memcpy(o.mac, k->v[3].mac, sizeof(o.mac));
	rc = topo_router_port_create(c->zh, k->id, &o, id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

/* v: src, dst, type, port, gw, weight (route_args). */
static int route_add(struct cli *c, const struct cli_call *k)
{
	struct topo_route rt = { .type = TOPO_ROUTE_NORMAL, .weight = TOPO_WEIGHT_DEFAULT };
	const struct topo_port *p = k->v[3].obj;
	char id[TOPO_ID_LEN];
	int rc;

	if (k->v[0].s)
		rt.src = k->v[0].cidr;
	rt.dst = k->v[1].cidr;
	if (k->v[2].s)
		topo_parse_route_type(k->v[2].s, &rt.type);
	if (!p && rt.type == TOPO_ROUTE_NORMAL)
		return cli_fail(-EINVAL, "a normal route needs a port");
	if (k->v[4].s && rt.type != TOPO_ROUTE_NORMAL)
		return cli_fail(-EINVAL, "a %s route has no gw", topo_route_type_name(rt.type));
	rt.has_gw = k->v[4].s != NULL;
	rt.gw = k->v[4].ip;
	if (k->v[5].s)
		rt.weight = k->v[5].u;
	if (p)
		strcpy(rt.port_id, p->id);
	strcpy(rt.router_id, k->id);
	rc = topo_route_add(c->zh, &rt, id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

static int arp_add(struct cli *c, const struct cli_call *k)
{
	int rc = topo_arp_static_add(c->zh, k->id, k->v[0].ip, k->v[1].mac);

	return rc ? cli_lib_fail(rc) : 0;
}

/* "delete arp-entry address A" on the router. */
static int arp_delete(struct cli *c, const struct cli_call *k)
{
	int rc = topo_arp_static_delete(c->zh, k->id, k->v[0].ip);

	return rc ? cli_lib_fail(rc) : 0;
}

/* "arp-entry A delete": the entry was named by its address (arp_find checked it). */
static int arp_entry_delete(struct cli *c, const struct cli_call *k)
{
	struct in_addr addr;
	int rc;

	topo_parse_ipv4(k->ref, &addr);
	rc = topo_arp_static_delete(c->zh, k->scope_id, addr);
	return rc ? cli_lib_fail(rc) : 0;
}

/* An ARP entry is named by its address; whether the router has one is the write's
 * question (its error names the router). */
static int arp_find(struct cli *c, const char *router_id, const char *ref, const void **out)
{
	struct in_addr addr;

	(void)c;
	(void)router_id;
	*out = ref;
	return cli_ipv4_arg("address", ref, &addr);
}

static const char *const route_types[] = { "normal", "blackhole", "reject", NULL };

/* "set [state up|down] [asn N]" (one write): a down router forwards nothing; the AS number
 * is the router's in BGP. */
static int router_set(struct cli *c, const struct cli_call *k)
{
	struct topo_router_opts o = { .has_state = k->v[0].s != NULL,
				      .down = k->v[0].s && !strcmp(k->v[0].s, "down"),
				      .has_asn = k->v[1].s != NULL, .asn = k->v[1].u };
	int rc;

	if ((k->v[2].s || k->v[3].s) && (o.has_state || o.has_asn))
		return cli_fail(-EINVAL, "set state or asn, or infilter and outfilter, not both "
				"(one change, one write)");
	if (k->v[2].s || k->v[3].s)
		return cli_filters_set(c, k->id, &k->v[2], &k->v[3]);
	if (!o.has_state && !o.has_asn)
		return cli_fail(-EINVAL, "set needs state, asn, infilter or outfilter");
	rc = topo_router_update(c->zh, k->id, &o);
	return rc ? cli_lib_fail(rc) : 0;
}

/* v: asn, address, keep-alive, hold-time, connect-retry, password (bgp_peer_args). */
static int bgp_peer_add(struct cli *c, const struct cli_call *k)
{
	struct topo_bgp_peer p = { .asn = k->v[0].u, .addr = k->v[1].ip };
	char id[TOPO_ID_LEN];
	int rc;

	p.keep_alive = k->v[2].s ? k->v[2].u : 0;
	p.hold_time = k->v[3].s ? k->v[3].u : 0;
	p.connect_retry = k->v[4].s ? k->v[4].u : 0;
	if (k->v[5].s) {
		if (!topo_valid_bgp_password(k->v[5].s))
			return cli_fail(-EINVAL, "bad password: 1 to %d printable characters "
					"without '\"' or '\\'", TOPO_BGP_PASSWORD_MAX - 1);
		strcpy(p.password, k->v[5].s);
	}
	strcpy(p.router_id, k->id);
	rc = topo_bgp_peer_add(c->zh, &p, id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

static int bgp_network_add(struct cli *c, const struct cli_call *k)
{
	char id[TOPO_ID_LEN];
	int rc = topo_bgp_network_add(c->zh, k->id, &k->v[0].cidr, id);

	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

static const struct cli_cmd bgp_peer_cmds[] = {
	{ "show", cli_cmd_show, "the BGP peer with its id", .kind = &kind_bgp_peer },
	{ "delete", cli_cmd_delete, "the BGP peer", .op = topo_bgp_peer_delete,
	  .kind = &kind_bgp_peer },
	{ 0 },
};

static const struct cli_cmd bgp_network_cmds[] = {
	{ "show", cli_cmd_show, "the BGP network with its id", .kind = &kind_bgp_network },
	{ "delete", cli_cmd_delete, "the BGP network (no longer advertised)",
	  .op = topo_bgp_network_delete, .kind = &kind_bgp_network },
	{ 0 },
};

/* "delete bgp-peer P", "delete bgp-network N": the nested object's own delete, the object
 * named after the command. */
static int bgp_delete_named(struct cli *c, const struct cli_call *k)
{
	bool peer = !strcmp(k->cmd->words, "delete bgp-peer");
	struct cli_call d = { .scope = k->obj, .scope_id = k->id };
	int rc;

	if (k->n_rest != 1)
		return k->n_rest ? cli_fail(-EINVAL, "unexpected word '%s' after '%s %s'",
					    k->rest[1], k->cmd->words, k->rest[0])
				 : cli_fail(-EINVAL, "%s needs a %s", k->cmd->words,
					    peer ? "peer" : "network");
	rc = (peer ? cli_find_bgp_peer : cli_find_bgp_network)(c, k->id, k->rest[0], &d.obj);
	if (rc)
		return rc;
	d.cmd = peer ? &bgp_peer_cmds[1] : &bgp_network_cmds[1];
	d.ref = k->rest[0];
	d.id = cli_obj_id(peer ? &cli_obj_bgp_peer : &cli_obj_bgp_network, d.obj);
	/* The guard again: the reference was resolved only now. */
	rc = cli_alias_guard(c, &d);
	return rc ? rc : cli_cmd_delete(c, &d);
}

static const struct cli_cmd router_type_cmds[] = {
	{ "create", cli_cmd_create, "a router (-> router0)", .create = topo_router_create,
	  .args = (const struct cli_arg[]){
		  { "name", CLI_T_NAME, "R", .required = true, .needs = "a name" }, { 0 } } },
	{ "list", cli_cmd_list, "every router", .kind = &kind_router },
	{ 0 },
};

static const struct cli_cmd router_cmds[] = {
	{ "show", cli_cmd_show, "the router with its id and tunnel key", .kind = &kind_router },
	{ "delete", cli_cmd_delete, "the router, its ports, routes and ARP entries",
	  .op = topo_router_delete, .kind = &kind_router },
	{ "delete arp-entry", arp_delete, "a static ARP entry",
	  .args = (const struct cli_arg[]){
		  { "address", CLI_T_IPV4, "A", .required = true, .needs = "an address" },
		  { 0 } } },
	{ "add port", router_port_add, "a port with its subnets (-> router0:port0)",
	  .usage = "(address A net N | addresses A/len[,A/len]) [mac M]",
	  .args = (const struct cli_arg[]){
		  { "address", CLI_T_IPV4, .meta = "A" },
		  { "net", CLI_T_NET, .meta = "N" },
		  { "addresses", CLI_T_CIDRS, "A/len[,A/len]", .what = "address" },
		  { "mac", CLI_T_MAC, .meta = "M" },
		  { 0 } } },
	{ "list port", cli_cmd_list, "the router's ports", .kind = &kind_port },
	{ "set", router_set, "its state (a down router forwards nothing), its BGP AS number, "
	  "its infilter (before routing) and outfilter (after) chains",
	  .args = (const struct cli_arg[]){
		  { "state", CLI_T_KEYWORD, "up|down", .choices = cli_states },
		  { "asn", CLI_T_UINT, "N", .min = 1, .max = TOPO_ASN_MAX },
		  { "infilter", CLI_T_REF, "C", .ref = &cli_obj_chain },
		  { "outfilter", CLI_T_REF, "C", .ref = &cli_obj_chain },
		  { 0 } } },
	{ "clear infilter", cli_filter_clear, .help = "the chain applied before routing" },
	{ "clear outfilter", cli_filter_clear, .help = "the chain applied after routing" },
	{ "add route", route_add, "a route (-> router0:route3)",
	  .args = (const struct cli_arg[]){
		  { "src", CLI_T_NET, .meta = "S" },
		  { "dst", CLI_T_NET, "D", .required = true },
		  { "type", CLI_T_KEYWORD, .what = "route type", .choices = route_types },
		  { "port", CLI_T_REF, "P", .ref = &cli_obj_device_port },
		  { "gw", CLI_T_IPV4, .meta = "G" },
		  { "weight", CLI_T_UINT, "W", .min = 1, .max = TOPO_WEIGHT_MAX },
		  { 0 } } },
	{ "list route", cli_cmd_list, "the router's routes", .kind = &kind_route },
	{ "add arp-entry", arp_add, "a static ARP entry",
	  .args = (const struct cli_arg[]){
		  { "address", CLI_T_IPV4, "A", .required = true },
		  { "mac", CLI_T_MAC, "M", .required = true },
		  { 0 } } },
	{ "list arp", cli_cmd_list, "static and learned ARP entries", .kind = &kind_arp },
	{ "add floating-ip", cli_fip_add, "floating IP F for address A through uplink P: two "
	  "static NAT rules (docs/nat.md)", .args = cli_fip_args },
	{ "list floating-ip", cli_fip_list, "the router's floating IPs and their two rules",
	  .args = NULL },
	{ "list arp-entry", cli_cmd_list, NULL, .kind = &kind_arp },
	{ "add bgp-peer", bgp_peer_add, "a BGP peer on a port's subnet (-> router0:peer0)",
	  .args = (const struct cli_arg[]){
		  { "asn", CLI_T_UINT, "A", .required = true, .min = 1, .max = TOPO_ASN_MAX },
		  { "address", CLI_T_IPV4, "X", .required = true },
		  { "keep-alive", CLI_T_UINT, "S", .min = 1, .max = TOPO_BGP_TIMER_MAX },
		  { "hold-time", CLI_T_UINT, "S", .min = TOPO_BGP_HOLD_TIME_MIN,
		    .max = TOPO_BGP_TIMER_MAX },
		  { "connect-retry", CLI_T_UINT, "S", .min = 1, .max = TOPO_BGP_TIMER_MAX },
		  { "password", CLI_T_WORD, .meta = "P" },
		  { 0 } } },
	{ "list bgp-peer", cli_cmd_list, "the router's BGP peers", .kind = &kind_bgp_peer },
	{ "delete bgp-peer", bgp_delete_named, "a BGP peer", .raw = true, .usage = "P" },
	{ "add bgp-network", bgp_network_add, "a network advertised to the peers "
	  "(-> router0:net0)",
	  .args = (const struct cli_arg[]){
		  { "net", CLI_T_NET, "N", .required = true },
		  { 0 } } },
	{ "list bgp-network", cli_cmd_list, "the networks advertised",
	  .kind = &kind_bgp_network },
	{ "delete bgp-network", bgp_delete_named, "a BGP network", .raw = true, .usage = "N" },
	{ 0 },
};

static const struct cli_obj router_route = {
	.word = "route", .title = "route", .meta = "X", .find = cli_find_route,
	.cmds = (const struct cli_cmd[]){
		{ "show", cli_cmd_show, "the route with its id", .kind = &kind_route },
		{ "delete", cli_cmd_delete, "the route (not a port route)",
		  .op = topo_route_delete, .kind = &kind_route },
		{ 0 } },
	.kind = &kind_route, .scoped = true,
};

static const struct cli_obj router_arp_entry = {
	.word = "arp-entry", .title = "address", .meta = "A", .find = arp_find,
	.cmds = (const struct cli_cmd[]){
		{ "delete", arp_entry_delete, .help = "a static ARP entry" },
		{ 0 } },
};

const struct cli_obj cli_obj_bgp_peer = {
	.word = "bgp-peer", .title = "bgp-peer", .meta = "P", .find = cli_find_bgp_peer,
	.cmds = bgp_peer_cmds, .kind = &kind_bgp_peer, .scoped = true,
};

const struct cli_obj cli_obj_bgp_network = {
	.word = "bgp-network", .title = "bgp-network", .meta = "N", .find = cli_find_bgp_network,
	.cmds = bgp_network_cmds, .kind = &kind_bgp_network, .scoped = true,
};

const struct cli_obj cli_obj_router = {
	.word = "router", .title = "router", .meta = "R", .find = cli_find_router,
	.type_cmds = router_type_cmds, .cmds = router_cmds,
	.subs = (const struct cli_obj *const[]){ &cli_obj_device_port, &router_route,
						  &router_arp_entry, &cli_obj_floating_ip,
						  &cli_obj_bgp_peer,
						  &cli_obj_bgp_network, NULL },
	.kind = &kind_router,
};
