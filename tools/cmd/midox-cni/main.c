// SPDX-License-Identifier: Apache-2.0
/* midox-cni: what a container runtime runs as the plugin "midox". The command and the
 * attachment come in CNI_* environment variables, the network configuration on stdin; the
 * result (or the error, with the specification's code) goes to stdout, diagnostics to
 * stderr. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "base/log.h"
#include "version.h"

#define STDIN_MAX (1 << 20)

static int read_stdin(char **out)
{
	size_t n = 0, cap = 4096, got;
	char *buf = malloc(cap), *bigger;

	for (; buf; n += got) {
		if (n + 1 == cap && cap >= STDIN_MAX) {
			free(buf);
			return cni_fail(-EFBIG, CNI_ERR_DECODE, "the network configuration is "
					"larger than %d bytes", STDIN_MAX);
		}
		if (n + 1 == cap) {
			bigger = realloc(buf, cap *= 2);
			if (!bigger)
				free(buf);
			buf = bigger;
			if (!buf)
				break;
		}
		got = fread(buf + n, 1, cap - n - 1, stdin);
		if (!got)
			break;
	}
	if (!buf)
		return cni_fail(-ENOMEM, CNI_ERR_IO, "out of memory reading stdin");
	if (ferror(stdin)) {
		free(buf);
		return cni_fail(-EIO, CNI_ERR_IO, "cannot read the network configuration on stdin");
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* VERSION: the stdin's cniVersion echoed, as the specification asks (whichever it is: the
 * caller learns from supportedVersions), the newest when there is none. */
static int cmd_version(const char *text)
{
	json_t *in = json_loads(text, 0, NULL);
	const char *v = json_string_value(json_object_get(in, "cniVersion"));
	json_t *o = json_pack("{s:s, s:[s,s]}", "cniVersion", v && *v ? v : "1.1.0",
			      "supportedVersions", "1.0.0", "1.1.0");

	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	json_decref(in);
	return 0;
}

static int dispatch(const struct cni_conf *c, const struct cni_env *e)
{
	static const struct {
		const char *name;
		int (*fn)(const struct cni_conf *, const struct cni_env *);
		bool since_1_1;
	} cmds[] = {
		{ "ADD", cni_cmd_add, false }, { "DEL", cni_cmd_del, false },
		{ "CHECK", cni_cmd_check, false }, { "GC", cni_cmd_gc, true },
		{ "STATUS", cni_cmd_status, true },
	};
	int rc;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(e->command, cmds[i].name))
			continue;
		if (cmds[i].since_1_1 && strcmp(c->version, "1.1.0"))
			return cni_fail(-EINVAL, CNI_ERR_VERSION, "%s needs cniVersion 1.1.0 (the "
					"configuration says %s)", e->command, c->version);
		rc = cni_env_require(e);
		return rc ? rc : cmds[i].fn(c, e);
	}
	return cni_fail(-EINVAL, CNI_ERR_ENV, "CNI_COMMAND '%s' is not ADD, DEL, CHECK, GC, "
			"STATUS or VERSION", e->command);
}

int main(int argc, char **argv)
{
	struct cni_conf c = { 0 };
	struct cni_env e;
	char *text = NULL;
	int rc;

	mx_log_init("midox-cni", getenv("MIDOX_DEBUG") ? MX_LOG_DEBUG : MX_LOG_WARN);
	/* A delegated plugin that exits without reading its stdin is an error to report, not
	 * a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	zoo_set_debug_level(getenv("MIDOX_DEBUG") ? ZOO_LOG_LEVEL_WARN : 0);
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("midox-cni %s (CNI 1.0.0, 1.1.0)\n", MIDOX_VERSION);
		return 0;
	}
	rc = cni_env_read(&e);
	if (!rc)
		rc = read_stdin(&text);
	if (!rc && !strcmp(e.command, "VERSION"))
		rc = cmd_version(text);
	else if (!rc)
		rc = cni_conf_parse(text, &c);
	if (!rc && strcmp(e.command, "VERSION"))
		rc = dispatch(&c, &e);
	if (rc && !cni_failed())
		cni_fail(rc, CNI_ERR_IO, "%s failed: %s", e.command, strerror(-rc));
	if (rc)
		cni_print_error(c.version);
	cni_conf_free(&c);
	free(text);
	return rc ? 1 : 0;
}
