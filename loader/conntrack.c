// SPDX-License-Identifier: Apache-2.0
/* The connection-tracking sweep (loader/conntrack.h). A hash map's walk restarts from its
 * first key when the key it stands on is deleted, so the walk only collects the idle keys
 * and the deletes come after it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "base/log.h"
#include "internal.h"
#include "loader/conntrack.h"

struct key_list {
	struct mx_ct_key *keys;
	size_t n, cap;
};

static int key_list_add(struct key_list *l, const struct mx_ct_key *k)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct mx_ct_key *keys = realloc(l->keys, cap * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		l->keys = keys;
		l->cap = cap;
	}
	l->keys[l->n++] = *k;
	return 0;
}

/* Whether the entry e of key is idle at now_ns. A connection: past its state's timeout. An
 * index entry of a NATed connection (MX_CT_F_NAT_INDEX) lives and dies with its
 * connection: idle when that is gone, idle, or bound to another tuple; so the two go in
 * the same sweep, and an index never outlives its connection by more than a sweep. */
static bool entry_idle(int ct_fd, const struct mx_ct_config *cfg, const struct mx_ct_key *key,
		       const struct mx_ct_entry *e, __u64 now_ns)
{
	struct mx_ct_key main = { .device = key->device, .proto = key->proto };
	struct mx_ct_entry m;

	if (!(e->flags & MX_CT_F_NAT_INDEX))
		return mx_ct_expired(cfg, e, now_ns);
	main.src = e->nat.src;
	main.dst = e->nat.dst;
	main.sport = e->nat.sport;
	main.dport = e->nat.dport;
	if (bpf_map_lookup_elem(ct_fd, &main, &m) || (m.flags & MX_CT_F_NAT_INDEX) ||
	    !(m.flags & MX_CT_F_NAT))
		return true;
	if (m.nat.src != key->src || m.nat.dst != key->dst || m.nat.sport != key->sport ||
	    m.nat.dport != key->dport)
		return true;
	return mx_ct_expired(cfg, &m, now_ns);
}

int mx_ct_entries(int ct_fd, struct mx_ct_key **keys, struct mx_ct_entry **entries, size_t *n)
{
	void *k = NULL, *v = NULL;
	int err = dp_map_entries(ct_fd, sizeof(**keys), sizeof(**entries), &k, &v, n);

	if (err)
		return err;
	*keys = k;
	*entries = v;
	return 0;
}

/* The keys of ct_fd idle at now_ns into idle: one read of the whole table, in batches (a
 * walk key by key took two system calls an entry, every second). */
static int collect_idle(int ct_fd, const struct mx_ct_config *cfg, __u64 now_ns,
			struct key_list *idle, __u32 *seen)
{
	struct mx_ct_key *keys = NULL;
	struct mx_ct_entry *entries = NULL;
	size_t n = 0;
	int err = mx_ct_entries(ct_fd, &keys, &entries, &n);

	for (size_t i = 0; !err && i < n; i++) {
		if (!(entries[i].flags & MX_CT_F_NAT_INDEX))
			(*seen)++; /* connections, not their index entries */
		if (entry_idle(ct_fd, cfg, &keys[i], &entries[i], now_ns))
			err = key_list_add(idle, &keys[i]);
	}
	free(keys);
	free(entries);
	return err;
}

int mx_ct_sweep(int ct_fd, const struct mx_ct_config *cfg, __u64 now_ns,
		struct mx_ct_sweep_stats *stats)
{
	struct key_list idle = { 0 };
	struct mx_ct_entry e;
	int err;

	memset(stats, 0, sizeof(*stats));
	err = collect_idle(ct_fd, cfg, now_ns, &idle, &stats->seen);
	for (size_t i = 0; !err && i < idle.n; i++) {
		if (bpf_map_lookup_elem(ct_fd, &idle.keys[i], &e) ||
		    !entry_idle(ct_fd, cfg, &idle.keys[i], &e, now_ns))
			continue;
		if (!bpf_map_delete_elem(ct_fd, &idle.keys[i]))
			stats->removed += !(e.flags & MX_CT_F_NAT_INDEX) ? 1 : 0;
		else if (errno != ENOENT)
			err = -errno;
	}
	if (err)
		mx_err("conntrack sweep: %s", strerror(-err));
	free(idle.keys);
	return err;
}
