/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dkid.c: recognises the devkit's scripts by their content
 * (docs/decision.md section 6).  A script is answered only when the digest of
 * its normal form (dknorm.c) is that of a version of the same name that the
 * runner reproduces, and so is every helper it would run: bash finds those
 * through PATH, and a changed helper changes the script's behaviour as
 * much as a changed script.  The known versions come from the devkit's
 * git history (dkid_devkit.inc, made by test/fixtures/devkit-digests.sh,
 * with the commit each came from); our test fixtures, which behave alike
 * (test/fixtures/check-fixtures.sh), are a separate set made at build
 * time (dkid_fixtures.inc) and in force only when the environment says
 * R42INTERCEPT_TEST_FIXTURE_DEVKIT=1. */
#define _GNU_SOURCE
#include "dkid.h"

#include "config.h"
#include "dknorm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static const struct dkid_version devkit_versions[] = {
#include "dkid_devkit.inc"
};

static const struct dkid_version fixture_versions[] = {
#include "dkid_fixtures.inc"
};

static const struct dkid_set all_sets[] = {
    {"the range42 devkit", devkit_versions,
     sizeof devkit_versions / sizeof devkit_versions[0], NULL},
    {"the test fixture devkit", fixture_versions,
     sizeof fixture_versions / sizeof fixture_versions[0],
     "devkit_fixture.lib.sh"},
};

/* What the entry scripts run through PATH on the paths the runner
   answers (JSON and --text output): other entry scripts (rows of
   shim/scripts.def), then helpers (devkit-digests.sh's HELPERS). */
const char *const dkid_helpers[] = {
    "proxmox_vm.list.to.jsons.sh",
    "proxmox_vm.vm_id.list_vm_and_extract_vm_name.to.jsons.sh",
    "proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh",
    "proxmox_vm.list_running.to.jsons.sh",
    "proxmox_vm.list_stopped.to.jsons.sh",
    "proxmox_vm.list_paused.to.jsons.sh",
    "proxmox_vm.list_running_and_extract_vm_id.to.text.sh",
    "proxmox_lxc.list.to.jsons.sh",
    "proxmox_lxc.vm_id.list_lxc_and_extract_vm_name.to.jsons.sh",
    "proxmox_snapshot_lxc.vm_id.list_snapshot.to.jsons.sh",
    "proxmox__inc.warmup_checks.sh",
    "proxmox__inc.warmup_checks_stdin.sh",
    "proxmox__inc.basic_vm_actions_warmup_checks.to.sh",
    "proxmox__inc.jsons.basic_vm_actions.to.jsons.sh",
    "proxmox__inc.jsons.basic_vm_actions.to.text.sh",
    "devkit_proxmox.STDIN.stdin_or_jsons.to.jsons.sh",
    "devkit_ansible.get_proxmox_node.to.jsons.sh",
    "devkit_transform.jsons.remove_key.to.jsons.sh",
    "devkit_transform.jsons.key_field_greper.to.jsons.sh",
    "devkit_transform.jsons.key_field_int_select.to.jsons.sh",
    "devkit_transform.jsons.key_field_select.to.jsons.sh",
    "devkit_utils.text.echo_error.to.text.to.stderr.sh",
    "devkit_utils.text.echo_trace.to.text.to.stderr.sh",
    "devkit_utils.text.echo_pass.to.text.to.stderr.sh",
    NULL};

size_t dkid_sets(const struct dkid_set **sets) {
  *sets = all_sets;
  return cfg_get()->fixture_devkit ? 2 : 1;
}

/* The digest of the regular file PATH (read without blocking on a FIFO).
   0, or -1 with E set. */
static int file_digest(const char *path, char *hex, struct msg_err *e) {
  cleanup_fd int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    msg_err_set(e, "%.200s is not a regular file", path);
    return -1;
  }
  size_t len;
  cleanup_free char *text = util_read_fd(fd, DKNORM_MAX_SCRIPT, &len);
  if (!text) {
    msg_err_set(e, "%.200s: %s", path, strerror(errno));
    return -1;
  }
  return dknorm_digest(text, len, hex, e);
}

