// SPDX-License-Identifier: Apache-2.0
/* Programs pinned by build. After a load, the programs are pinned under
 * <pin root>/prog-<build>, where <build> hashes the BPF object's bytes. An agent started
 * again with the same object finds them there and takes them, with the pinned maps, as they
 * are: no load, no verifier (1 to 5 s), and the programs attached to the interfaces are the
 * ones it holds, so re-attaching them changes nothing. Another object has another build: it
 * is loaded, pinned, and the older build's pins go (its programs live on while attached,
 * until the first pass replaces them). bpffs holds no plain files, so the build is in the
 * directory's name. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "base/log.h"
#include "midox.skel.h"

#define PROG_DIR_PREFIX "prog-"
#define PROG_DIR_PARTIAL "-partial" /* bpffs refuses names with a dot */

static const char *const prog_names[DP_PROG__MAX] = {
	[DP_PROG_PORT] = "port_ingress",
	[DP_PROG_UNDERLAY] = "underlay_ingress",
	[DP_PROG_BGP] = "bgp_speaker_ingress",
	[DP_PROG_HOP_BRIDGE] = "hop_bridge",
	[DP_PROG_HOP_ROUTER] = "hop_router",
	[DP_PROG_HOP_FLOOD] = "hop_flood",
	[DP_PROG_UNDERLAY_XDP] = "underlay_xdp",
};

struct bpf_program *dp_prog(const struct mx_datapath *dp, enum dp_prog p)
{
	struct bpf_program *const progs[DP_PROG__MAX] = {
		[DP_PROG_PORT] = dp->skel->progs.port_ingress,
		[DP_PROG_UNDERLAY] = dp->skel->progs.underlay_ingress,
		[DP_PROG_BGP] = dp->skel->progs.bgp_speaker_ingress,
		[DP_PROG_HOP_BRIDGE] = dp->skel->progs.hop_bridge,
		[DP_PROG_HOP_ROUTER] = dp->skel->progs.hop_router,
		[DP_PROG_HOP_FLOOD] = dp->skel->progs.hop_flood,
		[DP_PROG_UNDERLAY_XDP] = dp->skel->progs.underlay_xdp,
	};

	return progs[p];
}

void dp_build_id(const void *data, size_t size, char build[DP_BUILD_ID_LEN])
{
	const unsigned char *b = data;
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < size; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	snprintf(build, DP_BUILD_ID_LEN, "%016llx", h);
}

static void prog_dir(const char *root, const char *build, const char *suffix, char *out,
		     size_t len)
{
	snprintf(out, len, "%s/" PROG_DIR_PREFIX "%s%s", root, build, suffix);
}

static void prog_fds_close(struct mx_datapath *dp)
{
	for (int p = 0; p < DP_PROG__MAX; p++) {
		if (dp->prog_fd[p] >= 0)
			close(dp->prog_fd[p]);
		dp->prog_fd[p] = -1;
	}
}

/* Map ids the pinned programs use, into ids (n at most max). */
static int prog_map_ids(const struct mx_datapath *dp, __u32 *ids, __u32 max, __u32 *n)
{
	*n = 0;
	for (int p = 0; p < DP_PROG__MAX; p++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info), room = max - *n;

		info.nr_map_ids = room;
		info.map_ids = (__u64)(unsigned long)(ids + *n);
		if (bpf_obj_get_info_by_fd(dp->prog_fd[p], &info, &len))
			return -errno;
		if (info.type != (p == DP_PROG_UNDERLAY_XDP ? BPF_PROG_TYPE_XDP :
							     BPF_PROG_TYPE_SCHED_CLS) ||
		    info.nr_map_ids > room)
			return -EPROTO;
		*n += info.nr_map_ids;
	}
	return 0;
}

static bool id_in(const __u32 *ids, __u32 n, __u32 id)
{
	for (__u32 i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Every map the programs use is taken from its pin: a pin that is not one of those maps
 * (made again behind the programs' back) means the programs cannot be reused. */
static int maps_reuse(struct mx_datapath *dp)
{
	__u32 ids[256], n;
	struct bpf_map *map;
	int err = prog_map_ids(dp, ids, sizeof(ids) / sizeof(ids[0]), &n);

	bpf_object__for_each_map(map, dp->skel->obj) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		const char *path = bpf_map__pin_path(map);
		int fd;

		if (err || bpf_map__is_internal(map))
			continue;
		if (!path)
			return -ENOENT;
		fd = bpf_obj_get(path);
		if (fd < 0)
			return -errno;
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			err = -errno;
		else if (!id_in(ids, n, info.id))
			err = -ESTALE;
		else
			err = bpf_map__reuse_fd(map, fd);
		close(fd);
	}
	return err;
}

int dp_progs_reuse(struct mx_datapath *dp, const char *root)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	int err = 0;

	prog_dir(root, dp->build, "", dir, sizeof(dir));
	for (int p = 0; p < DP_PROG__MAX; p++)
		dp->prog_fd[p] = -1;
	for (int p = 0; !err && p < DP_PROG__MAX; p++) {
		snprintf(path, sizeof(path), "%s/%s", dir, prog_names[p]);
		dp->prog_fd[p] = bpf_obj_get(path);
		if (dp->prog_fd[p] < 0)
			err = -errno;
	}
	if (!err)
		err = maps_reuse(dp);
	if (err) {
		prog_fds_close(dp);
		if (err != -ENOENT)
			mx_warn("the programs pinned under %s cannot be reused (%s): loading them "
				"again", dir, strerror(-err));
		return err;
	}
	dp->reused = true;
	return 0;
}

/* A directory of pins and the pins in it (bpffs: pins and directories only). */
static int pin_dir_remove(const char *dir)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct dirent *e;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	closedir(d);
	if (!err && rmdir(dir) && errno != ENOENT)
		err = -errno;
	return err;
}

/* Every prog-* directory under root but keep's. */
static void other_builds_remove(const char *root, const char *keep)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct dirent *e;
	DIR *d = opendir(root);
	int err;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, PROG_DIR_PREFIX, strlen(PROG_DIR_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		if (!strcmp(path, keep))
			continue;
		err = pin_dir_remove(path);
		if (err)
			mx_warn("removing the pins of another build, %s: %s", path, strerror(-err));
		else
			mx_info("pins of another build removed: %s", path);
	}
	closedir(d);
}

int dp_progs_pin(struct mx_datapath *dp, const char *root)
{
	char dir[PATH_MAX], partial[PATH_MAX], path[PATH_MAX + 32];
	int err;

	prog_dir(root, dp->build, "", dir, sizeof(dir));
	prog_dir(root, dp->build, PROG_DIR_PARTIAL, partial, sizeof(partial));
	/* Left by a failed earlier pin, or pins of this build that could not be reused. */
	err = pin_dir_remove(partial);
	if (!err)
		err = pin_dir_remove(dir);
	if (!err && mkdir(partial, 0700))
		err = -errno;
	for (int p = 0; !err && p < DP_PROG__MAX; p++) {
		snprintf(path, sizeof(path), "%s/%s", partial, prog_names[p]);
		if (bpf_obj_pin(dp->prog_fd[p], path))
			err = -errno;
	}
	/* Whole or not at all: a reader finds the directory complete or finds none. */
	if (!err && rename(partial, dir))
		err = -errno;
	if (err) {
		mx_warn("pinning the programs under %s: %s (a restart will load them again)", dir,
			strerror(-err));
		pin_dir_remove(partial);
		return err;
	}
	other_builds_remove(root, dir);
	return 0;
}
