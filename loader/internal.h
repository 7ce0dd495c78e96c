/* SPDX-License-Identifier: Apache-2.0 */
/* What the loader's files share: the datapath handle and its maps by id. */
#ifndef MIDOX_LOADER_INTERNAL_H
#define MIDOX_LOADER_INTERNAL_H

#include "loader.h"

struct midox;
struct bpf_map;

/* The programs the agent attaches or tail-calls, pinned by build (progpin.c). */
enum dp_prog {
	DP_PROG_PORT,
	DP_PROG_UNDERLAY,
	DP_PROG_BGP,
	DP_PROG_HOP_BRIDGE,
	DP_PROG_HOP_ROUTER,
	DP_PROG_HOP_FLOOD,
	DP_PROG_UNDERLAY_XDP,
	DP_PROG__MAX
};

/* A build's id: 16 hex digits of a 64-bit FNV-1a hash of the BPF object's bytes. */
#define DP_BUILD_ID_LEN 17

struct mx_datapath {
	struct midox *skel;
	/* Loaded: the skeleton's fds. Reused: fds of the pinned programs, owned here. */
	int prog_fd[DP_PROG__MAX];
	bool reused;
	void *object;		/* the object read from opts->object_path, else NULL */
	size_t object_size;
	char build[DP_BUILD_ID_LEN];
	/* midox_portslot as the last mx_port_slots_sync left it: a bit per slot holding a
	 * port (MX_TRAFFIC_SLOTS bits), valid while slots_known. A write by another path
	 * (mx_port_slot_update), or none yet, makes the next sync compare every slot. */
	__u8 *slots_held;
	bool slots_known;
};

/* The skeleton's program for p. */
struct bpf_program *dp_prog(const struct mx_datapath *dp, enum dp_prog p);
/* build = the id of the object's bytes. */
void dp_build_id(const void *data, size_t size, char build[DP_BUILD_ID_LEN]);
/* Take the programs pinned for dp->build under root, and every map of the (opened, not
 * loaded) skeleton from its pin, when all are there and the programs use those maps:
 * nothing is loaded or verified. -ENOENT (or another error) when they cannot be reused;
 * then the skeleton must be opened again before a load. */
int dp_progs_reuse(struct mx_datapath *dp, const char *root);
/* After a load: pin the programs for dp->build under root (complete or not at all) and
 * remove the pins of every other build (their programs live on while attached). */
int dp_progs_pin(struct mx_datapath *dp, const char *root);

/* The map of id (its row in map_table.c), through the skeleton. */
struct bpf_map *dp_map(const struct mx_datapath *dp, enum mx_map_id id);
/* Its fd; -EINVAL for an id out of range. */
int dp_map_fd(const struct mx_datapath *dp, enum mx_map_id id);
/* Every key of the map behind fd, in one malloc'd packed array the caller frees. */
int dp_map_keys(int fd, size_t key_size, void **keys, size_t *n);
/* Every entry (keys and values packed), in batches where the map has them (sync.c). */
int dp_map_entries(int fd, size_t key_size, size_t value_size, void **keys, void **values,
		   size_t *n);
/* The entries of the retired pins whose layout changed, in this tree's layout (carry.c):
 * read before the old pins are removed, written into the new maps before the tail-call
 * slots point at this object's programs. */
enum { DP_CARRY_PORT, DP_CARRY_FILTER, DP_CARRY_ALLOWED, DP_CARRY_ARP, DP_CARRY__MAX };
struct dp_carried_map {
	void *keys, *values; /* packed, n of each */
	size_t n;
};
struct dp_carried {
	struct dp_carried_map map[DP_CARRY__MAX];
};
/* Those left under root; none is not an error (-ENOMEM is). */
int dp_carry_read(const char *root, struct dp_carried *c);
int dp_carry_write(struct mx_datapath *dp, const struct dp_carried *c);
void dp_carried_free(struct dp_carried *c);
/* Route libbpf's messages through the logger (once is enough; again is harmless). */
void dp_log_libbpf(void);

#endif
