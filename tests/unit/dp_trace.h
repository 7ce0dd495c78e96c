/* SPDX-License-Identifier: Apache-2.0 */
/* What the datapath tests share to check packet traces (include/midox/trace.h): every map
 * the datapath writes snapshotted byte for byte (a trace must change none), and the
 * recorded steps compared with a row's expected ones. */
#ifndef MIDOX_TEST_DP_TRACE_H
#define MIDOX_TEST_DP_TRACE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader/loader.h"

/* Every entry of the map behind fd, bytes as the kernel gives them (per-CPU values for
 * every CPU), in iteration order; malloc'd into *out. */
static inline int dp_map_bytes(int fd, uint8_t **out, size_t *len)
{
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info);
	uint8_t key[512], next[512], *buf = NULL, *grown;
	size_t n = 0, vsize;
	void *prev = NULL;
	int ncpu = libbpf_num_possible_cpus();

	*out = NULL;
	*len = 0;
	if (ncpu < 1 || bpf_obj_get_info_by_fd(fd, &info, &ilen) || info.key_size > sizeof(key))
		return -EINVAL;
	vsize = info.value_size;
	if (info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_PERCPU_ARRAY)
		vsize = (vsize + 7) / 8 * 8 * (size_t)ncpu;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		grown = realloc(buf, n + info.key_size + vsize);
		if (!grown) {
			free(buf);
			return -ENOMEM;
		}
		buf = grown;
		memcpy(buf + n, next, info.key_size);
		if (bpf_map_lookup_elem(fd, next, buf + n + info.key_size))
			memset(buf + n + info.key_size, 0, vsize);
		n += info.key_size + vsize;
		memcpy(key, next, info.key_size);
		prev = key;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The maps a frame can change: all but the tail-call slots and the port handed over with a
 * tail call, the ring buffer (its consumer checks it), the trace's own entry and a chain
 * evaluation's scratch state and NAT. */
static inline bool dp_state_map(enum mx_map_id id)
{
	return id != MX_MAP_ID_HOP && id != MX_MAP_ID_HOP_PORT && id != MX_MAP_ID_EVENTS &&
	       id != MX_MAP_ID_TRACE && id != MX_MAP_ID_CHAIN_STATE && id != MX_MAP_ID_CHAIN_NAT;
}

struct dp_state {
	uint8_t *bytes[MX_MAP_ID__MAX];
	size_t len[MX_MAP_ID__MAX];
	int err[MX_MAP_ID__MAX];
};

static inline void dp_state_take(struct mx_datapath *dp, struct dp_state *st)
{
	for (int id = 0; id < MX_MAP_ID__MAX; id++) {
		st->bytes[id] = NULL;
		st->len[id] = 0;
		st->err[id] = dp_state_map(id) ? dp_map_bytes(mx_datapath_map_fd(dp, id),
							       &st->bytes[id], &st->len[id]) : 0;
	}
}

/* The first map whose bytes differ (or could not be read), or NULL; frees both. */
static inline const char *dp_state_diff(struct dp_state *a, struct dp_state *b)
{
	const char *diff = NULL;

	for (int id = 0; id < MX_MAP_ID__MAX; id++) {
		if (!diff && (a->err[id] || b->err[id] || a->len[id] != b->len[id] ||
			      (a->len[id] && memcmp(a->bytes[id], b->bytes[id], a->len[id]))))
			diff = mx_map_name(id);
		free(a->bytes[id]);
		free(b->bytes[id]);
	}
	return diff;
}

/* One expected step: its kind, and a, b, c where not 0. */
struct dp_trace_want {
	__u32 kind, a, b, c;
	bool ifx; /* b is ifx[b]: an interface of the test network by its index */
};

/* Whether t holds exactly the steps of want[] (up to max, ending at kind 0); else why. */
static inline bool dp_trace_match(const struct dp_trace_want *want, unsigned int max,
				  const int *ifx, const struct mx_trace *t, char *diag, size_t len)
{
	__u32 n = 0;

	while (n < max && want[n].kind)
		n++;
	if (t->n_steps != n) {
		snprintf(diag, len, "%u steps, want %u", t->n_steps, n);
		return false;
	}
	for (__u32 i = 0; i < n; i++) {
		const struct dp_trace_want *w = &want[i];
		const struct mx_trace_step *s = &t->steps[i];
		__u32 b = w->ifx ? (__u32)ifx[w->b] : w->b;

		if (s->kind != w->kind || (w->a && s->a != w->a) || (w->b && s->b != b) ||
		    (w->c && s->c != w->c)) {
			snprintf(diag, len, "step %u: kind %u a %u b %u c %u, want kind %u a %u b %u c %u",
				 i + 1, s->kind, s->a, s->b, s->c, w->kind, w->a, b, w->c);
			return false;
		}
	}
	return true;
}

#endif
