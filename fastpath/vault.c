/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vault.c: reads Ansible Vault files.  Format (docs/decision.md
 * section 2): a header line
 * "$ANSIBLE_VAULT;1.1;AES256" (1.2 adds ";label"), then hex text whose
 * bytes are "hex(salt)\nhex(hmac)\nhex(ciphertext)".  PBKDF2-HMAC-SHA256
 * (10000 rounds, 80 bytes) gives the AES-256 key, the HMAC key and the
 * initial CTR counter; the HMAC-SHA256 of the ciphertext is checked in
 * constant time before AES-256-CTR and PKCS#7 unpadding.  Also owns the
 * password files.  Every buffer that held key material or plaintext is
 * wiped.  Parsing the plaintext YAML is the caller's business. */
#define _GNU_SOURCE
/* PBKDF2 is built here on OpenSSL's SHA-256 context API (deprecated in
   3.0, still supported): PKCS5_PBKDF2_HMAC goes through the provider layer
   for each of its 30000 HMACs and costs 13 ms where this costs 5 ms. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "vault.h"

#include "keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define VAULT_HEADER "$ANSIBLE_VAULT"
/* Fuzz builds only (make fuzz, test/fuzz/fuzz-vault.c) may lower the
   rounds, so that a fuzzing run explores more than key derivation. */
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) &&                      \
    defined(R42_FUZZ_VAULT_ITERATIONS)
#define VAULT_ITERATIONS R42_FUZZ_VAULT_ITERATIONS
#else
#define VAULT_ITERATIONS 10000
#endif
#define VAULT_KEY_LEN 32
#define VAULT_IV_LEN 16
#define VAULT_MAX_PASSWORD (64 * 1024)
#define VAULT_MAX_FILE (4 * 1024 * 1024)

extern char **environ;

bool vault_is_encrypted(const char *text, size_t len) {
  return len >= strlen(VAULT_HEADER) &&
         memcmp(text, VAULT_HEADER, strlen(VAULT_HEADER)) == 0;
}

