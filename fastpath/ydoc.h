/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ydoc.h: a small YAML tree loaded with libyaml (see ydoc.c). */
#ifndef R42_YDOC_H
#define R42_YDOC_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>

enum ydoc_type { YDOC_SCALAR, YDOC_SEQ, YDOC_MAP };

/* One node.  A map's children alternate key, value. */
struct ydoc_node {
  enum ydoc_type type;
  char *text;              /* scalar value (escapes resolved), else NULL */
  size_t len;              /* its length in bytes */
  bool plain;              /* an unquoted scalar (YAML may type it) */
  bool tagged;             /* carried an explicit tag (!vault, !!int...) */
  size_t n;                /* number of children */
  struct ydoc_node **kids; /* children */
  bool secret;             /* wipe text on free */
  int line;                /* 1-based line where the node starts */
};

/* Parses TEXT (LEN bytes) holding exactly one YAML document.  Anchors,
   aliases, merge keys and duplicate keys are refused, as anything we
   would have to interpret like Ansible does.  SECRET marks the tree and
   libyaml's buffers to be wiped.  Returns the root, or NULL with E set
   (E's text quotes no input). */
struct ydoc_node *ydoc_parse(const char *text, size_t len, bool secret,
                             struct msg_err *e) R42_WARN_UNUSED;

/* Frees the tree (NULL: nothing).  Secret trees are wiped first. */
void ydoc_free(struct ydoc_node *node);

void ydoc_free_cb(struct ydoc_node **node);
#define cleanup_ydoc __attribute__((cleanup(ydoc_free_cb)))

/* The value of KEY in MAP, or NULL (MAP not a map, or no such key). */
const struct ydoc_node *ydoc_get(const struct ydoc_node *map, const char *key);

/* The text of NODE when Ansible would see it as that same literal
   string: a quoted scalar, or a plain one that YAML 1.1 does not type as
   a bool, null, float or timestamp (a canonical decimal integer is kept:
   it templates back to the same text).  NULL otherwise, and also when the
   text holds Jinja ("{{", "{%", "{#"), which Ansible would template. */
const char *ydoc_literal(const struct ydoc_node *node);

/* True if NODE is a plain scalar YAML 1.1 reads as boolean false. */
bool ydoc_is_false(const struct ydoc_node *node);

#endif
