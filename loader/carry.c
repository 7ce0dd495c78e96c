// SPDX-License-Identifier: Apache-2.0
/* The entries of maps whose layout changed, carried from the pins an earlier tree left into
 * this tree's maps at open (docs/datapath.md, "Pin names are an interface"). The programs
 * still attached from the earlier tree hold the old maps, but they tail-call into this
 * object's hop_bridge, hop_router and hop_flood, which read the new ones, and the
 * underlay's program, reattached at start, decapsulates to them: without the entries those
 * frames would find no port, no filter, no allowed pair and no ARP entry until the agent's
 * first pass. Read before the old pins are removed, written before the tail-call slots
 * point at this object's programs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "base/log.h"
#include "midox/bridge.h"
#include "midox/chain.h"
#include "midox/port.h"

/* midox_port: 32-byte entries, no counter slot (each carried port is counted in midox_stats
 * until the first pass gives it one). */
#define OLD_PORT_SIZE 32
_Static_assert(sizeof(struct mx_port) >= OLD_PORT_SIZE, "the old port entry is the new one's head");
/* midox_filter {in_chain, out_chain}, midox_allowed {mac, flags}, midox_arp {mac, flags}:
 * the new values are the old ones after the key. */
#define OLD_TAIL_SIZE 8
_Static_assert(sizeof(struct mx_filter) == sizeof(__u32) + OLD_TAIL_SIZE, "owner, then the old filter");
_Static_assert(sizeof(struct mx_allowed) == sizeof(struct mx_allowed_key) + OLD_TAIL_SIZE,
	       "key, then the old pair");
_Static_assert(sizeof(struct mx_arp_entry) == sizeof(struct mx_arp_key) + OLD_TAIL_SIZE,
	       "key, then the old entry");

static void port_convert(const void *key, const void *old, void *value, size_t key_size)
{
	(void)key;
	(void)key_size;
	memcpy(value, old, OLD_PORT_SIZE);
}

/* The key the new value holds first, then the old value. */
static void keyed_convert(const void *key, const void *old, void *value, size_t key_size)
{
	memcpy(value, key, key_size);
	memcpy((char *)value + key_size, old, OLD_TAIL_SIZE);
}

static const struct carry {
	const char *old_pin;
	enum mx_map_id id;
	size_t key_size, old_value_size;
	/* value (zeroed, the new map's value size) from key's old value */
	void (*convert)(const void *key, const void *old, void *value, size_t key_size);
} carries[DP_CARRY__MAX] = {
	[DP_CARRY_PORT] = { "midox_port", MX_MAP_ID_PORT, sizeof(__u32), OLD_PORT_SIZE,
			    port_convert },
	[DP_CARRY_FILTER] = { "midox_filter", MX_MAP_ID_FILTER, sizeof(__u32), OLD_TAIL_SIZE,
			      keyed_convert },
	[DP_CARRY_ALLOWED] = { "midox_allowed", MX_MAP_ID_ALLOWED, sizeof(struct mx_allowed_key),
			       OLD_TAIL_SIZE, keyed_convert },
	[DP_CARRY_ARP] = { "midox_arp", MX_MAP_ID_ARP, sizeof(struct mx_arp_key), OLD_TAIL_SIZE,
			   keyed_convert },
};

void dp_carried_free(struct dp_carried *c)
{
	for (int i = 0; i < DP_CARRY__MAX; i++) {
		free(c->map[i].keys);
		free(c->map[i].values);
	}
	memset(c, 0, sizeof(*c));
}

/* The old values in the new layout, into m. */
static int carry_convert(const struct carry *cr, const void *keys, const void *old, size_t n,
			 struct dp_carried_map *m)
{
	size_t vsize = mx_map_desc(cr->id)->value_size;

	m->values = calloc(n, vsize);
	if (!m->values)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		cr->convert((const char *)keys + i * cr->key_size,
			    (const char *)old + i * cr->old_value_size, (char *)m->values + i * vsize,
			    cr->key_size);
	return 0;
}

/* The entries of one old pin, if it is there with the old layout; else none (not an error:
 * only memory is). */
static int carry_read_one(const char *root, const struct carry *cr, struct dp_carried_map *m)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	void *keys = NULL, *old = NULL;
	size_t n = 0;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", root, cr->old_pin);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (!err && info.key_size == cr->key_size && info.value_size == cr->old_value_size)
		err = dp_map_entries(fd, cr->key_size, cr->old_value_size, &keys, &old, &n);
	close(fd);
	if (err) {
		mx_warn("reading %s to carry its entries over: %s", path, strerror(-err));
		n = 0;
	}
	if (n && carry_convert(cr, keys, old, n, m) == 0) {
		m->keys = keys;
		m->n = n;
		keys = NULL;
	} else if (n) {
		err = -ENOMEM;
	}
	free(keys);
	free(old);
	return err == -ENOMEM ? err : 0;
}

int dp_carry_read(const char *root, struct dp_carried *c)
{
	int err = 0;

	memset(c, 0, sizeof(*c));
	for (int i = 0; !err && i < DP_CARRY__MAX; i++)
		err = carry_read_one(root, &carries[i], &c->map[i]);
	if (err)
		dp_carried_free(c);
	return err;
}

/* Into the new maps, where the key is not there already (an entry of this tree's wins). */
int dp_carry_write(struct mx_datapath *dp, const struct dp_carried *c)
{
	for (int i = 0; i < DP_CARRY__MAX; i++) {
		const struct carry *cr = &carries[i];
		const struct dp_carried_map *m = &c->map[i];
		size_t vsize = mx_map_desc(cr->id)->value_size;
		int fd = dp_map_fd(dp, cr->id), err;

		for (size_t j = 0; j < m->n; j++) {
			err = bpf_map_update_elem(fd, (const char *)m->keys + j * cr->key_size,
						  (const char *)m->values + j * vsize, BPF_NOEXIST);
			if (err && err != -EEXIST) {
				mx_err("carrying an entry of %s into %s: %s", cr->old_pin,
				       mx_map_name(cr->id), strerror(-err));
				return err;
			}
		}
		if (m->n)
			mx_info("%zu entries carried from %s into %s", m->n, cr->old_pin,
				mx_map_name(cr->id));
	}
	return 0;
}
