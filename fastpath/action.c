/* SPDX-License-Identifier: GPL-3.0-or-later */
/* action.c: the action table (docs/actions.md: VMs and
 * containers) and its execution against the API: the request, the wait
 * for its UPID task (adaptive polling within the action's timeout), the
 * status read, and the result object in the role's shape with source
 * "proxmox-api".  Where the role fails (an HTTP error) the call fails;
 * a task that ends in error does not fail the role, so the result is
 * built all the same, with the task's message beside it.  What to do
 * with a result (document, jq line) is the caller's business. */
#define _GNU_SOURCE
#include "action.h"

#include "buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROLE "range42-ansible_roles-proxmox_controller : "
#define ACT_REQUEST_TIMEOUT 30.0 /* the uri module's default */
#define ACT_POLL_LAST 0.5        /* time kept for the last poll's answer */

/* Task polls (docs/actions.md, "Task polls"): a task's end is noticed
   within max(10% of its duration, 150 ms).  The first poll goes at once
   (a task that failed at its start, or a simulator's instant task, is
   seen without a wait).  After a poll sent E seconds into the task, the
   next one goes max(ACT_NOTICE_SHARE * E, ACT_NOTICE_MIN) later, less the
   last poll's round trip (its answer reflects the task half a round trip
   after it was sent): 150 ms steps up to 1.5 s, then 10% of the age (a
   10 s task: about one poll a second at its end).  Quick kinds (suspend,
   resume: tens of milliseconds on a real host) are polled every
   ACT_QUICK_GAP during their first ACT_QUICK_SPAN.  Polls never come
   closer than ACT_POLL_MIN. */
#define ACT_NOTICE_SHARE 0.1
#define ACT_NOTICE_MIN 0.15
#define ACT_QUICK_GAP 0.05
#define ACT_QUICK_SPAN 0.3
#define ACT_POLL_MIN 0.02

/* The guests, and what the role calls their values. */
static const struct act_guest qemu = {"qemu",
                                      "vm_name",
                                      "vm_status",
                                      "vm_uptime",
                                      "vm_meta",
                                      "vm_snapshot_name",
                                      "vm_snapshot_description",
                                      false};
static const struct act_guest lxc = {"lxc",
                                     "lxc_name",
                                     "lxc_status",
                                     "lxc_uptime",
                                     "lxc_meta",
                                     "lxc_snapshot_name",
                                     "lxc_snapshot_description",
                                     true};

static const char *const none[] = {NULL};
static const char *const id[] = {"vm_id", NULL};
static const char *const vm_name[] = {"vm_name", NULL};
static const char *const lxc_name[] = {"lxc_name", NULL};
static const char *const vm_snap_create[] = {"vm_id", "vm_snapshot_name",
                                             "vm_snapshot_description", NULL};
static const char *const vm_snap[] = {"vm_id", "vm_snapshot_name", NULL};
static const char *const lxc_snap_create[] = {
    "vm_id", "lxc_snapshot_name", "lxc_snapshot_description", NULL};
static const char *const lxc_snap[] = {"vm_id", "lxc_snapshot_name", NULL};
static const char *const vm_create[] = {
    "vm_id", "vm_name", "vm_cpu", "vm_cores", "vm_sockets", "vm_memory", NULL};
static const char *const lxc_create[] = {"vm_id",
                                         "lxc_name",
                                         "lxc_template",
                                         "lxc_password",
                                         "lxc_ssh_pubkeys",
                                         "lxc_cores",
                                         "lxc_memory",
                                         "proxmox_storage",
                                         "lxc_disk_size",
                                         "lxc_net_name",
                                         "lxc_bridge",
                                         "lxc_ip",
                                         "lxc_gateway",
                                         "lxc_dns_primary",
                                         "lxc_dns_secondary",
                                         NULL};
/* What vm_create reads when it is set (a default or omitted otherwise). */
static const char *const vm_create_optional[] = {
    "vm_disk_size", "vm_iso_file", "proxmox_dest_vm_storage_name",
    "vm_net_virtio_bridge", NULL};

/* The role's task names (tasks/include/, commit 68b06b5): its request,
   its status read (or NULL), the debug task that prints the result. */
#define TASKS(api, status, print) ROLE api, status, ROLE print

/* A lifecycle action: POST status/VERB, wait, read status/current. */
#define LIFECYCLE(name, guest, verb, form, timeout, api, status, print)       \
  {                                                                           \
    name, &guest, "POST", "/{id}/status/" verb, form, false, timeout,         \
        ACT_STATUS, id, none, TASKS(api, ROLE status, print)                  \
  }

