/* SPDX-License-Identifier: GPL-3.0-or-later */
/* run_script.c: the script-level fast path (docs/devkit-scripts.md).
 * Answers a devkit entry script of shim/scripts.def itself: its argument
 * and stdin handling, the per-line work of its kind (each role call
 * becomes the very playbook the devkit would feed ansible-playbook, read
 * by play.c, run by action.c over one keep-alive connection), its stdout
 * lines and trace/error lines.  One function per kind of script, none per
 * script: the row says what differs.  Anything it does not reproduce
 * runs the real script: before any output with the whole stdin, or from
 * the first line it cannot answer with the remaining stdin, so the real
 * script does exactly what it would have done for those lines.  Where
 * ansible fails (an HTTP error), the line prints nothing and a trace, and
 * the batch goes on (the batch rule, docs/decision.md section 5), or ends with
 * status 2 under RANGE42_PROXMOX_API_STRICT=1, where the devkit's set -e ends
 * it; a task that ends in error prints the role's line all the same, as the
 * role does, and a trace. */
#define _GNU_SOURCE
#include "run.h"

#include "../shim/match.h"
#include "acfg.h"
#include "batch.h"
#include "config.h"
#include "devkit.h"
#include "evlog.h"
#include "inventory.h"
#include "job.h"
#include "jout.h"
#include "play.h"
#include "probe.h"
#include "textout.h"
#include "vault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCRIPT_STDIN_MAX (4 * 1024 * 1024)
#define DEFAULT_PASSWORD_FILE "/tmp/vault/vault_pass.txt"
#define MAX_NODES 16
#define SNAP_NAME_TRIES 5 /* seconds waited at most for a free default */

/* One script call. */
struct sc {
  const struct dk_script *s;
  struct fb *fb;
  const char *filter;     /* the name filter argument, or NULL */
  char *inventory;        /* the devkit's inventory file */
  char *vault_file;       /* the devkit's vault */
  struct acfg cfg;        /* the devkit's ansible_no_skipped_json.cfg */
  struct vars vault;      /* the vault's variables */
  struct pve *pve;        /* the connection, opened at first need */
  char *nodes[MAX_NODES]; /* nodes probed up and in the inventory */
  size_t n_nodes;
  struct dk_request *reqs;
  size_t n_reqs;
  char **made; /* default snapshot names this call used: node/id/name */
  size_t n_made;
  bool strict;              /* RANGE42_PROXMOX_API_STRICT=1 */
  struct batch_slot *slot;  /* in a batch: the line's action goes here */
  struct dk_request *lines; /* the batch's lines (reqs, or run_all's) */
  bool text;                /* --text: ansible's default callback text per line */
  struct acfg tcfg;         /* --text: the devkit's ansible.cfg */
  struct tout role;         /* --text: the role's tasks for the action */
};

/* What became of one line. */
enum line_rc {
  LINE_DONE,   /* answered (its output is printed) */
  LINE_FAILED, /* ansible would have failed: traced, the batch goes on */
  LINE_UNSURE  /* not reproducible: the real script takes over here */
};

static void sc_clear(struct sc *c) {
  free(c->inventory);
  free(c->vault_file);
  acfg_clear(&c->cfg);
  vars_clear(&c->vault);
  pve_free(c->pve);
  for (size_t i = 0; i < c->n_nodes; i++)
    free(c->nodes[i]);
  dk_requests_free(c->reqs, c->n_reqs);
  for (size_t i = 0; i < c->n_made; i++)
    free(c->made[i]);
  free(c->made);
  acfg_clear(&c->tcfg);
  tout_clear(&c->role);
}

static void write_out(const struct buf *b) {
  if (util_write_all(STDOUT_FILENO, b->data, b->len) < 0)
    die("cannot write to stdout: %s", strerror(errno));
}

/* ITEM as one `jq -c` line on stdout; with RAW, as `jq -r` prints it (a
   string's text as it is). */
static void print_jq(const cJSON *item, bool raw) {
  struct buf b;
  buf_init(&b, 16 * 1024 * 1024);
  int rc = raw && cJSON_IsString(item) ? buf_puts(&b, item->valuestring)
                                       : jout_write(&b, item, JOUT_JQ, 0);
  if (rc < 0 || buf_puts(&b, "\n") < 0)
    die_oom();
  write_out(&b);
  buf_free(&b);
}

static void print_line(const cJSON *item) {
  print_jq(item, false);
}

/* ITEM as one `jq -c` line without the newline.  The caller frees. */
static char *jq_text(const cJSON *item) {
  struct buf b;
  buf_init(&b, 1 << 20);
  if (jout_write(&b, item, JOUT_JQ, 0) < 0)
    die_oom();
  return b.data ? b.data : xstrdup("");
}

/* ---- the call's set-up ------------------------------------------------- */

/* The arguments, as the script reads them.  0, or -1 (E set) when the
   script would not do its JSON work (help, --text, errors, hangs). */
static int read_args(struct sc *c, char **argv, struct msg_err *e) {
  const char *a1 = argv[1];
  if (a1 && (!strcmp(a1, "-h") || !strcmp(a1, "--help"))) {
    if (c->s->help)
      msg_err_set(e, "help");
    else
      msg_err_set(e, "argument %.40s", a1);
    return -1;
  }
  enum dk_args style = c->s->args;
  if (style == DK_ARGS_NONE)
    return 0;
  if (style == DK_ARGS_FIRST || style == DK_ARGS_WORD) {
    if (a1 && !strcmp(a1, "--text"))
      c->text = true;
    if (!a1 || !*a1 || !strcmp(a1, "--json") || c->text)
      return 0;
    if (style == DK_ARGS_FIRST || a1[0] == '-') {
      msg_err_set(e, "argument %.40s", a1);
      return -1;
    }
    c->filter = a1;
  } else {
    /* a filter (a second word is an error unless the first was empty);
       the snapshot changes hang on any word */
    for (int i = 1; argv[i]; i++) {
      if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--text")) {
        c->text = !strcmp(argv[i], "--text");
        continue;
      }
      if (argv[i][0] == '-' || style == DK_ARGS_SPIN ||
          (c->filter && *c->filter)) {
        msg_err_set(e, "argument %.40s", argv[i]);
        return -1;
      }
      c->filter = argv[i];
    }
  }
  if (c->filter && !*c->filter)
    c->filter = NULL;
  if (c->filter && dk_regex_test(c->filter, "", e) < 0)
    return -1;
  return 0;
}

