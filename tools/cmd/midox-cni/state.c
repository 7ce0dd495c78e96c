// SPDX-License-Identifier: Apache-2.0
/* One small JSON file per attachment, "<data dir>/<container id>.<ifname>": written before
 * ADD touches anything, so DEL and GC find what an interrupted ADD left; removed last by
 * DEL. Written through a temporary file and a rename: never half a file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>

#include "cni.h"
#include "base/fs.h"
#include "base/log.h"

static int state_path(char *buf, size_t len, const char *dir, const char *container_id,
		      const char *ifname)
{
	if ((size_t)snprintf(buf, len, "%s/%s.%s", dir, container_id, ifname) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* FNV-1a over container id, a NUL and ifname: a stable name the host side gets again. */
static void hashed_ifname(const char *prefix, const char *container_id, const char *ifname,
			  char out[TOPO_IFNAME_MAX])
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *parts[] = { container_id, ifname };

	for (size_t i = 0; i < 2; i++)
		for (const char *s = parts[i];; s++) {
			h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
			if (!*s)
				break;
		}
	snprintf(out, TOPO_IFNAME_MAX, "%s%012llx", prefix,
		 (unsigned long long)(h & 0xffffffffffffull));
}

void cni_host_ifname(const char *container_id, const char *ifname, char out[TOPO_IFNAME_MAX])
{
	hashed_ifname(CNI_VETH_PREFIX, container_id, ifname, out);
}

/* Not "mxc": GC takes a bound "mxc" interface that no pod has for an orphan. */
void cni_node_gw_ifname(const char *node_if, char out[TOPO_IFNAME_MAX])
{
	hashed_ifname(CNI_NODE_GW_PREFIX, CNI_NODE_GW_ID, node_if, out);
}

int cni_state_write(const char *dir, const struct cni_state *s)
{
	char path[4096], tmp[4200];
	json_t *o;
	int rc;

	rc = mx_mkdir_p(dir, 0700);
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot create %s: %s", dir, strerror(-rc));
	rc = state_path(path, sizeof(path), dir, s->container_id, s->ifname);
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "the state path under %s is too long", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "containerId", s->container_id,
		      "ifname", s->ifname, "hostInterface", s->host_if, "hostId", s->host_id,
		      "portId", s->port_id);
	if (!o)
		return cni_fail(-ENOMEM, CNI_ERR_IO, "out of memory");
	rc = json_dump_file(o, tmp, JSON_COMPACT) ? -EIO : 0;
	json_decref(o);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return cni_fail(rc, CNI_ERR_IO, "cannot write %s", path);
	}
	return 0;
}

static void copy_member(json_t *o, const char *key, char *out, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	snprintf(out, len, "%s", v ? v : "");
}

static int read_file(const char *path, struct cni_state *s)
{
	json_t *o = json_load_file(path, 0, NULL);

	if (!o)
		return access(path, F_OK) ? -ENOENT : -EINVAL;
	memset(s, 0, sizeof(*s));
	copy_member(o, "containerId", s->container_id, sizeof(s->container_id));
	copy_member(o, "ifname", s->ifname, sizeof(s->ifname));
	copy_member(o, "hostInterface", s->host_if, sizeof(s->host_if));
	copy_member(o, "hostId", s->host_id, sizeof(s->host_id));
	copy_member(o, "portId", s->port_id, sizeof(s->port_id));
	json_decref(o);
	if (!s->container_id[0] || !topo_valid_ifname(s->ifname))
		return -EINVAL;
	return 0;
}

int cni_state_read(const char *dir, const char *container_id, const char *ifname,
		   struct cni_state *s)
{
	char path[4096];
	int rc = state_path(path, sizeof(path), dir, container_id, ifname);

	return rc ? rc : read_file(path, s);
}

int cni_state_remove(const char *dir, const char *container_id, const char *ifname)
{
	char path[4096];
	int rc = state_path(path, sizeof(path), dir, container_id, ifname);

	if (!rc && unlink(path) && errno != ENOENT)
		rc = -errno;
	return rc;
}

int cni_state_each(const char *dir, int (*fn)(const struct cni_state *s, void *ctx), void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct cni_state s;
	char path[4096];
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || (n > 4 && !strcmp(de->d_name + n - 4, ".tmp")))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if (read_file(path, &s)) {
			mx_warn("skipping %s: not an attachment's state", path);
			continue;
		}
		rc = fn(&s, ctx);
	}
	closedir(d);
	return rc;
}

/* Two ADDs at once must end with one block and one gateway. */
int cni_data_dir_lock(const struct cni_conf *c, int *fd)
{
	int rc = mx_mkdir_p(c->data_dir, 0700);

	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot create %s: %s", c->data_dir, strerror(-rc));
	*fd = open(c->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while (*fd >= 0 && flock(*fd, LOCK_EX) && errno == EINTR)
		;
	if (*fd < 0)
		return cni_fail(-errno, CNI_ERR_IO, "cannot lock %s: %s", c->data_dir,
				strerror(errno));
	return 0;
}
