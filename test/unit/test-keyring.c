/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-keyring.c: keyring.c in a session keyring of its own (an anonymous
 * one, joined first): a kept plaintext comes back for the same vault
 * bytes, passwords and id settings and for nothing else; the cache switch
 * and TTL; the key's permissions; a key of the same name that is not ours
 * (other permissions, another payload form) is not used.  When the kernel
 * refuses keyrings here (seccomp in a container), says so and checks only
 * that nothing is kept. */
#include "cache.h"
#include "config.h"
#include "keyring.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <linux/keyctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VAULT "$ANSIBLE_VAULT;1.1;AES256\n6162\n"
#define PLAIN "proxmox_api_token_secret: \"unit-secret\"\n"

static char pw_a[] = "password-a", pw_b[] = "password-b";

static struct vault_secrets secrets(char *pw) {
  struct vault_secrets s = {0};
  s.pw[0] = pw;
  s.label[0] = NULL;
  s.n = 1;
  return s;
}

/* The kept plaintext for TEXT and S as a C string, or NULL (freed by the
   next call). */
static const char *get(const char *text, const struct vault_secrets *s) {
  static char *last;
  secret_free(last);
  size_t len = 0;
  last = keyring_vault_get(text, strlen(text), s, &len);
  return last && strlen(last) == len ? last : last ? "(bad length)" : NULL;
}

/* The id of the only r42intercept key of the session keyring, or -1. */
static long only_key(unsigned *perm) {
  int ids[64];
  long n = syscall(SYS_keyctl, KEYCTL_READ, KEY_SPEC_SESSION_KEYRING, ids,
                   (long)sizeof ids);
  long found = -1;
  for (long i = 0; n > 0 && i < n / (long)sizeof ids[0]; i++) {
    char d[256];
    long l =
        syscall(SYS_keyctl, KEYCTL_DESCRIBE, (long)ids[i], d, (long)sizeof d);
    if (l > 0 && (size_t)l <= sizeof d && strstr(d, ";r42intercept:vault:")) {
      if (found >= 0)
        return -1;
      found = ids[i];
      sscanf(d, "%*[^;];%*u;%*u;%x;", perm);
    }
  }
  return found;
}

int main(void) {
  unsetenv("RANGE42_PROXMOX_API_CACHE");
  cfg_reload();
  unsetenv("RANGE42_PROXMOX_API_CACHE_TTL");
  cfg_reload();
  struct vault_secrets a = secrets(pw_a), b = secrets(pw_b);
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0) {
    printf("# no session keyring here (%s): only the miss path\n",
           strerror(errno));
    keyring_vault_put(VAULT, strlen(VAULT), &a, PLAIN, strlen(PLAIN));
    ok(get(VAULT, &a) == NULL, "no keyring: nothing comes back");
    ok(strncmp(keyring_last(), "unusable: ", 10) == 0,
       "no keyring: keyring_last says why (%s)", keyring_last());
    return tap_done();
  }

  ok(get(VAULT, &a) == NULL && !strcmp(keyring_last(), "miss"),
     "nothing kept: a miss");
  keyring_vault_put(VAULT, strlen(VAULT), &a, PLAIN, strlen(PLAIN));
  ok_str(get(VAULT, &a), PLAIN, "kept: the plaintext comes back");
  ok_str(keyring_last(), "hit", "keyring_last: hit");
  ok(get(VAULT "\n", &a) == NULL, "other vault bytes: a miss");
  ok(get(VAULT, &b) == NULL, "another password: a miss");
  struct vault_secrets two = a;
  two.pw[1] = pw_b;
  two.n = 2;
  ok(get(VAULT, &two) == NULL, "one more password: a miss");
  struct vault_secrets labelled = a;
  labelled.label[0] = "lab";
  ok(get(VAULT, &labelled) == NULL, "another vault id: a miss");
  struct vault_secrets matching = a;
  matching.id_match = true;
  ok(get(VAULT, &matching) == NULL, "vault_id_match: a miss");

  unsigned perm = 0;
  long id = only_key(&perm);
  ok(id > 0, "one key in the session keyring");
  ok(perm == 0x2f000000u, "possessor-only permissions (%08x)", perm);

  setenv("RANGE42_PROXMOX_API_CACHE", "off", 1);

  cfg_reload();
  ok(get(VAULT, &a) == NULL && !strcmp(keyring_last(), "off"),
     "RANGE42_PROXMOX_API_CACHE=off: not used");
  unsetenv("RANGE42_PROXMOX_API_CACHE");
  cfg_reload();
  setenv("RANGE42_PROXMOX_API_CACHE_TTL", "0", 1);
  cfg_reload();
  ok(get(VAULT, &a) == NULL, "TTL 0: not used");
  unsetenv("RANGE42_PROXMOX_API_CACHE_TTL");
  cfg_reload();
  ok_str(get(VAULT, &a), PLAIN, "still there with the default TTL");

  /* the same description with a payload of another form: not used */
  ok(syscall(SYS_keyctl, KEYCTL_UPDATE, id, "garbage\n", 8L) == 0,
     "payload replaced");
  ok(get(VAULT, &a) == NULL, "a payload of another form: a miss");
  /* ours again, then opened to the user: not ours any more */
  keyring_vault_put(VAULT, strlen(VAULT), &a, PLAIN, strlen(PLAIN));
  ok_str(get(VAULT, &a), PLAIN, "kept again");
  ok(syscall(SYS_keyctl, KEYCTL_SETPERM, id, 0x3f030000L) == 0,
     "permissions widened");
  ok(get(VAULT, &a) == NULL, "a key readable by the user: not used");

  /* too large for a key: silently not kept */
  size_t big_len = 20000;
  char *big = malloc(big_len + 1);
  memset(big, 'x', big_len);
  big[big_len] = '\0';
  keyring_vault_put(VAULT "big", strlen(VAULT "big"), &a, big, big_len);
  ok(get(VAULT "big", &a) == NULL, "a plaintext too large is not kept");
  free(big);
  return tap_done();
}