/* Decodes LEN hex digits of HEX into OUT (LEN/2 bytes).  -1 if not hex. */
static int unhex(const char *hex, size_t len, unsigned char *out) {
  if (len % 2)
    return -1;
  for (size_t i = 0; i < len; i += 2) {
    int hi = util_hex_digit((unsigned char)hex[i]);
    int lo = util_hex_digit((unsigned char)hex[i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i / 2] = (unsigned char)(hi << 4 | lo);
  }
  return 0;
}

/* The header: version 1.1 or 1.2, cipher AES256.  Returns the offset of
   the body, or -1. */
static long check_header(const char *text, size_t len, struct msg_err *e) {
  const char *nl = memchr(text, '\n', len);
  size_t hlen = nl ? (size_t)(nl - text) : len;
  cleanup_free char *header = xstrndup(text, hlen);
  char *fields[5] = {0};
  int n = 0;
  for (char *save = NULL, *f = strtok_r(header, ";", &save); f && n < 5;
       f = strtok_r(NULL, ";", &save))
    fields[n++] = f;
  /* Ansible strips each field (the header line may end in "\r"). */
  for (int i = 0; i < n; i++) {
    size_t l = strlen(fields[i]);
    while (l && (fields[i][l - 1] == ' ' || fields[i][l - 1] == '\r'))
      fields[i][--l] = '\0';
  }
  if (n < 3 || strcmp(fields[0], VAULT_HEADER) != 0) {
    msg_err_set(e, "vault: malformed header");
    return -1;
  }
  if (strcmp(fields[1], "1.1") != 0 && strcmp(fields[1], "1.2") != 0) {
    msg_err_set(e, "vault: format version %.8s not supported", fields[1]);
    return -1;
  }
  if (strcmp(fields[2], "AES256") != 0) {
    msg_err_set(e, "vault: cipher %.16s not supported", fields[2]);
    return -1;
  }
  return nl ? (long)hlen + 1 : (long)len;
}

/* The body's hex lines joined (line breaks dropped), decoded.  Returns
   the bytes ("hex(salt)\nhex(hmac)\nhex(ct)") or NULL. */
static unsigned char *decode_body(const char *body, size_t len,
                                  size_t *out_len) {
  cleanup_free char *hex = xmalloc(len + 1);
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (body[i] != '\n' && body[i] != '\r')
      hex[n++] = body[i];
  unsigned char *bytes = xmalloc(n / 2 + 1);
  if (n == 0 || unhex(hex, n, bytes) < 0) {
    free(bytes);
    return NULL;
  }
  *out_len = n / 2;
  return bytes;
}

/* The three parts of the envelope, each decoded from hex. */
struct envelope {
  unsigned char *salt, *hmac, *ct;
  size_t salt_len, hmac_len, ct_len;
};

static void envelope_clear(struct envelope *env) {
  free(env->salt);
  free(env->hmac);
  free(env->ct);
}

static unsigned char *unhex_part(const char *p, size_t len, size_t *out) {
  unsigned char *b = xmalloc(len / 2 + 1);
  if (len == 0 || unhex(p, len, b) < 0) {
    free(b);
    return NULL;
  }
  *out = len / 2;
  return b;
}

static int split_envelope(const unsigned char *bytes, size_t len,
                          struct envelope *env) {
  const char *p = (const char *)bytes, *end = p + len;
  const char *nl1 = memchr(p, '\n', len);
  const char *nl2 =
      nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
  if (!nl2)
    return -1;
  env->salt = unhex_part(p, (size_t)(nl1 - p), &env->salt_len);
  env->hmac = unhex_part(nl1 + 1, (size_t)(nl2 - nl1 - 1), &env->hmac_len);
  env->ct = unhex_part(nl2 + 1, (size_t)(end - nl2 - 1), &env->ct_len);
  if (!env->salt || !env->hmac || !env->ct || env->hmac_len != 32)
    return -1;
  return 0;
}

/* Key material: AES key, HMAC key, initial counter. */
struct vault_keys {
  unsigned char aes[VAULT_KEY_LEN], mac[VAULT_KEY_LEN], iv[VAULT_IV_LEN];
};

/* HMAC-SHA256 keyed by PASSWORD, as the SHA-256 states after its inner and
   outer pad blocks: each HMAC then costs two compressions from copies. */
struct hmac_pads {
  SHA256_CTX inner, outer;
};

static void hmac_pads_init(struct hmac_pads *p, const char *password) {
  unsigned char key[SHA256_CBLOCK] = {0}, pad[SHA256_CBLOCK];
  size_t len = strlen(password);
  if (len > sizeof key)
    SHA256((const unsigned char *)password, len, key);
  else
    memcpy(key, password, len);
  for (size_t i = 0; i < sizeof pad; i++)
    pad[i] = key[i] ^ 0x36;
  SHA256_Init(&p->inner);
  SHA256_Update(&p->inner, pad, sizeof pad);
  for (size_t i = 0; i < sizeof pad; i++)
    pad[i] = key[i] ^ 0x5c;
  SHA256_Init(&p->outer);
  SHA256_Update(&p->outer, pad, sizeof pad);
  sodium_memzero(key, sizeof key);
  sodium_memzero(pad, sizeof pad);
}

/* OUT := HMAC(pads, MSG[0..LEN) || TAIL[0..TAIL_LEN)). */
static void hmac_with(const struct hmac_pads *p, const unsigned char *msg,
                      size_t len, const unsigned char *tail, size_t tail_len,
                      unsigned char out[SHA256_DIGEST_LENGTH]) {
  SHA256_CTX c = p->inner;
  SHA256_Update(&c, msg, len);
  if (tail_len)
    SHA256_Update(&c, tail, tail_len);
  SHA256_Final(out, &c);
  c = p->outer;
  SHA256_Update(&c, out, SHA256_DIGEST_LENGTH);
  SHA256_Final(out, &c);
  sodium_memzero(&c, sizeof c);
}

void vault_pbkdf2_sha256(const char *password, const unsigned char *salt,
                         size_t salt_len, unsigned iterations,
                         unsigned char *out, size_t out_len) {
  struct hmac_pads pads;
  hmac_pads_init(&pads, password);
  unsigned char u[SHA256_DIGEST_LENGTH], t[SHA256_DIGEST_LENGTH];
  for (uint32_t block = 1; out_len > 0; block++) {
    unsigned char be[4] = {(unsigned char)(block >> 24),
                           (unsigned char)(block >> 16),
                           (unsigned char)(block >> 8), (unsigned char)block};
    hmac_with(&pads, salt, salt_len, be, sizeof be, u);
    memcpy(t, u, sizeof t);
    for (unsigned i = 1; i < iterations; i++) {
      hmac_with(&pads, u, sizeof u, NULL, 0, u);
      for (size_t k = 0; k < sizeof t; k++)
        t[k] ^= u[k];
    }
    size_t n = out_len < sizeof t ? out_len : sizeof t;
    memcpy(out, t, n);
    out += n;
    out_len -= n;
  }
  sodium_memzero(&pads, sizeof pads);
  sodium_memzero(u, sizeof u);
  sodium_memzero(t, sizeof t);
}

static void derive_keys(const char *password, const struct envelope *env,
                        struct vault_keys *keys) {
  vault_pbkdf2_sha256(password, env->salt, env->salt_len, VAULT_ITERATIONS,
                      (unsigned char *)keys, sizeof *keys);
}

static bool hmac_matches(const struct vault_keys *keys,
                         const struct envelope *env) {
  unsigned char mac[32];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), keys->mac, VAULT_KEY_LEN, env->ct, env->ct_len, mac,
            &mac_len) ||
      mac_len != sizeof mac)
    return false;
  bool ok = sodium_memcmp(mac, env->hmac, sizeof mac) == 0;
  sodium_memzero(mac, sizeof mac);
  return ok;
}

