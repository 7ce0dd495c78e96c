/* SPDX-License-Identifier: Apache-2.0 */
/* midox-agent --verify: compare this host's pinned maps with what the topology implies. */
#ifndef MIDOX_AGENT_VERIFY_H
#define MIDOX_AGENT_VERIFY_H

#include "config.h"

/* Read ZooKeeper once, open the pinned maps (attaching nothing), compute, compare and
 * print every difference. 0: equal, 1: differences, 2: could not verify. */
int agent_verify(const struct agent_config *cfg);

#endif