static const struct act_def actions[] = {
    {"vm_list", &qemu, "GET", "", NULL, false, 0, ACT_LIST, none, none,
     TASKS("VM LIST", NULL, "VM LIST - PRINT JSON")},
    LIFECYCLE("vm_start", qemu, "start", NULL, 30, "VM START",
              "VM START - FETCH STATUS", "VM START - PRINT JSON"),
    LIFECYCLE("vm_stop", qemu, "shutdown", NULL, 30,
              "VM STOP - clean shutdown", "VM STOP - FETCH STATUS",
              "VM STOP - PRINT JSON"),
    LIFECYCLE("vm_stop_force", qemu, "stop", "timeout=10", 30,
              "VM STOP - FORCE POWER OFF",
              "VM STOP - FORCE POWER OFF - FETCH STATUS",
              "VM STOP - FORCE POWER OFF - PRINT JSON"),
    LIFECYCLE("vm_pause", qemu, "suspend", NULL, 10, "VM PAUSE",
              "VM PAUSE - FETCH STATUS", "VM PAUSE - PRINT JSON"),
    LIFECYCLE("vm_resume", qemu, "resume", NULL, 10, "VM RESUME",
              "VM RESUME - FETCH STATUS", "VM RESUME - PRINT JSON"),
    {"vm_delete", &qemu, "DELETE", "/{id}", NULL, false, 60, ACT_RAW, id,
     vm_name, TASKS("VM - DELETE", NULL, "VM DELETE - - PRINT JSON")},
    {"snapshot_vm_create", &qemu, "POST", "/{id}/snapshot", NULL, true, 60,
     ACT_RAW, vm_snap_create, vm_name,
     TASKS("SNAPSHOT VM - CREATE", NULL, "VM GET CONFIG - PRINT JSON")},
    {"snapshot_vm_list", &qemu, "GET", "/{id}/snapshot", NULL, false, 0,
     ACT_SNAP_LIST, id, none,
     TASKS("SNAPSHOT VM - LIST SNAPSHOT", NULL,
           "SNAPSHOT VM - LIST SNAPSHOT - PRINT JSON")},
    {"snapshot_vm_revert", &qemu, "POST", "/{id}/snapshot/{snap}/rollback",
     NULL, false, 120, ACT_RAW, vm_snap, vm_name,
     TASKS("SNAPSHOT VM - REVERT", NULL, "SNAPSHOT DELETE - PRINT JSON")},
    {"snapshot_vm_delete", &qemu, "DELETE", "/{id}/snapshot/{snap}", NULL,
     false, 60, ACT_RAW, vm_snap, vm_name,
     TASKS("SNAPSHOT VM - DELETE", NULL, "SNAPSHOT DELETE - PRINT JSON")},
    {"lxc_list", &lxc, "GET", "", NULL, false, 0, ACT_LIST, none, none,
     TASKS("LXC LIST", NULL, "LXC LIST - PRINT JSON")},
    LIFECYCLE("lxc_start", lxc, "start", NULL, 30, "LXC START",
              "LXC START - FETCH STATUS", "LXC START - PRINT JSON"),
    LIFECYCLE("lxc_stop", lxc, "shutdown", NULL, 30,
              "LXC STOP - CLEAN SHUTDOWN", "LXC STOP - FETCH STATUS",
              "LXC STOP - PRINT JSON"),
    LIFECYCLE("lxc_stop_force", lxc, "stop", NULL, 30,
              "LXC STOP - FORCE POWER OFF",
              "LXC STOP - FORCE POWER OFF - FETCH STATUS",
              "LXC STOP - FORCE POWER OFF - PRINT JSON"),
    LIFECYCLE("lxc_pause", lxc, "suspend", NULL, 10, "LXC PAUSE",
              "LXC PAUSE - FETCH STATUS", "LXC PAUSE - PRINT JSON"),
    LIFECYCLE("lxc_resume", lxc, "resume", NULL, 10, "LXC RESUME",
              "LXC RESUME - FETCH STATUS", "LXC RESUME - PRINT JSON"),
    {"lxc_delete", &lxc, "DELETE", "/{id}", NULL, false, 60, ACT_RAW, id,
     lxc_name, TASKS("LXC VM - DELETE", NULL, "LXC DELETE - - PRINT JSON")},
    {"snapshot_lxc_create", &lxc, "POST", "/{id}/snapshot", NULL, true, 60,
     ACT_RAW, lxc_snap_create, lxc_name,
     TASKS("SNAPSHOT LXC - CREATE", NULL, "LXC GET CONFIG - PRINT JSON")},
    {"snapshot_lxc_list", &lxc, "GET", "/{id}/snapshot", NULL, false, 0,
     ACT_SNAP_LIST, id, none,
     TASKS("SNAPSHOT LXC - LIST SNAPSHOT", NULL,
           "SNNAPSHOT LXC - LIST SNAPSHOT - PRINT JSON")},
    {"snapshot_lxc_revert", &lxc, "POST", "/{id}/snapshot/{snap}/rollback",
     NULL, false, 120, ACT_RAW, lxc_snap, lxc_name,
     TASKS("SNAPSHOT LXC - REVERT", NULL,
           "SNAPSHOT VM - REVERT - PRINT JSON")},
    {"snapshot_lxc_delete", &lxc, "DELETE", "/{id}/snapshot/{snap}", NULL,
     false, 60, ACT_RAW, lxc_snap, lxc_name,
     TASKS("SNAPSHOT VM - DELETE", NULL, "SNAPSHOT LXC - PRINT JSON")},
    /* creates: the task is waited for (the role does not wait), so that
       the devkit's next step finds the guest as Proxmox made it */
    {"vm_create", &qemu, "POST", "", NULL, false, 60, ACT_CREATE, vm_create,
     none,
     TASKS("VM - CREATE", ROLE "VM - CHECK IF VM ID ALREADY EXISTS",
           "VM GET CONFIG - PRINT JSON")},
    {"lxc_create", &lxc, "POST", "", NULL, false, 120, ACT_CREATE, lxc_create,
     none, TASKS("LXC - CREATE", NULL, "LXC GET CONFIG - PRINT JSON")},
};

