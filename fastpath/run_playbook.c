/* SPDX-License-Identifier: GPL-3.0-or-later */
/* run_playbook.c: the playbook-level fast path.  Checks, in order, that
 * the call is one we reproduce exactly (docs/decision.md): command line,
 * stdout callback and config, playbook shape and action, inventory host, role,
 * vault and credentials, the API probe.  Any doubt falls back to the real
 * ansible-playbook with the same argv, environment and stdin bytes.  Then
 * runs the action and prints the json callback document. */
#define _GNU_SOURCE
#include "run.h"

#include "acfg.h"
#include "action.h"
#include "cli.h"
#include "doc.h"
#include "evlog.h"
#include "inventory.h"
#include "job.h"
#include "play.h"
#include "probe.h"
#include "vault.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAYBOOK_MAX (4 * 1024 * 1024)
#define DOC_MAX (64 * 1024 * 1024)

/* Everything gathered about one call; freed by pb_clear(). */
struct pb {
  struct cli_playbook cli;
  char *path; /* the playbook's path as Ansible prints it */
  struct acfg cfg;
  int indent; /* json_indent in effect */
  struct play play;
  char *role_dir; /* where the role is */
  struct job job; /* the call: vars, credentials, action */
  struct pve *pve;
  cJSON *list; /* the probe's answer */
};

static void pb_clear(struct pb *pb) {
  free(pb->path);
  acfg_clear(&pb->cfg);
  play_clear(&pb->play);
  free(pb->role_dir);
  job_clear(&pb->job);
  pve_free(pb->pve);
  cJSON_Delete(pb->list);
}

static bool is_stdin_path(const char *path) {
  static const char *const names[] = {"/dev/stdin", "/dev/fd/0",
                                      "/proc/self/fd/0", NULL};
  return util_str_in(path, names);
}

/* PATH with "." and empty parts dropped, as os.path.normpath() gives it
   for an absolute path without ".." (a leading "//" is kept).  Caller
   frees. */
static char *normpath(const char *path) {
  char *out = xmalloc(strlen(path) + 2);
  size_t n = 0, lead = strspn(path, "/");
  if (lead == 2)
    out[n++] = '/';
  for (const char *p = path + lead; *p;) {
    size_t c = strcspn(p, "/");
    if (c > 0 && !(c == 1 && p[0] == '.')) {
      out[n++] = '/';
      memcpy(out + n, p, c);
      n += c;
    }
    p += c;
    p += strspn(p, "/");
  }
  if (n == 0 || (lead == 2 && n == 1))
    out[n++] = '/';
  out[n] = '\0';
  return out;
}

/* The playbook's path as Ansible prints it (and opens it): made absolute
   from the working directory and normalised, symlinks kept.  NULL (E set)
   when Ansible would turn it into another name: a "$" (it expands
   variables), a file name starting with "~" (a home) or a quote (it
   unquotes), a ".." (resolved by text, not through symlinks).  Caller
   frees. */
static char *ansible_path(const char *given, struct msg_err *e) {
  const char *base = strrchr(given, '/');
  base = base ? base + 1 : given;
  cleanup_free char *cwd = given[0] == '/' ? NULL : getcwd(NULL, 0);
  if (given[0] != '/' && !cwd) {
    msg_err_set(e, "working directory: %s", strerror(errno));
    return NULL;
  }
  cleanup_free char *full =
      cwd ? xasprintf("%s/%s", cwd, given) : xstrdup(given);
  bool dotdot = false;
  for (const char *p = full; (p = strstr(p, "/..")); p += 3)
    dotdot = dotdot || p[3] == '/' || p[3] == '\0';
  if (strchr(full, '$') || (base[0] && strchr("~'\"", base[0])) || dotdot) {
    msg_err_set(e, "playbook path %.200s: Ansible rewrites it", given);
    return NULL;
  }
  return normpath(full);
}

/* The stdout callback must be the json one; json_indent is honoured. */
static int check_callback(struct pb *pb, struct msg_err *e) {
  if (acfg_load(&pb->cfg, e) < 0)
    return -1;
  return acfg_json_callback(&pb->cfg, &pb->indent, e);
}

