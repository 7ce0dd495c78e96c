// SPDX-License-Identifier: Apache-2.0
/* bridge create name B | list | B show | B delete | B add port [mac M] [address A]
 * | B list port | B port P ... (port_cmd.c) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

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

static int port_add(struct cli *c, const struct topo_bridge *b, char **w, int n)
{
	struct topo_port_opts o;
	char id[TOPO_ID_LEN];
	int rc;

	rc = cli_port_opts(w, n, "add port", &o);
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
	int rc;

	if (n < 2)
		return cli_fail(-EINVAL, "bridge port needs a port and a command: show, delete, set");
	rc = cli_device_port(c, b->id, w[0], &p);
	return rc ? rc : cmd_port(c, p, w + 1, n - 1);
}

int cmd_bridge(struct cli *c, char **w, int n)
{
	const struct topo_bridge *b;
	int rc;

	if (n < 1)
		return cli_fail(-EINVAL, "bridge needs a command: create, list, or a bridge");
	if (!strcmp(w[0], "create"))
		return cli_create_named(c, w + 1, n - 1, "bridge create", topo_bridge_create);
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
	if (!strcmp(w[1], "delete"))
		return cli_apply_id(c, w + 2, n - 2, "delete", topo_bridge_delete, b->id);
	if (!strcmp(w[1], "port"))
		return port_cmd(c, b, w + 2, n - 2);
	if (n >= 3 && !strcmp(w[2], "port")) {
		if (!strcmp(w[1], "add"))
			return port_add(c, b, w + 3, n - 3);
		if (!strcmp(w[1], "list"))
			return cli_list_ports(c, b->id, w + 3, n - 3);
	}
	return cli_fail(-EINVAL, "unknown command 'bridge %s %s': expected show, delete, "
			"add port, list port, port", w[0], w[1]);
}
