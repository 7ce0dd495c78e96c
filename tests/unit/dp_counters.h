/* SPDX-License-Identifier: Apache-2.0 */
/* Counter expectations for the datapath tests: a row names the counters (rx, tx or one drop
 * reason of a stats key) that must move, and by how much. */
#ifndef MIDOX_TEST_DP_COUNTERS_H
#define MIDOX_TEST_DP_COUNTERS_H

#include <stdbool.h>
#include <stdio.h>

#include "loader/loader.h"

enum { C_RX = -1, C_TX = -2 };
struct delta {
	__u32 key;
	int counter; /* C_RX, C_TX or an mx_drop_reason */
	__u64 delta;
	bool set;
};
#define RX(k, n) { (k), C_RX, (n), true }
#define TX(k, n) { (k), C_TX, (n), true }
#define DROP(k, r) { (k), (r), 1, true }
#define DROPS(k, r, n) { (k), (r), (n), true }

#define MAX_DELTAS 4

static inline __u64 counter_read(struct mx_datapath *dp, __u32 key, int counter)
{
	struct mx_port_stats s;

	if (mx_stats_read(dp, key, &s))
		return 0; /* no entry yet: all zero */
	if (counter == C_RX)
		return s.rx_packets;
	if (counter == C_TX)
		return s.tx_packets;
	return s.drops[counter];
}

static inline const char *counter_name(int counter)
{
	return counter == C_RX ? "rx" : counter == C_TX ? "tx" : mx_drop_reason_name(counter);
}

static inline void deltas_before(struct mx_datapath *dp, const struct delta *d, __u64 *before)
{
	for (int i = 0; i < MAX_DELTAS && d[i].set; i++)
		before[i] = counter_read(dp, d[i].key, d[i].counter);
}

static inline bool deltas_check(struct mx_datapath *dp, const struct delta *d, const __u64 *before,
				char *diag, size_t len)
{
	for (int i = 0; i < MAX_DELTAS && d[i].set; i++) {
		__u64 now = counter_read(dp, d[i].key, d[i].counter);

		if (now - before[i] != d[i].delta) {
			snprintf(diag, len, "key %u %s moved by %llu, want %llu", d[i].key,
				 counter_name(d[i].counter), (unsigned long long)(now - before[i]),
				 (unsigned long long)d[i].delta);
			return false;
		}
	}
	return true;
}

/* On failure: every drop counted so far on the keys the row looks at, as TAP comments. */
static inline void drops_print(struct mx_datapath *dp, const struct delta *d)
{
	for (int i = 0; i < MAX_DELTAS && d[i].set; i++) {
		struct mx_port_stats s;

		if (mx_stats_read(dp, d[i].key, &s))
			continue;
		for (int r = 0; r < MX_DROP__MAX; r++)
			if (s.drops[r])
				printf("#   key %u %s: %llu\n", d[i].key, mx_drop_reason_name(r),
				       (unsigned long long)s.drops[r]);
	}
}

#endif
