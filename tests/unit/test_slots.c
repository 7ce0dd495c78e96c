// SPDX-License-Identifier: Apache-2.0
/* The agent's counter slots (agent/slots.c): every port gets a slot of its own, keeps it
 * across passes and across a restart (read back from the pinned midox_port_v2), a slot freed
 * by a port that went away is reused no earlier than the next pass and zeroed before, ports
 * bound here are served first when slots run short, and interface copies follow. Maps are
 * pinned under a private root (as root), so the restart reads real pins. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/desired.h"
#include "agent/slots.h"
#include "loader/loader.h"
#include "base/log.h"
#include "pin_root.h"
#include "tap.h"

static char root[128];

static void pins_remove(void)
{
	pin_root_remove(root);
}

/* A pass as the agent makes it: assign, then write the ports as a sync would (every key of
 * keys, the others of the last pass deleted). */
static int pass(struct stats_slots *s, struct mx_datapath *dp, size_t n, const __u32 *keys,
		struct mx_port *ports, const __u32 *gone, size_t n_gone)
{
	int err = slots_assign(s, dp, n, keys, ports, 0, NULL);

	for (size_t i = 0; !err && i < n; i++)
		err = mx_port_update(dp, keys[i], &ports[i]);
	for (size_t i = 0; !err && i < n_gone; i++)
		err = mx_port_delete(dp, gone[i]);
	return err;
}

static bool distinct_nonzero(const struct mx_port *p, size_t n)
{
	static unsigned char seen[MX_TRAFFIC_SLOTS];

	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		if (!p[i].stats_slot || p[i].stats_slot >= MX_TRAFFIC_SLOTS || seen[p[i].stats_slot])
			return false;
		seen[p[i].stats_slot] = 1;
	}
	return true;
}

/* A slot's counters set to n on every CPU, as traffic would leave them. */
static int traffic_fill(struct mx_datapath *dp, __u32 slot, __u64 n)
{
	int ncpu = libbpf_num_possible_cpus(), fd = -1, err;
	struct mx_traffic *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));
	char path[256];

	(void)dp;
	snprintf(path, sizeof(path), "%s/%s", root, MX_MAP_TRAFFIC);
	fd = bpf_obj_get(path);
	for (int c = 0; v && c < ncpu; c++)
		v[c] = (struct mx_traffic){ n, n, n, n };
	err = !v || fd < 0 ? -EINVAL : bpf_map_update_elem(fd, &slot, v, BPF_ANY);
	if (fd >= 0)
		close(fd);
	free(v);
	return err;
}

/* The hints slots_assign_desired writes after the slots: each interior port names its
 * peer's slot, each route's next hop its egress port's (NORMAL only), the rest 0. */
static void test_hints(void)
{
	__u32 keys[3] = { 20, 21, 22 };
	struct mx_port ports[3] = {
		{ .flags = MX_PORT_ROUTER | MX_PORT_INTERIOR, .peer_key = 21 },
		{ .flags = MX_PORT_INTERIOR, .peer_key = 20 },
		{ .flags = MX_PORT_ROUTER | MX_PORT_LOCAL },
	};
	struct mx_route_key rkeys[2] = { { 56, 5, 0x0a }, { 64, 5, 0x0b } };
	struct mx_route routes[2] = {
		{ .n = 2, .nh = { { .type = MX_ROUTE_NORMAL, .port_key = 20 },
				  { .type = MX_ROUTE_NORMAL, .port_key = 22 } } },
		{ .n = 1, .nh = { { .type = MX_ROUTE_LOCAL, .port_key = 22 },
				  { .type = MX_ROUTE_NORMAL, .port_key = 21 } } }, /* past n */
	};
	struct stats_slots s = { 0 };
	struct desired d = { 0 };
	__u32 s20, s21, s22;
	int err;

	d.maps[MX_MAP_ID_PORT] = (struct kv_array){ .keys = keys, .values = ports, .n = 3 };
	d.maps[MX_MAP_ID_ROUTE] = (struct kv_array){ .keys = rkeys, .values = routes, .n = 2 };
	err = slots_init(&s, NULL) || slots_assign_desired(&s, NULL, &d);
	s20 = slots_lookup(&s, 20);
	s21 = slots_lookup(&s, 21);
	s22 = slots_lookup(&s, 22);
	tap_ok(!err && s20 && s21 && s22 && ports[0].peer_slot == s21 &&
		       ports[1].peer_slot == s20 && !ports[2].peer_slot,
	       "each interior port names its peer's slot (mx_port.peer_slot), an exterior none");
	tap_ok(!err && routes[0].nh[0].port_slot == s20 && routes[0].nh[1].port_slot == s22 &&
		       !routes[1].nh[0].port_slot && !routes[1].nh[1].port_slot,
	       "each route's next hop names its egress port's slot (mx_nexthop.port_slot); a "
	       "local hop and the entries past n none");
	slots_free(&s);
}

