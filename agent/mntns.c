// SPDX-License-Identifier: Apache-2.0
/* `ip netns exec NAME midox-agent` runs the agent in a mount namespace of its own with a
 * fresh /sys: the bpffs it would mount there, and every map pinned in it, vanish with the
 * process, and the next agent starts from nothing. Refuse, and say how to enter only the
 * network namespace. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "agent.h"

#define BPFFS_DIR "/sys/fs/bpf"

/* Whether mount point mnt holds path (itself, or a directory above it). */
static bool mount_holds(const char *mnt, const char *path)
{
	size_t n = strlen(mnt);

	if (!strcmp(mnt, "/"))
		return true;
	return !strncmp(path, mnt, n) && (path[n] == '/' || path[n] == '\0');
}

/* The device ("maj:min") of the file system path lies on, from a mountinfo file: the
 * deepest mount holding it, the last of equals (mounted over). -errno if unreadable. */
static int mount_dev(const char *mountinfo, const char *path, char dev[32])
{
	char line[4096], mnt[1024], d[32];
	size_t best = 0;
	FILE *f = fopen(mountinfo, "re");

	if (!f)
		return -errno;
	dev[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." (mount points with spaces are
		 * escaped, and never hold /sys/fs/bpf) */
		if (sscanf(line, "%*s %*s %31s %*s %1023s", d, mnt) != 2 || !mount_holds(mnt, path))
			continue;
		if (strlen(mnt) >= best) {
			best = strlen(mnt);
			snprintf(dev, 32, "%s", d);
		}
	}
	fclose(f);
	return dev[0] ? 0 : -ENOENT;
}

int agent_check_mount_ns(void)
{
	char here[32], init[32];

	/* Only a sure difference refuses: PID 1's mounts unreadable is no answer. */
	if (mount_dev("/proc/self/mountinfo", BPFFS_DIR, here) ||
	    mount_dev("/proc/1/mountinfo", BPFFS_DIR, init) || !strcmp(here, init))
		return 0;
	mx_err("%s here is not the host's (a mount namespace of its own, as ip netns exec "
	       "makes): the maps pinned there would vanish with this process. Enter only the "
	       "network namespace: nsenter --net=/run/netns/NAME midox-agent ...", BPFFS_DIR);
	return -EPERM;
}
