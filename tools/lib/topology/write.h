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
/* Every host whose bindings x makes or deletes gets its index rewritten in x, after them
 * (binding_index.c): topo_apply calls it on every plan. */
int plan_binding_index(const struct topology *t, struct topo_txn *x);
int plan_delete_tree(zhandle_t *zh, struct topo_txn *x, int version, const char *path);
int plan_delete_if_present(zhandle_t *zh, struct topo_txn *x, const char *path);
/* Remove a port: its binding (both sides), its link (the peer's end cleared), the port.
 * Unless with_device (its device goes in the same multi, with all that hangs on it): a
 * bridge port's learned MACs, a router port's routes and learned ARP entries. */
int plan_port_removal(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
		      const struct topo_port *p, bool with_device);
/* A port going (chains.c): -EBUSY while a rule names it (in-ports, out-ports); else its
 * port group memberships deleted. */
int plan_port_chain_refs(const struct topology *t, struct topo_txn *x, const struct topo_port *p);
/* Delete a learned MAC or ARP entry of the snapshot (under its agent's host). */
void plan_learned_mac_delete(struct topo_txn *x, const struct topo_mac *m);
void plan_learned_arp_delete(struct topo_txn *x, const struct topo_arp *e);
/* Rewrite one port: change edits a copy of it (and may add operations to x, or fail with a
 * negative errno); the copy is written back at the port's version. -ENOENT for no port. */
typedef int (*port_change_fn)(const struct topology *t, struct topo_txn *x, struct topo_port *p,
			      const void *arg);
int plan_port_change(const struct topology *t, struct topo_txn *x, const char *port_id,
		     port_change_fn change, const void *arg);
/* A name a new object may take (-EINVAL otherwise). */
int check_name(const char *name);
/* A new object among arr (objects that start with their id, their name at name_off): its
 * name unique among them (-EEXIST naming "<prefix>N", the holder), and a new id. */
int plan_named(const void *arr, size_t n, size_t size, size_t name_off, const char *type,
	       const char *prefix, const char *name, char id[TOPO_ID_LEN]);
/* A bridge port's address (if has_addr) held by no other port of the bridge (self: the
 * port being changed, "" when new) nor by a router port linked to it; linking bridge port
 * b and router port r (either order): none of r's addresses a fixed one on b's bridge.
 * -EEXIST naming the holder. port_addr.c */
int check_addr_free(const struct topology *t, const char *bridge_id, const char *self,
		    bool has_addr, struct in_addr addr);
int check_link_addrs(const struct topology *t, const struct topo_port *b,
		     const struct topo_port *r);
/* The alias of an object for a message, or its id. */
const char *alias_of(const struct topology *t, const char *id, char buf[64]);

#endif
