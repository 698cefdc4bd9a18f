/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rescall.h: the front's side of the resident runner (see rescall.c). */
#ifndef R42_RESCALL_H
#define R42_RESCALL_H

/* Has the resident runner of this context answer the call in ARGV (the
   front's own: r42intercept-runner --r42-exec PATH ARGV0 ...), CORE being
   the core's file.  Returns only when it cannot, before anything of the
   call was done: the front then loads the core itself, and a resident is
   started for the calls that follow.  Otherwise ends this process as the
   call ends: its exit status, its signal, or (the resident handing the
   call back) the exec of the real program PATH with PROG_ARGV (KIND: its
   enum match_kind). */
void rcall_try(char **argv, const char *core, const char *path,
               char **prog_argv, int kind);

#endif
