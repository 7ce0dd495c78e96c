/* SPDX-License-Identifier: Apache-2.0 */
/* An in-memory ZooKeeper for the fuzz targets: the calls the topology library makes (its
 * asynchronous read completes before it returns), with ZooKeeper's semantics (parents must
 * exist, a node with children is not deleted, versions are checked, a multi-op is all or
 * nothing), and no server or thread.
 * Linked into a target, its definitions take the place of libzookeeper_mt's; the library's
 * op initialisers, zerror() and deallocate_String_vector() are still the real ones. */
#ifndef MIDOX_FAKEZK_H
#define MIDOX_FAKEZK_H

#include <stdio.h>

/* Remember the tree as it is now; fakezk_restore() goes back to it (each fuzz input starts
 * from the same topology). */
void fakezk_save(void);
void fakezk_restore(void);
/* Every node as "path<TAB>data" lines (how the codec corpus was made). */
void fakezk_dump(FILE *f);

#endif
