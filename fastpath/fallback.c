/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fallback.c: the way back to the real program.  Owns the bytes of stdin
 * the runner read, and gives them back byte-identical: through a pipe
 * sized to hold them when they were read to the end, else through a
 * detached feeder process that writes them and then copies the rest of
 * the original stdin.  A regular file is read in place, or to its end
 * with its offset put back; a device is never read.  The exec is the raw
 * system call, so the preloaded hooks never see it, and it carries the
 * pass marker, so the shim's constructor in the real program does not
 * re-route it (handback.c); a program without a #! line runs with
 * /bin/sh, as execvp() does.  Also owns the runner's protection against
 * core dumps, undone for the real program. */
#define _GNU_SOURCE
#include "fallback.h"

#include "config.h"
#include "evlog.h"
#include "handback.h"
#include "resident.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static struct rlimit fb_core_limit; /* the caller's, for the real program */
static bool fb_core_limited;

void fb_protect(void) {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    /* not expected; the core size limit below still holds */
  }
  if (getrlimit(RLIMIT_CORE, &fb_core_limit) == 0) {
    struct rlimit none = {0, fb_core_limit.rlim_max};
    fb_core_limited = setrlimit(RLIMIT_CORE, &none) == 0;
  }
}

void fb_init(struct fb *fb, const char *path, char **argv, const char *name) {
  memset(fb, 0, sizeof *fb);
  fb->path = path;
  fb->argv = argv;
  fb->name = name;
  buf_init(&fb->in, 0);
}

void fb_clear(struct fb *fb) {
  buf_free(&fb->in);
}

/* Reads the regular file on fd 0 to its end, from FB->base: in place with
   pread() (the shared offset stays), or with read() when MOVE (it ends
   at the end, as after `cat`).  restore_stdin() puts it back. */
static int read_regular(struct fb *fb, size_t max, bool move,
                        struct msg_err *e) {
  char chunk[65536];
  fb->moved = move;
  for (off_t off = fb->base;;) {
    ssize_t r = move ? read(STDIN_FILENO, chunk, sizeof chunk)
                     : pread(STDIN_FILENO, chunk, sizeof chunk, off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      msg_err_set(e, "stdin: %s", strerror(errno));
      return -1;
    }
    if (r == 0)
      return 0;
    if (buf_append(&fb->in, chunk, (size_t)r) < 0) {
      msg_err_set(e, "stdin is larger than %zu bytes", max);
      return -1;
    }
    off += r;
  }
}

static int read_stream(struct fb *fb, size_t max, struct msg_err *e) {
  char chunk[65536];
  fb->consumed = true;
  for (;;) {
    size_t room = max - fb->in.len;
    if (room == 0) {
      msg_err_set(e, "stdin is larger than %zu bytes", max);
      return -1;
    }
    ssize_t r =
        read(STDIN_FILENO, chunk, room < sizeof chunk ? room : sizeof chunk);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      msg_err_set(e, "stdin: %s", strerror(errno));
      return -1;
    }
    if (r == 0) {
      fb->eof = true;
      return 0;
    }
    if (buf_append(&fb->in, chunk, (size_t)r) < 0)
      die_oom();
  }
}

/* What fd 0 is, when the runner does not read it: NULL for a regular
   file, a pipe or a socket, which it reads (and gives back). */
static const char *unread_kind(const struct stat *st) {
  if (S_ISREG(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode))
    return NULL;
  if (isatty(STDIN_FILENO))
    return "a terminal";
  return S_ISCHR(st->st_mode)   ? "a character device"
         : S_ISBLK(st->st_mode) ? "a block device"
         : S_ISDIR(st->st_mode) ? "a directory"
                                : "not a file we read";
}

