/* run_script.c: the script-level fast path (SPEC 6, issue 5).  Answers a
 * devkit entry script itself: its argument and stdin handling, the
 * per-line work (each line becomes the very playbook the devkit would
 * feed ansible-playbook, read by play.c, run by action.c over one
 * keep-alive connection), its stdout lines and trace/error lines.
 * Anything it does not reproduce runs the real script: before any output
 * with the whole stdin, or from the first line it cannot answer with the
 * remaining stdin, so the real script does exactly what it would have done
 * for those lines.  Per-VM API errors print a trace and the batch goes on
 * (the seed's rule), or end it with status 2 under
 * RANGE42_PROXMOX_API_STRICT=1. */
#define _GNU_SOURCE
#include "run.h"

#include "../shim/match.h"
#include "acfg.h"
#include "devkit.h"
#include "inventory.h"
#include "job.h"
#include "jout.h"
#include "play.h"
#include "probe.h"
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
  bool strict; /* RANGE42_PROXMOX_API_STRICT=1 */
};

/* What became of one line. */
enum line_rc {
  LINE_DONE,   /* answered (its output is printed) */
  LINE_FAILED, /* an API error: traced, the batch goes on */
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
}

static int print_line(const cJSON *item) {
  struct buf b;
  buf_init(&b, 16 * 1024 * 1024);
  int rc = dk_jq_line(&b, item);
  if (rc == 0)
    rc = util_write_all(STDOUT_FILENO, b.data, b.len);
  buf_free(&b);
  return rc;
}

/* ---- the call's set-up ------------------------------------------------- */

/* The arguments, as the script reads them.  0, or -1 (E set) when the
   script would not do its JSON work (help, --text, errors, hangs). */
static int read_args(struct sc *c, char **argv, struct msg_err *e) {
  enum dk_kind k = c->s->kind;
  if (argv[1] && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    msg_err_set(e, "help");
    return -1;
  }
  if (k == DK_EXTRACT)
    return 0; /* it reads no argument */
  if (k == DK_LIFECYCLE) {
    if (argv[1] && *argv[1] && strcmp(argv[1], "--json") != 0) {
      msg_err_set(e, "argument %.40s", argv[1]);
      return -1;
    }
    return 0;
  }
  /* list scripts take one filter (a second word is an error unless the
     first was empty); the snapshot changes hang on any word */
  bool takes_filter = k == DK_LIST || k == DK_SNAP_LIST;
  for (int i = 1; argv[i]; i++) {
    if (!strcmp(argv[i], "--json"))
      continue;
    if (argv[i][0] == '-' || !takes_filter || (c->filter && *c->filter)) {
      msg_err_set(e, "argument %.40s", argv[i]);
      return -1;
    }
    c->filter = argv[i];
  }
  if (c->filter && !*c->filter)
    c->filter = NULL;
  if (c->filter && dk_regex_test(c->filter, "", e) < 0)
    return -1;
  return 0;
}

/* The devkit reads the vault twice: ansible-playbook with its own config,
   and ansible-vault view (devkit_ansible.get_proxmox_node) with the
   caller's.  That one must parse and set no vault setting of its own, so
   that the vault opens there exactly as it does for ansible-playbook. */
static int caller_config_ok(struct msg_err *e) {
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
  if (caller_config_ok(e) < 0)
    return -1;
  return vault_read_vars(c->vault_file, files, n, &c->cfg, &c->vault, e);
}

/* Stdin as the requests the devkit makes of it. */
static int read_requests(struct sc *c, struct msg_err *e) {
  const char *node = vars_get(&c->vault, "proxmox_node");
  if (!node || !*node) {
    msg_err_set(e, "the vault has no proxmox_node string");
    return -1;
  }
  const char *action = getenv("ACTION") ? c->s->action : "";
  cleanup_free char *tty_line = NULL;
  const char *input;
  size_t len;
  if (isatty(STDIN_FILENO)) { /* only the list script gets here */
    tty_line = xasprintf("%s\n", node);
    input = tty_line;
    len = strlen(tty_line);
  } else if (fb_read_stdin(c->fb, SCRIPT_STDIN_MAX, false, &input, &len, e) <
             0) {
    return -1;
  }
  return dk_requests(input, len, c->s->key, node, action, &c->reqs, &c->n_reqs,
                     e);
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

/* Runs ACTION for the request REQ, through the playbook text the devkit
   would have written.  On LINE_DONE, *RESULT is the role's result (keys
   sorted; the caller frees). */
static enum line_rc run_action(struct sc *c, const cJSON *req,
                               const char *action, cJSON **result,
                               struct msg_err *e) {
  *result = NULL;
  cleanup_free char *text = dk_playbook(req, action, c->vault_file, e);
  if (!text)
    return LINE_UNSURE;
  struct play play;
  if (play_parse(text, strlen(text), &play, e) < 0)
    return LINE_UNSURE;
  struct job job;
  enum line_rc rc = LINE_UNSURE;
  if (job_build(&job, &c->vault, &play.vars, e) == 0) {
    if (strcmp(play.hosts, job.call.node) != 0)
      msg_err_set(e, "the play's host is not its proxmox_node");
    else if (node_ready(c, play.hosts, &job.creds, e) == 0) {
      struct act_outcome out;
      if (act_run(c->pve, &job.call, NULL, &out) == 0) {
        jout_sort_keys(out.result);
        *result = out.result;
        rc = LINE_DONE;
      } else {
        job_report_failure(&job, &out);
        rc = LINE_FAILED;
      }
    }
    job_clear(&job);
  }
  play_clear(&play);
  return rc;
}

/* ---- the scripts' per-line work ---------------------------------------- */

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

/* Prints the items of the array RESULT whose KEY matches the filter
   (none: all), without DROP when given. */
static int print_items(struct sc *c, cJSON *result, const char *key,
                       const char *drop) {
  cJSON *item;
  cJSON_ArrayForEach(item, result) {
    if (drop)
      cJSON_DeleteItemFromObjectCaseSensitive(item, drop);
    const char *v =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, key));
    if (c->filter && !(v && dk_regex_test(c->filter, v, NULL) == 1))
      continue;
    if (print_line(item) < 0)
      return -1;
  }
  return 0;
}

