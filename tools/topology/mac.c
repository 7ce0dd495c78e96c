// SPDX-License-Identifier: Apache-2.0
/* MACs an agent learned on its local ports: ephemeral nodes under their bridge. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_impl.h"

static int mac_path(char *path, const char *bridge_id, const uint8_t mac[6],
		    const char *port_id)
{
	char m[18];

	if (!topo_valid_uuid(bridge_id) || !topo_valid_uuid(port_id))
		return topo_fail(-EINVAL, "bad bridge or port id");
	topo_format_mac(mac, m);
	snprintf(path, TOPO_PATH_MAX, P_MAC, bridge_id, m, port_id);
	return 0;
}

int topo_mac_publish(zhandle_t *zh, const char *host_id, const char *bridge_id,
		     const uint8_t mac[6], const char *port_id)
{
	const clientid_t *me = zoo_client_id(zh);
	char path[TOPO_PATH_MAX], *data;
	struct Stat st;
	int rc, i;

	rc = mac_path(path, bridge_id, mac, port_id);
	if (rc)
		return rc;
	data = topo_encode_mac_owner(host_id);
	if (!data)
		return topo_fail(-ENOMEM, "out of memory");
	for (i = 0; i < 5; i++) {
		rc = zoo_create(zh, path, data, (int)strlen(data), &ZOO_OPEN_ACL_UNSAFE,
				ZOO_EPHEMERAL, NULL, 0);
		if (rc != ZNODEEXISTS)
			break;
		/* Ours already, or left by an older session (a restart, the port moved):
		 * replace it so that it lives as long as this session. */
		rc = zoo_exists(zh, path, 0, &st);
		if (rc == ZOK && st.ephemeralOwner == me->client_id)
			break;
		if (rc == ZOK)
			rc = zoo_delete(zh, path, st.version);
		if (rc != ZOK && rc != ZNONODE && rc != ZBADVERSION)
			break;
	}
	free(data);
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "publishing %s: %s", path, zerror(rc));
	return 0;
}

int topo_mac_withdraw(zhandle_t *zh, const char *bridge_id, const uint8_t mac[6],
		      const char *port_id)
{
	char path[TOPO_PATH_MAX];
	int rc;

	rc = mac_path(path, bridge_id, mac, port_id);
	if (rc)
		return rc;
	rc = zoo_delete(zh, path, -1);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "withdrawing %s: %s", path, zerror(rc));
	return 0;
}
