/* SPDX-License-Identifier: GPL-3.0-or-later */
/* resproto.c: the wire between the runner's front and the resident runner
 * (resproto.h): its socket's address, and whole messages with descriptors
 * over a stream socket.  libc only (the front links it). */
#define _GNU_SOURCE
#include "resproto.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int rp_name(char *buf, size_t size, const char *key, const char *suffix) {
  int n = snprintf(buf, size, "resident-%s.%s", key, suffix);
  return n > 0 && (size_t)n < size ? 0 : -1;
}

int rp_address(struct sockaddr_un *sa, socklen_t *len, const char *dir,
               int dirfd, const char *key) {
  char name[64];
  if (rp_name(name, sizeof name, key, "sock") < 0)
    return -1;
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, name);
  if (n <= 0 || (size_t)n >= sizeof sa->sun_path)
    n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s",
                 dirfd, name);
  if (n <= 0 || (size_t)n >= sizeof sa->sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
  return 0;
}

int rp_send(int fd, const void *buf, size_t len, const int *fds, int nfds) {
  union {
    char buf[CMSG_SPACE(RP_MAX_FDS * sizeof(int))];
    struct cmsghdr align;
  } control;
  const char *p = buf;
  while (len > 0) {
    struct iovec iov = {(void *)p, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
      memset(&control, 0, sizeof control);
      m.msg_control = control.buf;
      m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
      struct cmsghdr *c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
      memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    nfds = 0; /* sent with the first byte */
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Keeps the descriptors of M's control data: at most MAX into FDS (from
 *GOT on), the rest closed. */
static void take_fds(struct msghdr *m, int *fds, int max, int *got) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (fds && *got < max)
        fds[(*got)++] = fd;
      else
        close(fd);
    }
  }
}

int rp_recv(int fd, void *buf, size_t len, int *fds, int *nfds,
            int timeout_ms) {
  union {
    char buf[CMSG_SPACE(RP_MAX_FDS * sizeof(int))];
    struct cmsghdr align;
  } control;
  int max = nfds ? *nfds : 0, got = 0;
  long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
  char *p = buf;
  size_t done = 0;
  while (done < len) {
    if (timeout_ms >= 0) {
      long left = deadline - now_ms();
      struct pollfd pfd = {fd, POLLIN, 0};
      int r = poll(&pfd, 1, left > 0 ? (int)left : 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0) {
        errno = r == 0 ? ETIMEDOUT : errno;
        break;
      }
    }
    struct iovec iov = {p + done, len - done};
    struct msghdr m = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    take_fds(&m, fds, max, &got);
    if (n == 0) {
      if (done == 0) {
        if (nfds)
          *nfds = got;
        return 1;
      }
      errno = EPROTO;
      break;
    }
    done += (size_t)n;
  }
  if (nfds)
    *nfds = got;
  if (done == len)
    return 0;
  for (int i = 0; fds && i < got; i++)
    close(fds[i]);
  if (nfds)
    *nfds = 0;
  return -1;
}
