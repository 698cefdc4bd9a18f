/* SPDX-License-Identifier: GPL-3.0-or-later */
/* doctor.c: `r42intercept doctor` (r42intercept-runner --doctor [ARGS]).
 * Checks in turn each condition of the runner's decision (docs/decision.md)
 * with the runner's own code (acfg, play, inventory, vault, job, pve),
 * for the devkit environment or for an explicit ansible-playbook command
 * line, and prints one line per check: "ok" and what was found, "FAIL"
 * with the reason and the fix, or "skip" when an earlier failure leaves
 * nothing to check.  The API is probed afresh (the probe cache is neither
 * read nor written).  Only names, paths, ids and API messages are
 * printed: never the token secret, a vault password or vault plaintext. */
#define _GNU_SOURCE
#include "doctor.h"

#include "../shim/match.h"
#include "acfg.h"
#include "cli.h"
#include "devkit.h"
#include "inventory.h"
#include "job.h"
#include "play.h"
#include "probe.h"
#include "run.h"
#include "vault.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DR_PLAYBOOK_MAX (4 * 1024 * 1024)
#define DR_PROBE_TIMEOUT 2.0 /* the runner's probe budget */
#define DR_DEFAULT_PW "/tmp/vault/vault_pass.txt" /* the devkit's default */

/* What the checks found so far; freed by dr_clear(). */
struct dr {
  int failed;       /* number of failed checks */
  struct acfg cfg;  /* the ansible.cfg in effect */
  char *pbdir;      /* the playbook's directory */
  char *inventory;  /* the inventory file */
  char *host;       /* the play's host (the node) */
  char *vault_file; /* the vars file: the vault */
  struct vault_pwfile pw[CLI_MAX_VAULT_FILES + 1];
  size_t n_pw;      /* password files, the default one last */
  struct vars play; /* the include_role vars */
  struct job job;   /* the call, once the vault opened */
  bool have_job;
};

static void dr_clear(struct dr *d) {
  acfg_clear(&d->cfg);
  free(d->pbdir);
  free(d->inventory);
  free(d->host);
  free(d->vault_file);
  vars_clear(&d->play);
  job_clear(&d->job);
}

/* "ok    WHAT: DETAIL" on stdout. */
R42_PRINTF(2, 3) static void dr_ok(const char *what, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("ok    %s: ", what);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
}

/* "FAIL  WHAT: WHY; fix: FIX" on stdout, counted in D. */
static void dr_fail(struct dr *d, const char *what, const char *why,
                    const char *fix) {
  printf("FAIL  %s: %s; fix: %s\n", what, why, fix);
  d->failed++;
}

/* "skip  WHAT: needs NEED" on stdout (counted as a failure: the fast path
   cannot be shown to be taken). */
static void dr_skip(struct dr *d, const char *what, const char *need) {
  printf("skip  %s: not checked, needs %s\n", what, need);
  d->failed++;
}

/* RANGE42_PROXMOX_API_FORCE. */
static void check_force(struct dr *d) {
  struct msg_err e = {{0}};
  int off = probe_forced_off(&e);
  if (off == 0)
    dr_ok("RANGE42_PROXMOX_API_FORCE", "not off");
  else
    dr_fail(d, "RANGE42_PROXMOX_API_FORCE",
            off > 0 ? "off: every call runs the real program" : e.text,
            "unset it, or set it to auto");
}

/* The devkit's variables: its directory, its inventory's, the roles
   path the warmup checks want.  0, or -1 when one is missing. */
