/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.c: reads the ansible-playbook command lines the devkit makes and
 * refuses every other option, since each one changes what Ansible would
 * do (extra vars, check mode, verbosity, limits, tags...).  Environment
 * and config settings are run_playbook.c's business. */
#include "cli.h"

#include <string.h>

/* If ARG is option NAME (as "NAME VALUE" or "NAME=VALUE"), sets *VALUE
   and returns the number of argv slots used (1 or 2); 0 if not; -1 if the
   value is missing. */
static int take_option(char **argv, int i, const char *name,
                       const char **value) {
  size_t n = strlen(name);
  if (strncmp(argv[i], name, n) != 0)
    return 0;
  if (argv[i][n] == '=') {
    *value = argv[i] + n + 1;
    return 1;
  }
  if (argv[i][n] != '\0')
    return 0;
  if (!argv[i + 1])
    return -1;
  *value = argv[i + 1];
  return 2;
}

/* -iVALUE, as well as "-i VALUE". */
static int take_short_i(char **argv, int i, const char **value) {
  if (strncmp(argv[i], "-i", 2) != 0 || argv[i][2] == '\0')
    return take_option(argv, i, "-i", value);
  *value = argv[i] + 2;
  return 1;
}

const char *cli_vault_id_file(const char *value) {
  const char *at = strchr(value, '@');
  const char *src = at ? at + 1 : value;
  return (*src == '\0' || strcmp(src, "prompt") == 0) ? NULL : src;
}

/* -1, saying the option has no value when USED says so. */
static int missing_value(const char *opt, int used, struct msg_err *e) {
  if (used < 0)
    msg_err_set(e, "option %.40s needs a value", opt);
  return -1;
}

/* A call's password files and their --vault-id labels. */
struct vault_args {
  const char **files;
  char (*labels)[CLI_MAX_LABEL];
  size_t *n;
};

/* Appends FILE, with the label of the --vault-id value ID (NULL: a
   --vault-password-file), to the password files of A. */
static int add_vault_file(const struct vault_args *a, const char *file,
                          const char *id, struct msg_err *e) {
  if (!file || !*file) {
    msg_err_set(e, "vault password prompts are not supported");
    return -1;
  }
  if (*a->n == CLI_MAX_VAULT_FILES) {
    msg_err_set(e, "too many vault passwords");
    return -1;
  }
  const char *at = id ? strchr(id, '@') : NULL;
  size_t label = at ? (size_t)(at - id) : 0;
  if (label >= CLI_MAX_LABEL) {
    msg_err_set(e, "a --vault-id label is too long");
    return -1;
  }
  memcpy(a->labels[*a->n], id ? id : "", label);
  a->labels[*a->n][label] = '\0';
  a->files[(*a->n)++] = file;
  return 0;
}

/* If argv[I] is a vault password option, takes it: returns the slots used
   (1 or 2), 0 if it is not one, -1 (E set) if it is unusable. */
static int take_vault_option(char **argv, int i, const struct vault_args *a,
                             struct msg_err *e) {
  const char *v = NULL;
  int used;
  if ((used = take_option(argv, i, "--vault-password-file", &v)) ||
      (used = take_option(argv, i, "--vault-pass-file", &v))) {
    if (used < 0 || add_vault_file(a, v, NULL, e) < 0)
      return missing_value(argv[i], used, e);
    return used;
  }
  if ((used = take_option(argv, i, "--vault-id", &v)) != 0) {
    if (used < 0 || add_vault_file(a, cli_vault_id_file(v), v, e) < 0)
      return missing_value(argv[i], used, e);
    return used;
  }
  return 0;
}

int cli_parse_playbook(char **argv, struct cli_playbook *out,
                       struct msg_err *e) {
  memset(out, 0, sizeof *out);
  struct vault_args va = {out->vault_files, out->vault_labels,
                          &out->n_vault_files};
  for (int i = 1; argv[i];) {
    const char *v = NULL;
    int used;
    if ((used = take_short_i(argv, i, &v)) != 0 ||
        (used = take_option(argv, i, "--inventory", &v)) != 0) {
      if (used < 0 || out->inventory) {
        msg_err_set(e, "ansible-playbook: one -i INVENTORY expected");
        return -1;
      }
      out->inventory = v;
    } else if ((used = take_vault_option(argv, i, &va, e)) != 0) {
      if (used < 0)
        return -1;
    } else if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
      msg_err_set(e, "ansible-playbook option %.40s is not supported",
                  argv[i]);
      return -1;
    } else {
      if (out->playbook) {
        msg_err_set(e, "more than one playbook");
        return -1;
      }
      out->playbook = argv[i];
      used = 1;
    }
    i += used;
  }
  if (!out->playbook || !out->inventory) {
    msg_err_set(e, "ansible-playbook: no %s",
                out->playbook ? "inventory" : "playbook");
    return -1;
  }
  return 0;
}

int cli_parse_vault_view(char **argv, struct cli_vault_view *out,
                         struct msg_err *e) {
  memset(out, 0, sizeof *out);
  struct vault_args va = {out->vault_files, out->vault_labels,
                          &out->n_vault_files};
  for (int i = 2; argv[i];) {
    int used = take_vault_option(argv, i, &va, e);
    if (used < 0)
      return -1;
    if (used == 0) {
      if (argv[i][0] == '-') {
        msg_err_set(e, "ansible-vault option %.40s is not supported", argv[i]);
        return -1;
      }
      if (out->n_files == CLI_MAX_VIEW_FILES) {
        msg_err_set(e, "too many files");
        return -1;
      }
      out->files[out->n_files++] = argv[i];
      used = 1;
    }
    i += used;
  }
  if (out->n_files == 0) {
    msg_err_set(e, "ansible-vault view: no file");
    return -1;
  }
  return 0;
}
