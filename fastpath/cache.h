/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cache.h: the probe verdict cache (see cache.c). */
#ifndef R42_CACHE_H
#define R42_CACHE_H

#include "creds.h"

#include <stdbool.h>

enum cache_verdict {
  CACHE_MISS = 0, /* nothing usable: probe */
  CACHE_UP,       /* the API answered a probe less than the TTL ago */
  CACHE_DOWN      /* the API failed a probe less than the negative TTL ago */
};

/* The cached verdict for the endpoint of C, or CACHE_MISS (no entry,
   expired, unreadable, corrupt, cache disabled or refused). */
enum cache_verdict cache_lookup(const struct creds *c);

/* Records a probe's outcome for C (best effort: errors are ignored). */
void cache_store(const struct creds *c, bool up);

/* Forgets C's entry (after a failed request on the fast path). */
void cache_forget(const struct creds *c);

/* The cache directory in use, or NULL when the cache is off or refused
   (for traces and tests).  The string is static. */
const char *cache_dir(void);

/* True when RANGE42_PROXMOX_API_CACHE=off: no cache of any kind (probe
   verdicts, the vault's plaintext in the keyring, keyring.c). */
bool cache_off(void);

/* How long a good probe verdict, or a vault plaintext, is kept: seconds
   (RANGE42_PROXMOX_API_CACHE_TTL, default 30; 0: not at all). */
long cache_ttl(void);

#endif
