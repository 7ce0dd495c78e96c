// SPDX-License-Identifier: Apache-2.0
/* libbpf's messages go through midox's logger: every program that links the loader logs
 * libbpf's warnings (and, with debug on, its chatter) on the same lines as its own. */
#include <bpf/libbpf.h>

#include "base/log.h"
#include "internal.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf is chatty at info level: keep its info at our debug, its warnings as ours. */
	mx_vlog(level == LIBBPF_WARN ? MX_LOG_WARN : MX_LOG_DEBUG, fmt, ap);
	return 0;
}

void dp_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