/* The rows of the VM list of REQ's node whose vm_id is ID (vm_meta gone),
   into *ROWS (an array). */
static enum line_rc vm_rows(struct sc *c, const cJSON *req, long long id,
                            cJSON **rows, struct msg_err *e) {
  cJSON *list;
  enum line_rc rc = run_action(c, req, "vm_list", &list, e);
  *rows = NULL;
  if (rc != LINE_DONE)
    return rc;
  *rows = cJSON_CreateArray();
  cJSON *vm;
  cJSON_ArrayForEach(vm, list) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(vm, "vm_id");
    if (cJSON_IsNumber(v) && v->valuedouble == (double)id) {
      cJSON *row = cJSON_Duplicate(vm, true);
      cJSON_DeleteItemFromObjectCaseSensitive(row, "vm_meta");
      cJSON_AddItemToArray(*rows, row);
    }
  }
  cJSON_Delete(list);
  return LINE_DONE;
}

/* The name of VM ID in the VM list of REQ's node, as the devkit looks it
   up; LINE_UNSURE when the VM is not there exactly once or has no name. */
static enum line_rc vm_name_for(struct sc *c, const cJSON *req, long long id,
                                char **name, struct msg_err *e) {
  cJSON *rows;
  *name = NULL;
  enum line_rc rc = vm_rows(c, req, id, &rows, e);
  if (rc == LINE_DONE && cJSON_GetArraySize(rows) == 1)
    *name = field(cJSON_GetArrayItem(rows, 0), "vm_name");
  cJSON_Delete(rows);
  if (rc == LINE_DONE && (!*name || !**name)) {
    free(*name);
    *name = NULL;
    msg_err_set(e, "VM %lld is not once in the VM list, or has no name", id);
    rc = LINE_UNSURE;
  }
  return rc;
}

/* REQ . + {KEY: VALUE}: in place when KEY exists, else appended. */
static void set_field(cJSON *req, const char *key, const char *value) {
  if (cJSON_GetObjectItemCaseSensitive(req, key))
    cJSON_ReplaceItemInObjectCaseSensitive(req, key,
                                           cJSON_CreateString(value));
  else
    cJSON_AddStringToObject(req, key, value);
}

/* The result of a one-object action printed. */
static enum line_rc act_and_print(struct sc *c, const cJSON *req,
                                  const char *action, struct msg_err *e) {
  cJSON *result;
  enum line_rc rc = run_action(c, req, action, &result, e);
  if (rc == LINE_DONE && print_line(result) < 0)
    die("cannot write to stdout: %s", strerror(errno));
  cJSON_Delete(result);
  return rc;
}

/* The list scripts: ACTION's array, one line per item (KEY filtered,
   DROP removed). */
static enum line_rc line_items(struct sc *c, const cJSON *req,
                               const char *action, const char *key,
                               const char *drop, struct msg_err *e) {
  cJSON *result;
  enum line_rc rc = run_action(c, req, action, &result, e);
  if (rc == LINE_DONE && print_items(c, result, key, drop) < 0)
    die("cannot write to stdout: %s", strerror(errno));
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
  enum line_rc rc = vm_rows(c, req, id, &rows, e);
  cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    if (print_line(row) < 0)
      die("cannot write to stdout: %s", strerror(errno));
  }
  cJSON_Delete(rows);
  return rc;
}

/* yymmdd-HHMMSS in local time, as date(1) prints it. */
static void stamp(char *out, size_t size) {
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-y2k" /* the devkit's format */
  strftime(out, size, "%y%m%d-%H%M%S", &tm);
#pragma GCC diagnostic pop
}

