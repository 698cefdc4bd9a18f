/* SPDX-License-Identifier: GPL-3.0-or-later */
/* probe.c: the fast-or-fall-back decision (docs/decision.md
 * section 4).  Off by
 * RANGE42_PROXMOX_API_FORCE=off; otherwise one probe of the node's VM
 * list must answer 200 within 2 s, its verdict cached for a few seconds
 * (cache.c) so a batch probes once.  Announcing the decision is the
 * caller's business. */
#include "probe.h"

#include "cache.h"
#include "config.h"

#include <stdlib.h>
#include <string.h>

#define PROBE_TIMEOUT 2.0

int probe_forced_off(struct msg_err *e) {
  (void)e; /* an invalid value is said by config.c, and auto applies */
  return cfg_get()->force == CFG_FORCE_OFF;
}

int probe_api(struct pve *pve, const char *node, cJSON **list,
              struct msg_err *e) {
  *list = NULL;
  cleanup_free char *path = xasprintf("/nodes/%s/qemu", node);
  struct pve_reply reply;
  struct msg_err why = {{0}};
  if (pve_request(pve, "GET", path, PVE_BODY_FORM, NULL, PROBE_TIMEOUT, &reply,
                  &why) < 0) {
    msg_err_set(e, "API probe failed: %s", why.text);
    return -1;
  }
  if (reply.status == 200 && !reply.json)
    msg_err_set(e, "API probe failed: %s in the answer to GET %s",
                reply.not_json, path);
  else if (reply.status != 200)
    msg_err_set(e, "API probe answered HTTP %ld %s", reply.status,
                reply.reason);
  if (reply.status != 200 || !reply.json) {
    pve_reply_clear(&reply);
    return -1;
  }
  *list = reply.json;
  return 0;
}

int probe_decide(struct pve *pve, const struct creds *c, cJSON **list,
                 struct msg_err *e) {
  *list = NULL;
  switch (cache_lookup(c)) {
  case CACHE_UP:
    return 0;
  case CACHE_DOWN:
    msg_err_set(e, "the API probe failed less than a few seconds ago "
                   "(cached verdict)");
    return -1;
  case CACHE_MISS:
    break;
  }
  int rc = probe_api(pve, c->node, list, e);
  cache_store(c, rc == 0);
  return rc;
}