const struct act_def *act_find(const char *name) {
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
    if (strcmp(actions[i].name, name) == 0)
      return &actions[i];
  return NULL;
}

/* ---- checks ----------------------------------------------------------- */

const char *act_call_value(const struct act_call *call, const char *var) {
  const struct act_guest *g = call->def->guest;
  if (strcmp(var, "vm_id") == 0)
    return call->vm_id;
  if (strcmp(var, g->name_var) == 0)
    return call->vm_name;
  if (strcmp(var, g->snap_name_var) == 0)
    return call->snap_name;
  if (strcmp(var, g->snap_desc_var) == 0)
    return call->snap_desc;
  return call->vars ? vars_get(call->vars, var) : NULL;
}

static bool all_digits(const char *s) {
  return *s && strspn(s, "0123456789") == strlen(s) && s[0] != '0';
}

static bool node_name(const char *s) {
  return *s &&
         strspn(s, "abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == strlen(s);
}

/* The first of VARS that CALL lacks, or NULL. */
static const char *missing(const struct act_call *call,
                           const char *const *vars) {
  for (const char *const *v = vars; *v; v++)
    if (!act_call_value(call, *v))
      return *v;
  return NULL;
}

int act_check(const struct act_call *call, struct msg_err *e) {
  if (!call->node || !node_name(call->node)) {
    msg_err_set(e, "proxmox_node is missing or not a node name");
    return -1;
  }
  const char *var = missing(call, call->def->needs);
  if (var) {
    msg_err_set(e, "%s needs %s", call->def->name, var);
    return -1;
  }
  if (call->vm_id && !all_digits(call->vm_id)) {
    msg_err_set(e, "vm_id is not a VM number");
    return -1;
  }
  if (call->def->shape == ACT_CREATE && !call->def->guest->lxc)
    for (const char *const *v = vm_create_optional; *v; v++)
      if (call->vars && vars_has(call->vars, *v) &&
          !vars_get(call->vars, *v)) {
        msg_err_set(e, "%s is not a literal string", *v);
        return -1;
      }
  return 0;
}

int act_check_late(const struct act_call *call, struct msg_err *e) {
  const char *var = missing(call, call->def->late);
  if (var) {
    msg_err_set(e, "%s needs %s", call->def->name, var);
    return -1;
  }
  return 0;
}

/* ---- requests --------------------------------------------------------- */

/* /nodes/{node}/<guest> + the action's path with its placeholders
   filled. */
static char *action_path(const struct act_call *call) {
  cleanup_free char *snap =
      call->snap_name ? pve_escape(call->snap_name) : NULL;
  const char *tmpl = call->def->path;
  char *out = xasprintf("/nodes/%s/%s", call->node, call->def->guest->path);
  while (*tmpl) {
    const char *brace = strchr(tmpl, '{');
    size_t lit = brace ? (size_t)(brace - tmpl) : strlen(tmpl);
    const char *val = NULL;
    size_t skip = lit;
    if (brace && strncmp(brace, "{id}", 4) == 0) {
      val = call->vm_id;
      skip += 4;
    } else if (brace && strncmp(brace, "{snap}", 6) == 0) {
      val = snap;
      skip += 6;
    }
    char *next = xasprintf("%s%.*s%s", out, (int)lit, tmpl, val ? val : "");
    free(out);
    out = next;
    tmpl += skip;
  }
  return out;
}

static void fail(struct act_outcome *out, const char *task, const char *url,
                 long status, const char *fmt, ...) R42_PRINTF(5, 6);

static void fail(struct act_outcome *out, const char *task, const char *url,
                 long status, const char *fmt, ...) {
  out->failed_task = task;
  out->http_status = status;
  snprintf(out->url, sizeof out->url, "%s", url);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->msg, sizeof out->msg, fmt, ap);
  va_end(ap);
}

/* One request, answered within TIMEOUT seconds; on anything but HTTP 200
   with a JSON body, fills OUT as the uri module would report it (and says
   what was wrong with a body that is not JSON) and returns -1. */