static enum line_rc line_snap_create(struct sc *c, const cJSON *req,
                                     struct msg_err *e) {
  long long id;
  if (!vm_number(req, &id)) {
    msg_err_set(e, "a line without a numeric vm_id");
    return LINE_UNSURE;
  }
  cleanup_free char *name = field(req, "vm_snapshot_name");
  cleanup_free char *desc = field(req, "vm_snapshot_description");
  if (!name || !desc) {
    msg_err_set(e, "a snapshot name or description is an object or array");
    return LINE_UNSURE;
  }
  cleanup_free char *vm_name = NULL;
  enum line_rc rc = vm_name_for(c, req, id, &vm_name, e);
  if (rc != LINE_DONE)
    return rc;
  char when[32];
  stamp(when, sizeof when);
  cleanup_free char *dflt = xasprintf("%s-%s", vm_name, when);
  cJSON *line = cJSON_Duplicate(req, true);
  set_field(line, "vm_name", vm_name);
  set_field(line, "vm_snapshot_name", *name ? name : dflt);
  set_field(line, "vm_snapshot_description", *desc ? desc : dflt);
  struct buf b;
  buf_init(&b, 1 << 20);
  if (jout_write(&b, line, JOUT_JQ, 0) < 0)
    die_oom();
  dk_trace(b.data);
  buf_free(&b);
  rc = act_and_print(c, line, c->s->action, e);
  cJSON_Delete(line);
  return rc;
}

/* The snapshot revert/delete default: the parent of the last entry. */
static enum line_rc latest_snapshot(struct sc *c, const cJSON *req,
                                    char **name, struct msg_err *e) {
  cJSON *entries;
  *name = NULL;
  enum line_rc rc = run_action(c, req, "snapshot_vm_list", &entries, e);
  if (rc != LINE_DONE)
    return rc;
  int n = cJSON_GetArraySize(entries);
  *name = n > 0
              ? field(cJSON_GetArrayItem(entries, n - 1), "vm_snapshot_parent")
              : NULL;
  cJSON_Delete(entries);
  return LINE_DONE;
}

static enum line_rc line_snap_change(struct sc *c, const cJSON *req,
                                     struct msg_err *e) {
  long long id;
  cleanup_free char *given = field(req, "vm_snapshot_name");
  if (!vm_number(req, &id) || !given) {
    msg_err_set(e, "a line without a numeric vm_id or with an odd name");
    return LINE_UNSURE;
  }
  cleanup_free char *vm_name = NULL;
  enum line_rc rc = vm_name_for(c, req, id, &vm_name, e);
  if (rc != LINE_DONE)
    return rc;
  cleanup_free char *snap = NULL;
  if (!*given) {
    rc = latest_snapshot(c, req, &snap, e);
    if (rc != LINE_DONE)
      return rc;
    if (snap && !strcmp(snap, "?")) {
      dk_error("NOTHING TO DELETE - NO SNAPSHOT FOUND");
      exit(1);
    }
    if (!snap || !*snap) {
      msg_err_set(e, "the VM has no snapshot to default to");
      return LINE_UNSURE;
    }
  }
  cJSON *line = cJSON_Duplicate(req, true);
  set_field(line, "vm_name", vm_name);
  if (snap)
    set_field(line, "vm_snapshot_name", snap);
  rc = act_and_print(c, line, c->s->action, e);
  cJSON_Delete(line);
  return rc;
}

static enum line_rc run_line(struct sc *c, const cJSON *req,
                             struct msg_err *e) {
  switch (c->s->kind) {
  case DK_LIST:
    return line_items(c, req, "vm_list", "vm_name", "vm_meta", e);
  case DK_LIFECYCLE:
    return act_and_print(c, req, c->s->action, e);
  case DK_EXTRACT:
    return line_extract(c, req, e);
  case DK_SNAP_CREATE:
    return line_snap_create(c, req, e);
  case DK_SNAP_LIST:
    return line_items(c, req, "snapshot_vm_list", "vm_snapshot_name", NULL, e);
  case DK_SNAP_REVERT:
  case DK_SNAP_DELETE:
    return line_snap_change(c, req, e);
  }
  return LINE_UNSURE;
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
  if (c->s->kind != DK_LIST && isatty(STDIN_FILENO)) {
    dk_error("NO STDIN DATA");
    exit(1);
  }
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
  const char *scripts = getenv("RANGE42_PROXMOX_API_SCRIPTS");
  if (scripts && !strcmp(scripts, "off")) {
    msg_err_set(e, "RANGE42_PROXMOX_API_SCRIPTS=off");
    return -1;
  }
  char **args = argv + prog;
  if (dk_check_script(path, c->s, e) < 0 || read_args(c, args, e) < 0)
    return -1;
  warmup_checks(c);
  if (load_devkit(c, e) < 0 || read_requests(c, e) < 0)
    return -1;
  if (c->n_reqs == 0 && c->s->kind != DK_LIFECYCLE && c->s->kind != DK_LIST &&
      c->s->kind != DK_SNAP_LIST) {
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
