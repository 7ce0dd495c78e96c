// SPDX-License-Identifier: Apache-2.0
/* The listener's side of the drop events (include/midox/monitor.h): its mark in
 * midox_monitor and the datapath's per-CPU counts in midox_monrate, by fd, so that the CLI
 * (pinned maps) and the tests (a loaded datapath) share them. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

__u64 mx_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

int mx_monitor_read(int monitor_fd, struct mx_monitor *out)
{
	const __u32 zero = 0;

	return bpf_map_lookup_elem(monitor_fd, &zero, out) ? -errno : 0;
}

int mx_monitor_mark(int monitor_fd, __u32 events_per_sec, __u32 pid, __u64 until_ns)
{
	struct mx_monitor m = { .listen_until_ns = until_ns, .owner_pid = pid };
	const __u32 zero = 0;

	if (!events_per_sec)
		return -EINVAL;
	m.event_cost_ns = 1000000000ull / events_per_sec;
	m.burst_ns = m.event_cost_ns * events_per_sec; /* a second's worth */
	return bpf_map_update_elem(monitor_fd, &zero, &m, BPF_ANY) ? -errno : 0;
}

int mx_monitor_clear(int monitor_fd)
{
	const struct mx_monitor m = { 0 };
	const __u32 zero = 0;

	return bpf_map_update_elem(monitor_fd, &zero, &m, BPF_ANY) ? -errno : 0;
}

/* Per-CPU values are 8-byte aligned; struct mx_monitor_cpu is a multiple of 8. */
static struct mx_monitor_cpu *percpu_alloc(int *ncpu)
{
	*ncpu = libbpf_num_possible_cpus();
	return *ncpu > 0 ? calloc((size_t)*ncpu, sizeof(struct mx_monitor_cpu)) : NULL;
}

int mx_monitor_counts(int rate_fd, struct mx_monitor_cpu *sum)
{
	const __u32 zero = 0;
	struct mx_monitor_cpu *v;
	int ncpu, err = 0;

	v = percpu_alloc(&ncpu);
	if (!v)
		return ncpu < 0 ? ncpu : -ENOMEM;
	*sum = (struct mx_monitor_cpu){ 0 };
	if (bpf_map_lookup_elem(rate_fd, &zero, v))
		err = -errno;
	for (int cpu = 0; !err && cpu < ncpu; cpu++) {
		sum->suppressed += v[cpu].suppressed;
		sum->lost += v[cpu].lost;
	}
	free(v);
	return err;
}

int mx_monitor_rate_reset(int rate_fd)
{
	const __u32 zero = 0;
	struct mx_monitor_cpu *v;
	int ncpu, err = 0;

	v = percpu_alloc(&ncpu);
	if (!v)
		return ncpu < 0 ? ncpu : -ENOMEM;
	if (bpf_map_update_elem(rate_fd, &zero, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}
