// SPDX-License-Identifier: Apache-2.0
/* One command of the CLI: its words dispatched to the object it names (tunnel-zone, host,
 * bridge, router, a port reference), after the topology snapshot is refreshed. Apart from
 * main() so that the fuzz target (tests/fuzz/fuzz_cli.c) links the whole CLI but its main. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_usage(FILE *f)
{
	fprintf(f,
		"usage: midox [--zk SERVERS] [--credentials FILE] [--json] [-e COMMAND]... |"
		" [WORDS...]\n"
		"  with no command: an interactive prompt (history in ~/.midox_history)\n"
		"  SERVERS: --zk, else $MIDOX_ZK_SERVERS, else " CLI_DEFAULT_SERVERS "\n"
		"  FILE: the cluster credential (one line user:password), needed to change the\n"
		"    topology when access control is on; --credentials, else $MIDOX_CREDENTIALS\n"
		"commands:\n"
		"  tunnel-zone create name Z [type vxlan] | tunnel-zone list\n"
		"  tunnel-zone Z show | delete | add member host H address A\n"
		"  tunnel-zone Z list member | delete member host H\n"
		"  host list | host H show | host H add binding port P interface IF\n"
		"  host H list binding | host H delete binding interface IF\n"
		"  bridge create name B | bridge list | bridge B show | delete\n"
		"  bridge B add port [mac M] [address A] | bridge B list port\n"
		"  bridge B port P show | delete | set [mac M] [address A]\n"
		"  router create name R | router list | router R show | delete\n"
		"  router R add port address A net N | addresses A/len[,A/len] [mac M]\n"
		"  router R list port | router R port P show | delete\n"
		"  router R add route [src S] dst D [type normal|blackhole|reject] [port P]\n"
		"      [gw G] [weight W] | router R list route | router R route X show | delete\n"
		"  router R add arp-entry address A mac M | router R list arp\n"
		"  router R arp-entry A delete\n"
		"  PORT set peer (router R port Q | bridge B port Q | REF) | PORT delete peer\n"
		"      where PORT is 'bridge B port P', 'router R port P' or a reference\n"
		"references: a UUID, a name, or an alias (host0, tzone0, bridge0, bridge0:port0,\n"
		"  router0, router0:port1, router0:route2)\n");
}

int cli_run(struct cli *c, struct words *wd)
{
	char **w = wd->w;
	int n = wd->n, rc;

	if (n == 0)
		return 0;
	if (!strcmp(w[0], "help")) {
		cli_usage(stdout);
		return 0;
	}
	if (strcmp(w[0], "tunnel-zone") && strcmp(w[0], "host") && strcmp(w[0], "bridge") &&
	    strcmp(w[0], "router") && !strchr(w[0], ':'))
		return cli_fail(-EINVAL, "unknown command '%s': expected tunnel-zone, host, "
				"bridge, router, a port such as bridge0:port1, help", w[0]);
	rc = cli_refresh(c);
	if (rc)
		return rc;
	if (!strcmp(w[0], "tunnel-zone"))
		rc = cmd_tunnel_zone(c, w + 1, n - 1);
	else if (!strcmp(w[0], "host"))
		rc = cmd_host(c, w + 1, n - 1);
	else if (!strcmp(w[0], "bridge"))
		rc = cmd_bridge(c, w + 1, n - 1);
	else if (!strcmp(w[0], "router"))
		rc = cmd_router(c, w + 1, n - 1);
	else
		rc = cmd_port_ref(c, w, n);
	fflush(stdout);
	return rc;
}
