/* SPDX-License-Identifier: Apache-2.0 */
/* Time, for ages and intervals: CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(), so that a
 * timestamp the datapath wrote compares with one taken here. */
#ifndef MIDOX_BASE_CLOCK_H
#define MIDOX_BASE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define MX_NSEC_PER_SEC 1000000000ull

uint64_t mx_now_ns(void);

/* Whether something last seen at seen_ns is younger than max_age_s seconds at now_ns: the one
 * freshness rule for learned entries (a timestamp from the future counts as fresh). */
static inline bool mx_fresh(uint64_t now_ns, uint64_t seen_ns, unsigned int max_age_s)
{
	return seen_ns >= now_ns || now_ns - seen_ns < (uint64_t)max_age_s * MX_NSEC_PER_SEC;
}

#endif
