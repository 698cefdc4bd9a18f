/* SPDX-License-Identifier: GPL-3.0-or-later */
/* reroute.h: starting the runner in place of an exec (see reroute.c). */
#ifndef R42_REROUTE_H
#define R42_REROUTE_H

#include <stddef.h>

/* Longer command lines are never ours (the runner's argv is built on the
   stack): they are passed on untouched. */
#define REROUTE_MAX_ARGS 4096

/* The value of NAME in the NULL-terminated ENVP, or NULL. */
const char *reroute_getenv(char *const envp[], const char *name);

/* Number of entries of ARGV, counting at most REROUTE_MAX_ARGS + 1. */
int reroute_count(char *const argv[]);

/* Writes DIR/FILE (DIR of length DIRLEN, "" meaning the current
   directory) into BUF of SIZE bytes.  Returns 0, or -1 if it is too long. */
int reroute_join(char *buf, size_t size, const char *dir, size_t dirlen,
                 const char *file);

/* The first executable FILE along PATH (a colon-separated list), written
   into BUF of SIZE bytes, as the exec*p family would run it.  Returns 0,
   or -1 when there is none. */
int reroute_resolve(char *buf, size_t size, const char *file,
                    const char *path);

/* 1 if PATH names an executable regular file (the check the kernel would
   make), else 0 with errno set (EACCES for a directory). */
int reroute_executable(const char *path);

/* Fills ARGS (ARGC + 4 slots) with the runner's command line for the exec
   of PATH with ARGV (ARGC entries) and ENVP:
       runner --r42-exec PATH ARGV... NULL */
void reroute_argv(char **args, const char *path, char *const argv[], int argc,
                  char *const envp[]);

/* Execs the runner in place of the exec of PATH with ARGV and ENVP, the
   program's own argv starting at ARGV[PROG].  Returns only when that did
   not happen: 0 when the call is too long to be ours (nothing said), -1
   after one trace line saying why the runner could not start.  errno is
   preserved. */
int reroute_exec(const char *path, char *const argv[], char *const envp[],
                 int prog);

/* Writes ":: TRACE :: r42intercept: cannot start the runner RUNNER (why);
   running NAME as is" on fd 2 for error ERR, unless ENVP has
   R42INTERCEPT_QUIET=1.  errno is preserved. */
void reroute_say_failed(const char *runner, int err, const char *name,
                        char *const envp[]);

#endif
