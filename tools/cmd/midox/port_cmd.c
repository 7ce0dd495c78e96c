// SPDX-License-Identifier: Apache-2.0
/* What can follow a port of a bridge or a router:
 *   show | delete | set [mac M] [address A] (bridge ports)
 *   set peer (router R port Q | bridge B port Q | <alias or UUID>) | delete peer | clear peer
 * the same with the port named first by its full alias: "bridge0:port1 set peer ...". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

const struct cli_arg cli_port_args[] = {
	{ "mac", CLI_T_MAC, .meta = "M" },
	{ "address", CLI_T_IPV4, .meta = "A" },
	{ 0 },
};

void cli_port_opts(const struct cli_call *k, struct topo_port_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->has_mac = k->v[0].s != NULL;
	memcpy(o->mac, k->v[0].mac, sizeof(o->mac));
	o->has_addr = k->v[1].s != NULL;
	o->addr = k->v[1].ip;
}

/* The other end of a link: "router R port Q", "bridge B port Q", or one full reference. */
static int peer_arg(struct cli *c, char **w, int n, const void **out)
{
	const struct cli_obj *dev = NULL;
	const void *d;
	int rc;

	if (n == 1)
		return cli_find_port(c, NULL, w[0], out);
	if (n == 4 && !strcmp(w[2], "port") && !strcmp(w[0], "router"))
		dev = &cli_obj_router;
	if (n == 4 && !strcmp(w[2], "port") && !strcmp(w[0], "bridge"))
		dev = &cli_obj_bridge;
	if (!dev)
		return cli_fail(-EINVAL, "set peer needs a port: router R port P, bridge B port P, "
				"or a reference such as router0:port0");
	rc = dev->find(c, NULL, w[1], &d);
	return rc ? rc : cli_find_device_port(c, cli_kind_str(d, dev->kind->id_off), w[3], out);
}

static int port_link(struct cli *c, const struct cli_call *k)
{
	const struct topo_port *q;
	char pid[TOPO_ID_LEN];
	int rc;

	strcpy(pid, k->id);
	rc = peer_arg(c, k->rest, k->n_rest, (const void **)&q);
	if (rc)
		return rc;
	rc = topo_port_link(c->zh, pid, q->id);
	return rc ? cli_lib_fail(rc) : 0;
}

static int port_set(struct cli *c, const struct cli_call *k)
{
	const struct topo_port *p = k->obj;
	struct topo_port_opts o;
	int rc;

	if (p->device_type != TOPO_DEVICE_BRIDGE)
		return cli_fail(-EINVAL, "a router port's set takes peer only");
	cli_port_opts(k, &o);
	if (!o.has_mac && !o.has_addr)
		return cli_fail(-EINVAL, "port set needs mac, address or peer");
	rc = topo_port_update(c->zh, p->id, &o);
	return rc ? cli_lib_fail(rc) : 0;
}

static const struct cli_cmd port_cmds[] = {
	{ "show", cli_cmd_show, "the port with its id, tunnel key, peer and binding",
	  .kind = &kind_port },
	{ "delete", cli_cmd_delete, "the port, its binding, link, routes and learned entries",
	  .op = topo_port_delete, .kind = &kind_port },
	{ "set", port_set, "a bridge port's fixed MAC and address", .args = cli_port_args },
	{ "set peer", port_link, "link two ports as interior peers", .raw = true,
	  .usage = "(router R port Q | bridge B port Q | REF)" },
	{ "delete peer", cli_cmd_apply, "unlink (both ends)", .op = topo_port_unlink },
	{ "clear peer", cli_cmd_apply, "the same as delete peer", .op = topo_port_unlink },
	{ 0 },
};

/* "bridge B port P ...", "router R port P ...": a port of that device. */
const struct cli_obj cli_obj_device_port = {
	.word = "port", .title = "port", .meta = "P", .find = cli_find_device_port,
	.cmds = port_cmds, .kind = &kind_port, .scoped = true,
};

/* A port named by its full reference, first on the line or as an argument. */
const struct cli_obj cli_port_ref = {
	.word = "port", .title = "port", .meta = "PORT", .find = cli_find_port,
	.cmds = port_cmds, .kind = &kind_port,
};
