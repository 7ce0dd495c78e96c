// SPDX-License-Identifier: Apache-2.0
/* The map table (loader/map_table.c): every row is a map the loaded object pins under its
 * name with the declared sizes; keys print as verify prints them; the sync order covers
 * every reconciled map once, ifport last; the ownership rule keeps what the datapath learned
 * only while its port stays. TAP output. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "base/log.h"
#include "loader/loader.h"
#include "pin_root.h"
#include "tap.h"

static __be32 addr(const char *s)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* ---- the rows alone ---- */

static void test_rows(void)
{
	bool ok = true;

	for (int id = 0; id < MX_MAP_ID__MAX; id++) {
		const struct mx_map_desc *d = mx_map_desc(id);
		bool learned = d->owner == MX_MAP_OWN_AGENT_LEARNED;

		bool sized = d->ring ? !d->key_size && !d->value_size :
				       d->key_size && d->value_size;

		if (!d->name || !sized || !d->format_key ||
		    learned != (d->learned != NULL) || learned != (d->keep_port_flag != 0) ||
		    mx_map_reconciled(id) != (d->sync_rank != 0)) {
			tap_diag("row %d (%s) is incomplete", id, d->name ? d->name : "?");
			ok = false;
		}
	}
	tap_ok(ok, "every row has a name, sizes (none: a ring buffer) and a key format; learned "
		   "rows a flag test and "
		   "a keep rule; reconciled rows, and only they, a sync rank");
	tap_ok(!mx_map_desc(MX_MAP_ID__MAX) && !mx_map_name(-1),
	       "an id out of range has no row and no name");
}

static void test_sync_order(void)
{
	enum mx_map_id order[MX_MAP_ID__MAX];
	size_t n = mx_map_sync_order(order), reconciled = 0;
	unsigned int times[MX_MAP_ID__MAX] = { 0 };
	bool once = true;

	for (size_t i = 0; i < n; i++)
		times[order[i]]++;
	for (int id = 0; id < MX_MAP_ID__MAX; id++) {
		reconciled += mx_map_reconciled(id);
		if (times[id] != (mx_map_reconciled(id) ? 1u : 0u)) {
			tap_diag("%s is in the sync order %u times", mx_map_name(id), times[id]);
			once = false;
		}
	}
	tap_ok(once && n == reconciled, "the sync order holds every reconciled map once, no other");
	tap_ok(n >= 4 && order[0] == MX_MAP_ID_TUNPEER && order[1] == MX_MAP_ID_FILTER &&
		       order[2] == MX_MAP_ID_PORT && order[n - 1] == MX_MAP_ID_IFPORT,
	       "peers, filters and ports are synced first, the interface index last");
}

/* ---- keys as verify prints them ---- */

static void expect_key(enum mx_map_id id, const void *key, const char *want)
{
	char got[96];

	mx_map_format_key(id, key, got, sizeof(got));
	if (!tap_ok(!strcmp(got, want), "%s key prints \"%s\"", mx_map_name(id), want))
		tap_diag("printed \"%s\"", got);
}

static void test_format_keys(void)
{
	struct mx_fdb_key fk = { .bridge_key = 3, .mac = { 0x02, 0, 0, 0, 0xab, 0x01 } };
	struct mx_arp_key ak = { .bridge_key = 3, .addr = addr("10.0.0.5") };
	struct mx_route_key rk = { .prefixlen = 32 + 24, .router_key = 1, .dst = addr("10.0.0.0") };
	struct mx_neigh_key nk = { .router_key = 1, .addr = addr("10.0.0.1") };
	__be32 peer = addr("192.0.2.2");
	__u32 seven = 7, three = 3, lo = 1, gone = 0x7ffffff0, zero = 0;

	expect_key(MX_MAP_ID_PORT, &seven, "port key 7");
	expect_key(MX_MAP_ID_BRIDGE, &three, "bridge key 3");
	expect_key(MX_MAP_ID_FDB, &fk, "bridge key 3 mac 02:00:00:00:ab:01");
	expect_key(MX_MAP_ID_ARP, &ak, "bridge key 3 address 10.0.0.5");
	expect_key(MX_MAP_ID_TUNPEER, &peer, "peer 192.0.2.2");
	expect_key(MX_MAP_ID_UNDERLAY_NH, &peer, "peer 192.0.2.2");
	expect_key(MX_MAP_ID_ROUTE, &rk, "router key 1 dst 10.0.0.0/24");
	expect_key(MX_MAP_ID_NEIGH, &nk, "router key 1 address 10.0.0.1");
	expect_key(MX_MAP_ID_IFPORT, &lo, "ifindex 1 (lo)");
	expect_key(MX_MAP_ID_IFPORT, &gone, "ifindex 2147483632 (gone)");
	expect_key(MX_MAP_ID_STATS, &seven, "port key 7");
	expect_key(MX_MAP_ID_CONFIG, &zero, "index 0");
}

