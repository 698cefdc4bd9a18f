/* SPDX-License-Identifier: GPL-3.0-or-later */
/* resident.h: the resident runner, the core's side (see resident.c). */
#ifndef R42_RESIDENT_H
#define R42_RESIDENT_H

#include "util.h"

#include <stdbool.h>

/* The function that answers one call: r42_runner_main(). */
typedef int (*res_call_fn)(int argc, char **argv);

/* r42intercept-runner --resident DIR KEY IDLE: serves calls on DIR's
   socket for KEY (resproto.h), each answered by CALL in a fresh fork,
   until IDLE seconds pass without one or the socket is taken away.
   Returns the exit status. */
int res_main(int argc, char **argv, res_call_fn call);

/* True in a call the resident answers. */
bool res_in_call(void);

/* In such a call (res_in_call()), at the fall-back: hands the exec of the
   real program to the front, with the current stdin; ends the call. */
R42_NORETURN void res_hand_back(void);

#endif
