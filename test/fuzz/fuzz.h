/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz.h: what the libFuzzer targets of test/fuzz/ share: a NUL-terminated
 * copy of the input (the runner's parsers always get one: util_read_file()
 * adds it), and scratch files in a private temporary directory for the
 * parsers that read a path.  The directory is removed at exit. */
#ifndef R42_FUZZ_H
#define R42_FUZZ_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Stops the run (libFuzzer reports it as a crash and keeps the input). */
#define fuzz_assert(cond)                                                     \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_assert failed: %s (%s:%d)\n", #cond, __FILE__,    \
              __LINE__);                                                      \
      abort();                                                                \
    }                                                                         \
  } while (0)

/* DATA[0..SIZE) as a new NUL-terminated string (free it). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  fuzz_assert(s != NULL);
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

static char fuzz_dir[64];

static void fuzz_dir_remove(void) {
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
  if (fuzz_dir[0] && system(cmd) != 0)
    fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

/* A scratch file NAME (mode 0600) in the private directory; returns its
   path (static storage of the caller's choosing: PATH, PATH_SIZE) and an
   open descriptor for fuzz_file_set(). */
static inline int fuzz_file(const char *name, char *path, size_t path_size) {
  if (!fuzz_dir[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/r42-fuzz.XXXXXX",
             tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    fuzz_assert(mkdtemp(fuzz_dir) != NULL);
    atexit(fuzz_dir_remove);
  }
  snprintf(path, path_size, "%s/%s", fuzz_dir, name);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  fuzz_assert(fd >= 0);
  return fd;
}

/* Replaces the contents of the scratch file FD with DATA[0..SIZE). */
static inline void fuzz_file_set(int fd, const void *data, size_t size) {
  fuzz_assert(ftruncate(fd, 0) == 0);
  fuzz_assert(pwrite(fd, data, size, 0) == (ssize_t)size);
}

#endif
