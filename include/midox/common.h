/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every part of the map ABI shares: limits, reserved keys, pin names. */
#ifndef MIDOX_COMMON_H
#define MIDOX_COMMON_H

#include <linux/types.h>

/* Every map is pinned as <pin root>/<name>; each name fits the kernel's 15 characters. */
#define MX_PIN_ROOT_DEFAULT "/sys/fs/bpf/midox"

/* Tunnel keys are 24-bit VXLAN VNIs shared by ports and bridges (one counter). */
#define MX_TUNNEL_KEY_NONE 0u
#define MX_TUNNEL_KEY_MIN 1u
#define MX_TUNNEL_KEY_MAX 0xfffffeu
#define MX_TUNNEL_KEY_FLOW_STATE 0xffffffu /* reserved for flow-state messages */

#define MX_VXLAN_PORT_DEFAULT 4789

/* Outer Ethernet + IPv4 + UDP + VXLAN added in front of every tunnelled frame. */
#define MX_VXLAN_OVERHEAD (14 + 20 + 8 + 8)

/* tc filter identity of midox's programs on an interface: replaced in place, never duplicated. */
#define MX_TC_HANDLE 0x4d58 /* "MX" */
#define MX_TC_PRIORITY 0x4d58

#endif
