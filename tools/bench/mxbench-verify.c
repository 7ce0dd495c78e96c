// SPDX-License-Identifier: Apache-2.0
/* mxbench-verify [--lines PROG [N]]: what the kernel's verifier pays for the datapath, as
 * root. The object is the one the agent loads (embedded in midox.skel.h), loaded with no
 * map pinned and nothing attached, then released.
 *
 *   (no argument)    every program's verified instructions (bpf_prog_info.verified_insns)
 *                    and the object's load time: "verify PROG INSNS", then
 *                    "verify total INSNS load_ms MS"
 *   --lines PROG [N] PROG alone, its verifier log at level 2 (every instruction walked):
 *                    the N source lines (default 20) it walked most, with their share,
 *                    "line FILE:LINE COUNT PERCENT"; then "line total COUNT"
 *
 * The second form is how the expensive inline helpers were found (docs/datapath.md, "What
 * the verifier pays"): a line walked in every state of its caller shows at the top. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "midox.skel.h"

#define LOG_SIZE ((size_t)1 << 29) /* the kernel takes up to 2^30 - 1; some 650 bytes an instruction walked */
#define LINE_MAX_TRACKED 65536     /* distinct source lines of one program */
#define NAME_LEN 96

struct line_count {
	char where[NAME_LEN]; /* "file:line" */
	unsigned long count;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The skeleton's object opened with no map pinned (a measurement, not a datapath). */
static struct midox *open_unpinned(void)
{
	struct midox *skel = midox__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	return skel;
}

static int verify_all(void)
{
	struct midox *skel = open_unpinned();
	struct bpf_program *prog;
	unsigned long total = 0;
	double t0, t1;
	int err;

	if (!skel)
		return -errno;
	t0 = now_ms();
	err = midox__load(skel);
	t1 = now_ms();
	if (err)
		goto out;
	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		err = bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len);
		if (err)
			goto out;
		printf("verify %s %u\n", bpf_program__name(prog), info.verified_insns);
		total += info.verified_insns;
	}
	printf("verify total %lu load_ms %.0f\n", total, t1 - t0);
out:
	midox__destroy(skel);
	return err;
}

/* The instruction index of a log line "N: (..." , or -1. */
static long insn_index(const char *line)
{
	char *end;
	long i = strtol(line, &end, 10);

	return end != line && end[0] == ':' && end[1] == ' ' && end[2] == '(' ? i : -1;
}

/* "file:line" of a log line "; source @ file:line", or false. */
static bool source_of(const char *line, char *where)
{
	const char *at = strrchr(line, '@');

	if (line[0] != ';' || !at || at[1] != ' ')
		return false;
	snprintf(where, NAME_LEN, "%.*s", (int)strcspn(at + 2, "\n"), at + 2);
	return true;
}

static int by_count(const void *a, const void *b)
{
	const struct line_count *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* Count the instructions the log walked by source line: an instruction counts for the last
 * source annotation printed before its index was first seen with one. */
static int count_lines(char *log, struct line_count *lines, size_t *n_lines, unsigned long *total)
{
	static int line_of[1 << 20]; /* instruction index -> lines[] + 1, 0: not known yet */
	static unsigned long walked[1 << 20];
	char pending[NAME_LEN] = "", *line, *save = NULL;
	long i, max = -1;

	memset(line_of, 0, sizeof(line_of));
	memset(walked, 0, sizeof(walked));
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		i = insn_index(line);
		if (i < 0) {
			source_of(line, pending);
			continue;
		}
		if (i >= (long)(sizeof(walked) / sizeof(walked[0])))
			return -E2BIG;
		walked[i]++;
		max = i > max ? i : max;
		if (pending[0] && !line_of[i]) {
			size_t k;

			for (k = 0; k < *n_lines && strcmp(lines[k].where, pending); k++)
				;
			if (k == *n_lines) {
				if (*n_lines == LINE_MAX_TRACKED)
					return -E2BIG;
				snprintf(lines[k].where, NAME_LEN, "%s", pending);
				(*n_lines)++;
			}
			line_of[i] = (int)k + 1;
		}
		pending[0] = '\0';
	}
	/* An instruction never annotated belongs to the line of the one before it. */
	for (i = 0; i <= max; i++) {
		if (!line_of[i] && i > 0)
			line_of[i] = line_of[i - 1];
		if (line_of[i])
			lines[line_of[i] - 1].count += walked[i];
		*total += walked[i];
	}
	return 0;
}

static int verify_lines(const char *name, size_t top)
{
	struct midox *skel = open_unpinned();
	struct line_count *lines = calloc(LINE_MAX_TRACKED, sizeof(*lines));
	char *log = malloc(LOG_SIZE);
	struct bpf_program *prog;
	unsigned long total = 0;
	size_t n_lines = 0;
	bool found = false;
	int err = -ENOMEM;

	if (!skel || !lines || !log)
		goto out;
	log[0] = '\0';
	bpf_object__for_each_program(prog, skel->obj) {
		if (strcmp(bpf_program__name(prog), name)) {
			bpf_program__set_autoload(prog, false);
			continue;
		}
		found = true;
		bpf_program__set_log_level(prog, 2);
		bpf_program__set_log_buf(prog, log, LOG_SIZE);
	}
	err = -EINVAL;
	if (!found) {
		fprintf(stderr, "mxbench-verify: no program %s in the datapath\n", name);
		goto out;
	}
	err = midox__load(skel);
	if (err)
		goto out;
	err = count_lines(log, lines, &n_lines, &total);
	if (err || !total) {
		err = err ? err : -ENODATA;
		goto out;
	}
	qsort(lines, n_lines, sizeof(*lines), by_count);
	for (size_t k = 0; k < n_lines && k < top; k++)
		printf("line %s %lu %.1f\n", lines[k].where, lines[k].count,
		       100.0 * lines[k].count / total);
	printf("line total %lu\n", total);
out:
	free(log);
	free(lines);
	midox__destroy(skel); /* NULL-safe */
	return err;
}

int main(int argc, char **argv)
{
	long top = 20;
	int err;

	if (argc == 1) {
		err = verify_all();
	} else if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "--lines")) {
		if (argc == 4) {
			char *end;

			top = strtol(argv[3], &end, 10);
			if (*end || top < 1 || top > LINE_MAX_TRACKED) {
				fprintf(stderr, "mxbench-verify: N must be 1 to %d, not %s\n",
					LINE_MAX_TRACKED, argv[3]);
				return 2;
			}
		}
		err = verify_lines(argv[2], (size_t)top);
	} else {
		fprintf(stderr, "usage: mxbench-verify [--lines PROG [N]]\n");
		return 2;
	}
	if (err == -EINVAL)
		return 2; /* no such program: said above */
	if (err) {
		fprintf(stderr, "mxbench-verify: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
