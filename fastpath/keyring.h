/* SPDX-License-Identifier: GPL-3.0-or-later */
/* keyring.h: vault plaintexts kept in the kernel's session keyring between
   calls (see keyring.c). */
#ifndef R42_KEYRING_H
#define R42_KEYRING_H

#include "vault.h"

#include <stddef.h>

/* The plaintext of the vault TEXT[0..LEN) opened with S, when a call made
   less than the cache TTL ago kept it in the session keyring: a secret
   string of *PLAIN_LEN bytes (free with secret_free()).  NULL on a miss
   (nothing kept, expired, cache off, no usable keyring). */
char *keyring_vault_get(const char *text, size_t len,
                        const struct vault_secrets *s,
                        size_t *plain_len) R42_WARN_UNUSED;

/* Keeps PLAIN[0..PLAIN_LEN), the plaintext of TEXT[0..LEN) opened with S,
   for the cache TTL (best effort: failures are silent). */
void keyring_vault_put(const char *text, size_t len,
                       const struct vault_secrets *s, const char *plain,
                       size_t plain_len);

/* How the last keyring_vault_get() went, for the profile: "hit", "miss",
   "off", or why no keyring could be used ("unusable: <errno text>"). */
const char *keyring_last(void);

#endif
