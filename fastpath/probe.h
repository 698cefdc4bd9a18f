/* SPDX-License-Identifier: GPL-3.0-or-later */
/* probe.h: should this call take the fast path? (see probe.c) */
#ifndef R42_PROBE_H
#define R42_PROBE_H

#include "creds.h"
#include "pve.h"

/* RANGE42_PROXMOX_API_FORCE: "auto" (default, or unset/empty) or "off".
   Returns 1 for off, 0 for auto, -1 (E set) for any other value. */
int probe_forced_off(struct msg_err *e) R42_WARN_UNUSED;

/* Probes NODE's API: GET /nodes/{node}/qemu with a 2 s timeout; HTTP 200
   means reachable.  Returns 0 with the answer in *LIST (the VM list:
   vm_list reuses it; the caller frees it with cJSON_Delete), or -1 with E
   set. */
int probe_api(struct pve *pve, const char *node, cJSON **list,
              struct msg_err *e) R42_WARN_UNUSED;

/* The decision for the endpoint of C: a cached verdict when there is one
   (cache.c), else probe_api() and remember its outcome.  Returns 0 when the
   API is up (*LIST is the probe's answer, or NULL on a cache hit), -1 with
   E set when it is down. */
int probe_decide(struct pve *pve, const struct creds *c, cJSON **list,
                 struct msg_err *e) R42_WARN_UNUSED;

#endif
