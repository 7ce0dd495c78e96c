/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the topology library: the mirror, errors, ACLs, and the public headers it builds on. */
#ifndef MIDOX_TOPO_IMPL_H
#define MIDOX_TOPO_IMPL_H

#include <stdarg.h>

#include "codec.h"
#include "layout.h"
#include "topology.h"
#include "txn.h"

/* The mirror of a handle (mirror.c), for the reader and the multi-op builder. A read
 * brackets its use with begin (NULL: the handle has no mirror) and end (complete: forget
 * what the read did not use). end returns true when a watched node changed while the read
 * ran: what it served and what it asked may then be from either side of that change, and
 * the read is to be made again. The lookups return false / NULL when ZooKeeper must be
 * asked; the keep functions store its answer. */
struct topo_mirror;
/* for_write: a read whose snapshot a write plans on may skip the opening barrier when the
 * mirror's last read was consistent moments ago (MIRROR_REUSE_NS) and no event or commit
 * has come since: its snapshot is that one's, a little older, which the write's version
 * checks cover as they cover any read overtaken by another writer. */
struct topo_mirror *mirror_begin(zhandle_t *zh, bool for_write);
bool mirror_end(struct topo_mirror *m, bool complete);
watcher_fn mirror_watch_fn(void);
bool mirror_data(struct topo_mirror *m, const char *path, const char **value, int *len,
		 struct Stat *st);
int mirror_keep_data(struct topo_mirror *m, const char *path, const char *value, int len,
		     const struct Stat *st);
/* version and cversion: the listed node's data and children versions. */
const struct String_vector *mirror_list(struct topo_mirror *m, const char *path,
					int32_t *version, int32_t *cversion);
/* Takes kids over (left empty) on success. */
const struct String_vector *mirror_keep_list(struct topo_mirror *m, const char *path,
					     struct String_vector *kids, int32_t version,
					     int32_t cversion);
/* The children path lists were taken from an index (binding_index.c), or no longer are:
 * while they are, a read does not ask for those it does not know ahead of its descent. */
void mirror_list_indexed(struct topo_mirror *m, const char *path, bool indexed);
bool mirror_exists(struct topo_mirror *m, const char *path, bool *exists);
int mirror_keep_exists(struct topo_mirror *m, const char *path, bool exists);
/* A node read before as missing (a listing that found none), still so: served, not asked. */
bool mirror_known_missing(struct topo_mirror *m, const char *path);
/* topo_read for a write: a snapshot no change tore, whatever it costs (see read.c). */
int topo_read_consistent(zhandle_t *zh, struct topology *t);
/* The same for a snapshot a write plans on: it may be the last read's (mirror_begin). */
int topo_read_for_write(zhandle_t *zh, struct topology *t);
/* A write on zh touched path (its data, or its parent's listing): both read again. */
void mirror_touched(zhandle_t *zh, const char *path);

/* Build the snapshot's lookups by id and tunnel key afresh (lookup.c), without ordinals. */
int topo_index_build(struct topology *t);

/* Rule chains in a snapshot (chain_snapshot.c): ordered, numbered and checked once the
 * ports are final; freed with it. */
int chain_normalise(struct topology *t);
void chain_free(struct topology *t);

/* Errors (topo_fail is in topology.h). */
int topo_zerr(int zrc);		/* ZooKeeper error code to negative errno */
const char *topo_zerr_text(int zrc);

/* The fixed JSON of containers and the root. */
extern const char topo_container_json[];

/* Growing arrays: a zeroed new element at the end, NULL when out of memory. */
void *topo_push(void **arr, size_t *n, size_t size);

int topo_json_schema_only(const char *buf, size_t len);
/* Create an ephemeral node owned by this session; one left by another session (an older
 * one of this agent, or another agent) is replaced. */
int topo_publish_ephemeral(zhandle_t *zh, const char *path, const char *data);

/* Access control: on the first write with the cluster credential, an open tree is secured
 * (every persistent node); topo_acl_for is in topology.h. */
int topo_acl_secure_tree(zhandle_t *zh);
/* The host this process registered as an agent ("" if none): where its learned state is. */
const char *topo_self_host(void);

#endif
