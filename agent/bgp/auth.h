/* SPDX-License-Identifier: Apache-2.0 */
/* Why a session with a password never opens (docs/bgp.md, "Session status"). A TCP MD5
 * mismatch is silent: the kernel drops the segments and BIRD only sees a connection that
 * never completes ("Connect", "Active"). The kernel counts those drops per network
 * namespace (TcpExt TCPMD5NotFound, TCPMD5Unexpected, TCPMD5Failure); the agent reads the
 * speaker's every second (speaker.c, through /proc/<BIRD's pid>/net/netstat) and the status
 * of a peer that is not established names the mismatch its own password setting explains. */
#ifndef MIDOX_AGENT_BGP_AUTH_H
#define MIDOX_AGENT_BGP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* The kernel's TCP MD5 drop counters of one namespace. */
struct bgp_md5_counts {
	uint64_t not_found;	/* a segment without a signature where a key is set */
	uint64_t unexpected;	/* a signed segment where no key is set */
	uint64_t failure;	/* a signature that does not verify */
};

/* The counters from the text of /proc/net/netstat: 0, or -ENOENT without them. Pure. */
int bgp_md5_counts_parse(const char *netstat, struct bgp_md5_counts *out);

/* Note the counters read now for the speaker of port_key: what grew since the last note
 * is remembered as seen at now_ns. */
void bgp_md5_note(uint32_t port_key, const struct bgp_md5_counts *c, uint64_t now_ns);
/* Every session of port_key's speaker is up: what was seen is history. */
void bgp_md5_settle(uint32_t port_key);
/* The speaker of port_key stopped: its notes go. */
void bgp_md5_forget(uint32_t port_key);
/* The mismatch a peer's password setting explains, seen on w's speaker within the last
 * BGP_MD5_RECENT_S seconds of now_ns: a short text, or NULL. */
#define BGP_MD5_RECENT_S 300
const char *bgp_md5_hint(const struct bgp_want *w, const struct bgp_peer_conf *p,
			 uint64_t now_ns);
/* At exit: memory. */
void bgp_md5_free(void);

#endif
