// SPDX-License-Identifier: Apache-2.0
/* What the tests need besides the CLI, done through the topology library the agent uses:
 *   topo-helper register ID NAME          register a host the way the agent does, and leave
 *   topo-helper hold ID NAME [BRIDGE MAC PORT | arp ROUTER ADDRESS MAC PORT]...
 *                                         register, publish learned MACs and ARP entries,
 *                                         print "ready", keep the session until stdin closes
 *   topo-helper withdraw-arp ROUTER ADDRESS MAC
 *                                         withdraw a learned ARP entry
 *   topo-helper hostid PATH               load or create a host id file, print the id
 *   topo-helper put PATH DATA             write raw data to a node (created if missing)
 *   topo-helper dump                      every node under /midox: path, version, data
 *   topo-helper wipe                      delete /midox
 *   topo-helper skipped                   how many objects topo_read skipped
 *   topo-helper indexed                   "N of M": the bindings topo_read took from their
 *                                         hosts' indexes, of all it read
 *   topo-helper watch                     read with watches, print "ready", then
 *                                         "changed" at the first change (10 s at most)
 *   topo-helper mirror                    read through a mirror at each line of stdin
 *                                         ("read"), and directly on a second session:
 *                                         print "equal" or the first array that differs,
 *                                         then what the mirror asked, served and holds
 *   topo-helper delete PATH               delete a node (any version)
 *   topo-helper getacl PATH               the node's ACL, one "scheme:id perms" a line
 *   topo-helper provision ID NAME         with the cluster credential: make the host's
 *                                         subtree for its identity (as the agent does)
 * ZooKeeper servers: MIDOX_ZK_SERVERS, else 127.0.0.1:2181. Access control, as the agent:
 * MIDOX_CREDENTIALS (the cluster credential's file) and MIDOX_HOST_SECRET (a host's
 * secret file, "host-<id>:<secret>"); the session presents the host's identity when
 * MIDOX_HOST_SECRET is set, else the cluster's. Without either: no identity, open ACLs. */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "topology/topology.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dump(zhandle_t *zh, const char *path)
{
	struct String_vector sv = { 0 };
	char buf[8192], child[512];
	struct Stat st;
	int len = sizeof(buf) - 1, rc;
	int32_t i;

	rc = zoo_get(zh, path, 0, buf, &len, &st);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return -EIO;
	buf[len < 0 ? 0 : len] = '\0';
	printf("%s v%d %s%s\n", path, st.version, buf, st.ephemeralOwner ? " (ephemeral)" : "");
	rc = zoo_get_children(zh, path, 0, &sv);
	if (rc != ZOK)
		return rc == ZNONODE ? 0 : -EIO;
	/* Children in name order, so two dumps of one tree are equal. */
	qsort(sv.data, (size_t)sv.count, sizeof(*sv.data), cmp_str);
	for (i = 0; i < sv.count && !rc; i++) {
		snprintf(child, sizeof(child), "%s/%s", path, sv.data[i]);
		rc = dump(zh, child);
	}
	deallocate_String_vector(&sv);
	return rc;
}

static int put(zhandle_t *zh, const char *path, const char *data)
{
	int rc = zoo_set(zh, path, data, (int)strlen(data), -1);

	if (rc == ZNONODE)
		rc = zoo_create(zh, path, data, (int)strlen(data), &ZOO_OPEN_ACL_UNSAFE,
				ZOO_PERSISTENT, NULL, 0);
	if (rc != ZOK)
		fprintf(stderr, "topo-helper: %s: %s\n", path, zerror(rc));
	return rc == ZOK ? 0 : rc == ZNOAUTH ? -EACCES : -EIO;
}

static int delete(zhandle_t *zh, const char *path)
{
	int rc = zoo_delete(zh, path, -1);

	if (rc != ZOK)
		fprintf(stderr, "topo-helper: %s: %s\n", path, zerror(rc));
	return rc == ZOK ? 0 : rc == ZNOAUTH ? -EACCES : -EIO;
}

static int getacl(zhandle_t *zh, const char *path)
{
	struct ACL_vector v = { 0 };
	struct Stat st;
	int32_t i;
	int rc = zoo_get_acl(zh, path, &v, &st);

	if (rc != ZOK)
		return -EIO;
	for (i = 0; i < v.count; i++)
		printf("%s:%s %s%s%s%s%s\n", v.data[i].id.scheme, v.data[i].id.id,
		       v.data[i].perms & ZOO_PERM_READ ? "r" : "", v.data[i].perms & ZOO_PERM_WRITE ? "w" : "",
		       v.data[i].perms & ZOO_PERM_CREATE ? "c" : "",
		       v.data[i].perms & ZOO_PERM_DELETE ? "d" : "",
		       v.data[i].perms & ZOO_PERM_ADMIN ? "a" : "");
	deallocate_ACL_vector(&v);
	return 0;
}

static struct topo_cred cluster, host;

/* The identity of MIDOX_CREDENTIALS and MIDOX_HOST_SECRET: 1 if a host's, 0 if the
 * cluster's or none, negative on error. */
