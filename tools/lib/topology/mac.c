// SPDX-License-Identifier: Apache-2.0
/* What an agent learned on its local ports, as ephemeral nodes owned by its session, under
 * its own host: MACs (<mac>,<port>) and ARP entries (<address>,<mac>,<router>). */
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
	mirror_touched(zh, path);
	for (i = 0; i < 5; i++) {
		rc = zoo_create(zh, path, data, (int)strlen(data), topo_acl_for(path),
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

static int withdraw_one(zhandle_t *zh, const char *path)
{
	int rc = zoo_delete(zh, path, -1);

	mirror_touched(zh, path);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "withdrawing %s: %s", path, zerror(rc));
	return 0;
}

/* name: the node's name below <host>/<dir>. From this process's host when it registered
 * one (an agent), else from every host that has it (a tool). */
static int withdraw(zhandle_t *zh, const char *dir, const char *name)
{
	struct String_vector sv = { 0 };
	char path[TOPO_PATH_MAX];
	int32_t i;
	int rc;

	if (*topo_self_host()) {
		snprintf(path, sizeof(path), P_HOST "/%s/%s", topo_self_host(), dir, name);
		return withdraw_one(zh, path);
	}
	rc = zoo_get_children(zh, P_HOSTS, 0, &sv);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "listing %s: %s", P_HOSTS, zerror(rc));
	for (i = 0, rc = 0; !rc && i < sv.count; i++) {
		snprintf(path, sizeof(path), P_HOST "/%s/%s", sv.data[i], dir, name);
		rc = withdraw_one(zh, path);
	}
	deallocate_String_vector(&sv);
	return rc;
}

static int mac_name(char *name, const char *bridge_id, const uint8_t mac[6],
		    const char *port_id)
{
	char m[18];

	if (!topo_valid_uuid(bridge_id) || !topo_valid_uuid(port_id))
		return topo_fail(-EINVAL, "bad bridge or port id");
	topo_format_mac(mac, m);
	snprintf(name, TOPO_PATH_MAX, "%s,%s", m, port_id);
	return 0;
}

int topo_mac_publish(zhandle_t *zh, const char *host_id, const char *bridge_id,
		     const uint8_t mac[6], const char *port_id)
{
	char name[TOPO_PATH_MAX], path[TOPO_PATH_MAX + 64], *data;
	int rc;

	rc = mac_name(name, bridge_id, mac, port_id);
	if (rc)
		return rc;
	if (!topo_valid_uuid(host_id))
		return topo_fail(-EINVAL, "bad host id");
	snprintf(path, sizeof(path), P_HOST_MACS "/%s", host_id, name);
	data = topo_encode_mac_owner(host_id);
	rc = topo_publish_ephemeral(zh, path, data);
	free(data);
	return rc;
}

int topo_mac_withdraw(zhandle_t *zh, const char *bridge_id, const uint8_t mac[6],
		      const char *port_id)
{
	char name[TOPO_PATH_MAX];
	int rc = mac_name(name, bridge_id, mac, port_id);

	return rc ? rc : withdraw(zh, "macs", name);
}

static int arp_name(char *name, const char *router_id, struct in_addr addr,
		    const uint8_t mac[6])
{
	char a[INET_ADDRSTRLEN], m[18];

	if (!topo_valid_uuid(router_id))
		return topo_fail(-EINVAL, "bad router id");
	if (!topo_valid_unicast_ipv4(addr) || !topo_valid_unicast_mac(mac))
		return topo_fail(-EINVAL, "an ARP entry needs a unicast address and MAC");
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	topo_format_mac(mac, m);
	snprintf(name, TOPO_PATH_MAX, "%s,%s,%s", a, m, router_id);
	return 0;
}

int topo_arp_publish(zhandle_t *zh, const char *host_id, const char *router_id,
		     struct in_addr addr, const uint8_t mac[6], const char *port_id)
{
	struct topo_arp a = { .learned = true };
	char name[TOPO_PATH_MAX], path[TOPO_PATH_MAX + 64], *data;
	int rc;

	rc = arp_name(name, router_id, addr, mac);
	if (rc)
		return rc;
	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(port_id))
		return topo_fail(-EINVAL, "bad host or port id");
	snprintf(path, sizeof(path), P_HOST_ARPS "/%s", host_id, name);
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
	char name[TOPO_PATH_MAX];
	int rc = arp_name(name, router_id, addr, mac);

	return rc ? rc : withdraw(zh, "arp", name);
}
