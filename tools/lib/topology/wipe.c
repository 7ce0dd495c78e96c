// SPDX-License-Identifier: Apache-2.0
/* Remove the whole tree, depth first. For tests and resets: not one multi-op. */
#include <errno.h>
#include <stdio.h>

#include "topo_impl.h"

static int wipe(zhandle_t *zh, const char *path, int depth)
{
	struct String_vector sv = { 0 };
	char child[TOPO_PATH_MAX];
	int32_t i;
	int rc;

	if (depth > 8)
		return topo_fail(-ELOOP, "%s: deeper than the layout", path);
	rc = zoo_get_children(zh, path, 0, &sv);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", path, zerror(rc));
	for (i = 0, rc = 0; i < sv.count && !rc; i++) {
		snprintf(child, sizeof(child), "%s/%s", path, sv.data[i]);
		rc = wipe(zh, child, depth + 1);
	}
	deallocate_String_vector(&sv);
	if (rc)
		return rc;
	rc = zoo_delete(zh, path, -1);
	if (rc == ZNOTEMPTY)
		return wipe(zh, path, depth); /* something was added meanwhile */
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "deleting %s: %s", path, zerror(rc));
	return 0;
}

int topo_wipe(zhandle_t *zh)
{
	return wipe(zh, P_ROOT, 0);
}