/* With --text: every kind but the ids list (whose --text goes to
   list_running, and jq then fails on ansible's text). */
static int text_kind(const struct sc *c, struct msg_err *e) {
  if (c->text && c->s->kind == DK_IDS) {
    msg_err_set(e, "--text");
    return -1;
  }
  return 0;
}

/* The default callback's text as we print it: no tty on stdout (colours,
   its width), no setting that changes the callback's output, no cowsay
   banners.  0, or -1 (E set). */
static int text_config_ok(const struct acfg *cfg, struct msg_err *e) {
  static const char *const keys[][2] = {
      {"ANSIBLE_CALLBACKS_ENABLED", "callbacks_enabled"},
      {"ANSIBLE_CALLBACK_WHITELIST", "callback_whitelist"},
      {"ANSIBLE_CALLBACK_RESULT_FORMAT", "callback_result_format"},
      {"ANSIBLE_CALLBACK_FORMAT_PRETTY", "callback_format_pretty"},
      {"ANSIBLE_DISPLAY_SKIPPED_HOSTS", "display_skipped_hosts"},
      {"ANSIBLE_DISPLAY_OK_HOSTS", "display_ok_hosts"},
      {"ANSIBLE_DISPLAY_FAILED_STDERR", "display_failed_stderr"},
      {"ANSIBLE_DISPLAY_ARGS_TO_STDOUT", "display_args_to_stdout"},
      {"ANSIBLE_SHOW_CUSTOM_STATS", "show_custom_stats"},
      {"ANSIBLE_SHOW_PER_HOST_START", "show_per_host_start"},
      {"ANSIBLE_SHOW_TASK_PATH_ON_FAILURE", "show_task_path_on_failure"},
      {"ANSIBLE_CHECK_MODE_MARKERS", "check_mode_markers"},
      {"ANSIBLE_VERBOSITY", "verbosity"},
      {"ANSIBLE_DEBUG", "debug"},
      {"ANSIBLE_FORCE_COLOR", "force_color"},
      {"ANSIBLE_COW_SELECTION", "cow_selection"},
      {"ANSIBLE_COW_PATH", "cowpath"},
      {"ANSIBLE_ANY_ERRORS_FATAL", "any_errors_fatal"},
      {"ANSIBLE_DISPLAY_TRACEBACK", "display_traceback"}};
  const char *cb = acfg_get(cfg, "ANSIBLE_STDOUT_CALLBACK", "stdout_callback");
  if (cb && strcmp(cb, "default") && strcmp(cb, "ansible.builtin.default")) {
    msg_err_set(e, "--text with the stdout callback %.40s", cb);
    return -1;
  }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (acfg_get(cfg, keys[i][0], keys[i][1])) {
      msg_err_set(e, "--text with %s set", keys[i][1]);
      return -1;
    }
  if (acfg_section_used(cfg, "callback") || isatty(STDOUT_FILENO) ||
      getenv("ANSIBLE_STDOUT_CALLBACK")) {
    msg_err_set(e, "--text on a terminal or with callback settings");
    return -1;
  }
  static const char *const cows[] = {"/usr/bin/cowsay", "/usr/games/cowsay",
                                     "/usr/local/bin/cowsay",
                                     "/opt/local/bin/cowsay"};
  static const char *const yes[] = {"1",   "true", "True", "TRUE",
                                    "yes", "Yes",  "YES",  "on",
                                    "On",  "ON",   NULL};
  const char *nocows = acfg_get(cfg, "ANSIBLE_NOCOWS", "nocows");
  for (size_t i = 0; i < 4; i++)
    if (access(cows[i], X_OK) == 0 && !(nocows && util_str_in(nocows, yes))) {
      msg_err_set(e, "--text with cowsay installed");
      return -1;
    }
  return 0;
}

/* With --text: the devkit's ansible.cfg and the role read for the action,
   before anything is done.  0, or -1 (E set). */
static int load_text(struct sc *c, const char *devkits, struct msg_err *e) {
  cleanup_free char *cfg = xasprintf("%s/ansible.cfg", devkits);
  if (acfg_load_file(&c->tcfg, cfg, e) < 0 || text_config_ok(&c->tcfg, e) < 0)
    return -1;
  cleanup_free char *role =
      acfg_find_role(&c->tcfg, "/dev", PLAY_ROLE_NAME, e);
  if (!role || role[0] != '/')
    return -1;
  return tout_load(&c->role, role, PLAY_ROLE_NAME, c->s->action, e);
}

/* The devkit reads the vault twice: ansible-playbook with its own config,
   and ansible-vault view (devkit_ansible.get_proxmox_node) with the
   caller's.  That one must parse and set no vault setting of its own, so
   that the vault opens there exactly as it does for ansible-playbook. */
int run_caller_config_ok(struct msg_err *e) {
  static const char *const keys[] = {"vault_password_file", "vault_id_match",
                                     "vault_identity", "vault_identity_list",
                                     NULL};
  struct acfg cfg;
  if (acfg_load(&cfg, e) < 0)
    return -1;
  int rc = 0;
  for (const char *const *k = keys; *k && rc == 0; k++)
    if (acfg_get(&cfg, NULL, *k)) {
      msg_err_set(e, "%.200s sets %s", cfg.path, *k);
      rc = -1;
    }
  acfg_clear(&cfg);
  return rc;
}