int fb_read_stdin(struct fb *fb, size_t max, bool from_start,
                  const char **data, size_t *len, struct msg_err *e) {
  struct stat st;
  if (fstat(STDIN_FILENO, &st) < 0) {
    msg_err_set(e, "stdin is closed");
    return -1;
  }
  *data = "";
  *len = 0;
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
    return 0; /* /dev/null: empty, and nothing to give back */
  const char *kind = unread_kind(&st);
  if (kind) {
    msg_err_set(e, "stdin is %s", kind);
    return -1;
  }
  fb->in.max = max;
  fb->regular = S_ISREG(st.st_mode);
  if (fb->regular && !from_start) {
    fb->base = lseek(STDIN_FILENO, 0, SEEK_CUR);
    if (fb->base < 0)
      fb->base = 0;
  }
  int rc = fb->regular ? read_regular(fb, max, !from_start, e)
                       : read_stream(fb, max, e);
  if (rc < 0)
    return -1;
  *data = fb->in.data ? fb->in.data : "";
  *len = fb->in.len;
  return 0;
}

/* A pipe holding exactly LEN bytes at DATA, when they fit its buffer.
   Returns its read end, or -1. */
static int replay_pipe(const char *data, size_t len) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return -1;
  int size = fcntl(fds[1], F_GETPIPE_SZ);
  if (size >= 0 && (size_t)size < len)
    size = fcntl(fds[1], F_SETPIPE_SZ, (int)len);
  if (size < 0 || (size_t)size < len ||
      (len && util_write_all(fds[1], data, len) < 0)) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  close(fds[1]);
  return fds[0];
}

/* Copies the rest of fd 0 to OUT until EOF or a write error. */
static void copy_rest(int out) {
  char chunk[65536];
  for (;;) {
    ssize_t r = read(STDIN_FILENO, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0 || util_write_all(out, chunk, (size_t)r) < 0)
      return;
  }
}

/* A pipe fed by a detached grandchild: LEN bytes at DATA, then the rest
   of the original stdin.  Returns the read end, or -1. */
static int replay_feeder(const char *data, size_t len) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return -1;
  pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (child == 0) {
    close(fds[0]);
    if (fork() != 0)
      _exit(0); /* the grandchild feeds; nobody has to wait for it */
    if (util_write_all(fds[1], data, len) == 0)
      copy_rest(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
    ;
  return fds[0];
}

/* Makes fd 0 yield the original stdin again, from SKIP bytes into what
   was read.  Returns 0 or -1. */
static int restore_stdin(struct fb *fb, size_t skip) {
  if (skip > fb->in.len)
    skip = fb->in.len;
  if (fb->regular)
    return (skip || fb->moved) &&
                   lseek(STDIN_FILENO, fb->base + (off_t)skip, SEEK_SET) < 0
               ? -1
               : 0;
  if (!fb->consumed)
    return 0;
  const char *data = fb->in.data ? fb->in.data + skip : "";
  size_t len = fb->in.len - skip;
  int fd = fb->eof ? replay_pipe(data, len) : -1;
  if (fd < 0)
    fd = replay_feeder(data, len);
  if (fd < 0)
    return -1;
  /* dup2 clears FD_CLOEXEC on the new descriptor. */
  int rc = dup2(fd, STDIN_FILENO) < 0 ? -1 : 0;
  close(fd);
  return rc;
}

void fb_exec(struct fb *fb, const char *why) {
  fb_exec_from(fb, 0, why);
}

void fb_exec_from(struct fb *fb, size_t skip, const char *why) {
  if (cfg_get()->force == CFG_FORCE_ON && !fb->chosen)
    hb_refuse(fb->name, why);
  evl_fell_back(why, false);
  if (why)
    msg_trace("r42intercept: running the real %s: %s", fb->name, why);
  if (restore_stdin(fb, skip) < 0)
    die("cannot give stdin back to %s: %s", fb->path, strerror(errno));
  if (fb_core_limited && setrlimit(RLIMIT_CORE, &fb_core_limit) < 0) {
    /* the real program then runs without core dumps */
  }
  if (res_in_call())
    res_hand_back(); /* the front execs it (resident.h) */
  hb_exec_program(fb->path, fb->argv, fb->kind);
  int err = errno;
  msg_error("r42intercept: %s: %s", fb->path, strerror(err));
  exit(err == ENOENT ? 127 : 126);
}