/* AES-256-CTR of the ciphertext into a secret buffer.  Returns it or NULL. */
static char *aes_ctr(const struct vault_keys *keys,
                     const struct envelope *env) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx)
    die_oom();
  char *plain = secret_alloc(env->ct_len);
  int len1 = 0, len2 = 0;
  bool ok =
      EVP_DecryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, keys->aes, keys->iv) ==
          1 &&
      EVP_DecryptUpdate(ctx, (unsigned char *)plain, &len1, env->ct,
                        (int)env->ct_len) == 1 &&
      EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + len1, &len2) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok || (size_t)(len1 + len2) != env->ct_len) {
    secret_free(plain);
    return NULL;
  }
  return plain;
}

/* PKCS#7 with 16-byte blocks; returns the unpadded length or -1. */
static long unpad(const char *data, size_t len) {
  if (len == 0 || len % 16)
    return -1;
  unsigned char pad = (unsigned char)data[len - 1];
  if (pad == 0 || pad > 16)
    return -1;
  for (size_t i = len - pad; i < len; i++)
    if ((unsigned char)data[i] != pad)
      return -1;
  return (long)(len - pad);
}

enum vault_result vault_decrypt(const char *text, size_t len,
                                const char *password, char **plain,
                                size_t *plain_len, struct msg_err *e) {
  *plain = NULL;
  if (!vault_is_encrypted(text, len)) {
    msg_err_set(e, "vault: not an encrypted file");
    return VAULT_NOT_VAULT;
  }
  long body = check_header(text, len, e);
  if (body < 0)
    return VAULT_BAD_FORMAT;
  size_t bytes_len = 0;
  cleanup_free unsigned char *bytes =
      decode_body(text + body, len - (size_t)body, &bytes_len);
  struct envelope env = {0};
  if (!bytes || split_envelope(bytes, bytes_len, &env) < 0) {
    envelope_clear(&env);
    msg_err_set(e, "vault: the body is not a valid hex envelope");
    return VAULT_BAD_FORMAT;
  }
  struct vault_keys keys;
  enum vault_result rc = VAULT_OK;
  derive_keys(password, &env, &keys);
  if (!hmac_matches(&keys, &env)) {
    msg_err_set(e, "vault: HMAC mismatch (wrong password or tampered file)");
    rc = VAULT_WRONG_PASSWORD;
  } else {
    char *out = aes_ctr(&keys, &env);
    long n = out ? unpad(out, env.ct_len) : -1;
    if (n < 0) {
      secret_free(out);
      msg_err_set(e, "vault: bad padding");
      rc = VAULT_BAD_FORMAT;
    } else {
      sodium_memzero(out + n, env.ct_len - (size_t)n);
      *plain = out;
      *plain_len = (size_t)n;
    }
  }
  sodium_memzero(&keys, sizeof keys);
  envelope_clear(&env);
  return rc;
}

