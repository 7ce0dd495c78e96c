// SPDX-License-Identifier: Apache-2.0
/* Output helpers: aliases, JSON, and a created object's alias. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void cli_print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

/* After a create: the new object's alias (the snapshot is re-read to number it). */
void cli_print_created(struct cli *c, const char *id)
{
	char a[64];

	if (cli_refresh(c))
		return;
	cli_alias(c, id, a);
	if (c->json)
		cli_print_json(json_pack("{s:s,s:s}", "id", id, "alias", a));
	else
		printf("%s\n", a);
}

json_t *cli_list_begin(struct cli *c)
{
	return c->json ? json_array() : NULL;
}

void cli_list_end(struct cli *c, json_t *arr, int err)
{
	(void)c;
	if (err)
		json_decref(arr);
	else if (arr)
		cli_print_json(arr);
}
