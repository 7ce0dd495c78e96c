// SPDX-License-Identifier: Apache-2.0
/* BIRD's life cycle. It runs in the foreground (-f) as the agent's child, in a session of
 * its own, so that stopping or restarting the agent leaves it and its BGP sessions up; the
 * next agent finds it by its pid file and its command line. Its control socket speaks
 * lines "CODE text" (the last line of a reply) and "CODE-text" (more follow); codes from
 * 8000 up are errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"
#include "bird.h"
#include "exec.h"

#define CTL_TIMEOUT_S 5
#define STOP_WAIT_MS 3000

static void file_of(const char *dir, const char *name, char out[BGP_FILE_MAX])
{
	snprintf(out, BGP_FILE_MAX, "%s/%s", dir, name);
}

static int write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int bird_conf_write(const struct bgp_tools *x, const char *dir, const char *text)
{
	char tmp[BGP_FILE_MAX], conf[BGP_FILE_MAX];
	int err;

	file_of(dir, "bird.conf.new", tmp);
	file_of(dir, "bird.conf", conf);
	err = write_file(tmp, text);
	if (err) {
		mx_warn("BGP: cannot write %s: %s", tmp, strerror(-err));
		return err;
	}
	if (bgp_run((char *const[]){ (char *)x->bird, "-p", "-c", tmp, NULL })) {
		mx_err("BGP: BIRD refuses the configuration made for it (%s): kept the previous",
		       tmp);
		return -EINVAL;
	}
	if (rename(tmp, conf) < 0)
		return -errno;
	return 0;
}

int bird_start(const struct bgp_tools *x, struct bird *b, const char *netns)
{
	char conf[BGP_FILE_MAX], ctl[BGP_FILE_MAX], pidf[BGP_FILE_MAX], log[BGP_FILE_MAX];
	char ns[64];
	pid_t pid;

	file_of(b->dir, "bird.conf", conf);
	file_of(b->dir, "bird.ctl", ctl);
	file_of(b->dir, "bird.pid", pidf);
	file_of(b->dir, "bird.log", log);
	snprintf(ns, sizeof(ns), "/run/netns/%s", netns);
	pid = bgp_spawn_in(ns, log, (char *const[]){ (char *)x->bird, "-f", "-c", conf, "-s", ctl,
						    "-P", pidf, NULL });
	if (pid < 0)
		return (int)pid;
	b->pid = pid;
	b->child = true;
	return 0;
}

/* Whether pid runs BIRD on this directory's configuration. */
static bool is_ours(const char *dir, pid_t pid)
{
	char path[64], cmd[4096], conf[BGP_FILE_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return false;
	cmd[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	file_of(dir, "bird.conf", conf);
	return strstr(cmd, "bird") && strstr(cmd, conf);
}

bool bird_adopt(struct bird *b)
{
	char pidf[BGP_FILE_MAX], buf[32] = "";
	FILE *f;
	long pid;

	file_of(b->dir, "bird.pid", pidf);
	f = fopen(pidf, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || !is_ours(b->dir, (pid_t)pid))
		return false;
	b->pid = (pid_t)pid;
	b->child = false;
	return true;
}

bool bird_alive(struct bird *b, int *status)
{
	*status = -1;
	if (!b->pid)
		return false;
	if (b->child) {
		pid_t r = waitpid(b->pid, status, WNOHANG);

		if (r == 0)
			return true;
		/* Reaped, or not our child any more (ECHILD): gone either way. */
	} else if (is_ours(b->dir, b->pid)) {
		return true;
	}
	b->pid = 0;
	return false;
}

static int ctl_connect(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bird.ctl", dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Read one reply: its lines' text (after the code) appended to out. Its last code, or a
 * negative errno. */
static int ctl_reply(int fd, char *out, size_t len)
{
	char buf[8192], *line, *nl;
	size_t have = 0, at = out && len ? strlen(out) : 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		have += (size_t)n;
		buf[have] = '\0';
		for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
			bool code = strlen(line) >= 5 && line[0] >= '0' && line[0] <= '9';
			const char *text = code ? line + 5 : line + 1; /* " text": continued */

			*nl = '\0';
			if (out && at < len)
				at += (size_t)snprintf(out + at, len - at, "%s\n", text);
			if (code && line[4] == ' ')
				return atoi(line);
		}
		have = strlen(line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0; /* a line longer than the buffer: its start is dropped */
	}
}

int bird_command(const char *dir, const char *cmd, char *out, size_t len)
{
	int fd = ctl_connect(dir), code;
	char line[256];

	if (out && len)
		out[0] = '\0';
	if (fd < 0)
		return fd;
	code = ctl_reply(fd, NULL, 0); /* the greeting */
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (code >= 0 && write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		code = -EIO;
	if (code >= 0)
		code = ctl_reply(fd, out, len);
	close(fd);
	if (code < 0)
		return code;
	return code >= 8000 ? -EIO : 0;
}

int bird_configure(const struct bird *b)
{
	char reply[1024];
	int err = bird_command(b->dir, "configure", reply, sizeof(reply));

	if (err)
		mx_warn("BGP: BIRD in %s did not take its new configuration (%s): %s", b->dir,
			strerror(-err), reply);
	return err;
}

void bird_stop(struct bird *b)
{
	int status, waited;

	if (!b->pid)
		return;
	kill(b->pid, SIGTERM);
	for (waited = 0; waited < STOP_WAIT_MS; waited += 50) {
		if (!bird_alive(b, &status))
			return;
		usleep(50 * 1000);
	}
	mx_warn("BGP: BIRD %d ignored SIGTERM for %d ms: killed", (int)b->pid, STOP_WAIT_MS);
	kill(b->pid, SIGKILL);
	if (b->child)
		waitpid(b->pid, &status, 0);
	b->pid = 0;
}
