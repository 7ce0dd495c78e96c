// SPDX-License-Identifier: Apache-2.0
/* The datapath at start, on a thread of its own: the BPF object is loaded and verified (1 s
 * on a quiet machine, several when loaded), or its programs taken as pinned when an agent of
 * the same build ran before (loader/progpin.c: milliseconds), the chain maps opened and this agent's programs
 * brought to every interface the pinned maps say is bound, while the main thread connects
 * the session and reads the topology. A start then pays for the longer of the two instead of
 * their sum, and an upgrade's programs still arrive without waiting for ZooKeeper. Until the
 * thread is joined the main thread touches nothing of the datapath (dp, chain maps,
 * attachments): the join is the hand-over. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "agent.h"

static int datapath_prepare(struct agent *a)
{
	struct mx_datapath_opts opts = { .pin_root = a->cfg.pin_root,
					  .object_path = a->cfg.bpf_object,
					  .ct_max_entries = (__u32)a->cfg.ct_max_entries };
	int err = mx_datapath_open(&opts, &a->dp);

	if (err) {
		mx_err("cannot load the datapath: %s", strerror(-err));
		return err;
	}
	err = agent_ct_start(a);
	if (err)
		return err;
	agent_chains_open(a);
	agent_reattach_pinned(a);
	return 0;
}

static void *datapath_thread(void *arg)
{
	struct agent *a = arg;
	uint64_t one = 1;

	a->loader.err = datapath_prepare(a);
	atomic_store(&a->loader.done, true);
	/* The main thread sleeps on the session's eventfd. */
	if (write(a->zk.wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		mx_warn("wake-up write failed: %s", strerror(errno));
	return NULL;
}

int agent_datapath_start(struct agent *a)
{
	int err;

	atomic_store(&a->loader.done, false);
	err = pthread_create(&a->loader.thread, NULL, datapath_thread, a);
	if (err) {
		mx_err("cannot start the datapath's thread: %s", strerror(err));
		return -err;
	}
	a->loader.running = true;
	return 0;
}

bool agent_datapath_done(const struct agent *a)
{
	return atomic_load(&a->loader.done);
}

int agent_datapath_join(struct agent *a)
{
	if (!a->loader.running)
		return 0;
	pthread_join(a->loader.thread, NULL);
	a->loader.running = false;
	return a->loader.err;
}
