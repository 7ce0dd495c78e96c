// SPDX-License-Identifier: Apache-2.0
/* What can follow a port of a bridge or a router:
 *   show | delete | set [mac M] [address A] [state up|down] [port-security on|off]
 *                          [egress-rate R egress-burst B]
 *   clear mac | clear address | clear egress-limit
 *   add allowed-address A [mac M] | delete allowed-address A
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

const char *const cli_states[] = { "up", "down", NULL };
static const char *const on_off[] = { "on", "off", NULL };

/* set: v[0], v[1] as cli_port_args, then state, port-security, infilter, outfilter,
 * egress-rate, egress-burst. */
static const struct cli_arg port_set_args[] = {
	{ "mac", CLI_T_MAC, .meta = "M" },
	{ "address", CLI_T_IPV4, .meta = "A" },
	{ "state", CLI_T_KEYWORD, .what = "state", .choices = cli_states },
	{ "port-security", CLI_T_KEYWORD, .what = "port-security", .choices = on_off },
	{ "infilter", CLI_T_REF, "C", .ref = &cli_obj_chain },
	{ "outfilter", CLI_T_REF, "C", .ref = &cli_obj_chain },
	{ "egress-rate", CLI_T_WORD, .meta = "R" },
	{ "egress-burst", CLI_T_WORD, .meta = "B" },
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

/* "egress-rate R egress-burst B": both or neither (bits per second, bits). */
static int egress_limit_args(const struct cli_call *k, struct topo_port_opts *o)
{
	int rc;

	if (!k->v[6].s && !k->v[7].s)
		return 0;
	if (!k->v[6].s || !k->v[7].s)
		return cli_fail(-EINVAL, "egress-rate and egress-burst go together: egress-rate R "
				"egress-burst B (bits per second, bits)");
	rc = cli_bits_arg("egress-rate", k->v[6].s, &o->egress_rate);
	if (!rc)
		rc = cli_bits_arg("egress-burst", k->v[7].s, &o->egress_burst);
	o->has_egress_limit = !rc;
	return rc;
}

static int port_set(struct cli *c, const struct cli_call *k)
{
	const struct topo_port *p = k->obj;
	struct topo_port_opts o;
	int rc;

	cli_port_opts(k, &o);
	o.has_state = k->v[2].s != NULL;
	o.down = o.has_state && !strcmp(k->v[2].s, "down");
	o.has_port_security = k->v[3].s != NULL;
	o.port_security = o.has_port_security && !strcmp(k->v[3].s, "on");
	rc = egress_limit_args(k, &o);
	if (rc)
		return rc;
	if (k->v[4].s || k->v[5].s) {
		if (o.has_mac || o.has_addr || o.has_state || o.has_port_security ||
		    o.has_egress_limit)
			return cli_fail(-EINVAL, "set infilter or outfilter alone (one change, "
					"one write)");
		return cli_filters_set(c, p->id, &k->v[4], &k->v[5]);
	}
	if (!o.has_mac && !o.has_addr && !o.has_state && !o.has_port_security &&
	    !o.has_egress_limit)
		return cli_fail(-EINVAL, "port set needs mac, address, state, port-security, "
				"egress-rate, infilter, outfilter or peer");
	if (p->device_type != TOPO_DEVICE_BRIDGE && (o.has_mac || o.has_addr ||
						     o.has_port_security))
		return cli_fail(-EINVAL, "a router port's set takes state, egress-rate, "
				"infilter, outfilter or peer only");
	rc = topo_port_update(c->zh, p->id, &o);
	return rc ? cli_lib_fail(rc) : 0;
}

/* "clear mac", "clear address", "clear egress-limit": the row's last word says which. */
static int port_clear(struct cli *c, const struct cli_call *k)
{
	const struct topo_port *p = k->obj;
	struct topo_port_opts o = { 0 };
	int rc;

	if (!strcmp(k->cmd->words, "clear egress-limit")) {
		o.clear_egress_limit = true;
		rc = topo_port_update(c->zh, p->id, &o);
		return rc ? cli_lib_fail(rc) : 0;
	}
	if (p->device_type != TOPO_DEVICE_BRIDGE)
		return cli_fail(-EINVAL, "a router port's MAC and addresses cannot be cleared");
	o.clear_mac = !strcmp(k->cmd->words, "clear mac");
	o.clear_addr = !o.clear_mac;
	rc = topo_port_update(c->zh, p->id, &o);
	return rc ? cli_lib_fail(rc) : 0;
}

/* "add allowed-address A [mac M]", "delete allowed-address A". */
static int port_allowed(struct cli *c, const struct cli_call *k)
{
	bool add = !strncmp(k->cmd->words, "add", 3);
	uint8_t mac[6];
	struct in_addr addr;
	char pid[TOPO_ID_LEN];
	int rc;

	strcpy(pid, k->id);
	if (k->n_rest < 1)
		return cli_fail(-EINVAL, "%s needs an address", k->cmd->words);
	rc = cli_ipv4_arg("allowed-address", k->rest[0], &addr);
	if (rc)
		return rc;
	if (add && k->n_rest == 3 && !strcmp(k->rest[1], "mac")) {
		rc = cli_mac_arg(k->rest[2], mac);
		if (rc)
			return rc;
	} else if (k->n_rest != 1) {
		return cli_fail(-EINVAL, "unexpected '%s' after %s %s: expected %s",
				k->rest[1], k->cmd->words, k->rest[0],
				add ? "mac M or nothing" : "nothing");
	}
	if (add)
		rc = topo_port_allowed_add(c->zh, pid, addr, k->n_rest == 3 ? mac : NULL);
	else
		rc = topo_port_allowed_delete(c->zh, pid, addr);
	return rc ? cli_lib_fail(rc) : 0;
}

static const struct cli_cmd port_cmds[] = {
	{ "show", cli_cmd_show, "the port with its id, tunnel key, peer and binding",
	  .kind = &kind_port },
	{ "delete", cli_cmd_delete, "the port, its binding, link, routes and learned entries",
	  .op = topo_port_delete, .kind = &kind_port },
	{ "set", port_set, "a bridge port's fixed MAC, address and port security; any "
	  "port's state, egress rate limit, infilter and outfilter chains",
	  .args = port_set_args },
	{ "clear infilter", cli_filter_clear, .help = "the chain applied to what enters the port" },
	{ "clear outfilter", cli_filter_clear, .help = "the chain applied to what leaves the port" },
	{ "clear egress-limit", port_clear, .help = "the port's egress rate limit (no limit)" },
	{ "clear mac", port_clear, .help = "a bridge port's fixed MAC (no longer held to it)" },
	{ "clear address", port_clear,
	  .help = "a bridge port's fixed address (no longer held to it)" },
	{ "add allowed-address", port_allowed, "an address the port may also send as",
	  .raw = true, .usage = "A [mac M]" },
	{ "delete allowed-address", port_allowed, "an allowed address", .raw = true,
	  .usage = "A" },
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
