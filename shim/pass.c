/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pass.c: the pass marker.  When the runner falls back, it execs the real
 * program with "R42INTERCEPT_PASS=<its pid>:<kind>" as the first entry of
 * the environment (only when libr42intercept.so is loaded, so that it is
 * there to take it out).  The
 * pid stays the same across execve, so the shim's constructor in the real
 * program knows that the runner already had its turn: it takes the entry
 * out of the environment and does not re-route the call (self.c; hook.c
 * carries the marker through programs that exec in place, like env).
 * These helpers are shared by the shim, the runner and its front: pure,
 * allocation-free, async-signal-safe, and free of libc calls. */
#include "pass.h"

#define PASS_PREFIX PASS_VAR "="

/* The rest of S after PREFIX, or NULL. */
static const char *after(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++)
      return (const char *)0;
  return s;
}

/* Writes V in decimal at P; returns the end. */
static char *put_number(char *p, unsigned long v) {
  char digits[24];
  int n = 0;
  do
    digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0)
    *p++ = digits[--n];
  return p;
}

void pass_format(char *buf, long pid, int kind) {
  char *p = buf;
  for (const char *s = PASS_PREFIX; *s; s++)
    *p++ = *s;
  p = put_number(p, pid < 0 ? 0 : (unsigned long)pid);
  *p++ = ':';
  p = put_number(p, kind < 0 ? 0 : (unsigned long)kind);
  *p = '\0';
}

int pass_is_marker(const char *entry) {
  return entry && entry[0] == 'R' && after(entry, PASS_PREFIX) != 0;
}

/* Reads a decimal number at *P (at least one digit); -1 if none. */
static long get_number(const char **p) {
  long v = 0;
  const char *s = *p;
  if (*s < '0' || *s > '9')
    return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (v > 99999999)
      return -1;
    v = v * 10 + (*s - '0');
  }
  *p = s;
  return v;
}

int pass_parse(const char *entry, long *pid, int *kind) {
  const char *p = entry ? after(entry, PASS_PREFIX) : 0;
  if (!p)
    return -1;
  long v = get_number(&p);
  if (v < 0 || *p++ != ':')
    return -1;
  long k = get_number(&p);
  if (k < 0 || k > 99 || *p != '\0')
    return -1;
  *pid = v;
  *kind = (int)k;
  return 0;
}

size_t pass_count(char *const *env) {
  size_t n = 0;
  while (env && env[n])
    n++;
  return n;
}

size_t pass_env(char **out, char *const *env, char *marker) {
  size_t n = 0;
  if (marker)
    out[n++] = marker;
  for (size_t i = 0; env && env[i]; i++)
    if (!pass_is_marker(env[i]))
      out[n++] = env[i];
  out[n] = 0;
  return n;
}
