/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-inventory.c: libFuzzer target for the inventory reader
 * (inventory.c).  The input is the contents of an inventory file (YAML
 * or INI), written to a scratch file that inv_local_host() reads, and asked
 * for the devkit's node and for a name the corpus inputs use in odd places. */
#include "fuzz.h"

#include "inventory.h"

static char path[128];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fd = fuzz_file("inventory_default.yml", path, sizeof path);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const hosts[] = {"px-testing", "pve-child", NULL};
  fuzz_file_set(fd, data, size);
  for (const char *const *h = hosts; *h; h++) {
    struct msg_err e;
    const struct acfg cfg = {0}; /* no ansible.cfg */
    int rc = inv_local_host(path, *h, "/dev/null/none", &cfg, &e);
    fuzz_assert(rc == -1 || rc == 0 || rc == 1);
  }
  return 0;
}
