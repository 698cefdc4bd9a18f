/* SPDX-License-Identifier: GPL-3.0-or-later */
/* job.h: one action call assembled from a play's variables (see job.c). */
#ifndef R42_JOB_H
#define R42_JOB_H

#include "action.h"
#include "creds.h"
#include "vars.h"

/* Everything one call needs; the call's strings point into vars/creds. */
struct job {
  struct vars vars;     /* the vault's variables, the play's over them */
  struct creds creds;   /* API endpoint, token and node */
  struct act_call call; /* the action and its per-VM values */
};

/* Builds JOB from the vault's variables VAULT and the include_role vars
   PLAY (which override them, as Ansible's precedence does): the
   credentials, the action named by proxmox_vm_action, its values, and the
   task timeout (RANGE42_PROXMOX_API_TASK_TIMEOUT, when set, replaces
   the action's own).  Returns 0, or -1 with E set when anything is
   missing or not ours (a vault setting ansible_* variables, which outrank
   the inventory's).  Free with job_clear(). */
int job_build(struct job *job, const struct vars *vault,
              const struct vars *play, struct msg_err *e) R42_WARN_UNUSED;

void job_clear(struct job *job);

/* After a failed act_run() of JOB: prints the per-VM trace line and, when
   the API itself let us down (no answer, an HTTP error), forgets the
   cached probe verdict so the next call probes again. */
void job_report_failure(const struct job *job, const struct act_outcome *out);

/* After an act_run() of JOB that succeeded: when its Proxmox task did
   not end OK, prints the per-VM trace line (the result is printed all the
   same, as the role prints it). */
void job_report_task(const struct job *job, const struct act_outcome *out);

/* RANGE42_PROXMOX_API_STRICT=1: a VM whose call fails where ansible
   fails ends the call with status 2. */
bool job_strict(void);

#endif
