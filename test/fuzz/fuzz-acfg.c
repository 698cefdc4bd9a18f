/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-acfg.c: libFuzzer target for the ansible.cfg reader (acfg.c).  The
 * input is the contents of the config file, read through
 * acfg_load_file() as ANSIBLE_CONFIG would name it, then asked the
 * question the runner asks (is the callback json?).  Checks that
 * every [defaults] key it keeps is lower-case and found by acfg_get(). */
#include "fuzz.h"

#include "acfg.h"

static char path[128];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  /* the settings must come from the file, not from our environment */
  static const char *const env[] = {"ANSIBLE_STDOUT_CALLBACK",
                                    "ANSIBLE_CALLBACKS_ENABLED",
                                    "ANSIBLE_CALLBACK_WHITELIST",
                                    "ANSIBLE_JSON_INDENT",
                                    "ANSIBLE_ROLES_PATH",
                                    "ANSIBLE_CONFIG",
                                    NULL};
  for (const char *const *v = env; *v; v++)
    unsetenv(*v);
  fd = fuzz_file("ansible.cfg", path, sizeof path);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_file_set(fd, data, size);
  struct acfg cfg;
  struct msg_err e;
  if (acfg_load_file(&cfg, path, &e) == 0) {
    for (size_t i = 0; i < cfg.n; i++) {
      for (const char *p = cfg.keys[i]; *p; p++)
        fuzz_assert(!(*p >= 'A' && *p <= 'Z'));
      if (strcmp(cfg.sects[i], "defaults") == 0) /* what acfg_get reads */
        fuzz_assert(acfg_get(&cfg, NULL, cfg.keys[i]) != NULL);
    }
    int indent = -1;
    if (acfg_json_callback(&cfg, &indent, &e) == 0)
      fuzz_assert(indent <= 64);
  }
  acfg_clear(&cfg);
  return 0;
}
