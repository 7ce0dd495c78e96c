// SPDX-License-Identifier: Apache-2.0
/* midox_portslot: the ports' entries again, by counter slot (include/midox/port.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "midox/stats.h"

int mx_port_slot_update(struct mx_datapath *dp, __u32 slot, __u32 port_key,
			const struct mx_port *port)
{
	struct mx_port_slot v = { .port_key = port_key };
	int fd = dp_map_fd(dp, MX_MAP_ID_PORT_SLOT);

	if (fd < 0)
		return fd;
	if (!slot || slot >= MX_TRAFFIC_SLOTS)
		return -EINVAL;
	if (port)
		v.port = *port;
	return bpf_map_update_elem(fd, &slot, &v, BPF_ANY);
}

int mx_port_slot_lookup(struct mx_datapath *dp, __u32 slot, struct mx_port_slot *v)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_PORT_SLOT);

	return fd < 0 ? fd : bpf_map_lookup_elem(fd, &slot, v);
}

/* The array as it must be: each port with a slot at its slot, every other slot empty. */
static int slots_desired(const __u32 *keys, const struct mx_port *ports, size_t n,
			 struct mx_port_slot *want)
{
	for (size_t i = 0; i < n; i++) {
		__u32 slot = ports[i].stats_slot;

		if (!slot)
			continue;
		if (slot >= MX_TRAFFIC_SLOTS || want[slot].port_key)
			return -EINVAL; /* out of range, or two ports with one slot */
		want[slot].port_key = keys[i];
		want[slot].port = ports[i];
	}
	return 0;
}

/* The agent compares all 65536 slots on every pass: through a mapping of the array (it is
 * BPF_F_MMAPABLE), not a batch of syscalls, which took some 100 ms a pass here. A store
 * into the mapping is what an update of an array element is (a copy in place). */
int mx_port_slots_sync(struct mx_datapath *dp, const __u32 *keys, const struct mx_port *ports,
		       size_t n, unsigned int *written)
{
	size_t size = (size_t)MX_TRAFFIC_SLOTS * sizeof(struct mx_port_slot);
	int fd = dp_map_fd(dp, MX_MAP_ID_PORT_SLOT), err;
	struct mx_port_slot *want = calloc(MX_TRAFFIC_SLOTS, sizeof(*want));
	struct mx_port_slot *have = MAP_FAILED;

	*written = 0;
	err = fd < 0 ? fd : want ? 0 : -ENOMEM;
	if (!err)
		err = slots_desired(keys, ports, n, want);
	if (!err) {
		have = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (have == MAP_FAILED)
			err = -errno;
	}
	for (__u32 slot = 1; !err && slot < MX_TRAFFIC_SLOTS; slot++) {
		if (!memcmp(&have[slot], &want[slot], sizeof(*have)))
			continue;
		memcpy(&have[slot], &want[slot], sizeof(*have));
		(*written)++;
	}
	if (have != MAP_FAILED)
		munmap(have, size);
	free(want);
	return err;
}
