/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rescall.c: the front's side of the resident runner (docs/resident.md).
 * A resident runner is a process that has loaded and initialised the
 * runner's core once (libcurl, OpenSSL, ...) and forks a fresh copy of
 * itself for each call; the front hands it the call over a Unix socket
 * in the runner's private directory: argv, environment, umask, and the
 * caller's stdin, stdout, stderr and working directory as descriptors.
 * The socket's name is a hash of everything the core's behaviour depends
 * on that a call does not carry: the user and groups, the namespaces and
 * root, the session keyring, the seccomp and privilege state, the core's
 * and the front's files, and the environment variables read when the
 * libraries load.  A caller in another context finds no resident and
 * starts its own.
 * The exchange: the front sends the request; the resident answers
 * ACCEPTED; the front commits (its ACCEPTED back), after which it waits
 * for the end, passing on the signals it receives.  Until it commits,
 * nothing of the call is done, so that a front that gives up (no answer
 * within RCALL_ACCEPT_MS) runs the call itself, never twice.
 * libc only (the front links it). */
#define _GNU_SOURCE
#include "rescall.h"

#include "config.h"
#include "handback.h"
#include "msg.h"
#include "resproto.h"
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RCALL_ACCEPT_MS 3000 /* for the resident's ACCEPTED */
#define RCALL_KEYCTL_GET_KEYRING_ID 0
#define RCALL_KEY_SPEC_SESSION_KEYRING (-3)

/* ---- the context's key ---------------------------------------------- */

struct fnv {
  uint64_t h;
};

static void fnv_add(struct fnv *f, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    f->h ^= p[i];
    f->h *= 0x100000001b3ull;
  }
  f->h ^= 0xff; /* a separator: "ab","c" is not "a","bc" */
  f->h *= 0x100000001b3ull;
}

static void fnv_str(struct fnv *f, const char *s) {
  fnv_add(f, s ? s : "\x01(none)", strlen(s ? s : "\x01(none)"));
}

static void fnv_file(struct fnv *f, const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    fnv_str(f, NULL);
    return;
  }
  long long id[] = {(long long)st.st_dev, (long long)st.st_ino,
                    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                    (long long)st.st_mtim.tv_nsec};
  fnv_add(f, id, sizeof id);
}

static void fnv_link(struct fnv *f, const char *path) {
  char target[PATH_MAX];
  ssize_t n = readlink(path, target, sizeof target - 1);
  target[n > 0 ? n : 0] = '\0';
  fnv_str(f, n > 0 ? target : NULL);
}

/* /proc/self/status into BUF (SIZE bytes, NUL-terminated; empty when it
   cannot be read). */
static void read_status(char *buf, size_t size) {
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
  if (fd >= 0)
    close(fd);
  buf[n > 0 ? n : 0] = '\0';
}

/* True when STATUS (/proc/self/status) shows a tracer (strace, gdb): the
   call is then answered here, where the tracer sees it, and no resident
   is started under it (strace -f would wait for it to end). */
static bool traced(const char *status) {
  const char *t = strstr(status, "\nTracerPid:");
  return t && strtol(t + strlen("\nTracerPid:"), NULL, 10) != 0;
}

/* The lines of STATUS (/proc/self/status) that say what the process may
   do. */
static void fnv_status(struct fnv *f, const char *status) {
  static const char *const keep[] = {
      "Cap", "NoNewPrivs:", "Seccomp:", "Seccomp_filters:", "Groups:"};
  for (const char *line = status; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
      if (strncmp(line, keep[i], strlen(keep[i])) == 0)
        fnv_add(f, line, len);
    line += len + (end != NULL);
  }
}

/* The environment variables read when the core's libraries load (and
   the sanitizers' when they are built in): the resident's environment,
   part of its key.  A call's own environment is the caller's. */
static const char *const load_vars[] = {
    "LD_LIBRARY_PATH",  "GLIBC_TUNABLES",  "OPENSSL_CONF",
    "OPENSSL_MODULES",  "OPENSSL_ENGINES", "OPENSSL_ia32cap",
    "CURL_SSL_BACKEND", "ASAN_OPTIONS",    "UBSAN_OPTIONS"};
