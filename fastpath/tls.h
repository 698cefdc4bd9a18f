/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tls.h: the opt-in verification of the Proxmox API's certificate (see
   tls.c). */
#ifndef R42_TLS_H
#define R42_TLS_H

#include "msg.h"

#include <curl/curl.h>
#include <stdbool.h>

#define TLS_SHA256_LEN 32

/* How the API's certificate is checked.  All NULL/false: not at all. */
struct tls_policy {
  char *cafile;   /* verify the chain and host name against this CA */
  char *key_pins; /* "sha256//BASE64[;sha256//BASE64…]": public-key pins */
  bool cert_pinned;
  unsigned char cert_sha256[TLS_SHA256_LEN]; /* the certificate's SHA-256 */
};

/* Reads RANGE42_PROXMOX_API_CAFILE and RANGE42_PROXMOX_API_FINGERPRINT
   into P.  Returns 0, or -1 with E set when a value is malformed or the CA
   file cannot be read.  Free with tls_policy_clear(). */
int tls_policy_from_env(struct tls_policy *p,
                        struct msg_err *e) R42_WARN_UNUSED;

void tls_policy_clear(struct tls_policy *p);

/* Sets P's verification options on C (certificate and host name checks on
   or off, CA file, public-key pins).  Returns 0, or -1 with E set when this
   libcurl refuses one. */
int tls_apply(const struct tls_policy *p, CURL *c,
              struct msg_err *e) R42_WARN_UNUSED;

/* Whether the certificate of C's connection has P's SHA-256 fingerprint
   (true when P pins none).  For libcurl's pre-request callback: the TLS
   handshake is done and nothing has been sent on the connection yet. */
bool tls_peer_matches(const struct tls_policy *p, CURL *c);

/* The two variables' values as one string, for the probe cache's key (so a
   verdict reached under one policy is not used under another).  The caller
   frees it. */
char *tls_settings(void);

#endif
