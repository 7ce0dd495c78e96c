// SPDX-License-Identifier: Apache-2.0
/* bridge create name B | list | B show | B delete | B add port [mac M] [address A]
 * | B list port | B port P show | B port P delete | B port P set mac M [address A] */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

static int bridge_create(struct cli *c, char **w, int n)
{
	static const char *const keys[] = { "name", NULL };
	char id[TOPO_ID_LEN];
	const char *v[1];
	int rc;

	rc = cli_pairs(w, n, keys, v, "bridge create");
	if (rc)
		return rc;
	if (!v[0])
		return cli_fail(-EINVAL, "bridge create needs a name");
	rc = cli_name_arg(v[0]);
	if (rc)
		return rc;
	rc = topo_bridge_create(c->zh, v[0], id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

static int bridge_list(struct cli *c, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "bridge list");

	for (i = 0; !rc && i < c->t.n_bridges; i++)
		out_bridge(c, arr, &c->t.bridges[i], false);
	cli_list_end(c, arr, rc);
	return rc;
}

static int port_list(struct cli *c, const struct topo_bridge *b, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "list port");

	for (i = 0; !rc && i < c->t.n_ports; i++)
		if (!strcmp(c->t.ports[i].device_id, b->id))
			out_port(c, arr, &c->t.ports[i], false);
	cli_list_end(c, arr, rc);
	return rc;
}

/* "mac M" and "address A", each optional, into o. */
static int port_opts(char **w, int n, const char *ctx, struct topo_port_opts *o)
{
	static const char *const keys[] = { "mac", "address", NULL };
	const char *v[2];
	int rc;

	memset(o, 0, sizeof(*o));
	rc = cli_pairs(w, n, keys, v, ctx);
	if (rc)
		return rc;
	if (v[0]) {
		if (topo_parse_mac(v[0], o->mac))
			return cli_fail(-EINVAL, "bad MAC '%s': expected aa:bb:cc:dd:ee:ff", v[0]);
		if (!topo_valid_unicast_mac(o->mac))
			return cli_fail(-EINVAL, "bad MAC '%s': a port's MAC must be unicast and "
					"not zero", v[0]);
		o->has_mac = true;
	}
	if (v[1]) {
		if (topo_parse_ipv4(v[1], &o->addr) || !topo_valid_unicast_ipv4(o->addr))
			return cli_fail(-EINVAL, "bad address '%s': not a unicast IPv4 address",
					v[1]);
		o->has_addr = true;
	}
	return 0;
}

static int port_add(struct cli *c, const struct topo_bridge *b, char **w, int n)
{
	struct topo_port_opts o;
	char id[TOPO_ID_LEN];
	int rc;

	rc = port_opts(w, n, "add port", &o);
	if (rc)
		return rc;
	rc = topo_port_create(c->zh, b->id, &o, id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

static int port_cmd(struct cli *c, const struct topo_bridge *b, char **w, int n)
{
	const struct topo_port *p;
	struct topo_port_opts o;
	int rc;

	if (n < 2)
		return cli_fail(-EINVAL, "bridge port needs a port and a command: show, delete, set");
	rc = cli_bridge_port(c, b, w[0], &p);
	if (rc)
		return rc;
	if (!strcmp(w[1], "show")) {
		rc = cli_no_more(w + 2, n - 2, "show");
		if (!rc)
			out_port(c, NULL, p, true);
		return rc;
	}
	if (!strcmp(w[1], "delete")) {
		rc = cli_no_more(w + 2, n - 2, "delete");
		if (rc)
			return rc;
		rc = topo_port_delete(c->zh, p->id);
		return rc ? cli_lib_fail(rc) : 0;
	}
	if (!strcmp(w[1], "set")) {
		rc = port_opts(w + 2, n - 2, "port set", &o);
		if (rc)
			return rc;
		if (!o.has_mac && !o.has_addr)
			return cli_fail(-EINVAL, "port set needs mac or address");
		rc = topo_port_update(c->zh, p->id, &o);
		return rc ? cli_lib_fail(rc) : 0;
	}
	return cli_fail(-EINVAL, "unknown command 'port %s %s': expected show, delete, set",
			w[0], w[1]);
}

int cmd_bridge(struct cli *c, char **w, int n)
{
	const struct topo_bridge *b;
	int rc;

	if (n < 1)
		return cli_fail(-EINVAL, "bridge needs a command: create, list, or a bridge");
	if (!strcmp(w[0], "create"))
		return bridge_create(c, w + 1, n - 1);
	if (!strcmp(w[0], "list"))
		return bridge_list(c, w + 1, n - 1);
	rc = cli_bridge(c, w[0], &b);
	if (rc)
		return rc;
	if (n < 2)
		return cli_fail(-EINVAL, "bridge %s needs a command: show, delete, add port, "
				"list port, port", w[0]);
	if (!strcmp(w[1], "show")) {
		rc = cli_no_more(w + 2, n - 2, "show");
		if (!rc)
			out_bridge(c, NULL, b, true);
		return rc;
	}
	if (!strcmp(w[1], "delete")) {
		rc = cli_no_more(w + 2, n - 2, "delete");
		if (rc)
			return rc;
		rc = topo_bridge_delete(c->zh, b->id);
		return rc ? cli_lib_fail(rc) : 0;
	}
	if (!strcmp(w[1], "port"))
		return port_cmd(c, b, w + 2, n - 2);
	if (n >= 3 && !strcmp(w[2], "port")) {
		if (!strcmp(w[1], "add"))
			return port_add(c, b, w + 3, n - 3);
		if (!strcmp(w[1], "list"))
			return port_list(c, b, w + 3, n - 3);
	}
	return cli_fail(-EINVAL, "unknown command 'bridge %s %s': expected show, delete, "
			"add port, list port, port", w[0], w[1]);
}
