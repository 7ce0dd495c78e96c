// SPDX-License-Identifier: Apache-2.0
/* The rule chains installed into this host's chain maps, the datapath's (loader/chain.h):
 * they are pinned with its other maps and reused as they are at start, so the version a
 * previous agent installed keeps evaluating; each reconcile compiles the resolved chains and installs them when they
 * differ from what this agent installed last (always on its first pass) or the live
 * maps no longer hold that (written by someone else). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "base/log.h"
#include "agent.h"

void agent_chains_open(struct agent *a)
{
	mx_datapath_chain_maps(a->dp, &a->chain_maps);
}

/* ---- the live version against a compiled one (a pass, --verify) ---- */

struct live_chains {
	const struct mx_chain_maps *m;
	__u32 gen;
	bool print; /* --verify: each difference printed */
};

/* Chain want (topo_id in the topology) as the live half holds it: its differences. */
static unsigned int verify_chain(const struct live_chains *l, const char *topo_id,
				 const struct mx_chain_spec *want)
{
	struct mx_chain have;
	struct mx_chain_rule r;
	unsigned int diffs = 0;

	if (mx_chain_entry_read(l->m->chain, want->id, &have)) {
		if (l->print)
			printf("%s: missing chain %s (id %u)\n", MX_MAP_CHAIN, topo_id, want->id);
		return 1;
	}
	if (have.half[l->gen].n != want->n_rules) {
		if (l->print)
			printf("%s: chain %s (id %u): %u rules live, want %u\n", MX_MAP_CHAIN,
			       topo_id, want->id, have.half[l->gen].n, want->n_rules);
		return 1;
	}
	for (__u32 i = 0; i < want->n_rules; i++) {
		__u32 idx = have.half[l->gen].first + i;

		if (bpf_map_lookup_elem(l->m->rule, &idx, &r) ||
		    r.rule_id != want->rules[i].rule_id || r.type != want->rules[i].type) {
			if (l->print)
				printf("%s: chain %s rule %u: want id %u type %u, have id %u "
				       "type %u\n", MX_MAP_CHAIN_RULE, topo_id, i + 1,
				       want->rules[i].rule_id, want->rules[i].type, r.rule_id,
				       r.type);
			diffs++;
		}
	}
	return diffs;
}

/* The differences between the live version in m and p (c: its topology ids); -errno when
 * the maps cannot be read. */
static int live_diffs(const struct mx_chain_maps *m, const struct df_chains *c,
		      const struct cc_program *p, bool print, unsigned int *diffs)
{
	struct live_chains l = { .m = m, .print = print };
	struct mx_chain_gen g;
	__u32 zero = 0, key, next, n_live = 0;
	const __u32 *prev = NULL;

	if (bpf_map_lookup_elem(m->gen, &zero, &g))
		return -errno;
	l.gen = g.gen & 1;
	for (size_t i = 0; i < p->n_chains; i++)
		*diffs += verify_chain(&l, c->chains[i].id, &p->chains[i]);
	while (!bpf_map_get_next_key(m->chain, prev, &next)) {
		n_live++;
		key = next;
		prev = &key;
	}
	if (n_live != p->n_chains) {
		if (print)
			printf("%s: %u chains, want %zu\n", MX_MAP_CHAIN, n_live, p->n_chains);
		(*diffs)++;
	}
	return 0;
}

int agent_chains_apply(struct agent *a, const struct df_chains *c)
{
	struct cc_program next;
	struct mx_chain_program prog;
	unsigned int diffs = 0;
	int err;

	err = chain_compile(c, &next);
	if (err) {
		mx_err("cannot compile the rule chains: %s", strerror(-err));
		a->counters.chain_install_errors++;
		return err;
	}
	/* Unchanged and still live as installed (someone may have written the maps): done. */
	if (a->chains_installed && chain_compile_equal(&a->chains, &next) &&
	    !live_diffs(&a->chain_maps, c, &next, false, &diffs) && !diffs) {
		chain_compile_free(&next);
		return 0;
	}
	if (a->chains_installed && chain_compile_equal(&a->chains, &next))
		mx_warn("rule chains: the live version is not what this agent installed; "
			"installing it again");
	chain_compile_log_refused(&next, c);
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
}

int agent_chains_verify(const char *pin_root, const struct df_chains *c, unsigned int *diffs)
{
	struct mx_chain_maps m;
	struct cc_program p;
	int err;

	err = mx_chain_maps_open_pinned(pin_root, &m);
	if (err) {
		printf("%s: %s in %s\n", MX_MAP_CHAIN,
		       err == -EPROTO ? "another layout" : "not pinned", pin_root);
		(*diffs)++;
		return 0;
	}
	err = chain_compile(c, &p);
	if (!err) {
		err = live_diffs(&m, c, &p, true, diffs);
		chain_compile_free(&p);
	}
	mx_chain_maps_close_fds(&m);
	return err;
}
