/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MIDOX_CLI_PRINT_H
#define MIDOX_CLI_PRINT_H

#include "cli.h"

/* One object's line (or JSON object, appended to arr when listing): print.c. */
void out_member(struct cli *c, json_t *arr, const void *obj, bool show);
void out_binding(struct cli *c, json_t *arr, const void *obj, bool show);

extern const struct cli_kind kind_zone, kind_member, kind_host, kind_binding, kind_bridge,
	kind_port, kind_router, kind_route, kind_arp;

#endif
