// SPDX-License-Identifier: Apache-2.0
/* What can follow a port of a bridge or a router:
 *   show | delete | set [mac M] [address A] (bridge ports)
 *   set peer (router R port Q | bridge B port Q | <alias or UUID>) | delete peer | clear peer
 * and the same with the port named first by its full alias: "bridge0:port1 set peer ...";
 * and the list of a device's ports. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

int cli_port_opts(char **w, int n, const char *ctx, struct topo_port_opts *o)
{
	static const char *const keys[] = { "mac", "address", NULL };
	const char *v[2];
	int rc;

	memset(o, 0, sizeof(*o));
	rc = cli_pairs(w, n, keys, v, ctx);
	if (rc)
		return rc;
	if (v[0]) {
		rc = cli_mac_arg(v[0], o->mac);
		if (rc)
			return rc;
		o->has_mac = true;
	}
	if (v[1]) {
		rc = cli_ipv4_arg("address", v[1], &o->addr);
		if (rc)
			return rc;
		o->has_addr = true;
	}
	return 0;
}

/* The other end of a link: "router R port Q", "bridge B port Q", or one full reference. */
static int peer_arg(struct cli *c, char **w, int n, const struct topo_port **out)
{
	const struct topo_bridge *b;
	const struct topo_router *r;
	int rc;

	if (n == 1)
		return cli_port(c, w[0], out);
	if (n == 4 && !strcmp(w[2], "port") && !strcmp(w[0], "router")) {
		rc = cli_router(c, w[1], &r);
		return rc ? rc : cli_device_port(c, r->id, w[3], out);
	}
	if (n == 4 && !strcmp(w[2], "port") && !strcmp(w[0], "bridge")) {
		rc = cli_bridge(c, w[1], &b);
		return rc ? rc : cli_device_port(c, b->id, w[3], out);
	}
	return cli_fail(-EINVAL, "set peer needs a port: router R port P, bridge B port P, or "
			"a reference such as router0:port0");
}

static int port_set(struct cli *c, const struct topo_port *p, char **w, int n)
{
	const struct topo_port *q;
	struct topo_port_opts o;
	char pid[TOPO_ID_LEN];
	int rc;

	if (n >= 1 && !strcmp(w[0], "peer")) {
		strcpy(pid, p->id);
		rc = peer_arg(c, w + 1, n - 1, &q);
		if (rc)
			return rc;
		rc = topo_port_link(c->zh, pid, q->id);
		return rc ? cli_lib_fail(rc) : 0;
	}
	if (p->device_type != TOPO_DEVICE_BRIDGE)
		return cli_fail(-EINVAL, "a router port's set takes peer only");
	rc = cli_port_opts(w, n, "port set", &o);
	if (rc)
		return rc;
	if (!o.has_mac && !o.has_addr)
		return cli_fail(-EINVAL, "port set needs mac, address or peer");
	rc = topo_port_update(c->zh, p->id, &o);
	return rc ? cli_lib_fail(rc) : 0;
}

int cmd_port(struct cli *c, const struct topo_port *p, char **w, int n)
{
	int rc;

	if (n < 1)
		return cli_fail(-EINVAL, "a port needs a command: show, delete, set, set peer, "
				"delete peer");
	if (!strcmp(w[0], "show")) {
		rc = cli_no_more(w + 1, n - 1, "show");
		if (!rc)
			out_port(c, NULL, p, true);
		return rc;
	}
	if ((!strcmp(w[0], "delete") || !strcmp(w[0], "clear")) && n >= 2 &&
	    !strcmp(w[1], "peer")) {
		return cli_apply_id(c, w + 2, n - 2, "delete peer", topo_port_unlink, p->id);
	}
	if (!strcmp(w[0], "delete"))
		return cli_apply_id(c, w + 1, n - 1, "delete", topo_port_delete, p->id);
	if (!strcmp(w[0], "set"))
		return port_set(c, p, w + 1, n - 1);
	return cli_fail(-EINVAL, "unknown command 'port %s': expected show, delete, set, set "
			"peer, delete peer", w[0]);
}

int cli_list_ports(struct cli *c, const char *device_id, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "list port");

	for (i = 0; !rc && i < c->t.n_ports; i++)
		if (!strcmp(c->t.ports[i].device_id, device_id))
			out_port(c, arr, &c->t.ports[i], false);
	cli_list_end(c, arr, rc);
	return rc;
}

int cmd_port_ref(struct cli *c, char **w, int n)
{
	const struct topo_port *p;
	int rc = cli_port(c, w[0], &p);

	return rc ? rc : cmd_port(c, p, w + 1, n - 1);
}
