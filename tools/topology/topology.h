/* SPDX-License-Identifier: Apache-2.0 */
/* The topology object model: ZooKeeper paths, JSON encoding, validation and the
 * operations on them. The one library the CLI, the agent and the tests link.
 * Every function returns 0 or a negative errno; ZooKeeper errors are mapped to errno
 * (ZNONODE -ENOENT, ZNODEEXISTS -EEXIST, ZBADVERSION -EAGAIN, ZCONNECTIONLOSS and
 * ZOPERATIONTIMEOUT -ETIMEDOUT, ZSESSIONEXPIRED -ESTALE, ZNOAUTH -EACCES). */
#ifndef MIDOX_TOPOLOGY_H
#define MIDOX_TOPOLOGY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zookeeper/zookeeper.h>

#define TOPO_ROOT "/midox"
#define TOPO_SCHEMA 1
#define TOPO_ID_LEN 37 /* UUID text and its NUL */
#define TOPO_NAME_MAX 64
#define TOPO_IFNAME_MAX 16

enum topo_device_type { TOPO_DEVICE_BRIDGE = 1 };

struct topo_host {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	bool alive; /* its agent holds a live session */
	int64_t czxid;
};

struct topo_zone {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	char type[8]; /* "vxlan" */
	int64_t czxid;
};

struct topo_member {
	char zone_id[TOPO_ID_LEN];
	char host_id[TOPO_ID_LEN];
	struct in_addr addr;
	int64_t czxid;
};

struct topo_bridge {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	uint32_t tunnel_key;
	int64_t czxid;
};

struct topo_port {
	char id[TOPO_ID_LEN];
	char device_id[TOPO_ID_LEN];
	enum topo_device_type device_type;
	uint32_t tunnel_key;
	bool has_mac;
	uint8_t mac[6];
	bool has_addr;
	struct in_addr addr;
	int64_t czxid;
};

struct topo_binding {
	char host_id[TOPO_ID_LEN];
	char interface[TOPO_IFNAME_MAX];
	char port_id[TOPO_ID_LEN];
	int64_t czxid;
};

/* A MAC an agent learned on one of its local ports (ephemeral: gone with its session). */
struct topo_mac {
	char bridge_id[TOPO_ID_LEN];
	uint8_t mac[6];
	char port_id[TOPO_ID_LEN];
	char host_id[TOPO_ID_LEN];
};

/* A snapshot of the whole tree. Each array is sorted by creation (czxid), which is also
 * the order aliases such as bridge0 and bridge0:port1 follow. */
struct topology {
	struct topo_host *hosts;
	size_t n_hosts;
	struct topo_zone *zones;
	size_t n_zones;
	struct topo_member *members;
	size_t n_members;
	struct topo_bridge *bridges;
	size_t n_bridges;
	struct topo_port *ports;
	size_t n_ports;
	struct topo_binding *bindings;
	size_t n_bindings;
	struct topo_mac *macs;
	size_t n_macs;
	size_t n_skipped; /* objects that could not be parsed: logged and left out */
};

/* Connect and wait until the session is established (or timeout_ms passes: -ETIMEDOUT).
 * watcher receives session events afterwards (may be NULL). servers: "host:port,...". */
int topo_connect(const char *servers, int timeout_ms, watcher_fn watcher, void *ctx,
		 zhandle_t **out);
/* Create /midox and its fixed children if missing. */
int topo_ensure_root(zhandle_t *zh);

/* Read the whole tree. With on_change set, a watch stays on every node read, and the next
 * change anywhere calls on_change(ctx) (from the ZooKeeper client's thread). */
typedef void (*topo_change_fn)(void *ctx);
int topo_read(zhandle_t *zh, struct topology *t, topo_change_fn on_change, void *ctx);
void topo_free(struct topology *t);

/* Find an object by UUID, name or alias (bridge0, host1, tzone0; a port by
 * "<device ref>:portN" or UUID). NULL if none. */
const struct topo_host *topo_find_host(const struct topology *t, const char *ref);
const struct topo_zone *topo_find_zone(const struct topology *t, const char *ref);
const struct topo_bridge *topo_find_bridge(const struct topology *t, const char *ref);
const struct topo_port *topo_find_port(const struct topology *t, const char *ref);
const struct topo_port *topo_find_port_by_id(const struct topology *t, const char *id);
/* Aliases as midonet-cli prints them: "bridge0", "bridge0:port1", "host0", "tzone0". */
int topo_alias(const struct topology *t, const char *id, char *buf, size_t len);

/* The agent's own writes. */
/* Read the host id from path, or create it (a new UUID) if the file does not exist. */
int topo_host_id_load(const char *path, char id[TOPO_ID_LEN]);
/* Create or update /midox/hosts/<id> (persistent) and its ephemeral liveness node. */
int topo_host_register(zhandle_t *zh, const char *host_id, const char *name);
/* Publish or withdraw a MAC learned on a local port (ephemeral). */
int topo_mac_publish(zhandle_t *zh, const char *host_id, const char *bridge_id,
		     const uint8_t mac[6], const char *port_id);
int topo_mac_withdraw(zhandle_t *zh, const char *bridge_id, const uint8_t mac[6],
		      const char *port_id);

/* Parsing and formatting shared by CLI, agent and tests. */
int topo_parse_mac(const char *s, uint8_t mac[6]);
void topo_format_mac(const uint8_t mac[6], char buf[18]);
int topo_parse_ipv4(const char *s, struct in_addr *addr);
bool topo_valid_name(const char *s);
bool topo_valid_uuid(const char *s);
bool topo_valid_ifname(const char *s);

#endif
