// SPDX-License-Identifier: Apache-2.0
/* What an agent learned on its local ports, as ephemeral nodes owned by its session: MACs
 * under their bridge, ARP entries under their router. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_impl.h"

int topo_publish_ephemeral(zhandle_t *zh, const char *path, const char *data)
{
	const clientid_t *me = zoo_client_id(zh);
	struct Stat st;
	int rc, i;

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
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "publishing %s: %s", path, zerror(rc));
	return 0;
}

static int withdraw(zhandle_t *zh, const char *path)
{
	int rc = zoo_delete(zh, path, -1);

	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "withdrawing %s: %s", path, zerror(rc));
	return 0;
}

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
	char path[TOPO_PATH_MAX], *data;
	int rc;

	rc = mac_path(path, bridge_id, mac, port_id);
	if (rc)
		return rc;
	data = topo_encode_mac_owner(host_id);
	rc = topo_publish_ephemeral(zh, path, data);
	free(data);
	return rc;
}

int topo_mac_withdraw(zhandle_t *zh, const char *bridge_id, const uint8_t mac[6],
		      const char *port_id)
{
	char path[TOPO_PATH_MAX];
	int rc = mac_path(path, bridge_id, mac, port_id);

	return rc ? rc : withdraw(zh, path);
}

static int arp_path(char *path, const char *router_id, struct in_addr addr,
		    const uint8_t mac[6])
{
	char a[INET_ADDRSTRLEN], m[18];

	if (!topo_valid_uuid(router_id))
		return topo_fail(-EINVAL, "bad router id");
	if (!topo_valid_unicast_ipv4(addr) || !topo_valid_unicast_mac(mac))
		return topo_fail(-EINVAL, "an ARP entry needs a unicast address and MAC");
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	topo_format_mac(mac, m);
	snprintf(path, TOPO_PATH_MAX, P_ARP, router_id, a, m);
	return 0;
}

int topo_arp_publish(zhandle_t *zh, const char *host_id, const char *router_id,
		     struct in_addr addr, const uint8_t mac[6], const char *port_id)
{
	struct topo_arp a = { .learned = true };
	char path[TOPO_PATH_MAX], *data;
	int rc;

	rc = arp_path(path, router_id, addr, mac);
	if (rc)
		return rc;
	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(port_id))
		return topo_fail(-EINVAL, "bad host or port id");
	strcpy(a.host_id, host_id);
	strcpy(a.port_id, port_id);
	data = topo_encode_arp(&a);
	rc = topo_publish_ephemeral(zh, path, data);
	free(data);
	return rc;
}

int topo_arp_withdraw(zhandle_t *zh, const char *router_id, struct in_addr addr,
		      const uint8_t mac[6])
{
	char path[TOPO_PATH_MAX];
	int rc = arp_path(path, router_id, addr, mac);

	return rc ? rc : withdraw(zh, path);
}
