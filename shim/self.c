/* SPDX-License-Identifier: GPL-3.0-or-later */
/* self.c: the shim's constructor, for `LD_PRELOAD=lib COMMAND`: when the
 * library is loaded into a program that is itself ours (a devkit script run
 * by bash, ansible-playbook or ansible-vault view run by python), that
 * process is replaced by the runner exactly as the exec hooks would have
 * done in its caller.  It also takes any pass marker (pass.c) out of the
 * environment, so neither the real program nor its children see it.
 * Rules: it runs in every process, so a program that is not ours pays only
 * the basename compares of match_exec() (no libc call, no allocation);
 * setuid programs (AT_SECURE) are never re-routed; nothing is read, so a
 * failure leaves the program to run as if the library were not there. */
#define _GNU_SOURCE
#include "self.h"

#include "pass.h"
#include "reroute.h"

#include <errno.h>
#include <limits.h>
#include <sys/auxv.h>
#include <unistd.h>

static long self_pid; /* the process the marker named, 0 if none */
static int self_kind; /* the kind the runner gave back (0: any) */
static char self_mark[PASS_MAX];

int self_passes(enum match_kind kind) {
  if (self_pid == 0 || self_pid != (long)getpid())
    return 0;
  return kind == MATCH_NONE || self_kind == MATCH_NONE ||
         (int)kind == self_kind;
}

char *self_marker(void) {
  return self_mark;
}

/* Takes the marker ENV[I] out of the environment: its bytes are blanked
   (so /proc/PID/environ no longer shows it) and the entries after it move
   up.  A marker naming this process (or 0: whoever gets it first) makes
   it a handed-back one. */
static void take(char **env, size_t i) {
  long pid;
  int kind;
  if (pass_parse(env[i], &pid, &kind) == 0) {
    long me = (long)getpid();
    if (pid == 0 || pid == me) {
      self_pid = me;
      self_kind = kind;
      pass_format(self_mark, me, kind);
    }
  }
  char *at = env[i], *end = env[i];
  while (*end)
    end++;
  while (at < end)
    *at++ = '\0';
  for (; env[i]; i++)
    env[i] = env[i + 1];
}

static int has_slash(const char *s) {
  for (; *s; s++)
    if (*s == '/')
      return 1;
  return 0;
}

static int same(const char *a, const char *b) {
  while (*a && *a == *b)
    a++, b++;
  return *a == *b;
}

/* The program to name to the runner, so that it classifies the call as
   match_exec() did here and can exec it again unchanged on fall-back: the
   interpreter path the kernel put in argv[0] for a script, else the path
   the caller gave execve (when it is that program, not a script), else
   /proc/self/exe's target (in BUF). */
static const char *own_program(char *buf, size_t size, const char *argv0) {
  if (has_slash(argv0) && reroute_executable(argv0))
    return argv0;
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  if (execfn && has_slash(execfn) &&
      same(match_basename(execfn), match_basename(argv0)) &&
      reroute_executable(execfn))
    return execfn;
  ssize_t n = readlink("/proc/self/exe", buf, size - 1);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  return reroute_executable(buf) ? buf : NULL;
}

/* Replaces this process by the runner when it is ours.  ENVP is environ. */
__attribute__((constructor)) static void self_start(int argc, char **argv,
                                                    char **envp) {
  (void)argc;
  if (envp && pass_is_marker(envp[0]))
    take(envp, 0);
  int prog;
  if (!argv || !argv[0])
    return;
  enum match_kind kind = match_exec(argv[0], argv, &prog);
  if (kind == MATCH_NONE)
    return;
  for (size_t i = 0; envp && envp[i];) /* a marker moved by an exec */
    if (pass_is_marker(envp[i]))
      take(envp, i);
    else
      i++;
  if (getauxval(AT_SECURE) || self_passes(kind))
    return;
  int saved = errno;
  char buf[PATH_MAX];
  const char *path = own_program(buf, sizeof buf, argv[0]);
  if (path)
    reroute_exec(path, argv, envp, prog);
  errno = saved;
}