/* ---- password files -------------------------------------------------- */

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

/* Strips bytes for which KEEP says no from both ends of BUF[0..*LEN). */
static const char *strip_ends(const char *buf, size_t *len,
                              bool (*strip)(char)) {
  size_t start = 0, end = *len;
  while (start < end && strip(buf[start]))
    start++;
  while (end > start && strip(buf[end - 1]))
    end--;
  *len = end - start;
  return buf + start;
}

static bool is_crlf(char c) {
  return c == '\r' || c == '\n';
}

/* Runs the password script PATH with stdin on /dev/null; returns its
   stdout as a secret, or NULL. */
static char *run_password_script(const char *path, size_t *len,
                                 struct msg_err *e) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    msg_err_set(e, "vault password script: pipe: %s", strerror(errno));
    return NULL;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  pid_t pid;
  char *argv[] = {(char *)path, NULL};
  int rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    msg_err_set(e, "vault password script %s: %s", path, strerror(rc));
    return NULL;
  }
  cleanup_free char *out = util_read_fd(fds[0], VAULT_MAX_PASSWORD, len);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  char *secret = out ? secret_strndup(out, *len) : NULL;
  if (out)
    sodium_memzero(out, *len);
  if (!secret || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    secret_free(secret);
    msg_err_set(e, "vault password script %s failed", path);
    return NULL;
  }
  return secret;
}

static char *read_password_file(const char *path, size_t *len,
                                struct msg_err *e) {
  cleanup_free char *raw = util_read_file(path, VAULT_MAX_PASSWORD, len);
  if (!raw) {
    msg_err_set(e, "vault password file %s: %s", path, util_strerror(errno));
    return NULL;
  }
  char *secret = secret_strndup(raw, *len);
  sodium_memzero(raw, *len);
  return secret;
}

