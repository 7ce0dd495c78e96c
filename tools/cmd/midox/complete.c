// SPDX-License-Identifier: Apache-2.0
/* Tab completion from the grammar tables: the words that may follow those already typed
 * (object types, commands, argument keys, keyword values) and, where a word names an
 * object, the names and aliases in a fresh snapshot. Free of libedit: main.c hands the
 * candidates to the line editor. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct comp {
	struct cli *c;
	void (*add)(void *ctx, const char *word);
	void *ctx;
};

/* Word i of a row ("add port": "add", "port"), copied so that add gets a string. */
static void add_row_word(struct comp *p, const char *words, int i)
{
	char word[64];
	const char *s = words;
	size_t len;

	for (; i > 0 && s; i--) {
		s = strchr(s, ' ');
		s = s ? s + 1 : NULL;
	}
	if (!s)
		return;
	len = strcspn(s, " ");
	snprintf(word, sizeof(word), "%.*s", (int)len, s);
	p->add(p->ctx, word);
}

/* The word n of every row whose first n words are w[0..n) (the rest of "add ..."). */
static void rows_next(struct comp *p, const struct cli_cmd *rows, char **w, int n)
{
	char line[256] = "";
	int i;

	for (i = 0; i < n; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s ", w[i]);
	for (; rows && rows->words; rows++)
		if (rows->help && !strncmp(rows->words, line, strlen(line)))
			add_row_word(p, rows->words, n);
}

/* Names and aliases of d's objects (within scope_id, by their short alias, when given). */
static void names(struct comp *p, const struct cli_kind *d, const char *scope_id)
{
	char a[64];
	size_t i;

	if (!d || d->id_off < 0 || !p->c->have_t)
		return;
	for (i = 0; i < cli_kind_count(p->c, d); i++) {
		const void *o = cli_kind_item(p->c, d, i);

		if (scope_id && strcmp(cli_kind_str(o, d->parent_off), scope_id))
			continue;
		if (d->name_off >= 0 && *cli_kind_str(o, d->name_off))
			p->add(p->ctx, cli_kind_str(o, d->name_off));
		cli_alias(p->c, cli_kind_str(o, d->id_off), a);
		p->add(p->ctx, scope_id && strchr(a, ':') ? strchr(a, ':') + 1 : a);
	}
}

/* After a row's own words: the keys not given yet, or the values of the last key. */
static void args(struct comp *p, const struct cli_cmd *r, const char *scope_id, char **w,
		 int n)
{
	const struct cli_arg *a;
	int i;

	if (r->raw || !r->args)
		return;
	for (a = r->args; a->key; a++) {
		if (n % 2 == 0) {
			for (i = 0; i < n && strcmp(w[i], a->key); i += 2)
				;
			if (i >= n)
				p->add(p->ctx, a->key);
		} else if (!strcmp(w[n - 1], a->key)) {
			for (i = 0; a->type == CLI_T_KEYWORD && a->choices[i]; i++)
				p->add(p->ctx, a->choices[i]);
			if (a->type == CLI_T_REF)
				names(p, a->ref->kind, a->ref->scoped ? scope_id : NULL);
		}
	}
}

/* The words after an object o named (id): its commands, nested objects, their names. */
static void on_object(struct comp *p, const struct cli_obj *o, const char *id, char **w, int n)
{
	const struct cli_cmd *r;
	const void *obj;
	int i;

	for (i = 0; o->subs && o->subs[i]; i++) {
		if (n == 0)
			p->add(p->ctx, o->subs[i]->word);
		else if (!strcmp(o->subs[i]->word, w[0]) && n == 1)
			names(p, o->subs[i]->kind, id);
		else if (!strcmp(o->subs[i]->word, w[0]) &&
			 !o->subs[i]->find(p->c, id, w[1], &obj))
			on_object(p, o->subs[i], cli_obj_id(o->subs[i], obj), w + 2, n - 2);
	}
	rows_next(p, o->cmds, w, n);
	r = cli_row_match(o->cmds, w, n);
	if (r)
		args(p, r, id, w + cli_row_len(r->words), n - cli_row_len(r->words));
}

/* The words after a type: its type commands, or an object of it. */
static void on_type(struct comp *p, const struct cli_obj *o, char **w, int n)
{
	const struct cli_cmd *r = cli_row_match(o->type_cmds, w, n);
	const void *obj;

	rows_next(p, o->type_cmds, w, n);
	if (n == 0)
		names(p, o->kind, NULL);
	else if (r)
		args(p, r, NULL, w + cli_row_len(r->words), n - cli_row_len(r->words));
	else if (o->find && !o->find(p->c, NULL, w[0], &obj))
		on_object(p, o, cli_obj_id(o, obj), w + 1, n - 1);
}

void cli_complete(struct cli *c, char **w, int n, void (*add)(void *ctx, const char *word),
		  void *ctx)
{
	struct comp p = { c, add, ctx };
	const void *obj;
	int i;

	for (i = 0; cli_objects[i]; i++) {
		if (n == 0 || (n == 1 && !strcmp(w[0], "help")))
			add(ctx, cli_objects[i]->word);
		else if (!strcmp(w[0], cli_objects[i]->word) &&
			 (cli_objects[i]->offline || !cli_refresh(c)))
			on_type(&p, cli_objects[i], w + 1, n - 1);
	}
	if (n == 0) {
		add(ctx, "help");
		add(ctx, "quit");
	} else if (n == 1 && !strcmp(w[0], "help")) {
		add(ctx, cli_port_ref.word);
	} else if (strchr(w[0], ':') && !cli_refresh(c) &&
		   !cli_port_ref.find(c, NULL, w[0], &obj)) {
		on_object(&p, &cli_port_ref, cli_obj_id(&cli_port_ref, obj), w + 1, n - 1);
	}
}