/* The devkit's files, its config, the role and the vault. */
static int load_devkit(struct sc *c, struct msg_err *e) {
  const char *devkits = getenv("RANGE42_ANSIBLE_ROLES__DEVKITS_DIR");
  const char *invdir = getenv("RANGE42_ANSIBLE_ROLES__INVENTORY_DIR");
  const char *pw = getenv("RANGE42_VAULT_PASSWORD_FILE");
  if (!pw || !*pw)
    pw = DEFAULT_PASSWORD_FILE;
  struct stat st;
  if (!devkits || !*devkits || !invdir || !*invdir) {
    msg_err_set(e, "RANGE42_ANSIBLE_ROLES__DEVKITS_DIR or "
                   "RANGE42_ANSIBLE_ROLES__INVENTORY_DIR is not set");
    return -1;
  }
  if (stat(pw, &st) < 0 || !S_ISREG(st.st_mode)) {
    msg_err_set(e, "no vault password file %.200s", pw);
    return -1;
  }
  c->inventory = xasprintf("%s/inventory_default.yml", invdir);
  c->vault_file = xasprintf("%s/secrets/default_vault.yml", devkits);
  cleanup_free char *cfg =
      xasprintf("%s/ansible_no_skipped_json.cfg", devkits);
  int indent;
  if (acfg_load_file(&c->cfg, cfg, e) < 0 ||
      acfg_json_callback(&c->cfg, &indent, e) < 0)
    return -1;
  cleanup_free char *role = acfg_find_role(&c->cfg, "/dev", PLAY_ROLE_NAME, e);
  if (!role)
    return -1;
  struct vault_pwfile files[2] = {{pw, NULL}};
  size_t n = 1;
  const char *dflt =
      acfg_get(&c->cfg, "ANSIBLE_VAULT_PASSWORD_FILE", "vault_password_file");
  if (dflt && *dflt)
    files[n++] = (struct vault_pwfile){dflt, NULL};
  if (run_caller_config_ok(e) < 0 || (c->text && load_text(c, devkits, e) < 0))
    return -1;
  return vault_read_vars(c->vault_file, files, n, &c->cfg, &c->vault, e);
}

/* Stdin as the requests the devkit makes of it: ids or node names (a
   terminal: the vault's node).  A drained stdin is read like the
   script's first `cat` reads it, and what its state list then reads is
   empty (or the terminal). */
static int read_requests(struct sc *c, struct msg_err *e) {
  const char *node = vars_get(&c->vault, "proxmox_node");
  if (!node || !*node) {
    msg_err_set(e, "the vault has no proxmox_node string");
    return -1;
  }
  const char *action = getenv("ACTION") ? c->s->action : "";
  const char *key = c->s->in == DK_IN_IDS ? "vm_id" : "proxmox_node";
  cleanup_free char *tty_line = NULL;
  const char *input;
  size_t len;
  if (isatty(STDIN_FILENO)) { /* the ids scripts exited in the warmup */
    tty_line = xasprintf("%s\n", node);
    input = tty_line;
    len = strlen(tty_line);
  } else if (fb_read_stdin(c->fb, SCRIPT_STDIN_MAX, false, &input, &len, e) <
             0) {
    return -1;
  }
  if (c->s->in == DK_IN_DRAINED && !tty_line)
    len = 0;
  return dk_requests(input, len, key, node, action, &c->reqs, &c->n_reqs, e);
}

/* ---- one action --------------------------------------------------------- */

/* NODE ready for CREDS (whose node it is): in the inventory, its API
   probed up (once per node per call).  0, or -1 (E set). */
static int node_ready(struct sc *c, const char *node, const struct creds *cr,
                      struct msg_err *e) {
  for (size_t i = 0; i < c->n_nodes; i++)
    if (!strcmp(c->nodes[i], node))
      return 0;
  if (c->n_nodes == MAX_NODES) {
    msg_err_set(e, "too many nodes in one call");
    return -1;
  }
  int found = inv_local_host(c->inventory, node, "/dev", &c->cfg, e);
  if (found <= 0) {
    if (found == 0)
      msg_err_set(e, "host %.64s is not in the inventory", node);
    return -1;
  }
  if (!c->pve) {
    struct pve_creds pc = creds_for_pve(cr);
    if (!(c->pve = pve_new(&pc, e)))
      return -1;
  }
  cJSON *list = NULL;
  if (probe_decide(c->pve, cr, &list, e) < 0)
    return -1;
  cJSON_Delete(list);
  c->nodes[c->n_nodes++] = xstrdup(node);
  return 0;
}

/* The first line's node ready, before anything is printed: a probe that
   fails falls back with the whole of stdin. */
static int first_node_ready(struct sc *c, struct msg_err *e) {
  if (c->n_reqs == 0)
    return 0;
  cleanup_free char *node = dk_raw_value(
      cJSON_GetObjectItemCaseSensitive(c->reqs[0].obj, "proxmox_node"));
  struct vars v = {0};
  vars_merge(&v, &c->vault);
  vars_set(&v, "proxmox_node", node);
  struct creds cr;
  int rc = creds_from_vars(&cr, &v, e);
  if (rc == 0) {
    rc = node_ready(c, cr.node, &cr, e);
    creds_clear(&cr);
  }
  vars_clear(&v);
  return rc;
}

/* The call the devkit's playbook for REQ and ACTION makes, its node
   ready: LINE_DONE with JOB set (job_clear() it), or LINE_UNSURE. */
static enum line_rc prepare_play(struct sc *c, const cJSON *req,
                                 const char *action, struct job *job,
                                 struct play *keep, struct msg_err *e) {
  cleanup_free char *text = dk_playbook(req, action, c->vault_file, e);
  if (!text)
    return LINE_UNSURE;
  struct play play;
  if (play_parse(text, strlen(text), &play, e) < 0)
    return LINE_UNSURE;
  enum line_rc rc = LINE_UNSURE;
  if (job_build(job, &c->vault, &play.vars, e) == 0) {
    if (strcmp(play.hosts, job->call.node) != 0)
      msg_err_set(e, "the play's host is not its proxmox_node");
    else if (node_ready(c, play.hosts, &job->creds, e) == 0)
      rc = LINE_DONE;
    if (rc != LINE_DONE)
      job_clear(job);
  }
  if (keep && rc == LINE_DONE)
    *keep = play;
  else
    play_clear(&play);
  return rc;
}

static enum line_rc prepare(struct sc *c, const cJSON *req, const char *action,
                            struct job *job, struct msg_err *e) {
  return prepare_play(c, req, action, job, NULL, e);
}