/* ---- the ownership rule ---- */

static const struct mx_port *port_of(__u32 port_key, void *ctx)
{
	const struct mx_port *ports = ctx; /* indexed by port key, 0..3 */

	return port_key < 4 && ports[port_key].flags ? &ports[port_key] : NULL;
}

static void test_ownership(void)
{
	const struct mx_port ports[4] = {
		[1] = { .device_key = 3, .flags = MX_PORT_LOCAL },    /* bridge 3, bound here */
		[2] = { .device_key = 3, .flags = MX_PORT_REMOTE },   /* bridge 3, elsewhere */
		[3] = { .device_key = 9, .flags = MX_PORT_ROUTER },   /* router 9 */
	};
	struct mx_fdb_key fk = { .bridge_key = 3 }, other = { .bridge_key = 4 };
	struct mx_fdb_entry local = { .port_key = 1, .flags = MX_FDB_LOCAL, .seen_ns = 42 };
	struct mx_fdb_entry stat = { .port_key = 1, .flags = MX_FDB_STATIC };
	struct mx_fdb_entry moved = { .port_key = 2, .flags = MX_FDB_LOCAL };
	struct mx_fdb_entry gone = { .port_key = 0, .flags = MX_FDB_LOCAL };
	struct mx_neigh_key nk = { .router_key = 9 }, nk_other = { .router_key = 8 };
	struct mx_neigh_entry nl = { .port_key = 3, .flags = MX_NEIGH_LOCAL };
	struct mx_neigh_entry nr = { .port_key = 3, .flags = MX_NEIGH_REMOTE };
	struct mx_learned_entry e = { 0 };
	struct mx_port pv = { .device_key = 3, .flags = MX_PORT_LOCAL };
	__u32 pk = 1;

	tap_ok(mx_map_learned(MX_MAP_ID_FDB, &fk, &local, &e) && e.device_key == 3 &&
		       e.port_key == 1 && e.seen_ns == 42,
	       "a MAC flagged MX_FDB_LOCAL is learned here, with its bridge, port and time");
	tap_ok(!mx_map_learned(MX_MAP_ID_FDB, &fk, &stat, NULL) &&
		       !mx_map_learned(MX_MAP_ID_NEIGH, &nk, &nr, NULL) &&
		       mx_map_learned(MX_MAP_ID_NEIGH, &nk, &nl, NULL),
	       "static and remote entries are not; MX_NEIGH_LOCAL is");
	tap_ok(!mx_map_learned(MX_MAP_ID_PORT, &pk, &pv, NULL),
	       "a map the agent owns whole has no learned entries");
	tap_ok(mx_map_keep(MX_MAP_ID_FDB, &fk, &local, port_of, (void *)ports),
	       "a learned MAC stays while its port is a local port of its bridge");
	tap_ok(!mx_map_keep(MX_MAP_ID_FDB, &other, &local, port_of, (void *)ports) &&
		       !mx_map_keep(MX_MAP_ID_FDB, &fk, &moved, port_of, (void *)ports) &&
		       !mx_map_keep(MX_MAP_ID_FDB, &fk, &gone, port_of, (void *)ports) &&
		       !mx_map_keep(MX_MAP_ID_FDB, &fk, &stat, port_of, (void *)ports),
	       "it goes when its port is of another bridge, elsewhere or gone; a static one goes");
	tap_ok(mx_map_keep(MX_MAP_ID_NEIGH, &nk, &nl, port_of, (void *)ports) &&
		       !mx_map_keep(MX_MAP_ID_NEIGH, &nk_other, &nl, port_of, (void *)ports),
	       "a learned neighbour stays while its port is still its router's");
}

/* ---- the table against the loaded object ---- */

/* Each row's pin: the kernel's map behind it has the row's name, sizes and type. */
static void check_pinned(const char *root, enum mx_map_id id)
{
	const struct mx_map_desc *d = mx_map_desc(id);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", root, d->name);
	fd = bpf_obj_get(path);
	err = fd < 0 ? fd : bpf_obj_get_info_by_fd(fd, &info, &len);
	tap_ok(!err && !strcmp(info.name, d->name) && info.key_size == d->key_size &&
		       info.value_size == d->value_size &&
		       (info.type == BPF_MAP_TYPE_LPM_TRIE) == d->lpm,
	       "%s is pinned, key %zu value %zu bytes%s", d->name, d->key_size, d->value_size,
	       d->lpm ? ", an LPM trie" : "");
	if (fd >= 0)
		close(fd);
}