static int identity(void)
{
	const char *c = getenv("MIDOX_CREDENTIALS"), *h = getenv("MIDOX_HOST_SECRET");
	int rc;

	if (!c)
		return 0;
	rc = topo_cred_load(c, &cluster);
	if (!rc && h)
		rc = topo_cred_load(h, &host);
	if (rc)
		return rc;
	if (h && strncmp(host.user, "host-", 5))
		return -EINVAL;
	rc = topo_acl_setup(&cluster, h ? &host : NULL, h ? host.user + 5 : NULL);
	return rc ? rc : h != NULL;
}

/* One learned MAC (BRIDGE MAC PORT) or ARP entry (arp ROUTER ADDRESS MAC PORT) at argv;
 * how many words it took, or a negative errno. */
static int publish(zhandle_t *zh, const char *host, int argc, char **argv)
{
	struct in_addr addr;
	uint8_t mac[6];
	int rc;

	if (!strcmp(argv[0], "arp")) {
		if (argc < 5 || topo_parse_ipv4(argv[2], &addr) || topo_parse_mac(argv[3], mac))
			return -EINVAL;
		rc = topo_arp_publish(zh, host, argv[1], addr, mac, argv[4]);
		return rc ? rc : 5;
	}
	if (argc < 3 || topo_parse_mac(argv[1], mac))
		return -EINVAL;
	rc = topo_mac_publish(zh, host, argv[0], mac, argv[2]);
	return rc ? rc : 3;
}

static int hold(zhandle_t *zh, int argc, char **argv)
{
	char line[64];
	int i, rc;

	rc = topo_host_register(zh, argv[2], argv[3]);
	for (i = 4; !rc && i < argc; i += rc, rc = 0) {
		rc = publish(zh, argv[2], argc - i, argv + i);
		if (rc < 0)
			return rc;
	}
	if (rc)
		return rc;
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	return 0;
}

static int withdraw_arp(zhandle_t *zh, char **argv)
{
	struct in_addr addr;
	uint8_t mac[6];

	if (topo_parse_ipv4(argv[3], &addr) || topo_parse_mac(argv[4], mac))
		return -EINVAL;
	return topo_arp_withdraw(zh, argv[2], addr, mac);
}

static pthread_mutex_t changed_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed_cond = PTHREAD_COND_INITIALIZER;
static int changes;

static void on_change(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&changed_lock);
	changes++;
	pthread_cond_signal(&changed_cond);
	pthread_mutex_unlock(&changed_lock);
}

/* What the agent does: read through a mirror, wait for a change, read again. */
static int watch(zhandle_t *zh)
{
	struct timespec deadline;
	struct topology t;
	int rc, seen;

	rc = topo_mirror_attach(zh, on_change, NULL);
	if (!rc)
		rc = topo_read(zh, &t);
	if (rc)
		return rc;
	topo_free(&t);
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&changed_lock);
	while (!changes && rc == 0)
		rc = pthread_cond_timedwait(&changed_cond, &changed_lock, &deadline) ? -ETIMEDOUT : 0;
	seen = changes;
	pthread_mutex_unlock(&changed_lock);
	if (rc)
		return rc;
	rc = topo_read(zh, &t);
	if (!rc)
		printf("changed %d bridges %zu\n", seen, t.n_bridges);
	topo_free(&t);
	return rc;
}

/* Same objects in the same order with the same fields (objects are zeroed before they are
 * filled, padding included): the first array that differs, or NULL. */