/* --text: ACTION for REQ, printed as ansible's default callback prints
   the devkit's playbook, after the devkit's trace of the line. */
static enum line_rc act_text(struct sc *c, const cJSON *req,
                             const char *action, struct msg_err *e) {
  struct job job;
  struct play play;
  enum line_rc rc = prepare_play(c, req, action, &job, &play, e);
  if (rc != LINE_DONE) /* the real script from here: it traces the line */
    return rc;
  cleanup_free char *line = jq_text(req);
  cleanup_free char *trace = xasprintf(":: GET JSON FROM STDIN - %s", line);
  dk_trace(trace);
  struct vars vars = {0};
  vars_merge(&vars, &c->vault);
  vars_merge(&vars, &play.vars);
  struct act_outcome out;
  pve_keep(c->pve, true);
  evl_action(job.call.def->name);
  bool done = act_run(c->pve, &job.call, NULL, &out) == 0;
  evl_play(job.call.vm_id, done ? (out.task_msg[0] ? out.task_msg : NULL)
                                : out.msg);
  if (done)
    job_report_task(&job, &out);
  else
    job_report_failure(&job, &out);
  struct tout_call call = {.host = play.hosts,
                           .task_name = play.task_name,
                           .vars = &vars,
                           .result = out.result};
  call.x = pve_kept(c->pve, &call.n_x);
  struct buf text;
  buf_init(&text, 64 * 1024 * 1024);
  bool failed;
  if (!play.task_name || tout_render(&c->role, &call, &text, &failed, e) < 0) {
    msg_trace("r42intercept: vm %s: ansible's text not reproduced: %s",
              job.call.vm_id ? job.call.vm_id : "-", e->text);
    rc = LINE_FAILED;
  } else {
    write_out(&text);
    rc = done && !failed ? LINE_DONE : LINE_FAILED;
  }
  buf_free(&text);
  pve_keep(c->pve, false);
  cJSON_Delete(out.result);
  vars_clear(&vars);
  play_clear(&play);
  job_clear(&job);
  return rc;
}

/* Runs ACTION for the request REQ, through the playbook text the devkit
   would have written.  On LINE_DONE, *RESULT is the role's result (keys
   sorted; the caller frees); a task that did not end OK is traced. */
static enum line_rc run_action(struct sc *c, const cJSON *req,
                               const char *action, cJSON **result,
                               struct msg_err *e) {
  *result = NULL;
  struct job job;
  enum line_rc rc = prepare(c, req, action, &job, e);
  if (rc != LINE_DONE)
    return rc;
  struct act_outcome out;
  evl_action(job.call.def->name);
  if (act_run(c->pve, &job.call, NULL, &out) == 0) {
    evl_play(job.call.vm_id, out.task_msg[0] ? out.task_msg : NULL);
    job_report_task(&job, &out);
    if (out.result)
      jout_sort_keys(out.result);
    *result = out.result;
  } else {
    evl_play(job.call.vm_id, out.msg);
    job_report_failure(&job, &out);
    rc = LINE_FAILED;
  }
  job_clear(&job);
  return rc;
}

/* The result of ACTION for REQ printed as one line; in a batch, its
   request sent into the line's slot, the rest left to the batch. */
static enum line_rc act_and_print(struct sc *c, const cJSON *req,
                                  const char *action, struct msg_err *e) {
  if (c->slot) {
    enum line_rc rc = prepare(c, req, action, &c->slot->job, e);
    if (rc == LINE_DONE) {
      evl_action(c->slot->job.call.def->name);
      batch_slot_begin(c->pve, c->slot);
    }
    return rc;
  }
  cJSON *result;
  enum line_rc rc = run_action(c, req, action, &result, e);
  if (rc == LINE_DONE && result) /* none: a create skipped */
    print_line(result);
  cJSON_Delete(result);
  return rc;
}

/* ---- guests, as the list scripts print them ---------------------------- */

/* REQ's FIELD as `jq -r '.FIELD // empty'` gives it (the caller frees);
   NULL for an object or array. */
static char *field(const cJSON *req, const char *name) {
  return dk_raw_value(cJSON_GetObjectItemCaseSensitive(req, name));
}

/* The VM id of REQ when it is an integer the devkit's --argjson reads. */
static bool vm_number(const cJSON *req, long long *id) {
  cleanup_free char *v = field(req, "vm_id");
  if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 15)
    return false;
  *id = atoll(v);
  return true;
}

/* Whether ITEM's KEY matches the call's filter (a case-insensitive
   regex, as key_field_greper's test()); true without a filter. */
static bool matches(const struct sc *c, const cJSON *item, const char *key) {
  if (!c->filter)
    return true;
  const char *v =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, key));
  return v && dk_regex_test(c->filter, v, NULL) == 1;
}

/* Whether ITEM's KEY is the string WANT (key_field_select); true when
   WANT is NULL. */
static bool selected(const cJSON *item, const char *key, const char *want) {
  if (!want)
    return true;
  const char *v =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, key));
  return v && !strcmp(v, want);
}

/* The lines the guest list script prints for REQ's node (meta gone),
   those that match FILTER_KEY (with a filter) and whose status is SELECT
   (when not NULL), into *ROWS (an array; the caller frees). */
static enum line_rc guest_rows(struct sc *c, const cJSON *req,
                               const char *filter_key, const char *select,
                               cJSON **rows, struct msg_err *e) {
  const struct dk_guest *g = c->s->guest;
  cJSON *list;
  enum line_rc rc = run_action(c, req, g->list_action, &list, e);
  *rows = NULL;
  if (rc != LINE_DONE)
    return rc;
  *rows = cJSON_CreateArray();
  cJSON *item;
  cJSON_ArrayForEach(item, list) {
    if ((filter_key && !matches(c, item, filter_key)) ||
        !selected(item, g->status_key, select))
      continue;
    cJSON *row = cJSON_Duplicate(item, true);
    cJSON_DeleteItemFromObjectCaseSensitive(row, g->meta_key);
    cJSON_AddItemToArray(*rows, row);
  }
  cJSON_Delete(list);
  return LINE_DONE;
}

