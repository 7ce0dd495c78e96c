/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's grammar as tables: one struct cli_obj per object type, listing the commands on
 * the type ("bridge create ..."), on one object ("bridge B show"), and the objects nested in
 * it ("bridge B port P ..."). Parsing, help, the "expected one of" errors and Tab completion
 * all read these tables (grammar.c, complete.c); docs/cli.md shows how to add an object. */
#ifndef MIDOX_CLI_GRAMMAR_H
#define MIDOX_CLI_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "topology/topology.h"

struct cli;

/* What an argument's value is; checked before the handler runs. */
enum cli_type {
	CLI_T_NAME,	/* a new object's name (cli_name_arg) */
	CLI_T_KEYWORD,	/* one of arg->choices */
	CLI_T_IPV4,	/* a unicast IPv4 address */
	CLI_T_NET,	/* a.b.c.d/len without host bits */
	CLI_T_CIDRS,	/* A/len[,A/len]...: unicast addresses with their subnet lengths */
	CLI_T_MAC,	/* a unicast MAC */
	CLI_T_UINT,	/* a decimal integer, arg->min to arg->max */
	CLI_T_IFNAME,	/* an interface name */
	CLI_T_REF,	/* an object of type arg->ref, resolved after every other check */
	CLI_T_WORD,	/* any word: the handler checks it (monitor's port, named offline too) */
};

/* One "key VALUE" argument. */
struct cli_arg {
	const char *key;
	enum cli_type type;
	const char *meta;	/* the value in help: "B", "A/len[,A/len]" */
	bool required;
	const char *needs;	/* "needs ..." when it alone is required: "a name"; else key */
	const char *what;	/* "bad <what> 'x'": "tunnel zone type"; else key */
	const char *const *choices;	/* CLI_T_KEYWORD, NULL-terminated */
	uint32_t min, max;	/* CLI_T_UINT */
	const struct cli_obj *ref;	/* CLI_T_REF */
};

/* An argument's value, as its type parsed it. */
struct cli_val {
	const char *s;	/* the word; NULL when the argument was not given */
	union {
		struct in_addr ip;
		struct topo_cidr cidr;
		uint8_t mac[6];
		uint32_t u;
		const void *obj;
		struct {
			struct topo_cidr nets[TOPO_PORT_MAX_NETS];
			size_t n;
		} cidrs;
	};
};

#define CLI_MAX_ARGS 24 /* add rule's */

/* One command being run: what it acts on and its parsed arguments (by the row's order). */
struct cli_call {
	const struct cli_cmd *cmd;
	const void *obj;	/* the object named before the command; NULL on type commands */
	const char *id;		/* its id (NULL if it has none, as an ARP entry) */
	const char *ref;	/* the word that named it */
	const void *scope;	/* a nested object's parent (the router of "router R route X") */
	const char *scope_id;
	char **rest;		/* raw commands: the words after the command's own */
	int n_rest;
	struct cli_val v[CLI_MAX_ARGS];
};

/* One command: a row of a table. */
struct cli_cmd {
	const char *words;	/* "show", "add port": the words after the object (or its type) */
	int (*run)(struct cli *c, const struct cli_call *k);
	const char *help;	/* one line; NULL: an alias left out of help and of the lists */
	const struct cli_arg *args;	/* "key VALUE" pairs in any order, {0}-terminated */
	const char *usage;	/* the arguments in help when args cannot say it */
	bool raw;		/* the handler parses the words after the command itself */
	const struct cli_kind *kind;	/* cli_cmd_list, cli_cmd_show: what they print */
	int (*op)(zhandle_t *zh, const char *id);	/* cli_cmd_apply: a write by id */
	int (*create)(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN]);	/* cli_cmd_create */
};

/* Where the snapshot keeps one type's objects, and how one is printed: what the generic
 * lister, show, and the completion of names read. */
