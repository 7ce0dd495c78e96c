/* SPDX-License-Identifier: Apache-2.0 */
/* One BIRD process: its files in a directory of its own (bird.conf, bird.ctl, bird.pid,
 * bird.log), started in the speaker's namespace, told to reread its configuration over its
 * control socket, found again by a restarted agent, stopped. */
#ifndef MIDOX_AGENT_BGP_BIRD_H
#define MIDOX_AGENT_BGP_BIRD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "netns.h"

/* A speaker's directory (the run directory and its key) and the paths of its files. */
#define BGP_DIR_MAX 280
#define BGP_FILE_MAX 320

struct bird {
	char dir[BGP_DIR_MAX];
	pid_t pid;	/* 0: not running */
	bool child;	/* started by this agent (reaped by waitpid), else found running */
};

/* Check text with `bird -p` and make it dir/bird.conf: 0, or -EINVAL (BIRD's message is in
 * the agent's log) leaving the previous file in place. */
int bird_conf_write(const struct bgp_tools *x, const char *dir, const char *text);
/* Start BIRD on dir/bird.conf in the namespace named netns. */
int bird_start(const struct bgp_tools *x, struct bird *b, const char *netns);
/* The BIRD an earlier agent started on dir, if it still runs: b->pid set (not a child). */
bool bird_adopt(struct bird *b);
/* Whether it still runs; a child that exited is reaped and its status put in *status. */
bool bird_alive(struct bird *b, int *status);
/* "configure": BIRD rereads bird.conf without a restart (sessions of unchanged peers stay
 * up). 0, or -EIO with BIRD's answer logged. */
int bird_configure(const struct bird *b);
/* Send cmd over the control socket; BIRD's reply (its text lines, codes removed) into
 * out. 0 if BIRD answered without an error code. */
int bird_command(const char *dir, const char *cmd, char *out, size_t len);
/* SIGTERM, then SIGKILL after a few seconds. */
void bird_stop(struct bird *b);

#endif
