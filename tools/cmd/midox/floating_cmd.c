// SPDX-License-Identifier: Apache-2.0
/* router R add floating-ip address F target A port P | R list floating-ip
 * | R floating-ip F delete: MidoNet's floating-IP recipe (a static DNAT on the router's
 * infilter chain, a static SNAT on its outfilter chain leaving by the uplink P) as one
 * command and one write (topology/floating.h, docs/nat.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "topology/floating.h"

#define FIP_MAX (2 * TOPO_CHAIN_MAX_RULES) /* a DNAT chain and a SNAT chain, full */

static json_t *ref_json(struct cli *c, const char *id)
{
	char a[64];

	return id ? json_pack("{s:s,s:s}", "id", id, "alias", cli_alias(c, id, a)) : json_null();
}

/* "floating-ip F target A port port1 dnat chain0:rule0 snat chain1:rule0"; a floating IP
 * with one of its rules gone says so ("snat none"). */
static void out_fip(struct cli *c, json_t *arr, const struct topo_floating_ip *f)
{
	char addr[INET_ADDRSTRLEN], target[INET_ADDRSTRLEN], a[64], line[512] = "";
	json_t *o = NULL;

	inet_ntop(AF_INET, &f->addr, addr, sizeof(addr));
	inet_ntop(AF_INET, &f->target, target, sizeof(target));
	if (c->json)
		o = json_pack("{s:s,s:s,s:o,s:o,s:o}", "address", addr, "target", target, "port",
			      ref_json(c, *f->port_id ? f->port_id : NULL), "dnat",
			      ref_json(c, f->dnat ? f->dnat->id : NULL), "snat",
			      ref_json(c, f->snat ? f->snat->id : NULL));
	cli_line_add(line, sizeof(line), "floating-ip", addr);
	cli_line_add(line, sizeof(line), "target", target);
	if (*f->port_id)
		cli_line_add(line, sizeof(line), "port", cli_alias(c, f->port_id, a));
	cli_line_add(line, sizeof(line), "dnat", f->dnat ? cli_alias(c, f->dnat->id, a) : "none");
	cli_line_add(line, sizeof(line), "snat", f->snat ? cli_alias(c, f->snat->id, a) : "none");
	cli_emit(c, arr, o, line);
}

/* The floating IPs of router_id in the snapshot into f (up to FIP_MAX). */
static size_t fips_read(struct cli *c, const char *router_id, struct topo_floating_ip *f)
{
	size_t n = topo_floating_ips(&c->t, router_id, f, FIP_MAX);

	return n < FIP_MAX ? n : FIP_MAX;
}

static struct topo_floating_ip fips[FIP_MAX];

/* v: address, target, port. Prints the new floating IP as list does. */
int cli_fip_add(struct cli *c, const struct cli_call *k)
{
	const struct topo_port *p = k->v[2].obj;
	char rid[TOPO_ID_LEN], dnat[TOPO_ID_LEN], snat[TOPO_ID_LEN];
	size_t i, n;
	int rc;

	snprintf(rid, sizeof(rid), "%s", k->id);
	rc = topo_floating_ip_add(c->zh, rid, k->v[0].ip, k->v[1].ip, p->id, dnat, snat);
	if (rc)
		return cli_lib_fail(rc);
	rc = cli_refresh(c);
	if (rc)
		return rc;
	n = fips_read(c, rid, fips);
	for (i = 0; i < n; i++)
		if (fips[i].addr.s_addr == k->v[0].ip.s_addr)
			out_fip(c, NULL, &fips[i]);
	return 0;
}

int cli_fip_list(struct cli *c, const struct cli_call *k)
{
	json_t *arr = cli_list_begin(c);
	size_t n = fips_read(c, k->id, fips);

	for (size_t i = 0; i < n; i++)
		out_fip(c, arr, &fips[i]);
	cli_list_end(c, arr, 0);
	return 0;
}

/* "floating-ip F delete": F named it (fip_find checked it is an address). */
static int fip_delete(struct cli *c, const struct cli_call *k)
{
	char rid[TOPO_ID_LEN], dnat[64] = "none", snat[64] = "none", line[256];
	struct in_addr addr;
	size_t i, n;
	int rc;

	snprintf(rid, sizeof(rid), "%s", k->scope_id);
	topo_parse_ipv4(k->ref, &addr);
	n = fips_read(c, rid, fips);
	for (i = 0; i < n; i++)
		if (fips[i].addr.s_addr == addr.s_addr) {
			if (fips[i].dnat)
				cli_alias(c, fips[i].dnat->id, dnat);
			if (fips[i].snat)
				cli_alias(c, fips[i].snat->id, snat);
		}
	rc = topo_floating_ip_delete(c->zh, rid, addr);
	if (rc)
		return cli_lib_fail(rc);
	if (c->json) {
		cli_print_json(json_pack("{s:s,s:s,s:s,s:s}", "deleted", "floating-ip", "address",
					 k->ref, "dnat", dnat, "snat", snat));
		return 0;
	}
	snprintf(line, sizeof(line), "deleted floating-ip %s: rules %s, %s", k->ref, dnat, snat);
	printf("%s\n", line);
	return 0;
}

/* A floating IP is named by its address; whether the router has it is the write's question
 * (its error names the router). */
static int fip_find(struct cli *c, const char *router_id, const char *ref, const void **out)
{
	struct in_addr addr;

	(void)c;
	(void)router_id;
	*out = ref;
	return cli_ipv4_arg("floating-ip", ref, &addr);
}

const struct cli_arg cli_fip_args[] = {
	{ "address", CLI_T_IPV4, "F", .required = true, .what = "floating-ip address" },
	{ "target", CLI_T_IPV4, "A", .required = true, .what = "target address" },
	{ "port", CLI_T_REF, "P", .required = true, .ref = &cli_obj_device_port },
	{ 0 },
};

const struct cli_obj cli_obj_floating_ip = {
	.word = "floating-ip", .title = "address", .meta = "F", .find = fip_find,
	.cmds = (const struct cli_cmd[]){
		{ "delete", fip_delete, .help = "both rules of the floating IP (the chains stay)" },
		{ 0 } },
};
