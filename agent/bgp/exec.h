/* SPDX-License-Identifier: Apache-2.0 */
/* Running the programs BGP uses (ip, bird): found once, run without a shell. */
#ifndef MIDOX_AGENT_BGP_EXEC_H
#define MIDOX_AGENT_BGP_EXEC_H

#include <stddef.h>
#include <sys/types.h>

/* name's full path from $PATH, /usr/sbin and /sbin into out. -ENOENT if none. */
int bgp_which(const char *name, char *out, size_t len);
/* Run argv (argv[0] a full path) and wait: 0 on exit status 0, else -EIO (its stderr goes
 * to the agent's, so the log says why). */
int bgp_run(char *const argv[]);
/* Start argv in the network namespace at netns_path (a /run/netns file), in a session of
 * its own, its stdout and stderr appended to log_path; not waited for. The pid, or a
 * negative errno. */
pid_t bgp_spawn_in(const char *netns_path, const char *log_path, char *const argv[]);

#endif
