/* SPDX-License-Identifier: Apache-2.0 */
/* BGP uplinks (docs/bgp.md): the agent runs one BIRD per exterior router port bound on
 * this host that has peers on its subnets, in a namespace of its own, configured from the
 * topology and kept running. */
#ifndef MIDOX_AGENT_BGP_H
#define MIDOX_AGENT_BGP_H

#include <stdbool.h>
#include <stddef.h>

#include "bird.h"
#include "netns.h"
#include "plan.h"

struct bgp_speaker {
	struct bgp_want want;	/* what it runs with now */
	int rib_fd;		/* rtnetlink in its namespace, for what BIRD learned (-1: none) */
	size_t over_cap;	/* learned routes left out at the last read (logged on change) */
	char netns[BGP_NETNS_NAME_LEN];
	char *conf;		/* the configuration BIRD has (NULL: none written yet) */
	bool plumbed;		/* namespace and pair set up for want's MAC and addresses */
	struct bird bird;
	uint64_t started_ns;	/* when BIRD was last started (or found) */
	uint64_t restart_ns;	/* when to start it again after it died (0: now) */
	unsigned backoff_s;
};

struct bgp_manager {
	char run_dir[256];	/* one directory per speaker below it */
	char host_id[TOPO_ID_LEN];
	struct bgp_tools tools;
	bool have_tools;	/* ip and bird found */
	bool swept;		/* what an earlier agent left was looked at */
	bool synced;		/* the speakers follow a snapshot (until then nothing is
				 * withdrawn: none would be wanted yet) */
	struct bgp_speaker *sp;
	size_t n;
	/* Learned routes (learned.c): at most max_routes per port are published; what this
	 * session has published (read back from ZooKeeper once a session), sorted. */
	size_t max_routes;
	bool published_known;
	struct topo_route *published;
	size_t n_published;
	/* Session states this session published (status.c), one per peer with a speaker. */
	struct topo_bgp_status *status;
	size_t n_status;
};

void bgp_init(struct bgp_manager *m, const char *run_dir, const char *host_id,
	      size_t max_routes);
/* Make the speakers what t asks of this host: start, reconfigure (without a restart),
 * stop. */
void bgp_sync(struct bgp_manager *m, const struct topology *t);
/* Before t's desired state replaces the datapath's: the sessions t no longer wants (a peer
 * deleted, the speaker going away) are shut down while their packets still pass, so that
 * the peer gets BIRD's Cease instead of waiting for its hold time. Blocks up to a second
 * when there are any. */
void bgp_farewell(struct bgp_manager *m, const struct topology *t);
/* Restart a BIRD that died (with a growing delay, 1 to 30 s). Called every tick. */
void bgp_tick(struct bgp_manager *m);
/* What each running BIRD learned, published in ZooKeeper as this session's ephemeral
 * nodes; what it no longer has (withdrawn, peer down, BIRD dead, speaker stopped)
 * withdrawn. Called every tick while the session is up. */
void bgp_learn_tick(struct bgp_manager *m, zhandle_t *zh);
/* After a session expiry: its nodes are gone, nothing is published any more. */
void bgp_learn_forget(struct bgp_manager *m);
/* The rtnetlink socket of a speaker that stops (speaker.c). */
void bgp_learn_close(struct bgp_speaker *s);
/* At exit: memory only; BIRD keeps running for the next agent. */
void bgp_free(struct bgp_manager *m);

#endif
