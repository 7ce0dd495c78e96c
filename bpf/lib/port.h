/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_ifport_v3 (interface -> its port and the port's entry), midox_port_v2 (port ->
 * where it lives) and midox_portslot (counter slot -> a copy of the port's entry). */
#ifndef MX_BPF_PORT_H
#define MX_BPF_PORT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/port.h"
#include "midox/stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_IFPORT_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct mx_ifport);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_ifport_v3 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_PORT_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* read-only to the datapath: no update cost */
	__type(key, __u32);
	__type(value, struct mx_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_port_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_TRAFFIC_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE); /* the agent compares and writes it in place */
	__type(key, __u32);
	__type(value, struct mx_port_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_portslot SEC(".maps");

static __always_inline const struct mx_ifport *ifport_lookup(__u32 ifindex)
{
	return bpf_map_lookup_elem(&midox_ifport_v3, &ifindex);
}

static __always_inline const struct mx_port *port_lookup(__u32 port_key)
{
	return bpf_map_lookup_elem(&midox_port_v2, &port_key);
}

/* Port port_key's entry copied into *out: from midox_portslot when slot (a hint, 0 = none)
 * holds that port's copy, an array lookup instead of a hash lookup; else from midox_port_v2.
 * Whether there is one. A copy on the stack, so that the verifier follows one path on from
 * here, not one per map the entry came from (and the entry is read once). */
static __always_inline bool port_read_slot(__u32 port_key, __u32 slot, struct mx_port *out)
{
	const struct mx_port_slot *s;
	const struct mx_port *p;

	if (slot) {
		s = bpf_map_lookup_elem(&midox_portslot, &slot);
		if (s && s->port_key == port_key) {
			*out = s->port;
			return true;
		}
	}
	p = port_lookup(port_key);
	if (!p)
		return false;
	*out = *p;
	return true;
}

/* Set down by the operator, itself or its bridge or router: nothing enters or leaves it. */
static __always_inline bool port_down(const struct mx_port *port)
{
	return port->flags & MX_PORT_DOWN;
}

/* Port key of the port bound to ifindex, MX_TUNNEL_KEY_NONE when there is none. */
static __always_inline __u32 ifport_key(__u32 ifindex)
{
	const struct mx_ifport *ifp = ifport_lookup(ifindex);

	return ifp ? ifp->port_key : MX_TUNNEL_KEY_NONE;
}

#endif