#define N_LOAD_VARS (sizeof load_vars / sizeof load_vars[0])

/* KEY (16 hex digits and a NUL) of the context: see the top. */
static void context_key(char key[17], const char *core, const char *status) {
  static const char *const ns[] = {"mnt", "net", "pid",   "user",
                                   "ipc", "uts", "cgroup"};
  struct fnv f = {0xcbf29ce484222325ull};
  fnv_str(&f, "r42intercept-resident " R42_VERSION);
  unsigned ids[] = {getuid(), geteuid(), getgid(), getegid()};
  fnv_add(&f, ids, sizeof ids);
  char path[64];
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
    fnv_link(&f, path);
  }
  fnv_link(&f, "/proc/self/root");
  long ring = syscall(SYS_keyctl, RCALL_KEYCTL_GET_KEYRING_ID,
                      RCALL_KEY_SPEC_SESSION_KEYRING, 0);
  long ring_id[] = {ring, ring < 0 ? errno : 0};
  fnv_add(&f, ring_id, sizeof ring_id);
  fnv_status(&f, status);
  fnv_file(&f, core);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';
  fnv_file(&f, self); /* this file (under valgrind too: readlink's) */
  for (size_t i = 0; i < N_LOAD_VARS; i++)
    fnv_str(&f, getenv(load_vars[i]));
  snprintf(key, 17, "%016llx", (unsigned long long)f.h);
}

/* ---- where -------------------------------------------------------------- */

/* A socket connected to the resident, or -1 with *ABSENT true when none
   listens (none started, or it ended). */
static int connect_resident(const char *dir, const char *key, bool *absent) {
  *absent = false;
  int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct sockaddr_un sa;
  socklen_t len;
  int sock = -1;
  if (dirfd >= 0 && rp_address(&sa, &len, dir, dirfd, key) == 0 &&
      (sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
      connect(sock, (struct sockaddr *)&sa, len) < 0) {
    *absent = errno == ENOENT || errno == ECONNREFUSED;
    close(sock);
    sock = -1;
  }
  if (dirfd >= 0)
    close(dirfd);
  return sock;
}

/* Starts `r42intercept-runner --resident DIR KEY IDLE` in a session of
   its own, detached (no descriptor of the caller's, no parent to wait
   for it), with only the environment its libraries read as they load:
   nothing of the caller's it does not need (it serves calls with their
   own). */
static void spawn_resident(const char *dir, const char *key, long idle) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return;
  self[n] = '\0';
  char *env[N_LOAD_VARS + 1];
  size_t k = 0;
  for (char **e = environ; *e; e++)
    for (size_t i = 0; i < N_LOAD_VARS; i++) {
      size_t len = strlen(load_vars[i]);
      if (strncmp(*e, load_vars[i], len) == 0 && (*e)[len] == '=' &&
          k < N_LOAD_VARS)
        env[k++] = *e;
    }
  env[k] = NULL;
  char idle_text[24];
  snprintf(idle_text, sizeof idle_text, "%ld", idle);
  char *args[] = {
      self, (char *)"--resident", (char *)dir, (char *)key, idle_text, NULL};
  pid_t child = fork();
  if (child == 0) {
    if (fork() == 0) {
      setsid();
      int null = open("/dev/null", O_RDWR);
      for (int fd = 0; fd <= 2; fd++)
        if (null >= 0)
          dup2(null, fd);
      if (syscall(SYS_close_range, 3u, ~0u, 0u) < 0)
        for (int fd = 3; fd < 1024; fd++)
          close(fd);
      syscall(SYS_execve, self, args, env);
    }
    _exit(0);
  }
  while (child > 0 && waitpid(child, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* ---- the call ----------------------------------------------------------- */

static int signal_pipe[2] = {-1, -1};
static const int forwarded[] = RP_SIGNALS;
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])
static struct sigaction caller_action[N_FORWARDED];
static bool caught[N_FORWARDED];

static void on_signal(int sig) {
  int saved = errno;
  unsigned char b = (unsigned char)sig;
  if (write(signal_pipe[1], &b, 1) < 0) {
    /* the pipe is full: that signal was passed on already */
  }
  errno = saved;
}

/* Catches the signals to pass on, but those the caller ignores (the call
   would have ignored them too). */
static void catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < N_FORWARDED; i++) {
    sigaction(forwarded[i], NULL, &caller_action[i]);
    caught[i] = caller_action[i].sa_handler != SIG_IGN;
    if (caught[i])
      sigaction(forwarded[i], &sa, NULL);
  }
}

