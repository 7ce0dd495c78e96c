/* SPDX-License-Identifier: Apache-2.0 */
/* A unit test's private pin root under /sys/fs/bpf, removed whole when the test ends: the
 * map pins and the programs pinned by build (prog-<build>/, loader/progpin.c), whose
 * programs otherwise stay loaded in the kernel after the test. */
#ifndef MIDOX_TEST_PIN_ROOT_H
#define MIDOX_TEST_PIN_ROOT_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline void pin_root_remove(const char *dir)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (e->d_type == DT_DIR)
			pin_root_remove(path);
		else
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

#endif
