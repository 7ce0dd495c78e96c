/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow state across hosts: the connection-tracking writes a host makes while it simulates a
 * packet ride in that packet's VXLAN frame to the host that will simulate the replies
 * (docs/conntrack.md, "Cross-host state"). On the wire, after the VXLAN header whose VNI is
 * MX_FS_VNI: struct mx_fs_hdr, count records (struct mx_fs_record), then the inner Ethernet
 * frame. Everything is in network byte order, so hosts of either endianness agree. */
#ifndef MIDOX_FLOWSTATE_H
#define MIDOX_FLOWSTATE_H

#include "common.h"
#include "router.h"

/* The VNI of a frame that carries records (the reserved tunnel key; the real VNI is in the
 * header). */
#define MX_FS_VNI MX_TUNNEL_KEY_FLOW_STATE
#define MX_FS_MAGIC 0x4d46 /* "MF" */
#define MX_FS_VERSION 1
/* A pass makes at most two writes per device it crosses (a closed TCP connection reopened
 * from the other side: the old entry deleted, the new one written), 2 * MX_MAX_DEVICE_HOPS.
 * 15 (a 4-bit count) is also what lets the verifier bound the bytes written exactly. */
#define MX_FS_REC_MAX 15

struct mx_fs_hdr {
	__be16 magic;   /* MX_FS_MAGIC */
	__u8 version;   /* MX_FS_VERSION */
	__u8 count;     /* records that follow: 1..MX_FS_REC_MAX */
	__be32 vni;     /* the frame's real VNI (a port's or a bridge's key), low 24 bits */
};
_Static_assert(sizeof(struct mx_fs_hdr) == 8, "mx_fs_hdr layout");

enum mx_fs_op {
	MX_FS_OP_NEW = 1,    /* ct_commit: the entry written afresh (replaces one there) */
	MX_FS_OP_UPDATE = 2, /* a state change or a refresh: merged into the entry there */
	MX_FS_OP_DELETE = 3, /* a closed connection removed (reopened from the other side) */
};

/* One write: the connection's key (struct mx_ct_key) and what its entry says after it. The
 * receiver takes its own clock for last_seen (hosts' monotonic clocks are unrelated). */
struct mx_fs_record {
	__be32 device;  /* mx_ct_key.device */
	__be32 src, dst;
	__be16 sport, dport;
	__u8 proto;
	__u8 op;        /* enum mx_fs_op */
	__u8 state;     /* enum mx_ct_state */
	__u8 flags;     /* enum mx_ct_entry_flags */
	__be32 nat_src, nat_dst; /* struct mx_ct_nat, for MX_CT_F_NAT */
	__be16 nat_sport, nat_dport;
};
_Static_assert(sizeof(struct mx_fs_record) == 32, "mx_fs_record layout");

/* The bytes a frame with count records carries beyond plain VXLAN. */
#define MX_FS_LEN(count) (sizeof(struct mx_fs_hdr) + (count) * sizeof(struct mx_fs_record))

/* __u32 0 -> struct mx_fs_buf, per CPU: the writes of the pass running on this CPU, laid
 * out as they go on the wire (hdr then rec, contiguous). The datapath's scratch alone. */
#define MX_MAP_FS_BUF "midox_fsbuf"
struct mx_fs_buf {
	__u32 count;    /* records in rec; 0: the frame goes as plain VXLAN */
	__u32 pad;
	struct mx_fs_hdr hdr;
	struct mx_fs_record rec[MX_FS_REC_MAX];
};
_Static_assert(sizeof(struct mx_fs_buf) == 16 + MX_FS_REC_MAX * 32, "mx_fs_buf layout");
_Static_assert(MX_FS_REC_MAX >= 2 * MX_MAX_DEVICE_HOPS, "every write of a pass has a slot");

#endif
