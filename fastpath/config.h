/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config.h: the runner's own settings, from the environment (config.c). */
#ifndef R42_CONFIG_H
#define R42_CONFIG_H

#include <stdbool.h>

/* RANGE42_PROXMOX_API_FORCE. */
enum cfg_force {
  CFG_FORCE_AUTO, /* the fast path when the probe says the API is up */
  CFG_FORCE_OFF,  /* always the real program */
  CFG_FORCE_ON    /* the fast path or an error, never the real program */
};

/* The status a call ends with when RANGE42_PROXMOX_API_FORCE=on and it
   would have fallen back (the wrapper's own failure status too). */
#define CFG_FORCE_STATUS 125

/* Every setting, validated; defaults where a variable is unset, empty or
   invalid. */
struct cfg {
  enum cfg_force force; /* RANGE42_PROXMOX_API_FORCE */
  bool scripts;         /* RANGE42_PROXMOX_API_SCRIPTS: on (default)/off */
  bool strict;          /* RANGE42_PROXMOX_API_STRICT: 0 (default)/1 */
  double task_timeout;  /* RANGE42_PROXMOX_API_TASK_TIMEOUT, s; 0: none */
  bool cache;           /* RANGE42_PROXMOX_API_CACHE: on (default)/off */
  long cache_ttl;       /* RANGE42_PROXMOX_API_CACHE_TTL, s */
  long cache_neg_ttl;   /* RANGE42_PROXMOX_API_CACHE_NEG_TTL, s */
  long resident;        /* RANGE42_PROXMOX_API_RESIDENT: the resident
                           runner's idle time, s; 0: off (or the cache off) */
  bool quiet;           /* R42INTERCEPT_QUIET: 0 (default)/1 */
  bool profile;         /* R42INTERCEPT_PROFILE: 0 (default)/1 */
  bool fixture_devkit;  /* R42INTERCEPT_TEST_FIXTURE_DEVKIT: 0/1 */
  const char *log;      /* R42INTERCEPT_LOG, or NULL */
  double cost_playbook; /* R42INTERCEPT_COST_PLAYBOOK, s (summary) */
  double cost_vault;    /* R42INTERCEPT_COST_VAULT, s (summary) */
};

/* The resident runner's idle time when RANGE42_PROXMOX_API_RESIDENT is
   on (its default). */
#define CFG_RESIDENT_IDLE 60

/* cfg_get()->resident, read without a word: for the front, which hands
   the call on to a core that says what is invalid (rescall.c). */
long cfg_resident_quiet(void);

/* The settings: read from the environment on the first call (each
   invalid value, and each deprecated R42_INTERCEPT_* name, said in one
   trace line), the same afterwards.  Never NULL. */
const struct cfg *cfg_get(void);

/* Reads the environment again (tests, and after setenv). */
void cfg_reload(void);

#endif
