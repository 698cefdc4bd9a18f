/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.h: ansible-playbook's command line, as the devkit writes it (see
   cli.c). */
#ifndef R42_CLI_H
#define R42_CLI_H

#include "msg.h"

#define CLI_MAX_VAULT_FILES 8
#define CLI_MAX_LABEL 128 /* a longer --vault-id label is refused */

/* What an ansible-playbook command line asks for.  Strings point into
   the argv given to cli_parse_playbook(). */
struct cli_playbook {
  const char *inventory;                        /* -i / --inventory */
  const char *vault_files[CLI_MAX_VAULT_FILES]; /* password files, in order */
  /* each one's --vault-id label ("": none, the default identity) */
  char vault_labels[CLI_MAX_VAULT_FILES][CLI_MAX_LABEL];
  size_t n_vault_files;
  const char *playbook; /* the one playbook path */
};

/* Parses ARGV (argv[0] is ansible-playbook) accepting only -i/--inventory
   (once), --vault-password-file/--vault-pass-file and --vault-id
   ([label@]FILE, not a prompt), in "--opt value" or "--opt=value" form,
   and exactly one playbook.  Returns 0, or -1 with E naming what is not
   supported (-e, --check, -v, --tags, --limit, ...). */
int cli_parse_playbook(char **argv, struct cli_playbook *out,
                       struct msg_err *e) R42_WARN_UNUSED;

#define CLI_MAX_VIEW_FILES 64

/* What an "ansible-vault view" command line asks for. */
struct cli_vault_view {
  const char *vault_files[CLI_MAX_VAULT_FILES]; /* password files, in order */
  /* each one's --vault-id label ("": none, the default identity) */
  char vault_labels[CLI_MAX_VAULT_FILES][CLI_MAX_LABEL];
  size_t n_vault_files;
  const char *files[CLI_MAX_VIEW_FILES]; /* the vaults to show */
  size_t n_files;
};

/* Parses ARGV (argv[0] ansible-vault, argv[1] "view") accepting only
   --vault-password-file/--vault-pass-file and --vault-id (a file), and one
   or more vault files (not "-").  Returns 0, or -1 with E set. */
int cli_parse_vault_view(char **argv, struct cli_vault_view *out,
                         struct msg_err *e) R42_WARN_UNUSED;

/* The file of a --vault-id value "[label@]source", or NULL when the
   source is a prompt. */
const char *cli_vault_id_file(const char *value);

#endif
