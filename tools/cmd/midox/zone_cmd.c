// SPDX-License-Identifier: Apache-2.0
/* tunnel-zone create name Z type vxlan | list | Z show | Z delete
 * | Z add member host H address A | Z list member | Z delete member host H */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

static int zone_create(struct cli *c, char **w, int n)
{
	static const char *const keys[] = { "name", "type", NULL };
	const char *v[2];
	char id[TOPO_ID_LEN];
	int rc;

	rc = cli_pairs(w, n, keys, v, "tunnel-zone create");
	if (rc)
		return rc;
	if (!v[0])
		return cli_fail(-EINVAL, "tunnel-zone create needs a name");
	rc = cli_name_arg(v[0]);
	if (rc)
		return rc;
	if (v[1] && strcmp(v[1], "vxlan"))
		return cli_fail(-EINVAL, "bad tunnel zone type '%s': only vxlan", v[1]);
	rc = topo_zone_create(c->zh, v[0], "vxlan", id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

static int zone_list(struct cli *c, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "tunnel-zone list");

	for (i = 0; !rc && i < c->t.n_zones; i++)
		out_zone(c, arr, &c->t.zones[i], false);
	cli_list_end(c, arr, rc);
	return rc;
}

static int member_list(struct cli *c, const struct topo_zone *z, char **w, int n)
{
	json_t *arr = cli_list_begin(c);
	size_t i;
	int rc = cli_no_more(w, n, "list member");

	for (i = 0; !rc && i < c->t.n_members; i++)
		if (!strcmp(c->t.members[i].zone_id, z->id))
			out_member(c, arr, &c->t.members[i]);
	cli_list_end(c, arr, rc);
	return rc;
}

static int member_add(struct cli *c, const struct topo_zone *z, char **w, int n)
{
	static const char *const keys[] = { "host", "address", NULL };
	const struct topo_host *h;
	struct in_addr addr;
	const char *v[2];
	char zid[TOPO_ID_LEN], hid[TOPO_ID_LEN];
	size_t i;
	int rc;

	rc = cli_pairs(w, n, keys, v, "add member");
	if (rc)
		return rc;
	if (!v[0] || !v[1])
		return cli_fail(-EINVAL, "add member needs host and address");
	rc = cli_ipv4_arg("address", v[1], &addr);
	if (!rc)
		rc = cli_host(c, v[0], &h);
	if (rc)
		return rc;
	strcpy(zid, z->id);
	strcpy(hid, h->id);
	rc = topo_member_add(c->zh, zid, hid, addr);
	if (rc)
		return cli_lib_fail(rc);
	rc = cli_refresh(c);
	for (i = 0; !rc && i < c->t.n_members; i++)
		if (!strcmp(c->t.members[i].zone_id, zid) && !strcmp(c->t.members[i].host_id, hid))
			out_member(c, NULL, &c->t.members[i]);
	return 0;
}

static int member_delete(struct cli *c, const struct topo_zone *z, char **w, int n)
{
	static const char *const keys[] = { "host", NULL };
	const struct topo_host *h;
	const char *v[1];
	int rc;

	rc = cli_pairs(w, n, keys, v, "delete member");
	if (rc)
		return rc;
	if (!v[0])
		return cli_fail(-EINVAL, "delete member needs a host");
	rc = cli_host(c, v[0], &h);
	if (rc)
		return rc;
	rc = topo_member_delete(c->zh, z->id, h->id);
	return rc ? cli_lib_fail(rc) : 0;
}

int cmd_tunnel_zone(struct cli *c, char **w, int n)
{
	const struct topo_zone *z;
	int rc;

	if (n < 1)
		return cli_fail(-EINVAL, "tunnel-zone needs a command: create, list, or a zone");
	if (!strcmp(w[0], "create"))
		return zone_create(c, w + 1, n - 1);
	if (!strcmp(w[0], "list"))
		return zone_list(c, w + 1, n - 1);
	rc = cli_zone(c, w[0], &z);
	if (rc)
		return rc;
	if (n < 2)
		return cli_fail(-EINVAL, "tunnel-zone %s needs a command: show, delete, add member, "
				"list member, delete member", w[0]);
	if (!strcmp(w[1], "show")) {
		rc = cli_no_more(w + 2, n - 2, "show");
		if (!rc)
			out_zone(c, NULL, z, true);
		return rc;
	}
	if (!strcmp(w[1], "delete") && n == 2) {
		rc = topo_zone_delete(c->zh, z->id);
		return rc ? cli_lib_fail(rc) : 0;
	}
	if (n >= 3 && !strcmp(w[2], "member")) {
		if (!strcmp(w[1], "add"))
			return member_add(c, z, w + 3, n - 3);
		if (!strcmp(w[1], "list"))
			return member_list(c, z, w + 3, n - 3);
		if (!strcmp(w[1], "delete"))
			return member_delete(c, z, w + 3, n - 3);
	}
	return cli_fail(-EINVAL, "unknown command 'tunnel-zone %s %s': expected show, delete, "
			"add member, list member, delete member", w[0], w[1]);
}
