/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vault.h: Ansible Vault 1.1/1.2 AES256 files and their passwords (see
   vault.c). */
#ifndef R42_VAULT_H
#define R42_VAULT_H

#include "acfg.h"
#include "msg.h"
#include "vars.h"

#include <stdbool.h>
#include <stddef.h>

enum vault_result {
  VAULT_OK = 0,
  VAULT_NOT_VAULT,     /* no $ANSIBLE_VAULT header: plain text */
  VAULT_BAD_FORMAT,    /* a vault, but not one we read (version, cipher,
                          hex, envelope, padding) */
  VAULT_WRONG_PASSWORD /* the HMAC does not match */
};

/* True if TEXT starts with the $ANSIBLE_VAULT header. */
bool vault_is_encrypted(const char *text, size_t len);

/* Decrypts the vault TEXT with PASSWORD.  On VAULT_OK *PLAIN is a
   NUL-terminated secret string (free with secret_free()) of *PLAIN_LEN
   bytes.  Otherwise E says why (never quoting the input). */
enum vault_result vault_decrypt(const char *text, size_t len,
                                const char *password, char **plain,
                                size_t *plain_len,
                                struct msg_err *e) R42_WARN_UNUSED;

/* The password Ansible gets from the file PATH: the file's bytes with
   leading and trailing whitespace stripped, or, when the file is
   executable, the standard output of running it, stripped of "\r\n" at
   both ends.  Returns a secret string (free with secret_free()), or NULL
   with E set (unreadable, script failed, empty password).  "Client"
   scripts (name ending in -client) are refused. */
char *vault_password_from_file(const char *path,
                               struct msg_err *e) R42_WARN_UNUSED;

/* One password file of a call and its vault id label (--vault-id
   LABEL@FILE; NULL or "": none, the default identity). */
struct vault_pwfile {
  const char *path;
  const char *label;
};

/* The passwords of a call, loaded once (Ansible sets up every vault
   secret before it decrypts anything), and how Ansible picks among them
   for a vault. */
#define VAULT_MAX_SECRETS 9
struct vault_secrets {
  char *pw[VAULT_MAX_SECRETS];    /* secret strings */
  char *label[VAULT_MAX_SECRETS]; /* each one's vault id */
  size_t n;
  bool id_match;  /* vault_id_match: only the vault's own id is tried */
  char *identity; /* vault_identity: the vault id of a 1.1 vault */
};

/* Loads the passwords of the N password FILES, with the vault id settings
   of CFG (and the environment).  Returns 0, or -1 with E set when one
   cannot be had or a setting is not one we follow (nothing is kept then).
   Free with vault_secrets_clear(), which wipes them. */
int vault_secrets_load(struct vault_secrets *s,
                       const struct vault_pwfile *files, size_t n,
                       const struct acfg *cfg,
                       struct msg_err *e) R42_WARN_UNUSED;
void vault_secrets_clear(struct vault_secrets *s);

/* Decrypts the vault TEXT with the first of S's passwords that Ansible
   would try for it (its vault id first; with id_match only that one) and
   whose HMAC matches.  Returns the plaintext (a secret string of
   *PLAIN_LEN bytes, free with secret_free()), or NULL with E set. */
char *vault_open(const char *text, size_t len, const struct vault_secrets *s,
                 size_t *plain_len, struct msg_err *e) R42_WARN_UNUSED;

/* PBKDF2-HMAC-SHA256 of PASSWORD and SALT, ITERATIONS rounds, OUT_LEN
   bytes into OUT (what PKCS5_PBKDF2_HMAC computes, faster). */
void vault_pbkdf2_sha256(const char *password, const unsigned char *salt,
                         size_t salt_len, unsigned iterations,
                         unsigned char *out, size_t out_len);

/* Loads the vars file PATH into VARS: an encrypted file is opened with
   the passwords of the N PWFILES, picked as Ansible does with CFG's vault
   id settings (vault_open()); a plain one is read as is.  The YAML must be
   a mapping; its values enter through ydoc_literal().  Returns 0, or -1
   with E set (unreadable, no or wrong password, bad vault, bad YAML). */
int vault_read_vars(const char *path, const struct vault_pwfile *pwfiles,
                    size_t n, const struct acfg *cfg, struct vars *vars,
                    struct msg_err *e) R42_WARN_UNUSED;

#endif