static int check_devkit_vars(struct dr *d) {
  static const char *const names[] = {"RANGE42_ANSIBLE_ROLES__DEVKITS_DIR",
                                      "RANGE42_ANSIBLE_ROLES__INVENTORY_DIR",
                                      "ANSIBLE_ROLES_PATH", NULL};
  for (const char *const *n = names; *n; n++) {
    const char *v = getenv(*n);
    struct stat st;
    if (!v || !*v) {
      char why[96];
      snprintf(why, sizeof why, "%s is not set", *n);
      dr_fail(d, "devkit variables", why,
              "source the devkit's environment (its README's exports)");
      return -1;
    }
    if (strcmp(*n, "ANSIBLE_ROLES_PATH") != 0 &&
        (stat(v, &st) < 0 || !S_ISDIR(st.st_mode))) {
      char why[320];
      snprintf(why, sizeof why, "%s=%.200s is not a directory", *n, v);
      dr_fail(d, "devkit variables", why,
              "point it at the devkit's directory");
      return -1;
    }
  }
  const char *scripts = getenv("RANGE42_PROXMOX_API_SCRIPTS");
  if (scripts && strcmp(scripts, "off") == 0) {
    dr_fail(d, "devkit variables",
            "RANGE42_PROXMOX_API_SCRIPTS=off: the scripts run themselves "
            "(only their ansible-playbook calls are answered)",
            "unset RANGE42_PROXMOX_API_SCRIPTS");
    return -1;
  }
  dr_ok("devkit variables", "RANGE42_ANSIBLE_ROLES__DEVKITS_DIR, "
                            "RANGE42_ANSIBLE_ROLES__INVENTORY_DIR and "
                            "ANSIBLE_ROLES_PATH set");
  return 0;
}

/* The stdout callback of the config FILE (NULL: the one Ansible finds). */
static int check_callback(struct dr *d, const char *file) {
  struct msg_err e = {{0}};
  int indent;
  int rc = file ? acfg_load_file(&d->cfg, file, &e) : acfg_load(&d->cfg, &e);
  if (rc == 0)
    rc = acfg_json_callback(&d->cfg, &indent, &e);
  if (rc == 0) {
    dr_ok("callback", "json (%s)",
          d->cfg.path ? d->cfg.path : "no ansible.cfg, environment");
    return 0;
  }
  char fix[400];
  snprintf(fix, sizeof fix,
           "set stdout_callback = json and no callbacks_enabled in the "
           "[defaults] of %.200s, and unset ANSIBLE_STDOUT_CALLBACK",
           file          ? file
           : d->cfg.path ? d->cfg.path
                         : "ansible.cfg");
  dr_fail(d, "callback", e.text, fix);
  return -1;
}

/* The caller's ansible.cfg, which the devkit's ansible-vault view reads. */
static void check_caller_config(struct dr *d) {
  struct msg_err e = {{0}};
  if (run_caller_config_ok(&e) == 0)
    dr_ok("caller's ansible.cfg", "no vault setting of its own");
  else
    dr_fail(d, "caller's ansible.cfg", e.text,
            "remove the vault settings from it (the devkit passes its "
            "password file itself)");
}

static void check_role(struct dr *d) {
  struct msg_err e = {{0}};
  cleanup_free char *dir =
      acfg_find_role(&d->cfg, d->pbdir, PLAY_ROLE_NAME, &e);
  if (dir)
    dr_ok("role", "%s", dir);
  else
    dr_fail(d, "role", e.text,
            "install " PLAY_ROLE_NAME " in a directory of ANSIBLE_ROLES_PATH "
            "(or roles_path)");
}

/* The password files open (scripts run), with the config's vault ids. */
static int check_password(struct dr *d) {
  if (d->n_pw == 0) {
    dr_fail(d, "vault password file", "none given",
            "give --vault-password-file FILE or set "
            "ANSIBLE_VAULT_PASSWORD_FILE");
    return -1;
  }
  struct vault_secrets s = {0};
  struct msg_err e = {{0}};
  if (vault_secrets_load(&s, d->pw, d->n_pw, &d->cfg, &e) < 0) {
    dr_fail(d, "vault password file", e.text,
            "make it a readable file holding the vault password (devkit: "
            "RANGE42_VAULT_PASSWORD_FILE)");
    return -1;
  }
  vault_secrets_clear(&s);
  dr_ok("vault password file", "%s%s", d->pw[0].path,
        d->n_pw > 1 ? " (and more)" : "");
  return 0;
}

