// SPDX-License-Identifier: Apache-2.0
/* The session's aliases, as midonet-cli keeps them: an alias, once printed (in a listing,
 * a create's answer, a message, a Tab completion), names the same object for the rest of
 * the process, whatever is deleted or created meanwhile. A table alias -> id is filled when
 * an alias is printed and consulted first when a reference is resolved; an object printed
 * for the first time takes its creation-order alias, or the next number free in the table.
 * An alias this session never printed is a creation-order index of the moment: a command
 * that deletes or unlinks through one is refused unless --force (cli_alias_guard). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "base/index.h"
#include "topology/chains.h"

#define ALIAS_LEN 64

struct alias_ent {
	char alias[ALIAS_LEN];
	char id[TOPO_ID_LEN];
};

struct cli_aliases {
	struct alias_ent *e;
	size_t n, cap;
	struct index by_alias, by_id;
};

static struct cli_aliases *table(struct cli *c)
{
	struct cli_aliases *a = c->aliases;

	if (a)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	index_init(&a->by_alias, NULL, sizeof(struct alias_ent), offsetof(struct alias_ent, alias),
		   ALIAS_LEN, INDEX_STRING);
	index_init(&a->by_id, NULL, sizeof(struct alias_ent), offsetof(struct alias_ent, id),
		   TOPO_ID_LEN, INDEX_STRING);
	c->aliases = a;
	return a;
}

void cli_aliases_free(struct cli *c)
{
	if (!c->aliases)
		return;
	index_free(&c->aliases->by_alias);
	index_free(&c->aliases->by_id);
	free(c->aliases->e);
	free(c->aliases);
	c->aliases = NULL;
}

static const struct alias_ent *lookup(struct cli *c, struct index *(*ix)(struct cli_aliases *),
				      const char *key)
{
	long i = c->aliases ? index_find(ix(c->aliases), key) : -1;

	return i >= 0 ? &c->aliases->e[i] : NULL;
}

static struct index *by_alias(struct cli_aliases *a)
{
	return &a->by_alias;
}

static struct index *by_id(struct cli_aliases *a)
{
	return &a->by_id;
}

/* Without memory the alias is printed but not kept: it then numbers as if fresh. */
static void put(struct cli *c, const char *alias, const char *id)
{
	struct cli_aliases *a = table(c);
	struct alias_ent *e;

	if (!a)
		return;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;

		e = realloc(a->e, cap * sizeof(*e));
		if (!e)
			return;
		a->e = e;
		a->cap = cap;
		index_rebase(&a->by_alias, e);
		index_rebase(&a->by_id, e);
	}
	e = &a->e[a->n];
	snprintf(e->alias, sizeof(e->alias), "%s", alias);
	snprintf(e->id, sizeof(e->id), "%s", id);
	if (index_add(&a->by_alias, a->n) || index_add(&a->by_id, a->n))
		return;
	a->n++;
}

/* The creation-order alias of id in this snapshot, its device's part as this session
 * prints it. -ENOENT if id is no object of the snapshot. */
static int fresh_alias(struct cli *c, const char *id, char buf[ALIAS_LEN])
{
	const struct topo_port *p = topo_find_port_by_id(&c->t, id);
	const struct topo_route *r = p ? NULL : topo_find_route_by_id(&c->t, id);
	const struct topo_bgp_peer *bp = p || r ? NULL : topo_find_bgp_peer_by_id(&c->t, id);
	const struct topo_bgp_network *bn =
		p || r || bp ? NULL : topo_find_bgp_network_by_id(&c->t, id);
	const struct topo_rule *ru = p || r || bp || bn ? NULL : topo_find_rule_by_id(&c->t, id);
	char dev[ALIAS_LEN];

	if (p)
		snprintf(buf, ALIAS_LEN, "%s:port%zu", cli_alias(c, p->device_id, dev), p->ordinal);
	else if (r)
		snprintf(buf, ALIAS_LEN, "%s:route%zu", cli_alias(c, r->router_id, dev), r->ordinal);
	else if (bp)
		snprintf(buf, ALIAS_LEN, "%s:peer%zu", cli_alias(c, bp->router_id, dev),
			 bp->ordinal);
	else if (bn)
		snprintf(buf, ALIAS_LEN, "%s:net%zu", cli_alias(c, bn->router_id, dev),
			 bn->ordinal);
	else if (ru)
		snprintf(buf, ALIAS_LEN, "%s:rule%zu", cli_alias(c, ru->chain_id, dev), ru->ordinal);
	else
		return topo_alias(&c->t, id, buf, ALIAS_LEN);
	return 0;
}

