/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MIDOX_CLI_PRINT_H
#define MIDOX_CLI_PRINT_H

#include "cli.h"

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

extern const struct cli_kind kind_zone, kind_member, kind_host, kind_binding, kind_bridge,
	kind_port, kind_router, kind_route, kind_arp, kind_bgp_peer, kind_bgp_network;

#endif
