// SPDX-License-Identifier: Apache-2.0
/* host list | H show | H add binding port P interface IF | H list binding
 * | H delete binding interface IF. Hosts themselves are made by their agents. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

static int host_list(struct cli *c, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "host list");

	for (i = 0; !rc && i < c->t.n_hosts; i++)
		out_host(c, arr, &c->t.hosts[i], false);
	cli_list_end(c, arr, rc);
	return rc;
}

static int binding_list(struct cli *c, const struct topo_host *h, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "list binding");

	for (i = 0; !rc && i < c->t.n_bindings; i++)
		if (!strcmp(c->t.bindings[i].host_id, h->id))
			out_binding(c, arr, &c->t.bindings[i]);
	cli_list_end(c, arr, rc);
	return rc;
}

static int binding_add(struct cli *c, const struct topo_host *h, char **w, int n)
{
	static const char *const keys[] = { "port", "interface", NULL };
	const struct topo_binding *b;
	const struct topo_port *p;
	char hid[TOPO_ID_LEN], ifname[TOPO_IFNAME_MAX];
	const char *v[2];
	int rc;

	rc = cli_pairs(w, n, keys, v, "add binding");
	if (rc)
		return rc;
	if (!v[0] || !v[1])
		return cli_fail(-EINVAL, "add binding needs port and interface");
	if (!topo_valid_ifname(v[1]))
		return cli_fail(-EINVAL, "bad interface name '%s': 1 to %d characters, no '/', "
				"':' or white space", v[1], TOPO_IFNAME_MAX - 1);
	rc = cli_port(c, v[0], &p);
	if (rc)
		return rc;
	strcpy(hid, h->id);
	strcpy(ifname, v[1]);
	rc = topo_binding_add(c->zh, hid, ifname, p->id);
	if (rc)
		return cli_lib_fail(rc);
	rc = cli_refresh(c);
	b = rc ? NULL : topo_find_binding(&c->t, hid, ifname);
	if (b)
		out_binding(c, NULL, b);
	return 0;
}

static int binding_delete(struct cli *c, const struct topo_host *h, char **w, int n)
{
	static const char *const keys[] = { "interface", NULL };
	const char *v[1];
	int rc;

	rc = cli_pairs(w, n, keys, v, "delete binding");
	if (rc)
		return rc;
	if (!v[0])
		return cli_fail(-EINVAL, "delete binding needs an interface");
	if (!topo_valid_ifname(v[0]))
		return cli_fail(-EINVAL, "bad interface name '%s'", v[0]);
	rc = topo_binding_delete(c->zh, h->id, v[0]);
	return rc ? cli_lib_fail(rc) : 0;
}

int cmd_host(struct cli *c, char **w, int n)
{
	const struct topo_host *h;
	int rc;

	if (n < 1)
		return cli_fail(-EINVAL, "host needs a command: list, or a host");
	if (!strcmp(w[0], "list"))
		return host_list(c, w + 1, n - 1);
	rc = cli_host(c, w[0], &h);
	if (rc)
		return rc;
	if (n < 2)
		return cli_fail(-EINVAL, "host %s needs a command: show, add binding, list binding, "
				"delete binding", w[0]);
	if (!strcmp(w[1], "show")) {
		rc = cli_no_more(w + 2, n - 2, "show");
		if (!rc)
			out_host(c, NULL, h, true);
		return rc;
	}
	if (n >= 3 && !strcmp(w[2], "binding")) {
		if (!strcmp(w[1], "add"))
			return binding_add(c, h, w + 3, n - 3);
		if (!strcmp(w[1], "list"))
			return binding_list(c, h, w + 3, n - 3);
		if (!strcmp(w[1], "delete"))
			return binding_delete(c, h, w + 3, n - 3);
	}
	return cli_fail(-EINVAL, "unknown command 'host %s %s': expected show, add binding, "
			"list binding, delete binding", w[0], w[1]);
}
