// SPDX-License-Identifier: Apache-2.0
/* Output helpers: aliases and JSON; creating a named object and printing its alias. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char *cli_alias(struct cli *c, const char *id, char buf[64])
{
	if (topo_alias(&c->t, id, buf, 64))
		snprintf(buf, 64, "%s", id);
	return buf;
}

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

int cli_create_named(struct cli *c, char **w, int n, const char *ctx,
		     int (*create)(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN]))
{
	static const char *const keys[] = { "name", NULL };
	char id[TOPO_ID_LEN];
	const char *v[1];
	int rc;

	rc = cli_pairs(w, n, keys, v, ctx);
	if (rc)
		return rc;
	if (!v[0])
		return cli_fail(-EINVAL, "%s needs a name", ctx);
	rc = cli_name_arg(v[0]);
	if (rc)
		return rc;
	rc = create(c->zh, v[0], id);
	if (rc)
		return cli_lib_fail(rc);
	cli_print_created(c, id);
	return 0;
}