static const struct dkid_version *find(const struct dkid_set *set,
                                       const char *name, const char *hex) {
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->v[i].name, name) == 0 &&
        strcmp(set->v[i].digest, hex) == 0)
      return &set->v[i];
  return NULL;
}

/* Checks that the file PATH is an answered version of NAME in SET (or, SET
   NULL, in any set in force, which *SET then names). */
static int known(const char *path, const char *name,
                 const struct dkid_set **set, struct msg_err *e) {
  char hex[DKNORM_HEX_LEN + 1];
  if (file_digest(path, hex, e) < 0)
    return -1;
  const struct dkid_set *sets;
  size_t n = dkid_sets(&sets);
  const struct dkid_version *v = NULL;
  for (size_t i = 0; i < n && !v; i++)
    if ((!*set || *set == &sets[i]) && (v = find(&sets[i], name, hex)))
      *set = &sets[i];
  if (!v) {
    msg_err_set(e, "%.150s is not a version of %.80s we know (digest %.12s)",
                path, *set ? (*set)->label : "the devkit", hex);
    return -1;
  }
  if (!v->answered) {
    msg_err_set(e,
                "%.150s is the devkit's version of commit %.10s, which we "
                "do not reproduce",
                path, v->commit);
    return -1;
  }
  return 0;
}

/* The companion file SET sources from beside the script PATH, if any. */
static int companion(const char *path, const struct dkid_set *set,
                     struct msg_err *e) {
  if (!set->companion)
    return 0;
  const char *slash = strrchr(path, '/');
  cleanup_free char *file =
      slash ? xasprintf("%.*s/%s", (int)(slash - path), path, set->companion)
            : xstrdup(set->companion);
  return known(file, set->companion, &set, e);
}

/* NAME found through PATH as bash finds a command: the first executable
   file DIR/NAME that is not a directory (an empty DIR is the current
   directory).  Returns it (the caller frees; file_digest() then refuses
   what is not a regular file), or NULL. */
static char *in_path(const char *name) {
  const char *path = getenv("PATH");
  if (!path)
    return NULL; /* bash would use its own default */
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    char *cand = end == p ? xstrdup(name)
                          : xasprintf("%.*s/%s", (int)(end - p), p, name);
    struct stat st;
    if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode) &&
        access(cand, X_OK) == 0)
      return cand;
    free(cand);
    if (!*end)
      return NULL;
    p = end;
  }
}

/* The environment must not make bash run anything else: a startup file,
   exported functions named like the scripts, shell options. */
static int plain_environment(const char *name, struct msg_err *e) {
  static const char *const vars[] = {"SHELLOPTS", "BASHOPTS",
                                     "POSIXLY_CORRECT", NULL};
  const char *env = getenv("BASH_ENV");
  if (env && *env) {
    msg_err_set(e, "BASH_ENV is set");
    return -1;
  }
  for (size_t i = 0; vars[i]; i++)
    if (getenv(vars[i])) {
      msg_err_set(e, "%s is set", vars[i]);
      return -1;
    }
  for (char **v = environ; *v; v++) {
    if (strncmp(*v, "BASH_FUNC_", 10) != 0)
      continue;
    const char *fn = *v + 10;
    size_t len = strcspn(fn, "%=");
    bool ours = strlen(name) == len && strncmp(fn, name, len) == 0;
    for (size_t i = 0; dkid_helpers[i] && !ours; i++)
      ours = strlen(dkid_helpers[i]) == len &&
             strncmp(fn, dkid_helpers[i], len) == 0;
    if (ours) {
      msg_err_set(e, "a function %.*s is exported", (int)len, fn);
      return -1;
    }
  }
  return 0;
}

int dkid_check(const char *path, const char *name, struct msg_err *e) {
  const struct dkid_set *set = NULL;
  if (plain_environment(name, e) < 0 || known(path, name, &set, e) < 0 ||
      companion(path, set, e) < 0)
    return -1;
  for (size_t i = 0; dkid_helpers[i]; i++) {
    cleanup_free char *found = in_path(dkid_helpers[i]);
    if (!found) {
      msg_err_set(e, "%s is not found through PATH", dkid_helpers[i]);
      return -1;
    }
    if (known(found, dkid_helpers[i], &set, e) < 0 ||
        companion(found, set, e) < 0)
      return -1;
  }
  return 0;
}
