// SPDX-License-Identifier: Apache-2.0
/* The datapath's life cycle: open the embedded object, reuse or create the pinned maps,
 * load through the verifier, or take the programs pinned for the same build
 * (progpin.c). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "loader/chain.h"
#include "midox.skel.h"

#define BPFFS_MOUNT "/sys/fs/bpf"

struct bpf_map *dp_map(const struct mx_datapath *dp, enum mx_map_id id)
{
	return mx_map_desc(id) ? mx_map_of(dp->skel, id) : NULL;
}

int mx_datapath_map_fd(const struct mx_datapath *dp, enum mx_map_id id)
{
	return dp_map_fd(dp, id);
}

void mx_datapath_chain_maps(const struct mx_datapath *dp, struct mx_chain_maps *m)
{
	*m = (struct mx_chain_maps){ .gen = dp_map_fd(dp, MX_MAP_ID_CHAIN_GEN),
				     .chain = dp_map_fd(dp, MX_MAP_ID_CHAIN),
				     .rule = dp_map_fd(dp, MX_MAP_ID_CHAIN_RULE),
				     .set = dp_map_fd(dp, MX_MAP_ID_CHAIN_SET),
				     .count = dp_map_fd(dp, MX_MAP_ID_CHAIN_COUNT),
				     .target = dp_map_fd(dp, MX_MAP_ID_CHAIN_NAT_TARGET) };
}

int dp_map_fd(const struct mx_datapath *dp, enum mx_map_id id)
{
	struct bpf_map *map = dp_map(dp, id);

	return map ? bpf_map__fd(map) : -EINVAL;
}

/* bpffs on /sys/fs/bpf: a fresh machine has none mounted. */
static int bpffs_ensure(void)
{
	struct statfs st;

	if (statfs(BPFFS_MOUNT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS_MOUNT, "bpf", 0, "mode=0700")) {
		mx_err("mounting bpffs on %s: %s", BPFFS_MOUNT, strerror(errno));
		return -errno;
	}
	mx_info("mounted bpffs on %s", BPFFS_MOUNT);
	return 0;
}

static int pin_root_prepare(const char *root)
{
	int err;

	if (strncmp(root, BPFFS_MOUNT, strlen(BPFFS_MOUNT)) == 0) {
		err = bpffs_ensure();
		if (err)
			return err;
	}
	err = mx_mkdir_p(root, 0700);
	if (err)
		mx_err("creating pin root %s: %s", root, strerror(-err));
	return err;
}

/* Pins renamed since an earlier tree. Before loading, an upgraded agent takes the old pin
 * over under its new name, so the map and every entry in it carry on and the programs still
 * attached keep forwarding. Only for an unchanged layout: a layout change gets a new map. */
static const struct {
	const char *old_name, *new_name;
} renamed_pins[] = {
	{ "midox_rarp", MX_MAP_NEIGH }, /* a router's neighbour table, not RFC 903 */
};

/* Pins of maps whose layout changed, each replaced by a map of a new name. An upgraded agent
 * removes the old pin: the programs still attached hold that map themselves and forward on
 * it until its first pass, with the new maps filled, replaces them. The entries of those
 * the new programs read from the first tail call on are carried over first (carry.c). */
static const char *const retired_pins[] = {
	"midox_ifport", /* midox_ifport_v2: the port's entry travels with the interface's */
	"midox_ifport_v2", /* midox_ifport_v3: the port's entry has its counter slot */
	"midox_port", /* midox_port_v2: the same */
	"midox_hopport", /* midox_handover: room for hop_router's egress port too */
	"midox_chain", /* midox_chain_v2: a per-CPU hash, rewritten in place (midox/chain.h) */
	/* _v2: the value holds its own key, which the datapath checks after its read */
	"midox_filter",
	"midox_allowed",
	"midox_arp",
	"midox_chstate", /* midox_chstat_v2: the evaluation's packet fields and inputs too */
	"midox_ctpass", /* midox_ctpass_v2: every dynamic NAT rule's decision of a pass */
};

