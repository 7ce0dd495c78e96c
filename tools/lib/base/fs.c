// SPDX-License-Identifier: Apache-2.0
/* Files and folders. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int mx_read_file(const char *path, void **data, size_t *size)
{
	struct stat st;
	size_t at = 0;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1)))
		err = -ENOMEM;
	while (!err && at < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + at, (size_t)st.st_size - at);

		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n == 0)
			err = -EIO; /* shorter than fstat said: changed while read */
		else if (n > 0)
			at += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*data = buf;
	*size = at;
	return 0;
}
