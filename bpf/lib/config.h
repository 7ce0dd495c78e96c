/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_config: the host-wide settings, one array entry. */
#ifndef MX_BPF_CONFIG_H
#define MX_BPF_CONFIG_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/config.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_config SEC(".maps");

/* Never NULL in practice (array index 0), but the verifier wants the check. */
static __always_inline const struct mx_config *config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&midox_config, &zero);
}

#endif
