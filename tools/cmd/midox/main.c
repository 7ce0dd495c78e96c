// SPDX-License-Identifier: Apache-2.0
/* midox: the CLI. midox [--zk SERVERS] [--json] [-e COMMAND]... | WORDS... | (a prompt) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <editline/readline.h>

#include "cli.h"
#include "base/log.h"
#include "midox/common.h"
#include "version.h"

/* take_option: done (--help, --version), leave with 0. */
#define EXIT_DONE (-1)

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

/* Append one line to the history file, as libedit writes it (its cookie first, then one
 * line per entry, white space and backslashes escaped the way its unvis reads them back).
 * libedit's append_history(1, ...) writes the entry before the last one too. */
static void history_append(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
	const unsigned char *p;
	struct stat st;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!fstat(fd, &st) && st.st_size == 0)
		fputs("_HiStOrY_V2_\n", f);
	for (p = (const unsigned char *)line; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p <= ' ' || *p >= 0x7f)
			fprintf(f, "\\%03o", *p);
		else
			fputc(*p, f);
	}
	fputc('\n', f);
	fclose(f);
}

/* Ctrl-C at the prompt clears the line and the session goes on (Ctrl-D on an empty line
 * leaves). SIGINT is blocked while the editor runs except inside the wait for a key, so it
 * is never lost between the check and the wait; the key it turns into is the editor's own
 * kill-line (^U in emacs mode). Outside the prompt (a command running) SIGINT ends midox. */
#define KEY_KILL_LINE 0x15

static volatile sig_atomic_t sigint_seen;
static sigset_t sigint_unblocked;

static void on_sigint(int sig)
{
	(void)sig;
	sigint_seen = 1;
}

static int prompt_getc(FILE *f)
{
	struct pollfd p = { .fd = f ? fileno(f) : STDIN_FILENO, .events = POLLIN };
	unsigned char ch;
	ssize_t n;

	for (;;) {
		if (sigint_seen) {
			sigint_seen = 0;
			return KEY_KILL_LINE;
		}
		if (ppoll(&p, 1, NULL, &sigint_unblocked) < 0) {
			if (errno == EINTR)
				continue;
			return EOF;
		}
		if (sigint_seen) /* before the keys typed after Ctrl-C */
			continue;
		n = read(p.fd, &ch, 1);
		if (n == 1)
			return ch;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return EOF;
	}
}

/* One line from the editor, with Ctrl-C handled as above. */
static char *prompt_readline(void)
{
	struct sigaction sa = { .sa_handler = on_sigint }, old;
	sigset_t block, saved;
	char *line;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &saved);
	sigint_unblocked = saved;
	sigdelset(&sigint_unblocked, SIGINT);
	sigaction(SIGINT, &sa, &old);
	sigint_seen = 0;
	line = readline("midox> ");
	sigaction(SIGINT, &old, NULL);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return line;
}

static void prompt_init(struct cli *c)
{
	comp.c = c;
	rl_attempted_completion_function = comp_attempt;
	/* The editor's own handlers would re-raise SIGINT to the whole process group. */
	rl_catch_signals = 0;
	rl_getc_function = prompt_getc;
}

/* The prompt: a line editor on a terminal, plain lines otherwise. Only a terminal's lines go
 * into the history file, each appended as it is entered (a session killed keeps them); a
 * script piping commands is not a person's history. An error is printed and the prompt goes
 * on; the session ends with the status of the last command that failed (0 if none did). */
