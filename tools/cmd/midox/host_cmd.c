// SPDX-License-Identifier: Apache-2.0
/* host list | H show | H delete | H add binding port P interface IF | H list binding
 * | H delete binding interface IF | H list interface. Hosts themselves are made by their
 * agents; a dead one may be deleted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "topology/status.h"
#include "print.h"
#include "status_cmd.h"

/* Prints the new binding as "list binding" does. */
static int binding_add(struct cli *c, const struct cli_call *k)
{
	const struct topo_port *p = k->v[0].obj;
	const struct topo_binding *b;
	char hid[TOPO_ID_LEN], ifname[TOPO_IFNAME_MAX];
	struct topo_status_ask *ask;
	int rc;

	/* The snapshot these point into is replaced by the refresh below. */
	strcpy(hid, k->id);
	strcpy(ifname, k->v[1].s);
	ask = cli_iface_ask(c, k->obj, ifname);
	rc = topo_binding_add(c->zh, hid, ifname, p->id);
	if (rc) {
		rc = cli_lib_fail(rc);
		topo_host_status_ask_free(ask);
		return rc;
	}
	rc = cli_refresh(c);
	b = rc ? NULL : topo_find_binding(&c->t, hid, ifname);
	if (b)
		cli_print_new_binding(c, b, ask);
	else
		topo_host_status_ask_free(ask);
	return 0;
}

static int binding_delete(struct cli *c, const struct cli_call *k)
{
	int rc = topo_binding_delete(c->zh, k->id, k->v[0].s);

	return rc ? cli_lib_fail(rc) : 0;
}

static const struct cli_cmd host_type_cmds[] = {
	{ "list", cli_cmd_list, "every host an agent registered, and whether alive",
	  .kind = &kind_host },
	{ 0 },
};

static const struct cli_cmd host_cmds[] = {
	{ "show", cli_cmd_show, "the host with its id and tunnel addresses", .kind = &kind_host },
	{ "delete", cli_cmd_apply, "a dead host, its bindings and tunnel zone memberships",
	  .op = topo_host_delete },
	{ "add binding", binding_add, "bind a port to an interface of the host",
	  .args = (const struct cli_arg[]){
		  { "port", CLI_T_REF, "P", .required = true, .ref = &cli_port_ref },
		  { "interface", CLI_T_IFNAME, "IF", .required = true },
		  { 0 } } },
	{ "list binding", cli_list_binding_state, "the host's bindings, active or why not",
	  .kind = &kind_binding },
	{ "delete binding", binding_delete, "unbind the port bound to an interface",
	  .args = (const struct cli_arg[]){
		  { "interface", CLI_T_IFNAME, "IF", .required = true, .needs = "an interface" },
		  { 0 } } },
	{ "list interface", cli_list_iface, "the host's interfaces as its agent reports them",
	  .args = NULL },
	{ 0 },
};

const struct cli_obj cli_obj_host = {
	.word = "host", .title = "host", .meta = "H", .find = cli_find_host,
	.type_cmds = host_type_cmds, .cmds = host_cmds, .kind = &kind_host,
};
