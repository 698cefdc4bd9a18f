/* SPDX-License-Identifier: GPL-3.0-or-later */
/* run_vault.c: answers "ansible-vault view" natively (docs/decision.md
 * section 2):
 * decrypts each file with the call's vault passwords and prints its
 * plaintext exactly as ansible-vault does when stdout is not a terminal
 * (the text, plus "\n" unless it already ends with one).  Anything else
 * (a terminal, another option, a password prompt, a file that does not
 * open, text that is not UTF-8) runs the real ansible-vault, so the user
 * sees Ansible's own message and exit code. */
#include "run.h"

#include "acfg.h"
#include "cli.h"
#include "evlog.h"
#include "vault.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VIEW_MAX_FILE (4 * 1024 * 1024)

/* True if TEXT[0..LEN) is valid UTF-8 without NUL (what Python decodes
   and prints back unchanged). */
static bool printable_utf8(const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  for (size_t i = 0; i < len;) {
    unsigned char c = s[i];
    size_t n = c < 0x80   ? 1
               : c < 0xc2 ? 0
               : c < 0xe0 ? 2
               : c < 0xf0 ? 3
               : c < 0xf5 ? 4
                          : 0;
    if (n == 0 || c == 0 || i + n > len)
      return false;
    for (size_t k = 1; k < n; k++)
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
    if ((n == 3 && c == 0xe0 && s[i + 1] < 0xa0) ||
        (n == 3 && c == 0xed && s[i + 1] >= 0xa0) ||
        (n == 4 && c == 0xf0 && s[i + 1] < 0x90) ||
        (n == 4 && c == 0xf4 && s[i + 1] >= 0x90))
      return false;
    i += n;
  }
  return true;
}

/* The plaintexts of every file, in order, into OUT.  Returns 0 or -1. */
static int decrypt_all(const struct cli_vault_view *cli,
                       const struct vault_secrets *secrets, struct buf *out,
                       struct msg_err *e) {
  for (size_t i = 0; i < cli->n_files; i++) {
    size_t len, plain_len;
    cleanup_free char *text =
        util_read_file(cli->files[i], VIEW_MAX_FILE, &len);
    if (!text) {
      msg_err_set(e, "%.200s: %s", cli->files[i], util_strerror(errno));
      return -1;
    }
    if (!vault_is_encrypted(text, len)) {
      msg_err_set(e, "%.200s is not encrypted", cli->files[i]);
      return -1;
    }
    cleanup_secret char *plain = vault_open(text, len, secrets, &plain_len, e);
    if (!plain)
      return -1;
    if (!printable_utf8(plain, plain_len)) {
      msg_err_set(e, "%.200s: the plaintext is not UTF-8 text", cli->files[i]);
      return -1;
    }
    if (buf_append(out, plain, plain_len) < 0 ||
        ((plain_len == 0 || plain[plain_len - 1] != '\n') &&
         buf_append(out, "\n", 1) < 0)) {
      msg_err_set(e, "the plaintexts are too large");
      return -1;
    }
  }
  return 0;
}

/* The password files: the command line's, then the configured default. */
static size_t password_files(const struct cli_vault_view *cli,
                             const struct acfg *cfg,
                             struct vault_pwfile *files) {
  size_t n = 0;
  for (; n < cli->n_vault_files; n++)
    files[n] =
        (struct vault_pwfile){cli->vault_files[n], cli->vault_labels[n]};
  const char *dflt =
      acfg_get(cfg, "ANSIBLE_VAULT_PASSWORD_FILE", "vault_password_file");
  if (dflt && *dflt)
    files[n++] = (struct vault_pwfile){dflt, NULL};
  return n;
}

static int understand(char **argv, struct buf *out, struct msg_err *e) {
  struct cli_vault_view cli;
  struct acfg cfg;
  if (isatty(STDOUT_FILENO)) {
    msg_err_set(e, "stdout is a terminal (ansible-vault pages it)");
    return -1;
  }
  if (cli_parse_vault_view(argv, &cli, e) < 0 || acfg_load(&cfg, e) < 0)
    return -1;
  struct vault_pwfile files[CLI_MAX_VAULT_FILES + 1];
  size_t n = password_files(&cli, &cfg, files);
  struct vault_secrets secrets = {0};
  int rc = -1;
  if (n == 0)
    msg_err_set(e, "no vault password file (ansible-vault would prompt)");
  else if (vault_secrets_load(&secrets, files, n, &cfg, e) == 0)
    rc = decrypt_all(&cli, &secrets, out, e);
  vault_secrets_clear(&secrets);
  acfg_clear(&cfg);
  return rc;
}

int run_vault_view(struct fb *fb, char **argv) {
  struct msg_err e = {{0}};
  struct buf out;
  buf_init(&out, 4 * VIEW_MAX_FILE);
  int rc = understand(argv, &out, &e);
  if (rc < 0) {
    if (out.data)
      sodium_memzero(out.data, out.cap);
    buf_free(&out);
    fb_exec(fb, e.text);
  }
  evl_action("view");
  rc = util_write_all(STDOUT_FILENO, out.data ? out.data : "", out.len) < 0;
  sodium_memzero(out.data, out.cap);
  buf_free(&out);
  return rc;
}
