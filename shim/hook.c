/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hook.c: libr42intercept.so, the preloaded exec hooks.
 *
 * Every exec-family call and posix_spawn(p) of the process passes through
 * here.  When match_exec() says the program is ours, the call is re-aimed
 * at the runner (reroute.c), keeping the original program path, argv,
 * environment and file descriptors:
 *     runner --r42-exec PROGRAM-PATH ARGV0 ARGV1 ...
 * Otherwise the call goes on exactly as the caller made it.  Two cases
 * carry a pass marker (pass.c) into the exec'd program, so that the
 * constructor there (self.c) does not try the runner again: the runner
 * could not start (it said why), or this process is one the runner handed
 * back (an exec in its place, as env or a wrapper script does, stays
 * handed back).
 *
 * Rules for this file, because it is loaded into every process of a run:
 * - The exec hooks are async-signal-safe (they run after fork and in vfork
 *   children): no malloc, no stdio, no locks, no dlsym (long vectors are
 *   built in an anonymous mapping).  The exec family
 *   is therefore carried out here with the execve/execveat system calls,
 *   which is all glibc's own implementations do; the exec*p PATH search
 *   follows glibc's rules (see search_path()).
 * - posix_spawn/posix_spawnp are not async-signal-safe themselves and run
 *   in the caller's normal context: their hooks find the next definition
 *   with dlsym(RTLD_NEXT) on first use.
 * - errno is preserved for calls that are not ours.
 * - Only the hooks are exported (-fvisibility=hidden). */
#define _GNU_SOURCE
#include "match.h"
#include "pass.h"
#include "reroute.h"
#include "self.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOOK_API __attribute__((visibility("default")))

/* Argument vectors up to this many entries are built on the stack, longer
   ones in an anonymous mapping (any length glibc takes). */
#define HOOK_STACK_ARGS 4096

/* glibc's PATH when the environment has none (_CS_PATH). */
#define HOOK_DEFAULT_PATH "/bin:/usr/bin"

extern char **environ;

typedef int (*posix_spawn_fn)(pid_t *, const char *,
                              const posix_spawn_file_actions_t *,
                              const posix_spawnattr_t *, char *const[],
                              char *const[]);

/* ---- system calls (the real exec family) ------------------------------ */

static int sys_execve(const char *path, char *const argv[],
                      char *const envp[]) {
  return (int)syscall(SYS_execve, path, argv, envp);
}

static int sys_execveat(int dirfd, const char *path, char *const argv[],
                        char *const envp[], int flags) {
  return (int)syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}

/* ---- helpers, all async-signal-safe ----------------------------------- */

