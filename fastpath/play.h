/* SPDX-License-Identifier: GPL-3.0-or-later */
/* play.h: the devkit's inline playbook, understood (see play.c). */
#ifndef R42_PLAY_H
#define R42_PLAY_H

#include "vars.h"

#define PLAY_ROLE_NAME "range42-ansible_roles-proxmox_controller"

/* What the one play of a devkit playbook asks for. */
struct play {
  char *hosts;     /* the host pattern: a single host name */
  char *vars_file; /* the one vars_files entry (the vault) */
  char *task_name; /* the include_role task's name, or NULL */
  int play_line;   /* lines of the play and the task, for the document */
  int task_line;
  struct vars vars; /* the include_role vars, proxmox_vm_action included */
};

/* Parses the playbook TEXT (LEN bytes) and checks it has exactly the
   devkit's shape: one play with hosts, gather_facts false, one vars_files
   entry and one task that includes PLAY_ROLE_NAME with literal string
   vars (none named ansible_*).  Anything else is refused.  Returns 0, or
   -1 with E saying what did not fit.  Free with play_clear(). */
int play_parse(const char *text, size_t len, struct play *play,
               struct msg_err *e) R42_WARN_UNUSED;

void play_clear(struct play *play);

#endif
