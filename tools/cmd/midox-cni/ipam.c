// SPDX-License-Identifier: Apache-2.0
/* IPAM delegation as libcni does it: the plugin named by ipam.type, found in CNI_PATH, run
 * with the runtime's environment and the network configuration on stdin; its stdout is the
 * result or its error. Debian 12's reference plugins speak CNI up to 1.0.0, so a 1.1.0
 * configuration reaches them as 1.0.0 (the two versions' results are the same). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cni.h"

extern char **environ;

#define IPAM_OUT_MAX (1 << 20)

static int find_plugin(const char *cni_path, const char *type, char *out, size_t len)
{
	const char *s = cni_path;

	while (*s) {
		size_t n = strcspn(s, ":");

		if (n && (size_t)snprintf(out, len, "%.*s/%s", (int)n, s, type) < len &&
		    access(out, X_OK) == 0)
			return 0;
		s += n + (s[n] == ':');
	}
	return cni_fail(-ENOENT, MIDOX_ERR_IPAM, "IPAM plugin %s not found in CNI_PATH (%s)",
			type, cni_path);
}

/* The environment of the child, built before the fork (the ZooKeeper client's threads
 * make malloc after fork unsafe): ours with the command, container id and ifname set. */
static char **child_env(const char *command, const char *container_id, const char *ifname)
{
	const char *set[] = { "CNI_COMMAND", command, "CNI_CONTAINERID", container_id,
			      "CNI_IFNAME", ifname };
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 4, sizeof(*env));
	for (i = 0; env && i < n; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12) &&
		    strncmp(environ[i], "CNI_CONTAINERID=", 16) &&
		    strncmp(environ[i], "CNI_IFNAME=", 11))
			env[k++] = environ[i];
	for (i = 0; env && i < 6; i += 2)
		if (set[i + 1] && asprintf(&env[k++], "%s=%s", set[i], set[i + 1]) < 0)
			env[--k] = NULL;
	return env;
}

static void env_free(char **env)
{
	if (!env)
		return;
	/* The CNI_* ones are ours (environ's were left out); the rest are environ's. */
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], "CNI_COMMAND=", 12) || !strncmp(env[i], "CNI_CONTAINERID=", 16) ||
		    !strncmp(env[i], "CNI_IFNAME=", 11))
			free(env[i]);
	free(env);
}

/* The configuration as the IPAM plugin gets it: as it is when native (a plugin that speaks
 * 1.1.0, for STATUS and GC; GC's list with the node's gateway added), else as 1.0.0
 * without 1.1.0's GC key. */
