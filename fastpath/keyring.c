/* SPDX-License-Identifier: GPL-3.0-or-later */
/* keyring.c: keeps the plaintext of a vault, once decrypted, in the
 * kernel's session keyring, so that the next calls of a burst skip the
 * vault's key derivation (PBKDF2, 10000 rounds).  One "user" key per vault
 * and passwords: its description is "r42intercept:vault:" and the hex of a
 * BLAKE2b hash of the vault file's bytes, the passwords, their vault ids
 * and the vault id settings: a changed file, password or setting misses.
 * The key is made possessor-only (view, read, write, search, setattr; no
 * right for the user, group or others) while it holds a one-byte
 * placeholder, before the secret is written into it, and it expires after
 * the probe cache's TTL (cache_ttl()); its payload
 * "r42intercept-vault 1 EPOCH\n<plaintext>" carries the time too, checked
 * against the TTL at each lookup.  Nothing goes to disk; the buffers are
 * libsodium guarded memory, wiped when freed.  The syscalls are made
 * directly (no libkeyutils).  RANGE42_PROXMOX_API_CACHE=off: no keyring
 * call at all.  No usable session keyring (seccomp, a kernel without keys,
 * a quota: EPERM, ENOSYS, EACCES, EDQUOT, ...): the vault is decrypted as
 * before, silently (keyring_last() says why, for the profile). */
#define _GNU_SOURCE
#include "keyring.h"

#include "cache.h"

#include <errno.h>
#include <linux/keyctl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define KR_MAGIC "r42intercept-vault 1"
#define KR_DESC_PREFIX "r42intercept:vault:"
#define KR_TYPE "user"
#define KR_MAX 16384 /* payload bytes (a "user" key holds up to 32767) */
/* Possessor: view, read, write, search, setattr (linux/keyctl.h has no
   names for these; keyutils.h calls them KEY_POS_*). */
#define KR_PERM 0x2f000000u

static const char *kr_last = "off";

const char *keyring_last(void) {
  return kr_last;
}

/* Records why the keyring cannot be used (errno), for keyring_last(). */
static void unusable(void) {
  static char why[96];
  snprintf(why, sizeof why, "unusable: %s", util_strerror(errno));
  kr_last = why;
}

/* The session keyring's id (the user's session keyring when the process
   has none), without creating one; -1 (errno) when there is none. */
static long session_ring(void) {
  return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING,
                 0L);
}

/* The key description for TEXT opened with S, into DESC. */
static void describe(const char *text, size_t len,
                     const struct vault_secrets *s,
                     char desc[sizeof KR_DESC_PREFIX + 64]) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, 32);
  uint64_t n = len;
  crypto_generichash_update(&st, (const unsigned char *)KR_MAGIC,
                            sizeof KR_MAGIC);
  crypto_generichash_update(&st, (const unsigned char *)&n, sizeof n);
  crypto_generichash_update(&st, (const unsigned char *)text, len);
  const char *parts[2 * VAULT_MAX_SECRETS + 2];
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++) {
    parts[k++] = s->pw[i];
    parts[k++] = s->label[i] ? s->label[i] : "";
  }
  parts[k++] = s->id_match ? "id_match" : "";
  parts[k++] = s->identity ? s->identity : "";
  for (size_t i = 0; i < k; i++)
    crypto_generichash_update(&st, (const unsigned char *)parts[i],
                              strlen(parts[i]) + 1);
  unsigned char hash[32];
  crypto_generichash_final(&st, hash, sizeof hash);
  memcpy(desc, KR_DESC_PREFIX, sizeof KR_DESC_PREFIX - 1);
  sodium_bin2hex(desc + sizeof KR_DESC_PREFIX - 1, 65, hash, sizeof hash);
  sodium_memzero(&st, sizeof st);
}