struct cli_kind {
	size_t arr_off, n_off, size;	/* in struct topology: the array, its length, one item */
	ptrdiff_t id_off;	/* the item's id; -1: none */
	ptrdiff_t name_off;	/* its name; -1: none */
	ptrdiff_t parent_off;	/* the id of what it belongs to; -1: listed alone */
	void (*print)(struct cli *c, json_t *arr, const void *obj, bool show);
};

#define CLI_KIND_AT(arr, type) \
	.arr_off = offsetof(struct topology, arr), .n_off = offsetof(struct topology, n_##arr), \
	.size = sizeof(type)

/* An object type: "bridge", or one nested in another ("port" of a bridge). */
struct cli_obj {
	const char *word;	/* the word that names the type */
	const char *title;	/* in messages: "unknown tunnel zone 'x'"; "needs a port" */
	const char *meta;	/* in help: "bridge B show" */
	/* Resolve ref (scope_id: the parent of a nested object, else NULL); an error says why.
	 * NULL: a type with type commands only ("datapath show"). */
	int (*find)(struct cli *c, const char *scope_id, const char *ref, const void **out);
	const struct cli_cmd *type_cmds;	/* "bridge create ...": {0}-terminated, or NULL */
	const struct cli_cmd *cmds;	/* "bridge B show" */
	const struct cli_obj *const *subs;	/* nested types, NULL-terminated, or NULL */
	const struct cli_kind *kind;	/* NULL: not in the snapshot (an ARP entry's address) */
	bool scoped;	/* named within its parent ("port1" of a bridge): completes short aliases */
	/* A type without objects (find NULL): the type command its word alone runs
	 * ("topology" is "topology show"); NULL: it needs a command. */
	const char *bare;
	/* Its bare command takes its arguments right after the type's word too: "monitor port
	 * P" is "monitor drops port P"; a word no row begins is the bare command's argument. */
	bool bare_args;
	/* Needs no snapshot to run: its handlers read one if ZooKeeper answers (datapath). */
	bool offline;
};

/* The top-level types, NULL-terminated; and what a port reference (a word with a ':')
 * dispatches to. */
extern const struct cli_obj *const cli_objects[];
extern const struct cli_obj cli_port_ref;

/* Generic handlers, driven by their row. */
int cli_cmd_list(struct cli *c, const struct cli_call *k);	/* cmd->kind, within k->id */
int cli_cmd_show(struct cli *c, const struct cli_call *k);	/* k->obj by cmd->kind */
int cli_cmd_apply(struct cli *c, const struct cli_call *k);	/* cmd->op on k->id */
/* cmd->op deleting k->id, and what went with it by cmd->kind (delete.c) */
int cli_cmd_delete(struct cli *c, const struct cli_call *k);
int cli_cmd_create(struct cli *c, const struct cli_call *k);	/* cmd->create, name = v[0] */

/* The rows' words: how many a row has; the longest row that w begins with (NULL: none). */
int cli_row_len(const char *words);
const struct cli_cmd *cli_row_match(const struct cli_cmd *rows, char **w, int n);
/* An object's id by its type's kind (NULL if it has none). */
const char *cli_obj_id(const struct cli_obj *o, const void *obj);

/* Run the words of one command on the tables (after "help" and the snapshot). */
int cli_dispatch(struct cli *c, char **w, int n);
/* "help" and "help OBJECT". */
int cli_help(FILE *f, char **w, int n);
/* The command lines of help, all of them or one type's. */
void cli_help_commands(FILE *f, const struct cli_obj *only);
/* The kinds' snapshot access. */
size_t cli_kind_count(const struct cli *c, const struct cli_kind *d);
const void *cli_kind_item(const struct cli *c, const struct cli_kind *d, size_t i);
const char *cli_kind_str(const void *item, ptrdiff_t off);

/* Tab completion: every word that may come after w[0..n) (those typed before the cursor);
 * add is called once per candidate. Names of objects come from a fresh snapshot, read
 * quietly (nothing is printed if ZooKeeper does not answer). */
void cli_complete(struct cli *c, char **w, int n, void (*add)(void *ctx, const char *word),
		  void *ctx);

#endif
