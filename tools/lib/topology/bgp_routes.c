// SPDX-License-Identifier: Apache-2.0
/* Routes an agent learned from the BGP peers of its ports, and the state of each session
 * (docs/bgp.md): ephemeral nodes of its session under its own host,
 * /midox/hosts/<host>/bgp_routes/<uuid> and /midox/hosts/<host>/bgp_status/<peer>, the
 * containers made when missing (an agent's own, as interfaces and binding_status are). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_impl.h"

static int ensure_container(zhandle_t *zh, const char *fmt, const char *host_id)
{
	char path[TOPO_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), fmt, host_id);
	rc = zoo_create(zh, path, topo_container_json, (int)strlen(topo_container_json),
			topo_acl_for(path), ZOO_PERSISTENT, NULL, 0);
	mirror_touched(zh, path);
	if (rc != ZOK && rc != ZNODEEXISTS)
		return topo_fail(topo_zerr(rc), "creating %s: %s", path, zerror(rc));
	return 0;
}

int topo_bgp_route_publish(zhandle_t *zh, const char *host_id, const struct topo_route *r,
			   char id[TOPO_ID_LEN])
{
	char path[TOPO_PATH_MAX], *data;
	int rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(r->router_id) ||
	    !topo_valid_uuid(r->port_id) || !topo_valid_uuid(r->peer_id))
		return topo_fail(-EINVAL, "bad host, router, port or peer id");
	if (!topo_cidr_is_network(&r->dst) || !topo_valid_unicast_ipv4(r->gw) ||
	    r->weight < 1 || r->weight > TOPO_WEIGHT_MAX)
		return topo_fail(-EINVAL, "bad learned route");
	rc = topo_new_uuid(id);
	if (!rc)
		rc = ensure_container(zh, P_HOST_BGP_ROUTES, host_id);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), P_BGP_ROUTE, host_id, id);
	data = topo_encode_route_learned(r);
	rc = topo_publish_ephemeral(zh, path, data);
	free(data);
	return rc;
}

int topo_bgp_route_withdraw(zhandle_t *zh, const char *host_id, const char *id)
{
	char path[TOPO_PATH_MAX];
	int rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(id))
		return topo_fail(-EINVAL, "bad host or route id");
	snprintf(path, sizeof(path), P_BGP_ROUTE, host_id, id);
	rc = zoo_delete(zh, path, -1);
	mirror_touched(zh, path);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "withdrawing %s: %s", path, zerror(rc));
	return 0;
}

int topo_bgp_routes_list(zhandle_t *zh, const char *host_id, struct topo_route **out,
			 size_t *n)
{
	struct String_vector sv = { 0 };
	char path[TOPO_PATH_MAX], buf[TOPO_DATA_MAX];
	struct topo_route *arr = NULL, *r;
	int32_t i;
	int rc, len;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), P_HOST_BGP_ROUTES, host_id);
	rc = zoo_get_children(zh, path, 0, &sv);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", path, zerror(rc));
	for (i = 0; i < sv.count; i++) {
		snprintf(path, sizeof(path), P_BGP_ROUTE, host_id, sv.data[i]);
		len = sizeof(buf);
		rc = zoo_get(zh, path, 0, buf, &len, NULL);
		if (rc == ZNONODE)
			continue;
		if (rc != ZOK) {
			rc = topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
			break;
		}
		rc = 0;
		r = topo_push((void **)&arr, n, sizeof(*arr));
		if (!r) {
			rc = topo_fail(-ENOMEM, "out of memory");
			break;
		}
		if (topo_decode_route_learned(buf, len > 0 ? (size_t)len : 0, sv.data[i], r))
			(*n)--; /* not ours to read: left for its owner to replace */
		else
			strcpy(r->host_id, host_id);
	}
	deallocate_String_vector(&sv);
	if (rc) {
		free(arr);
		*n = 0;
		return rc;
	}
	*out = arr;
	return 0;
}

int topo_bgp_status_publish(zhandle_t *zh, const char *host_id, const struct topo_bgp_status *st)
{
	char path[TOPO_PATH_MAX], *data;
	struct Stat stat;
	int rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(st->peer_id))
		return topo_fail(-EINVAL, "bad host or peer id");
	rc = ensure_container(zh, P_HOST_BGP_STATUS, host_id);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), P_BGP_STATUS, host_id, st->peer_id);
	data = topo_encode_bgp_status(st);
	if (!data)
		return topo_fail(-ENOMEM, "out of memory");
	/* Ours already (the session's): rewritten; else made, replacing an older session's. */
	rc = zoo_exists(zh, path, 0, &stat);
	if (rc == ZOK && stat.ephemeralOwner == zoo_client_id(zh)->client_id) {
		rc = zoo_set(zh, path, data, (int)strlen(data), -1);
		free(data);
		if (rc != ZOK)
			return topo_fail(topo_zerr(rc), "writing %s: %s", path, zerror(rc));
		return 0;
	}
	rc = topo_publish_ephemeral(zh, path, data);
	free(data);
	return rc;
}

int topo_bgp_status_withdraw(zhandle_t *zh, const char *host_id, const char *peer_id)
{
	char path[TOPO_PATH_MAX];
	int rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(peer_id))
		return topo_fail(-EINVAL, "bad host or peer id");
	snprintf(path, sizeof(path), P_BGP_STATUS, host_id, peer_id);
	rc = zoo_delete(zh, path, -1);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "withdrawing %s: %s", path, zerror(rc));
	return 0;
}

int topo_bgp_status_read(zhandle_t *zh, const char *host_id, const char *peer_id,
			 struct topo_bgp_status *out)
{
	char path[TOPO_PATH_MAX], buf[TOPO_DATA_MAX];
	int len = sizeof(buf), rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(peer_id))
		return topo_fail(-EINVAL, "bad host or peer id");
	snprintf(path, sizeof(path), P_BGP_STATUS, host_id, peer_id);
	rc = zoo_get(zh, path, 0, buf, &len, NULL);
	if (rc == ZNONODE)
		return -ENOENT;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
	memset(out, 0, sizeof(*out));
	return topo_decode_bgp_status(buf, len > 0 ? (size_t)len : 0, peer_id, out);
}
