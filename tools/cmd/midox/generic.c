// SPDX-License-Identifier: Apache-2.0
/* The commands every type has, driven by their table row: list, show, a write on one
 * object by id (delete), create by name; and the snapshot access of a struct cli_kind. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

size_t cli_kind_count(const struct cli *c, const struct cli_kind *d)
{
	return *(const size_t *)((const char *)&c->t + d->n_off);
}

const void *cli_kind_item(const struct cli *c, const struct cli_kind *d, size_t i)
{
	const char *arr = *(const char *const *)((const char *)&c->t + d->arr_off);

	return arr + i * d->size;
}

const char *cli_kind_str(const void *item, ptrdiff_t off)
{
	return (const char *)item + off;
}

/* Every object of cmd->kind, or those that belong to k->id ("bridge B list port"). */
int cli_cmd_list(struct cli *c, const struct cli_call *k)
{
	const struct cli_kind *d = k->cmd->kind;
	json_t *arr = cli_list_begin(c);
	size_t i;

	for (i = 0; i < cli_kind_count(c, d); i++) {
		const void *o = cli_kind_item(c, d, i);

		if (!k->id || d->parent_off < 0 || !strcmp(cli_kind_str(o, d->parent_off), k->id))
			d->print(c, arr, o, false);
	}
	cli_list_end(c, arr, 0);
	return 0;
}

int cli_cmd_show(struct cli *c, const struct cli_call *k)
{
	k->cmd->kind->print(c, NULL, k->obj, true);
	return 0;
}

int cli_cmd_apply(struct cli *c, const struct cli_call *k)
{
	int rc = k->cmd->op(c->zh, k->id);

	return rc ? cli_lib_fail(rc) : 0;
}

/* "<type> create name N": the row's first argument is the name. */
int cli_cmd_create(struct cli *c, const struct cli_call *k)
{
	char id[TOPO_ID_LEN];
	int rc = k->cmd->create(c->zh, k->v[0].s, id);

	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}
