/* SPDX-License-Identifier: GPL-3.0-or-later */
/* execer.c: calls one exec-family function or posix_spawn variant, for
 * the shim tests.  Usage: execer MODE PROGRAM [ARGS...]
 *   exec modes (execve execv execvp execvpe execl execlp execle execveat
 *   fexecve fork-execve vfork-execve) replace the process; on failure they
 *   print "errno=NAME" and exit 3.  Spawn modes (posix_spawn posix_spawnp)
 *   wait for the child and exit with its status ("spawn errno=NAME" and 3
 *   when the spawn fails).  errno is checked to be unchanged by a hook. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what, int err) {
  printf("%serrno=%s\n", what,
         strerrorname_np(err) ? strerrorname_np(err) : "?");
  fflush(stdout);
  return 3;
}

/* The list forms take at most 4 arguments after the program name. */
#define A(i) (argc > (i) ? argv[i] : NULL)

static int run_exec(const char *mode, int argc, char **argv) {
  const char *prog = argv[0];
  errno = 0;
  if (!strcmp(mode, "execve"))
    execve(prog, argv, environ);
  else if (!strcmp(mode, "execv"))
    execv(prog, argv);
  else if (!strcmp(mode, "execvp"))
    execvp(prog, argv);
  else if (!strcmp(mode, "execvpe"))
    execvpe(prog, argv, environ);
  else if (!strcmp(mode, "execl"))
    execl(prog, prog, A(1), A(2), A(3), A(4), (char *)NULL);
  else if (!strcmp(mode, "execlp"))
    execlp(prog, prog, A(1), A(2), A(3), A(4), (char *)NULL);
  else if (!strcmp(mode, "execle")) {
    /* envp follows the first NULL: pass exactly argc arguments */
    switch (argc) {
    case 1:
      execle(prog, prog, (char *)NULL, environ);
      break;
    case 2:
      execle(prog, prog, A(1), (char *)NULL, environ);
      break;
    case 3:
      execle(prog, prog, A(1), A(2), (char *)NULL, environ);
      break;
    case 4:
      execle(prog, prog, A(1), A(2), A(3), (char *)NULL, environ);
      break;
    default:
      execle(prog, prog, A(1), A(2), A(3), A(4), (char *)NULL, environ);
    }
  } else if (!strcmp(mode, "execveat"))
    execveat(AT_FDCWD, prog, argv, environ, 0);
  else if (!strcmp(mode, "fexecve")) {
    int fd = open(prog, O_RDONLY);
    if (fd < 0)
      return fail("open ", errno);
    fexecve(fd, argv, environ);
  } else {
    fprintf(stderr, "execer: unknown mode %s\n", mode);
    return 2;
  }
  return fail("", errno);
}

static int run_forked(int use_vfork, char **argv) {
  pid_t pid = use_vfork ? vfork() : fork();
  if (pid < 0)
    return fail("fork ", errno);
  if (pid == 0) {
    execve(argv[0], argv, environ);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_spawn(int use_path, char **argv) {
  pid_t pid;
  int saved = errno = 1234;
  int rc = use_path ? posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ)
                    : posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
  if (rc != 0)
    return fail("spawn ", rc);
  if (errno != saved)
    printf("errno changed by posix_spawn: %d\n", errno);
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: execer MODE PROGRAM [ARGS...]\n");
    return 2;
  }
  const char *mode = argv[1];
  if (!strcmp(mode, "posix_spawn") || !strcmp(mode, "posix_spawnp"))
    return run_spawn(!strcmp(mode, "posix_spawnp"), argv + 2);
  if (!strcmp(mode, "fork-execve") || !strcmp(mode, "vfork-execve"))
    return run_forked(mode[0] == 'v', argv + 2);
  return run_exec(mode, argc - 2, argv + 2);
}