/* The list lines of the guest ID on REQ's node (the extract script's
   output), into *ROWS. */
static enum line_rc id_rows(struct sc *c, const cJSON *req, long long id,
                            cJSON **rows, struct msg_err *e) {
  cJSON *all;
  enum line_rc rc = guest_rows(c, req, NULL, NULL, &all, e);
  *rows = NULL;
  if (rc != LINE_DONE)
    return rc;
  *rows = cJSON_CreateArray();
  cJSON *row;
  cJSON_ArrayForEach(row, all) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "vm_id");
    if (cJSON_IsNumber(v) && v->valuedouble == (double)id)
      cJSON_AddItemToArray(*rows, cJSON_Duplicate(row, true));
  }
  cJSON_Delete(all);
  return LINE_DONE;
}

/* The name of guest ID as `jq -r '.<name> // empty'` reads it from the
   extract script: "" when it is not listed.  LINE_UNSURE when it is
   listed more than once (a name of several lines), or, with ONCE, when
   it is not listed exactly once with a name. */
static enum line_rc guest_name(struct sc *c, const cJSON *req, long long id,
                               bool once, char **name, struct msg_err *e) {
  cJSON *rows;
  *name = NULL;
  enum line_rc rc = id_rows(c, req, id, &rows, e);
  if (rc != LINE_DONE)
    return rc;
  int n = cJSON_GetArraySize(rows);
  if (n == 1)
    *name = field(cJSON_GetArrayItem(rows, 0), c->s->guest->name_key);
  else if (n == 0 && !once)
    *name = xstrdup("");
  cJSON_Delete(rows);
  if (!*name || (once && !**name)) {
    free(*name);
    *name = NULL;
    msg_err_set(e, "guest %lld is not once in the list, or has no name", id);
    return LINE_UNSURE;
  }
  return LINE_DONE;
}

/* REQ . + {KEY: VALUE}: in place when KEY exists, else appended. */
static void set_field(cJSON *req, const char *key, const char *value) {
  if (cJSON_GetObjectItemCaseSensitive(req, key))
    cJSON_ReplaceItemInObjectCaseSensitive(req, key,
                                           cJSON_CreateString(value));
  else
    cJSON_AddStringToObject(req, key, value);
}

/* ---- the kinds' per-line work ------------------------------------------ */

/* DK_LIST: one line per guest; DK_IDS: their vm_ids. */
static enum line_rc line_list(struct sc *c, const cJSON *req,
                              struct msg_err *e) {
  cJSON *rows;
  enum line_rc rc =
      guest_rows(c, req, c->s->filter_key, c->s->select, &rows, e);
  cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    if (c->s->kind == DK_IDS)
      print_jq(cJSON_GetObjectItemCaseSensitive(row, "vm_id"), true);
    else
      print_line(row);
  }
  cJSON_Delete(rows);
  return rc;
}

/* DK_SNAP_LIST: one line per snapshot entry. */
static enum line_rc line_snap_list(struct sc *c, const cJSON *req,
                                   struct msg_err *e) {
  cJSON *result;
  enum line_rc rc = run_action(c, req, c->s->action, &result, e);
  cJSON *item;
  cJSON_ArrayForEach(item, result) {
    if (matches(c, item, c->s->filter_key))
      print_line(item);
  }
  cJSON_Delete(result);
  return rc;
}

static enum line_rc line_extract(struct sc *c, const cJSON *req,
                                 struct msg_err *e) {
  long long id;
  if (!vm_number(req, &id)) {
    msg_err_set(e, "a line without a numeric vm_id");
    return LINE_UNSURE;
  }
  cJSON *rows;
  enum line_rc rc = id_rows(c, req, id, &rows, e);
  cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    print_line(row);
  }
  cJSON_Delete(rows);
  return rc;
}

/* REQ with KEY set to VALUE, traced when the script traces its line, then
   the script's action on it, printed. */
static enum line_rc finish_line(struct sc *c, cJSON *line, struct msg_err *e) {
  if (c->s->trace && c->slot) { /* in a batch: with the line's result */
    c->slot->say = dk_trace;
    c->slot->note = jq_text(line);
  } else if (c->s->trace) {
    cleanup_free char *text = jq_text(line);
    dk_trace(text);
  }
  enum line_rc rc = c->text ? act_text(c, line, c->s->action, e)
                            : act_and_print(c, line, c->s->action, e);
  cJSON_Delete(line);
  return rc;
}

/* DK_DELETE: the guest's name ("" when unknown) merged into the line. */
static enum line_rc line_delete(struct sc *c, const cJSON *req,
                                struct msg_err *e) {
  long long id;
  if (!vm_number(req, &id)) {
    msg_err_set(e, "a line without a numeric vm_id");
    return LINE_UNSURE;
  }
  cleanup_free char *name = NULL;
  enum line_rc rc = guest_name(c, req, id, false, &name, e);
  if (rc != LINE_DONE)
    return rc;
  cJSON *line = cJSON_Duplicate(req, true);
  set_field(line, c->s->guest->name_key, name);
  return finish_line(c, line, e);
}

/* yymmdd-HHMMSS of WHEN in local time, as date(1) prints it. */
static void stamp(time_t when, char *out, size_t size) {
  struct tm tm;
  localtime_r(&when, &tm);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-y2k" /* the devkit's format */
  strftime(out, size, "%y%m%d-%H%M%S", &tm);
#pragma GCC diagnostic pop
}

/* Whether NAME is among the snapshot entries LIST (may be NULL) or the
   default names this call used for KEY (node/id). */
static bool snap_taken(const struct sc *c, const cJSON *list, const char *key,
                       const char *name) {
  cJSON *entry;
  cJSON_ArrayForEach(entry, list) {
    const char *n = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(entry, c->s->guest->snap_name_key));
    if (n && !strcmp(n, name))
      return true;
  }
  cleanup_free char *made = xasprintf("%s/%s", key, name);
  for (size_t i = 0; i < c->n_made; i++)
    if (!strcmp(c->made[i], made))
      return true;
  return false;
}

