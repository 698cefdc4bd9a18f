/* SPDX-License-Identifier: GPL-3.0-or-later */
/* action.h: the Proxmox actions r42intercept answers (see action.c). */
#ifndef R42_ACTION_H
#define R42_ACTION_H

#include "pve.h"
#include "vars.h"

#include <stdbool.h>

/* The shape of an action's result object (docs/actions.md). */
enum act_shape {
  ACT_STATUS,    /* action, source, proxmox_node, vm_id, <name>, <status> */
  ACT_LIST,      /* an array, one object per guest */
  ACT_RAW,       /* delete and snapshot create/revert/delete: raw_data */
  ACT_SNAP_LIST, /* an array, one object per snapshot entry */
  ACT_CREATE     /* vm_create, lxc_create: the play's values, raw_data */
};

/* A kind of guest, as the role's actions name it. */
struct act_guest {
  const char *path;          /* "qemu" or "lxc": /nodes/{node}/<path> */
  const char *name_var;      /* vm_name, lxc_name: play var, result key */
  const char *status_key;    /* vm_status, lxc_status */
  const char *uptime_key;    /* vm_uptime, lxc_uptime (lists) */
  const char *meta_key;      /* vm_meta, lxc_meta (lists) */
  const char *snap_name_var; /* vm_snapshot_name, lxc_snapshot_name */
  const char *snap_desc_var; /* ..._snapshot_description */
  bool lxc;                  /* containers: the role's lxc defaults */
};

/* One action of the role, and how to answer it from the API. */
struct act_def {
  const char *name; /* the role's proxmox_vm_action */
  const struct act_guest *guest;
  const char *method; /* HTTP method of the first request */
  const char *path;   /* its path after /nodes/{node}/<guest path>, with
                         {id} and {snap} placeholders */
  const char *form;   /* form body, or NULL */
  bool snapshot_body; /* JSON body {snapname, description} */
  double timeout;     /* seconds to wait for its task; 0: no task */
  enum act_shape shape;
  const char *const *needs; /* variables its request needs */
  const char *const *late;  /* variables only its result needs: the
                               role sends the request without them, then
                               fails */
  const char *api_task;     /* the role's task names, for the document */
  const char *status_task;  /* NULL when there is no status request */
  const char *print_task;
};

/* The action called NAME, or NULL. */
const struct act_def *act_find(const char *name);

/* One call: the action and its per-guest values (borrowed); for a
   container, vm_name holds lxc_name and the snapshot values the
   lxc_snapshot_* ones. */
struct act_call {
  const struct act_def *def;
  const char *node;
  const char *vm_id;
  const char *vm_name;
  const char *snap_name;
  const char *snap_desc;
  double timeout;          /* task timeout in effect (def->timeout or less) */
  const struct vars *vars; /* every play variable (the creates read many),
                              or NULL */
};

/* How a call ended.  A Proxmox task that ends in error (or outlives its
   wait) is not a failure: the role reads the state or prints the
   request's answer all the same, so RESULT is set and TASK_MSG says what
   went wrong with the task. */
struct act_outcome {
  cJSON *result;           /* the result object or array; NULL on failure */
  char task_msg[400];      /* "" or why the action's task did not end OK */
  const char *failed_task; /* on failure: the role task that failed */
  char url[300];           /* on failure: the request's URL path */
  long http_status;        /* on failure: HTTP status, 0 if none */
  char msg[400];           /* on failure: what went wrong */
  bool unreachable;        /* on failure: no HTTP answer at all */
  int requests;            /* HTTP requests the call sent */
  bool skipped;            /* success without a result: vm_create of an id
                              in use (the role only prints SKIP_MSG) */
  char skip_msg[120];
};

/* A call whose Proxmox task is being waited for (act_begin()). */
struct act_wait {
  const struct act_call *call; /* borrowed: must outlive the wait */
  cJSON *reply;                /* the first request's answer */
  char *poll_path;             /* its task's status path; NULL: no task */
  double start;                /* util_now() when the request was answered */
  double end;                  /* the wait's end: start + call->timeout */
  double last;                 /* the last poll starts by then */
  double next;                 /* when the next poll is due */
  double rtt;                  /* the last poll's round trip, s */
  int polls;                   /* task polls sent */
  int requests;                /* HTTP requests sent */
};

/* Checks that the per-VM values of CALL are usable for its action
   (present, and safe in a URL where they go into one).  Returns 0, or -1
   with E set. */
int act_check(const struct act_call *call, struct msg_err *e) R42_WARN_UNUSED;

/* Checks that CALL has the values only its result needs (act_run() fails
   after its request without them, as the role does).  Returns 0, or -1
   with E set. */
int act_check_late(const struct act_call *call,
                   struct msg_err *e) R42_WARN_UNUSED;

/* The value of the play variable VAR in CALL (vm_id, the guest's name
   and snapshot variables), or NULL. */
const char *act_call_value(const struct act_call *call, const char *var);

/* Runs CALL: the request, the task wait, the status read, and builds the
   result with source "proxmox-api".  LIST, when not NULL, is an already
   received answer of GET /nodes/{node}/qemu that vm_list may use.
   Returns 0 with OUT->result set (and OUT->task_msg when the task failed),
   or -1 with OUT's failure fields set where the role fails: an HTTP error
   or no answer, a missing late variable.  The caller frees OUT->result. */
int act_run(struct pve *pve, const struct act_call *call, const cJSON *list,
            struct act_outcome *out) R42_WARN_UNUSED;

/* act_run() in steps, so that several calls' tasks run at once over one
   connection: sends CALL's request.  Returns 0 or -1 as act_run() does
   when the call is over (no task to wait for, or a failure), or 1 when
   its task is running: call act_poll() from W->next on, with the same
   OUT.  LIST: as for act_run(). */
int act_begin(struct pve *pve, const struct act_call *call, const cJSON *list,
              struct act_wait *w, struct act_outcome *out) R42_WARN_UNUSED;

/* One poll of W's task (act_begin() returned 1): 1 while it runs (W->next
   is the next poll's time, never past the wait's end), else what
   act_run() returns, W cleared. */
int act_poll(struct pve *pve, struct act_wait *w,
             struct act_outcome *out) R42_WARN_UNUSED;

/* Frees what W holds (an abandoned wait). */
void act_wait_clear(struct act_wait *w);

/* Sleeps until util_now() reaches WHEN (no sleep when it has). */
void act_sleep_until(double when);

#endif