static const char *snapshot_diff(const struct topology *a, const struct topology *b)
{
#define SAME(arr)                                                                          \
	do {                                                                               \
		if (a->n_##arr != b->n_##arr ||                                           \
		    (a->n_##arr && memcmp(a->arr, b->arr, a->n_##arr * sizeof(*a->arr)))) \
			return #arr;                                                       \
	} while (0)
	SAME(hosts);
	SAME(zones);
	SAME(members);
	SAME(bridges);
	SAME(ports);
	SAME(bindings);
	SAME(macs);
	SAME(routers);
	SAME(routes);
	SAME(arps);
	SAME(chains);
	SAME(rules);
	SAME(port_groups);
	SAME(pg_members);
	SAME(ip_groups);
	SAME(ip_group_addrs);
#undef SAME
	if (a->n_skipped != b->n_skipped)
		return "skipped";
	if (a->hosts_version != b->hosts_version || a->zones_version != b->zones_version ||
	    a->bridges_version != b->bridges_version || a->ports_version != b->ports_version ||
	    a->routers_version != b->routers_version || a->key_version != b->key_version ||
	    a->chains_version != b->chains_version ||
	    a->port_groups_version != b->port_groups_version ||
	    a->ip_groups_version != b->ip_groups_version ||
	    a->next_key != b->next_key)
		return "versions";
	return NULL;
}

/* The mirror against the truth: zh reads through a mirror, direct (another session, the
 * same identity) reads everything. */
static int mirror(zhandle_t *zh, zhandle_t *direct)
{
	struct topo_mirror_stats before, after;
	struct topology m, d;
	const char *diff;
	char line[64];
	int rc = topo_mirror_attach(zh, NULL, NULL);

	if (rc)
		return rc;
	printf("ready\n");
	fflush(stdout);
	while (!rc && fgets(line, sizeof(line), stdin)) {
		topo_mirror_stats(zh, &before);
		rc = topo_read(zh, &m);
		if (rc)
			break;
		topo_mirror_stats(zh, &after);
		rc = topo_read(direct, &d);
		if (!rc) {
			diff = snapshot_diff(&m, &d);
			printf("%s asked %llu served %llu nodes %zu\n", diff ? diff : "equal",
			       (unsigned long long)(after.asked - before.asked),
			       (unsigned long long)(after.served - before.served), after.nodes);
			fflush(stdout);
			topo_free(&d);
		}
		topo_free(&m);
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *servers = getenv("MIDOX_ZK_SERVERS");
	struct topology t;
	char id[TOPO_ID_LEN];
	zhandle_t *zh;
	int rc;

	mx_log_init("topo-helper", MX_LOG_WARN);
	zoo_set_debug_level(0);
	if (argc < 2) {
		fprintf(stderr, "usage: topo-helper register|hold|hostid|put|dump|wipe|getacl|setacl-cluster ...\n");
		return 1;
	}
	if (!strcmp(argv[1], "hostid") && argc == 3) {
		rc = topo_host_id_load(argv[2], id);
		if (!rc)
			printf("%s\n", id);
		goto out;
	}
	rc = identity();
	if (rc < 0)
		goto out;
	servers = servers ? servers : "127.0.0.1:2181";
	if (!strcmp(argv[1], "provision") && argc == 4) {
		rc = topo_connect(servers, 5000, NULL, NULL, &zh);
		if (!rc)
			rc = topo_auth_add(zh, &cluster);
		if (!rc)
			rc = topo_host_provision(zh, argv[2], argv[3]);
		topo_close(zh);
		goto out;
	}
	{
		bool as_host = rc == 1;

		rc = topo_connect(servers, 5000, NULL, NULL, &zh);
		if (rc)
			goto out;
		if (topo_acl_enabled())
			rc = topo_auth_add(zh, as_host ? &host : &cluster);
	}
	if (rc) {
		topo_close(zh);
		goto out;
	}
	if (!strcmp(argv[1], "register") && argc == 4) {
		rc = topo_host_register(zh, argv[2], argv[3]);
	} else if (!strcmp(argv[1], "hold") && argc >= 4) {
		rc = hold(zh, argc, argv);
	} else if (!strcmp(argv[1], "withdraw-arp") && argc == 5) {
		rc = withdraw_arp(zh, argv);
	} else if (!strcmp(argv[1], "put") && argc == 4) {
		rc = put(zh, argv[2], argv[3]);
	} else if (!strcmp(argv[1], "delete") && argc == 3) {
		rc = delete(zh, argv[2]);
	} else if (!strcmp(argv[1], "getacl") && argc == 3) {
		rc = getacl(zh, argv[2]);
	} else if (!strcmp(argv[1], "setacl-cluster") && argc == 3) {
		/* "cluster: all, world: read", as a tree secured by an older midox gave every
		 * node outside a host's subtree (/midox's own ACL is that one). */
		rc = zoo_set_acl(zh, argv[2], -1, topo_acl_for(TOPO_ROOT));
		rc = rc == ZOK ? 0 : topo_fail(-EACCES, "setting the ACL of %s: %s", argv[2],
					       zerror(rc));
	} else if (!strcmp(argv[1], "dump") && argc == 2) {
		rc = dump(zh, TOPO_ROOT);
	} else if (!strcmp(argv[1], "watch") && argc == 2) {
		rc = watch(zh);
	} else if (!strcmp(argv[1], "mirror") && argc == 2) {
		zhandle_t *direct = NULL;

		rc = topo_connect(servers, 5000, NULL, NULL, &direct);
		if (!rc && topo_acl_enabled())
			rc = topo_auth_add(direct, getenv("MIDOX_HOST_SECRET") ? &host : &cluster);
		if (!rc)
			rc = mirror(zh, direct);
		topo_close(direct);
	} else if (!strcmp(argv[1], "wipe") && argc == 2) {
		rc = topo_wipe(zh);
	} else if (!strcmp(argv[1], "skipped") && argc == 2) {
		rc = topo_read(zh, &t);
		if (!rc)
			printf("%zu\n", t.n_skipped);
		topo_free(&t);
	} else if (!strcmp(argv[1], "indexed") && argc == 2) {
		rc = topo_read(zh, &t);
		if (!rc)
			printf("%zu of %zu\n", t.n_bindings_indexed, t.n_bindings);
		topo_free(&t);
	} else {
		fprintf(stderr, "topo-helper: bad arguments\n");
		rc = -EINVAL;
	}
	topo_close(zh);
out:
	if (rc)
		mx_err("%s (%s)", topo_errmsg(), strerror(-rc));
	return rc ? 1 : 0;
}