static char *ipam_input(const struct cni_conf *c, bool native)
{
	json_t *in = json_deep_copy(c->root);
	char *text;

	if (!in)
		return NULL;
	if (!native && !strcmp(c->version, "1.1.0"))
		json_object_set_new(in, "cniVersion", json_string("1.0.0"));
	if (!native)
		json_object_del(in, "cni.dev/valid-attachments");
	/* The node's gateway is an attachment the runtime never lists: its lease stays. */
	else if (c->node_gateway && c->valid_attachments)
		json_array_append_new(json_object_get(in, "cni.dev/valid-attachments"),
				      json_pack("{s:s, s:s}", "containerID", CNI_NODE_GW_ID,
						"ifname", c->node_if));
	text = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	return text;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, char **out)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap), *bigger;
	ssize_t got;

	while (buf) {
		if (n + 1 == cap) {
			bigger = cap < IPAM_OUT_MAX ? realloc(buf, cap *= 2) : NULL;
			if (!bigger)
				free(buf);
			buf = bigger;
			continue;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	if (!buf)
		return -ENOMEM;
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* Run path with input on stdin; its stdout in *out, its exit status in *status. */
static int run(const char *path, char **env, const char *input, char **out, int *status)
{
	int in[2], res[2], rc;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(res, O_CLOEXEC)) {
		rc = -errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };

		if (dup2(in[0], 0) < 0 || dup2(res[1], 1) < 0)
			_exit(127);
		execve(path, argv, env);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	rc = pid < 0 ? -errno : write_all(in[1], input, strlen(input));
	if (rc == -EPIPE) /* it exited without reading: its status and stdout tell why */
		rc = 0;
	close(in[1]);
	if (pid > 0 && read_all(res[0], out) && !rc)
		rc = -ENOMEM;
	close(res[0]);
	while (pid > 0 && waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return rc;
}

/* A failed plugin's error, passed on with its code. */
static int plugin_error(const char *type, const char *command, const char *out, int status)
{
	json_t *e = json_loads(out, 0, NULL);
	json_t *code = json_object_get(e, "code");
	const char *msg = json_string_value(json_object_get(e, "msg"));
	int rc;

	if (json_is_integer(code) && msg)
		rc = cni_fail(-EIO, (int)json_integer_value(code), "IPAM plugin %s %s: %s", type,
			      command, msg);
	else
		rc = cni_fail(-EIO, MIDOX_ERR_IPAM, "IPAM plugin %s %s failed (exit status %d) "
			      "without a CNI error", type, command,
			      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	json_decref(e);
	return rc;
}

static int parse_route(json_t *r, struct cni_ipam *out)
{
	const char *dst = json_string_value(json_object_get(r, "dst"));
	const char *gw = json_string_value(json_object_get(r, "gw"));
	struct cni_route *rt = &out->routes[out->n_routes];
	struct topo_cidr c;

	if (!dst)
		return cni_fail(-EINVAL, MIDOX_ERR_IPAM, "a route of the IPAM result has no dst");
	if (strchr(dst, ':'))
		return 0; /* IPv6: midox carries IPv4 only, and the pod has no IPv6 address */
	if (out->n_routes == CNI_ROUTES_MAX)
		return cni_fail(-E2BIG, MIDOX_ERR_IPAM, "more than %d routes", CNI_ROUTES_MAX);
	if (topo_parse_cidr(dst, &c))
		return cni_fail(-EINVAL, MIDOX_ERR_IPAM, "bad route dst '%s'", dst);
	rt->dst = topo_cidr_network(&c);
	rt->dst_len = c.len;
	rt->has_gw = gw != NULL;
	if (gw && topo_parse_ipv4(gw, &rt->gw))
		return cni_fail(-EINVAL, MIDOX_ERR_IPAM, "bad route gw '%s'", gw);
	out->n_routes++;
	return 0;
}

int cni_ipam_parse(json_t *result, struct cni_ipam *out)
{
	json_t *ips = json_object_get(result, "ips"), *ip, *r;
	const char *addr = NULL, *gw = NULL;
	struct topo_cidr c;
	size_t i;
	int rc = 0;

	json_array_foreach(ips, i, ip) {
		const char *a = json_string_value(json_object_get(ip, "address"));

		if (a && strchr(a, ':'))
			return cni_fail(-EINVAL, CNI_ERR_FIELD, "IPAM gave the IPv6 address %s: "
					"midox carries IPv4 only", a);
		if (a && !addr) {
			addr = a;
			gw = json_string_value(json_object_get(ip, "gateway"));
		}
	}
	if (!addr)
		return cni_fail(-EINVAL, MIDOX_ERR_IPAM, "the IPAM result has no IPv4 address");
	if (topo_parse_cidr(addr, &c) || c.len == 0 || c.len > 30)
		return cni_fail(-EINVAL, MIDOX_ERR_IPAM, "bad address '%s' in the IPAM result "
				"(a.b.c.d/len, len 1 to 30)", addr);
	out->addr = c.addr;
	out->prefix_len = c.len;
	out->has_gw = gw != NULL;
	if (gw && topo_parse_ipv4(gw, &out->gw))
		return cni_fail(-EINVAL, MIDOX_ERR_IPAM, "bad gateway '%s' in the IPAM result", gw);
	json_array_foreach(json_object_get(result, "routes"), i, r) {
		rc = parse_route(r, out);
		if (rc)
			break;
	}
	return rc;
}

/* Run the IPAM plugin for command; its stdout in *text (the caller frees it) when it
 * succeeds, its error recorded when it fails. */
static int ipam_run(const struct cni_conf *c, const struct cni_env *e, const char *command,
		    const char *container_id, const char *ifname, bool native, char **text)
{
	char path[4096], *input = NULL, **env = NULL;
	int status = 0, rc;

	*text = NULL;
	if (!e->path)
		return cni_fail(-ENOENT, MIDOX_ERR_IPAM, "CNI_PATH is not set: IPAM plugin %s "
				"cannot be found", c->ipam_type);
	rc = find_plugin(e->path, c->ipam_type, path, sizeof(path));
	if (rc)
		return rc;
	input = ipam_input(c, native);
	env = child_env(command, container_id, ifname);
	if (!input || !env)
		rc = cni_fail(-ENOMEM, CNI_ERR_IO, "out of memory");
	if (!rc)
		rc = run(path, env, input, text, &status);
	if (rc && !cni_failed())
		cni_fail(rc, MIDOX_ERR_IPAM, "cannot run IPAM plugin %s: %s", path, strerror(-rc));
	if (!rc && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		rc = plugin_error(c->ipam_type, command, *text, status);
	if (rc) {
		free(*text);
		*text = NULL;
	}
	free(input);
	env_free(env);
	return rc;
}

int cni_ipam_exec(const struct cni_conf *c, const struct cni_env *e, const char *command,
		  const char *container_id, const char *ifname, struct cni_ipam *out)
{
	char *text;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	rc = ipam_run(c, e, command, container_id, ifname, false, &text);
	if (!rc && out) {
		json_error_t jerr;

		out->succeeded = true;
		out->result = json_loads(text, 0, &jerr);
		if (!out->result)
			rc = cni_fail(-EINVAL, MIDOX_ERR_IPAM, "IPAM plugin %s's result is not "
				      "JSON: %s", c->ipam_type, jerr.text);
		else
			rc = cni_ipam_parse(out->result, out);
	}
	free(text);
	return rc;
}

int cni_ipam_speaks_1_1(const struct cni_conf *c, const struct cni_env *e, bool *yes)
{
	json_t *res, *v;
	char *text;
	size_t i;
	int rc = ipam_run(c, e, "VERSION", NULL, NULL, false, &text);

	*yes = false;
	if (rc)
		return rc;
	res = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_array(json_object_get(res, "supportedVersions"))) {
		json_decref(res);
		return cni_fail(-EINVAL, MIDOX_ERR_IPAM, "IPAM plugin %s's VERSION answer has no "
				"supportedVersions", c->ipam_type);
	}
	json_array_foreach(json_object_get(res, "supportedVersions"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), "1.1.0"))
			*yes = true;
	json_decref(res);
	return 0;
}

int cni_ipam_exec_native(const struct cni_conf *c, const struct cni_env *e, const char *command)
{
	char *text;
	int rc = ipam_run(c, e, command, NULL, NULL, true, &text);

	free(text);
	return rc;
}

void cni_ipam_free(struct cni_ipam *r)
{
	json_decref(r->result);
	r->result = NULL;
}
