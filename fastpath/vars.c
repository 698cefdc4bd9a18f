/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vars.c: the variables a play sees, as a flat string map.  Values may be
 * secrets (they come from the vault), so they live in wiped memory.
 * Precedence (which source overrides which) is decided by the callers. */
#include "vars.h"

#include <stdlib.h>
#include <string.h>

static long find(const struct vars *v, const char *key) {
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->keys[i], key) == 0)
      return (long)i;
  return -1;
}

void vars_set(struct vars *v, const char *key, const char *val) {
  char *copy = val ? secret_strndup(val, strlen(val)) : NULL;
  long i = find(v, key);
  if (i >= 0) {
    secret_free(v->vals[i]);
    v->vals[i] = copy;
    return;
  }
  v->keys = xrealloc(v->keys, (v->n + 1) * sizeof *v->keys);
  v->vals = xrealloc(v->vals, (v->n + 1) * sizeof *v->vals);
  v->keys[v->n] = xstrdup(key);
  v->vals[v->n] = copy;
  v->n++;
}

bool vars_has(const struct vars *v, const char *key) {
  return find(v, key) >= 0;
}

const char *vars_get(const struct vars *v, const char *key) {
  long i = find(v, key);
  return i >= 0 ? v->vals[i] : NULL;
}

int vars_from_yaml(struct vars *v, const struct ydoc_node *map,
                   struct msg_err *e) {
  if (!map || map->type != YDOC_MAP) {
    msg_err_set(e, "variables are not a mapping");
    return -1;
  }
  for (size_t i = 0; i + 1 < map->n; i += 2)
    vars_set(v, map->kids[i]->text, ydoc_literal(map->kids[i + 1]));
  return 0;
}

void vars_merge(struct vars *v, const struct vars *from) {
  for (size_t i = 0; i < from->n; i++)
    vars_set(v, from->keys[i], from->vals[i]);
}

void vars_clear(struct vars *v) {
  for (size_t i = 0; i < v->n; i++) {
    free(v->keys[i]);
    secret_free(v->vals[i]);
  }
  free(v->keys);
  free(v->vals);
  memset(v, 0, sizeof *v);
}
