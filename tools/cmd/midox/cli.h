/* SPDX-License-Identifier: Apache-2.0 */
/* The midox CLI: midonet-cli's grammar over the topology library. */
#ifndef MIDOX_CLI_H
#define MIDOX_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "topology/topology.h"

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
};

/* The words of one command. */
struct words {
	char **w;
	int n;
};

/* Errors: print "midox: error: ..." and return err (a negative errno). */
int cli_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a library failure: its message, or strerror. */
int cli_lib_fail(int err);
int cli_exit_code(int err);

int cli_split(const char *line, struct words *out);
void cli_words_free(struct words *w);
int cli_run(struct cli *c, struct words *w);
/* The usage text: the grammar in brief. */
void cli_usage(FILE *f);

/* Connect if needed and read a fresh snapshot into c->t. */
int cli_refresh(struct cli *c);

/* "key value" pairs after a command: keys lists the accepted keys (NULL-terminated),
 * vals gets each one's value (NULL if absent). */
int cli_pairs(char **w, int n, const char *const *keys, const char **vals, const char *ctx);
/* No words left, or an error naming the first one. */
int cli_no_more(char **w, int n, const char *ctx);
int cli_name_arg(const char *name);
/* Values with a clear error: a unicast MAC, a unicast IPv4 address, a prefix (network:
 * without host bits). what names the value in the message. */
int cli_mac_arg(const char *s, uint8_t mac[6]);
int cli_ipv4_arg(const char *what, const char *s, struct in_addr *addr);
int cli_cidr_arg(const char *what, const char *s, bool network, struct topo_cidr *c);
/* A write on one object named by id, after the command's last word: no words left, call
 * op, report its failure. ctx names the command for a stray word. */
int cli_apply_id(struct cli *c, char **w, int n, const char *ctx,
		 int (*op)(zhandle_t *zh, const char *id), const char *id);
/* "<type> create name N": a bridge or a router. */
int cli_create_named(struct cli *c, char **w, int n, const char *ctx,
		     int (*create)(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN]));
/* "list port" of a bridge or a router. */
int cli_list_ports(struct cli *c, const char *device_id, char **w, int n);
/* "mac M" and "address A" of a bridge port, each optional. */
int cli_port_opts(char **w, int n, const char *ctx, struct topo_port_opts *o);

/* Resolving references (UUID, name, alias) with a clear error. */
int cli_zone(struct cli *c, const char *ref, const struct topo_zone **out);
int cli_host(struct cli *c, const char *ref, const struct topo_host **out);
int cli_bridge(struct cli *c, const char *ref, const struct topo_bridge **out);
int cli_port(struct cli *c, const char *ref, const struct topo_port **out);
int cli_router(struct cli *c, const char *ref, const struct topo_router **out);
/* A port of one device: "portN", its UUID or its full alias. */
int cli_device_port(struct cli *c, const char *device_id, const char *ref,
		    const struct topo_port **out);
int cli_router_route(struct cli *c, const struct topo_router *r, const char *ref,
		     const struct topo_route **out);

/* Output: one text line per object, or JSON when c->json. */
const char *cli_alias(struct cli *c, const char *id, char buf[64]);
void cli_print_json(json_t *j);
void cli_print_created(struct cli *c, const char *id);
/* A JSON array to list into (NULL in text mode); printed at the end unless err. */
json_t *cli_list_begin(struct cli *c);
void cli_list_end(struct cli *c, json_t *arr, int err);

int cmd_tunnel_zone(struct cli *c, char **w, int n);
int cmd_host(struct cli *c, char **w, int n);
int cmd_bridge(struct cli *c, char **w, int n);
int cmd_router(struct cli *c, char **w, int n);
/* What follows a port: show, delete, set ..., set peer ..., delete peer, clear peer. */
int cmd_port(struct cli *c, const struct topo_port *p, char **w, int n);
/* A port named by its full alias first: "bridge0:port1 set peer router0:port0". */
int cmd_port_ref(struct cli *c, char **w, int n);

#endif