static int request(struct pve *pve, const char *task, const char *method,
                   const char *path, enum pve_body kind, const char *body,
                   double timeout, struct pve_reply *reply,
                   struct act_outcome *out) {
  struct msg_err err = {{0}};
  if (pve_request(pve, method, path, kind, body, timeout, reply, &err) < 0) {
    out->unreachable = true;
    fail(out, task, path, 0, "Status code was -1 and not [200]: %s", err.text);
    return -1;
  }
  if (reply->status == 200 && !reply->json) {
    fail(out, task, path, 200, "%s in the answer to %s %s", reply->not_json,
         method, path);
    pve_reply_clear(reply);
    return -1;
  }
  if (reply->status != 200) {
    fail(out, task, path, reply->status,
         "Status code was %ld and not [200]: HTTP Error %ld: %s",
         reply->status, reply->status, reply->reason);
    pve_reply_clear(reply);
    return -1;
  }
  return 0;
}

static void sleep_for(double seconds) {
  if (seconds <= 0)
    return;
  struct timespec ts = {(time_t)seconds,
                        (long)((seconds - floor(seconds)) * 1e9)};
  while (nanosleep(&ts, &ts) < 0)
    ;
}

void act_sleep_until(double when) {
  sleep_for(when - util_now());
}

/* Suspend and resume end in tens of milliseconds on a real host. */
static bool quick_task(const struct act_def *def) {
  return strstr(def->path, "/suspend") || strstr(def->path, "/resume");
}

/* The delay from a poll sent ELAPSED s into W's task to the next one. */
static double poll_gap(const struct act_wait *w, double elapsed) {
  double gap = fmax(ACT_NOTICE_SHARE * elapsed, ACT_NOTICE_MIN);
  if (quick_task(w->call->def) && elapsed < ACT_QUICK_SPAN)
    gap = ACT_QUICK_GAP;
  return fmax(gap - w->rtt, ACT_POLL_MIN);
}

/* One check of W's task (see the schedule above).  Every check is
   answered by the wait's end (the action's timeout after its request was
   answered); the last one starts a little before it, keeping
   ACT_POLL_LAST (at most a tenth of the wait) for its answer, and a check
   that comes after the end (others' requests went first) gets that much
   too.  Returns 0 when the task ended "OK", 1 when it ended otherwise or
   is still running after the last check (OUT's task_msg says which), 2
   when it is still running (W->next set), -1 when the check itself
   failed (OUT's failure fields set). */
static int check_task(struct pve *pve, struct act_wait *w,
                      struct act_outcome *out) {
  const struct act_call *call = w->call;
  double budget = fmin(ACT_POLL_LAST, call->timeout / 10);
  double sent = util_now();
  struct pve_reply reply;
  w->polls++;
  if (request(pve, call->def->api_task, "GET", w->poll_path, PVE_BODY_FORM,
              NULL, fmax(w->end - sent, budget), &reply, out) < 0)
    return -1;
  w->rtt = util_now() - sent;
  cJSON *data = cJSON_GetObjectItemCaseSensitive(reply.json, "data");
  const char *status =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "status"));
  const char *exit = cJSON_GetStringValue(
      cJSON_GetObjectItemCaseSensitive(data, "exitstatus"));
  bool running = !status || strcmp(status, "running") == 0;
  int rc = running ? 2 : 0;
  if (!running && (!exit || strcmp(exit, "OK") != 0)) {
    snprintf(out->task_msg, sizeof out->task_msg, "Proxmox task failed: %s",
             exit ? exit : "no exit status");
    rc = 1;
  } else if (running && sent >= w->last) {
    snprintf(out->task_msg, sizeof out->task_msg,
             "Proxmox task still running after %g s", call->timeout);
    rc = 1;
  }
  pve_reply_clear(&reply);
  if (rc == 2)
    w->next = fmin(sent + poll_gap(w, sent - w->start), w->last);
  return rc;
}

/* ---- results ---------------------------------------------------------- */

static cJSON *base_result(const struct act_call *call) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "action", call->def->name);
  cJSON_AddStringToObject(r, "source", "proxmox-api");
  cJSON_AddStringToObject(r, "proxmox_node", call->node);
  if (call->vm_id)
    cJSON_AddStringToObject(r, "vm_id", call->vm_id);
  return r;
}

/* KEY := a copy of FROM's FIELD, or DEFLT when FROM has no FIELD; nothing
   when both are missing (the role's "else omit"). */
static void copy_field(cJSON *to, const char *key, const cJSON *from,
                       const char *field, cJSON *deflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, field);
  cJSON *val = v ? cJSON_Duplicate(v, true) : deflt;
  if (v)
    cJSON_Delete(deflt);
  if (val)
    cJSON_AddItemToObject(to, key, val);
}

/* vm_list and lxc_list: one object per guest; VMs also have template and
   tags. */
