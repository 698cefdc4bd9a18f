/* SPDX-License-Identifier: GPL-3.0-or-later */
/* front.c: r42intercept-runner, the program the preloaded shim execs in
 * place of an intercepted one:
 *     r42intercept-runner --r42-exec PROGRAM-PATH ARGV0 ARGV1 ...
 * It links only libc, so that it always starts.  It checks what must hold
 * before anything is opened (descriptors 0-2 open), then loads the
 * runner's core, r42intercept-core.so beside it (libcurl, OpenSSL, ... are
 * its dependencies), and enters it (main.c).  When the core cannot be
 * loaded (a missing or broken shared library) it says so in one trace line
 * and execs the real program unchanged: nothing has been read yet.
 * `r42intercept-runner --doctor [ARGS]` runs the core's doctor instead
 * (doctor.c, for `r42intercept doctor`).  A call is first offered to the
 * resident runner of its context, which has the core loaded already
 * (rescall.c); `--resident DIR KEY IDLE` is that resident. */
#define _GNU_SOURCE
#include "../shim/match.h"
#include "config.h"
#include "evlog.h"
#include "handback.h"
#include "msg.h"
#include "rescall.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef R42_VERSION
#define R42_VERSION "unknown"
#endif

#define FRONT_CORE "r42intercept-core.so"

typedef int (*core_main_fn)(int, char **);

/* The call being answered. */
struct call {
  const char *path; /* the program as exec'd */
  char **argv;      /* its argv */
  int kind;         /* enum match_kind */
  const char *name; /* its name in traces */
};

/* Says WHY (a trace line, unless fd 2 is closed; the event log) and
   execs the real program; exits 126 or 127 as a shell would when that
   fails.  With RANGE42_PROXMOX_API_FORCE=on: an error line, and exit
   CFG_FORCE_STATUS. */
R42_NORETURN static void hand_back(const struct call *c, const char *why) {
  evl_begin(c->kind, c->name);
  if (cfg_get()->force == CFG_FORCE_ON)
    hb_refuse(c->name, why);
  evl_fell_back(why, false);
  if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
    msg_trace("r42intercept: running the real %s: %s", c->name, why);
  hb_exec(c->path, c->argv, c->kind);
  int err = errno;
  msg_error("r42intercept: %s: %s", c->path, strerror(err));
  exit(err == ENOENT ? 127 : 126);
}

/* The first of descriptors 0, 1, 2 that is closed, or -1. */
static int closed_std_fd(void) {
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
      return fd;
  return -1;
}

/* The core's path: beside this program (its real file), into BUF. */
static int core_path(char *buf, size_t size, const char *argv0) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    self[n] = '\0';
  else
    snprintf(self, sizeof self, "%s", argv0);
  char *slash = strrchr(self, '/');
  int len = slash ? snprintf(buf, size, "%.*s/%s", (int)(slash - self), self,
                             FRONT_CORE)
                  : snprintf(buf, size, "%s", FRONT_CORE);
  return len > 0 && (size_t)len < size ? 0 : -1;
}

/* Loads the core beside this program (ARGV0: its path, when /proc is not
   there).  Returns its entry point, or NULL with WHY (SIZE bytes) set. */
static core_main_fn load_core(const char *argv0, char *why, size_t size) {
  char path[PATH_MAX];
  if (core_path(path, sizeof path, argv0) < 0) {
    snprintf(why, size, "cannot find " FRONT_CORE);
    return NULL;
  }
  void *core = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
  core_main_fn entry =
      core ? (core_main_fn)(uintptr_t)dlsym(core, "r42_runner_main") : NULL;
  if (!entry) {
    const char *err = dlerror();
    snprintf(why, size, "cannot load the runner's core: %s", err ? err : path);
  }
  return entry;
}

int main(int argc, char **argv) {
  char why[PATH_MAX + 128];
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    puts("r42intercept-runner " R42_VERSION);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "--check") == 0) {
    /* Loads the core as a call would: for installers (and make bench). */
    if (load_core(argv[0], why, sizeof why))
      return 0;
    fprintf(stderr, "r42intercept-runner: %s\n", why);
    return 1;
  }
  if (argc >= 2 && strcmp(argv[1], "--doctor") == 0) {
    /* r42intercept doctor: the core checks (doctor.c) */
    core_main_fn doctor = load_core(argv[0], why, sizeof why);
    if (doctor)
      return doctor(argc, argv);
    printf("FAIL  runner core: %s; fix: install the runtime libraries "
           "(libcurl, libcjson, libsodium, libyaml, OpenSSL)\n",
           why);
    return 1;
  }
  if (argc >= 2 && strcmp(argv[1], "--resident") == 0) {
    /* the resident runner (resident.c), started by rescall.c */
    core_main_fn resident = load_core(argv[0], why, sizeof why);
    return resident ? resident(argc, argv) : 1;
  }
  if (argc >= 2 && strcmp(argv[1], "--summary") == 0) {
    /* an event log's summary (the wrapper's --summary): the core's */
    core_main_fn summary = load_core(argv[0], why, sizeof why);
    if (!summary)
      die("%s", why);
    return summary(argc, argv);
  }
  if (argc < 4 || strcmp(argv[1], MATCH_RUNNER_MARK) != 0)
    die("usage: r42intercept-runner " MATCH_RUNNER_MARK
        " PROGRAM ARGV0 [ARGS...] (started by libr42intercept.so)");
  int prog = 0;
  struct call c = {argv[2], argv + 3, MATCH_NONE, NULL};
  c.kind = (int)match_exec(c.path, c.argv, &prog);
  c.name = match_basename(c.argv[prog]);
  int fd = closed_std_fd();
  if (fd >= 0) {
    /* Whatever the runner opened would take its number. */
    snprintf(why, sizeof why, "file descriptor %d is closed", fd);
    hand_back(&c, why);
  }
  char core[PATH_MAX];
  if (core_path(core, sizeof core, argv[0]) == 0)
    rcall_try(argv, core, c.path, c.argv, c.kind); /* returns if none */
  core_main_fn entry = load_core(argv[0], why, sizeof why);
  if (!entry)
    hand_back(&c, why);
  int rc = entry(argc, argv);
#ifndef __SANITIZE_ADDRESS__ /* LeakSanitizer checks at exit() */
  /* Without the libraries' exit-time cleanup (OpenSSL freeing its
     providers and tables: 5% of a call's instructions). */
  fflush(NULL);
  _exit(rc);
#endif
  return rc;
}
