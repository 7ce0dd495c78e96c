// SPDX-License-Identifier: Apache-2.0
/* One command of the CLI: "help", or its words dispatched through the grammar tables
 * (grammar.c) to the object they name. Apart from main() so that the fuzz target
 * (tests/fuzz/fuzz_cli.c) links the whole CLI but its main. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "midox/common.h"

/* The top-level object types, in the order help lists them. */
const struct cli_obj *const cli_objects[] = {
	&cli_obj_zone, &cli_obj_host, &cli_obj_bridge, &cli_obj_router, &cli_obj_chain,
	&cli_obj_port_group, &cli_obj_ip_group, &cli_obj_datapath,
	&cli_obj_monitor, &cli_obj_trace, &cli_obj_topology, NULL,
};

void cli_usage(FILE *f)
{
	fprintf(f,
		"usage: midox [--zk SERVERS] [--credentials FILE] [--json] [--force]\n"
		"             [--format dot|svg] [--pin-root DIR]\n"
		"             [-e COMMAND]... |"
		" [WORDS...]\n"
		"  options may also follow the words (midox bridge list --json); --version\n"
		"  with no command: an interactive prompt (a terminal's history in ~/.midox_history,\n"
		"    Tab completes)\n"
		"  SERVERS: --zk, else $MIDOX_ZK_SERVERS, else " CLI_DEFAULT_SERVERS "\n"
		"  --force: delete or unlink through an alias this session has not printed\n"
		"  --format: topology show's format when the command gives none (dot, svg)\n"
		"  DIR: the agent's pin root, for datapath, monitor and trace; --pin-root, else\n"
		"    $MIDOX_PIN_ROOT, else " MX_PIN_ROOT_DEFAULT "\n"
		"  FILE: the cluster credential (one line user:password), needed to change the\n"
		"    topology when access control is on; --credentials, else $MIDOX_CREDENTIALS\n"
		"commands (help OBJECT: one object's):\n");
	cli_help_commands(f, NULL);
	fprintf(f,
		"references: a UUID, a name, or an alias (host0, tzone0, bridge0, bridge0:port0,\n"
		"  router0, router0:port1, router0:route2)\n");
}

int cli_run(struct cli *c, struct words *wd)
{
	int rc;

	if (wd->n == 0)
		return 0;
	if (!strcmp(wd->w[0], "help"))
		return cli_help(stdout, wd->w + 1, wd->n - 1);
	c->unprinted[0] = '\0';
	rc = cli_dispatch(c, wd->w, wd->n);
	fflush(stdout);
	return rc;
}
