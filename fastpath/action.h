/* action.h: the Proxmox actions r42intercept answers (see action.c). */
#ifndef R42_ACTION_H
#define R42_ACTION_H

#include "pve.h"

#include <stdbool.h>

/* The shape of an action's result object (SPEC 2). */
enum act_shape {
  ACT_VM_STATUS, /* action, source, proxmox_node, vm_id, vm_name, vm_status */
  ACT_VM_LIST,   /* an array, one object per VM */
  ACT_SNAP_RAW,  /* snapshot create/revert/delete, with raw_data */
  ACT_SNAP_LIST  /* an array, one object per snapshot entry */
};

/* One action of the role, and how to answer it from the API. */
struct act_def {
  const char *name;   /* the role's proxmox_vm_action */
  const char *method; /* HTTP method of the first request */
  const char *path;   /* its path after /nodes/{node}/qemu, with
                         {id} and {snap} placeholders */
  const char *form;   /* form body, or NULL */
  bool snapshot_body; /* JSON body {snapname, description} */
  double timeout;     /* seconds to wait for its task; 0: no task */
  enum act_shape shape;
  const char *const *needs; /* variables it requires, NULL-terminated */
  const char *api_task;     /* the role's task names, for the document */
  const char *status_task;  /* NULL when there is no status request */
  const char *print_task;
};

/* The action called NAME, or NULL. */
const struct act_def *act_find(const char *name);

/* One call: the action and its per-VM values (borrowed). */
struct act_call {
  const struct act_def *def;
  const char *node;
  const char *vm_id;
  const char *vm_name;
  const char *snap_name;
  const char *snap_desc;
  double timeout; /* task timeout in effect (def->timeout or less) */
};

/* How a call ended. */
struct act_outcome {
  cJSON *result;           /* the result object or array; NULL on failure */
  const char *failed_task; /* on failure: the role task that failed */
  char url[300];           /* on failure: the request's URL path */
  long http_status;        /* on failure: HTTP status, 0 if none */
  char msg[400];           /* on failure: what went wrong */
  bool unreachable;        /* on failure: no HTTP answer at all */
};

/* Checks that the per-VM values of CALL are usable for its action
   (present, and safe in a URL where they go into one).  Returns 0, or -1
   with E set. */
int act_check(const struct act_call *call, struct msg_err *e) R42_WARN_UNUSED;

/* Runs CALL: the request, the task wait, the status read, and builds the
   result with source "proxmox-api".  LIST, when not NULL, is an already
   received answer of GET /nodes/{node}/qemu that vm_list may use.
   Returns 0 with OUT->result set, or -1 with OUT's failure fields set.
   The caller frees OUT->result. */
int act_run(struct pve *pve, const struct act_call *call, const cJSON *list,
            struct act_outcome *out) R42_WARN_UNUSED;

/* The task-timeout cap from RANGE42_PROXMOX_API_TASK_TIMEOUT (seconds),
   or 0 when unset or invalid. */
double act_timeout_cap(void);

#endif
