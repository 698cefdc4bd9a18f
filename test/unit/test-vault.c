/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-vault.c: vault.c against vectors made by `ansible-vault encrypt`
 * (test/unit/data), and against wrong passwords, tampered and truncated
 * files, garbage, and password files/scripts.  Also checks that no error
 * text ever holds the password or the plaintext.  Run from the top. */
#include "tap.h"
#include "util.h"
#include "vault.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define DATA "test/unit/data/"
#define PASSWORD "r42-unit-pass"
#define SECRET "00000000-1111-2222-3333-444444444444"

static char *slurp(const char *name, size_t *len) {
  char *text = util_read_file(name, 1 << 20, len);
  if (!text) {
    printf("Bail out! cannot read %s (run from the top directory)\n", name);
    exit(1);
  }
  return text;
}

/* No secret in an error text. */
static void ok_clean(const struct msg_err *e, const char *what) {
  ok(!strstr(e->text, PASSWORD) && !strstr(e->text, SECRET) &&
         !strstr(e->text, "proxmox_api"),
     "%s: the error names no secret (\"%s\")", what, e->text);
}

static enum vault_result decrypt_file(const char *name, const char *pw,
                                      char **plain, size_t *plen,
                                      struct msg_err *e) {
  size_t len;
  char *text = slurp(name, &len);
  enum vault_result rc = vault_decrypt(text, len, pw, plain, plen, e);
  free(text);
  return rc;
}

static void test_vectors(void) {
  size_t want_len, got_len;
  char *want = slurp(DATA "plain.yml", &want_len);
  const char *files[] = {DATA "vault-1.1.yml", DATA "vault-1.2.yml"};
  for (int i = 0; i < 2; i++) {
    char *plain = NULL;
    struct msg_err e = {{0}};
    enum vault_result rc =
        decrypt_file(files[i], PASSWORD, &plain, &got_len, &e);
    ok(rc == VAULT_OK && got_len == want_len &&
           memcmp(plain, want, want_len) == 0,
       "%s decrypts to the plaintext", files[i]);
    secret_free(plain);
  }
  free(want);
  char *plain = NULL;
  struct msg_err e = {{0}};
  ok(decrypt_file(DATA "empty.yml", PASSWORD, &plain, &got_len, &e) ==
             VAULT_OK &&
         got_len == 0 && plain && plain[0] == '\0',
     "an empty plaintext decrypts to empty");
  secret_free(plain);
  want = slurp(DATA "block.yml", &want_len);
  ok(decrypt_file(DATA "vault-block.yml", PASSWORD, &plain, &got_len, &e) ==
             VAULT_OK &&
         got_len == 32 && memcmp(plain, want, 32) == 0,
     "a plaintext of whole blocks (a full padding block) decrypts");
  secret_free(plain);
  free(want);
}

static void test_wrong_password(void) {
  char *plain = (char *)"x";
  size_t len;
  struct msg_err e = {{0}};
  ok(decrypt_file(DATA "vault-1.1.yml", "not-the-password", &plain, &len,
                  &e) == VAULT_WRONG_PASSWORD &&
         plain == NULL,
     "a wrong password is refused by the HMAC");
  ok_clean(&e, "wrong password");
}

/* Flips one hex digit at OFFSET of the body, or truncates it there. */
static enum vault_result mangled(size_t offset, bool truncate,
                                 struct msg_err *e) {
  size_t len, plen;
  char *text = slurp(DATA "vault-1.1.yml", &len);
  size_t body = strchr(text, '\n') - text + 1;
  char *plain = NULL;
  if (truncate)
    len = body + offset;
  else
    text[body + offset] = text[body + offset] == '3' ? '4' : '3';
  enum vault_result rc = vault_decrypt(text, len, PASSWORD, &plain, &plen, e);
  ok(plain == NULL, "no plaintext comes out of a damaged vault");
  free(text);
  return rc;
}

static void test_damaged(void) {
  struct msg_err e = {{0}};
  /* The body is hex of "hex(salt)\nhex(hmac)\nhex(ct)": the salt is 32
     bytes (128 hex digits of hex, 2 levels), the hmac follows. */
  ok(mangled(200, false, &e) == VAULT_WRONG_PASSWORD,
     "a tampered HMAC is refused");
  ok_clean(&e, "tampered HMAC");
  ok(mangled(400, false, &e) == VAULT_WRONG_PASSWORD,
     "a tampered ciphertext is refused");
  ok(mangled(301, true, &e) != VAULT_OK, "a truncated vault is refused");
  ok(mangled(0, true, &e) == VAULT_BAD_FORMAT,
     "a vault with no body is refused");
  ok_clean(&e, "empty body");
}

