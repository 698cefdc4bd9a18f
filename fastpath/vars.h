/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vars.h: a small string map for Ansible variables (see vars.c). */
#ifndef R42_VARS_H
#define R42_VARS_H

#include "ydoc.h"

/* Keys are plain strings; values are secret strings (wiped on clear), or
   NULL for a variable that exists but is not a literal string. */
struct vars {
  size_t n;
  char **keys;
  char **vals;
};

/* Sets KEY to a copy of VAL (NULL: "defined, not a literal"). */
void vars_set(struct vars *v, const char *key, const char *val);

/* True if KEY is defined. */
bool vars_has(const struct vars *v, const char *key);

/* KEY's literal value, or NULL when undefined or not a literal. */
const char *vars_get(const struct vars *v, const char *key);

/* Adds every key of the YAML mapping MAP (values through ydoc_literal()).
   Returns 0, or -1 with E set if MAP is not a mapping. */
int vars_from_yaml(struct vars *v, const struct ydoc_node *map,
                   struct msg_err *e) R42_WARN_UNUSED;

/* Copies every variable of FROM into V, replacing what V had. */
void vars_merge(struct vars *v, const struct vars *from);

/* Frees everything, wiping the values. */
void vars_clear(struct vars *v);

#endif
