/* SPDX-License-Identifier: GPL-3.0-or-later */
/* run.h: the runner's modes, one per kind of intercepted program. */
#ifndef R42_RUN_H
#define R42_RUN_H

#include "fallback.h"

/* Answers an ansible-playbook call (ARGV: its own argv) from the API, or
   falls back through FB.  Returns the exit status to end with. */
int run_playbook(struct fb *fb, char **argv);

/* Answers "ansible-vault view" (ARGV: its own argv) natively, or falls
   back through FB.  Returns the exit status to end with. */
int run_vault_view(struct fb *fb, char **argv);

/* Answers a devkit entry script (ARGV: the exec's argv, the script's own
   argv starting at PROG) natively, or falls back through FB.  Returns the
   exit status to end with. */
int run_script(struct fb *fb, char **argv, int prog);

/* The caller's ansible.cfg (the one the devkit's ansible-vault view
   reads) parses and sets no vault option.  Returns 0, or -1 with E set. */
int run_caller_config_ok(struct msg_err *e) R42_WARN_UNUSED;

#endif
