// SPDX-License-Identifier: Apache-2.0
/* tunnel-zone create name Z [type vxlan] | list | Z show | Z delete
 * | Z add member host H address A | Z list member | Z delete member host H */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "status_cmd.h"

static int zone_create(struct cli *c, const struct cli_call *k)
{
	char id[TOPO_ID_LEN];
	int rc = topo_zone_create(c->zh, k->v[0].s, "vxlan", id);

	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}

/* Prints the new member as "list member" does. */
static int member_add(struct cli *c, const struct cli_call *k)
{
	const struct topo_host *h = k->v[0].obj;
	char zid[TOPO_ID_LEN], hid[TOPO_ID_LEN];
	size_t i;
	int rc;

	/* The snapshot these point into is replaced by the refresh below. */
	strcpy(zid, k->id);
	strcpy(hid, h->id);
	rc = topo_member_add(c->zh, zid, hid, k->v[1].ip);
	if (rc)
		return cli_lib_fail(rc);
	rc = cli_refresh(c);
	for (i = 0; !rc && i < c->t.n_members; i++)
		if (!strcmp(c->t.members[i].zone_id, zid) && !strcmp(c->t.members[i].host_id, hid))
			cli_print_new_member(c, &c->t.members[i]);
	return 0;
}

static int member_delete(struct cli *c, const struct cli_call *k)
{
	const struct topo_host *h = k->v[0].obj;
	int rc = topo_member_delete(c->zh, k->id, h->id);

	return rc ? cli_lib_fail(rc) : 0;
}

static const char *const zone_types[] = { "vxlan", NULL };

static const struct cli_cmd zone_type_cmds[] = {
	{ "create", zone_create, "a tunnel zone (-> tzone0)",
	  .args = (const struct cli_arg[]){
		  { "name", CLI_T_NAME, "Z", .required = true, .needs = "a name" },
		  { "type", CLI_T_KEYWORD, .what = "tunnel zone type", .choices = zone_types },
		  { 0 } } },
	{ "list", cli_cmd_list, "every tunnel zone", .kind = &kind_zone },
	{ 0 },
};

static const struct cli_cmd zone_cmds[] = {
	{ "show", cli_cmd_show, "the zone with its id", .kind = &kind_zone },
	{ "delete", cli_cmd_delete, "the zone and its members", .op = topo_zone_delete,
	  .kind = &kind_zone },
	{ "add member", member_add, "a host's tunnel address in the zone",
	  .args = (const struct cli_arg[]){
		  { "host", CLI_T_REF, "H", .required = true, .ref = &cli_obj_host },
		  { "address", CLI_T_IPV4, "A", .required = true },
		  { 0 } } },
	{ "list member", cli_list_member_state, "the zone's members, their addresses on the host or not",
	  .kind = &kind_member },
	{ "delete member", member_delete, "a host from the zone",
	  .args = (const struct cli_arg[]){
		  { "host", CLI_T_REF, "H", .required = true, .needs = "a host",
		    .ref = &cli_obj_host },
		  { 0 } } },
	{ 0 },
};

const struct cli_obj cli_obj_zone = {
	.word = "tunnel-zone", .title = "tunnel zone", .meta = "Z", .find = cli_find_zone,
	.type_cmds = zone_type_cmds, .cmds = zone_cmds, .kind = &kind_zone,
};
