/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the topology library: the ZooKeeper paths, the multi-op builder, errors. */
#ifndef MIDOX_TOPO_IMPL_H
#define MIDOX_TOPO_IMPL_H

#include <stdarg.h>

#include "codec.h"
#include "topology.h"

/* Every path of the layout, as printf formats (docs/zookeeper.md describes each). */
#define P_ROOT TOPO_ROOT
#define P_KEY P_ROOT "/tunnel_key"
#define P_HOSTS P_ROOT "/hosts"
#define P_HOST P_HOSTS "/%s"
#define P_ALIVE P_HOST "/alive"
#define P_BINDINGS P_HOST "/bindings"
#define P_BINDING P_BINDINGS "/%s"
/* What an agent learned, under its own host (its identity alone may change it). */
#define P_HOST_MACS P_HOST "/macs"
#define P_MAC P_HOST_MACS "/%s,%s" /* "<aa:bb:cc:dd:ee:ff>,<port id>" */
#define P_HOST_ARPS P_HOST "/arp"
#define P_ARP P_HOST_ARPS "/%s,%s,%s" /* "<a.b.c.d>,<aa:bb:cc:dd:ee:ff>,<router id>" */
#define P_ZONES P_ROOT "/tunnel_zones"
#define P_ZONE P_ZONES "/%s"
#define P_MEMBERS P_ZONE "/members"
#define P_MEMBER P_MEMBERS "/%s"
#define P_BRIDGES P_ROOT "/bridges"
#define P_BRIDGE P_BRIDGES "/%s"
/* Where learned MACs and ARP entries were before access control: only deleted now. */
#define P_MACS P_BRIDGE "/macs"
#define P_PORTS P_ROOT "/ports"
#define P_PORT P_PORTS "/%s"
#define P_PORT_BINDING P_PORT "/binding"
#define P_ROUTERS P_ROOT "/routers"
#define P_ROUTER P_ROUTERS "/%s"
#define P_ROUTES P_ROUTER "/routes"
#define P_ROUTE P_ROUTES "/%s"
#define P_ARPS_STATIC P_ROUTER "/arp_static"
#define P_ARP_STATIC P_ARPS_STATIC "/%s" /* "<a.b.c.d>" */
#define P_ARPS P_ROUTER "/arp"

#define TOPO_PATH_MAX 256
#define TOPO_DATA_MAX 4096
#define TOPO_MAC_NODE_LEN (17 + 1 + 36)

/* The mirror of a handle (mirror.c), for the reader and the multi-op builder. A read
 * brackets its use with begin (NULL: the handle has no mirror) and end (complete: forget
 * what the read did not use). end returns true when a watched node changed while the read
 * ran: what it served and what it asked may then be from either side of that change, and
 * the read is to be made again. The lookups return false / NULL when ZooKeeper must be
 * asked; the keep functions store its answer. */
struct topo_mirror;
struct topo_mirror *mirror_begin(zhandle_t *zh);
bool mirror_end(struct topo_mirror *m, bool complete);
watcher_fn mirror_watch_fn(void);
bool mirror_data(struct topo_mirror *m, const char *path, const char **value, int *len,
		 struct Stat *st);
int mirror_keep_data(struct topo_mirror *m, const char *path, const char *value, int len,
		     const struct Stat *st);
const struct String_vector *mirror_list(struct topo_mirror *m, const char *path,
					int32_t *version);
/* Takes kids over (left empty) on success. */
const struct String_vector *mirror_keep_list(struct topo_mirror *m, const char *path,
					     struct String_vector *kids, int32_t version);
bool mirror_exists(struct topo_mirror *m, const char *path, bool *exists);
int mirror_keep_exists(struct topo_mirror *m, const char *path, bool exists);
/* topo_read for a write: a snapshot no change tore, whatever it costs (see read.c). */
int topo_read_consistent(zhandle_t *zh, struct topology *t);
/* A write on zh touched path (its data, or its parent's listing): both read again. */
void mirror_touched(zhandle_t *zh, const char *path);

/* Build the snapshot's lookups by id and tunnel key afresh (lookup.c), without ordinals. */
int topo_index_build(struct topology *t);

/* Errors: set the thread's message and return err (negative errno). */
int topo_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int topo_zerr(int zrc);		/* ZooKeeper error code to negative errno */
const char *topo_zerr_text(int zrc);

/* The fixed JSON of containers and the root. */
extern const char topo_container_json[];

/* A multi-op under construction. Paths and data are owned by it. */
struct topo_txn {
	zoo_op_t *ops;
	zoo_op_result_t *results;
	char **owned;
	struct Stat *stats;
	size_t n, cap, n_owned, cap_owned;
	int err;	/* allocation failure while building: reported by commit */
	size_t failed;	/* after commit: the op that failed */
};

void txn_init(struct topo_txn *x);
void txn_free(struct topo_txn *x);
/* data is taken over (freed by the txn); NULL data means the container JSON. */
void txn_create(struct topo_txn *x, int flags, char *data, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void txn_set(struct topo_txn *x, int version, char *data, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void txn_delete(struct topo_txn *x, int version, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void txn_check(struct topo_txn *x, int version, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Bump a node's version (rewrite its container JSON) if it still has version. */
void txn_touch(struct topo_txn *x, int version, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 0, -EAGAIN when a check failed (a node changed, appeared or vanished since it was read),
 * or another negative errno. */
int txn_commit(zhandle_t *zh, struct topo_txn *x);
const char *txn_path(const struct topo_txn *x, size_t i);

/* Growing arrays: a zeroed new element at the end, NULL when out of memory. */
void *topo_push(void **arr, size_t *n, size_t size);

int topo_json_schema_only(const char *buf, size_t len);
/* Create an ephemeral node owned by this session; one left by another session (an older
 * one of this agent, or another agent) is replaced. */
int topo_publish_ephemeral(zhandle_t *zh, const char *path, const char *data);

/* Access control: the ACL a node at path gets when this process creates it (open when no
 * credential is configured); on the first write with the cluster credential, an open tree
 * is secured (every persistent node). */
const struct ACL_vector *topo_acl_for(const char *path);
int topo_acl_secure_tree(zhandle_t *zh);
/* The host this process registered as an agent ("" if none): where its learned state is. */
const char *topo_self_host(void);

#endif
