/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Checksums computed from scratch over headers the datapath builds itself. */
#ifndef MX_BPF_CSUM_H
#define MX_BPF_CSUM_H

#include <linux/ip.h>

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Header checksum of an option-less IPv4 header at hdr, 2-byte aligned (check must be 0
 * on entry). */
static __always_inline __sum16 ipv4_csum(const void *hdr)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

#pragma clang loop unroll(full)
	for (int i = 0; i < (int)(sizeof(struct iphdr) / 2); i++)
		sum += w[i];
	return (__sum16)csum_fold32(sum);
}

#endif
