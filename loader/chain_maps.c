// SPDX-License-Identifier: Apache-2.0
/* The rule chains' maps pinned under a pin root (loader/chain.h): created, or reused as
 * they are so that a restarted agent finds the live version still evaluating; and opened
 * read-only by a tool that reads the rules' counters. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "loader/chain.h"
#include "chain_maps.skel.h"

struct mx_chain_pins {
	struct chain_maps *skel;
};

static void fds_of(const struct chain_maps *skel, struct mx_chain_maps *m)
{
	*m = (struct mx_chain_maps){ .gen = bpf_map__fd(skel->maps.midox_chgen),
				     .chain = bpf_map__fd(skel->maps.midox_chain),
				     .rule = bpf_map__fd(skel->maps.midox_chrule),
				     .set = bpf_map__fd(skel->maps.midox_chset),
				     .count = bpf_map__fd(skel->maps.midox_chcount) };
}

int mx_chain_maps_open(const char *pin_root, bool no_pin, struct mx_chain_pins **out,
		       struct mx_chain_maps *maps)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = no_pin ? NULL : pin_root);
	struct mx_chain_pins *p = calloc(1, sizeof(*p));
	struct bpf_map *map;
	int err = 0;

	if (!p)
		return -ENOMEM;
	p->skel = chain_maps__open_opts(&oo);
	if (!p->skel)
		err = -errno;
	if (!err && no_pin)
		bpf_object__for_each_map(map, p->skel->obj) {
			err = bpf_map__set_pin_path(map, NULL);
			if (err)
				break;
		}
	if (!err)
		err = chain_maps__load(p->skel);
	if (err) {
		mx_err("chain maps%s%s: cannot load: %s", no_pin ? "" : " under ",
		       no_pin ? "" : pin_root, strerror(-err));
		mx_chain_maps_close(p);
		return err;
	}
	fds_of(p->skel, maps);
	*out = p;
	return 0;
}

void mx_chain_maps_close(struct mx_chain_pins *p)
{
	if (!p)
		return;
	chain_maps__destroy(p->skel);
	free(p);
}

/* One pin, its sizes checked against the ABI. */
static int pin_get(const char *root, const char *name, __u32 key_size, __u32 value_size,
		   int *fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	*fd = bpf_obj_get(path);
	if (*fd < 0)
		return *fd == -1 ? -errno : *fd;
	if (bpf_obj_get_info_by_fd(*fd, &info, &len))
		return -errno;
	return info.key_size == key_size && info.value_size == value_size ? 0 : -EPROTO;
}

int mx_chain_maps_open_pinned(const char *pin_root, struct mx_chain_maps *m)
{
	int err;

	*m = (struct mx_chain_maps){ -1, -1, -1, -1, -1 };
	err = pin_get(pin_root, MX_MAP_CHAIN_GEN, sizeof(__u32), sizeof(struct mx_chain_gen),
		      &m->gen);
	if (!err)
		err = pin_get(pin_root, MX_MAP_CHAIN, sizeof(__u32), sizeof(struct mx_chain),
			      &m->chain);
	if (!err)
		err = pin_get(pin_root, MX_MAP_CHAIN_RULE, sizeof(__u32),
			      sizeof(struct mx_chain_rule), &m->rule);
	if (!err)
		err = pin_get(pin_root, MX_MAP_CHAIN_SET, sizeof(struct mx_chain_set_key),
			      sizeof(__u32), &m->set);
	if (!err)
		err = pin_get(pin_root, MX_MAP_CHAIN_COUNT, sizeof(__u32),
			      sizeof(struct mx_chain_counter), &m->count);
	if (err)
		mx_chain_maps_close_fds(m);
	return err;
}

void mx_chain_maps_close_fds(struct mx_chain_maps *m)
{
	int *fds[] = { &m->gen, &m->chain, &m->rule, &m->set, &m->count };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