/* Sleeps until the next second of the clock begins. */
static void next_second(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct timespec ts = {0, 1000000000L - now.tv_nsec + 1000000L};
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec = 1;
    ts.tv_nsec -= 1000000000L;
  }
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* The default snapshot name <NAME>-<yymmdd-HHMMSS> for REQ's guest, with
   the time of now or, when the guest already has that snapshot (or this
   call used it), of the next free second: two creates in one second get
   distinct names of the devkit's form.  *STAMP_OUT is the time part. */
static enum line_rc default_snapshot(struct sc *c, const cJSON *req,
                                     const char *name, char *stamp_out,
                                     size_t size, struct msg_err *e) {
  cJSON *list = NULL;
  if (*name) { /* a listed guest (else its request fails anyway) */
    enum line_rc rc =
        run_action(c, req, c->s->guest->snap_list_action, &list, e);
    if (rc != LINE_DONE)
      return rc;
  }
  cleanup_free char *node = field(req, "proxmox_node");
  cleanup_free char *id = field(req, "vm_id");
  cleanup_free char *key = xasprintf("%s/%s", node ? node : "", id ? id : "");
  for (int i = 0;; i++) {
    stamp(time(NULL), stamp_out, size);
    cleanup_free char *snap = xasprintf("%s-%s", name, stamp_out);
    if (i == SNAP_NAME_TRIES || !snap_taken(c, list, key, snap)) {
      c->made = xrealloc(c->made, (c->n_made + 1) * sizeof *c->made);
      c->made[c->n_made++] = xasprintf("%s/%s", key, snap);
      break;
    }
    next_second();
  }
  cJSON_Delete(list);
  return LINE_DONE;
}

static enum line_rc line_snap_create(struct sc *c, const cJSON *req,
                                     struct msg_err *e) {
  const struct dk_guest *g = c->s->guest;
  long long id;
  if (!vm_number(req, &id)) {
    msg_err_set(e, "a line without a numeric vm_id");
    return LINE_UNSURE;
  }
  cleanup_free char *snap = field(req, g->snap_name_key);
  cleanup_free char *desc = field(req, g->snap_desc_key);
  if (!snap || !desc) {
    msg_err_set(e, "a snapshot name or description is an object or array");
    return LINE_UNSURE;
  }
  cleanup_free char *name = NULL;
  enum line_rc rc = guest_name(c, req, id, false, &name, e);
  if (rc != LINE_DONE)
    return rc;
  char when[32];
  if (!*snap)
    rc = default_snapshot(c, req, name, when, sizeof when, e);
  else
    stamp(time(NULL), when, sizeof when);
  if (rc != LINE_DONE)
    return rc;
  cleanup_free char *dflt = xasprintf("%s-%s", name, when);
  cJSON *line = cJSON_Duplicate(req, true);
  set_field(line, g->name_key, name);
  set_field(line, g->snap_name_key, *snap ? snap : dflt);
  set_field(line, g->snap_desc_key, *desc ? desc : dflt);
  return finish_line(c, line, e);
}

/* The snapshot revert/delete default: the parent of the last entry. */
static enum line_rc latest_snapshot(struct sc *c, const cJSON *req,
                                    char **name, struct msg_err *e) {
  cJSON *entries;
  *name = NULL;
  enum line_rc rc =
      run_action(c, req, c->s->guest->snap_list_action, &entries, e);
  if (rc != LINE_DONE)
    return rc;
  int n = cJSON_GetArraySize(entries);
  if (n > 0)
    *name = field(cJSON_GetArrayItem(entries, n - 1),
                  c->s->guest->snap_parent_key);
  cJSON_Delete(entries);
  return LINE_DONE;
}

static enum line_rc line_snap_change(struct sc *c, const cJSON *req,
                                     struct msg_err *e) {
  const struct dk_guest *g = c->s->guest;
  long long id;
  cleanup_free char *given = field(req, g->snap_name_key);
  if (!vm_number(req, &id) || !given) {
    msg_err_set(e, "a line without a numeric vm_id or with an odd name");
    return LINE_UNSURE;
  }
  cleanup_free char *name = NULL;
  enum line_rc rc = guest_name(c, req, id, true, &name, e);
  if (rc != LINE_DONE)
    return rc;
  cleanup_free char *snap = NULL;
  if (!*given) {
    rc = latest_snapshot(c, req, &snap, e);
    if (rc != LINE_DONE)
      return rc;
    if (snap && !strcmp(snap, "?")) {
      if (batch_current()) /* the lines before it come out first */
        batch_drain(batch_current());
      dk_error("NOTHING TO DELETE - NO SNAPSHOT FOUND");
      exit(1);
    }
    if (!snap || !*snap) {
      msg_err_set(e, "the guest has no snapshot to default to");
      return LINE_UNSURE;
    }
  }
  cJSON *line = cJSON_Duplicate(req, true);
  set_field(line, g->name_key, name);
  if (snap)
    set_field(line, g->snap_name_key, snap);
  return finish_line(c, line, e);
}

static enum line_rc run_line(struct sc *c, const cJSON *req,
                             struct msg_err *e) {
  bool one_call = c->s->kind == DK_PER_ID || c->s->kind == DK_LIST ||
                  c->s->kind == DK_SNAP_LIST;
  if (c->text && one_call) /* the role's text for the line itself */
    return act_text(c, req, c->s->action, e);
  switch (c->s->kind) {
  case DK_LIST:
  case DK_IDS:
    return line_list(c, req, e);
  case DK_PER_ID:
    return act_and_print(c, req, c->s->action, e);
  case DK_EXTRACT:
    return line_extract(c, req, e);
  case DK_DELETE:
    return line_delete(c, req, e);
  case DK_SNAP_CREATE:
    return line_snap_create(c, req, e);
  case DK_SNAP_LIST:
    return line_snap_list(c, req, e);
  case DK_SNAP_CHANGE:
    return line_snap_change(c, req, e);
  case DK_ALL:
    break; /* not line by line: run_all() */
  }
  msg_err_set(e, "not a per-line script");
  return LINE_UNSURE;
}

