/* SPDX-License-Identifier: GPL-3.0-or-later */
/* creds.h: the API endpoint and token a play's variables name (see
   creds.c). */
#ifndef R42_CREDS_H
#define R42_CREDS_H

#include "pve.h"
#include "vars.h"

/* Everything needed to reach one node's API.  secret is wiped on clear. */
struct creds {
  char *host, *user, *token_id, *secret, *node;
};

/* Takes proxmox_api_host/_user/_token_id/_token_secret and proxmox_node
   from VARS; each must be a literal string.  Returns 0, or -1 with E
   naming the missing variable.  Free with creds_clear(). */
int creds_from_vars(struct creds *c, const struct vars *vars,
                    struct msg_err *e) R42_WARN_UNUSED;

/* The pve_creds view of C (borrowing C's strings). */
struct pve_creds creds_for_pve(const struct creds *c);

void creds_clear(struct creds *c);

#endif
