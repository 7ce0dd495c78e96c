// SPDX-License-Identifier: Apache-2.0
/* fork and exec for the BGP speakers. The agent has threads (the ZooKeeper client's): a
 * child only calls async-signal-safe functions between fork and exec, so everything it
 * needs (paths, descriptors) is ready before the fork. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "exec.h"

int bgp_which(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096], *save = NULL, *d;

	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if ((size_t)snprintf(out, len, "%s/%s", d, name) < len && !access(out, X_OK))
			return 0;
	}
	return -ENOENT;
}

int bgp_run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	mx_debug("BGP: %s %s exited with %d", argv[0], argv[1] ? argv[1] : "",
		 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return -EIO;
}

pid_t bgp_spawn_in(const char *netns_path, const char *log_path, char *const argv[])
{
	int ns = open(netns_path, O_RDONLY | O_CLOEXEC), log, err;
	pid_t pid;

	if (ns < 0)
		return -errno;
	log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (log < 0) {
		err = -errno;
		close(ns);
		return err;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (setsid() < 0 || setns(ns, CLONE_NEWNET) < 0)
			_exit(126);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(log, STDOUT_FILENO);
		dup2(log, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	err = pid < 0 ? -errno : 0;
	close(ns);
	close(log);
	return err ? err : pid;
}