static cJSON *list_result(const struct act_call *call, const cJSON *data) {
  static const char *const meta[][2] = {{"cpu_current_usage", "cpu"},
                                        {"cpu_allocated", "cpus"},
                                        {"disk_current_usage", "disk"},
                                        {"disk_read", "diskread"},
                                        {"disk_write", "diskwrite"},
                                        {"disk_max", "maxdisk"},
                                        {"ram_current_usage", "mem"},
                                        {"ram_max", "maxmem"},
                                        {"net_in", "netin"},
                                        {"net_out", "netout"}};
  const struct act_guest *g = call->def->guest;
  cJSON *list = cJSON_CreateArray();
  const cJSON *vm;
  cJSON_ArrayForEach(vm, data) {
    cJSON *r = base_result(call);
    copy_field(r, g->name_var, vm, "name", cJSON_CreateString("?"));
    copy_field(r, g->status_key, vm, "status", cJSON_CreateString("?"));
    copy_field(r, "vm_id", vm, "vmid", cJSON_CreateString("?"));
    copy_field(r, g->uptime_key, vm, "uptime", cJSON_CreateString("?"));
    if (!g->lxc) {
      copy_field(r, "vm_template", vm, "template", cJSON_CreateNumber(0));
      copy_field(r, "vm_tags", vm, "tags", cJSON_CreateString(""));
    }
    cJSON *m = cJSON_AddObjectToObject(r, g->meta_key);
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
      copy_field(m, meta[i][0], vm, meta[i][1], cJSON_CreateString("?"));
    cJSON_AddItemToArray(list, r);
  }
  return list;
}

/* snapshot_vm_list: "" defaults, the optional keys only when given. */
static void vm_snap_entry(cJSON *r, const cJSON *s) {
  copy_field(r, "vm_snapshot_description", s, "description",
             cJSON_CreateString(""));
  copy_field(r, "vm_snapshot_name", s, "name", cJSON_CreateString(""));
  copy_field(r, "vm_snapshot_parent", s, "parent", cJSON_CreateString(""));
  copy_field(r, "vm_snapshot_time", s, "snaptime", NULL);
  copy_field(r, "vm_snapshot_sha1", s, "digest", NULL);
  copy_field(r, "vm_snapshot_is_poweroff", s, "state", NULL);
  copy_field(r, "vm_snapshot_is_running", s, "runing", NULL);
}

/* snapshot_lxc_list: every key, "?" (time: -1) when not given. */
static void lxc_snap_entry(cJSON *r, const cJSON *s) {
  copy_field(r, "lxc_snapshot_description", s, "description",
             cJSON_CreateString("?"));
  copy_field(r, "lxc_snapshot_name", s, "name", cJSON_CreateString("?"));
  copy_field(r, "lxc_snapshot_parent", s, "parent", cJSON_CreateString("?"));
  copy_field(r, "lxc_snapshot_time", s, "snaptime", cJSON_CreateNumber(-1));
  copy_field(r, "lxc_snapshot_sha1", s, "digest", cJSON_CreateString("?"));
}

static cJSON *snap_list_result(const struct act_call *call,
                               const cJSON *data) {
  cJSON *list = cJSON_CreateArray();
  const cJSON *s;
  cJSON_ArrayForEach(s, data) {
    cJSON *r = base_result(call);
    if (call->def->guest->lxc)
      lxc_snap_entry(r, s);
    else
      vm_snap_entry(r, s);
    cJSON_AddItemToArray(list, r);
  }
  return list;
}

/* Delete and snapshot create/revert/delete: the play's values and the
   request's answer.  NULL (OUT set) when the play lacks a late variable:
   the role's result task fails on it. */
static cJSON *raw_result(const struct act_call *call, const cJSON *answer,
                         struct act_outcome *out) {
  const struct act_def *def = call->def;
  const struct act_guest *g = def->guest;
  const char *var = missing(call, def->late);
  if (var) {
    fail(out, def->print_task, "", 200,
         "the role's result needs %s, which the play does not set "
         "(ansible: '%s' is undefined)",
         var, var);
    return NULL;
  }
  cJSON *r = base_result(call);
  cJSON_AddStringToObject(r, g->name_var, call->vm_name);
  if (call->snap_name)
    cJSON_AddStringToObject(r, g->snap_name_var, call->snap_name);
  if (def->snapshot_body)
    cJSON_AddStringToObject(r, g->snap_desc_var, call->snap_desc);
  cJSON_AddItemToObject(r, "raw_data", cJSON_Duplicate(answer, true));
  return r;
}

