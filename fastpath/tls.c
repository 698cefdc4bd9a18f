/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tls.c: the opt-in verification of the Proxmox API's certificate.  By
 * default none, as the role's validate_certs: no.
 * RANGE42_PROXMOX_API_CAFILE=FILE: the chain must lead to that CA (and
 * only to it) and the certificate must name the host the vault gives.
 * RANGE42_PROXMOX_API_FINGERPRINT: either libcurl's public-key pins,
 * sha256//BASE64 of the server's SubjectPublicKeyInfo (several separated by
 * ';'), checked by libcurl at the handshake; or the SHA-256 of the
 * server's certificate as Proxmox shows it (32 colon-separated hex bytes),
 * which libcurl cannot pin: checked here on the connection's certificate
 * before any request is sent on it (tls_peer_matches()). */
#define _GNU_SOURCE
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TLS_CAFILE_VAR "RANGE42_PROXMOX_API_CAFILE"
#define TLS_PIN_VAR "RANGE42_PROXMOX_API_FINGERPRINT"
#define TLS_KEY_PIN_PREFIX "sha256//"
#define TLS_KEY_PIN_B64 44 /* base64 of 32 bytes, one '=' */

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

static bool base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* One "sha256//" + the base64 of 32 bytes, LEN characters at S. */
static bool key_pin(const char *s, size_t len) {
  size_t pre = strlen(TLS_KEY_PIN_PREFIX);
  if (len != pre + TLS_KEY_PIN_B64 || strncmp(s, TLS_KEY_PIN_PREFIX, pre))
    return false;
  for (size_t i = pre; i < len - 1; i++)
    if (!base64_char(s[i]))
      return false;
  return s[len - 1] == '=';
}

/* sha256//…[;sha256//…] */
static bool key_pins(const char *s) {
  for (;;) {
    size_t len = strcspn(s, ";");
    if (!key_pin(s, len))
      return false;
    if (!s[len])
      return true;
    s += len + 1;
  }
}

/* "AA:BB:…" (32 bytes, either case) into OUT. */
static bool cert_fingerprint(const char *s, unsigned char *out) {
  if (strlen(s) != TLS_SHA256_LEN * 3 - 1)
    return false;
  for (size_t i = 0; i < TLS_SHA256_LEN; i++) {
    const char *h = s + 3 * i;
    int hi = util_hex_digit((unsigned char)h[0]);
    int lo = util_hex_digit((unsigned char)h[1]);
    if (hi < 0 || lo < 0 || (i + 1 < TLS_SHA256_LEN && h[2] != ':'))
      return false;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return true;
}

static int read_fingerprint(struct tls_policy *p, const char *v,
                            struct msg_err *e) {
  if (key_pins(v)) {
    p->key_pins = xstrdup(v);
    return 0;
  }
  if (cert_fingerprint(v, p->cert_sha256)) {
    p->cert_pinned = true;
    return 0;
  }
  msg_err_set(e,
              TLS_PIN_VAR " is neither sha256//BASE64 (public-key pins) nor "
                          "a certificate's SHA-256 fingerprint AA:BB:…");
  return -1;
}

int tls_policy_from_env(struct tls_policy *p, struct msg_err *e) {
  memset(p, 0, sizeof *p);
  const char *ca = env(TLS_CAFILE_VAR), *pin = env(TLS_PIN_VAR);
  if (ca) {
    int fd = open(ca, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      msg_err_set(e, TLS_CAFILE_VAR " %.200s: %s", ca, strerror(errno));
      return -1;
    }
    close(fd);
    p->cafile = xstrdup(ca);
  }
  if (pin && read_fingerprint(p, pin, e) < 0) {
    tls_policy_clear(p);
    return -1;
  }
  return 0;
}

void tls_policy_clear(struct tls_policy *p) {
  free(p->cafile);
  free(p->key_pins);
  memset(p, 0, sizeof *p);
}

int tls_apply(const struct tls_policy *p, CURL *c, struct msg_err *e) {
  bool ca = p->cafile != NULL;
  CURLcode rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, ca ? 1L : 0L);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, ca ? 2L : 0L);
  if (rc == CURLE_OK && ca)
    rc = curl_easy_setopt(c, CURLOPT_CAINFO, p->cafile);
  if (rc == CURLE_OK && ca) /* that CA only, not the system's */
    rc = curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
  if (rc == CURLE_OK && p->key_pins)
    rc = curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, p->key_pins);
  if (rc != CURLE_OK) {
    msg_err_set(e, "libcurl cannot verify certificates as asked: %s",
                curl_easy_strerror(rc));
    return -1;
  }
  const char *ssl = curl_version_info(CURLVERSION_NOW)->ssl_version;
  if (p->cert_pinned && (!ssl || strncmp(ssl, "OpenSSL/", 8) != 0)) {
    msg_err_set(e, "a certificate fingerprint needs libcurl with OpenSSL "
                   "(use a sha256// public-key pin)");
    return -1;
  }
  return 0;
}

bool tls_peer_matches(const struct tls_policy *p, CURL *c) {
  if (!p->cert_pinned)
    return true;
  struct curl_tlssessioninfo *info = NULL;
  if (curl_easy_getinfo(c, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info ||
      info->backend != CURLSSLBACKEND_OPENSSL || !info->internals)
    return false;
  X509 *cert = SSL_get1_peer_certificate(info->internals);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  bool ok = cert && X509_digest(cert, EVP_sha256(), md, &n) == 1 &&
            n == TLS_SHA256_LEN &&
            CRYPTO_memcmp(md, p->cert_sha256, TLS_SHA256_LEN) == 0;
  X509_free(cert);
  return ok;
}

char *tls_settings(void) {
  const char *ca = env(TLS_CAFILE_VAR), *pin = env(TLS_PIN_VAR);
  return xasprintf("%s\n%s", ca ? ca : "", pin ? pin : "");
}