static int interactive(struct cli *c)
{
	bool tty = isatty(STDIN_FILENO);
	char *hist = tty ? history_path() : NULL, *line = NULL;
	size_t cap = 0;
	int last = 0, rc;

	prompt_init(c); /* before using_history, which initialises the editor */
	using_history();
	if (hist)
		read_history(hist);
	for (;;) {
		char *l;

		if (tty) {
			free(line);
			line = prompt_readline();
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
		if (hist) {
			add_history(l);
			history_append(hist, l);
		}
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
	free(hist);
	return last;
}

static const struct option cli_opts[] = {
	{ "zk", required_argument, NULL, 'z' },
	{ "json", no_argument, NULL, 'j' },
	{ "credentials", required_argument, NULL, 'C' },
	{ "force", no_argument, NULL, 'f' },
	{ "format", required_argument, NULL, 'F' },
	{ "pin-root", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* --format: checked here, before any command runs, as the command's own format word is. */
static int take_format(struct cli *c, const char *arg)
{
	int i;

	for (i = 0; cli_topology_formats[i]; i++)
		if (!strcmp(cli_topology_formats[i], arg)) {
			c->format = cli_topology_formats[i];
			return 0;
		}
	mx_err("bad format '%s': expected one of dot, svg", arg);
	return EXIT_USAGE;
}

/* One option (not -e): 0, or the exit code to leave with at once. */
static int take_option(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 'z':
		c->servers = arg;
		return 0;
	case 'j':
		c->json = true;
		return 0;
	case 'C':
		c->credentials = arg;
		return 0;
	case 'f':
		c->force = true;
		return 0;
	case 'F':
		return take_format(c, arg);
	case 'P':
		c->pin_root = arg;
		return 0;
	case 'h':
		cli_usage(stdout);
		return EXIT_DONE;
	case 'V':
		printf("midox %s\n", MIDOX_VERSION);
		return EXIT_DONE;
	default:
		cli_usage(stderr);
		return EXIT_USAGE;
	}
}

/* Long options after the command words (`midox bridge list --json`). Only "--name" words
 * count: a command's own values may begin with a dash ("name -x" is a bad name, "weight -1"
 * a bad weight), and "--" ends the options. The words left are packed to the front. */
static int take_trailing_options(struct cli *c, int argc, char **argv, int first, int *n_words)
{
	int i, n = 0, rc;

	for (i = first; i < argc; i++) {
		const struct option *o = cli_opts;
		const char *arg, *eq = strchr(argv[i], '=');
		size_t len;

		if (!strcmp(argv[i], "--")) {
			while (++i < argc)
				argv[first + n++] = argv[i];
			break;
		}
		len = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		while (o->name && (strncmp(argv[i], "--", 2) || strlen(o->name) != len - 2 ||
				   strncmp(argv[i] + 2, o->name, len - 2)))
			o++;
		if (!o->name || strncmp(argv[i], "--", 2)) {
			argv[first + n++] = argv[i];
			continue;
		}
		arg = eq ? eq + 1 : NULL;
		if (o->has_arg == required_argument && !arg)
			arg = i + 1 < argc ? argv[++i] : NULL;
		if ((o->has_arg == required_argument) != (arg != NULL)) {
			mx_err("option --%s %s", o->name, arg ? "takes no value" : "needs a value");
			return EXIT_USAGE;
		}
		rc = take_option(c, o->val, arg);
		if (rc)
			return rc;
	}
	*n_words = n;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	char **cmds = NULL;
	int n_cmds = 0, n_words = 0, opt, rc = 0, i;

	mx_log_init("midox", getenv("MIDOX_DEBUG") ? MX_LOG_DEBUG : MX_LOG_ERROR);
	zoo_set_debug_level(getenv("MIDOX_DEBUG") ? ZOO_LOG_LEVEL_WARN : 0);
	c.servers = getenv("MIDOX_ZK_SERVERS");
	c.credentials = getenv("MIDOX_CREDENTIALS");
	c.pin_root = getenv("MIDOX_PIN_ROOT");
	/* "+": stop at the first command word (which may look like an option); long options
	 * after the words are taken below. */
	while ((opt = getopt_long(argc, argv, "+e:z:jh", cli_opts, NULL)) != -1) {
		if (opt == 'e') {
			cmds = realloc(cmds, (size_t)(n_cmds + 1) * sizeof(*cmds));
			if (!cmds)
				return EXIT_INTERNAL;
			cmds[n_cmds++] = optarg;
			continue;
		}
		rc = take_option(&c, opt, optarg);
		if (rc)
			break;
	}
	if (!rc)
		rc = take_trailing_options(&c, argc, argv, optind, &n_words);
	if (rc) {
		free(cmds);
		return rc == EXIT_DONE ? 0 : rc;
	}
	if (!c.servers || !*c.servers)
		c.servers = CLI_DEFAULT_SERVERS;
	if (!c.pin_root || !*c.pin_root)
		c.pin_root = MX_PIN_ROOT_DEFAULT;
	if (c.credentials && !*c.credentials)
		c.credentials = NULL;
	if (c.credentials && (topo_cred_load(c.credentials, &c.cred) ||
			      topo_acl_setup(&c.cred, NULL, NULL))) {
		mx_err("%s", topo_errmsg());
		return EXIT_USAGE;
	}
	if (n_cmds && n_words) {
		mx_err("give a command with -e or as words, not both");
		return EXIT_USAGE;
	}
	if (n_cmds) {
		for (i = 0; i < n_cmds && !rc; i++)
			rc = run_line(&c, cmds[i]);
	} else if (n_words) {
		struct words w = { .w = argv + optind, .n = n_words };

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