static void test_learned_here(struct mx_datapath *dp)
{
	struct mx_fdb_key fk = { .bridge_key = 3, .mac = { 0x02, 0, 0, 0, 0, 0x07 } };
	struct mx_fdb_entry local = { .port_key = 1, .flags = MX_FDB_LOCAL, .seen_ns = 5 };
	struct mx_fdb_entry stat = { .port_key = 1, .flags = MX_FDB_STATIC };
	struct mx_learned_entry e = { 0 };
	bool missing = !mx_map_learned_here(dp, MX_MAP_ID_FDB, &fk, &e), learned, other;

	learned = !mx_fdb_update(dp, &fk, &local) &&
		  mx_map_learned_here(dp, MX_MAP_ID_FDB, &fk, &e) && e.seen_ns == 5;
	other = !mx_fdb_update(dp, &fk, &stat) && !mx_map_learned_here(dp, MX_MAP_ID_FDB, &fk, &e);
	tap_ok(missing && learned && other,
	       "learned here: a MAC the map holds as MX_FDB_LOCAL, not a missing or static one");
}

static int no_entry(const void *key, const void *value, void *ctx)
{
	(void)key, (void)value, (void)ctx;
	return 0;
}

static void test_datapath_owned(struct mx_datapath *dp)
{
	__u32 k = 0;
	struct mx_config v = { 0 };

	tap_ok(mx_map_sync(dp, MX_MAP_ID_CONFIG, &k, &v, 1, NULL, NULL, NULL) == -EINVAL &&
		       mx_map_sync(dp, MX_MAP_ID_STATS, NULL, NULL, 0, NULL, NULL, NULL) == -EINVAL &&
		       mx_map_walk(dp, MX_MAP_ID_HOP, no_entry, NULL) == -EINVAL,
	       "maps the agent does not reconcile are neither synced nor walked");
}

static int count_entry(const void *key, const void *values, void *ctx)
{
	(void)key, (void)values;
	++*(size_t *)ctx;
	return 0;
}

/* A walk of a pinned map sees every entry: its key list grows past the sizes at which its
 * buffer moves (64, 128, ... keys; 20000 connections of 20-byte keys, more than a 128 KiB
 * buffer), where a walk that kept a pointer into the old buffer lost its place. */
static void test_walk_all(const char *root, struct mx_datapath *dp)
{
	enum { N = 20000 };
	int fd = mx_datapath_map_fd(dp, MX_MAP_ID_CT);
	struct mx_ct_entry e = { .state = MX_CT_TCP_ESTABLISHED };
	struct mx_pinned_map m = { .fd = -1 };
	size_t seen = 0;
	int err = 0;

	for (__u32 i = 0; i < N && !err; i++) {
		struct mx_ct_key k = { .device = 7, .src = htonl(0x0a000000u + i),
				       .dst = addr("192.0.2.1"), .sport = htons(1000),
				       .dport = htons(80), .proto = 6 };

		err = bpf_map_update_elem(fd, &k, &e, BPF_NOEXIST);
	}
	if (!err)
		err = mx_pinned_open(root, MX_MAP_ID_CT, &m);
	if (!err)
		err = mx_pinned_walk(&m, count_entry, &seen);
	mx_pinned_close(&m);
	tap_check(!err && seen == N, "", "a walk of a pinned map sees every entry (%zu of %d, %s)",
		  seen, (int)N, strerror(-err));
}

static void test_loaded(void)
{
	char root[64];
	struct mx_datapath_opts opts = { .pin_root = root };
	struct mx_datapath *dp = NULL;
	int err;

	/* no "." in the name: bpffs refuses it */
	snprintf(root, sizeof(root), "/sys/fs/bpf/midox-test-map-table-%d", (int)getpid());
	err = mx_datapath_open(&opts, &dp);
	if (!tap_ok(!err, "the object opens with every map as the table declares it"))
		tap_diag("mx_datapath_open: %s", strerror(-err));
	for (int id = 0; !err && id < MX_MAP_ID__MAX; id++)
		check_pinned(root, id);
	if (!err) {
		test_learned_here(dp);
		test_datapath_owned(dp);
		test_walk_all(root, dp);
	}
	mx_datapath_close(dp);
	pin_root_remove(root);
}

int main(void)
{
	mx_log_init("test_map_table", MX_LOG_WARN);
	test_rows();
	test_sync_order();
	test_format_keys();
	test_ownership();
	if (geteuid() == 0)
		test_loaded();
	else
		tap_diag("not root: the table is not checked against the loaded object");
	return tap_done();
}
