// SPDX-License-Identifier: Apache-2.0
/* router create name R | list | R show | R delete
 * | R add port (address A net N | addresses A/len[,A/len]...) [mac M] | R list port
 * | R port P ... (port_cmd.c)
 * | R add route [src S] dst D [type normal|blackhole|reject] [port P] [gw G] [weight W]
 * | R list route | R route X show | R route X delete
 * | R add arp-entry address A mac M | R list arp | R arp-entry A delete */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"

static int router_list(struct cli *c, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "router list");

	for (i = 0; !rc && i < c->t.n_routers; i++)
		out_router(c, arr, &c->t.routers[i], false);
	cli_list_end(c, arr, rc);
	return rc;
}

/* "address A net N": the address must lie in the net. */
static int address_in_net(const char *addr, const char *net, struct topo_cidr *out)
{
	struct topo_cidr n;
	int rc;

	rc = cli_ipv4_arg("address", addr, &out->addr);
	if (!rc)
		rc = cli_cidr_arg("net", net, true, &n);
	if (rc)
		return rc;
	if (!topo_cidr_contains(&n, out->addr))
		return cli_fail(-EINVAL, "address %s is not in net %s", addr, net);
	out->len = n.len;
	return 0;
}

/* "A/len[,A/len]...": each an address with its subnet length. */
static int address_list(char *list, struct topo_router_port_opts *o)
{
	char *save = NULL, *one;
	int rc;

	for (one = strtok_r(list, ",", &save); one; one = strtok_r(NULL, ",", &save)) {
		if (o->n_nets == TOPO_PORT_MAX_NETS)
			return cli_fail(-EINVAL, "a router port has at most %d addresses",
					TOPO_PORT_MAX_NETS);
		rc = cli_cidr_arg("address", one, false, &o->nets[o->n_nets]);
		if (rc)
			return rc;
		if (!topo_valid_unicast_ipv4(o->nets[o->n_nets].addr))
			return cli_fail(-EINVAL, "bad address '%s': not a unicast IPv4 address",
					one);
		o->n_nets++;
	}
	return o->n_nets ? 0 : cli_fail(-EINVAL, "addresses needs A/len[,A/len]...");
}

