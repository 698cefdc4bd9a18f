/* SPDX-License-Identifier: GPL-3.0-or-later */
/* textout.h: ansible's default callback text for one devkit role call,
   rendered from the role's files and the exchanges made (see textout.c). */
#ifndef R42_TEXTOUT_H
#define R42_TEXTOUT_H

#include "buf.h"
#include "pve.h"
#include "vars.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

struct tout_task;

/* The role's task list for one action, as far as it is understood. */
struct tout {
  char *role_dir;          /* the role's directory */
  char *role_name;         /* its name, as the banners show it */
  size_t n_main;           /* tasks of tasks/main.yml */
  char **main_names;       /* their names */
  size_t match;            /* the one include run for the action */
  char *include;           /* its file, as written in main.yml */
  size_t n_tasks;          /* the tasks of that file's block */
  struct tout_task *tasks; /* them */
  char *action;            /* the action (its result variable) */
};

/* Reads the role in ROLE_DIR (named ROLE_NAME) for ACTION: main.yml made
   of include_tasks each under `when: proxmox_vm_action == "X"`, one for
   ACTION, whose file is one block under the same condition holding uri,
   debug var and set_fact tasks of the forms textout.c describes.  Returns
   0, or -1 with E set for anything else.  Free with tout_clear(). */
int tout_load(struct tout *t, const char *role_dir, const char *role_name,
              const char *action, struct msg_err *e) R42_WARN_UNUSED;

void tout_clear(struct tout *t);

/* One call of the role, as made. */
struct tout_call {
  const char *host;             /* the play's host */
  const char *task_name;        /* the playbook's include_role task */
  const struct vars *vars;      /* vault and play vars (uri urls) */
  const struct pve_exchange *x; /* the exchanges the action made */
  size_t n_x;
  const cJSON *result; /* the action's result; NULL: failed */
};

/* Appends to OUT what ansible-playbook prints for CALL with the default
   callback (no colour, 79 columns); *FAILED tells whether a uri task
   failed there (ansible's status 2).  Returns 0, or -1 with E set when
   the exchanges do not fit the role's uri tasks. */
int tout_render(const struct tout *t, const struct tout_call *call,
                struct buf *out, bool *failed,
                struct msg_err *e) R42_WARN_UNUSED;

/* Python's json.dumps(ITEM, indent=INDENT or None when < 0,
   sort_keys=True, ensure_ascii=False) at nesting DEPTH, appended to OUT.
   Numbers carry their JSON text in valuestring when they came from a
   body (tout_parse_body); else integral values print as ints. */
void tout_json(struct buf *out, const cJSON *item, int indent, int depth);

/* Python's repr() of ITEM (dicts in their order), appended to OUT. */
void tout_repr(struct buf *out, const cJSON *item);

/* BODY (LEN bytes) parsed as JSON, each number keeping its text in
   valuestring (so that 1.0 stays a float).  NULL when it is not JSON. */
cJSON *tout_parse_body(const char *body, size_t len);

#endif
