/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fallback.h: running the original program exactly as it was called
   (see fallback.c). */
#ifndef R42_FALLBACK_H
#define R42_FALLBACK_H

#include "buf.h"
#include "msg.h"

#include <stdbool.h>
#include <sys/types.h>

/* The original call, and what the runner has read of its stdin. */
struct fb {
  const char *path; /* the program as exec'd (resolved path) */
  char **argv;      /* its argv, unchanged */
  const char *name; /* what to call it in traces */
  struct buf in;    /* stdin bytes read so far */
  bool consumed;    /* IN holds bytes taken from fd 0 (a pipe...) */
  bool eof;         /* ...and fd 0 reached end of file */
  bool regular;     /* fd 0 is a regular file, read from BASE... */
  bool moved;       /* ...with read(): its offset is now at the end */
  off_t base;       /* the offset the reading started from */
  int kind;         /* its enum match_kind, handed back on fall-back */
  bool chosen;      /* the user's setting hands it back (SCRIPTS=off):
                       RANGE42_PROXMOX_API_FORCE=on lets it run */
};

/* Starts FB for the exec of PATH with ARGV; NAME names the program in
   traces.  The strings are borrowed. */
void fb_init(struct fb *fb, const char *path, char **argv, const char *name);

/* Makes the runner undumpable (no core file, no ptrace by others) and its
   core size limit 0, before it reads any secret; fb_exec() restores the
   limit for the real program (execve makes it dumpable again). */
void fb_protect(void);

/* Frees what FB read. */
void fb_clear(struct fb *fb);

/* Reads all of stdin, at most MAX bytes, without losing it for the
   fall-through.  A regular file is read from offset 0 with pread() and
   left untouched when FROM_START (what opening /dev/stdin gives), else
   from its offset to its end, where it is left, as `cat` leaves it (the
   fall-through puts the offset back).  A pipe or socket is read and kept
   in FB to be replayed.  /dev/null reads as empty; any other device
   (a terminal...) or file is not read at all (-1), so that the real
   program gets it as it was.  Returns 0 with *DATA and *LEN pointing into
   FB, or -1 with E set. */
int fb_read_stdin(struct fb *fb, size_t max, bool from_start,
                  const char **data, size_t *len,
                  struct msg_err *e) R42_WARN_UNUSED;

/* Announces the fall-back with WHY (a trace line, unless WHY is NULL),
   puts back any stdin bytes taken (a pipe that yields the same bytes, then
   whatever was left unread; a regular file's offset), and execs the
   original program with the original argv and environment, bypassing the
   preloaded hooks, with the pass marker that keeps the shim from sending
   it back (handback.h); a program without a #! line runs with /bin/sh, as
   execvp() runs it.  Does not return: if the exec fails, prints why and
   exits 126 or 127 as a shell would.  With RANGE42_PROXMOX_API_FORCE=on
   it runs nothing: one error line, exit CFG_FORCE_STATUS (config.h).
   Either way the call's event-log line is written (evlog.h). */
R42_NORETURN void fb_exec(struct fb *fb, const char *why);

/* fb_exec(), but the program's stdin starts SKIP bytes into what was read
   (the lines already answered are not given again).  A script-level
   fall-back part way through a batch. */
R42_NORETURN void fb_exec_from(struct fb *fb, size_t skip, const char *why);

#endif