static int router_port_add(struct cli *c, const struct topo_router *r, char **w, int n)
{
	static const char *const keys[] = { "address", "net", "addresses", "mac", NULL };
	struct topo_router_port_opts o = { 0 };
	char id[TOPO_ID_LEN], list[512];
	const char *v[4];
	int rc;

	rc = cli_pairs(w, n, keys, v, "add port");
	if (rc)
		return rc;
	if (v[2] && (v[0] || v[1]))
		return cli_fail(-EINVAL, "add port takes address and net, or addresses, not both");
	if (v[2]) {
		snprintf(list, sizeof(list), "%s", v[2]);
		rc = address_list(list, &o);
	} else if (v[0] && v[1]) {
		rc = address_in_net(v[0], v[1], &o.nets[0]);
		o.n_nets = 1;
	} else {
		rc = cli_fail(-EINVAL, "add port needs address A net N, or addresses A/len");
	}
	if (!rc && v[3]) {
		rc = cli_mac_arg(v[3], o.mac);
		o.has_mac = true;
	}
	if (rc)
		return rc;
	rc = topo_router_port_create(c->zh, r->id, &o, id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

/* A weight: 1 to TOPO_WEIGHT_MAX in decimal. */
static int weight_arg(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return cli_fail(-EINVAL, "bad weight '%s': 1 to %u", s, TOPO_WEIGHT_MAX);
	v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > TOPO_WEIGHT_MAX)
		return cli_fail(-EINVAL, "bad weight '%s': 1 to %u", s, TOPO_WEIGHT_MAX);
	*out = (uint32_t)v;
	return 0;
}

static int route_add(struct cli *c, const struct topo_router *r, char **w, int n)
{
	static const char *const keys[] = { "src", "dst", "type", "port", "gw", "weight",
					    NULL };
	struct topo_route rt = { .type = TOPO_ROUTE_NORMAL, .weight = TOPO_WEIGHT_DEFAULT };
	const struct topo_port *p;
	char id[TOPO_ID_LEN];
	const char *v[6];
	int rc;

	rc = cli_pairs(w, n, keys, v, "add route");
	if (rc)
		return rc;
	if (!v[1])
		return cli_fail(-EINVAL, "add route needs dst");
	rc = cli_cidr_arg("src", v[0] ? v[0] : "0.0.0.0/0", true, &rt.src);
	if (!rc)
		rc = cli_cidr_arg("dst", v[1], true, &rt.dst);
	if (!rc && v[2] && topo_parse_route_type(v[2], &rt.type))
		rc = cli_fail(-EINVAL, "bad route type '%s': normal, blackhole or reject", v[2]);
	if (!rc && !v[3] && rt.type == TOPO_ROUTE_NORMAL)
		rc = cli_fail(-EINVAL, "a normal route needs a port");
	if (!rc && v[4] && rt.type != TOPO_ROUTE_NORMAL)
		rc = cli_fail(-EINVAL, "a %s route has no gw", topo_route_type_name(rt.type));
	if (!rc && v[4])
		rc = cli_ipv4_arg("gw", v[4], &rt.gw);
	rt.has_gw = v[4] != NULL;
	if (!rc && v[5])
		rc = weight_arg(v[5], &rt.weight);
	if (!rc && v[3]) {
		rc = cli_device_port(c, r->id, v[3], &p);
		if (!rc)
			strcpy(rt.port_id, p->id);
	}
	if (rc)
		return rc;
	strcpy(rt.router_id, r->id);
	rc = topo_route_add(c->zh, &rt, id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

static int route_list(struct cli *c, const struct topo_router *r, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "list route");

	for (i = 0; !rc && i < c->t.n_routes; i++)
		if (!strcmp(c->t.routes[i].router_id, r->id))
			out_route(c, arr, &c->t.routes[i], false);
	cli_list_end(c, arr, rc);
	return rc;
}

static int route_cmd(struct cli *c, const struct topo_router *r, char **w, int n)
{
	const struct topo_route *rt;
	int rc;

	if (n < 2)
		return cli_fail(-EINVAL, "router route needs a route and a command: show, delete");
	rc = cli_router_route(c, r, w[0], &rt);
	if (rc)
		return rc;
	rc = cli_no_more(w + 2, n - 2, w[1]);
	if (rc)
		return rc;
	if (!strcmp(w[1], "show")) {
		out_route(c, NULL, rt, true);
		return 0;
	}
	if (!strcmp(w[1], "delete"))
		return cli_apply_id(c, NULL, 0, "delete", topo_route_delete, rt->id);
	return cli_fail(-EINVAL, "unknown command 'route %s %s': expected show, delete", w[0],
			w[1]);
}

static int arp_add(struct cli *c, const struct topo_router *r, char **w, int n)
{
	static const char *const keys[] = { "address", "mac", NULL };
	struct in_addr addr;
	uint8_t mac[6];
	const char *v[2];
	int rc;

	rc = cli_pairs(w, n, keys, v, "add arp-entry");
	if (rc)
		return rc;
	if (!v[0] || !v[1])
		return cli_fail(-EINVAL, "add arp-entry needs address and mac");
	rc = cli_ipv4_arg("address", v[0], &addr);
	if (!rc)
		rc = cli_mac_arg(v[1], mac);
	if (rc)
		return rc;
	rc = topo_arp_static_add(c->zh, r->id, addr, mac);
	return rc ? cli_lib_fail(rc) : 0;
}

static int arp_list(struct cli *c, const struct topo_router *r, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "list arp");

	for (i = 0; !rc && i < c->t.n_arps; i++)
		if (!strcmp(c->t.arps[i].router_id, r->id))
			out_arp(c, arr, &c->t.arps[i]);
	cli_list_end(c, arr, rc);
	return rc;
}

/* "arp-entry A delete" (and "delete arp-entry address A"). */
static int arp_delete(struct cli *c, const struct topo_router *r, const char *addr_s)
{
	struct in_addr addr;
	int rc = cli_ipv4_arg("address", addr_s, &addr);

	if (rc)
		return rc;
	rc = topo_arp_static_delete(c->zh, r->id, addr);
	return rc ? cli_lib_fail(rc) : 0;
}

static int router_delete(struct cli *c, const struct topo_router *r, char **w, int n)
{
	static const char *const keys[] = { "address", NULL };
	const char *v[1];
	int rc;

	if (n >= 1 && !strcmp(w[0], "arp-entry")) {
		rc = cli_pairs(w + 1, n - 1, keys, v, "delete arp-entry");
		if (!rc && !v[0])
			rc = cli_fail(-EINVAL, "delete arp-entry needs an address");
		return rc ? rc : arp_delete(c, r, v[0]);
	}
	return cli_apply_id(c, w, n, "delete", topo_router_delete, r->id);
}

int cmd_router(struct cli *c, char **w, int n)
{
	const struct topo_router *r;
	const struct topo_port *p;
	int rc;

	if (n < 1)
		return cli_fail(-EINVAL, "router needs a command: create, list, or a router");
	if (!strcmp(w[0], "create"))
		return cli_create_named(c, w + 1, n - 1, "router create", topo_router_create);
	if (!strcmp(w[0], "list"))
		return router_list(c, w + 1, n - 1);
	rc = cli_router(c, w[0], &r);
	if (rc)
		return rc;
	if (n < 2)
		return cli_fail(-EINVAL, "router %s needs a command: show, delete, add port, list "
				"port, port, add route, list route, route, add arp-entry, list arp, "
				"arp-entry", w[0]);
	if (!strcmp(w[1], "show")) {
		rc = cli_no_more(w + 2, n - 2, "show");
		if (!rc)
			out_router(c, NULL, r, true);
		return rc;
	}
	if (!strcmp(w[1], "delete"))
		return router_delete(c, r, w + 2, n - 2);
	if (!strcmp(w[1], "port")) {
		if (n < 4)
			return cli_fail(-EINVAL, "router port needs a port and a command: show, "
					"delete, set peer, delete peer");
		rc = cli_device_port(c, r->id, w[2], &p);
		return rc ? rc : cmd_port(c, p, w + 3, n - 3);
	}
	if (!strcmp(w[1], "route"))
		return route_cmd(c, r, w + 2, n - 2);
	if (!strcmp(w[1], "arp-entry") && n == 4 && !strcmp(w[3], "delete"))
		return arp_delete(c, r, w[2]);
	if (n >= 3 && !strcmp(w[1], "add")) {
		if (!strcmp(w[2], "port"))
			return router_port_add(c, r, w + 3, n - 3);
		if (!strcmp(w[2], "route"))
			return route_add(c, r, w + 3, n - 3);
		if (!strcmp(w[2], "arp-entry"))
			return arp_add(c, r, w + 3, n - 3);
	}
	if (n >= 3 && !strcmp(w[1], "list")) {
		if (!strcmp(w[2], "port"))
			return cli_list_ports(c, r->id, w + 3, n - 3);
		if (!strcmp(w[2], "route"))
			return route_list(c, r, w + 3, n - 3);
		if (!strcmp(w[2], "arp") || !strcmp(w[2], "arp-entry"))
			return arp_list(c, r, w + 3, n - 3);
	}
	return cli_fail(-EINVAL, "unknown command 'router %s %s': expected show, delete, add "
			"port, list port, port, add route, list route, route, add arp-entry, "
			"list arp, arp-entry", w[0], w[1]);
}