/* GET status/current after the task: the guest's name and status. */
static cJSON *status_result(struct pve *pve, const struct act_call *call,
                            struct act_outcome *out) {
  const struct act_guest *g = call->def->guest;
  cleanup_free char *path = xasprintf("/nodes/%s/%s/%s/status/current",
                                      call->node, g->path, call->vm_id);
  struct pve_reply reply;
  if (request(pve, call->def->status_task, "GET", path, PVE_BODY_FORM, NULL,
              ACT_REQUEST_TIMEOUT, &reply, out) < 0)
    return NULL;
  cJSON *data = cJSON_GetObjectItemCaseSensitive(reply.json, "data");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(data, "name");
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(data, "status");
  cJSON *r = NULL;
  if (!name || !status) {
    fail(out, call->def->status_task, path, 200,
         "the status of guest %s has no name or status", call->vm_id);
  } else {
    r = base_result(call);
    cJSON_AddItemToObject(r, g->name_var, cJSON_Duplicate(name, true));
    cJSON_AddItemToObject(r, g->status_key, cJSON_Duplicate(status, true));
  }
  pve_reply_clear(&reply);
  return r;
}

static char *snapshot_body(const struct act_call *call) {
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "snapname", call->snap_name);
  cJSON_AddStringToObject(b, "description", call->snap_desc);
  char *text = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  if (!text)
    die_oom();
  return text;
}

/* The result of DEF's shape, once its request (answered REPLY) and task
   are done.  NULL (OUT set) on failure. */
static cJSON *result(struct pve *pve, const struct act_call *call,
                     const cJSON *reply, struct act_outcome *out) {
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(reply, "data");
  switch (call->def->shape) {
  case ACT_LIST:
    return list_result(call, data);
  case ACT_SNAP_LIST:
    return snap_list_result(call, data);
  case ACT_RAW:
    return raw_result(call, reply, out);
  case ACT_STATUS:
  case ACT_CREATE: /* create_result() */
    break;
  }
  return status_result(pve, call, out);
}

/* ---- creates ----------------------------------------------------------- */

/* Appends KEY=VAL to the form FORM as the uri module encodes a body
   (Python's urlencode: quote_plus). */
static void form_add(struct buf *form, const char *key, const char *val) {
  static const char keep[] = "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-~";
  const char *parts[] = {key, val};
  int rc = buf_puts(form, form->len ? "&" : "");
  for (int i = 0; i < 2; i++) {
    rc |= buf_puts(form, i ? "=" : "");
    for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) {
      if (*p && strchr(keep, *p))
        rc |= buf_append(form, p, 1);
      else if (*p == ' ')
        rc |= buf_puts(form, "+");
      else
        rc |= buf_printf(form, "%%%02X", *p);
    }
  }
  if (rc)
    die("a create's form body is too long");
}

/* The value of VAR (checked present by act_check()). */
static const char *val(const struct act_call *call, const char *var) {
  const char *v = act_call_value(call, var);
  return v ? v : "";
}

/* vm_create's optional values, as the role writes them (NULL: omitted):
   the disk, the CD and its boot order, the network card. */
struct vm_extras {
  char *scsi0, *ide2, *net0;
  const char *boot;
};

static void vm_extras(const struct act_call *call, struct vm_extras *x) {
  const char *size = act_call_value(call, "vm_disk_size");
  const char *iso = act_call_value(call, "vm_iso_file");
  const char *store = act_call_value(call, "proxmox_dest_vm_storage_name");
  const char *bridge = act_call_value(call, "vm_net_virtio_bridge");
  x->scsi0 =
      size ? xasprintf("%s:%s,format=raw", store ? store : "local-lvm", size)
           : NULL;
  x->ide2 = iso ? xasprintf("%s,media=cdrom", iso) : NULL;
  x->boot = iso ? "order=ide2" : NULL;
  x->net0 = xasprintf("virtio,bridge=%s", bridge ? bridge : "vmbr0");
}

static void vm_extras_clear(struct vm_extras *x) {
  free(x->scsi0);
  free(x->ide2);
  free(x->net0);
}

/* The role's form body of vm_create, in its order. */
static void vm_form(const struct act_call *call, const struct vm_extras *x,
                    struct buf *form) {
  static const char *const keys[][2] = {
      {"vmid", "vm_id"},         {"name", "vm_name"},
      {"cpu", "vm_cpu"},         {"cores", "vm_cores"},
      {"sockets", "vm_sockets"}, {"memory", "vm_memory"}};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    form_add(form, keys[i][0], val(call, keys[i][1]));
  form_add(form, "balloon", "0");
  if (x->scsi0)
    form_add(form, "scsi0", x->scsi0);
  if (x->ide2) {
    form_add(form, "ide2", x->ide2);
    form_add(form, "boot", x->boot);
  }
  form_add(form, "net0", x->net0);
}

