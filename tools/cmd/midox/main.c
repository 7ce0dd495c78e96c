// SPDX-License-Identifier: Apache-2.0
/* midox: the CLI. midox [--zk SERVERS] [--json] [-e COMMAND]... | WORDS... | (a prompt) */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli.h"
#include "base/log.h"

#define CLI_DEFAULT_SERVERS "127.0.0.1:2181"

static int run_line(struct cli *c, const char *line)
{
	struct words w;
	int rc = cli_split(line, &w);

	if (!rc)
		rc = cli_run(c, &w);
	cli_words_free(&w);
	return rc;
}

/* Tab completion: the candidates complete.c finds for the words before the cursor, those
 * that begin the word being typed, each once. */
static struct {
	struct cli *c;
	const char *prefix;
	char **w;
	size_t n, next;
} comp;

static void comp_reset(void)
{
	while (comp.n)
		free(comp.w[--comp.n]);
	free(comp.w);
	comp.w = NULL;
	comp.next = 0;
}

static void comp_add(void *ctx, const char *word)
{
	char **w;
	size_t i;

	(void)ctx;
	if (strncmp(word, comp.prefix, strlen(comp.prefix)))
		return;
	for (i = 0; i < comp.n; i++)
		if (!strcmp(comp.w[i], word))
			return;
	w = realloc(comp.w, (comp.n + 1) * sizeof(*w));
	if (!w)
		return;
	comp.w = w;
	w[comp.n] = strdup(word);
	comp.n += w[comp.n] != NULL;
}

/* libedit's generator: one candidate per call, a copy it frees. */
static char *comp_next(const char *text, int state)
{
	(void)text;
	if (!state)
		comp.next = 0;
	return comp.next < comp.n ? strdup(comp.w[comp.next++]) : NULL;
}

static char **comp_attempt(const char *text, int start, int end)
{
	char *before = strndup(rl_line_buffer, (size_t)start);
	struct words w = { 0 };

	(void)end;
	comp_reset();
	comp.prefix = text;
	/* Errors (a quote left open, an unknown name, ZooKeeper away) just mean fewer
	 * candidates: nothing is printed over the line being edited. */
	cli_set_quiet(true);
	if (before && !cli_split(before, &w))
		cli_complete(comp.c, w.w, w.n, comp_add, NULL);
	cli_set_quiet(false);
	cli_words_free(&w);
	free(before);
	/* Only these: never file names. */
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, comp_next);
}

static char *history_path(void)
{
	const char *home = getenv("HOME");
	char *p = NULL;

	if (getenv("MIDOX_HISTORY"))
		return strdup(getenv("MIDOX_HISTORY"));
	if (!home || asprintf(&p, "%s/.midox_history", home) < 0)
		return NULL;
	return p;
}

/* The prompt: a line editor on a terminal, plain lines otherwise. Only a terminal's lines go
 * into the history file: a script piping commands is not a person's history. An error is printed and the prompt goes on; the session ends
 * with the status of the last command that failed (0 if none did). */
static int interactive(struct cli *c)
{
	bool tty = isatty(STDIN_FILENO);
	char *hist = tty ? history_path() : NULL, *line = NULL;
	size_t cap = 0;
	int last = 0, rc;

	using_history();
	comp.c = c;
	rl_attempted_completion_function = comp_attempt;
	if (hist)
		read_history(hist);
	for (;;) {
		char *l;

		if (tty) {
			free(line);
			line = readline("midox> ");
			if (!line)
				break;
		} else if (getline(&line, &cap, stdin) < 0) {
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		for (l = line; *l == ' ' || *l == '\t'; l++)
			;
		if (!*l)
			continue;
		if (hist)
			add_history(l);
		if (!strcmp(l, "quit") || !strcmp(l, "exit"))
			break;
		rc = run_line(c, l);
		if (rc)
			last = rc;
		/* A script driving the prompt through a pipe waits for each answer. */
		fflush(stdout);
	}
	if (tty)
		printf("\n");
	free(line);
	comp_reset();
	if (hist) {
		write_history(hist);
		free(hist);
	}
	return last;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zk", required_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "credentials", required_argument, NULL, 'C' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	char **cmds = NULL;
	int n_cmds = 0, opt, rc = 0, i;

	mx_log_init("midox", getenv("MIDOX_DEBUG") ? MX_LOG_DEBUG : MX_LOG_ERROR);
	zoo_set_debug_level(getenv("MIDOX_DEBUG") ? ZOO_LOG_LEVEL_WARN : 0);
	c.servers = getenv("MIDOX_ZK_SERVERS");
	c.credentials = getenv("MIDOX_CREDENTIALS");
	/* "+": options only before the command words (which may look like options). */
	while ((opt = getopt_long(argc, argv, "+e:z:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			cmds = realloc(cmds, (size_t)(n_cmds + 1) * sizeof(*cmds));
			if (!cmds)
				return EXIT_INTERNAL;
			cmds[n_cmds++] = optarg;
			break;
		case 'z':
			c.servers = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'C':
			c.credentials = optarg;
			break;
		case 'f':
			c.force = true;
			break;
		case 'h':
			cli_usage(stdout);
			return 0;
		default:
			cli_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!c.servers || !*c.servers)
		c.servers = CLI_DEFAULT_SERVERS;
	if (c.credentials && !*c.credentials)
		c.credentials = NULL;
	if (c.credentials && (topo_cred_load(c.credentials, &c.cred) ||
			      topo_acl_setup(&c.cred, NULL, NULL))) {
		mx_err("%s", topo_errmsg());
		return EXIT_USAGE;
	}
	if (n_cmds && optind < argc) {
		mx_err("give a command with -e or as words, not both");
		return EXIT_USAGE;
	}
	if (n_cmds) {
		for (i = 0; i < n_cmds && !rc; i++)
			rc = run_line(&c, cmds[i]);
	} else if (optind < argc) {
		struct words w = { .w = argv + optind, .n = argc - optind };

		rc = cli_run(&c, &w);
	} else {
		rc = interactive(&c);
	}
	free(cmds);
	if (c.have_t)
		topo_free(&c.t);
	cli_aliases_free(&c);
	topo_close(c.zh);
	return cli_exit_code(rc);
}
