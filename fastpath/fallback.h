/* fallback.h: running the original program exactly as it was called
   (see fallback.c). */
#ifndef R42_FALLBACK_H
#define R42_FALLBACK_H

#include "buf.h"
#include "msg.h"

#include <stdbool.h>

/* The original call, and what the runner has read of its stdin. */
struct fb {
  const char *path;    /* the program as exec'd (resolved path) */
  char **argv;         /* its argv, unchanged */
  struct buf in;       /* stdin bytes read so far (consumed from a pipe) */
  bool consumed;       /* IN holds bytes taken from fd 0 */
  bool eof;            /* ...and fd 0 reached end of file */
};

void fb_init(struct fb *fb, const char *path, char **argv);

/* Reads all of stdin, at most MAX bytes, without losing it for the
   fall-through: a regular file is read with pread() from offset 0 (what
   opening /dev/stdin gives) and left untouched; anything else is read
   and kept in FB to be replayed.  A terminal is not read.  Returns 0 with
   *DATA and *LEN pointing into FB, or -1 with E set. */
int fb_read_stdin(struct fb *fb, size_t max, const char **data, size_t *len,
                  struct msg_err *e) R42_WARN_UNUSED;

/* Announces the fall-back with WHY (a trace line, unless WHY is NULL),
   puts back any stdin bytes taken (a pipe that yields the same bytes, then
   whatever was left unread), and execs the original program with the
   original argv and environment, bypassing the preloaded hooks.  Does not
   return: if the exec fails, prints why and exits 126 or 127 as a shell
   would. */
R42_NORETURN void fb_exec(struct fb *fb, const char *why);

#endif
