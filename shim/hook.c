/* hook.c: libr42intercept.so, the preloaded exec hooks.
 *
 * Every exec-family call and posix_spawn(p) of the process passes through
 * here.  When match_exec() says the program is ours, the call is re-aimed
 * at the runner (R42INTERCEPT_RUNNER, else the path built in), keeping the
 * original program path, argv, environment and file descriptors:
 *     runner --r42-exec PROGRAM-PATH ARGV0 ARGV1 ...
 * Otherwise the call goes on exactly as the caller made it.
 *
 * Rules for this file, because it is loaded into every process of a run:
 * - No constructor work: nothing runs until a hooked call is made.
 * - The exec hooks are async-signal-safe (they run after fork and in vfork
 *   children): no malloc, no stdio, no locks, no dlsym.  The exec family
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

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOOK_API __attribute__((visibility("default")))

#ifndef R42_RUNNER_PATH
#define R42_RUNNER_PATH "/usr/lib/r42intercept/r42intercept-runner"
#endif

/* Longer command lines are never ours (the runner's argv is built on the
   stack); they are passed on untouched. */
#define HOOK_MAX_ARGS 4096

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

static const char *env_lookup(char *const envp[], const char *name) {
  size_t len = strlen(name);
  for (char *const *e = envp; e && *e; e++)
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
      return *e + len + 1;
  return NULL;
}

static const char *runner_path(char *const envp[]) {
  const char *path = env_lookup(envp, "R42INTERCEPT_RUNNER");
  return path && *path ? path : R42_RUNNER_PATH;
}

static int count_args(char *const argv[]) {
  int n = 0;
  while (argv[n] && n <= HOOK_MAX_ARGS)
    n++;
  return n;
}

/* 1 if PATH names an executable regular file: the check the kernel would
   make, so a call that would fail still fails with the real errno. */
static int is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
         access(path, X_OK) == 0;
}

/* Fills ARGS (ARGC + 4 slots) with the runner's command line for PATH
   ARGV: runner --r42-exec PATH ARGV... NULL. */
static void runner_argv(char **args, const char *path, char *const argv[],
                        int argc, char *const envp[]) {
  args[0] = (char *)runner_path(envp);
  args[1] = (char *)MATCH_RUNNER_MARK;
  args[2] = (char *)path;
  memcpy(&args[3], argv, (size_t)argc * sizeof(char *));
  args[argc + 3] = NULL;
}

/* Execs the runner in place of PATH ARGV.  Returns only if that failed
   (runner missing): the caller then makes the original call. */
static void reroute(const char *path, char *const argv[], char *const envp[]) {
  int argc = count_args(argv);
  if (argc > HOOK_MAX_ARGS)
    return;
  char *args[argc + 4];
  runner_argv(args, path, argv, argc, envp);
  sys_execve(args[0], args, envp);
}

/* glibc's fallback when execvp meets a file without a #! line. */
static void exec_as_shell_script(const char *file, char *const argv[],
                                 char *const envp[]) {
  int argc = count_args(argv);
  if (argc > HOOK_MAX_ARGS)
    return;
  char *args[argc > 1 ? argc + 2 : 3]; /* sh FILE ARGV[1..] NULL */
  args[0] = (char *)"/bin/sh";
  args[1] = (char *)file;
  for (int i = 1; i < argc; i++)
    args[i + 1] = argv[i];
  args[argc > 1 ? argc + 1 : 2] = NULL;
  sys_execve(args[0], args, envp);
}

/* Writes DIR/FILE (DIR of length DIRLEN, "" meaning the current
   directory) into BUF of SIZE bytes.  Returns 0, or -1 if it is too long. */
