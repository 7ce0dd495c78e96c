// SPDX-License-Identifier: Apache-2.0
#include <time.h>

#include "base/clock.h"

uint64_t mx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MX_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}
