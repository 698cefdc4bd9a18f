/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-playbook.c: libFuzzer target for the playbook parser (play.c) and
 * the YAML loading and typing under it (ydoc.c).  The input is a playbook
 * text.  Besides the sanitizers, it checks ydoc's contracts on every
 * node: a literal is the node's own text and holds no Jinja, and a
 * scalar YAML reads as false is no literal string. */
#include "fuzz.h"

#include "play.h"
#include "ydoc.h"

/* ydoc_literal() and ydoc_is_false() on NODE and everything under it. */
static void check_typing(const struct ydoc_node *node) {
  const char *lit = ydoc_literal(node);
  if (lit) {
    fuzz_assert(node->type == YDOC_SCALAR);
    fuzz_assert(strcmp(lit, node->text) == 0);
    fuzz_assert(!strstr(lit, "{{") && !strstr(lit, "{%") &&
                !strstr(lit, "{#"));
  }
  if (ydoc_is_false(node))
    fuzz_assert(node->type == YDOC_SCALAR && node->plain && !lit);
  if (node->type == YDOC_MAP) {
    fuzz_assert(node->n % 2 == 0);
    for (size_t i = 0; i < node->n; i += 2)
      if (node->kids[i]->type == YDOC_SCALAR)
        fuzz_assert(ydoc_get(node, node->kids[i]->text) != NULL);
  }
  for (size_t i = 0; i < node->n; i++)
    check_typing(node->kids[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_cstr(data, size);
  struct msg_err e;
  struct play play;
  if (play_parse(text, size, &play, &e) == 0) {
    fuzz_assert(play.hosts && *play.hosts && play.vars_file);
    play_clear(&play);
  }
  struct ydoc_node *root = ydoc_parse(text, size, false, &e);
  if (root) {
    check_typing(root);
    struct vars vars = {0};
    if (vars_from_yaml(&vars, root, &e) == 0)
      for (size_t i = 0; i < vars.n; i++)
        fuzz_assert(vars_has(&vars, vars.keys[i]));
    vars_clear(&vars);
    ydoc_free(root);
  }
  free(text);
  return 0;
}
