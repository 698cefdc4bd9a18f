/* SPDX-License-Identifier: GPL-3.0-or-later */
/* reroute.c: the shim's way into the runner.  Builds the runner's command
 * line (R42INTERCEPT_RUNNER, else the path built in), execs it, and when
 * it cannot start says so on fd 2, in one trace line, so that a broken
 * installation is never silent.  Does not decide what is ours (match.c)
 * or what happens after a failure (hook.c, self.c).
 * Everything here is async-signal-safe and allocation-free: it runs in
 * vfork children and between fork and exec (no stdio, no strerror). */
#define _GNU_SOURCE
#include "reroute.h"

#include "match.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef R42_RUNNER_PATH
#define R42_RUNNER_PATH "/usr/lib/r42intercept/r42intercept-runner"
#endif

/* The colours of the runner's trace lines (fastpath/msg.c). */
#define YELLOW "\033[0;33m"
#define NC "\033[0m"

const char *reroute_getenv(char *const envp[], const char *name) {
  size_t len = strlen(name);
  for (char *const *e = envp; e && *e; e++)
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
      return *e + len + 1;
  return NULL;
}

static const char *runner_path(char *const envp[]) {
  const char *path = reroute_getenv(envp, "R42INTERCEPT_RUNNER");
  return path && *path ? path : R42_RUNNER_PATH;
}

int reroute_count(char *const argv[]) {
  int n = 0;
  while (argv[n] && n <= REROUTE_MAX_ARGS)
    n++;
  return n;
}

int reroute_join(char *buf, size_t size, const char *dir, size_t dirlen,
                 const char *file) {
  size_t flen = strlen(file);
  if (dirlen + 1 + flen + 1 > size)
    return -1;
  memcpy(buf, dir, dirlen);
  size_t at = dirlen;
  if (dirlen > 0)
    buf[at++] = '/';
  memcpy(buf + at, file, flen + 1);
  return 0;
}

int reroute_resolve(char *buf, size_t size, const char *file,
                    const char *path) {
  for (const char *dir = path;; dir++) {
    const char *end = strchrnul(dir, ':');
    if (reroute_join(buf, size, dir, (size_t)(end - dir), file) == 0 &&
        reroute_executable(buf))
      return 0;
    if (*end == '\0')
      return -1;
    dir = end;
  }
}

int reroute_executable(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return 0;
  if (!S_ISREG(st.st_mode)) {
    errno = EACCES; /* what execve says of a directory or a device */
    return 0;
  }
  return access(path, X_OK) == 0;
}

void reroute_argv(char **args, const char *path, char *const argv[], int argc,
                  char *const envp[]) {
  args[0] = (char *)runner_path(envp);
  args[1] = (char *)MATCH_RUNNER_MARK;
  args[2] = (char *)path;
  memcpy(&args[3], argv, (size_t)argc * sizeof(char *));
  args[argc + 3] = NULL;
}

int reroute_exec(const char *path, char *const argv[], char *const envp[],
                 int prog) {
  int saved = errno;
  int argc = reroute_count(argv);
  if (argc > REROUTE_MAX_ARGS)
    return 0;
  char *args[argc + 4];
  reroute_argv(args, path, argv, argc, envp);
  syscall(SYS_execve, args[0], args, envp);
  reroute_say_failed(args[0], errno, match_basename(argv[prog]), envp);
  errno = saved;
  return -1;
}

/* strerror()'s text for the errors execve gives, without strerror (not
   async-signal-safe). */
static const char *error_text(int err) {
  switch (err) {
  case ENOENT:
    return "No such file or directory";
  case EACCES:
    return "Permission denied";
  case ENOEXEC:
    return "Exec format error";
  case EISDIR:
    return "Is a directory";
  case ENOTDIR:
    return "Not a directory";
  case ELOOP:
    return "Too many levels of symbolic links";
  case ENAMETOOLONG:
    return "File name too long";
  case E2BIG:
    return "Argument list too long";
  case ENOMEM:
    return "Cannot allocate memory";
  case ETXTBSY:
    return "Text file busy";
  case EPERM:
    return "Operation not permitted";
  case EIO:
    return "Input/output error";
  case ELIBBAD:
    return "Accessing a corrupted shared library";
  default:
    return "cannot execute";
  }
}

/* Appends S to the line at *AT, within END; returns the new end. */
static char *put(char *at, const char *end, const char *s) {
  while (*s && at < end)
    *at++ = *s++;
  return at;
}

void reroute_say_failed(const char *runner, int err, const char *name,
                        char *const envp[]) {
  int saved = errno;
  const char *quiet = reroute_getenv(envp, "R42INTERCEPT_QUIET");
  if (quiet && strcmp(quiet, "1") == 0)
    return;
  char line[512];
  const char *end = line + sizeof line - sizeof NC - 1;
  char *at = put(line, end, ":: TRACE :: " YELLOW);
  at = put(at, end, "r42intercept: cannot start the runner ");
  at = put(at, end, runner);
  at = put(at, end, " (");
  at = put(at, end, error_text(err));
  at = put(at, end, "); running ");
  at = put(at, end, name);
  at = put(at, end, " as is");
  at = put(at, line + sizeof line, NC "\n");
  if (write(STDERR_FILENO, line, (size_t)(at - line)) < 0) {
    /* nowhere to say it */
  }
  errno = saved;
}