static int read_play(struct pb *pb, struct fb *fb, struct msg_err *e) {
  const char *text;
  size_t len;
  cleanup_free char *file = NULL;
  if (is_stdin_path(pb->cli.playbook)) {
    if (fb_read_stdin(fb, PLAYBOOK_MAX, true, &text, &len, e) < 0)
      return -1;
  } else {
    file = util_read_file(pb->cli.playbook, PLAYBOOK_MAX, &len);
    if (!file) {
      msg_err_set(e, "playbook %.200s: %s", pb->cli.playbook,
                  util_strerror(errno));
      return -1;
    }
    text = file;
  }
  return play_parse(text, len, &pb->play, e);
}

/* The directory of the playbook (for /dev/stdin, /dev).  Caller frees. */
static char *playbook_dir(const struct pb *pb) {
  const char *p = pb->cli.playbook;
  if (is_stdin_path(p))
    return xstrdup("/dev");
  const char *slash = strrchr(p, '/');
  return slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(".");
}

/* The vault's variables, opened with the call's passwords: the command
   line's, then the configured default. */
static int load_vault(struct pb *pb, struct vars *vault, struct msg_err *e) {
  struct vault_pwfile files[CLI_MAX_VAULT_FILES + 1];
  size_t n = 0;
  for (; n < pb->cli.n_vault_files; n++)
    files[n] =
        (struct vault_pwfile){pb->cli.vault_files[n], pb->cli.vault_labels[n]};
  const char *dflt =
      acfg_get(&pb->cfg, "ANSIBLE_VAULT_PASSWORD_FILE", "vault_password_file");
  if (dflt && *dflt)
    files[n++] = (struct vault_pwfile){dflt, NULL};
  const char *vf = pb->play.vars_file;
  cleanup_free char *dir = playbook_dir(pb);
  cleanup_free char *path =
      vf[0] == '/' ? xstrdup(vf) : xasprintf("%s/%s", dir, vf);
  return vault_read_vars(path, files, n, &pb->cfg, vault, e);
}

/* All the checks that can send the call back to Ansible. */
static int understand(struct pb *pb, struct fb *fb, char **argv,
                      struct msg_err *e) {
  int off = probe_forced_off(e);
  if (off != 0) {
    if (off > 0)
      msg_err_set(e, "RANGE42_PROXMOX_API_FORCE=off");
    return -1;
  }
  if (cli_parse_playbook(argv, &pb->cli, e) < 0 ||
      !(pb->path = ansible_path(pb->cli.playbook, e)) ||
      check_callback(pb, e) < 0 || read_play(pb, fb, e) < 0)
    return -1;
  msg_profile("config, playbook");
  cleanup_free char *pbdir = playbook_dir(pb);
  int found =
      inv_local_host(pb->cli.inventory, pb->play.hosts, pbdir, &pb->cfg, e);
  if (found <= 0) {
    if (found == 0)
      msg_err_set(e, "host %.64s is not in the inventory", pb->play.hosts);
    return -1;
  }
  if (!(pb->role_dir = acfg_find_role(&pb->cfg, pbdir, PLAY_ROLE_NAME, e)))
    return -1;
  msg_profile("inventory, role");
  struct vars vault = {0};
  int rc = load_vault(pb, &vault, e);
  if (rc == 0)
    rc = job_build(&pb->job, &vault, &pb->play.vars, e);
  if (rc == 0) /* without them the role fails in a way we do not print */
    rc = act_check_late(&pb->job.call, e);
  vars_clear(&vault);
  if (rc < 0)
    return -1;
  msg_profile("variables, checks");
  struct pve_creds pc = creds_for_pve(&pb->job.creds);
  if (!(pb->pve = pve_new(&pc, e)) ||
      probe_decide(pb->pve, &pb->job.creds, &pb->list, e) < 0)
    return -1;
  return 0;
}

/* The failed task's host result, as the uri module would report it. */
static cJSON *failure_result(const struct pb *pb,
                             const struct act_outcome *out) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddBoolToObject(r, "_ansible_no_log", false);
  cJSON_AddStringToObject(r, "action", "uri");
  cJSON_AddBoolToObject(r, "changed", false);
  cJSON_AddStringToObject(r, "msg", out->msg);
  cJSON_AddBoolToObject(r, "redirected", false);
  cJSON_AddNumberToObject(r, "status",
                          out->unreachable ? -1 : out->http_status);
  char *url =
      xasprintf("https://%s/api2/json%s", pb->job.creds.host, out->url);
  cJSON_AddStringToObject(r, "url", url);
  free(url);
  return r;
}

