// SPDX-License-Identifier: Apache-2.0
/* Programs pinned by build (loader/progpin.c), through mx_datapath_open on a pin root of
 * the test's own under /sys/fs/bpf, removed at the end: a second open of the same object
 * takes the pinned programs (same ids, nothing loaded); a pin root whose map pin was removed
 * loads again; another object (the embedded one with bytes appended: the same programs and
 * maps, another hash) loads, and its pins replace the older build's; a missing object file
 * is an error. TAP output. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader/loader.h"
#include "base/log.h"
#include "midox.skel.h"
#include "pin_root.h"
#include "tap.h"

static char root[PATH_MAX];

struct opened {
	int err;
	bool reused;
	__u32 port_id, underlay_id;
};

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static struct opened open_close(const char *object)
{
	struct mx_datapath_opts o = { .pin_root = root, .object_path = object };
	struct mx_datapath *dp;
	struct opened r = { .err = mx_datapath_open(&o, &dp) };

	if (r.err)
		return r;
	r.reused = mx_datapath_reused(dp);
	r.port_id = prog_id(mx_datapath_port_prog_fd(dp));
	r.underlay_id = prog_id(mx_datapath_underlay_prog_fd(dp));
	mx_datapath_close(dp);
	return r;
}

/* The prog-* directories under root: how many, the name of the last one seen, and how many
 * pins it holds. */
static int build_dirs(char *name, size_t len, int *pins)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct dirent *e, *f;
	DIR *d = opendir(root), *p;
	int n = 0;

	*pins = 0;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "prog-", 5))
			continue;
		n++;
		snprintf(name, len, "%s", e->d_name);
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		*pins = 0;
		for (p = opendir(path); p && (f = readdir(p));)
			*pins += f->d_name[0] != '.';
		if (p)
			closedir(p);
	}
	if (d)
		closedir(d);
	return n;
}

/* The embedded object with bytes appended past its end (libelf reads by its headers). */
static int other_object(char *path, size_t len)
{
	size_t size;
	const void *data = midox__elf_bytes(&size);
	static const char tail[] = "another build";
	FILE *f;

	snprintf(path, len, "/tmp/midox-test-progpin-%d.bpf.o", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fwrite(data, 1, size, f) != size || fwrite(tail, 1, sizeof(tail), f) != sizeof(tail)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

int main(void)
{
	char name0[NAME_MAX + 1] = "", name[NAME_MAX + 1] = "", obj[PATH_MAX], path[PATH_MAX + 16];
	struct opened a, b, c, d, e;
	int pins = 0, n;

	mx_log_set_level(MX_LOG_WARN);
	snprintf(root, sizeof(root), "/sys/fs/bpf/midox-test-progpin-%d", (int)getpid());

	a = open_close(NULL);
	if (!tap_ok(a.err == 0, "a first open loads the object (%s)", strerror(-a.err)))
		goto out;
	tap_ok(!a.reused && a.port_id && a.underlay_id, "  nothing to reuse: loaded");
	n = build_dirs(name0, sizeof(name0), &pins);
	tap_ok(n == 1 && pins == 7,
	       "  its seven programs pinned in one prog-<build> directory (%s, %d pins)", name0, pins);

	b = open_close(NULL);
	tap_ok(b.err == 0 && b.reused, "the same object again: the pinned programs are taken");
	tap_ok(b.port_id == a.port_id && b.underlay_id == a.underlay_id,
	       "  the very same programs (ids %u, %u)", b.port_id, b.underlay_id);

	snprintf(path, sizeof(path), "%s/midox_port_v2", root);
	tap_ok(unlink(path) == 0, "a map pin removed behind the programs' back");
	c = open_close(NULL);
	tap_ok(c.err == 0 && !c.reused && c.port_id != a.port_id,
	       "  the next open loads again (a new port program, id %u)", c.port_id);
	n = build_dirs(name, sizeof(name), &pins);
	tap_ok(n == 1 && pins == 7 && !strcmp(name, name0), "  and pins it under the same build");

	if (!tap_ok(other_object(obj, sizeof(obj)) == 0, "another object: the embedded one, longer"))
		goto out;
	d = open_close(obj);
	tap_ok(d.err == 0 && !d.reused && d.port_id != c.port_id, "  another build: loaded");
	n = build_dirs(name, sizeof(name), &pins);
	tap_ok(n == 1 && pins == 7 && strcmp(name, name0), "  its pins replace the older build's (%s)",
	       name);
	e = open_close(obj);
	tap_ok(e.err == 0 && e.reused && e.port_id == d.port_id,
	       "  that object again: its programs are taken");
	unlink(obj);

	e = open_close("/nonexistent/midox.bpf.o");
	tap_ok(e.err == -ENOENT, "a missing object file is an error (%s)", strerror(-e.err));
out:
	pin_root_remove(root);
	return tap_done();
}
