/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internet checksums: from scratch over headers the datapath builds, and incremental
 * updates of headers it rewrites. */
#ifndef MX_BPF_CSUM_H
#define MX_BPF_CSUM_H

#include <linux/ip.h>
#include <stdbool.h>

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* One's complement sum of the 16-bit words of len bytes at p (len even, a constant), to be
 * folded by csum_fold32. */
static __always_inline __u32 csum_words(const void *p, int len)
{
	const __u16 *w = p;
	__u32 sum = 0;

#pragma clang loop unroll(full)
	for (int i = 0; i < len / 2; i++)
		sum += w[i];
	return sum;
}

/* Header checksum of an option-less IPv4 header at hdr, 2-byte aligned (check must be 0
 * on entry). */
static __always_inline __sum16 ipv4_csum(const void *hdr)
{
	return (__sum16)csum_fold32(csum_words(hdr, sizeof(struct iphdr)));
}

/* Whether the IPv4 header at ip, options included, sums to 0xffff (RFC 1071). The caller
 * has parsed it: ihl is at least 5 and the options lie before end. */
static __always_inline bool ipv4_csum_valid(const struct iphdr *ip, const void *end)
{
	const __u32 *opt = (const void *)(ip + 1);
	__u32 n_opt = ip->ihl - 5, sum = csum_words(ip, sizeof(*ip));

	for (__u32 i = 0; i < 10; i++) { /* IPv4 options: at most 40 bytes */
		if (i >= n_opt || (const void *)(opt + i + 1) > end)
			break;
		sum += (opt[i] & 0xffff) + (opt[i] >> 16);
	}
	return csum_fold32(sum) == 0;
}

/* Update a checksum for one 16-bit word changing from old to new (RFC 1624, eqn. 3). The
 * formula cannot tell a new sum of +0 (every word zero, whose checksum is 0xffff) from -0
 * (0x0000 or 0xffff both check): 0xffff is right for both, so it stands for 0x0000 (an echo
 * request of type 8 and nothing else made a reply with checksum 0, which no stack accepts). */
static __always_inline void csum_replace2(__sum16 *check, __be16 old, __be16 new)
{
	__u32 sum = (__u16)~*check + (__u16)~old + (__u16)new;
	__u16 folded = (__u16)csum_fold32(sum);

	*check = (__sum16)(folded ? folded : 0xffff);
}

/* The same for one 32-bit field (an IPv4 address) changing from old to new. */
static __always_inline void csum_replace4(__sum16 *check, __be32 old, __be32 new)
{
	__u32 sum = (__u16)~*check + (__u16)~(old & 0xffff) + (__u16)~(old >> 16) +
		    (new & 0xffff) + (new >> 16);
	__u16 folded = (__u16)csum_fold32(sum);

	*check = (__sum16)(folded ? folded : 0xffff);
}

#endif
