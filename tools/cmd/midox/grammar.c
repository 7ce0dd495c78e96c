// SPDX-License-Identifier: Apache-2.0
/* The grammar tables at work: a command's words walked through the object types
 * (OBJ [REF [SUB REF]...] COMMAND ARGS), its "key VALUE" arguments checked by their types,
 * and the errors and help text that the same tables give. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- the rows ---- */

/* How many words the row has and whether the first ones equal w[0..n). */
int cli_row_len(const char *words)
{
	int len = 1;

	for (; *words; words++)
		len += *words == ' ';
	return len;
}

/* Word i of a row, as a pointer into it and its length. */
static const char *row_word(const char *words, int i, size_t *len)
{
	for (; i > 0; i--)
		words = strchr(words, ' ') + 1;
	*len = strcspn(words, " ");
	return words;
}

static bool word_is(const char *words, int i, const char *w)
{
	size_t len;
	const char *s = row_word(words, i, &len);

	return strlen(w) == len && !strncmp(s, w, len);
}

/* The row whose words begin w, the longest first ("delete peer" before "delete"). */
const struct cli_cmd *cli_row_match(const struct cli_cmd *rows, char **w, int n)
{
	const struct cli_cmd *best = NULL;
	int i, len;

	for (; rows && rows->words; rows++) {
		len = cli_row_len(rows->words);
		for (i = 0; i < len && i < n && word_is(rows->words, i, w[i]); i++)
			;
		if (i == len && (!best || len > cli_row_len(best->words)))
			best = rows;
	}
	return best;
}

/* Whether w is the first of a row's several words ("add" of "add port"). */
static bool begins_longer(const struct cli_cmd *rows, const char *w)
{
	for (; rows && rows->words; rows++)
		if (cli_row_len(rows->words) > 1 && word_is(rows->words, 0, w))
			return true;
	return false;
}

/* "one of show, delete, add port" into buf: the rows in help, then the nested types. */
static const char *expected(const struct cli_obj *o, const struct cli_cmd *rows, char *buf,
			    size_t len, const char *tail)
{
	size_t at = 0;
	int i;

	at += snprintf(buf, len, "one of ");
	for (; rows && rows->words; rows++)
		if (rows->help && at < len)
			at += snprintf(buf + at, len - at, "%s, ", rows->words);
	for (i = 0; o && o->subs && o->subs[i] && at < len; i++)
		at += snprintf(buf + at, len - at, "%s, ", o->subs[i]->word);
	if (tail && at < len)
		at += snprintf(buf + at, len - at, "%s, ", tail);
	if (at >= 2 && at < len)
		buf[at - 2] = '\0';
	return buf;
}

/* ---- arguments ---- */

static const char *arg_what(const struct cli_arg *a)
{
	return a->what ? a->what : a->key;
}

static int uint_arg(const struct cli_arg *a, const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoul(s, &end, 10);
	if (*end || v < a->min || v > a->max)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	return cli_fail(-EINVAL, "bad %s '%s': %u to %u", arg_what(a), s, a->min, a->max);
}

static int keyword_arg(const struct cli_arg *a, const char *s, uint32_t *out)
{
	char list[256] = "";
	uint32_t i;

	for (i = 0; a->choices[i]; i++) {
		if (!strcmp(a->choices[i], s)) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 a->choices[i]);
	}
	return cli_fail(-EINVAL, "bad %s '%s': expected one of %s", arg_what(a), s, list);
}

/* "A/len[,A/len]...": each an address with its subnet length. */
static int cidrs_arg(const struct cli_arg *a, const char *s, struct cli_val *v)
{
	char list[512], *save = NULL, *one;
	int rc;

	snprintf(list, sizeof(list), "%s", s);
	v->cidrs.n = 0;
	for (one = strtok_r(list, ",", &save); one; one = strtok_r(NULL, ",", &save)) {
		if (v->cidrs.n == TOPO_PORT_MAX_NETS)
			return cli_fail(-EINVAL, "a router port has at most %d addresses",
					TOPO_PORT_MAX_NETS);
		rc = cli_cidr_arg(arg_what(a), one, false, &v->cidrs.nets[v->cidrs.n]);
		if (rc)
			return rc;
		if (!topo_valid_unicast_ipv4(v->cidrs.nets[v->cidrs.n].addr))
			return cli_fail(-EINVAL, "bad %s '%s': not a unicast IPv4 address",
					arg_what(a), one);
		v->cidrs.n++;
	}
	return v->cidrs.n ? 0 : cli_fail(-EINVAL, "%s needs %s", a->key, a->meta);
}

