// SPDX-License-Identifier: Apache-2.0
/* midox-agent --verify: what the pinned maps of this host hold against what desired_compute
 * says they must hold. Entries this host's datapath learned itself (MX_FDB_LOCAL,
 * MX_NEIGH_LOCAL) are its own business, never a difference. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "desired.h"
#include "base/log.h"
#include "verify.h"

#define VERIFY_CONNECT_MS 5000

static void format_hex(const void *v, size_t n, char *out, size_t len)
{
	const unsigned char *b = v;
	size_t i, o = 0;

	/* Trailing zeros (the unused slots of a flood set or next-hop array) are left out. */
	while (n > 0 && !b[n - 1])
		n--;
	for (i = 0; i < n && o + 3 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%02x", b[i]);
	if (!n)
		snprintf(out, len, "00...");
}

struct walk {
	enum mx_map_id m;
	const struct desired *d;
	bool *seen;
	unsigned int diffs, entries;
};

static int compare_entry(const void *key, const void *value, void *ctx)
{
	struct walk *w = ctx;
	const struct kv_array *kv = &w->d->maps[w->m];
	const void *want = desired_lookup(w->d, w->m, key);
	char k[96], a[1200], b[1200];

	w->entries++;
	if (want)
		w->seen[((const char *)want - (const char *)kv->values) / kv->value_size] = true;
	if (mx_map_learned(w->m, key, value, NULL))
		return 0;
	mx_map_format_key(w->m, key, k, sizeof(k));
	if (!want) {
		printf("%s: extra %s\n", mx_map_name(w->m), k);
		w->diffs++;
	} else if (memcmp(want, value, mx_map_compared_bytes(w->m))) {
		format_hex(want, mx_map_compared_bytes(w->m), a, sizeof(a));
		format_hex(value, mx_map_compared_bytes(w->m), b, sizeof(b));
		printf("%s: different %s: want %s, have %s\n", mx_map_name(w->m), k, a, b);
		w->diffs++;
	}
	return 0;
}

static int compare(struct mx_datapath *dp, const struct desired *d, unsigned int *diffs)
{
	struct mx_config have;
	char k[96];
	int err;

	err = mx_config_get(dp, &have);
	if (err)
		return err;
	if (memcmp(&have, &d->config, sizeof(have))) {
		printf("%s: different settings\n", mx_map_name(MX_MAP_ID_CONFIG));
		(*diffs)++;
	}
	for (int m = 0; m < MX_MAP_ID__MAX; m++) {
		const struct kv_array *kv = &d->maps[m];
		struct walk w = { .m = m, .d = d };

		if (!mx_map_reconciled(m))
			continue;
		w.seen = calloc(kv->n ? kv->n : 1, sizeof(*w.seen));
		if (!w.seen)
			return -ENOMEM;
		err = mx_map_walk(dp, m, compare_entry, &w);
		for (size_t i = 0; !err && i < kv->n; i++) {
			if (w.seen[i])
				continue;
			mx_map_format_key(m, (const char *)kv->keys + i * kv->key_size, k, sizeof(k));
			printf("%s: missing %s\n", mx_map_name(m), k);
			w.diffs++;
		}
		free(w.seen);
		if (err)
			return err;
		*diffs += w.diffs;
	}
	return 0;
}

/* One look at the host: each name asked once. */
static int ifindex_of(const char *ifname, void *ctx)
{
	(void)ctx;
	return (int)if_nametoindex(ifname);
}

int agent_verify(const struct agent_config *cfg)
{
	struct mx_datapath_opts opts = { .pin_root = cfg->pin_root };
	struct local_view view = {
		.underlay_ifindex = if_nametoindex(cfg->tunnel_if),
		.vxlan_port = cfg->vxlan_port,
		.underlay_xdp = cfg->underlay_xdp,
		.ifindex_of = ifindex_of,
	};
	char host_id[TOPO_ID_LEN], pin[300];
	struct mx_datapath *dp = NULL;
	struct topology t = { 0 };
	struct desired d;
	unsigned int diffs = 0;
	zhandle_t *zh = NULL;
	int err;

	/* Verify creates nothing: no host id, no maps. */
	snprintf(pin, sizeof(pin), "%s/%s", cfg->pin_root, mx_map_name(MX_MAP_ID_PORT));
	if (access(cfg->host_id_file, R_OK) || access(pin, F_OK)) {
		mx_err("nothing to verify: no host id in %s or no pinned maps in %s",
		       cfg->host_id_file, cfg->pin_root);
		return 2;
	}
	err = topo_host_id_load(cfg->host_id_file, host_id);
	if (!err)
		err = mx_datapath_open(&opts, &dp);
	if (!err)
		err = topo_connect(cfg->zk_servers, VERIFY_CONNECT_MS, NULL, NULL, &zh);
	if (!err)
		err = topo_read(zh, &t);
	if (err) {
		mx_err("cannot verify: %s", *topo_errmsg() ? topo_errmsg() : strerror(-err));
		goto out;
	}
	view.host_id = host_id;
	err = desired_compute(&t, &view, &d);
	if (!err) {
		/* The counter slots as the pins record them (a new port's: a free one), nothing
		 * written: an entry whose slot is another's, or whose interface copy differs, shows. */
		struct stats_slots slots;

		err = slots_init(&slots, dp);
		if (!err)
			err = slots_assign_desired(&slots, NULL, &d);
		slots_free(&slots);
		if (!err)
			err = compare(dp, &d, &diffs);
		if (!err)
			err = agent_chains_verify(cfg->pin_root, &d.chains, &diffs);
		desired_free(&d);
	}
	if (err)
		mx_err("cannot verify: %s", strerror(-err));
	else if (diffs)
		printf("%u differences between the maps in %s and the topology\n", diffs,
		       cfg->pin_root);
	else
		printf("the maps in %s hold what the topology implies\n", cfg->pin_root);
out:
	topo_free(&t);
	topo_close(zh);
	mx_datapath_close(dp);
	return err ? 2 : diffs ? 1 : 0;
}
