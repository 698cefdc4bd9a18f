/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-vault.c: libFuzzer target for the vault (vault.c) and the YAML of
 * its plaintext (ydoc.c, vars.c), through vault_read_vars() as the runner
 * reads the devkit's vault.
 *
 * An input that starts with $ANSIBLE_VAULT is the vault file itself
 * (header, hex envelope, key derivation, HMAC; the corpus files were made with
 * ansible-vault encrypt).  Any other input is a plaintext: it is read as
 * a plain vars file, and also encrypted here (with OpenSSL, independently
 * of vault.c) into a vault that is then read; both readings must agree.
 * The input's length picks the vault's form: 1.1, 1.2 with a label, or
 * a padding that is not PKCS#7 (then only the sanitizers judge).
 *
 * Fuzz builds derive keys with R42_FUZZ_VAULT_ITERATIONS PBKDF2 rounds
 * instead of 10000 (the hook in vault.c), so the ansible-vault seeds
 * stop at the HMAC check there; the plaintext inputs reach decryption. */
#include "fuzz.h"

#include "buf.h"
#include "vault.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#ifndef R42_FUZZ_VAULT_ITERATIONS
#error "build with -DR42_FUZZ_VAULT_ITERATIONS=N (make fuzz does)"
#endif

#define PASSWORD "fuzz-throwaway-password"

static char pw_path[128], vault_path[128], plain_path[128];
static int vault_fd = -1, plain_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  /* every input decrypts: keep them out of the session keyring */
  setenv("RANGE42_PROXMOX_API_CACHE", "off", 1);
  int fd = fuzz_file("vault_pass.txt", pw_path, sizeof pw_path);
  fuzz_file_set(fd, PASSWORD "\n", strlen(PASSWORD) + 1);
  close(fd);
  vault_fd = fuzz_file("vault.yml", vault_path, sizeof vault_path);
  plain_fd = fuzz_file("plain.yml", plain_path, sizeof plain_path);
  return 0;
}

static void put_hex(struct buf *b, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    fuzz_assert(buf_printf(b, "%02x", p[i]) == 0);
}

/* PLAIN[0..LEN) as an Ansible vault in FORM (0: 1.1, 1: 1.2 with a label,
   2: 1.1 with zero bytes for padding).  Returns the text (free it). */
static char *encrypt(const uint8_t *plain, size_t len, int form,
                     size_t *out_len) {
  unsigned char salt[32], keys[80], mac[32];
  for (size_t i = 0; i < sizeof salt; i++)
    salt[i] = (unsigned char)(i * 7 + 1);
  fuzz_assert(PKCS5_PBKDF2_HMAC(PASSWORD, strlen(PASSWORD), salt, sizeof salt,
                                R42_FUZZ_VAULT_ITERATIONS, EVP_sha256(),
                                sizeof keys, keys) == 1);
  size_t pad = form == 2 ? (16 - len % 16) % 16 : 16 - len % 16;
  unsigned char *padded = malloc(len + pad + 1), *ct = malloc(len + pad + 1);
  fuzz_assert(padded && ct);
  memcpy(padded, plain, len);
  memset(padded + len, form == 2 ? 0 : (int)pad, pad);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n1 = 0, n2 = 0;
  fuzz_assert(ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, keys,
                                        keys + 64) == 1);
  fuzz_assert(EVP_EncryptUpdate(ctx, ct, &n1, padded, (int)(len + pad)) == 1);
  fuzz_assert(EVP_EncryptFinal_ex(ctx, ct + n1, &n2) == 1);
  EVP_CIPHER_CTX_free(ctx);
  unsigned int mac_len = 0;
  fuzz_assert(
      HMAC(EVP_sha256(), keys + 32, 32, ct, len + pad, mac, &mac_len) != NULL);
  struct buf inner, text;
  buf_init(&inner, 1 << 24);
  buf_init(&text, 1 << 24);
  put_hex(&inner, salt, sizeof salt);
  fuzz_assert(buf_puts(&inner, "\n") == 0);
  put_hex(&inner, mac, mac_len);
  fuzz_assert(buf_puts(&inner, "\n") == 0);
  put_hex(&inner, ct, len + pad);
  fuzz_assert(buf_puts(&text, form == 1 ? "$ANSIBLE_VAULT;1.2;AES256;fuzz\n"
                                        : "$ANSIBLE_VAULT;1.1;AES256\n") == 0);
  for (size_t i = 0; i < inner.len; i++) {
    put_hex(&text, (const unsigned char *)inner.data + i, 1);
    if (i % 40 == 39 || i + 1 == inner.len)
      fuzz_assert(buf_puts(&text, "\n") == 0);
  }
  free(padded);
  free(ct);
  buf_free(&inner);
  *out_len = text.len;
  return text.data;
}

/* vault_read_vars() of the scratch file PATH; *VARS must be cleared. */
static int read_vars(const char *path, struct vars *vars) {
  const struct vault_pwfile pwfiles[] = {{pw_path, NULL}};
  const struct acfg cfg = {0}; /* no ansible.cfg: default vault ids */
  struct msg_err e;
  memset(vars, 0, sizeof *vars);
  return vault_read_vars(path, pwfiles, 1, &cfg, vars, &e);
}

static void check_same(const struct vars *a, const struct vars *b) {
  fuzz_assert(a->n == b->n);
  for (size_t i = 0; i < a->n; i++) {
    fuzz_assert(strcmp(a->keys[i], b->keys[i]) == 0);
    fuzz_assert(!a->vals[i] == !b->vals[i]);
    fuzz_assert(!a->vals[i] || strcmp(a->vals[i], b->vals[i]) == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct vars got, want;
  if (vault_is_encrypted((const char *)data, size)) {
    fuzz_file_set(vault_fd, data, size);
    (void)read_vars(vault_path, &got);
    vars_clear(&got);
    return 0;
  }
  fuzz_file_set(plain_fd, data, size);
  int want_rc = read_vars(plain_path, &want);
  int form = (int)(size % 3);
  size_t len = 0;
  char *vault = encrypt(data, size, form, &len);
  fuzz_file_set(vault_fd, vault, len);
  free(vault);
  int got_rc = read_vars(vault_path, &got);
  if (form != 2) {
    fuzz_assert(got_rc == want_rc);
    check_same(&got, &want);
  }
  vars_clear(&got);
  vars_clear(&want);
  return 0;
}
