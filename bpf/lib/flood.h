/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_bridge and flooding: broadcast, multicast and unknown unicast go to every local
 * port of the bridge and once to every other host with ports on it. */
#ifndef MX_BPF_FLOOD_H
#define MX_BPF_FLOOD_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/bridge.h"
#include "lib/config.h"
#include "lib/filter.h"
#include "lib/port.h"
#include "lib/stats.h"
#include "lib/trace.h"
#include "lib/tunnel.h"
#include "lib/vxlan.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_BRIDGE_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct mx_bridge);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_bridge SEC(".maps");

static __always_inline const struct mx_bridge *bridge_lookup(__u32 bridge_key)
{
	return bpf_map_lookup_elem(&midox_bridge, &bridge_key);
}

/* How many entries of a flood list to use; a list longer than the datapath handles is
 * cut and counted against drop_key. */
static __always_inline __u32 flood_count(struct __sk_buff *skb, __u32 n, __u32 max,
					  __u32 drop_key)
{
	if (n <= max)
		return n;
	stats_drop(skb, drop_key, MX_DROP_FLOOD_LIMIT);
	return max;
}

/* One copy out of local interface ifindex, a port of bridge bridge_key. The copy first passes
 * its port's outfilter
 * (flood_copy_refused), here on the host of the port whether this host simulated the flood
 * or it came by the tunnel (the sending host filters only its own ports' copies), and one
 * it drops is counted against drop_key while the others go on. ingress: the port the frame
 * entered the topology by, 0 when the flood came by the tunnel (the tunnel does not carry
 * it). An interface whose port is on another bridge gets no copy (cross-bridge): the flood
 * set br was read from may be another bridge's by now, as the kernel may hand a replaced
 * element of midox_bridge at once to the next insert (docs/datapath.md, "Map elements under
 * readers"). Counted as tx on the port, failures against drop_key. A traced run sends none (a clone leaves the test
 * run for real): it records where the copy would go. A global function: the verifier
 * checks it once, not once for every turn of flood_local's loop. */
__noinline int flood_local_one(struct __sk_buff *skb, __u32 ifindex, __u32 drop_key,
			       __u32 ingress, __u32 bridge_key)
{
	const struct mx_ifport *ifp;
	__u32 key;
	int reason;

	if (!skb)
		return 0;
	ifp = ifport_lookup(ifindex);
	key = ifp ? ifp->port_key : MX_TUNNEL_KEY_NONE;
	if (ifp && ifp->port.device_key != bridge_key) {
		stats_drop(skb, drop_key, MX_DROP_CROSS_BRIDGE);
		return 0;
	}
	if (ifp && (ifp->port.flags & MX_PORT_FILTERED)) {
		/* A global function's result is any number to the verifier: the reason
		 * counted is one of the two it can be. */
		reason = flood_copy_refused(skb, key, ingress);
		if (reason != MX_DROP_NONE) {
			stats_drop(skb, drop_key, reason == MX_DROP_CHAIN_REJECT ?
				   MX_DROP_CHAIN_REJECT : MX_DROP_CHAIN_DROP);
			return 0;
		}
	}
	if (trace_on(skb))
		trace_record(MX_TRACE_FLOOD_LOCAL, key, ifindex, 0, 0);
	else if (bpf_clone_redirect(skb, ifindex, 0))
		stats_drop(skb, drop_key, MX_DROP_REDIRECT_FAILED);
	else
		stats_tx(skb, key, ifp ? ifp->port.stats_slot : 0, skb->len);
	return 0;
}

/* A copy to every local port of bridge bridge_key (br: its flood set) but skip_ifindex (the
 * ingress interface, or 0), each by flood_local_one. */
static __always_inline void flood_local(struct __sk_buff *skb, const struct mx_bridge *br,
					__u32 bridge_key, __u32 skip_ifindex, __u32 drop_key,
					__u32 ingress)
{
	__u32 n = flood_count(skb, br->n_local, MX_FLOOD_MAX_LOCAL, drop_key);

	for (__u32 i = 0; i < MX_FLOOD_MAX_LOCAL; i++) {
		__u32 ifindex;

		if (i >= n)
			break;
		ifindex = br->local_ifindex[i];
		if (ifindex != skip_ifindex)
			flood_local_one(skb, ifindex, drop_key, ingress, bridge_key);
	}
}

/* One copy to one remote host: address the headers o, route, send. A global function: the
 * verifier checks it once, not once for every turn of flood_remote's loop (docs/datapath.md,
 * "What the verifier pays"). */
__noinline int flood_remote_one(struct __sk_buff *skb, struct vxlan_outer *o, __be32 dst,
				__u32 bridge_key, __u32 drop_key)
{
	const struct mx_config *cfg = config_get();
	struct bpf_fib_lookup fib;
	enum mx_drop_reason reason;
	__u16 ip_len;

	if (!skb || !o || !cfg)
		return 0;
	ip_len = skb->gso_size ? 0 : skb->len - sizeof(struct ethhdr);
	reason = underlay_route_uncached(skb, cfg, dst, ip_len, &fib);
	if (reason) {
		stats_drop(skb, drop_key, reason);
		return 0;
	}
	vxlan_outer_to(o, dst, &fib);
	if (vxlan_write(skb, o))
		stats_drop(skb, drop_key, MX_DROP_REDIRECT_FAILED);
	else if (trace_on(skb))
		trace_record(MX_TRACE_FLOOD_REMOTE, dst, bridge_key, fib.ifindex, 0);
	else if (bpf_clone_redirect(skb, fib.ifindex, 0))
		stats_drop(skb, drop_key, MX_DROP_REDIRECT_FAILED);
	else
		stats_tx(skb, bridge_key, 0, skb->len);
	return 0;
}

/* Encapsulate once with VNI = the bridge key, then a copy to every remote host. The skb is
 * left encapsulated: call last. Copies are counted as tx under the bridge key. */
static __always_inline void flood_remote(struct __sk_buff *skb, const struct mx_bridge *br,
					 __u32 bridge_key, __u32 drop_key)
{
	__u32 n = flood_count(skb, br->n_remote, MX_FLOOD_MAX_REMOTE, drop_key);
	const struct mx_config *cfg = config_get();
	struct vxlan_outer o;
	__be16 sport;

	if (!n)
		return;
	if (!cfg || !cfg->tunnel_addr) {
		stats_drop(skb, drop_key, MX_DROP_NO_TUNNEL_ADDR);
		return;
	}
	sport = vxlan_sport(skb);
	vxlan_outer_init(&o, cfg, bridge_key, sport, skb->len);
	if (vxlan_push(skb)) {
		stats_drop(skb, drop_key, MX_DROP_ENCAP_FAILED);
		return;
	}
	for (__u32 i = 0; i < MX_FLOOD_MAX_REMOTE; i++) {
		if (i >= n)
			break;
		flood_remote_one(skb, &o, br->remote_addr[i], bridge_key, drop_key);
	}
}

#endif
