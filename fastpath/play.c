/* SPDX-License-Identifier: GPL-3.0-or-later */
/* play.c: reads the inline playbook the devkit feeds ansible-playbook
 * (docs/decision.md section 1) and refuses every shape it does not know, so
 * that anything unusual runs through real Ansible.  Which actions exist and
 * what their variables mean is action.c's business. */
#include "play.h"

#include <stdlib.h>
#include <string.h>

static const char *const play_keys[] = {"hosts", "gather_facts", "vars_files",
                                        "tasks", NULL};
static const char *const task_keys[] = {
    "name", "include_role", "ansible.builtin.include_role", "vars", NULL};

/* Every key of MAP is one of ALLOWED; else E names the first that is not. */
static int only_keys(const struct ydoc_node *map, const char *const *allowed,
                     const char *what, struct msg_err *e) {
  for (size_t i = 0; i < map->n; i += 2)
    if (!util_str_in(map->kids[i]->text, allowed)) {
      msg_err_set(e, "playbook: %s key '%.64s' is not supported", what,
                  map->kids[i]->text);
      return -1;
    }
  return 0;
}

/* The single item of a one-item sequence, or NULL. */
static const struct ydoc_node *single(const struct ydoc_node *seq) {
  return seq && seq->type == YDOC_SEQ && seq->n == 1 ? seq->kids[0] : NULL;
}

static int check_role(const struct ydoc_node *task, struct msg_err *e) {
  const struct ydoc_node *inc = ydoc_get(task, "include_role");
  if (!inc)
    inc = ydoc_get(task, "ansible.builtin.include_role");
  static const char *const inc_keys[] = {"name", NULL};
  if (!inc || inc->type != YDOC_MAP ||
      only_keys(inc, inc_keys, "include_role", e) < 0) {
    if (!inc || inc->type != YDOC_MAP)
      msg_err_set(e, "playbook: the task is not an include_role");
    return -1;
  }
  const char *name = ydoc_literal(ydoc_get(inc, "name"));
  if (!name || strcmp(name, PLAY_ROLE_NAME) != 0) {
    msg_err_set(e, "playbook: the role is not " PLAY_ROLE_NAME);
    return -1;
  }
  return 0;
}

/* Ansible's isidentifier() (ansible/utils/vars.py): an ASCII Python
   identifier that is not a keyword (True, False and None included). */
static bool ansible_identifier(const char *name) {
  static const char *const keywords[] = {
      "False",  "None",     "True",  "and",    "as",       "assert",
      "async",  "await",    "break", "class",  "continue", "def",
      "del",    "elif",     "else",  "except", "finally",  "for",
      "from",   "global",   "if",    "import", "in",       "is",
      "lambda", "nonlocal", "not",   "or",     "pass",     "raise",
      "return", "try",      "while", "with",   "yield",    NULL};
  static const char letters[] = "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ_";
  if (!*name || !strchr(letters, *name) ||
      strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
                   "0123456789") != strlen(name))
    return false;
  return !util_str_in(name, keywords);
}

/* The task's vars: all literal strings, none that steers Ansible, each
   named by a string Ansible accepts as a variable name (a YAML key it
   reads as a bool, null or number is not a string). */
static int read_task_vars(const struct ydoc_node *task, struct vars *vars,
                          struct msg_err *e) {
  const struct ydoc_node *map = ydoc_get(task, "vars");
  if (!map || map->type != YDOC_MAP) {
    msg_err_set(e, "playbook: the task has no vars mapping");
    return -1;
  }
  for (size_t i = 0; i + 1 < map->n; i += 2) {
    const char *key = map->kids[i]->text;
    const char *name = ydoc_literal(map->kids[i]);
    if (!name || strlen(name) != map->kids[i]->len ||
        !ansible_identifier(name)) {
      msg_err_set(e, "playbook: '%.64s' is not a valid variable name", key);
      return -1;
    }
    if (strncmp(key, "ansible_", 8) == 0 || !ydoc_literal(map->kids[i + 1])) {
      msg_err_set(e, "playbook: var '%.64s' is not a plain string", key);
      return -1;
    }
  }
  return vars_from_yaml(vars, map, e);
}

static int read_play(const struct ydoc_node *pl, struct play *play,
                     struct msg_err *e) {
  if (!pl || pl->type != YDOC_MAP) {
    msg_err_set(e, "playbook: not exactly one play");
    return -1;
  }
  if (only_keys(pl, play_keys, "play", e) < 0)
    return -1;
  const char *hosts = ydoc_literal(ydoc_get(pl, "hosts"));
  if (!hosts || !*hosts || strpbrk(hosts, ",:!&*?[]~ ")) {
    msg_err_set(e, "playbook: hosts is not a single host name");
    return -1;
  }
  if (!ydoc_is_false(ydoc_get(pl, "gather_facts"))) {
    msg_err_set(e, "playbook: gather_facts is not false");
    return -1;
  }
  const char *vars_file = ydoc_literal(single(ydoc_get(pl, "vars_files")));
  if (!vars_file || !*vars_file) {
    msg_err_set(e, "playbook: not exactly one vars_files entry");
    return -1;
  }
  const struct ydoc_node *task = single(ydoc_get(pl, "tasks"));
  if (!task || task->type != YDOC_MAP) {
    msg_err_set(e, "playbook: not exactly one task");
    return -1;
  }
  if (only_keys(task, task_keys, "task", e) < 0 || check_role(task, e) < 0)
    return -1;
  const struct ydoc_node *name = ydoc_get(task, "name");
  if (name && !ydoc_literal(name)) {
    msg_err_set(e, "playbook: the task name is not a plain string");
    return -1;
  }
  if (read_task_vars(task, &play->vars, e) < 0)
    return -1;
  play->hosts = xstrdup(hosts);
  play->vars_file = xstrdup(vars_file);
  play->task_name = name ? xstrdup(ydoc_literal(name)) : NULL;
  play->play_line = pl->line;
  play->task_line = task->line;
  return 0;
}

int play_parse(const char *text, size_t len, struct play *play,
               struct msg_err *e) {
  memset(play, 0, sizeof *play);
  cleanup_ydoc struct ydoc_node *root = ydoc_parse(text, len, false, e);
  if (!root)
    return -1;
  if (root->type != YDOC_SEQ || root->n != 1) {
    msg_err_set(e, "playbook: not exactly one play");
    return -1;
  }
  if (read_play(root->kids[0], play, e) < 0) {
    play_clear(play);
    return -1;
  }
  return 0;
}

void play_clear(struct play *play) {
  free(play->hosts);
  free(play->vars_file);
  free(play->task_name);
  vars_clear(&play->vars);
  memset(play, 0, sizeof *play);
}
