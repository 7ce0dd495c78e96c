// SPDX-License-Identifier: Apache-2.0
/* midox-agent --verify: what the pinned maps of this host hold against what desired_compute
 * says they must hold. Entries this host's datapath learned itself (MX_FDB_LOCAL,
 * MX_NEIGH_LOCAL) are its own business, never a difference. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desired.h"
#include "base/log.h"
#include "verify.h"

#define VERIFY_CONNECT_MS 5000

static const char *ip(__be32 a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* A key as an operator reads it. */
static void format_key(enum mx_map_id m, const void *key, char *out, size_t len)
{
	char a[INET_ADDRSTRLEN], mac[18], ifname[IF_NAMESIZE];
	const struct mx_fdb_key *fk = key;
	const struct mx_arp_key *ak = key;
	const struct mx_route_key *rk = key;
	const struct mx_neigh_key *nk = key;
	__u32 u32;

	memcpy(&u32, key, sizeof(u32));
	switch (m) {
	case MX_MAP_ID_IFPORT:
		snprintf(out, len, "ifindex %u (%s)", u32,
			 if_indextoname(u32, ifname) ? ifname : "gone");
		break;
	case MX_MAP_ID_PORT:
		snprintf(out, len, "port key %u", u32);
		break;
	case MX_MAP_ID_BRIDGE:
		snprintf(out, len, "bridge key %u", u32);
		break;
	case MX_MAP_ID_FDB:
		topo_format_mac(fk->mac, mac);
		snprintf(out, len, "bridge key %u mac %s", fk->bridge_key, mac);
		break;
	case MX_MAP_ID_ARP:
		snprintf(out, len, "bridge key %u address %s", ak->bridge_key, ip(ak->addr, a));
		break;
	case MX_MAP_ID_TUNPEER:
		snprintf(out, len, "peer %s", ip((__be32)u32, a));
		break;
	case MX_MAP_ID_ROUTE:
		snprintf(out, len, "router key %u dst %s/%u", rk->router_key, ip(rk->dst, a),
			 rk->prefixlen - 32);
		break;
	case MX_MAP_ID_NEIGH:
		snprintf(out, len, "router key %u address %s", nk->router_key, ip(nk->addr, a));
		break;
	default:
		snprintf(out, len, "?");
	}
}

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

static bool learned_here(enum mx_map_id m, const void *value)
{
	if (m == MX_MAP_ID_FDB)
		return ((const struct mx_fdb_entry *)value)->flags & MX_FDB_LOCAL;
	if (m == MX_MAP_ID_NEIGH)
		return ((const struct mx_neigh_entry *)value)->flags & MX_NEIGH_LOCAL;
	return false;
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
	if (learned_here(w->m, value))
		return 0;
	format_key(w->m, key, k, sizeof(k));
	if (!want) {
		printf("%s: extra %s\n", mx_map_name(w->m), k);
		w->diffs++;
	} else if (memcmp(want, value, kv->value_size)) {
		format_hex(want, kv->value_size, a, sizeof(a));
		format_hex(value, kv->value_size, b, sizeof(b));
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
		printf("%s: different settings\n", MX_MAP_CONFIG);
		(*diffs)++;
	}
	for (int m = 0; m < MX_MAP_ID__MAX; m++) {
		const struct kv_array *kv = &d->maps[m];
		struct walk w = { .m = m, .d = d };

		w.seen = calloc(kv->n ? kv->n : 1, sizeof(*w.seen));
		if (!w.seen)
			return -ENOMEM;
		err = mx_map_walk(dp, m, compare_entry, &w);
		for (size_t i = 0; !err && i < kv->n; i++) {
			if (w.seen[i])
				continue;
			format_key(m, (const char *)kv->keys + i * kv->key_size, k, sizeof(k));
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

static int ifindex_of(const char *ifname)
{
	return (int)if_nametoindex(ifname);
}

int agent_verify(const struct agent_config *cfg)
{
	struct mx_datapath_opts opts = { .pin_root = cfg->pin_root };
	struct local_view view = {
		.underlay_ifindex = if_nametoindex(cfg->tunnel_if),
		.vxlan_port = cfg->vxlan_port,
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
	snprintf(pin, sizeof(pin), "%s/%s", cfg->pin_root, MX_MAP_PORT);
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
		err = compare(dp, &d, &diffs);
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
