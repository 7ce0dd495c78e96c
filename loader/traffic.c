// SPDX-License-Identifier: Apache-2.0
/* midox_traffic: the rx/tx counters of the ports with a slot (include/midox/stats.h), and
 * the readers that give a port's counters whole: midox_stats[key] plus midox_traffic[slot],
 * summed over the CPUs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

static void traffic_add(struct mx_traffic *sum, const struct mx_traffic *cpu)
{
	sum->rx_packets += cpu->rx_packets;
	sum->rx_bytes += cpu->rx_bytes;
	sum->tx_packets += cpu->tx_packets;
	sum->tx_bytes += cpu->tx_bytes;
}

int mx_traffic_read(struct mx_datapath *dp, __u32 slot, struct mx_traffic *out)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_TRAFFIC), ncpu = libbpf_num_possible_cpus();
	struct mx_traffic *percpu;
	int err = fd < 0 ? fd : ncpu < 0 ? ncpu : 0;

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	err = bpf_map_lookup_elem(fd, &slot, percpu);
	for (int cpu = 0; !err && cpu < ncpu; cpu++)
		traffic_add(out, &percpu[cpu]);
	free(percpu);
	return err;
}

int mx_traffic_clear(struct mx_datapath *dp, __u32 slot)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_TRAFFIC), ncpu = libbpf_num_possible_cpus();
	struct mx_traffic *zero;
	int err = fd < 0 ? fd : ncpu < 0 ? ncpu : 0;

	if (err)
		return err;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	err = bpf_map_update_elem(fd, &slot, zero, BPF_ANY);
	free(zero);
	return err;
}

/* Every slot zeroed on every CPU, in batches. */
static int traffic_zero_all(struct mx_datapath *dp)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_TRAFFIC), ncpu = libbpf_num_possible_cpus();
	const __u32 chunk = 4096;
	struct mx_traffic *zero = NULL;
	__u32 *keys = NULL, count;
	int err = fd < 0 ? fd : ncpu < 0 ? ncpu : 0;

	if (!err) {
		keys = calloc(chunk, sizeof(*keys));
		zero = calloc((size_t)chunk * ncpu, sizeof(*zero));
		if (!keys || !zero)
			err = -ENOMEM;
	}
	for (__u32 base = 0; !err && base < MX_TRAFFIC_SLOTS; base += chunk) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		for (__u32 i = 0; i < chunk; i++)
			keys[i] = base + i;
		count = chunk;
		err = bpf_map_update_batch(fd, keys, zero, &count, &opts);
	}
	free(keys);
	free(zero);
	return err;
}

/* Every slot's sums (MX_TRAFFIC_SLOTS of them) in one malloc'd array: the whole per-CPU array
 * read in batches, not a syscall a slot. */
static int traffic_read_all(struct mx_datapath *dp, struct mx_traffic **out)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_TRAFFIC), ncpu = libbpf_num_possible_cpus();
	const __u32 chunk = 4096;
	struct mx_traffic *sums = NULL, *values = NULL;
	__u32 *keys = NULL, batch = 0, count;
	bool first = true;
	int err = fd < 0 ? fd : ncpu < 0 ? ncpu : 0;

	if (!err) {
		sums = calloc(MX_TRAFFIC_SLOTS, sizeof(*sums));
		keys = calloc(chunk, sizeof(*keys));
		values = calloc((size_t)chunk * ncpu, sizeof(*values));
		if (!sums || !keys || !values)
			err = -ENOMEM;
	}
	while (!err) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		count = chunk;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, values, &count,
					   &opts);
		first = false;
		for (__u32 i = 0; i < count; i++)
			for (int cpu = 0; keys[i] < MX_TRAFFIC_SLOTS && cpu < ncpu; cpu++)
				traffic_add(&sums[keys[i]], &values[(size_t)i * ncpu + cpu]);
		if (err == -ENOENT) { /* the last batch */
			err = 0;
			break;
		}
	}
	free(keys);
	free(values);
	if (err)
		free(sums);
	else
		*out = sums;
	return err;
}

