/* SPDX-License-Identifier: GPL-3.0-or-later */
/* msg.h: every line the runner writes to stderr (see msg.c). */
#ifndef R42_MSG_H
#define R42_MSG_H

#include "util.h"

/* A failure reason, carried up to whoever announces it.  Texts never hold
   a secret: callers format only names, paths, ids and API messages. */
struct msg_err {
  char text[256];
};

/* Sets E's text (printf format, no trailing newline).  E may be NULL. */
void msg_err_set(struct msg_err *e, const char *fmt, ...) R42_PRINTF(2, 3);

/* ":: TRACE :: <text>" in the devkit's yellow, on stderr; nothing when
   R42INTERCEPT_QUIET=1 (the wrapper's -q). */
void msg_trace(const char *fmt, ...) R42_PRINTF(1, 2);

/* ":: ERROR   :: <text>" in the devkit's red, on stderr. */
void msg_error(const char *fmt, ...) R42_PRINTF(1, 2);

/* ":: PASS    :: <text>" in the devkit's green, on stderr. */
void msg_pass(const char *fmt, ...) R42_PRINTF(1, 2);

/* "r42intercept: <text>" on stderr, then exit(127): only for set-up
   failures after which nothing, not even the fall-through, can run. */
R42_NORETURN void die(const char *fmt, ...) R42_PRINTF(1, 2);
R42_NORETURN void die_oom(void);

/* With R42INTERCEPT_PROFILE=1, prints "r42intercept: profile <phase>
   <ms since the previous mark> ms" to stderr (PHASE: printf format);
   otherwise does nothing.  The first mark only starts the clock. */
void msg_profile(const char *fmt, ...) R42_PRINTF(1, 2);

/* True when R42INTERCEPT_QUIET=1: trace lines are not printed. */
bool msg_quiet(void);

/* True when R42INTERCEPT_PROFILE=1. */
bool msg_profiling(void);

#endif
