/* inventory.h: does the inventory hold the play's host? (see inventory.c) */
#ifndef R42_INVENTORY_H
#define R42_INVENTORY_H

#include "msg.h"

/* Looks for HOST in the inventory file PATH, YAML (groups with hosts and
   children) or INI.  Returns 1 if found, 0 if not, -1 with E set when
   PATH is not a file we read (a directory, a script, unparsable). */
int inv_has_host(const char *path, const char *host,
                 struct msg_err *e) R42_WARN_UNUSED;

#endif