static void stats_add(struct mx_port_stats *sum, const struct mx_port_stats *cpu)
{
	sum->rx_packets += cpu->rx_packets;
	sum->rx_bytes += cpu->rx_bytes;
	sum->tx_packets += cpu->tx_packets;
	sum->tx_bytes += cpu->tx_bytes;
	for (int r = 0; r < MX_DROP__MAX; r++)
		sum->drops[r] += cpu->drops[r];
}

static void stats_add_traffic(struct mx_port_stats *sum, const struct mx_traffic *t)
{
	sum->rx_packets += t->rx_packets;
	sum->rx_bytes += t->rx_bytes;
	sum->tx_packets += t->tx_packets;
	sum->tx_bytes += t->tx_bytes;
}

static bool traffic_zero(const struct mx_traffic *t)
{
	return !t->rx_packets && !t->rx_bytes && !t->tx_packets && !t->tx_bytes;
}

/* The counter slot of port_key: the host's for MX_STATS_HOST, else its port entry's; false
 * when it has none. */
static bool stats_slot_of(struct mx_datapath *dp, __u32 port_key, __u32 *slot)
{
	struct mx_port p;

	*slot = MX_TRAFFIC_HOST_SLOT;
	if (port_key == MX_STATS_HOST)
		return true;
	if (mx_port_lookup(dp, port_key, &p) || !p.stats_slot || p.stats_slot >= MX_TRAFFIC_SLOTS)
		return false;
	*slot = p.stats_slot;
	return true;
}

int mx_stats_read(struct mx_datapath *dp, __u32 port_key, struct mx_port_stats *out)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_STATS), ncpu = libbpf_num_possible_cpus();
	struct mx_port_stats *percpu;
	struct mx_traffic t;
	bool found = false;
	__u32 slot;
	int err = fd < 0 ? fd : ncpu < 0 ? ncpu : 0;

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	percpu = calloc(ncpu, sizeof(*percpu)); /* the size is a multiple of 8, as required */
	if (!percpu)
		return -ENOMEM;
	err = bpf_map_lookup_elem(fd, &port_key, percpu);
	for (int cpu = 0; !err && cpu < ncpu; cpu++)
		stats_add(out, &percpu[cpu]);
	free(percpu);
	found = !err;
	if (err && err != -ENOENT)
		return err;
	if (stats_slot_of(dp, port_key, &slot)) {
		err = mx_traffic_read(dp, slot, &t);
		if (err)
			return err;
		stats_add_traffic(out, &t);
		found = true;
	}
	return found ? 0 : -ENOENT;
}

static int stats_entry_cmp(const void *a, const void *b)
{
	const struct mx_port_stats_entry *x = a, *y = b;

	return x->port_key < y->port_key ? -1 : x->port_key > y->port_key;
}

/* The entries of midox_stats, summed over the CPUs, into all[*n...]. */
static int stats_hash_read(struct mx_datapath *dp, struct mx_port_stats_entry **all, size_t *n,
			   size_t *cap)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_STATS), ncpu = libbpf_num_possible_cpus();
	struct mx_port_stats *percpu = NULL;
	size_t nkeys = 0;
	__u32 *keys = NULL;
	int err = fd < 0 ? fd : ncpu < 0 ? ncpu : 0;

	if (!err)
		err = dp_map_keys(fd, sizeof(__u32), (void **)&keys, &nkeys);
	if (!err) {
		percpu = calloc(ncpu, sizeof(*percpu));
		*cap = nkeys + 1;
		*all = calloc(*cap, sizeof(**all));
		if (!percpu || !*all)
			err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < nkeys; i++) {
		struct mx_port_stats_entry *e = &(*all)[*n];

		/* a key deleted since the walk (mx_stats_reset) is skipped */
		if (bpf_map_lookup_elem(fd, &keys[i], percpu))
			continue;
		e->port_key = keys[i];
		for (int cpu = 0; cpu < ncpu; cpu++)
			stats_add(&e->stats, &percpu[cpu]);
		(*n)++;
	}
	free(keys);
	free(percpu);
	return err;
}

struct slot_walk {
	const struct mx_traffic *sums;
	struct mx_port_stats_entry *all;
	size_t n, cap;
};

