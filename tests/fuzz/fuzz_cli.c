// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the midox CLI's command parser and executor, on an in-memory ZooKeeper
 * (fakezk.c) holding a small topology. Each input is up to 16 command lines, split into
 * words as the prompt and -e split them, and run in order from the same starting tree.
 * The CLI reads, validates, plans and commits through the real topology library; only the
 * server is fake. Output (stdout) and log lines go to /dev/null (FUZZ_VERBOSE=1 keeps the
 * log; FUZZ_DUMP_TREE=FILE writes the starting tree there); sanitizer reports are written to file descriptor 2 directly and stay visible. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmd/midox/cli.h"
#include "fakezk.h"
#include "base/log.h"

#define MAX_LINES 16
#define HOST_ID "0b1e5e3a-0000-4000-8000-000000000001"

/* --force: deletes through aliases the input never listed still reach the library. A pin
 * root that does not exist: "datapath ..." runs up to its error, never reads this host's
 * maps. */
static struct cli cli = { .servers = "fakezk:2181", .force = true,
			  .pin_root = "/nonexistent/midox-fuzz" };

static void run_line(const char *line)
{
	struct words w;

	if (!cli_split(line, &w))
		cli_run(&cli, &w);
	cli_words_free(&w);
}

/* The starting topology: a host with an agent, a tunnel zone with it as member, two bridges
 * with ports, a binding; and whatever else the CLI of this build can make (a router, a
 * chain with a rule, a port group, an IP address group). */
static const char *const setup[] = {
	"tunnel-zone create name tz0",
	"tunnel-zone tz0 add member host h0 address 192.0.2.1",
	"bridge create name b0",
	"bridge b0 add port",
	"bridge b0 add port mac 02:00:00:00:00:01 address 10.0.0.1",
	"bridge create name b1",
	"bridge b1 add port",
	"host h0 add binding port b0:port0 interface veth0",
	"router create name r0",
	"router r0 add port address 10.0.0.254 net 10.0.0.0/24",
	"router r0 add route dst 0.0.0.0/0 port r0:port0 gw 10.0.0.1",
	"chain create name c0",
	"chain c0 add rule type drop src 10.0.0.0/8 dst-port 22",
	"port-group create name pg0",
	"ip-address-group create name ig0",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mx_log_init("fuzz_cli", MX_LOG_ERROR);
	if (!getenv("FUZZ_VERBOSE"))
		stderr = fopen("/dev/null", "w");
	if (!freopen("/dev/null", "w", stdout))
		abort();
	/* "topology show format svg" would start Graphviz's dot for each input: without a
	 * PATH it fails at once, and the picture's source is still drawn. */
	setenv("PATH", "/nonexistent", 1);
	if (cli_refresh(&cli) || topo_host_register(cli.zh, HOST_ID, "h0"))
		abort();
	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		run_line(setup[i]);
	fakezk_save();
	if (getenv("FUZZ_DUMP_TREE")) {
		FILE *f = fopen(getenv("FUZZ_DUMP_TREE"), "w");

		if (f) {
			fakezk_dump(f);
			fclose(f);
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *next;
	int n = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	fakezk_restore();
	for (line = text; line && n < MAX_LINES; line = next, n++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		run_line(line);
	}
	if (cli.have_t)
		topo_free(&cli.t);
	cli.have_t = false;
	/* Each input starts a session of its own, on the starting tree. */
	cli_aliases_free(&cli);
	free(text);
	return 0;
}
