/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cache.c: remembers probe verdicts for a few seconds, so that a devkit
 * batch probes the API once per burst instead of once per call.  One file
 * per endpoint in a private directory ($XDG_RUNTIME_DIR/r42intercept, else
 * /tmp/r42intercept-$UID; mode 0700, refused unless owned by us and closed
 * to others).  The file name is a BLAKE2b hash keyed by the token secret
 * over host, user, token id, node and the certificate checks asked for
 * (tls.c: a verdict reached without them says nothing with them): no
 * secret is in a name or a file.
 * Content: "r42intercept-probe 1 up|down EPOCH\n"; writes are atomic
 * (temp file + rename); anything unexpected is a miss, never an error.
 * Settings (config.c): RANGE42_PROXMOX_API_CACHE=off,
 * RANGE42_PROXMOX_API_CACHE_TTL (default 30 s),
 * RANGE42_PROXMOX_API_CACHE_NEG_TTL (default 5). */
#define _GNU_SOURCE
#include "cache.h"

#include "config.h"
#include "rundir.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_MAGIC "r42intercept-probe 1"

bool cache_off(void) { return !cfg_get()->cache; }

long cache_ttl(void) { return cfg_get()->cache_ttl; }

const char *cache_dir(void) {
  static char path[4096];
  static int state = -1; /* -1 unknown, 0 off, 1 on */
  if (state >= 0)
    return state ? path : NULL;
  state = 0;
  if (!cfg_get()->cache)
    return NULL;
  int rc = rundir_get(path, sizeof path);
  if (rc > 0)
    msg_trace("r42intercept: probe cache %s refused: not a private directory "
              "of this user (mode 0700)",
              path);
  if (rc != 0)
    return NULL;
  state = 1;
  return path;
}

/* DIR/<hex of the keyed hash of the endpoint>; the caller frees. */
static char *entry_path(const struct creds *c) {
  const char *dir = cache_dir();
  if (!dir)
    return NULL;
  crypto_generichash_state st;
  unsigned char key[crypto_generichash_KEYBYTES];
  crypto_generichash(key, sizeof key, (const unsigned char *)c->secret,
                     strlen(c->secret), NULL, 0);
  crypto_generichash_init(&st, key, sizeof key, 32);
  cleanup_free char *tls = tls_settings();
  const char *parts[] = {c->host, c->user, c->token_id, c->node, tls};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    crypto_generichash_update(&st, (const unsigned char *)parts[i],
                              strlen(parts[i]) + 1);
  unsigned char hash[32];
  crypto_generichash_final(&st, hash, sizeof hash);
  sodium_memzero(key, sizeof key);
  char hex[2 * sizeof hash + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return xasprintf("%s/%s", dir, hex);
}

enum cache_verdict cache_lookup(const struct creds *c) {
  cleanup_free char *path = entry_path(c);
  if (!path)
    return CACHE_MISS;
  cleanup_fd int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char text[128];
  ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
  if (n <= 0)
    return CACHE_MISS;
  text[n] = '\0';
  char verdict[8];
  long long when;
  char nl;
  if (sscanf(text, CACHE_MAGIC " %7s %lld%c", verdict, &when, &nl) != 3 ||
      nl != '\n')
    return CACHE_MISS;
  bool up = strcmp(verdict, "up") == 0;
  if (!up && strcmp(verdict, "down") != 0)
    return CACHE_MISS;
  long ttl = up ? cfg_get()->cache_ttl : cfg_get()->cache_neg_ttl;
  long long age = (long long)time(NULL) - when;
  if (age < 0 || age >= ttl)
    return CACHE_MISS;
  return up ? CACHE_UP : CACHE_DOWN;
}

void cache_store(const struct creds *c, bool up) {
  cleanup_free char *path = entry_path(c);
  if (!path)
    return;
  cleanup_free char *tmp = xasprintf("%s.XXXXXX", path);
  cleanup_fd int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return;
  char text[128];
  int n = snprintf(text, sizeof text, CACHE_MAGIC " %s %lld\n",
                   up ? "up" : "down", (long long)time(NULL));
  if (util_write_all(fd, text, (size_t)n) < 0 || rename(tmp, path) < 0)
    unlink(tmp);
}

void cache_forget(const struct creds *c) {
  cleanup_free char *path = entry_path(c);
  if (path)
    unlink(path);
}
