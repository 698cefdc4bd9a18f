/* handback.c: the last step of every fall-back, shared by the runner's
 * front (front.c: fds closed, core not loadable) and its core (fallback.c):
 * the exec of the real program, with the pass marker that tells the shim
 * not to send it back to the runner.  libc only (the front links it). */
#define _GNU_SOURCE
#include "handback.h"

#include "../shim/pass.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

int hb_exec(const char *path, char **argv, int kind) {
  char marker[PASS_MAX];
  int preloaded = pass_preloaded(getenv("LD_PRELOAD"));
  if (preloaded)
    pass_format(marker, (long)getpid(), kind);
  char **env = malloc((pass_count(environ) + 2) * sizeof *env);
  if (!env) {
    errno = ENOMEM;
    return -1;
  }
  pass_env(env, environ, preloaded ? marker : NULL);
  syscall(SYS_execve, path, argv, env);
  int err = errno;
  free(env);
  errno = err;
  return -1;
}