char *vault_password_from_file(const char *path, struct msg_err *e) {
  struct stat st;
  if (stat(path, &st) < 0) {
    msg_err_set(e, "vault password file %s: %s", path, strerror(errno));
    return NULL;
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dash = strrchr(base, '-');
  if (dash && strncmp(dash, "-client", 7) == 0) {
    msg_err_set(e, "vault client scripts are not supported");
    return NULL;
  }
  bool script = S_ISREG(st.st_mode) && (st.st_mode & 0111);
  size_t len = 0;
  cleanup_secret char *raw = script ? run_password_script(path, &len, e)
                                    : read_password_file(path, &len, e);
  if (!raw)
    return NULL;
  const char *p = strip_ends(raw, &len, script ? is_crlf : is_space);
  if (len == 0) {
    msg_err_set(e, "vault password from %s is empty", path);
    return NULL;
  }
  return secret_strndup(p, len);
}

/* ---- vars files ------------------------------------------------------ */

int vault_secrets_load(struct vault_secrets *s,
                       const struct vault_pwfile *files, size_t n,
                       const struct acfg *cfg, struct msg_err *e) {
  memset(s, 0, sizeof *s);
  if (acfg_vault_ids(cfg, &s->id_match, &s->identity, e) < 0) {
    vault_secrets_clear(s);
    return -1;
  }
  for (size_t i = 0; i < n && i < VAULT_MAX_SECRETS; i++) {
    s->pw[i] = vault_password_from_file(files[i].path, e);
    if (!s->pw[i]) {
      vault_secrets_clear(s);
      return -1;
    }
    const char *label = files[i].label;
    s->label[i] = xstrdup(label && *label ? label : s->identity);
    s->n++;
  }
  return 0;
}

void vault_secrets_clear(struct vault_secrets *s) {
  for (size_t i = 0; i < s->n; i++) {
    secret_free(s->pw[i]);
    free(s->label[i]);
  }
  free(s->identity);
  memset(s, 0, sizeof *s);
}

/* The vault id of the vault TEXT, as Ansible reads it: the header line's
   fourth ';' field, stripped, when there is one (a 1.2 vault's label),
   else IDENTITY.  Returns a new string. */
static char *vault_id_of(const char *text, size_t len, const char *identity) {
  const char *end = text;
  while (end < text + len && *end != '\n' && *end != '\r')
    end++;
  const char *f = text;
  for (int k = 0; k < 3; k++) {
    f = memchr(f, ';', (size_t)(end - f));
    if (!f)
      return xstrdup(identity);
    f++;
  }
  const char *semi = memchr(f, ';', (size_t)(end - f));
  const char *stop = semi ? semi : end;
  static const char ws[] = " \t\n\r\v\f";
  while (f < stop && strchr(ws, *f))
    f++;
  while (stop > f && strchr(ws, stop[-1]))
    stop--;
  return xstrndup(f, (size_t)(stop - f));
}

/* Whether Ansible tries the password labelled LABEL on a vault whose id
   is VID (VaultLib.decrypt_and_get_vault_id): VID's own passwords (none
   when VID is empty), and, without vault_id_match, every other id's. */
static bool tried_for(const struct vault_secrets *s, const char *label,
                      const char *vid) {
  if (strcmp(label, vid) == 0)
    return *vid != '\0';
  return !s->id_match;
}

char *vault_open(const char *text, size_t len, const struct vault_secrets *s,
                 size_t *plain_len, struct msg_err *e) {
  if (s->n == 0) {
    msg_err_set(e, "the vault is encrypted and no vault password was given");
    return NULL;
  }
  const char *identity = s->identity ? s->identity : "default";
  cleanup_free char *vid = vault_id_of(text, len, identity);
  bool any = false;
  for (size_t i = 0; i < s->n; i++) {
    if (!tried_for(s, s->label[i] ? s->label[i] : identity, vid))
      continue;
    any = true;
    char *plain = NULL;
    enum vault_result rc =
        vault_decrypt(text, len, s->pw[i], &plain, plain_len, e);
    if (rc == VAULT_OK)
      return plain;
    if (rc != VAULT_WRONG_PASSWORD)
      return NULL;
  }
  msg_err_set(e,
              any ? "no vault password opens the vault"
                  : "no vault password has the vault's id (vault_id_match)");
  return NULL;
}

int vault_read_vars(const char *path, const struct vault_pwfile *pwfiles,
                    size_t n, const struct acfg *cfg, struct vars *vars,
                    struct msg_err *e) {
  size_t len;
  cleanup_free char *text = util_read_file(path, VAULT_MAX_FILE, &len);
  if (!text) {
    msg_err_set(e, "vars file %s: %s", path, util_strerror(errno));
    return -1;
  }
  size_t plain_len = len;
  cleanup_secret char *plain = NULL;
  if (vault_is_encrypted(text, len)) {
    struct vault_secrets secrets;
    if (vault_secrets_load(&secrets, pwfiles, n, cfg, e) < 0)
      return -1;
    plain = keyring_vault_get(text, len, &secrets, &plain_len);
    if (!plain &&
        (plain = vault_open(text, len, &secrets, &plain_len, e)) != NULL)
      keyring_vault_put(text, len, &secrets, plain, plain_len);
    vault_secrets_clear(&secrets);
    if (plain && !strcmp(keyring_last(), "hit"))
      msg_profile("vault (keyring)");
    else
      msg_profile("vault (PBKDF2, AES; keyring %s)", keyring_last());
    if (!plain)
      return -1;
  }
  cleanup_ydoc struct ydoc_node *root =
      ydoc_parse(plain ? plain : text, plain_len, plain != NULL, e);
  if (!root)
    return -1;
  return vars_from_yaml(vars, root, e);
}
