/* SPDX-License-Identifier: GPL-3.0-or-later */
/* self.h: the shim's constructor and what it learnt (see self.c). */
#ifndef R42_SELF_H
#define R42_SELF_H

#include "match.h"

/* 1 when this process was handed back by the runner (a pass marker naming
   it was in its environment) and an exec of KIND, in place of this
   process, must therefore run as is: always for MATCH_NONE, and for the
   kind the runner gave back.  Async-signal-safe. */
int self_passes(enum match_kind kind);

/* The marker that carries the hand-back through an exec in place of this
   process (to be put first in its environment); only meaningful when
   self_passes() said so. */
char *self_marker(void);

#endif
