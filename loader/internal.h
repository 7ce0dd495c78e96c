/* SPDX-License-Identifier: Apache-2.0 */
/* What the loader's files share: the datapath handle and its maps by id. */
#ifndef MIDOX_LOADER_INTERNAL_H
#define MIDOX_LOADER_INTERNAL_H

#include "loader.h"

struct midox;
struct bpf_map;

struct mx_datapath {
	struct midox *skel;
};

/* The map of id (its row in map_table.c), through the skeleton. */
struct bpf_map *dp_map(const struct mx_datapath *dp, enum mx_map_id id);
/* Its fd; -EINVAL for an id out of range. */
int dp_map_fd(const struct mx_datapath *dp, enum mx_map_id id);
/* Every key of the map behind fd, in one malloc'd packed array the caller frees. */
int dp_map_keys(int fd, size_t key_size, void **keys, size_t *n);
/* Every entry (keys and values packed), in batches where the map has them (sync.c). */
int dp_map_entries(int fd, size_t key_size, size_t value_size, void **keys, void **values,
		   size_t *n);
/* Route libbpf's messages through the logger (once is enough; again is harmless). */
void dp_log_libbpf(void);

#endif
