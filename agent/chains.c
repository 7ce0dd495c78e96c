// SPDX-License-Identifier: Apache-2.0
/* The rule chains installed into this host's pinned chain maps (loader/chain.h): at start
 * the pins are reused as they are, so the version a previous agent installed keeps
 * evaluating; each reconcile compiles the resolved chains and installs them when they
 * differ from what this agent installed last (always on its first pass). */
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "agent.h"

int agent_chains_open(struct agent *a)
{
	int err = mx_chain_maps_open(a->cfg.pin_root, false, &a->chain_pins, &a->chain_maps);

	if (err)
		mx_err("cannot open the chain maps: %s", strerror(-err));
	return err;
}

int agent_chains_apply(struct agent *a, const struct df_chains *c)
{
	struct cc_program next;
	struct mx_chain_program prog;
	int err;

	err = chain_compile(c, &next);
	if (err) {
		mx_err("cannot compile the rule chains: %s", strerror(-err));
		a->counters.chain_install_errors++;
		return err;
	}
	if (a->chains_installed && chain_compile_equal(&a->chains, &next)) {
		chain_compile_free(&next);
		return 0;
	}
	prog = chain_compile_program(&next);
	err = mx_chain_install(&a->chain_maps, &prog);
	if (err) { /* logged by the compiler; the live version stays, tried again next pass */
		chain_compile_free(&next);
		a->counters.chain_install_errors++;
		return err;
	}
	a->counters.chain_installs++;
	mx_info("rule chains installed: %zu chains, %zu rules, %zu list members%s", next.n_chains,
		next.n_rules, next.n_members,
		next.refused ? " (some rules refused: they drop, see above)" : "");
	chain_compile_free(&a->chains);
	a->chains = next;
	a->chains_installed = true;
	return 0;
}

void agent_chains_close(struct agent *a)
{
	chain_compile_free(&a->chains);
	mx_chain_maps_close(a->chain_pins);
	a->chain_pins = NULL;
}