static void release_signals(void) {
  for (size_t i = 0; i < N_FORWARDED; i++)
    if (caught[i])
      sigaction(forwarded[i], &caller_action[i], NULL);
}

static struct rlimit caller_core;
static bool core_limited;

/* The signals this process ignores, and those it blocks, as masks
   (bit N-1: signal N): the call's own, which the resident gives it. */
static void signal_state(uint64_t *ignored, uint64_t *blocked) {
  sigset_t mask;
  sigprocmask(SIG_BLOCK, NULL, &mask);
  *ignored = *blocked = 0;
  for (int sig = 1; sig <= 64 && sig < NSIG; sig++) {
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
      *ignored |= 1ull << (sig - 1);
    if (sigismember(&mask, sig) == 1)
      *blocked |= 1ull << (sig - 1);
  }
}

/* The descriptors this process leaves open across exec (the caller's),
   in increasing order, into FDS (at most MAX).  Returns their number, or
   -1 when there are more or they cannot be listed. */
static int inherited_fds(int *fds, int max) {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  int n = 0, skip = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end || e->d_name[0] == '.' || fd == skip)
      continue;
    int flags = fcntl((int)fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC))
      continue;
    if (n == max) {
      n = -1;
      break;
    }
    int i = n++;
    for (; i > 0 && fds[i - 1] > fd; i--)
      fds[i] = fds[i - 1];
    fds[i] = (int)fd;
  }
  closedir(d);
  return n;
}

/* The request: ARGV, the environment, the umask, the signal state, the
   working directory and the descriptors. */
static int send_request(int sock, char **argv) {
  int fds[RP_MAX_FDS], nfds = inherited_fds(fds + 1, RP_MAX_FDS - 1);
  if (nfds < 3 || fds[1] != 0 || fds[2] != 1 || fds[3] != 2)
    return -1; /* the front has checked 0-2 are open */
  struct rp_request rq = {RP_MAGIC,          RP_VERSION,     0, 0, 0, 0,
                          (int32_t)getpid(), (uint32_t)nfds, 0, 0};
  signal_state(&rq.ignored, &rq.blocked);
  size_t size = (size_t)nfds * sizeof(int32_t);
  for (char **a = argv; *a; a++, rq.argc++)
    size += strlen(*a) + 1;
  for (char **e = environ; *e; e++, rq.envc++)
    size += strlen(*e) + 1;
  if (size > RP_MAX_STRINGS || rq.argc > RP_MAX_COUNT ||
      rq.envc > RP_MAX_COUNT)
    return -1;
  rq.size = (uint32_t)size;
  mode_t mask = umask(0);
  umask(mask);
  rq.umask = (uint32_t)mask;
  char *payload = malloc(size), *p = payload;
  if (!payload)
    return -1;
  for (int i = 1; i <= nfds; i++) {
    int32_t number = fds[i];
    memcpy(p, &number, sizeof number);
    p += sizeof number;
  }
  for (char **a = argv; *a; a++)
    p = stpcpy(p, *a) + 1;
  for (char **e = environ; *e; e++)
    p = stpcpy(p, *e) + 1;
  fds[0] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int rc = fds[0] >= 0 && rp_send(sock, &rq, sizeof rq, fds, nfds + 1) == 0 &&
                   rp_send(sock, payload, size, NULL, 0) == 0
               ? 0
               : -1;
  free(payload);
  if (fds[0] >= 0)
    close(fds[0]);
  return rc;
}

