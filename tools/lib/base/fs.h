/* SPDX-License-Identifier: Apache-2.0 */
/* Files and folders. */
#ifndef MIDOX_BASE_FS_H
#define MIDOX_BASE_FS_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: path and every missing folder above it, each with mode. 0 or -errno. */
int mx_mkdir_p(const char *path, mode_t mode);
/* The folder that will hold file, and every missing one above it. 0 or -errno. */
int mx_mkdir_parents(const char *file, mode_t mode);
/* The whole of a regular file, into a malloc'd buffer the caller frees. 0 or -errno. */
int mx_read_file(const char *path, void **data, size_t *size);

#endif
