/* SPDX-License-Identifier: GPL-3.0-or-later */
/* msg.c: owns the runner's stderr.  Devkit-style trace and error lines
 * (the devkit colours them yellow and red), fatal set-up errors, and the
 * optional phase profile.  Formats name the step and have no '\n'.
 * libc only: the runner's front (front.c) links it too. */
#define _GNU_SOURCE
#include "msg.h"

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define YELLOW "\033[0;33m"
#define RED "\033[0;31m"
#define GREEN "\033[0;32m"
#define NC "\033[0m"

void msg_err_set(struct msg_err *e, const char *fmt, ...) {
  if (!e)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->text, sizeof e->text, fmt, ap);
  va_end(ap);
}

/* write(2) of the whole buffer, retrying on EINTR and short writes (not
   util_write_all(): the runner's libc-only front links this file). */
static void write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return; /* nowhere left to report it */
    p += w;
    len -= (size_t)w;
  }
}

/* One whole line in one write(2), so lines of parallel processes do not
   interleave. */
static void emit(const char *prefix, const char *colour, const char *fmt,
                 va_list ap) {
  char *text, *line;
  if (vasprintf(&text, fmt, ap) < 0)
    return;
  int n =
      asprintf(&line, "%s%s%s%s\n", prefix, colour, text, colour[0] ? NC : "");
  free(text);
  if (n < 0)
    return;
  write_all(STDERR_FILENO, line, (size_t)n);
  free(line);
}

bool msg_quiet(void) {
  return cfg_get()->quiet;
}

void msg_trace(const char *fmt, ...) {
  if (msg_quiet())
    return;
  va_list ap;
  va_start(ap, fmt);
  emit(":: TRACE :: ", YELLOW, fmt, ap);
  va_end(ap);
}

void msg_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(":: ERROR   :: ", RED, fmt, ap);
  va_end(ap);
}

void msg_pass(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(":: PASS    :: ", GREEN, fmt, ap);
  va_end(ap);
}

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit("r42intercept: ", "", fmt, ap);
  va_end(ap);
  exit(127);
}

void die_oom(void) {
  static const char text[] = "r42intercept: out of memory\n";
  if (write(STDERR_FILENO, text, sizeof text - 1) < 0)
    _exit(127);
  _exit(127);
}

static double profile_last = -1;

bool msg_profiling(void) {
  return cfg_get()->profile;
}

void msg_profile(const char *fmt, ...) {
  if (!msg_profiling())
    return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
  if (profile_last >= 0) {
    char phase[160], line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(phase, sizeof phase, fmt, ap);
    va_end(ap);
    int n =
        snprintf(line, sizeof line, "r42intercept: profile %-40s %8.3f ms\n",
                 phase, now - profile_last);
    if (n > 0)
      write_all(STDERR_FILENO, line, (size_t)n);
  }
  profile_last = now;
}