/* The resident handed the call back: its stdin descriptor STDIN_FD is the
   one the real program reads; exec it. */
R42_NORETURN static void hand_back(int stdin_fd, const char *path,
                                   char **prog_argv, int kind) {
  if (stdin_fd >= 0 && stdin_fd != STDIN_FILENO) {
    dup2(stdin_fd, STDIN_FILENO); /* FD_CLOEXEC cleared on 0 */
    close(stdin_fd);
  }
  release_signals();
  if (core_limited)
    setrlimit(RLIMIT_CORE, &caller_core);
  hb_exec_program(path, prog_argv, kind);
  int err = errno;
  msg_error("r42intercept: %s: %s", path, strerror(err));
  exit(err == ENOENT ? 127 : 126);
}

/* Ends this process as the call ended: wait status STATUS. */
R42_NORETURN static void end_as(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* Waits for the committed call's end on SOCK, passing signals on. */
R42_NORETURN static void wait_call(int sock, const char *path,
                                   char **prog_argv, int kind) {
  for (;;) {
    struct pollfd p[2] = {{sock, POLLIN, 0}, {signal_pipe[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    unsigned char sig;
    if (p[1].revents & POLLIN && read(signal_pipe[0], &sig, 1) == 1) {
      struct rp_msg m = {RP_SIGNAL, sig};
      if (rp_send(sock, &m, sizeof m, NULL, 0) < 0)
        break;
    }
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    struct rp_msg m;
    int fd = -1, nfd = 1;
    if (rp_recv(sock, &m, sizeof m, &fd, &nfd, -1) != 0)
      break;
    if (m.type == RP_STATUS)
      end_as(m.value);
    if (m.type == RP_HANDBACK)
      hand_back(nfd == 1 ? fd : -1, path, prog_argv, kind);
    if (nfd == 1)
      close(fd);
  }
  msg_error("r42intercept: the resident runner ended without the call's "
            "status (RANGE42_PROXMOX_API_RESIDENT=off runs without it)");
  _exit(1);
}

/* Sends the call on SOCK and, once the resident accepted it, commits to
   it (does not return).  Returns when the resident did not accept it. */
static void hand_over(int sock, char **argv, const char *path,
                      char **prog_argv, int kind) {
  struct rp_msg m;
  if (send_request(sock, argv) < 0 ||
      rp_recv(sock, &m, sizeof m, NULL, NULL, RCALL_ACCEPT_MS) != 0 ||
      m.type != RP_ACCEPTED)
    return;
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    return;
  catch_signals();
  if (rp_send(sock, &m, sizeof m, NULL, 0) < 0) {
    release_signals();
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    return; /* not committed: the resident does nothing */
  }
  wait_call(sock, path, prog_argv, kind);
}

void rcall_try(char **argv, const char *core, const char *path,
               char **prog_argv, int kind) {
  long idle = cfg_resident_quiet();
  char dir[PATH_MAX], key[17], status[4096];
  if (idle <= 0)
    return;
  read_status(status, sizeof status);
  if (traced(status) || rundir_get(dir, sizeof dir) != 0)
    return;
  context_key(key, core, status);
  bool absent;
  int sock = connect_resident(dir, key, &absent);
  if (sock < 0) {
    if (absent)
      spawn_resident(dir, key, idle);
    return;
  }
  /* no core file of the call (the core does the same, fallback.c) */
  core_limited = getrlimit(RLIMIT_CORE, &caller_core) == 0;
  struct rlimit none = {0, core_limited ? caller_core.rlim_max : 0};
  if (core_limited && setrlimit(RLIMIT_CORE, &none) < 0)
    core_limited = false;
  hand_over(sock, argv, path, prog_argv, kind);
  close(sock);
  if (core_limited)
    setrlimit(RLIMIT_CORE, &caller_core);
}
