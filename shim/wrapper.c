/* SPDX-License-Identifier: GPL-3.0-or-later */
/* wrapper.c: r42intercept, the command-line wrapper: runs COMMAND with
 * libr42intercept.so first in LD_PRELOAD (kept once, other entries kept),
 * as eatmydata or faketime do.  A devkit script, ansible-playbook or
 * ansible-vault view given as COMMAND is handed to the runner at once, as
 * the exec hooks would (the library's constructor would do it one exec
 * later); any other COMMAND runs with the library preloaded, so its
 * children are.  `r42intercept doctor [ansible-playbook ARGS]` execs the
 * runner's doctor (fastpath/doctor.c).  With R42INTERCEPT_LOG=FILE set (and
 * no -q), it waits for COMMAND and then prints on stderr the summary of the
 * event-log lines the run added (the runner's --summary); `--summary FILE`
 * prints a whole log's.  libc only. */
#define _GNU_SOURCE
#include "match.h"
#include "pass.h"
#include "reroute.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef R42_LIB_PATH
#define R42_LIB_PATH "/usr/lib/r42intercept/libr42intercept.so"
#endif
#ifndef R42_RUNNER_PATH
#define R42_RUNNER_PATH "/usr/lib/r42intercept/r42intercept-runner"
#endif
#ifndef R42_VERSION
#define R42_VERSION "unknown"
#endif

/* Exit statuses, as env(1) and timeout(1) have them. */
#define EXIT_WRAPPER 125    /* r42intercept itself failed */
#define EXIT_CANNOT_RUN 126 /* COMMAND found but not runnable */
#define EXIT_NOT_FOUND 127  /* COMMAND not found */

static void usage(FILE *to) {
  fprintf(to,
          "Usage: r42intercept [OPTION]... [--] COMMAND [ARG]...\n"
          "  or:  r42intercept doctor [ansible-playbook ARG...]\n"
          "       r42intercept --summary FILE [--json]\n"
          "Run COMMAND with libr42intercept.so preloaded: range42's devkit "
          "scripts,\n"
          "ansible-playbook and ansible-vault view, whether COMMAND itself "
          "or any\n"
          "program it runs, are answered from the Proxmox API when "
          "possible, and run\n"
          "for real otherwise.\n"
          "\n"
          "  -q, --quiet    print no r42intercept trace lines "
          "(R42INTERCEPT_QUIET=1)\n"
          "  --summary FILE print the summary of the event log FILE "
          "(R42INTERCEPT_LOG)\n"
          "  --json         with --summary: as one JSON document\n"
          "  -h, --help     print this help and exit\n"
          "  -V, --version  print the version and exit\n"
          "  --             end of options\n"
          "\n"
          "doctor checks, one line each, whether the devkit environment (or "
          "the\n"
          "ansible-playbook command line) would take the fast path; exit "
          "status 0 if so.\n"
          "\n"
          "Exit status: that of COMMAND; 125 if r42intercept itself "
          "failed, 126 if\n"
          "COMMAND was found but could not be run, 127 if it was not "
          "found.\n"
          "With R42INTERCEPT_LOG=FILE set, the summary of the run is "
          "printed on stderr\nat its end (not with -q).\n"
          "Library: %s\n",
          R42_LIB_PATH);
}

/* 1 when the LD_PRELOAD value LIST has LIB as one of its entries. */
static int has_entry(const char *list, const char *lib) {
  size_t len = strlen(lib);
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, " :");
    if (n == len && strncmp(p, lib, len) == 0)
      return 1;
    p += n;
    p += strspn(p, " :");
  }
  return 0;
}

extern char **environ;

/* Execs the runner's doctor with ARGS (the words after "doctor"); returns
   only when that fails, with the exit status to end with. */
static int doctor(char **args, int n) {
  const char *runner = getenv("R42INTERCEPT_RUNNER");
  if (!runner || !*runner)
    runner = R42_RUNNER_PATH;
  char **av = calloc((size_t)n + 3, sizeof *av);
  if (!av) {
    perror("r42intercept");
    return EXIT_WRAPPER;
  }
  av[0] = (char *)runner;
  av[1] = (char *)"--doctor";
  for (int i = 0; i < n; i++)
    av[i + 2] = args[i];
  execv(runner, av);
  fprintf(stderr, "r42intercept: cannot run %s: %s\n", runner,
          strerror(errno));
  free(av);
  return EXIT_WRAPPER;
}

/* Execs the runner for ARGV (ARGV[0] the command, looked up in PATH as
   execvp would) when the command is ours.  Returns when it is not, or when
   the runner could not start: then (said in a trace line) with a pass
   marker first in the environment, so that the library's constructor in
   the command does not try again. */
static void hand_to_runner(char **argv) {
  int prog;
  enum match_kind kind = match_exec(argv[0], argv, &prog);
  if (kind == MATCH_NONE)
    return;
  char resolved[PATH_MAX];
  const char *path = argv[0];
  if (!strchr(path, '/')) {
    const char *search = getenv("PATH");
    if (reroute_resolve(resolved, sizeof resolved, path,
                        search ? search : "/bin:/usr/bin") < 0)
      return;
    path = resolved;
  }
  if (!reroute_executable(path) ||
      reroute_exec(path, argv, environ, prog) == 0)
    return;
  static char marker[PASS_MAX];
  char **env = malloc((pass_count(environ) + 2) * sizeof *env);
  if (!env)
    return;
  pass_format(marker, (long)getpid(), kind);
  pass_env(env, environ, marker);
  environ = env;
}

/* LD_PRELOAD with LIB in front, unless it is there already.  Returns 0,
   or -1 (errno set). */
