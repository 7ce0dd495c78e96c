/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 prefixes. */
#ifndef MIDOX_BASE_ADDR_H
#define MIDOX_BASE_ADDR_H

#include <stdint.h>

/* The netmask of a prefix length, in host order: 24 -> 0xffffff00; 0 -> 0; 32 and more -> all
 * ones. htonl() it to mask an address in network order. */
static inline uint32_t mx_prefix_mask(unsigned int len)
{
	return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

#endif
