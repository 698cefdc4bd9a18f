/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config.c: owns the runner's own settings.  Every environment variable
 * that changes what the runner does (but those of Ansible and the devkit,
 * which their own modules read as Ansible and the devkit do) is read
 * here, once per call, and validated: an invalid value is said in one
 * trace line naming the variable and the values it accepts, and the
 * default applies.  The tool's variables are R42INTERCEPT_*; the older
 * R42_INTERCEPT_* spelling still works, with one trace line saying so.
 * libc only: the runner's front (front.c) links it too. */
#define _GNU_SOURCE
#include "config.h"

#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_OLD_PREFIX "R42_INTERCEPT_"
#define CFG_NEW_PREFIX "R42INTERCEPT_"

static struct cfg cfg_now;
static int cfg_state; /* 0 unread, 1 being read, 2 read */

/* NAME's value, or NULL when unset or empty.  An R42INTERCEPT_ name
   unset falls back to its R42_INTERCEPT_ spelling, said in a trace. */
static const char *value(const char *name) {
  const char *v = getenv(name);
  size_t pre = strlen(CFG_NEW_PREFIX);
  if (!v && strncmp(name, CFG_NEW_PREFIX, pre) == 0) {
    char old[128];
    snprintf(old, sizeof old, CFG_OLD_PREFIX "%s", name + pre);
    v = getenv(old);
    if (v)
      msg_trace("r42intercept: %s is deprecated: use %s", old, name);
  }
  return v && *v ? v : NULL;
}

static void invalid(const char *name, const char *v, const char *accepted,
                    const char *dflt) {
  msg_trace("r42intercept: %s=%.40s is not valid (accepted: %s); using %s",
            name, v, accepted, dflt);
}

/* One of WORDS (NULL-terminated): its index, else DFLT (said). */
static int word(const char *name, const char *const *words, int dflt,
                const char *accepted) {
  const char *v = value(name);
  if (!v)
    return dflt;
  for (int i = 0; words[i]; i++)
    if (strcmp(v, words[i]) == 0)
      return i;
  invalid(name, v, accepted, words[dflt]);
  return dflt;
}

static bool flag01(const char *name) {
  static const char *const words[] = {"0", "1", NULL};
  return word(name, words, 0, "0, 1") == 1;
}

static bool on_off(const char *name) {
  static const char *const words[] = {"off", "on", NULL};
  return word(name, words, 1, "on, off") == 1;
}

/* A decimal number in [MIN, MAX] (MIN excluded when OPEN_MIN). */
static double number(const char *name, double min, bool open_min, double max,
                     double dflt, const char *accepted,
                     const char *dflt_text) {
  const char *v = value(name);
  if (!v)
    return dflt;
  char *end;
  double t = strtod(v, &end);
  if (*end == '\0' && end != v && t == t && (open_min ? t > min : t >= min) &&
      t <= max)
    return t;
  invalid(name, v, accepted, dflt_text);
  return dflt;
}

/* A whole number of seconds in [0, 86400]. */
static long seconds(const char *name, long dflt, const char *dflt_text) {
  const char *v = value(name);
  if (!v)
    return dflt;
  char *end;
  long t = strtol(v, &end, 10);
  if (*end == '\0' && end != v && v[0] != '-' && v[0] != '+' && t >= 0 &&
      t <= 86400)
    return t;
  invalid(name, v, "a whole number of seconds, 0 to 86400", dflt_text);
  return dflt;
}

/* RANGE42_PROXMOX_API_RESIDENT's value V: the resident runner's idle
   time in seconds (on: CFG_RESIDENT_IDLE; off: 0; or 1 to 3600) into
   *IDLE.  Returns false when V is none of those. */
static bool resident_idle(const char *v, long *idle) {
  char *end;
  long t;
  if (strcmp(v, "on") == 0)
    *idle = CFG_RESIDENT_IDLE;
  else if (strcmp(v, "off") == 0)
    *idle = 0;
  else if (v[0] >= '0' && v[0] <= '9' && (t = strtol(v, &end, 10)) >= 1 &&
           t <= 3600 && *end == '\0')
    *idle = t;
  else
    return false;
  return true;
}

static long resident(const char *name) {
  const char *v = value(name);
  long idle = CFG_RESIDENT_IDLE;
  if (v && !resident_idle(v, &idle))
    invalid(name, v, "on, off, or an idle time of 1 to 3600 seconds", "on");
  return idle;
}

long cfg_resident_quiet(void) {
  const char *cache = getenv("RANGE42_PROXMOX_API_CACHE");
  const char *v = getenv("RANGE42_PROXMOX_API_RESIDENT");
  long idle = CFG_RESIDENT_IDLE;
  if (cache && strcmp(cache, "off") == 0)
    return 0;
  if (v && *v && !resident_idle(v, &idle))
    idle = CFG_RESIDENT_IDLE;
  return idle;
}

static void read_all(struct cfg *c) {
  static const char *const forces[] = {"auto", "off", "on", NULL};
  c->force = (enum cfg_force)word("RANGE42_PROXMOX_API_FORCE", forces,
                                  CFG_FORCE_AUTO, "auto, off, on");
  c->scripts = on_off("RANGE42_PROXMOX_API_SCRIPTS");
  c->strict = flag01("RANGE42_PROXMOX_API_STRICT");
  c->task_timeout = number("RANGE42_PROXMOX_API_TASK_TIMEOUT", 0, true, 86400,
                           0, "a number of seconds above 0, at most 86400",
                           "each action's own");
  c->cache = on_off("RANGE42_PROXMOX_API_CACHE");
  c->cache_ttl = seconds("RANGE42_PROXMOX_API_CACHE_TTL", 30, "30");
  c->cache_neg_ttl = seconds("RANGE42_PROXMOX_API_CACHE_NEG_TTL", 5, "5");
  c->resident = resident("RANGE42_PROXMOX_API_RESIDENT");
  if (!c->cache)
    c->resident = 0;
  c->profile = flag01("R42INTERCEPT_PROFILE");
  c->fixture_devkit = flag01("R42INTERCEPT_TEST_FIXTURE_DEVKIT");
  c->log = value("R42INTERCEPT_LOG");
  c->cost_playbook = number("R42INTERCEPT_COST_PLAYBOOK", 0, false, 3600, 2.0,
                            "a number of seconds, 0 to 3600", "2.0");
  c->cost_vault = number("R42INTERCEPT_COST_VAULT", 0, false, 3600, 0.5,
                         "a number of seconds, 0 to 3600", "0.5");
}

const struct cfg *cfg_get(void) {
  if (cfg_state == 0) {
    cfg_state = 1;
    /* first, so that the trace lines below know whether to print */
    cfg_now.quiet = false;
    const char *q = getenv("R42INTERCEPT_QUIET");
    if (!q)
      q = getenv(CFG_OLD_PREFIX "QUIET");
    cfg_now.quiet = q && strcmp(q, "1") == 0;
    cfg_now.quiet = flag01("R42INTERCEPT_QUIET");
    read_all(&cfg_now);
    cfg_state = 2;
  }
  return &cfg_now;
}

void cfg_reload(void) {
  cfg_state = 0;
  cfg_get();
}
