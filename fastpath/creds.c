/* SPDX-License-Identifier: GPL-3.0-or-later */
/* creds.c: picks the API credentials out of the merged play variables
 * (vault first, play vars over it, as Ansible's precedence goes).  The
 * token secret is kept in wiped memory; error texts name variables,
 * never values. */
#include "creds.h"

#include <stdlib.h>
#include <string.h>

static char *take(const struct vars *vars, const char *key,
                  struct msg_err *e) {
  const char *v = vars_get(vars, key);
  if (!v || !*v) {
    msg_err_set(e, "%s is %s", key,
                vars_has(vars, key) ? "not a plain string" : "not defined");
    return NULL;
  }
  return secret_strndup(v, strlen(v));
}

int creds_from_vars(struct creds *c, const struct vars *vars,
                    struct msg_err *e) {
  memset(c, 0, sizeof *c);
  if (!(c->host = take(vars, "proxmox_api_host", e)) ||
      !(c->user = take(vars, "proxmox_api_user", e)) ||
      !(c->token_id = take(vars, "proxmox_api_token_id", e)) ||
      !(c->secret = take(vars, "proxmox_api_token_secret", e)) ||
      !(c->node = take(vars, "proxmox_node", e))) {
    creds_clear(c);
    return -1;
  }
  return 0;
}

struct pve_creds creds_for_pve(const struct creds *c) {
  return (struct pve_creds){c->host, c->user, c->token_id, c->secret};
}

void creds_clear(struct creds *c) {
  secret_free(c->host);
  secret_free(c->user);
  secret_free(c->token_id);
  secret_free(c->secret);
  secret_free(c->node);
  memset(c, 0, sizeof *c);
}