/* N pointers in an anonymous mapping, or NULL. */
static char **map_vec(size_t n) {
  void *p = mmap(NULL, n * sizeof(char *), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : (char **)p;
}

static void unmap_vec(char **v, size_t n) {
  if (v)
    munmap(v, n * sizeof(char *));
}

static size_t count_all(char *const argv[]) {
  size_t n = 0;
  while (argv[n])
    n++;
  return n;
}

/* An environment with a pass marker in front: the env to exec with, and
   the mapping that holds it (when one was made). */
struct env_plan {
  char *const *envp;
  char **map;
  size_t map_n;
  char marker[PASS_MAX];
};

/* Sets PLAN to ENVP, with MARKER in front when it is not NULL. */
static void plan_env(struct env_plan *plan, char *const envp[],
                     const char *marker) {
  plan->envp = envp;
  plan->map = NULL;
  if (!marker)
    return;
  if (marker != plan->marker)
    memcpy(plan->marker, marker, PASS_MAX);
  plan->map_n = pass_count(envp) + 2;
  plan->map = map_vec(plan->map_n);
  if (plan->map) {
    pass_env(plan->map, envp, plan->marker);
    plan->envp = plan->map;
  }
}

static void plan_done(struct env_plan *plan) {
  int saved = errno;
  unmap_vec(plan->map, plan->map_n);
  errno = saved;
}

/* glibc's fallback when execvp meets a file without a #! line: /bin/sh
   FILE ARGV[1..], whatever the number of arguments. */
static void exec_as_shell_script(const char *file, char *const argv[],
                                 char *const envp[]) {
  size_t argc = count_all(argv);
  size_t n = argc > 1 ? argc + 2 : 3; /* sh FILE ARGV[1..] NULL */
  char *stack[n <= HOOK_STACK_ARGS ? n : 1];
  char **args = n <= HOOK_STACK_ARGS ? stack : map_vec(n);
  if (!args) {
    errno = E2BIG;
    return;
  }
  args[0] = (char *)"/bin/sh";
  args[1] = (char *)file;
  for (size_t i = 1; i < argc; i++)
    args[i + 1] = argv[i];
  args[argc > 1 ? argc + 1 : 2] = NULL;
  sys_execve(args[0], args, envp);
  if (args != stack) {
    int saved = errno;
    unmap_vec(args, n);
    errno = saved;
  }
}

/* The exec*p search, as glibc does it: each PATH entry in turn; EACCES is
   remembered and the search goes on; ENOENT, ENOTDIR, ESTALE, ENODEV and
   ETIMEDOUT go on; any other error stops it; ENOEXEC runs the file with
   /bin/sh when SHELL_FALLBACK.  Returns -1 with errno set. */
static int search_path(const char *file, char *const argv[],
                       char *const envp[], const char *path,
                       int shell_fallback) {
  if (strnlen(file, NAME_MAX + 1) > NAME_MAX) { /* as glibc 2.36 ends */
    errno = ENAMETOOLONG;
    return -1;
  }
  int got_eacces = 0;
  char buf[PATH_MAX];
  for (const char *dir = path;; dir++) {
    const char *end = strchrnul(dir, ':');
    if (reroute_join(buf, sizeof buf, dir, (size_t)(end - dir), file) == 0) {
      sys_execve(buf, argv, envp);
      if (errno == ENOEXEC && shell_fallback)
        exec_as_shell_script(buf, argv, envp);
      switch (errno) {
      case EACCES:
        got_eacces = 1;
        break;
      case ENOENT:
      case ESTALE:
      case ENOTDIR:
      case ENODEV:
      case ETIMEDOUT:
        break;
      default:
        return -1;
      }
    }
    if (*end == '\0')
      break;
    dir = end;
  }
  if (got_eacces)
    errno = EACCES;
  return -1;
}

/* ---- the exec family -------------------------------------------------- */

/* What an exec hook does before the real exec: nothing for a program that
   is not ours; the runner in its place for one that is (no return); a pass
   marker into PLAN when this process was handed back by the runner, or
   when the runner could not start.  SEARCH is the PATH to look a bare
   FILE up in (the exec*p family), else NULL. */
static void plan_exec(struct env_plan *plan, const char *file,
                      const char *search, char *const argv[],
                      char *const envp[]) {
  int saved = errno, prog;
  enum match_kind kind = match_exec(file, argv, &prog);
  const char *marker = NULL;
  if (self_passes(kind)) {
    marker = self_marker();
  } else if (kind != MATCH_NONE) {
    char resolved[PATH_MAX];
    const char *path = file;
    if (search)
      path = reroute_resolve(resolved, sizeof resolved, file, search) == 0
                 ? resolved
                 : NULL;
    if (path && reroute_executable(path) &&
        reroute_exec(path, argv, envp, prog) < 0) {
      pass_format(plan->marker, (long)getpid(), kind);
      marker = plan->marker;
    }
  }
  plan_env(plan, envp, marker);
  errno = saved;
}

static int do_execve(const char *path, char *const argv[],
                     char *const envp[]) {
  struct env_plan plan;
  plan_exec(&plan, path, NULL, argv, envp);
  int rc = sys_execve(path, argv, plan.envp);
  plan_done(&plan);
  return rc;
}

static int do_execvpe(const char *file, char *const argv[], char *const envp[],
                      int shell_fallback) {
  if (*file == '\0') {
    errno = ENOENT;
    return -1;
  }
  struct env_plan plan;
  if (strchr(file, '/')) {
    plan_exec(&plan, file, NULL, argv, envp);
    sys_execve(file, argv, plan.envp);
    if (errno == ENOEXEC && shell_fallback)
      exec_as_shell_script(file, argv, plan.envp);
    plan_done(&plan);
    return -1;
  }
  /* exec*p reads PATH from the caller's environment, not from envp. */
  const char *path = reroute_getenv(environ, "PATH");
  if (!path)
    path = HOOK_DEFAULT_PATH;
  plan_exec(&plan, file, path, argv, envp);
  int rc = search_path(file, argv, plan.envp, path, shell_fallback);
  plan_done(&plan);
  return rc;
}

HOOK_API int execve(const char *path, char *const argv[], char *const envp[]) {
  return do_execve(path, argv, envp);
}

HOOK_API int execv(const char *path, char *const argv[]) {
  return do_execve(path, argv, environ);
}

HOOK_API int execvpe(const char *file, char *const argv[],
                     char *const envp[]) {
  return do_execvpe(file, argv, envp, 1);
}

HOOK_API int execvp(const char *file, char *const argv[]) {
  return do_execvpe(file, argv, environ, 1);
}

HOOK_API int execveat(int dirfd, const char *path, char *const argv[],
                      char *const envp[], int flags) {
  /* Only a plain path (absolute, or relative to the current directory)
     can be matched; descriptor-relative and flagged calls pass through. */
  struct env_plan plan;
  if (flags == 0 && (path[0] == '/' || dirfd == AT_FDCWD) && path[0] != '\0')
    plan_exec(&plan, path, NULL, argv, envp);
  else
    plan_exec(&plan, "", NULL, argv, envp); /* not ours; maybe handed back */
  int rc = sys_execveat(dirfd, path, argv, plan.envp, flags);
  plan_done(&plan);
  return rc;
}

/* "/proc/self/fd/N" for FD, without stdio. */
static void fd_link(char *buf, int fd) {
  char digits[12];
  int n = 0;
  for (unsigned v = (unsigned)fd; n == 0 || v; v /= 10)
    digits[n++] = (char)('0' + v % 10);
  memcpy(buf, "/proc/self/fd/", 14);
  for (int i = 0; i < n; i++)
    buf[14 + i] = digits[n - 1 - i];
  buf[14 + n] = '\0';
}

HOOK_API int fexecve(int fd, char *const argv[], char *const envp[]) {
  char link[32], path[PATH_MAX];
  int saved = errno;
  /* The descriptor's file name, when it still has one. */
  fd_link(link, fd);
  ssize_t len = fd >= 0 ? readlink(link, path, sizeof path - 1) : -1;
  if (len > 0 && path[0] == '/')
    path[len] = '\0';
  else
    path[0] = '\0'; /* not ours; maybe handed back */
  errno = saved;
  struct env_plan plan;
  plan_exec(&plan, path, NULL, argv, envp);
  int rc = sys_execveat(fd, "", argv, plan.envp, AT_EMPTY_PATH);
  plan_done(&plan);
  return rc;
}

/* The list forms (execl, execle, execlp) count their arguments, build
   argv (on the stack, or in a mapping when long), and go on as
   execve/execvp. */
enum list_form { LIST_EXECL, LIST_EXECLE, LIST_EXECLP };

static int exec_list(enum list_form form, const char *path, const char *arg,
                     va_list *ap) {
  va_list count;
  va_copy(count, *ap);
  size_t n = 0;
  for (const char *a = arg; a; a = va_arg(count, char *))
    n++;
  va_end(count);
  char *stack[n + 1 <= HOOK_STACK_ARGS ? n + 1 : 1];
  char **args = n + 1 <= HOOK_STACK_ARGS ? stack : map_vec(n + 1);
  if (!args) {
    errno = E2BIG;
    return -1;
  }
  args[0] = (char *)arg;
  for (size_t i = 1; i < n; i++)
    args[i] = va_arg(*ap, char *);
  if (n > 0)
    (void)va_arg(*ap, char *); /* the terminating NULL */
  args[n] = NULL;
  int rc;
  switch (form) {
  case LIST_EXECLE:
    rc = do_execve(path, args, va_arg(*ap, char *const *));
    break;
  case LIST_EXECLP:
    rc = do_execvpe(path, args, environ, 1);
    break;
  default:
    rc = do_execve(path, args, environ);
  }
  if (args != stack) {
    int saved = errno;
    unmap_vec(args, n + 1);
    errno = saved;
  }
  return rc;
}

HOOK_API int execl(const char *path, const char *arg, ...) {
  va_list ap;
  va_start(ap, arg);
  int rc = exec_list(LIST_EXECL, path, arg, &ap);
  va_end(ap);
  return rc;
}

HOOK_API int execle(const char *path, const char *arg, ...) {
  va_list ap;
  va_start(ap, arg);
  int rc = exec_list(LIST_EXECLE, path, arg, &ap);
  va_end(ap);
  return rc;
}

HOOK_API int execlp(const char *file, const char *arg, ...) {
  va_list ap;
  va_start(ap, arg);
  int rc = exec_list(LIST_EXECLP, file, arg, &ap);
  va_end(ap);
  return rc;
}

/* ---- posix_spawn ------------------------------------------------------ */

static posix_spawn_fn next_spawn(const char *name, posix_spawn_fn *cache) {
  posix_spawn_fn fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
  if (!fn) {
    fn = (posix_spawn_fn)(uintptr_t)dlsym(RTLD_NEXT, name);
    __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
  }
  return fn;
}

static posix_spawn_fn real_posix_spawn(void) {
  static posix_spawn_fn cache;
  return next_spawn("posix_spawn", &cache);
}

static posix_spawn_fn real_posix_spawnp(void) {
  static posix_spawn_fn cache;
  return next_spawn("posix_spawnp", &cache);
}

/* Spawns the runner in place of PATH (the program's own argv at
   ARGV[PROG]).  Returns 0 when it was spawned; 1 when the call is left
   alone (too long, or a relative PATH that file actions could make
   another file); -1 when the runner could not start (said on fd 2). */
static int spawn_rerouted(pid_t *pid, const char *path,
                          const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[], int prog) {
  int argc = reroute_count(argv);
  posix_spawn_fn spawn = real_posix_spawn();
  if (argc > REROUTE_MAX_ARGS || (actions && path[0] != '/') || !spawn)
    return 1;
  char *args[argc + 4];
  reroute_argv(args, path, argv, argc, envp);
  int err = reroute_executable(args[0])
                ? spawn(pid, args[0], actions, attr, args, envp)
                : errno;
  if (err == 0)
    return 0;
  reroute_say_failed(args[0], err, match_basename(argv[prog]), envp);
  return -1;
}

/* Spawns the original call with SPAWN; when the runner could not start
   for it (FAILED, a kind), with a pass marker that the child's
   constructor takes (pid 0: the child's pid is not known yet). */
static int spawn_original(posix_spawn_fn spawn, pid_t *pid, const char *file,
                          const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[], enum match_kind failed) {
  struct env_plan plan;
  if (failed != MATCH_NONE)
    pass_format(plan.marker, 0, failed);
  plan_env(&plan, envp, failed != MATCH_NONE ? plan.marker : NULL);
  int rc = spawn(pid, file, actions, attr, argv, plan.envp);
  plan_done(&plan);
  return rc;
}

HOOK_API int posix_spawn(pid_t *pid, const char *path,
                         const posix_spawn_file_actions_t *actions,
                         const posix_spawnattr_t *attr, char *const argv[],
                         char *const envp[]) {
  int saved = errno, prog;
  enum match_kind kind = match_exec(path, argv, &prog), failed = MATCH_NONE;
  if (kind != MATCH_NONE && reroute_executable(path)) {
    int r = spawn_rerouted(pid, path, actions, attr, argv, envp, prog);
    if (r == 0)
      return 0;
    if (r < 0)
      failed = kind;
  }
  errno = saved;
  posix_spawn_fn spawn = real_posix_spawn();
  if (!spawn)
    return ENOSYS;
  return spawn_original(spawn, pid, path, actions, attr, argv, envp, failed);
}

HOOK_API int posix_spawnp(pid_t *pid, const char *file,
                          const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[]) {
  int saved = errno, prog;
  enum match_kind kind = match_exec(file, argv, &prog), failed = MATCH_NONE;
  if (kind != MATCH_NONE) {
    char resolved[PATH_MAX];
    const char *path = file;
    if (!strchr(file, '/')) {
      const char *search = reroute_getenv(environ, "PATH");
      path = reroute_resolve(resolved, sizeof resolved, file,
                             search ? search : HOOK_DEFAULT_PATH) == 0
                 ? resolved
                 : NULL;
    }
    int r = path && reroute_executable(path)
                ? spawn_rerouted(pid, path, actions, attr, argv, envp, prog)
                : 1;
    if (r == 0)
      return 0;
    if (r < 0)
      failed = kind;
  }
  errno = saved;
  posix_spawn_fn spawn = real_posix_spawnp();
  if (!spawn)
    return ENOSYS;
  return spawn_original(spawn, pid, file, actions, attr, argv, envp, failed);
}