/* vm_create's result: the play's values and the POST's answer. */
static cJSON *vm_create_result(const struct act_call *call,
                               const struct vm_extras *x,
                               const cJSON *answer) {
  static const char *const vars[] = {"vm_name", "vm_cpu", "vm_cores",
                                     "vm_sockets", "vm_memory"};
  cJSON *r = base_result(call);
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    cJSON_AddStringToObject(r, vars[i], val(call, vars[i]));
  if (x->scsi0)
    cJSON_AddStringToObject(r, "vm_scsi0", x->scsi0);
  if (x->ide2) {
    cJSON_AddStringToObject(r, "ide2", x->ide2);
    cJSON_AddStringToObject(r, "boot", x->boot);
  }
  cJSON_AddStringToObject(r, "vm_net0", x->net0);
  cJSON_AddItemToObject(r, "raw_data", cJSON_Duplicate(answer, true));
  return r;
}

/* lxc_create's composed values: rootfs, net0, nameserver. */
static void lxc_composed(const struct act_call *call, char **rootfs,
                         char **net0, char **dns) {
  *rootfs = xasprintf("%s:%s", val(call, "proxmox_storage"),
                      val(call, "lxc_disk_size"));
  *net0 = xasprintf("name=%s,bridge=%s,ip=%s,gw=%s", val(call, "lxc_net_name"),
                    val(call, "lxc_bridge"), val(call, "lxc_ip"),
                    val(call, "lxc_gateway"));
  *dns = xasprintf("%s,%s", val(call, "lxc_dns_primary"),
                   val(call, "lxc_dns_secondary"));
}

static void lxc_form(const struct act_call *call, struct buf *form) {
  cleanup_free char *rootfs = NULL, *net0 = NULL, *dns = NULL;
  lxc_composed(call, &rootfs, &net0, &dns);
  form_add(form, "vmid", val(call, "vm_id"));
  form_add(form, "hostname", val(call, "lxc_name"));
  form_add(form, "ostemplate", val(call, "lxc_template"));
  form_add(form, "password", val(call, "lxc_password"));
  form_add(form, "ssh-public-keys", val(call, "lxc_ssh_pubkeys"));
  form_add(form, "cores", val(call, "lxc_cores"));
  form_add(form, "memory", val(call, "lxc_memory"));
  form_add(form, "rootfs", rootfs);
  form_add(form, "net0", net0);
  form_add(form, "nameserver", dns);
  form_add(form, "start", "1");
}

/* lxc_create's result (the keys are not public: REDACTED). */
static cJSON *lxc_create_result(const struct act_call *call,
                                const cJSON *answer) {
  cleanup_free char *rootfs = NULL, *net0 = NULL, *dns = NULL;
  lxc_composed(call, &rootfs, &net0, &dns);
  cJSON *r = base_result(call);
  cJSON_AddStringToObject(r, "lxc_name", val(call, "lxc_name"));
  cJSON_AddStringToObject(r, "lxc_cores", val(call, "lxc_cores"));
  cJSON_AddStringToObject(r, "lxc_memory", val(call, "lxc_memory"));
  cJSON_AddStringToObject(r, "lxc_os_template", val(call, "lxc_template"));
  cJSON_AddStringToObject(r, "lxc_password", val(call, "lxc_password"));
  cJSON_AddStringToObject(r, "lxc_ssh_public_keys", "REDACTED");
  cJSON_AddStringToObject(r, "lxc_rootfs", rootfs);
  cJSON_AddStringToObject(r, "lxc_net0", net0);
  cJSON_AddStringToObject(r, "lxc_nameserver", dns);
  cJSON_AddItemToObject(r, "raw_data", cJSON_Duplicate(answer, true));
  return r;
}

/* vm_create's check: true when the id answers GET status/current with
   200 (the role then skips the create); anything else, no answer
   included, lets it go on (failed_when: false). */
static bool vm_exists(struct pve *pve, const struct act_call *call) {
  cleanup_free char *path =
      xasprintf("/nodes/%s/qemu/%s/status/current", call->node, call->vm_id);
  struct pve_reply reply;
  struct msg_err err = {{0}};
  if (pve_request(pve, "GET", path, PVE_BODY_FORM, NULL, ACT_REQUEST_TIMEOUT,
                  &reply, &err) < 0)
    return false;
  bool exists = reply.status == 200;
  pve_reply_clear(&reply);
  return exists;
}

/* vm_create and lxc_create, first step: the check (VMs: an id in use
   skips the create, OUT->skipped, 0), then the POST (-1 when it fails).
   Returns 1 with W->reply the POST's answer. */
static int create_begin(struct pve *pve, struct act_wait *w,
                        struct act_outcome *out) {
  const struct act_call *call = w->call;
  bool is_lxc = call->def->guest->lxc;
  if (!is_lxc) {
    w->requests++;
    if (vm_exists(pve, call)) {
      out->skipped = true;
      snprintf(out->skip_msg, sizeof out->skip_msg,
               "VM ID %s already exists \xe2\x80\x94 skipping creation",
               call->vm_id);
      out->requests = w->requests;
      return 0;
    }
  }
  cleanup_buf struct buf form;
  buf_init(&form, 1 << 20);
  if (is_lxc) {
    lxc_form(call, &form);
  } else {
    struct vm_extras x = {0};
    vm_extras(call, &x);
    vm_form(call, &x, &form);
    vm_extras_clear(&x);
  }
  cleanup_free char *path = action_path(call);
  struct pve_reply reply;
  w->requests++;
  if (request(pve, call->def->api_task, "POST", path, PVE_BODY_FORM, form.data,
              ACT_REQUEST_TIMEOUT, &reply, out) < 0) {
    out->requests = w->requests;
    return -1;
  }
  w->reply = reply.json;
  return 1;
}

