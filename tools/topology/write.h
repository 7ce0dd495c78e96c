/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the topology library: the frame the write operations share. */
#ifndef MIDOX_TOPO_WRITE_H
#define MIDOX_TOPO_WRITE_H

#include "topo_impl.h"

/* Validate against t and add the operations to x; negative errno (message set) to stop. */
typedef int (*topo_plan_fn)(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg);
int topo_apply(zhandle_t *zh, topo_plan_fn plan, void *arg);
int plan_tunnel_key(const struct topology *t, struct topo_txn *x, uint32_t *key);
int plan_delete_tree(zhandle_t *zh, struct topo_txn *x, int version, const char *path);
int plan_delete_if_present(zhandle_t *zh, struct topo_txn *x, const char *path);
/* Remove a port: its binding (both sides), with_macs its learned MACs, the port itself. */
int plan_port_removal(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
		      const struct topo_port *p, bool with_macs);
/* The alias of an object for a message, or its id. */
const char *alias_of(const struct topology *t, const char *id, char buf[64]);

#endif
