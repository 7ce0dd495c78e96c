/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MIDOX_CLI_PRINT_H
#define MIDOX_CLI_PRINT_H

#include "cli.h"

/* The line, or obj as JSON: appended to arr when listing, else printed (obj is taken). */
void cli_emit(struct cli *c, json_t *arr, json_t *obj, const char *line);
/* Append "key value" to line (a space before it unless line is empty). */
void cli_line_add(char *line, size_t len, const char *key, const char *val);
/* One object's line (or JSON object, appended to arr when listing): print.c. */
void out_member(struct cli *c, json_t *arr, const void *obj, bool show);
void out_binding(struct cli *c, json_t *arr, const void *obj, bool show);
/* With what the host's agent reports: "state active", "state inactive: interface missing". */
struct cli_state {
	const char *state;
	const char *reason;	/* NULL: none */
};
void out_member_state(struct cli *c, json_t *arr, const struct topo_member *m,
		      const struct cli_state *st);
void out_binding_state(struct cli *c, json_t *arr, const struct topo_binding *b,
		       const struct cli_state *st);

/* " infilter chain0 outfilter chain1" (JSON "infilter", "outfilter": {"id", "alias"}) for
 * the filters set: chain_print.c. */
void cli_out_filters(struct cli *c, char *line, size_t len, json_t *o,
		     const struct topo_filters *f);
/* Rule chains, their rules, port groups and their members, IP address groups and their
 * addresses: chain_print.c. */
extern const struct cli_kind kind_chain, kind_rule, kind_port_group, kind_pg_member,
	kind_ip_group, kind_ip_group_addr;

extern const struct cli_kind kind_zone, kind_member, kind_host, kind_binding, kind_bridge,
	kind_port, kind_router, kind_route, kind_arp, kind_bgp_peer, kind_bgp_network;

#endif