/* The role's debug task that says it skips a create (vm_create of an id
   in use), and its host result. */
static char *skip_task(const struct pb *pb) {
  static char name[160];
  snprintf(name, sizeof name, "%sVM - SKIP CREATE (VM ID %s already exists)",
           "range42-ansible_roles-proxmox_controller : ", pb->job.call.vm_id);
  return name;
}

static cJSON *skip_result(const struct act_outcome *out) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddBoolToObject(r, "_ansible_no_log", false);
  cJSON_AddBoolToObject(r, "_ansible_verbose_always", true);
  cJSON_AddStringToObject(r, "action", "debug");
  cJSON_AddBoolToObject(r, "changed", false);
  cJSON_AddStringToObject(r, "msg", out->skip_msg);
  return r;
}

/* Starts the document: the play, and the include_role task done. */
static void start_doc(struct pb *pb, struct doc *d) {
  cleanup_free char *play_path =
      xasprintf("%s:%d", pb->path, pb->play.play_line);
  cleanup_free char *task_path =
      xasprintf("%s:%d", pb->path, pb->play.task_line);
  doc_init(d, pb->play.hosts, play_path, pb->play.hosts);
  cJSON *inc = cJSON_CreateObject();
  cJSON_AddStringToObject(inc, "action", "include_role");
  cJSON_AddBoolToObject(inc, "changed", false);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(inc, "include_args"), "name",
                          PLAY_ROLE_NAME);
  doc_add_task(d, pb->play.task_name ? pb->play.task_name : "include_role",
               task_path, inc, false);
}

/* Ends the document with the role's result task (or the failed one) and
   prints it.  Returns 0, or -1 when stdout fails. */
static int finish_doc(struct pb *pb, struct doc *d, struct act_outcome *out) {
  cleanup_free char *role_path = xasprintf("%s/tasks/main.yml", pb->role_dir);
  if (out->result) {
    cJSON *dbg = cJSON_CreateObject();
    cJSON_AddBoolToObject(dbg, "_ansible_no_log", false);
    cJSON_AddBoolToObject(dbg, "_ansible_verbose_always", true);
    cJSON_AddStringToObject(dbg, "action", "debug");
    cJSON_AddBoolToObject(dbg, "changed", false);
    cJSON_AddItemToObject(dbg, pb->job.call.def->name,
                          steal_pointer(&out->result));
    doc_add_task(d, pb->job.call.def->print_task, role_path, dbg, false);
  } else if (out->skipped) {
    doc_add_task(d, skip_task(pb), role_path, skip_result(out), false);
  } else {
    doc_add_task(d, out->failed_task, role_path, failure_result(pb, out),
                 true);
  }
  cleanup_buf struct buf text;
  buf_init(&text, DOC_MAX);
  if (doc_render(d, pb->indent, &text) < 0)
    return -1;
  return util_write_all(STDOUT_FILENO, text.data, text.len);
}

int run_playbook(struct fb *fb, char **argv) {
  struct pb pb = {0};
  struct msg_err e = {{0}};
  if (understand(&pb, fb, argv, &e) < 0) {
    pb_clear(&pb);
    fb_exec(fb, e.text);
  }
  const struct act_call *call = &pb.job.call;
  evl_action(call->def->name);
  msg_trace("r42intercept: fast path: %s%s%s on %s via the Proxmox API",
            call->def->name, call->vm_id ? " vm " : "",
            call->vm_id ? call->vm_id : "", call->node);
  struct doc d;
  start_doc(&pb, &d);
  struct act_outcome out;
  int failed = act_run(pb.pve, call, pb.list, &out) < 0;
  evl_play(call->vm_id, failed            ? out.msg
                        : out.task_msg[0] ? out.task_msg
                                          : NULL);
  if (failed)
    job_report_failure(&pb.job, &out);
  else
    job_report_task(&pb.job, &out);
  int rc = finish_doc(&pb, &d, &out) < 0 ? 1 : 0;
  doc_clear(&d);
  msg_profile("output");
  cJSON_Delete(out.result);
  pb_clear(&pb);
  if (rc == 0 && failed && job_strict())
    rc = 2;
  return rc;
}