/* True if the key ID is ours: a user key of this uid, possessor-only. */
static bool key_is_ours(long id) {
  char d[256];
  long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, d, (long)sizeof d);
  if (n <= 0 || (size_t)n > sizeof d)
    return false;
  d[sizeof d - 1] = '\0';
  unsigned uid, gid, perm;
  char type[8];
  return sscanf(d, "%7[^;];%u;%u;%x;", type, &uid, &gid, &perm) == 4 &&
         strcmp(type, KR_TYPE) == 0 && uid == (unsigned)getuid() &&
         perm == KR_PERM;
}

/* The payload's plaintext, if its time stamp is younger than TTL. */
static char *payload_plain(const char *p, size_t n, long ttl,
                           size_t *plain_len) {
  const char *nl = memchr(p, '\n', n < 63 ? n : 63);
  char head[64];
  long long when;
  char end;
  if (!nl)
    return NULL;
  memcpy(head, p, (size_t)(nl + 1 - p));
  head[nl + 1 - p] = '\0';
  if (sscanf(head, KR_MAGIC " %lld%c", &when, &end) != 2 || end != '\n')
    return NULL;
  long long age = (long long)time(NULL) - when;
  if (age < 0 || age >= ttl)
    return NULL;
  size_t off = (size_t)(nl + 1 - p);
  *plain_len = n - off;
  return secret_strndup(nl + 1, n - off);
}

char *keyring_vault_get(const char *text, size_t len,
                        const struct vault_secrets *s, size_t *plain_len) {
  long ttl = cache_ttl();
  kr_last = "off";
  if (cache_off() || ttl <= 0 || s->n == 0 || sodium_init() < 0)
    return NULL;
  long ring = session_ring();
  if (ring < 0) {
    unusable();
    return NULL;
  }
  kr_last = "miss";
  char desc[sizeof KR_DESC_PREFIX + 64];
  describe(text, len, s, desc);
  long id = syscall(SYS_keyctl, KEYCTL_SEARCH, ring, KR_TYPE, desc, 0L);
  if (id < 0) {
    if (errno != ENOKEY && errno != EKEYEXPIRED && errno != EKEYREVOKED)
      unusable();
    return NULL;
  }
  if (!key_is_ours(id))
    return NULL;
  char *buf = sodium_malloc(KR_MAX);
  if (!buf)
    return NULL;
  long n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, (long)KR_MAX);
  char *plain = n > 0 && n <= KR_MAX
                    ? payload_plain(buf, (size_t)n, ttl, plain_len)
                    : NULL;
  sodium_free(buf);
  if (plain)
    kr_last = "hit";
  return plain;
}

void keyring_vault_put(const char *text, size_t len,
                       const struct vault_secrets *s, const char *plain,
                       size_t plain_len) {
  long ttl = cache_ttl();
  if (cache_off() || ttl <= 0 || s->n == 0 || plain_len > KR_MAX - 64 ||
      sodium_init() < 0)
    return;
  long ring = session_ring();
  if (ring < 0)
    return;
  char desc[sizeof KR_DESC_PREFIX + 64];
  describe(text, len, s, desc);
  /* A placeholder first: the secret goes in once no one else may read. */
  long id = syscall(SYS_add_key, KR_TYPE, desc, "-", 1L, ring);
  if (id < 0)
    return;
  char *buf = sodium_malloc(KR_MAX);
  int head =
      buf ? snprintf(buf, 64, KR_MAGIC " %lld\n", (long long)time(NULL)) : -1;
  bool ok =
      head > 0 && syscall(SYS_keyctl, KEYCTL_SETPERM, id, (long)KR_PERM) == 0;
  if (ok) {
    memcpy(buf + head, plain, plain_len);
    ok = syscall(SYS_keyctl, KEYCTL_UPDATE, id, buf,
                 (long)(head + (long)plain_len)) == 0 &&
         syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, id, ttl) == 0;
  }
  if (buf)
    sodium_free(buf);
  if (!ok)
    syscall(SYS_keyctl, KEYCTL_INVALIDATE, id);
}
