// SPDX-License-Identifier: Apache-2.0
/* A traced run (include/midox/trace.h): midox_trace armed with a token, the frame run once
 * through the live program with the magic and the token in skb->cb, the steps read back,
 * the entry disarmed. The programs write no state during it (bpf/lib/trace.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <bpf/bpf.h>

#include "internal.h"

static int trace_arm(int trace_fd, __u32 token)
{
	struct mx_trace t;
	const __u32 zero = 0;

	memset(&t, 0, sizeof(t));
	t.token = token;
	return bpf_map_update_elem(trace_fd, &zero, &t, BPF_ANY) ? -errno : 0;
}

/* A non-zero token no earlier trace is likely to have left. */
static int trace_token(__u32 *token)
{
	do {
		if (getrandom(token, sizeof(*token), 0) != sizeof(*token))
			return -errno;
	} while (!*token);
	return 0;
}

int mx_trace_run(int prog_fd, int trace_fd, int ifindex, const void *frame, size_t len,
		 struct mx_trace *out, int *verdict)
{
	struct __sk_buff ctx = { .ifindex = (__u32)ifindex };
	__u8 data_out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = data_out, .data_size_out = sizeof(data_out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	const __u32 zero = 0;
	__u32 token;
	int err = trace_token(&token);

	if (!err)
		err = trace_arm(trace_fd, token);
	if (err)
		return err;
	ctx.cb[MX_TRACE_CB_MAGIC] = MX_TRACE_MAGIC;
	ctx.cb[MX_TRACE_CB_TOKEN] = token;
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (!err && bpf_map_lookup_elem(trace_fd, &zero, out))
		err = -errno;
	trace_arm(trace_fd, 0);
	if (err)
		return err;
	if (out->token != token || !out->n_steps)
		return -EBADMSG;
	*verdict = (int)opts.retval;
	return 0;
}
