/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tls.c: the certificate checks read from the environment (tls.c). */
#include "tls.h"
#include "tap.h"

#include <stdlib.h>

#define PIN_A "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE="
#define PIN_B "sha256//sRHdihwgkaib1P1gxX8HFszlD+7/gTfNvuAybgLPNis="
#define FP_UPPER                                                              \
  "1F:2E:3D:4C:5B:6A:79:88:97:A6:B5:C4:D3:E2:F1:00:"                          \
  "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0"

/* Reads the policy for CAFILE and FINGERPRINT (NULL: unset). */
static int policy(const char *cafile, const char *fingerprint,
                  struct tls_policy *p) {
  struct msg_err e = {{0}};
  if (cafile)
    setenv("RANGE42_PROXMOX_API_CAFILE", cafile, 1);
  else
    unsetenv("RANGE42_PROXMOX_API_CAFILE");
  if (fingerprint)
    setenv("RANGE42_PROXMOX_API_FINGERPRINT", fingerprint, 1);
  else
    unsetenv("RANGE42_PROXMOX_API_FINGERPRINT");
  return tls_policy_from_env(p, &e);
}

static bool refused(const char *fingerprint) {
  struct tls_policy p;
  return policy(NULL, fingerprint, &p) < 0;
}

int main(void) {
  struct tls_policy p;
  ok(policy(NULL, NULL, &p) == 0 && !p.cafile && !p.key_pins && !p.cert_pinned,
     "nothing set: no verification");
  ok(policy("", "", &p) == 0 && !p.cafile && !p.key_pins && !p.cert_pinned,
     "empty values: as unset");
  ok(policy("/dev/null", PIN_A, &p) == 0 && p.cafile &&
         strcmp(p.key_pins, PIN_A) == 0 && !p.cert_pinned,
     "a CA file and a public-key pin");
  tls_policy_clear(&p);
  ok(policy(NULL, PIN_A ";" PIN_B, &p) == 0 &&
         strcmp(p.key_pins, PIN_A ";" PIN_B) == 0,
     "several public-key pins");
  tls_policy_clear(&p);
  ok(policy(NULL, FP_UPPER, &p) == 0 && p.cert_pinned && !p.key_pins &&
         p.cert_sha256[0] == 0x1f && p.cert_sha256[31] == 0xf0,
     "a certificate fingerprint as Proxmox shows it");
  unsigned char upper[TLS_SHA256_LEN];
  memcpy(upper, p.cert_sha256, sizeof upper);
  char lower[] = FP_UPPER;
  for (char *c = lower; *c; c++)
    if (*c >= 'A' && *c <= 'F')
      *c = (char)(*c - 'A' + 'a');
  ok(policy(NULL, lower, &p) == 0 && p.cert_pinned &&
         memcmp(upper, p.cert_sha256, sizeof upper) == 0,
     "the same in lower case");
  static const char *const bad[][2] = {
      {"sha1//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=", "not sha256//"},
      {"sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE", "no padding"},
      {"sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMw!=", "not base64"},
      {PIN_A ";", "an empty pin after ;"},
      {PIN_A ";junk", "junk after ;"},
      {"/path/to/key.pem", "a key file (libcurl takes it; not here)"},
      {"1F2E3D4C5B6A798897A6B5C4D3E2F1000F1E2D3C4B5A69788796A5B4C3D2E1F0",
       "hex without colons"},
      {"1F:2E:3D:4C:5B:6A:79:88:97:A6:B5:C4:D3:E2:F1:00:"
       "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1",
       "31 bytes"},
      {"1F:2E:3D:4C:5B:6A:79:88:97:A6:B5:C4:D3:E2:F1:00:"
       "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:FG",
       "not hex"},
      {"1F-2E:3D:4C:5B:6A:79:88:97:A6:B5:C4:D3:E2:F1:00:"
       "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0",
       "another separator"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ok(refused(bad[i][0]), "fingerprint refused: %s", bad[i][1]);
  ok(policy("/nonexistent/ca.pem", NULL, &p) < 0, "an unreadable CA file");
  unsetenv("RANGE42_PROXMOX_API_FINGERPRINT");
  setenv("RANGE42_PROXMOX_API_CAFILE", "/a", 1);
  char *one = tls_settings();
  setenv("RANGE42_PROXMOX_API_FINGERPRINT", PIN_A, 1);
  char *two = tls_settings();
  unsetenv("RANGE42_PROXMOX_API_CAFILE");
  unsetenv("RANGE42_PROXMOX_API_FINGERPRINT");
  char *none = tls_settings();
  ok(strcmp(one, two) != 0 && strcmp(one, none) != 0 && strcmp(two, none) != 0,
     "each setting gives the probe cache another key");
  free(one);
  free(two);
  free(none);
  return tap_done();
}
