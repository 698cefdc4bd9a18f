/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dkid-digest: prints the digest of the normal form of each bash script
 * FILE (dknorm.c), or of stdin without FILE: how the tables of known
 * devkit versions are made (test/fixtures/devkit-digests.sh).
 *
 *   dkid-digest [FILE...]   "<hex>  FILE" per file, or "<hex>" for stdin
 *   dkid-digest --normal [FILE]   the normal form itself
 *
 * Exit status 1 if a file cannot be read or has no normal form. */
#include "dknorm.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_input(const char *path, size_t *len) {
  if (!path)
    return util_read_fd(STDIN_FILENO, DKNORM_MAX_SCRIPT, len);
  return util_read_file(path, DKNORM_MAX_SCRIPT, len);
}

static int one(const char *path, bool normal) {
  size_t len;
  char *text = read_input(path, &len);
  if (!text) {
    fprintf(stderr, "dkid-digest: %s: %s\n", path ? path : "stdin",
            strerror(errno));
    return 1;
  }
  struct msg_err e = {{0}};
  int rc = 0;
  if (normal) {
    struct buf out;
    buf_init(&out, DKNORM_MAX_SCRIPT + 1);
    rc = dknorm_text(text, len, &out, &e);
    if (rc == 0 && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
      rc = -1;
    buf_free(&out);
  } else {
    char hex[DKNORM_HEX_LEN + 1];
    rc = dknorm_digest(text, len, hex, &e);
    if (rc == 0 && path)
      printf("%s  %s\n", hex, path);
    else if (rc == 0)
      printf("%s\n", hex);
  }
  free(text);
  if (rc < 0)
    fprintf(stderr, "dkid-digest: %s: %s\n", path ? path : "stdin", e.text);
  return rc < 0;
}

int main(int argc, char **argv) {
  bool normal = argc > 1 && strcmp(argv[1], "--normal") == 0;
  int first = normal ? 2 : 1;
  if (argc == first)
    return one(NULL, normal);
  int rc = 0;
  for (int i = first; i < argc; i++)
    rc |= one(argv[i], normal);
  return rc;
}
