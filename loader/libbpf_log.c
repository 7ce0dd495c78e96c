// SPDX-License-Identifier: Apache-2.0
/* libbpf's messages go through midox's logger: every program that links the loader logs
 * libbpf's warnings (and, with debug on, its chatter) on the same lines as its own. */
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "base/log.h"
#include "internal.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t len;

	/* libbpf is chatty at info level: keep its info at our debug, its warnings as ours. */
	if (level != LIBBPF_WARN) {
		mx_vlog(MX_LOG_DEBUG, fmt, ap);
		return 0;
	}
	/* A warning of many lines is a dump (the verifier's log of a program that failed to
	 * load, after the one-line reason): debug only, and one line saying where it went. */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strcspn(msg, "\n");
	if (msg[len] && msg[len + 1]) {
		mx_warn("%.*s (the rest at debug level: --verbose)", (int)len, msg);
		mx_debug("%s", msg);
	} else {
		mx_warn("%s", msg);
	}
	return 0;
}

void dp_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
