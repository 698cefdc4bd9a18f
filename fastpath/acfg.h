/* SPDX-License-Identifier: GPL-3.0-or-later */
/* acfg.h: Ansible's configuration, read as ansible-core 2.14 does (see
   acfg.c). */
#ifndef R42_ACFG_H
#define R42_ACFG_H

#include "msg.h"

#include <stdbool.h>

/* The settings of the ansible.cfg in effect. */
struct acfg {
  char *path;   /* the config file used, or NULL when none exists */
  size_t n;     /* number of entries */
  char **sects; /* each entry's section */
  char **keys;  /* lower-cased keys */
  char **vals;  /* values, stripped */
};

/* Finds the config file like Ansible (ANSIBLE_CONFIG, a directory meaning
   DIR/ansible.cfg; ./ansible.cfg unless the directory is world-writable;
   ~/.ansible.cfg; /etc/ansible/ansible.cfg; first that exists) and reads
   its [defaults] section.  Returns 0, or -1 with E set when the file
   cannot be read or parsed.  Free with acfg_clear(). */
int acfg_load(struct acfg *cfg, struct msg_err *e) R42_WARN_UNUSED;

/* Reads the [defaults] of the config file PATH (as when ANSIBLE_CONFIG
   names it).  Returns 0, or -1 with E set.  Free with acfg_clear(). */
int acfg_load_file(struct acfg *cfg, const char *path,
                   struct msg_err *e) R42_WARN_UNUSED;

/* Parses INI TEXT as ansible-core's configparser (strict, inline ';'
   comments) does; -1 with E set for what it rejects and for what we do
   not read exactly like it ([DEFAULT] values, '%', odd whitespace).  Used
   by acfg_load(); exposed for the unit tests. */
int acfg_parse(struct acfg *cfg, const char *text,
               struct msg_err *e) R42_WARN_UNUSED;

void acfg_clear(struct acfg *cfg);

/* A setting: the environment variable ENV when set, else KEY from
   [defaults], else NULL.  The string belongs to the environment or CFG. */
const char *acfg_get(const struct acfg *cfg, const char *env, const char *key);

/* True if a section whose name starts with PREFIX sets anything. */
bool acfg_section_used(const struct acfg *cfg, const char *prefix);

/* Ansible's vault id settings: *MATCH is vault_id_match
   (ANSIBLE_VAULT_ID_MATCH), a string, on when not empty once unquoted;
   *IDENTITY (a new string) is vault_identity (ANSIBLE_VAULT_IDENTITY,
   default "default"), the label of unlabelled passwords and of 1.1
   vaults.  Returns 0, or -1 with E set when vault_identity_list is set
   (its ids come first; we do not load them). */
int acfg_vault_ids(const struct acfg *cfg, bool *match, char **identity,
                   struct msg_err *e) R42_WARN_UNUSED;

/* Checks that the stdout callback in effect (ANSIBLE_STDOUT_CALLBACK, else
   stdout_callback) is json (or ansible.posix.json) with no extra
   callbacks enabled, and sets *INDENT to its json_indent (default 4).
   Returns 0, or -1 with E saying which setting is not ours. */
int acfg_json_callback(const struct acfg *cfg, int *indent,
                       struct msg_err *e) R42_WARN_UNUSED;

/* The directory of ROLE, searched like Ansible: PLAYBOOK_DIR/roles, the
   roles path (ANSIBLE_ROLES_PATH, roles_path, or the defaults), then
   PLAYBOOK_DIR; a role is a directory with a tasks/ directory.  Returns
   it (the caller frees), or NULL with E set. */
char *acfg_find_role(const struct acfg *cfg, const char *playbook_dir,
                     const char *role, struct msg_err *e) R42_WARN_UNUSED;

#endif
