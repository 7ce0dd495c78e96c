/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MIDOX_CLI_PRINT_H
#define MIDOX_CLI_PRINT_H

#include "cli.h"

void out_zone(struct cli *c, json_t *arr, const struct topo_zone *z, bool show);
void out_member(struct cli *c, json_t *arr, const struct topo_member *m);
void out_host(struct cli *c, json_t *arr, const struct topo_host *h, bool show);
void out_binding(struct cli *c, json_t *arr, const struct topo_binding *b);
void out_bridge(struct cli *c, json_t *arr, const struct topo_bridge *b, bool show);
void out_port(struct cli *c, json_t *arr, const struct topo_port *p, bool show);
void out_router(struct cli *c, json_t *arr, const struct topo_router *r, bool show);
void out_route(struct cli *c, json_t *arr, const struct topo_route *r, bool show);
void out_arp(struct cli *c, json_t *arr, const struct topo_arp *e);

#endif
