/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's ZooKeeper session. It is kept on disk so a restarted agent resumes the same
 * session, and with it every ephemeral node it owns (liveness, learned MACs): a restart is
 * invisible to other hosts. Every event (session or watch) wakes the main loop. */
#ifndef MIDOX_AGENT_SESSION_H
#define MIDOX_AGENT_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include "topology/topology.h"

struct session {
	zhandle_t *zh;
	int wake_fd;              /* eventfd, readable after any event */
	atomic_bool connected;    /* the session is usable now */
	atomic_bool expired;      /* the session is gone: reopen and register again */
	atomic_bool changed;      /* a watched node changed */
	atomic_bool reconnected;  /* connected again since last asked */
	/* Every event the client delivered (session or watch) and every change the mirror
	 * saw: a snapshot read while it kept its value is still the topology. */
	atomic_uint_least64_t events;
	/* Since start, for the metrics: connections made (the first included), expiries. */
	atomic_uint_least64_t connects;
	atomic_uint_least64_t expiries;
	char servers[256];
	char saved_path[288];
	int timeout_ms;
	const struct topo_cred *auth;  /* presented on every session (NULL: none) */
	const struct topo_cred *group; /* and this one too (NULL: none) */
	/* On the client's thread only: connections the server dropped at once (flapping). */
	uint64_t connected_ns;
	unsigned int flaps;
};

/* auth, group: the identities presented on the session (NULL: none). */
int session_open(struct session *s, const char *servers, int timeout_ms, const char *saved_path,
		 const struct topo_cred *auth, const struct topo_cred *group);
/* After expiry: a new session, nothing resumed. */
int session_reopen(struct session *s);
/* Remember the live session so the next agent resumes it. */
void session_save(struct session *s);
/* Read and reset the wake-up counter. */
void session_drain(struct session *s);
/* Leave the session to live on (for a restart) or end it with its ephemeral nodes. */
void session_close(struct session *s, bool keep_alive_for_restart);

#endif