int main(void)
{
	struct mx_datapath_opts opts = { 0 };
	struct mx_datapath *dp = NULL;
	struct stats_slots s = { 0 }, r = { 0 };
	__u32 keys[4] = { 11, 12, 13, 14 }, keys2[4] = { 11, 13, 14, 15 }, gone12 = 12;
	struct mx_port p[4], q[4];
	struct mx_ifport ifp = { .port_key = 13 };
	struct mx_traffic t;
	__u32 slot12;
	char diag[256] = "";

	mx_log_init("test_slots", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (BPF maps pinned under /sys/fs/bpf)");
	snprintf(root, sizeof(root), "/sys/fs/bpf/midox-test-slots-%d", (int)getpid());
	opts.pin_root = root;
	if (mx_datapath_open(&opts, &dp) || slots_init(&s, dp))
		return pins_remove(), tap_bail("cannot open a datapath pinned under a private root");

	/* Pass 1: the remote port 11 and the local 12..14; local ports first. */
	memset(p, 0, sizeof(p));
	for (int i = 1; i < 4; i++)
		p[i].flags = MX_PORT_LOCAL;
	tap_ok(!pass(&s, dp, 4, keys, p, NULL, 0) && distinct_nonzero(p, 4) &&
		       p[1].stats_slot < p[0].stats_slot && p[2].stats_slot < p[0].stats_slot &&
		       p[3].stats_slot < p[0].stats_slot,
	       "every port gets a slot of its own, none the host's (0), local ports first");
	slot12 = p[1].stats_slot;

	/* Pass 2: 12 goes, 15 comes: the others keep theirs, 15 does not get 12's yet. */
	tap_ok(traffic_fill(dp, slot12, 5) == 0, "traffic counted in port 12's slot");
	memset(q, 0, sizeof(q));
	tap_ok(!pass(&s, dp, 4, keys2, q, &gone12, 1) && distinct_nonzero(q, 4) &&
		       q[0].stats_slot == p[0].stats_slot && q[1].stats_slot == p[2].stats_slot &&
		       q[2].stats_slot == p[3].stats_slot && q[3].stats_slot != slot12,
	       "a pass keeps every remaining port's slot; a slot freed in it is not given out in it");
	tap_ok(slots_lookup(&s, 12) == 0 && slots_lookup(&s, 15) == q[3].stats_slot,
	       "the assignment follows the ports");

	/* A pass whose sync failed: the pins may still name 12's slot, so the next pass keeps
	 * it taken; the one after a good sync frees it (the fill below takes it). */
	slots_hold(&s);
	memset(q, 0, sizeof(q));
	tap_ok(!slots_assign(&s, dp, 4, keys2, q, 0, NULL) && s.used[slot12] && s.n_released == 1 &&
		       s.released[0] == slot12,
	       "after a failed sync a released slot stays taken for another pass");

	/* Restart: a new agent reads the pins and assigns the same slots. */
	memset(q, 0, sizeof(q));
	tap_ok(!slots_init(&r, dp) && !slots_assign(&r, NULL, 4, keys2, q, 1, &ifp) &&
		       q[0].stats_slot == slots_lookup(&s, 11) &&
		       q[1].stats_slot == slots_lookup(&s, 13) &&
		       q[2].stats_slot == slots_lookup(&s, 14) &&
		       q[3].stats_slot == slots_lookup(&s, 15) &&
		       ifp.port.stats_slot == slots_lookup(&s, 13),
	       "a restart reads the slots back from the pinned midox_port_v2 (and the interface copy follows)");
	slots_free(&r);

	/* Pass 3: the slot 12 left is free again; the next new ports take free slots, 12's
	 * among them once the cursor comes round, zeroed first. Fill every slot but one so that
	 * a new port must take 12's. */
	{
		size_t n = MX_TRAFFIC_SLOTS - 1 - 4; /* every free slot, 12's included */
		__u32 *k = calloc(n + 4, sizeof(*k));
		struct mx_port *v = calloc(n + 4, sizeof(*v));
		bool got12 = false, zeroed;

		for (size_t i = 0; k && v && i < n + 4; i++)
			k[i] = i < 4 ? keys2[i] : 1000 + (__u32)i;
		if (!k || !v || slots_assign(&s, dp, n + 4, k, v, 0, NULL))
			snprintf(diag, sizeof(diag), "assigning %zu ports failed", n + 4);
		for (size_t i = 4; !*diag && i < n + 4; i++)
			got12 = got12 || v[i].stats_slot == slot12;
		zeroed = !mx_traffic_read(dp, slot12, &t) && !t.rx_packets && !t.tx_bytes;
		if (!*diag && (!distinct_nonzero(v, n + 4) || !got12 || !zeroed))
			snprintf(diag, sizeof(diag), "distinct %d, slot %u reused %d, zeroed %d",
				 distinct_nonzero(v, n + 4), slot12, got12, zeroed);
		tap_check(!*diag, diag, "a freed slot is reused at the next pass, zeroed on every CPU first");

		/* Full: one more port gets none (counted in midox_stats), nothing fails. */
		k = realloc(k, (n + 5) * sizeof(*k));
		v = realloc(v, (n + 5) * sizeof(*v));
		if (k && v) {
			k[n + 4] = 99999;
			memset(v, 0, (n + 5) * sizeof(*v));
		}
		tap_ok(k && v && !slots_assign(&s, dp, n + 5, k, v, 0, NULL) && !v[n + 4].stats_slot &&
			       distinct_nonzero(v, n + 4),
		       "past the last slot a port gets none, the others keep theirs");
		free(k);
		free(v);
	}
	slots_free(&s);
	mx_datapath_close(dp);
	pins_remove();
	test_hints();
	return tap_done();
}