/* ---- batches: several lines' tasks at once (batch.c) -------------------- */

/* Whether the kind's lines each end in one action with a task. */
static bool batched_kind(const struct dk_script *s) {
  return s->kind == DK_PER_ID || s->kind == DK_DELETE ||
         s->kind == DK_SNAP_CREATE || s->kind == DK_SNAP_CHANGE ||
         s->kind == DK_ALL;
}

static char *line_guest(void *ctx, size_t i) {
  struct sc *c = ctx;
  char *id = field(c->lines[i].obj, "vm_id");
  if (id && !*id) {
    free(id);
    id = NULL;
  }
  return id;
}

static int line_start(void *ctx, size_t i, struct batch_slot *slot,
                      struct msg_err *e) {
  struct sc *c = ctx;
  const cJSON *req = c->lines[i].obj;
  enum line_rc rc;
  c->slot = slot;
  if (c->s->kind == DK_ALL) {
    if (c->s->in == DK_IN_DRAINED) { /* printed with the line's result */
      cleanup_free char *text = jq_text(req);
      slot->say = dk_pass;
      slot->note = xasprintf(" :: %s", text);
    }
    rc = act_and_print(c, req, c->s->action, e);
    if (rc == LINE_UNSURE) /* checked before: cannot happen */
      msg_trace("r42intercept: vm %zu of the list not answered: %s", i + 1,
                e->text);
  } else {
    rc = run_line(c, req, e);
  }
  c->slot = NULL;
  slot->failed = rc == LINE_FAILED || (rc == LINE_UNSURE && !slot->has_call);
  return rc == LINE_UNSURE && c->s->kind != DK_ALL ? -1 : 0;
}

static void line_emit(void *ctx, size_t i, struct batch_slot *slot) {
  (void)ctx, (void)i;
  if (slot->note) /* the devkit's line before the action: here, so that a
                     terminal shows the devkit's order */
    slot->say(slot->note);
  free(slot->note);
  slot->note = NULL;
  if (!slot->has_call)
    return; /* failed before its action, traced then */
  if (slot->act_rc == 0) {
    evl_play(slot->job.call.vm_id,
             slot->out.task_msg[0] ? slot->out.task_msg : NULL);
    job_report_task(&slot->job, &slot->out);
    if (slot->out.result) { /* none: a create skipped */
      jout_sort_keys(slot->out.result);
      print_line(slot->out.result);
    }
    cJSON_Delete(slot->out.result);
    slot->out.result = NULL;
  } else {
    evl_play(slot->job.call.vm_id, slot->out.msg);
    job_report_failure(&slot->job, &slot->out);
  }
  job_clear(&slot->job);
}

/* LINES through a batch, *STATUS the exit status.  Returns N, or the
   index of the first line not reproducible (E set; the lines before it
   done and printed). */
static size_t run_batch(struct sc *c, struct dk_request *lines, size_t n,
                        int *status, struct msg_err *e) {
  struct batch_ops ops = {c, line_guest, line_start, line_emit};
  c->lines = lines;
  bool stopped = false;
  size_t at = batch_run(c->pve, n, batch_width(c->pve, n, c->strict),
                        c->strict, &ops, &stopped, e);
  c->lines = NULL;
  *status = stopped ? 2 : 0;
  return at;
}

/* ---- the *_all_vms scripts ---------------------------------------------- */

/* The vm_ids of the state list, computed once before any action, as
   "id\n" lines: the list stops at its first failing node line, and what
   it printed is kept (a failing list is no error for the script).
   0, or -1 (E set) to fall back whole. */
static int all_ids(struct sc *c, struct buf *ids, struct msg_err *e) {
  for (size_t i = 0; i < c->n_reqs; i++) {
    cJSON *rows;
    enum line_rc rc = guest_rows(c, c->reqs[i].obj, c->s->filter_key,
                                 c->s->select, &rows, e);
    if (rc == LINE_UNSURE)
      return -1;
    cJSON *row;
    cJSON_ArrayForEach(row, rows) {
      cleanup_free char *id =
          dk_raw_value(cJSON_GetObjectItemCaseSensitive(row, "vm_id"));
      if (buf_printf(ids, "%s\n", id ? id : "") < 0)
        die_oom();
    }
    cJSON_Delete(rows);
    if (rc == LINE_FAILED)
      break;
  }
  return 0;
}

/* The requests of the ids (each a bare id given to stdin_or_jsons, the
   vault's node), each checked to be answerable before any is run.
   0, or -1 (E set) to fall back whole. */
static int all_requests(struct sc *c, const struct buf *ids,
                        struct dk_request **reqs, size_t *n,
                        struct msg_err *e) {
  const char *action = getenv("ACTION") ? c->s->action : "";
  if (dk_requests(ids->data ? ids->data : "", ids->len, "vm_id",
                  vars_get(&c->vault, "proxmox_node"), action, reqs, n, e) < 0)
    return -1;
  for (size_t i = 0; i < *n; i++) {
    struct job job;
    if (prepare(c, (*reqs)[i].obj, c->s->action, &job, e) != LINE_DONE)
      return -1;
    job_clear(&job);
  }
  return 0;
}

/* The word of the devkit's --text pass line for ACTION's *_all_vms. */
static const char *all_verb(const char *action) {
  static const char *const verbs[][2] = {{"vm_start", "starting"},
                                         {"vm_stop_force", "stopping"},
                                         {"vm_pause", "pausing"},
                                         {"vm_resume", "resume"}};
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (!strcmp(verbs[i][0], action))
      return verbs[i][1];
  return action;
}

/* DK_ALL: the action on every VM of the state list, each task waited
   for, up to the batch's width at once (in text mode one after the
   other); the script's sleep between VMs is not kept.  Returns the exit
   status. */
