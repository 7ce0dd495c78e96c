// SPDX-License-Identifier: Apache-2.0
/* bridge create name B | list | B show | B delete
 * | B add port [mac M] [address A] [host H interface IF] | B list port | B list mac-table | B port P ... (port_cmd.c) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "status_cmd.h"

/* v[0], v[1] as cli_port_args; then the binding made with the port, in the same multi-op. */
static const struct cli_arg port_add_args[] = {
	{ "mac", CLI_T_MAC, .meta = "M" },
	{ "address", CLI_T_IPV4, .meta = "A" },
	{ "host", CLI_T_REF, "H", .ref = &cli_obj_host },
	{ "interface", CLI_T_IFNAME, "IF", .needs = "an interface" },
	{ 0 },
};

/* Prints the port's alias only (scripts take it as "add port" prints it), bound or not. */
static int port_add(struct cli *c, const struct cli_call *k)
{
	const struct topo_host *h = k->v[2].obj;
	char id[TOPO_ID_LEN], hid[TOPO_ID_LEN], ifname[TOPO_IFNAME_MAX];
	struct topo_status_ask *ask;
	struct topo_port_opts o;
	int rc;

	if (!k->v[2].s != !k->v[3].s)
		return cli_fail(-EINVAL, "host and interface go together: add port ... host H "
				"interface IF binds the new port at once");
	cli_port_opts(k, &o);
	if (!h) {
		rc = topo_port_create(c->zh, k->id, &o, id);
		if (rc)
			return cli_lib_fail(rc);
		cli_print_created(c, id);
		return 0;
	}
	/* The snapshot these point into is replaced by the refresh of cli_print_created. */
	strcpy(hid, h->id);
	strcpy(ifname, k->v[3].s);
	ask = cli_iface_ask(c, h, ifname);
	rc = topo_port_create_bound(c->zh, k->id, &o, hid, ifname, id);
	if (rc) {
		rc = cli_lib_fail(rc);
		topo_host_status_ask_free(ask);
		return rc;
	}
	cli_print_created(c, id);
	cli_warn_iface_missing(c, hid, ifname, ask);
	return 0;
}

/* "set state up|down" (a down bridge forwards nothing), or its filters. */
static int bridge_set(struct cli *c, const struct cli_call *k)
{
	int rc;

	if (k->v[0].s && (k->v[1].s || k->v[2].s))
		return cli_fail(-EINVAL, "set state, or infilter and outfilter, not both (one "
				"change, one write)");
	if (k->v[1].s || k->v[2].s)
		return cli_filters_set(c, k->id, &k->v[1], &k->v[2]);
	if (!k->v[0].s)
		return cli_fail(-EINVAL, "set needs state, infilter or outfilter");
	rc = topo_bridge_set_state(c->zh, k->id, !strcmp(k->v[0].s, "down"));
	return rc ? cli_lib_fail(rc) : 0;
}

static const struct cli_cmd bridge_type_cmds[] = {
	{ "create", cli_cmd_create, "a bridge (-> bridge0)", .create = topo_bridge_create,
	  .args = (const struct cli_arg[]){
		  { "name", CLI_T_NAME, "B", .required = true, .needs = "a name" }, { 0 } } },
	{ "list", cli_cmd_list, "every bridge", .kind = &kind_bridge },
	{ 0 },
};

static const struct cli_cmd bridge_cmds[] = {
	{ "show", cli_cmd_show, "the bridge with its id and tunnel key", .kind = &kind_bridge },
	{ "delete", cli_cmd_delete, "the bridge, its ports, their bindings, its learned MACs",
	  .op = topo_bridge_delete, .kind = &kind_bridge },
	{ "add port", port_add, "a port (-> bridge0:port0), bound to interface IF of host H "
	  "in the same write when both are given", .args = port_add_args,
	  .usage = "[mac M] [address A] [host H interface IF]" },
	{ "set", bridge_set, "its state (a down bridge forwards nothing), its infilter and "
	  "outfilter chains",
	  .args = (const struct cli_arg[]){
		  { "state", CLI_T_KEYWORD, "up|down", .choices = cli_states },
		  { "infilter", CLI_T_REF, "C", .ref = &cli_obj_chain },
		  { "outfilter", CLI_T_REF, "C", .ref = &cli_obj_chain },
		  { 0 } } },
	{ "clear infilter", cli_filter_clear, .help = "the chain applied to what enters the bridge" },
	{ "clear outfilter", cli_filter_clear, .help = "the chain applied to what leaves the bridge" },
	{ "list port", cli_cmd_list, "the bridge's ports", .kind = &kind_port },
	{ "list mac-table", cli_list_mac_table, "every MAC: static (a port's) or learned (where)",
	  .args = NULL },
	{ 0 },
};

const struct cli_obj cli_obj_bridge = {
	.word = "bridge", .title = "bridge", .meta = "B", .find = cli_find_bridge,
	.type_cmds = bridge_type_cmds, .cmds = bridge_cmds,
	.subs = (const struct cli_obj *const[]){ &cli_obj_device_port, NULL },
	.kind = &kind_bridge,
};
