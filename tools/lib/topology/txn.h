/* SPDX-License-Identifier: Apache-2.0 */
/* The multi-op builder every write of the library goes through (txn.c), for tools that
 * write the tree directly in large batches (the benchmark's). What is written is the
 * caller's to validate. */
#ifndef MIDOX_TOPOLOGY_TXN_H
#define MIDOX_TOPOLOGY_TXN_H

#include <stddef.h>

#include "topology.h"

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

#endif