static int run_all(struct sc *c) {
  struct msg_err e = {{0}};
  struct buf ids;
  buf_init(&ids, SCRIPT_STDIN_MAX);
  struct dk_request *reqs = NULL;
  size_t n = 0;
  if (all_ids(c, &ids, &e) < 0 || all_requests(c, &ids, &reqs, &n, &e) < 0) {
    buf_free(&ids);
    dk_requests_free(reqs, n);
    sc_clear(c);
    fb_exec(c->fb, e.text);
  }
  buf_free(&ids);
  int status = 0;
  if (!c->text) {
    if (run_batch(c, reqs, n, &status, &e) != n) /* cannot happen */
      status = 2;
  }
  for (size_t i = 0; c->text && i < n && status == 0; i++) {
    if (c->s->in == DK_IN_DRAINED) {
      cleanup_free char *text = jq_text(reqs[i].obj);
      cleanup_free char *pass = xasprintf(" :: %s", text);
      dk_pass(pass);
    }
    enum line_rc rc = act_text(c, reqs[i].obj, c->s->action, &e);
    if (rc == LINE_DONE || !c->strict) { /* after each VM */
      cleanup_free char *id = field(reqs[i].obj, "vm_id");
      cleanup_free char *pass =
          xasprintf("%s :: %s", all_verb(c->s->action), id ? id : "");
      dk_pass(pass);
    }
    if (rc == LINE_UNSURE) /* checked above: cannot happen */
      msg_trace("r42intercept: vm %zu of the list not answered: %s", i + 1,
                e.text);
    if (rc != LINE_DONE && c->strict)
      status = 2;
  }
  dk_requests_free(reqs, n);
  return status;
}

/* ---- the whole script --------------------------------------------------- */

/* The script file being run: PROG itself, or the file the shell is
   given.  NULL (E set) when we would not run it as the devkit's bash
   does: "sh SCRIPT" with an sh that is not bash (dash stops at the
   script's first line), or a name the shell finds through PATH. */
static char *script_path(struct fb *fb, char **argv, int prog,
                         struct msg_err *e) {
  if (prog == 0)
    return xstrdup(fb->path);
  cleanup_free char *shell = realpath(fb->path, NULL);
  if (!shell || strcmp(match_basename(shell), "bash") != 0) {
    msg_err_set(e, "%.40s is not bash", argv[0]);
    return NULL;
  }
  const char *given = argv[prog];
  struct stat st;
  if (strchr(given, '/') || stat(given, &st) == 0)
    return xstrdup(given);
  msg_err_set(e, "the script is found through PATH by the shell");
  return NULL;
}

/* Exits as the devkit's warmup checks do, when they would fail. */
static void warmup_checks(const struct sc *c) {
  const char *roles = getenv("ANSIBLE_ROLES_PATH");
  if (!roles || !*roles) {
    dk_error(" ENV_ERROR :: ANSIBLE_ROLES_PATH not defined");
    exit(1);
  }
  if (c->s->in == DK_IN_IDS && isatty(STDIN_FILENO)) {
    dk_error("NO STDIN DATA");
    exit(1);
  }
}

/* Whether an empty stdin is answered: the devkit then makes one empty
   request, which its playbook helper skips: nothing is printed.  Not
   where a nested list script gets that empty request as a line (the state
   lists, the ids, the *_all_vms): ansible then fails on an empty host. */
static bool empty_ok(const struct dk_script *s) {
  return (s->kind == DK_LIST && !s->select) || s->kind == DK_PER_ID ||
         s->kind == DK_SNAP_LIST;
}

/* Everything checked before the first line: the script, its arguments,
   the devkit set-up, stdin.  0, or -1 (E set) to fall back whole. */
static int understand(struct sc *c, char **argv, int prog, struct msg_err *e) {
  cleanup_free char *path = script_path(c->fb, argv, prog, e);
  if (!path)
    return -1;
  int off = probe_forced_off(e);
  if (off != 0) {
    if (off > 0)
      msg_err_set(e, "RANGE42_PROXMOX_API_FORCE=off");
    return -1;
  }
  if (!cfg_get()->scripts) {
    c->fb->chosen = true; /* its ansible calls are still answered */
    msg_err_set(e, "RANGE42_PROXMOX_API_SCRIPTS=off");
    return -1;
  }
  char **args = argv + prog;
  if (dk_check_script(path, c->s, e) < 0 || read_args(c, args, e) < 0 ||
      text_kind(c, e) < 0)
    return -1;
  warmup_checks(c);
  if (load_devkit(c, e) < 0 || read_requests(c, e) < 0)
    return -1;
  if (c->n_reqs == 0 && !empty_ok(c->s)) {
    msg_err_set(e, "no stdin line");
    return -1;
  }
  return first_node_ready(c, e);
}

int run_script(struct fb *fb, char **argv, int prog) {
  struct sc c = {.fb = fb};
  c.s = dk_find(match_basename(argv[prog]));
  c.strict = job_strict();
  struct msg_err e = {{0}};
  if (!c.s || understand(&c, argv, prog, &e) < 0) {
    sc_clear(&c);
    fb_exec(fb, e.text[0] ? e.text : "not a devkit script we answer");
  }
  msg_trace("r42intercept: fast path: %s via the Proxmox API", c.s->name);
  if (c.s->kind == DK_ALL) {
    int status = run_all(&c);
    sc_clear(&c);
    return status;
  }
  if (batched_kind(c.s) && !c.text) { /* text mode: one line after the other */
    int status;
    size_t at = run_batch(&c, c.reqs, c.n_reqs, &status, &e);
    if (at < c.n_reqs) {
      char why[320];
      snprintf(why, sizeof why, "from stdin line %zu on: %s", at + 1, e.text);
      size_t offset = c.reqs[at].offset;
      sc_clear(&c);
      fb_exec_from(fb, offset, why);
    }
    sc_clear(&c);
    return status;
  }
  for (size_t i = 0; i < c.n_reqs; i++) {
    enum line_rc rc = run_line(&c, c.reqs[i].obj, &e);
    if (rc == LINE_UNSURE) {
      size_t offset = c.reqs[i].offset;
      char why[320];
      snprintf(why, sizeof why, "from stdin line %zu on: %s", i + 1, e.text);
      sc_clear(&c);
      fb_exec_from(fb, offset, why);
    }
    if (rc == LINE_FAILED && c.strict) {
      sc_clear(&c);
      return 2;
    }
  }
  sc_clear(&c);
  return 0;
}