/* One value by its type; references wait (they need every other check done first). */
static int parse_value(const struct cli_arg *a, struct cli_val *v)
{
	switch (a->type) {
	case CLI_T_NAME:
		return cli_name_arg(v->s);
	case CLI_T_KEYWORD:
		return keyword_arg(a, v->s, &v->u);
	case CLI_T_IPV4:
		return cli_ipv4_arg(arg_what(a), v->s, &v->ip);
	case CLI_T_NET:
		return cli_cidr_arg(arg_what(a), v->s, true, &v->cidr);
	case CLI_T_CIDRS:
		return cidrs_arg(a, v->s, v);
	case CLI_T_MAC:
		return cli_mac_arg(v->s, v->mac);
	case CLI_T_UINT:
		return uint_arg(a, v->s, &v->u);
	case CLI_T_IFNAME:
		if (!topo_valid_ifname(v->s))
			return cli_fail(-EINVAL, "bad interface name '%s': 1 to %d characters, "
					"no '/', ':' or white space", v->s, TOPO_IFNAME_MAX - 1);
		return 0;
	case CLI_T_REF:
	case CLI_T_WORD:
		return 0;
	}
	return -EINVAL;
}

/* "<ctx> needs a name" (one required argument) or "needs port and interface". */
static int missing(const struct cli_arg *args, const struct cli_val *v, const char *ctx)
{
	char keys[256] = "";
	const struct cli_arg *one = NULL;
	int i, n = 0;
	bool lack = false;

	for (i = 0; args[i].key; i++) {
		if (!args[i].required)
			continue;
		lack |= !v[i].s;
		one = &args[i];
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s",
			 n++ ? " and " : "", args[i].key);
	}
	if (!lack)
		return 0;
	if (n == 1)
		return cli_fail(-EINVAL, "%s needs %s", ctx, one->needs ? one->needs : one->key);
	return cli_fail(-EINVAL, "%s needs %s", ctx, keys);
}

/* The pairs after a command: known keys, each once, each with a value; the required ones;
 * the values by type; last the references (in k->scope_id's scope when nested). */
static int parse_args(struct cli *c, struct cli_call *k, char **w, int n, const char *ctx)
{
	const struct cli_arg *args = k->cmd->args;
	int i, a, rc;

	for (i = 0; i < n; i += 2) {
		for (a = 0; args[a].key && strcmp(args[a].key, w[i]); a++)
			;
		if (!args[a].key)
			return cli_fail(-EINVAL, "unknown word '%s' in '%s'", w[i], ctx);
		if (i + 1 >= n)
			return cli_fail(-EINVAL, "'%s' needs a value in '%s'", w[i], ctx);
		if (k->v[a].s)
			return cli_fail(-EINVAL, "'%s' given twice in '%s'", w[i], ctx);
		k->v[a].s = w[i + 1];
	}
	rc = missing(args, k->v, ctx);
	for (a = 0; !rc && args[a].key; a++)
		if (k->v[a].s)
			rc = parse_value(&args[a], &k->v[a]);
	for (a = 0; !rc && args[a].key; a++)
		if (k->v[a].s && args[a].type == CLI_T_REF)
			rc = args[a].ref->find(c, args[a].ref->scoped ? k->id : NULL, k->v[a].s,
					       &k->v[a].obj);
	return rc;
}

/* Run one row on the words after its own. ctx names it in errors ("add port"). */
static int invoke(struct cli *c, struct cli_call *k, char **w, int n, const char *ctx)
{
	int rc;

	if (k->cmd->raw) {
		k->rest = w;
		k->n_rest = n;
	} else if (k->cmd->args) {
		rc = parse_args(c, k, w, n, ctx);
		if (rc)
			return rc;
	} else {
		rc = cli_no_more(w, n, ctx);
		if (rc)
			return rc;
	}
	rc = cli_alias_guard(c, k);
	return rc ? rc : k->cmd->run(c, k);
}

/* ---- the walk ---- */

const char *cli_obj_id(const struct cli_obj *o, const void *obj)
{
	return o->kind && o->kind->id_off >= 0 ? cli_kind_str(obj, o->kind->id_off) : NULL;
}

static const struct cli_obj *sub_match(const struct cli_obj *o, const char *w)
{
	int i;

	for (i = 0; o->subs && o->subs[i]; i++)
		if (!strcmp(o->subs[i]->word, w))
			return o->subs[i];
	return NULL;
}

static int dispatch_on(struct cli *c, const struct cli_obj *o, struct cli_call *k, char **w,
		       int n);

