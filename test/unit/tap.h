/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tap.h: a tiny TAP producer for the C unit tests.  Each check prints
 * "ok N - what" or "not ok N - what (file:line)"; tap_done() prints the
 * plan and returns the exit status (1 if anything failed). */
#ifndef R42_TAP_H
#define R42_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                         \
  do {                                                                        \
    int ok_ = (cond) ? 1 : 0;                                                 \
    printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n);                         \
    printf(__VA_ARGS__);                                                      \
    if (!ok_) {                                                               \
      printf(" (%s:%d)", __FILE__, __LINE__);                                 \
      tap_failed++;                                                           \
    }                                                                         \
    printf("\n");                                                             \
  } while (0)

/* String equality, printing both sides on failure. */
#define ok_str(got, want, ...)                                                \
  do {                                                                        \
    const char *g_ = (got), *w_ = (want);                                     \
    int same_ = g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_;                    \
    ok(same_, __VA_ARGS__);                                                   \
    if (!same_)                                                               \
      printf("#   got:  %s\n#   want: %s\n", g_ ? g_ : "(null)",              \
             w_ ? w_ : "(null)");                                             \
  } while (0)

static inline int tap_done(void) {
  printf("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#endif
