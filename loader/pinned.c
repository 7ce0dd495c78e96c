// SPDX-License-Identifier: Apache-2.0
/* The pinned maps read as they are, for tools that look at a host's datapath (midox
 * datapath): a pin opened by the table's name and checked against the table's sizes,
 * nothing loaded, created or written. And the walk over an fd's keys the sync shares. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

int dp_map_keys(int fd, size_t key_size, void **keys, size_t *n)
{
	size_t cap = 64, count = 0;
	char *buf = malloc(cap * key_size);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (count == cap) {
			char *grown = realloc(buf, 2 * cap * key_size);

			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
			cap *= 2;
		}
		/* the previous key by its index: realloc may have moved the buffer */
		if (bpf_map_get_next_key(fd, count ? buf + (count - 1) * key_size : NULL,
					 buf + count * key_size))
			break;
		count++;
	}
	*keys = buf;
	*n = count;
	return 0;
}

static bool percpu_type(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

int mx_pinned_open(const char *pin_root, enum mx_map_id id, struct mx_pinned_map *out)
{
	const struct mx_map_desc *d = mx_map_desc(id);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, ncpu;

	memset(out, 0, sizeof(*out));
	out->id = id;
	out->fd = -1;
	if (!d)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", pin_root, d->name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return fd;
	out->fd = fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	out->key_size = info.key_size;
	out->value_size = info.value_size;
	if (info.key_size != d->key_size || info.value_size != d->value_size)
		return -EPROTO;
	out->n_values = 1;
	if (percpu_type(info.type)) {
		ncpu = libbpf_num_possible_cpus();
		if (ncpu < 0)
			return ncpu;
		out->n_values = (unsigned int)ncpu;
	}
	return 0;
}

void mx_pinned_close(struct mx_pinned_map *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

/* Every key first: an entry the datapath adds or removes meanwhile cannot restart the walk
 * (a hash map's next key after a deleted one is the first). One gone since is left out. */
int mx_pinned_walk(const struct mx_pinned_map *m,
		   int (*fn)(const void *key, const void *values, void *ctx), void *ctx)
{
	/* A per-CPU value is 8-byte aligned for each CPU. */
	size_t stride = m->n_values > 1 ? (m->value_size + 7) / 8 * 8 : m->value_size;
	void *keys = NULL, *values = calloc(m->n_values, stride);
	size_t n = 0;
	int err = values ? dp_map_keys(m->fd, m->key_size, &keys, &n) : -ENOMEM;

	for (size_t i = 0; !err && i < n; i++) {
		const char *key = (const char *)keys + i * m->key_size;

		err = bpf_map_lookup_elem(m->fd, key, values);
		if (err == -ENOENT) {
			err = 0;
			continue;
		}
		if (!err)
			err = fn(key, values, ctx);
	}
	free(keys);
	free(values);
	return err;
}
