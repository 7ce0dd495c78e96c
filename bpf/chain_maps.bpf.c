/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The rule chains' maps alone (bpf/lib/chain.h), no program: what the agent creates and
 * pins so that it can install chains (loader/chain_maps.c) before the forwarding pipeline
 * evaluates them. Same definitions, same pin names: once bpf/midox.bpf.c includes
 * lib/chain.h, its object reuses these pins (docs/chains-datapath.md). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/chain.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
