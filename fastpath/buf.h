/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buf.h: a growing byte buffer with a hard maximum (see buf.c). */
#ifndef R42_BUF_H
#define R42_BUF_H

#include "util.h"

#include <stddef.h>

struct buf {
  char *data; /* NUL-terminated contents (NULL while empty) */
  size_t len; /* bytes used */
  size_t cap; /* bytes allocated */
  size_t max; /* appends past this many bytes fail */
};

void buf_init(struct buf *b, size_t max);

/* Appends LEN bytes.  Returns 0, or -1 (nothing appended) past the max. */
int buf_append(struct buf *b, const void *data, size_t len) R42_WARN_UNUSED;
int buf_puts(struct buf *b, const char *s) R42_WARN_UNUSED;
int buf_printf(struct buf *b, const char *fmt, ...)
    R42_PRINTF(2, 3) R42_WARN_UNUSED;

/* Frees the contents and empties B (keeping its max). */
void buf_free(struct buf *b);

void buf_free_cb(struct buf *b);
#define cleanup_buf __attribute__((cleanup(buf_free_cb)))

#endif