static int pins_retire(const char *root)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(retired_pins) / sizeof(retired_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, retired_pins[i]);
		if (unlink(path) == 0)
			mx_info("pin %s removed: its map's layout changed", path);
		else if (errno != ENOENT) {
			mx_err("removing pin %s: %s", path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int pins_migrate(const char *root)
{
	char old_path[PATH_MAX], new_path[PATH_MAX];

	for (size_t i = 0; i < sizeof(renamed_pins) / sizeof(renamed_pins[0]); i++) {
		snprintf(old_path, sizeof(old_path), "%s/%s", root, renamed_pins[i].old_name);
		snprintf(new_path, sizeof(new_path), "%s/%s", root, renamed_pins[i].new_name);
		if (access(old_path, F_OK))
			continue;
		/* Both there: the new one is live (an agent of this tree ran), the old one stale. */
		if (!access(new_path, F_OK) ? unlink(old_path) : rename(old_path, new_path)) {
			mx_err("migrating pin %s to %s: %s", old_path, new_path, strerror(errno));
			return -errno;
		}
		mx_info("pin %s is now %s", old_path, new_path);
	}
	return pins_retire(root);
}

/* A row of the map table against the object's map: its name, sizes and type. */
static int check_map(const struct mx_datapath *dp, enum mx_map_id id)
{
	const struct mx_map_desc *d = mx_map_desc(id);
	const struct bpf_map *map = dp_map(dp, id);
	bool lpm = bpf_map__type(map) == BPF_MAP_TYPE_LPM_TRIE;
	bool ring = bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF;

	if (strcmp(bpf_map__name(map), d->name)) {
		mx_err("map table: %s is %s in the BPF object", d->name, bpf_map__name(map));
		return -EINVAL;
	}
	if (bpf_map__key_size(map) != d->key_size || bpf_map__value_size(map) != d->value_size ||
	    lpm != d->lpm || ring != d->ring) {
		mx_err("map table: %s has key %u, value %u bytes%s in the BPF object; the table "
		       "says %zu, %zu%s", d->name, bpf_map__key_size(map), bpf_map__value_size(map),
		       lpm ? " (LPM trie)" : ring ? " (ring buffer)" : "", d->key_size,
		       d->value_size, d->lpm ? " (LPM trie)" : d->ring ? " (ring buffer)" : "");
		return -EINVAL;
	}
	return 0;
}

/* The object's maps are the table's, each as declared: no map the table lacks. */
static int check_abi_maps(const struct mx_datapath *dp)
{
	const struct bpf_map *map;
	int err = 0, n = 0;

	for (int id = 0; !err && id < MX_MAP_ID__MAX; id++)
		err = check_map(dp, id);
	bpf_object__for_each_map(map, dp->skel->obj)
		n += !bpf_map__is_internal(map);
	if (!err && n != MX_MAP_ID__MAX) {
		mx_err("map table: the BPF object has %d maps, the table %d", n, MX_MAP_ID__MAX);
		err = -EINVAL;
	}
	return err;
}

/* Private maps: nothing is pinned, nothing pinned is reused. */
static int unpin_all(struct mx_datapath *dp)
{
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, dp->skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	return 0;
}

/* The tail-call slots, also when the program array was reused from a pin: from here on
 * the (possibly still attached) programs continue into this object's device_hop. */
static int hop_slots_fill(struct mx_datapath *dp)
{
	const int progs[MX_HOP_SLOTS] = {
		[MX_HOP_SLOT_BRIDGE] = dp->prog_fd[DP_PROG_HOP_BRIDGE],
		[MX_HOP_SLOT_ROUTER] = dp->prog_fd[DP_PROG_HOP_ROUTER],
		[MX_HOP_SLOT_FLOOD] = dp->prog_fd[DP_PROG_HOP_FLOOD],
	};
	int fd = dp_map_fd(dp, MX_MAP_ID_HOP);

	for (__u32 slot = 0; slot < MX_HOP_SLOTS; slot++) {
		if (bpf_map_update_elem(fd, &slot, &progs[slot], BPF_ANY)) {
			mx_err("filling %s: %s", mx_map_name(MX_MAP_ID_HOP), strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* The BPF object: the one embedded in the skeleton, or the file opts->object_path names
 * (the same maps and programs, checked as the embedded one is). */
static int object_read(struct mx_datapath *dp, const char *path)
{
	size_t size;
	const void *data;
	int err;

	if (!path || !path[0]) {
		data = midox__elf_bytes(&size);
		dp_build_id(data, size, dp->build);
		return 0;
	}
	err = mx_read_file(path, &dp->object, &dp->object_size);
	if (err) {
		mx_err("reading the BPF object %s: %s", path, strerror(-err));
		return err;
	}
	dp_build_id(dp->object, dp->object_size, dp->build);
	mx_info("BPF object from %s (build %s)", path, dp->build);
	return 0;
}

/* midox_ct's size: want (0: the default), or the pinned table's when there is one, which
 * is reused with every connection in it: a new size needs the pin removed (a new, empty
 * table), which the agent never does by itself. */
static int ct_size_set(struct mx_datapath *dp, const char *pin_root, bool pin, __u32 want)
{
	struct bpf_map *map = dp_map(dp, MX_MAP_ID_CT);
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	if (!want)
		want = MX_CT_MAX_ENTRIES_DEFAULT;
	snprintf(path, sizeof(path), "%s/%s", pin_root, MX_MAP_CT);
	fd = pin ? bpf_obj_get(path) : -1;
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &info_len) && info.max_entries != want) {
			mx_warn("%s: the pinned table holds %u connections, %u configured: it is kept "
				"with its connections (remove the pin %s while nothing is tracked to "
				"resize it)", MX_MAP_CT, info.max_entries, want, path);
			want = info.max_entries;
		}
		close(fd);
	}
	return bpf_map__set_max_entries(map, want);
}

static int skel_open(struct mx_datapath *dp, const char *pin_root, bool pin)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin ? pin_root : NULL);
	int err;

	midox__destroy(dp->skel);
	dp->skel = calloc(1, sizeof(*dp->skel));
	if (!dp->skel)
		return -ENOMEM;
	err = midox__create_skeleton(dp->skel);
	if (!err && dp->object) {
		dp->skel->skeleton->data = dp->object;
		dp->skel->skeleton->data_sz = dp->object_size;
	}
	if (!err)
		err = bpf_object__open_skeleton(dp->skel->skeleton, &oo);
	if (err) {
		mx_err("opening the BPF object: %s", strerror(-err));
		return err;
	}
	err = check_abi_maps(dp);
	if (!err && !pin)
		err = unpin_all(dp);
	return err;
}

static double ms_since(uint64_t t0)
{
	return (double)(mx_now_ns() - t0) / 1e6;
}

static int datapath_load(struct mx_datapath *dp, const char *pin_root, bool pin,
			 __u32 ct_max_entries, const struct dp_carried *carried)
{
	uint64_t t0 = mx_now_ns();
	int err = skel_open(dp, pin_root, pin);

	if (!err && pin && !dp_progs_reuse(dp, pin_root)) {
		mx_info("datapath: build %s reused as pinned under %s (nothing loaded) in %.1f ms",
			dp->build, pin_root, ms_since(t0));
		err = dp_carry_write(dp, carried);
		return err ? err : hop_slots_fill(dp);
	}
	/* A failed reuse may have given the skeleton some maps: open it afresh. */
	if (!err && pin)
		err = skel_open(dp, pin_root, pin);
	/* Only a load sizes the table: a reuse takes the pinned one as it is. */
	if (!err)
		err = ct_size_set(dp, pin_root, pin, ct_max_entries);
	if (err)
		return err;
	err = midox__load(dp->skel);
	if (err) {
		mx_err("loading the BPF object%s%s: %s", pin ? " with maps pinned under " : "",
		       pin ? pin_root : "", strerror(-err));
		return err;
	}
	for (int p = 0; p < DP_PROG__MAX; p++)
		dp->prog_fd[p] = bpf_program__fd(dp_prog(dp, p));
	/* The old programs still attached tail-call into the new slots: their entries first. */
	err = dp_carry_write(dp, carried);
	if (!err)
		err = hop_slots_fill(dp);
	if (!err && pin) {
		mx_info("datapath: build %s loaded in %.1f ms", dp->build, ms_since(t0));
		dp_progs_pin(dp, pin_root); /* a failure costs the next start a load, no more */
	}
	return err;
}

int mx_datapath_open(const struct mx_datapath_opts *opts, struct mx_datapath **out)
{
	const char *root = opts && opts->pin_root ? opts->pin_root : MX_PIN_ROOT_DEFAULT;
	bool pin = !(opts && opts->no_pin);
	struct dp_carried carried = { 0 };
	struct mx_datapath *dp;
	int err;

	*out = NULL;
	dp_log_libbpf();
	if (pin) {
		err = pin_root_prepare(root);
		if (!err)
			err = dp_carry_read(root, &carried);
		if (!err)
			err = pins_migrate(root);
		if (err) {
			dp_carried_free(&carried);
			return err;
		}
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		dp_carried_free(&carried);
		return -ENOMEM;
	}
	for (int p = 0; p < DP_PROG__MAX; p++)
		dp->prog_fd[p] = -1;
	err = object_read(dp, opts ? opts->object_path : NULL);
	if (!err)
		err = datapath_load(dp, root, pin, opts ? opts->ct_max_entries : 0, &carried);
	dp_carried_free(&carried);
	if (err) {
		mx_datapath_close(dp);
		return err;
	}
	*out = dp;
	return 0;
}

/* Programs stay attached and maps stay pinned: closing is not detaching. */
void mx_datapath_close(struct mx_datapath *dp)
{
	if (!dp)
		return;
	for (int p = 0; dp->reused && p < DP_PROG__MAX; p++)
		if (dp->prog_fd[p] >= 0)
			close(dp->prog_fd[p]);
	midox__destroy(dp->skel);
	free(dp->object);
	free(dp->slots_held);
	free(dp);
}

bool mx_datapath_reused(const struct mx_datapath *dp)
{
	return dp->reused;
}

int mx_datapath_port_prog_fd(const struct mx_datapath *dp)
{
	return dp->prog_fd[DP_PROG_PORT];
}

int mx_datapath_underlay_prog_fd(const struct mx_datapath *dp)
{
	return dp->prog_fd[DP_PROG_UNDERLAY];
}

int mx_datapath_underlay_xdp_prog_fd(const struct mx_datapath *dp)
{
	return dp->prog_fd[DP_PROG_UNDERLAY_XDP];
}

int mx_datapath_bgp_prog_fd(const struct mx_datapath *dp)
{
	return dp->prog_fd[DP_PROG_BGP];
}
