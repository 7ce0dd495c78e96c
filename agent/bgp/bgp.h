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
#include "publish.h"

struct bgp_speaker {
	struct bgp_want want;	/* what it runs with now */
	int rib_fd;		/* rtnetlink in its namespace, for what BIRD learned (-1: none) */
	size_t over_cap;	/* learned routes left out at the last read (logged on change) */
	/* Per peer (want.peers' order), for the metrics: the session is established; its
	 * routes in BIRD's table at the last read, those left out over the cap, and those
	 * ZooKeeper holds. */
	bool up[BGP_MAX_PEERS];
	size_t received[BGP_MAX_PEERS], left_out[BGP_MAX_PEERS], published[BGP_MAX_PEERS];
	char netns[BGP_NETNS_NAME_LEN];
	char *conf;		/* the configuration BIRD has (NULL: none written yet) */
	bool plumbed;		/* namespace and pair set up for want's MAC and addresses */
	struct bird bird;
	uint64_t started_ns;	/* when BIRD was last started (or found) */
	uint64_t restart_ns;	/* when to start it again after it died (0: now) */
	unsigned backoff_s;
	bool died;		/* it exited and has not been started again yet */
	uint64_t restarts;	/* started again after it exited (metrics) */
};

struct bgp_outbox;

/* Batches of writes sent at once, at most: a bound on memory (64 kB a batch) and on the
 * client's queue, and enough that the writes keep going while the loop is in a long
 * reconcile pass (a loop turn sends what the answers made room for). */
#define BGP_BATCHES_IN_FLIGHT 64

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
	 * session has published (read back from ZooKeeper once a session) and the writes on
	 * their way there, sent as batches without waiting (at most BGP_BATCHES_IN_FLIGHT). */
	size_t max_routes;
	bool published_known;
	bool relist;		/* an answer was lost: read back what ZooKeeper holds */
	struct bgp_pubset pub;
	struct bgp_outbox *outbox;
	size_t in_flight;	/* batches sent and not settled */
	uint64_t gen;		/* of pub: answers for an earlier one are dropped */
	uint64_t write_errors;	/* writes ZooKeeper refused, since start (metrics) */
	int wake_fd;		/* the loop's eventfd, written when a batch is answered */
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
/* Settle the answered batches of learned-route writes and send what is queued. Cheap when
 * there is nothing; called on every turn of the loop while the session is up (an answer
 * wakes the loop through wake_fd). */
void bgp_learn_pump(struct bgp_manager *m, zhandle_t *zh);
/* Writes queued or in flight (metrics). */
size_t bgp_learn_pending(const struct bgp_manager *m);
/* After a session expiry: its nodes are gone, nothing is published any more. */
void bgp_learn_forget(struct bgp_manager *m);
/* Before the session is left (exit): wait a little for the answers in flight. */
void bgp_learn_stop(struct bgp_manager *m);
/* The rtnetlink socket of a speaker that stops (speaker.c). */
void bgp_learn_close(struct bgp_speaker *s);
/* At exit: memory only; BIRD keeps running for the next agent. */
void bgp_free(struct bgp_manager *m);

#endif