static const char *article(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* Resolve ref as an o (within k->scope_id when nested) and run the words after it. */
static int dispatch_ref(struct cli *c, const struct cli_obj *o, struct cli_call *k,
			const char *ref, char **w, int n)
{
	int rc = o->find(c, k->scope_id, ref, &k->obj);

	if (rc)
		return rc;
	k->ref = ref;
	k->id = cli_obj_id(o, k->obj);
	return dispatch_on(c, o, k, w, n);
}

/* "port P ..." within the object k names. */
static int dispatch_sub(struct cli *c, const struct cli_obj *parent, const struct cli_obj *s,
			const struct cli_call *k, char **w, int n)
{
	struct cli_call sk = { .scope = k->obj, .scope_id = k->id };
	char exp[512];

	if (n < 2)
		return cli_fail(-EINVAL, "%s %s needs %s %s and a command: %s", parent->word,
				s->word, article(s->title), s->title, expected(s, s->cmds, exp, sizeof(exp), NULL));
	return dispatch_ref(c, s, &sk, w[0], w + 1, n - 1);
}

/* The words after an object's reference: a command, or a nested object. */
static int dispatch_on(struct cli *c, const struct cli_obj *o, struct cli_call *k, char **w,
		       int n)
{
	bool top = !k->scope && o != &cli_port_ref, two;
	const struct cli_obj *s;
	char exp[512];

	if (n < 1)
		return cli_fail(-EINVAL, "%s %s needs a command: %s", o->word, k->ref,
				expected(o, o->cmds, exp, sizeof(exp), NULL));
	s = sub_match(o, w[0]);
	if (s)
		return dispatch_sub(c, o, s, k, w + 1, n - 1);
	k->cmd = cli_row_match(o->cmds, w, n);
	if (k->cmd)
		return invoke(c, k, w + cli_row_len(k->cmd->words), n - cli_row_len(k->cmd->words),
			      k->cmd->words);
	/* Named with its reference on a top-level type ("bridge blue frob"), by its type
	 * alone when nested or a port reference ("port frob"), as always; with the second
	 * word when the first begins a longer command ("add frob"). */
	two = n > 1 && begins_longer(o->cmds, w[0]);
	return cli_fail(-EINVAL, "unknown command '%s%s%s %s%s%s': expected %s", o->word,
			top ? " " : "", top ? k->ref : "", w[0], two ? " " : "", two ? w[1] : "",
			expected(o, o->cmds, exp, sizeof(exp), NULL));
}

/* "bridge create ...", "bridge list", or "bridge B ...". */
static int dispatch_type(struct cli *c, const struct cli_obj *o, char **w, int n)
{
	struct cli_call k = { 0 };
	char exp[512], tail[64], ctx[128];
	int len, n_own = -1; /* the row's own words among w; -1: its length */
	char *bare[] = { (char *)o->bare };

	snprintf(tail, sizeof(tail), "or %s %s", article(o->title), o->title);
	if (n < 1 && o->bare)
		k.cmd = cli_row_match(o->type_cmds, bare, 1);
	else if (n < 1)
		return cli_fail(-EINVAL, "%s needs a command: %s", o->word,
				expected(NULL, o->type_cmds, exp, sizeof(exp), o->find ? tail : NULL));
	else
		k.cmd = cli_row_match(o->type_cmds, w, n);
	if (!k.cmd && n >= 1 && o->bare_args) {
		k.cmd = cli_row_match(o->type_cmds, bare, 1);
		n_own = 0;
	}
	if (k.cmd) {
		len = n < 1 ? 0 : n_own < 0 ? cli_row_len(k.cmd->words) : n_own;
		snprintf(ctx, sizeof(ctx), "%s %s", o->word, k.cmd->words);
		return invoke(c, &k, w + len, n - len, ctx);
	}
	if (!o->find) /* no objects to name: "datapath list frob", "topology frob" */
		return cli_fail(-EINVAL, "unknown command '%s %s%s%s': expected %s", o->word, w[0],
				n > 1 && begins_longer(o->type_cmds, w[0]) ? " " : "",
				n > 1 && begins_longer(o->type_cmds, w[0]) ? w[1] : "",
				expected(NULL, o->type_cmds, exp, sizeof(exp), NULL));
	return dispatch_ref(c, o, &k, w[0], w + 1, n - 1);
}

/* The top-level type named w, or NULL; exp gets "tunnel-zone, host, bridge, router, ". */
static const struct cli_obj *top_find(const char *w, char *exp, size_t len)
{
	int i;

	*exp = '\0';
	for (i = 0; cli_objects[i]; i++) {
		if (!strcmp(cli_objects[i]->word, w))
			return cli_objects[i];
		snprintf(exp + strlen(exp), len - strlen(exp), "%s, ", cli_objects[i]->word);
	}
	return NULL;
}

/* Which top-level type w names: one of cli_objects, cli_port_ref for a word with a ':',
 * else an error (before ZooKeeper is asked anything). */
static int top_type(const char *w, const struct cli_obj **out)
{
	char exp[256];

	*out = top_find(w, exp, sizeof(exp));
	if (*out)
		return 0;
	*out = &cli_port_ref;
	if (strchr(w, ':'))
		return 0;
	return cli_fail(-EINVAL, "unknown command '%s': expected one of %sa port such as "
			"bridge0:port1, help", w, exp);
}

int cli_dispatch(struct cli *c, char **w, int n)
{
	struct cli_call k = { 0 };
	const struct cli_obj *o;
	int rc = top_type(w[0], &o);

	if (!rc && !o->offline)
		rc = cli_refresh(c);
	if (rc)
		return rc;
	if (o != &cli_port_ref)
		return dispatch_type(c, o, w + 1, n - 1);
	/* A port named by its full reference: "bridge0:port1 set peer router0:port0". */
	return dispatch_ref(c, o, &k, w[0], w + 1, n - 1);
}

/* ---- help ---- */

/* "key M" or "[key M]" for each argument, or the row's own usage. */
static void args_usage(const struct cli_cmd *r, char *buf, size_t len)
{
	const struct cli_arg *a;
	size_t at = strlen(buf);
	int i;

	if (r->usage) {
		snprintf(buf + at, len - at, " %s", r->usage);
		return;
	}
	for (a = r->args; a && a->key && at < len; a++) {
		char meta[128] = "";

		for (i = 0; a->type == CLI_T_KEYWORD && a->choices[i]; i++)
			snprintf(meta + strlen(meta), sizeof(meta) - strlen(meta), "%s%s",
				 i ? "|" : "", a->choices[i]);
		at += snprintf(buf + at, len - at, a->required ? " %s %s" : " [%s %s]", a->key,
			       *meta ? meta : a->meta);
	}
}

static void help_rows(FILE *f, const char *prefix, const struct cli_cmd *rows)
{
	char line[256];

	for (; rows && rows->words; rows++) {
		if (!rows->help)
			continue;
		snprintf(line, sizeof(line), "%s %s", prefix, rows->words);
		args_usage(rows, line, sizeof(line));
		if (strlen(line) > 44)
			fprintf(f, "  %s\n  %-44s  %s\n", line, "", rows->help);
		else
			fprintf(f, "  %-44s  %s\n", line, rows->help);
	}
}

/* One type's lines, its nested types' after them. */
static void help_obj(FILE *f, const char *prefix, const struct cli_obj *o)
{
	char p[128];
	int i;

	snprintf(p, sizeof(p), "%s%s%s", prefix, *prefix ? " " : "", o->word);
	help_rows(f, p, o->type_cmds);
	if (!o->meta)
		return;
	snprintf(p + strlen(p), sizeof(p) - strlen(p), " %s", o->meta);
	help_rows(f, p, o->cmds);
	for (i = 0; o->subs && o->subs[i]; i++)
		help_obj(f, p, o->subs[i]);
}

void cli_help_commands(FILE *f, const struct cli_obj *only)
{
	int i;

	for (i = 0; cli_objects[i]; i++)
		if (!only || only == cli_objects[i])
			help_obj(f, "", cli_objects[i]);
	if (!only || only == &cli_port_ref) {
		help_rows(f, cli_port_ref.meta, cli_port_ref.cmds);
		fprintf(f, "  %s: bridge B port P, router R port P, or a reference such as "
			"bridge0:port1\n", cli_port_ref.meta);
	}
}

int cli_help(FILE *f, char **w, int n)
{
	const struct cli_obj *o;
	char exp[256];

	if (n == 0) {
		cli_usage(f);
		return 0;
	}
	if (n > 1)
		return cli_fail(-EINVAL, "unexpected word '%s' after 'help %s'", w[1], w[0]);
	o = top_find(w[0], exp, sizeof(exp));
	if (!o && !strcmp(cli_port_ref.word, w[0]))
		o = &cli_port_ref;
	if (!o)
		return cli_fail(-EINVAL, "unknown object '%s': expected one of %s%s", w[0], exp,
				cli_port_ref.word);
	cli_help_commands(f, o);
	return 0;
}
