/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rundir.c: the runner's private directory, where the probe cache
 * (cache.c) and the resident runner's socket (rescall.c, resident.c)
 * live.  libc only (the front links it). */
#define _GNU_SOURCE
#include "rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int rundir_get(char *buf, size_t size) {
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  int n = xdg && xdg[0] == '/' ? snprintf(buf, size, "%s/r42intercept", xdg)
                               : snprintf(buf, size, "/tmp/r42intercept-%u",
                                          (unsigned)getuid());
  if (n <= 0 || (size_t)n >= size)
    return -1;
  if (mkdir(buf, 0700) < 0 && errno != EEXIST)
    return -1;
  struct stat st;
  return lstat(buf, &st) == 0 && S_ISDIR(st.st_mode) &&
                 st.st_uid == getuid() && (st.st_mode & 0077) == 0
             ? 0
             : 1;
}
