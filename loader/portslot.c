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
	dp->slots_known = false; /* a write mx_port_slots_sync did not make */
	return bpf_map_update_elem(fd, &slot, &v, BPF_ANY);
}

int mx_port_slot_lookup(struct mx_datapath *dp, __u32 slot, struct mx_port_slot *v)
{
	int fd = dp_map_fd(dp, MX_MAP_ID_PORT_SLOT);

	return fd < 0 ? fd : bpf_map_lookup_elem(fd, &slot, v);
}

/* Bit i of a slot bitmap (MX_TRAFFIC_SLOTS bits). */
static bool bit_get(const __u8 *bits, __u32 i)
{
	return bits[i / 8] & (1u << (i % 8));
}

static void bit_set(__u8 *bits, __u32 i)
{
	bits[i / 8] |= (__u8)(1u << (i % 8));
}

/* The slots that must hold a port, as a bitmap into want_bits: -EINVAL for a slot out of
 * range or two ports with one slot. */
static int slots_desired(const struct mx_port *ports, size_t n, __u8 *want_bits)
{
	for (size_t i = 0; i < n; i++) {
		__u32 slot = ports[i].stats_slot;

		if (!slot)
			continue;
		if (slot >= MX_TRAFFIC_SLOTS || bit_get(want_bits, slot))
			return -EINVAL;
		bit_set(want_bits, slot);
	}
	return 0;
}

/* Slot s of the mapping made to hold want (written only when it differs): 1 if written. */
static unsigned int slot_write(struct mx_port_slot *have, __u32 s, const struct mx_port_slot *want)
{
	if (!memcmp(&have[s], want, sizeof(*want)))
		return 0;
	memcpy(&have[s], want, sizeof(*want));
	return 1;
}

/* Every slot no port wants emptied where it may hold one: those the last sync filled, or
 * all of them when that is not known. */
static unsigned int slots_empty_unwanted(const struct mx_datapath *dp,
					 struct mx_port_slot *have, const __u8 *want_bits)
{
	static const struct mx_port_slot empty;
	unsigned int written = 0;

	for (__u32 s = 1; s < MX_TRAFFIC_SLOTS; s++) {
		if (dp->slots_known && !dp->slots_held[s / 8]) {
			s |= 7; /* none of these 8 was filled */
			continue;
		}
		if (!bit_get(want_bits, s) && (!dp->slots_known || bit_get(dp->slots_held, s)))
			written += slot_write(have, s, &empty);
	}
	return written;
}

/* Through a mapping of the array (it is BPF_F_MMAPABLE), not a batch of syscalls, which
 * took some 100 ms a pass here; a store into the mapping is what an update of an array
 * element is (a copy in place). The slots the ports want are compared, and those the last
 * sync left holding one: a pass costs its ports, not the array's 65536 slots (a 3 MB
 * compare, about 1 ms a pass). Every slot is compared when the last sync's picture is not
 * known: the first sync, or after mx_port_slot_update. */
int mx_port_slots_sync(struct mx_datapath *dp, const __u32 *keys, const struct mx_port *ports,
		       size_t n, unsigned int *written)
{
	size_t size = (size_t)MX_TRAFFIC_SLOTS * sizeof(struct mx_port_slot);
	int fd = dp_map_fd(dp, MX_MAP_ID_PORT_SLOT), err;
	__u8 *want_bits = calloc(MX_TRAFFIC_SLOTS / 8, 1);
	struct mx_port_slot *have = MAP_FAILED;

	*written = 0;
	err = fd < 0 ? fd : want_bits ? 0 : -ENOMEM;
	if (!err)
		err = slots_desired(ports, n, want_bits);
	if (!err) {
		have = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (have == MAP_FAILED)
			err = -errno;
	}
	for (size_t i = 0; !err && i < n; i++) {
		struct mx_port_slot v = { .port_key = keys[i], .port = ports[i] };

		if (ports[i].stats_slot)
			*written += slot_write(have, ports[i].stats_slot, &v);
	}
	if (!err)
		*written += slots_empty_unwanted(dp, have, want_bits);
	if (have != MAP_FAILED)
		munmap(have, size);
	if (!err) {
		free(dp->slots_held);
		dp->slots_held = want_bits;
		dp->slots_known = true;
	} else {
		free(want_bits);
	}
	return err;
}
