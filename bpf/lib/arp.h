/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_arp_v2 and ARP suppression: a bridge answers requests for addresses it knows. */
#ifndef MX_BPF_ARP_H
#define MX_BPF_ARP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/bridge.h"
#include "lib/elem.h"
#include "lib/parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_ARP_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* allocated as used */
	__type(key, struct mx_arp_key);
	__type(value, struct mx_arp_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_arp_v2 SEC(".maps");

/* Whether bridge bridge_key knows addr: its MAC copied into mac. The MAC is copied, then the
 * entry's key checked (lib/elem.h): an entry the kernel reused for another key while it was
 * read is no entry, not that key's MAC. */
static __always_inline bool arp_lookup(__u32 bridge_key, __be32 addr, __u8 *mac)
{
	struct mx_arp_key k = { .bridge_key = bridge_key, .addr = addr };
	const struct mx_arp_entry *e = bpf_map_lookup_elem(&midox_arp_v2, &k);

	if (!e)
		return false;
	mac_copy(mac, e->mac);
	elem_key_after_copy();
	return e->key.bridge_key == bridge_key && e->key.addr == addr;
}

/* Whether the table answers this request, with the MAC copied into mac. Gratuitous ARP and
 * a host asking about its own address (duplicate detection) are left to flood: answering
 * would make the sender see a conflict. */
static __always_inline bool arp_answer_for(const struct arp_eth_ipv4 *arp, __u32 bridge_key,
					   __u8 *mac)
{
	if (arp->hdr.ar_op != bpf_htons(ARPOP_REQUEST) || arp->spa == arp->tpa)
		return false;
	return arp_lookup(bridge_key, arp->tpa, mac) && !mac_equal(mac, arp->sha);
}

/* Turn the request into its reply in place: from mac, to the requester. */
static __always_inline void arp_make_reply(struct ethhdr *eth, struct arp_eth_ipv4 *arp,
					   const __u8 *mac)
{
	__be32 tpa = arp->tpa;

	mac_copy(eth->h_dest, arp->sha);
	mac_copy(eth->h_source, mac);
	arp->hdr.ar_op = bpf_htons(ARPOP_REPLY);
	mac_copy(arp->tha, arp->sha);
	arp->tpa = arp->spa;
	mac_copy(arp->sha, mac);
	arp->spa = tpa;
}

#endif
