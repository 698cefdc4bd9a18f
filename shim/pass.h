/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pass.h: the pass marker, by which the runner hands a call back to the
   real program without it coming back (see pass.c). */
#ifndef R42_PASS_H
#define R42_PASS_H

#include <stddef.h>

/* The environment variable, and room for a whole "NAME=PID:KIND" entry. */
#define PASS_VAR "R42INTERCEPT_PASS"
#define PASS_MAX 48

/* Writes "R42INTERCEPT_PASS=PID:KIND" (KIND: an enum match_kind, 0 for
   any) into BUF, which holds PASS_MAX bytes. */
void pass_format(char *buf, long pid, int kind);

/* 1 when ENTRY (an environment string) is a pass marker, else 0. */
int pass_is_marker(const char *entry);

/* Reads marker ENTRY into *PID and *KIND.  Returns 0, or -1 when it is
   not a well-formed marker. */
int pass_parse(const char *entry, long *pid, int *kind);

/* Copies the NULL-terminated ENV into OUT without any pass marker,
   MARKER first when it is not NULL, and a NULL after the last entry.  OUT
   must hold pass_count(ENV) + 2 pointers.  Returns the number of entries
   written, the NULL not counted. */
size_t pass_env(char **out, char *const *env, char *marker);

/* Number of entries of the NULL-terminated ENV (0 for NULL). */
size_t pass_count(char *const *env);

#endif