static int slot_entry_add(struct slot_walk *w, __u32 key, const struct mx_traffic *t)
{
	struct mx_port_stats_entry *grown;

	if (w->n == w->cap) {
		grown = realloc(w->all, (w->cap ? 2 * w->cap : 64) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		w->all = grown;
		w->cap = w->cap ? 2 * w->cap : 64;
	}
	memset(&w->all[w->n], 0, sizeof(w->all[w->n]));
	w->all[w->n].port_key = key;
	stats_add_traffic(&w->all[w->n].stats, t);
	w->n++;
	return 0;
}

/* A port whose slot counted something: its rx/tx as an entry. */
static int slot_entry(const void *key, const void *value, void *ctx)
{
	const struct mx_port *p = value;
	struct slot_walk *w = ctx;

	if (!p->stats_slot || p->stats_slot >= MX_TRAFFIC_SLOTS ||
	    traffic_zero(&w->sums[p->stats_slot]))
		return 0;
	return slot_entry_add(w, *(const __u32 *)key, &w->sums[p->stats_slot]);
}

/* Sorted by key, one entry a key (a hash walk that restarted gives a key twice). */
static void stats_sort_unique(struct mx_port_stats_entry *all, size_t *n)
{
	size_t out = 0;

	if (*n)
		qsort(all, *n, sizeof(*all), stats_entry_cmp);
	for (size_t i = 0; i < *n; i++)
		if (!out || all[out - 1].port_key != all[i].port_key)
			all[out++] = all[i];
	*n = out;
}

/* Both sorted: one entry a key, a key in both with the slot's rx/tx added to its own. */
static struct mx_port_stats_entry *stats_merge(const struct mx_port_stats_entry *h, size_t nh,
					       const struct mx_port_stats_entry *s, size_t ns,
					       size_t *n)
{
	struct mx_port_stats_entry *all = calloc(nh + ns + 1, sizeof(*all));
	size_t i = 0, j = 0;

	*n = 0;
	while (all && (i < nh || j < ns)) {
		if (j == ns || (i < nh && h[i].port_key < s[j].port_key)) {
			all[(*n)++] = h[i++];
		} else if (i == nh || s[j].port_key < h[i].port_key) {
			all[(*n)++] = s[j++];
		} else {
			all[*n] = h[i++];
			all[*n].stats.rx_packets += s[j].stats.rx_packets;
			all[*n].stats.rx_bytes += s[j].stats.rx_bytes;
			all[*n].stats.tx_packets += s[j].stats.tx_packets;
			all[(*n)++].stats.tx_bytes += s[j++].stats.tx_bytes;
		}
	}
	return all;
}

int mx_stats_read_all(struct mx_datapath *dp, struct mx_port_stats_entry **out, size_t *n)
{
	struct mx_port_stats_entry *hash = NULL, *all = NULL;
	struct slot_walk w = { 0 };
	struct mx_traffic *sums = NULL;
	size_t nhash = 0, cap = 0;
	int err = stats_hash_read(dp, &hash, &nhash, &cap);

	if (!err)
		err = traffic_read_all(dp, &sums);
	w.sums = sums;
	if (!err && !traffic_zero(&sums[MX_TRAFFIC_HOST_SLOT]))
		err = slot_entry_add(&w, MX_STATS_HOST, &sums[MX_TRAFFIC_HOST_SLOT]);
	if (!err)
		err = mx_map_walk(dp, MX_MAP_ID_PORT, slot_entry, &w);
	if (!err) {
		stats_sort_unique(hash, &nhash);
		stats_sort_unique(w.all, &w.n);
		all = stats_merge(hash, nhash, w.all, w.n, n);
		if (!all)
			err = -ENOMEM;
	}
	free(sums);
	free(hash);
	free(w.all);
	if (!err)
		*out = all;
	return err;
}

/* Collect every key first: deleting while walking a hash map can restart the walk. Every
 * slot of midox_traffic is zeroed too. */
int mx_stats_reset(struct mx_datapath *dp)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_STATS);
	size_t n = 0;
	void *keys = NULL;
	int err = fd < 0 ? fd : dp_map_keys(fd, mx_map_table[MX_MAP_ID_STATS].key_size, &keys, &n);

	for (size_t i = 0; !err && i < n; i++) {
		err = bpf_map_delete_elem(fd, (__u32 *)keys + i);
		if (err == -ENOENT)
			err = 0;
	}
	free(keys);
	return err ? err : traffic_zero_all(dp);
}
