/* SPDX-License-Identifier: GPL-3.0-or-later */
/* evlog.c: owns the event log, R42INTERCEPT_LOG=FILE.  Each runner call
 * appends one JSON line: when it started (ISO 8601 UTC), its level
 * (script, playbook, vault), program, action, the VMs its role calls were
 * on, its outcome (answered, fell back or refused, with the reason; the
 * per-VM errors), its duration and the number of API requests.  The line
 * is one write(2) on a descriptor opened with O_APPEND, so lines of
 * concurrent calls never interleave.  Texts are names, ids, paths and
 * failure reasons (msg.h: never a secret).  A call that ends any other
 * way (a fatal error) is logged at exit as "error".  libc only: the
 * runner's front (front.c) logs its own fall-backs. */
#define _GNU_SOURCE
#include "evlog.h"

#include "../shim/match.h"
#include "config.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long evl_pid; /* the caller's pid when not this process's (resident) */

#define EVL_MAX_VMS 1000    /* VM ids kept in one line (all are counted) */
#define EVL_MAX_ERRORS 1000 /* per-VM errors kept */

struct evl_error {
  char *vm, *text;
};

/* The call being recorded. */
static struct {
  bool on, done;
  struct timespec start; /* CLOCK_MONOTONIC */
  char when[40];         /* ISO 8601 UTC, milliseconds */
  const char *level, *program, *action;
  char **vms;
  size_t n_vms, plays;
  struct evl_error *errors;
  size_t n_errors, all_errors;
  unsigned long requests;
} ev;

/* A growing line; a failed allocation makes it NULL (nothing written). */
struct line {
  char *text;
  size_t len, cap;
};

static void put_bytes(struct line *l, const char *s, size_t n) {
  if (!l->text && l->cap)
    return;
  if (l->len + n + 1 > l->cap) {
    size_t cap = (l->cap ? l->cap : 512) * 2 + n;
    char *t = realloc(l->text, cap);
    if (!t) {
      free(l->text);
      l->text = NULL;
      l->cap = 1;
      return;
    }
    l->text = t;
    l->cap = cap;
  }
  memcpy(l->text + l->len, s, n);
  l->len += n;
  l->text[l->len] = '\0';
}

static void put(struct line *l, const char *s) {
  put_bytes(l, s, strlen(s));
}