/* The vault opens and, with the play's vars, makes a call: credentials,
   node, action.  Sets D->job. */
static int check_vault(struct dr *d) {
  struct vars vault = {0};
  struct msg_err e = {{0}};
  int rc = vault_read_vars(d->vault_file, d->pw, d->n_pw, &d->cfg, &vault, &e);
  if (rc == 0 && !vars_get(&d->play, "proxmox_node") &&
      !vars_get(&vault, "proxmox_node")) {
    msg_err_set(&e, "%.200s has no proxmox_node string", d->vault_file);
    rc = -1;
  }
  if (rc == 0)
    rc = job_build(&d->job, &vault, &d->play, &e);
  d->have_job = rc == 0;
  if (rc == 0 && (rc = act_check_late(&d->job.call, &e)) < 0)
    d->have_job = false;
  vars_clear(&vault);
  if (rc < 0) {
    char fix[400];
    snprintf(fix, sizeof fix,
             "check that `ansible-vault view` opens %.200s with that password "
             "and that it sets proxmox_api_host, proxmox_api_user, "
             "proxmox_api_token_id, proxmox_api_token_secret, proxmox_node",
             d->vault_file);
    char why[sizeof e.text + 210];
    snprintf(why, sizeof why, "%.200s: %s", d->vault_file, e.text);
    dr_fail(d, "vault file", strstr(e.text, d->vault_file) ? e.text : why,
            fix);
    return -1;
  }
  dr_ok("vault file", "%s: API %s, user %s, token id %s, node %s",
        d->vault_file, d->job.creds.host, d->job.creds.user,
        d->job.creds.token_id, d->job.creds.node);
  return 0;
}

/* The play's host is a local host of the inventory. */
static void check_inventory(struct dr *d) {
  struct msg_err e = {{0}};
  int found = inv_local_host(d->inventory, d->host, d->pbdir, &d->cfg, &e);
  if (found > 0) {
    dr_ok("inventory", "%s: host %s, local connection", d->inventory, d->host);
    return;
  }
  if (found == 0)
    msg_err_set(&e, "host %.64s is not in %.160s", d->host, d->inventory);
  char fix[400];
  snprintf(fix, sizeof fix,
           "declare %.64s in %.200s as a host with ansible_connection: "
           "local, and nothing else",
           d->host, d->inventory);
  dr_fail(d, "inventory", e.text, fix);
}

/* The probe, done here: the API answers (reachable) with 200 and JSON
   (the token accepted). */
static void check_api(struct dr *d) {
  if (!d->have_job) {
    dr_skip(d, "API reachable", "the vault's credentials");
    dr_skip(d, "token accepted", "the vault's credentials");
    return;
  }
  const struct creds *c = &d->job.creds;
  struct pve_creds pc = creds_for_pve(c);
  struct msg_err e = {{0}};
  struct pve *pve = pve_new(&pc, &e);
  struct pve_reply r = {0};
  cleanup_free char *path = xasprintf("/nodes/%s/qemu", c->node);
  if (!pve || pve_request(pve, "GET", path, PVE_BODY_FORM, NULL,
                          DR_PROBE_TIMEOUT, &r, &e) < 0) {
    dr_fail(d, "API reachable", e.text,
            "check proxmox_api_host in the vault, that https://HOST/ "
            "answers from here within 2 s, and the certificate settings "
            "(RANGE42_PROXMOX_API_CAFILE, RANGE42_PROXMOX_API_FINGERPRINT)");
    dr_skip(d, "token accepted", "an answer from the API");
    pve_free(pve);
    return;
  }
  dr_ok("API reachable", "https://%s answers", c->host);
  char why[320];
  snprintf(why, sizeof why, "GET /api2/json%s answered HTTP %ld %s", path,
           r.status, r.reason);
  if (r.status == 401 || r.status == 403)
    dr_fail(d, "token accepted", why,
            "check proxmox_api_user, proxmox_api_token_id and "
            "proxmox_api_token_secret in the vault, and the token's "
            "privileges on the node");
  else if (r.status != 200)
    dr_fail(d, "token accepted", why, "check proxmox_node in the vault");
  else if (!r.json)
    dr_fail(d, "token accepted", r.not_json,
            "check that proxmox_api_host is a Proxmox VE API");
  else
    dr_ok("token accepted", "%s!%s on node %s", c->user, c->token_id, c->node);
  pve_reply_clear(&r);
  pve_free(pve);
}

