// SPDX-License-Identifier: Apache-2.0
/* Files and folders. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"

int mx_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int mx_mkdir_parents(const char *file, mode_t mode)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(file, '/');
	size_t len = slash ? (size_t)(slash - file) : 0;

	if (len == 0) /* in the working folder, or directly under / */
		return 0;
	if (len >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, file, len);
	dir[len] = '\0';
	return mx_mkdir_p(dir, mode);
}
