/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rundir.h: the runner's private directory (see rundir.c). */
#ifndef R42_RUNDIR_H
#define R42_RUNDIR_H

#include <stddef.h>

/* The runner's private directory, $XDG_RUNTIME_DIR/r42intercept (else
   /tmp/r42intercept-UID), into BUF (SIZE bytes), made (mode 0700) when
   missing.  Returns 0 when it is ours alone (a directory, not a link, no
   group or other access), 1 when it is there but not (BUF holds its
   path), -1 when it cannot be named or made. */
int rundir_get(char *buf, size_t size);

#endif
