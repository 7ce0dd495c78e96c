// SPDX-License-Identifier: Apache-2.0
/* Connection tracking, the agent's side (docs/conntrack.md): the timeouts of agent.conf
 * into midox_ctcfg at start, and the sweep that frees the slots of idle connections, on a
 * timer of the main loop. The table itself is the datapath's: pinned, reused whole by the
 * next agent, so established connections survive a restart. */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "base/clock.h"
#include "base/log.h"
#include "loader/conntrack.h"
#include "agent.h"

/* The timeouts as configured (0: the default of the state). */
static void ct_config_of(const struct agent_config *cfg, struct mx_ct_config *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int s = 0; s < MX_CT_STATE__MAX; s++)
		out->timeout_s[s] = (__u32)cfg->ct_timeout_s[s];
}

int agent_ct_start(struct agent *a)
{
	int fd = mx_datapath_map_fd(a->dp, MX_MAP_ID_CT_CONFIG);
	struct mx_ct_config cfg;
	__u32 zero = 0;

	ct_config_of(&a->cfg, &cfg);
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY)) {
		mx_err("writing %s: %s", MX_MAP_CT_CONFIG, strerror(errno));
		return -errno;
	}
	a->ct.last_sweep_ns = mx_now_ns();
	return 0;
}

void agent_ct_tick(struct agent *a)
{
	struct mx_ct_sweep_stats st;
	struct mx_ct_config cfg;
	uint64_t now = mx_now_ns();
	int err;

	if (!a->dp || now - a->ct.last_sweep_ns < (uint64_t)a->cfg.ct_sweep_ms * 1000000ull)
		return;
	a->ct.last_sweep_ns = now;
	ct_config_of(&a->cfg, &cfg);
	err = mx_ct_sweep(mx_datapath_map_fd(a->dp, MX_MAP_ID_CT), &cfg, now, &st);
	a->ct.sweeps++;
	if (err) { /* logged by the sweep; tried again at the next period */
		a->ct.sweep_errors++;
		return;
	}
	a->ct.entries = st.seen - st.removed;
	a->ct.removed += st.removed;
	if (st.removed)
		mx_debug("conntrack sweep: %u connections, %u idle removed", st.seen, st.removed);
}
