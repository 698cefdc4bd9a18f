/* SPDX-License-Identifier: GPL-3.0-or-later */
/* job.c: turns a play's variables into an action call: which action, on
 * which VM, with which credentials.  Shared by the playbook-level path
 * (one play) and the script-level path (one play per stdin line).  It
 * neither reads files nor talks to the API. */
#include "job.h"

#include "cache.h"
#include "config.h"

#include <stdlib.h>

#include <string.h>

/* VAR's value when the action DEF uses it, else NULL (vm_list ignores the
   vm_id the devkit passes along). */
static const char *act_var(const struct act_def *def, const struct vars *vars,
                           const char *var) {
  bool used = util_str_in(var, def->needs) || util_str_in(var, def->late);
  return used ? vars_get(vars, var) : NULL;
}

int job_build(struct job *job, const struct vars *vault,
              const struct vars *play, struct msg_err *e) {
  memset(job, 0, sizeof *job);
  const char *name = vars_get(play, "proxmox_vm_action");
  const struct act_def *def = name ? act_find(name) : NULL;
  if (!def) {
    msg_err_set(e, "proxmox_vm_action %.40s is not answered here",
                name ? name : "(none)");
    return -1;
  }
  for (size_t i = 0; i < vault->n; i++)
    if (strncmp(vault->keys[i], "ansible_", 8) == 0) {
      /* play vars (vars_files) outrank the inventory: a connection,
         become or interpreter setting here changes how Ansible runs */
      msg_err_set(e, "the vault sets %.64s", vault->keys[i]);
      return -1;
    }
  vars_merge(&job->vars, vault);
  vars_merge(&job->vars, play);
  if (creds_from_vars(&job->creds, &job->vars, e) < 0) {
    job_clear(job);
    return -1;
  }
  double wait = cfg_get()->task_timeout; /* replaces the action's own */
  job->call = (struct act_call){
      .def = def,
      .node = job->creds.node,
      .vm_id = act_var(def, &job->vars, "vm_id"),
      .vm_name = act_var(def, &job->vars, def->guest->name_var),
      .snap_name = act_var(def, &job->vars, def->guest->snap_name_var),
      .snap_desc = act_var(def, &job->vars, def->guest->snap_desc_var),
      .timeout = wait > 0 && def->timeout > 0 ? wait : def->timeout,
      .vars = &job->vars,
  };
  if (act_check(&job->call, e) < 0) {
    job_clear(job);
    return -1;
  }
  return 0;
}

void job_clear(struct job *job) {
  vars_clear(&job->vars);
  creds_clear(&job->creds);
  memset(job, 0, sizeof *job);
}

void job_report_failure(const struct job *job, const struct act_outcome *out) {
  if (out->unreachable || out->http_status != 200)
    cache_forget(&job->creds);
  const struct act_call *call = &job->call;
  msg_trace("r42intercept: %s%s%s failed: %s", call->def->name,
            call->vm_id ? " vm " : "", call->vm_id ? call->vm_id : "",
            out->msg);
}

void job_report_task(const struct job *job, const struct act_outcome *out) {
  const struct act_call *call = &job->call;
  if (out->task_msg[0])
    msg_trace("r42intercept: %s%s%s failed: %s (the role does not fail "
              "on it: its result is printed)",
              call->def->name, call->vm_id ? " vm " : "",
              call->vm_id ? call->vm_id : "", out->task_msg);
}

bool job_strict(void) {
  return cfg_get()->strict;
}