static int join_path(char *buf, size_t size, const char *dir, size_t dirlen,
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

/* The exec*p search, as glibc does it: each PATH entry in turn; EACCES is
   remembered and the search goes on; ENOENT, ENOTDIR, ESTALE, ENODEV and
   ETIMEDOUT go on; any other error stops it; ENOEXEC runs the file with
   /bin/sh when SHELL_FALLBACK.  Returns -1 with errno set. */
static int search_path(const char *file, char *const argv[],
                       char *const envp[], const char *path,
                       int shell_fallback) {
  if (strlen(file) >= NAME_MAX) { /* glibc: the name and its NUL */
    errno = ENAMETOOLONG;
    return -1;
  }
  int got_eacces = 0;
  char buf[PATH_MAX];
  for (const char *dir = path;; dir++) {
    const char *end = strchrnul(dir, ':');
    if (join_path(buf, sizeof buf, dir, (size_t)(end - dir), file) == 0) {
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

/* First executable FILE along PATH, written into BUF; 0 or -1. */
static int resolve_in_path(char *buf, size_t size, const char *file,
                           const char *path) {
  for (const char *dir = path;; dir++) {
    const char *end = strchrnul(dir, ':');
    if (join_path(buf, size, dir, (size_t)(end - dir), file) == 0 &&
        is_executable(buf))
      return 0;
    if (*end == '\0')
      return -1;
    dir = end;
  }
}

/* ---- the exec family -------------------------------------------------- */

/* Reroutes PATH to the runner when it is ours and executable. */
static void try_reroute(const char *path, char *const argv[],
                        char *const envp[]) {
  int saved = errno, prog;
  if (match_exec(path, argv, &prog) != MATCH_NONE && is_executable(path))
    reroute(path, argv, envp);
  errno = saved;
}

static int do_execve(const char *path, char *const argv[],
                     char *const envp[]) {
  try_reroute(path, argv, envp);
  return sys_execve(path, argv, envp);
}

static int do_execvpe(const char *file, char *const argv[], char *const envp[],
                      int shell_fallback) {
  if (*file == '\0') {
    errno = ENOENT;
    return -1;
  }
  if (strchr(file, '/')) {
    try_reroute(file, argv, envp);
    sys_execve(file, argv, envp);
    if (errno == ENOEXEC && shell_fallback)
      exec_as_shell_script(file, argv, envp);
    return -1;
  }
  /* exec*p reads PATH from the caller's environment, not from envp. */
  const char *path = env_lookup(environ, "PATH");
  if (!path)
    path = HOOK_DEFAULT_PATH;
  int saved = errno, prog;
  char resolved[PATH_MAX];
  if (match_exec(file, argv, &prog) != MATCH_NONE &&
      resolve_in_path(resolved, sizeof resolved, file, path) == 0)
    reroute(resolved, argv, envp);
  errno = saved;
  return search_path(file, argv, envp, path, shell_fallback);
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
  if (flags == 0 && (path[0] == '/' || dirfd == AT_FDCWD) && path[0] != '\0')
    try_reroute(path, argv, envp);
  return sys_execveat(dirfd, path, argv, envp, flags);
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
  if (len > 0 && path[0] == '/') {
    path[len] = '\0';
    try_reroute(path, argv, envp);
  }
  errno = saved;
  return sys_execveat(fd, "", argv, envp, AT_EMPTY_PATH);
}

/* The list forms (execl, execle, execlp) count their arguments, build
   argv in a stack array of that size, and go on as execve/execvp.  More
   than HOOK_MAX_ARGS arguments fail with E2BIG. */
enum list_form { LIST_EXECL, LIST_EXECLE, LIST_EXECLP };

static int exec_list(enum list_form form, const char *path, const char *arg,
                     va_list *ap) {
  va_list count;
  va_copy(count, *ap);
  int n = 0;
  for (const char *a = arg; a && n <= HOOK_MAX_ARGS; a = va_arg(count, char *))
    n++;
  va_end(count);
  if (n > HOOK_MAX_ARGS) {
    errno = E2BIG;
    return -1;
  }
  char *args[n + 1];
  args[0] = (char *)arg;
  for (int i = 1; i < n; i++)
    args[i] = va_arg(*ap, char *);
  if (n > 0)
    (void)va_arg(*ap, char *); /* the terminating NULL */
  args[n] = NULL;
  switch (form) {
  case LIST_EXECLE:
    return do_execve(path, args, va_arg(*ap, char *const *));
  case LIST_EXECLP:
    return do_execvpe(path, args, environ, 1);
  default:
    return do_execve(path, args, environ);
  }
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

/* Spawns the runner in place of PATH.  Returns 0 when the runner was
   spawned; anything else means the caller spawns the original (a relative
   PATH is left alone when file actions could change directory). */
static int spawn_rerouted(pid_t *pid, const char *path,
                          const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[]) {
  int argc = count_args(argv);
  if (argc > HOOK_MAX_ARGS || (actions && path[0] != '/'))
    return -1;
  char *args[argc + 4];
  runner_argv(args, path, argv, argc, envp);
  posix_spawn_fn spawn = real_posix_spawn();
  if (!spawn || !is_executable(args[0]))
    return -1;
  return spawn(pid, args[0], actions, attr, args, envp);
}

HOOK_API int posix_spawn(pid_t *pid, const char *path,
                         const posix_spawn_file_actions_t *actions,
                         const posix_spawnattr_t *attr, char *const argv[],
                         char *const envp[]) {
  int saved = errno, prog;
  if (match_exec(path, argv, &prog) != MATCH_NONE && is_executable(path)) {
    if (spawn_rerouted(pid, path, actions, attr, argv, envp) == 0)
      return 0;
  }
  errno = saved;
  posix_spawn_fn spawn = real_posix_spawn();
  if (!spawn)
    return ENOSYS;
  return spawn(pid, path, actions, attr, argv, envp);
}

HOOK_API int posix_spawnp(pid_t *pid, const char *file,
                          const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[]) {
  int saved = errno, prog;
  if (match_exec(file, argv, &prog) != MATCH_NONE) {
    char resolved[PATH_MAX];
    const char *path = file;
    if (!strchr(file, '/')) {
      const char *search = env_lookup(environ, "PATH");
      path = resolve_in_path(resolved, sizeof resolved, file,
                             search ? search : HOOK_DEFAULT_PATH) == 0
                 ? resolved
                 : NULL;
    }
    if (path && is_executable(path) &&
        spawn_rerouted(pid, path, actions, attr, argv, envp) == 0)
      return 0;
  }
  errno = saved;
  posix_spawn_fn spawn = real_posix_spawnp();
  if (!spawn)
    return ENOSYS;
  return spawn(pid, file, actions, attr, argv, envp);
}
