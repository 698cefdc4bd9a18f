/* vault.h: Ansible Vault 1.1/1.2 AES256 files and their passwords (see
   vault.c). */
#ifndef R42_VAULT_H
#define R42_VAULT_H

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

/* The passwords of a call, loaded once (Ansible sets up every vault
   secret before it decrypts anything). */
#define VAULT_MAX_SECRETS 9
struct vault_secrets {
  char *pw[VAULT_MAX_SECRETS]; /* secret strings */
  size_t n;
};

/* Loads the passwords of the N password FILES.  Returns 0, or -1 with E
   set when one cannot be had (nothing is kept then).  Free with
   vault_secrets_clear(), which wipes them. */
int vault_secrets_load(struct vault_secrets *s, const char *const *files,
                       size_t n, struct msg_err *e) R42_WARN_UNUSED;
void vault_secrets_clear(struct vault_secrets *s);

/* Decrypts the vault TEXT with the first of S's passwords whose HMAC
   matches.  Returns the plaintext (a secret string of *PLAIN_LEN bytes,
   free with secret_free()), or NULL with E set. */
char *vault_open(const char *text, size_t len, const struct vault_secrets *s,
                 size_t *plain_len, struct msg_err *e) R42_WARN_UNUSED;

/* PBKDF2-HMAC-SHA256 of PASSWORD and SALT, ITERATIONS rounds, OUT_LEN
   bytes into OUT (what PKCS5_PBKDF2_HMAC computes, faster). */
void vault_pbkdf2_sha256(const char *password, const unsigned char *salt,
                         size_t salt_len, unsigned iterations,
                         unsigned char *out, size_t out_len);

/* Loads the vars file PATH into VARS: an encrypted file is opened with the
   first password (from the files PWFILES[0..N)) whose HMAC matches; a
   plain one is read as is.  The YAML must be a mapping; its values enter
   through ydoc_literal().  Returns 0, or -1 with E set (unreadable, no or
   wrong password, bad vault, bad YAML). */
int vault_read_vars(const char *path, const char *const *pwfiles, size_t n,
                    struct vars *vars, struct msg_err *e) R42_WARN_UNUSED;

#endif