static void putf(struct line *l, const char *fmt, ...) R42_PRINTF(2, 3);
static void putf(struct line *l, const char *fmt, ...) {
  char tmp[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0)
    put_bytes(l, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The length of the valid UTF-8 sequence at S (1-4), or 0. */
static size_t utf8_len(const unsigned char *s) {
  size_t n = s[0] < 0xc2   ? 0
             : s[0] < 0xe0 ? 2
             : s[0] < 0xf0 ? 3
             : s[0] < 0xf5 ? 4
                           : 0;
  for (size_t k = 1; k < n; k++)
    if ((s[k] & 0xc0) != 0x80)
      return 0;
  return n;
}

/* S as a JSON string (NULL: null); bytes that are not UTF-8: U+FFFD. */
static void put_str(struct line *l, const char *s) {
  if (!s) {
    put(l, "null");
    return;
  }
  put(l, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = *p < 0x80 ? 1 : utf8_len(p);
    if (*p == '"' || *p == '\\')
      putf(l, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      putf(l, "\\u%04x", *p);
    else if (n)
      put_bytes(l, (const char *)p, n);
    else
      put(l, "\\ufffd");
    p += n ? n : 1;
  }
  put(l, "\"");
}

static const char *level_of(int kind) {
  switch (kind) {
  case MATCH_SCRIPT:
    return "script";
  case MATCH_PLAYBOOK:
    return "playbook";
  case MATCH_VAULT:
    return "vault";
  default:
    return "other";
  }
}

static double elapsed_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - ev.start.tv_sec) * 1e3 +
         (double)(now.tv_nsec - ev.start.tv_nsec) / 1e6;
}

static void put_vms(struct line *l) {
  put(l, ",\"vms\":[");
  for (size_t i = 0; i < ev.n_vms; i++) {
    put(l, i ? "," : "");
    put_str(l, ev.vms[i]);
  }
  put(l, "],\"vm_errors\":[");
  for (size_t i = 0; i < ev.n_errors; i++) {
    put(l, i ? ",{\"vm\":" : "{\"vm\":");
    put_str(l, ev.errors[i].vm);
    put(l, ",\"error\":");
    put_str(l, ev.errors[i].text);
    put(l, "}");
  }
  putf(l, "],\"plays\":%zu,\"vm_error_count\":%zu", ev.plays, ev.all_errors);
}

/* The whole line for OUTCOME (STATUS < 0: none; WHY: NULL or the
   reason). */
static void build(struct line *l, const char *outcome, int status,
                  const char *why) {
  put(l, "{\"time\":");
  put_str(l, ev.when);
  put(l, ",\"level\":");
  put_str(l, ev.level);
  put(l, ",\"program\":");
  put_str(l, ev.program);
  put(l, ",\"action\":");
  put_str(l, ev.action);
  put(l, ",\"outcome\":");
  put_str(l, outcome);
  if (status >= 0)
    putf(l, ",\"status\":%d", status);
  put(l, ",\"reason\":");
  put_str(l, why);
  put_vms(l);
  putf(l, ",\"duration_ms\":%.3f,\"requests\":%lu,\"pid\":%ld}\n",
       elapsed_ms(), ev.requests, evl_pid > 0 ? evl_pid : (long)getpid());
}

void evl_set_pid(long pid) {
  evl_pid = pid;
}

/* Appends the line, in one write(2). */
static void append(const char *outcome, int status, const char *why) {
  if (!ev.on || ev.done)
    return;
  ev.done = true;
  struct line l = {0};
  build(&l, outcome, status, why);
  if (!l.text)
    return;
  int fd = open(cfg_get()->log,
                O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  ssize_t w = fd < 0 ? -1 : write(fd, l.text, l.len);
  if (w != (ssize_t)l.len)
    msg_trace("r42intercept: R42INTERCEPT_LOG %.200s: %s", cfg_get()->log,
              w < 0 ? strerror(errno) : "short write");
  if (fd >= 0)
    close(fd);
  free(l.text);
}

static void at_exit(void) {
  append("error", -1,
         "the runner stopped on an error (its stderr says which)");
}

void evl_begin(int kind, const char *program) {
  memset(&ev, 0, sizeof ev);
  if (!cfg_get()->log)
    return;
  ev.on = true;
  clock_gettime(CLOCK_MONOTONIC, &ev.start);
  struct timespec now;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  size_t n = strftime(ev.when, sizeof ev.when, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(ev.when + n, sizeof ev.when - n, ".%03ldZ", now.tv_nsec / 1000000);
  ev.level = level_of(kind);
  ev.program = program;
  atexit(at_exit);
}

void evl_action(const char *name) {
  if (ev.on && !ev.action)
    ev.action = name;
}

void evl_play(const char *vm_id, const char *error) {
  if (!ev.on)
    return;
  ev.plays++;
  if (vm_id && ev.n_vms < EVL_MAX_VMS) {
    char **v = realloc(ev.vms, (ev.n_vms + 1) * sizeof *v);
    if (v && (v[ev.n_vms] = strdup(vm_id)))
      ev.n_vms++;
    if (v)
      ev.vms = v;
  }
  if (!error)
    return;
  ev.all_errors++;
  if (ev.n_errors >= EVL_MAX_ERRORS)
    return;
  struct evl_error *e = realloc(ev.errors, (ev.n_errors + 1) * sizeof *e);
  if (!e)
    return;
  ev.errors = e;
  e[ev.n_errors].vm = vm_id ? strdup(vm_id) : NULL;
  e[ev.n_errors].text = strdup(error);
  if (e[ev.n_errors].text)
    ev.n_errors++;
}

void evl_request(void) {
  ev.requests++;
}

void evl_answered(int status) {
  append("answered", status, NULL);
}

void evl_fell_back(const char *why, bool refused) {
  append(refused ? "refused" : "fell back", refused ? CFG_FORCE_STATUS : -1,
         why ? why : "");
}
