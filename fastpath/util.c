/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util.c: allocation, cleanup helpers, secret memory, whole-file reads.
 * Everything here either succeeds or dies (allocators) or reports errno
 * (I/O); nothing prints but die_oom(). */
#define _GNU_SOURCE
#include "util.h"

#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void *xmalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (!p)
    die_oom();
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    die_oom();
  return p;
}

void *xrealloc(void *ptr, size_t size) {
  void *p = realloc(ptr, size ? size : 1);
  if (!p)
    die_oom();
  return p;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p)
    die_oom();
  return p;
}

char *xstrndup(const char *s, size_t n) {
  char *p = strndup(s, n);
  if (!p)
    die_oom();
  return p;
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  char *out;
  va_start(ap, fmt);
  int rc = vasprintf(&out, fmt, ap);
  va_end(ap);
  if (rc < 0)
    die_oom();
  return out;
}

/* Secrets are prefixed by their allocation size so they can be wiped
   whole, whatever was written into them. */
char *secret_alloc(size_t n) {
  size_t *block = xcalloc(1, sizeof(size_t) + n + 1);
  block[0] = n + 1;
  return (char *)(block + 1);
}

char *secret_strndup(const char *s, size_t n) {
  char *p = secret_alloc(n);
  memcpy(p, s, n);
  return p;
}

void secret_free(char *s) {
  if (!s)
    return;
  size_t *block = (size_t *)s - 1;
  sodium_memzero(s, block[0]);
  free(block);
}

void util_free_cb(void *p) {
  free(*(void **)p);
}

void util_close_cb(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}

void util_secret_cb(char **p) {
  secret_free(*p);
}

char *util_read_fd(int fd, size_t max, size_t *len) {
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap + 1);
  for (;;) {
    if (n == cap) {
      if (cap > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
      }
      cap *= 2;
      buf = xrealloc(buf, cap + 1);
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int saved = errno;
      free(buf);
      errno = saved;
      return NULL;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  if (n > max) {
    free(buf);
    errno = EFBIG;
    return NULL;
  }
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

char *util_read_file(const char *path, size_t max, size_t *len) {
  /* stat first: opening a FIFO blocks, or frees a writer waiting in its
     own open() that would then find nobody reading. */
  struct stat st;
  if (stat(path, &st) < 0)
    return NULL;
  if (!S_ISREG(st.st_mode)) {
    errno = UTIL_ENOTREG;
    return NULL;
  }
  cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    errno = UTIL_ENOTREG; /* replaced since the stat() */
    return NULL;
  }
  return util_read_fd(fd, max, len);
}

const char *util_strerror(int err) {
  return err == UTIL_ENOTREG ? "not a regular file" : strerror(err);
}

int util_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

double util_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool util_str_in(const char *s, const char *const *list) {
  for (; *list; list++)
    if (strcmp(s, *list) == 0)
      return true;
  return false;
}

int util_hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}
