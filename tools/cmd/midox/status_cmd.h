/* SPDX-License-Identifier: Apache-2.0 */
/* What agents report (topology/status.h) in the CLI's listings: status_cmd.c. */
#ifndef MIDOX_CLI_STATUS_CMD_H
#define MIDOX_CLI_STATUS_CMD_H

#include "cli.h"
#include "topology/status.h"

/* host H list binding | host H list interface | tunnel-zone Z list member
 * | bridge B list mac-table */
int cli_list_binding_state(struct cli *c, const struct cli_call *k);
int cli_list_iface(struct cli *c, const struct cli_call *k);
int cli_list_member_state(struct cli *c, const struct cli_call *k);
int cli_list_mac_table(struct cli *c, const struct cli_call *k);
/* A member or binding just added, with its state; a warning on stderr when the host's
 * agent reports its interfaces and the address (interface) is not among them. */
void cli_print_new_member(struct cli *c, const struct topo_member *m);
/* The interface's node asked for before the write that binds it (NULL: nothing asked, the
 * host's agent is not running), so that the two round trips overlap; taken (freed) by
 * cli_print_new_binding or cli_warn_iface_missing, which read it themselves without. */
struct topo_status_ask *cli_iface_ask(struct cli *c, const struct topo_host *h,
				      const char *ifname);
void cli_print_new_binding(struct cli *c, const struct topo_binding *b,
			   struct topo_status_ask *ask);
/* The warning "add binding" gives when host_id reports its interfaces and ifname is not
 * among them (one read of that interface's node; nothing for a dead host). */
void cli_warn_iface_missing(struct cli *c, const char *host_id, const char *ifname,
			    struct topo_status_ask *ask);

#endif
