// SPDX-License-Identifier: Apache-2.0
/* zk-put-stdin PATH: write what stdin holds (up to 2 MiB) to the node PATH (created, open ACL,
 * if missing). topo-helper put takes its data as an argument, which the kernel caps at
 * 128 KiB; this one lets a test write values near ZooKeeper's 1 MB limit.
 * ZooKeeper servers: MIDOX_ZK_SERVERS, else 127.0.0.1:2181. Exit 0 on success, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "topology/topology.h"

#define MAX_DATA (2u << 20)

int main(int argc, char **argv)
{
	const char *servers = getenv("MIDOX_ZK_SERVERS");
	zhandle_t *zh = NULL;
	char *data;
	size_t len = 0, n;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: zk-put-stdin PATH < DATA\n");
		return 1;
	}
	mx_log_init("zk-put-stdin", MX_LOG_WARN);
	zoo_set_debug_level(0);
	data = malloc(MAX_DATA);
	if (!data)
		return 1;
	while (len < MAX_DATA && (n = fread(data + len, 1, MAX_DATA - len, stdin)) > 0)
		len += n;
	if (topo_connect(servers ? servers : "127.0.0.1:2181", 5000, NULL, NULL, &zh)) {
		fprintf(stderr, "zk-put-stdin: cannot connect: %s\n", topo_errmsg());
		free(data);
		return 1;
	}
	rc = zoo_set(zh, argv[1], data, (int)len, -1);
	if (rc == ZNONODE)
		rc = zoo_create(zh, argv[1], data, (int)len, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
				NULL, 0);
	if (rc != ZOK)
		fprintf(stderr, "zk-put-stdin: %s (%zu bytes): %s\n", argv[1], len, zerror(rc));
	topo_close(zh);
	free(data);
	return rc == ZOK ? 0 : 1;
}
