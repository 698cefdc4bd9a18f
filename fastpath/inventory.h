/* SPDX-License-Identifier: GPL-3.0-or-later */
/* inventory.h: would Ansible run the play on this inventory host,
   locally? (see inventory.c) */
#ifndef R42_INVENTORY_H
#define R42_INVENTORY_H

#include "acfg.h"
#include "msg.h"

/* Whether HOST is a host of the inventory file PATH (YAML or INI) that
   Ansible would run the play on locally, as the devkit's inventory has it:
   declared as a host, not a group; ansible_connection "local" on it or on
   "all"; no other variable but ansible_python_interpreter (a python3); no
   host_vars/ or group_vars/ beside PATH or in PLAYBOOK_DIR; no inventory
   or vars plugin setting in CFG or the environment.  Returns 1 if so, 0 if
   HOST is not a host of it, -1 with E set for anything else (a directory,
   a script, another connection, a form we do not read). */
int inv_local_host(const char *path, const char *host,
                   const char *playbook_dir, const struct acfg *cfg,
                   struct msg_err *e) R42_WARN_UNUSED;

#endif