static int preload(const char *lib) {
  const char *old = getenv("LD_PRELOAD");
  if (old && has_entry(old, lib))
    return 0;
  if (!old || !*old)
    return setenv("LD_PRELOAD", lib, 1);
  char *value;
  if (asprintf(&value, "%s %s", lib, old) < 0)
    return -1;
  int rc = setenv("LD_PRELOAD", value, 1);
  free(value);
  return rc;
}

/* The runner (R42INTERCEPT_RUNNER, else the one built in). */
static const char *runner(void) {
  const char *r = getenv("R42INTERCEPT_RUNNER");
  return r && *r ? r : R42_RUNNER_PATH;
}

/* Execs the runner's summary of the log FILE (from byte SINCE, when not
   NULL; as JSON when JSON).  Returns only on failure. */
static void exec_summary(const char *file, const char *since, int json) {
  const char *argv[8];
  int n = 0;
  argv[n++] = runner();
  argv[n++] = "--summary";
  argv[n++] = file;
  if (json)
    argv[n++] = "--json";
  if (since) {
    argv[n++] = "--since";
    argv[n++] = since;
  }
  argv[n] = NULL;
  execv(argv[0], (char **)argv);
  fprintf(stderr, "r42intercept: %s: %s\n", argv[0], strerror(errno));
}

/* Runs ARGV as r42intercept does (LD_PRELOAD, the runner for ours).
   Returns only on failure: the exit status. */
static int run(char **argv, int quiet) {
  if (access(R42_LIB_PATH, R_OK) != 0) {
    if (!quiet)
      fprintf(stderr,
              ":: TRACE :: \033[0;33mr42intercept: %s: %s; running %s as "
              "is\033[0m\n",
              R42_LIB_PATH, strerror(errno), argv[0]);
  } else if (preload(R42_LIB_PATH) < 0) {
    perror("r42intercept: setenv");
    return EXIT_WRAPPER;
  } else {
    hand_to_runner(argv);
  }
  execvp(argv[0], argv);
  int err = errno;
  fprintf(stderr, "r42intercept: %s: %s\n", argv[0], strerror(err));
  return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}

/* The status of a waited-for child, as a shell reports it. */
static int status_of(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int wait_for(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return EXIT_WRAPPER;
  return status_of(st);
}

/* R42INTERCEPT_LOG, made absolute (COMMAND may change directory), or
   NULL.  Caller frees. */
static char *log_path(void) {
  const char *log = getenv("R42INTERCEPT_LOG");
  if (!log || !*log)
    return NULL;
  char *abs = NULL, *cwd = log[0] == '/' ? NULL : getcwd(NULL, 0);
  if (log[0] == '/')
    abs = strdup(log);
  else if (cwd && asprintf(&abs, "%s/%s", cwd, log) < 0)
    abs = NULL;
  free(cwd);
  if (abs && setenv("R42INTERCEPT_LOG", abs, 1) < 0) {
    free(abs);
    abs = NULL;
  }
  return abs;
}

/* Runs ARGV in a child, then prints on stderr the summary of what it
   added to the log LOG.  Returns ARGV's status. */
static int run_with_summary(char **argv, const char *log) {
  struct stat st;
  char since[32];
  snprintf(since, sizeof since, "%lld",
           stat(log, &st) == 0 ? (long long)st.st_size : 0LL);
  pid_t pid = fork();
  if (pid == 0)
    _exit(run(argv, 0));
  if (pid < 0) {
    perror("r42intercept: fork");
    return EXIT_WRAPPER;
  }
  /* as system(3): ^C and ^\ are the command's */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int status = wait_for(pid);
  fflush(stderr);
  pid_t sum = fork();
  if (sum == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    if (dup2(STDERR_FILENO, STDOUT_FILENO) >= 0)
      exec_summary(log, since, 0);
    _exit(EXIT_WRAPPER);
  }
  if (sum > 0)
    wait_for(sum);
  return status;
}

int main(int argc, char **argv) {
  static const struct option longs[] = {
      {"quiet", no_argument, NULL, 'q'},
      {"summary", required_argument, NULL, 's'},
      {"json", no_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  int opt, quiet = 0, json = 0;
  const char *summary = NULL;
  argv[0] = (char *)"r42intercept"; /* getopt's messages name it */
  while ((opt = getopt_long(argc, argv, "+qhV", longs, NULL)) != -1) {
    switch (opt) {
    case 'q':
      quiet = 1;
      break;
    case 's':
      summary = optarg;
      break;
    case 'j':
      json = 1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      puts("r42intercept " R42_VERSION);
      return 0;
    default:
      fprintf(stderr, "Try 'r42intercept --help' for more information.\n");
      return EXIT_WRAPPER;
    }
  }
  if (summary && optind == argc) {
    exec_summary(summary, NULL, json);
    return EXIT_WRAPPER;
  }
  if (optind >= argc || summary || json) {
    usage(stderr);
    return EXIT_WRAPPER;
  }
  /* "doctor" is the subcommand; "-- doctor" a command of that name */
  if (strcmp(argv[optind], "doctor") == 0 &&
      strcmp(argv[optind - 1], "--") != 0)
    return doctor(argv + optind + 1, argc - optind - 1);
  const char *q = getenv("R42INTERCEPT_QUIET");
  if (q && strcmp(q, "1") == 0)
    quiet = 1;
  else if (quiet && setenv("R42INTERCEPT_QUIET", "1", 1) < 0) {
    perror("r42intercept: setenv");
    return EXIT_WRAPPER;
  }
  char *log = quiet ? NULL : log_path();
  if (log)
    return run_with_summary(argv + optind, log);
  return run(argv + optind, quiet);
}