static void test_garbage(void) {
  static const struct {
    const char *text;
    enum vault_result want;
    const char *what;
  } cases[] = {
      {"proxmox_node: x\n", VAULT_NOT_VAULT, "plain YAML is not a vault"},
      {"$ANSIBLE_VAULT;1.1;AES256\nzzzz\n", VAULT_BAD_FORMAT, "non-hex body"},
      {"$ANSIBLE_VAULT;1.1;AES256\n616263\n", VAULT_BAD_FORMAT,
       "hex without the envelope's three lines"},
      {"$ANSIBLE_VAULT;1.0;AES\n616263\n", VAULT_BAD_FORMAT, "version 1.0"},
      {"$ANSIBLE_VAULT;1.1;AES128\n616263\n", VAULT_BAD_FORMAT,
       "another cipher"},
      {"$ANSIBLE_VAULT", VAULT_BAD_FORMAT, "a bare header"},
      {"$ANSIBLE_VAULT;1.1;AES256\n0a0a\n", VAULT_BAD_FORMAT,
       "empty salt, hmac and ciphertext"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *plain = NULL;
    size_t plen;
    struct msg_err e = {{0}};
    enum vault_result rc = vault_decrypt(cases[i].text, strlen(cases[i].text),
                                         PASSWORD, &plain, &plen, &e);
    ok(rc == cases[i].want && !plain, "%s", cases[i].what);
  }
}

static void test_password_files(void) {
  struct msg_err e = {{0}};
  char *pw = vault_password_from_file(DATA "vault_pass.txt", &e);
  ok_str(pw, PASSWORD, "a password file loses its trailing newline");
  secret_free(pw);
  pw = vault_password_from_file(DATA "vault_pass_spaces.txt", &e);
  ok_str(pw, PASSWORD, "a password file loses surrounding whitespace");
  secret_free(pw);
  pw = vault_password_from_file(DATA "vault_pass_script.sh", &e);
  ok_str(pw, PASSWORD, "an executable password file is run; \\r\\n stripped");
  secret_free(pw);
  pw = vault_password_from_file(DATA "vault_pass_script_space.sh", &e);
  ok_str(pw, " " PASSWORD, "a script's output keeps its spaces (Ansible)");
  secret_free(pw);
  pw = vault_password_from_file(DATA "vault_pass_empty.txt", &e);
  ok(pw == NULL, "an empty password is an error (%s)", e.text);
  pw = vault_password_from_file(DATA "no-such-file", &e);
  ok(pw == NULL, "a missing password file is an error (%s)", e.text);
}

static void test_read_vars(void) {
  const struct vault_pwfile pw[] = {
      {DATA "vault_pass_empty_is_skipped_not", NULL},
      {DATA "vault_pass.txt", NULL}};
  struct acfg cfg = {0};
  struct vars v = {0};
  struct msg_err e = {{0}};
  ok(vault_read_vars(DATA "vault-1.2.yml", pw + 1, 1, &cfg, &v, &e) == 0,
     "vault_read_vars opens a 1.2 vault");
  ok_str(vars_get(&v, "proxmox_node"), "px-testing", "its proxmox_node");
  ok_str(vars_get(&v, "proxmox_api_token_secret"), SECRET, "its token secret");
  vars_clear(&v);
  ok(vault_read_vars(DATA "plain.yml", NULL, 0, &cfg, &v, &e) == 0 &&
         vars_get(&v, "proxmox_api_user") != NULL,
     "a plain vars file is read as is");
  vars_clear(&v);
  ok(vault_read_vars(DATA "vault-1.1.yml", NULL, 0, &cfg, &v, &e) < 0,
     "an encrypted vars file without a password is refused");
  ok(vault_read_vars(DATA "vault-1.1.yml", pw, 2, &cfg, &v, &e) < 0,
     "a failing password source stops the search (like Ansible)");
  ok_clean(&e, "vault_read_vars");
  vars_clear(&v);
}

/* Opens FILE with one password labelled LABEL under the config TEXT and
   the environment: 0 if it opens, -1 if not. */
static int open_with(const char *file, const char *label, const char *text) {
  struct acfg cfg = {0};
  struct msg_err e = {{0}};
  if (text && acfg_parse(&cfg, text, &e) < 0)
    return -2;
  struct vault_pwfile pw = {DATA "vault_pass.txt", label};
  struct vars v = {0};
  int rc = vault_read_vars(file, &pw, 1, &cfg, &v, &e);
  vars_clear(&v);
  acfg_clear(&cfg);
  return rc;
}

/* vault_id_match (ANSIBLE_VAULT_ID_MATCH) and vault_identity, as
   ansible-vault 2.14 behaves (checked against it): a 1.2 vault's label,
   or the identity for a 1.1 vault, must be the password's. */
static void test_id_match(void) {
  static const char v11[] = DATA "vault-1.1.yml", v12[] = DATA "vault-1.2.yml";
  unsetenv("ANSIBLE_VAULT_ID_MATCH");
  unsetenv("ANSIBLE_VAULT_IDENTITY");
  unsetenv("ANSIBLE_VAULT_IDENTITY_LIST");
  ok(open_with(v12, "other", NULL) == 0,
     "without vault_id_match any label's password is tried");
  setenv("ANSIBLE_VAULT_ID_MATCH", "1", 1);
  ok(open_with(v12, "other", NULL) < 0,
     "ANSIBLE_VAULT_ID_MATCH: a password labelled otherwise is not tried");
  ok(open_with(v12, "lab", NULL) == 0, "...the vault's own label is");
  ok(open_with(v12, NULL, NULL) < 0,
     "...an unlabelled password is 'default', not the vault's label");
  ok(open_with(v11, NULL, NULL) == 0 && open_with(v11, "default", NULL) == 0,
     "...a 1.1 vault's id is 'default'");
  ok(open_with(v11, "lab", NULL) < 0, "...so a labelled password fails it");
  setenv("ANSIBLE_VAULT_IDENTITY", "lab", 1);
  ok(open_with(v12, NULL, NULL) == 0 && open_with(v11, NULL, NULL) == 0 &&
         open_with(v11, "default", NULL) < 0,
     "ANSIBLE_VAULT_IDENTITY relabels unlabelled passwords and 1.1 vaults");
  unsetenv("ANSIBLE_VAULT_IDENTITY");
  setenv("ANSIBLE_VAULT_ID_MATCH", "false", 1);
  ok(open_with(v12, "other", NULL) < 0,
     "any non-empty ANSIBLE_VAULT_ID_MATCH is on (it is a string setting)");
  setenv("ANSIBLE_VAULT_ID_MATCH", "", 1);
  ok(open_with(v12, "other", "[defaults]\nvault_id_match = 1\n") == 0,
     "an empty ANSIBLE_VAULT_ID_MATCH is off and overrides the file");
  unsetenv("ANSIBLE_VAULT_ID_MATCH");
  ok(open_with(v12, "other", "[defaults]\nvault_id_match = yes\n") < 0,
     "vault_id_match in ansible.cfg");
  ok(open_with(v12, "other", "[defaults]\nvault_id_match = ''\n") == 0,
     "vault_id_match = '' (unquoted: empty) is off");
  setenv("ANSIBLE_VAULT_IDENTITY", "", 1);
  ok(open_with(v11, NULL, NULL) < 0,
     "an empty identity: a 1.1 vault has no id, no password is tried");
  unsetenv("ANSIBLE_VAULT_IDENTITY");
  setenv("ANSIBLE_VAULT_IDENTITY_LIST", "lab@" DATA "vault_pass.txt", 1);
  ok(open_with(v11, NULL, NULL) < 0, "vault_identity_list is not followed");
  unsetenv("ANSIBLE_VAULT_IDENTITY_LIST");
}

/* Our PBKDF2 must equal OpenSSL's for short, long (> 64 bytes) and empty
   salts and passwords, and for lengths that cut a block. */
static void test_pbkdf2(void) {
  static const char *const pws[] = {
      "p", PASSWORD,
      "a password longer than sixty-four bytes, so that HMAC hashes it first",
      NULL};
  unsigned char salt[100];
  for (size_t i = 0; i < sizeof salt; i++)
    salt[i] = (unsigned char)(i * 7);
  for (int p = 0; pws[p]; p++)
    for (size_t slen = 0; slen <= 100; slen += 50) {
      unsigned char want[80], got[80];
      PKCS5_PBKDF2_HMAC(pws[p], (int)strlen(pws[p]), salt, (int)slen, 1000,
                        EVP_sha256(), sizeof want, want);
      vault_pbkdf2_sha256(pws[p], salt, slen, 1000, got, sizeof got);
      ok(memcmp(want, got, sizeof got) == 0,
         "PBKDF2 equals OpenSSL's (password %zu bytes, salt %zu bytes)",
         strlen(pws[p]), slen);
    }
}

int main(void) {
  test_pbkdf2();
  test_vectors();
  test_wrong_password();
  test_damaged();
  test_garbage();
  test_password_files();
  test_read_vars();
  test_id_match();
  return tap_done();
}
