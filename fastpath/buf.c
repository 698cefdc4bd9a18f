/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buf.c: byte buffers that refuse to grow past the maximum they were
 * given (HTTP bodies, captured stdin, rendered output), so no input can
 * make the runner allocate without bound. */
#define _GNU_SOURCE
#include "buf.h"

#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->max = max;
}

int buf_append(struct buf *b, const void *data, size_t len) {
  if (len > b->max - b->len)
    return -1;
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + len + 1)
      cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
  }
  if (len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int buf_puts(struct buf *b, const char *s) {
  return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...) {
  va_list ap;
  char *s;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    die_oom();
  int rc = buf_append(b, s, (size_t)n);
  free(s);
  return rc;
}

void buf_free(struct buf *b) {
  free(b->data);
  size_t max = b->max;
  buf_init(b, max);
}

void buf_free_cb(struct buf *b) {
  buf_free(b);
}