/* The devkit entry scripts found through PATH are versions we answer. */
static void check_scripts(struct dr *d) {
  size_t n, found = 0;
  const struct dk_script *s = dk_scripts(&n);
  const char *path = getenv("PATH");
  cleanup_free char *list = xstrdup(path ? path : "");
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *file = NULL;
    char *dirs = xstrdup(list);
    for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir && !file;
         dir = strtok_r(NULL, ":", &save)) {
      char *cand = xasprintf("%s/%s", dir, s[i].name);
      if (access(cand, X_OK) == 0)
        file = cand;
      else
        free(cand);
    }
    free(dirs);
    if (!file)
      continue;
    struct msg_err e = {{0}};
    if (dk_check_script(file, &s[i], &e) < 0) {
      dr_fail(d, "devkit scripts", e.text,
              "use the devkit version r42intercept reproduces "
              "(docs/decision.md), unmodified");
      return;
    }
    found++;
  }
  if (found == 0)
    dr_fail(d, "devkit scripts", "no devkit entry script in PATH",
            "add the devkit's directory to PATH");
  else
    dr_ok("devkit scripts", "%zu entry scripts in PATH, each recognised",
          found);
}

/* The devkit's environment, as the entry scripts see it. */
static void doctor_devkit(struct dr *d) {
  check_force(d);
  if (check_devkit_vars(d) < 0) {
    static const char *const rest[] = {"devkit scripts",
                                       "callback",
                                       "caller's ansible.cfg",
                                       "role",
                                       "vault password file",
                                       "vault file",
                                       "inventory",
                                       "API reachable",
                                       "token accepted",
                                       NULL};
    for (const char *const *r = rest; *r; r++)
      dr_skip(d, *r, "the devkit variables");
    return;
  }
  const char *devkits = getenv("RANGE42_ANSIBLE_ROLES__DEVKITS_DIR");
  check_scripts(d);
  cleanup_free char *cfg =
      xasprintf("%s/ansible_no_skipped_json.cfg", devkits);
  if (check_callback(d, cfg) < 0)
    acfg_clear(&d->cfg); /* the roles path from the environment still */
  check_caller_config(d);
  d->pbdir = xstrdup("/dev"); /* the devkit's playbook is /dev/stdin */
  check_role(d);
  const char *pw = getenv("RANGE42_VAULT_PASSWORD_FILE");
  d->pw[d->n_pw++] = (struct vault_pwfile){pw && *pw ? pw : DR_DEFAULT_PW, 0};
  const char *dflt =
      acfg_get(&d->cfg, "ANSIBLE_VAULT_PASSWORD_FILE", "vault_password_file");
  if (dflt && *dflt)
    d->pw[d->n_pw++] = (struct vault_pwfile){dflt, NULL};
  d->vault_file = xasprintf("%s/secrets/default_vault.yml", devkits);
  vars_set(&d->play, "proxmox_vm_action", "vm_list");
  int pw_ok = check_password(d);
  if (pw_ok < 0)
    dr_skip(d, "vault file", "the vault password");
  if (pw_ok < 0 || check_vault(d) < 0) {
    dr_skip(d, "inventory", "the vault's proxmox_node");
  } else {
    d->inventory = xasprintf("%s/inventory_default.yml",
                             getenv("RANGE42_ANSIBLE_ROLES__INVENTORY_DIR"));
    d->host = xstrdup(d->job.creds.node);
    check_inventory(d);
  }
  check_api(d);
}