/* "bridge3" -> "bridge4" ...: the first number after buf's that the session has not given. */
static void next_free(struct cli *c, char buf[ALIAS_LEN])
{
	size_t stem = strlen(buf);
	unsigned long n;

	while (stem > 0 && isdigit((unsigned char)buf[stem - 1]))
		stem--;
	n = strtoul(buf + stem, NULL, 10);
	while (lookup(c, by_alias, buf))
		snprintf(buf + stem, ALIAS_LEN - stem, "%lu", ++n);
}

const char *cli_alias(struct cli *c, const char *id, char buf[64])
{
	const struct alias_ent *e = lookup(c, by_id, id);

	if (e) {
		snprintf(buf, ALIAS_LEN, "%s", e->alias);
		return buf;
	}
	if (fresh_alias(c, id, buf)) {
		snprintf(buf, ALIAS_LEN, "%s", id);
		return buf;
	}
	next_free(c, buf);
	put(c, buf, id);
	return buf;
}

const char *cli_alias_printed(struct cli *c, const char *id)
{
	const struct alias_ent *e = lookup(c, by_id, id);

	return e ? e->alias : NULL;
}

bool cli_alias_lookup(struct cli *c, const char *ref, const char **id)
{
	const struct alias_ent *e = lookup(c, by_alias, ref);

	*id = e ? e->id : NULL;
	return e != NULL;
}

int cli_alias_gone(struct cli *c, const char *what, const char *ref, const char *id)
{
	char other[ALIAS_LEN];

	if (!topo_alias(&c->t, id, other, sizeof(other)))
		return cli_fail(-ENOENT, "unknown %s '%s'", what, ref);
	return cli_fail(-ENOENT, "%s '%s' is gone: this session printed it for %s, deleted since",
			what, ref, id);
}

int cli_alias_check(struct cli *c, const char *what, const char *ref, const char *id,
		    const char *name)
{
	const char *known;

	if (!strcasecmp(ref, id) || (name && !strcmp(ref, name)))
		return 0;
	known = cli_alias_printed(c, id);
	if (known)
		return cli_fail(-ENOENT, "unknown %s '%s' in this session: the one it numbers "
				"now is %s here", what, ref, known);
	if (!c->unprinted[0])
		snprintf(c->unprinted, sizeof(c->unprinted), "%s", ref);
	return 0;
}

/* Deleting, unlinking, clearing: the rows whose first word is "delete" or "clear". */
static bool destroys(const char *words)
{
	size_t n = strcspn(words, " ");

	return (n == 6 && !strncmp(words, "delete", 6)) || (n == 5 && !strncmp(words, "clear", 5));
}

int cli_alias_guard(struct cli *c, const struct cli_call *k)
{
	size_t n = strcspn(k->cmd->words, " ");

	if (c->force || !c->unprinted[0] || !destroys(k->cmd->words))
		return 0;
	return cli_fail(-EINVAL, "refusing to %.*s through alias '%s', which this session has "
			"not printed: aliases number objects in creation order and shift when "
			"one is deleted; name it by name or UUID, list it first, or use --force",
			(int)n, k->cmd->words, c->unprinted);
}

/* "bridge12", "tzone0", "port3": a type's alias word and digits. */
bool cli_alias_shaped(const char *name)
{
	static const char *const stems[] = { "host", "tzone", "bridge", "router", "port",
					      "route", "chain", "rule", "pgroup",
					      "ip-address-group", NULL };
	size_t n;
	int i;

	for (i = 0; stems[i]; i++) {
		n = strlen(stems[i]);
		if (!strncmp(name, stems[i], n) && name[n] &&
		    strspn(name + n, "0123456789") == strlen(name + n))
			return true;
	}
	return false;
}
