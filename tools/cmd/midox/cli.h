/* SPDX-License-Identifier: Apache-2.0 */
/* The midox CLI: midonet-cli's grammar over the topology library. */
#ifndef MIDOX_CLI_H
#define MIDOX_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "midox/chain.h"
#include "topology/topology.h"
#include "grammar.h"

/* Where ZooKeeper is when neither --zk nor $MIDOX_ZK_SERVERS says. */
#define CLI_DEFAULT_SERVERS "127.0.0.1:2181"

/* Exit codes (docs/cli.md): */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_USAGE = 1,		/* bad command, word or value */
	EXIT_CONFLICT = 2,	/* no such object, duplicate, already bound, ... */
	EXIT_ZK = 3,		/* ZooKeeper unreachable, or the session lost */
	EXIT_INTERNAL = 4,	/* anything else (out of memory, I/O) */
	EXIT_DENIED = 5,	/* not authorised: no credential, or not the cluster's */
};

struct cli {
	const char *servers;
	const char *credentials;	/* the cluster credential's file, NULL if none */
	struct topo_cred cred;
	bool json;
	zhandle_t *zh;		/* connected on the first command that needs it */
	struct topology t;	/* the snapshot the current command reads */
	bool have_t;
	bool force;		/* --force: delete through aliases this session has not printed */
	const char *format;	/* --format: topology show's format when its words give none */
	struct cli_aliases *aliases;	/* the aliases printed so far (aliases.c) */
	char unprinted[64];	/* the current command's first alias not from that table */
	const char *pin_root;	/* the agent's pinned maps, for datapath (datapath_cmd.c) */
	bool dp_names_warned;	/* datapath said once that ZooKeeper gives no names */
	struct cli_rule_counters *rule_counters; /* chain C list rule: this host's (chain_cmd.c) */
};

/* A rule's counters as this host's datapath holds them, for printing a rule. */
struct cli_rule_counters {
	const __u32 *ids;	/* the datapath's rule id of c->t.rules[i] */
	const __u32 *live_ids;	/* the live rules with their counters */
	const struct mx_chain_counter *live;
	size_t n_live;
};
/* The counters of rule r (an element of c->t.rules): false when the datapath here does not
 * hold it (not installed yet). */
bool cli_rule_counter(const struct cli *c, const struct topo_rule *r,
		      struct mx_chain_counter *out);

/* The words of one command. */
struct words {
	char **w;
	int n;
};

/* Errors: print "midox: error: ..." and return err (a negative errno). */
int cli_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Quiet: errors are returned but not printed (completion resolves names on the fly). */
void cli_set_quiet(bool quiet);
/* Report a library failure: its message, or strerror. */
int cli_lib_fail(int err);
int cli_exit_code(int err);

int cli_split(const char *line, struct words *out);
void cli_words_free(struct words *w);
int cli_run(struct cli *c, struct words *w);
/* The usage text: the grammar in brief. */
void cli_usage(FILE *f);

/* Connect to c->servers, with a clear error (connect.c). */
int cli_connect(struct cli *c);
/* Connect if needed and read a fresh snapshot into c->t. */
int cli_refresh(struct cli *c);

/* No words left, or an error naming the first one. */
int cli_no_more(char **w, int n, const char *ctx);
int cli_name_arg(const char *name);
/* Values with a clear error: a unicast MAC, a unicast IPv4 address, a prefix (network:
 * without host bits). what names the value in the message. */
int cli_mac_arg(const char *s, uint8_t mac[6]);
int cli_ipv4_arg(const char *what, const char *s, struct in_addr *addr);
int cli_bits_arg(const char *what, const char *s, uint64_t *out);
void cli_format_bits(uint64_t bits, char *out, size_t len);
int cli_cidr_arg(const char *what, const char *s, bool network, struct topo_cidr *c);
/* Resolving references (UUID, name, alias) with a clear error; the signature of
 * cli_obj.find. scope_id: the device of a port ("port1"), the router of a route. */
