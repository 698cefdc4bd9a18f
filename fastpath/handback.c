/* SPDX-License-Identifier: GPL-3.0-or-later */
/* handback.c: the last step of every fall-back, shared by the runner's
 * front (front.c: fds closed, core not loadable) and its core (fallback.c):
 * the exec of the real program, with the pass marker that tells the shim
 * not to send it back to the runner; or, under
 * RANGE42_PROXMOX_API_FORCE=on, the refusal in its place.  libc only (the
 * front links it). */
#define _GNU_SOURCE
#include "handback.h"

#include "../shim/pass.h"
#include "config.h"
#include "evlog.h"
#include "msg.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* 1 when libr42intercept.so is loaded in this process: then it is in the
   real program too (same LD_PRELOAD, same /etc/ld.so.preload), and its
   constructor there takes the marker out. */
static int shim_loaded(void) {
  void *shim = dlopen("libr42intercept.so", RTLD_LAZY | RTLD_NOLOAD);
  if (!shim)
    return 0;
  dlclose(shim);
  return 1;
}

int hb_exec(const char *path, char **argv, int kind) {
  char marker[PASS_MAX];
  int preloaded = shim_loaded();
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

int hb_exec_program(const char *path, char **argv, int kind) {
  hb_exec(path, argv, kind);
  if (errno != ENOEXEC)
    return -1;
  /* as execvp() runs a file without a #! line: /bin/sh PATH ARGV[1]... */
  size_t n = 0;
  while (argv[n])
    n++;
  char **sh = calloc(n + 2, sizeof *sh);
  if (!sh) {
    errno = ENOEXEC; /* the program's own error */
    return -1;
  }
  sh[0] = (char *)"/bin/sh";
  sh[1] = (char *)path;
  for (size_t i = 1; i < n; i++)
    sh[i + 1] = argv[i];
  hb_exec("/bin/sh", sh, kind);
  free(sh);
  errno = ENOEXEC;
  return -1;
}

void hb_refuse(const char *name, const char *why) {
  evl_fell_back(why, true);
  msg_error("r42intercept: RANGE42_PROXMOX_API_FORCE=on and the fast path "
            "cannot answer %s (%s): the real %s is not run, exit status %d",
            name, why && *why ? why : "no reason given", name,
            CFG_FORCE_STATUS);
  exit(CFG_FORCE_STATUS);
}