/* The playbook of the command line, read and understood. */
static int check_playbook(struct dr *d, const char *file, struct play *play) {
  size_t len;
  struct msg_err e = {{0}};
  cleanup_free char *text = util_read_file(file, DR_PLAYBOOK_MAX, &len);
  if (!text)
    msg_err_set(&e, "%.200s: %s", file, util_strerror(errno));
  if (!text || play_parse(text, len, play, &e) < 0) {
    dr_fail(d, "playbook", e.text,
            "give the devkit's playbook shape as a regular file "
            "(docs/decision.md)");
    return -1;
  }
  dr_ok("playbook", "%s: action %s on host %s", file,
        vars_get(&play->vars, "proxmox_vm_action"), play->hosts);
  return 0;
}

/* An explicit ansible-playbook command line ARGV. */
static void doctor_playbook(struct dr *d, char **argv) {
  check_force(d);
  struct cli_playbook cli;
  struct msg_err e = {{0}};
  if (cli_parse_playbook(argv, &cli, &e) < 0) {
    dr_fail(d, "command line", e.text,
            "keep only -i, --vault-password-file or --vault-id, and one "
            "playbook");
    return;
  }
  dr_ok("command line", "inventory %s, playbook %s",
        cli.inventory ? cli.inventory : "(none)", cli.playbook);
  (void)check_callback(d, NULL);
  struct play play = {0};
  const char *slash = strrchr(cli.playbook, '/');
  d->pbdir = slash ? xstrndup(cli.playbook, (size_t)(slash - cli.playbook))
                   : xstrdup(".");
  if (check_playbook(d, cli.playbook, &play) < 0) {
    dr_skip(d, "inventory", "the playbook's host");
    check_role(d);
    dr_skip(d, "vault file", "the playbook's vars_files");
    dr_skip(d, "API reachable", "the vault's credentials");
    dr_skip(d, "token accepted", "the vault's credentials");
    return;
  }
  d->inventory = xstrdup(cli.inventory ? cli.inventory : "(none)");
  d->host = xstrdup(play.hosts);
  check_inventory(d);
  check_role(d);
  for (size_t i = 0; i < cli.n_vault_files; i++)
    d->pw[d->n_pw++] =
        (struct vault_pwfile){cli.vault_files[i], cli.vault_labels[i]};
  const char *dflt =
      acfg_get(&d->cfg, "ANSIBLE_VAULT_PASSWORD_FILE", "vault_password_file");
  if (dflt && *dflt)
    d->pw[d->n_pw++] = (struct vault_pwfile){dflt, NULL};
  d->vault_file = play.vars_file[0] == '/'
                      ? xstrdup(play.vars_file)
                      : xasprintf("%s/%s", d->pbdir, play.vars_file);
  vars_merge(&d->play, &play.vars);
  play_clear(&play);
  if (check_password(d) < 0)
    dr_skip(d, "vault file", "the vault password");
  else
    (void)check_vault(d);
  check_api(d);
}

int doctor_main(char **args) {
  if (args[0] && strcmp(match_basename(args[0]), "ansible-playbook") != 0) {
    fprintf(stderr, "usage: r42intercept doctor [ansible-playbook ARGS...]\n");
    return DOCTOR_USAGE;
  }
  struct dr d = {0};
  if (args[0])
    doctor_playbook(&d, args);
  else
    doctor_devkit(&d);
  int failed = d.failed;
  dr_clear(&d);
  printf("%s\n", failed ? "the real programs would run (see FAIL above)"
                        : "the fast path would be taken");
  return fflush(stdout) == 0 && !failed ? DOCTOR_OK : DOCTOR_FAIL;
}