int cli_find_zone(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_host(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_bridge(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_router(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_port(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_device_port(struct cli *c, const char *scope_id, const char *ref,
			 const void **out);
int cli_find_route(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_bgp_peer(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_bgp_network(struct cli *c, const char *scope_id, const char *ref,
			 const void **out);
int cli_find_chain(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_rule(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_port_group(struct cli *c, const char *scope_id, const char *ref, const void **out);
int cli_find_ip_group(struct cli *c, const char *scope_id, const char *ref, const void **out);

/* Aliases (aliases.c): an object's alias as this session prints it, kept for the session
 * (buf: id itself if no object has it). */
const char *cli_alias(struct cli *c, const char *id, char buf[64]);
/* The alias this session printed for id, or NULL. */
const char *cli_alias_printed(struct cli *c, const char *id);
/* Whether the session printed ref as an alias; *id: what it named (perhaps gone since). */
bool cli_alias_lookup(struct cli *c, const char *ref, const char **id);
/* A printed alias whose object is no longer there: -ENOENT with why. */
int cli_alias_gone(struct cli *c, const char *what, const char *ref, const char *id);
/* ref found id in the snapshot: an alias this session did not print is noted in
 * c->unprinted, or refused (-ENOENT) if the session calls that object otherwise. */
int cli_alias_check(struct cli *c, const char *what, const char *ref, const char *id,
		    const char *name);
/* A delete or unlink through an alias noted in c->unprinted, without --force: -EINVAL. */
int cli_alias_guard(struct cli *c, const struct cli_call *k);
/* Whether a name has an alias's shape ("bridge3"): it would shadow one. */
bool cli_alias_shaped(const char *name);
void cli_aliases_free(struct cli *c);

/* Output: one text line per object, or JSON when c->json. */
void cli_print_json(json_t *j);
void cli_print_created(struct cli *c, const char *id);
/* A JSON array to list into (NULL in text mode); printed at the end unless err. */
json_t *cli_list_begin(struct cli *c);
void cli_list_end(struct cli *c, json_t *arr, int err);

/* The object types (their tables): zone_cmd.c, host_cmd.c, bridge_cmd.c, router_cmd.c;
 * ports (of a bridge, of a router, or named by a full reference): port_cmd.c. */
extern const struct cli_obj cli_obj_zone, cli_obj_host, cli_obj_bridge, cli_obj_router;
/* topology show [format dot|svg] (topology_cmd.c), and its formats (NULL-terminated). */
extern const struct cli_obj cli_obj_topology;
extern const char *const cli_topology_formats[];
/* What this host's pinned maps hold, named from the topology: datapath_cmd.c. */
extern const struct cli_obj cli_obj_datapath;
/* Before reading the pinned maps: the pin root is there, and a snapshot to name keys from
 * (*names) when ZooKeeper answers (else a warning, once a session). */
int cli_dp_begin(struct cli *c, bool *names);
/* monitor [port P] [reason R] [address A] [count N] [rate N]: drop events (monitor_cmd.c). */
extern const struct cli_obj cli_obj_monitor;
/* trace from P dst A [...]: a described packet through this host's live datapath
 * (trace_cmd.c). */
extern const struct cli_obj cli_obj_trace;
extern const struct cli_obj cli_obj_device_port;
/* Rule chains, port groups, IP address groups (chain_cmd.c); "infilter C", "outfilter C"
 * in a set row and the clear rows of bridges, routers and ports. */
extern const struct cli_obj cli_obj_chain, cli_obj_port_group, cli_obj_ip_group;
int cli_filters_set(struct cli *c, const char *id, const struct cli_val *in,
		    const struct cli_val *out);
int cli_filter_clear(struct cli *c, const struct cli_call *k);
/* A router's floating IPs (floating_cmd.c): "add floating-ip" with cli_fip_args, "list
 * floating-ip", and "floating-ip F delete". */
extern const struct cli_obj cli_obj_floating_ip;
extern const struct cli_arg cli_fip_args[];
int cli_fip_add(struct cli *c, const struct cli_call *k);
int cli_fip_list(struct cli *c, const struct cli_call *k);
/* A router's BGP peers and networks ("router R bgp-peer P ..."): router_cmd.c. */
extern const struct cli_obj cli_obj_bgp_peer, cli_obj_bgp_network;
/* A bridge port's "[mac M] [address A]" (add port, set), and the options they give. */
extern const struct cli_arg cli_port_args[];
/* "up", "down": the values of set state. */
extern const char *const cli_states[];
void cli_port_opts(const struct cli_call *k, struct topo_port_opts *o);

#endif