/* The result of a create whose task is over (ended in error too: the
   role prints it all the same). */
static cJSON *create_result(const struct act_call *call, const cJSON *answer) {
  if (call->def->guest->lxc)
    return lxc_create_result(call, answer);
  struct vm_extras x = {0};
  vm_extras(call, &x);
  cJSON *r = vm_create_result(call, &x, answer);
  vm_extras_clear(&x);
  return r;
}

/* The action's own request (not a create): -1 when it fails, else 1 with
   W->reply its answer. */
static int action_begin(struct pve *pve, struct act_wait *w,
                        struct act_outcome *out) {
  const struct act_call *call = w->call;
  const struct act_def *def = call->def;
  cleanup_free char *path = action_path(call);
  cleanup_free char *json = def->snapshot_body ? snapshot_body(call) : NULL;
  struct pve_reply reply;
  w->requests = 1;
  if (request(pve, def->api_task, def->method, path,
              json ? PVE_BODY_JSON : PVE_BODY_FORM, json ? json : def->form,
              ACT_REQUEST_TIMEOUT, &reply, out) < 0) {
    out->requests = w->requests;
    return -1;
  }
  w->reply = reply.json;
  return 1;
}

/* With profiling on: W's requests, and its task's length as seen. */
static void profile_action(const struct act_wait *w) {
  const struct act_call *call = w->call;
  if (!msg_profiling())
    return;
  if (w->poll_path)
    msg_profile("action %s%s%s: %d requests (%d task polls, task seen "
                "%.3f s)",
                call->def->name, call->vm_id ? " vm " : "",
                call->vm_id ? call->vm_id : "", w->requests, w->polls,
                util_now() - w->start);
  else
    msg_profile("action %s%s%s: %d requests", call->def->name,
                call->vm_id ? " vm " : "", call->vm_id ? call->vm_id : "",
                w->requests);
}

void act_wait_clear(struct act_wait *w) {
  cJSON_Delete(w->reply);
  free(w->poll_path);
  memset(w, 0, sizeof *w);
}

/* W's task done (or none): the result, W cleared.  0 or -1. */
static int finish(struct pve *pve, struct act_wait *w,
                  struct act_outcome *out) {
  const struct act_def *def = w->call->def;
  if (def->shape == ACT_STATUS)
    w->requests++;
  out->result = def->shape == ACT_CREATE ? create_result(w->call, w->reply)
                                         : result(pve, w->call, w->reply, out);
  out->requests = w->requests;
  profile_action(w);
  act_wait_clear(w);
  return out->result ? 0 : -1;
}

int act_begin(struct pve *pve, const struct act_call *call, const cJSON *list,
              struct act_wait *w, struct act_outcome *out) {
  memset(out, 0, sizeof *out);
  memset(w, 0, sizeof *w);
  w->call = call;
  const struct act_def *def = call->def;
  if (def->shape == ACT_LIST && list && !def->guest->lxc) {
    out->result =
        list_result(call, cJSON_GetObjectItemCaseSensitive(list, "data"));
    return 0;
  }
  int rc = def->shape == ACT_CREATE ? create_begin(pve, w, out)
                                    : action_begin(pve, w, out);
  if (rc != 1)
    return rc;
  const char *upid =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w->reply, "data"));
  if (def->timeout <= 0 || !upid)
    return finish(pve, w, out);
  cleanup_free char *esc = pve_escape(upid);
  w->poll_path = xasprintf("/nodes/%s/tasks/%s/status", call->node, esc);
  w->start = w->next = util_now();
  w->end = w->start + call->timeout;
  w->last = w->end - fmin(ACT_POLL_LAST, call->timeout / 10);
  return 1;
}

int act_poll(struct pve *pve, struct act_wait *w, struct act_outcome *out) {
  w->requests++;
  int rc = check_task(pve, w, out);
  if (rc == 2)
    return 1;
  msg_profile("task wait (timeout %g s)", w->call->timeout);
  if (rc < 0) {
    out->requests = w->requests;
    profile_action(w);
    act_wait_clear(w);
    return -1;
  }
  return finish(pve, w, out);
}

int act_run(struct pve *pve, const struct act_call *call, const cJSON *list,
            struct act_outcome *out) {
  struct act_wait w;
  int rc = act_begin(pve, call, list, &w, out);
  while (rc == 1) {
    act_sleep_until(w.next);
    rc = act_poll(pve, &w, out);
  }
  return rc;
}
