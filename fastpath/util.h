/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util.h: allocation, cleanup attributes and secret memory for the runner.
 * x* allocators never return NULL (they die on OOM); cleanup_* variables
 * release themselves at scope exit; steal_pointer() hands ownership out.
 * Not for the shim, which never allocates. */
#ifndef R42_UTIL_H
#define R42_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#define R42_WARN_UNUSED __attribute__((warn_unused_result))
#define R42_NORETURN __attribute__((noreturn))
#define R42_PRINTF(f, a) __attribute__((format(printf, f, a)))

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) R42_PRINTF(1, 2);

/* Secret strings (vault password, token, plaintext) live in memory that is
   wiped before it is freed.  secret_free(NULL) does nothing. */
char *secret_alloc(size_t n); /* N zero bytes plus a NUL */
char *secret_strndup(const char *s, size_t n);
void secret_free(char *s);

void util_free_cb(void *p);
void util_close_cb(int *fd);
void util_secret_cb(char **p);

#define cleanup_free __attribute__((cleanup(util_free_cb)))
#define cleanup_fd __attribute__((cleanup(util_close_cb)))
#define cleanup_secret __attribute__((cleanup(util_secret_cb)))

static inline void *util_steal(void *pp) {
  void **p = (void **)pp;
  void *v = *p;
  *p = NULL;
  return v;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))util_steal(pp))

static inline int steal_fd(int *fd) {
  int v = *fd;
  *fd = -1;
  return v;
}

/* errno of util_read_file() for a path that is not a regular file (no
   open() or read() of a path sets it). */
#define UTIL_ENOTREG ESPIPE

/* Reads the whole regular file PATH (at most MAX bytes) into a
   NUL-terminated buffer.  Anything else (a pipe or FIFO, /dev/fd/N of
   one, a socket, a device, a directory) is not even opened: the program
   we may fall back to must find it unread.  Returns the buffer and its
   length, or NULL with errno set (UTIL_ENOTREG; EFBIG when it is larger
   than MAX).  The caller frees it. */
char *util_read_file(const char *path, size_t max,
                     size_t *len) R42_WARN_UNUSED;

/* strerror(ERR), or "not a regular file" for UTIL_ENOTREG. */
const char *util_strerror(int err);

/* Reads FD to EOF (at most MAX bytes), like util_read_file(). */
char *util_read_fd(int fd, size_t max, size_t *len) R42_WARN_UNUSED;

/* write(2) of the whole buffer, retrying on EINTR and short writes.
   Returns 0, or -1 with errno set. */
int util_write_all(int fd, const void *buf, size_t len) R42_WARN_UNUSED;

/* The value of the hexadecimal digit C (either case), or -1. */
int util_hex_digit(int c);

/* Monotonic time in seconds. */
double util_now(void);

/* True if S equals one of the NULL-terminated LIST. */
bool util_str_in(const char *s, const char *const *list);

#endif
